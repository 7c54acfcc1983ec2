#!/usr/bin/python3
"""Maestro failover benchmark: 9 samplers and a group of 3 L1 aggregators on loopback,
configured by maestro in embedded mode; N cycles (default 20) of kill -9 of an L1 that runs
producers, then restarting it. Prints, per cycle and as p50/p99/max: the failover delay
(kill -> every moved producer's set held by a surviving L1 with an update after the
kill; bounded below by the 1 s sampling and update schedule), maestro's own part of it
(kill -> failure logged, kill -> moves pushed, from its log), the recovery delay (restart -> the restarted L1 holds updated copies of the share
it took back), and producers moved per failure and per recovery (maestro --status).
Never passes or fails on timing.

    LDMSC_BUILD=$PWD/build /usr/bin/python3 bench/bench_maestro_failover.py [cycles]
"""

import math
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from maestro_fixture import Cluster, Maestro, moved_between, wait_until  # noqa: E402

N_SAMP, N_L1 = 9, 3


def pct(v, p):
    v = sorted(v)
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(math.ceil(p / 100.0 * len(v))) - 1))
    return v[k]


def held_after(c, producers, aggs, t):
    held = {}
    for a in aggs:
        for k, v in c.agg_sets(a).items():
            held[k] = max(held.get(k, 0), v)
    return all(held.get(p[: -len("-ep")] + "/meminfo1", 0) > t for p in producers)


def log_time(line):
    """seconds since the epoch of a maestro log line (local time, ms)"""
    ts = line[:23]
    return time.mktime(time.strptime(ts[:19], "%Y-%m-%d %H:%M:%S")) + int(ts[20:23]) / 1000.0


def reaction(m, since_len, t, victim):
    """kill -> maestro has pushed the moves (end of the pass after the down line)"""
    down = None
    for line in m.log()[since_len:].splitlines():
        if down is None and ("Daemon %s is down" % victim) in line:
            down = log_time(line)
        elif down is not None and "Pass done" in line:
            return down - t, log_time(line) - t
    return float("nan"), float("nan")


def complete(m, pred=lambda a: True):
    a = m.assignment()
    if a and sum(len(v) for v in a.values()) == N_SAMP and pred(a):
        return a
    return None


def main():
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    work = tempfile.mkdtemp(prefix="bench-maestro-")
    c = Cluster(work, N_SAMP, N_L1, l2=False)
    m = None
    fail_d, rec_d, fail_mv, rec_mv, det, push = [], [], [], [], [], []
    try:
        c.start()
        c.write_yaml()
        m = Maestro(work, ["--ldms_config", c.yaml_path], ["--ldms_config", c.yaml_path])
        m.start()
        wait_until(lambda: complete(m), 60, "initial assignment")
        wait_until(lambda: held_after(c, [s + "-ep" for s in c.samplers], c.l1, time.time() - 2),
                   60, "every set collected")
        print("cycle  victim  detect_s  pushed_s  failover_s  moved  recovery_s  moved")
        for i in range(cycles):
            before = complete(m)
            victim = c.l1[i % N_L1]
            if not before[victim]:
                victim = sorted((a for a in before if before[a]), key=lambda a: -len(before[a]))[0]
            survivors = [a for a in c.l1 if a != victim]
            lost = before[victim]
            log_len = len(m.log())
            t = time.time()
            c.kill(victim)
            after = wait_until(lambda: complete(m, lambda a: not a.get(victim)), 30,
                               "reassignment", step=0.02)
            wait_until(lambda: held_after(c, lost, survivors, t), 30, "failover", step=0.02)
            fd = time.time() - t
            fm = len(moved_between(before, after))
            dt, pt = reaction(m, log_len, t, victim)
            det.append(dt)
            push.append(pt)
            time.sleep(1.0)
            t = time.time()
            c.restart(victim)
            back = wait_until(lambda: complete(m, lambda a: a.get(victim)), 30, "recovery",
                              step=0.02)
            wait_until(lambda: held_after(c, back[victim], [victim], t), 30,
                       "recovered share collected", step=0.02)
            rd = time.time() - t
            rm = len(moved_between(after, back))
            fail_d.append(fd)
            rec_d.append(rd)
            fail_mv.append(fm)
            rec_mv.append(rm)
            print("%5d  %-6s  %8.3f  %8.3f  %10.3f  %5d  %10.3f  %5d" %
                  (i + 1, victim, dt, pt, fd, fm, rd, rm), flush=True)
            time.sleep(1.0)
    finally:
        if m:
            m.stop()
        c.stop()
        shutil.rmtree(work, ignore_errors=True)
    n = len(fail_d)
    print()
    print("cycles: %d (9 samplers, 3 L1, maestro embedded, probe 0.5 s, retry 0.5 s)" % n)
    if n:
        print("maestro detection (kill -> 'is down' logged):  p50 %.3f s  p99 %.3f s" %
              (pct(det, 50), pct(det, 99)))
        print("maestro reaction (kill -> moves pushed):       p50 %.3f s  p99 %.3f s" %
              (pct(push, 50), pct(push, 99)))
        print("failover delay:  p50 %.3f s  p99 %.3f s  max %.3f s" %
              (pct(fail_d, 50), pct(fail_d, 99), max(fail_d)))
        print("recovery delay:  p50 %.3f s  p99 %.3f s  max %.3f s" %
              (pct(rec_d, 50), pct(rec_d, 99), max(rec_d)))
        print("producers moved per failure:  mean %.2f  max %d (bound ceil(9/3)+1 = 4)" %
              (sum(fail_mv) / n, max(fail_mv)))
        print("producers moved per recovery: mean %.2f  max %d (bound ceil(9/3)+1 = 4)" %
              (sum(rec_mv) / n, max(rec_mv)))


if __name__ == "__main__":
    main()
