"""maestro_ctrl --cluster against a real etcd started by the test on 127.0.0.1
(tests/e2e/etcd_fixture.py): the stored configuration equals upstream's golden dumps, a
reload replaces it, a concurrent reader never sees a partial configuration, one of three
members down does not matter, an unreachable etcd is a clear error with exit 1, and
--prefix pfx leaves /pfx2/... alone (golden CLI cases 54-57 included).
Storage layout read back here: docs/etcd-cfgstore.md.
"""

import os
import subprocess
import threading

import pytest

from conftest import BUILD, SRC, need
from etcd_fixture import EtcdCluster, etcd_available, _free_ports

MAESTRO_CTRL = os.path.join(BUILD, "bin", "maestro_ctrl")
GOLDEN = os.environ.get("LDMSC_GOLDEN") or os.path.join(os.path.dirname(SRC), "shared", "golden")
G = os.path.join(GOLDEN, "maestro")

pytestmark = pytest.mark.skipif(not etcd_available(), reason="etcd not installed")


def case(name):
    return os.path.join(G, name)


C05 = case("05-repo-example_advertiser_config-current-schema")
C10 = case("10-three-l1-ten-samplers-two-endpoints")
C11 = case("11-uneven-7-over-3-and-single-member-groups")
C15 = case("15-minimal-baseline")


@pytest.fixture
def etcd(tmp_path):
    need(MAESTRO_CTRL)
    with EtcdCluster(tmp_path, members=1) as e:
        yield e


@pytest.fixture
def etcd3(tmp_path):
    need(MAESTRO_CTRL)
    with EtcdCluster(tmp_path, members=3) as e:
        yield e


