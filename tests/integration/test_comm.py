"""The cloudline comm (issue 15) through the real ipykernel and jupyter_client:
what cloudline's JupyterLab extension sees. A client opens a comm with target
"cloudline"; the proxy answers it itself (hello, the kernel's memory), sends a
running cell's figures while it runs and its summary at its end, drops
malformed comm messages with a log line, and never lets the comm reach
ipykernel (comm_info_request is answered by ipykernel, as without cloudline).

Cells hold until the test has seen what it waits for (hold_code), so nothing
depends on timing."""

from __future__ import annotations

import queue
import time
import uuid
from pathlib import Path

import pytest

from faultutil import logged_kernel
from kernelutil import CELL_TIMEOUT, Msg, get_reply, hold_code, is_idle, parent_id, run_ok

pytestmark = pytest.mark.cloudline

DROPPED_COMM = "dropped comm message"
MEM_LIMIT = 512 * 2**20


def open_comm(kc, data=None) -> tuple[str, str]:
    """Send comm_open (target cloudline); return (comm_id, the comm_open's msg_id)."""
    cid = uuid.uuid4().hex
    msg = kc.session.msg("comm_open", {"comm_id": cid, "target_name": "cloudline",
                                       "data": {"v": 1} if data is None else data})
    kc.shell_channel.send(msg)
    return cid, msg["header"]["msg_id"]


def comm_data(msg: Msg, cid: str) -> dict | None:
    """The data of a comm_msg to comm cid, else None."""
    if msg["msg_type"] != "comm_msg" or msg["content"].get("comm_id") != cid:
        return None
    return msg["content"]["data"]


def next_iopub(kc, deadline: float, what: str) -> Msg:
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {what}")
        try:
            return kc.get_iopub_msg(timeout=min(left, 1.0))
        except queue.Empty:
            continue


def wait_comm(kc, cid: str, typ: str, seen: list[Msg] | None = None) -> dict:
    """Read iopub until a comm message of type typ for cid arrives (others go to seen)."""
    deadline = time.monotonic() + CELL_TIMEOUT
    while True:
        msg = next_iopub(kc, deadline, f"a {typ!r} comm message")
        if seen is not None:
            seen.append(msg)
        data = comm_data(msg, cid)
        if data is not None and data.get("type") == typ:
            return data


def execute(kc, code: str, cell_id: str) -> str:
    """Send an execute_request as JupyterLab does (metadata.cellId); return its msg_id."""
    msg = kc.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": False,
                                             "stop_on_error": True}, metadata={"cellId": cell_id})
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


@pytest.fixture
def comm_kernel(cloudline_spec, tmp_path: Path, notebook_name: str):
    spec = cloudline_spec(training_time="2s", live_after="1s", cooldown="0s")
    # A hub's MEM_LIMIT below any RAM or cgroup limit becomes the limit shown
    # (it is only declared, never enforced).
    env = {"JPY_SESSION_NAME": notebook_name, "MEM_LIMIT": str(MEM_LIMIT)}
    with logged_kernel(spec, tmp_path, env=env) as k:
        yield k


def test_open_answers_hello_and_kernel_memory(comm_kernel):
    kc = comm_kernel.kc
    cid, open_id = open_comm(kc)
    seen: list[Msg] = []
    hello = wait_comm(kc, cid, "hello", seen)
    assert hello["v"] == 1 and hello["memory_fraction"] == pytest.approx(0.8)
    assert hello["live_after_s"] == pytest.approx(1.0) and isinstance(hello["history"], list)
    mem = wait_comm(kc, cid, "kernel", seen)
    assert mem["v"] == 1 and mem["rss_bytes"] > 10 * 2**20, mem  # ipykernel alone is more than 10 MiB
    assert mem["limit_source"] == "MEM_LIMIT" and mem["mem_limit_bytes"] == MEM_LIMIT, mem
    comm_msgs = [m for m in seen if comm_data(m, cid) is not None]
    assert all(parent_id(m) == open_id for m in comm_msgs), "comm messages are parented to the comm_open"
    sessions = {m["header"]["session"] for m in seen if m["msg_type"] == "status"}
    assert all(m["header"]["session"] in sessions or not sessions for m in comm_msgs)


