"""Kernels forked from the fork server (tillit.build.pipeline.forkserver): each is the kernel it
was asked for (its directory, environment, session, priority), runs as ``python -m
ipykernel_launcher`` would, also when several are asked for at once, and none outlives the
server. Without the server, or when it cannot start, kernels start as before."""
from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from tillit.build.pipeline import forkserver, warm
from tillit.build.pipeline.warm import WarmKernels

pytestmark = pytest.mark.skipif(not forkserver.supported(), reason="fork server: only on Linux")


def _cmd(connection_file: Path) -> list[str]:
    return [sys.executable, "-m", "ipykernel_launcher", "-f", str(connection_file),
            "--IPKernelApp.log_level=CRITICAL"]


def _gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def server(tmp_path):
    srv = forkserver.ForkServer(tmp_path, ["json", "csv"])
    assert srv.wait_ready()
    yield srv
    srv.close()


def test_kernels_asked_for_at_once_are_each_their_own(server, tmp_path):
    # Threads ask at the same time (the build warms two kernels at its start): each answer
    # must be the pid of the kernel forked for that request, or a kernel is stopped in
    # another's place.
    dirs = [tmp_path / f"k{i}" for i in range(4)]
    for d in dirs:
        d.mkdir()
    got: dict[int, forkserver.ForkedProcess] = {}

    def ask(i):
        got[i] = server.spawn(_cmd(dirs[i] / "kernel.json"), env=dict(os.environ), cwd=dirs[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({p.pid for p in got.values()}) == 4
    for i, proc in got.items():
        assert Path(os.readlink(f"/proc/{proc.pid}/cwd")) == dirs[i].resolve()
        assert os.getpgid(proc.pid) == proc.pid  # its own session, as start_new_session gives
        assert proc.poll() is None
    for proc in got.values():
        proc.kill()
    for proc in got.values():
        assert proc.wait(10) == -9  # the server reaped it and said how it ended


def test_a_forked_kernel_runs_as_ipykernel_launcher_would(tmp_path, monkeypatch):
    root = tmp_path / "comp"
    (root / "notebooks").mkdir(parents=True)
    monkeypatch.delenv(warm.FORK_ENV, raising=False)
    kernels = WarmKernels(root, fork=[])  # no notebooks: no server
    assert kernels.forkserver is None
    kernels.forkserver = forkserver.ForkServer(root, ["colorsys"])
    try:
        assert kernels.forkserver.wait_ready()
        km = warm.run_at_lower_priority(kernels.forked_now)  # asked for from a lowered thread
        assert km is not None and isinstance(km.provisioner.process, forkserver.ForkedProcess)
        code = ("import json, os, sys\nprint(json.dumps({'argv0': sys.argv[0], 'cwd': os.getcwd(), "
                "'path0': sys.path[0], 'nice': os.getpriority(os.PRIO_PROCESS, 0), 'sid': os.getsid(0), "
                "'pid': os.getpid(), 'parent': os.environ.get('JPY_PARENT_PID'), 'ppid': os.getppid(), "
                "'root': os.environ.get('TILLIT_ROOT'), 'preloaded': 'colorsys' in sys.modules}))")
        out = asyncio.run(_run(km, code))
        facts = json.loads(out)
        assert facts["argv0"].endswith("ipykernel_launcher.py")
        assert Path(facts["cwd"]) == root.resolve() == Path(facts["path0"])
        assert facts["sid"] == facts["pid"]
        assert facts["nice"] >= warm.NICE  # the asking thread's priority, as a child would inherit
        assert int(facts["parent"]) == facts["ppid"] == kernels.forkserver.process.pid
        assert Path(facts["root"]) == root
        assert facts["preloaded"]  # imported by the server, not by the kernel
        pid = km.provisioner.pid
        WarmKernels.release(km)
        assert _gone(pid)
    finally:
        kernels.close()
    assert kernels.forkserver.process.poll() == 0


async def _run(km, code: str) -> str:
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=30)
        msg_id = kc.execute(code)
        text = ""
        while True:
            msg = await kc.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                text += msg["content"]["text"]
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return text
    finally:
        kc.stop_channels()


def test_kernels_end_with_the_server(server, tmp_path):
    proc = server.spawn(_cmd(tmp_path / "kernel.json"), env=dict(os.environ), cwd=tmp_path)
    time.sleep(1.0)  # the kernel is up and polling its parent
    server.close()
    assert server.process.returncode == 0
    assert _gone(proc.pid, 15)  # ipykernel's parent poller saw the server go


def test_without_a_server_kernels_start_as_before(tmp_path, monkeypatch):
    nb = tmp_path / "notebooks"
    nb.mkdir()
    monkeypatch.setenv(warm.FORK_ENV, "0")
    assert WarmKernels(tmp_path, fork=["a"]).forkserver is None
    monkeypatch.delenv(warm.FORK_ENV)
    srv = forkserver.ForkServer(tmp_path, ["no_such_module_tillit"])
    try:
        assert not srv.wait_ready()  # the import failed: it says so and ends
        with pytest.raises(forkserver.ForkServerError):
            srv.spawn(_cmd(tmp_path / "k.json"), env=dict(os.environ), cwd=tmp_path)
        assert not srv.usable_for(["/usr/bin/python2", "-m", "ipykernel_launcher", "-f", "x"])
        assert not srv.usable_for([sys.executable, "-m", "other_kernel"])
        # The manager then launches the kernel itself.
        km = warm._manager_class()(kernel_name="python3")
        km.tillit_clients, km.tillit_forkserver = [], srv
        assert asyncio.run(warm._warm_up(km, "x = 1", tmp_path))
        assert not isinstance(km.provisioner.process, forkserver.ForkedProcess)
        warm._stop(km)
    finally:
        srv.close()
