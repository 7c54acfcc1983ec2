"""End-to-end test of the aggregation tree (issue 3): six sampler daemons, two L1
aggregators (three samplers each) and one L2 aggregator storing meminfo with
store_csv, all configured from upstream-style config files. Every sampler's rows
reach the L2 CSV file with increasing timestamps and no duplicates; a sampler
killed and restarted resumes its rows, and so do the samplers behind an L1
aggregator that is killed and restarted. Status JSON is read with our
ldmsd_controller. Every wait is bounded; every daemon is stopped.
"""

import json
import os
import subprocess
import time

import pytest

from conftest import BUILD, ldms_ls, need

LDMSD_CONTROLLER = os.path.join(BUILD, "bin", "ldmsd_controller")
STORE_CSV = os.path.join(BUILD, "lib", "ldms-c", "libstore_csv.so")
MEMINFO = os.path.join(BUILD, "lib", "ldms-c", "libmeminfo.so")

SAMPLER_CONF = """\
# sampler daemon {name}: meminfo at 1 s
load name=meminfo
config name=meminfo producer={name} instance={name}/meminfo component_id={cid} perm=0644
start name=meminfo interval=1s offset=0
"""

L1_PRDCR = """\
prdcr_add name={name} host=127.0.0.1 port={port} xprt=sock type=active reconnect=1s
"""

L1_TAIL = """\
prdcr_start_regex regex=.*
updtr_add name=upd_samp interval=1s offset=200ms
updtr_prdcr_add name=upd_samp regex=.*
updtr_start name=upd_samp
"""

