"""End-to-end tests of the quota group with our ldmsd on 127.0.0.1 (scenario S6 of
shared/spec/qgroup-streams.md, control plane) and its effect on the message path:
a budget that cannot pay the returns stalls the whole chain publisher -> sampler ->
L1 within the per-connection quotas, without loss, and qgroup_stop releases it.
Every wait is bounded; every process is stopped.
"""

import json
import os
import subprocess
import time

from conftest import BUILD, free_port, need
from test_messages import PUBLISH, Subscriber, ctl, remote_clients, wait_until

L1_CONF = """\
prdcr_add name=samp host=127.0.0.1 port={port} xprt=sock type=active reconnect=1s quota=64
prdcr_subscribe regex=.* message_tag=.*
prdcr_start name=samp
"""


def members(port):
    r = ctl(port, "qgroup_info")
    assert r["rc"] == 0, r
    return r["msg"]


def test_qgroup_control_plane(ldmsd_factory):
    need(os.path.join(BUILD, "bin", "ldmsd_controller"))
    a = ldmsd_factory("a", "msg_enable\n")
    b = ldmsd_factory("b", "msg_enable\n")
    nobody = free_port()
    assert ctl(a.port, "qgroup_start")["rc"] == 22  # nothing configured
    r = ctl(a.port, "qgroup_config quota=1k ask_mark=200b ask_amount=100 ask_interval=100ms "
            "reset_interval=1s")
    assert r["rc"] == 0, r
    assert ctl(a.port, "qgroup_config quota=1.5k")["rc"] == 22
    assert ctl(a.port, "qgroup_config ask_interval=3x")["rc"] == 22
    assert ctl(a.port, "qgroup_config ask_interval=0")["rc"] == 22
    assert ctl(a.port, "qgroup_member_add xprt=sock host=127.0.0.1 port=%d" % nobody)["rc"] == 0
    assert ctl(a.port, "qgroup_member_add xprt=sock host=127.0.0.1 port=%d" % b.port)["rc"] == 0
    r = ctl(a.port, "qgroup_member_add xprt=sock host=127.0.0.1 port=%d" % b.port)
    assert r["rc"] == 17 and "already existed" in r["msg"]
    assert ctl(a.port, "qgroup_member_add xprt=sock host=x auth=nosuch")["rc"] == 2
    info = members(a.port)
    assert info["state"] == "STOPPED"
    assert info["config"] == {"quota": 1024, "ask_mark": 200, "ask_amount": 100,
                              "ask_usec": 100000, "reset_usec": 1000000}
    ports = [m["port"] for m in info["members"]]
    assert ports == sorted(ports) and set(ports) == {str(nobody), str(b.port)}
    assert all(m["state"] == "DISCONNECTED" and m["auth"] == "none"
               and m["auth_options"] == {} for m in info["members"])
    assert set(info) == {"state", "quota", "config", "members"}

    assert ctl(a.port, "qgroup_start")["rc"] == 0
    assert members(a.port)["state"] in ("STARTED", "BUSY")

    def b_up():
        st = {m["port"]: m["state"] for m in members(a.port)["members"]}
        return st[str(b.port)] == "CONNECTED" and st[str(nobody)] != "CONNECTED"
    wait_until(b_up, 2 * 0.1 + 3, "member B to be CONNECTED")
    for cmd in ("qgroup_config quota=2k",
                "qgroup_member_add xprt=sock host=127.0.0.1 port=1",
                "qgroup_member_del host=127.0.0.1 port=%d" % b.port,
                "qgroup_start"):
        assert ctl(a.port, cmd)["rc"] == 16, cmd  # EBUSY
    # B's group is stopped: A's asks (if any) get nothing, and B keeps running
    assert members(b.port)["state"] == "STOPPED"
    assert ctl(a.port, "qgroup_stop")["rc"] == 0
    info = members(a.port)
    assert info["state"] == "STOPPED"
    assert all(m["state"] == "DISCONNECTED" for m in info["members"])
    assert ctl(a.port, "qgroup_stop")["rc"] == 22
    assert ctl(a.port, "qgroup_member_del host=127.0.0.1 port=1")["rc"] == 2
    assert ctl(a.port, "qgroup_member_del host=127.0.0.1 port=%d" % nobody)["rc"] == 0
    assert b.proc.poll() is None and a.proc.poll() is None


def test_qgroup_stalls_chain_then_stop_releases(ldmsd_factory, tmp_path):
    need(PUBLISH)
    qport = free_port()
    s = ldmsd_factory("samp", "listen xprt=sock port=%d host=127.0.0.1 quota=64\n" % qport)
    # L1 may pay for 100 bytes of returns and nothing more for an hour
    l1 = ldmsd_factory("l1", "qgroup_config quota=100 ask_mark=10 ask_amount=10 "
                       "ask_interval=1h reset_interval=1h\nqgroup_start\n"
                       + L1_CONF.format(port=s.port))
    wait_until(lambda: len(remote_clients(s.port)) == 1, 20, "L1's subscription")
    n = 40
    path = tmp_path / "m.txt"
    # 28-byte lines + NUL, tag "q" + NUL: a charge of 31 bytes
    path.write_text("".join("%026d\n" % i for i in range(n)))
    sub = Subscriber(tmp_path, l1.port, "q", n, regex=False)
    pub = subprocess.Popen([PUBLISH, "-x", "sock", "-h", "127.0.0.1", "-p", str(qport),
                            "-a", "none", "-m", "q", "-f", str(path), "-l"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    try:
        # L1 pays 3 returns (93 of 100 bytes); then the sampler's 64 bytes of
        # quota toward L1 and the publisher's 64 toward the sampler fill up
        wait_until(lambda: len(sub.messages()) >= 3, 20, "the first messages")
        time.sleep(2)
        got = len(sub.messages())
        assert 3 <= got <= 3 + 64 // 31 + 1, got
        assert pub.poll() is None  # the publisher waits for quota
        r = ctl(s.port, "msg_stats stream=q")
        assert r["msg"][0]["rx"]["count"] < n
        # stop: the gate opens, the deferred returns go, everything flows
        assert ctl(l1.port, "qgroup_stop")["rc"] == 0
        assert pub.wait(timeout=60) == 0, pub.stderr.read()
        assert sub.wait(timeout=60) == 0
        data = [m["data"] for m in sub.messages()]
        assert data == ["%026d\n" % i for i in range(n)]
    finally:
        if pub.poll() is None:
            pub.kill()
            pub.wait(timeout=5)
        sub.stop()
