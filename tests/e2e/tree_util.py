"""Helpers of the aggregation-tree end-to-end tests: bare ldmsd daemons (nothing on
their command line but `-x sock:PORT:127.0.0.1`) configured at runtime through our
ldmsd_controller (--cmd, --source, --script), JSON status queries, and readers of
store_csv files. Every wait here is bounded; every daemon started through the
`bare_ldmsd_factory` fixture is stopped at the end of its test.
"""

import csv
import json
import os
import subprocess
import time

import pytest

from conftest import BUILD, LDMSD, need
from daemon_util import Daemon, daemon_factory

LDMSD_CONTROLLER = os.path.join(BUILD, "bin", "ldmsd_controller")


class BareLdmsd(Daemon):
    """`ldmsd -x sock:PORT:127.0.0.1`; its stdout/stderr (the default log) go to a file."""

    def __init__(self, workdir, name, env=None):
        workdir = str(workdir)
        super().__init__(workdir, name, os.path.join(workdir, name + ".out"), env)

    def argv(self):
        return [LDMSD, "-x", "sock:%d:127.0.0.1" % self.port]

    # ---- runtime configuration through ldmsd_controller ----
    def ctl(self, *how, timeout=30):
        """Runs `ldmsd_controller --host 127.0.0.1 --port P <how...>` (e.g. "--cmd", text);
        returns the CompletedProcess (stdout and stderr as text)."""
        need(LDMSD_CONTROLLER)
        argv = [LDMSD_CONTROLLER, "--host", "127.0.0.1", "--port", str(self.port)]
        argv += list(how)
        return subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.workdir,
        )

    def cmd(self, text, check=True):
        """One command with --cmd; with check, a non-zero exit fails the test."""
        r = self.ctl("--cmd", text)
        if check:
            self._check(r, repr(text))
        return r

    def _check(self, r, what):
        """Fails the test unless the controller run r succeeded without an Error."""
        assert r.returncode == 0 and "Error" not in r.stdout, "%s: %s -> %d\n%s%s" % (
            self.name,
            what,
            r.returncode,
            r.stdout,
            r.stderr,
        )
        return r

    def source(self, lines):
        """Writes the commands to <name>-<n>.ctl and runs it with --source."""
        path = self._write("ctl", "".join(line + "\n" for line in lines))
        return self._check(self.ctl("--source", path), "--source " + path)

    def script(self, lines):
        """Writes a shell script printing the commands and runs it with --script."""
        body = "#!/bin/sh\n# prints configuration commands for ldmsd_controller --script\n"
        body += "cat <<'EOF'\n" + "".join(line + "\n" for line in lines) + "EOF\n"
        path = self._write("sh", body)
        os.chmod(path, 0o755)
        return self._check(self.ctl("--script", path), "--script " + path)

    def status(self, text):
        """The parsed "msg" of `--json --cmd text` (None when the reply is an error)."""
        r = self.ctl("--json", "--cmd", text)
        try:
            reply = json.loads(r.stdout)
        except ValueError:
            raise AssertionError("%s: %r: not JSON: %r %r" % (self.name, text, r.stdout, r.stderr))
        if reply.get("rc"):
            return None
        msg = reply.get("msg")
        if isinstance(msg, str):
            try:
                msg = json.loads(msg)
            except ValueError:
                pass
        return msg

    def _write(self, ext, text):
        n = 0
        while True:
            path = os.path.join(self.workdir, "%s-%d.%s" % (self.name, n, ext))
            if not os.path.exists(path):
                break
            n += 1
        with open(path, "w") as f:
            f.write(text)
        return path


@pytest.fixture
def bare_ldmsd_factory(tmp_path):
    """bare_ldmsd_factory(name) -> started BareLdmsd; all are stopped after the test."""
    yield from daemon_factory(lambda name, env=None: BareLdmsd(tmp_path, name, env))


def wait_until(what, fn, timeout, interval=0.2):
    """Calls fn() until it returns a true value (returned) or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s (last: %r)" % (
                timeout, what, last))
        time.sleep(interval)


def prdcr_state(d, name):
    """(state, {inst: set_state}) of producer `name` on daemon d, or (None, {})."""
    st = d.status("prdcr_status name=%s" % name)
    if not st:
        return None, {}
    for p in st:
        if p.get("name") == name:
            return p.get("state"), {s.get("inst_name"): s.get("state") for s in p.get("sets", [])}
    return None, {}


def read_csv(path):
    """(header list, rows as lists) of a store_csv data file; the header is the first
    line starting with '#'."""
    header, rows = None, []
    with open(path, newline="") as f:
        for rec in csv.reader(f):
            if not rec:
                continue
            if rec[0].startswith("#"):
                if header is None:
                    header = rec
                continue
            rows.append(rec)
    return header, rows


def csv_rows_by_producer(path):
    """{producer: [rows]} of a store_csv file (ProducerName column); {} if absent."""
    if not os.path.exists(path):
        return {}
    header, rows = read_csv(path)
    if not header:
        return {}
    col = header.index("ProducerName")
    out = {}
    for r in rows:
        if len(r) == len(header):
            out.setdefault(r[col], []).append(r)
    return out

