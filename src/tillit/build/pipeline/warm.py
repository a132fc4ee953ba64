"""Kernels started ahead of their step, while a core would otherwise be idle.

A chapter's kernel spends its first seconds starting and importing pandas, matplotlib,
statsmodels and the package (its setup cell). During the data-preparation step one core is
idle, and so is one near the end of the chapters, while the longest chapter runs alone. The
build uses those moments (:class:`WarmKernels`): it starts the kernel of a step that comes
next and runs the import statements of that notebook's setup cell in it, and nothing else —
no parameters, no data, no `ctx` — so the notebook then runs in it exactly as in a fresh
kernel (the imports it repeats are found in `sys.modules`).

The imports run with ``store_history=False``, so the notebook's cells are still numbered from
1. A warm-up that prints anything (a warning at import, say) would lose that output from the
executed notebook; such a kernel is shut down and the step starts a fresh one. So does a step
whose warm kernel failed or died. Kernels nobody took are shut down when the build ends, and
:meth:`WarmKernels.release` stops a used kernel and the client channels nbclient leaves open on
a kernel it does not own.
"""
from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import queue
import threading
from concurrent.futures import Future
from pathlib import Path

from tillit.build.pipeline.params import KERNEL_NAME, _read_ipynb, _source, _tags
from tillit.config import ROOT_ENV, ConfigError, load_pipeline

SETUP_TAG = "setup"
START_TIMEOUT = 60.0
POLL = 0.25  # how often a warm-up that is importing checks that it is still wanted
# The kernel's start-up log is quiet, as in execute._execute_with_retry.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
QUIET = ("status", "execute_input")  # iopub messages that are not output
# How much lower the kernels of the steps that are not on the build's critical path run (and
# their warm-ups): when both cores are busy, the longest chapter keeps one to itself.
NICE = 10


def setup_imports(path: Path) -> str:
    """The import statements of the notebook's setup cell (tagged ``setup``), in order, as
    source; "" when it has none. Only top-level ``import``/``from … import`` statements: the
    cell's other lines (``ctx = nbk.start(...)``) read parameters and data and stay in the run."""
    cells = [c for c in _read_ipynb(path)["cells"] if c.get("cell_type") == "code" and SETUP_TAG in _tags(c)]
    if not cells:
        return ""
    try:
        tree = ast.parse(_source(cells[0]))
    except SyntaxError:
        return ""  # the run reports it, with the cell
    return "\n".join(ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)))


ANY = "*"  # the key of a kernel warmed for whichever step needs one first (common_modules)


def _is_module(dotted: str) -> bool:
    """Whether `dotted` names a module, found on disk without importing anything (find_spec of
    a submodule would import its parent packages: seconds for the chapters' packages)."""
    import importlib.util

    top, *rest = dotted.split(".")
    with contextlib.suppress(ImportError, ValueError, AttributeError):
        spec = importlib.util.find_spec(top)  # a top-level name: located, not imported
        if spec is None:
            return False
        if not rest:
            return True
        for location in spec.submodule_search_locations or []:
            folder = Path(location).joinpath(*rest[:-1])
            if (folder / f"{rest[-1]}.py").is_file() or (folder / rest[-1] / "__init__.py").is_file():
                return True
    return False


def imported_modules(path: Path) -> set[str]:
    """The modules the setup cell's imports name: ``import a.b`` → a, a.b; ``from a import b``
    → a, and a.b where that is a module (found without importing it here)."""
    out: set[str] = set()
    try:
        tree = ast.parse(setup_imports(path))
    except SyntaxError:
        return out
    for node in tree.body:
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module] + [f"{node.module}.{a.name}" for a in node.names] if node.module and not node.level
                 else [])
        for name in names:
            parts = name.split(".")
            out.update(c for c in (".".join(parts[:k]) for k in range(1, len(parts) + 1)) if _is_module(c))
    return out


