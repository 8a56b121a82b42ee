"""Compare per-test outcomes of the plain and the cloudline run, and report.

A difference is a test that passed on plain and did not pass through
cloudline (failed, errored, or was skipped), both in the full runs and again
when rerun once on both. Tests failing on plain too are counted but never
fail the run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

OK = ("passed", "xfailed")  # xfailed: the project expects it to fail


@dataclass
class Result:
    project: str
    plain: dict[str, dict]
    cloudline: dict[str, dict]
    differences: list[str]


def count(outcomes: dict[str, dict]) -> str:
    c = Counter(o["outcome"] for o in outcomes.values())
    return ", ".join(f"{n} {k}" for k, n in sorted(c.items()))


def _passed(outcomes: dict[str, dict], nodeid: str) -> bool:
    return outcomes.get(nodeid, {}).get("outcome") in OK


def differences(plain: dict[str, dict], cloudline: dict[str, dict]) -> list[str]:
    return sorted(n for n in plain if _passed(plain, n) and not _passed(cloudline, n))


def confirm(nodeids: list[str], plain: dict[str, dict], cloudline: dict[str, dict]) -> list[str]:
    """The differences that repeat on the rerun; the rest were flaky."""
    kept = []
    for n in nodeids:
        if _passed(plain, n) and not _passed(cloudline, n):
            kept.append(n)
        else:
            how = "cloudline passed" if _passed(cloudline, n) else "plain failed too"
            print(f"    not a difference on the rerun ({how}): {n}")
    return kept


def read_known(path: Path) -> dict[tuple[str, str], str]:
    """known-differences.txt: `PROJECT NODEID REASON...` a line, # comments."""
    known = {}
    for i, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise SystemExit(f"{path.name}:{i}: want PROJECT NODEID REASON, got {line!r}")
        known[(parts[0], parts[1])] = parts[2]
    return known


def report(results: list[Result], known: dict[tuple[str, str], str]) -> bool:
    """Print the summary table and each difference; True if any is unexplained."""
    print()
    print(f"{'project':<16} {'tests':>5} {'passed plain':>13} {'passed cloudline':>17} "
          f"{'both fail':>9} {'known':>5} {'differences':>11}")
    failed = False
    for r in results:
        passed = {k: sum(1 for n in o if _passed(o, n)) for k, o in
                  (("plain", r.plain), ("cloudline", r.cloudline))}
        both = sum(1 for n in r.plain if r.plain[n]["outcome"] in ("failed", "error")
                   and not _passed(r.cloudline, n))
        unexplained = [n for n in r.differences if (r.project, n) not in known]
        explained = len(r.differences) - len(unexplained)
        print(f"{r.project:<16} {len(r.plain):>5} {passed['plain']:>13} {passed['cloudline']:>17} "
              f"{both:>9} {explained:>5} {len(unexplained):>11}")
        for n in r.differences:
            reason = known.get((r.project, n))
            got = r.cloudline.get(n, {"outcome": "missing", "message": ""})
            tag = "known difference" if reason else "DIFFERENCE"
            print(f"    {tag}: {r.project} {n}: {got['outcome']}: {got['message']}")
            if reason:
                print(f"        why: {reason}")
        failed = failed or bool(unexplained)
        for n in sorted(set(r.plain) | set(r.cloudline)):
            if not _passed(r.plain, n) and r.plain.get(n, {}).get("outcome") in ("failed", "error"):
                print(f"    fails on plain too: {r.project} {n}: {r.plain[n]['message']}")
    for (project, n), reason in sorted(known.items()):
        if any(r.project == project and _passed(r.cloudline, n) for r in results):
            print(f"    known difference passed this time (remove it?): {project} {n}")
    print("peer: " + ("FAILED: tests that pass on plain fail through cloudline" if failed
                      else "no unexplained differences"))
    return failed
