"""Running one notebook: in-process papermill, in staging, moved into place only at the end.

One step = one notebook executed in-process with papermill (the kernel is the only child
process). Everything a step writes goes to a staging folder first and is moved into place
only when the notebook has run to the end, so a failure or an interruption never leaves
half-written files that a later build would trust.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tillit.book.destination import check_output_file, prepare_output_dir
from tillit.build.pipeline.cache import _now, step_key
from tillit.build.pipeline.executed import normalise
from tillit.build.pipeline.files import _rel, _replace_dir, _walk_files, file_sha256, move
from tillit.build.pipeline.logs import assemble_log, seed_log, take_part
from tillit.build.pipeline.params import (
    KERNEL_NAME,
    _abs,
    _read_ipynb,
    _root,
    _tags,
    is_prepare_step,
    resolve_parameters,
)
from tillit.config import ROOT_ENV, ConfigError, load_pipeline

STAGING_DIR = ".staging"
# Executed notebooks of failed runs: outside outputs/, since a traceback may quote data.
FAILED_DIR = Path(".tillit") / "failed"
# Set by the build while it stops on Ctrl-C/SIGTERM: a kernel killed then is not a failure
# of the notebook, and no failed copy is kept.
INTERRUPTED = threading.Event()

Status = Literal["ok", "cached", "failed"]


@dataclass
class StepResult:
    name: str
    key: str
    status: Status
    seconds: float
    outputs: list[str] = field(default_factory=list)
    error: str | None = None
    # Extra detail for the manifest; not part of the positional API.
    output_hashes: dict[str, str] = field(default_factory=dict, repr=False)
    started: str | None = field(default=None, repr=False)
    finished: str | None = field(default=None, repr=False)
    notebook_path: str | None = field(default=None, repr=False)
    cell: int | None = field(default=None, repr=False)  # failing cell (1-based, as in the source notebook)
    key_parts: dict[str, str] = field(default_factory=dict, repr=False)
    reason: list[str] = field(default_factory=list, repr=False)  # why it re-ran
    # What is persisted under outputs/ (manifest, batch summary): notebook, cell and error
    # class, never the error's text, which may quote a respondent's value.
    public_error: str | None = field(default=None, repr=False)
    warnings: list[str] = field(default_factory=list, repr=False)  # stderr lines, terminal only


class PipelineError(RuntimeError):
    """A notebook failed; the message names the notebook, the cell, the error and the kept copy."""

    def __init__(
        self,
        message: str,
        *,
        notebook: str | None = None,
        cell: int | None = None,
        failed_path: Path | None = None,
        result: StepResult | None = None,
        results: list[StepResult] | None = None,
    ):
        super().__init__(message)
        self.notebook = notebook
        self.cell = cell
        self.failed_path = failed_path
        self.result = result
        self.results = results or []


class BuildLockedError(PipelineError):
    """Another build holds outputs/.build.lock."""


def _promote(staged: Path, target: Path) -> list[Path]:
    """Move a step's staged output tree into `target`; return the paths it now owns.

    A folder two levels down (figures/<nb>/, tables/<nb>/, disclosure/<nb>/) is replaced as a
    whole, so files the step no longer writes disappear with it.
    """
    owned: list[Path] = []
    if not staged.is_dir():
        return owned
    for entry in sorted(staged.iterdir()):
        dest = target / entry.name
        if entry.name.endswith(".lock"):
            continue  # lock files of the notebook's own writers (filelock), not outputs
        if entry.is_file():
            target.mkdir(parents=True, exist_ok=True)
            move(entry, dest)
            owned.append(dest)
        elif entry.is_dir():
            for child in sorted(entry.iterdir()):
                child_dest = dest / child.name
                if child.name.endswith(".lock"):
                    continue
                if child.is_dir():
                    _replace_dir(child, child_dest)
                    owned.extend(_walk_files(child_dest))
                else:
                    dest.mkdir(parents=True, exist_ok=True)
                    move(child, child_dest)
                    owned.append(child_dest)
    return owned


@contextlib.contextmanager
def _root_env(root: Path):
    """Kernels inherit the environment: make TILLIT_ROOT point at the compendium we run."""
    old = os.environ.get(ROOT_ENV)
    if old is not None and Path(old).resolve() == root:
        yield
        return
    os.environ[ROOT_ENV] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ROOT_ENV, None)
        else:
            os.environ[ROOT_ENV] = old


KERNEL_START_ATTEMPTS = 3


def _kernel_start_failed(exc: BaseException) -> bool:
    """A kernel that died or stayed silent before running any cell (e.g. a TCP port taken by
    another process between jupyter_client choosing it and the kernel binding it)."""
    text = f"{type(exc).__name__}: {exc}"
    return "before replying to kernel_info" in text or "didn't respond in" in text


def _execute_with_retry(pm, root: Path, name: str, stage_nb: Path, parameters: dict, timeout, km=None) -> None:
    """Run the notebook in-process; a kernel that fails to start is started again (nothing
    has run yet, so a retry is safe); any other failure is raised at once. `km` is a kernel
    already started for this step (tillit.build.pipeline.warm); the first attempt uses it."""
    from tillit.build.pipeline.engine import ENGINE_NAME  # registers the engine (imports papermill)

    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        warm = {"km": km} if km is not None and attempt == 1 else {}
        try:
            with _root_env(root):
                pm.execute_notebook(
                    str(root / "notebooks" / f"{name}.ipynb"),
                    str(stage_nb),
                    parameters=parameters,
                    kernel_name=KERNEL_NAME,
                    progress_bar=False,
                    engine_name=ENGINE_NAME,  # saves the running notebook less often (.engine)
                    log_output=False,
                    # cwd via the kernel's start directory, not os.chdir (threads share cwd)
                    resources={"metadata": {"path": str(root)}},
                    execution_timeout=timeout,
                    # Quiet the kernel's start-up warnings (one per step); errors still show.
                    extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                    **warm,
                )
            return
        except Exception as exc:  # noqa: BLE001 - re-raised unless it is a failed start
            if attempt == KERNEL_START_ATTEMPTS or not _kernel_start_failed(exc):
                raise
            stage_nb.unlink(missing_ok=True)


def _describe_failure(name: str, exc: BaseException, executed: Path | None) -> tuple[str, int | None, str]:
    """One Norwegian line (notebook, cell number and first source line, error), the cell
    number and the error's class name."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        cell_no = exc.cell_index + 1
        if executed is not None and executed.is_file():
            # Count cells as in the source notebook: skip papermill's injected cells.
            try:
                cells = _read_ipynb(executed)["cells"]
                # raise_for_execution_errors inserts an error marker at the top after
                # the index was taken; drop marker cells before counting.
                cells = [c for c in cells if "papermill-error-cell-tag" not in _tags(c)]
                before = cells[: exc.cell_index]
                cell_no = 1 + sum(1 for c in before if "injected-parameters" not in _tags(c))
            except ConfigError:
                pass
        first = next((ln.strip() for ln in (exc.source or "").splitlines() if ln.strip()), "")
        if len(first) > 80:
            first = first[:77] + "..."
        return (
            f"notatboken {name} feilet i celle {cell_no} («{first}»): {exc.ename}: {exc.evalue}",
            cell_no, exc.ename,
        )
    return f"notatboken {name} feilet: {type(exc).__name__}: {exc}", None, type(exc).__name__


