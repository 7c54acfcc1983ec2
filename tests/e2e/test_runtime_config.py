"""End-to-end tests of an aggregation tree configured entirely at runtime (issue 3):
four sampler daemons -> two L1 aggregators -> one L2 aggregator storing meminfo with
store_csv, every daemon started bare (`ldmsd -x sock:PORT:127.0.0.1`) and configured
only through ldmsd_controller (--source for the samplers and one L1, --script for the
other L1, one --cmd per command for the L2). Checks that the CSV fills with every
sampler's rows (increasing timestamps, no duplicates), that 100 prdcr_stop / prdcr_del /
prdcr_add / prdcr_start cycles on an L1 leave its fd count and RSS flat and the data
flowing again, and that the controller reports bad attributes (EINVAL, naming the
attribute) and unknown commands (ENOSYS) with a non-zero exit while the daemons live on.
"""

import os
import time

import pytest

from conftest import proc_fd_count, proc_rss_kb, wait_for_sets
from tree_util import (  # noqa: F401  (bare_ldmsd_factory is a fixture)
    bare_ldmsd_factory,
    csv_rows_by_producer,
    prdcr_state,
    wait_until,
)

SAMPLERS = ["samp1", "samp2", "samp3", "samp4"]
PLUGINS = ["meminfo", "vmstat"]
CHURN_WARMUP = 10
CHURN_CYCLES = 100
RSS_BOUND_KB = 3072  # growth allowed over CHURN_CYCLES after the warm-up


def sampler_cmds(name, idx):
    out = []
    for plug in PLUGINS:
        out += [
            "load name=%s" % plug,
            "config name=%s producer=%s instance=%s/%s component_id=%d perm=0644"
            % (plug, name, name, plug, idx),
            "start name=%s interval=1s offset=0" % plug,
        ]
    return out


def prdcr_add_cmd(name, port):
    return "prdcr_add name=%s host=127.0.0.1 port=%d xprt=sock type=active reconnect=1s" % (
        name,
        port,
    )


def l1_cmds(samplers, offset):
    cmds = [prdcr_add_cmd(s.name, s.port) for s in samplers]
    cmds += [
        "prdcr_start_regex regex=.*",
        "updtr_add name=upd interval=1s offset=%s" % offset,
        "updtr_prdcr_add name=upd regex=.*",
        "updtr_start name=upd",
    ]
    return cmds


def need_aggregation(d):
    """Skips until the daemon implements producers (issue 3)."""
    r = d.ctl("--cmd", "prdcr_status")
    if r.returncode != 0 and ("not implemented" in r.stdout or "Error 38" in r.stdout):
        pytest.skip("producers not implemented yet: " + r.stdout.strip())


def build_tree(factory, tmp_path):
    samps = [factory(n) for n in SAMPLERS]
    l1a, l1b, l2 = factory("l1a"), factory("l1b"), factory("l2")
    need_aggregation(l1a)
    for i, s in enumerate(samps):
        s.source(sampler_cmds(s.name, i + 1))
    l1a.script(l1_cmds(samps[:2], "200ms"))  # a program printing the commands
    l1b.source(l1_cmds(samps[2:], "200ms"))  # a file of commands
    csv_root = str(tmp_path / "csv")
    for cmd in [  # one ldmsd_controller --cmd per command
        prdcr_add_cmd("l1a", l1a.port),
        prdcr_add_cmd("l1b", l1b.port),
        "prdcr_start name=l1a",
        "prdcr_start name=l1b",
        "updtr_add name=upd interval=1s offset=400ms",
        "updtr_prdcr_add name=upd regex=.*",
        "updtr_start name=upd",
        "load name=store_csv",
        "config name=store_csv path=%s altheader=0 buffer=0" % csv_root,
        "strgp_add name=csv_meminfo plugin=store_csv container=tree schema=meminfo",
        "strgp_prdcr_add name=csv_meminfo regex=.*",
        "strgp_start name=csv_meminfo",
    ]:
        l2.cmd(cmd)
    return samps, l1a, l1b, l2, os.path.join(csv_root, "tree", "meminfo")


def check_rows(rows_by_prdcr, producers, allow_dups=()):
    """Per producer: component_id right, Time strictly increasing -- for `allow_dups`
    only non-decreasing, repeated rows counted. Returns {producer: repeated rows}."""
    dups = {}
    for p in producers:
        rows = rows_by_prdcr.get(p, [])
        times = [float(r[0]) for r in rows]
        assert all(r[3] == str(SAMPLERS.index(p) + 1) for r in rows), (p, rows[:3])
        pairs = list(zip(times, times[1:]))
        dups[p] = sum(1 for a, b in pairs if a == b)
        if p in allow_dups:
            back = [(a, b) for a, b in pairs if a > b]
            assert not back, "%s: timestamps go back: %s" % (p, back[:5])
        else:
            bad = [(a, b) for a, b in pairs if not a < b]
            assert not bad, "%s: timestamps not strictly increasing: %s" % (p, bad[:5])
    return dups