L2_CONF = """\
# L2 aggregator: pulls every set of both L1 aggregators, stores meminfo
prdcr_add name=l1a host=127.0.0.1 port={a} xprt=sock type=active reconnect=1s
prdcr_add name=l1b host=127.0.0.1 port={b} xprt=sock type=active reconnect=1s
prdcr_start name=l1a
prdcr_start name=l1b
updtr_add name=upd_l1 interval=1s offset=400ms
updtr_prdcr_add name=upd_l1 regex=.*
updtr_start name=upd_l1
load name=store_csv
config name=store_csv path={path} altheader=0 buffer=0
strgp_add name=csv_meminfo plugin=store_csv container=l2csv schema=meminfo
strgp_prdcr_add name=csv_meminfo regex=.*
strgp_start name=csv_meminfo
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


def read_rows(path):
    """{producer: [timestamps...]} of the CSV rows, in file order."""
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


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.25)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def kill_hard(d):
    """SIGKILL (a crash, not a clean exit)."""
    proc, d.proc = d.proc, None
    proc.kill()
    proc.wait(timeout=10)


def check_order(rows):
    for prod, ts in rows.items():
        assert ts == sorted(ts), "%s: timestamps out of order" % prod
        assert len(ts) == len(set(ts)), "%s: duplicate rows" % prod


@pytest.mark.slow
def test_hierarchy_store_and_recover(ldmsd_factory, tmp_path):
    need(LDMSD_CONTROLLER, STORE_CSV)
    if not os.path.exists(MEMINFO):
        pytest.skip("meminfo sampler not built")
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    csv = str(csv_dir / "l2csv" / "meminfo")

    samps = [
        ldmsd_factory("samp%d" % i, SAMPLER_CONF.format(name="samp%d" % i, cid=i))
        for i in range(1, 7)
    ]
    l1 = []
    for tag, group in (("l1a", samps[:3]), ("l1b", samps[3:])):
        conf = "# L1 aggregator %s\n" % tag
        conf += "".join(L1_PRDCR.format(name=s.name, port=s.port) for s in group)
        conf += L1_TAIL
        l1.append(ldmsd_factory(tag, conf))
    l2 = ldmsd_factory("l2", L2_CONF.format(a=l1[0].port, b=l1[1].port, path=str(csv_dir)))
    names = ["samp%d" % i for i in range(1, 7)]

    # every sampler's rows arrive, several per producer
    wait_until(
        lambda: all(len(read_rows(csv).get(n, [])) >= 3 for n in names), 40,
        "3 rows of every sampler in %s" % csv,
    )
    check_order(read_rows(csv))

    st = ctl(l2.port, "prdcr_status")
    assert st["rc"] == 0
    by_name = {p["name"]: p for p in st["msg"]}
    assert by_name["l1a"]["state"] == "CONNECTED"
    assert sorted(s["inst_name"] for s in by_name["l1a"]["sets"]) == [
        "samp1/meminfo", "samp2/meminfo", "samp3/meminfo"]
    assert all(s["state"] in ("READY", "UPDATING") for s in by_name["l1b"]["sets"])
    sset = ctl(l2.port, "prdcr_set_status")["msg"]
    origin = {s["inst_name"]: (s["origin"], s["producer"]) for s in sset}
    assert origin["samp5/meminfo"] == ("samp5", "l1b")
    strgp = ctl(l2.port, "strgp_status")["msg"][0]
    assert strgp["state"] == "RUNNING" and strgp["schema"] == "meminfo"
    assert strgp["metrics"][:3] == ["component_id", "job_id", "app_id"]
    upd = ctl(l1[0].port, "updtr_status")["msg"][0]
    assert upd["state"] == "RUNNING" and upd["interval"] == "1000000"
    assert sorted(p["name"] for p in upd["producers"]) == ["samp1", "samp2", "samp3"]

    # L1 serves its mirrors as remote sets that carry its updater's schedule
    ls = ldms_ls(l1[0].port, "-v")
    assert ls.returncode == 0, ls.stdout + ls.stderr
    row = next(line for line in ls.stdout.splitlines() if " samp1/meminfo " in line)
    assert row.split()[2] == "CR"
    assert row.endswith('"updt_hint_us"="1000000:200000" ')

    # a sampler crashes and comes back: its rows stop, then resume
    kill_hard(samps[1])
    killed_at = time.time()
    wait_until(
        lambda: next(p for p in ctl(l1[0].port, "prdcr_status")["msg"]
                     if p["name"] == "samp2")["state"] in ("DISCONNECTED", "CONNECTING"),
        15, "samp2 DISCONNECTED on l1a",
    )
    time.sleep(2)
    samps[1].start()
    wait_until(
        lambda: any(t > killed_at + 2 for t in read_rows(csv).get("samp2", [])), 40,
        "samp2 rows after its restart",
    )

    # an L1 aggregator crashes and comes back: its samplers' rows resume
    kill_hard(l1[1])
    killed_at = time.time()
    wait_until(
        lambda: next(p for p in ctl(l2.port, "prdcr_status")["msg"]
                     if p["name"] == "l1b")["state"] in ("DISCONNECTED", "CONNECTING"),
        15, "l1b DISCONNECTED on l2",
    )
    time.sleep(2)
    l1[1].start()
    wait_until(
        lambda: all(any(t > killed_at + 2 for t in read_rows(csv).get(n, []))
                    for n in ("samp4", "samp5", "samp6")),
        40, "samp4-6 rows after l1b's restart",
    )
    # the others kept going meanwhile
    rows = read_rows(csv)
    assert all(any(t > killed_at for t in rows[n]) for n in ("samp1", "samp3"))
    check_order(rows)
    strgp = ctl(l2.port, "strgp_status")["msg"][0]
    assert strgp["store_errors"] == 0


@pytest.mark.slow
def test_unwritable_store_path(ldmsd_factory, tmp_path):
    """A store that cannot open its file logs why and the daemon keeps running."""
    need(LDMSD_CONTROLLER, STORE_CSV)
    if not os.path.exists(MEMINFO):
        pytest.skip("meminfo sampler not built")
    samp = ldmsd_factory("samp", SAMPLER_CONF.format(name="samp", cid=1))
    bad = tmp_path / "not-a-dir"
    bad.write_text("a file where the store wants a directory\n")
    conf = L1_PRDCR.format(name="samp", port=samp.port) + L1_TAIL
    conf += (
        "load name=store_csv\n"
        "config name=store_csv path=%s altheader=0 buffer=0\n"
        "strgp_add name=csv plugin=store_csv container=c schema=meminfo\n"
        "strgp_start name=csv\n" % bad
    )
    agg = ldmsd_factory("agg", conf)
    wait_until(
        lambda: ctl(agg.port, "strgp_status")["msg"][0]["store_errors"] > 0, 30,
        "a store error to be counted",
    )
    assert "strgp csv" in agg.log() and "cannot open" in agg.log()
    assert agg.proc.poll() is None
    st = ctl(agg.port, "prdcr_status")["msg"][0]
    assert st["state"] == "CONNECTED"


def test_named_auth_domain(ldmsd_factory, ovis_secret):
    """prdcr_add auth=<auth_add domain>: the right secret connects, a wrong one is
    refused and the producer keeps retrying (DISCONNECTED), as upstream."""
    need(LDMSD_CONTROLLER)
    if not os.path.exists(MEMINFO):
        pytest.skip("meminfo sampler not built")
    good, bad = ovis_secret
    samp = ldmsd_factory("samp", SAMPLER_CONF.format(name="samp", cid=1),
                         auth_args=["-a", "ovis", "-A", "conf=" + good])
    conf = (
        "auth_add name=ovis1 plugin=ovis conf=%s\n"
        "auth_add name=wrong plugin=ovis conf=%s\n"
        "prdcr_add name=good host=127.0.0.1 port=%d xprt=sock type=active reconnect=1s "
        "auth=ovis1\n"
        "prdcr_add name=bad host=127.0.0.1 port=%d xprt=sock type=active reconnect=1s "
        "auth=wrong\n" % (good, bad, samp.port, samp.port)
    ) + L1_TAIL
    agg = ldmsd_factory("agg", conf)

    def states():
        return {p["name"]: p for p in ctl(agg.port, "prdcr_status")["msg"]}

    st = wait_until(
        lambda: (lambda s: s if s["good"]["sets"] and
                 s["good"]["sets"][0]["state"] in ("READY", "UPDATING") else None)(states()),
        20, "producer 'good' to have its set ready",
    )
    assert st["good"]["auth"] == "ovis1" and st["good"]["state"] == "CONNECTED"
    assert st["bad"]["auth"] == "wrong"
    assert st["bad"]["state"] in ("DISCONNECTED", "CONNECTING")
    assert st["bad"]["sets"] == []
