"""The kernel names its version and commit in its log at start (debug level)."""

from __future__ import annotations

import re

import pytest

from faultutil import logged_kernel
from kernelutil import run_ok


@pytest.mark.cloudline
def test_kernel_logs_its_version_at_debug(kernel_name, tmp_path):
    with logged_kernel(kernel_name, tmp_path, env={"CLOUDLINE_LOG_LEVEL": "debug"}) as k:
        run_ok(k.kc, "pass")
        log = k.text()
    line = next((l for l in log.splitlines() if 'msg="cloudline kernel starting"' in l), None)
    assert line, log
    assert re.search(r"level=DEBUG .* version=\S+ commit=\S+", line), line
