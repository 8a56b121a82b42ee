"""Faults that other projects' suites and users meet (issue 14), each with
the plain kernel's behaviour as the expectation: run with
CLOUDLINE_TEST_KERNEL=python3 for the plain kernel, where it applies.

- a frontend that reads iopub late loses nothing (back-pressure, not drops)
- the process that started the kernel dies: no orphan is left
- stderr holds no cloudline log line on ordinary runs and shutdowns
- the heartbeat stops while the kernel is stopped (SIGSTOP)
- a SIGTERM the kernel ignores is not escalated by cloudline
- a deliberate exit is reported calmly
- the kernel's connection file, read from inside, describes the frontend's
  sockets
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import zmq
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.session import Session

from conftest import PLAIN
from faultutil import connection, logged_kernel, tree, wait_gone
from kernelutil import (
    CELL_TIMEOUT,
    STARTUP_TIMEOUT,
    alive,
    cloudline_meta,
    collect_until,
    ipykernel_pid,
    is_advice,
    kernel_pid,
    run_ok,
    wait_for,
)

MiB = 1 << 20

# More than the 128 MiB cloudline once queued for a subscriber before
# dropping, fewer messages than the plain kernel's own high-water mark
# (1000), so the plain kernel delivers all of them to a late reader.
LATE_CHUNKS = 192


def late_subscriber(info: dict) -> zmq.Socket:
    """A SUB socket that holds at most one message and a small receive
    buffer: while it is not read, the kernel must hold what comes next."""
    sock = zmq.Context.instance().socket(zmq.SUB)
    sock.setsockopt(zmq.RCVHWM, 1)
    sock.setsockopt(zmq.RCVBUF, 64 << 10)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.connect(f"tcp://{info['ip']}:{info['iopub_port']}")
    return sock


def recv(session: Session, sock: zmq.Socket, timeout: float) -> dict:
    assert sock.poll(timeout * 1000), "no iopub message in time"
    _, frames = session.feed_identities(sock.recv_multipart())
    return session.deserialize(frames)


def subscribed(kc, session: Session, sock: zmq.Socket) -> None:
    """Wait until sock gets iopub messages: run a cell until its output
    reaches sock (as jupyter_server's nudge does)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        msg_id = kc.execute("print('sync')")
        while sock.poll(1000):
            m = recv(session, sock, 1)
            if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "stream":
                return
    raise AssertionError("the late subscriber never got a message")


def test_late_reader_loses_nothing(kernel_name, tmp_path):
    flag = tmp_path / "printed"
    code = (
        "import sys, pathlib\n"
        "chunk = 'x' * (1 << 20)\n"
        f"for i in range({LATE_CHUNKS}):\n"
        "    sys.stdout.write('<%d>' % i + chunk + '\\n')\n"
        "    sys.stdout.flush()\n"
        f"pathlib.Path({str(flag)!r}).touch()\n"
    )
    with logged_kernel(kernel_name, tmp_path) as k:
        info = connection(k.km)
        session = Session(key=info["key"].encode(), signature_scheme=info["signature_scheme"])
        sock = late_subscriber(info)
        try:
            subscribed(k.kc, session, sock)
            k.kc.iopub_channel.stop()  # we are the only reader
            msg_id = k.kc.execute(code)
            wait_for(flag.exists, "the cell to print everything", CELL_TIMEOUT)
            seen: set[int] = set()
            deadline = time.monotonic() + CELL_TIMEOUT
            while True:
                m = recv(session, sock, max(1.0, deadline - time.monotonic()))
                if m["parent_header"].get("msg_id") != msg_id:
                    continue
                if m["msg_type"] == "stream":
                    seen.update(int(n) for n in re.findall(r"<(\d+)>", m["content"]["text"]))
                if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    break
            missing = sorted(set(range(LATE_CHUNKS)) - seen)
            assert not missing, f"{len(missing)} chunks lost, first {missing[:5]}"
            assert "dropping messages" not in k.text()
        finally:
            sock.close()


LAUNCHER = """
import json, sys
from jupyter_client import KernelManager
km = KernelManager(kernel_name=sys.argv[1])
km.start_kernel(cwd=sys.argv[2])
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=60)
print(json.dumps({"pid": km.provisioner.process.pid}), flush=True)
sys.stdin.read()  # until the test kills us
"""


def test_frontend_killed_leaves_no_orphans(kernel_name, tmp_path):
    """The process that started the kernel is SIGKILLed: the kernel (and,
    under cloudline, ipykernel behind it) exits, as the plain kernel does."""
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, kernel_name, str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        line = launcher.stdout.readline()
        assert line, "the launcher did not start the kernel"
        pid = json.loads(line)["pid"]
        pids = tree(pid)
        assert pids, "kernel not running"
        launcher.kill()
        launcher.wait()
        # ipykernel polls its parent every second; cloudline the same.
        wait_gone(pids, "the kernel's processes after their frontend died", timeout=20)
    finally:
        if launcher.poll() is None:
            launcher.kill()
        for p in tree(launcher.pid):
            psutil.Process(p).kill()


def cloudline_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if "component=cloudline" in ln or "level=" in ln]


