"""Faults and load through the real ipykernel and jupyter_client (issue 7):
the wrapped kernel dying in every way mid-cell, cloudline itself killed, a
frontend reloading mid-run, a stalled iopub subscriber, ten kernels at once
and twenty restarts in a row. Each test checks what the user would see and
that nothing is left behind (processes, temp dirs, file descriptors).

Figures measured on the way (restart time, RSS, leak counts) are recorded as
test properties and, when RELIABILITY_FIGURES names a file, appended to it."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

from jupyter_client import KernelManager

from faultutil import (
    connection,
    die_and_restart,
    kernel_env,
    logged_kernel,
    left_behind,
    private_dirs,
    recv_frame,
    rss,
    stalled_subscriber,
    tree,
    wait_gone,
)
from kernelutil import (
    CELL_TIMEOUT,
    STARTUP_TIMEOUT,
    alive,
    cloudline_meta,
    collect_until,
    collect_until_idle,
    hold_code,
    ipykernel_pid,
    is_advice,
    kernel_pid,
    kernel_session,
    parent_id,
    run_ok,
    running_kernel,
    stream_with,
    wait_for,
)

pytestmark = pytest.mark.cloudline

MiB = 1 << 20


@pytest.fixture
def figure(record_property):
    """Record a measured figure (and append it to $RELIABILITY_FIGURES)."""

    def rec(name: str, value) -> None:
        record_property(name, value)
        path = os.environ.get("RELIABILITY_FIGURES")
        if path:
            with open(path, "a") as f:
                f.write(json.dumps({"figure": name, "value": value}) + "\n")

    return rec


# --- the wrapped kernel dies mid-cell ----------------------------------------------


RUNNING = "print('running', flush=True)"


def _self_ending(flag: Path, how: str) -> str:
    """A cell that prints 'running', waits for the test's flag, then `how`."""
    return hold_code(flag, RUNNING).replace("print('released', flush=True)", how)


DEATHS = {
    # name: (cell code given a flag file, True: the test SIGKILLs the child,
    # False: the test creates the flag and the cell ends its own kernel)
    "sigkill": (lambda flag: hold_code(flag, RUNNING), True),
    "exit": (lambda flag: _self_ending(flag, "import os\nos._exit(1)"), False),
    "segfault": (lambda flag: _self_ending(flag, "import ctypes\nctypes.string_at(0)"), False),
    "hang": (lambda flag: RUNNING + "\nwhile True:\n    pass\n", True),
}


@pytest.mark.parametrize("death", list(DEATHS))
def test_child_death_is_advised_and_restarted(kernel_name, tmp_path, death, figure):
    code, killed = DEATHS[death]
    flag = tmp_path / "flag"
    tmp = tmp_path / "tmp"
    tmp.mkdir()

    def kill(pid: int) -> None:
        if killed:
            os.kill(pid, signal.SIGKILL)
        else:
            flag.touch()

    d = asyncio.run(
        die_and_restart(
            kernel_name, str(tmp_path), tmp, code(flag), stream_with("running"), kill,
            tmp_path / "kernel.log",
        )
    )
    died = [m for m in d.msgs if is_advice(m, "kernel-died")]
    assert len(died) == 1, f"want one kernel-died advice, got {[m['msg_type'] for m in d.msgs]}"
    assert "kernel-died" in cloudline_meta(died[0])["rules"]
    assert parent_id(died[0]) == d.msgs[0]["parent_header"]["msg_id"]
    assert died[0]["header"]["session"] == kernel_session(d.msgs)
    assert not alive(d.old_child) and not alive(d.old_proxy)
    assert d.after["content"]["status"] == "ok"
    assert d.new_child != d.old_child
    assert left_behind(tmp) == [], "the dead kernel's private dir is left"
    figure(f"restart_after_{death}_s", round(d.restart_seconds, 2))


