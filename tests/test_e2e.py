"""End to end: the whole pipeline on the synthetic twin, in a fresh copy of the compendium.

Runs the real `tillit build` command (synthetic twin → data preparation → every chapter →
book), then checks what a user of each kind relies on: the book links every chapter, no
executed notebook carries an error, a second build is a no-op, every chapter also runs under
the papermill CLI with `-f params/default.yml`, and nothing respondent-level reaches outputs/.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tillit.config import load_pipeline, repo_root

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def compendium(tmp_path_factory):
    """A copy of the tracked inputs (params, notebooks) with its own data/ and outputs/."""
    src = repo_root()
    root = tmp_path_factory.mktemp("kompendium")
    for folder in ("params", "notebooks"):
        shutil.copytree(src / folder, root / folder)
    for folder in ("data/raw", "data/processed", "outputs"):
        (root / folder).mkdir(parents=True)
    env = {**os.environ, "TILLIT_ROOT": str(root)}
    build = subprocess.run([str(BIN / "tillit"), "build"], cwd=root, env=env, capture_output=True,
                           text=True, timeout=1800)
    return root, env, build


def test_build_succeeds_and_names_its_renderer(compendium):
    root, _, build = compendium
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert "synth" in build.stdout  # empty data/raw/ → the twin was generated
    assert re.search(r"render \((quarto|nbconvert-fallback)\)", build.stdout)
    expected = "quarto" if shutil.which("quarto") else "nbconvert-fallback"
    assert f"render ({expected})" in build.stdout


def test_every_step_printed_with_seconds_and_status(compendium):
    root, _, build = compendium
    for name in load_pipeline(root=root).names():
        assert re.search(rf"{name}\s+\d+\.\d s\s+(ok|cached)", build.stdout), name


def test_book_index_links_every_chapter(compendium):
    root, _, _ = compendium
    from tillit.book.render.structure import book_pages

    index = (root / "outputs" / "book" / "index.html").read_text(encoding="utf-8")
    pages = book_pages(root)
    # Every notebook in the book gives at least one page (06_vedlegg also the lettered appendices).
    in_book = {nb.name for nb in load_pipeline(root=root).notebooks if nb.book}
    assert in_book <= {p.notebook for p in pages}
    for page in pages:
        assert f'href="{page.page}"' in index, page.page
        assert (root / "outputs" / "book" / page.page).is_file()


def test_executed_notebooks_have_no_errors(compendium):
    root, _, _ = compendium
    names = load_pipeline(root=root).names()
    for name in names:
        nb = json.loads((root / "outputs" / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                assert out.get("output_type") != "error", f"{name}: {out.get('ename')}: {out.get('evalue')}"
                assert out.get("name") != "stderr" or "Traceback" not in "".join(out.get("text", ""))


def test_ledger_reproduces_every_target(compendium):
    root, _, _ = compendium
    from tillit.book.downloads import HEADERS

    ledger = pd.read_csv(root / "outputs" / "tables" / "06_vedlegg" / "tbl-regnskap.csv", dtype=str)
    # The download has the readers' headers (tillit.book.downloads); back to machine names.
    ledger = ledger.rename(columns={HEADERS.get(k, k): k for k in ("id", "kind", "ok", "published", "recomputed")})
    targets = ledger[ledger["kind"] == "mål"]
    assert len(targets) >= 40
    ok = targets["ok"].isin(["Ja", "True"])
    # A target whose group or "Vet ikke" count is below min_cell is hidden by the gate
    # ("skjult", value "–*"); every other one is reproduced.
    hidden = targets["recomputed"] == "–*"
    assert (ok | hidden).all(), targets.loc[~(ok | hidden), ["id", "published", "recomputed"]]
    assert ok.sum() >= 40 and hidden.sum() <= 5


def test_second_build_is_a_no_op(compendium):
    root, env, _ = compendium
    again = subprocess.run([str(BIN / "tillit"), "build"], cwd=root, env=env, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    for name in load_pipeline(root=root).names():
        assert re.search(rf"{name}\s+\d+\.\d s\s+cached", again.stdout), again.stdout


def test_every_chapter_runs_under_the_papermill_cli(compendium, tmp_path):
    root, env, _ = compendium
    for name in load_pipeline(root=root).names()[1:]:
        run = subprocess.run(
            [str(BIN / "papermill"), f"notebooks/{name}.ipynb", str(tmp_path / f"{name}.ipynb"),
             "-f", "params/default.yml", "-p", "output_dir", str(tmp_path / "out"), "--log-level", "ERROR"],
            cwd=root, env={k: v for k, v in env.items() if k != "TILLIT_ROOT"},
            capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"{name}: {run.stderr[-3000:]}"


def test_no_respondent_level_data_in_outputs(compendium):
    root, _, _ = compendium
    survey = pd.read_csv(root / "data" / "raw" / "survey_2023.csv", dtype=str)
    ids = set(survey["RespondentID"].dropna())
    free_text = {t for t in survey["Utdypende svar"].dropna() if len(t) >= 25}
    assert ids and free_text
    pattern_ids = re.compile("|".join(re.escape(i) for i in sorted(ids)[:500]))
    for path in (root / "outputs").rglob("*"):
        if not path.is_file() or path.suffix in {".png", ".lock"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        assert not pattern_ids.search(text), f"respondent-id i {path}"
        hits = [t for t in free_text if t in text]
        assert not hits, f"fritekst i {path}: {hits[:1]}"


def _text_outputs(nb_path: Path) -> list[str]:
    """Every output's text (markdown, plain, streams) in cell order: what a reader sees."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    texts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            texts.append("".join(data.get("text/markdown", data.get("text/plain", out.get("text", "")))))
    return texts


