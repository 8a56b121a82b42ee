"""Every example notebook runs headless with papermill through the examples
kernelspec (installed by examples/install.sh with its lowered thresholds),
and the saved output notebook holds the advice the example is there to show.
At the end, `cloudline report` turns the history of these runs into a page
that marks every checkpoint as reached.
"""

from __future__ import annotations

import json
import math
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
    # The tqdm bar is in at most two pieces: cloudline splits it only where
    # its one note lands (the cell's own print may split it too).
    bar = [k for k, o in enumerate(outputs) if "training:" in o.get("text", "")]
    splits = [k for k, o in enumerate(outputs) if "cloudline" in o.get("metadata", {}) and bar[0] < k < bar[-1]]
    assert bar and len(splits) <= 1, f"the progress bar is split by cloudline outputs at {splits}"
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


# --- Every figure agrees: the note's headline, details and summary, its
# metadata (findings' evidence) and `cloudline history` write each number
# once and the same way (human.Bytes / human.Duration; this is their rule).
IEC = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]


def tenths(v: float) -> int:
    return int(math.floor(v * 10 + 0.5))


def tenths_text(t: int) -> str:
    return str(t // 10) if t % 10 == 0 else f"{t // 10}.{t % 10}"


def iec(n: int) -> str:
    """The bytes as the notes write them (human.Bytes)."""
    if n < 1024:
        return f"{n} B"
    v, i = float(n), -1
    while v >= 1024 and i < len(IEC) - 1:
        v, i = v / 1024, i + 1
    t = tenths(v)
    if t >= 10240 and i < len(IEC) - 1:
        t, i = tenths(v / 1024), i + 1
    return f"{tenths_text(t)} {IEC[i]}"


def dur(s: float) -> str:
    """The duration as the notes write it (human.Seconds), below a day."""
    if s <= 0:
        return "0s"
    if s < 1:
        t = tenths(s)
        return "0s" if t <= 0 else "1s" if t >= 10 else f"0.{t}s"
    n = int(math.floor(s))
    if n < 60:
        return f"{n}s"
    if n < 3600:
        return f"{n // 60}m {n % 60:02d}s"
    return f"{n // 3600}h {n % 3600 // 60:02d}m"


def history(env: Env) -> list[dict[str, Any]]:
    path = Path(os.environ["XDG_STATE_HOME"]) / "cloudline" / "history.jsonl"
    p = subprocess.run([str(env.cloudline()), "history", "--json", "--file", str(path)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def table(env: Env) -> str:
    path = Path(os.environ["XDG_STATE_HOME"]) / "cloudline" / "history.jsonl"
    p = subprocess.run([str(env.cloudline()), "history", "--last", "0", "--file", str(path)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def record_of(recs: list[dict[str, Any]], name: str, count: int) -> dict[str, Any]:
    mine = [r for r in recs if r.get("notebook") == name and r.get("execution_count") == count]
    assert mine, f"no history record of {name} [{count}]"
    return mine[-1]


@pytest.mark.parametrize("name", [n for n in CASES if n != "05-stable-model.ipynb"])
def test_figures_agree(examples: Runner, jupyter_env: Env, name: str) -> None:
    nb = examples.first(name)
    recs, rows = history(jupyter_env), table(jupyter_env)
    checked = 0
    for ci, _, out in advice_outputs(nb):
        note = out["data"]["application/vnd.cloudline.note+json"]
        text, md = out["data"]["text/plain"], out["data"]["text/markdown"]
        rec = record_of(recs, name, note["cell"]["execution_count"])
        peak, limit = max(rec["peak_rss_bytes"], rec["rss_bytes"]), rec["machine"]["mem_limit_bytes"]
        row = next((line for line in rows.splitlines() if name in line and f"[{note['cell']['execution_count']}] " in line), "")
        assert row, f"{name}: no history row for cell [{note['cell']['execution_count']}]:\n{rows}"
        if note["status"] and note["status"]["state"] != "running":
            # The closing summary: wall time, peak against the limit, data read.
            summary = note["status"]["text"]
            figures = {"finished in ": dur(rec["wall_s"]), "peak memory ": f"{iec(peak)} of {iec(limit)}",
                       "read ": iec(rec["read_bytes"])}
            for word, figure in figures.items():
                assert word + figure in summary, f"{name}: summary {summary!r} lacks {word + figure!r} (history {rec})"
                assert f"  {figure} " in row, f"{name}: history row {row!r} lacks {figure!r}"
            assert note["status"]["text"] in text and dur(rec["wall_s"]) in md
            checked += 1
        for f in out["metadata"]["cloudline"]["findings"]:
            ev, headline = f["evidence"], next(x["headline"] for x in note["findings"] if x["rule"] == f["rule"])
            if f["rule"] == "memory-pressure":
                assert ev["peak_rss_bytes"] == peak, f"{name}: memory-pressure peak {ev} is not the cell's {peak}"
                assert f"{iec(peak)} of {iec(limit)}" in headline, headline
                line = iec(int(ev["memory_fraction"] * ev["mem_limit_bytes"]))
                assert f"pressure line at {line} (memory_fraction 0.0" in headline, headline
                checked += 1
            if f["rule"] == "dataset-size":
                assert f"({iec(ev['data_bytes'])})" in headline and "limit of 4MB" in headline, headline
                assert ev["read_bytes"] == rec["read_bytes"], f"{name}: dataset-size read {ev} vs history {rec}"
                checked += 1
            if f["rule"] in ("long-training", "projected-training"):
                key = "wall_s" if f["rule"] == "long-training" else "projected_s"
                assert dur(ev[key]) in headline and "the 3s limit" in headline, (headline, ev)
                checked += 1
        assert rec["status"] == "ok" and f"cloudline · [{note['cell']['execution_count']}]" in text
    if name in ("02-long-training.ipynb", "03-oversized-dataset.ipynb", "04-memory-pressure.ipynb"):
        assert checked >= 2, f"{name}: only {checked} figures compared"
