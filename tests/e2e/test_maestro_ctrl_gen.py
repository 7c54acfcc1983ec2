"""maestro_ctrl against every golden case of shared/golden/maestro (generation only, no etcd
server): byte-identical files and --daemon_name output with --upstream-compat, the same file
set by default, located errors for the bad inputs (cases 2x), and the CLI cases 50-56
(maestro.md §2.1, §8, §9; golden README).
"""

import os
import re
import subprocess

import pytest

from conftest import BUILD, SRC, need

MAESTRO_CTRL = os.path.join(BUILD, "bin", "maestro_ctrl")
GOLDEN = os.environ.get("LDMSC_GOLDEN") or os.path.join(os.path.dirname(SRC), "shared",
                                                         "golden")
CASES = os.path.join(GOLDEN, "maestro")


def case_dirs(prefix):
    if not os.path.isdir(CASES):
        return []
    return sorted(d for d in os.listdir(CASES) if d.startswith(prefix))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def valid(case):
    d = os.path.join(CASES, case)
    return (os.path.exists(os.path.join(d, "generated.list"))
            and read(os.path.join(d, "generate.rc")).strip() == b"0")


VALID = [c for c in case_dirs("") if c[:1] in "01" and valid(c)]
BAD = [c for c in case_dirs("2") if c != "29-bad-perm-0o-prefix"]


def run(args, cwd, timeout=60):
    need(MAESTRO_CTRL)
    return subprocess.run([MAESTRO_CTRL] + args, cwd=cwd, capture_output=True,
                          timeout=timeout)


def listed(case):
    return read(os.path.join(CASES, case, "generated.list")).decode().split()


@pytest.mark.parametrize("case", VALID)
def test_generate_compat_bytes(case, tmp_path):
    d = os.path.join(CASES, case)
    r = run(["--ldms_config", "input.yaml", "--generate_config_path", str(tmp_path),
             "--upstream-compat"], d)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"LDMSD v4 config files generated\n"
    assert r.stderr == b""
    assert sorted(os.listdir(tmp_path)) == sorted(listed(case))
    for f in listed(case):
        assert read(os.path.join(tmp_path, f)) == read(os.path.join(d, "generated", f)), f


@pytest.mark.parametrize("case", VALID)
def test_generate_default(case, tmp_path):
    d = os.path.join(CASES, case)
    r = run(["--ldms_config", "input.yaml", "--generate_config_path", str(tmp_path)], d)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(tmp_path)) == sorted(listed(case))
    for f in listed(case):
        text = read(os.path.join(tmp_path, f)).decode()
        assert "  " not in text and "name=None" not in text, f
        # the same commands as upstream, in the same order (corrections aside)
        verbs = [l.split()[0] for l in text.splitlines()]
        gold = [l.split()[0] for l in read(os.path.join(d, "generated", f)).decode().splitlines()
                if not l.startswith("auth_add name=None")]
        assert verbs == gold, f


def daemon_name_cases():
    out = []
    for case in VALID:
        for f in sorted(os.listdir(os.path.join(CASES, case))):
            m = re.match(r"daemon_name\.(.+)\.stdout$", f)
            if m:
                out.append((case, m.group(1)))
    return out


@pytest.mark.parametrize("case,daemon", daemon_name_cases())
def test_daemon_name(case, daemon):
    d = os.path.join(CASES, case)
    r = run(["--ldms_config", "input.yaml", "--daemon_name", daemon, "--upstream-compat"], d)
    assert r.returncode == 0, r.stderr
    assert r.stdout == read(os.path.join(d, "daemon_name.%s.stdout" % daemon))


def test_daemon_name_unknown():
    d = os.path.join(CASES, "15-minimal-baseline")
    r = run(["--ldms_config", "input.yaml", "--daemon_name", "nosuch"], d)
    assert r.returncode == 1
    assert b"Daemon nosuch does not exist in YAML configuration file input.yaml" in r.stderr


@pytest.mark.parametrize("case", BAD)
def test_bad_input_located(case, tmp_path):
    d = os.path.join(CASES, case)
    gold = read(os.path.join(d, "generate.stderr")).decode().splitlines()[0]
    condition = gold.split(": ", 1)[1]
    r = run(["--ldms_config", "input.yaml", "--generate_config_path", str(tmp_path)], d)
    assert r.returncode == 1
    first = r.stderr.decode().splitlines()[0]
    assert re.match(r"input\.yaml:\d+:\d+: ", first), first
    assert condition in first, (first, condition)
    assert os.listdir(tmp_path) == []  # nothing written
    assert r.stdout == b""