def test_forced_rebuild_is_byte_identical(compendium, tmp_path):
    """Determinism: same inputs → identical CSV bytes, figures and numbers in every notebook."""
    root, env, _ = compendium
    out = root / "outputs"
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
              if p.is_file() and p.parts[len(out.parts)] in ("tables", "figures")}
    before_log = (out / "disclosure_log.csv").read_bytes()
    names = load_pipeline(root=root).names()
    before_nb = {n: _text_outputs(out / "notebooks" / f"{n}.ipynb") for n in names}
    before_nb_bytes = {n: (out / "notebooks" / f"{n}.ipynb").read_bytes() for n in names}
    again = subprocess.run([str(BIN / "tillit"), "build", "--force"], cwd=root, env=env,
                           capture_output=True, text=True, timeout=1200)
    assert again.returncode == 0, again.stderr[-2000:]
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
             if p.is_file() and p.parts[len(out.parts)] in ("tables", "figures")}
    assert sorted(after) == sorted(before)
    changed = [str(k) for k in before if before[k] != after[k]]
    assert not changed, f"ulike bytes etter ny bygging: {changed[:5]}"
    assert (out / "disclosure_log.csv").read_bytes() == before_log
    for n in names:
        assert _text_outputs(out / "notebooks" / f"{n}.ipynb") == before_nb[n], n
        # The executed notebooks themselves, byte for byte (papermill's random cell id and
        # the timestamps are normalised away).
        assert (out / "notebooks" / f"{n}.ipynb").read_bytes() == before_nb_bytes[n], n


