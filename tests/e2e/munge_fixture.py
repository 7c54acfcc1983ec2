"""A private munged for end-to-end tests: its own random key, socket, pid, log and
seed files, so tests never depend on (or disturb) a system munge installation.

    from munge_fixture import MungeDaemon
    m = MungeDaemon(tmp_path); m.start()
    ... ldmsd -a munge -A socket=<m.socket> ...   (or m.auth_args)
    m.stop()

Also usable as a context manager. `MungeDaemon.available()` tells whether Debian's
/usr/sbin/munged is installed (skip munge tests otherwise).
"""

import os
import shutil
import subprocess
import tempfile
import time

MUNGED = "/usr/sbin/munged"
# sun_path holds 108 bytes; keep a margin for munged's ".lock" companion file.
_SOCKET_PATH_MAX = 100


class MungeDaemon:
    def __init__(self, tmpdir, start_timeout=10.0):
        self._base = os.fspath(tmpdir)
        self._timeout = start_timeout
        self._proc = None
        self._own_dir = None  # a /tmp directory we created and must remove
        self.dir = None
        self.socket = None

    @staticmethod
    def available():
        return os.access(MUNGED, os.X_OK)

    @property
    def auth_args(self):
        """Command-line options for ldmsd / ldms_ls to use this munged."""
        return ["-a", "munge", "-A", "socket=" + self.socket]

    def _make_dir(self):
        d = os.path.join(self._base, "munge")
        if len(os.path.join(d, "munge.sock")) > _SOCKET_PATH_MAX:
            # pytest's tmp paths can be too long for a unix socket
            d = tempfile.mkdtemp(prefix="ldmsc-munge-", dir="/tmp")
            self._own_dir = d
        else:
            os.makedirs(d, exist_ok=True)
        # munged wants its socket directory reachable by everyone
        os.chmod(d, 0o711)
        return d

    def start(self):
        if self._proc is not None:
            return self
        if not self.available():
            raise RuntimeError(MUNGED + " is not installed (apt-get install munge)")
        self.dir = self._make_dir()
        key = os.path.join(self.dir, "munge.key")
        self.socket = os.path.join(self.dir, "munge.sock")
        log = os.path.join(self.dir, "munged.log")
        for stale in (key, self.socket, self.socket + ".lock"):
            if os.path.lexists(stale):
                os.unlink(stale)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open("/dev/urandom", "rb") as rnd:
            os.write(fd, rnd.read(1024))
        os.close(fd)
        args = [
            MUNGED,
            "--foreground",
            # --force: munged otherwise refuses a socket under /tmp-like paths and, as
            # root, directories it cannot fully vet
            "--force",
            "--socket=" + self.socket,
            "--key-file=" + key,
            "--pid-file=" + os.path.join(self.dir, "munged.pid"),
            "--log-file=" + log,
            "--seed-file=" + os.path.join(self.dir, "munged.seed"),
            "--num-threads=2",
        ]
        with open(os.path.join(self.dir, "munged.stderr"), "wb") as err:
            self._proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
            )
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.socket):
                return self
            if self._proc.poll() is not None:
                msg = self._log_tail(log)
                self._proc = None
                self._cleanup_dir()
                raise RuntimeError("munged exited during start-up: " + msg)
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("munged did not create %s within %.0f s" % (self.socket, self._timeout))

    def stop(self):
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._cleanup_dir()

    def _cleanup_dir(self):
        if self._own_dir:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def _log_tail(self, log):
        text = ""
        for path in (log, os.path.join(self.dir, "munged.stderr")):
            try:
                with open(path, errors="replace") as f:
                    text += f.read()[-2000:]
            except OSError:
                pass
        return text.strip() or "(no log)"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


if __name__ == "__main__":
    # Self-check: start, encode and decode a credential, stop.
    with tempfile.TemporaryDirectory() as t:
        with MungeDaemon(t) as m:
            cred = subprocess.run(
                ["munge", "-S", m.socket, "-s", "hello"], check=True, capture_output=True
            ).stdout
            out = subprocess.run(
                ["unmunge", "-S", m.socket], input=cred, check=True, capture_output=True
            ).stdout.decode()
            assert "Success" in out and out.rstrip().endswith("hello"), out
            print("munged ok at", m.socket)
