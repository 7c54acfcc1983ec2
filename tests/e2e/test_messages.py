"""End-to-end tests of the LDMS message service with our binaries on 127.0.0.1:
ldms_msg_publish -> sampler ldmsd -> L1 (prdcr_subscribe) -> L2 (prdcr_subscribe)
-> ldms_msg_subscribe. Every message arrives exactly once, in order, JSON and
string; msg_stats / msg_client_stats count them; a sampler listening with
quota=64 makes a fast publisher wait instead of losing messages; subscriptions
follow a producer restart and disappear with their connection; msg_disable /
msg_enable; malformed MSG frames do not hurt the daemon. Every wait is bounded
and every process is stopped.
"""

import json
import os
import socket
import struct
import subprocess
import time

import pytest

from conftest import BUILD, free_port, need

PUBLISH = os.path.join(BUILD, "bin", "ldms_msg_publish")
SUBSCRIBE = os.path.join(BUILD, "bin", "ldms_msg_subscribe")
LDMSD_CONTROLLER = os.path.join(BUILD, "bin", "ldmsd_controller")


def ctl(port, cmd, timeout=20, check=True):
    """One ldmsd_controller --json command; returns {"rc":..., "msg":...}."""
    out = subprocess.run(
        [LDMSD_CONTROLLER, "--host", "127.0.0.1", "--port", str(port), "--xprt", "sock",
         "--auth", "none", "--json", "--cmd", cmd],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
    )
    lines = out.stdout.strip().splitlines()
    if check:
        assert lines, out.stdout + out.stderr
    return json.loads(lines[-1]) if lines else {"rc": out.returncode, "msg": out.stderr}


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def publish(port, tag, path, typ="string", lines=True, extra=(), timeout=120):
    argv = [PUBLISH, "-x", "sock", "-h", "127.0.0.1", "-p", str(port), "-a", "none",
            "-m", tag, "-t", typ, "-f", str(path), "-v"]
    if lines:
        argv.append("-l")
    argv += list(extra)
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


class Subscriber:
    """ldms_msg_subscribe on a daemon; lines of JSON on stdout."""

    def __init__(self, tmp_path, port, match, count, regex=True, quota=None, timeout=90):
        need(SUBSCRIBE)
        self.out = tmp_path / ("sub-%d.out" % port)
        self.err = tmp_path / ("sub-%d.err" % port)
        argv = [SUBSCRIBE, "-x", "sock", "-h", "127.0.0.1", "-p", str(port), "-a", "none",
                "-m", match, "-n", str(count), "-T", str(timeout), "-f", str(self.out)]
        if regex:
            argv.append("-r")
        if quota is not None:
            argv += ["-q", str(quota)]
        with open(self.err, "w") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)
        wait_until(lambda: "subscribed" in self.err.read_text() or self.proc.poll() is not None,
                   20, "the subscriber to start")
        assert self.proc.poll() is None, self.err.read_text()

    def wait(self, timeout=120):
        try:
            rc = self.proc.wait(timeout=timeout)
        finally:
            self.stop()
        return rc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def messages(self):
        if not self.out.exists():
            return []
        return [json.loads(l) for l in self.out.read_text().splitlines() if l.strip()]


def remote_clients(port):
    r = ctl(port, "msg_client_stats")
    assert r["rc"] == 0, r
    return [c for c in r["msg"] if c["desc"] == "remote_client"]


def tag_stats(port, tag):
    r = ctl(port, "msg_stats stream=%s" % tag)
    assert r["rc"] == 0, r
    return r["msg"][0] if r["msg"] else None


L1_CONF = """\
prdcr_add name=samp host=127.0.0.1 port={port} xprt=sock type=active reconnect=1s{quota}
prdcr_subscribe regex=.* {attr}=.*
prdcr_start name=samp
"""


@pytest.fixture
def chain(ldmsd_factory):
    """S -> L1 -> L2, each subscribed to everything below it."""
    need(PUBLISH, SUBSCRIBE, LDMSD_CONTROLLER)

    def make(s_conf="msg_enable\n", l1_quota="", l2_quota="", s_pub_port=None):
        s = ldmsd_factory("samp", s_conf)
        l1 = ldmsd_factory("l1", L1_CONF.format(port=s_pub_port or s.port, quota=l1_quota,
                                                attr="message_tag"))
        l2 = ldmsd_factory("l2", L1_CONF.format(port=l1.port, quota=l2_quota, attr="stream"))
        wait_until(lambda: len(remote_clients(s_pub_port or s.port)) == 1, 20,
                   "L1's subscription on the sampler")
        wait_until(lambda: len(remote_clients(l1.port)) == 1, 20,
                   "L2's subscription on L1")
        return s, l1, l2

    return make


