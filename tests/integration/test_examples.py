"""Every example notebook runs headless with papermill through the examples
kernelspec (installed by examples/install.sh with its lowered thresholds),
and the saved output notebook holds the advice the example is there to show.
At the end, `cloudline report` turns the history of these runs into a page
that marks every checkpoint as reached.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from conftest import REPO, Env

pytestmark = pytest.mark.cloudline

EXAMPLES = REPO / "examples"
SPEC = "cloudline-examples"
RUN_TIMEOUT = 180  # seconds for one papermill run; the examples take a few

# Each example: the rules its saved notebook must hold, and the rules that
# belong to other examples and must not appear in it. parallel-load and
# projected-training are left out of the second list on purpose: they depend
# on what else the machine runs and on timing, and so does long-training
# (a slow machine may take 3 s over an ordinary cell).
CASES: dict[str, set[str]] = {
    "01-sensitive-data.ipynb": {"sensitive-data"},
    # One training note: projected-training when a progress bar projects
    # past training_time before it passes, else long-training.
    "02-long-training.ipynb": {"long-training|projected-training"},
    "03-oversized-dataset.ipynb": {"dataset-size"},
    "04-memory-pressure.ipynb": {"memory-pressure"},
    "05-stable-model.ipynb": {"stable-model"},  # on the second run
    "06-local-serving.ipynb": {"local-serving"},
}
OTHERS = {"sensitive-data", "dataset-size", "memory-pressure", "stable-model", "local-serving"}


def advice_outputs(nb: Any) -> list[tuple[int, int, dict[str, Any]]]:
    """(cell index, output index, output) of each cloudline note saved."""
    found = []
    for ci, cell in enumerate(nb.cells):
        for oi, out in enumerate(cell.get("outputs", [])):
            meta = out.get("metadata", {}).get("cloudline", {})
            if out.get("output_type") == "display_data" and isinstance(meta, dict) and meta:
                found.append((ci, oi, out))
    return found


def rules_of(nb: Any) -> set[str]:
    return {r for _, _, out in advice_outputs(nb) for r in out["metadata"]["cloudline"].get("rules", [])}


def finding(out: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(f for f in out["metadata"]["cloudline"]["findings"] if f["rule"] == rule)


class Runner:
    """Runs the examples with papermill, each notebook under its own name
    (JPY_SESSION_NAME, as jupyter_server sets it), in one working dir."""

    def __init__(self, env: Env, root: Path) -> None:
        self.env = env
        self.work = root / "work"
        self.out = root / "out"
        self.work.mkdir()
        self.out.mkdir()
        self.runs: dict[str, list[Any]] = {}

    def run(self, name: str) -> Any:
        n = len(self.runs.setdefault(name, [])) + 1
        out = self.out / f"{Path(name).stem}-run{n}.ipynb"
        env = dict(os.environ, JPY_SESSION_NAME=name)
        p = subprocess.run(
            [sys.executable, "-m", "papermill", "--no-progress-bar", "-k", SPEC,
             "--cwd", str(self.work), str(EXAMPLES / name), str(out)],
            env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
        )
        assert p.returncode == 0, f"papermill {name} failed ({p.returncode}):\n{p.stderr[-3000:]}"
        nb = nbformat.read(out, as_version=4)
        self.runs[name].append(nb)
        return nb

    def first(self, name: str) -> Any:
        return self.runs[name][0] if self.runs.get(name) else self.run(name)


@pytest.fixture(scope="module")
def examples(jupyter_env: Env, tmp_path_factory: pytest.TempPathFactory) -> Runner:
    cloudline = jupyter_env.cloudline()
    p = subprocess.run(
        ["bash", str(EXAMPLES / "install.sh"), "--prefix", str(jupyter_env.root)],
        env=dict(os.environ, CLOUDLINE=str(cloudline)), capture_output=True, text=True,
    )
    assert p.returncode == 0, f"examples/install.sh failed: {p.stderr}"
    spec = json.loads((jupyter_env.kernels / SPEC / "kernel.json").read_text())
    assert spec["display_name"] == "Python 3 (cloudline, example thresholds)"
    assert spec["metadata"]["cloudline"]["training_time"] == "3s"
    return Runner(jupyter_env, tmp_path_factory.mktemp("examples"))


def test_every_example_is_covered() -> None:
    on_disk = {p.name for p in EXAMPLES.glob("*.ipynb")}
    assert on_disk == set(CASES), "add new examples to CASES (and examples/README.md)"
    for name in on_disk:
        nb = nbformat.read(EXAMPLES / name, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == SPEC, name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{name} is committed with outputs"


@pytest.mark.parametrize("name", [n for n in CASES if n != "05-stable-model.ipynb"])
def test_example_advice(examples: Runner, name: str) -> None:
    nb = examples.first(name)
    got = rules_of(nb)
    missing = [want for want in CASES[name] if not set(want.split("|")) & got]
    assert not missing, f"{name}: advice {sorted(missing)} not saved (got {sorted(got)})"
    stray = (got & OTHERS) - {r for want in CASES[name] for r in want.split("|")}
    assert not stray, f"{name}: advice {sorted(stray)} belongs to other examples"
    cells = [ci for ci, _, _ in advice_outputs(nb)]
    assert len(cells) == len(set(cells)), f"{name}: a cell has more than one cloudline output"
    for _, _, out in advice_outputs(nb):
        data = out["data"]
        assert data.get("text/markdown", "").strip() and data.get("text/plain", "").strip()
        assert data["application/vnd.cloudline.note+json"]["v"] == 1


def test_long_training_is_live(examples: Runner) -> None:
    nb = examples.first("02-long-training.ipynb")
    training = {"long-training", "projected-training"}
    notes = [(ci, oi, out) for ci, oi, out in advice_outputs(nb)
             if training & set(out["metadata"]["cloudline"]["rules"])]
    assert len(notes) == 1, notes
    ci, oi, out = notes[0]
    rule = next(r for r in out["metadata"]["cloudline"]["rules"] if r in training)
    # projected-training is only ever posted live; long-training says so.
    assert finding(out, rule)["evidence"].get("running", True) is True, f"{rule} was not posted live"
    outputs = nb.cells[ci].outputs
    final = [i for i, o in enumerate(outputs) if o.get("output_type") == "stream" and "loss=" in o.get("text", "")]
    assert final and oi < final[0], "long-training arrived after the cell's final output"
    assert len([o for o in outputs if "cloudline" in o.get("metadata", {})]) == 1, "one note per cell"
    # The saved note is its final state: the status line became the summary.
    assert out["metadata"]["cloudline"].get("status") == "final", out["metadata"]
    assert "finished" in out["data"]["text/plain"], out["data"]["text/plain"]


def test_local_serving_names_the_port(examples: Runner) -> None:
    nb = examples.first("06-local-serving.ipynb")
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    port = int(re.search(r"model served on 127\.0\.0\.1:(\d+)", text).group(1))
    ports = [finding(out, "local-serving")["evidence"].get("ports", [])
             for _, _, out in advice_outputs(nb) if "local-serving" in out["metadata"]["cloudline"]["rules"]]
    assert any(port in p for p in ports), f"local-serving does not name port {port}: {ports}"


def test_stable_model_after_two_runs(examples: Runner) -> None:
    name = "05-stable-model.ipynb"
    first = examples.run(name)
    assert "stable-model" not in rules_of(first), "stable-model after a single run"
    second = examples.run(name)
    assert "stable-model" in rules_of(second), f"no stable-model on the second run (got {sorted(rules_of(second))})"


def test_report_reaches_every_checkpoint(examples: Runner, jupyter_env: Env, tmp_path: Path) -> None:
    for name in CASES:
        examples.first(name)
    history = Path(os.environ["XDG_STATE_HOME"]) / "cloudline" / "history.jsonl"
    assert history.exists(), "the example runs wrote no history"
    page = tmp_path / "report.html"
    p = subprocess.run(
        [str(jupyter_env.cloudline()), "report", "--file", str(history), "-o", str(page)],
        capture_output=True, text=True,
    )
    assert p.returncode == 0, p.stderr
    html = page.read_text()
    for name in CASES:
        assert f"<h2>{name}</h2>" in html, f"no section for {name}"
    reached = set(re.findall(r'data-checkpoint="(\w+)" data-reached="true"', html))
    assert reached == {"compliance", "storage", "compute", "stability"}, reached
