"""Hostile and broken input to a running cloudline kernel, and what it keeps
private (issue 7). Raw frames from a pyzmq DEALER and from a bare TCP socket
must be dropped with a log line while the kernel keeps serving; a kernelspec
whose interpreter is gone must fail fast with a clear message; the child's
connection file, the history and the log must not expose anything.

(Broken connection files and command lines are tested in Go:
cmd/cloudline/kernel_test.go.)"""

from __future__ import annotations

import json
import shutil
import stat
import sys
import uuid
from pathlib import Path

import psutil
import pytest
import zmq
from jupyter_client import KernelManager
from jupyter_client.session import Session

from faultutil import (
    DROPPED,
    closed_by_peer,
    connection,
    kernel_env,
    logged_kernel,
    oversized_frame,
    private_dirs,
)
from kernelutil import (
    STARTUP_TIMEOUT,
    alive,
    collect_until_idle,
    history_file,
    ipykernel_pid,
    kernel_pid,
    run_ok,
    wait_for,
    wait_history,
)

pytestmark = pytest.mark.cloudline


@pytest.fixture(scope="module")
def hostile(kernel_name, tmp_path_factory):
    """One logged kernel the module's raw peers attack, in turn."""
    with logged_kernel(kernel_name, tmp_path_factory.mktemp("hostile")) as k:
        yield k


class RawShell:
    """A DEALER on the kernel's shell port that speaks the wire protocol
    by hand (jupyter_client's Session only to sign)."""

    def __init__(self, info: dict) -> None:
        self.session = Session(key=info["key"].encode(), signature_scheme=info["signature_scheme"])
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(f"tcp://{info['ip']}:{info['shell_port']}")

    def signed(self, msg_type: str = "kernel_info_request") -> tuple[str, list[bytes]]:
        msg = self.session.msg(msg_type, content={})
        return msg["header"]["msg_id"], self.session.serialize(msg)

    def reply_to(self, msg_id: str, timeout: float = STARTUP_TIMEOUT) -> dict:
        """The next reply; fails if it answers another request."""
        assert self.sock.poll(timeout * 1000), f"no reply to {msg_id}"
        frames = self.sock.recv_multipart()
        _, msg_frames = self.session.feed_identities(frames)
        reply = self.session.deserialize(msg_frames)
        assert reply["parent_header"]["msg_id"] == msg_id, "a reply to another request"
        return reply

    def serves(self) -> None:
        msg_id, frames = self.signed()
        self.sock.send_multipart(frames)
        assert self.reply_to(msg_id)["content"]["status"] == "ok"

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(hostile):
    r = RawShell(connection(hostile.km))
    r.serves()
    yield r
    r.close()


def _tamper(case: str, frames: list[bytes]) -> list[bytes]:
    delim, sig, *dicts = frames
    if case == "unsigned":
        return [delim, b"", *dicts]
    if case == "wrongly-signed":
        return [delim, b"0" * len(sig), *dicts]
    if case == "truncated":  # fewer than 4 frames after the signature
        return [delim, sig, *dicts[:2]]
    if case == "delimiter-less":
        return [sig, *dicts]
    raise ValueError(case)


@pytest.mark.parametrize("case", ["unsigned", "wrongly-signed", "truncated", "delimiter-less"])
def test_bad_frames_are_dropped_and_logged(hostile, raw, case):
    before = hostile.count(DROPPED)
    _, frames = raw.signed()
    raw.sock.send_multipart(_tamper(case, frames))
    wait_for(lambda: hostile.count(DROPPED) == before + 1, f"a {DROPPED!r} line for the {case} message")
    raw.serves()  # no reply to the bad one came first, and the kernel serves
    assert hostile.count(DROPPED) == before + 1
    assert hostile.km.is_alive()


def test_replayed_message_is_dropped_and_logged(hostile, raw):
    before = hostile.count(DROPPED)
    msg_id, frames = raw.signed()
    raw.sock.send_multipart(frames)
    raw.reply_to(msg_id)
    raw.sock.send_multipart(frames)  # the same bytes again
    wait_for(lambda: hostile.count(DROPPED) == before + 1, "a dropped-message line for the replay")
    drops = [line for line in hostile.text().splitlines() if DROPPED in line]
    assert "replayed" in drops[-1], drops[-1]
    raw.serves()  # the next reply answers a new request, not the replay


@pytest.mark.parametrize("port", ["shell_port", "control_port", "stdin_port", "hb_port", "iopub_port"])
def test_oversized_frame_header_is_cut(hostile, raw, port):
    info = connection(hostile.km)
    before = hostile.count(DROPPED)
    sock = oversized_frame(info["ip"], info[port], "SUB" if port == "iopub_port" else "DEALER")
    try:
        assert closed_by_peer(sock), f"the connection announcing 2^62 bytes on {port} stayed open"
    finally:
        sock.close()
    if port != "iopub_port":  # zmq4's sockets, behind the frame guard
        wait_for(lambda: hostile.count(DROPPED) == before + 1, f"a {DROPPED!r} line for {port}")
    raw.serves()
    assert alive(kernel_pid(hostile.km))
    assert "panic" not in hostile.text()


