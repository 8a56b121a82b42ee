"""One note per cell, right and quiet (issue 13), through the real ipykernel
driven by nbclient and papermill: a progress bar is split at most once, a
finding about the same subject is told once, dashboards are no model
servers, a server bound in a thread after its cell returned is told on that
cell, notebooks without a name are never pooled, and a restart within
the cool-down repeats nothing."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from kernelutil import advice_rules, notebook_advice, notebook_notes, run_ok, running_kernel

pytestmark = pytest.mark.cloudline

NOTE_MIME = "application/vnd.cloudline.note+json"


def notebook(*cells: str) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell(c) for c in cells])


def execute(nb: nbformat.NotebookNode, kernel: str, cwd: Path, env: dict[str, str] | None = None):
    """Run nb through nbclient (which applies display updates to what it
    saves) with the kernel's environment extended by env."""
    client = NotebookClient(
        nb, kernel_name=kernel, timeout=120, startup_timeout=60,
        resources={"metadata": {"path": str(cwd)}},
    )
    saved = dict(os.environ)
    os.environ.pop("JPY_SESSION_NAME", None)
    os.environ.update(env or {})
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb


def bar_pieces(cell) -> int:
    """How many pieces a tqdm text bar shows in: stderr outputs, merged
    when consecutive as JupyterLab merges them, that hold a bar."""
    pieces, run = 0, None
    for o in cell.outputs:
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            run = (run or "") + o.get("text", "")
            continue
        pieces += run is not None and "%|" in run
        run = None
    return pieces + (run is not None and "%|" in run)


def test_tqdm_text_bar_is_split_at_most_once(cloudline_spec, workdir, notebook_name):
    spec = cloudline_spec(training_time="2s", live_after="1s")
    nb = execute(notebook(
        "import time\nfrom tqdm import tqdm",
        "for _ in tqdm(range(60)):\n    time.sleep(0.1)\nprint('done')",
    ), spec, workdir, {"JPY_SESSION_NAME": notebook_name})
    cell = nb.cells[1]
    notes = notebook_notes(cell)
    assert len(notes) == 1, f"want one cloudline output, got {len(notes)}: {cell.outputs}"
    assert bar_pieces(cell) <= 2, cell.outputs
    assert "100%" in "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")
    note = notes[0]["data"][NOTE_MIME]
    assert note["v"] == 1 and note["findings"], note
    assert {f["rule"] for f in note["findings"]} & {"long-training", "projected-training"}
    # The saved note is its final state: the closing summary.
    assert note["status"] and note["status"]["state"] == "ok", note["status"]
    assert "finished in" in notes[0]["data"]["text/plain"]
    assert notes[0]["metadata"]["cloudline"]["status"] == "final"


def test_same_sensitive_file_is_told_once(cloudline_spec, workdir, notebook_name):
    spec = cloudline_spec(sensitive_paths="*secret*", cooldown="0")
    (workdir / "secret.csv").write_text("name,ssn\nalice,000-00-0000\n")
    read = "with open('secret.csv') as f:\n    rows = f.read().splitlines()\nlen(rows)"
    nb = execute(notebook(read, read), spec, workdir, {"JPY_SESSION_NAME": notebook_name})
    assert notebook_advice(nb) == ["sensitive-data"], [notebook_advice(new_notebook(cells=[c])) for c in nb.cells]
    assert notebook_notes(nb.cells[0]), "the note is on the first cell"


def test_dashboards_are_no_model_servers(kernel_name, workdir, notebook_name):
    (workdir / "runs").mkdir()
    nb = execute(notebook(
        "from dask.distributed import Client, LocalCluster\n"
        "cluster = LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address='127.0.0.1:0')\n"
        "client = Client(cluster)\n"
        "print(client.dashboard_link)",
        "client.submit(sum, [1, 2]).result()",
        "from tensorboard import program\n"
        "tb = program.TensorBoard()\n"
        "tb.configure(argv=[None, '--logdir', 'runs', '--host', '127.0.0.1', '--port', '0'])\n"
        "url = tb.launch()\n"
        "print(url)",
        "x = sum(range(10))\nx",
        "client.close()\ncluster.close()",
    ), kernel_name, workdir, {"JPY_SESSION_NAME": notebook_name})
    assert "http://127.0.0.1:" in "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert "http://127.0.0.1:" in "".join(o.get("text", "") for o in nb.cells[2].outputs)
    assert notebook_advice(nb) == []


