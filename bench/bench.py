"""Side-by-side benchmark of the plain ipykernel and the cloudline-wrapped
one (issue 5). Both run from the same interpreter and are driven through
jupyter_client in one run, alternating A B / B A round by round so drift of
the shared machine cancels. Prints a Markdown table of medians and ratios
(cloudline / plain) with the issue's targets. Run it through bench/run.sh,
which installs the cloudline spec into a throwaway Jupyter dir."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from queue import Empty

import psutil
from jupyter_client import KernelManager

import benchlib as bl

CELL_TIMEOUT = 600  # seconds: a stuck kernel fails the run instead of hanging it


class Kernel:
    """One started kernel and its blocking client."""

    def __init__(self, name, env=None, encryption=None):
        self.name = name
        t0 = time.perf_counter()
        self.km = KernelManager(kernel_name=name, **({"transport_encryption": encryption} if encryption else {}))
        self.km.start_kernel(**({"env": env} if env else {}))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.startup = self._first_kernel_info(t0)
        self.kc.wait_for_ready(timeout=60)  # iopub connected too (untimed)

    def _first_kernel_info(self, t0):
        """Seconds from t0 to the first kernel_info_reply."""
        deadline = t0 + 60
        while time.perf_counter() < deadline:
            msg_id = self.kc.kernel_info()
            sent = time.perf_counter()
            while time.perf_counter() - sent < 1:
                try:
                    reply = self.kc.get_shell_msg(timeout=0.05)
                except Empty:
                    continue
                if reply["parent_header"].get("msg_id") == msg_id:
                    return time.perf_counter() - t0
        raise RuntimeError(f"{self.name}: no kernel_info_reply within 60 s")

    @property
    def pid(self):
        """The launched process: cloudline for the wrapped spec."""
        return self.km.provisioner.pid

    def _until_idle(self, msg_id, on_output=None):
        while True:
            msg = self.kc.get_iopub_msg(timeout=CELL_TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            t = msg["msg_type"]
            if t == "status" and msg["content"]["execution_state"] == "idle":
                return
            if t == "error":
                raise RuntimeError(f"{self.name}: cell failed: {msg['content']['ename']}")
            if on_output is not None and t in ("stream", "display_data"):
                on_output(msg)

    def run(self, code, on_output=None):
        """Execute code; seconds from the request to both its reply and its
        idle. on_output gets each stream/display_data message, in order."""
        t0 = time.perf_counter()
        msg_id = self.kc.execute(code)
        self._until_idle(msg_id, on_output)
        while True:
            reply = self.kc.get_shell_msg(timeout=CELL_TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        dt = time.perf_counter() - t0
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{self.name}: {code[:40]!r}: {reply['content']['status']}")
        return dt

    def complete(self, code):
        """Seconds from a complete_request to its reply (idle drained after)."""
        t0 = time.perf_counter()
        msg_id = self.kc.complete(code, len(code))
        while True:
            reply = self.kc.get_shell_msg(timeout=CELL_TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        dt = time.perf_counter() - t0
        if not reply["content"]["matches"]:
            raise RuntimeError(f"{self.name}: no completions for {code!r}")
        self._until_idle(msg_id)
        return dt

    def open_comm(self):
        """Open the cloudline comm as the JupyterLab extension does, and wait
        for the kernel's first message on it."""
        comm_id = uuid.uuid4().hex
        self.kc.shell_channel.send(self.kc.session.msg(
            "comm_open", {"comm_id": comm_id, "target_name": "cloudline", "data": {"v": 1}}))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            msg = self.kc.get_iopub_msg(timeout=60)
            if msg["msg_type"] == "comm_msg" and msg["content"].get("comm_id") == comm_id:
                return
        raise RuntimeError(f"{self.name}: no message on the cloudline comm within 60 s")

    def stop(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)


def alternate(kernels, rounds, fn):
    """fn(kernel) for each kernel, A B then B A, for rounds; returns
    {name: [results]}."""
    out = {k.name: [] for k in kernels}
    for r in range(rounds):
        for k in kernels if r % 2 == 0 else kernels[::-1]:
            out[k.name].append(fn(k))
    return out


