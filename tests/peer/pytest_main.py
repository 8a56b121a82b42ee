"""Run pytest in a peer project's unpacked sdist and record each test's outcome.

Usage: pytest_main.py OUTCOMES.json PYTEST_ARGS...

Writes {nodeid: {"outcome": passed|failed|error|skipped|xfailed|xpassed,
"message": first line of the failure}} to OUTCOMES.json, whatever pytest's
exit status (which it passes on). A failure in setup or teardown is an
error; a failure in the call is a failure, as pytest's own summary counts
them. The recorder is a plugin object, not a module on PYTHONPATH, so the
kernels the tests start see nothing of it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest


def _message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr or "")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[0][:300] if lines else ""


class Recorder:
    def __init__(self) -> None:
        self.outcomes: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        rec = self.outcomes.setdefault(report.nodeid, {"outcome": "", "message": "", "seconds": 0.0})
        rec["seconds"] = round(rec["seconds"] + report.duration, 3)
        if rec["outcome"] in ("failed", "error"):
            return  # the first failure of a test is the one to show
        if hasattr(report, "wasxfail"):
            rec["outcome"] = "xfailed" if report.skipped else "xpassed"
        elif report.failed:
            rec["outcome"] = "failed" if report.when == "call" else "error"
            rec["message"] = _message(report)
        elif report.skipped:
            rec["outcome"], rec["message"] = "skipped", _message(report)
        elif report.when == "call":
            rec["outcome"] = "passed"


def main(argv: list[str]) -> int:
    out, args = argv[0], argv[1:]
    recorder = Recorder()
    status = pytest.main(args, plugins=[recorder])
    with open(out, "w", encoding="utf-8") as f:
        json.dump(recorder.outcomes, f, indent=1, sort_keys=True)
    return int(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