# --- cloudline itself killed -------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_cloudline_killed_leaves_nothing(kernel_name, tmp_path, sig):
    with logged_kernel(kernel_name, tmp_path) as k:
        run_ok(k.kc, "x = 1")
        proxy, child = kernel_pid(k.km), ipykernel_pid(k.km)
        os.kill(proxy, sig)
        # The bound: the wrapped kernel is gone within 2 s.
        wait_for(lambda: not alive(child), f"ipykernel {child} to exit after its proxy", 2.0)
        wait_gone([proxy], "cloudline")
        if sig == signal.SIGTERM:
            assert private_dirs(k.tmp) == []
        else:  # its private dir, the connection file only, until the next start
            assert left_behind(k.tmp) == []
    if sig == signal.SIGKILL:
        with logged_kernel(kernel_name, tmp_path) as again:  # the same TMPDIR
            run_ok(again.kc, "x = 1")
            assert len(private_dirs(again.tmp)) == 1, "the killed kernel's dir was not swept"
            again.km.shutdown_kernel()  # a clean shutdown removes its own
    left = sorted(p.name for p in (tmp_path / "tmp").iterdir())
    assert left == [], f"left in TMPDIR: {left}"


# --- the frontend reloads mid-run ----------------------------------------------------

TICKER = (
    "import os, time\n"
    "i = 0\n"
    "while not os.path.exists({flag!r}):\n"
    "    print('tick', i, flush=True)\n"
    "    i += 1\n"
    "    time.sleep(0.02)\n"
    "print('released', flush=True)\n"
)


def test_frontend_reload_mid_run(kernel_name, workdir):
    flag = workdir / "release"
    with running_kernel(kernel_name, cwd=workdir) as (km, kc):
        msg_id = kc.execute(TICKER.format(flag=str(flag)))
        collect_until(kc, msg_id, stream_with("tick"))
        kc.stop_channels()  # the tab goes away mid-run
        kc2 = km.client()  # and comes back, as a reloaded tab does
        kc2.start_channels()
        try:
            msgs = collect_until(kc2, msg_id, stream_with("tick"))
            flag.touch()
            msgs += collect_until_idle(kc2, msg_id)
            text = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
            ticks = [int(n) for n in re.findall(r"tick (\d+)", text)]
            assert ticks == list(range(ticks[0], ticks[0] + len(ticks))), "output lost after subscribing"
            assert "released" in text
            assert msgs[-1]["content"]["execution_state"] == "idle"
            # The first client's departure did not disturb the kernel.
            assert "42" in run_ok(kc2, "print(6 * 7)").stream()
        finally:
            kc2.stop_channels()


# --- a stalled iopub subscriber ------------------------------------------------------

FLOOD_MB = 600
FLOOD = (
    "import sys\n"
    "chunk = 'x' * (1 << 20)\n"
    f"for i in range({FLOOD_MB}):\n"
    "    sys.stdout.write('<%d>' % i + chunk + '\\n')\n"
    "    sys.stdout.flush()\n"
    "print('flood done', flush=True)\n"
)


