#!/usr/bin/python3
"""Cost of an aggregator: one ldmsd pulling 1,000 and 10,000 test_sampler sets (8 u64
metrics each, sampled every second) from 4 sampler daemons over loopback with an
updater at 1 s. Configured at runtime with ldmsd_controller; prints
  - the time from `prdcr_start_regex` until every set is READY (looked up) and until
    every set has been updated once (prdcr_set_status shows a timestamp),
  - the aggregator's CPU time (utime+stime from /proc/PID/stat) per second and its RSS
    over a steady window (default 20 s) after that.
Never fails on timing.

    LDMSC_BUILD=$PWD/build /usr/bin/python3 bench/bench_aggregator.py [seconds] [counts...]
"""

import json
import os
import subprocess
import sys
import time

from bench_common import BUILD, Daemon

CONTROLLER = os.path.join(BUILD, "bin", "ldmsd_controller")
N_SAMPLERS = 4
N_METRICS = 8


def ctl(port, *cmds, json_out=False):
    """Runs each command with one ldmsd_controller --cmd; returns the last reply."""
    out = None
    for c in cmds:
        argv = [CONTROLLER, "--host", "127.0.0.1", "--port", str(port)]
        argv += (["--json"] if json_out else []) + ["--cmd", c]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError("%s -> %d: %s%s" % (c, r.returncode, r.stdout, r.stderr))
        out = r.stdout
    return out


def set_status(port):
    """{inst: (state, timestamp)} from the aggregator's prdcr_set_status (timestamp 0.0
    until the set has been updated once)."""
    reply = json.loads(ctl(port, "prdcr_set_status", json_out=True))
    msg = reply["msg"]
    if isinstance(msg, str):
        msg = json.loads(msg)
    return {s["inst_name"]: (s["state"], int(s.get("timestamp.sec", 0)) +
                             int(s.get("timestamp.usec", 0)) * 1e-6) for s in msg}


def run(total, seconds):
    per = total // N_SAMPLERS
    mem = "%dM" % max(16, total * 2 // 1000 + 8)  # ~0.7 kB a set, with room
    samplers = []
    agg = None
    try:
        for i in range(N_SAMPLERS):
            samplers.append(Daemon(
                "set_memory size=%s\n"
                "load name=ts plugin=test_sampler\n"
                "config name=ts action=default producer=samp%d schema=bench "
                "num_sets=%d num_metrics=%d\n"
                "start name=ts interval=1s offset=0\n" % (mem, i + 1, per, N_METRICS)))
        agg = Daemon("set_memory size=%dM\n" % max(32, total * 4 // 1000 + 16))
        cmds = ["prdcr_add name=samp%d host=127.0.0.1 port=%d xprt=sock type=active "
                "reconnect=2s" % (i + 1, s.port) for i, s in enumerate(samplers)]
        cmds += ["updtr_add name=upd interval=1s offset=200ms",
                 "updtr_prdcr_add name=upd regex=.*", "updtr_start name=upd"]
        ctl(agg.port, *cmds)
        time.sleep(1.5)  # every sampler has sampled its sets once
        cpu0 = agg.cpu_s()
        t0 = time.monotonic()
        ctl(agg.port, "prdcr_start_regex regex=.*")
        t_ready = t_updated = None
        deadline = t0 + 120
        while time.monotonic() < deadline:
            st = set_status(agg.port)
            now = time.monotonic() - t0
            if len(st) == total:
                if t_ready is None and all(s == "READY" for s, _ in st.values()):
                    t_ready = now
                if all(u for _, u in st.values()):
                    t_updated = now
                    break
            time.sleep(0.25)
        startup_cpu = agg.cpu_s() - cpu0
        # steady state, no status polling (it would cost the aggregator CPU too)
        before = set_status(agg.port)
        c0, n0, w0 = agg.cpu_s(), agg.cpu_ns(), time.monotonic()
        time.sleep(seconds)
        c1, n1, w1 = agg.cpu_s(), agg.cpu_ns(), time.monotonic()
        rss = agg.rss_kb()
        after = set_status(agg.port)
        moved = sum(1 for k, (_, ts) in after.items() if k in before and ts > before[k][1])
        lag = [time.time() - ts for _, ts in after.values() if ts]
        fmt = lambda t: "%.2f s" % t if t is not None else "not within 120 s"  # noqa: E731
        print("%6d sets (%d samplers x %d): all READY after %s, all updated once after %s "
              "(aggregator CPU during start-up %.2f s)" %
              (total, N_SAMPLERS, per, fmt(t_ready), fmt(t_updated), startup_cpu))
        print("        steady %.0f s: aggregator CPU %.3f s/s (schedstat %.4f s/s, %.1f us per "
              "set update), "
              "RSS %d kB (%.2f kB/set); %d of %d sets newer than before the window, "
              "the stalest set's data %.2f s old" %
              (w1 - w0, (c1 - c0) / (w1 - w0), (n1 - n0) / 1e9 / (w1 - w0),
               (n1 - n0) / 1e3 / (w1 - w0) / total,
               rss, rss / total, moved, len(after), max(lag) if lag else -1))
    finally:
        if agg:
            agg.stop()
        for s in samplers:
            s.stop()


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    counts = [int(c) for c in sys.argv[2:]] or [1000, 10000]
    for n in counts:
        run(n, seconds)


if __name__ == "__main__":
    main()
