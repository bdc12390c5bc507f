"""A warm worker for local pipeline jobs: import torch, xarray, netCDF4 and matplotlib once, then
fork one child per ``widenet`` job command.

Every Snakemake job is a fresh process, and importing the numerical stack costs 2.5–4 s, more than
most quick-profile cells compute. With ``WIDENET_WORKER=1`` (the local rules set it) the CLI
sends its command line, working directory, environment and stdio file descriptors over a Unix
socket to a worker process and exits with the child's exit status. The child is a plain fork of
the worker that runs ``widenet.cli.main`` exactly as the job would have: one cell per job, one
store per cell, random streams keyed by cell, so the numbers do not depend on the worker.

The first job starts the worker (under a lock file); it serves jobs of any working directory
under the same interpreter and the same widenet source files (both are part of the socket name,
so an edited checkout gets a fresh worker) and exits after ``IDLE_S`` seconds without a job. A
job killed by Snakemake closes its socket and the worker kills the job's child. Without a
worker (``WIDENET_WORKER`` unset or 0, inside a SLURM job, or when the worker cannot start) the
command runs in-process as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IDLE_S = float(os.environ.get("WIDENET_WORKER_IDLE_S", 20.0))  # seconds without a job before the worker exits
START_TIMEOUT_S = 120.0
PRELOAD = ("numpy", "xarray", "netCDF4", "yaml", "widenet.store")  # what every job command needs
COMMAND_MODULES = {  # imported by the worker at the first job of each kind
    "cell": ("torch", "widenet.cells"),
    "aggregate": ("torch", "widenet.cells"),
    "plot": ("widenet.figures.style",),  # matplotlib (Figure, no pyplot), scipy.stats through widenet.laws
    "dataset": ("torch", "widenet.datasets"),
}


def enabled() -> bool:
    """Use the worker when asked to (``WIDENET_WORKER=1``), never inside a SLURM job or a worker child."""
    env = os.environ
    return env.get("WIDENET_WORKER") == "1" and "SLURM_JOB_ID" not in env and "WIDENET_WORKER_CHILD" not in env


def socket_path() -> Path | None:
    """Socket of the worker for this interpreter and widenet source tree (paths, sizes, mtimes), in a
    directory only this user can enter; None when that directory is not private."""
    folder = Path(tempfile.gettempdir()) / f"widenet-worker-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    st = folder.lstat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077 or not folder.is_dir() or folder.is_symlink():
        return None
    package = Path(__file__).resolve().parent
    stamp = hashlib.sha256(f"{sys.executable}|{package}".encode())
    for path in sorted(package.rglob("*.py")):
        st = path.stat()
        stamp.update(f"{path}|{st.st_size}|{st.st_mtime_ns}".encode())
    return folder / f"{stamp.hexdigest()[:16]}.sock"


# --- client --------------------------------------------------------------------------------------
def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        return sock
    except OSError:
        sock.close()
        return None


def _start(path: Path) -> socket.socket | None:
    """Start a worker unless another job just did (a lock file serialises the starts)."""
    import fcntl

    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sock = _connect(path)
        if sock:
            return sock
        with open(f"{path}.log", "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "widenet.worker", str(path)], stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log, env=os.environ.copy(), close_fds=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            sock = _connect(path)
            if sock:
                return sock
            time.sleep(0.02)
        return None


def run(argv: list[str]) -> int | None:
    """Run ``widenet argv`` in a child of the worker; its exit status, or None when there is no worker."""
    path = socket_path()
    sock = path and (_connect(path) or _start(path))
    if sock is None:
        return None
    with sock:
        request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        socket.send_fds(sock, [struct.pack("!Q", len(request))], [0, 1, 2])
        sock.sendall(request)
        reply = sock.recv(4, socket.MSG_WAITALL)
    if len(reply) < 4:
        print("widenet: the worker stopped before the job finished", file=sys.stderr)
        return 1
    return struct.unpack("!i", reply)[0]


# --- worker --------------------------------------------------------------------------------------
def _recv_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client closed the connection mid-request")
        data += chunk
    return data


def _experiment_of(argv: list[str]) -> str | None:
    if "--experiment" in argv[:-1]:
        return argv[argv.index("--experiment") + 1]
    if argv[0] == "cell" and "--config" in argv[:-1]:
        return json.loads(argv[argv.index("--config") + 1]).get("experiment")
    if argv[0] == "plot" and len(argv) > 1:
        return Path(argv[1]).stem  # data/<id>.nc
    return None


def _warm(argv: list[str]) -> None:
    """Import in the worker, once, what a job of this kind needs, so that its forks start with it
    (torch is imported by the first cell, not by a run that only redraws figures)."""
    import importlib

    from widenet.registry import EXPERIMENTS

    names = list(COMMAND_MODULES.get(argv[0], ()))
    experiment = EXPERIMENTS.get(_experiment_of(argv))
    if experiment is not None:
        names.append((experiment.plot if argv[0] == "plot" else experiment.compute).split(":")[0])
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  (the job imports it again and reports the error in its own log)
            pass


def _child(request: dict, fds: list[int]) -> int:
    """In the forked child: become the job (stdio, cwd, environment) and run the CLI."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"], WIDENET_WORKER_CHILD="1")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.argv = ["widenet", *request["argv"]]
    from widenet.cli import main

    try:
        main(request["argv"])
        return 0
    except SystemExit as stop:
        code = stop.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException:  # noqa: BLE001  (the job's traceback goes to its log, as without a worker)
        import traceback

        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


