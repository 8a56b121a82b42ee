"""Where the kernel runs (issue 17), through the real ipykernel: inside a
cloud job nothing is posted and the history still says where each cell
ran; elsewhere the same cell gets its advice."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernelutil import advice_rules, running_kernel, run_ok, wait_history

pytestmark = pytest.mark.cloudline

CELL = "with open('data.bin', 'rb') as f:\n    n = len(f.read())\nprint(n)"


def run_dataset_cell(spec: str, workdir: Path, env: dict[str, str]):
    (workdir / "data.bin").write_bytes(b"\1" * 100_000)
    with running_kernel(spec, cwd=workdir, env=env) as (_, kc):
        cell = run_ok(kc, CELL)
    assert cell.stream().strip() == "100000"
    return cell, wait_history([cell.msg_id])[cell.msg_id]


def test_inside_an_azure_ml_job_history_only(cloudline_spec, workdir, notebook_name):
    spec = cloudline_spec(dataset_size="1kB")
    # The same spec and cell outside a job: the dataset note (the control).
    cell, _ = run_dataset_cell(spec, workdir, {"JPY_SESSION_NAME": "control-" + notebook_name})
    assert "dataset-size" in advice_rules(cell.msgs)

    cell, rec = run_dataset_cell(spec, workdir, {"JPY_SESSION_NAME": notebook_name, "AZUREML_RUN_ID": "frosty_owl_1x2y"})
    assert advice_rules(cell.msgs) == []
    assert [m for m in cell.msgs if (m["content"].get("metadata") or {}).get("cloudline")] == []
    assert rec["where"] == {"kind": "job", "cloud": "azure"}
    assert rec["code_bytes"] == 100_000  # measured as ever
    assert rec.get("advice") in (None, [])


def test_sagemaker_job_records_its_instance_type(cloudline_spec, workdir, notebook_name):
    spec = cloudline_spec()
    env = {"JPY_SESSION_NAME": notebook_name, "TRAINING_JOB_NAME": "train-1",
           "SM_TRAINING_ENV": '{"current_instance_type": "ml.g5.xlarge"}'}
    _, rec = run_dataset_cell(spec, workdir, env)
    assert rec["where"] == {"kind": "job", "cloud": "aws", "instance": "ml.g5.xlarge"}


def test_last_long_run_forecast_before_any_output(cloudline_spec, workdir, notebook_name):
    """A cell whose last run took 2 h gets projected-training as it starts:
    the cell prints nothing until that note has arrived."""
    import datetime as dt
    import hashlib
    import json

    from kernelutil import advice, hold_code, history_file, release_when, run_cell

    spec = cloudline_spec()
    flag = workdir / "release"
    code = hold_code(flag, "# train the model")
    ended = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    past = {
        "session": "earlier", "notebook": notebook_name, "msg_id": "earlier-1", "status": "ok",
        "code_hash": hashlib.sha256(code.encode()).hexdigest()[:16], "first_line": "# train the model",
        "requested": (ended - dt.timedelta(hours=2)).isoformat(), "ended": ended.isoformat(), "wall_s": 7200.0,
        "peak_rss_bytes": 3 << 30, "machine": {"cores": 2, "mem_limit_bytes": 8 << 30},
    }
    history_file().parent.mkdir(parents=True, exist_ok=True)
    with history_file().open("a") as f:
        f.write(json.dumps(past) + "\n")
    with running_kernel(spec, cwd=workdir, env={"JPY_SESSION_NAME": notebook_name}) as (_, kc):
        cell = run_cell(kc, code, on_msg=release_when(flag, lambda m: bool(advice([m], "projected-training"))))
    notes = advice(cell.msgs, "projected-training")
    assert len(notes) == 1, advice_rules(cell.msgs)
    first_output = next(i for i, m in enumerate(cell.msgs) if m["msg_type"] == "stream")
    assert cell.msgs.index(notes[0]) < first_output
    text = notes[0]["content"]["data"]["text/plain"]
    assert "took 2h 00m" in text and "2 days ago" in text, text
    assert "cloudline job" in text and notebook_name in text, text