def common_modules(paths: list[Path]) -> list[str]:
    """The modules every one of these notebooks' setup cells imports (sorted): what a kernel
    warmed for "whichever step comes" may import, since each of them imports it first thing."""
    sets = [imported_modules(p) for p in paths]
    return sorted(set.intersection(*sets)) if sets else []


def _generic_code(modules: list[str]) -> str:
    """Import `modules` without binding a name in the notebook's namespace."""
    if not modules:
        return ""
    return (f"import importlib as _tillit_imp\nfor _tillit_m in {modules!r}:\n    _tillit_imp.import_module(_tillit_m)\n"
            "del _tillit_imp, _tillit_m")


def _manager_class():
    from jupyter_client import AsyncKernelManager

    class WarmKernelManager(AsyncKernelManager):
        """Records the clients made for it: nbclient, given a kernel it does not own, leaves
        the client's channels (and their heartbeat thread) open. With a fork server, the
        kernel is forked from it (jupyter_client's documented hook for launching differently);
        if the server cannot, the kernel starts as usual."""

        tillit_forkserver = None

        def client(self, **kwargs):
            made = super().client(**kwargs)
            self.tillit_clients.append(made)
            return made

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            server = self.tillit_forkserver
            if server is None or not server.alive() or not server.usable_for(kernel_cmd):
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            from tillit.build.pipeline.forkserver import ForkServerError, thread_nice

            cwd = kw.get("cwd") or os.getcwd()
            try:
                process = server.spawn(kernel_cmd, env=kw.get("env") or dict(os.environ), cwd=cwd,
                                       nice=thread_nice())
            except ForkServerError:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            provisioner = self.provisioner
            provisioner.process, provisioner.pid, provisioner.cwd = process, process.pid, cwd
            with contextlib.suppress(OSError):
                provisioner.pgid = os.getpgid(process.pid)
            self._reconcile_connection_info(provisioner.connection_info)

    return WarmKernelManager


async def _warm_up(km, code: str, cwd: Path, closed=lambda: False) -> bool:
    """Start the kernel in `cwd` and run `code` in it; True when it ran cleanly and silently
    (False at once when `closed()` turns true: the build has ended)."""
    # As a step's own kernel: started in the compendium, with TILLIT_ROOT pointing at it.
    env = dict(os.environ, **{ROOT_ENV: str(cwd)})
    await km.start_kernel(cwd=str(cwd), extra_arguments=KERNEL_ARGUMENTS, env=env)
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=START_TIMEOUT)
        if closed():
            return False
        if not code:
            return True
        msg_id = kc.execute(code, store_history=False, allow_stdin=False)
        silent = True
        while True:
            try:
                msg = await kc.get_iopub_msg(timeout=POLL)
            except queue.Empty:
                # Still importing: go on while the kernel lives and the step still wants it.
                if closed() or not await km.is_alive():
                    return False
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "status" and msg["content"].get("execution_state") == "idle":
                break
            silent = silent and kind in QUIET
        reply = await kc.get_shell_msg(timeout=START_TIMEOUT)
        return silent and reply["content"].get("status") == "ok"
    finally:
        kc.stop_channels()
        km.tillit_clients.clear()


def _stop(km) -> None:
    """Stop the kernel at once and every client made for it (nothing is left to flush: the
    notebook has run, or it never started)."""
    for client in getattr(km, "tillit_clients", []):
        with contextlib.suppress(Exception):
            client.stop_channels()
    with contextlib.suppress(Exception):
        asyncio.run(km.shutdown_kernel(now=True))


