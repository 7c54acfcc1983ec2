"""End-to-end tests of a sampler node (issue 2): our ldmsd with an upstream-style
config serving meminfo/vmstat/procstat/loadavg/procnetdev, read by our ldms_ls with
auth none, ovis and munge; wrong secrets refused; a 0600 set invisible to (and not
lookup-able by) an unprivileged munge user; 10,000 connect/read/disconnect cycles
leave the daemon's fd count and RSS flat.
"""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import (
    BENCH_DIR,
    LDMS_LS,
    ldms_ls,
    need,
    proc_fd_count,
    proc_rss_kb,
    wait_for_sets,
)

GOLDEN = os.environ.get("LDMSC_GOLDEN") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "golden"
)

SAMPLERS_CONF = """\
# sampler daemon: the five /proc samplers at 1 s (upstream config syntax)
load name=meminfo
config name=meminfo producer=samp1 instance=samp1/meminfo component_id=1 perm=0644
start name=meminfo interval=1s offset=0
load name=vmstat
config name=vmstat producer=samp1 instance=samp1/vmstat component_id=1 perm=0644
start name=vmstat interval=1s offset=0
load name=procstat
config name=procstat producer=samp1 instance=samp1/procstat component_id=1 perm=0644
start name=procstat interval=1s offset=0
load name=loadavg
config name=loadavg producer=samp1 instance=samp1/loadavg component_id=1 perm=0644
start name=loadavg interval=1s offset=0
load name=procnetdev
config name=procnetdev producer=samp1 instance=samp1/procnetdev component_id=1 \\
       ifaces=lo perm=0644
start name=procnetdev interval=1s offset=0
"""

SETS = ["samp1/loadavg", "samp1/meminfo", "samp1/procnetdev", "samp1/procstat", "samp1/vmstat"]

TITLE_RE = re.compile(
    r"^(\S+): (consistent|inconsistent), last update: "
    r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \d{4} [+-]\d{4} \[\d+us\] $"
)
METRIC_RE = re.compile(r"^([MD]) (\S+)\s+(\S+)\s+(.*)$")


def golden(rel):
    with open(os.path.join(GOLDEN, rel)) as f:
        return f.read()


def parse_long(text):
    """`ldms_ls -l` output -> {inst: (title, [(md, type, name, value_text)])}."""
    sets = {}
    cur = None
    for line in text.split("\n"):
        m = TITLE_RE.match(line)
        if m:
            cur = sets.setdefault(m.group(1), (m.group(2), []))
            continue
        if not line:
            cur = None
            continue
        assert cur is not None, "metric line outside a set: %r" % line
        # the columns are fixed width: "%c %-12s %-42s " then value [unit]
        assert line[1] == " " and line[14] == " ", line
        md, typ, name = line[0], line[2:14].rstrip(), line[15:57].rstrip()
        assert line[57] == " ", line
        cur[1].append((md, typ, name, line[58:]))
    return sets


def proc_names(path):
    names = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2 or not parts[1].isdigit():
                break
            names.append(parts[0].rstrip(":"))
    return names


# ---- issue 2: sets served with the upstream config, read by ldms_ls ---------------------


