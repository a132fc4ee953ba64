"""tillit.build.batch on a tiny temporary compendium, on a dask LocalCluster with 2 workers."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell

from tillit.build import batch
from tillit.build import pipeline
from tillit.config import ConfigError
from test_pipeline import SHARED, make_compendium, write_notebook

GRID_CODE = """
from pathlib import Path
value = int((Path(data_dir) / "values.txt").read_text(encoding="utf-8"))
out = Path(output_dir) / "tables" / "05_grid"
out.mkdir(parents=True, exist_ok=True)
share = value / factor   # factor 0 fails on purpose
(out / "share.csv").write_text(f"share\\n{share}\\nlink,{link}\\n", encoding="utf-8")
"""


@pytest.fixture
def comp(tmp_path, monkeypatch):
    root = make_compendium(tmp_path / "komp", chapters=("01_a", "05_grid"))
    write_notebook(root / "notebooks/05_grid.ipynb", [
        new_code_cell(SHARED + 'factor = 1\nlink = "logit"\n', metadata={"tags": ["parameters"]}),
        new_markdown_cell("# Rutenett"),
        new_code_cell(GRID_CODE),
    ])
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    pipeline.run_notebook("00_prep", root=root)
    return root


def write_spec(path: Path, spec: dict) -> Path:
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def test_grid_with_a_failing_run_completes_and_reports_it(comp, tmp_path, capsys):
    spec = write_spec(tmp_path / "batch.yml", {
        "notebooks": ["05_grid"],
        "parameters": {"min_cell": 10},
        "grid": {"factor": [1, 2, 0], "link": ["logit", "probit"]},
    })
    out = tmp_path / "batch_ut"
    summary = batch.run_batch(spec, out, workers=2)

    assert len(summary) == 6
    assert list(summary.columns) == batch.SUMMARY_COLUMNS
    assert (summary["status"] == "failed").sum() == 2  # factor 0, both links
    failed = summary[summary["status"] == "failed"]
    assert all(json.loads(p)["factor"] == 0 for p in failed["parameters"])
    for rec in failed.to_dict("records"):
        # Notebook, cell and error class; the error's text (which may quote data) is not kept.
        assert "ZeroDivisionError" in rec["error"] and "celle 3" in rec["error"]
        assert "division by zero" not in rec["error"]
        kept = (out / rec["notebook_path"]).resolve()
        assert kept.is_file() and "ZeroDivisionError" in kept.read_text()
        assert kept.is_relative_to(comp / ".tillit" / "failed")   # outside outputs/
    ok = summary[summary["status"] == "ok"].set_index("run_id")
    assert set(ok.index) == {
        "05_grid__factor-1__link-logit", "05_grid__factor-1__link-probit",
        "05_grid__factor-2__link-logit", "05_grid__factor-2__link-probit",
    }
    share = (out / "05_grid__factor-2__link-probit/tables/05_grid/share.csv").read_text()
    assert share == "share\n21.0\nlink,probit\n"
    executed = out / ok.loc["05_grid__factor-2__link-probit", "notebook_path"]
    assert executed.is_file() and json.loads(executed.read_text())["metadata"]["papermill"]["parameters"]["min_cell"] == 10
    # The main outputs/ tree is untouched.
    assert not (comp / "outputs/tables/05_grid").exists()
    assert not (comp / "outputs/notebooks/05_grid.ipynb").exists()
    # summary.csv and index.html on disk.
    on_disk = pd.read_csv(out / "summary.csv")
    assert len(on_disk) == 6 and set(on_disk["status"]) == {"ok", "failed"}
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "6 kjøringer: 4 ok, 2 feilet" in page
    assert 'href="05_grid__factor-1__link-logit/05_grid.ipynb"' in page
    assert "ZeroDivisionError" in page and ".tillit/failed/batch/batch_ut/" in page
    assert "division by zero" not in page and "division by zero" not in (out / "summary.csv").read_text()
    # The progress bar counts done, failed and remaining; the full errors go to the terminal.
    err = capsys.readouterr().err
    assert "feilet 2, gjenstår 0" in err and "division by zero" in err


def test_explicit_runs_and_ids():
    spec = batch.BatchSpec(notebooks=["a", "b"], runs=[{"id": "hoved"}, {"id": "probit", "link": "probit"}],
                           grid={"min_cell": [5, 10]})
    runs = batch.expand_runs(spec)
    assert len(runs) == 8
    ids = [r["run_id"] for r in runs]
    assert len(set(ids)) == 8 and "b__probit__min_cell-10" in ids
    probit = next(r for r in runs if r["run_id"] == "a__probit__min_cell-5")
    assert probit["parameters"] == {"link": "probit", "min_cell": 5}


def test_bad_specs_fail_fast_with_file_and_run(comp, tmp_path):
    bad_key = write_spec(tmp_path / "a.yml", {"notebooks": ["05_grid"], "gird": {"factor": [1]}})
    with pytest.raises(ConfigError, match=r"(?s)a\.yml.*ukjent nøkkel 'gird'"):
        batch.run_batch(bad_key, tmp_path / "ut", progress=False)
    empty = write_spec(tmp_path / "b.yml", {"notebooks": ["05_grid"], "grid": {"factor": []}})
    with pytest.raises(ConfigError, match="grid.factor er en tom liste"):
        batch.run_batch(empty, tmp_path / "ut", progress=False)
    unknown = write_spec(tmp_path / "c.yml", {"notebooks": ["05_grid"], "grid": {"faktor": [1]}})
    with pytest.raises(ConfigError, match=r"(?s)kjøringen '05_grid__faktor-1'.*ukjent parameter 'faktor'"):
        batch.run_batch(unknown, tmp_path / "ut", progress=False)
    wrong_type = write_spec(tmp_path / "d.yml", {"notebooks": ["05_grid"], "runs": [{"factor": "to"}]})
    with pytest.raises(ConfigError, match=r"(?s)'factor'.*forventet int"):
        batch.run_batch(wrong_type, tmp_path / "ut", progress=False)
    good = write_spec(tmp_path / "e.yml", {"notebooks": ["05_grid"]})
    with pytest.raises(ConfigError, match="batchmappen kan ikke være"):
        batch.run_batch(good, comp / "outputs", progress=False)
    assert not (tmp_path / "ut").exists()


@pytest.mark.parametrize("out", [".", "notebooks", "params", "data", "data/raw/batch", "src", "notebooks/x"])
def test_batch_out_never_into_sources(comp, tmp_path, out):
    spec = write_spec(tmp_path / "e.yml", {"notebooks": ["05_grid"]})
    before = {p: p.read_bytes() for p in (comp / "notebooks").iterdir()}
    with pytest.raises(ConfigError, match=r"--out = .*(rotmappe|kilder|overlapper)"):
        batch.run_batch(spec, comp / out, progress=False)
    assert {p: p.read_bytes() for p in (comp / "notebooks").iterdir()} == before


def test_batch_workers_must_be_positive(comp, tmp_path):
    spec = write_spec(tmp_path / "e.yml", {"notebooks": ["05_grid"]})
    with pytest.raises(ConfigError, match="antall arbeidere"):
        batch.run_batch(spec, tmp_path / "ut", workers=-1, progress=False)


def test_example_spec_is_valid():
    root = Path(__file__).resolve().parents[1]
    spec = batch.load_spec(root / "params" / "batch_example.yml")
    assert len(batch.expand_runs(spec)) >= 2
