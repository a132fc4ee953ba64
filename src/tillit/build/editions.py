"""Editions: the book for one part of NAV, and every edition at once on dask.distributed.

    tillit build --edition nks      build_edition("nks")  → outputs/editions/nks/
    tillit editions                 run_editions()        → every edition + outputs/editions/index.html

An edition's build is the ordinary pipeline (tillit.build.pipeline.build) with two
parameters: `edition` (the chapters compute on that population, tillit.book.context) and
`output_dir` = outputs/editions/<key> (its own notebooks, tables, figures, manifest, lock and
book; the cache keys hold the edition because they hold every parameter). The data are
prepared once, by the main build's data step, and the edition's book shows that same step
(copied, not re-run: every edition starts from the same prepared data).

The default edition (the whole of NAV) is the main book in outputs/.

Before anything runs, tillit.stats.editions.decide_editions applies the disclosure rule to
every edition in params/editions.yml; an edition that may not be published gets a one-page
book saying so (never its population, which may be small), and its old tables are removed.
"""
from __future__ import annotations

import html
import os
import queue
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from tillit.config import load_pipeline, load_run_params, repo_root
from tillit.stats.audit import AuditError
from tillit.stats.disclosure import DisclosureError
from tillit.stats.editions import EDITIONS_DIR

TOPIC = "tillit-editions"
SUMMARY_COLUMNS = ["edition", "title", "status", "seconds", "book", "steps_run", "steps_cached", "error"]
#: What a reader sees for each status (index page and summary).
STATUS_TEXT = {
    "publish": "Publisert",
    "too_small": "Ikke publisert: for få respondenter",
    "withheld": "Ikke publisert: ville avsløre en skjult gruppe",
    "failed": "Feilet",
    "pending": "Ikke ferdig",
    "interrupted": "Avbrutt",
}
#: Folders of a built edition that are removed when it is not (or no longer) published.
_BUILT = ("notebooks", "tables", "figures", "disclosure", "book", "failed", "disclosure_log.csv", "manifest.json",
          "disclosure_audit.json")

Renderer = Callable[[Path, Path, str], str]


@dataclass
class EditionResult:
    edition: str
    title: str
    status: str          # publish | too_small | withheld | failed | interrupted
    seconds: float = 0.0
    book: str | None = None          # index.html of the edition's book, relative to outputs/editions/
    steps_run: int = 0
    steps_cached: int = 0
    error: str | None = None


# --------------------------------------------------------------------------------------
# Paths and the plan
# --------------------------------------------------------------------------------------
def _run_params(root: Path):
    spec = load_pipeline(root=root)
    path = Path(spec.parameters)
    return load_run_params(path if path.is_absolute() else root / path)


def main_output_dir(root: Path) -> Path:
    return _run_params(root).path("output_dir", root).resolve()


def editions_dir(root: Path) -> Path:
    return main_output_dir(root) / EDITIONS_DIR


def edition_dir(root: Path, key: str) -> Path:
    """outputs/editions/<key>; the default edition is the main book, outputs/ itself."""
    from tillit.stats.editions import load_editions

    eds = load_editions(root=root)
    eds.get(key)
    return main_output_dir(root) if key == eds.default else editions_dir(root) / key


def edition_parameters(root: Path, key: str) -> dict:
    """The parameters an edition's build gives every notebook (none for the whole of NAV)."""
    from tillit.stats.editions import load_editions

    eds = load_editions(root=root)
    eds.get(key)
    if key == eds.default:
        return {}
    rel = os.path.relpath(edition_dir(root, key), root)
    return {"edition": key, "output_dir": Path(rel).as_posix()}


def _rule_inputs(root: Path):
    """(editions, codebook, respondents per cell, min_cell) for the disclosure rule."""
    from tillit.data.codebook import load_codebook
    from tillit.stats.editions import cell_counts, load_editions

    params = _run_params(root)
    survey = params.path("data_dir", root) / "survey_2023.parquet"
    if not survey.is_file():
        raise FileNotFoundError(f"{survey}: klargjorte data mangler; kjør `tillit build` først")
    codebook = load_codebook(root / "params" / "codebook.yml")
    cells = cell_counts(pd.read_parquet(survey, columns=["unit_type", "role"]), codebook)
    return load_editions(root=root), codebook, cells, params.effective_min_cell


