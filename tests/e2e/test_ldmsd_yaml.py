"""`ldmsd -y cluster.yaml -n NAME` end to end (ldms-protocol.md §2): ldmsd converts the
cluster YAML with maestro_ctrl and runs the result through the normal two passes, so a
sampler daemon described only in YAML listens, samples and serves its sets; environment
entries reach the plugin configuration; a daemon name absent from the YAML and a
missing -n stop ldmsd with a clear error.
"""

import os
import re
import subprocess
import time

import pytest

from conftest import BUILD, LDMSD, free_port, ldms_ls, need, wait_for_sets
from daemon_util import pid_listens, stop_process

MAESTRO_CTRL = os.path.join(BUILD, "bin", "maestro_ctrl")
CONTROLLER = os.path.join(BUILD, "bin", "ldmsd_controller")

YAML = """\
daemons:
  - names: &samp "samp-1"
    hosts: "127.0.0.1"
    endpoints:
      - names: "samp-1-ep"
        ports: {port}
        xprt: sock
        maestro_comm: True
        auth:
          name: dom1
          plugin: none
    environment:
      LDMSC_E2E_CID: 42
samplers:
  - daemons: *samp
    plugins: [ meminfo1, vmstat1 ]
plugins:
  meminfo1:
    name: meminfo
    interval: 1s
    config:
      - schema: meminfo
        component_id: 11
        perm: "0644"
  vmstat1:
    name: vmstat
    interval: "1.0s"
    offset: 0
    config: [ {{ component_id: "${{LDMSC_E2E_CID}}" }} ]
"""


class YamlDaemon:
    def __init__(self, tmp_path, args):
        self.log = str(tmp_path / "ldmsd.log")
        self.out = str(tmp_path / "ldmsd.out")
        self.args = [LDMSD] + args + ["-l", self.log, "-v", "INFO"]
        self.proc = None

    def start(self):
        need(LDMSD, MAESTRO_CTRL)
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT)
        return self

    def output(self):
        with open(self.out, errors="replace") as f:
            return f.read()

    def stop(self):
        proc, self.proc = self.proc, None
        stop_process(proc)


@pytest.fixture
def daemons():
    started = []
    yield started
    for d in started:
        d.stop()


def write_yaml(tmp_path, port):
    path = tmp_path / "cluster.yaml"
    path.write_text(YAML.format(port=port))
    return str(path)


def test_yaml_sampler_daemon(tmp_path, daemons):
    port = free_port()
    d = YamlDaemon(tmp_path, ["-y", write_yaml(tmp_path, port), "-n", "samp-1"])
    daemons.append(d.start())
    deadline = time.monotonic() + 15
    while not pid_listens(d.proc.pid, port):  # ours, not whoever else may listen there
        assert d.proc.poll() is None, "ldmsd exited: " + d.output()
        assert time.monotonic() < deadline, "ldmsd -y does not listen on %d" % port
        time.sleep(0.05)

    wait_for_sets(port, ["samp-1/meminfo1", "samp-1/vmstat1"])
    out = ldms_ls(port)
    assert out.stdout == "samp-1/meminfo1\nsamp-1/vmstat1\n"
    out = ldms_ls(port, "-l", "samp-1/vmstat1")
    assert re.search(r"^M u64\s+component_id\s+42\s*$", out.stdout, re.M), out.stdout
    out = ldms_ls(port, "-l", "samp-1/meminfo1")
    assert re.search(r"^M u64\s+component_id\s+11\s*$", out.stdout, re.M), out.stdout
    out = ldms_ls(port, "-v", "samp-1/meminfo1")
    assert "-rw-r--r--" in out.stdout

    # the daemon's running configuration is what the YAML said
    if os.access(CONTROLLER, os.X_OK):
        dump = tmp_path / "dump.conf"
        r = subprocess.run([CONTROLLER, "-h", "127.0.0.1", "-p", str(port),
                            "--cmd", "dump_cfg path=%s" % dump],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        text = dump.read_text()
        assert "\nenv LDMSC_E2E_CID=42\n" in text
        assert "\nauth_add name=dom1 plugin=none\n" in text
        assert "\nlisten xprt=sock port=%d host=127.0.0.1 auth=dom1\n" % port in text
        assert "\nstart name=vmstat1 interval=1000000 offset=0\n" in text
        assert "\nconfig name=vmstat1 component_id=42 producer=samp-1 " \
               "instance=samp-1/vmstat1\n" in text


def test_yaml_unknown_daemon_name(tmp_path, daemons):
    d = YamlDaemon(tmp_path, ["-y", write_yaml(tmp_path, free_port()), "-n", "nosuch"])
    daemons.append(d.start())
    assert d.proc.wait(timeout=30) == 1
    out = d.output()
    assert "Daemon nosuch does not exist" in out, out
    assert "maestro_ctrl failed" in out, out


def test_yaml_needs_name(tmp_path, daemons):
    d = YamlDaemon(tmp_path, ["-y", write_yaml(tmp_path, free_port())])
    daemons.append(d.start())
    assert d.proc.wait(timeout=30) == 1
    assert "the daemon name (-n) is required" in d.output()