class Worker:
    """The accept/fork/reap loop: single-threaded (forking a multi-threaded process is unsafe)."""

    def __init__(self, path: Path):
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path.unlink(missing_ok=True)  # a stale socket of a killed worker (the caller holds the lock)
        self.listener.bind(str(path))
        self.listener.listen(64)
        self.inode = path.stat().st_ino
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, self._accept)
        self.jobs: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, connection)

    def _accept(self, _key) -> None:
        conn, _ = self.listener.accept()
        conn.settimeout(10.0)
        try:
            header, fds, _, _ = socket.recv_fds(conn, 8, 3)
            request = json.loads(_recv_exact(conn, struct.unpack("!Q", header)[0]))
        except (OSError, ValueError, struct.error) as err:
            print(f"bad request: {err}", file=sys.stderr)
            conn.close()
            return
        try:
            _warm(request["argv"])
        except (ValueError, IndexError, AttributeError):
            pass  # a malformed command line: the job's own argument parsing reports it
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                self.listener.close()
                conn.close()
                code = _child(request, fds)
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        self.jobs[pidfd] = (pid, conn)
        self.selector.register(pidfd, selectors.EVENT_READ, self._reap)
        self.selector.register(conn, selectors.EVENT_READ, self._client_gone)

    def _finish(self, pidfd: int) -> tuple[int, socket.socket]:
        pid, conn = self.jobs.pop(pidfd)
        self.selector.unregister(pidfd)
        self.selector.unregister(conn)
        os.close(pidfd)
        return pid, conn

    def _reap(self, key) -> None:
        pid, conn = self._finish(key.fd)
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        try:
            conn.sendall(struct.pack("!i", code if code >= 0 else 128 - code))
        except OSError:
            pass
        conn.close()

    def _client_gone(self, key) -> None:
        """The job was killed (Snakemake cancels jobs by signal): kill its child too."""
        pidfd = next(fd for fd, (_, conn) in self.jobs.items() if conn.fileno() == key.fd)
        pid, conn = self._finish(pidfd)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        conn.close()

    def _still_ours(self) -> bool:
        try:
            return self.path.stat().st_ino == self.inode
        except FileNotFoundError:
            return False

    def serve(self, idle_s: float = IDLE_S) -> None:
        last, listening = time.monotonic(), True
        while listening or self.jobs:
            for key, _ in self.selector.select(timeout=1.0):
                key.data(key)
                last = time.monotonic()
            if self.jobs:
                last = time.monotonic()
            elif listening and (time.monotonic() - last > idle_s or not self._still_ours()):
                self._stop_listening()
                listening = False

    def _stop_listening(self) -> None:
        """Unlink the socket first (later jobs start a new worker), then serve the jobs already queued."""
        if self._still_ours():  # the lock and log files go too (a worker that failed to start keeps its log)
            for path in (self.path, Path(f"{self.path}.lock"), Path(f"{self.path}.log")):
                path.unlink(missing_ok=True)
        self.listener.setblocking(False)
        while True:
            try:
                self._accept(None)
            except BlockingIOError:
                break
        self.selector.unregister(self.listener)
        self.listener.close()


def main(path: str) -> None:
    import importlib

    worker = Worker(Path(path))  # bind first: jobs arriving during the imports wait in the backlog
    for module in PRELOAD:
        importlib.import_module(module)
    print(f"{time.strftime('%H:%M:%S')} worker {os.getpid()} ready on {path}", file=sys.stderr, flush=True)
    worker.serve()


if __name__ == "__main__":
    main(sys.argv[1])
