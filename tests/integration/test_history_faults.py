"""The history file never stands in the way (issue 14): a history path whose
open would block (a FIFO here; in life a hung network home directory) delays
no idle, no shutdown and no exit after the wrapped kernel died."""

from __future__ import annotations

import os

import psutil
import pytest

from faultutil import logged_kernel, wait_gone
from kernelutil import ipykernel_pid, kernel_pid, run_ok

pytestmark = pytest.mark.cloudline


def test_fifo_history_path_delays_nothing(cloudline_spec, tmp_path):
    fifo = tmp_path / "history.fifo"
    os.mkfifo(fifo)
    spec = cloudline_spec(history=str(fifo))
    root = tmp_path / "k"
    root.mkdir()
    with logged_kernel(spec, root) as k:
        # Printed output: the idle is held until the cell's advice is out.
        for i in range(3):
            cell = run_ok(k.kc, f"print('cell {i}')")
            assert cell.stream().strip() == f"cell {i}"
        proxy = kernel_pid(k.km)
        psutil.Process(ipykernel_pid(k.km)).kill()
        # cloudline exits with its child (the manager then restarts it).
        wait_gone([proxy], "cloudline after its child was killed")
        log = k.text()
    assert "released a held idle after the bound" not in log, log
    assert fifo.exists() and not fifo.is_file()
