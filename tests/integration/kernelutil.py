"""Helpers shared by the integration tests: start kernels, run cells, collect
their iopub messages, find cloudline's advice, poll files with a deadline.

Nothing here sleeps to synchronise: waits are on messages or on polled
conditions with a generous deadline that fails the test when it passes.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import psutil
from jupyter_client import KernelManager
from jupyter_client.blocking.client import BlockingKernelClient

# Generous deadlines: a test fails when one passes, nothing waits for them.
STARTUP_TIMEOUT = 60
CELL_TIMEOUT = 120
POLL_TIMEOUT = 30

Msg = dict[str, Any]


def start_kernel(
    name: str, cwd: str | os.PathLike | None = None, env: dict[str, str] | None = None
) -> tuple[KernelManager, BlockingKernelClient]:
    """Start kernel spec `name` and return its manager and a ready client.

    env holds extra variables for the kernel (JPY_SESSION_NAME, ...)."""
    km = KernelManager(kernel_name=name)
    full_env = dict(os.environ)
    full_env.update(env or {})
    km.start_kernel(cwd=str(cwd) if cwd else None, env=full_env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
    except Exception:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        raise
    return km, kc


def stop_kernel(km: KernelManager, kc: BlockingKernelClient) -> None:
    kc.stop_channels()
    if km.has_kernel:
        km.shutdown_kernel(now=True)


@contextlib.contextmanager
def running_kernel(name: str, **kw: Any) -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    km, kc = start_kernel(name, **kw)
    try:
        yield km, kc
    finally:
        stop_kernel(km, kc)


def flush_iopub(kc: BlockingKernelClient) -> None:
    """Drop iopub messages already queued (e.g. iopub_welcome, earlier cells)."""
    while True:
        try:
            kc.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            return


def parent_id(msg: Msg) -> str | None:
    return (msg.get("parent_header") or {}).get("msg_id")


def collect_until_idle(
    kc: BlockingKernelClient,
    msg_id: str,
    timeout: float = CELL_TIMEOUT,
    on_msg: Callable[[Msg], None] | None = None,
) -> list[Msg]:
    """Return every iopub message parented to msg_id up to and including its
    `status: idle`. on_msg sees each of them as it arrives (to act mid-cell).
    Messages for other requests are dropped."""
    return collect_until(kc, msg_id, is_idle, timeout=timeout, on_msg=on_msg, what="no idle")


def is_idle(msg: Msg) -> bool:
    return msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"


def collect_until(
    kc: BlockingKernelClient,
    msg_id: str,
    pred: Callable[[Msg], bool],
    timeout: float = CELL_TIMEOUT,
    on_msg: Callable[[Msg], None] | None = None,
    what: str = "condition not met",
) -> list[Msg]:
    """Collect iopub messages parented to msg_id until pred(msg) is true
    (the matching message is the last one returned). on_msg sees each of
    them as it arrives."""
    deadline = time.monotonic() + timeout
    msgs: list[Msg] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(
                f"{what} for {msg_id} within {timeout}s; "
                f"got {[m['msg_type'] for m in msgs]}"
            )
        try:
            msg = kc.get_iopub_msg(timeout=min(left, 1.0))
        except queue.Empty:
            continue
        if parent_id(msg) != msg_id:
            continue
        msgs.append(msg)
        if on_msg is not None:
            on_msg(msg)
        if pred(msg):
            return msgs


# Replies read while looking for another one, by client and channel: with
# subshells, replies come out of order, so none may be dropped.
_stashed: "weakref.WeakKeyDictionary[Any, dict[str, dict[str, Msg]]]" = weakref.WeakKeyDictionary()


def get_reply(
    kc: BlockingKernelClient, msg_id: str, channel: str = "shell", timeout: float = CELL_TIMEOUT
) -> Msg:
    """The reply to msg_id on shell or control. Replies to other requests
    read meanwhile are kept for their own get_reply."""
    stash = _stashed.setdefault(kc, {}).setdefault(channel, {})
    if msg_id in stash:
        return stash.pop(msg_id)
    get = kc.get_shell_msg if channel == "shell" else kc.get_control_msg
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {channel} reply to {msg_id} within {timeout}s")
        try:
            msg = get(timeout=min(left, 1.0))
        except queue.Empty:
            continue
        pid = parent_id(msg)
        if pid == msg_id:
            return msg
        if pid:
            stash[pid] = msg


@dataclass
class Cell:
    """One executed cell: its reply and its iopub messages (busy .. idle)."""

    msg_id: str
    reply: Msg
    msgs: list[Msg] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.reply["content"]["status"]

    def stream(self, name: str = "stdout") -> str:
        return "".join(
            m["content"]["text"]
            for m in self.msgs
            if m["msg_type"] == "stream" and m["content"]["name"] == name
        )

    def outputs(self) -> list[Msg]:
        """Messages a notebook would save as outputs, in order."""
        kinds = {"stream", "display_data", "execute_result", "error", "update_display_data"}
        return [m for m in self.msgs if m["msg_type"] in kinds]


def run_cell(
    kc: BlockingKernelClient,
    code: str,
    timeout: float = CELL_TIMEOUT,
    on_msg: Callable[[Msg], None] | None = None,
    **kw: Any,
) -> Cell:
    """Execute code, wait for its idle and its reply, return both."""
    msg_id = kc.execute(code, **kw)
    msgs = collect_until_idle(kc, msg_id, timeout=timeout, on_msg=on_msg)
    reply = get_reply(kc, msg_id, timeout=timeout)
    return Cell(msg_id, reply, msgs)


def run_ok(kc: BlockingKernelClient, code: str, **kw: Any) -> Cell:
    cell = run_cell(kc, code, **kw)
    assert cell.status == "ok", f"cell failed: {cell.reply['content']}\n{code}"
    return cell


# --- cloudline's messages ---------------------------------------------------


def cloudline_meta(msg: Msg) -> dict[str, Any] | None:
    if msg["msg_type"] not in ("display_data", "update_display_data"):
        return None
    meta = msg["content"].get("metadata") or {}
    cl = meta.get("cloudline")
    return cl if isinstance(cl, dict) else None


def is_note(msg: Msg) -> bool:
    """A message of a cell's note: its display_data or an update of it."""
    cl = cloudline_meta(msg)
    return cl is not None and bool((msg["content"].get("transient") or {}).get("display_id"))