def test_running_cell_figures_then_summary_and_note_at_end(comm_kernel, tmp_path):
    kc = comm_kernel.kc
    cid, _ = open_comm(kc)
    wait_comm(kc, cid, "hello")
    flag = tmp_path / "release"
    code = hold_code(flag, "import numpy as _np\n_big = _np.ones(64 * 2**20 // 8)\nprint('working', flush=True)")
    exec_id = execute(kc, code, "cell-live")

    ticks: list[dict] = []
    cell_msgs: list[Msg] = []  # iopub messages parented to the cell, in order
    events: list[tuple[str, object]] = []  # ("comm", data) / ("cell", msg), in arrival order
    summary = None
    deadline = time.monotonic() + CELL_TIMEOUT
    while True:
        msg = next_iopub(kc, deadline, f"the idle of {exec_id}")
        data = comm_data(msg, cid)
        if data is not None and data.get("msg_id") == exec_id:
            events.append(("comm", data))
            if data["type"] == "cell":
                ticks.append(data)
                found = {f["rule"] for f in data["findings"]}
                if len(ticks) >= 2 and "long-training" in found:
                    flag.touch()
            elif data["type"] == "cell_end":
                summary = data
        elif parent_id(msg) == exec_id:
            cell_msgs.append(msg)
            events.append(("cell", msg))
            if is_idle(msg):
                break

    assert len(ticks) >= 2, ticks
    assert all(t["cell_id"] == "cell-live" and t["status"] == "running" for t in ticks)
    assert [t["elapsed_s"] for t in ticks] == sorted(t["elapsed_s"] for t in ticks)
    assert ticks[-1]["peak_rss_bytes"] >= 64 * 2**20 and ticks[-1]["mem_limit_bytes"] > 0
    assert summary is not None, "no cell_end summary"
    assert summary["status"] == "ok" and summary["elapsed_s"] >= ticks[-1]["elapsed_s"]
    assert "long-training" in {f["rule"] for f in summary["findings"]}
    kinds = [k for k, _ in events]
    assert kinds.index("comm") < len(kinds) and events[-1][0] == "cell"
    idle_at = len(events) - 1
    assert [k for k, v in events].index("comm") < idle_at
    assert events.index(("comm", summary)) < idle_at, "the summary precedes the cell's idle"

    # With the comm connected, nothing of cloudline's appears while the
    # cell runs: its stream stays whole, the note comes after it, before the idle.
    types = [m["msg_type"] for m in cell_msgs]
    displays = [i for i, m in enumerate(cell_msgs) if m["msg_type"] in ("display_data", "update_display_data")]
    last_stream = max(i for i, t in enumerate(types) if t == "stream")
    assert displays, f"no note at the cell's end: {types}"
    assert min(displays) > last_stream, f"cloudline output while the cell ran: {types}"
    rules = {(m["content"].get("metadata") or {}).get("cloudline", {}).get("rule")
             for i, m in enumerate(cell_msgs) if i in displays}
    notes = [m for i, m in enumerate(cell_msgs) if i in displays]
    assert all("cloudline" in (m["content"].get("metadata") or {}) for m in notes)
    assert "long-training" in rules or any(
        "long-training" in (m["content"]["metadata"]["cloudline"].get("rules") or []) for m in notes), notes


def test_malformed_comm_messages_are_dropped_and_logged(comm_kernel):
    kc = comm_kernel.kc
    cid, _ = open_comm(kc)
    wait_comm(kc, cid, "hello")
    before = comm_kernel.count(DROPPED_COMM)
    for data in ("garbage", {"v": 2, "type": "refresh"}, {"type": "refresh"}, {"v": 1, "type": "unknown"}):
        kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": cid, "data": data}))
    # Each is dropped with one log line; the kernel keeps serving and the
    # comm still answers a well-formed request.
    run_ok(kc, "x = 40 + 2")
    deadline = time.monotonic() + CELL_TIMEOUT
    while comm_kernel.count(DROPPED_COMM) < before + 4:
        assert time.monotonic() < deadline, comm_kernel.text()[-2000:]
        time.sleep(0.05)
    assert comm_kernel.count(DROPPED_COMM) == before + 4
    kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": cid, "data": {"v": 1, "type": "refresh"}}))
    assert wait_comm(kc, cid, "hello")["v"] == 1
    assert "x = 40" not in comm_kernel.text(), "the log holds no code"
    assert comm_kernel.km.is_alive()


def test_bad_version_is_refused_with_comm_close(comm_kernel):
    kc = comm_kernel.kc
    cid, open_id = open_comm(kc, data={"v": 99})
    deadline = time.monotonic() + CELL_TIMEOUT
    while True:
        msg = next_iopub(kc, deadline, "comm_close for a v99 comm_open")
        if msg["msg_type"] == "comm_close" and msg["content"]["comm_id"] == cid:
            break
    assert parent_id(msg) == open_id
    run_ok(kc, "pass")


def comm_info(kc, target: str | None = None) -> dict:
    content = {} if target is None else {"target_name": target}
    msg = kc.session.msg("comm_info_request", content)
    kc.shell_channel.send(msg)
    reply = get_reply(kc, msg["header"]["msg_id"], channel="shell")
    return reply["content"]


@pytest.mark.parametrize("kernel", ["cloudline", "python3"])
def test_comm_never_reaches_ipykernel(cloudline_spec, tmp_path, kernel):
    """Against cloudline the comm is answered by the proxy: ipykernel never
    sees it (no busy/idle for the comm_open, no comm_close refusing it) and
    its comm_info_reply is the plain kernel's. Against the plain kernel the
    same comm_open is refused with comm_close, which the extension expects."""
    spec = cloudline_spec(cooldown="0s") if kernel == "cloudline" else "python3"
    with logged_kernel(spec, tmp_path) as k:
        kc = k.kc
        before = comm_info(kc)
        cid, open_id = open_comm(kc)
        # Shell is handled in order and iopub published in order: whatever
        # ipykernel said about the comm_open came before the fence's idle.
        fence = execute(kc, "y = 1", "fence")
        got: list[Msg] = []
        deadline = time.monotonic() + CELL_TIMEOUT
        while not got or not (parent_id(got[-1]) == fence and is_idle(got[-1])):
            got.append(next_iopub(kc, deadline, "the fence's idle"))
        about_open = [m for m in got if parent_id(m) == open_id]
        closes = [m for m in got if m["msg_type"] == "comm_close" and m["content"].get("comm_id") == cid]
        after = comm_info(kc)
        targeted = comm_info(kc, "cloudline")
        assert get_reply(kc, fence)["content"]["status"] == "ok"
        if kernel == "cloudline":
            assert not [m for m in about_open if m["msg_type"] == "status"], "ipykernel handled the comm_open"
            assert not closes, "ipykernel refused the comm: it reached it"
            assert "No such comm target" not in k.text()
        else:
            assert closes, "the plain kernel refuses an unknown comm target with comm_close"
        assert after["status"] == "ok" and cid not in after["comms"], after
        assert after["comms"] == before["comms"] and targeted["comms"] == {}
