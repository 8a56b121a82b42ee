"""CurveZMQ transport encryption through cloudline, as jupyter_client 8.10
provisions it (KernelManager.transport_encryption "auto" / "required"):
the conformance suite over encrypted sockets, no plaintext on the wire, the
server key authenticating cloudline, and bad clients cut without harm."""

from __future__ import annotations

import queue
import select
import socket
import threading
from typing import Any, Iterator

import jupyter_kernel_test as jkt
import pytest
import zmq
from jupyter_client import KernelManager
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel

import kernelutil
from conftest import KERNEL_UNDER_TEST
from test_conformance import PythonSamples

CHANNELS = ("shell", "iopub", "stdin", "control", "hb")


def start(name: str, policy: str) -> tuple[KernelManager, BlockingKernelClient]:
    km = KernelManager(kernel_name=name, transport_encryption=policy)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=kernelutil.STARTUP_TIMEOUT)
    except Exception:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        raise
    return km, kc


@pytest.fixture
def encrypted(kernel_name: str) -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    km, kc = start(kernel_name, "required")
    try:
        yield km, kc
    finally:
        kernelutil.stop_kernel(km, kc)


@pytest.mark.usefixtures("kernel_name")
class TestEncryptedConformance(PythonSamples, jkt.KernelTests):
    """jupyter_kernel_test over CURVE on every socket."""

    kernel_name = KERNEL_UNDER_TEST

    @classmethod
    def setUpClass(cls) -> None:
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, transport_encryption="required")
        assert cls.km.get_connection_info().get("curve_publickey"), "no CURVE keys provisioned"


def test_auto_encrypts_when_the_wrapped_kernel_can(kernel_name: str) -> None:
    """The wrapped kernelspec declares curve like ipykernel's own, so "auto"
    encrypts cloudline exactly as it encrypts the plain kernel."""
    for name in ("python3", kernel_name):
        km, kc = start(name, "auto")
        try:
            info = km.get_connection_info()
            assert info.get("curve_publickey") and info.get("curve_secretkey"), name
            reply = kc.execute_interactive("x = 6 * 7", timeout=kernelutil.CELL_TIMEOUT)
            assert reply["content"]["status"] == "ok"
        finally:
            kernelutil.stop_kernel(km, kc)


class Relay:
    """A TCP relay that records every byte both ways, one port per channel."""

    def __init__(self, target: dict[str, Any]) -> None:
        self.recorded = bytearray()
        self.lock = threading.Lock()
        self.ports: dict[str, int] = {}
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        for ch in CHANNELS:
            ls = socket.create_server(("127.0.0.1", 0))
            self.ports[ch] = ls.getsockname()[1]
            t = threading.Thread(target=self.accept, args=(ls, target[f"{ch}_port"]), daemon=True)
            t.start()
            self.threads.append(t)

    def accept(self, ls: socket.socket, port: int) -> None:
        ls.settimeout(0.2)
        while not self.stop.is_set():
            try:
                a, _ = ls.accept()
            except TimeoutError:
                continue
            b = socket.create_connection(("127.0.0.1", port))
            threading.Thread(target=self.pump, args=(a, b), daemon=True).start()
        ls.close()

    def pump(self, a: socket.socket, b: socket.socket) -> None:
        socks = [a, b]
        while not self.stop.is_set():
            ready, _, _ = select.select(socks, [], [], 0.2)
            for s in ready:
                data = s.recv(65536)
                if not data:
                    a.close(), b.close()
                    return
                with self.lock:
                    self.recorded += data
                (b if s is a else a).sendall(data)
        a.close(), b.close()

    def seen(self, marker: bytes) -> bool:
        with self.lock:
            return marker in self.recorded


def run_through_relay(km: KernelManager) -> Relay:
    """Run a cell whose code and output carry markers through a relay."""
    info = km.get_connection_info()
    relay = Relay(info)
    kc = BlockingKernelClient()
    kc.load_connection_info({**info, **{f"{ch}_port": p for ch, p in relay.ports.items()}})
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=kernelutil.STARTUP_TIMEOUT)
        outputs: list[str] = []
        reply = kc.execute_interactive(
            "print('OUTMARK' + '-7f3a' * 2)  # CODEMARK-1c9e",
            timeout=kernelutil.CELL_TIMEOUT,
            output_hook=lambda m: outputs.append(m["content"].get("text", "")),
        )
        assert reply["content"]["status"] == "ok"
        assert "OUTMARK-7f3a-7f3a" in "".join(outputs), outputs
    finally:
        kc.stop_channels()
        relay.stop.set()
    return relay


