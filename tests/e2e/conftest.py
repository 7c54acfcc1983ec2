"""Shared fixtures of the end-to-end tests: free loopback ports, our sbin/ldmsd started
from $LDMSC_BUILD with a config file (waited for until it listens, always stopped;
the launching itself is tests/e2e/daemon_util.py),
ldms_ls runs (optionally as another user), an ovis secret file and a private munged
(tests/e2e/munge_fixture.py).
"""

import os
import pwd
import grp
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from daemon_util import Daemon, daemon_factory, free_port, listening  # noqa: E402,F401 (free_port re-exported)

_listening = listening  # the old name, for tests that import it

SRC = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("LDMSC_BUILD") or os.path.join(SRC, "build")
LDMSD = os.path.join(BUILD, "sbin", "ldmsd")
LDMS_LS = os.path.join(BUILD, "bin", "ldms_ls")
BENCH_DIR = os.path.join(BUILD, "bench")


def need(*paths):
    """Skip the calling test when a binary it needs is not built (yet)."""
    for p in paths:
        if not os.access(p, os.X_OK):
            pytest.skip("not built: " + p)


class Ldmsd(Daemon):
    """One ldmsd process: `-x sock:PORT:127.0.0.1 -c CONF -l LOG -v INFO [auth]`."""

    def __init__(self, workdir, name, conf, auth_args=(), extra_args=(), env=None):
        workdir = str(workdir)
        super().__init__(workdir, name, os.path.join(workdir, name + ".stderr"), env)
        self.conf_path = os.path.join(self.workdir, name + ".conf")
        self.log_path = os.path.join(self.workdir, name + ".log")
        with open(self.conf_path, "w") as f:
            f.write(conf)
        self.extra = list(auth_args) + list(extra_args)

    def argv(self):
        return [
            LDMSD,
            "-x",
            "sock:%d:127.0.0.1" % self.port,
            "-c",
            self.conf_path,
            "-l",
            self.log_path,
            "-v",
            "INFO",
        ] + self.extra


@pytest.fixture
def ldmsd_factory(tmp_path):
    """ldmsd_factory(name, conf_text, auth_args=(), ...) -> started Ldmsd; every daemon
    is stopped at the end of the test, whatever happened."""
    yield from daemon_factory(
        lambda name, conf, auth_args=(), extra_args=(), env=None: Ldmsd(
            tmp_path, name, conf, auth_args, extra_args, env
        )
    )


def run_as(user):
    """argv prefix running a command with the uid/gid of `user` (we are root)."""
    pw = pwd.getpwnam(user)
    return [
        "setpriv",
        "--reuid=%d" % pw.pw_uid,
        "--regid=%d" % pw.pw_gid,
        "--clear-groups",
        "--",
    ]


def ldms_ls(port, *args, auth=("-a", "none"), user=None, timeout=60):
    """Runs our ldms_ls against 127.0.0.1:port; returns the CompletedProcess."""
    need(LDMS_LS)
    argv = [LDMS_LS, "-h", "127.0.0.1", "-p", str(port), "-x", "sock"]
    argv += list(auth) + list(args)
    if user:
        argv = run_as(user) + argv
    return subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, TZ="UTC"),
    )


def wait_for_sets(port, names, auth=("-a", "none"), timeout=15.0, sampled=True):
    """Polls `ldms_ls -v` until every name is listed (and, if sampled, consistent)."""
    deadline = time.monotonic() + timeout
    out = None
    while time.monotonic() < deadline:
        out = ldms_ls(port, "-v", auth=auth, timeout=30)
        if out.returncode == 0:
            rows = {}
            for line in out.stdout.splitlines():
                f = line.split()
                if len(f) > 3 and f[1] in names:
                    rows[f[1]] = f[2]
            if all(n in rows and (not sampled or "C" in rows[n]) for n in names):
                return out
        time.sleep(0.2)
    raise AssertionError(
        "sets %s not listed on port %d: %s" % (names, port, out and (out.stdout + out.stderr))
    )


@pytest.fixture
def ovis_secret(tmp_path):
    """An ovis secret file (mode 0600) and a second one with another secret."""
    good = tmp_path / "ovis-secret.conf"
    bad = tmp_path / "ovis-wrong.conf"
    for path, word in ((good, "e2e-ovis-secret-0123"), (bad, "not-the-same-secret")):
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, ("secretword=%s\n" % word).encode())
        os.close(fd)
    return str(good), str(bad)


@pytest.fixture
def munged(tmp_path):
    """A private munged (skips when munge is not installed)."""
    try:
        from munge_fixture import MungeDaemon
    except ImportError:
        pytest.skip("tests/e2e/munge_fixture.py not available")
    if not MungeDaemon.available():
        pytest.skip("munged not installed")
    m = MungeDaemon(tmp_path)
    m.start()
    yield m
    m.stop()


def proc_fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def proc_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def nobody_ids():
    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid


def group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: long-running test (still part of the default run)"
    )