def bench_startup(names, rounds):
    def once(name):
        k = Kernel(name)
        k.stop()
        return k.startup
    out = {n: [] for n in names}
    for r in range(rounds):
        for n in names if r % 2 == 0 else names[::-1]:
            out[n].append(once(n))
    return out


def flood(k, code, collect, check):
    """Time one flooding cell, then check what arrived (raises on loss)."""
    got = []
    dt = k.run(code, lambda m: got.append(collect(m)))
    check(got, k.name)
    return dt


def trivial_sets(specs, sets, rounds, per_round, prepare=None):
    """Trivial cells on `sets` fresh sets of kernels, one kernel of each
    spec per set: within a set A B C / C B A round by round, as alternate
    does; the start order turns from set to set. specs: [(label,
    kernelspec, Kernel kwargs)]. One pair of kernels differs from the next
    by a few per cent whatever runs in them (where each process lands in
    memory and on the cores), so every figure pools its sets.
    prepare(label, kernel), when given, runs on each kernel after its
    warm-up. Returns ({label: [pooled seconds]}, [{label: [seconds]} per
    set])."""
    labels = [label for label, _, _ in specs]
    pooled = {label: [] for label in labels}
    per_set = []
    for i in range(sets):
        turn = i % len(specs)
        ks = {}
        try:
            for label, name, kw in specs[turn:] + specs[:turn]:
                ks[label] = Kernel(name, **kw)
            for label in labels:
                for _ in range(20):
                    ks[label].run("pass")
                if prepare is not None:
                    prepare(label, ks[label])
            one = {label: [] for label in labels}
            for r in range(rounds):
                for label in labels if r % 2 == 0 else labels[::-1]:
                    one[label] += [ks[label].run("pass") for _ in range(per_round)]
        finally:
            for k in ks.values():
                k.stop()
        for label in labels:
            pooled[label] += one[label]
        per_set.append(one)
    return pooled, per_set


def latency_rows(pooled, per_set, plain, cloud, what, targets=((50, 1.05),), note=""):
    """Rows of cloud's round trip against plain's, pooled over the sets;
    the note gives the sets' own p50 ratios."""
    note = (f"{note}; " if note else "") + (
        f"{len(pooled[cloud])} cells each over {len(per_set)} sets of kernels, "
        f"p50 ratio by set {bl.set_ratios(per_set, plain, cloud)}")
    return [bl.Row(f"{what} p{p}", "ms", bl.percentile(pooled[plain], p) * 1e3,
                   bl.percentile(pooled[cloud], p) * 1e3,
                   bl.Target("ratio", tgt) if tgt else None, note)
            for p, tgt in targets]


