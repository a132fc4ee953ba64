"""Kernels forked from a process that has already imported what every kernel imports.

Every kernel of a build starts a Python interpreter, imports ipykernel, and then, first thing
in its setup cell, the package's common modules (pandas among them): about a second of CPU per
kernel, eight kernels per cold build. The fork server does that once. `tillit build` starts it
at its beginning (:func:`tillit.build.pipeline.warm.start_for_build`); it imports ipykernel and
the modules every setup cell imports (:func:`tillit.build.pipeline.warm.common_modules`) and
then forks a kernel on request. The kernel runs as ``python -m ipykernel_launcher`` would:
its own session (so a signal reaches it and what it starts), the step's directory and
environment, ``sys.argv`` and ``sys.path[0]`` as the launcher has them, fresh entropy for
numpy's global generator, and the priority of the thread that asked for it (as a process
started from that thread inherits it). Its setup cell then finds the common modules in
``sys.modules``, as it would after its own first import; nothing is bound in its namespace.

The server is this module run as a program (:func:`main`). It reads requests from one pipe and
answers on another, one JSON object per line: ``{"ready": ...}`` once it has imported, a
``{"pid": ...}`` for each kernel forked, and an ``{"exit": pid, "status": ...}`` when a kernel
ends (the server reaps its children). It ends when the build closes the request pipe, also
when the build dies; its kernels then see their parent gone and end too (ipykernel's parent
poller, given the server's pid as JPY_PARENT_PID). Only on Linux; elsewhere, or when the
server cannot start, kernels start as before.
"""
from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

MODULE = "tillit.build.pipeline.forkserver"  # also how tillit.build.pipeline finds its processes
READY_TIMEOUT = 20.0  # the server imports in about a second
LAUNCHER = ["-m", "ipykernel_launcher"]
PRELOAD = ["ipykernel.kernelapp", "ipykernel.ipkernel"]  # what ipykernel_launcher imports


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class ForkServerError(RuntimeError):
    """The server could not start or fork; the caller starts the kernel as usual."""


class ForkedProcess:
    """The kernel's process as the build sees it: what jupyter_client's provisioner uses of a
    subprocess.Popen (pid, poll, wait, send_signal, terminate, kill). The server is the
    kernel's parent; it reports the exit status."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, server: "ForkServer"):
        self.pid, self._server, self.returncode = pid, server, None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._server.exit_status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """The build's end of the server (see the module's docstring)."""

    def __init__(self, root: Path, modules: list[str]):
        if not supported():
            raise ForkServerError("fork server: only on Linux")
        self.root = Path(root)
        self.modules = list(modules)
        req_r, self._req_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        env = dict(os.environ)
        from tillit.config import ROOT_ENV

        env[ROOT_ENV] = str(self.root)  # as in a kernel the build starts
        try:
            self.process = subprocess.Popen(
                # -c, not -m: the package imports this module before runpy would run it
                [sys.executable, "-c", f"import sys; from {MODULE} import main; sys.exit(main())",
                 str(req_r), str(rep_w), json.dumps(self.modules)],
                pass_fds=(req_r, rep_w), cwd=str(self.root), env=env, stdin=subprocess.DEVNULL,
                start_new_session=True)
        finally:
            os.close(req_r)
            os.close(rep_w)
        self._lock = threading.Lock()
        self._replies: dict[int, dict] = {}  # by request id: threads ask at the same time
        self._next_id = 0
        self._cond = threading.Condition(self._lock)
        self._exits: dict[int, int] = {}
        self._ready: dict | None = None
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="tillit-forkserver", daemon=True)
        self._reader.start()

    # -- the reply pipe ------------------------------------------------------------------
    def _read(self) -> None:
        with open(self._rep_r, "rb", buffering=0, closefd=True) as pipe:
            buffer = b""
            while True:
                chunk = pipe.read(65536)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    self._dispatch(json.loads(line))
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _dispatch(self, msg: dict) -> None:
        with self._cond:
            if "exit" in msg:
                self._exits[int(msg["exit"])] = int(msg["status"])
            elif "ready" in msg:
                self._ready = msg
            else:
                self._replies[int(msg["id"])] = msg
            self._cond.notify_all()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> bool:
        """True once the server has imported its modules; False if that failed or it died."""
        with self._cond:
            self._cond.wait_for(lambda: self._ready is not None or self._closed, timeout)
            return bool(self._ready and self._ready.get("ready"))

    def alive(self) -> bool:
        return not self._closed and self.process.poll() is None

    def exit_status(self, pid: int) -> int | None:
        with self._cond:
            if pid in self._exits:
                return self._exits[pid]
            if not self._closed:
                return None
        # The server is gone, so nobody reports; the kernel saw its parent go and ends.
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return -1
        return None

    # -- requests ------------------------------------------------------------------------
    def usable_for(self, cmd: list[str]) -> bool:
        """Whether `cmd` is the kernel this server can fork: ipykernel on this interpreter."""
        return (len(cmd) >= 3 and cmd[1:3] == LAUNCHER
                and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable))

    def spawn(self, cmd: list[str], *, env: dict, cwd: str | Path, nice: int = 0) -> ForkedProcess:
        """Fork a kernel that runs `cmd` (``python -m ipykernel_launcher …``) in `cwd` with
        `env`, at priority `nice` or lower."""
        if not self.usable_for(cmd):
            raise ForkServerError(f"fork server: not an ipykernel command on this Python: {cmd}")
        if not self.wait_ready():
            raise ForkServerError("fork server: not ready")
        with self._cond:
            if self._closed:
                raise ForkServerError("fork server: closed")
            self._next_id += 1
            rid = self._next_id
            request = {"id": rid, "argv": list(cmd[3:]), "env": dict(env), "cwd": str(cwd), "nice": int(nice)}
            os.write(self._req_w, (json.dumps(request) + "\n").encode())
            self._cond.wait_for(lambda: rid in self._replies or self._closed, READY_TIMEOUT)
            reply = self._replies.pop(rid, None)
            if reply is None:
                raise ForkServerError("fork server: no reply")
        if "pid" not in reply:
            raise ForkServerError(f"fork server: {reply.get('error', reply)}")
        return ForkedProcess(int(reply["pid"]), self)

    def close(self) -> None:
        """Close the request pipe: the server ends, and so do kernels still running."""
        with contextlib.suppress(OSError):
            os.close(self._req_w)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def thread_nice() -> int:
    """The calling thread's priority (Linux sets it per thread; a process inherits it)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (AttributeError, OSError):
        return 0


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------
def _send(fd: int, msg: dict) -> None:
    os.write(fd, (json.dumps(msg) + "\n").encode())