def test_perm_0o_accepted(tmp_path):
    d = os.path.join(CASES, "29-bad-perm-0o-prefix")
    r = run(["--ldms_config", "input.yaml", "--generate_config_path", str(tmp_path)], d)
    assert r.returncode == 0, r.stderr
    assert b"updtr_add name=updtr_0 interval=1000000 perm=0777\n" in read(
        os.path.join(tmp_path, "agg-1.conf"))


# ---- CLI cases 50-56 ---------------------------------------------------------------------------

def golden_run(case):
    d = os.path.join(CASES, case)
    return (int(read(os.path.join(d, "run.rc"))), read(os.path.join(d, "run.stdout")),
            read(os.path.join(d, "run.stderr")))


def test_50_readme_hyphenated_option(tmp_path):
    d = os.path.join(CASES, "50-cli-readme-hyphenated-option")
    args = ["--cluster", "etcd.yaml", "--ldms_config", "input.yaml", "--prefix", "c50",
            "--generate-config-path", str(tmp_path)]
    # ldms-c accepts the README's spelling (and, as with --generate_config_path, does not
    # touch etcd)
    r = run(args, d)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"LDMSD v4 config files generated\n"
    assert sorted(os.listdir(tmp_path)) == ["agg-1.conf", "agg-2.conf", "samp-1.conf",
                                            "samp-2.conf", "samp-3.conf", "samp-4.conf"]
    # upstream's argparse rejects it
    rc, out, err = golden_run("50-cli-readme-hyphenated-option")
    r = run(args + ["--upstream-compat"], d)
    assert r.returncode == rc == 2
    assert r.stderr == err.replace(b"--generate-config-path out",
                                   b"--generate-config-path " + str(tmp_path).encode())


def test_51_missing_ldms_config(tmp_path):
    rc, out, err = golden_run("51-cli-missing-ldms-config")
    r = run(["--generate_config_path", str(tmp_path), "--upstream-compat"], str(tmp_path))
    assert (r.returncode, r.stdout, r.stderr) == (rc, out, err)
    r = run(["--generate_config_path", str(tmp_path)], str(tmp_path))
    assert r.returncode == 2
    assert r.stderr.endswith(err.splitlines(True)[-1])
    assert b"[--check]" in r.stderr


def test_52_nonexistent_ldms_config(tmp_path):
    r = run(["--ldms_config", "no-such-file.yaml", "--generate_config_path", str(tmp_path)],
            str(tmp_path))
    assert r.returncode == 1
    assert r.stderr == b"no-such-file.yaml: No such file or directory\n"


def test_53_no_action():
    rc, out, err = golden_run("53-cli-no-action")
    r = run(["--ldms_config", "input.yaml"], os.path.join(CASES, "53-cli-no-action"))
    assert (r.returncode, r.stdout, r.stderr) == (rc, out, err)


def test_54_cluster_plus_generate(tmp_path):
    d = os.path.join(CASES, "54-cli-cluster-plus-generate-does-not-touch-etcd")
    r = run(["--cluster", "etcd.yaml", "--ldms_config", "input.yaml", "--prefix", "c54",
             "--generate_config_path", str(tmp_path), "--upstream-compat"], d)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"LDMSD v4 config files generated\n"
    want = sorted(os.listdir(os.path.join(d, "out")))
    assert sorted(os.listdir(tmp_path)) == want
    for f in want:
        assert read(os.path.join(tmp_path, f)) == read(os.path.join(d, "out", f))


def test_55_etcd_unreachable():
    r = run(["--cluster", "etcd.yaml", "--ldms_config", "input.yaml", "--prefix", "c55"],
            os.path.join(CASES, "55-cli-etcd-unreachable"), timeout=120)
    lines = r.stdout.decode().splitlines()
    assert r.returncode == 1  # upstream: 0 (bug)
    assert lines[0].startswith("etcd connection failed")
    assert lines[-1] == "Error saving ldms cluster configuration to etcd cluster."


def test_56_etcd_yaml_without_members(tmp_path):
    d = os.path.join(CASES, "56-cli-etcd-yaml-without-members")
    r = run(["--cluster", "etcd.yaml", "--ldms_config", "input.yaml", "--prefix", "c56"], d)
    assert r.returncode == 1
    assert re.match(rb"etcd\.yaml(:\d+:\d+)?: .*members", r.stderr), r.stderr
    # read before anything else, as upstream: generation does not happen either
    r = run(["--cluster", "etcd.yaml", "--ldms_config", "input.yaml",
             "--generate_config_path", str(tmp_path)], d)
    assert r.returncode == 1
    assert os.listdir(tmp_path) == []