def plan(root: Path | None = None) -> dict:
    """The disclosure decision for every edition before anything is built: populations only."""
    from tillit.stats.editions import decide_editions

    return decide_editions(*_rule_inputs(root or repo_root()))


def audit(root: Path, progress: Callable[[str], None] = print) -> dict:
    """The rule again over what the books on disk publish: the whole book and every built
    edition together, with the disclosure audit's model (tillit.stats.editions.audit_editions,
    on tillit.stats.audit). An edition not in the result (not built, or not published) keeps
    the plan's decision. Writes outputs/editions/disclosure_audit.csv (edition, status, how
    many findings; never a value). Which count a finding concerns goes to `progress` (the
    terminal) only."""
    from tillit.stats.editions import audit_editions

    eds, codebook, _cells, min_cell = _rule_inputs(root)
    built = {eds.default: main_output_dir(root)}
    for ed in eds.others():
        out = edition_dir(root, ed.key)
        if (out / "manifest.json").is_file() and (out / "disclosure").is_dir():
            built[ed.key] = out
    decisions = audit_editions(eds, codebook, min_cell, built)
    rows = []
    for key, dec in decisions.items():
        rows.append({"edition": key, "status": dec.status, "findings": len(dec.findings)})
        for f in dec.findings:
            progress(f"[{key}] {f.table_id}, rad «{f.row}», {f.quantity}: {f.reason}")
    out = editions_dir(root)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".disclosure_audit.csv.tmp"
    pd.DataFrame(rows, columns=["edition", "status", "findings"]).to_csv(tmp, index=False)
    os.replace(tmp, out / "disclosure_audit.csv")
    return decisions


def prepare_data(root: Path, progress: Callable[[str], None] = print, force: bool = False) -> None:
    """The main build's data step (cached when the raw data have not changed).

    It runs before any edition starts, and no edition runs it: the prepared data are
    replaced only while nothing reads them."""
    from tillit.build import pipeline

    spec = load_pipeline(root=root)
    pipeline.build(only=[spec.notebooks[0].name], root=root, progress=progress, force=force)


# --------------------------------------------------------------------------------------
# One edition
# --------------------------------------------------------------------------------------
def render_book(root: Path, out_dir: Path, renderer: str) -> str:
    """Render the book of the notebooks in out_dir/notebooks into out_dir/book; the renderer used.

    tillit.book.render renders any output folder (through a view of the compendium whose
    outputs/ is that folder), so the renderer needs no knowledge of editions."""
    from tillit.book import render as book

    return book.render(Path(root).resolve(), renderer=renderer, output_dir=Path(out_dir).resolve()).renderer


def _clear_built(out_dir: Path) -> None:
    for name in _BUILT:
        path = out_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _copy_prepare_step(root: Path, out_dir: Path, prep: str) -> None:
    """The data step's notebook, tables and figures, from the main build into the edition."""
    main = main_output_dir(root)
    nb = main / "notebooks" / f"{prep}.ipynb"
    if not nb.is_file():
        raise FileNotFoundError(f"{nb}: datasteget er ikke kjørt; kjør `tillit build` først")
    (out_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    shutil.copy2(nb, out_dir / "notebooks" / nb.name)
    for sub in ("tables", "figures", "disclosure"):  # disclosure/: the gate's register, for the audit
        src = main / sub / prep
        if src.is_dir():
            dst = out_dir / sub / prep
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst)


def withheld_page(title: str, status: str, min_cell: int, main_book: str) -> str:
    """The one page an unpublished edition's book holds (never its population)."""
    if status == "too_small":
        why = (f"Utgaven bygger på færre enn {min_cell} respondenter. For å verne de som har svart, "
               "publiseres ingen tall for en så liten gruppe.")
    else:
        why = ("Sammen med de andre utgavene og hovedboka ville tallene i denne utgaven gjort det mulig "
               "å regne seg fram til en gruppe med færre enn "
               f"{min_cell} respondenter ved å trekke tall fra hverandre. Derfor publiseres den ikke.")
    t = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="nb"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t} – utgaven publiseres ikke</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.5;color:#1a1a1a}}
