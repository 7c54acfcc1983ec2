"""End-to-end tests of push updaters and of producers whose peer connects to the
aggregator (issue 3): a test_sampler set whose `count` grows by one per sample is
stored by an L1 with `updtr_add ... push=onchange` (a long pull interval, so only
pushes can store every sample) and, pushed on by L1, by an L2; a sampler advertises itself
(`advertiser_add/start`) to an aggregator with `prdcr_listen_add`; a sampler's
bridge connects to an aggregator's `type=passive` producer. Every one survives the
peer being killed and restarted. Every wait is bounded; every daemon is stopped.
"""

import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import BUILD, need

LDMSD_CONTROLLER = os.path.join(BUILD, "bin", "ldmsd_controller")
STORE_CSV = os.path.join(BUILD, "lib", "ldms-c", "libstore_csv.so")
TEST_SAMPLER = os.path.join(BUILD, "lib", "ldms-c", "libtest_sampler.so")

SAMPLER_CONF = """\
# sampler {name}: one set whose `count` grows by one per sample
load name=ts plugin=test_sampler
config name=ts action=add_schema schema=pcount metrics=component_id:meta:u64:{cid}:1:,count:data:u64:0:1:
config name=ts action=add_set instance={name}/ts schema=pcount producer={name} component_id={cid}
start name=ts interval=200ms
"""

STORE = """\
load name=csv plugin=store_csv
config name=csv path={path} buffer=0
strgp_add name=st plugin=csv container=c schema=pcount
strgp_start name=st
"""