def test_chain_delivers_once_in_order(chain, tmp_path):
    s, l1, l2 = chain()
    n_json, n_str = 150, 120
    jpath = tmp_path / "many.json"
    jpath.write_text("".join('{"seq":%d,"v":"%s"}\n' % (i, "x" * (i % 17))
                             for i in range(n_json)))
    spath = tmp_path / "lines.txt"
    spath.write_text("".join("line %d \u00e9\t\"q\"\n" % i for i in range(n_str)))
    whole = tmp_path / "whole.txt"
    whole.write_text("hello golden string")
    sub = Subscriber(tmp_path, l2.port, ".*", n_json + n_str + 1)

    r = publish(s.port, "app_json", jpath, "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "rc=0" in r.stdout
    r = publish(s.port, "app_str", spath, "string")
    assert r.returncode == 0, r.stdout + r.stderr
    r = publish(s.port, "app.whole", whole, "string", lines=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert sub.wait() == 0, sub.err.read_text()

    msgs = sub.messages()
    assert len(msgs) == n_json + n_str + 1
    js = [m for m in msgs if m["tag"] == "app_json"]
    st = [m for m in msgs if m["tag"] == "app_str"]
    wh = [m for m in msgs if m["tag"] == "app.whole"]
    assert [json.loads(m["data"])["seq"] for m in js] == list(range(n_json))
    assert all(m["type"] == "json" for m in js)
    assert [m["data"] for m in st] == ["line %d \u00e9\t\"q\"\n" % i for i in range(n_str)]
    assert all(m["type"] == "string" for m in st)
    assert [m["data"] for m in wh] == ["hello golden string"]
    # publisher 0, sampler 1, L1 2, L2 3, the subscriber 4
    assert {m["hop_cnt"] for m in msgs} == {4}
    assert {m["src"] for m in msgs} == {"0.0.0.0:0"}  # loopback all the way
    assert [m["msg_gn"] for m in js] == list(range(n_json))

    # every daemon counted every message (payload bytes: line + NUL)
    jbytes = sum(len(l.encode()) + 1 for l in jpath.read_text().splitlines(True))
    for d in (s, l1, l2):
        t = tag_stats(d.port, "app_json")
        assert t["rx"]["count"] == n_json and t["rx"]["bytes"] == jbytes, (d.name, t)
        assert tag_stats(d.port, "app.whole")["rx"]["bytes"] == len("hello golden string") + 1
    # L2's remote client on L1 sent everything, dropped nothing
    rc = remote_clients(l1.port)
    assert len(rc) == 1
    assert rc[0]["tx"]["count"] == n_json + n_str + 1 and rc[0]["drops"]["count"] == 0
    assert rc[0]["match"] == ".*" and rc[0]["dest"].startswith("127.0.0.1:")
    chans = {c["msg_tag"]: c for c in rc[0]["channels"]}
    assert chans["app_str"]["tx"]["count"] == n_str and chans["app_str"]["is_regex"] == 1
    # reset returns the values, then zeroes them
    r = ctl(l1.port, "msg_stats stream=app_json reset=true")
    assert r["msg"][0]["rx"]["count"] == n_json
    assert tag_stats(l1.port, "app_json")["rx"]["count"] == 0
    assert tag_stats(l1.port, "app_json")["rx"]["first_ts"] > 9e18  # empty counter


def test_quota_makes_publisher_wait(chain, tmp_path):
    qport = free_port()
    s_conf = "listen xprt=sock port=%d host=127.0.0.1 quota=64\n" % qport
    s, l1, l2 = chain(s_conf=s_conf, l1_quota=" quota=128", l2_quota=" quota=100",
                      s_pub_port=qport)
    n = 3000
    path = tmp_path / "seq.json"
    path.write_text("".join('{"seq":%d}\n' % i for i in range(n)))
    sub = Subscriber(tmp_path, l2.port, "seqs", n, regex=False, quota=64)
    r = publish(qport, "seqs", path, "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Publish lacks send credits" in r.stdout  # it had to wait (ENOBUFS)
    assert sub.wait() == 0, sub.err.read_text()
    seqs = [json.loads(m["data"])["seq"] for m in sub.messages()]
    assert seqs == list(range(n))  # no loss, no duplicate, in order
    # a message larger than the sampler's whole quota can never be sent
    big = tmp_path / "big.txt"
    big.write_text("x" * 100)
    r = publish(qport, "seqs", big, "string", lines=False, extra=("-g", "2"))
    assert r.returncode != 0
    assert "exceeds" in r.stderr


def test_subscriptions_follow_connections(chain, tmp_path, ldmsd_factory):
    s, l1, l2 = chain()
    # prdcr_subscribe argument errors
    assert ctl(l1.port, "prdcr_subscribe regex=.*")["rc"] != 0
    assert ctl(l1.port, "prdcr_subscribe regex=.* stream=a message_tag=b")["rc"] != 0
    assert ctl(l1.port, "prdcr_subscribe regex=( stream=a")["rc"] != 0
    # an exact subscription too, then unsubscribe it: the sampler sees both come and go
    assert ctl(l1.port, "prdcr_subscribe regex=samp stream=exact_tag rx_rate=1k")["rc"] == 0
    wait_until(lambda: len(remote_clients(s.port)) == 2, 10, "the exact subscription")
    assert ctl(l1.port, "prdcr_unsubscribe regex=samp stream=exact_tag")["rc"] == 0
    wait_until(lambda: len(remote_clients(s.port)) == 1, 10, "the unsubscription")
    # the sampler restarts: L1 subscribes again on the new connection
    s.stop()
    s.start()
    wait_until(lambda: len(remote_clients(s.port)) == 1, 20, "L1 to subscribe again")
    path = tmp_path / "after.txt"
    path.write_text("after restart\n")
    sub = Subscriber(tmp_path, l2.port, "after", 1, regex=False)
    assert publish(s.port, "after", path).returncode == 0
    assert sub.wait() == 0
    assert [m["data"] for m in sub.messages()] == ["after restart\n"]
    # L1 dies: its remote client leaves the sampler's stats
    l1.stop()
    wait_until(lambda: len(remote_clients(s.port)) == 0, 5, "the remote client to go")


def test_msg_disable_enable(ldmsd_factory, tmp_path):
    need(PUBLISH, LDMSD_CONTROLLER)
    s = ldmsd_factory("samp", "msg_disable\n")
    path = tmp_path / "m.txt"
    path.write_text("x\n")
    r = publish(s.port, "t", path)
    assert r.returncode != 0
    assert "Operation not supported" in r.stderr
    r = ctl(s.port, "msg_stats")
    assert r["rc"] != 0 and "disabled" in json.dumps(r)
    assert ctl(s.port, "msg_enable")["rc"] == 0
    assert publish(s.port, "t", path).returncode == 0
    assert tag_stats(s.port, "t")["rx"]["count"] == 1


# ---- malformed frames from a raw peer ---------------------------------------------------

def zap_frame(typ, body, xid=1):
    return struct.pack(">HHI", typ, 0, 20 + len(body)) + struct.pack("<IQ", xid, 0) + body


def raw_session(port, msg_enabled=1):
    cm = bytes([4, 2, 0, 0]) + b"none".ljust(16, b"\0")
    cm += struct.pack(">IqqIIIQI", 1, -1, -1, 1, 0, os.getpid(), 1, msg_enabled)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(zap_frame(1, bytes([1, 3, 1, 0]) + b"SOCKET\0\0" + struct.pack(">I", 64) + cm))
    hdr = s.recv(20, socket.MSG_WAITALL)
    assert struct.unpack(">H", hdr[:2])[0] == 8  # ACCEPTED
    s.recv(struct.unpack(">I", hdr[4:8])[0] - 20, socket.MSG_WAITALL)
    s.sendall(zap_frame(10, struct.pack(">I", 0)))
    return s


def ldms_req(cmd, payload, xid=0):
    return struct.pack("<Q", xid) + struct.pack(">II", cmd, 16 + len(payload)) + payload


def sendrecv(ldms):
    return zap_frame(2, struct.pack(">I", len(ldms)) + ldms)


def test_malformed_msg_frames(ldmsd_factory, tmp_path):
    need(PUBLISH, SUBSCRIBE, LDMSD_CONTROLLER)
    s = ldmsd_factory("samp", "msg_enable\n")
    sub = Subscriber(tmp_path, s.port, "ok", 1, regex=False)
    bad = [
        ldms_req(11, b""),                                    # no part header
        ldms_req(11, b"\0" * 28 + struct.pack("<I", 1)),      # a middle part, no first
        ldms_req(11, b"\0" * 28 + struct.pack("<I", 2) + b"\0" * 100),  # short full header
        ldms_req(11, b"\0" * 28 + struct.pack("<I", 3) + b"\0" * 64
                 + struct.pack(">I", 0xffffffff) + b"\0" * 316),  # claims 4 GiB
        ldms_req(12, b"\x01\0\0\x06" + b"\xff" * 8 + b"(((("),  # MSG_SUB, no NUL
        ldms_req(12, b"\x01\0\0\x06" + b"\xff" * 8 + b"((a\0"),  # MSG_SUB, bad regex
        ldms_req(13, b"\0\0\0\0" + b"\0" * 8 + b"nosuch\0"),     # MSG_UNSUB unknown
        ldms_req(10, b"\0\0"),                                # short SEND_QUOTA
        ldms_req(0x10b, b"\0" * 8, xid=12345),               # stray reply
    ]
    rnd = __import__("random").Random(7)
    for _ in range(200):  # random MSG bodies with a valid framing
        bad.append(ldms_req(rnd.choice([10, 11, 12, 13, 17, 18]),
                            bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 600)))))
    conn = raw_session(s.port)
    for b in bad:
        conn.sendall(sendrecv(b))
    time.sleep(0.5)
    conn.close()
    # the daemon still serves, publishes and forwards
    path = tmp_path / "ok.txt"
    path.write_text("still fine\n")
    r = publish(s.port, "ok", path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert sub.wait() == 0
    assert [m["data"] for m in sub.messages()] == ["still fine\n"]
    assert s.proc.poll() is None
    assert ctl(s.port, "msg_stats")["rc"] == 0