def test_disclosure_audit_ran_and_passed(compendium):
    root, _, build = compendium
    audit = json.loads((root / "outputs" / "disclosure_audit.json").read_text(encoding="utf-8"))
    assert audit["ok"] and audit["tables"] >= 10 and audit["published_equations"] > 100
    assert audit["narrowest_interval"] is None or audit["narrowest_interval"] >= audit["min_cell"]
    manifest = json.loads((root / "outputs" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audit"]["ok"] and manifest["audit_final"]["ok"]
    assert "revisjon (skjulte tall)" in build.stdout


def test_outputs_carry_no_absolute_paths_nor_failed_notebooks(compendium):
    root, _, _ = compendium
    out = root / "outputs"
    assert not (out / "failed").exists()
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in {".ipynb", ".csv", ".json", ".html", ".md", ".txt"}:
            assert str(root) not in path.read_text(encoding="utf-8", errors="ignore"), path
    # The book is for readers: folders 0755, files 0644.
    assert (out / "book").stat().st_mode & 0o777 == 0o755
    assert (out / "book" / "index.html").stat().st_mode & 0o777 == 0o644
    assert not list(out.glob(".book-*"))


# --- another output folder, and a min_cell so large that nearly everything is hidden ---------
def _snapshot(folder: Path) -> dict[str, str]:
    import hashlib

    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".lock"}


@pytest.fixture(scope="module")
def elsewhere(compendium, tmp_path_factory):
    """`tillit build -p output_dir=… -p data_dir=… -p min_cell 1000` after the main build: one
    full build that shows both that everything goes to the folder given (and nothing under
    the repository's outputs/ or data/processed/ changes) and that a book in which nearly
    every group is too small is still built, says so, and passes the audit."""
    root, env, first = compendium
    assert first.returncode == 0
    base = tmp_path_factory.mktemp("andre")
    before = {"outputs": _snapshot(root / "outputs"), "data": _snapshot(root / "data" / "processed")}
    run = subprocess.run([str(BIN / "tillit"), "build", "-p", f"output_dir={base / 'ut'}", "-p", "data_dir",
                          str(base / "data"), "-p", "min_cell", "1000", "--renderer", "fallback"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=1800)
    return root, base / "ut", run, before


def test_build_into_another_output_dir_writes_nothing_under_the_repo_outputs(elsewhere):
    root, out, run, before = elsewhere
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for name in load_pipeline(root=root).names():
        assert (out / "notebooks" / f"{name}.ipynb").is_file(), name
    for rel in ("manifest.json", "disclosure_log.csv", "disclosure_audit.json", "book/index.html", ".tillit-utdata"):
        assert (out / rel).is_file(), rel
    assert list((out / "tables").rglob("*.csv")) and list((out / "figures").rglob("*.svg"))
    assert list((out / "disclosure").rglob("*.json"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["build"]["status"] == "ok" and manifest["render"]["renderer"] == "nbconvert-fallback"
    assert _snapshot(root / "outputs") == before["outputs"]
    assert _snapshot(root / "data" / "processed") == before["data"]
    assert f"utdata: {out}" in run.stdout and str(out / "book" / "index.html") in run.stdout
    assert re.search(r"render \(nbconvert-fallback\)\s+\d+\.\d s\s+ok \(\d+ sider laget", run.stdout), run.stdout


def test_a_min_cell_that_hides_nearly_everything_builds_a_book_that_says_so(elsewhere):
    root, out, run, _ = elsewhere
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    audit = json.loads((out / "disclosure_audit.json").read_text(encoding="utf-8"))
    assert audit["ok"] and audit["min_cell"] == 1000 and audit["suppressed_counts"] > 100
    assert audit["narrowest_interval"] is None or audit["narrowest_interval"] >= 1000
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audit"]["ok"] and manifest["audit_final"]["ok"]
    from bs4 import BeautifulSoup

    pages = {p.name: BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").get_text(" ")
             for p in (out / "book").glob("*.html")}
    chapter = re.sub(r"\s+", " ", next(text for name, text in pages.items() if name.startswith("04")))
    assert "Tall merket (prikket) vises ikke fordi de bygger på færre enn 1 000 svar" in chapter
    assert not re.search(r"\bnan\b", " ".join(pages.values()).lower())
    log = pd.read_csv(out / "disclosure_log.csv")
    assert (log["min_cell"] == 1000).all() and len(log) > 100