def settled_fds(pid):
    """The fd count once the controller connections that just ended are gone: the
    smallest of a few readings 0.2 s apart."""
    counts = []
    for _ in range(5):
        counts.append(proc_fd_count(pid))
        time.sleep(0.2)
    return min(counts)


def sanitized(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


@pytest.mark.slow
def test_tree_configured_at_runtime(bare_ldmsd_factory, tmp_path):
    samps, l1a, l1b, l2, csv_path = build_tree(bare_ldmsd_factory, tmp_path)
    all_sets = ["%s/%s" % (s, p) for s in SAMPLERS for p in PLUGINS]
    wait_for_sets(l2.port, all_sets, timeout=30)

    # the CSV fills: every sampler's rows, increasing timestamps, no duplicates
    def filled():
        rows = csv_rows_by_producer(csv_path)
        return rows if all(len(rows.get(s, [])) >= 4 for s in SAMPLERS) else None

    rows = wait_until("4 rows of each sampler in " + csv_path, filled, timeout=40)
    with open(csv_path) as f:
        head = f.readline()
    assert head.startswith("#Time,Time_usec,ProducerName,component_id,job_id,app_id,MemTotal,")
    check_rows(rows, SAMPLERS)
    print("\nCSV after fill: %s" % {s: len(rows[s]) for s in SAMPLERS})

    # 100 stop/del/add/start cycles of producer samp1 on l1a
    samp1 = samps[0]

    def ready():
        st, sets = prdcr_state(l1a, "samp1")
        return (
            st == "CONNECTED"
            and sorted(sets) == ["samp1/" + p for p in sorted(PLUGINS)]
            and all(v == "READY" for v in sets.values())
        )

    def cycle(i):
        """stop, wait STOPPED, del, add, start; then, in turn, wait until the sets are
        READY (looked up and updated), only until CONNECTED, or not at all (the next
        stop then hits a connecting producer)."""
        l1a.cmd("prdcr_stop name=samp1")
        wait_until(
            "samp1 STOPPED on l1a",
            lambda: prdcr_state(l1a, "samp1")[0] == "STOPPED",
            timeout=10,
            interval=0.05,
        )
        l1a.cmd("prdcr_del name=samp1")
        l1a.cmd(prdcr_add_cmd("samp1", samp1.port))
        l1a.cmd("prdcr_start name=samp1")

        if i % 2 == 0:
            wait_until("samp1 sets READY on l1a", ready, timeout=15, interval=0.05)
        elif i % 4 == 1:
            wait_until(
                "samp1 CONNECTED on l1a",
                lambda: prdcr_state(l1a, "samp1")[0] == "CONNECTED",
                timeout=15,
                interval=0.05,
            )

    for i in range(CHURN_WARMUP):
        cycle(i)
    wait_until("samp1 sets READY on l1a", ready, timeout=15, interval=0.05)
    fd0, rss0 = settled_fds(l1a.pid), proc_rss_kb(l1a.pid)
    for i in range(CHURN_CYCLES):
        cycle(CHURN_WARMUP + i)
    wait_until("samp1 sets READY on l1a", ready, timeout=15, interval=0.05)
    fd1, rss1 = settled_fds(l1a.pid), proc_rss_kb(l1a.pid)
    print(
        "l1a after %d warm-up cycles: %d fds, RSS %d kB; after %d more: %d fds, RSS %d kB "
        "(%+d kB)" % (CHURN_WARMUP, fd0, rss0, CHURN_CYCLES, fd1, rss1, rss1 - rss0)
    )
    assert fd1 <= fd0, "fd count of l1a grew from %d to %d" % (fd0, fd1)
    if sanitized(l1a.pid):
        print("(ASan build: freed memory sits in its quarantine, RSS growth not checked)")
    else:
        assert rss1 - rss0 <= RSS_BOUND_KB, "RSS of l1a grew by %d kB" % (rss1 - rss0)

    # data of the churned producer flows again to the L2 store; the others never stopped
    last = max(float(r[0]) for r in csv_rows_by_producer(csv_path)["samp1"])
    wait_for_sets(l2.port, all_sets, timeout=30)

    def resumed():
        rows = csv_rows_by_producer(csv_path)
        new = [r for r in rows.get("samp1", []) if float(r[0]) > last]
        return rows if len(new) >= 2 else None

    rows = wait_until("new samp1 rows after the churn", resumed, timeout=30)
    dups = check_rows(rows, SAMPLERS, allow_dups=("samp1",))
    print("CSV after churn: %s; repeated samp1 rows (re-lookups): %d" % (
        {s: len(rows[s]) for s in SAMPLERS}, dups["samp1"]))

    # errors on the live tree: non-zero exit, message, daemons unaffected
    r = l1a.ctl("--cmd", "prdcr_add name=x host=127.0.0.1 port=1 xprt=sock type=active "
                "reconnect=1s regex=.*")
    assert r.returncode != 0 and "regex" in r.stdout, r.stdout + r.stderr
    r = l2.ctl("--cmd", "no_such_command name=x")
    assert r.returncode != 0 and "no_such_command" in r.stdout, r.stdout + r.stderr
    for d in samps + [l1a, l1b, l2]:
        assert d.alive(), "%s died:\n%s" % (d.name, d.output()[-2000:])
    for name in ("l1a", "l1b"):
        assert prdcr_state(l2, name)[0] == "CONNECTED"
    upd = l2.status("updtr_status")
    assert [u["state"] for u in upd] == ["RUNNING"], upd
    strgp = l2.status("strgp_status")
    assert [s["state"] for s in strgp] == ["RUNNING"], strgp


# ---- controller errors ---------------------------------------------------------------

BAD_ATTRIBUTES = [
    # an attribute name that no command knows
    pytest.param(
        "prdcr_add name=p1 host=127.0.0.1 port=1 xprt=sock type=active reconnect=1s intrval=1s",
        "intrval",
        id="intrval",
    ),
    pytest.param("updtr_add name=u1 interval=1s ofset=100ms", "ofset", id="ofset"),
    # a known attribute that this command does not take
    pytest.param("updtr_add name=u1 interval=1s regex=.*", "regex", id="regex"),
    pytest.param("prdcr_start name=p0 schema=meminfo", "schema", id="schema"),
    # a required attribute missing
    pytest.param("updtr_add name=u1", "interval", id="interval-missing"),
    pytest.param(
        "prdcr_add name=p1 host=127.0.0.1 port=1 xprt=sock reconnect=1s",
        "type",
        id="type-missing",
    ),
    # a bad value
    pytest.param(
        "prdcr_add name=p1 host=127.0.0.1 port=1 xprt=sock type=bogus reconnect=1s",
        "type",
        id="type-value",
    ),
    pytest.param("updtr_add name=u1 interval=soon", "interval", id="interval-value"),
]


@pytest.mark.parametrize("cmd,attr", BAD_ATTRIBUTES)
def test_controller_bad_attribute(bare_ldmsd_factory, cmd, attr):
    d = bare_ldmsd_factory("agg")
    need_aggregation(d)
    d.cmd(prdcr_add_cmd("p0", 1))
    r = d.ctl("--cmd", cmd)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "'%s'" % attr in out or " %s " % attr in out or "%s=" % attr in out, out
    assert "Error 22" in out or "EINVAL" in out or "Invalid" in out or "invalid" in out, out
    assert d.alive()
    # nothing half-made: the object is absent (or, for p0, unchanged) and names are free
    assert d.status("prdcr_status name=p1") in (None, [])
    assert d.status("updtr_status name=u1") in (None, [])
    assert prdcr_state(d, "p0")[0] == "STOPPED"
    d.cmd(prdcr_add_cmd("p1", 1))
    d.cmd("updtr_add name=u1 interval=1s")


UNKNOWN_COMMANDS = ["no_such_command name=x", "prdcr_frobnicate name=p0"]


@pytest.mark.parametrize("cmd", UNKNOWN_COMMANDS)
def test_controller_unknown_command(bare_ldmsd_factory, cmd):
    d = bare_ldmsd_factory("agg")
    r = d.ctl("--cmd", cmd)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    verb = cmd.split()[0]
    assert verb in out, out
    assert "Unknown syntax" in out or "ENOSYS" in out or "Error 38" in out, out
    assert d.alive()
    d.cmd("daemon_status")


def test_controller_source_goes_on_after_an_error(bare_ldmsd_factory, tmp_path):
    """A --source file with a bad line: the good lines around it are applied, the bad
    one is reported with its attribute, and the exit status is non-zero."""
    d = bare_ldmsd_factory("agg")
    need_aggregation(d)
    path = tmp_path / "mixed.ctl"
    path.write_text(
        prdcr_add_cmd("good1", 1) + "\n"
        "updtr_add name=bad interval=1s regex=.*\n"
        "no_such_command x=1\n" + prdcr_add_cmd("good2", 2) + "\n"
    )
    r = d.ctl("--source", str(path))
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "regex" in out and "no_such_command" in out, out
    names = sorted(p["name"] for p in d.status("prdcr_status"))
    assert names == ["good1", "good2"]
    assert d.status("updtr_status name=bad") in (None, [])
    assert d.alive()


# ---- object life cycle at runtime -------------------------------------------------------


def err(d, cmd, errno_, word):
    """The command fails: non-zero exit, `Error <errno>` and `word` in the message."""
    r = d.ctl("--cmd", cmd)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and ("Error %d" % errno_) in out and word in out, (cmd, out)


def test_runtime_object_life_cycle(bare_ldmsd_factory, tmp_path):
    """prdcr/updtr/strgp created, refused while in use (EEXIST, EBUSY, ENOENT), an
    updater restricted to one schema, a strgp with a metric subset stopped and
    restarted without repeated rows, then everything torn down at runtime."""
    samp, agg = bare_ldmsd_factory("samp1"), bare_ldmsd_factory("agg")
    need_aggregation(agg)
    samp.source(sampler_cmds("samp1", 1))
    csv_root = str(tmp_path / "csv")
    csv_path = os.path.join(csv_root, "c", "meminfo")

    agg.cmd(prdcr_add_cmd("samp1", samp.port))
    err(agg, prdcr_add_cmd("samp1", samp.port), 17, "exists")
    agg.cmd("prdcr_start name=samp1")
    err(agg, "prdcr_start name=samp1", 16, "samp1")
    err(agg, "prdcr_del name=samp1", 16, "samp1")
    err(agg, "prdcr_start name=nosuch", 2, "nosuch")

    agg.source([
        "updtr_add name=u interval=1s offset=100ms",
        "updtr_prdcr_add name=u regex=.*",
        "updtr_match_add name=u regex=^meminfo$ match=schema",
        "updtr_start name=u",
    ])
    err(agg, "updtr_add name=u interval=1s", 17, "exists")
    err(agg, "updtr_prdcr_add name=u regex=x", 16, "u")
    err(agg, "updtr_del name=u", 16, "u")

    agg.script([
        "load name=store_csv",
        "config name=store_csv path=%s buffer=0" % csv_root,
        "strgp_add name=s plugin=store_csv container=c schema=meminfo",
        "strgp_metric_add name=s metric=MemFree",
        "strgp_metric_add name=s metric=MemAvailable",
        "strgp_start name=s",
    ])
    err(agg, "strgp_add name=s plugin=store_csv container=c schema=meminfo", 17, "exists")
    err(agg, "strgp_metric_add name=s metric=Cached", 16, "s")
    err(agg, "strgp_del name=s", 16, "s")
    err(agg, "term name=store_csv", 16, "store_csv")

    def rows(n):
        got = csv_rows_by_producer(csv_path).get("samp1", [])
        return got if len(got) >= n else None

    first = wait_until("3 rows in " + csv_path, lambda: rows(3), timeout=30)
    with open(csv_path) as f:
        assert f.readline() == "#Time,Time_usec,ProducerName,MemFree,MemAvailable\n"
    # the updater pulls only the meminfo schema: vmstat is never updated
    st = {s["inst_name"]: s for s in agg.status("prdcr_set_status")}
    assert st["samp1/meminfo"]["timestamp.sec"] != "0", st
    assert st["samp1/vmstat"]["timestamp.sec"] in ("0", 0), st

    agg.cmd("strgp_stop name=s")
    time.sleep(2.5)
    agg.cmd("strgp_start name=s")
    after = wait_until("rows after strgp_start", lambda: rows(len(first) + 3), timeout=30)
    times = [float(r[0]) for r in after]
    assert all(a < b for a, b in zip(times, times[1:])), times

    agg.source([
        "strgp_stop name=s",
        "strgp_del name=s",
        "updtr_stop name=u",
        "updtr_del name=u",
        "prdcr_stop name=samp1",
    ])
    wait_until("samp1 STOPPED", lambda: prdcr_state(agg, "samp1")[0] == "STOPPED", timeout=10)
    agg.cmd("prdcr_del name=samp1")
    agg.cmd("term name=store_csv")
    assert agg.status("prdcr_status") == []
    assert agg.status("updtr_status") == []
    assert agg.status("strgp_status") == []
    assert agg.alive() and samp.alive()
