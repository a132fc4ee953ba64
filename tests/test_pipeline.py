"""tillit.build.pipeline on a tiny temporary compendium (independent of the real chapters).

The compendium has a data-preparation notebook (00_prep: raw → processed) and two chapters
(01_a, 02_b: processed → outputs). Kernel start dominates the run time, so each test
does as few notebook runs as it can.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tillit.build import pipeline
from tillit.config import ConfigError

SHARED = (
    'data_dir = "data/processed"\nraw_dir = "data/raw"\noutput_dir = "outputs"\n'
    'min_cell = 5\nstrict_disclosure = False\ntargets = "error"\nstrict_duplicates = False\n'
)

PREP_CODE = """
from pathlib import Path
raw = (Path(raw_dir) / "input.txt").read_text(encoding="utf-8")
# Only the first line counts: a change further down must give identical processed data.
value = int(raw.splitlines()[0])
Path(data_dir).mkdir(parents=True, exist_ok=True)
(Path(data_dir) / "values.txt").write_text(str(value * 2), encoding="utf-8")
(Path(output_dir) / "tables" / "00_prep").mkdir(parents=True, exist_ok=True)
(Path(output_dir) / "tables" / "00_prep" / "flow.csv").write_text("step,n\\nalle,1\\n", encoding="utf-8")
"""

CHAPTER_CODE = """
from pathlib import Path
value = int((Path(data_dir) / "values.txt").read_text(encoding="utf-8"))
out = Path(output_dir) / "tables" / NAME
out.mkdir(parents=True, exist_ok=True)
(out / "result.csv").write_text(f"x\\n{value * factor}\\n", encoding="utf-8")
fig = Path(output_dir) / "figures" / NAME
fig.mkdir(parents=True, exist_ok=True)
(fig / "plot.txt").write_text("figur", encoding="utf-8")
# Like tillit.stats.disclosure.Gate.write_log: replace this table's rows, keep the others.
import pandas as pd
log_path = Path(output_dir) / "disclosure_log.csv"
log = pd.read_csv(log_path, dtype=str) if log_path.is_file() else pd.DataFrame(columns=["table_id", "cell", "reason"])
log = log[log["table_id"] != f"{NAME}_t1"]
if factor < 100:
    log = pd.concat([log, pd.DataFrame([{"table_id": f"{NAME}_t1", "cell": "a", "reason": "n < min_cell"}])])