@pytest.mark.parametrize("how", ["shutdown_request", "SIGTERM"])
def test_stderr_has_no_log_lines(kernel_name, tmp_path, how):
    """Ordinary cells and a shutdown leave nothing of ours on stderr, which
    papermill, nbclient and consoles show (nbclient's tests assert it)."""
    with logged_kernel(kernel_name, tmp_path) as k:
        run_ok(k.kc, "print('hello')")
        run_ok(k.kc, "import sys; print('warn', file=sys.stderr)")
        pid = kernel_pid(k.km)
        if how == "SIGTERM":
            os.kill(pid, signal.SIGTERM)
        else:
            k.km.shutdown_kernel()
        wait_gone(tree(pid) or [pid], "the kernel")
        assert cloudline_lines(k.text()) == [], k.text()


def test_heartbeat_stops_with_the_kernel(kernel_name, tmp_path):
    """While ipykernel is stopped the heartbeat says so (jupyter console
    relies on it), and it beats again once it continues."""
    with logged_kernel(kernel_name, tmp_path) as k:
        hb = k.kc.hb_channel
        wait_for(hb.is_beating, "the heartbeat to beat", STARTUP_TIMEOUT)
        child = ipykernel_pid(k.km)
        os.kill(child, signal.SIGSTOP)
        try:
            wait_for(lambda: not hb.is_beating(), "the heartbeat to stop", 30)
        finally:
            os.kill(child, signal.SIGCONT)
        wait_for(hb.is_beating, "the heartbeat to beat again", 30)
        assert "ok" in run_ok(k.kc, "print('ok')").stream()


def test_sigterm_is_not_escalated(kernel_name, tmp_path):
    """A kernel that handles SIGTERM keeps running: cloudline forwards the
    signal and escalates nothing of its own (the client decides that)."""
    with logged_kernel(kernel_name, tmp_path) as k:
        run_ok(k.kc, "import signal\nsignal.signal(signal.SIGTERM, lambda *a: print('got SIGTERM'))")
        os.kill(kernel_pid(k.km), signal.SIGTERM)
        # The kernel survives well past cloudline's old 2 s escalation.
        out = run_ok(k.kc, "import time\ntime.sleep(3)\nprint('still here')").stream()
        assert "still here" in out
        assert alive(kernel_pid(k.km))


@pytest.mark.cloudline
def test_deliberate_exit_is_reported_calmly(kernel_name, tmp_path):
    with logged_kernel(kernel_name, tmp_path) as k:
        msg_id = k.kc.execute("import os\nos._exit(3)")
        msgs = collect_until(k.kc, msg_id, lambda m: is_advice(m, "kernel-died"), timeout=CELL_TIMEOUT)
        note = [m for m in msgs if is_advice(m, "kernel-died")][0]
        text = note["content"]["data"]["text/plain"]
        assert "exited with status 3" in text, text
        assert "died" not in text.splitlines()[0], text
        died = [f for f in cloudline_meta(note)["findings"] if f["rule"] == "kernel-died"]
        assert died and died[0]["evidence"]["cause"] == "exit", cloudline_meta(note)
        wait_gone([kernel_pid(k.km)], "cloudline")
        assert "level=WARN" not in k.text(), k.text()


INSIDE = (
    "import ipykernel, json, os\n"
    "cf = ipykernel.get_connection_file()\n"
    "info = json.loads(ipykernel.get_connection_info())\n"
    "print(json.dumps({'cf': cf, 'info': info, 'mode': os.stat(cf).st_mode & 0o777}))\n"
)


def test_connection_file_from_inside(kernel_name, tmp_path):
    """get_connection_file(), get_connection_info() and %connect_info
    describe the sockets the frontend uses (for cloudline: its own), under
    the frontend file's name, 0600; a second client connects with them."""
    with logged_kernel(kernel_name, tmp_path) as k:
        d = json.loads(run_ok(k.kc, INSIDE).stream())
        info = connection(k.km)
        assert os.path.basename(d["cf"]) == os.path.basename(k.km.connection_file)
        for key in ("transport", "ip", "key", "shell_port", "iopub_port", "stdin_port",
                    "control_port", "hb_port", "signature_scheme"):
            assert d["info"][key] == info[key], key
        assert d["mode"] == 0o600
        shown = run_ok(k.kc, "%connect_info").stream()
        # The base name when the file is in Jupyter's runtime dir, else the path.
        assert re.search(rf"--existing \S*{re.escape(os.path.basename(d['cf']))}", shown), shown
        assert f'"shell_port": {info["shell_port"]}' in shown
        kc2 = BlockingKernelClient()
        kc2.load_connection_file(d["cf"])
        kc2.start_channels()
        try:
            kc2.wait_for_ready(timeout=STARTUP_TIMEOUT)
            assert "second" in run_ok(kc2, "print('second')").stream()
        finally:
            kc2.stop_channels()
        k.km.shutdown_kernel()
        wait_for(lambda: not os.path.exists(d["cf"]), "the connection file to go", 30)
