"""Private etcd servers for end-to-end tests: Debian's /usr/bin/etcd (or $LDMSC_ETCD) on
free 127.0.0.1 client/peer ports with a temporary data directory, one member or a cluster
of several; start() waits until every member answers, stop() always kills them. A small
client over the v3 JSON gateway (range at a revision, put, delete) reads what the tests
check, and etcd_yaml() writes the cluster file maestro_ctrl takes.

    with EtcdCluster(tmp_path, members=3) as etcd:
        etcd.put("/a", "1"); etcd.get_prefix("/pfx/")
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ETCD = os.environ.get("LDMSC_ETCD") or "/usr/bin/etcd"


def etcd_available():
    return os.access(ETCD, os.X_OK)


def _free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


def unb64(s):
    return base64.b64decode(s or "").decode("utf-8", "replace")


def prefix_end(p):
    """etcd's range end of "every key starting with p" (p is ASCII here)."""
    b = bytearray(p.encode())
    while b and b[-1] == 0xFF:
        b.pop()
    b[-1] += 1
    return bytes(b)


class EtcdError(Exception):
    pass


class EtcdCluster:
    def __init__(self, workdir, members=1, start_timeout=60.0):
        self.n = members
        self.start_timeout = start_timeout
        self.base = tempfile.mkdtemp(prefix="etcd-", dir=str(workdir))
        ports = _free_ports(2 * members)
        self.client_ports = ports[0::2]
        self.peer_ports = ports[1::2]
        self.urls = ["http://127.0.0.1:%d" % p for p in self.client_ports]
        self.procs = [None] * members
        self.logs = [os.path.join(self.base, "m%d.log" % i) for i in range(members)]

    # ---- life cycle -------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _argv(self, i):
        cluster = ",".join(
            "m%d=http://127.0.0.1:%d" % (k, p) for k, p in enumerate(self.peer_ports)
        )
        curl = self.urls[i]
        purl = "http://127.0.0.1:%d" % self.peer_ports[i]
        return [
            ETCD,
            "--name", "m%d" % i,
            "--data-dir", os.path.join(self.base, "m%d.etcd" % i),
            "--listen-client-urls", curl,
            "--advertise-client-urls", curl,
            "--listen-peer-urls", purl,
            "--initial-advertise-peer-urls", purl,
            "--initial-cluster", cluster,
            "--initial-cluster-state", "new",
            "--initial-cluster-token", self.base,
        ]

    def start(self):
        if not etcd_available():
            raise EtcdError("etcd not installed: " + ETCD)
        try:
            for i in range(self.n):
                with open(self.logs[i], "wb") as log:
                    self.procs[i] = subprocess.Popen(
                        self._argv(i), stdin=subprocess.DEVNULL, stdout=log, stderr=log
                    )
            deadline = time.monotonic() + self.start_timeout
            for i in range(self.n):
                while True:
                    if self.procs[i].poll() is not None:
                        raise EtcdError("etcd member %d exited: %s" % (i, self.log(i)[-2000:]))
                    try:
                        self.call("/v3/kv/range", {"key": b64("health")}, member=i, timeout=1)
                        break
                    except (EtcdError, OSError):
                        if time.monotonic() > deadline:
                            raise EtcdError("etcd member %d not healthy: %s" % (i, self.log(i)[-2000:]))
                        time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        return self

    def kill_member(self, i):
        p, self.procs[i] = self.procs[i], None
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(timeout=10)

    def stop(self):
        for i in range(self.n):
            p, self.procs[i] = self.procs[i], None
            if p is None or p.poll() is not None:
                continue
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)

    def log(self, i):
        try:
            with open(self.logs[i], errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def alive(self):
        return [i for i in range(self.n) if self.procs[i] is not None]

    # ---- files ------------------------------------------------------------------------
    def etcd_yaml(self, path, cluster="test", extra=(), order=None):
        """Writes an etcd.yaml listing the members (in `order`, default all), plus
        `extra` (host, port) pairs first (e.g. dead endpoints)."""
        lines = ["cluster: %s" % cluster, "members:"]
        for host, port in extra:
            lines += ["  - host: %s" % host, "    port: %d" % port]
        for i in order if order is not None else range(self.n):
            lines += ["  - host: 127.0.0.1", "    port: %d" % self.client_ports[i]]
        with open(str(path), "w") as f:
            f.write("\n".join(lines) + "\n")
        return str(path)

    # ---- client -------------------------------------------------------------------------
    def call(self, path, body, member=None, timeout=10):
        members = [member] if member is not None else self.alive()
        last = None
        for i in members:
            req = urllib.request.Request(
                self.urls[i] + path,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    return json.loads(r.read().decode())
            except urllib.error.HTTPError as e:
                raise EtcdError("%s: %s" % (self.urls[i], e.read().decode(errors="replace")))
            except OSError as e:
                last = e
        raise EtcdError("no etcd member answered: %s" % last)

    def range(self, key, end=None, prefix=False, revision=0, keys_only=False):
        """[(key, value, mod_revision)], header revision."""
        body = {"key": b64(key)}
        if prefix:
            end = prefix_end(key)
        if end is not None:
            body["range_end"] = b64(end)
        if revision:
            body["revision"] = revision
        if keys_only:
            body["keys_only"] = True
        r = self.call("/v3/kv/range", body)
        kvs = [
            (unb64(kv["key"]), unb64(kv.get("value")), int(kv.get("mod_revision", 0)))
            for kv in r.get("kvs", [])
        ]
        return kvs, int(r["header"]["revision"])

    def get(self, key, revision=0):
        kvs, rev = self.range(key, revision=revision)
        return (kvs[0][1] if kvs else None), rev

    def get_prefix(self, prefix, revision=0):
        kvs, _ = self.range(prefix, prefix=True, revision=revision)
        return {k: v for k, v, _ in kvs}

    def put(self, key, value):
        r = self.call("/v3/kv/put", {"key": b64(key), "value": b64(value)})
        return int(r["header"]["revision"])

    def delete_prefix(self, prefix):
        self.call("/v3/kv/deleterange", {"key": b64(prefix), "range_end": b64(prefix_end(prefix))})

    # ---- ldms-c's configuration store (docs/etcd-cfgstore.md) -------------------------------
    def read_config(self, prefix):
        """(generation, {relative key: value}) as the maestro daemon reads it: the pointer,
        then the generation's keys at the pointer's revision. (None, {}) if never loaded.
        Like the daemon, starts again if a later load compacted that revision meanwhile."""
        for attempt in range(5):
            gen, rev = self.get("/%s/generation" % prefix)
            if gen is None:
                return None, {}
            d = "/%s/g/%012d/" % (prefix, int(gen))
            try:
                kv = self.get_prefix(d, revision=rev)
            except EtcdError as e:
                if "compacted" in str(e) and attempt < 4:
                    continue
                raise
            return int(gen), {k[len(d):]: v for k, v in kv.items()}
