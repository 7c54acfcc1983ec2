"""End-to-end tests of the maestro daemon (issue 5) on loopback: 9 samplers, one group of
3 L1 aggregators and an L2 storing with store_csv, all started empty and configured by
maestro only over the control protocol, in embedded mode (--ldms_config) and in etcd
mode (maestro_ctrl --cluster, then maestro --cluster/--prefix).

The scenario, per mode:
  * every producer is collected and stored at L2;
  * kill -9 of an L1 that runs producers: its producers are collected by the other two
    L1s within 3 s (delay measured at L1: the survivors hold copies updated after the
    kill; and at L2: a row sampled after the kill is stored), at most ceil(9/3)+1
    producer moves, only the dead L1's producers move;
  * the L1 restarted empty: reconfigured, takes back a share within 3 s, at most
    ceil(9/3)+1 moves;
  * the L2 CSV: rows ordered and unique per producer, no gap longer than one interval
    for producers that never moved, and for moved producers no gap longer than the
    measured L2 delay plus one interval (+0.5 s for the sampling grid);
  * the sampler interval changed in the YAML (file change / maestro_ctrl reload): the
    stored period becomes the new one within 2 new intervals (+ the L1/L2 pipeline),
    without restarting any daemon and without maestro hanging;
  * maestro killed and restarted: no producer moves, nothing is restarted.
Separately: balancing by set survives a failure and a recovery with every set held by
exactly one L1; a stopped (SIGSTOP) L1 is detected by the daemon_status deadline;
`maestro --status` prints health, producers and the last rebalance.
Measured delays are printed (pytest -s) and appended to $LDMSC_E2E_RESULTS if set.
"""

import json
import math
import os
import signal
import subprocess
import time

import pytest

from conftest import need
from maestro_fixture import (
    LDMS_LS,
    LDMSD_CONTROLLER,
    MAESTRO,
    MAESTRO_CTRL,
    Cluster,
    Maestro,
    max_gap,
    moved_between,
    plugin_built,
    wait_until,
)

N_SAMP, N_L1 = 9, 3
MAX_MOVES = math.ceil(N_SAMP / N_L1) + 1
INTERVAL = 1.0


