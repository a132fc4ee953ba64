"""The pipeline runner: notebooks in order, cached on content, chapters in parallel.

One step = one notebook executed in-process with papermill (the kernel is the only child
process). Each step is keyed on a content hash of what decides its result (see
``step_key`` and docs/pipeline.md); an unchanged step whose recorded outputs are still on
disk with the same hashes is skipped. Everything a step writes goes to a staging folder
first and is moved into place only when the notebook has run to the end, so a failure or
an interruption never leaves half-written files that a later build would trust.

Heavy imports (papermill, nbclient, psutil, pandas) are deferred to the moment they are
needed, so a no-op rebuild stays well under a second.
"""
from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import shutil
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

from pydantic import ValidationError

from tillit.config import (
    ROOT_ENV,
    SHARED_KEYS,
    ConfigError,
    PipelineSpec,
    RunParams,
    load_pipeline,
    load_run_params,
    repo_root,
)

# Bump when the key recipe changes, so old manifests never match by accident.
KEY_VERSION = 1
KERNEL_NAME = "python3"
MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".build.lock"
STAGING_DIR = ".staging"
# Files several chapters append to (by table id); merged, never replaced wholesale, and not
# recorded as any one step's output.
MERGED_LOGS = ("disclosure_log.csv",)
# Params files that describe how to run, not what to compute: their effect on a step is
# already in the resolved parameters (pipeline.yml, default.yml) or they are batch specs.
_RUN_SPEC_PREFIXES = ("batch",)

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


