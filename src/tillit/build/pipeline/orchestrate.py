"""The build: the data-preparation step, then the chapters in parallel, under one lock.

`build()` runs the pipeline in params/pipeline.yml; `run_step()` runs one notebook the way a
build step runs (under the lock, recorded in the manifest). Ctrl-C and SIGTERM stop the
build cleanly: no new step starts, the kernels are killed, staging is removed, and the
manifest records what finished.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable

from tillit.build.pipeline.cache import (
    _cached,
    _changed,
    _entry,
    _now,
    _save_build_manifest,
    environment_hash,
    key_parts,
    manifest_path,
    package_hash,
    read_manifest,
    read_manifest_at,
    MANIFEST_NAME,
)
from tillit.book.destination import prepare_output_dir
from tillit.build.pipeline.execute import (
    INTERRUPTED,
    STAGING_DIR,
    BuildLockedError,
    PipelineError,
    StepResult,
    _root_env,
    run_notebook,
)
from tillit.build.pipeline import preload
from tillit.build.pipeline.files import _digest, _rel, tree_hashes
from tillit.build.pipeline.logs import assemble_log
from tillit.build.pipeline.params import _abs, _params_file, _read_ipynb, _root, resolve_parameters
from tillit.build.pipeline.warm import WarmKernels, kill_kernels, run_at_lower_priority
from tillit.config import SHARED_KEYS, ConfigError, PipelineSpec, load_pipeline, load_run_params

LOCK_NAME = ".build.lock"


def run_step(name: str, parameters: dict | None = None, *, root: Path | None = None,
             progress: Callable[[str], None] | None = None) -> StepResult:
    """One notebook as `tillit run` runs it: under the build lock of its output folder, keyed
    like a build step and recorded in that folder's manifest, so the next build knows what is
    already up to date (a run with other parameters is recorded with its own key, and the
    next build re-runs the step with the pipeline's parameters). The disclosure audit then
    runs over that folder as after a build (see :func:`audit_stages`); a failed audit raises
    DisclosureError, and the next build audits again. `progress` gets the step's line and the
    audit's."""
    root = _root(root)
    spec = load_pipeline(root=root)
    shared = load_run_params(_params_file(spec, root),
                             **{k: v for k, v in (parameters or {}).items() if k in SHARED_KEYS})
    out_dir = _output_dir(shared, root)
    resolved = resolve_parameters(name, parameters, root=root, spec=spec)
    lock = _acquire_lock(out_dir, root)
    try:
        parts = key_parts(name, resolved, root=root, spec=spec)
        key = _digest(parts)
        path = out_dir / MANIFEST_NAME
        previous = read_manifest_at(path)["steps"].get(name)
        try:
            result = run_notebook(name, parameters, root=root, key=key)
        except PipelineError as exc:
            if exc.result is not None:
                exc.result.key_parts = parts
                _record_step_at(path, exc.result, previous)
            raise
        result.key_parts, result.reason = parts, _changed(parts, previous)
        _record_step_at(path, result, previous)
        progress = progress or (lambda _line: None)
        progress(_line(result))
        for line in _warning_lines(result):
            progress(line)
        audit_stages(path, root, spec, shared.effective_min_cell, progress, chapters_only=not spec.spec(name).appendix)
        return result
    finally:
        lock.release()


def _record_step_at(path: Path, result: StepResult, previous: dict | None) -> None:
    """Record one step in the manifest at `path` (the output folder's own)."""
    from tillit.build.pipeline.cache import _manifest_lock, _write_manifest

    path.parent.mkdir(parents=True, exist_ok=True)
    with _manifest_lock(path):
        data = read_manifest_at(path)
        data["steps"][result.name] = _entry(result, previous)
        _write_manifest(path, data)


def _clean_stale_staging(out_dir: Path, data_dir: Path) -> None:
    """Remove staging left by a killed build (we hold the lock, so none is live)."""
    shutil.rmtree(out_dir / STAGING_DIR, ignore_errors=True)
    if data_dir.parent.is_dir():
        for path in data_dir.parent.glob(f".{data_dir.name}.staging-*"):
            shutil.rmtree(path, ignore_errors=True)
        for path in data_dir.parent.glob(f".{data_dir.name}.old-*"):
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM behaves like Ctrl-C, so the same clean-up runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _acquire_lock(out_dir: Path, root: Path):
    from filelock import FileLock, Timeout

    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_dir / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise BuildLockedError(
            f"En annen bygging pågår allerede i {root} (låsen {_rel(out_dir / LOCK_NAME, root)} er tatt). "
            "Vent til den er ferdig, og prøv igjen."
        ) from None
    return lock


def _in_sources(path: Path, root: Path) -> bool:
    from tillit.book.destination import SOURCE_DIRS

    rel = path.resolve().relative_to(root)
    return rel.parts[0] in SOURCE_DIRS and rel.parts[0] != "data" or rel.parts[:2] == ("data", "raw")


def _warning_lines(result: StepResult, limit: int = 8) -> list[str]:
    """A step's stderr (warnings), for the terminal only; the full text is in .tillit/logs/."""
    if not result.warnings:
        return []
    lines = [f"    merk: {w}" for w in result.warnings[:limit]]
    if len(result.warnings) > limit:
        lines.append(f"    merk: … {len(result.warnings) - limit} linjer til i .tillit/logs/{result.name}.log")
    return lines


def _line(result: StepResult) -> str:
    # Same layout as tillit.build.cli.step_line, so build and render lines align.
    line = f"  {result.name:<28} {result.seconds:7.1f} s  {result.status}"
    if result.status == "ok" and result.reason:
        line += f" (endret: {', '.join(result.reason)})"
    return line


def build(
    *,
    only: list[str] | None = None,
    force: bool = False,
    workers: int | None = None,
    progress: Callable[[str], None] = print,
    root: Path | None = None,
    parameters: dict[str, Any] | None = None,
    warm: WarmKernels | None = None,
) -> list[StepResult]:
    """Run the pipeline: the data-preparation step, then the chapters in parallel.

    `parameters` are given to every step (after default.yml and pipeline.yml overrides); an
    `output_dir` among them moves the whole build there, with its own lock, manifest and
    audit (an edition: tillit.build.editions).

    `warm` is a :class:`~tillit.build.pipeline.warm.WarmKernels` the caller started (e.g. on
    the data step, before checking data/raw/); the build uses and closes it.

    `only` limits the run to the named notebooks; `force` ignores the cache; `workers`
    (default pipeline.yml `workers`, 0 = os.cpu_count()) is how many chapters run at once.
    Prints one line per step. Returns the StepResults in pipeline order. Raises
    :class:`BuildLockedError` if another build holds the lock, :class:`PipelineError` if a
    notebook fails (after the chapters already running have finished; none is started
    after the failure), and re-raises KeyboardInterrupt after cleaning up.
    """
    root = _root(root)
    spec = load_pipeline(root=root)
    shared = load_run_params(_params_file(spec, root),
                             **{k: v for k, v in (parameters or {}).items() if k in SHARED_KEYS})
    out_dir = _output_dir(shared, root)
    names = spec.names()
    selected = list(names) if only is None else list(only)
    for name in selected:
        spec.spec(name)  # unknown name → ConfigError listing the known ones
    n_workers = check_workers(workers if workers is not None else spec.workers, "--workers")
    n_workers = n_workers or os.cpu_count() or 1

    lock = _acquire_lock(out_dir, root)
    try:
        with _sigterm_as_interrupt(), _root_env(root):
            INTERRUPTED.clear()
            _clean_stale_staging(out_dir, _abs(shared.data_dir, root))
            assemble_log(out_dir)
            return _build_locked(spec, root, out_dir, selected, force, n_workers, progress, parameters, warm)
    finally:
        lock.release()


def check_workers(value, label: str) -> int:
    """A worker count: a whole number ≥ 0 (0 = one per core)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{label} = {value!r}: antall arbeidere må være et heltall ≥ 0 (0 = ett per kjerne)")
    return value


def _output_dir(shared, root: Path) -> Path:
    """The checked output folder of the shared parameters (tillit.book.destination)."""
    return prepare_output_dir(shared.output_dir, root, raw_dir=shared.raw_dir, data_dir=shared.data_dir)


AUDIT_NAME = "disclosure_audit.json"
# What the audit imports, imported on a background thread while the chapters run (preload).
AUDIT_MODULES = ("tillit.stats.audit", "tillit.stats.disclosure", "tillit.data.codebook", "tillit.book.downloads",
                 "scipy.optimize", "scipy.sparse")


def audit_key(out_dir: Path, root: Path, min_cell: int) -> str:
    """What the audit's verdict depends on: every register, every published CSV, the params
    (codebook, published targets), the package code and min_cell."""
    parts = {"registers": tree_hashes(out_dir / "disclosure", root), "tables": tree_hashes(out_dir / "tables", root),
             "params": tree_hashes(root / "params", root), "package": package_hash(), "min_cell": min_cell}
    return _digest(parts)


def audit(out_dir: Path, root: Path, min_cell: int, *, write: bool = True, skip: tuple[str, ...] = (),
          only: tuple[str, ...] | None = None):
    """The disclosure audit over everything published in `out_dir` (tillit.stats.audit) but
    the notebooks in `skip`; written to disclosure_audit.json when `write`. Raises
    DisclosureError when it fails."""
    preload.wait()  # its modules may be being imported on the preload thread
    from tillit.stats.audit import run_audit, write_result
    from tillit.stats.disclosure import DisclosureError

    try:  # the headers the book gives machine names in its CSVs
        from tillit.book.downloads import HEADERS as headers
    except ImportError:  # pragma: no cover - a book without reader headers
        headers = {}
    result = run_audit(out_dir, min_cell=min_cell, published_yml=root / "params" / "published.yml", skip=skip,
                       only=only, headers=headers)
    if write:
        write_result(result, out_dir)
    if not result.ok:
        raise DisclosureError(result.message())
    return result



def audit_stage(manifest: dict, out_dir: Path, root: Path, spec: PipelineSpec, min_cell: int,
                progress: Callable[[str], None], *, write: bool) -> None:
    """One of the build's two audits, recorded in `manifest` (the caller saves it):
    `write=True` ("audit") before the appendices, over the chapters' numbers, written to
    disclosure_audit.json for the methods appendix to show; `write=False` ("audit_final")
    over everything, the appendices' own tables included. Skipped when everything it reads
    is as when it last passed, so a no-op rebuild stays fast. Raises DisclosureError."""
    t0 = time.perf_counter()
    # Before the appendices, their (maybe stale) tables are left out; after, all count.
    skip = tuple(n for n in spec.names() if spec.spec(n).appendix) if write else ()
    key = audit_key(out_dir, root, min_cell) + ",".join(skip)
    stage = "audit" if write else "audit_final"
    previous = manifest.get(stage) or {}
    if previous.get("ok") and previous.get("key") == key and (not write or (out_dir / AUDIT_NAME).is_file()):
        return
    try:
        result = audit(out_dir, root, min_cell, write=write, skip=skip, only=tuple(spec.names()))
    except BaseException:
        manifest[stage] = {"ok": False, "key": key}
        raise
    seconds = time.perf_counter() - t0
    manifest[stage] = {"ok": result.ok, "key": key, "seconds": round(seconds, 3),
                       "suppressed_counts": result.suppressed,
                       "published_equations": result.equations, "tables": result.tables}
    if result.tables:
        progress(f"  {'revisjon (skjulte tall)':<28} {seconds:7.1f} s  ok "
                 f"({result.suppressed} skjulte tall, {result.equations} publiserte likninger)")


def audit_stages(mpath: Path, root: Path, spec: PipelineSpec, min_cell: int, progress: Callable[[str], None],
                 *, chapters_only: bool = True) -> None:
    """The audits a build ends with, after one step run alone (`tillit run`): the chapters'
    audit (written for the methods appendix) after a chapter, and the audit over everything
    when the appendices' tables are there. Recorded in the manifest at `mpath`."""
    from tillit.build.pipeline.cache import _manifest_lock, _write_manifest

    out_dir = mpath.parent
    appendices = [n for n in spec.names() if spec.spec(n).appendix]
    stages = [True] if chapters_only else []
    if not appendices or any((out_dir / "tables" / n).is_dir() or (out_dir / "disclosure" / n).is_dir()
                             for n in appendices):
        stages.append(False)
    manifest = read_manifest_at(mpath)
    try:
        for write in stages:
            audit_stage(manifest, out_dir, root, spec, min_cell, progress, write=write)
    finally:
        with _manifest_lock(mpath):
            data = read_manifest_at(mpath)
            for stage in ("audit", "audit_final"):
                if stage in manifest:
                    data[stage] = manifest[stage]
            _write_manifest(mpath, data)


def _build_locked(spec, root, out_dir, selected, force, n_workers, progress, parameters=None,
                  warm=None) -> list[StepResult]:
    # Check every selected step's parameters before anything runs: a typo in an override
    # should not surface after the data step has taken minutes.
    for name in selected:
        resolve_parameters(name, parameters, root=root, spec=spec)
    return _Build(spec, root, out_dir, selected, force, n_workers, progress, parameters, warm).run()


class _Build:
    """One build under the lock: runs the steps, records each in the manifest as it ends."""

    def __init__(self, spec: PipelineSpec, root: Path, out_dir: Path, selected: list[str], force: bool,
                 n_workers: int, progress: Callable[[str], None], parameters: dict | None = None,
                 warm: WarmKernels | None = None):
        self.spec, self.root, self.selected, self.force, self.progress = spec, root, selected, force, progress
        self.parameters = parameters
        self.mpath = out_dir / MANIFEST_NAME
        self.manifest = read_manifest_at(self.mpath)
        self.manifest["build"] = {"started": _now(), "finished": None, "status": "running",
                                  "workers": n_workers, "environment": environment_hash()}
        self.results: dict[str, StepResult] = {}
        self.failure: StepResult | None = None
        self.n_workers = n_workers
        # Kernels warmed on an idle core for the steps that come next (see .warm).
        if n_workers > 1 and spec.warm_kernels:
            self.warm = warm or WarmKernels(root, fork=spec.names())  # the caller's may already be warming the data step
        else:
            self.warm = None
            if warm is not None:
                warm.close()
        self.warmed: list[str] = []  # steps that ran in a warmed kernel (the manifest says which)
        self.prune_removed_steps()
        self.min_cell = load_run_params(_params_file(spec, root), **{
            k: v for k, v in (parameters or {}).items() if k in SHARED_KEYS}).effective_min_cell

    def prune_removed_steps(self) -> None:
        """Outputs of notebooks no longer in pipeline.yml are stale: delete the files their
        manifest entries recorded, and the entries (outputs/ is wholly generated)."""
        names = set(self.spec.names())
        for name in [n for n in self.manifest["steps"] if n not in names]:
            entry = self.manifest["steps"].pop(name)
            for rel in entry.get("outputs") or {}:
                path = _abs(rel, self.root)
                if path.is_file() and self.root in path.resolve().parents and not _in_sources(path, self.root):
                    path.unlink()
                    with contextlib.suppress(OSError):
                        path.parent.rmdir()  # only if empty
            self.progress(f"  {name:<28} {0.0:7.1f} s  fjernet (ikke lenger i pipeline.yml)")

    # -- one step ------------------------------------------------------------------------
    def step(self, name: str) -> StepResult:
        root, spec = self.root, self.spec
        t0, started = time.perf_counter(), _now()
        resolved = resolve_parameters(name, self.parameters, root=root, spec=spec)
        parts = key_parts(name, resolved, root=root, spec=spec)
        key = _digest(parts)
        previous = self.manifest["steps"].get(name)
        if not self.force:
            outputs = _cached(name, key, previous, root)
            if outputs is not None:
                if self.warm is not None:
                    self.warm.discard(name)
                return StepResult(name, key, "cached", time.perf_counter() - t0, sorted(outputs), None,
                                  output_hashes=outputs, started=started, finished=_now(), key_parts=parts)
        reason = ["tvunget (--force)"] if self.force else _changed(parts, previous)
        km = self.warm.take(name) if self.warm is not None else None
        if km is not None:
            self.warmed.append(name)
        elif self.warm is not None:  # none warmed: one forked now (.forkserver), at the step's priority
            km = self.warm.forked_now() if name in self.critical else run_at_lower_priority(self.warm.forked_now)
        run = lambda: run_notebook(name, self.parameters, root=root, key=key, km=km)  # noqa: E731
        try:
            # Off the critical path, the kernel (started from a thread of its own) yields the
            # CPU to the longest chapter's when both cores are busy.
            result = run() if name in self.critical else run_at_lower_priority(run)
        except PipelineError as exc:
            if exc.result is None:
                raise
            exc.result.key_parts, exc.result.reason = parts, reason
            return exc.result
        finally:
            if km is not None:
                WarmKernels.release(km)
        result.key_parts, result.reason = parts, reason
        # Files the step wrote last time but not now are stale: remove them.
        if previous:
            for rel in set(previous.get("outputs") or {}) - set(result.output_hashes):
                path = _abs(rel, root)
                if path.is_file() and root in path.resolve().parents:
                    path.unlink()
        return result

    def record(self, result: StepResult) -> None:
        self.results[result.name] = result
        self.manifest["steps"][result.name] = _entry(result, self.manifest["steps"].get(result.name))
        _save_build_manifest(self.mpath, self.manifest)
        self.progress(_line(result))
        for line in _warning_lines(result):
            self.progress(line)
        if result.status == "failed" and self.failure is None:
            self.failure = result

    def audit(self, *, write: bool) -> None:
        audit_stage(self.manifest, self.mpath.parent, self.root, self.spec, self.min_cell, self.progress,
                    write=write)

    def finish(self, status: str) -> None:
        self.manifest["build"].update(finished=_now(), status=status, warm_kernels=sorted(self.warmed))
        _save_build_manifest(self.mpath, self.manifest)

    # -- the phases ----------------------------------------------------------------------
    def phases(self) -> list[list[str]]:
        """The data step alone; then the chapters in parallel; then the appendices
        (pipeline.yml `appendix: true`), which summarise what the chapters logged. Within a
        phase the longest step starts first, so the phase ends soonest."""
        spec, selected = self.spec, self.selected
        prep = spec.notebooks[0].name if spec.notebooks else None
        chapters = sorted((n for n in spec.names() if n in selected and n != prep), key=self.expected_seconds,
                          reverse=True)
        phases = [[prep] if prep in selected else [],
                  [n for n in chapters if not spec.spec(n).appendix],
                  [n for n in chapters if spec.spec(n).appendix]]
        # The critical path: each phase's longest step (and with one worker, every step).
        self.critical = {n for phase in phases for n in (phase if self.n_workers < 2 else phase[:1])}
        self.longest = phases[1][0] if phases[1] else None
        return phases

    def expected_seconds(self, name: str) -> float:
        """How long the step took when it last ran; before its first run, a guess from its
        number of code cells (the chapters' run time grows with them)."""
        seconds = (self.manifest["steps"].get(name) or {}).get("built_seconds")
        if isinstance(seconds, (int, float)):
            return float(seconds)
        try:
            cells = _read_ipynb(self.root / "notebooks" / f"{name}.ipynb")["cells"]
        except ConfigError:
            return 0.0  # the run reports it
        return 1.0 + 0.3 * sum(c.get("cell_type") == "code" for c in cells)

    def run_phase(self, pool: ThreadPoolExecutor, names: list[str], upcoming: list[str] = ()) -> None:
        self.running = {pool.submit(self.step, n) for n in names}
        while self.running:
            # Wake up regularly: the OS may deliver Ctrl-C to a worker thread, and Python
            # only acts on it when the main thread runs again.
            done, self.running = wait(self.running, timeout=0.2, return_when=FIRST_COMPLETED)
            ran = False
            for fut in done:
                if fut.cancelled():
                    continue
                self.record(fut.result())
                ran = ran or fut.result().status == "ok"
                if self.failure is not None:
                    # Stop: start nothing new; let the running ones finish.
                    for other in self.running:
                        other.cancel()
            if not done or (ran and self.running):  # a step runs on; or one ran and left a worker idle
                self.warm_upcoming(upcoming)

    def warm_upcoming(self, upcoming: list[str]) -> None:
        """A step has run for a while and a worker is idle: warm the next phase's kernels on
        it (a cached step finishes at once and warms nothing)."""
        if self.warm is None or self.failure is not None:
            return
        free = self.n_workers - len(self.running) - self.warm.busy()
        for name in [n for n in upcoming if n not in self.warm and n not in self.results][:max(free, 0)]:
            # The longest chapter's kernel keeps full priority; the others (and an appendix's,
            # warmed while that chapter runs) yield.
            self.warm.start(name, nice=name != self.longest)

    def interrupted(self, pool: ThreadPoolExecutor) -> None:
        INTERRUPTED.set()  # a kernel killed now is not the notebook's failure: keep no copy
        for fut in self.running:
            fut.cancel()
        kill_kernels()
        pool.shutdown(wait=True, cancel_futures=True)
        # Steps that finished cleanly while we stopped are real; record them. An interrupted
        # step keeps its previous entry, whose outputs were not replaced.
        for fut in self.running:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                res = fut.result()
                if res.status != "failed":
                    self.record(res)
        self.finish("interrupted")
        self.progress("Byggingen ble avbrutt; ufullstendige filer er fjernet.")

    def run(self) -> list[StepResult]:
        pool = ThreadPoolExecutor(max_workers=self.n_workers, thread_name_prefix="tillit-step")
        self.running: set[Future] = set()
        try:
            try:
                prep, chapters, appendices = self.phases()
                for phase, upcoming in ((prep, chapters or appendices), (chapters, appendices)):
                    if self.failure is None and phase:
                        if phase is chapters:  # this process now waits: import what its audit needs
                            preload.start(AUDIT_MODULES)
                        self.run_phase(pool, phase, upcoming)
                if self.failure is None:
                    # The appendices show the audit of the chapters' numbers; after them the
                    # audit runs again over everything, the appendices' own tables included.
                    self.audit(write=True)
                    # While the appendices run, a core is free: what the caller needs next (the render).
                    preload.start_requested()
                    if appendices:
                        self.run_phase(pool, appendices)
                    if self.failure is None and appendices:
                        self.audit(write=False)
            except KeyboardInterrupt:
                self.interrupted(pool)
                raise
            except BaseException:
                # Not a notebook failure (e.g. a file vanished while hashing): start nothing
                # new, record the build as failed, let the running steps end, re-raise.
                for fut in self.running:
                    fut.cancel()
                self.finish("failed")
                raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if self.warm is not None:
                self.warm.close()
            preload.wait()  # no import outlives the build (a caller may fork next: the render)
        return self.conclude()

    def conclude(self) -> list[StepResult]:
        ordered = [self.results[n] for n in self.spec.names() if n in self.results]
        failure = self.failure
        if failure is None:
            self.finish("ok")
            return ordered
        self.finish("failed")
        skipped = [n for n in self.selected if n not in self.results]
        msg = failure.error or f"notatboken {failure.name} feilet"
        if skipped:
            msg += f"\nIkke kjørt på grunn av feilen: {', '.join(skipped)}"
        raise PipelineError(msg, notebook=failure.name, cell=failure.cell,
                            failed_path=Path(failure.notebook_path) if failure.notebook_path else None,
                            result=failure, results=ordered)


def main(argv: list[str] | None = None) -> int:
    """`python -m tillit.build.pipeline [--only NB ...] [--force] [--workers N]` (tests, benchmarks)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tillit.build.pipeline", description="Kjør notatbøkene (med hurtigbuffer).")
    parser.add_argument("--only", nargs="*", default=None, help="bare disse notatbøkene")
    parser.add_argument("--force", action="store_true", help="kjør alt på nytt")
    parser.add_argument("--workers", type=int, default=None, help="kapitler samtidig (0 = antall kjerner)")
    args = parser.parse_args(argv)
    try:
        results = build(only=args.only, force=args.force, workers=args.workers)
    except (PipelineError, ConfigError) as exc:
        print(f"Feil: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    ran = sum(r.status == "ok" for r in results)
    print(f"Ferdig: {ran} kjørt, {len(results) - ran} uendret.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
