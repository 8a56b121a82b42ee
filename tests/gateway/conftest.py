"""Jupyter Enterprise Gateway 3.3 (from .venv-gateway) serving cloudline
kernelspecs in a private Jupyter environment: local mode (the default local
process proxy, `cloudline kernel`) and distributed mode (the SSH process
proxy, `cloudline launch` on the "remote" host 127.0.0.2, an sshd this
module starts on a free port with keys it generates, and stops)."""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

from gwclient import Gateway

REPO = Path(__file__).resolve().parents[2]
GATEWAY_BIN = REPO / ".venv-gateway" / "bin"
SSHD = "/usr/sbin/sshd"
# The "remote" host: a loopback address jupyter_client does not count as
# local (its LOCAL_IPS hold 127.0.0.1 only), so the gateway really goes
# through SSH; Linux routes all of 127/8 to the loopback interface.
REMOTE = "127.0.0.2"
# The settings the notes are checked against: a cell past 2 s is long
# training; memory over 5 % of the limit is pressure (100 MiB of 2 GiB).
CULL_IDLE = 8
LINGER_FLAG = "linger-done"
SETTINGS = ["training_time=2s", "live_after=1h", "memory_fraction=0.05", "cooldown=0"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(cond, timeout: float, what: str, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


class Env:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.prefix = root / "prefix"
        self.logs = root / "logs"
        self.state = root / "state"
        for d in (self.home / ".ssh", self.prefix, self.logs, self.state, root / "data", root / "runtime", root / "config"):
            d.mkdir(parents=True, exist_ok=True)
        self.cloudline = root / "bin" / "cloudline"
        self.kernels = self.prefix / "share" / "jupyter" / "kernels"

    def environ(self) -> dict[str, str]:
        """What the gateway (and through it every kernel) runs with: only
        private directories, and nothing the gateway's SSH command line
        could misquote."""
        return {
            "PATH": f"{GATEWAY_BIN}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "JUPYTER_PATH": str(self.prefix / "share" / "jupyter"),
            "JUPYTER_DATA_DIR": str(self.root / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.root / "runtime"),
            "JUPYTER_CONFIG_DIR": str(self.root / "config"),
            "XDG_STATE_HOME": str(self.state),
            "TMPDIR": str(self.root),
        }

    def build(self) -> None:
        r = run(["go", "build", "-o", str(self.cloudline), "./cmd/cloudline"], cwd=REPO)
        assert r.returncode == 0, r.stderr

    def install(self, name: str, *extra: str) -> Path:
        args = [str(self.cloudline), "install", "--prefix", str(self.prefix), "--python", sys.executable,
                "--name", name]
        for s in SETTINGS:
            args += ["--set", s]
        r = run(args + list(extra), env={**os.environ, "JUPYTER_PATH": "", "JUPYTER_DATA_DIR": str(self.root / "data")})
        assert r.returncode == 0, r.stderr
        return self.kernels / name


@pytest.fixture(scope="session")
def env(tmp_path_factory) -> Env:
    if not (GATEWAY_BIN / "jupyter-enterprisegateway").exists():
        pytest.fail("no .venv-gateway: run make gateway-venv (make test-gateway does)")
    e = Env(tmp_path_factory.mktemp("gw"))
    e.build()
    e.install("cl-local")
    spec_dir = e.install("cl-ssh", "--gateway", "distributed")
    # Listen on the "remote" host's address only (the default, 0.0.0.0, is
    # what a real remote host wants; tests stay on loopback).
    spec = json.loads((spec_dir / "kernel.json").read_text())
    spec["argv"][2:2] = ["--ip", REMOTE]
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    # The same, started by a parent that lives on until told (LINGER_FLAG
    # appears), then exits: cloudline launch must not take that for the
    # gateway going away.
    linger = e.root / "linger.sh"
    linger.write_text(f'#!/bin/sh\n"{e.cloudline}" "$@" &\nwhile [ ! -e "{e.root / LINGER_FLAG}" ]; do sleep 0.1; done\n')
    linger.chmod(0o755)
    spec["argv"][0] = str(linger)
    (e.kernels / "cl-ssh-linger").mkdir()
    (e.kernels / "cl-ssh-linger" / "kernel.json").write_text(json.dumps(spec, indent=1))
    return e


class Sshd:
    def __init__(self, env: Env) -> None:
        d = env.root / "sshd"
        d.mkdir()
        self.dir = d
        self.key = env.home / ".ssh" / "id_ed25519"
        for path in (d / "host_key", self.key):
            r = run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cloudline-test", "-f", str(path)])
            assert r.returncode == 0, r.stderr
        (d / "authorized_keys").write_text(Path(f"{self.key}.pub").read_text())
        self.port = free_port(REMOTE)
        (d / "sshd_config").write_text("\n".join([
            f"Port {self.port}", f"ListenAddress {REMOTE}", f"HostKey {d / 'host_key'}",
            f"AuthorizedKeysFile {d / 'authorized_keys'}", f"PidFile {d / 'sshd.pid'}",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
            "PermitRootLogin prohibit-password", "StrictModes no", "LogLevel ERROR", "",
        ]))
        host_pub = Path(f"{d / 'host_key'}.pub").read_text().split()
        self.known_hosts = env.home / ".ssh" / "known_hosts"
        self.known_hosts.write_text(f"[{REMOTE}]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        self.log = open(d / "sshd.log", "w")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self._listening, 30, "sshd to listen")

    def _listening(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"sshd exited {self.proc.returncode}: {(self.dir / 'sshd.log').read_text()}")
        try:
            socket.create_connection((REMOTE, self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def ssh(self, command: str) -> subprocess.CompletedProcess:
        return run(["ssh", "-p", str(self.port), "-i", str(self.key), "-o", "BatchMode=yes",
                    "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                    f"{getpass.getuser()}@{REMOTE}", command])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="session")
def sshd(env: Env) -> Iterator[Sshd]:
    if not os.path.exists(SSHD):
        pytest.fail(f"{SSHD} missing: install openssh-server (.ci/run does)")
    if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
        os.makedirs("/run/sshd", mode=0o755)  # sshd's privilege separation dir, made by its service normally
    s = Sshd(env)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def gateway(env: Env, sshd: Sshd) -> Iterator[Gateway]:
    port = free_port()
    environ = env.environ() | {
        "EG_RESPONSE_IP": "127.0.0.1",
        "EG_RESPONSE_PORT": str(free_port()),
        "EG_REMOTE_HOSTS": REMOTE,
        "EG_SSH_PORT": str(sshd.port),
        "EG_REMOTE_USER": getpass.getuser(),
        "EG_KERNEL_LOG_DIR": str(env.logs),
        "EG_KERNEL_LAUNCH_TIMEOUT": "90",
        # The gateway hands kernels only KERNEL_* and these variables: the
        # private state dir (history) and temp dir, and a PATH.
        "EG_INHERITED_ENVS": "PATH,XDG_STATE_HOME,TMPDIR",
    }
    log = open(env.root / "gateway.log", "w")
    proc = subprocess.Popen(
        [str(GATEWAY_BIN / "jupyter-enterprisegateway"), "--ip=127.0.0.1", f"--port={port}", "--port_retries=0",
         "--EnterpriseGatewayApp.allowed_kernels=['cl-local','cl-ssh','cl-ssh-linger']", "--log-level=DEBUG",
         # Idle culling: kernels without a client, idle for CULL_IDLE
         # seconds, go (every test but the culling one keeps a client).
         f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE}", "--MappingKernelManager.cull_interval=1"],
        env=environ, stdout=log, stderr=subprocess.STDOUT, cwd=env.root)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"gateway exited {proc.returncode}: {(env.root / 'gateway.log').read_text()[-3000:]}")
        try:
            return requests.get(f"{url}/api/kernelspecs", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, 60, "the gateway to serve")
    yield Gateway(url)
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()

