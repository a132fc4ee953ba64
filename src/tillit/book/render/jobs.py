"""Page renders in worker processes, so the fallback uses the second core (PageJobs).

Each job is `job(shared, *args)`: `shared` (the exporters, the page templates) reaches the
workers by fork, not pickled; a job's arguments and result are pickled. Where there is one CPU,
one job, no fork or no way to start a process, the jobs run in this process, each when its
result is read, so a serial render does them in the order it always did.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

_SHARED: dict = {}   # in a worker: the render's inputs, inherited from the parent (fork)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _worker_start(shared: dict) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and stops the pool. A
    # worker inherits the parent's SIGTERM handler (tillit build turns it into an interrupt):
    # terminated, a worker just ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _SHARED.clear()
    _SHARED.update(shared)


def _in_worker(job, *args):
    return job(_SHARED, *args)


class _Result:
    """A job's result: from the pool, else computed in this process when asked for (so the
    serial render does the jobs in the order their results are read, as it always did)."""

    def __init__(self, shared: dict, job, args: tuple):
        self.shared, self.job, self.args, self.future = shared, job, args, None

    def result(self):
        if self.future is not None:
            try:
                return self.future.result()
            except BrokenProcessPool:   # a worker died (killed, out of memory): do it here
                self.future = None
        return self.job(self.shared, *self.args)


class PageJobs:
    """Page renders, `job(shared, *args)`, in up to two forked worker processes once at least
    two are asked for (`expect`) and there is more than one CPU; otherwise, or when the pool
    cannot start (no fork, a daemonic process, no resources), in this process, each when its
    result is read. The workers inherit `shared` by fork; the jobs' arguments and results are
    pickled. A job's exception is raised by its `result()`, as serially. Use as a context
    manager: the workers are gone when it exits."""

    def __init__(self, shared: dict, expect: int = 0, workers: int | None = None):
        self.shared = shared
        self.workers = min(2, _cpus()) if workers is None else workers
        self.pool = None
        self.failed = False
        self.waiting: list[_Result] = []
        self.expect(expect)

    def expect(self, count: int) -> None:
        """`count` jobs in all are coming: start the workers if that makes it worth it, and
        hand them the jobs submitted so far."""
        if self.pool is not None or self.failed or count < 2 or self.workers < 2:
            return
        try:
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_worker_start, initargs=(self.shared,))
        except (ValueError, OSError):
            self.failed = True
            return
        waiting, self.waiting = self.waiting, []
        for r in waiting:
            self._send(r)

    def submit(self, job, *args) -> _Result:
        r = _Result(self.shared, job, args)
        if self.pool is None:
            self.waiting.append(r)
        else:
            self._send(r)
        return r

    def _send(self, r: _Result) -> None:
        if self.pool is None:
            return
        try:
            r.future = self.pool.submit(_in_worker, r.job, *r.args)
        except (OSError, AssertionError, BrokenProcessPool):   # the workers could not start
            self.failed = True
            self.close()

    def close(self, cancel: bool = False) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=cancel)
            self.pool = None

    def __enter__(self) -> PageJobs:
        return self

    def __exit__(self, kind, *_) -> None:
        self.close(cancel=kind is not None)