# --------------------------------------------------------------------------------------
# Hashing
# --------------------------------------------------------------------------------------
_hash_memo: dict[tuple[str, int, int, int], str] = {}
_hash_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, memoised per (path, size, mtime, inode) within the process."""
    path = Path(path)
    st = path.stat()
    memo_key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    with _hash_lock:
        hit = _hash_memo.get(memo_key)
    if hit:
        return hit
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    with _hash_lock:
        _hash_memo[memo_key] = digest
    return digest


def _is_hidden(rel: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in rel.parts)


def _walk_files(base: Path) -> Iterable[Path]:
    """Regular files under base (sorted), skipping hidden files/folders (staging, locks)."""
    if base.is_file():
        yield base
        return
    if not base.is_dir():
        return
    for path in sorted(base.rglob("*")):
        if path.is_file() and not _is_hidden(path.relative_to(base)):
            yield path


def _rel(path: Path, root: Path) -> str:
    path = Path(path)
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def tree_hashes(base: Path, root: Path) -> dict[str, str]:
    """{path relative to root: sha256} for every file under base."""
    return {_rel(p, root): file_sha256(p) for p in _walk_files(base)}


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


@lru_cache(maxsize=1)
def environment_hash() -> str:
    """Hash of the interpreter version and every installed distribution with its version.

    Computed once per process (about 60 ms): the locked environment does not change under
    a running build.
    """
    from importlib import metadata

    dists = sorted(
        {((d.metadata["Name"] or "").lower(), d.version) for d in metadata.distributions()}
    )
    return _digest({"python": sys.version, "dists": dists})


# The package that actually runs; a module attribute so tests can point it elsewhere.
PACKAGE_DIR = Path(__file__).resolve().parents[2]
# Parts that orchestrate runs or render the book but never compute a result inside a
# notebook: editing them (or the book's templates) must not invalidate every step.
RUNNER_PARTS = ("build/", "book/render", "book/templates/")


def package_hash(pkg: Path | None = None) -> str:
    """Hash of the tillit package that notebooks import: its *.py files (the rendering
    templates only shape the book, which is re-rendered after every build)."""
    pkg = Path(pkg or PACKAGE_DIR)
    files = [
        p for p in _walk_files(pkg)
        if p.suffix == ".py" and not p.relative_to(pkg).as_posix().startswith(RUNNER_PARTS)
    ]
    return _digest({p.relative_to(pkg).as_posix(): file_sha256(p) for p in files})


# --------------------------------------------------------------------------------------
# Notebooks: cells and the parameters cell, read as plain JSON (no nbformat/jsonschema)
# --------------------------------------------------------------------------------------
def _read_ipynb(path: Path) -> dict:
    try:
        with Path(path).open(encoding="utf-8") as fh:
            nb = json.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: notatboken finnes ikke") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: er ikke en gyldig notatbok (JSON): {exc}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ConfigError(f"{path}: mangler 'cells'; forventet en Jupyter-notatbok (nbformat 4)")
    return nb


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []) or [])


def cells_digest(nb: dict) -> str:
    """Hash of every cell's type, source and tags; outputs and other metadata are ignored.

    Markdown cells are included on purpose: the executed notebook is what the book shows,
    so a prose edit must reach it, and re-running the chapter is the simplest honest way.
    """
    return _digest([[c.get("cell_type"), _source(c), sorted(_tags(c))] for c in nb["cells"]])


def notebook_parameters(path: Path) -> dict[str, Any]:
    """Names declared in the cell tagged `parameters`, with their literal defaults.

    A default that is not a literal (e.g. a call) is reported as ``...`` (Ellipsis).
    """
    nb = _read_ipynb(path)
    cells = [c for c in nb["cells"] if "parameters" in _tags(c)]
    if not cells:
        raise ConfigError(f"{path}: ingen celle er merket «parameters» (se docs/architecture.md)")
    src = _source(cells[0])
    try:
        tree = ast.parse(src)
    except SyntaxError as exc:
        raise ConfigError(f"{path}: parametercellen er ikke gyldig Python (linje {exc.lineno}): {exc.msg}") from None
    out: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    out[target.id] = ast.literal_eval(value)
                except ValueError:
                    out[target.id] = ...
    return out


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------
def _root(root: Path | None) -> Path:
    return Path(root).resolve() if root else repo_root()


def _params_file(spec: PipelineSpec, root: Path) -> Path:
    path = Path(spec.parameters)
    return path if path.is_absolute() else root / path


def resolve_parameters(
    name: str,
    parameters: dict | None = None,
    *,
    root: Path | None = None,
    spec: PipelineSpec | None = None,
) -> dict[str, Any]:
    """Shared params (default.yml) + pipeline.yml overrides + `parameters`, validated.

    Every key must be declared in the notebook's parameters cell; shared keys are
    validated by tillit.config.RunParams; a notebook-specific key whose default is a plain
    literal must keep that literal's type.
    """
    root = _root(root)
    spec = spec or load_pipeline(root=root)
    spec.spec(name)  # unknown notebook → ConfigError
    params_path = _params_file(spec, root)
    resolved: dict[str, Any] = load_run_params(params_path).model_dump()
    source = {k: params_path.name for k in resolved}
    for key, value in (spec.overrides.get(name) or {}).items():
        resolved[key] = value
        source[key] = f"pipeline.yml overrides.{name}"
    for key, value in (parameters or {}).items():
        resolved[key] = value
        source[key] = "parametre gitt ved kjøring"

    nb_path = root / "notebooks" / f"{name}.ipynb"
    declared = notebook_parameters(nb_path)
    unknown = [k for k in resolved if k not in declared]
    if unknown:
        details = ", ".join(f"'{k}' (fra {source[k]})" for k in unknown)
        raise ConfigError(
            f"{nb_path}: ukjent parameter {details}; notatbokens parametercelle har "
            f"{', '.join(sorted(declared)) or 'ingen'}"
        )
    try:
        RunParams(**{k: resolved[k] for k in SHARED_KEYS if k in resolved})
    except ValidationError as exc:
        lines = [f"{nb_path}: ugyldige parametere"]
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            lines.append(f"  - '{key}' (fra {source.get(key, '?')}): {err['msg']} (fikk {err.get('input')!r})")
        raise ConfigError("\n".join(lines)) from None
    for key, value in resolved.items():
        if key in SHARED_KEYS:
            continue
        default = declared[key]
        if default is None or default is ... or value is None:
            continue
        expected = type(default)
        ok = isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise ConfigError(
                f"{nb_path}: parameteren '{key}' (fra {source[key]}) har verdien {value!r}; "
                f"forventet {expected.__name__} som standardverdien {default!r}"
            )
    return resolved


def _abs(value: str, root: Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path


# --------------------------------------------------------------------------------------
# Atomic moves
# --------------------------------------------------------------------------------------
def _replace_dir(new: Path, target: Path) -> None:
    """Put directory `new` at `target`: rename the old one aside, rename in, delete the old."""
    target.parent.mkdir(parents=True, exist_ok=True)
    trash = None
    if target.exists():
        trash = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(target, trash)
    os.replace(new, target)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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


# --------------------------------------------------------------------------------------
# Running one notebook
# --------------------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def is_prepare_step(name: str, spec: PipelineSpec) -> bool:
    """The data-preparation step is the first notebook in pipeline.yml (00_klargjoring)."""
    return bool(spec.notebooks) and spec.notebooks[0].name == name


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


# --------------------------------------------------------------------------------------
# Cache keys and the manifest
# --------------------------------------------------------------------------------------
def input_hashes(name: str, resolved: dict[str, Any], *, root: Path, spec: PipelineSpec) -> dict[str, str]:
    """The files a step reads: raw data for the data-preparation step, processed data for
    chapters, the shared logs for appendices, and for all the params/*.yml files that are
    not run specifications."""
    if is_prepare_step(name, spec):
        hashes = tree_hashes(_abs(resolved["raw_dir"], root), root)
    else:
        hashes = tree_hashes(_abs(resolved["data_dir"], root), root)
    if spec.spec(name).appendix:
        # Appendices summarise the other chapters' shared logs (e.g. disclosure_log.csv).
        for log in MERGED_LOGS:
            path = _abs(resolved["output_dir"], root) / log
            if path.is_file():
                hashes[_rel(path, root)] = file_sha256(path)
    skip = {(root / "params" / "pipeline.yml").resolve(), _params_file(spec, root).resolve()}
    for path in sorted((root / "params").glob("*.yml")):
        if path.resolve() in skip or path.name.startswith(_RUN_SPEC_PREFIXES):
            continue
        hashes[_rel(path, root)] = file_sha256(path)
    return hashes


_PART_LABELS = {
    "cells": "notatbokceller",
    "parameters": "parametere",
    "inputs": "inndata",
    "package": "pakkekode",
    "environment": "miljø",
}


def key_parts(
    name: str,
    resolved: dict[str, Any],
    *,
    root: Path | None = None,
    spec: PipelineSpec | None = None,
) -> dict[str, str]:
    """The digests a step's key is made of (recorded in the manifest, so a re-run can say why)."""
    root = _root(root)
    spec = spec or load_pipeline(root=root)
    nb = _read_ipynb(root / "notebooks" / f"{name}.ipynb")
    return {
        "version": str(KEY_VERSION),
        "notebook": name,
        "kernel": KERNEL_NAME,
        "cells": cells_digest(nb),
        "parameters": _digest(resolved),
        "inputs": _digest(input_hashes(name, resolved, root=root, spec=spec)),
        "package": package_hash(),
        "environment": environment_hash(),
    }


def step_key(
    name: str,
    resolved: dict[str, Any],
    *,
    root: Path | None = None,
    spec: PipelineSpec | None = None,
) -> str:
    """Content hash of what decides a step's result (docs/pipeline.md)."""
    return _digest(key_parts(name, resolved, root=root, spec=spec))


def _changed(parts: dict[str, str], previous: dict | None) -> list[str]:
    """Norwegian labels of the key parts that differ from the previous run."""
    if not previous or "key_parts" not in previous:
        return ["ingen tidligere kjøring"]
    old = previous["key_parts"]
    labels = [label for part, label in _PART_LABELS.items() if old.get(part) != parts.get(part)]
    return labels or ["utdata endret eller mangler"]


def manifest_path(root: Path | None = None) -> Path:
    root = _root(root)
    spec = load_pipeline(root=root)
    out = _abs(load_run_params(_params_file(spec, root)).output_dir, root)
    return out / MANIFEST_NAME


def read_manifest(root: Path | None = None) -> dict:
    """outputs/manifest.json, or an empty manifest if there is none (or it is unreadable)."""
    path = manifest_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("version") == KEY_VERSION:
            data.setdefault("steps", {})
            return data
    except (OSError, json.JSONDecodeError):
        pass
    return {"version": KEY_VERSION, "steps": {}}


def _write_manifest(path: Path, data: dict) -> None:
    _atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def _manifest_lock(path: Path):
    from filelock import FileLock

    return FileLock(str(path.parent / f".{MANIFEST_NAME}.lock"), timeout=30)


def _save_build_manifest(path: Path, data: dict) -> None:
    """Write the build's manifest, keeping a render record written meanwhile by record_render."""
    with _manifest_lock(path):
        try:
            on_disk = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(on_disk, dict) and "render" in on_disk:
                data["render"] = on_disk["render"]
        except (OSError, json.JSONDecodeError):
            pass
        _write_manifest(path, data)


def _entry(result: StepResult, previous: dict | None) -> dict:
    entry = {
        "key": result.key,
        "status": result.status,
        "seconds": round(result.seconds, 3),
        "started": result.started,
        "finished": result.finished,
        "outputs": result.output_hashes,
        "error": result.error,
        "key_parts": result.key_parts,
    }
    if result.reason:
        entry["reason"] = result.reason
    if result.status == "cached" and previous:
        entry["built_seconds"] = previous.get("built_seconds", previous.get("seconds"))
        entry["built_at"] = previous.get("built_at", previous.get("finished"))
    elif result.status == "ok":
        entry["built_seconds"] = entry["seconds"]
        entry["built_at"] = result.finished
    return entry


def _cached(name: str, key: str, previous: dict | None, root: Path) -> dict[str, str] | None:
    """The recorded outputs if the step is up to date (same key, outputs unchanged)."""
    if not previous or previous.get("key") != key or previous.get("status") not in ("ok", "cached"):
        return None
    outputs = previous.get("outputs") or {}
    if not outputs:
        return None
    for rel, digest in outputs.items():
        path = _abs(rel, root)
        try:
            if file_sha256(path) != digest:
                return None
        except OSError:
            return None
    return dict(outputs)


def record_render(renderer: str, seconds: float, *, root: Path | None = None, output: str | None = None) -> dict:
    """Record in the manifest which renderer built the book, how long it took, and from
    which build (the hash of all step keys)."""
    path = manifest_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _manifest_lock(path):
        data = read_manifest(root)
        data["render"] = {
            "renderer": renderer,
            "seconds": round(float(seconds), 3),
            "finished": _now(),
            "build": _digest({k: v.get("key") for k, v in sorted(data["steps"].items())}),
            "output": output,
        }
        _write_manifest(path, data)
    return data["render"]


def run_step(name: str, parameters: dict | None = None, *, root: Path | None = None) -> StepResult:
    """One notebook as `tillit run` runs it: under the build lock, keyed like a build step and,
    when it wrote to the standard outputs, recorded in the manifest, so the next build knows
    what is already up to date (a run with other parameters is recorded with its own key, and
    the next build re-runs the step with the pipeline's parameters)."""
    root = _root(root)
    spec = load_pipeline(root=root)
    out_dir = _abs(load_run_params(_params_file(spec, root)).output_dir, root)
    resolved = resolve_parameters(name, parameters, root=root, spec=spec)
    lock = _acquire_lock(out_dir, root)
    try:
        parts = key_parts(name, resolved, root=root, spec=spec)
        key = _digest(parts)
        path = manifest_path(root)
        previous = read_manifest(root)["steps"].get(name)
        try:
            result = run_notebook(name, parameters, root=root, key=key)
        except PipelineError as exc:
            if exc.result is not None and _abs(resolved["output_dir"], root) == out_dir:
                exc.result.key_parts = parts
                _record_step(path, root, exc.result, previous)
            raise
        result.key_parts, result.reason = parts, _changed(parts, previous)
        if _abs(resolved["output_dir"], root) == out_dir:
            _record_step(path, root, result, previous)
        return result
    finally:
        lock.release()


def _record_step(path: Path, root: Path, result: StepResult, previous: dict | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _manifest_lock(path):
        data = read_manifest(root)
        data["steps"][result.name] = _entry(result, previous)
        _write_manifest(path, data)


# --------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------
def _kill_kernels() -> None:
    """Kill the kernels this process started (ipykernel children), by pid."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with dask.distributed
        return
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any("ipykernel" in part for part in child.cmdline()):
                child.kill()


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
) -> list[StepResult]:
    """Run the pipeline: the data-preparation step, then the chapters in parallel.

    `only` limits the run to the named notebooks; `force` ignores the cache; `workers`
    (default pipeline.yml `workers`, 0 = os.cpu_count()) is how many chapters run at once.
    Prints one line per step. Returns the StepResults in pipeline order. Raises
    :class:`BuildLockedError` if another build holds the lock, :class:`PipelineError` if a
    notebook fails (after the chapters already running have finished; none is started
    after the failure), and re-raises KeyboardInterrupt after cleaning up.
    """
    root = _root(root)
    spec = load_pipeline(root=root)
    shared = load_run_params(_params_file(spec, root))
    out_dir = _abs(shared.output_dir, root)
    names = spec.names()
    selected = list(names) if only is None else list(only)
    for name in selected:
        spec.spec(name)  # unknown name → ConfigError listing the known ones
    n_workers = workers if workers is not None else spec.workers
    n_workers = n_workers or os.cpu_count() or 1

    lock = _acquire_lock(out_dir, root)
    try:
        with _sigterm_as_interrupt(), _root_env(root):
            _clean_stale_staging(out_dir, _abs(shared.data_dir, root))
            return _build_locked(spec, root, out_dir, selected, force, n_workers, progress)
    finally:
        lock.release()


def _build_locked(spec, root, out_dir, selected, force, n_workers, progress) -> list[StepResult]:
    mpath = out_dir / MANIFEST_NAME
    manifest = read_manifest(root)
    manifest["build"] = {"started": _now(), "finished": None, "status": "running", "workers": n_workers,
                         "environment": environment_hash()}
    results: dict[str, StepResult] = {}
    prep = spec.notebooks[0].name if spec.notebooks else None
    # Check every selected step's parameters before anything runs: a typo in an override
    # should not surface after the data step has taken minutes.
    for name in selected:
        resolve_parameters(name, None, root=root, spec=spec)

    def step(name: str) -> StepResult:
        t0 = time.perf_counter()
        started = _now()
        resolved = resolve_parameters(name, None, root=root, spec=spec)
        parts = key_parts(name, resolved, root=root, spec=spec)
        key = _digest(parts)
        previous = manifest["steps"].get(name)
        if not force:
            outputs = _cached(name, key, previous, root)
            if outputs is not None:
                return StepResult(name, key, "cached", time.perf_counter() - t0, sorted(outputs), None,
                                  output_hashes=outputs, started=started, finished=_now(), key_parts=parts)
        reason = ["tvunget (--force)"] if force else _changed(parts, previous)
        try:
            result = run_notebook(name, None, root=root, key=key)
        except PipelineError as exc:
            if exc.result is None:
                raise
            exc.result.key_parts, exc.result.reason = parts, reason
            return exc.result
        result.key_parts, result.reason = parts, reason
        # Files the step wrote last time but not now are stale: remove them.
        if previous:
            for rel in set(previous.get("outputs") or {}) - set(result.output_hashes):
                path = _abs(rel, root)
                if path.is_file() and root in path.resolve().parents:
                    path.unlink()
        return result

    def record(result: StepResult) -> None:
        results[result.name] = result
        manifest["steps"][result.name] = _entry(result, manifest["steps"].get(result.name))
        _save_build_manifest(mpath, manifest)
        progress(_line(result))

    def finish(status: str) -> None:
        manifest["build"].update(finished=_now(), status=status)
        _save_build_manifest(mpath, manifest)

    pool = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="tillit-step")
    running: set[Future] = set()
    failure: StepResult | None = None
    try:
        try:
            if prep in selected:
                fut = pool.submit(step, prep)
                running.add(fut)
                wait([fut])
                running.discard(fut)
                record(fut.result())
                if fut.result().status == "failed":
                    failure = fut.result()
            # Chapters in parallel; appendices (pipeline.yml `appendix: true`) after them,
            # since they summarise what the chapters logged.
            chapters = [n for n in spec.names() if n in selected and n != prep]
            phases = [[n for n in chapters if not spec.spec(n).appendix],
                      [n for n in chapters if spec.spec(n).appendix]]
            for phase in phases:
                if failure is not None or not phase:
                    continue
                running = {pool.submit(step, n) for n in phase}
                while running:
                    # Wake up regularly: the OS may deliver Ctrl-C to a worker thread, and
                    # Python only acts on it when the main thread runs again.
                    done, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                    for fut in done:
                        if fut.cancelled():
                            continue
                        res = fut.result()
                        record(res)
                        if res.status == "failed" and failure is None:
                            failure = res
                            # Stop: start nothing new; let the running ones finish.
                            for other in running:
                                other.cancel()
        except KeyboardInterrupt:
            for fut in running:
                fut.cancel()
            _kill_kernels()
            pool.shutdown(wait=True, cancel_futures=True)
            # Steps that finished cleanly while we stopped are real; record them. An
            # interrupted step keeps its previous entry, whose outputs were not replaced.
            for fut in running:
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    res = fut.result()
                    if res.status != "failed":
                        record(res)
            finish("interrupted")
            progress("Byggingen ble avbrutt; ufullstendige filer er fjernet.")
            raise
        except BaseException:
            # Not a notebook failure (e.g. a file vanished while hashing): start nothing
            # new, record the build as failed, let the running steps end, re-raise.
            for fut in running:
                fut.cancel()
            finish("failed")
            raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

    ordered = [results[n] for n in spec.names() if n in results]
    if failure is not None:
        finish("failed")
        skipped = [n for n in selected if n not in results]
        msg = failure.error or f"notatboken {failure.name} feilet"
        if skipped:
            msg += f"\nIkke kjørt på grunn av feilen: {', '.join(skipped)}"
        raise PipelineError(
            msg,
            notebook=failure.name,
            cell=failure.cell,
            failed_path=Path(failure.notebook_path) if failure.notebook_path else None,
            result=failure,
            results=ordered,
        )
    finish("ok")
    return ordered


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