# ---- ldms-c's own -----------------------------------------------------------------------------

def test_help_check_and_prefixes(tmp_path):
    d = os.path.join(CASES, "15-minimal-baseline")
    r = run(["--help"], d)
    assert r.returncode == 0 and b"--generate_config_path" in r.stdout
    r = run(["--ldms_config", "input.yaml", "--check"], d)
    assert r.returncode == 0 and r.stdout == b"input.yaml: OK (6 daemons)\n"
    # argparse-style unique prefixes and --opt=value
    r = run(["--ldms_c=input.yaml", "--gen", str(tmp_path)], d)
    assert r.returncode == 0, r.stderr
    r = run(["--l", "input.yaml"], d)
    assert r.returncode == 2 and b"ambiguous option: --l could match" in r.stderr
    r = run(["--ldms_config"], d)
    assert r.returncode == 2 and b"argument --ldms_config: expected one argument" in r.stderr
    r = run(["--ldms_config", "input.yaml", "extra"], d)
    assert r.returncode == 2 and b"unrecognized arguments: extra" in r.stderr


def test_seed_readme(tmp_path):
    seed = os.path.join(SRC, "tests", "data", "maestro", "seed_readme.yaml")
    r = run(["--ldms_config", seed, "--generate_config_path", str(tmp_path)], str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    assert len(os.listdir(tmp_path)) == 15
    l2 = read(os.path.join(tmp_path, "l2-agg.conf")).decode()
    assert "strgp_add name=sos-meminfo plugin=store_sos container=ldms_data schema=meminfo " \
           "flush=10000000\n" in l2


def test_warnings_are_located(tmp_path):
    y = tmp_path / "w.yaml"
    y.write_text(read(os.path.join(CASES, "15-minimal-baseline", "input.yaml")).decode()
                 + "samplerz: []\n")
    r = run(["--ldms_config", "w.yaml", "--check"], str(tmp_path))
    assert r.returncode == 0
    assert re.search(rb"w\.yaml:\d+:1: warning: unknown key \"samplerz\"", r.stderr)


def test_local_starts_the_daemons_of_this_host(tmp_path):
    """--local (broken upstream): the daemons whose addr is this host get their file in
    --local_path and an ldmsd with upstream's arguments (here a stand-in that records them)."""
    import socket
    host = socket.gethostname()
    fake = tmp_path / "fake_ldmsd"
    rec = tmp_path / "args"
    fake.write_text("#!/bin/sh\necho \"$@\" >> %s\n" % rec)
    fake.chmod(0o755)
    y = tmp_path / "local.yaml"
    y.write_text(
        "daemons:\n"
        "  - names: \"here-[1-2]\"\n"
        "    hosts: \"%s\"\n"
        "    endpoints:\n"
        "      - names: \"here-[1-2]-ep\"\n"
        "        ports: [10001, 10002]\n"
        "        maestro_comm: True\n"
        "        auth: {name: o, plugin: ovis, conf: /etc/secret.conf}\n"
        "  - names: elsewhere\n"
        "    hosts: not-%s\n"
        "    endpoints: [{names: e-ep, ports: 1, maestro_comm: True}]\n"
        "samplers:\n"
        "  - daemons: \"here-[1-2],elsewhere\"\n"
        "    plugins: [m]\n"
        "plugins:\n"
        "  m: {name: meminfo, interval: 1s, config: [{schema: meminfo}]}\n" % (host, host))
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, MAESTRO_LDMSD=str(fake))
    need(MAESTRO_CTRL)
    r = subprocess.run([MAESTRO_CTRL, "--ldms_config", str(y), "--local", "--local_path",
                        str(out)], capture_output=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == ["here-1.conf", "here-2.conf"]
    for _ in range(100):  # the stand-ins run detached
        if rec.exists() and len(rec.read_text().splitlines()) == 2:
            break
        import time
        time.sleep(0.05)
    got = sorted(rec.read_text().splitlines())
    assert got == ["-x sock:%s -a ovis -A conf=/etc/secret.conf -c %s/%s.conf -r %s/%s.pid "
                   "-l %s/%s.log -F" % (port, out, d, out, d, out, d)
                   for port, d in (("10001", "here-1"), ("10002", "here-2"))]
