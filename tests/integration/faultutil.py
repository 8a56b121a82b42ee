"""Helpers for the fault, load and hostile-input tests: kernels started with
their stderr in a file and their temp dir private to the test, raw ZMTP 3.0
peers (a subscriber that never reads, a peer announcing an enormous frame),
process-tree bookkeeping and the restarter driven through asyncio.

Nothing here sleeps to synchronise: waits poll a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import psutil
from jupyter_client import KernelManager
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.ioloop import AsyncIOLoopKernelManager
from traitlets.config import Config

from kernelutil import (
    CELL_TIMEOUT,
    STARTUP_TIMEOUT,
    alive,
    ipykernel_pid,
    is_advice,
    kernel_pid,
    wait_for,
)

# The marker every frontend-side drop logs (kernel/forward.go).
DROPPED = "dropped message"


@dataclass
class Logged:
    """A kernel whose stderr goes to `log` and whose TMPDIR is `tmp`."""

    km: KernelManager
    kc: BlockingKernelClient
    log: Path
    tmp: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def count(self, needle: str) -> int:
        return self.text().count(needle)


def kernel_env(tmp: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["TMPDIR"] = str(tmp)
    env.update(extra or {})
    return env


@contextlib.contextmanager
def logged_kernel(
    name: str, root: Path, env: dict[str, str] | None = None, ready: bool = True
) -> Iterator[Logged]:
    """Start kernel spec `name` with stderr in root/kernel.log and TMPDIR
    root/tmp; shut it down (now) on exit."""
    tmp = root / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    log = root / "kernel.log"
    km = KernelManager(kernel_name=name)
    # Kept open while the kernel lives: a restart reuses the launch arguments.
    err = open(log, "ab")
    km.start_kernel(cwd=str(root), env=kernel_env(tmp, env), stderr=err)
    kc = km.client()
    kc.start_channels()
    try:
        if ready:
            kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        yield Logged(km, kc, log, tmp)
    finally:
        kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        err.close()


def private_dirs(tmp: Path) -> list[Path]:
    """cloudline's private connection-file directories under tmp."""
    return sorted(tmp.glob("cloudline-*"))


def left_behind(tmp: Path) -> list[str]:
    """What kernels left in tmp, besides the private directory of one that
    was SIGKILLed (jupyter_client's shutdown_kernel(now=True)), which holds
    only a link to the frontend's connection file (no key) and is removed
    by the next kernel's start."""
    left = []
    for p in sorted(tmp.iterdir()):
        if p in private_dirs(tmp) and all(f.is_symlink() for f in p.iterdir()):
            continue
        left.append(p.name)
    return left


def tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    try:
        root = psutil.Process(pid)
        return [pid] + [p.pid for p in root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def wait_gone(pids: list[int], what: str, timeout: float = 30) -> None:
    wait_for(lambda: not any(alive(p) for p in pids), f"{what} ({pids}) to exit", timeout)


def rss(pid: int) -> int:
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).memory_info().rss
    return 0


# --- raw ZMTP 3.0 ---------------------------------------------------------------

FLAG_MORE, FLAG_LONG, FLAG_COMMAND = 1, 2, 4


def zmtp_greeting() -> bytes:
    """A ZMTP 3.0 greeting: NULL mechanism, as-server false."""
    return b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\0") + b"\0" + b"\0" * 31