def test_a_restart_within_the_cool_down_repeats_nothing(cloudline_spec, workdir, notebook_name):
    spec = cloudline_spec(sensitive="true", dataset_size="1MB")
    (workdir / "data.bin").write_bytes(b"\1" * (2 << 20))
    read = "with open('data.bin', 'rb') as f:\n    n = len(f.read())\nn"
    with running_kernel(spec, cwd=workdir, env={"JPY_SESSION_NAME": notebook_name}) as (km, kc):
        before = run_ok(kc, read)
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=60)
        after = run_ok(kc, read)
    assert set(advice_rules(before.msgs)) == {"sensitive-data", "dataset-size"}
    assert advice_rules(after.msgs) == [], "the cool-down was lost in the restart"


PAPERMILL_METRICS = "acc = 0.912\nloss = 0.2\nprint(f'accuracy={acc} loss={loss}')"


def test_unnamed_notebooks_are_never_pooled(cloudline_spec, workdir, tmp_path, monkeypatch):
    # papermill sets no JPY_SESSION_NAME: three different notebooks with
    # the same metric line are three models, not one stable one; the same
    # notebook run again is the same model.
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    spec = cloudline_spec(stable_runs="2")
    paths = []
    for i, setup in enumerate(["import math", "import json\nrows = [1, 2]", "import statistics"]):
        path = tmp_path / f"nb{i}.ipynb"
        nbformat.write(notebook(setup, PAPERMILL_METRICS), path)
        paths.append(path)

    def run(path: Path, n: int) -> nbformat.NotebookNode:
        out = tmp_path / f"out-{path.stem}-{n}.ipynb"
        papermill.execute_notebook(str(path), str(out), kernel_name=spec, cwd=str(workdir),
                                   progress_bar=False, start_timeout=60, execution_timeout=120)
        return nbformat.read(out, as_version=4)

    for n, path in enumerate(paths):
        assert "stable-model" not in notebook_advice(run(path, n)), f"{path.name} pooled with another notebook"
    assert "stable-model" in notebook_advice(run(paths[0], 9)), "the same notebook's second run is a trend"


# A server whose thread binds its port itself, after a startup of its own
# (as uvicorn's and Flask's app.run do), so the cell that starts it has
# returned before anything listens. `ready` is set once it listens.
THREAD_SERVERS = {
    "http.server": "http.server.ThreadingHTTPServer(('127.0.0.1', 0), http.server.SimpleHTTPRequestHandler)",
    "werkzeug": "werkzeug.serving.make_server('127.0.0.1', 0, lambda env, start: [start('200 OK', []), b'ok'][1:])",
}


@pytest.mark.parametrize("server", sorted(THREAD_SERVERS))
def test_server_bound_in_a_thread_is_told_on_its_cell(kernel_name, workdir, notebook_name, server):
    nb = execute(notebook(
        "import http.server, threading, time\nimport werkzeug.serving",
        "ready = threading.Event()\n"
        "def serve():\n"
        "    global srv\n"
        "    time.sleep(0.2)  # the framework's start-up\n"
        f"    srv = {THREAD_SERVERS[server]}\n"
        "    ready.set()\n"
        "    srv.serve_forever()\n"
        "threading.Thread(target=serve, daemon=True).start()",
        "ready.wait(60)\nprint('serving on', srv.server_address[1])",
        "srv.shutdown()",
    ), kernel_name, workdir, {"JPY_SESSION_NAME": notebook_name})
    per_cell = [[r for n in notebook_notes(c) for r in n["metadata"]["cloudline"]["rules"]] for c in nb.cells]
    assert per_cell == [[], ["local-serving"], [], []], per_cell
    port = int("".join(o.get("text", "") for o in nb.cells[2].outputs).split("serving on")[1].split()[0])
    note = notebook_notes(nb.cells[1])[0]
    finding = note["data"][NOTE_MIME]["findings"][0]
    assert finding["evidence"]["ports"] == [port], finding
    # Worded with the cell that started it: [2] and its first line.
    assert note["data"][NOTE_MIME]["cell"]["execution_count"] == 2, note["data"][NOTE_MIME]["cell"]
    assert "[2]" in note["data"]["text/plain"] and "ready = threading.Event()" in note["data"]["text/plain"]