def run_notebook(
    name: str,
    parameters: dict | None = None,
    *,
    output_path: Path | None = None,
    root: Path | None = None,
    key: str | None = None,
    timeout: float | None = None,
    failed_path: Path | None = None,
    km=None,
) -> StepResult:
    """Execute notebooks/<name>.ipynb in-process with papermill; return what it wrote.

    Parameters are resolved and validated (``resolve_parameters``), and `output_dir` is
    checked (``tillit.book.destination``). The notebook writes into staging folders (its
    `output_dir`, and for the data-preparation step its `data_dir`); only when every cell has
    run are they moved into place, with the executed notebook (see ``executed.normalise``) at
    `output_path` (default <output_dir>/notebooks/<name>.ipynb). On failure the executed
    notebook with the traceback is kept outside outputs/, at `failed_path` (default
    .tillit/failed/<name>.ipynb), nothing else is moved, and :class:`PipelineError` is raised
    (its ``result`` is the failed StepResult). `km`, a kernel warmed for this step
    (tillit.build.pipeline.warm), runs the notebook; the caller stops it.
    """
    root = _root(root)
    spec = load_pipeline(root=root)
    logical = resolve_parameters(name, parameters, root=root, spec=spec)
    key = key or step_key(name, logical, root=root, spec=spec)
    dirs = {"raw_dir": logical["raw_dir"], "data_dir": logical["data_dir"]}
    out_dir = prepare_output_dir(logical["output_dir"], root, **dirs)
    data_dir = _abs(logical["data_dir"], root)
    final_nb = Path(output_path) if output_path else out_dir / "notebooks" / f"{name}.ipynb"
    final_nb = check_output_file(final_nb, root, **dirs)
    failed_nb = Path(failed_path) if failed_path else root / FAILED_DIR / f"{name}.ipynb"
    prepare = is_prepare_step(name, spec)

    token = f"{name}-{uuid.uuid4().hex[:10]}"
    stage = out_dir / STAGING_DIR / token
    stage_out = stage / "out"
    stage_nb = stage / f"{name}.ipynb"
    # Same file system as data_dir, so the final rename is atomic.
    stage_data = data_dir.parent / f".{data_dir.name}.staging-{token}" if prepare else None
    actual = dict(logical, output_dir=str(stage_out))
    if stage_data is not None:
        actual["data_dir"] = str(stage_data)

    started, t0 = _now(), time.perf_counter()
    stage_out.mkdir(parents=True, exist_ok=True)
    seed = seed_log(out_dir, stage_out) if spec.spec(name).appendix else None
    if stage_data is not None:
        stage_data.mkdir(parents=True, exist_ok=True)
    try:
        import papermill as pm  # deferred: ~0.4 s, only paid when something runs

        try:
            _execute_with_retry(pm, root, name, stage_nb, actual, timeout, km)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one message
            result = _failed(name, key, exc, stage_nb, failed_nb, root, started, t0)
            raise PipelineError(result.error, notebook=name, cell=result.cell,
                                failed_path=Path(result.notebook_path) if result.notebook_path else None,
                                result=result) from exc

        warnings = normalise(stage_nb, name, logical, f"notebooks/{name}.ipynb", _rel(final_nb, root), root)
        take_part(stage_out, name, seed)
        owned: list[Path] = []
        if stage_data is not None:
            _replace_dir(stage_data, data_dir)
            owned.extend(_walk_files(data_dir))
        owned.extend(_promote(stage_out, out_dir))
        final_nb.parent.mkdir(parents=True, exist_ok=True)
        move(stage_nb, final_nb)
        owned.append(final_nb)
        failed_nb.unlink(missing_ok=True)
        assemble_log(out_dir)
        hashes = {_rel(p, root): file_sha256(p) for p in owned}
        return StepResult(
            name, key, "ok", time.perf_counter() - t0, sorted(hashes), None,
            output_hashes=hashes, started=started, finished=_now(), notebook_path=str(final_nb),
            warnings=warnings,
        )
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if stage_data is not None:
            shutil.rmtree(stage_data, ignore_errors=True)
        with contextlib.suppress(OSError):
            (out_dir / STAGING_DIR).rmdir()  # only if empty (other steps may be staging)


def _failed(name: str, key: str, exc: BaseException, stage_nb: Path, failed_nb: Path, root: Path,
            started: str, t0: float) -> StepResult:
    """The failed StepResult: the executed notebook kept outside outputs/ (unless the build
    is being interrupted: then the failure is the interruption's, and nothing is kept), the
    full message for the terminal, and one without the error's text for the manifest."""
    kept = None
    if stage_nb.is_file() and not INTERRUPTED.is_set():
        failed_nb.parent.mkdir(parents=True, exist_ok=True)
        move(stage_nb, failed_nb)
        kept = failed_nb
    msg, cell, ename = _describe_failure(name, exc, kept)
    msg = msg[0].upper() + msg[1:]
    public = f"Notatboken {name} feilet" + (f" i celle {cell}" if cell else "") + f" ({ename})"
    if kept is not None:
        msg += f"\nDen kjørte notatboken med feilen er lagret i {_rel(kept, root)}"
        public += f"; den kjørte notatboken med feilen er lagret i {_rel(kept, root)}"
    return StepResult(name, key, "failed", time.perf_counter() - t0, [], msg, started=started, finished=_now(),
                      notebook_path=str(kept) if kept else None, cell=cell, public_error=public)