a{{color:#0b5394}}</style></head>
<body><main>
<h1>{t}</h1>
<p><strong>Denne utgaven av kompendiet publiseres ikke.</strong></p>
<p>{html.escape(why)}</p>
<p>Regelen er beskrevet i metodevedlegget. Tallene for hele NAV står i
<a href="{html.escape(main_book)}">hovedboka</a>.</p>
</main></body></html>
"""


def _write_withheld(root: Path, out_dir: Path, title: str, status: str) -> Path:
    _clear_built(out_dir)
    book = out_dir / "book"
    book.mkdir(parents=True, exist_ok=True)
    main_book = os.path.relpath(main_output_dir(root) / "book" / "index.html", book)
    page = withheld_page(title, status, _run_params(root).effective_min_cell, Path(main_book).as_posix())
    tmp = book / ".index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, book / "index.html")
    return book / "index.html"


def build_edition(
    key: str,
    *,
    root: Path | None = None,
    force: bool = False,
    renderer: str = "auto",
    progress: Callable[[str], None] = print,
    decision=None,
    render: Renderer | None = None,
    workers: int | None = None,
    check: bool = True,
) -> EditionResult:
    """Build one edition: decide, run its chapters, render its book. Raises on failure.

    `decision` (from :func:`plan`) saves re-deciding when many editions are built at once;
    the data step must have run (:func:`prepare_data`). `check`: run :func:`audit` over the
    books on disk afterwards, and withdraw this edition if it now gives a hidden count away
    (:func:`run_editions` audits once, after every edition).
    """
    from tillit.build import pipeline
    from tillit.stats.editions import load_editions

    root = Path(root).resolve() if root else repo_root()
    t0 = time.perf_counter()
    ed = load_editions(root=root).get(key)
    decision = decision or plan(root)[key]
    out_dir = edition_dir(root, key)
    if not decision.published:
        index = _write_withheld(root, out_dir, ed.title, decision.status)
        progress(f"  {'ikke publisert':<28} {time.perf_counter() - t0:7.1f} s  {decision.status}")
        return EditionResult(key, ed.title, decision.status, time.perf_counter() - t0,
                             _book_rel(root, index))
    spec = load_pipeline(root=root)
    params = edition_parameters(root, key)
    if params:
        _copy_prepare_step(root, out_dir, spec.names()[0])
    # The chapters only: the data step is prepare_data's (other editions may be reading).
    try:
        results = pipeline.build(only=spec.names()[1:], force=force, workers=workers, progress=progress,
                                 root=root, parameters=params or None)
    except (DisclosureError, AuditError) as exc:  # the edition's own audit failed, or cannot be made
        if not params:
            raise
        progress(str(exc))
        index = _write_withheld(root, out_dir, ed.title, "withheld")
        return EditionResult(key, ed.title, "withheld", time.perf_counter() - t0, _book_rel(root, index))
    t_render = time.perf_counter()
    used = (render or render_book)(root, out_dir, renderer)
    from tillit.build.publish import make_readable

    make_readable(out_dir / "book")  # for readers, on a shared server too (0755/0644)
    progress(f"  {f'render ({used})':<28} {time.perf_counter() - t_render:7.1f} s  ok")
    if check and params:
        after = audit(root, progress).get(key)
        if after is not None and not after.published:
            index = _write_withheld(root, out_dir, ed.title, after.status)
            return EditionResult(key, ed.title, after.status, time.perf_counter() - t0, _book_rel(root, index))
    return EditionResult(key, ed.title, "publish", time.perf_counter() - t0,
                         _book_rel(root, out_dir / "book" / "index.html"),
                         steps_run=sum(r.status == "ok" for r in results),
                         steps_cached=sum(r.status == "cached" for r in results))


def _book_rel(root: Path, index: Path) -> str:
    return Path(os.path.relpath(index, editions_dir(root))).as_posix()


# --------------------------------------------------------------------------------------
# Every edition, on dask.distributed
# --------------------------------------------------------------------------------------
def _edition_task(root: str, key: str, force: bool, renderer: str, decision, render: Renderer | None) -> dict:
    """Runs on a dask worker: one edition, its step lines sent to the client. Never raises."""
    from distributed import get_worker

    try:
        worker = get_worker()
    except ValueError:  # not on a worker (a synchronous scheduler in tests)
        worker = None

    def progress(line: str) -> None:
        if worker is not None:
            worker.log_event(TOPIC, {"edition": key, "line": line})

    t0 = time.perf_counter()
    try:
        res = build_edition(key, root=Path(root), force=force, renderer=renderer, progress=progress,
                            decision=decision, render=render, workers=1, check=False)
        return asdict(res)
    except Exception as exc:  # noqa: BLE001 - a failing edition is reported, the others go on
        # One line, the first of the message: it names the notebook and cell, never a value.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return asdict(EditionResult(key, "", "failed", time.perf_counter() - t0,
                                    error=f"{type(exc).__name__}: {first}"))


def run_editions(
    names: list[str] | None = None,
    *,
    root: Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    renderer: str = "auto",
    progress: Callable[[str], None] = print,
    render: Renderer | None = None,
) -> pd.DataFrame:
    """Build every edition of params/editions.yml (or `names`) on dask.distributed.

    A LocalCluster with `workers` processes (default: number of cores), one thread each, or
    the existing cluster at `scheduler` (its workers must see the compendium at the same
    path). Each edition is one task; its steps are reported as they finish, prefixed by
    the edition. Writes outputs/editions/index.html and summary.csv; returns the summary.
    """
    from dask.distributed import Client, LocalCluster

    from tillit.stats.editions import load_editions

    root = Path(root).resolve() if root else repo_root()
    eds = load_editions(root=root)
    keys = list(eds.names()) if names is None else list(dict.fromkeys(names))
    for key in keys:
        eds.get(key)  # unknown → ConfigError naming the known editions
    prepare_data(root, progress, force=force)
    decisions = plan(root)
    records = {k: EditionResult(k, eds.get(k).title, "pending") for k in keys}
    cluster = None
    t0 = time.perf_counter()
    try:
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
        with client:
            tasks = [(k, (str(root), k, force, renderer, decisions[k], render)) for k in keys]
            _run_tasks(client, tasks, records, progress)
        _withdraw(root, eds, records, audit(root, progress), progress)
    except KeyboardInterrupt:
        for r in records.values():
            if r.status == "pending":
                r.status = "interrupted"
        write_index(root, list(records.values()), eds)
        raise
    finally:
        if cluster is not None:
            cluster.close()
    summary = write_index(root, list(records.values()), eds)
    progress(f"{len(keys)} utgaver på {time.perf_counter() - t0:.1f} s: "
             f"{int((summary['status'] == 'publish').sum())} publisert, "
             f"{int(summary['status'].isin(['too_small', 'withheld']).sum())} ikke publisert, "
             f"{int((summary['status'] == 'failed').sum())} feilet. Oversikt: {editions_dir(root) / 'index.html'}")
    return summary


def _withdraw(root: Path, eds, records: dict[str, EditionResult], decisions: dict,
              progress: Callable[[str], None]) -> None:
    """Editions built but, with all the books together, not publishable: their one page instead."""
    for key, rec in records.items():
        dec = decisions.get(key)
        if rec.status == "publish" and dec is not None and not dec.published:
            index = _write_withheld(root, edition_dir(root, key), eds.get(key).title, dec.status)
            rec.status, rec.book = dec.status, _book_rel(root, index)
            progress(f"[{key}] trukket tilbake: {dec.reason}")


def _run_tasks(client, tasks: list[tuple[str, tuple]], records: dict[str, EditionResult],
               progress: Callable[[str], None]) -> None:
    """Submit one task per edition; relay the steps' lines and each edition's end as they come."""
    messages: queue.Queue = queue.Queue()
    client.subscribe_topic(TOPIC, lambda event: messages.put(event[1]))
    width = max(len(k) for k, _ in tasks)

    def drain() -> None:
        while True:
            try:
                msg = messages.get_nowait()
            except queue.Empty:
                return
            progress(f"[{msg['edition']:<{width}}] {msg['line'].strip()}")

    futures = {client.submit(_edition_task, *args, key=f"tillit-edition-{k}-{time.time_ns()}", pure=False): k
               for k, args in tasks}
    pending = set(futures)
    while pending:
        done = {f for f in pending if f.done()}
        pending -= done
        drain()
        for fut in done:
            key = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. a worker died (KilledWorker)
                res = asdict(EditionResult(key, "", "failed", error=type(exc).__name__))
            r = records[key] = EditionResult(**dict(res, title=records[key].title))
            progress(f"[{key:<{width}}] {STATUS_TEXT[r.status].lower()} etter {r.seconds:.1f} s "
                     f"({len(tasks) - len(pending)}/{len(tasks)} utgaver ferdige)" + (f": {r.error}" if r.error else ""))
        if pending:
            time.sleep(0.2)
    time.sleep(0.3)  # the last step lines may still be on their way to the client
    drain()


# --------------------------------------------------------------------------------------
# The index page
# --------------------------------------------------------------------------------------
def write_index(root: Path, results: list[EditionResult], eds=None) -> pd.DataFrame:
    """outputs/editions/index.html (every edition, linked to its book) and summary.csv."""
    from tillit.data.codebook import load_codebook
    from tillit.stats.editions import load_editions

    eds = eds or load_editions(root=root)
    codebook = load_codebook(root / "params" / "codebook.yml")
    out = editions_dir(root)
    out.mkdir(parents=True, exist_ok=True)
    by_key = {r.edition: r for r in results}
    ordered = [by_key[k] for k in eds.names() if k in by_key]
    summary = pd.DataFrame([asdict(r) for r in ordered], columns=SUMMARY_COLUMNS)
    summary["seconds"] = summary["seconds"].astype(float).round(1)
    rows = []
    for r in ordered:
        ed = eds.get(r.edition)
        title = html.escape(ed.title)
        link = f'<a href="{html.escape(r.book)}">{title}</a>' if r.book else title
        status = html.escape(STATUS_TEXT.get(r.status, r.status))
        rows.append(f'<tr class="{html.escape(r.status)}"><th scope="row">{link}</th>'
                    f"<td>{html.escape(ed.describe(codebook))}</td><td>{status}</td>"
                    f'<td class="tall">{r.seconds:.1f}</td></tr>')
    n_pub = sum(r.status == "publish" for r in ordered)
    page = f"""<!DOCTYPE html>
<html lang="nb"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Utgaver av kompendiet</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#1a1a1a}}
table{{border-collapse:collapse;width:100%}}th,td{{border-bottom:1px solid #ccc;padding:.4em .6em;text-align:left;vertical-align:top}}
td.tall{{text-align:right;font-variant-numeric:tabular-nums}}tr.failed{{background:#fdecea}}a{{color:#0b5394}}
caption{{text-align:left;padding-bottom:.5em}}</style></head>
<body><main>
<h1>Utgaver av kompendiet</h1>
<p>Hver utgave er hele boka regnet ut for én del av NAV, med tallene for hele NAV ved siden av
der sammenligningen sier noe. {n_pub} av {len(ordered)} utgaver er publisert. En utgave publiseres
ikke hvis den bygger på for få respondenter, eller hvis den sammen med de andre ville gjort det
mulig å regne ut en skjult gruppe.</p>
<table><caption>Utgavene, med hvem de gjelder</caption>
<thead><tr><th scope="col">Utgave</th><th scope="col">Hvem</th><th scope="col">Status</th>
<th scope="col">Sekunder</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<p>Oversikt som tabell: <a href="summary.csv">summary.csv</a>.</p>
</main></body></html>
"""
    for name, text in (("index.html", page), ("summary.csv", summary.to_csv(index=False))):
        tmp = out / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out / name)
    return summary

