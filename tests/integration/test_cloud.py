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