def test_sampler_node_plain_long_verbose(ldmsd_factory):
    d = ldmsd_factory("samp1", SAMPLERS_CONF)
    wait_for_sets(d.port, SETS)

    # plain: one name per line, directory (name) order, as upstream
    out = ldms_ls(d.port)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "".join(s + "\n" for s in SETS)

    # -v: upstream header/separator lines byte for byte, flags CL, perm, hint
    out = ldms_ls(d.port, "-v")
    assert out.returncode == 0
    gold = golden("ldms/ldms_ls_v_samp1.txt").split("\n")
    lines = out.stdout.split("\n")
    assert lines[0] == gold[1] and lines[1] == gold[2]
    assert lines[2 + len(SETS)] == gold[2]
    assert re.match(
        r"^Total Sets: 5, Meta Data \(kB\): \d+\.\d\d, Data \(kB\) \d+\.\d\d, "
        r"Memory \(kB\): \d+\.\d\d$",
        lines[3 + len(SETS)],
    )
    for row, name in zip(lines[2 : 2 + len(SETS)], SETS):
        assert row[15:40].rstrip() == name
        assert row[40:47] == "   CL  "
        assert "-rw-r--r--" in row
        assert row.endswith('"updt_hint_us"="1000000:0" ')

    # -l: every set consistent, fixed columns, base metrics first, names from /proc
    out = ldms_ls(d.port, "-l")
    assert out.returncode == 0
    sets = parse_long(out.stdout)
    assert sorted(sets) == SETS
    assert list(sets) == SETS  # directory order
    for name, (state, metrics) in sets.items():
        assert state == "consistent", name
        assert metrics[0] == ("M", "u64", "component_id", "1 ")
        assert metrics[1][:3] == ("D", "u64", "job_id")
        assert metrics[2][:3] == ("D", "u64", "app_id")
    mem = [m[2] for m in sets["samp1/meminfo"][1][3:]]
    assert mem == proc_names("/proc/meminfo")
    vm = [m[2] for m in sets["samp1/vmstat"][1][3:]]
    assert vm == proc_names("/proc/vmstat")
    ps = [m[2] for m in sets["samp1/procstat"][1]]
    gold_ps = [m[2] for m in parse_long(
        golden("ldms/ldms_ls_l_samp1.txt").split("\n", 1)[1])["samp1/procstat"][1]]
    assert ps == gold_ps
    la = sets["samp1/loadavg"][1]
    assert [(m[1], m[2]) for m in la[3:]] == [
        ("d64", "load1min"), ("d64", "load5min"), ("d64", "load15min"),
        ("u64", "runnable"), ("u64", "scheduling_entities"), ("u64", "newest_pid")]
    nd = [m[2] for m in sets["samp1/procnetdev"][1][3:]]
    assert nd[0] == "rx_bytes#lo" and nd[-1] == "tx_compressed#lo" and len(nd) == 16

    # golden layout of the meminfo base lines, byte for byte
    gold_l = golden("ldms/ldms_ls_l_samp1.txt").split("\n")
    mine = out.stdout.split("\n")
    i = mine.index([l for l in mine if l.startswith("samp1/meminfo: ")][0])
    assert mine[i + 1] == gold_l[2]  # "M u64          component_id   ...   1 "

    # a set named explicitly, and a regex
    out = ldms_ls(d.port, "-l", "samp1/loadavg")
    assert out.returncode == 0 and list(parse_long(out.stdout)) == ["samp1/loadavg"]
    out = ldms_ls(d.port, "-E", "mem|vm")
    assert out.stdout == "samp1/meminfo\nsamp1/vmstat\n"
    out = ldms_ls(d.port, "-S", "procstat")
    assert out.stdout == "samp1/procstat\n"
    out = ldms_ls(d.port, "no/such")
    assert out.stdout == "ldms_ls: No metric sets matched the given criteria\n"
    out = ldms_ls(d.port, "-l", "no/such")
    assert out.returncode != 0
    assert "ldms_ls: lookup failed for set 'no/such'" in out.stdout

    # machine-readable forms: json (4.5 layout) parses, tab has '#' headers
    import json

    doc = json.loads(ldms_ls(d.port, "-f", "json").stdout)
    assert doc == {"set_name": SETS}
    doc = json.loads(ldms_ls(d.port, "-l", "-f", "json").stdout)
    assert doc["set_name"] == SETS
    assert [x["inst_name"] for x in doc["set_data"]] == SETS
    mem = doc["set_data"][1]
    assert mem["perm"] == "0644" and mem["metrics"][0] == {
        "name": "component_id", "type": "u64", "units": "", "value": 1}
    out = ldms_ls(d.port, "-v", "-f", "tab").stdout.split("\n")
    assert out[0].startswith("#schema\tinstance\tflags")
    assert out[1].split("\t")[1] == SETS[0]


def test_values_advance(ldmsd_factory):
    """Two reads a few seconds apart: data changes and the timestamp advances."""
    d = ldmsd_factory("samp1", SAMPLERS_CONF)
    wait_for_sets(d.port, SETS)
    a = parse_long(ldms_ls(d.port, "-l", "samp1/procstat").stdout)["samp1/procstat"][1]
    va = dict((m[2], m[3]) for m in a)
    import time

    # until a later sample (1 s interval) is read, however loaded the machine
    deadline = time.monotonic() + 20
    while True:
        time.sleep(0.5)
        b = parse_long(ldms_ls(d.port, "-l", "samp1/procstat").stdout)["samp1/procstat"][1]
        vb = dict((m[2], m[3]) for m in b)
        if vb != va or time.monotonic() > deadline:
            break
    assert int(vb["context_switches"]) > int(va["context_switches"])


