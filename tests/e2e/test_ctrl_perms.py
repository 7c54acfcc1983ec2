"""Per-command authorisation of control requests (ldms-protocol.md §6.6.6) end to end:
an ldmsd with munge authentication run by root; ldmsd_controller as root may change
the configuration, as 'nobody' (munge gives the real uid) it gets the status queries
the command table marks "all" and is refused everything that changes the daemon.
Also exercises the status/statistics commands and dump_cfg through the real tools.
"""

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import BUILD, need, run_as, wait_for_sets

CONTROLLER = os.path.join(BUILD, "bin", "ldmsd_controller")

CONF = """\
load name=meminfo
config name=meminfo producer=node instance=node/meminfo component_id=1 perm=0644
start name=meminfo interval=1s offset=0
"""

# queries open to everyone (XALL in the command table)
OPEN = ["version", "daemon_status", "set_stats", "thread_stats", "xprt_stats",
        "plugn_status", "usage"]
# configuration changes and owner-only queries (XUG)
CLOSED = ["load name=vmstat", "config name=meminfo component_id=9",
          "stop name=meminfo", "set_sec_mod regex=.* perm=0600",
          "log_level level=DEBUG", "greeting test", "log_status",
          "env FOO=bar", "listen xprt=sock port=1", "daemon_exit"]


@pytest.fixture
def public_munged():
    """A munged whose socket 'nobody' can reach (pytest's tmp dirs are 0700)."""
    try:
        from munge_fixture import MungeDaemon
    except ImportError:
        pytest.skip("tests/e2e/munge_fixture.py not available")
    if not MungeDaemon.available():
        pytest.skip("munged not installed")
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run a client as 'nobody'")
    base = tempfile.mkdtemp(prefix="ldmsc-perm-", dir="/tmp")
    os.chmod(base, 0o755)
    m = MungeDaemon(base)
    try:
        m.start()
        yield m
    finally:
        m.stop()
        shutil.rmtree(base, ignore_errors=True)


def ctl(port, cmd, auth, user=None, json_out=False):
    need(CONTROLLER)
    argv = [CONTROLLER, "-h", "127.0.0.1", "-p", str(port), "-x", "sock"]
    argv += list(auth)
    if json_out:
        argv.append("--json")
    argv += ["--cmd", cmd]
    if user:
        argv = run_as(user) + argv
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=30)


def json_msg(out):
    assert out.returncode == 0, out.stdout + out.stderr
    j = json.loads(out.stdout)
    assert j["rc"] == 0
    return j["msg"]


def test_nobody_reads_status_but_cannot_configure(ldmsd_factory, public_munged, tmp_path):
    auth = tuple(public_munged.auth_args)
    d = ldmsd_factory("perms", CONF, auth_args=public_munged.auth_args)
    wait_for_sets(d.port, ["node/meminfo"], auth=auth)

    for cmd in OPEN:
        out = ctl(d.port, cmd, auth, user="nobody")
        assert out.returncode == 0, "%s: %s%s" % (cmd, out.stdout, out.stderr)
        assert "Error" not in out.stdout, cmd

    dump = os.path.join(tempfile.gettempdir(), "ldmsc-perm-dump-%d.conf" % os.getpid())
    for cmd in CLOSED + ["dump_cfg path=" + dump]:
        out = ctl(d.port, cmd, auth, user="nobody")
        assert out.returncode == 1, cmd
        verb = cmd.split()[0]
        assert "Error 13: permission denied for command '%s'" % verb in out.stdout, \
            "%s: %s%s" % (cmd, out.stdout, out.stderr)
    assert not os.path.exists(dump)
    assert d.proc.poll() is None, "daemon_exit from 'nobody' stopped the daemon"

    # nothing changed: the same plugins, the set still sampled and readable
    status = json_msg(ctl(d.port, "plugn_status", auth, json_out=True))
    assert [p["name"] for p in status] == ["meminfo"]
    wait_for_sets(d.port, ["node/meminfo"], auth=auth)

    # root may do all of it
    out = ctl(d.port, "load name=vmstat", auth)
    assert out.returncode == 0, out.stdout
    out = ctl(d.port, "log_status", auth)
    assert out.returncode == 0 and "ldmsd (default)" in out.stdout
    out = ctl(d.port, "dump_cfg path=" + str(tmp_path / "dump.conf"), auth)
    assert out.returncode == 0, out.stdout
    text = (tmp_path / "dump.conf").read_text()
    assert "\nload name=meminfo plugin=meminfo\n" in text
    assert "\nstart name=meminfo interval=1s offset=0\n" in text
    assert "\nload name=vmstat plugin=vmstat\n" in text
    assert "\nlisten xprt=sock port=%d host=127.0.0.1\n" % d.port in text
    assert "\ndefault_auth plugin=munge socket=%s\n" % public_munged.socket in text


def test_status_json_matches_upstream_keys(ldmsd_factory):
    """set_stats/thread_stats/xprt_stats/log_status through ldmsd_controller --json:
    the same keys upstream answers with (shared/golden/ldms/ctl_samp1.json.txt)."""
    golden_dir = os.environ.get("LDMSC_GOLDEN") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "golden")
    golden = {}
    with open(os.path.join(golden_dir, "ldms", "ctl_samp1.json.txt")) as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        if line.startswith("ldmsd_controller> "):
            golden[line.split("> ", 1)[1]] = json.loads(lines[i + 1])["msg"]

    d = ldmsd_factory("stats", CONF)
    wait_for_sets(d.port, ["node/meminfo"])
    auth = ("-a", "none")

    ss = json_msg(ctl(d.port, "set_stats", auth, json_out=True))
    assert set(ss) == set(golden["set_stats"])
    assert ss["active_count"] == 1 and ss["mem_used_kb"] > 0

    ts = json_msg(ctl(d.port, "thread_stats", auth, json_out=True))
    assert set(ts) == set(golden["thread_stats"])
    assert ts["count"] == len(ts["io_threads"]) >= 1
    for t in ts["io_threads"]:
        assert set(t) <= set(golden["thread_stats"]["io_threads"][0])
        assert 0 <= t["utilization"] <= 1
    assert [w["name"] for w in ts["worker_threads"]] == ["ldmsd:sched"]

    xs = json_msg(ctl(d.port, "xprt_stats", auth, json_out=True))
    assert set(xs) <= set(golden["xprt_stats"])
    assert xs["listen_count"] == 1 and xs["connect_count"] >= 1

    ls = json_msg(ctl(d.port, "log_status", auth, json_out=True))
    assert ls[0] == {"name": "ldmsd (default)", "desc": "The default log subsystem",
                     "level": "INFO,WARNING,ERROR,CRITICAL"}
    assert "sampler.meminfo.meminfo" in [lg["name"] for lg in ls]
    for lg in ls:
        assert set(lg) == set(golden["log_status"][0])

    out = ctl(d.port, "greeting name=foo", auth)
    assert out.stdout.strip() == "Hello 'foo'"
