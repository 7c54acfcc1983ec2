"""Starting and stopping the daemons of the end-to-end tests (conftest.Ldmsd,
tree_util.BareLdmsd): free loopback ports, a start-up that waits until *this*
process listens on its port, and a fixture body that stops every daemon a test
started. Other tests, and other people's test runs, start daemons on this machine
at the same time, so a port that was free when chosen may be taken when the daemon
binds it; and "something answers on the port" does not mean "our daemon does".
"""

import os
import random
import socket
import subprocess
import time

import pytest

# Below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range,
# 32768-60999 by default): client sockets never take these behind our back.
_PORT_LO, _PORT_HI = 10000, 32000


def listening(port):
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def free_port():
    """A TCP port on 127.0.0.1 that nothing is bound to right now, chosen at random
    outside the ephemeral range."""
    for _ in range(500):
        port = random.randint(_PORT_LO, _PORT_HI)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listen_inodes(port):
    """Socket inodes listening on TCP `port` (any address), from /proc/net/tcp*."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(inode)
        except OSError:
            pass
    return inodes


def pid_listens(pid, port):
    """Whether process `pid` itself holds a socket listening on TCP `port`."""
    inodes = _listen_inodes(port)
    if not inodes:
        return False
    fd_dir = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


def stop_process(proc):
    """SIGTERM, then SIGKILL after 5 s; nothing when proc is None or has ended."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def _tail(path, n=3000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except (OSError, TypeError):
        return ""


class Daemon:
    """A daemon serving on 127.0.0.1:self.port. Subclasses give argv() (built at
    each start, so it follows self.port) and may set log_path; stdout and stderr go
    to out_path."""

    def __init__(self, workdir, name, out_path, env=None):
        self.workdir = str(workdir)
        self.name = name
        self.port = free_port()
        self.out_path = out_path
        self.log_path = None
        self.more_args = []
        self.env = dict(os.environ, **(env or {}))
        self.proc = None

    def argv(self):
        raise NotImplementedError

    @property
    def args(self):
        """The command line: argv() and what a test appended (`d.args += [...]` before
        start()); tests may also run it themselves, e.g. to check a refusal."""
        return self.argv() + self.more_args

    @args.setter
    def args(self, value):
        base = self.argv()
        if list(value[: len(base)]) != base:
            raise ValueError("%s: only arguments after its own command line" % self.name)
        self.more_args = list(value[len(base):])

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def output(self):
        """What the daemon wrote on stdout and stderr."""
        return _tail(self.out_path, 1 << 30)

    def log(self):
        """The daemon's log file (when it has one)."""
        return _tail(self.log_path, 1 << 30)

    def _port_taken(self):
        return "Address already in use" in _tail(self.out_path) + _tail(self.log_path)

    def start(self, timeout=15.0, repick_port=False):
        """Starts the daemon and waits until it listens on its port. With repick_port
        (the port was not handed out yet), a port taken between its choice and the
        bind is replaced by another one, up to 3 times."""
        if not os.access(self.args[0], os.X_OK):
            pytest.skip("not built: " + self.args[0])
        deadline = time.monotonic() + timeout
        for attempt in range(3 if repick_port else 1):
            with open(self.out_path, "wb") as out:
                self.proc = subprocess.Popen(
                    self.args,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    cwd=self.workdir,
                    env=self.env,
                )
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if pid_listens(self.proc.pid, self.port):
                    return self
                time.sleep(0.05)
            else:
                self.stop()
                raise RuntimeError("%s does not listen on %d" % (self.name, self.port))
            if not (repick_port and self._port_taken()):
                break
            self.port = free_port()
        raise RuntimeError(
            "%s exited with %s during start-up:\n%s\n%s"
            % (self.name, self.proc.returncode, _tail(self.log_path), _tail(self.out_path))
        )

    def stop(self):
        proc, self.proc = self.proc, None
        stop_process(proc)


def daemon_factory(build):
    """Body of a pytest fixture: yields make(*args, start=True, **kw), which builds a
    daemon with build(*args, **kw) and starts it (on a fresh port if its own was
    taken meanwhile); every daemon made is stopped at the end, whatever happened."""
    daemons = []

    def make(*args, start=True, **kw):
        d = build(*args, **kw)
        daemons.append(d)
        if start:
            d.start(repick_port=True)
        return d

    try:
        yield make
    finally:
        for d in daemons:
            d.stop()
