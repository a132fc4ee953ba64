"""Honest numbers in the built book (issue 13).

Walks every page of a synthetic-data book and finds: numbers in the reading text that are not
wrapped in a number span; published numbers that do not link to an existing ledger row; claims
("høyest", "oftest", "nr. 7") that the table they cite contradicts; downloads without
Norwegian headers or with float noise; figures that are not SVG, have no "Vis som tabell" or
have labels under 11 px on a 390 px phone. The first tests prove on crafted pages that each
check can fail.

The slow tests build the book in a fresh copy (like tests/test_e2e.py); set TILLIT_BOOK_DIR to
the output directory of a book already built (e.g. ``outputs``) to check that one instead.
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

from tillit.book import numbers_check as nc
from tillit.book.numbers import Numbers
from tillit.config import repo_root

BIN = Path(sys.executable).parent


# --- the checker on crafted pages: each check must be able to fail ------------------------------
def _page(body: str) -> str:
    return f"<html><body><header class='site-header'>Kapittel 3 av 9</header><main><article>{body}</article></main></body></html>"


LEDGER = _page('<div class="tillit-table" id="tbl-regnskap"><table><thead><tr><th>Kap.</th><th>Beregnet</th></tr></thead>'
               '<tbody><tr id="ledger-tid_negativ"><th>4.2.1.3</th><td>43,28 %</td></tr></tbody></table></div>')
FACTORS = ('<div class="tillit-table" id="tbl-faktorer"><table><thead><tr><th>Forhold</th><th>Negativt</th></tr></thead>'
           '<tbody><tr><th>Regelverk</th><td><span class="tall" data-kind="modell">49,0 %</span></td></tr>'
           '<tr><th>Tid til oppgavene</th><td><span class="tall" data-kind="modell">43,3 %</span></td></tr></tbody></table></div>')


def test_a_clean_page_passes():
    n = Numbers(synthetic=True)
    body = (f"<h2><span class='section-number'>4.2</span> Hovedfunn</h2><p>Mål 1 og kapittel 4.2.4.8 i 2023: "
            f"{n.pub('tid_negativ', 43.28)} mener tid virker negativt, men regelverket "
            f"{n.claim('trekker oftest ned', table='tbl-faktorer', column='Negativt', rows='Regelverk')} "
            f"({n.pct(0.49)}), på en skala fra 1 til 5 (se <a href='#tbl-faktorer'>Tabell 4.1</a>).</p>"
            f"<p class='provenance'>Kilde: n = 3 660</p>{FACTORS}")
    problems = nc.check_book({"kap.html": _page(body), "app-regnskap.html": LEDGER})
    assert problems == [], [str(p) for p in problems]


def test_an_unwrapped_number_in_prose_fails():
    body = "<p>Tid er forholdet som oftest trekker ned (43,28 %), og 3 660 svarte; snittet var 3,70.</p>"
    found = [p.text for p in nc.check_book({"kap.html": _page(body)}) if p.check == "unmarked"]
    assert len(found) == 3 and "43,28" in found[0] and "3 660" in found[1] and "3,70" in found[2]


def test_an_unwrapped_number_in_a_table_cell_or_caption_fails():
    body = ('<figure><figcaption>Fordeling (n = 3 660)</figcaption></figure>'
            '<div class="tillit-table" id="tbl-x"><table><thead><tr><th>A</th><th>B</th></tr></thead>'
            '<tbody><tr><th>NKS</th><td>49 %</td></tr></tbody></table></div>')
    checks = sorted(p.check for p in nc.check_book({"kap.html": _page(body)}))
    assert checks == ["table-cell", "unmarked"]


def test_a_published_number_without_its_ledger_row_fails():
    n = Numbers(synthetic=True)
    body = f"<p>{n.pub('kompetanse_positiv', 75.93)} og {n.pub('tid_negativ', 43.28)}</p>"
    problems = nc.check_book({"kap.html": _page(body), "app-regnskap.html": LEDGER})
    assert [p.check for p in problems] == ["link"] and "ledger-kompetanse_positiv" in problems[0].detail
    assert [p.check for p in nc.check_book({"kap.html": _page(body)})] == ["link", "link"]   # no ledger page


def test_a_claim_its_table_contradicts_fails():
    n = Numbers(synthetic=True)
    wrong = n.claim("trekker oftest ned", table="tbl-faktorer", column="Negativt", rows="Tid til oppgavene")
    missing = n.claim("høyest", table="tbl-finnesikke", column="Negativt", rows="Tid til oppgavene")
    problems = nc.check_book({"kap.html": _page(f"<p>Tid {wrong}; {missing}.</p>{FACTORS}")})
    assert [p.check for p in problems] == ["claim", "claim"]
    assert "er ikke størst; Regelverk" in problems[0].detail and "finnes ikke" in problems[1].detail


def test_spans_are_counted_by_kind():
    n = Numbers(synthetic=True)
    counts = nc.count_kinds({"a.html": _page(f"<p>{n.pct(0.1)} {n.pct(0.2)} {n.fact('conversation_package_counties')}</p>")})
    assert counts["modell"] == 2 and counts["rapport"] == 1


# --- the built book -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built():
    """(output dir, {page: html}) of a synthetic-data book."""
    given = os.environ.get("TILLIT_BOOK_DIR")
    if given:
        out = Path(given).resolve()
    else:
        src = repo_root()
        root = Path(os.environ.get("TMPDIR", "/tmp")) / f"tillit-honest-{os.getpid()}"
        shutil.rmtree(root, ignore_errors=True)
        for folder in ("params", "notebooks"):
            shutil.copytree(src / folder, root / folder)
        for folder in ("data/raw", "data/processed", "outputs"):
            (root / folder).mkdir(parents=True)
        env = {**os.environ, "TILLIT_ROOT": str(root)}
        run = subprocess.run([str(BIN / "tillit"), "build"], cwd=root, env=env, capture_output=True, text=True,
                             timeout=1800)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        out = root / "outputs"
    source = json.loads((out.parent / "data" / "processed" / "data_source.json").read_text(encoding="utf-8")) \
        if (out.parent / "data" / "processed" / "data_source.json").is_file() else {"kind": "synthetic"}
    assert source.get("kind") == "synthetic", "these checks are for a book on the synthetic twin"
    return out, nc.read_book(out / "book")


def _report(problems, check: str) -> list[str]:
    return [str(p) for p in problems if p.check == check]


@pytest.mark.slow
def test_no_unwrapped_number_in_the_book(built):
    _, pages = built
    problems = nc.check_book(pages)
    found = _report(problems, "unmarked") + _report(problems, "table-cell")
    assert not found, f"{len(found)} tall uten type:\n" + "\n".join(found[:200])


@pytest.mark.slow
def test_every_published_number_links_its_ledger_row(built):
    _, pages = built
    found = _report(nc.check_book(pages), "link")
    counts = nc.count_kinds(pages)
    assert counts["publisert"] > 0, "boka viser ingen publiserte tall som publiserte"
    assert not found, "\n".join(found)


@pytest.mark.slow
def test_every_published_target_has_a_ledger_row_with_its_id(built):
    from tillit.stats import ledger

    _, pages = built
    ids = set()
    for text in pages.values():
        ids |= set(re.findall(r'id="(ledger-[\w-]+)"', text))
    want = {f"ledger-{t['id']}" for t in ledger.load_published()["targets"]}
    assert want <= ids, sorted(want - ids)


@pytest.mark.slow
def test_no_claim_contradicts_its_table(built):
    _, pages = built
    found = _report(nc.check_book(pages), "claim")
    assert not found, "\n".join(found)


@pytest.mark.slow
def test_the_twin_book_marks_model_numbers(built):
    _, pages = built
    counts = nc.count_kinds(pages)
    print("\nTall i boka etter type:", dict(counts))
    assert counts["modell"] > 0


@pytest.mark.slow
def test_downloads_have_norwegian_headers_and_an_excel_twin(built):
    from openpyxl import load_workbook

    out, _ = built
    bad = []
    for csv in sorted((out / "tables").rglob("*.csv")):
        df = pd.read_csv(csv, dtype=str, keep_default_na=False)
        heads = list(df.columns)
        if any(re.fullmatch(r"\d+(\.0)?", h) or h.startswith("Svaralternativ") for h in heads):
            bad.append(f"{csv.relative_to(out)}: svarkoder som overskrift {heads}")
        noise = [v for col in df.columns for v in df[col] if re.fullmatch(r"-?\d+\.\d{5,}", v)]
        if noise:
            bad.append(f"{csv.relative_to(out)}: flyttallsstøy {noise[:3]}")
        xlsx = csv.with_suffix(".xlsx")
        if not xlsx.is_file():
            bad.append(f"{csv.relative_to(out)}: mangler Excel-fil")
            continue
        ws = load_workbook(xlsx, read_only=True)["Tabell"]
        first = [c.value for c in next(ws.iter_rows(max_row=1))]
        if first != heads:
            bad.append(f"{xlsx.relative_to(out)}: overskriftene {first} ≠ CSV {heads}")
    assert not bad, "\n".join(bad)


@pytest.mark.slow
def test_figures_are_svg_legible_on_a_phone_and_shown_as_tables(built):
    out, _ = built
    bad = []
    for nb_path in sorted((out / "notebooks").glob("*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            for output in cell.get("outputs", []):
                meta = output.get("metadata", {}).get("tillit", {})
                if meta.get("kind") != "figure":
                    continue
                where = f"{nb_path.stem}/{meta.get('label')}"
                if not str(meta.get("src", "")).endswith(".svg"):
                    bad.append(f"{where}: ikke SVG ({meta.get('src')})")
                phone = meta.get("phone") or {}
                legible = (phone.get("narrow_px") or phone.get("wide_px") or 0) >= 11 or phone.get("min_width_px")
                if not legible:
                    bad.append(f"{where}: tekst under 11 px på 390 px ({phone})")
                if meta.get("csv") and "Vis som tabell" not in meta.get("html", ""):
                    bad.append(f"{where}: mangler «Vis som tabell»")
                if not meta.get("csv") and meta.get("number_kind") != "rapport":   # diagrams have no numbers
                    bad.append(f"{where}: figuren har ingen tall å vise som tabell")
    assert not bad, "\n".join(bad)


@pytest.mark.slow
def test_provenance_names_the_source_and_points_at_the_cell_that_made_it(built):
    out, _ = built
    bad = []
    for nb_path in sorted((out / "notebooks").glob("*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        page = out / "book" / "notebooks" / f"{nb_path.stem}.html"
        anchors = set(re.findall(r'id="(celle-\d+)"', page.read_text(encoding="utf-8"))) if page.is_file() else None
        for cell in nb["cells"]:
            for output in cell.get("outputs", []):
                meta = output.get("metadata", {}).get("tillit", {})
                if meta.get("kind") not in ("figure", "table"):
                    continue
                prov, where = meta.get("provenance", {}), f"{nb_path.stem}/{meta.get('label')}"
                if prov.get("cell") != cell.get("execution_count"):
                    bad.append(f"{where}: kildelinjen sier celle {prov.get('cell')}, cellen er {cell.get('execution_count')}")
                if not prov.get("source") and not prov.get("report_only"):
                    bad.append(f"{where}: kildelinjen sier ikke hvilke data tallene kommer fra")
                if anchors is None:
                    bad.append(f"{where}: {page.relative_to(out)} finnes ikke (den kjørte notatboken som side)")
                elif f"celle-{prov.get('cell')}" not in anchors:
                    bad.append(f"{where}: {page.name} har ikke ankeret celle-{prov.get('cell')}")
    assert not bad, "\n".join(sorted(set(bad))[:80])