def test_connection_refused():
    from conftest import free_port

    out = ldms_ls(free_port())
    assert out.returncode != 0
    assert "Connection failed/rejected." in out.stdout


# ---- authentication ---------------------------------------------------------------------


def test_auth_ovis(ldmsd_factory, ovis_secret):
    good, bad = ovis_secret
    d = ldmsd_factory("samp_ovis", SAMPLERS_CONF, auth_args=["-a", "ovis", "-A", "conf=" + good])
    auth = ("-a", "ovis", "-A", "conf=" + good)
    wait_for_sets(d.port, SETS, auth=auth)
    out = ldms_ls(d.port, "-l", auth=auth)
    assert out.returncode == 0
    assert list(parse_long(out.stdout)) == SETS

    # wrong secret, wrong plugin: refused, clear message, non-zero exit
    for wrong in (("-a", "ovis", "-A", "conf=" + bad), ("-a", "none")):
        out = ldms_ls(d.port, auth=wrong)
        assert out.returncode != 0, wrong
        assert out.stdout == "Connection failed/rejected.\n", (wrong, out.stdout, out.stderr)
        assert "ovis" in out.stderr or "auth" in out.stderr, out.stderr
    # the daemon survives refused clients
    assert ldms_ls(d.port, auth=auth).returncode == 0


def test_auth_munge(ldmsd_factory, munged):
    auth = tuple(munged.auth_args)
    d = ldmsd_factory("samp_munge", SAMPLERS_CONF, auth_args=munged.auth_args)
    wait_for_sets(d.port, SETS, auth=auth)
    out = ldms_ls(d.port, "-l", auth=auth)
    assert out.returncode == 0
    assert list(parse_long(out.stdout)) == SETS
    out = ldms_ls(d.port, auth=("-a", "none"))
    assert out.returncode != 0
    assert out.stdout == "Connection failed/rejected.\n"


@pytest.fixture
def public_munged():
    """A munged whose socket an unprivileged user can reach (pytest's tmp dirs are
    0700 for root)."""
    try:
        from munge_fixture import MungeDaemon
    except ImportError:
        pytest.skip("tests/e2e/munge_fixture.py not available")
    if not MungeDaemon.available():
        pytest.skip("munged not installed")
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run a reader as 'nobody'")
    base = tempfile.mkdtemp(prefix="ldmsc-e2e-", dir="/tmp")
    os.chmod(base, 0o755)
    m = MungeDaemon(base)
    try:
        m.start()
        yield m
    finally:
        m.stop()
        shutil.rmtree(base, ignore_errors=True)


PERM_CONF = """\
load name=meminfo
config name=meminfo producer=node instance=node/private component_id=5 perm=0600
start name=meminfo interval=1s offset=0
load name=vmstat
config name=vmstat producer=node instance=node/public component_id=5 perm=0644
start name=vmstat interval=1s offset=0
"""


def test_private_set_needs_rights(ldmsd_factory, public_munged):
    """A 0600 set owned by root: listed and readable for root, invisible and not
    lookup-able by exact name for 'nobody' (munge gives the real uid)."""
    need(LDMS_LS)
    if not os.access(LDMS_LS, os.X_OK):
        pytest.skip("ldms_ls not executable")
    auth = tuple(public_munged.auth_args)
    d = ldmsd_factory("perm", PERM_CONF, auth_args=public_munged.auth_args)
    wait_for_sets(d.port, ["node/private", "node/public"], auth=auth)

    # root: both
    out = ldms_ls(d.port, auth=auth)
    assert out.stdout == "node/private\nnode/public\n"
    out = ldms_ls(d.port, "-l", "node/private", auth=auth)
    assert out.returncode == 0 and "node/private: consistent" in out.stdout

    # nobody: only the public set, everywhere
    out = ldms_ls(d.port, auth=auth, user="nobody")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == "node/public\n"
    out = ldms_ls(d.port, "-v", auth=auth, user="nobody")
    assert "node/private" not in out.stdout and "Total Sets: 1," in out.stdout
    out = ldms_ls(d.port, "-l", auth=auth, user="nobody")
    assert list(parse_long(out.stdout)) == ["node/public"]
    out = ldms_ls(d.port, "-E", "node/.*", auth=auth, user="nobody")
    assert out.stdout == "node/public\n"
    # an exact-name lookup is permission-checked too (upstream does not)
    out = ldms_ls(d.port, "-l", "node/private", auth=auth, user="nobody")
    assert out.returncode != 0
    assert "ldms_ls: lookup failed for set 'node/private'" in out.stdout
    assert "consistent" not in out.stdout