def ctl(port, cmd, timeout=20):
    """One ldmsd_controller --json command; returns the decoded reply."""
    out = subprocess.run(
        [LDMSD_CONTROLLER, "--host", "127.0.0.1", "--port", str(port), "--xprt", "sock",
         "--auth", "none", "--json", "--cmd", cmd],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def counts(path):
    """{producer: [count values in file order]}."""
    rows, col = {}, None
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return rows
    for line in lines:
        cols = line.split(",")
        if line.startswith("#"):
            col = cols.index("count")
            ncol = len(cols)
            continue
        if col is None or len(cols) != ncol:
            continue  # a line being written
        rows.setdefault(cols[2], []).append(int(cols[col]))
    return rows


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def kill_hard(d):
    proc, d.proc = d.proc, None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def consecutive_tail(vals, n):
    """The last n values are consecutive integers (every sample stored once)."""
    tail = vals[-n:]
    return len(tail) == n and all(b == a + 1 for a, b in zip(tail, tail[1:]))


def prdcr(port, name):
    return next((p for p in ctl(port, "prdcr_status")["msg"] if p["name"] == name), None)


def needs():
    need(LDMSD_CONTROLLER, STORE_CSV)
    if not os.path.exists(TEST_SAMPLER):
        pytest.skip("test_sampler not built")


def test_push_onchange_stores_every_sample(ldmsd_factory, tmp_path):
    needs()
    csv = str(tmp_path / "c" / "pcount")
    s = ldmsd_factory("s1", SAMPLER_CONF.format(name="s1", cid=1))
    # pulling every 3 s would store one sample in 15: pushes must store them all
    l1 = ldmsd_factory("l1", (
        "prdcr_add name=s1 host=127.0.0.1 port=%d xprt=sock type=active reconnect=500ms\n"
        "prdcr_start name=s1\n"
        "updtr_add name=u interval=3s push=onchange\n"
        "updtr_prdcr_add name=u regex=.*\n"
        "updtr_start name=u\n" % s.port) + STORE.format(path=tmp_path))

    # L2 registers push on L1's mirror: L1 pushes it on after every push it applies
    l2dir = tmp_path / "l2"
    l2 = ldmsd_factory("l2", (
        "prdcr_add name=l1 host=127.0.0.1 port=%d xprt=sock type=active reconnect=500ms\n"
        "prdcr_start name=l1\n"
        "updtr_add name=u2 interval=3s push=onchange\n"
        "updtr_prdcr_add name=u2 regex=.*\n"
        "updtr_start name=u2\n" % l1.port) + STORE.format(path=l2dir))
    csv2 = str(l2dir / "c" / "pcount")

    wait_until(lambda: consecutive_tail(counts(csv).get("s1", []), 15), 40,
               "15 consecutive samples of s1 in %s" % csv)
    vals = counts(csv)["s1"]
    assert vals == sorted(set(vals)), "duplicates or disorder: %s" % vals
    wait_until(lambda: consecutive_tail(counts(csv2).get("s1", []), 10), 40,
               "10 consecutive samples of s1 at L2 (%s)" % csv2)
    l2.stop()
    upd = ctl(l1.port, "updtr_status")["msg"][0]
    assert upd["mode"] == "Push on Change" and upd["state"] == "RUNNING"
    assert ctl(l1.port, "strgp_status")["msg"][0]["store_errors"] == 0

    # the sampler crashes and comes back: a new mirror registers again, counting
    # starts over and every new sample arrives
    n0 = len(vals)
    kill_hard(s)
    wait_until(lambda: prdcr(l1.port, "s1")["state"] in ("DISCONNECTED", "CONNECTING"), 15,
               "s1 DISCONNECTED")
    time.sleep(1)
    s.start()
    wait_until(lambda: consecutive_tail(counts(csv)["s1"][n0:], 10), 40,
               "10 consecutive samples after the sampler's restart")

    # the aggregator crashes and comes back: pushes resume into the same file
    n1 = len(counts(csv)["s1"])
    kill_hard(l1)
    time.sleep(1)
    l1.start()
    wait_until(lambda: consecutive_tail(counts(csv)["s1"][n1:], 10), 40,
               "10 consecutive samples after the aggregator's restart")
    # stopping the updater stops the pushes: nothing more is stored
    ctl(l1.port, "updtr_stop name=u")
    wait_until(lambda: ctl(l1.port, "updtr_status")["msg"][0]["state"] == "STOPPED", 10,
               "the updater STOPPED")

    # a push applied just before the stop may still be on its way into the file
    # (a loaded machine): wait until the count holds over 5 sampling intervals
    def settled():
        n = len(counts(csv)["s1"])
        time.sleep(1.0)
        return n if len(counts(csv)["s1"]) == n else None

    n2 = wait_until(settled, 20, "no more rows after updtr_stop")
    time.sleep(1.5)
    assert len(counts(csv)["s1"]) == n2


def test_advertised_producer(ldmsd_factory, tmp_path):
    needs()
    csv = str(tmp_path / "c" / "pcount")
    agg = ldmsd_factory("agg", (
        "prdcr_listen_add name=pl regex=.* ip=127.0.0.0/8\n"
        "prdcr_listen_start name=pl\n"
        "updtr_add name=u interval=500ms\n"
        "updtr_prdcr_add name=u regex=.*\n"
        "updtr_start name=u\n") + STORE.format(path=tmp_path))
    s = ldmsd_factory("s2", SAMPLER_CONF.format(name="s2", cid=2) + (
        "advertiser_add name=adv xprt=sock host=127.0.0.1 port=%d reconnect=500ms\n"
        "advertiser_start name=adv\n" % agg.port))
    pname = "%s:%d" % (socket.gethostname(), s.port)

    wait_until(lambda: len(counts(csv).get("s2", [])) >= 5, 40, "rows of s2")
    p = prdcr(agg.port, pname)
    assert p["type"] == "advertised, passive" and p["state"] == "CONNECTED"
    assert [x["inst_name"] for x in p["sets"]] == ["s2/ts"]
    pl = ctl(agg.port, "prdcr_listen_status")["msg"]
    assert pl[0]["name"] == "pl" and pl[0]["state"] == "running"
    assert pl[0]["producers"] == [pname] and pl[0]["IP range"] == "127.0.0.0/8"
    adv = prdcr(s.port, "adv")
    assert adv["type"] == "advertiser" and adv["state"] == "CONNECTED"
    assert "accepted by" in s.log()

    # the sampler crashes and comes back (same port): it advertises again and
    # the same producer takes its new connection
    kill_hard(s)
    wait_until(lambda: prdcr(agg.port, pname)["state"] == "DISCONNECTED", 15,
               "%s DISCONNECTED" % pname)
    n0 = len(counts(csv)["s2"])
    s.start()
    wait_until(lambda: len(counts(csv)["s2"]) >= n0 + 5, 40, "rows after the sampler's restart")
    assert prdcr(agg.port, pname)["state"] == "CONNECTED"

    # the aggregator crashes and comes back: the advertiser reconnects and the
    # producer is created again
    kill_hard(agg)
    wait_until(lambda: prdcr(s.port, "adv")["state"] != "CONNECTED", 15, "adv disconnected")
    n1 = len(counts(csv)["s2"])
    agg.start()
    wait_until(lambda: len(counts(csv)["s2"]) >= n1 + 5, 40, "rows after the aggregator's restart")

    # an advertisement that matches no prdcr_listen is refused; the advertiser retries
    ctl(agg.port, "prdcr_listen_stop name=pl")
    kill_hard(s)
    s.start()
    wait_until(lambda: "doesn't match any `prdcr_listen`" in s.log(), 15, "the refusal logged")
    ctl(agg.port, "prdcr_listen_start name=pl")
    wait_until(lambda: prdcr(agg.port, pname)["state"] == "CONNECTED", 15,
               "accepted again once prdcr_listen runs")
    # the advertiser's stop ends the connection; the producer waits
    ctl(s.port, "advertiser_stop name=adv")
    wait_until(lambda: prdcr(agg.port, pname)["state"] == "DISCONNECTED", 15, "producer waiting")
    assert ctl(s.port, "advertiser_del name=adv")["rc"] == 0


def test_passive_producer_with_bridge(ldmsd_factory, tmp_path):
    needs()
    csv = str(tmp_path / "c" / "pcount")
    agg = ldmsd_factory("aggp", (
        "prdcr_add name=p3 type=passive host=127.0.0.1 xprt=sock reconnect=300ms\n"
        "prdcr_start name=p3\n"
        "updtr_add name=u interval=1s push=onchange\n"
        "updtr_prdcr_add name=u regex=.*\n"
        "updtr_start name=u\n") + STORE.format(path=tmp_path))
    s = ldmsd_factory("s3", SAMPLER_CONF.format(name="s3", cid=3) + (
        "prdcr_add name=b type=bridge host=127.0.0.1 port=%d xprt=sock reconnect=300ms\n"
        "prdcr_start name=b\n" % agg.port))

    wait_until(lambda: consecutive_tail(counts(csv).get("s3", []), 8), 40,
               "8 consecutive samples of s3 (pushed over the sampler's connection)")
    p = prdcr(agg.port, "p3")
    assert p["type"] == "passive" and p["state"] == "CONNECTED"
    kill_hard(s)
    wait_until(lambda: prdcr(agg.port, "p3")["state"] == "DISCONNECTED", 15, "p3 waiting")
    n0 = len(counts(csv)["s3"])
    s.start()
    wait_until(lambda: consecutive_tail(counts(csv)["s3"][n0:], 8), 40,
               "samples after the sampler's restart")
