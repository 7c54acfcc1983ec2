"""The client side of libldms against hostile or broken servers, driven through our
ldms_ls: a Python server answers the handshake and then lies (REJECTED with control
characters, a wrong version in ACCEPTED, bad or endless DIR JSON, rendezvous with
impossible geometry or a gigabyte map, READ_RESP with a wrong xid or size, garbage
set memory, silence). ldms_ls must end within its wait time with a non-zero status and
a message, never by a signal and never hang.
"""

import json
import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import LDMS_LS, need
import wire_client as w

DIR_JSON = None


def golden_dir_json():
    f = w.golden_frame("dir_reply")
    msg = f[24:]
    jlen, = struct.unpack(">I", msg[28:32])
    return msg[32 : 32 + jlen]


def dir_reply(xid, js, more=0, cmd=w.DIR_REPLY, rc=0):
    body = struct.pack(">III", 0, more, len(js)) + js
    hdr = struct.pack("<Q", xid) + struct.pack(">III", cmd, 20 + len(body), rc)
    return w.sendrecv(hdr + body)


def rendezvous(xid, instance, meta_len, data_len, array_card=1, map_len=None, key=2,
               addr=0x7F0200000000):
    if map_len is None:
        map_len = (meta_len + array_card * data_len) & 0xFFFFFFFF
    schema = b"golden"
    sent = bytes([len(schema) + 34]) + schema.ljust(len(schema) + 34, b"\0")
    inst = instance.encode() + b"\0"
    names = sent + bytes([len(inst)]) + inst + b"\0"
    msg_len = 48 + len(names)
    msg = (struct.pack("<Q", xid) + struct.pack(">I", 1) + struct.pack("<IQ", msg_len, 1)
           + struct.pack(">IIIIII", 0, meta_len, data_len, 1, 0, array_card) + names)
    return (w.zap_hdr(w.RENDEZVOUS, 40 + len(msg)) + struct.pack("<I", key)
            + struct.pack(">IQI", 3, addr, map_len) + msg)


def read_resp(xid, ctxt, data, status=0, data_len=None):
    n = len(data) if data_len is None else data_len
    return (w.zap_hdr(w.READ_RESP, 36 + len(data), xid, ctxt) + struct.pack(">HH", status, 0)
            + struct.pack("<Q", 0) + struct.pack(">I", n) + data)


class FakeServer:
    """Accepts connections on 127.0.0.1 and runs `script(conn)` for each."""

    def __init__(self, script):
        self.script = script
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.stop = False
        self.errors = []
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while not self.stop:
            try:
                s, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c = w.Conn.__new__(w.Conn)
            c.sock, c.timeout, c.buf = s, 15.0, b""
            try:
                self.script(c)
            except (w.PeerClosed, OSError, TimeoutError):
                pass
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.errors.append(repr(e))
            c.close()

    def close(self):
        self.stop = True
        self.th.join(timeout=5)
        self.lsock.close()


def accept_handshake(c):
    ftype, _, _, _ = c.recv_frame()
    assert ftype == w.CONNECT
    c.send(w.golden_frame("accepted_rail"))
    ftype, _, _, _ = c.recv_frame()
    assert ftype == w.ACK_ACCEPTED


def next_request(c):
    """-> (zap type, xid, ctxt, cmd, ldms xid, body) of the next frame."""
    ftype, zxid, ctxt, body = c.recv_frame()
    if ftype == w.SENDRECV:
        msg = body[4:]
        xid, = struct.unpack("<Q", msg[:8])
        cmd, = struct.unpack(">I", msg[8:12])
        return ftype, zxid, ctxt, cmd, xid, msg
    return ftype, zxid, ctxt, None, None, body


def run_ls(port, *args, wait=3, timeout=40):
    need(LDMS_LS)
    argv = [LDMS_LS, "-h", "127.0.0.1", "-p", str(port), "-x", "sock", "-a", "none",
            "-w", str(wait)] + list(args)
    t0 = time.monotonic()
    out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=timeout, errors="replace")
    return out, time.monotonic() - t0