class WarmKernels:
    """Kernels warmed for named steps, each in its own thread; see the module's docstring."""

    def __init__(self, root: Path, notebooks: Path | None = None, *, fork: list[str] | None = None):
        self.root = Path(root)
        self.notebooks = Path(notebooks) if notebooks else self.root / "notebooks"
        # With `fork` (the pipeline's step names), kernels are forked from a server that has
        # imported what all their setup cells import (.forkserver).
        self.forkserver = _start_forkserver(self.root, [self.notebooks / f"{n}.ipynb" for n in fork or []])
        self._warming: dict[str, Future] = {}
        self._threads: list[threading.Thread] = []
        self._starting: dict[str, object] = {}  # managers whose warm-up is under way
        self._cancelled: set[str] = set()
        self._generic = ""  # the ANY kernel's imports (start_any)
        self._generic_modules: set[str] = set()
        self._lock = threading.Lock()
        self._closed = False

    def __contains__(self, name: str) -> bool:
        return name in self._warming

    def busy(self) -> int:
        """How many warm-ups are still starting or importing (each keeps a core busy)."""
        # The ANY kernel is not counted: it runs at lower priority, and counting it would hold
        # back the warm-up of the longest chapter during the data step.
        return sum(not f.done() for n, f in self._warming.items() if n != ANY)

    def _manager(self):
        """A kernel manager for one of this build's kernels (forked when there is a server)."""
        km = _manager_class()(kernel_name=KERNEL_NAME)
        km.tillit_clients, km.tillit_forkserver = [], self.forkserver
        return km

    def start(self, name: str, *, nice: bool = False) -> None:
        """Begin warming the kernel for step `name` (once per name); with `nice`, the kernel
        runs at lower priority (:func:`lower_priority`), also when its step runs in it."""
        with self._lock:
            if self._closed or name in self._warming or name in self._cancelled:
                return
            future: Future = Future()
            self._warming[name] = future
            thread = threading.Thread(target=self._run, args=(name, future, nice), name=f"tillit-warm-{name}",
                                      daemon=True)
            self._threads.append(thread)
        thread.start()

    def _run(self, name: str, future: Future, nice: bool = False) -> None:
        km = None
        if nice:
            lower_priority()  # this thread's, so the kernel it starts inherits it
        try:
            km = self._manager()
            with self._lock:
                self._starting[name] = km
            code = self._generic if name == ANY else setup_imports(self.notebooks / f"{name}.ipynb")
            ok = asyncio.run(_warm_up(km, code, self.root, lambda: self._closed or name in self._cancelled))
        except Exception:  # noqa: BLE001 - a failed warm-up only means a cold start
            ok = False
        with self._lock:
            self._starting.pop(name, None)
            stop = km is not None and (not ok or self._closed or name in self._cancelled)
        if stop:
            _stop(km)
            km = None
        future.set_result(km)

    def start_any(self, names: list[str]) -> None:
        """Begin warming one kernel for whichever of `names` first needs one and has none of
        its own: it imports the modules all their setup cells import (:func:`common_modules`)."""
        modules = common_modules([self.notebooks / f"{n}.ipynb" for n in names])
        if modules:
            self._generic, self._generic_modules = _generic_code(modules), set(modules)
            self.start(ANY, nice=True)

    def take(self, name: str):
        """The warm kernel manager for `name` (waiting for its warm-up), or None: not warmed,
        or the warm-up failed. A step with no kernel of its own gets the ANY kernel when its
        setup cell imports every module that one imported. The caller runs the notebook in
        it and then calls release()."""
        fits_any = name != ANY and name not in self._warming and ANY in self._warming and \
            self._generic_modules <= imported_modules(self.notebooks / f"{name}.ipynb")
        with self._lock:
            future = self._warming.pop(name, None)
            if future is None and fits_any:
                future = self._warming.pop(ANY, None)
        if future is None:
            return None
        km = future.result()
        if km is not None and not _alive(km):
            _stop(km)
            return None
        return km

    def forked_now(self):
        """A kernel forked now for a step that has none warmed (no imports run in it): with a
        fork server it starts in a fraction of a cold start's time. None without one. Called
        from the step's thread, whose priority the kernel takes."""
        if self.forkserver is None or self._closed or not self.forkserver.alive():
            return None
        km = None
        try:
            km = self._manager()
            if asyncio.run(_warm_up(km, "", self.root, lambda: self._closed)):
                return km
        except Exception:  # noqa: BLE001 - the step then starts its kernel itself
            pass
        if km is not None:
            _stop(km)
        return None

    def discard(self, name: str) -> None:
        """The step will not run (it is cached): stop its kernel, at once if it is still
        warming up (its CPU is wanted elsewhere, e.g. by the render)."""
        with self._lock:
            future = self._warming.pop(name, None)
            starting = self._starting.get(name)
            if future is not None:
                self._cancelled.add(name)
        if future is None:
            return
        if starting is not None:
            _kill_process(starting)  # the warm-up then fails and stops it
        future.add_done_callback(lambda f: f.result() is not None and _stop(f.result()))

    @staticmethod
    def release(km) -> None:
        """Stop a kernel a step has used."""
        _stop(km)

    def close(self, timeout: float = 30.0) -> None:
        """Stop every kernel nobody took, those still warming up included, and wait for the
        warm-up threads, so no kernel outlives the build."""
        with self._lock:
            self._closed = True
            names = list(self._warming)
        for name in names:
            self.discard(name)
        for thread in self._threads:
            thread.join(timeout)
        if self.forkserver is not None:
            self.forkserver.close()


