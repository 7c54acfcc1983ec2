"""A deliberately naive LDMS-over-zap-sock client for hostile-peer tests: it builds
frames field by field (ldms-protocol.md §6.1-6.6, golden/wire/README.md) so tests can
send exactly the bytes they want, valid or not. Standard library only.
"""

import os
import select
import socket
import struct
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WIRE_DIR = os.path.join(HERE, "..", "unit", "data", "wire")

# zap frame types
CONNECT, SENDRECV, RENDEZVOUS, READ_REQ, READ_RESP = 1, 2, 3, 4, 5
ACCEPTED, REJECTED, ACK_ACCEPTED = 8, 9, 10
# LDMS commands
DIR, DIR_CANCEL, LOOKUP, SEND_MSG, AUTH_MSG, SET_DELETE = 0, 1, 2, 5, 6, 9
DIR_REPLY, LOOKUP_REPLY = 0x101, 0x104

ZAP_VERSION = bytes([1, 3, 1, 0])
ZAP_SIG = b"SOCKET\0\0"
LDMS_VERSION = bytes([4, 2, 0, 0])


def golden_frame(name):
    """A frame captured from upstream (tests/unit/data/wire/NAME.bin)."""
    with open(os.path.join(WIRE_DIR, name + ".bin"), "rb") as f:
        return f.read()


def zap_hdr(ftype, length, xid=1, ctxt=0):
    return struct.pack(">HHI", ftype, 0, length) + struct.pack("<IQ", xid, ctxt)


def zap_data(ftype, data, xid=1):
    """SENDRECV / ACCEPTED / REJECTED / ACK_ACCEPTED: header + data_len + data."""
    return zap_hdr(ftype, 24 + len(data), xid) + struct.pack(">I", len(data)) + data


def conn_msg(auth="none", version=LDMS_VERSION, rail=True):
    m = version + auth.encode().ljust(16, b"\0")[:16]
    if rail:
        m += struct.pack(">IqqIIIQI", 1, -1, -1, 1, 0, os.getpid() & 0x7FFFFFFF, 1, 0)
    return m


def connect_frame(auth="none", version=LDMS_VERSION, zap_version=ZAP_VERSION, sig=ZAP_SIG,
                  rail=True):
    cm = conn_msg(auth, version, rail)
    return zap_hdr(CONNECT, 36 + len(cm)) + zap_version + sig + struct.pack(">I", len(cm)) + cm


def ldms_req(cmd, payload=b"", xid=0x1234, length=None):
    """LDMS request: xid u64 (host order), cmd BE32, len BE32 (whole message)."""
    if length is None:
        length = 16 + len(payload)
    return struct.pack("<Q", xid) + struct.pack(">II", cmd, length) + payload


def sendrecv(msg, xid=1):
    return zap_data(SENDRECV, msg, xid)


def dir_req(flags=0, xid=0x1234):
    return sendrecv(ldms_req(DIR, struct.pack(">I", flags), xid))


def lookup_req(path, flags=0, xid=0x1235, path_len=None):
    p = path.encode() + b"\0"
    n = len(p) if path_len is None else path_len
    return sendrecv(ldms_req(LOOKUP, struct.pack(">II", flags, n) + p, xid))


def send_msg(data, msg_len=None):
    n = len(data) if msg_len is None else msg_len
    return sendrecv(ldms_req(SEND_MSG, struct.pack(">I", n) + data, 0))


def read_req(key, addr, length, xid=7, ctxt=0):
    return zap_hdr(READ_REQ, 36, xid, ctxt) + struct.pack("<I", key) + struct.pack(">QI", addr, length)


# ---- ldmsd_request records (§6.6) --------------------------------------------------------

SOM, EOM = 1, 2


def attr(attr_id, value, attr_len=None):
    v = value if isinstance(value, bytes) else value.encode() + b"\0"
    n = len(v) if attr_len is None else attr_len
    return struct.pack(">III", 1, attr_id, n) + v


def record(req_id, body, msg_no=1, flags=SOM | EOM, marker=0xFFFFFFFF, rtype=1, rec_len=None):
    n = 24 + len(body) if rec_len is None else rec_len
    return struct.pack(">IIIIII", marker, rtype, flags, msg_no, req_id, n) + body


TERM = struct.pack(">I", 0)


def parse_record(data):
    """-> (type, flags, msg_no, rsp_err, [(attr_id, value_bytes)]) of one record."""
    marker, rtype, flags, msg_no, rid, rec_len = struct.unpack(">IIIIII", data[:24])
    assert marker == 0xFFFFFFFF, data[:24].hex()
    attrs, off = [], 24
    while off + 4 <= rec_len:
        (discrim,) = struct.unpack(">I", data[off : off + 4])
        if discrim == 0:
            break
        aid, alen = struct.unpack(">II", data[off + 4 : off + 12])
        attrs.append((aid, data[off + 12 : off + 12 + alen]))
        off += 12 + alen
    return rtype, flags, msg_no, rid, attrs


# ---- the socket side ---------------------------------------------------------------------


class PeerClosed(Exception):
    pass


class Conn:
    """One raw TCP connection to a daemon; every blocking call is bounded in time."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame within %.1fs" % self.timeout)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise PeerClosed("connection closed by the daemon")
            self.buf += chunk

    def recv_frame(self, timeout=None):
        """-> (type, xid, ctxt, body after the 20-byte header)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        self._fill(20, deadline)
        ftype, _, length = struct.unpack(">HHI", self.buf[:8])
        xid, ctxt = struct.unpack("<IQ", self.buf[8:20])
        self._fill(length, deadline)
        body, self.buf = self.buf[20:length], self.buf[length:]
        return ftype, xid, ctxt, body

    def recv_ldms(self, timeout=None):
        """Next SENDRECV: -> (cmd, xid, rc or None, payload)."""
        while True:
            ftype, _, _, body = self.recv_frame(timeout)
            if ftype != SENDRECV:
                continue
            msg = body[4:]
            (xid,) = struct.unpack("<Q", msg[:8])
            cmd, _ = struct.unpack(">II", msg[8:16])
            if cmd >= 0x100:
                (rc,) = struct.unpack(">I", msg[16:20])
                return cmd, xid, rc, msg[20:]
            return cmd, xid, None, msg[16:]

    def closed_by_peer(self, timeout=5.0):
        """True once the daemon closed the connection (data received is discarded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                continue
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, OSError):
                return True
            if not chunk:
                return True
        return False

    def handshake(self, auth="none"):
        """CONNECT (64-byte rail conn msg) -> ACCEPTED -> ACK_ACCEPTED; auth none."""
        self.send(connect_frame(auth))
        ftype, _, _, body = self.recv_frame()
        assert ftype == ACCEPTED, (ftype, body)
        self.send(zap_data(ACK_ACCEPTED, b""))
        return body

    def rendezvous(self, instance, timeout=None):
        """LOOKUP by instance -> (map_key, addr, map_len, meta_len, data_len, array_card)."""
        self.send(lookup_req(instance))
        while True:
            ftype, _, _, body = self.recv_frame(timeout)
            if ftype == RENDEZVOUS:
                key, = struct.unpack("<I", body[0:4])
                acc, addr, map_len = struct.unpack(">IQI", body[4:20])
                msg = body[20:]
                meta_len, data_len, card, _, array_card = struct.unpack(">IIIII", msg[28:48])
                return key, addr, map_len, meta_len, data_len, array_card
            if ftype == SENDRECV:
                raise AssertionError("LOOKUP of %s answered %r" % (instance, body[:40].hex()))
