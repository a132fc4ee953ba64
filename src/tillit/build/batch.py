"""Batch runs: chosen notebooks over a grid or a list of parameter sets, on dask.distributed.

The spec is a YAML file (see params/batch_example.yml and docs/pipeline.md):

    notebooks: [04_4_styring]          # one or more notebooks from params/pipeline.yml
    parameters: {min_cell: 5}          # fixed for every run (optional)
    grid: {min_cell: [5, 10]}          # cartesian product (optional)
    runs:                              # explicit parameter sets (optional; crossed with grid)
      - {id: probit, link: probit}
    workers: 2                         # default for --workers (optional)
    timeout: 600                       # seconds per cell (optional)
    html: false                        # also write each executed notebook as HTML

Each run executes in its own folder out_dir/<run-id>/ (`output_dir` points there, so the
main outputs/ tree is never touched) through tillit.build.pipeline.run_notebook. Runs go to a
dask LocalCluster (processes, one thread each) or to an existing scheduler. One failing
run does not stop the others; out_dir/summary.csv and out_dir/index.html list them all. A
failed run's notebook is kept outside outputs/ (.tillit/failed/batch/<out>/<run-id>/), and
the summary names notebook, cell and error class only: the full message, which may quote
data, goes to the terminal.
"""
from __future__ import annotations

import contextlib
import html
import itertools
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tillit.book.destination import check_output_dir, prepare_output_dir
from tillit.build.pipeline.execute import FAILED_DIR
from tillit.build.pipeline.orchestrate import check_workers
from tillit.config import ConfigError, explain_validation, load_pipeline, load_run_params, read_yaml, repo_root

SUMMARY_COLUMNS = ["run_id", "notebook", "parameters", "status", "seconds", "notebook_path", "error"]


class BatchSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    notebooks: list[str] = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    runs: list[dict[str, Any]] = Field(default_factory=list)
    workers: int | None = Field(None, ge=1, le=256)
    timeout: float | None = Field(None, gt=0)
    html: bool = False

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not values:
                raise ValueError(f"grid.{key} er en tom liste; gi minst én verdi")
        return grid


def load_spec(path: Path) -> BatchSpec:
    """Read and validate a batch spec; errors name the file and the key."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: forventet en tabell av nøkkel: verdi")
    try:
        return BatchSpec(**data)
    except ValidationError as exc:
        raise ConfigError(explain_validation(path, exc, "ugyldig batch-spesifikasjon",
                                             list(BatchSpec.model_fields))) from None


def _slug(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return re.sub(r"[^0-9A-Za-z_.-]+", "-", text).strip("-") or "x"


def expand_runs(spec: BatchSpec) -> list[dict[str, Any]]:
    """One dict per run: run_id, notebook, parameters (fixed + run + grid point)."""
    keys = list(spec.grid)
    points = [dict(zip(keys, combo)) for combo in itertools.product(*(spec.grid[k] for k in keys))] or [{}]
    explicit = spec.runs or [{}]
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for notebook in spec.notebooks:
        for run in explicit:
            run = dict(run)
            label = run.pop("id", None)
            for point in points:
                params = {**spec.parameters, **run, **point}
                varying = {**run, **point}
                parts = [_slug(label)] if label is not None else []
                parts += [f"{k}-{_slug(v)}" for k, v in varying.items() if label is None or k in point]
                run_id = "__".join([notebook, *parts]) if parts else notebook
                if run_id in seen:
                    seen[run_id] += 1
                    run_id = f"{run_id}__{seen[run_id]}"
                else:
                    seen[run_id] = 0
                out.append({"run_id": run_id, "notebook": notebook, "parameters": params})
    return out


def _run_one(root: str, notebook: str, parameters: dict, run_dir: str, timeout: float | None, to_html: bool,
             failed_path: str | None = None) -> dict:
    """Executed on a dask worker: one notebook run into its own folder. Never raises.

    Returns the status, and two errors: ``error`` for the summary files under outputs/
    (notebook, cell and error class only) and ``detail`` for the terminal (the full message)."""
    from tillit.build import pipeline

    run_path = Path(run_dir)
    run_path.mkdir(parents=True, exist_ok=True)
    params = dict(parameters, output_dir=str(run_path))
    t0 = time.perf_counter()
    try:
        spec = load_pipeline(root=Path(root))
        if pipeline.is_prepare_step(notebook, spec) and "data_dir" not in parameters:
            # The data step writes data_dir: keep a batch's prepared data in its own folder.
            params["data_dir"] = str(run_path / "processed")
        result = pipeline.run_notebook(
            notebook, params, output_path=run_path / f"{notebook}.ipynb", root=Path(root), timeout=timeout,
            failed_path=Path(failed_path) if failed_path else None,
        )
        nb_path = Path(result.notebook_path)
        if to_html:
            _to_html(nb_path)
        return {"status": "ok", "seconds": time.perf_counter() - t0, "notebook_path": str(nb_path),
                "error": None, "detail": None}
    except pipeline.PipelineError as exc:
        path = exc.failed_path
        public = exc.result.public_error if exc.result is not None else None
        return {"status": "failed", "seconds": time.perf_counter() - t0,
                "notebook_path": str(path) if path else None,
                "error": public or f"Notatboken {notebook} feilet", "detail": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a bad run is reported, never stops the batch
        return {"status": "failed", "seconds": time.perf_counter() - t0, "notebook_path": None,
                "error": f"Kjøringen feilet ({type(exc).__name__})", "detail": f"{type(exc).__name__}: {exc}"}


def _to_html(nb_path: Path) -> None:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(nb_path))
    nb_path.with_suffix(".html").write_text(body, encoding="utf-8")


def _validate_runs(runs: list[dict], root: Path, spec_path: Path) -> None:
    """Check every run's parameters before anything starts, so a typo fails fast."""
    from tillit.build import pipeline

    pspec = load_pipeline(root=root)
    for run in runs:
        params = dict(run["parameters"], output_dir="batch")
        try:
            pipeline.resolve_parameters(run["notebook"], params, root=root, spec=pspec)
        except ConfigError as exc:
            raise ConfigError(f"{spec_path}: kjøringen '{run['run_id']}': {exc}") from None


