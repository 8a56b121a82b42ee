"""Run the kernel-facing tests of nbclient, ipykernel and jupyter_client (from
their released sdists, unpacked by `make peer-setup` into .peer/src) on the
plain ipykernel and on cloudline, each as the kernelspec named python3 in a
private JUPYTER_PATH, and fail on any test that passes on plain and not
through cloudline, unless tests/peer/known-differences.txt lists it with a
reason. Nothing is fetched here.

Usage: .venv-peer/bin/python tests/peer/run.py [--project NAME ...] [--kernel plain|cloudline]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import compare
import peerenv
from projects import PROJECTS, Project

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PEER = REPO / ".peer"
# A hung test fails alone instead of stalling the run (the suites' own
# settings are 100 s or none); slower kernels than the plain one show here.
TEST_TIMEOUT_S = 120


def source_dir(project: Project) -> Path:
    """The unpacked sdist of the version installed (the one under test)."""
    version = importlib.metadata.version(project.name)
    d = PEER / "src" / f"{project.name}-{version}"
    if not (d / "tests").is_dir():
        raise SystemExit(f"run.py: {d.relative_to(REPO)}/tests missing: run `make peer-setup`")
    return d


def run_pytest(project: Project, src: Path, jpaths: dict[str, Path], work: Path,
               nodeids: list[str] | None = None, tag: str = "") -> dict[str, dict[str, dict]]:
    """Run project's selection (or nodeids) on every kernel in jpaths, at once:
    both runs then share the machine's load, whatever the neighbours do."""
    args = nodeids if nodeids is not None else [sel for sel, _ in project.selection]
    logs = PEER / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    running = {}
    t0 = time.monotonic()
    for kernel, jpath in jpaths.items():
        name = f"{project.name}-{kernel}{tag}"
        out = logs / f"{name}.json"
        out.unlink(missing_ok=True)
        cmd = [sys.executable, str(HERE / "pytest_main.py"), str(out), *args,
               "-p", "no:cacheprovider", f"--timeout={TEST_TIMEOUT_S}", "-q", "--color=no",
               # pytest-asyncio 1.x warns when it is unset, and nbclient turns
               # warnings into errors: the value its own CI uses, set explicitly.
               "-o", "asyncio_default_fixture_loop_scope=function"]
        for nodeid, _ in project.deselect:
            cmd += ["--deselect", nodeid]
        env = peerenv.run_env(work / name, jpath)
        # jupyter-execute and jupyter-run are .venv's scripts (test_cli, test_runapp).
        bins = [Path(sys.executable).parent, REPO / ".venv" / "bin"]
        env["PATH"] = os.pathsep.join([*map(str, bins), env.get("PATH", "")])
        log = open(logs / f"{name}.log", "w", encoding="utf-8")
        p = subprocess.Popen(cmd, cwd=src, env=env, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        running[kernel] = (name, out, p, log)
    results = {}
    for kernel, (name, out, p, log) in running.items():
        status = p.wait()
        log.close()
        if not out.exists() or status not in (0, 1):
            raise SystemExit(f"run.py: pytest for {name} ended with status {status} "
                             f"(see .peer/logs/{name}.log)")
        results[kernel] = json.loads(out.read_text())
        history = work / name / "state" / "cloudline" / "history.jsonl"
        if kernel == "cloudline" and not tag and not history.exists():
            raise SystemExit(f"run.py: no cell ran through cloudline in {name}: the python3 "
                             "kernelspec the tests used was not cloudline's")
        print(f"    {name}: {compare.count(results[kernel])}", flush=True)
    print(f"    {project.name}{tag}: {time.monotonic() - t0:.0f}s", flush=True)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", action="append", choices=[p.name for p in PROJECTS])
    ap.add_argument("--kernel", choices=peerenv.KERNELS, help="run one kernel only (no comparison)")
    opts = ap.parse_args()
    projects = [p for p in PROJECTS if not opts.project or p.name in opts.project]
    kernels = [opts.kernel] if opts.kernel else list(peerenv.KERNELS)
    cloudline = REPO / "bin" / "cloudline"
    if not cloudline.exists():
        raise SystemExit("run.py: bin/cloudline missing: run `make build`")
    known = compare.read_known(HERE / "known-differences.txt")
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="cloudline-peer-"))
    try:
        jpaths = peerenv.install_specs(work / "specs", Path(sys.executable), cloudline)
        results = []
        for project in projects:
            src = source_dir(project)
            runs = run_pytest(project, src, {k: jpaths[k] for k in kernels}, work)
            if len(kernels) < 2:
                continue
            diff = compare.differences(runs["plain"], runs["cloudline"])
            new = [n for n in diff if (project.name, n) not in known]
            if new:  # once more on both: a difference must repeat to count
                print(f"    {project.name}: {len(new)} differ; rerunning them on both", flush=True)
                again = run_pytest(project, src, jpaths, work, new, "-rerun")
                confirmed = compare.confirm(new, again["plain"], again["cloudline"])
                diff = [n for n in diff if n not in new or n in confirmed]
            results.append(compare.Result(project.name, runs["plain"], runs["cloudline"], diff))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if len(kernels) < 2:
        return 0
    failed = compare.report(results, known)
    print(f"peer run took {time.monotonic() - t0:.0f}s; logs and outcomes in .peer/logs/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
