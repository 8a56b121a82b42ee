"""Whole notebooks through papermill/nbclient: a notebook runs through the
kernel under test; thirty ordinary quick cells get no advice; advice is
saved in papermill's output notebook (dataset-size, stable-model)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
import pytest

from kernelutil import notebook_advice

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
MiB = 1 << 20


def run_notebook(name: str, out: Path, kernel: str, cwd: Path, **parameters) -> nbformat.NotebookNode:
    papermill.execute_notebook(
        str(NOTEBOOKS / name),
        str(out),
        parameters=parameters,
        kernel_name=kernel,
        cwd=str(cwd),
        progress_bar=False,
        start_timeout=60,
        execution_timeout=120,
    )
    return nbformat.read(out, as_version=4)


def test_papermill_runs_a_notebook(kernel_name, workdir, tmp_path):
    nb = run_notebook("basic.ipynb", tmp_path / "out.ipynb", kernel_name, workdir, n=4)
    texts = [
        "".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs
    ]
    assert "total=14\n" in texts  # 0 + 1 + 4 + 9
    md = [
        o["data"]["text/markdown"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("output_type") == "execute_result" and "text/markdown" in o.get("data", {})
    ]
    assert md == ["**hello** from papermill"]


@pytest.mark.cloudline
def test_thirty_quick_cells_get_no_advice(kernel_name, workdir, tmp_path, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "quick30.ipynb")
    nb = run_notebook("quick30.ipynb", tmp_path / "out.ipynb", kernel_name, workdir)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 30
    assert all(c.execution_count for c in code), "every cell ran"
    assert notebook_advice(nb) == []
    injected = [
        o for c in code for o in c.outputs if "cloudline" in (o.get("metadata") or {})
    ]
    assert injected == [], "no status lines or other cloudline output on quick cells"


@pytest.mark.cloudline
def test_papermill_keeps_advice(cloudline_spec, workdir, tmp_path, monkeypatch):
    spec = cloudline_spec(dataset_size="1MB")
    (workdir / "data.bin").write_bytes(b"\2" * (5 * MiB))
    monkeypatch.setenv("JPY_SESSION_NAME", "read_data.ipynb")
    nb = run_notebook("read_data.ipynb", tmp_path / "out.ipynb", spec, workdir, path="data.bin")
    assert "dataset-size" in notebook_advice(nb)


@pytest.mark.cloudline
def test_stable_model_after_two_steady_runs(cloudline_spec, workdir, tmp_path, monkeypatch):
    spec = cloudline_spec(stable_runs="2")
    monkeypatch.setenv("JPY_SESSION_NAME", "stable_metrics.ipynb")
    first = run_notebook("stable_metrics.ipynb", tmp_path / "run1.ipynb", spec, workdir)
    assert "stable-model" not in notebook_advice(first), "one run is not a trend"
    second = run_notebook("stable_metrics.ipynb", tmp_path / "run2.ipynb", spec, workdir)
    assert "stable-model" in notebook_advice(second)
