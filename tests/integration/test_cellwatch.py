"""cellwatch through the real ipykernel: per-cell peak memory of the kernel's
process tree (children too), bytes read, and the history file with
`cloudline history --json` (issue 3). Records are written after the cell's
idle, off the forwarding path, so the tests poll the history with a deadline.
"""

from __future__ import annotations

import json
import stat
import subprocess
import uuid

import pytest

from kernelutil import (
    collect_until_idle,
    get_reply,
    history_file,
    run_ok,
    running_kernel,
    wait_history,
)

pytestmark = pytest.mark.cloudline

MB = 1000 * 1000
MiB = 1 << 20


@pytest.fixture(scope="module")
def watched(kernel_name, tmp_path_factory):
    """A cloudline kernel with default settings, shared by this module."""
    cwd = tmp_path_factory.mktemp("watched")
    with running_kernel(kernel_name, cwd=cwd, env={"JPY_SESSION_NAME": "cellwatch.ipynb"}) as (
        km,
        kc,
    ):
        yield kc, cwd


def test_peak_memory_of_a_500mb_cell(watched):
    kc, _ = watched
    cell = run_ok(kc, f"blob = b'x' * ({500 * MiB})  # every page written\ndel blob")
    rec = wait_history([cell.msg_id])[cell.msg_id]
    assert 500 * MB <= rec["peak_rss_bytes"] < 800 * MB, rec


def test_peak_memory_counts_a_multiprocessing_child(watched, tmp_path):
    kc, _ = watched
    flag = tmp_path / "release-child"
    # The child allocates 300 MiB and holds it past the cell's end (until the
    # test releases it), so the end-of-cell reading must include it.
    code = (
        "import multiprocessing as _mp, os as _os, time as _time\n"
        "def _hold(ready, flag):\n"
        f"    blob = b'y' * ({300 * MiB})\n"
        "    ready.set()\n"
        "    t0 = _time.monotonic()\n"
        "    while not _os.path.exists(flag) and _time.monotonic() - t0 < 120:\n"
        "        _time.sleep(0.05)\n"
        "_ctx = _mp.get_context('fork')\n"
        "_ready = _ctx.Event()\n"
        f"_child = _ctx.Process(target=_hold, args=(_ready, {str(flag)!r}))\n"
        "_child.start()\n"
        "assert _ready.wait(60), 'child did not allocate'\n"
        "print('child holds 300 MiB')\n"
    )
    cell = run_ok(kc, code)
    try:
        rec = wait_history([cell.msg_id])[cell.msg_id]
    finally:
        flag.touch()
        run_ok(kc, "_child.join(60)\nassert _child.exitcode == 0, _child.exitcode")
    assert rec["peak_rss_bytes"] >= 300 * MB, rec


def test_bytes_read_of_a_100mb_file(watched):
    kc, cwd = watched
    size = 100 * MiB
    with open(cwd / "hundred.bin", "wb") as f:
        for _ in range(100):
            f.write(b"\0" * MiB)
    cell = run_ok(
        kc,
        "n = 0\n"
        "with open('hundred.bin', 'rb') as f:\n"
        "    while chunk := f.read(1 << 20):\n"
        "        n += len(chunk)\n"
        "print(n)",
    )
    assert cell.stream().strip() == str(size)
    rec = wait_history([cell.msg_id])[cell.msg_id]
    assert rec["read_bytes"] >= 100 * MB, rec


def test_wall_time_is_the_kernels(watched):
    """A cell's running time is read off the kernel's own header dates,
    execute_input to idle, as JupyterLab's recorded timing is: the same to
    the microsecond, however late cloudline read either message."""
    kc, _ = watched
    cell = run_ok(kc, "import time\ntime.sleep(0.3)")
    dates = {
        m["msg_type"]: m["header"]["date"]
        for m in cell.msgs
        if m["msg_type"] == "execute_input" or (m["msg_type"] == "status" and m["content"]["execution_state"] == "idle")
    }
    assert set(dates) == {"execute_input", "status"}, dates
    kernel_s = (dates["status"] - dates["execute_input"]).total_seconds()
    rec = wait_history([cell.msg_id])[cell.msg_id]
    assert rec["wall_s"] == pytest.approx(kernel_s, abs=1e-6), (rec["wall_s"], kernel_s)


