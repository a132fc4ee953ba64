"""Modules the end of a build needs, imported on a background thread while the chapters run.

While the chapters run, the build's own process only waits for their kernels. The steps
after them run in this process and start by importing what they use: the disclosure audit
(tillit.stats.audit and scipy.optimize: ~0.5 s CPU) and the book's render (nbconvert, bs4, jinja2, …). `start` imports
such modules on a daemon thread; `wait` lets that thread finish before the real call (the
build waits before its audit and before it returns, so the render, which forks its workers,
never forks while an import holds its lock, and nothing is imported on two threads at once).

The thread keeps its normal priority on purpose: it shares the GIL with the threads that drive
the kernels, and a lowered thread that holds the GIL when the scheduler passes it over would
keep the longest chapter's thread waiting between cells. At normal priority it takes its CPU
from the kernels of the shorter chapters, which run at a lower one (tillit.build.pipeline.warm).

An import that fails here is ignored: the real call imports the module again and raises the
error where it belongs. A caller who knows what it will run after the build (the render, chosen
by `tillit build`) names its modules with `request`; the build imports them with
`start_requested` once its chapters' audit is done, while the appendices run: their kernel
leaves a core free then, whereas during the chapters both are busy (the longest chapter, and
the others followed by the appendix's warm-up, which the appendix waits for).
An entry ``"module:function"`` also calls that function (no arguments) after the import: a
warm-up whose effect outlives it, such as the render's templates (its errors are ignored too).
"""
from __future__ import annotations

import importlib
import sys
import threading
from typing import Iterable

_lock = threading.Lock()
_requested: list[str] = []
_threads: list[threading.Thread] = []


def request(modules: Iterable[str]) -> None:
    """Modules the caller will import after the build, for :func:`start_requested`."""
    with _lock:
        _requested.extend(m for m in modules if m not in _requested)


def start_requested() -> threading.Thread | None:
    """:func:`start` on the requested modules (the request is used up)."""
    with _lock:
        names = list(_requested)
        _requested.clear()
    return start(names)


def start(modules: Iterable[str]) -> threading.Thread | None:
    """Import `modules` on a daemon thread; None when there is nothing to import that is not
    imported already."""
    with _lock:
        names = [m for m in modules if ":" in m or m not in sys.modules]
        if not names:
            return None
        thread = threading.Thread(target=_import_all, args=(names,), name="tillit-preload", daemon=True)
        _threads.append(thread)
    thread.start()
    return thread


def _import_all(names: list[str]) -> None:
    for name in names:
        module, _, call = name.partition(":")
        try:
            imported = importlib.import_module(module)
            if call:
                getattr(imported, call)()
        except Exception:  # noqa: BLE001 - the real call raises it where it belongs
            continue


def wait(timeout: float | None = None) -> None:
    """Let the background imports finish (at most `timeout` seconds each)."""
    with _lock:
        threads = list(_threads)
    for thread in threads:
        if thread is not threading.current_thread():
            thread.join(timeout)
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