def extension_idle_cpu(cloud_name, idle_s):
    """The idle proxy's CPU with the cloudline comm open."""
    k = Kernel(cloud_name)
    try:
        k.open_comm()
        for _ in range(20):
            k.run("pass")
        proxy = psutil.Process(k.pid)
        c0, w0 = sum(proxy.cpu_times()[:2]), time.perf_counter()
        time.sleep(idle_s)  # the measuring window, not synchronisation
        return (sum(proxy.cpu_times()[:2]) - c0) / (time.perf_counter() - w0)
    finally:
        k.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cloud", default="cloudline-bench", help="the cloudline kernelspec")
    ap.add_argument("--plain", default="python3", help="the plain kernelspec")
    ap.add_argument("--quick", action="store_true", help="a fast smoke run: fewer rounds")
    ap.add_argument("--profile", metavar="DIR", help="write the cloudline kernel's CPU profile to DIR")
    ap.add_argument("--binary", default="bin/cloudline", help="for go tool pprof")
    ap.add_argument("--relay", metavar="KERNELSPEC",
                    help="also time trivial cells through this kernelspec, a bare byte relay "
                         "(bench/relay): the least any process between frontend and kernel costs")
    ap.add_argument("--cloud-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment of the measured cloudline kernel (repeatable), e.g. "
                         "HOST_PROC=/nonexistent to see the proxy without its /proc sampling")
    a = ap.parse_args()
    q = a.quick
    # Round trips: 6 sets of 250 cells rather than 3 of 500 (the same
    # cells): fresh kernels differ from one another by more than one
    # kernel's p50 moves over 250 cells, so more sets narrow the pool most.
    rounds, per_round = (2, 25) if q else (10, 25)
    sets = 2 if q else 6
    flood_rounds = 2 if q else 5
    busy_s = 10 if q else 60
    mem_cells = 200 if q else 1000
    lines, displays, blob_lines = (20_000, 500, 200_000) if q else (200_000, 5_000, 2_000_000)

    print(f"# cloudline benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
          f"{' (--quick)' if q else ''}")
    print(f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
          f"{platform.platform()}, Python {platform.python_version()}")
    if a.cloud_env:
        print(f"cloudline kernel environment: {' '.join(a.cloud_env)}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sys.stdout.flush()

    rows = []
    st = bench_startup([a.plain, a.cloud], rounds=2 if q else 6)
    rows.append(bl.Row("start to first kernel_info reply", "ms", bl.median(st[a.plain]) * 1e3,
                       bl.median(st[a.cloud]) * 1e3, bl.Target("diff", 100)))

    set_env = dict(os.environ, **dict(kv.split("=", 1) for kv in a.cloud_env))
    env = dict(set_env)  # the main cloudline kernel's (the profile is its alone)
    prof = None
    if a.profile:
        os.makedirs(a.profile, exist_ok=True)
        prof = os.path.join(os.path.abspath(a.profile), "cloudline.cpu.pprof")
        env["CLOUDLINE_CPUPROFILE"] = prof
    plain, cloud = Kernel(a.plain), Kernel(a.cloud, env=env)
    ks = [plain, cloud]
    proxy = psutil.Process(cloud.pid)
    rss_start = proxy.memory_info().rss
    try:
        for k in ks:  # warm up: imports, first-cell costs
            for _ in range(20):
                k.run("pass")
            k.complete("impo")

        # The round trips, each on sets of fresh kernels (trivial_sets).
        specs = [("plain", a.plain, {}), ("cloud", a.cloud, {"env": set_env}), ("plain again", a.plain, {})]
        if a.relay:
            specs.insert(2, ("relay", a.relay, {}))
        pooled, per_set = trivial_sets(specs, sets, rounds, per_round)
        rows += latency_rows(pooled, per_set, "plain", "cloud", "trivial cell round trip",
                             ((50, 1.05), (99, 1.15)))
        if a.relay:
            rows += latency_rows(pooled, per_set, "plain", "relay", "floor: bare byte relay", ((50, None),),
                                 "the relay in the cloudline column")
            rows += latency_rows(pooled, per_set, "relay", "cloud", "cloudline against the floor", ((50, None),),
                                 "the relay in the plain column: what cloudline costs beyond any process between")
        rows += latency_rows(pooled, per_set, "plain", "plain again", "noise: plain against plain",
                             ((50, None),), "a second plain kernel in the cloudline column")
        enc = {"encryption": "required"}
        enc_specs = [("plain", a.plain, enc), ("cloud", a.cloud, dict(enc, env=set_env))]
        if a.relay:  # the relay copies the encrypted bytes: CURVE runs end to end through it
            enc_specs.append(("relay", a.relay, enc))
        pooled, per_set = trivial_sets(enc_specs, sets, rounds, per_round)
        rows += latency_rows(pooled, per_set, "plain", "cloud", "encrypted (CurveZMQ) trivial cell")
        if a.relay:
            rows += latency_rows(pooled, per_set, "plain", "relay", "floor, encrypted: bare byte relay",
                                 ((50, None),), "the relay in the cloudline column")
        pooled, per_set = trivial_sets([("plain", a.plain, {}), ("cloud", a.cloud, {"env": set_env})],
                                       sets, rounds, per_round,
                                       prepare=lambda label, k: label == "cloud" and k.open_comm())
        rows += latency_rows(pooled, per_set, "plain", "cloud", "trivial cell, the extension's comm open")
        idle_s = 10 if q else 30
        rows.append(bl.Row(f"idle proxy CPU over {idle_s} s, the extension's comm open", "% of a core", None,
                           extension_idle_cpu(a.cloud, idle_s) * 100, bl.Target("abs", 1)))
        comp = alternate(ks, rounds, lambda k: [k.complete("impo") for _ in range(12 if q else 25)])
        comp = {n: [x for batch in v for x in batch] for n, v in comp.items()}
        rows.append(bl.Row("complete_request round trip p50", "ms", bl.median(comp[a.plain]) * 1e3,
                           bl.median(comp[a.cloud]) * 1e3))

        # The proxy's memory and CPU over many trivial cells.
        cpu0, rss0 = sum(proxy.cpu_times()[:2]), proxy.memory_info().rss
        for _ in range(mem_cells):
            cloud.run("pass")
        cpu1, rss1 = sum(proxy.cpu_times()[:2]), proxy.memory_info().rss
        for _ in range(mem_cells):
            cloud.run("pass")
        rss2 = proxy.memory_info().rss
        mb = 1 / 2**20
        rows.append(bl.Row("proxy RSS after start", "MB", None, rss_start * mb, bl.Target("abs", 30)))
        rows.append(bl.Row(f"proxy RSS growth over {mem_cells} cells", "MB", None, (rss1 - rss0) * mb,
                           bl.Target("abs", 2, strict=True), f"{rss0 * mb:.1f} -> {rss1 * mb:.1f}"))
        rows.append(bl.Row(f"proxy RSS growth over the next {mem_cells}", "MB", None, (rss2 - rss1) * mb,
                           bl.Target("abs", 2, strict=True)))
        rows.append(bl.Row("proxy CPU per trivial cell", "ms", None, (cpu1 - cpu0) / mem_cells * 1e3))

        text = lambda m: m["content"]["text"]
        want_lines = bl.expected_lines(lines)
        t = alternate(ks, flood_rounds, lambda k: flood(
            k, f"for i in range({lines}): print(i)", text,
            lambda got, who: bl.check_text("".join(got), want_lines, f"{who}: {lines} printed lines")))
        rows.append(bl.Row(f"{lines:,} printed lines", "s", bl.median(t[a.plain]), bl.median(t[a.cloud]),
                           bl.Target("ratio", 1.10), "complete, in order"))

        plain_text = lambda m: m["content"]["data"]["text/plain"]
        t = alternate(ks, flood_rounds, lambda k: flood(
            k, "from IPython.display import display\n"
               f"for i in range({displays}): display({{'text/plain': str(i)}}, raw=True)",
            plain_text, lambda got, who: bl.check_sequence(got, displays, f"{who}: display_data")))
        rows.append(bl.Row(f"{displays:,} display_data messages", "s", bl.median(t[a.plain]),
                           bl.median(t[a.cloud]), bl.Target("ratio", 1.10), "complete, in order"))

        want_blob = bl.expected_blob(blob_lines)
        for k in ks:
            k.run(f"_blob = ''.join(f'{{i:09d}}\\n' for i in range({blob_lines}))\nimport sys")
        # One write takes 0.1-0.3 s either way: three times the rounds.
        t = alternate(ks, 3 * flood_rounds, lambda k: flood(
            k, "sys.stdout.write(_blob); sys.stdout.flush()", text,
            lambda got, who: bl.check_text("".join(got), want_blob, f"{who}: one big output")))
        rows.append(bl.Row(f"one {len(want_blob) / 1e6:.0f} MB output", "s", bl.median(t[a.plain]),
                           bl.median(t[a.cloud]), bl.Target("ratio", 1.10), "byte-exact"))

        # The sampler's cost while a cell keeps the kernel busy.
        c0, w0 = sum(proxy.cpu_times()[:2]), time.perf_counter()
        cloud.run(f"import time\n_t = time.monotonic()\nwhile time.monotonic() - _t < {busy_s}: pass")
        cpu = (sum(proxy.cpu_times()[:2]) - c0) / (time.perf_counter() - w0)
        rows.append(bl.Row(f"proxy CPU during a {busy_s} s busy cell", "% of a core", None, cpu * 100,
                           bl.Target("abs", 1)))
        rows.append(bl.Row("proxy RSS at the end", "MB", None, proxy.memory_info().rss * mb))
    finally:
        for k in ks:
            k.stop()

    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(bl.table(rows))
    if prof:
        print(f"\n## CPU profile of the cloudline kernel ({prof})\n")
        sys.stdout.flush()
        subprocess.run(["go", "tool", "pprof", "-top", "-nodecount=30", a.binary, prof], check=False)


if __name__ == "__main__":
    main()
