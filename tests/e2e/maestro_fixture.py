"""A maestro-managed cluster on loopback for the end-to-end tests and the failover
benchmark: sampler, L1 and L2 ldmsd's started empty (conftest.Ldmsd), the cluster YAML
that describes them (one daemons entry per daemon, since every port is picked free), a
maestro process in embedded or etcd mode, and readers for what the tests check: the
status maestro publishes, the L2 CSV rows, and the sets an aggregator holds (ldms_ls -l).
"""

import calendar
import json
import os
import re
import signal
import subprocess
import time

from conftest import BUILD, Ldmsd, need

MAESTRO = os.path.join(BUILD, "bin", "maestro")
MAESTRO_CTRL = os.path.join(BUILD, "bin", "maestro_ctrl")
LDMS_LS = os.path.join(BUILD, "bin", "ldms_ls")
LDMSD_CONTROLLER = os.path.join(BUILD, "bin", "ldmsd_controller")
PLUGIN_DIR = os.path.join(BUILD, "lib", "ldms-c")


def plugin_built(name):
    return os.path.exists(os.path.join(PLUGIN_DIR, "lib%s.so" % name))


def wait_until(pred, timeout, what, step=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(step)


class Cluster:
    """n_samp samplers samp-1..N, n_l1 aggregators l1-1..M (group "l1-[1-M]") pulling
    every sampler, one L2 "l2" pulling every L1 and storing with store_csv."""

    def __init__(self, workdir, n_samp=9, n_l1=3, l2=True, plugins=("meminfo",),
                 interval="1s"):
        self.workdir = str(workdir)
        self.n_samp, self.n_l1, self.has_l2 = n_samp, n_l1, l2
        self.plugins = list(plugins)
        self.interval = interval
        self.csv_dir = os.path.join(self.workdir, "csv")
        os.makedirs(self.csv_dir, exist_ok=True)
        self.samplers = ["samp-%d" % i for i in range(1, n_samp + 1)]
        self.l1 = ["l1-%d" % i for i in range(1, n_l1 + 1)]
        self.names = self.samplers + self.l1 + (["l2"] if l2 else [])
        self.d = {}
        for n in self.names:
            self.d[n] = Ldmsd(self.workdir, n, "# configured by maestro\n")
        self.yaml_path = os.path.join(self.workdir, "cluster.yaml")

    # ---- daemons --------------------------------------------------------------------------
    def start(self):
        for n in self.names:
            self.d[n].start()

    def stop(self):
        for d in self.d.values():
            d.stop()

    def kill(self, name):
        """SIGKILL (a crash)."""
        d = self.d[name]
        proc, d.proc = d.proc, None
        proc.kill()
        proc.wait(timeout=10)

    def restart(self, name):
        self.d[name].start()

    def port(self, name):
        return self.d[name].port

    def pids(self, names=None):
        return {n: self.d[n].pid for n in (names or self.names) if self.d[n].proc}

    # ---- configuration -----------------------------------------------------------------------
    def yaml(self, interval=None):
        iv = interval or self.interval
        y = ["daemons:"]
        for n in self.names:
            y += [
                '  - names: "%s"' % n,
                '    hosts: "127.0.0.1"',
                "    endpoints:",
                '      - names: "%s-ep"' % n,
                '        ports: "%d"' % self.port(n),
                "        maestro_comm: true",
                "        xprt: sock",
            ]
        y += [
            "aggregators:",
            '  - daemons: "l1-[1-%d]"' % self.n_l1,
            "    peers:",
            '      - daemons: "samp-[1-%d]"' % self.n_samp,
            '        endpoints: "samp-[1-%d]-ep"' % self.n_samp,
            "        reconnect: 1s",
            "        type: active",
            "        updaters:",
            "          - mode: pull",
            "            interval: 1s",
            "            offset: 200ms",
        ]
        if self.has_l2:
            y += [
                '  - daemons: "l2"',
                "    peers:",
                '      - daemons: "l1-[1-%d]"' % self.n_l1,
                '        endpoints: "l1-[1-%d]-ep"' % self.n_l1,
                "        reconnect: 1s",
                "        type: active",
                "        updaters:",
                "          - mode: pull",
                "            interval: 1s",
                "            offset: 400ms",
            ]
        y += ["plugins:"]
        for p in self.plugins:
            y += [
                "  %s1:" % p,
                "    name: %s" % p,
                "    interval: %s" % iv,
                "    offset: 0ms",
                "    config:",
                "      - schema: %s" % p,
                '        component_id: "1"',
                '        perm: "0644"',
            ]
        if self.has_l2:
            y += [
                "  csv1:",
                "    name: store_csv",
                "    config:",
                "      - path: %s" % self.csv_dir,
                "        buffer: 0",
                "        altheader: 0",
            ]
        y += [
            "samplers:",
            '  - daemons: "samp-[1-%d]"' % self.n_samp,
            "    plugins: [ %s ]" % ", ".join(p + "1" for p in self.plugins),
        ]
        if self.has_l2:
            y += ["stores:"]
            for p in self.plugins:
                y += [
                    "  st_%s:" % p,
                    '    daemons: "l2"',
                    "    plugin: csv1",
                    "    container: l2csv",
                    "    schema: %s" % p,
                ]
        return "\n".join(y) + "\n"

    def write_yaml(self, interval=None):
        tmp = self.yaml_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(self.yaml(interval))
        os.rename(tmp, self.yaml_path)
        return self.yaml_path

    # ---- observations ---------------------------------------------------------------------------
    def csv_rows(self, schema="meminfo"):
        """{producer: [timestamps in file order]} of the L2 CSV."""
        path = os.path.join(self.csv_dir, "l2csv", schema)
        rows = {}
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError:
            return rows
        ncol = None
        for line in lines:
            if line.startswith("#"):
                ncol = len(line.split(","))
                continue
            cols = line.split(",")
            if ncol is None or len(cols) != ncol:
                continue  # a line being written
            rows.setdefault(cols[2], []).append(float(cols[0]))
        return rows

    def agg_sets(self, name, timeout=10):
        """{set instance: last update time (s)} of the sets aggregator `name` holds."""
        try:
            out = subprocess.run(
                [LDMS_LS, "-h", "127.0.0.1", "-p", str(self.port(name)), "-x", "sock",
                 "-a", "none", "-l"],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                env=dict(os.environ, TZ="UTC"),
            )
        except subprocess.TimeoutExpired:
            return {}
        sets = {}
        for line in out.stdout.splitlines():
            m = TITLE_RE.match(line)
            if m:
                t = time.strptime(m.group(2), "%a %b %d %H:%M:%S %Y")
                sets[m.group(1)] = calendar.timegm(t) + int(m.group(3)) / 1e6
        return sets

    def ctl(self, name, cmd, timeout=20):
        out = subprocess.run(
            [LDMSD_CONTROLLER, "--host", "127.0.0.1", "--port", str(self.port(name)),
             "--xprt", "sock", "--auth", "none", "--json", "--cmd", cmd],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    def running_producers(self, name):
        """Names of the producers aggregator `name` runs (prdcr_status)."""
        rep = self.ctl(name, "prdcr_status")
        lst = rep.get("msg", rep) if isinstance(rep, dict) else rep
        return sorted(p["name"] for p in lst if p.get("state") not in ("STOPPED", "STANDBY"))


TITLE_RE = re.compile(
    r"^(\S+): (?:consistent|inconsistent), last update: (\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})"
    r" [+-]\d{4} \[(\d+)us\]"
)


class Maestro:
    """One maestro process; `args` select the mode (--ldms_config or --cluster/--prefix)."""

    def __init__(self, workdir, args, status_args, name="maestro"):
        self.workdir = str(workdir)
        self.args = list(args)
        self.status_args = list(status_args)
        self.log_path = os.path.join(self.workdir, name + ".log")
        self.proc = None

    def start(self, extra=()):
        need(MAESTRO)
        argv = [MAESTRO] + self.args + list(extra) + [
            "--log", self.log_path, "--log-level", "debug", "--interval", "0.5",
            "--probe-timeout", "2", "--retry", "0.5", "--timeout", "5",
        ]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path + ".stderr", "wb"),
                                     cwd=self.workdir)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        proc, self.proc = self.proc, None
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def status(self, human=False):
        argv = [MAESTRO, "--status"] + self.status_args + ([] if human else ["--json"])
        out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=30)
        if human:
            return out
        if out.returncode:
            return None
        try:
            return json.loads(out.stdout)
        except ValueError:
            return None

    def assignment(self, group_prefix="l1-"):
        """{aggregator: sorted producers} of the L1 group, from --status."""
        st = self.status()
        if not st:
            return None
        for g in st.get("groups", []):
            if g["group"].startswith(group_prefix):
                return {a["name"]: sorted(a["producers"]) for a in g["aggregators"]}
        return None

    def set_assignment(self, group_prefix="l1-"):
        st = self.status()
        for g in (st or {}).get("groups", []):
            if g["group"].startswith(group_prefix):
                return {a["name"]: sorted(a.get("sets", [])) for a in g["aggregators"]}
        return None


def moved_between(before, after):
    """Producers whose aggregator differs between two assignments."""
    where_b = {p: a for a, ps in before.items() for p in ps}
    where_a = {p: a for a, ps in after.items() for p in ps}
    return sorted(p for p in where_a if where_b.get(p) != where_a[p] and p in where_b)


def max_gap(ts, start=None, end=None):
    ts = sorted(t for t in ts if (start is None or t >= start) and (end is None or t <= end))
    return max((b - a for a, b in zip(ts, ts[1:])), default=0.0)