log.sort_values("table_id", kind="stable").to_csv(log_path, index=False)
"""


def write_notebook(path: Path, cells: list) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


def chapter_cells(name: str, extra: str = "", factor: int = 1, markdown: str = "# Kapittel") -> list:
    return [
        new_code_cell(SHARED + f"factor = {factor}\n", metadata={"tags": ["parameters"]}),
        new_markdown_cell(markdown),
        new_code_cell(f"NAME = {name!r}\n" + CHAPTER_CODE),
        new_code_cell(extra or "result = 1"),
    ]


def make_compendium(root: Path, chapters=("01_a", "02_b"), overrides=None, workers=2, appendix=()) -> Path:
    for sub in ("params", "notebooks", "data/raw", "data/processed", "outputs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "params" / "default.yml").write_text(
        "data_dir: data/processed\nraw_dir: data/raw\noutput_dir: outputs\n"
        "min_cell: 5\nstrict_disclosure: false\ntargets: error\n", encoding="utf-8")
    (root / "params" / "extra.yml").write_text("a: 1\n", encoding="utf-8")
    spec = {
        "parameters": "params/default.yml",
        "notebooks": [{"name": "00_prep", "title": "Klargjøring", "book": False}]
        + [{"name": c, "title": c} for c in chapters]
        + [{"name": c, "title": c, "appendix": True} for c in appendix],
        "overrides": overrides or {},
        "workers": workers,
    }
    (root / "params" / "pipeline.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    (root / "data" / "raw" / "input.txt").write_text("21\nkommentar\n", encoding="utf-8")
    write_notebook(root / "notebooks" / "00_prep.ipynb",
                   [new_code_cell(SHARED, metadata={"tags": ["parameters"]}), new_code_cell(PREP_CODE)])
    for c in chapters:
        write_notebook(root / "notebooks" / f"{c}.ipynb", chapter_cells(c))
    return root


@pytest.fixture(autouse=True)
def fixed_package(tmp_path, monkeypatch):
    """Others edit src/tillit while these tests run: key on a package copy we control."""
    pkg = tmp_path / "pakke"
    (pkg / "book" / "templates").mkdir(parents=True)
    (pkg / "build").mkdir()
    (pkg / "modul.py").write_text("X = 1\n", encoding="utf-8")
    (pkg / "build" / "pipeline.py").write_text("# runner\n", encoding="utf-8")
    (pkg / "book" / "templates" / "side.html").write_text("<p></p>", encoding="utf-8")
    monkeypatch.setattr(pipeline, "PACKAGE_DIR", pkg)
    return pkg


@pytest.fixture
def comp(tmp_path, monkeypatch):
    root = make_compendium(tmp_path / "komp")
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    return root


def test_package_hash_follows_code_not_runner_or_book_templates(fixed_package):
    before = pipeline.package_hash()
    (fixed_package / "build" / "pipeline.py").write_text("# endret runner\n", encoding="utf-8")
    (fixed_package / "book" / "render.py").write_text("# renderer\n", encoding="utf-8")
    (fixed_package / "__pycache__").mkdir()
    (fixed_package / "__pycache__" / "modul.pyc").write_bytes(b"x")
    assert pipeline.package_hash() == before
    # The book's templates only shape rendering, which runs after every build anyway.
    (fixed_package / "book" / "templates" / "side.html").write_text("<p>ny</p>", encoding="utf-8")
    assert pipeline.package_hash() == before
    (fixed_package / "modul.py").write_text("X = 2\n", encoding="utf-8")
    assert pipeline.package_hash() != before


def statuses(results) -> dict[str, str]:
    return {r.name: r.status for r in results}


def build(root, **kw):
    lines: list[str] = []
    results = pipeline.build(root=root, progress=lines.append, **kw)
    return results, lines


def test_cache_reruns_exactly_the_dependent_steps(comp, fixed_package):
    results, lines = build(comp)
    assert statuses(results) == {"00_prep": "ok", "01_a": "ok", "02_b": "ok"}
    assert len(lines) == 3 and all(" s  " in ln for ln in lines)
    assert (comp / "outputs/tables/01_a/result.csv").read_text() == "x\n42\n"
    assert (comp / "data/processed/values.txt").read_text() == "42"
    manifest = json.loads((comp / "outputs/manifest.json").read_text())
    entry = manifest["steps"]["01_a"]
    assert entry["status"] == "ok" and len(entry["key"]) == 64
    assert "outputs/notebooks/01_a.ipynb" in entry["outputs"]
    assert "outputs/tables/01_a/result.csv" in entry["outputs"]
    # The shared log is merged, not owned by a step.
    assert "outputs/disclosure_log.csv" not in entry["outputs"]
    log = (comp / "outputs/disclosure_log.csv").read_text()
    assert "01_a_t1" in log and "02_b_t1" in log
    # The executed notebook shows the logical parameters, not the staging folder.
    executed = (comp / "outputs/notebooks/01_a.ipynb").read_text()
    assert ".staging" not in executed and '"outputs"' in executed

    # No-op rebuild: nothing runs, and it is fast.
    t0 = time.perf_counter()
    results, _ = build(comp)
    assert set(statuses(results).values()) == {"cached"}
    assert time.perf_counter() - t0 < 1.0

    # Raw change that leaves the processed data identical: only 00 re-runs.
    (comp / "data/raw/input.txt").write_text("21\nannen kommentar\n", encoding="utf-8")
    results, _ = build(comp)
    assert statuses(results) == {"00_prep": "ok", "01_a": "cached", "02_b": "cached"}

    # Raw change that changes the processed data: everything re-runs.
    (comp / "data/raw/input.txt").write_text("5\n", encoding="utf-8")
    results, _ = build(comp)
    assert statuses(results) == {"00_prep": "ok", "01_a": "ok", "02_b": "ok"}
    assert (comp / "outputs/tables/02_b/result.csv").read_text() == "x\n10\n"

    # A parameter override for one chapter: only that chapter.
    spec = yaml.safe_load((comp / "params/pipeline.yml").read_text())
    spec["overrides"] = {"02_b": {"factor": 3}}
    (comp / "params/pipeline.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    results, lines = build(comp)
    assert statuses(results) == {"00_prep": "cached", "01_a": "cached", "02_b": "ok"}
    assert (comp / "outputs/tables/02_b/result.csv").read_text() == "x\n30\n"
    assert any(ln.split()[0] == "02_b" and "(endret: parametere)" in ln for ln in lines)

    # A code cell edit in one chapter: only that chapter.
    write_notebook(comp / "notebooks/01_a.ipynb", chapter_cells("01_a", extra="result = 2"))
    results, lines = build(comp)
    assert statuses(results) == {"00_prep": "cached", "01_a": "ok", "02_b": "cached"}
    assert any(ln.split()[0] == "01_a" and "(endret: notatbokceller)" in ln for ln in lines)
    assert json.loads((comp / "outputs/manifest.json").read_text())["steps"]["01_a"]["reason"] == ["notatbokceller"]

    # A markdown-only edit re-runs the chapter too (the book shows the executed notebook).
    write_notebook(comp / "notebooks/01_a.ipynb", chapter_cells("01_a", extra="result = 2", markdown="# Nytt navn"))
    results, _ = build(comp)
    assert statuses(results) == {"00_prep": "cached", "01_a": "ok", "02_b": "cached"}
    assert "Nytt navn" in (comp / "outputs/notebooks/01_a.ipynb").read_text()

    # Outputs only (not metadata) of a cell changed: still cached.
    nb = nbformat.read(str(comp / "notebooks/01_a.ipynb"), as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="støy")]
    nb.cells[2].metadata["collapsed"] = True
    nbformat.write(nb, str(comp / "notebooks/01_a.ipynb"))
    results, _ = build(comp, only=["01_a"])
    assert statuses(results) == {"01_a": "cached"}
    # A params file the chapters read: both chapters and the data step.
    (comp / "params/extra.yml").write_text("a: 2\n", encoding="utf-8")
    results, _ = build(comp, only=["01_a", "02_b"])
    assert statuses(results) == {"01_a": "ok", "02_b": "ok"}

    # A deleted or altered output is not trusted.
    (comp / "outputs/figures/02_b/plot.txt").write_text("tuklet", encoding="utf-8")
    results, _ = build(comp)
    assert statuses(results) == {"00_prep": "ok", "01_a": "cached", "02_b": "ok"}
    # A change in the package re-runs every step (checked on one: all keys share the part).
    (fixed_package / "modul.py").write_text("X = 3\n", encoding="utf-8")
    results, lines = build(comp, only=["01_a"])
    assert statuses(results) == {"01_a": "ok"} and "(endret: pakkekode)" in lines[0]
    # force re-runs everything selected.
    results, _ = build(comp, only=["01_a"], force=True)
    assert statuses(results) == {"01_a": "ok"}


APPENDIX_CODE = """
from pathlib import Path
import pandas as pd
log = pd.read_csv(Path(output_dir) / "disclosure_log.csv", dtype=str)
out = Path(output_dir) / "tables" / "09_vedlegg"
out.mkdir(parents=True, exist_ok=True)
(out / "skjult.csv").write_text(f"tabeller\\n{log['table_id'].nunique()}\\n", encoding="utf-8")
"""


def test_appendix_runs_last_and_follows_the_disclosure_log(tmp_path, monkeypatch):
    root = make_compendium(tmp_path / "komp", appendix=("09_vedlegg",))
    write_notebook(root / "notebooks/09_vedlegg.ipynb",
                   [new_code_cell(SHARED, metadata={"tags": ["parameters"]}), new_code_cell(APPENDIX_CODE)])
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    results, lines = build(root)
    assert lines[-1].split()[0] == "09_vedlegg"
    assert (root / "outputs/tables/09_vedlegg/skjult.csv").read_text() == "tabeller\n2\n"
    # 02_b no longer suppresses anything: its log rows go, 01_a's stay, the appendix follows.
    spec = yaml.safe_load((root / "params/pipeline.yml").read_text())
    spec["overrides"] = {"02_b": {"factor": 300}}
    (root / "params/pipeline.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    results, lines = build(root)
    assert statuses(results) == {"00_prep": "cached", "01_a": "cached", "02_b": "ok", "09_vedlegg": "ok"}
    log = (root / "outputs/disclosure_log.csv").read_text()
    assert "01_a_t1" in log and "02_b_t1" not in log
    assert (root / "outputs/tables/09_vedlegg/skjult.csv").read_text() == "tabeller\n1\n"
    assert any("(endret: inndata)" in ln for ln in lines if ln.split()[0] == "09_vedlegg")
    assert not list((root / "outputs").rglob("*.lock.*"))


def test_log_merge_is_three_way(tmp_path):
    import pandas as pd

    cols = ["table_id", "row", "reason"]
    seed = pd.DataFrame([["a_t1", "r1", "n < min_cell"], ["b_t1", "r1", "n < min_cell"]], columns=cols)
    main = pd.DataFrame([["a_t1", "r1", "n < min_cell"], ["b_t1", "r2", "komplementær"]], columns=cols)
    # Chapter a: no suppression left in a_t1, a new table a_t2; b_t1 untouched (old copy).
    fresh = pd.DataFrame([["a_t2", "r9", "n < min_cell"], ["b_t1", "r1", "n < min_cell"]], columns=cols)
    main.to_csv(tmp_path / "log.csv", index=False)
    fresh.to_csv(tmp_path / "stage.csv", index=False)
    pipeline._merge_log(tmp_path / "stage.csv", tmp_path / "log.csv", seed.astype(str))
    merged = pd.read_csv(tmp_path / "log.csv", dtype=str)
    assert merged.values.tolist() == [["a_t2", "r9", "n < min_cell"], ["b_t1", "r2", "komplementær"]]


def test_failure_stops_with_one_message_and_keeps_good_outputs(comp):
    build(comp)
    good = (comp / "outputs/tables/01_a/result.csv").read_text()
    good_nb = (comp / "outputs/notebooks/01_a.ipynb").read_bytes()
    write_notebook(comp / "notebooks/01_a.ipynb",
                   chapter_cells("01_a", factor=7, extra="# deler\nx = 1 / 0"))
    with pytest.raises(pipeline.PipelineError) as info:
        build(comp)
    msg = str(info.value)
    assert "01_a" in msg and "celle 4" in msg and "«# deler»" in msg
    assert "ZeroDivisionError" in msg and "outputs/failed/01_a.ipynb" in msg
    assert info.value.notebook == "01_a" and info.value.cell == 4
    failed = comp / "outputs/failed/01_a.ipynb"
    assert failed.is_file() and "ZeroDivisionError" in failed.read_text()
    # The chapter had written result.csv (factor 7) before failing; none of it replaced the good copy.
    assert (comp / "outputs/tables/01_a/result.csv").read_text() == good
    assert (comp / "outputs/notebooks/01_a.ipynb").read_bytes() == good_nb
    assert not (comp / "outputs/.staging").exists()
    manifest = json.loads((comp / "outputs/manifest.json").read_text())
    assert manifest["steps"]["01_a"]["status"] == "failed"
    assert manifest["build"]["status"] == "failed"
    # Fixing the notebook: it runs, and the failed copy is gone.
    write_notebook(comp / "notebooks/01_a.ipynb", chapter_cells("01_a"))
    results, _ = build(comp)
    assert statuses(results)["01_a"] == "ok" and not failed.exists()


def test_failure_in_data_step_stops_before_chapters(comp):
    (comp / "data/raw/input.txt").write_text("ikke et tall\n", encoding="utf-8")
    with pytest.raises(pipeline.PipelineError) as info:
        build(comp)
    msg = str(info.value)
    assert "00_prep" in msg and "ValueError" in msg and "Ikke kjørt" in msg and "01_a" in msg
    assert not any((comp / "data").glob(".processed.staging-*"))
    assert not (comp / "outputs/notebooks/01_a.ipynb").exists()


def test_unknown_parameter_is_refused(comp):
    with pytest.raises(ConfigError, match=r"ukjent parameter 'nope' \(fra parametre gitt ved kjøring\)"):
        pipeline.run_notebook("01_a", {"nope": 1}, root=comp)
    with pytest.raises(ConfigError, match="'min_cell'.*fikk 'fem'"):
        pipeline.run_notebook("01_a", {"min_cell": "fem"}, root=comp)
    with pytest.raises(ConfigError, match="'factor'.*forventet int"):
        pipeline.resolve_parameters("01_a", {"factor": "tre"}, root=comp)
    with pytest.raises(ConfigError, match="ukjent notatbok 'finnes_ikke'"):
        pipeline.build(root=comp, only=["finnes_ikke"], progress=lambda s: None)
    # A bad override is refused before the data step runs.
    spec = yaml.safe_load((comp / "params/pipeline.yml").read_text())
    spec["overrides"] = {"02_b": {"faktor": 2}}
    (comp / "params/pipeline.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ukjent parameter 'faktor' \(fra pipeline.yml overrides.02_b\)"):
        pipeline.build(root=comp, progress=lambda s: None)
    assert not (comp / "outputs/notebooks/00_prep.ipynb").exists()


def test_run_notebook_alone_returns_outputs(comp):
    pipeline.run_notebook("00_prep", root=comp)
    res = pipeline.run_notebook("01_a", {"factor": 2}, root=comp, output_path=comp / "annet/01_a.ipynb")
    assert res.status == "ok" and res.error is None
    assert "annet/01_a.ipynb" in res.outputs
    assert (comp / "outputs/tables/01_a/result.csv").read_text() == "x\n84\n"


def test_record_render(comp):
    build(comp, only=["00_prep"])
    info = pipeline.record_render("quarto", 1.234, root=comp)
    manifest = json.loads((comp / "outputs/manifest.json").read_text())
    assert manifest["render"]["renderer"] == "quarto" and manifest["render"]["seconds"] == 1.234
    assert info["build"] == manifest["render"]["build"]
    assert manifest["steps"]["00_prep"]["status"] == "ok"


SLEEPER = """
import os, time
from pathlib import Path
Path(marker).write_text(str(os.getpid()), encoding="utf-8")
(Path(output_dir) / "tables" / "03_sov").mkdir(parents=True, exist_ok=True)
(Path(output_dir) / "tables" / "03_sov" / "halv.csv").write_text("x\\n1\\n", encoding="utf-8")
time.sleep(seconds)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)],
                         ids=["SIGINT", "SIGTERM"])