FORK_ENV = "TILLIT_FORKSERVER"  # "0": start every kernel as its own interpreter


def _start_forkserver(root: Path, notebooks: list[Path]):
    """The fork server for these notebooks' kernels, or None: no notebooks, not Linux,
    $TILLIT_FORKSERVER=0, or it could not start (kernels then start as before)."""
    from tillit.build.pipeline import forkserver

    if not notebooks or not forkserver.supported() or os.environ.get(FORK_ENV, "1") == "0":
        return None
    try:
        return forkserver.ForkServer(root, common_modules(notebooks))
    except (OSError, forkserver.ForkServerError):
        return None


def _kill_process(km) -> None:
    with contextlib.suppress(Exception):
        process = km.provisioner.process if km.provisioner is not None else None
        if process is not None:
            process.kill()


def _alive(km) -> bool:
    try:
        return bool(km.has_kernel and km.provisioner is not None and km.provisioner.process is not None
                    and km.provisioner.process.poll() is None)
    except Exception:  # noqa: BLE001
        return False


def kill_kernels() -> None:
    """Kill the kernels this process started (ipykernel children, and the fork server with
    the kernels forked from it), by pid."""
    from tillit.build.pipeline import forkserver

    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with dask.distributed
        return
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any("ipykernel" in part or forkserver.MODULE in part for part in child.cmdline()):
                child.kill()


def lower_priority() -> None:
    """Lower the calling thread's CPU priority by :data:`NICE` (Linux: per thread; a process
    started from it inherits it). Once lowered it cannot be raised again without privileges,
    so only threads made for the purpose call this. Where it is not supported, nothing."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICE))


def run_at_lower_priority(fn):
    """``fn()`` in a new thread whose priority is lowered (:func:`lower_priority`), so the
    kernel it starts runs at that priority; returns its result or raises its exception."""
    box: dict = {}

    def target():
        lower_priority()
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"{threading.current_thread().name}-lav", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def start_for_build(root: Path, *, workers: int | None = None, only: list[str] | None = None) -> WarmKernels | None:
    """For `tillit build`, before it checks data/raw/ (and writes the twin there): warm the
    data step's kernel, so its start and imports overlap with that work. None when the build
    will not warm kernels (one worker, `warm_kernels: false`, a build without the data step)
    or the pipeline cannot be read (the build then says why). A cached data step stops it."""
    try:
        spec = load_pipeline(root=root)
    except ConfigError:
        return None
    n = workers if workers is not None else spec.workers
    n = n or os.cpu_count() or 1
    if n < 2 or not spec.warm_kernels or not spec.notebooks:
        return None
    prep = spec.notebooks[0].name
    if only is not None and prep not in only:
        return None
    warm = WarmKernels(root, fork=[nb.name for nb in spec.notebooks])
    warm.start(prep)
    # And one for whichever step runs first without one (after an edit: that chapter).
    warm.start_any([nb.name for nb in spec.notebooks])
    return warm
