"""The private Jupyter environments of a peer run: one with the plain
ipykernel's kernelspec named python3, one with cloudline's named python3
(wrapping that same plain spec), each in its own JUPYTER_PATH, and the
per-run directories (data, config, runtime, state, IPython, HOME) that keep
the tests off the user's own.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

# Variables a run must not inherit: cloudline reads CLOUDLINE_<KEY> as
# configuration, jupyter_server's session name would name the notebook, and
# a stray JUPYTER_* from the caller would add kernelspecs or config.
SCRUBBED_PREFIXES = ("CLOUDLINE_", "JPY_", "JUPYTER_", "IPYTHON")

PRIVATE_DIRS = {
    "JUPYTER_DATA_DIR": "data",
    "JUPYTER_CONFIG_DIR": "config",
    "JUPYTER_RUNTIME_DIR": "runtime",
    "XDG_STATE_HOME": "state",
    "XDG_RUNTIME_DIR": "xdg-runtime",
    "XDG_CONFIG_HOME": "xdg-config",
    "XDG_CACHE_HOME": "xdg-cache",
    "IPYTHONDIR": "ipython",
    "MPLCONFIGDIR": "mpl",
    "HOME": "home",
}

KERNELS = ("plain", "cloudline")


def install_specs(root: Path, python: Path, cloudline: Path) -> dict[str, Path]:
    """Install both python3 kernelspecs under root; returns kernel -> JUPYTER_PATH."""
    paths = {k: root / k / "share" / "jupyter" for k in KERNELS}
    subprocess.run(
        [str(python), "-m", "ipykernel", "install", "--prefix", str(root / "plain")],
        check=True, capture_output=True, text=True, env=_clean(os.environ),
    )
    env = _clean(os.environ)
    env["JUPYTER_PATH"] = str(paths["plain"])
    env["HOME"] = str(root)  # no user kernelspec can be the one wrapped
    p = subprocess.run(
        [str(cloudline), "install", "--prefix", str(root / "cloudline"), "--name", "python3",
         "--wrap", "python3", "--python", str(python)],
        capture_output=True, text=True, env=env,
    )
    if p.returncode != 0:
        raise RuntimeError(f"cloudline install failed ({p.returncode}): {p.stderr.strip()}")
    for kernel, path in paths.items():
        spec = json.loads((path / "kernels" / "python3" / "kernel.json").read_text())
        is_cloudline = "cloudline_wraps" in spec.get("metadata", {})
        if is_cloudline != (kernel == "cloudline"):
            raise RuntimeError(f"the {kernel} python3 kernelspec in {path} is the wrong kind")
    return paths


def run_env(root: Path, jupyter_path: Path) -> dict[str, str]:
    """The environment of one pytest run: fresh private dirs under root."""
    env = _clean(os.environ)
    for var, sub in PRIVATE_DIRS.items():
        d = root / sub
        d.mkdir(parents=True, exist_ok=True)
        if var == "XDG_RUNTIME_DIR":
            d.chmod(0o700)
        env[var] = str(d)
    env["JUPYTER_PATH"] = str(jupyter_path)
    env["TMPDIR"] = str(root / "tmp")
    (root / "tmp").mkdir(exist_ok=True)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # debugpy's frozen-modules warning
    return env


def _clean(environ: os._Environ[str] | dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