def test_quick_cells_count_all_their_writes_and_reads(fresh_kernel, workdir):
    """Issue 12: a cell's baseline is the reading at the kernel's last idle
    (the first cell's: at the kernel_info_reply), so none of its early work
    is lost however late the watcher wakes. Cells writing to /dev/null are
    over in a few ms with no output and no string literal: their idles are
    not held, the path where the watcher lags most."""
    _, kc = fresh_kernel
    with open(workdir / "ninety-six.bin", "wb") as f:
        for _ in range(96):
            f.write(b"\1" * MiB)
    first = run_ok(kc, "with open('w.bin', 'wb') as f:\n    for _ in range(80):\n        f.write(bytes(1 << 20))")
    run_ok(kc, "_null, _in, _w, _r, _buf = '/dev/null', 'ninety-six.bin', 'wb', 'rb', bytes(1 << 20)")
    quick = "with open(_null, _w, buffering=0) as f:\n    for _ in range(80):\n        f.write(_buf)"
    writes = [first] + [run_ok(kc, quick) for _ in range(12)]
    files = [run_ok(kc, "with open(_w and 'w.bin', _w) as f:\n    for _ in range(80):\n        f.write(_buf)") for _ in range(12)]
    reads = [run_ok(kc, "with open(_in, _r) as f:\n    while f.read(1 << 20):\n        pass") for _ in range(12)]
    recs = wait_history([c.msg_id for c in writes + files + reads])
    written = [recs[c.msg_id]["write_bytes"] for c in writes + files]
    read = [recs[c.msg_id]["read_bytes"] for c in reads]
    assert all(n >= 80 * MiB for n in written), [n / MiB for n in written]
    assert all(n >= 96 * MiB for n in read), [n / MiB for n in read]


def test_a_file_named_two_ways_counts_once(watched):
    """Named relatively in one line and absolutely in another, and read
    (open by its absolute path): one file, once, at its size."""
    kc, cwd = watched
    path = cwd / "twice.csv"
    path.write_bytes(b"a,b\n" * (1 << 18))  # 1 MiB
    cell = run_ok(
        kc,
        "import os\n"
        f"n = os.path.getsize({str(path)!r})\n"
        "with open('twice.csv', 'rb') as f:\n"
        "    data = f.read()\n"
        "    import time; time.sleep(0.3)  # open at the end sample\n"
        "print(n == len(data))",
    )
    assert cell.stream().strip() == "True"
    rec = wait_history([cell.msg_id])[cell.msg_id]
    named = rec.get("code_paths", [])
    opened = rec.get("files", [])
    assert len(named) == 1 and named[0]["bytes"] == MiB, rec
    assert not any(f["path"] == str(path) for f in opened), rec
    assert rec["code_bytes"] == MiB, rec


def test_history_file_and_history_json(watched, jupyter_env):
    kc, _ = watched
    tags = [uuid.uuid4().hex for _ in range(2)]
    # The tags are in code lines: a record's first_line names the cell as
    # the notes do, by its first line that is not an import or a comment.
    ok = run_ok(kc, f"# history-check\nx_{tags[0]} = sum(range(10))")
    err_id = kc.execute(f"# history-check\nraise ValueError('on purpose {tags[1]}')")
    collect_until_idle(kc, err_id)
    assert get_reply(kc, err_id)["content"]["status"] == "error"

    wait_history([ok.msg_id, err_id])
    mode = stat.S_IMODE(history_file().stat().st_mode)
    assert mode == 0o600, oct(mode)

    p = subprocess.run(
        [str(jupyter_env.cloudline()), "history", "--json"], capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr
    recs = {}
    for line in p.stdout.splitlines():
        if line.strip():
            r = json.loads(line)
            recs[r.get("msg_id")] = r
    assert ok.msg_id in recs and err_id in recs, f"history --json lacks the cells: {p.stdout[-2000:]}"
    for msg_id, tag, status in [(ok.msg_id, tags[0], "ok"), (err_id, tags[1], "error")]:
        r = recs[msg_id]
        for key in ("msg_id", "first_line", "wall_s", "peak_rss_bytes", "read_bytes", "status"):
            assert key in r, f"{key} missing from {r}"
        assert tag in r["first_line"]
        assert r["status"] == status
        assert r["wall_s"] >= 0 and r["peak_rss_bytes"] > 0
        assert isinstance(r.get("advice", []), list)

