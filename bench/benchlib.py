"""Pure helpers of the benchmark: statistics, output checks, the verdicts
against the targets of issue 5 and the Markdown table. No I/O, no kernels:
bench.py drives the kernels, test_benchlib.py tests this file."""

from __future__ import annotations

import math
from dataclasses import dataclass


def percentile(samples, p):
    """The p-th percentile (0..100) of samples, linearly interpolated."""
    if not samples:
        raise ValueError("percentile of no samples")
    xs = sorted(samples)
    k = (len(xs) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def median(samples):
    return percentile(samples, 50)


def expected_lines(n):
    """The text `for i in range(n): print(i)` writes."""
    return "".join(f"{i}\n" for i in range(n))


def expected_blob(n):
    """A 10*n-byte text whose order can be checked: 9-digit counters."""
    return "".join(f"{i:09d}\n" for i in range(n))


class OutputError(AssertionError):
    """Output arrived incomplete or out of order."""


def check_text(got, want, what):
    """Raise OutputError naming the first difference of two texts."""
    if got == want:
        return
    n = min(len(got), len(want))
    at = next((i for i in range(n) if got[i] != want[i]), n)
    raise OutputError(
        f"{what}: got {len(got)} chars, want {len(want)}; first difference at "
        f"{at}: got {got[at:at + 20]!r}, want {want[at:at + 20]!r}")


def check_sequence(got, n, what):
    """Raise OutputError unless got is ["0", "1", ... str(n-1)]."""
    want = [str(i) for i in range(n)]
    if got == want:
        return
    at = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), n))
    raise OutputError(
        f"{what}: got {len(got)} messages, want {n}; first difference at "
        f"#{at}: got {got[at] if at < len(got) else None!r}, want {want[at] if at < n else None!r}")


def set_ratios(per_set, a, b):
    """The p50 ratio b/a within each set of kernels: "1.02x, 1.06x"."""
    return ", ".join(f"{median(one[b]) / median(one[a]):.2f}x" for one in per_set)


@dataclass
class Target:
    """A bound from issue 5. kind: "ratio" (cloudline/plain), "diff"
    (cloudline - plain) or "abs" (the cloudline value alone); strict means <."""
    kind: str
    limit: float
    strict: bool = False

    def judge(self, plain, cloud):
        """(value judged, "PASS"/"MISS")."""
        if self.kind == "ratio":
            v = cloud / plain if plain else math.inf
        elif self.kind == "diff":
            v = cloud - plain
        else:
            v = cloud
        ok = v < self.limit if self.strict else v <= self.limit
        return v, "PASS" if ok else "MISS"

    def __str__(self):
        op = "<" if self.strict else "<="
        if self.kind == "ratio":
            return f"ratio {op} {self.limit:g}x"
        if self.kind == "diff":
            return f"+{op} {self.limit:g}"
        return f"{op} {self.limit:g}"


@dataclass
class Row:
    name: str
    unit: str
    plain: float | None  # None: measured for cloudline only
    cloud: float
    target: Target | None = None
    note: str = ""


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def table(rows):
    """The Markdown results table: values, ratio, target, verdict."""
    out = ["| measure | plain | cloudline | cloudline/plain | target | result |",
           "| --- | ---: | ---: | ---: | --- | --- |"]
    for r in rows:
        ratio = f"{r.cloud / r.plain:.2f}x" if r.plain else "-"
        verdict = "-"
        if r.target is not None:
            _, verdict = r.target.judge(r.plain or 0, r.cloud)
        name = f"{r.name} ({r.unit})"
        if r.note:
            name += f"; {r.note}"
        out.append(f"| {name} | {fmt(r.plain)} | {fmt(r.cloud)} | {ratio} | "
                   f"{r.target or '-'} | {verdict} |")
    return "\n".join(out)
