"""The proxy's CPU while idle with the cloudline comm open (the extension
connected): .venv/bin/python bench/comm_idle.py (needs make setup).
Prints the share of a core over 60 s and the kernel messages sent."""
import json, os, sys, time, uuid, psutil, tempfile
from jupyter_client import KernelManager
os.environ.setdefault("JUPYTER_PATH", os.path.join(os.path.dirname(__file__), "..", ".venv", "share", "jupyter"))
km = KernelManager(kernel_name="python3-cloudline")
km.start_kernel()
kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=60)
p = psutil.Process(km.provisioner.process.pid)
cid = uuid.uuid4().hex
kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": cid, "target_name": "cloudline", "data": {"v": 1}}))
n = 0; deadline = time.monotonic() + 10
while time.monotonic() < deadline and n < 2:
    m = kc.get_iopub_msg(timeout=10)
    if m["msg_type"] == "comm_msg": n += 1
t0 = p.cpu_times(); w0 = time.monotonic()
time.sleep(60)  # measuring window, not synchronisation
t1 = p.cpu_times(); w1 = time.monotonic()
cpu = (t1.user + t1.system) - (t0.user + t0.system)
kmsgs = 0
while True:
    try:
        m = kc.get_iopub_msg(timeout=0.1)
        if m["msg_type"] == "comm_msg" and m["content"]["data"].get("type") == "kernel": kmsgs += 1
    except Exception: break
print(f"idle proxy CPU with the comm open: {100*cpu/(w1-w0):.3f} % of a core over {w1-w0:.0f} s; kernel messages {kmsgs}")
kc.stop_channels(); km.shutdown_kernel(now=True)
