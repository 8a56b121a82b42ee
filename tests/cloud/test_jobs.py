"""`cloudline job` output, checked offline by each cloud's own client library.

Runs with .venv-cloud (requirements-cloud.txt): azure-ai-ml's load_job for
the Azure ML command job, botocore's parameter validation of SageMaker's
CreateTrainingJob for the AWS request, and google-cloud-aiplatform's
CustomJobSpec for the Vertex AI spec. Every example notebook gets a job of
each kind, from a history with a CPU run and, for one of them, a GPU run.
"""

import json
import os
import pathlib
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / "bin" / "cloudline"
PYTHON = ROOT / ".venv" / "bin" / "python"  # the interpreter the examples run with
EXAMPLES = sorted((ROOT / "examples").glob("*.ipynb"))
GIB = 1 << 30


def record(nb, **kw):
    r = {"session": "s1", "notebook": str(nb), "status": "ok", "requested": "2026-12-01T10:00:00Z",
         "wall_s": 3000.0, "cpu_s": 5000.0, "peak_rss_bytes": 40 * GIB,
         "machine": {"cores": 8, "mem_limit_bytes": 48 * GIB}}
    r.update(kw)
    return r


@pytest.fixture
def workdir(tmp_path):
    for nb in EXAMPLES:
        shutil.copy(nb, tmp_path / nb.name)
    (tmp_path / "data" / "big").mkdir(parents=True)
    (tmp_path / "data" / "big" / "measurements.csv").write_text("sensor,reading,label\n1,0.5,0\n")
    return tmp_path


def write_history(tmp_path, nb, gpu):
    extra = {"code_paths": [{"path": "data/big/measurements.csv", "bytes": 30}], "code_bytes": 30}
    if gpu:
        extra["gpu"] = {"devices": 1, "mem_used_bytes": 12 * GIB, "mem_total_bytes": 16 * GIB, "util_percent": 95}
        extra["peak_rss_bytes"] = 6 * GIB
    hist = tmp_path / "history.jsonl"
    hist.write_text(json.dumps(record(tmp_path / nb, **extra)) + "\n")
    return hist


def cloudline_job(tmp_path, nb, cloud, gpu=False):
    hist = write_history(tmp_path, nb, gpu)
    out = tmp_path / f"{pathlib.Path(nb).stem}.{cloud}.job"
    env = dict(os.environ, JUPYTER_PATH=str(tmp_path / "jp"), JUPYTER_DATA_DIR=str(tmp_path / "jp"))
    res = subprocess.run([str(BIN), "job", str(tmp_path / nb), "--cloud", cloud, "--history", str(hist),
                          "--python", str(PYTHON), "-o", str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    return out


CASES = [(nb.name, False) for nb in EXAMPLES] + [("02-long-training.ipynb", True)]


@pytest.mark.parametrize("nb,gpu", CASES)
def test_azure_job_loads(workdir, nb, gpu):
    from azure.ai.ml import load_job

    path = cloudline_job(workdir, nb, "azure", gpu)
    job = load_job(source=str(path))
    assert job.type == "command"
    assert job.resources.instance_type == ("Standard_NC4as_T4_v3" if gpu else "Standard_E8s_v5")
    assert job.limits.timeout == 3600 * 2
    assert "-k python3" in job.command
    assert job.inputs["data_big_measurements_csv"].type == "uri_file"
    assert job.environment.conda_file["dependencies"][0] == "python=3.11"
    assert os.path.samefile(path.parent / job.code, workdir)  # relative to the job file


@pytest.mark.parametrize("nb,gpu", CASES)
def test_sagemaker_request_validates(workdir, nb, gpu):
    import botocore.session
    from botocore.validate import ParamValidator

    req = json.loads(cloudline_job(workdir, nb, "aws", gpu).read_text())
    op = botocore.session.get_session().get_service_model("sagemaker").operation_model("CreateTrainingJob")
    report = ParamValidator().validate(req, op.input_shape)
    assert not report.has_errors(), report.generate_report()
    itype = req["ResourceConfig"]["InstanceType"]
    assert itype == ("ml.g5.xlarge" if gpu else "ml.r5.2xlarge")
    # botocore does not check enums; the API does.
    assert itype in op.input_shape.members["ResourceConfig"].members["InstanceType"].enum
    assert "-k python3" in req["AlgorithmSpecification"]["ContainerArguments"][0]


@pytest.mark.parametrize("nb,gpu", CASES)
def test_vertex_spec_parses(workdir, nb, gpu):
    from google.cloud.aiplatform_v1.types import CustomJobSpec

    raw = yaml.safe_load(cloudline_job(workdir, nb, "gcp", gpu).read_text())
    spec = CustomJobSpec.from_json(json.dumps(raw))  # unknown fields are an error
    pool = spec.worker_pool_specs[0]
    assert pool.machine_spec.machine_type == ("g2-standard-4" if gpu else "n2-highmem-8")
    if gpu:
        assert pool.machine_spec.accelerator_type.name == "NVIDIA_L4"
        assert pool.machine_spec.accelerator_count == 1
    assert spec.scheduling.timeout.total_seconds() == 7200
    assert "-k python3" in pool.container_spec.args[0]


def table_names(pattern):
    import re

    return sorted(set(re.findall(pattern, (ROOT / "cloud" / "sizes.go").read_text())))


def test_sagemaker_sizes_are_training_instance_types():
    import botocore.session

    op = botocore.session.get_session().get_service_model("sagemaker").operation_model("CreateTrainingJob")
    enum = set(op.input_shape.members["ResourceConfig"].members["InstanceType"].enum)
    names = table_names(r'"aws", "(ml\.[a-z0-9.]+)"')
    assert len(names) > 20
    assert [n for n in names if n not in enum] == []


def test_vertex_accelerators_exist():
    from google.cloud.aiplatform_v1.types import AcceleratorType

    names = table_names(r'"(NVIDIA_[A-Z0-9_]+)"\)')
    assert names
    assert [n for n in names if n not in AcceleratorType.__members__] == []