def serve(script, *ls_args, wait=3):
    srv = FakeServer(script)
    try:
        out, took = run_ls(srv.port, *ls_args, wait=wait)
    finally:
        srv.close()
    assert out.returncode >= 0, "ldms_ls killed by signal %d:\n%s" % (-out.returncode, out.stderr)
    assert "Sanitizer" not in out.stderr, out.stderr  # when run on an ASan build
    assert not srv.errors, srv.errors
    return out, took


def one_set_dir(c, instance="golden/static"):
    """Answers the DIR with a directory naming `instance` only."""
    d = json.loads(golden_dir_json())
    e = d["directory"][0]
    e["name"] = instance
    js = json.dumps({"directory": [e]}).encode()
    _, _, _, cmd, xid, _ = next_request(c)
    assert cmd == w.DIR
    c.send(dir_reply(xid, js))


# ---- connection set-up --------------------------------------------------------------------


def test_rejected_with_control_characters():
    def script(c):
        c.recv_frame()
        c.send(w.zap_data(w.REJECTED, b"no\x1b[31m way\n\x00tail" + b"\x07" * 600))
        time.sleep(0.5)

    out, _ = serve(script)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "\x1b" not in text and "\x07" not in text
    assert "no" in text


@pytest.mark.parametrize("accepted", [
    w.zap_data(w.ACCEPTED, bytes([4, 1, 0, 0]) + b"none".ljust(16, b"\0")),
    w.zap_data(w.ACCEPTED, bytes([4, 2, 0, 0]) + b"munge".ljust(16, b"\0")),
    w.zap_data(w.ACCEPTED, b"\x04\x02"),
    w.zap_data(w.SENDRECV, b"\0" * 40),
    w.zap_hdr(w.ACCEPTED, 0xFFFFFFF0),
    b"\xff" * 64,
])
def test_bad_accept(accepted):
    def script(c):
        c.recv_frame()
        c.send(accepted)
        time.sleep(0.5)

    out, took = serve(script)
    assert out.returncode != 0 and (out.stdout + out.stderr).strip()
    assert took < 20


def test_silent_server():
    def script(c):
        c.recv_frame()
        time.sleep(6)

    out, took = serve(script, wait=2)
    assert out.returncode != 0
    assert took < 30


# ---- directory ------------------------------------------------------------------------------


@pytest.mark.parametrize("js", [
    b"{",
    b'{"directory": 5}',
    b'{"directory": [{"name": "x"}]}',
    b'{"directory": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
    b'\xff\xfe{"directory": []}',
    b'{"directory": [{"name":"a\\u0000b","schema":"s","digest":"","flags":"","meta_size":1,'
    b'"data_size":1,"heap_size":0,"uid":0,"gid":0,"perm":"-r--r--r--","card":1,'
    b'"array_card":1,"meta_gn":1,"data_gn":1,"timestamp":{"sec":0,"usec":0},'
    b'"duration":{"sec":0,"usec":0},"info":[]}]}',
])
def test_bad_dir_json(js):
    def script(c):
        _, _, _, cmd, xid, _ = next_request(c)
        c.send(dir_reply(xid, js))
        time.sleep(0.5)

    def full(c):
        accept_handshake(c)
        script(c)

    out, _ = serve(full)
    assert out.returncode != 0, out.stdout


def test_dir_reply_lengths_lie():
    def full(c):
        accept_handshake(c)
        _, _, _, cmd, xid, _ = next_request(c)
        body = struct.pack(">III", 0, 0, 0x7FFFFFFF) + b"{}"
        hdr = struct.pack("<Q", xid) + struct.pack(">III", w.DIR_REPLY, 20 + len(body), 0)
        c.send(w.sendrecv(hdr + body))
        time.sleep(0.5)

    out, _ = serve(full)
    assert out.returncode != 0


def test_endless_dir():
    """DIR parts with `more` forever: ldms_ls gives up at its wait time."""
    js = golden_dir_json()

    def full(c):
        accept_handshake(c)
        _, _, _, cmd, xid, _ = next_request(c)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            c.send(dir_reply(xid, js, more=1) * 50)

    out, took = serve(full, wait=2)
    assert out.returncode != 0
    assert took < 30


# ---- lookup and read ---------------------------------------------------------------------------