def note_rules(msg: Msg) -> list[str]:
    cl = cloudline_meta(msg) or {}
    rules = cl.get("rules")
    return list(rules) if isinstance(rules, list) else []


def is_advice(msg: Msg, rule: str | None = None) -> bool:
    """A note message holding advice (rule, when given)."""
    if not is_note(msg):
        return False
    rules = note_rules(msg)
    return bool(rules) if rule is None else rule in rules


def advice(msgs: list[Msg], rule: str | None = None) -> list[Msg]:
    """The note messages that add advice (rule, when given): each note's
    first message holding it."""
    out, seen = [], set()
    for m in msgs:
        if not is_advice(m, rule):
            continue
        did = m["content"]["transient"]["display_id"]
        new = [r for r in note_rules(m) if (did, r) not in seen and (rule is None or r == rule)]
        seen.update((did, r) for r in note_rules(m))
        if new:
            out.append(m)
    return out


def notes(msgs: list[Msg]) -> dict[str, Msg]:
    """Each note's latest message, by display id, in order of creation."""
    out: dict[str, Msg] = {}
    for m in msgs:
        if is_note(m):
            out[m["content"]["transient"]["display_id"]] = m
    return out


def advice_rules(msgs: list[Msg]) -> list[str]:
    """The rules of every note, in their final state."""
    return [r for m in notes(msgs).values() for r in note_rules(m)]


def is_live_status(msg: Msg) -> bool:
    cl = cloudline_meta(msg)
    return (
        msg["msg_type"] in ("display_data", "update_display_data")
        and cl is not None
        and cl.get("status") == "live"
        and bool((msg["content"].get("transient") or {}).get("display_id"))
    )


def notebook_advice(nb: Any) -> list[str]:
    """Rule ids of the cloudline notes saved in a notebook's outputs."""
    rules = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            cl = (out.get("metadata") or {}).get("cloudline")
            if out.get("output_type") == "display_data" and isinstance(cl, dict):
                rules.extend(cl.get("rules") or [])
    return rules


