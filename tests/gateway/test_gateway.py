"""cloudline as a kernel of Enterprise Gateway 3.3, driven through the
gateway's REST and websocket API: local mode (`cl-local`, the gateway's
default local process proxy) and distributed mode (`cl-ssh`, the SSH
process proxy and `cloudline launch` on 127.0.0.2). Each: a note in the
cell, interrupt through the gateway's signal path, restart, shutdown, and
no process left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import CULL_IDLE, LINGER_FLAG, REMOTE, run, wait_until
from gwclient import Kernel

MODES = ["cl-local", "cl-ssh"]
# The gateway refuses kernels for root unless KERNEL_USERNAME names
# another user; KERNEL_MEMORY is the kernel's resource request (a pod's
# memory request on Kubernetes), here set by the client.
USER_ENV = {"KERNEL_USERNAME": "cloudline-test", "KERNEL_MEMORY": "2Gi"}


def gone(pid: int) -> bool:
    """The process has exited (a zombie nobody reaps counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def processes_mentioning(text: str) -> list[str]:
    found = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            cmdline = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and not gone(int(p.name)):
            found.append(f"{p.name}: {cmdline}")
    return found


def pids(k: Kernel) -> tuple[int, int]:
    """The wrapped ipykernel's pid and its parent's (cloudline's)."""
    cell = k.execute("import os; print(os.getpid(), os.getppid())")
    assert cell.status == "ok", cell.reply
    child, parent = map(int, cell.stdout.split())
    return child, parent


@pytest.fixture(scope="module", params=MODES)
def kernel(request, gateway):
    k = gateway.start(request.param, USER_ENV)
    k.mode = request.param
    k.connect()
    k.wait_ready()
    yield k
    if gateway.has_kernel(k.id):
        k.shutdown()


def test_runs_under_cloudline(kernel, env):
    child, parent = pids(kernel)
    cmdline = Path(f"/proc/{parent}/cmdline").read_bytes().split(b"\0")
    assert Path(cmdline[0].decode()).name == "cloudline", cmdline
    want = b"launch" if kernel.mode == "cl-ssh" else b"kernel"
    assert cmdline[1] == want, cmdline
    if kernel.mode == "cl-ssh":
        # launched through sshd, in a session of its own, on the remote address
        assert b"--ip" in cmdline and REMOTE.encode() in cmdline
        assert os.getsid(parent) == parent


def test_note_in_cell(kernel, env):
    cell = kernel.execute("import time; time.sleep(3)")
    assert cell.status == "ok", cell.reply
    # long-training, or projected-training when the history (the other
    # mode's run of the same cell) already says it will pass the line
    assert cell.rules() & {"long-training", "projected-training"}, cell.iopub


def test_memory_judged_against_kernel_memory(kernel):
    """300 MiB is past 5 % (memory_fraction) of KERNEL_MEMORY=2Gi, and far
    from 5 % of this machine's RAM: the note is about the 2 GiB."""
    cell = kernel.execute("blob = b'x' * (300 << 20)\ndel blob")
    assert cell.status == "ok", cell.reply
    assert "memory-pressure" in cell.rules(), cell.iopub
    text = cell.text()
    assert "of 2 GiB" in text or "of 2.0 GiB" in text, text
    assert "KERNEL_MEMORY=4Gi" in text, text
    evidence = [f.get("evidence") or {} for m in cell.notes()
                for f in m["content"]["metadata"]["cloudline"].get("findings", [])]
    assert any(e.get("mem_limit_bytes") == 2 << 30 for e in evidence), evidence


def test_interrupt(kernel):
    cell = kernel.execute("import time\nprint('ready', flush=True)\ntime.sleep(120)",
                          until=lambda c: "ready" in c.stdout)
    kernel.post("interrupt")
    kernel.collect(cell, timeout=60)
    assert cell.status == "error", cell.reply
    assert cell.reply["content"]["ename"] == "KeyboardInterrupt", cell.reply
    after = kernel.execute("print('still here')")
    assert after.stdout == "still here\n"


def test_restart(kernel):
    assert kernel.execute("x = 41").status == "ok"
    old = pids(kernel)
    kernel.post("restart")
    kernel.connect()  # a remote kernel's ports change with the restart
    kernel.wait_ready()
    new = pids(kernel)
    assert set(new).isdisjoint(old), (old, new)
    wait_until(lambda: all(gone(p) for p in old), 30, f"old kernel processes {old} to exit")
    cell = kernel.execute("x + 1")
    assert cell.status == "error" and cell.reply["content"]["ename"] == "NameError", cell.reply


def test_shutdown_leaves_nothing(kernel, gateway, env):
    procs = pids(kernel)
    kernel.shutdown()
    wait_until(lambda: all(gone(p) for p in procs), 30, f"kernel processes {procs} to exit")
    assert not gateway.has_kernel(kernel.id)
    wait_until(lambda: not processes_mentioning(kernel.id), 30, f"no process naming kernel {kernel.id}")
    # the history lands where the kernel ran (both "hosts" are this one)
    history = env.state / "cloudline" / "history.jsonl"
    assert history.exists() and "time.sleep(3)" in history.read_text(), "no history of the cells"


def test_idle_kernel_culled(gateway):
    """The gateway's idle culling ends an idle kernel nobody is connected
    to, and its processes with it."""
    k = gateway.start("cl-local", USER_ENV)
    k.connect()
    k.wait_ready()
    procs = pids(k)
    k.close_ws()
    wait_until(lambda: not gateway.has_kernel(k.id), CULL_IDLE + 60, f"kernel {k.id} to be culled")
    wait_until(lambda: all(gone(p) for p in procs), 30, f"culled kernel processes {procs} to exit")


def ppid_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_launch_outlives_its_parent(gateway, env):
    """Over SSH the launcher's parent (the gateway's nohup shell) exits
    while the kernel runs on: the kernel must go on serving. Here the
    parent is alive when cloudline starts and exits once the kernel is up."""
    k = gateway.start("cl-ssh-linger", USER_ENV)
    k.connect()
    k.wait_ready()
    child, launcher = pids(k)
    parent = ppid_of(launcher)
    assert Path(f"/proc/{parent}/cmdline").read_bytes().split(b"\0")[1].endswith(b"linger.sh")
    (env.root / LINGER_FLAG).touch()
    wait_until(lambda: gone(parent), 30, "the launcher's parent to exit")
    # Longer than cloudline's parent poll (1 s) and its grace (2 s): a
    # kernel that watched this parent would be stopped during the cell.
    cell = k.execute("import time; time.sleep(4); print('alive')", timeout=60)
    assert cell.status == "ok" and cell.stdout == "alive\n", cell.reply
    assert not gone(launcher) and not gone(child)
    k.shutdown()
    wait_until(lambda: gone(child) and gone(launcher), 30, "the kernel's processes to exit")


def test_bad_launcher_arguments_local(env):
    spec = json.loads((env.kernels / "cl-local" / "kernel.json").read_text())
    argv = [a.replace("{connection_file}", str(env.root / "missing.json")).replace("{resource_dir}", str(env.kernels / "cl-local"))
            for a in spec["argv"]]
    r = run(argv)
    assert r.returncode == 2, r
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("cloudline kernel: "), r.stderr


def test_bad_launcher_arguments_remote(env, sshd):
    """The distributed kernelspec's argv with a bad public key, run on the
    remote host over SSH: one line, status 2, nothing left running."""
    spec = json.loads((env.kernels / "cl-ssh" / "kernel.json").read_text())
    fill = {"{kernel_id}": "0d5f1c3e-52c5-4c0e-9d1d-3e1f5b6a7c8d", "{response_address}": "127.0.0.1:9",
            "{public_key}": "bm90LWEta2V5", "{port_range}": "0..0", "{resource_dir}": str(env.kernels / "cl-ssh")}
    argv = []
    for a in spec["argv"]:
        for k, v in fill.items():
            a = a.replace(k, v)
        argv.append(a)
    r = sshd.ssh(" ".join(argv))
    assert r.returncode == 2, r
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("cloudline launch: public key"), r.stderr
    assert not processes_mentioning(fill["{kernel_id}"])