def _reap(rep_w: int) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(rep_w, {"exit": pid, "status": os.waitstatus_to_exitcode(status)})


def _run_kernel(request: dict, closing: list[int], started: int) -> int:
    """In the forked child: become the kernel ``python -m ipykernel_launcher`` would start."""
    os.setsid()  # as jupyter_client's start_new_session: signals reach the kernel's group
    for fd in closing:
        with contextlib.suppress(OSError):
            os.close(fd)
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL if sig != signal.SIGINT else signal.default_int_handler)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["JPY_PARENT_PID"] = str(os.getppid())  # the server: its end is the kernel's
    own = os.getpriority(os.PRIO_PROCESS, 0)
    if request.get("nice", 0) > own:
        os.setpriority(os.PRIO_PROCESS, 0, min(19, request["nice"]))
    os.close(started)  # the server answers now: the kernel has its session, directory and priority
    if "numpy.random" in sys.modules:  # a fresh interpreter seeds it from the OS
        sys.modules["numpy.random"].seed()
    import ipykernel_launcher  # noqa: F401 - only its path, for sys.argv[0]
    # ipykernel read JPY_PARENT_PID when the server imported it, before this kernel existed.
    sys.argv = [ipykernel_launcher.__file__, *request["argv"], f"--IPKernelApp.parent_handle={os.getppid()}"]
    sys.path[0] = os.getcwd()  # `python -m` puts the start directory first
    from ipykernel import kernelapp

    try:
        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    import atexit

    atexit._run_exitfuncs()
    return code


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    req_r, rep_w, modules = int(args[0]), int(args[1]), json.loads(args[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build stops it by closing the pipe
    import importlib

    try:
        for name in PRELOAD + modules:
            importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - reported; the build then starts kernels itself
        _send(rep_w, {"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    _send(rep_w, {"ready": True})
    buffer = b""
    while True:
        ready, _, _ = select.select([req_r, wake_r], [], [])
        if wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 512)
            _reap(rep_w)
        if req_r not in ready:
            continue
        chunk = os.read(req_r, 65536)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            request = json.loads(line)
            # The pid is answered once the kernel has its own session (a signal the build
            # sends its process group must not reach the server), directory and priority.
            started_r, started_w = os.pipe()
            try:
                pid = os.fork()
            except OSError as exc:
                os.close(started_r)
                os.close(started_w)
                _send(rep_w, {"id": request["id"], "error": f"fork: {exc}"})
                continue
            if pid == 0:
                code = 1
                try:
                    code = _run_kernel(request, [req_r, rep_w, wake_r, wake_w, started_r], started_w)
                except BaseException:  # noqa: BLE001 - the kernel's own stderr, as at a failed start
                    import traceback

                    traceback.print_exc()
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            os.close(started_w)
            while os.read(started_r, 1):  # EOF: the child is set up (or died)
                pass
            os.close(started_r)
            _send(rep_w, {"id": request["id"], "pid": pid})
        _reap(rep_w)
    # Nothing to flush or finalise: end at once (tearing down pandas takes ~0.4 s, and the
    # build waits for this process).
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
