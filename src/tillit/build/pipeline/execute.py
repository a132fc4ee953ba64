"""Running one notebook: in-process papermill, in staging, moved into place only at the end.

One step = one notebook executed in-process with papermill (the kernel is the only child
process). Everything a step writes goes to a staging folder first and is moved into place
only when the notebook has run to the end, so a failure or an interruption never leaves
half-written files that a later build would trust.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tillit.build.pipeline.cache import MERGED_LOGS, _now, step_key
from tillit.build.pipeline.files import _atomic_write_text, _rel, _replace_dir, _walk_files, file_sha256
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


_log_lock = threading.Lock()
LOG_KEY = "table_id"  # tillit.stats.disclosure.Gate replaces a log's rows per table id


def _read_log(path: Path):
    import pandas as pd

    if path.is_file() and path.stat().st_size > 0:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return None


def _seed_logs(main_out: Path, stage_out: Path) -> dict[str, Any]:
    """Copy the shared logs into the staging folder before a step runs, so the notebook
    sees (and merges into) the log as it is; return the copies for the 3-way merge."""
    from filelock import FileLock

    seeds: dict[str, Any] = {}
    for name in MERGED_LOGS:
        src = main_out / name
        with _log_lock, FileLock(str(src) + ".lock", timeout=60):
            seed = _read_log(src)
            if seed is not None:
                shutil.copyfile(src, stage_out / name)
        seeds[name] = seed
    return seeds


def _rows_by_key(df, key: str) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    if df is None:
        return out
    for rec in df.itertuples(index=False):
        out.setdefault(str(getattr(rec, key)), []).append(tuple(rec))
    return out


def _merge_log(new: Path, target: Path, seed) -> None:
    """Three-way merge of a step's copy of a shared log (disclosure_log.csv) into the main one.

    Per table id: if the step's copy differs from the copy it started with (the seed), the
    step changed that table (new rows, other rows, or none left), and the main log takes
    the step's rows; otherwise the main log keeps its own, which a chapter running in
    parallel may have updated meanwhile. Sorted by table id like tillit.stats.disclosure does.
    Aggregates only, like the log itself.
    """
    import pandas as pd
    from filelock import FileLock

    fresh = _read_log(new)
    with _log_lock, FileLock(str(target) + ".lock", timeout=60):
        main = _read_log(target)
        frames = [f for f in (fresh, main, seed) if f is not None]
        if not frames:
            return
        key = LOG_KEY if all(LOG_KEY in f.columns for f in frames) else None
        if key is None:
            # No table ids to merge by: the step's copy (seeded from the main log) wins.
            if fresh is not None:
                _atomic_write_text(target, fresh.to_csv(index=False, lineterminator="\n"))
            return
        before, after = _rows_by_key(seed, key), _rows_by_key(fresh, key)
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        if not changed:
            return
        columns = list((fresh if fresh is not None else main).columns)
        kept = main[~main[key].isin(changed)] if main is not None else pd.DataFrame(columns=columns)
        added = fresh[fresh[key].isin(changed)] if fresh is not None else pd.DataFrame(columns=columns)
        merged = pd.concat([kept, added], ignore_index=True)
        merged["_order"] = range(len(merged))
        merged = merged.sort_values([key, "_order"], kind="stable").drop(columns="_order")
        _atomic_write_text(target, merged.to_csv(index=False, lineterminator="\n"))


def _promote(staged: Path, target: Path, seeds: dict[str, Any]) -> list[Path]:
    """Move a step's staged output tree into `target`; return the paths it now owns.

    A folder two levels down (figures/<nb>/, tables/<nb>/) is replaced as a whole, so
    files the step no longer writes disappear with it.
    """
    owned: list[Path] = []
    if not staged.is_dir():
        return owned
    for entry in sorted(staged.iterdir()):
        dest = target / entry.name
        if entry.name.endswith(".lock"):
            continue  # lock files of the notebook's own writers (filelock), not outputs
        if entry.is_file():
            if entry.name in MERGED_LOGS:
                _merge_log(entry, dest, seeds.get(entry.name))
            else:
                target.mkdir(parents=True, exist_ok=True)
                os.replace(entry, dest)
                owned.append(dest)
        elif entry.is_dir():
            for child in sorted(entry.iterdir()):
                child_dest = dest / child.name
                if child.is_dir():
                    _replace_dir(child, child_dest)
                    owned.extend(_walk_files(child_dest))
                else:
                    dest.mkdir(parents=True, exist_ok=True)
                    os.replace(child, child_dest)
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


def _rewrite_injected(nb_path: Path, logical: dict[str, Any], input_rel: str, output_rel: str) -> None:
    """Show the logical parameters and paths (not the staging ones) in the executed notebook."""
    from papermill.translators import translate_parameters

    nb = _read_ipynb(nb_path)
    for cell in nb["cells"]:
        if "injected-parameters" in _tags(cell):
            src = translate_parameters(KERNEL_NAME, "python", logical, "Parameters")
            cell["source"] = src.splitlines(keepends=True)
    meta = nb.setdefault("metadata", {}).setdefault("papermill", {})
    meta.update(parameters=logical, input_path=input_rel, output_path=output_rel)
    _atomic_write_text(nb_path, json.dumps(nb, ensure_ascii=False, indent=1) + "\n")


KERNEL_START_ATTEMPTS = 3


def _kernel_start_failed(exc: BaseException) -> bool:
    """A kernel that died or stayed silent before running any cell (e.g. a TCP port taken by
    another process between jupyter_client choosing it and the kernel binding it)."""
    text = f"{type(exc).__name__}: {exc}"
    return "before replying to kernel_info" in text or "didn't respond in" in text


def _execute_with_retry(pm, root: Path, name: str, stage_nb: Path, parameters: dict, timeout) -> None:
    """Run the notebook in-process; a kernel that fails to start is started again (nothing
    has run yet, so a retry is safe); any other failure is raised at once."""
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            with _root_env(root):
                pm.execute_notebook(
                    str(root / "notebooks" / f"{name}.ipynb"),
                    str(stage_nb),
                    parameters=parameters,
                    kernel_name=KERNEL_NAME,
                    progress_bar=False,
                    log_output=False,
                    # cwd via the kernel's start directory, not os.chdir (threads share cwd)
                    resources={"metadata": {"path": str(root)}},
                    execution_timeout=timeout,
                    # Quiet the kernel's start-up warnings (one per step); errors still show.
                    extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                )
            return
        except Exception as exc:  # noqa: BLE001 - re-raised unless it is a failed start
            if attempt == KERNEL_START_ATTEMPTS or not _kernel_start_failed(exc):
                raise
            stage_nb.unlink(missing_ok=True)


def _describe_failure(name: str, exc: BaseException, executed: Path | None) -> tuple[str, int | None]:
    """One Norwegian line: notebook, cell number and first source line, error."""
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
            cell_no,
        )
    return f"notatboken {name} feilet: {type(exc).__name__}: {exc}", None


def run_notebook(
    name: str,
    parameters: dict | None = None,
    *,
    output_path: Path | None = None,
    root: Path | None = None,
    key: str | None = None,
    timeout: float | None = None,
) -> StepResult:
    """Execute notebooks/<name>.ipynb in-process with papermill; return what it wrote.

    Parameters are resolved and validated (``resolve_parameters``). The notebook writes into
    staging folders (its `output_dir`, and for the data-preparation step its `data_dir`);
    only when every cell has run are they moved into place, with the executed notebook at
    `output_path` (default <output_dir>/notebooks/<name>.ipynb). On failure the executed
    notebook with the traceback is kept at <output_dir>/failed/<name>.ipynb, nothing else is
    moved, and :class:`PipelineError` is raised (its ``result`` is the failed StepResult).
    """
    root = _root(root)
    spec = load_pipeline(root=root)
    logical = resolve_parameters(name, parameters, root=root, spec=spec)
    key = key or step_key(name, logical, root=root, spec=spec)
    out_dir = _abs(logical["output_dir"], root)
    data_dir = _abs(logical["data_dir"], root)
    final_nb = Path(output_path) if output_path else out_dir / "notebooks" / f"{name}.ipynb"
    final_nb = final_nb if final_nb.is_absolute() else root / final_nb
    failed_nb = out_dir / "failed" / f"{name}.ipynb"
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
    seeds = _seed_logs(out_dir, stage_out)
    if stage_data is not None:
        stage_data.mkdir(parents=True, exist_ok=True)
    try:
        import papermill as pm  # deferred: ~0.4 s, only paid when something runs

        try:
            _execute_with_retry(pm, root, name, stage_nb, actual, timeout)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one message
            kept = None
            if stage_nb.is_file():
                failed_nb.parent.mkdir(parents=True, exist_ok=True)
                os.replace(stage_nb, failed_nb)
                kept = failed_nb
            msg, cell = _describe_failure(name, exc, kept)
            msg = msg[0].upper() + msg[1:]
            if kept is not None:
                msg += f"\nDen kjørte notatboken med feilen er lagret i {_rel(kept, root)}"
            result = StepResult(
                name, key, "failed", time.perf_counter() - t0, [], msg,
                started=started, finished=_now(),
                notebook_path=str(kept) if kept else None, cell=cell,
            )
            raise PipelineError(msg, notebook=name, cell=cell, failed_path=kept, result=result) from exc

        _rewrite_injected(stage_nb, logical, f"notebooks/{name}.ipynb", _rel(final_nb, root))
        owned: list[Path] = []
        if stage_data is not None:
            _replace_dir(stage_data, data_dir)
            owned.extend(_walk_files(data_dir))
        owned.extend(_promote(stage_out, out_dir, seeds))
        final_nb.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage_nb, final_nb)
        owned.append(final_nb)
        failed_nb.unlink(missing_ok=True)
        hashes = {_rel(p, root): file_sha256(p) for p in owned}
        return StepResult(
            name, key, "ok", time.perf_counter() - t0, sorted(hashes), None,
            output_hashes=hashes, started=started, finished=_now(), notebook_path=str(final_nb),
        )
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if stage_data is not None:
            shutil.rmtree(stage_data, ignore_errors=True)
        with contextlib.suppress(OSError):
            (out_dir / STAGING_DIR).rmdir()  # only if empty (other steps may be staging)