class PeakRSS(threading.Thread):
    """Samples a process's RSS until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, rss(self.pid))


def test_stalled_subscriber_does_not_stall_others(kernel_name, tmp_path, figure):
    with logged_kernel(kernel_name, tmp_path) as k:
        info = connection(k.km)
        stalled = stalled_subscriber(info["ip"], info["iopub_port"])
        try:
            recv_frame(stalled)  # its iopub_welcome: subscribed; it never reads again
            proxy = kernel_pid(k.km)
            sampler = PeakRSS(proxy)
            sampler.start()
            msg_id = k.kc.execute(FLOOD)
            seen, size = set(), 0
            deadline = time.monotonic() + CELL_TIMEOUT
            while True:
                assert time.monotonic() < deadline, f"no idle; {len(seen)} chunks so far"
                try:
                    m = k.kc.get_iopub_msg(timeout=1)
                except queue.Empty:
                    continue
                if parent_id(m) != msg_id:
                    continue
                if m["msg_type"] == "stream":
                    text = m["content"]["text"]
                    size += len(text)
                    seen.update(int(n) for n in re.findall(r"<(\d+)>", text))
                if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    break
            sampler.stop.set()
            sampler.join()
            assert seen == set(range(FLOOD_MB)), f"missing chunks: {sorted(set(range(FLOOD_MB)) - seen)[:10]}"
            assert size > FLOOD_MB * MiB
            figure("stalled_subscriber_peak_rss_mb", round(sampler.peak / MiB))
            assert sampler.peak < 400 * MiB, f"cloudline RSS peaked at {sampler.peak / MiB:.0f} MiB"
            wait_for(lambda: "not reading: dropping messages" in k.text(), "the drop warning in the log")
            assert "goroutine" not in k.text()
            assert "42" in run_ok(k.kc, "print(6 * 7)").stream()
        finally:
            stalled.close()


# --- load: ten kernels at once, twenty restarts in a row --------------------------------


def _fds() -> int:
    return psutil.Process().num_fds()


def test_ten_kernels_at_once(kernel_name, tmp_path, figure):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    fds_before = _fds()
    kms = [KernelManager(kernel_name=kernel_name) for _ in range(10)]
    kcs = []
    pids: list[int] = []
    try:
        t0 = time.monotonic()
        for km in kms:  # launched back to back: they start concurrently
            km.start_kernel(cwd=str(tmp_path), env=kernel_env(tmp))
        for km in kms:
            kc = km.client()
            kc.start_channels()
            kcs.append(kc)
        for kc in kcs:
            kc.wait_for_ready(timeout=STARTUP_TIMEOUT * 2)
        figure("ten_kernels_all_ready_s", round(time.monotonic() - t0, 1))
        for km in kms:
            pids += tree(kernel_pid(km))
            pids.append(ipykernel_pid(km))
        for round_ in range(3):  # every kernel busy at once
            ids = [kc.execute(f"import os\nprint({round_} * 7, os.getpid())") for kc in kcs]
            for kc, msg_id in zip(kcs, ids):
                msgs = collect_until_idle(kc, msg_id, timeout=CELL_TIMEOUT)
                text = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
                assert text.startswith(str(round_ * 7)), text
    finally:
        for kc in kcs:
            kc.stop_channels()
        for km in kms:
            if km.has_kernel:
                km.request_shutdown()
        for km in kms:
            if km.has_kernel:
                km.finish_shutdown()
                km.cleanup_resources()
    wait_gone(pids, "the ten kernels' processes")
    assert private_dirs(tmp) == []
    assert sorted(p.name for p in tmp.iterdir()) == []
    figure("ten_kernels_fds_before_after", [fds_before, _fds()])
    assert _fds() <= fds_before, f"test process fds {fds_before} -> {_fds()}"


def test_twenty_restarts(kernel_name, tmp_path, figure):
    root = tmp_path / "k"
    root.mkdir()
    pids: list[int] = []
    times: list[float] = []
    with logged_kernel(kernel_name, root) as k:
        for i in range(21):
            pids += tree(kernel_pid(k.km))
            t0 = time.monotonic()
            k.km.restart_kernel()
            k.kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
            assert f"run {i}" in run_ok(k.kc, f"print('run', {i})").stream()
            times.append(time.monotonic() - t0)
            if i == 0:  # the first restart warms jupyter_client's sockets
                fds_before = _fds()
        fds_after = _fds()  # same state: the kernel up, its client connected
        pids += tree(kernel_pid(k.km))
    wait_gone(pids, "every generation's processes")
    assert left_behind(k.tmp) == []
    assert "panic" not in k.text() and "goroutine " not in k.text()
    times = sorted(times[1:])
    figure("restart_median_s", round(times[len(times) // 2], 2))
    figure("restart_max_s", round(times[-1], 2))
    figure("twenty_restarts_fds_before_after", [fds_before, fds_after])
    assert fds_after <= fds_before, f"test process fds {fds_before} -> {fds_after}"