@pytest.mark.parametrize("geometry", [
    dict(meta_len=16, data_len=96),  # meta smaller than the set header
    dict(meta_len=624, data_len=8),  # data smaller than its header
    dict(meta_len=624, data_len=168, array_card=0),
    dict(meta_len=624, data_len=168, map_len=100),  # map shorter than meta+data
    dict(meta_len=0x40000000, data_len=0x40000000, array_card=4),  # 5 GiB
    dict(meta_len=624, data_len=168, array_card=0xFFFFFFFF),
])
def test_bad_rendezvous(geometry):
    def full(c):
        accept_handshake(c)
        one_set_dir(c)
        _, _, _, cmd, xid, _ = next_request(c)
        assert cmd == w.LOOKUP
        c.send(rendezvous(xid, "golden/static", **geometry))
        time.sleep(1.0)

    out, took = serve(full, "-l", wait=2)
    assert out.returncode != 0 or "lookup failed" in out.stdout, out.stdout
    assert took < 30


def test_gigabyte_map_then_silence():
    """A rendezvous announcing a 1 GiB set: the mirror is not filled by the client
    itself, the read waits and ldms_ls gives up at its wait time."""
    def full(c):
        accept_handshake(c)
        one_set_dir(c)
        _, _, _, cmd, xid, _ = next_request(c)
        c.send(rendezvous(xid, "golden/static", 624, (1 << 30) - 624))
        time.sleep(6)

    out, took = serve(full, "-l", wait=2)
    assert out.returncode != 0 or "lookup failed" in out.stdout
    assert took < 30


def set_bytes(name):
    with open(os.path.join(os.environ.get("LDMSC_GOLDEN") or os.path.join(
            w.HERE, "..", "..", "..", "shared", "golden"), "wire", "03-test-sampler", name),
            "rb") as f:
        return f.read()


@pytest.mark.parametrize("how", ["wrong_xid", "short", "long_status", "garbage", "flip_names"])
def test_bad_read_responses(how):
    mem = set_bytes("set.bin")  # golden/static: meta 624 + data 168

    def full(c):
        accept_handshake(c)
        one_set_dir(c)
        _, _, _, cmd, xid, _ = next_request(c)
        c.send(rendezvous(xid, "golden/static", 624, 168))
        while True:
            ftype, zxid, ctxt, _, _, body = next_request(c)
            if ftype != w.READ_REQ:
                continue
            addr, n = struct.unpack(">QI", body[4:16])
            off = addr - 0x7F0200000000
            data = mem[off : off + n]
            if how == "wrong_xid":
                c.send(read_resp(zxid + 1000, ctxt, data))
            elif how == "short":
                c.send(read_resp(zxid, ctxt, data[:-8]))
            elif how == "long_status":
                c.send(read_resp(zxid, ctxt, data + b"\0" * 64, status=17))
            elif how == "garbage":
                c.send(read_resp(zxid, ctxt, bytes((i * 37) & 0xFF for i in range(n))))
            else:  # a valid set whose names do not match the rendezvous
                c.send(read_resp(zxid, ctxt, data.replace(b"golden/static", b"golden/STATIC")))
            time.sleep(0.5)
            return

    out, took = serve(full, "-l", wait=2)
    assert out.returncode != 0 or "lookup failed" in out.stdout, out.stdout
    assert took < 30


def test_valid_fake_server_works():
    """The same fake server telling the truth: ldms_ls -l prints the set (the
    harness itself is right)."""
    mem = set_bytes("set.bin")

    def full(c):
        accept_handshake(c)
        one_set_dir(c)
        _, _, _, cmd, xid, _ = next_request(c)
        c.send(rendezvous(xid, "golden/static", 624, 168))
        while True:
            ftype, zxid, ctxt, _, _, body = next_request(c)
            if ftype == w.READ_REQ:
                addr, n = struct.unpack(">QI", body[4:16])
                off = addr - 0x7F0200000000
                c.send(read_resp(zxid, ctxt, mem[off : off + n]))

    out, _ = serve(full, "-l", wait=3)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "golden/static" in out.stdout


# ---- an aggregator ldmsd against a hostile producer -----------------------------------------

AGG_CONF = """\
prdcr_add name=evil host=127.0.0.1 port={port} xprt=sock type=active reconnect=1s
prdcr_start name=evil
updtr_add name=u interval=500ms offset=0
updtr_prdcr_add name=u regex=.*
updtr_start name=u
"""


