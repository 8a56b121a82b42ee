"""Widget progress bars project run time like text bars (issue 13): a
`tqdm.auto` loop, which with ipywidgets installed draws a widget whose
progress travels as comm state updates, gets projected-training within the
first 10 % of its run, through nbclient on the real ipykernel."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from kernelutil import is_advice, notebook_notes

pytestmark = pytest.mark.cloudline

NOTE_MIME = "application/vnd.cloudline.note+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class ReleasingClient(NotebookClient):
    """nbclient that creates `flag` once a message satisfies `pred`: the
    running cell waits for it, so nothing depends on timing."""

    def __init__(self, *args, flag: Path, pred, **kw) -> None:
        super().__init__(*args, **kw)
        self._flag, self._pred = flag, pred

    def process_message(self, msg, cell, cell_index):
        if self._pred(msg):
            self._flag.touch()
        return super().process_message(msg, cell, cell_index)


def test_tqdm_auto_widget_is_projected_early(cloudline_spec, workdir: Path, notebook_name: str) -> None:
    # 1000 steps of at least 0.1 s: at least 100 s, past the 60 s limit.
    # The loop stops once the projection arrives and prints where it was.
    spec = cloudline_spec(training_time="60s")
    flag = workdir / "release"
    nb = new_notebook(cells=[
        new_code_cell("import os, time\nimport ipywidgets\nfrom tqdm.auto import tqdm"),
        new_code_cell(
            "for step in tqdm(range(1000), desc='train'):\n"
            f"    if os.path.exists({str(flag)!r}):\n"
            "        break\n"
            "    time.sleep(0.1)\n"
            "print(f'released at step {step}', flush=True)"
        ),
    ])
    client = ReleasingClient(
        nb, kernel_name=spec, timeout=180, startup_timeout=60,
        resources={"metadata": {"path": str(workdir)}},
        flag=flag, pred=lambda m: is_advice(m, "projected-training"),
    )
    os.environ["JPY_SESSION_NAME"] = notebook_name
    try:
        client.execute()
    finally:
        os.environ.pop("JPY_SESSION_NAME", None)
    cell = nb.cells[1]
    # tqdm.auto drew a widget, not a text bar.
    assert any(WIDGET_MIME in o.get("data", {}) for o in cell.outputs), cell.outputs
    assert not any(o.get("name") == "stderr" and "%|" in o.get("text", "") for o in cell.outputs), cell.outputs
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    m = re.search(r"released at step (\d+)", text)
    assert m, f"the loop never saw the projection: {cell.outputs}"
    assert int(m.group(1)) < 100, f"projected-training came at step {m.group(1)} of 1000, not in the first 10 %"
    notes = notebook_notes(cell)
    assert len(notes) == 1, cell.outputs
    assert "projected-training" in notes[0]["metadata"]["cloudline"]["rules"], notes[0]["metadata"]
    finding = next(f for f in notes[0]["data"][NOTE_MIME]["findings"] if f["rule"] == "projected-training")
    assert finding["evidence"]["source"] in ("tqdm widget", "progress widget"), finding
    assert finding["evidence"]["projected_s"] > 60, finding