# ---- robustness: many short connections -------------------------------------------------

CYCLES_CONF = """\
load name=meminfo
config name=meminfo producer=cyc instance=cyc/meminfo component_id=1
start name=meminfo interval=1s offset=0
load name=vmstat
config name=vmstat producer=cyc instance=cyc/vmstat component_id=1
start name=vmstat interval=1s offset=0
load name=procstat
config name=procstat producer=cyc instance=cyc/procstat component_id=1
start name=procstat interval=1s offset=0
"""


@pytest.mark.slow
def test_connect_cycles_leave_fds_and_rss_flat(ldmsd_factory):
    """10,000 connect/dir/lookup/read/disconnect cycles (ldms_ls -l equivalents)."""
    driver = os.path.join(BENCH_DIR, "bench_ldms_read")
    need(driver)
    d = ldmsd_factory("cycles", CYCLES_CONF)
    wait_for_sets(d.port, ["cyc/meminfo", "cyc/procstat", "cyc/vmstat"])

    def run(n):
        out = subprocess.run(
            [driver, "-p", str(d.port), "-c", str(n)],
            capture_output=True, text=True, timeout=300,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    run(500)  # warm-up: allocator pools, thread stacks, first-time lazies
    fd0, rss0 = proc_fd_count(d.pid), proc_rss_kb(d.pid)
    report = run(10000)
    assert "cycles 10000" in report, report
    fd1, rss1 = proc_fd_count(d.pid), proc_rss_kb(d.pid)
    print("ldmsd fds %d -> %d, RSS %d kB -> %d kB; %s" % (fd0, fd1, rss0, rss1, report.strip()))
    assert fd1 <= fd0 + 2, (fd0, fd1)
    assert rss1 - rss0 < 4096, (rss0, rss1)
    # and the daemon still serves
    assert ldms_ls(d.port).stdout == "cyc/meminfo\ncyc/procstat\ncyc/vmstat\n"


# ---- the golden test_sampler sets through the daemon ------------------------------------

TS_SCHEMA = (
    "action=add_schema schema=golden metrics=component_id:meta:u64:7:1:,m_u32:meta:u32:99:1:,"
    "v_u8:data:u8:200:1:,v_u32:data:u32:4000000000:1:,v_u64:data:u64:1234567890123:1:,"
    "v_s32:data:s32:-123456:1:,v_d64:data:d64:3.25:1:sec,v_str:data:char_array:X:8:,"
    "v_u64a:data:u64_array:42:3:"
)


def test_golden_test_sampler_output(ldmsd_factory):
    """wire/03-test-sampler's daemon config; ldms_ls -l and -v print what upstream
    printed (the sampled set's time stamps masked)."""
    import time

    interval = 3600 * 1000000
    target = (int(time.time()) + 3) * 1000000  # one sample, 3 s from now
    offset = target % interval
    if offset > interval // 2:
        offset -= interval
    conf = (
        "load name=ts_static plugin=test_sampler\n"
        "config name=ts_static %s\n"
        "config name=ts_static action=add_set instance=golden/static schema=golden "
        "producer=golden component_id=7\n"
        "load name=ts_sampled plugin=test_sampler\n"
        "config name=ts_sampled %s\n"
        "config name=ts_sampled action=add_set instance=golden/sampled schema=golden "
        "producer=golden component_id=7\n"
        "start name=ts_sampled interval=%dus offset=%dus\n" % (TS_SCHEMA, TS_SCHEMA, interval, offset)
    )
    d = ldmsd_factory("ts", conf)
    wait_for_sets(d.port, ["golden/sampled"], timeout=20)
    setup = golden("wire/03-test-sampler/setup.txt")

    out = ldms_ls(d.port, "-l")
    assert out.returncode == 0
    want = setup.split("-a none -l\n", 1)[1].split("rc=0\n", 1)[0]
    stamp = re.compile(r"last update: .* \[\d+us\] ")
    assert stamp.sub("last update: X ", out.stdout) == stamp.sub("last update: X ", want)
    # the never-sampled set, byte for byte (time stamp 0 in UTC)
    assert want.split("\n\n")[1] in out.stdout

    out = ldms_ls(d.port, "-v")
    want = setup.split("-a none -v\n", 1)[1].split("\n\n", 1)[0] + "\n"
    mine = out.stdout.split("\n")
    gold = want.split("\n")
    assert mine[:2] == gold[:2] and mine[4:] == gold[4:]
    assert mine[3] == gold[3]  # golden/static row, identical
    assert mine[2][:93] == gold[2][:93]  # golden/sampled up to the time stamp
    assert mine[2].endswith('"updt_hint_us"="%d:%d" ' % (interval, offset))


def test_schema_identical_to_upstream_on_same_kernel(ldmsd_factory):
    """Where the running kernel gives the same metric names as the capture host, the
    meminfo/vmstat/procstat sets have upstream's sizes and schema digests (so upstream
    and ldms-c samplers can share a storage policy)."""
    d = ldmsd_factory("samp1", SAMPLERS_CONF)
    wait_for_sets(d.port, SETS)
    gold_l = parse_long(golden("ldms/ldms_ls_l_samp1.txt").split("\n", 1)[1])
    gold_v = {}
    for line in golden("ldms/ldms_ls_v_samp1.txt").split("\n")[3:6]:
        f = line.split()
        gold_v[f[1]] = (f[3], f[4])
    frames = golden("wire/01-dir/frames.txt")
    gold_digest = dict(
        (m.group(1), m.group(2))
        for m in re.finditer(r'"schema":"(\w+)","digest":"([0-9A-F]{64})"', frames)
    )
    assert sorted(gold_digest) == ["meminfo", "vmstat"]
    mine_l = parse_long(ldms_ls(d.port, "-l").stdout)
    mine_v = {}
    for line in ldms_ls(d.port, "-vv").stdout.split("\n"):
        f = line.split()
        if len(f) > 6 and f[2].startswith("samp1/"):
            mine_v[f[2]] = (f[0], f[4], f[5])
    compared = 0
    for inst in ("samp1/meminfo", "samp1/vmstat", "samp1/procstat"):
        names = [m[2] for m in mine_l[inst][1]]
        if names != [m[2] for m in gold_l[inst][1]]:
            continue  # another kernel: different schema, nothing to compare
        digest, msize, dsize = mine_v[inst]
        assert (msize, dsize) == gold_v[inst], inst
        schema = inst.split("/")[1]
        if schema in gold_digest:
            assert digest == gold_digest[schema], inst
        compared += 1
    print("compared %d schemas with the capture host's" % compared)


def test_ldms_ls_command_line_errors():
    need(LDMS_LS)

    def run(*args):
        return subprocess.run([LDMS_LS] + list(args), capture_output=True, text=True, timeout=30)

    out = run()
    assert out.returncode == 1 and out.stdout.startswith(LDMS_LS + " -h <hostname>")
    out = run("-p", "0")
    assert out.returncode == 1 and out.stdout == "ERROR: -p 0 invalid port number\n"
    out = run("-V")
    assert out.returncode == 0 and "LDMS Protocol Version: 4.2.0.0" in out.stdout
    out = run("-Q")
    assert out.returncode == 1 and "unknown option Q" in out.stdout
    out = run("-h", "no-such-host.invalid", "-p", "411")
    assert out.returncode == 1 and "no-such-host.invalid does not resolve." in out.stdout
    out = run("-h", "127.0.0.1", "-p", "411", "-a", "nosuchauth")
    assert out.returncode != 0 and "nosuchauth" in out.stdout + out.stderr
    out = run("-h", "127.0.0.1", "-p", "411", "-m", "lots")
    assert out.returncode == 1 and "Invalid memory size 'lots'" in out.stdout


@pytest.mark.parametrize(
    "line,attr",
    [
        ("config name=meminfo producer=a instance=a/m perm=999", "perm"),
        ("config name=meminfo instance=a/m", "producer"),
        ("config name=meminfo producer=a instance=a/m component_id=x1y", "component_id"),
    ],
)
def test_bad_sampler_config_stops_ldmsd(tmp_path, line, attr):
    """A config file with a bad sampler attribute: ldmsd refuses to start and says
    which attribute (and where)."""
    from conftest import LDMSD, free_port

    need(LDMSD)
    conf = tmp_path / "bad.conf"
    conf.write_text("load name=meminfo\n" + line + "\n")
    log = tmp_path / "bad.log"
    out = subprocess.run(
        [LDMSD, "-x", "sock:%d:127.0.0.1" % free_port(), "-c", str(conf), "-l", str(log)],
        capture_output=True, text=True, timeout=30,
    )
    text = out.stdout + out.stderr + (log.read_text() if log.exists() else "")
    assert out.returncode != 0
    assert "bad.conf:2" in text and attr + ":" in text, text