def producer_script(kind):
    mem = set_bytes("set.bin")
    js = golden_dir_json()

    def script(c):
        accept_handshake(c)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                ftype, zxid, ctxt, cmd, xid, body = next_request(c)
            except TimeoutError:
                return
            if cmd == w.DIR:
                if kind == "bad_json":
                    c.send(dir_reply(xid, b'{"directory": [{]}'))
                elif kind == "endless_dir":
                    while time.monotonic() < deadline:
                        c.send(dir_reply(xid, js, more=1) * 20)
                elif kind == "update_flood":
                    c.send(dir_reply(xid, b'{ "directory" : []}'))
                    for i in range(2000):
                        c.send(dir_reply(xid, js + b"\0", cmd=0x103, more=0))
                        c.send(w.sendrecv(w.ldms_req(w.SET_DELETE,
                                                     struct.pack(">I", 6) + b"nosuch", i)))
                else:
                    d = json.loads(js)
                    e = d["directory"][0]
                    e["name"] = "golden/static"
                    c.send(dir_reply(xid, json.dumps({"directory": [e]}).encode()))
            elif cmd == w.LOOKUP:
                if kind == "bad_rdv":
                    c.send(rendezvous(xid, "golden/static", 16, 8))
                else:
                    c.send(rendezvous(xid, "golden/static", 624, 168))
                    # unsolicited rendezvous for lookups nobody made
                    c.send(rendezvous(xid + 99, "other/set", 624, 168, key=9))
            elif ftype == w.READ_REQ:
                addr, n = struct.unpack(">QI", body[4:16])
                off = addr - 0x7F0200000000
                if kind == "garbage_read":
                    c.send(read_resp(zxid, ctxt, bytes((i * 13) & 0xFF for i in range(n))))
                elif kind == "wrong_xid":
                    c.send(read_resp(zxid ^ 0x5555, ctxt, mem[off : off + n]))
                else:
                    c.send(read_resp(zxid, ctxt, mem[off : off + n]))

    return script


@pytest.mark.parametrize("kind", ["bad_json", "endless_dir", "update_flood", "bad_rdv",
                                  "garbage_read", "wrong_xid", "good"])
def test_aggregator_survives_hostile_producer(ldmsd_factory, kind):
    srv = FakeServer(producer_script(kind))
    try:
        d = ldmsd_factory("agg-" + kind, AGG_CONF.format(port=srv.port))
        time.sleep(4)  # several reconnects and update rounds
        assert d.proc.poll() is None, "aggregator died:\n" + d.log()[-3000:]
        out, _ = run_ls(d.port, wait=5)
        assert out.returncode == 0, out.stdout + out.stderr
        if kind == "good":
            # listed while a connection is up: the script ends each one after 4 s and
            # the aggregator reconnects 1 s later (a fixed 4 s sleep raced that end)
            deadline = time.monotonic() + 30
            while "golden/static" not in out.stdout and time.monotonic() < deadline:
                time.sleep(0.2)
                out, _ = run_ls(d.port, wait=5)
            assert "golden/static" in out.stdout, out.stdout + out.stderr
    finally:
        srv.close()
    assert not srv.errors, srv.errors


def reset(c):
    """Close with RST (SO_LINGER 0): the client's next write fails with EPIPE."""
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.sock.close()


@pytest.mark.parametrize("when", ["after_accepted", "after_dir", "during_read"])
def test_reset_by_server_is_no_signal(when):
    """A server that resets the connection must not kill the client with SIGPIPE."""
    mem = set_bytes("set.bin")

    def full(c):
        accept_handshake(c) if when != "after_accepted" else None
        if when == "after_accepted":
            c.recv_frame()
            c.send(w.golden_frame("accepted_rail"))
            reset(c)
            return
        one_set_dir(c)
        if when == "after_dir":
            reset(c)
            return
        _, _, _, cmd, xid, _ = next_request(c)
        c.send(rendezvous(xid, "golden/static", 624, 168))
        next_request(c)
        c.send(read_resp(99, 0, mem[:100])[:60])
        reset(c)

    for _ in range(5):
        out, _ = serve(full, "-l", wait=2)
        assert out.returncode != 0 or "lookup failed" in out.stdout
