"""Session set-up for the integration tests: an isolated Jupyter environment
in a temp dir, the venv's python3 kernelspec (plus a message-interrupt
variant), and cloudline built once and installed as kernelspecs wrapping them.

The kernel under test is CLOUDLINE_TEST_KERNEL (default cloudline-test); set
it to python3 to run the same tests against the plain ipykernel. Tests that
need cloudline itself (history, advice) carry the `cloudline` marker and are
skipped against the plain kernel.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import kernelutil

REPO = Path(__file__).resolve().parents[2]
# Read once and removed from the environment, so kernels never see it
# (cloudline reads CLOUDLINE_<KEY> variables as configuration).
KERNEL_UNDER_TEST = os.environ.pop("CLOUDLINE_TEST_KERNEL", "cloudline-test")
PLAIN = KERNEL_UNDER_TEST in ("python3", "python3-msg")

ENV_DIRS = {
    "JUPYTER_PATH": "share/jupyter",
    "JUPYTER_DATA_DIR": "data",
    "JUPYTER_CONFIG_DIR": "config",
    "JUPYTER_RUNTIME_DIR": "runtime",
    "XDG_STATE_HOME": "state",
    "XDG_RUNTIME_DIR": "xdg-runtime",
    "IPYTHONDIR": "ipython",
    "MPLCONFIGDIR": "mpl",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not PLAIN:
        return
    skip = pytest.mark.skip(reason=f"CLOUDLINE_TEST_KERNEL={KERNEL_UNDER_TEST}: no cloudline")
    for item in items:
        if "cloudline" in item.keywords:
            item.add_marker(skip)


class Env:
    """The isolated Jupyter environment of the session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.kernels = root / "share" / "jupyter" / "kernels"
        self.bin = root / "bin" / "cloudline"
        self.python = Path(sys.executable)
        self._build_error: str | None = None
        self._built = False
        self._installed: dict[str, str] = {}

    def copy_python_specs(self) -> None:
        src = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3"
        dst = self.kernels / "python3"
        shutil.copytree(src, dst)
        spec = json.loads((dst / "kernel.json").read_text())
        spec["interrupt_mode"] = "message"
        spec["display_name"] += " (message interrupt)"
        msg = self.kernels / "python3-msg"
        shutil.copytree(src, msg)
        (msg / "kernel.json").write_text(json.dumps(spec, indent=1))

    def cloudline(self) -> Path:
        """Build cloudline once (a build failure fails every test needing it)."""
        if self._build_error:
            pytest.fail(self._build_error)
        if not self._built:
            p = subprocess.run(
                ["go", "build", "-o", str(self.bin), "./cmd/cloudline"],
                cwd=REPO, capture_output=True, text=True,
            )
            if p.returncode != 0:
                self._build_error = f"go build failed:\n{p.stderr}"
                pytest.fail(self._build_error)
            self._built = True
        return self.bin

    def install(self, name: str, wrap: str = "python3", settings: dict[str, Any] | None = None) -> str:
        """`cloudline install` a spec NAME wrapping WRAP into this env (once)."""
        args = [
            str(self.cloudline()), "install", "--prefix", str(self.root),
            "--python", str(self.python), "--name", name, "--wrap", wrap,
        ]
        for k, v in sorted((settings or {}).items()):
            args += ["--set", f"{k}={v}"]
        key = json.dumps(args)
        if self._installed.get(name) == key:
            return name
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode != 0:
            pytest.fail(f"{' '.join(args[1:])} failed ({p.returncode}): {p.stderr}")
        spec = self.kernels / name / "kernel.json"
        assert spec.exists(), f"cloudline install wrote no {spec}"
        self._installed[name] = key
        return name


@pytest.fixture(scope="session", autouse=True)
def jupyter_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("jupyter")
    saved = {k: os.environ.get(k) for k in [*ENV_DIRS, "JPY_SESSION_NAME"]}
    for var, sub in ENV_DIRS.items():
        d = root / sub
        d.mkdir(parents=True, exist_ok=True)
        if var == "XDG_RUNTIME_DIR":
            d.chmod(0o700)
        os.environ[var] = str(d)
    os.environ.pop("JPY_SESSION_NAME", None)
    env = Env(root)
    env.copy_python_specs()
    yield env
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def kernel_name(jupyter_env: Env) -> str:
    """The kernel under test (signal interrupts)."""
    if PLAIN:
        return KERNEL_UNDER_TEST
    return jupyter_env.install(KERNEL_UNDER_TEST, wrap="python3")


@pytest.fixture(scope="session")
def kernel_name_msg(jupyter_env: Env) -> str:
    """The kernel under test with interrupt_mode message."""
    if PLAIN:
        return "python3-msg"
    return jupyter_env.install("cloudline-msg", wrap="python3-msg")


@pytest.fixture(scope="session")
def cloudline_spec(jupyter_env: Env) -> Callable[..., str]:
    """Factory: install a cloudline spec with the given metadata.cloudline
    settings (strings as for --set) and return its name."""

    def make(**settings: Any) -> str:
        digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
        return jupyter_env.install(f"cloudline-t{digest}", wrap="python3", settings=settings)

    return make


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


@pytest.fixture
def notebook_name(request: pytest.FixtureRequest) -> str:
    """A notebook name unique to the test (JPY_SESSION_NAME for its kernel),
    so advice cool-downs of one test never silence another."""
    safe = "".join(c if c.isalnum() else "-" for c in request.node.name)
    return f"{safe}.ipynb"


@pytest.fixture
def fresh_kernel(kernel_name: str, workdir: Path, notebook_name: str):
    """A kernel of the kernel under test, for tests that change its state."""
    with kernelutil.running_kernel(
        kernel_name, cwd=workdir, env={"JPY_SESSION_NAME": notebook_name}
    ) as (km, kc):
        yield km, kc


@pytest.fixture(scope="module")
def shared_kernel(kernel_name: str, tmp_path_factory: pytest.TempPathFactory, request):
    """One kernel shared by a module's tests where kernel state doesn't matter."""
    cwd = tmp_path_factory.mktemp("shared-work")
    name = f"{request.module.__name__}.ipynb"
    with kernelutil.running_kernel(kernel_name, cwd=cwd, env={"JPY_SESSION_NAME": name}) as (
        km,
        kc,
    ):
        yield km, kc
