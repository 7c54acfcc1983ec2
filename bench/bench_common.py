"""Helpers shared by the benchmark scripts: locate the build, start an ldmsd on a
free loopback port with a config text, and read a process's CPU time and RSS."""

import os
import socket
import subprocess
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("LDMSC_BUILD") or os.path.join(SRC, "build")
LDMSD = os.path.join(BUILD, "sbin", "ldmsd")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, conf):
        self.dir = tempfile.mkdtemp(prefix="ldmsc-bench-")
        self.port = free_port()
        path = os.path.join(self.dir, "bench.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.log = os.path.join(self.dir, "ldmsd.log")
        self.proc = subprocess.Popen(
            [LDMSD, "-x", "sock:%d:127.0.0.1" % self.port, "-c", path, "-l", self.log,
             "-v", "ERROR"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ldmsd exited; see " + self.log)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("ldmsd does not listen")

    def cpu_s(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def cpu_ns(self):
        """CPU time of the live threads in ns (schedstat: finer than clock ticks)."""
        total = 0
        base = "/proc/%d/task" % self.proc.pid
        for tid in os.listdir(base):
            try:
                with open("%s/%s/schedstat" % (base, tid)) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return total

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