def _write_index(out_dir: Path, summary: pd.DataFrame, spec_path: Path) -> None:
    n_ok = int((summary["status"] == "ok").sum())
    n_failed = int((summary["status"] == "failed").sum())
    rows = []
    for rec in summary.to_dict("records"):
        nb_rel = rec["notebook_path"] if isinstance(rec["notebook_path"], str) else ""
        link_target = nb_rel
        html_version = out_dir / Path(nb_rel).with_suffix(".html") if nb_rel else None
        if html_version is not None and html_version.is_file():
            link_target = Path(nb_rel).with_suffix(".html").as_posix()
        link = f'<a href="{html.escape(link_target)}">{html.escape(rec["run_id"])}</a>' if nb_rel else html.escape(rec["run_id"])
        status = {"ok": "ok", "failed": "feilet"}.get(rec["status"], rec["status"])
        error = ""
        if rec["error"]:
            error = f'<pre>{html.escape(str(rec["error"]))}</pre>'
            if nb_rel:
                error += f'<p>Kjørt notatbok: <a href="{html.escape(nb_rel)}">{html.escape(nb_rel)}</a></p>'
        rows.append(
            f'<tr class="{html.escape(rec["status"])}"><td>{link}</td><td>{html.escape(rec["notebook"])}</td>'
            f'<td><code>{html.escape(rec["parameters"])}</code></td><td>{status}</td>'
            f'<td>{rec["seconds"]:.1f}</td><td>{error}</td></tr>'
        )
    page = f"""<!DOCTYPE html>
<html lang="nb"><head><meta charset="utf-8"><title>Batchkjøring</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em;vertical-align:top;text-align:left}}
tr.failed{{background:#fdecea}}pre{{white-space:pre-wrap;margin:0}}</style></head>
<body><h1>Batchkjøring</h1>
<p>Spesifikasjon: <code>{html.escape(str(spec_path))}</code>. {len(summary)} kjøringer: {n_ok} ok, {n_failed} feilet.
Oppsummering som tabell: <a href="summary.csv">summary.csv</a>.</p>
<table><thead><tr><th>Kjøring</th><th>Notatbok</th><th>Parametere</th><th>Status</th><th>Sekunder</th><th>Feil</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
    tmp = out_dir / ".index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out_dir / "index.html")


def _write_outputs(out_dir: Path, records: list[dict], spec_path: Path) -> pd.DataFrame:
    summary = pd.DataFrame(records, columns=SUMMARY_COLUMNS)
    summary["seconds"] = summary["seconds"].astype(float).round(2)
    tmp = out_dir / ".summary.csv.tmp"
    summary.to_csv(tmp, index=False)
    os.replace(tmp, out_dir / "summary.csv")
    _write_index(out_dir, summary, spec_path)
    return summary


def run_batch(
    spec_path: Path,
    out_dir: Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run a batch spec on dask.distributed; return the summary (one row per run).

    `scheduler`: address of an existing dask scheduler (e.g. "tcp://10.0.0.5:8786"); its
    workers must have tillit installed and see the compendium at the same path. Without
    it a LocalCluster with `workers` processes (spec `workers`, else os.cpu_count()), one
    thread each, is started and closed. Writes out_dir/summary.csv and out_dir/index.html.
    """
    spec_path = Path(spec_path).resolve()
    spec = load_spec(spec_path)
    root = repo_root()
    out_dir = check_out_dir(out_dir, root)
    if workers is not None:
        check_workers(workers, "--workers")
    runs = expand_runs(spec)
    _validate_runs(runs, root, spec_path)
    out_dir = prepare_output_dir(out_dir, root, label="--out")
    n_workers = workers or spec.workers or os.cpu_count() or 1
    records = {r["run_id"]: _pending(r) for r in runs}
    bar = _progress_bar(len(runs)) if progress else None
    try:
        with _dask_client(scheduler, n_workers) as client:
            _run_all(client, runs, spec, root, out_dir, records, bar)
    except KeyboardInterrupt:
        for rec in records.values():
            if rec["status"] == "pending":
                rec["status"] = "interrupted"
                rec["error"] = "Avbrutt før kjøringen var ferdig"
        _write_outputs(out_dir, list(records.values()), spec_path)
        raise
    finally:
        if bar is not None:
            bar.close()
    return _write_outputs(out_dir, list(records.values()), spec_path)


