#!/usr/bin/python3
"""CPU time per sampling cycle and RSS of a real ldmsd sampling meminfo, vmstat and
procstat every second (the daemon's own utime+stime over a window, divided by the
number of cycles). Prints figures; never fails on timing.

    LDMSC_BUILD=$PWD/build /usr/bin/python3 bench/bench_sampler_daemon.py [seconds]
"""

import sys
import time

from bench_common import LDMSD, Daemon

CONF = "".join(
    "load name=%s\nconfig name=%s producer=bench instance=bench/%s component_id=1\n"
    "start name=%s interval=1s offset=0\n" % (p, p, p, p)
    for p in ("meminfo", "vmstat", "procstat"))


def main():
    window = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    with Daemon(CONF) as d:
        time.sleep(2.5)  # first samples, lazy initialisation
        c0, r0, t0 = d.cpu_ns(), d.rss_kb(), time.monotonic()
        time.sleep(window)
        c1, r1, t1 = d.cpu_ns(), d.rss_kb(), time.monotonic()
    cycles = t1 - t0  # one cycle of the three samplers per second
    print("ldmsd %s: meminfo+vmstat+procstat at 1 s, %.0f s window" % (LDMSD, t1 - t0))
    print("  daemon CPU time %.1f ms = %.0f us per sampling cycle of the three samplers "
          "(all threads, from schedstat)" % ((c1 - c0) / 1e6, (c1 - c0) / cycles / 1e3))
    print("  RSS %d kB at start of window, %d kB at end" % (r0, r1))


if __name__ == "__main__":
    main()