def ctrl(*args, cwd=None, timeout=120):
    need(MAESTRO_CTRL)
    return subprocess.run(
        [MAESTRO_CTRL] + list(args),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def load(etcd_yaml, case_dir, prefix=None, extra=()):
    args = ["--cluster", etcd_yaml, "--ldms_config", os.path.join(case_dir, "input.yaml")]
    if prefix is not None:
        args += ["--prefix", prefix]
    return ctrl(*(args + list(extra)))


def golden_kv(case_dir):
    """The golden dump as {relative key: value}, without last_updated."""
    prefix = None
    out = {}
    with open(os.path.join(case_dir, "etcd_dump.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            key, value = line.split("\t", 1)
            if prefix is None:
                prefix = "/" + key.split("/")[1] + "/"
            rel = key[len(prefix):]
            if rel != "last_updated":
                out[rel] = value
    return out


def assert_ok(r):
    assert r.returncode == 0, "rc %d\nstdout: %s\nstderr: %s" % (r.returncode, r.stdout, r.stderr)
    assert "LDMS cluster configuration saved to etcd cluster." in r.stdout


@pytest.mark.parametrize("case_dir", [C15, C10, C11, C05], ids=["15", "10", "11", "05"])
def test_load_matches_golden(etcd, tmp_path, case_dir):
    y = etcd.etcd_yaml(tmp_path / "etcd.yaml")
    r = load(y, case_dir, "gold", ["--upstream-compat"])
    assert_ok(r)
    gen, kv = etcd.read_config("gold")
    assert gen >= 1
    want = golden_kv(case_dir)
    missing = sorted(set(want) - set(kv))[:5]
    extra = sorted(set(kv) - set(want))[:5]
    assert not missing and not extra, "missing %s, extra %s" % (missing, extra)
    diff = [(k, kv[k], want[k]) for k in sorted(want) if kv[k] != want[k]][:5]
    assert not diff, diff
    last, _ = etcd.get("/gold/last_updated")
    float(last)
    # what the section walk prints, as upstream [g11 etcd_load.stdout]
    with open(os.path.join(case_dir, "etcd_load.stdout")) as f:
        assert r.stdout == f.read()


def test_reload_replaces(etcd, tmp_path):
    y = etcd.etcd_yaml(tmp_path / "etcd.yaml")
    assert_ok(load(y, C10, "re"))
    g1, kv1 = etcd.read_config("re")
    assert len(kv1) > 500
    assert_ok(load(y, C15, "re"))
    g2, kv2 = etcd.read_config("re")
    assert g2 > g1
    assert len(kv2) < len(kv1)
    assert "daemons/samp-10/addr" in kv1 and "daemons/samp-10/addr" not in kv2
    # nothing of the old generation is left: pointer keys, counter, current generation
    everything = etcd.get_prefix("/re/")
    cur = "/re/g/%012d/" % g2
    rest = sorted(k for k in everything if not k.startswith(cur))
    assert rest == ["/re/g/next", "/re/generation", "/re/last_updated"]
    # loading the same again: same content, a new generation
    assert_ok(load(y, C15, "re"))
    g3, kv3 = etcd.read_config("re")
    assert g3 > g2 and kv3 == kv2


def test_concurrent_reader_never_sees_partial(etcd, tmp_path):
    y = etcd.etcd_yaml(tmp_path / "etcd.yaml")
    assert_ok(load(y, C15, "conc"))
    _, small = etcd.read_config("conc")
    assert_ok(load(y, C10, "conc"))
    _, big = etcd.read_config("conc")
    assert len(big) > 5 * len(small)

    stop = threading.Event()
    seen = {"small": 0, "big": 0, "bad": []}

    def reader():
        while not stop.is_set():
            try:
                _, kv = etcd.read_config("conc")
            except Exception as e:  # noqa: BLE001 - report any failure of the reader
                seen["bad"].append("read failed: %s" % e)
                return
            if kv == small:
                seen["small"] += 1
            elif kv == big:
                seen["big"] += 1
            else:
                seen["bad"].append("partial read: %d keys" % len(kv))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(6):
            assert_ok(load(y, C15 if i % 2 == 0 else C10, "conc"))
    finally:
        stop.set()
        t.join(timeout=60)
    assert not seen["bad"], seen["bad"][:3]
    assert seen["small"] + seen["big"] > 0


def test_one_of_three_members_down(etcd3, tmp_path):
    y = etcd3.etcd_yaml(tmp_path / "etcd.yaml")
    etcd3.kill_member(0)  # the first member listed in etcd.yaml
    r = load(y, C15, "ha")
    assert_ok(r)
    _, kv = etcd3.read_config("ha")
    assert kv == golden_kv(C15)
    # two of three down: no quorum; the load fails cleanly instead of hanging
    etcd3.kill_member(1)
    r = load(y, C15, "ha")
    assert r.returncode == 1
    assert "Error saving ldms cluster configuration to etcd cluster." in r.stdout


def test_unreachable_etcd(tmp_path):
    p1, p2 = _free_ports(2)
    y = tmp_path / "etcd.yaml"
    y.write_text(
        "cluster: c55\nmembers:\n  - host: 127.0.0.1\n    port: %d\n"
        "  - host: 127.0.0.1\n    port: %d\n" % (p1, p2)
    )
    r = load(str(y), C15, "c55")
    assert r.returncode == 1, r
    out = r.stdout + r.stderr
    assert "etcd connection failed" in out
    assert "127.0.0.1:%d" % p1 in out and "127.0.0.1:%d" % p2 in out
    assert r.stdout.rstrip().endswith("Error saving ldms cluster configuration to etcd cluster.")
    assert "saved to etcd cluster." not in r.stdout.replace("Error saving", "")


def test_golden_case55_port_1(tmp_path):
    """[g55]: the member on port 1; same messages as upstream, exit 1 (upstream: 0)."""
    r = ctrl("--cluster", "etcd.yaml", "--ldms_config", "input.yaml", "--prefix", "c55",
             cwd=case("55-cli-etcd-unreachable"))
    assert r.returncode == 1
    assert "etcd connection failed" in r.stdout
    assert "127.0.0.1:1" in r.stdout
    assert "Error saving ldms cluster configuration to etcd cluster." in r.stdout


def test_prefix_leaves_neighbours_alone(etcd, tmp_path):
    neighbours = {
        "/pfx2/daemons/a/addr": "other cluster",
        "/pfx": "exact key without slash",
        "/pfx0": "range end itself",
        "/pfx-old/x": "dash",
        "/pf/x": "shorter",
    }
    revs = {k: etcd.put(k, v) for k, v in neighbours.items()}
    # an upstream-layout key inside the prefix is replaced by the load; the daemon's
    # run-time state under /pfx/maestro/ is not
    etcd.put("/pfx/daemons/old/addr", "upstream")
    status_rev = etcd.put("/pfx/maestro/status", "{}")
    y = etcd.etcd_yaml(tmp_path / "etcd.yaml")
    assert_ok(load(y, C15, "pfx"))
    assert_ok(load(y, C11, "pfx", ["--upstream-compat"]))
    for k, v in neighbours.items():
        kvs, _ = etcd.range(k)
        assert kvs and kvs[0][1] == v and kvs[0][2] == revs[k], k
    assert etcd.get("/pfx/daemons/old/addr")[0] is None
    kvs, _ = etcd.range("/pfx/maestro/status")
    assert kvs and kvs[0][2] == status_rev
    _, kv = etcd.read_config("pfx")
    assert kv == golden_kv(C11)
    # a leading slash in --prefix names the same prefix (the daemon strips it too)
    assert_ok(load(y, C15, "/pfx"))
    _, kv = etcd.read_config("pfx")
    assert "daemons/samp-1/addr" in kv
    assert etcd.get("/pfx2/daemons/a/addr")[0] == "other cluster"


def test_prefix_defaults_to_unknown(etcd, tmp_path):
    """[g57]: no --prefix: the configuration goes under /unknown/."""
    y = etcd.etcd_yaml(tmp_path / "etcd.yaml", cluster="x")
    assert_ok(load(y, C15))
    gen, kv = etcd.read_config("unknown")
    assert gen and "aggregators/agg-[1-2]/agg-1/state" in kv


def test_etcd_yaml_without_members(tmp_path):
    """[g56]: located error naming 'members', exit 1, nothing else happens."""
    d = case("56-cli-etcd-yaml-without-members")
    r = ctrl("--cluster", "etcd.yaml", "--ldms_config", "input.yaml", "--prefix", "c56", cwd=d)
    assert r.returncode == 1
    out = r.stdout + r.stderr
    assert "etcd.yaml:1:1:" in out and "'members'" in out, out


def test_cluster_plus_generate_does_not_touch_etcd(etcd, tmp_path):
    """[g54]: --generate_config_path wins; no key under /c54/."""
    y = etcd.etcd_yaml(tmp_path / "etcd.yaml", cluster="c54")
    out = tmp_path / "out"
    out.mkdir()
    r = ctrl("--cluster", y, "--ldms_config", os.path.join(C15, "input.yaml"), "--prefix", "c54",
             "--generate_config_path", str(out))
    assert r.returncode == 0, r.stderr
    assert "LDMSD v4 config files generated" in r.stdout
    assert sorted(os.listdir(out)) == sorted(
        "%s.conf" % n for n in ("agg-1", "agg-2", "samp-1", "samp-2", "samp-3", "samp-4"))
    assert etcd.get_prefix("/c54/") == {}