def test_interpreter_gone_fails_fast(jupyter_env, kernel_name, tmp_path):
    """A kernelspec whose wrapped interpreter was removed (a deleted venv)."""
    spec = jupyter_env.kernels / "cloudline-gone-python"
    if not spec.exists():
        shutil.copytree(jupyter_env.kernels / kernel_name, spec)
    data = json.loads((spec / "kernel.json").read_text())
    gone = tmp_path / "deleted-venv" / "bin" / "python"
    sep = data["argv"].index("--")
    data["argv"][sep + 1] = str(gone)
    (spec / "kernel.json").write_text(json.dumps(data))
    log = tmp_path / "kernel.log"
    km = KernelManager(kernel_name=spec.name)
    with open(log, "wb") as err:
        km.start_kernel(cwd=str(tmp_path), env=kernel_env(tmp_path), stderr=err)
        try:
            proc = km.provisioner.process
            wait_for(lambda: proc.poll() is not None, "cloudline to exit", timeout=STARTUP_TIMEOUT)
        finally:
            km.cleanup_resources()
    lines = log.read_text().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("cloudline kernel: ") and str(gone) in lines[0], lines
    assert "no such file" in lines[0].lower(), lines
    assert proc.returncode == 2
    assert private_dirs(tmp_path) == []


# --- what stays private ---------------------------------------------------------------

WRAPPER = """\
import json, os, stat, sys
path = sys.argv[1]
st, dst = os.stat(path), os.stat(os.path.dirname(path))
info = json.load(open(path))
json.dump({"path": path, "file": stat.S_IMODE(st.st_mode), "dir": stat.S_IMODE(dst.st_mode),
           "ip": info["ip"], "transport": info["transport"]}, open(os.environ["WRAPPER_REPORT"], "w"))
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", path])
"""


def test_child_connection_file_is_private(jupyter_env, kernel_name, tmp_path):
    spec = jupyter_env.kernels / "cloudline-wrapper-probe"
    if not spec.exists():
        shutil.copytree(jupyter_env.kernels / kernel_name, spec)
    wrapper = jupyter_env.root / "probe_wrapper.py"
    wrapper.write_text(WRAPPER)
    data = json.loads((spec / "kernel.json").read_text())
    sep = data["argv"].index("--")
    data["argv"][sep + 1 :] = [sys.executable, str(wrapper), "{child_connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(data))
    report = tmp_path / "report.json"
    with logged_kernel(spec.name, tmp_path, env={"WRAPPER_REPORT": str(report)}) as k:
        got = json.loads(report.read_text())
        assert got["file"] == 0o600, oct(got["file"])
        assert got["dir"] == 0o700, oct(got["dir"])
        assert Path(got["path"]).parent.parent == k.tmp
        # The hop to the wrapped kernel: ipc sockets in the same 0700 dir.
        assert got["transport"] == "ipc", got["transport"]
        assert Path(got["ip"]).parent == Path(got["path"]).parent, got["ip"]
        # Whatever else ipykernel listens on is on loopback only.
        child = ipykernel_pid(k.km)
        run_ok(k.kc, "pass")
        addrs = {c.laddr.ip for c in psutil.Process(child).net_connections("tcp") if c.status == "LISTEN"}
        assert addrs <= {"127.0.0.1"}, addrs
        # The file stays, describing the frontend's sockets, not the hop.
        assert json.loads(Path(got["path"]).read_text())["shell_port"] == k.km.shell_port
    # A kernel killed with its group (shutdown_kernel(now=True)) may leave its
    # directory for the next one to sweep: it holds the link only, no key.
    for d in private_dirs(k.tmp):
        assert all(p.is_symlink() for p in d.iterdir()), list(d.iterdir())


def test_history_file_is_private(fresh_kernel):
    km, kc = fresh_kernel
    cell = run_ok(kc, "x = 1")
    wait_history([cell.msg_id])
    assert stat.S_IMODE(history_file().stat().st_mode) == 0o600


def test_log_holds_no_code_or_output(kernel_name, tmp_path):
    marker = uuid.uuid4().hex
    # The default level (whatever the test's environment says).
    with logged_kernel(kernel_name, tmp_path, env={"CLOUDLINE_LOG_LEVEL": ""}) as k:
        code = f"print({marker!r}[::-1])\nraise ValueError({marker!r} + 'err')"
        msg_id = k.kc.execute(code)
        msgs = collect_until_idle(k.kc, msg_id)
        text = "".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream")
        assert marker[::-1] in text  # the cell ran and printed
        assert any(m["msg_type"] == "error" for m in msgs)
        run_ok(k.kc, "pass")
        log = k.text()
    assert marker not in log and marker[::-1] not in log