def zmtp_frame(body: bytes, flags: int = 0) -> bytes:
    if len(body) > 255:
        return bytes([flags | FLAG_LONG]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def zmtp_ready(socket_type: str) -> bytes:
    name, value = b"Socket-Type", socket_type.encode()
    body = b"\x05READY" + bytes([len(name)]) + name + struct.pack(">I", len(value)) + value
    return zmtp_frame(body, FLAG_COMMAND)


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"peer closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def recv_frame(sock: socket.socket) -> tuple[int, bytes]:
    flags = recv_exact(sock, 1)[0]
    if flags & FLAG_LONG:
        size = struct.unpack(">Q", recv_exact(sock, 8))[0]
    else:
        size = recv_exact(sock, 1)[0]
    return flags, recv_exact(sock, size)


def zmtp_connect(host: str, port: int, socket_type: str, rcvbuf: int | None = None) -> socket.socket:
    """A TCP connection that has completed the ZMTP 3.0 handshake as
    socket_type (both greetings and READY commands exchanged)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(30)
    sock.connect((host, port))
    sock.sendall(zmtp_greeting())
    peer = recv_exact(sock, 64)
    assert peer[0] == 0xFF and peer[9] == 0x7F, f"not a ZMTP greeting: {peer[:12]!r}"
    sock.sendall(zmtp_ready(socket_type))
    flags, body = recv_frame(sock)
    assert flags & FLAG_COMMAND and body[1:6] == b"READY", f"expected READY, got {body[:16]!r}"
    return sock


def stalled_subscriber(host: str, port: int) -> socket.socket:
    """A SUB peer subscribed to everything that never reads again (the
    smallest receive buffer the kernel allows, so it stalls early)."""
    sock = zmtp_connect(host, port, "SUB", rcvbuf=4096)
    sock.sendall(zmtp_frame(b"\x01"))  # ZMTP 3.0 subscription to ""
    return sock


def oversized_frame(host: str, port: int, socket_type: str = "DEALER") -> socket.socket:
    """Handshake, then announce a 2^62-byte message frame and send a few
    bytes of it. Returns the socket (the kernel should cut it)."""
    sock = zmtp_connect(host, port, socket_type)
    sock.sendall(bytes([FLAG_LONG]) + struct.pack(">Q", 1 << 62) + b"x" * 64)
    return sock


def closed_by_peer(sock: socket.socket, timeout: float = 30) -> bool:
    """True once the peer has closed the connection (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# --- the restarter --------------------------------------------------------------


def restarter_config() -> Config:
    """Poll the kernel every 0.5 s instead of 3 s (jupyter_client's restarter)."""
    c = Config()
    c.KernelRestarter.time_to_dead = 0.5
    return c


async def next_iopub(kc: Any, pred: Callable[[dict], bool], deadline: float) -> list[dict]:
    """Async client: collect iopub messages until pred matches one."""
    got = []
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"condition not met; got {[m['msg_type'] for m in got]}"
        try:
            msg = await kc.get_iopub_msg(timeout=min(left, 1.0))
        except queue.Empty:
            continue
        got.append(msg)
        if pred(msg):
            return got


async def apoll(pred: Callable[[], Any], what: str, timeout: float = STARTUP_TIMEOUT) -> Any:
    """wait_for for coroutines: polls without blocking the event loop (the
    restarter runs on it)."""
    deadline = time.monotonic() + timeout
    while not (got := pred()):
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        await asyncio.sleep(0.05)
    return got


@dataclass
class Death:
    """What happened around a kernel's death and restart."""

    msgs: list[dict]  # the dying cell's iopub messages up to the advice
    old_proxy: int
    old_child: int
    new_child: int
    restart_seconds: float  # death -> the next cell's reply
    after: dict  # the next cell's execute_reply


async def die_and_restart(
    name: str,
    cwd: str,
    tmp: Path,
    code: str,
    started: Callable[[dict], bool],
    kill: Callable[[int], None] | None,
    log: Path,
) -> Death:
    """Run `code`; once a message matches `started`, call kill(child pid)
    (None: the code kills itself). Collect the cell's messages up to its
    kernel-died advice, then wait for the restarter to bring the kernel
    back and run one more cell on a new client."""
    km = AsyncIOLoopKernelManager(kernel_name=name, autorestart=True, config=restarter_config())
    err = open(log, "ab")  # open while the restarter may relaunch
    await km.start_kernel(cwd=cwd, env=kernel_env(tmp), stderr=err)
    restarted = asyncio.Event()
    km.add_restart_callback(restarted.set, "restart")
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        old_proxy = kernel_pid(km)
        old_child = ipykernel_pid(km)
        msg_id = kc.execute(code)
        deadline = time.monotonic() + CELL_TIMEOUT
        mine = lambda m: m["parent_header"].get("msg_id") == msg_id  # noqa: E731
        msgs = await next_iopub(kc, lambda m: mine(m) and started(m), deadline)
        t0 = time.monotonic()
        if kill is not None:
            kill(old_child)
        msgs += await next_iopub(kc, lambda m: mine(m) and is_advice(m, "kernel-died"), deadline)
        msgs = [m for m in msgs if mine(m)]
        await asyncio.wait_for(restarted.wait(), timeout=STARTUP_TIMEOUT)
        await apoll(lambda: not alive(old_proxy), f"the old cloudline {old_proxy} to exit")
        await apoll(
            lambda: km.has_kernel and kernel_pid(km) != old_proxy, "the restarter's new kernel"
        )
        kc.stop_channels()
        kc = km.client()  # the restarter may have picked new ports
        kc.start_channels()
        await kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        reply = await kc.execute_interactive(
            "import os; print(os.getpid())", timeout=CELL_TIMEOUT, output_hook=lambda m: None
        )
        elapsed = time.monotonic() - t0
        return Death(msgs, old_proxy, old_child, ipykernel_pid(km), elapsed, reply)
    finally:
        kc.stop_channels()
        km.stop_restarter()
        if await km.is_alive():
            await km.shutdown_kernel(now=True)
        err.close()


def connection(km: KernelManager) -> dict[str, Any]:
    info = km.get_connection_info()
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in info.items()}