def record(name, **values):
    print("\n[maestro e2e] %s: %s" % (name, json.dumps(values, sort_keys=True)))
    path = os.environ.get("LDMSC_E2E_RESULTS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(dict(test=name, **values)) + "\n")


def needs():
    need(MAESTRO, LDMS_LS, LDMSD_CONTROLLER)
    for p in ("meminfo", "store_csv"):
        if not plugin_built(p):
            pytest.skip("plugin not built: " + p)


@pytest.fixture
def cluster(tmp_path):
    needs()
    c = Cluster(tmp_path, N_SAMP, N_L1)
    try:
        c.start()
        yield c
    finally:
        c.stop()


@pytest.fixture
def etcd(tmp_path):
    from etcd_fixture import EtcdCluster, etcd_available

    if not etcd_available():
        pytest.skip("etcd not installed")
    need(MAESTRO_CTRL)
    with EtcdCluster(tmp_path, members=1) as e:
        yield e


def ctrl_load(etcd_yaml, yaml_path, prefix):
    out = subprocess.run(
        [MAESTRO_CTRL, "--cluster", etcd_yaml, "--ldms_config", yaml_path, "--prefix", prefix],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def sset(producer):
    """the meminfo set of a sampler producer ("samp-4-ep" -> "samp-4/meminfo1")"""
    return producer[: -len("-ep")] + "/meminfo1"


def sname(producer):
    return producer[: -len("-ep")]


def all_stored(c, t_after=0.0, schema="meminfo"):
    rows = c.csv_rows(schema)
    return all(any(t > t_after for t in rows.get(s, [])) for s in c.samplers)


def collected_by(c, producers, aggs, t_after):
    """Every producer's set held by one of aggs with an update after t_after."""
    held = {}
    for a in aggs:
        held.update({k: v for k, v in c.agg_sets(a).items() if k not in held or v > held[k]})
    return all(held.get(sset(p), 0) > t_after for p in producers)


def check_csv(c, moved, allowed_gap, t0, t_end):
    rows = c.csv_rows()
    for s in c.samplers:
        ts = rows.get(s, [])
        assert ts == sorted(ts), "%s: rows out of order" % s
        assert len(ts) == len(set(ts)), "%s: duplicate rows" % s
        g = max_gap(ts, t0, t_end)
        if s + "-ep" in moved:
            assert g <= allowed_gap, "%s moved: gap %.2fs > %.2fs" % (s, g, allowed_gap)
        else:
            assert g <= 1.5 * INTERVAL, "%s never moved: gap %.2fs (a lost sample)" % (s, g)


def scenario(c, m, reload_config, name):
    """The whole issue-5 scenario on a started cluster and a started maestro."""
    # ---- everything collected and stored ------------------------------------------------
    wait_until(lambda: all_stored(c), 40, "rows of every sampler at L2")
    before = wait_until(
        lambda: (lambda a: a if a and sum(len(v) for v in a.values()) == N_SAMP else None)(
            m.assignment()), 10, "a complete assignment in --status")
    t0 = time.time()
    time.sleep(2.5)

    # ---- kill -9 an L1 that runs producers ------------------------------------------------
    victim = sorted(a for a in before if before[a])[0]
    survivors = [a for a in c.l1 if a != victim]
    lost = before[victim]
    t_kill = time.time()
    c.kill(victim)
    after = wait_until(
        lambda: (lambda a: a if a and not a.get(victim) and
                 sum(len(v) for v in a.values()) == N_SAMP else None)(m.assignment()),
        10, "the dead L1's producers reassigned")
    wait_until(lambda: collected_by(c, lost, survivors, t_kill), 10,
               "the dead L1's producers collected by the survivors")
    d_l1 = time.time() - t_kill
    wait_until(lambda: all(any(t > t_kill for t in c.csv_rows().get(sname(p), []))
                           for p in lost), 15, "moved producers stored at L2")
    d_l2 = time.time() - t_kill
    moves_fail = moved_between(before, after)
    assert sorted(moves_fail) == sorted(lost), "only the dead L1's producers move"
    assert len(moves_fail) <= MAX_MOVES
    st = m.status()
    assert st["last_rebalance"]["moved"] <= MAX_MOVES
    assert victim in st["last_rebalance"]["reason"]
    assert d_l1 <= 3.0, "failover took %.2fs" % d_l1

    # ---- restart it empty ---------------------------------------------------------------------
    time.sleep(2)
    t_restart = time.time()
    c.restart(victim)
    back = wait_until(
        lambda: (lambda a: a if a and a.get(victim) and
                 sum(len(v) for v in a.values()) == N_SAMP else None)(m.assignment()),
        10, "the restarted L1 taking back a share")
    wait_until(lambda: collected_by(c, back[victim], [victim], t_restart), 10,
               "the restarted L1 collecting its share")
    d_rec = time.time() - t_restart
    wait_until(lambda: all(any(t > t_restart + 0.5 for t in c.csv_rows().get(sname(p), []))
                           for p in back[victim]), 15, "its share stored at L2")
    d_rec_l2 = time.time() - t_restart
    moves_rec = moved_between(after, back)
    assert len(moves_rec) <= MAX_MOVES
    assert set(moves_rec) == set(back[victim]), "only producers taken back move"
    assert d_rec <= 3.0, "recovery took %.2fs" % d_rec
    time.sleep(3)
    t_end = time.time() - 1.5
    moved = set(moves_fail) | set(moves_rec)
    allowed = max(d_l2, d_rec_l2) + INTERVAL + 0.5
    check_csv(c, moved, allowed, t0, t_end)
    record(name + ":failover", victim=victim, failover_delay_l1_s=round(d_l1, 3),
           failover_delay_l2_s=round(d_l2, 3), moves_on_failure=len(moves_fail),
           recovery_delay_l1_s=round(d_rec, 3), recovery_delay_l2_s=round(d_rec_l2, 3),
           moves_on_recovery=len(moves_rec),
           max_gap_moved_s=round(max(max_gap(c.csv_rows().get(sname(p), []), t0, t_end)
                                     for p in moved), 3))

    # ---- sampler interval 1s -> 2s through the configuration ---------------------------------
    pids = c.pids()
    t_change = time.time()
    reload_config("2s")
    new_iv = 2.0

    def new_period():
        rows = c.csv_rows()
        for s in c.samplers:
            ts = [t for t in rows.get(s, []) if t >= t_change + 2 * new_iv]
            if len(ts) < 2:
                return False
        return True

    wait_until(new_period, 20, "rows sampled with the new interval")
    d_iv = time.time() - t_change
    rows = c.csv_rows()
    for s in c.samplers:
        ts = [t for t in rows[s] if t >= t_change + 2 * new_iv]
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        assert all(abs(g - new_iv) < 0.3 for g in gaps), "%s: period %s" % (s, gaps)
    assert c.pids() == pids, "no daemon restarted"
    log = m.log()
    assert "stop name=meminfo1" in log and "start name=meminfo1 interval=2000000" in log
    assert "term name=meminfo1" not in log
    assert m.alive()
    record(name + ":interval", seen_after_s=round(d_iv, 3))

    # ---- maestro killed and restarted: nothing moves ----------------------------------------
    assign = m.assignment()
    running = {a: c.running_producers(a) for a in c.l1}
    m.kill()
    t_mk = time.time()
    old_log_len = len(m.log())
    m.start()
    wait_until(lambda: (m.status() or {}).get("pid") == m.pid and
               (m.status() or {}).get("stats", {}).get("passes", 0) >= 1,
               20, "the new maestro's first pass")
    time.sleep(2)
    new_log = m.log()[old_log_len:]
    assert m.assignment() == assign
    assert {a: c.running_producers(a) for a in c.l1} == running
    assert "Moving producer" not in new_log
    assert "prdcr_start name=" not in new_log and "prdcr_stop name=" not in new_log
    assert "adopted" in new_log
    time.sleep(2)
    rows = c.csv_rows()
    for s in c.samplers:
        assert max_gap(rows[s], t_mk - 2, time.time() - 2) <= new_iv * 1.5, s
    record(name + ":maestro_restart", moves=0)


def test_embedded_mode(cluster, tmp_path):
    c = cluster
    c.write_yaml()
    m = Maestro(tmp_path, ["--ldms_config", c.yaml_path], ["--ldms_config", c.yaml_path])
    m.start()
    try:
        scenario(c, m, lambda iv: c.write_yaml(iv), "embedded")
        out = m.status(human=True)
        assert out.returncode == 0
        assert "l1-1" in out.stdout and "LAST REBALANCE" in out.stdout
    finally:
        m.stop()


def test_etcd_mode(cluster, etcd, tmp_path):
    c = cluster
    ey = etcd.etcd_yaml(tmp_path / "etcd.yaml")
    c.write_yaml()
    ctrl_load(ey, c.yaml_path, "e2e")
    m = Maestro(tmp_path, ["--cluster", ey, "--prefix", "e2e"],
                ["--cluster", ey, "--prefix", "e2e"])
    m.start()
    try:

        def reload(iv):
            c.write_yaml(iv)
            ctrl_load(ey, c.yaml_path, "e2e")

        scenario(c, m, reload, "etcd")
        assert "Change in etcd cluster configuration. Reconfiguring..." in m.log()
        # the state is kept under the prefix
        assert json.loads(etcd.get("/e2e/maestro/status")[0])["pid"] == m.pid
    finally:
        m.stop()


def test_etcd_unreachable_keeps_daemons(cluster, etcd, tmp_path):
    """etcd going away changes nothing on the daemons; a reload after it is back applies."""
    c = cluster
    ey = etcd.etcd_yaml(tmp_path / "etcd.yaml")
    c.write_yaml()
    ctrl_load(ey, c.yaml_path, "e2e")
    m = Maestro(tmp_path, ["--cluster", ey, "--prefix", "e2e"],
                ["--cluster", ey, "--prefix", "e2e"])
    m.start()
    try:
        wait_until(lambda: all_stored(c), 40, "rows of every sampler at L2")
        running = {a: c.running_producers(a) for a in c.l1}
        etcd.stop()
        t = time.time()
        time.sleep(4)
        assert m.alive()
        assert {a: c.running_producers(a) for a in c.l1} == running
        wait_until(lambda: all_stored(c, t + 1), 10, "collection going on without etcd")
        assert "etcd unreachable" in m.log() or "Unable to connect to etcd" in m.log()
    finally:
        m.stop()


def test_multi_instance(cluster, etcd, tmp_path):
    """Two maestro instances (maestro_members): every daemon is managed by exactly one;
    when one dies its groups are taken over after its lease without moving a producer;
    the survivor handles an L1 failure; the dead one back takes its groups again, still
    without moving anything."""
    c = cluster
    ey = etcd.etcd_yaml(tmp_path / "etcd.yaml")
    with open(ey, "a") as f:
        f.write("maestro_members:\n  - host: 127.0.0.1\n    port: 4411\n"
                "  - host: 127.0.0.1\n    port: 4412\n")
    c.write_yaml()
    ctrl_load(ey, c.yaml_path, "e2e")
    ids = ["127.0.0.1:4411", "127.0.0.1:4412"]
    ms = [Maestro(tmp_path, ["--cluster", ey, "--prefix", "e2e", "--member", i,
                             "--member-ttl", "3"], [], name="maestro-" + i[-4:]) for i in ids]

    def states():
        out = {}
        for i in ids:
            v = etcd.get("/e2e/maestro/status/" + i)[0]
            out[i] = json.loads(v) if v else None
        return out

    def managers():
        """{daemon: [instances that have it up]} and the L1 assignment of its manager"""
        who, assign = {}, None
        for i, st in states().items():
            if not st:
                continue
            for d in st["daemons"]:
                if d["health"] == "up":
                    who.setdefault(d["name"], []).append(i)
            for g in st["groups"]:
                if g["group"].startswith("l1-") and not g.get("elsewhere"):
                    assign = {a["name"]: sorted(a["producers"]) for a in g["aggregators"]}
        return who, assign

    def split_ok(live):
        who, assign = managers()
        if sorted(who) != sorted(c.names) or any(len(v) != 1 for v in who.values()):
            return None
        if not all(v[0] in live for v in who.values()):
            return None
        if not assign or sum(len(v) for v in assign.values()) != N_SAMP:
            return None
        return who, assign

    def both_managing():
        """split_ok over both instances, each managing some (one reading of the state:
        it may change between two)"""
        r = split_ok(ids)
        return r if r and len(set(v[0] for v in r[0].values())) == 2 else None

    try:
        for m in ms:
            m.start()
        # the first instance up may take every group until the second one joins:
        # wait for the split, not for the first complete assignment
        who, assign = wait_until(both_managing, 40, "the daemons split over 2 instances")
        wait_until(lambda: all_stored(c), 40, "rows of every sampler at L2")
        running = {a: c.running_producers(a) for a in c.l1}
        first = who["l1-1"][0]
        k = ids.index(first)
        t = time.time()
        ms[k].kill()
        other = ids[1 - k]
        who2, assign2 = wait_until(lambda: split_ok([other]), 20, "the survivor managing all")
        d_take = time.time() - t
        assert assign2 == assign
        assert {a: c.running_producers(a) for a in c.l1} == running
        assert "Moving producer" not in ms[1 - k].log()
        # the survivor handles an aggregator failure
        victim = sorted(a for a in assign2 if assign2[a])[0]
        c.kill(victim)
        def failed_over():
            a = managers()[1]
            return a and not a.get(victim) and sum(len(v) for v in a.values()) == N_SAMP

        wait_until(failed_over, 10, "the L1 failure handled by the survivor")
        c.restart(victim)
        wait_until(lambda: (lambda w, a: a and a.get(victim))(*managers()), 15,
                   "the L1 back")
        time.sleep(2)
        running = {a: c.running_producers(a) for a in c.l1}
        _, assign3 = managers()
        log_len = len(ms[k].log())
        ms[k].start()
        wait_until(both_managing, 30, "both instances managing again")
        time.sleep(2)
        assert managers()[1] == assign3
        assert {a: c.running_producers(a) for a in c.l1} == running
        assert "Moving producer" not in ms[k].log()[log_len:]
        record("multi_instance", takeover_s=round(d_take, 3))
    finally:
        for m in ms:
            m.stop()


def test_by_sets(tmp_path):
    """--rebalance sets: every set held by exactly one L1, through a failure and a
    recovery; every set keeps being stored at L2."""
    needs()
    if not plugin_built("vmstat"):
        pytest.skip("vmstat not built")
    c = Cluster(tmp_path, N_SAMP, N_L1, plugins=("meminfo", "vmstat"))
    m = None
    try:
        c.start()
        c.write_yaml()
        m = Maestro(tmp_path, ["--ldms_config", c.yaml_path, "--rebalance", "sets"],
                    ["--ldms_config", c.yaml_path])
        m.start()
        all_sets = sorted("%s/%s1" % (s, p) for s in c.samplers for p in c.plugins)

        def partition_ok(live):
            sa = m.set_assignment()
            if not sa:
                return None
            owned = [x for a in live for x in sa.get(a, [])]
            if sorted(owned) != all_sets:
                return None
            held = {a: set(c.agg_sets(a)) for a in live}
            for s in all_sets:
                if sum(s in h for h in held.values()) != 1:
                    return None
            return sa

        def stored_after(t):
            return all(all_stored(c, t, p) for p in c.plugins)

        wait_until(lambda: partition_ok(c.l1), 40, "every set on exactly one L1")
        wait_until(lambda: stored_after(0), 30, "every set stored at L2")
        sa = m.set_assignment()
        victim = max(sa, key=lambda a: len(sa[a]))
        live = [a for a in c.l1 if a != victim]
        t_kill = time.time()
        c.kill(victim)
        wait_until(lambda: partition_ok(live), 15, "sets of the dead L1 moved")
        d_fail = time.time() - t_kill
        wait_until(lambda: stored_after(t_kill + 1), 20, "every set stored after the failure")
        moves_fail = m.status()["last_rebalance"]["moved"]
        t_rec = time.time()
        c.restart(victim)
        wait_until(lambda: (partition_ok(c.l1) or {}).get(victim), 15,
                   "the restarted L1 owning sets again")
        d_rec = time.time() - t_rec
        wait_until(lambda: stored_after(time.time() - 0.5) and stored_after(t_rec + 2), 20,
                   "every set stored after the recovery")
        moves_rec = m.status()["last_rebalance"]["moved"]
        assert moves_rec <= math.ceil(len(all_sets) / N_L1) + 1
        for p in c.plugins:
            rows = c.csv_rows(p)
            for s in c.samplers:
                ts = rows.get(s, [])
                assert len(ts) == len(set(ts)), "%s %s: duplicate rows" % (s, p)
        record("by_sets", failover_s=round(d_fail, 3), recovery_s=round(d_rec, 3),
               set_moves_failure=moves_fail, set_moves_recovery=moves_rec)
    finally:
        if m:
            m.stop()
        c.stop()


def test_hung_aggregator(tmp_path):
    """A stopped L1 (SIGSTOP) keeps its connections open: only the daemon_status
    deadline notices it; its producers move; after SIGCONT it is taken back."""
    needs()
    c = Cluster(tmp_path, 4, 2, l2=False)
    m = None
    try:
        c.start()
        c.write_yaml()
        m = Maestro(tmp_path, ["--ldms_config", c.yaml_path], ["--ldms_config", c.yaml_path])
        m.start()
        before = wait_until(
            lambda: (lambda a: a if a and sum(len(v) for v in a.values()) == 4 else None)(
                m.assignment()), 30, "a complete assignment")
        victim = sorted(a for a in before if before[a])[0]
        other = [a for a in c.l1 if a != victim][0]
        os.kill(c.d[victim].pid, signal.SIGSTOP)
        t = time.time()
        try:
            wait_until(lambda: len((m.assignment() or {}).get(other) or ()) == 4, 10,
                       "the hung L1's producers moved")
            d = time.time() - t
            assert "hung" in m.log()
            wait_until(lambda: len(c.running_producers(other)) == 4, 10, "all on the other L1")
        finally:
            os.kill(c.d[victim].pid, signal.SIGCONT)
        wait_until(lambda: (m.assignment() or {}).get(victim), 15, "the L1 taken back")
        wait_until(lambda: sorted(c.running_producers(victim) + c.running_producers(other)) ==
                   sorted("samp-%d-ep" % i for i in range(1, 5)), 15,
                   "every producer running on exactly one L1")
        record("hung", detect_and_move_s=round(d, 3))
    finally:
        if m:
            m.stop()
        c.stop()


def test_status_without_maestro(tmp_path):
    need(MAESTRO)
    out = subprocess.run([MAESTRO, "--status", "--ldms_config", str(tmp_path / "none.yaml")],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 1
    assert "no state" in out.stderr


def test_bad_options(tmp_path):
    need(MAESTRO)
    out = subprocess.run([MAESTRO, "--cluster", "x.yaml", "--prefix", "p", "--rebalance", "x"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 1
    assert '"rebalance" parameter must be assigned to either "sets" or "producers"' in out.stderr
    out = subprocess.run([MAESTRO], capture_output=True, text=True, timeout=10)
    assert out.returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("daemons: [\n")
    out = subprocess.run([MAESTRO, "--ldms_config", str(bad)], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 1
    assert "bad.yaml:" in out.stderr