def check_out_dir(out_dir: Path | str, root: Path) -> Path:
    """`--out`: checked like output_dir (tillit.book.destination), and not the main output
    folder itself or a folder above it (a folder inside it, e.g. outputs/batch/<name>, is fine)."""
    params = load_run_params()
    target = check_output_dir(out_dir, root, label="--out", raw_dir=params.raw_dir, data_dir=params.data_dir)
    main_out = params.path("output_dir", root).resolve()
    if main_out.is_relative_to(target):
        raise ConfigError(f"--out = {str(out_dir)!r} ({target}): batchmappen kan ikke være hovedbyggingens "
                          f"{main_out} eller en mappe over den; velg en egen mappe, f.eks. outputs/batch/<navn>")
    return target


def _pending(run: dict) -> dict:
    return {"run_id": run["run_id"], "notebook": run["notebook"],
            "parameters": json.dumps(run["parameters"], ensure_ascii=False, sort_keys=True),
            "status": "pending", "seconds": 0.0, "notebook_path": None, "error": None}


def _say(text: str) -> None:
    import sys

    from tqdm.auto import tqdm

    tqdm.write(text, file=sys.stderr)


def _progress_bar(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Batch", unit="kjøring")


@contextlib.contextmanager
def _dask_client(scheduler: str | None, n_workers: int):
    """A client of an existing scheduler, or of a LocalCluster (processes, one thread each)
    that is closed afterwards."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def _run_all(client, runs: list[dict], spec: BatchSpec, root: Path, out_dir: Path, records: dict, bar) -> None:
    """Submit every run, then record each as it completes (a dead worker is a failed run)."""
    from dask.distributed import as_completed

    futures = {}
    failed_dir = root / FAILED_DIR / "batch" / out_dir.name
    for r in runs:
        fut = client.submit(
            _run_one, str(root), r["notebook"], r["parameters"], str(out_dir / r["run_id"]),
            spec.timeout, spec.html, str(failed_dir / r["run_id"] / f"{r['notebook']}.ipynb"),
            key=f"tillit-batch-{r['run_id']}-{time.time_ns()}", pure=False,
        )
        futures[fut] = r["run_id"]
    n_ok = n_failed = 0
    for fut in as_completed(futures):
        try:
            res = fut.result()
        except Exception as exc:  # noqa: BLE001 - e.g. a worker died (KilledWorker)
            res = {"status": "failed", "seconds": 0.0, "notebook_path": None,
                   "error": f"Kjøringen feilet ({type(exc).__name__})", "detail": f"{type(exc).__name__}: {exc}"}
        detail = res.pop("detail", None)
        if detail:
            _say(f"Kjøringen {futures[fut]} feilet:\n{detail}")  # the full message: terminal only
        if res["notebook_path"]:
            # Relative to out_dir (a failed notebook lies outside it, under .tillit/failed/).
            res["notebook_path"] = os.path.relpath(res["notebook_path"], out_dir).replace(os.sep, "/")
        records[futures[fut]].update(res)
        n_ok += res["status"] == "ok"
        n_failed += res["status"] == "failed"
        if bar is not None:
            bar.set_postfix_str(f"ferdig {n_ok}, feilet {n_failed}, gjenstår {len(runs) - n_ok - n_failed}",
                                refresh=False)
            bar.update(1)
