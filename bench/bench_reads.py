#!/usr/bin/python3
"""Set reads per second over loopback against one ldmsd serving 1, 100 and 1,000
test_sampler sets (10 u64 metrics each, sampled every second): bench_ldms_read keeps
one connection, looks every set up once and re-reads all of them in rounds.
Prints figures; never fails on timing.

    LDMSC_BUILD=$PWD/build /usr/bin/python3 bench/bench_reads.py [seconds] [counts...]
"""

import os
import subprocess
import sys
import time

from bench_common import BUILD, Daemon

DRIVER = os.path.join(BUILD, "bench", "bench_ldms_read")


def main():
    seconds = sys.argv[1] if len(sys.argv) > 1 else "5"
    counts = [int(c) for c in sys.argv[2:]] or [1, 100, 1000]
    for n in counts:
        conf = ("load name=ts plugin=test_sampler\n"
                "config name=ts action=default producer=bench schema=bench "
                "num_sets=%d num_metrics=10 component_id=1\n"
                "start name=ts interval=1s offset=0\n" % n)
        with Daemon(conf) as d:
            time.sleep(1.5)
            out = subprocess.run([DRIVER, "-p", str(d.port), "-t", seconds],
                                 capture_output=True, text=True, timeout=600)
            cpu = d.cpu_s()
            rss = d.rss_kb()
        print("%5d sets: %s  (ldmsd CPU %.2f s, RSS %d kB)" %
              (n, (out.stdout or out.stderr).strip(), cpu, rss))


if __name__ == "__main__":
    main()