def test_lock_and_interrupt(tmp_path, monkeypatch, sig):
    root = make_compendium(tmp_path / "komp", chapters=("01_a", "03_sov"))
    marker = tmp_path / "kjerne.pid"
    write_notebook(root / "notebooks/03_sov.ipynb", [
        new_code_cell(SHARED + f"marker = {str(marker)!r}\nseconds = 60\n", metadata={"tags": ["parameters"]}),
        new_code_cell(SLEEPER)])
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    env = dict(os.environ, TILLIT_ROOT=str(root))
    # As from a terminal: SIGINT at its default. (Python only installs its KeyboardInterrupt
    # handler when SIGINT is not ignored at start-up, and an ignored disposition is inherited:
    # earlier tests in the same pytest process may have left it ignored.)
    proc = subprocess.Popen([sys.executable, "-m", "tillit.build.pipeline", "--workers", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.time() + 40
        while not marker.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert marker.exists(), proc.stderr.read() if proc.poll() is not None else "ingen markør"
        time.sleep(0.3)
        kernel_pid = int(marker.read_text())
        if sig == signal.SIGINT:
            # A second build in the same tree is refused with a clear message.
            with pytest.raises(pipeline.BuildLockedError, match="En annen bygging pågår"):
                pipeline.build(root=root, progress=lambda s: None)
            second = subprocess.run([sys.executable, "-m", "tillit.build.pipeline"], env=env,
                                    capture_output=True, text=True, timeout=30)
            assert second.returncode != 0 and "En annen bygging pågår" in second.stderr
        proc.send_signal(sig)
        try:
            # Generous: on a loaded CI machine the kernel's death is noticed by polling.
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"byggingen stoppet ikke etter {sig.name}:\n{out}\n{err[-3000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "avbrutt" in out
    import psutil
    time.sleep(0.5)
    assert not psutil.pid_exists(kernel_pid) or psutil.Process(kernel_pid).status() == psutil.STATUS_ZOMBIE
    # Nothing half-written is left where a later build would look.
    assert not (root / "outputs/tables/03_sov").exists()
    assert not (root / "outputs/notebooks/03_sov.ipynb").exists()
    assert not (root / "outputs/.staging").exists()
    manifest = json.loads((root / "outputs/manifest.json").read_text())
    assert "03_sov" not in manifest["steps"]
    assert manifest["build"]["status"] == "interrupted"
    # The lock is free again, and the interrupted step runs (not "cached").
    spec = yaml.safe_load((root / "params/pipeline.yml").read_text())
    spec["overrides"] = {"03_sov": {"seconds": 0}}
    (root / "params/pipeline.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    # (00_prep may re-run here: the subprocess keyed on the real package, this process on
    # the test copy.)
    results, _ = build(root)
    assert statuses(results)["03_sov"] == "ok"


class _FlakyPapermill:
    """Stands in for papermill: fails `failures` times with `error`, then succeeds."""

    def __init__(self, failures: int, error: Exception):
        self.failures, self.error, self.calls = failures, error, 0

    def execute_notebook(self, *args, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error


def test_kernel_that_fails_to_start_is_started_again(tmp_path):
    pm = _FlakyPapermill(1, RuntimeError("Kernel died before replying to kernel_info"))
    pipeline._execute_with_retry(pm, tmp_path, "01_a", tmp_path / "x.ipynb", {}, None)
    assert pm.calls == 2


def test_cell_errors_and_persistent_start_failures_are_not_retried(tmp_path):
    pm = _FlakyPapermill(5, ValueError("feil i celle"))
    with pytest.raises(ValueError):
        pipeline._execute_with_retry(pm, tmp_path, "01_a", tmp_path / "x.ipynb", {}, None)
    assert pm.calls == 1
    pm = _FlakyPapermill(5, RuntimeError("Kernel died before replying to kernel_info"))
    with pytest.raises(RuntimeError):
        pipeline._execute_with_retry(pm, tmp_path, "01_a", tmp_path / "x.ipynb", {}, None)
    assert pm.calls == pipeline.KERNEL_START_ATTEMPTS


def test_single_run_is_recorded_so_the_next_build_skips_it(comp):
    build(comp)
    nb = comp / "notebooks" / "01_a.ipynb"
    nbf = nbformat.read(nb, as_version=4)
    nbf.cells.append(new_code_cell("ekstra = 1"))
    nbformat.write(nbf, nb)
    result = pipeline.run_step("01_a", root=comp)
    assert result.status == "ok"
    steps = json.loads((comp / "outputs" / "manifest.json").read_text(encoding="utf-8"))["steps"]
    assert steps["01_a"]["key"] == result.key
    results, _ = build(comp)
    assert statuses(results) == {"00_prep": "cached", "01_a": "cached", "02_b": "cached"}
    # With other parameters the run gets its own key, and the build re-runs the step.
    pipeline.run_step("01_a", {"min_cell": 7}, root=comp)
    results, _ = build(comp)
    assert statuses(results)["01_a"] == "ok"


def test_single_run_respects_the_build_lock(comp):
    lock = pipeline._acquire_lock(comp / "outputs", comp)
    try:
        with pytest.raises(pipeline.BuildLockedError):
            pipeline.run_step("01_a", root=comp)
    finally:
        lock.release()
