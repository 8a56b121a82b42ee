"""The ordinary-work check (issue 13): a notebook of everyday data work —
imports, a 100 MB CSV written and read back, a plot, a model fit — run
through nbclient on the kernel under test at the default thresholds, posts
no note. Anything cloudline says here is a false alarm."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from kernelutil import notebook_notes

pytestmark = pytest.mark.cloudline

NOTE_MIME = "application/vnd.cloudline.note+json"

# Each cell is what a data scientist types every day. The CSV is one
# frame's rows written 17 times (to_csv of 100 MB takes most of a minute on
# a busy 2-core machine); the read is one read_csv of all of it.
CELLS = [
    "import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt",
    "rng = np.random.default_rng(0)\n"
    "chunk = pd.DataFrame(rng.normal(size=(62_500, 4)), columns=['a', 'b', 'c', 'd'])\n"
    "chunk['y'] = 3 * chunk.a - 2 * chunk.b + rng.normal(scale=0.1, size=len(chunk))\n"
    "rows = chunk.to_csv(index=False, header=False)\n"
    "with open('data.csv', 'w') as f:\n"
    "    f.write(','.join(chunk.columns) + '\\n')\n"
    "    for _ in range(17):\n"
    "        f.write(rows)",
    "import os\nsize = os.path.getsize('data.csv')\nprint(f'{size / 1e6:.0f} MB')",
    "df = pd.read_csv('data.csv')\ndf.describe()",
    "df.groupby(df.a.round()).y.mean()",
    "fig, ax = plt.subplots()\nax.scatter(df.a[:2000], df.y[:2000], s=2)\nax.set_xlabel('a')\nplt.show()",
    "X = np.c_[np.ones(len(df)), df[['a', 'b', 'c', 'd']].to_numpy()]\n"
    "coef, *_ = np.linalg.lstsq(X, df.y.to_numpy(), rcond=None)\n"
    "print('coefficients', np.round(coef, 2))",
    "df['pred'] = X @ coef\nrmse = float(np.sqrt(((df.pred - df.y) ** 2).mean()))\nprint(f'rmse={rmse:.3f}')",
]


def test_ordinary_data_work_posts_no_note(kernel_name: str, workdir: Path, notebook_name: str) -> None:
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    client = NotebookClient(
        nb, kernel_name=kernel_name, timeout=300, startup_timeout=60,
        resources={"metadata": {"path": str(workdir)}},
    )
    saved = os.environ.get("JPY_SESSION_NAME")
    os.environ["JPY_SESSION_NAME"] = notebook_name
    try:
        client.execute()
    finally:
        os.environ.pop("JPY_SESSION_NAME", None)
        if saved is not None:
            os.environ["JPY_SESSION_NAME"] = saved
    # The work really happened: a CSV of 100 MB or more, read back whole,
    # a figure drawn, a fit that found the coefficients.
    assert (workdir / "data.csv").stat().st_size >= 100_000_000
    text = [o.get("text", "") for c in nb.cells for o in c.outputs if o.get("output_type") == "stream"]
    assert any("coefficients [" in t and " 3. " in t for t in text), text
    images = [o for o in nb.cells[5].outputs if "image/png" in o.get("data", {})]
    assert images, nb.cells[5].outputs
    for i, cell in enumerate(nb.cells):
        notes = notebook_notes(cell)
        mimes = [o for o in cell.outputs if NOTE_MIME in o.get("data", {})]
        assert not notes and not mimes, f"cell {i} ({CELLS[i].splitlines()[0]!r}) got a note: {notes or mimes}"