def test_no_plaintext_on_the_wire(kernel_name: str) -> None:
    """A recording of the loopback traffic holds neither the cell's code nor
    its output when encrypted, and both when not (the recording works)."""
    for policy, visible in (("disabled", True), ("required", False)):
        km, kc = start(kernel_name, policy)
        try:
            relay = run_through_relay(km)
        finally:
            kernelutil.stop_kernel(km, kc)
        assert relay.seen(b"CODEMARK-1c9e") is visible, policy
        assert relay.seen(b"OUTMARK-7f3a-7f3a") is visible, policy


def kernel_info_reply(info: dict[str, Any], timeout: float) -> bool:
    """Whether a client with this connection info gets a kernel_info_reply."""
    kc = BlockingKernelClient()
    kc.load_connection_info(info)
    kc.start_channels(iopub=False, stdin=False, hb=False, control=False)
    # The send is bounded too: a refused client's send once blocked for the
    # whole test timeout inside libzmq (a clean-clone run at load ~7; a
    # DEALER blocks in send while it has no peer), and for the negative
    # checks a request that cannot even be sent is one not answered.
    kc.shell_channel.socket.setsockopt(zmq.SNDTIMEO, int(timeout * 1000))
    try:
        msg_id = kc.kernel_info()
        while True:
            msg = kc.get_shell_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") == msg_id:
                return True
    except (queue.Empty, zmq.Again):
        return False
    finally:
        kc.stop_channels()


def test_server_key_authenticates(encrypted) -> None:
    """A client holding another server key, or none, is refused (cloudline
    cuts it and logs why); the right key is served before and after."""
    km, _ = encrypted
    info = km.get_connection_info()
    assert kernel_info_reply(info, kernelutil.CELL_TIMEOUT)
    pub, sec = zmq.curve_keypair()
    wrong = {**info, "curve_publickey": pub, "curve_secretkey": sec}
    plain = {k: v for k, v in info.items() if not k.startswith("curve_")}
    # Negative waits: the reply that must not come gets a few seconds.
    assert not kernel_info_reply(wrong, 3)
    assert not kernel_info_reply(plain, 3)
    assert kernel_info_reply(info, kernelutil.CELL_TIMEOUT)


def test_pyzmq_peers_on_every_socket(encrypted) -> None:
    """Raw libzmq peers (fresh client keys, as jupyter_client's heartbeat
    uses) talk to each socket: hb echoes, iopub publishes to a SUB."""
    km, kc = encrypted
    info = km.get_connection_info()
    server = info["curve_publickey"]
    server = server.encode() if isinstance(server, str) else server
    ctx = zmq.Context()

    def sock(kind: int, ch: str) -> zmq.Socket:
        s = ctx.socket(kind)
        s.curve_publickey, s.curve_secretkey = zmq.curve_keypair()
        s.curve_serverkey = server
        s.linger = 0
        s.connect(f"tcp://127.0.0.1:{info[ch + '_port']}")
        return s

    try:
        hb = sock(zmq.REQ, "hb")
        hb.send(b"ping-curve")
        assert hb.poll(kernelutil.POLL_TIMEOUT * 1000), "no heartbeat echo"
        assert hb.recv() == b"ping-curve"
        sub = sock(zmq.SUB, "iopub")
        sub.subscribe(b"")
        # The SUB has subscribed once the kernel's iopub_welcome reaches it.
        assert sub.poll(kernelutil.POLL_TIMEOUT * 1000), "no iopub_welcome"
        sub.recv_multipart()
        kc.execute_interactive("print('to every subscriber')", timeout=kernelutil.CELL_TIMEOUT)
        frames: list[bytes] = []
        while not any(b"to every subscriber" in f for f in frames):
            assert sub.poll(kernelutil.POLL_TIMEOUT * 1000), "output not published to the SUB"
            frames = sub.recv_multipart()
    finally:
        ctx.destroy(linger=0)
