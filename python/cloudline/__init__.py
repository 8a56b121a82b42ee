"""cloudline: a Jupyter kernel that says, in the notebook, when the work has outgrown the laptop.

The package holds the ``cloudline`` program (a static Go binary, installed in
the environment's ``bin``) and the JupyterLab extension. This module only
finds the binary, so that ``python -m cloudline`` works where ``bin`` is not
on PATH.
"""

import os
import shutil
import sysconfig

__version__ = "0.1.0"

__all__ = ["__version__", "binary_path"]


def binary_path():
    """Return the path of the cloudline binary installed with this package.

    It is found through the package's own record of installed files (so the
    user scheme and ``--prefix`` installs are found too), then in this
    interpreter's scripts directory, then on PATH.
    """
    try:
        from importlib.metadata import PackageNotFoundError, distribution

        files = distribution("cloudline").files or []
    except PackageNotFoundError:
        files = []
    for f in files:
        if f.name == "cloudline" and f.parent.name == "bin":
            path = os.path.abspath(str(f.locate()))
            if os.path.isfile(path):
                return path
    path = os.path.join(sysconfig.get_path("scripts"), "cloudline")
    if os.path.isfile(path):
        return path
    path = shutil.which("cloudline")
    if path:
        return path
    raise FileNotFoundError(
        "the cloudline binary is not installed with this package "
        "(reinstall it with pip install --force-reinstall cloudline)"
    )