def notebook_notes(cell: Any) -> list[Any]:
    """The cloudline outputs saved in a notebook cell."""
    return [
        o for o in cell.get("outputs", [])
        if o.get("output_type") == "display_data" and isinstance((o.get("metadata") or {}).get("cloudline"), dict)
    ]


def hold_code(flag: Path, body: str = "", limit: float = 90) -> str:
    """Code for a cell that runs until the test creates `flag` (or `limit`
    seconds pass, so a broken test cannot hang the kernel), then prints
    'released'. body runs first."""
    return (
        f"{body}\n"
        "import os as _os, time as _time\n"
        "_t0 = _time.monotonic()\n"
        f"while not _os.path.exists({str(flag)!r}) and _time.monotonic() - _t0 < {limit}:\n"
        "    _time.sleep(0.05)\n"
        "print('released', flush=True)\n"
    )


# --- polling and processes ---------------------------------------------------


def wait_for(
    pred: Callable[[], Any], what: str, timeout: float = POLL_TIMEOUT, interval: float = 0.1
) -> Any:
    """Poll pred until it returns something truthy; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def history_file() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "cloudline" / "history.jsonl"


def read_history(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or history_file()
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line:
            with contextlib.suppress(json.JSONDecodeError):  # a line being appended
                out.append(json.loads(line))
    return out


def wait_history(msg_ids: list[str], timeout: float = POLL_TIMEOUT) -> dict[str, dict[str, Any]]:
    """Poll the history file until it holds a record for every msg_id."""

    def found() -> dict[str, dict[str, Any]] | None:
        recs = {r.get("msg_id"): r for r in read_history()}
        if all(m in recs for m in msg_ids):
            return {m: recs[m] for m in msg_ids}
        return None

    return wait_for(found, f"history records for {msg_ids} in {history_file()}", timeout)


def alive(pid: int) -> bool:
    """True while pid runs (a zombie counts as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kernel_pid(km: KernelManager) -> int:
    """Pid of the process jupyter_client launched (cloudline, or ipykernel)."""
    return km.provisioner.process.pid


def process_tree(km: KernelManager) -> list[int]:
    root = psutil.Process(kernel_pid(km))
    return [root.pid] + [p.pid for p in root.children(recursive=True)]


def ipykernel_pid(km: KernelManager) -> int:
    """Pid of the ipykernel process: the launched process itself for the
    plain kernel, its ipykernel child behind cloudline."""
    root = psutil.Process(kernel_pid(km))

    def is_ipykernel(p: psutil.Process) -> bool:
        # A python process running ipykernel_launcher (cloudline's own
        # command line names it too, after "--").
        with contextlib.suppress(psutil.Error):
            return p.name().startswith("python") and any(
                "ipykernel" in a for a in p.cmdline()
            )
        return False

    if is_ipykernel(root):
        return root.pid
    kids = wait_for(
        lambda: [p for p in root.children(recursive=True) if is_ipykernel(p)],
        f"an ipykernel child of pid {root.pid}",
    )
    return kids[0].pid


def release_when(flag: Path, pred: Callable[[Msg], bool]) -> Callable[[Msg], None]:
    """An on_msg callback that creates `flag` (ending a hold_code cell) at
    the first message matching pred."""

    def on_msg(msg: Msg) -> None:
        if pred(msg) and not flag.exists():
            flag.touch()

    return on_msg


def kernel_session(msgs: list[Msg]) -> str:
    """header.session of the kernel's own messages (its status messages)."""
    for m in msgs:
        if m["msg_type"] == "status":
            return m["header"]["session"]
    raise AssertionError("no status message to take the kernel session from")


def index_of(msgs: list[Msg], pred: Callable[[Msg], bool], what: str) -> int:
    for i, m in enumerate(msgs):
        if pred(m):
            return i
    raise AssertionError(f"no {what} among {[m['msg_type'] for m in msgs]}")


def stream_with(text: str) -> Callable[[Msg], bool]:
    return lambda m: m["msg_type"] == "stream" and text in m["content"]["text"]
