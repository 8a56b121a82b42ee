"""Kernel lifecycle through jupyter_client: interrupt (signal and message
modes), restart, shutdown without leftovers, and the restarter bringing the
kernel back after its ipykernel is killed mid-cell."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from jupyter_client.ioloop import AsyncIOLoopKernelManager

from kernelutil import (
    CELL_TIMEOUT,
    STARTUP_TIMEOUT,
    alive,
    collect_until,
    collect_until_idle,
    get_reply,
    ipykernel_pid,
    process_tree,
    run_ok,
    running_kernel,
    stream_with,
    wait_for,
)

SLEEPER = "import time\nprint('sleeping', flush=True)\ntime.sleep(120)\nprint('not interrupted')"


@pytest.fixture(scope="module", params=["signal", "message"])
def interrupt_kernel(request, kernel_name, kernel_name_msg, tmp_path_factory):
    name = kernel_name if request.param == "signal" else kernel_name_msg
    with running_kernel(name, cwd=tmp_path_factory.mktemp("interrupt")) as (km, kc):
        yield km, kc


@pytest.mark.parametrize("round_", [1, 2])
def test_interrupt(interrupt_kernel, round_):
    km, kc = interrupt_kernel
    msg_id = kc.execute(SLEEPER)
    collect_until(kc, msg_id, stream_with("sleeping"))
    km.interrupt_kernel()
    msgs = collect_until_idle(kc, msg_id)
    reply = get_reply(kc, msg_id)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert [m for m in msgs if m["msg_type"] == "error"], "no error output for the interrupt"
    # The kernel is usable afterwards (and a second round proves it again).
    assert "after 2" in run_ok(kc, "print('after', 1 + 1)").stream()


def test_restart(fresh_kernel):
    km, kc = fresh_kernel
    run_ok(kc, "x = 1")
    old = ipykernel_pid(km)
    km.restart_kernel()
    kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
    cell = run_ok(kc, "import os\nprint('defined' if 'x' in globals() else 'fresh', os.getpid())")
    word, pid = cell.stream().split()
    assert word == "fresh"
    assert int(pid) != old
    wait_for(lambda: not alive(old), f"old ipykernel pid {old} to exit")


def connection_file_of(pid: int) -> Path:
    args = psutil.Process(pid).cmdline()
    return Path(args[args.index("-f") + 1])


def test_shutdown_leaves_no_processes_or_files(kernel_name, workdir):
    with running_kernel(kernel_name, cwd=workdir) as (km, kc):
        run_ok(kc, "import os")
        child = ipykernel_pid(km)  # also waits until the tree is complete
        pids = process_tree(km)
        # ipykernel's connection file (cloudline writes its own for its
        # child, in a private directory of its own).
        conn = connection_file_of(child)
        shared_dirs = {Path(os.environ["JUPYTER_RUNTIME_DIR"]), Path(tempfile.gettempdir())}
        private = conn.parent not in shared_dirs
        km.shutdown_kernel()
        assert not km.is_alive()
        wait_for(lambda: not any(alive(p) for p in pids), f"processes {pids} to exit")
        assert not conn.exists(), f"{conn} left behind"
        if private:
            assert not conn.parent.exists(), f"{conn.parent} left behind"


async def _kill_child_then_restart(kernel_name: str, cwd: str) -> tuple[int, int, str]:
    km = AsyncIOLoopKernelManager(kernel_name=kernel_name, autorestart=True)
    restarted = asyncio.Event()
    await km.start_kernel(cwd=cwd)
    km.add_restart_callback(restarted.set, "restart")  # needs the started restarter
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        msg_id = kc.execute(SLEEPER)
        deadline = time.monotonic() + CELL_TIMEOUT
        while True:
            msg = await kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id and stream_with("sleeping")(msg):
                break
        victim = ipykernel_pid(km)
        old_root = km.provisioner.process.pid
        old_tree = process_tree(km)
        os.kill(victim, signal.SIGKILL)
        await asyncio.wait_for(restarted.wait(), timeout=60)
        # The callback fires before the restart: wait for the new process.
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not (km.has_kernel and km.provisioner.process.pid != old_root):
            assert time.monotonic() < deadline, "the restarter started no new kernel"
            await asyncio.sleep(0.1)
        kc.stop_channels()
        # The restarter may pick new ports: connect a new client.
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        reply = await kc.execute_interactive(
            "import os; print(os.getpid())", timeout=CELL_TIMEOUT, output_hook=lambda m: None
        )
        assert reply["content"]["status"] == "ok"
        new = ipykernel_pid(km)
        assert alive(new)
        assert not any(alive(p) for p in old_tree), "the old kernel's processes linger"
        return victim, new, reply["content"]["status"]
    finally:
        kc.stop_channels()
        km.stop_restarter()
        if await km.is_alive():
            await km.shutdown_kernel(now=True)


def test_killed_child_is_restarted(kernel_name, workdir):
    victim, new, status = asyncio.run(_kill_child_then_restart(kernel_name, str(workdir)))
    assert status == "ok"
    assert new != victim
    assert not alive(victim)
