"""The HTML book (tillit.book.render): its structure (pages, numbers), the Quarto project it
writes, and the nbconvert fallback rendered from fake executed notebooks built with the
project's own display helpers (tests/book_fixture.py). The real Quarto render and the
page-by-page comparison of both books are in tests/test_quarto.py."""
from __future__ import annotations

import json
import os
import re
import stat
import sys
import time
from pathlib import Path
from unittest import mock

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

from book_fixture import EXPECTED_HOVEDFUNN, EXPECTED_PAGES, FREE_TEXT, build_fake_root  # noqa: F401
from tillit.book import render as book


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    return build_fake_root(tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="module")
def fallback_book(fake_root) -> book.RenderResult:
    with mock.patch.dict(os.environ, {"TILLIT_ROOT": str(fake_root)}):
        return book.render(fake_root, renderer="fallback", force=True)


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _order() -> list[str]:
    return ["index.html", *(f"{p}.html" for p in EXPECTED_PAGES)]


# ---------------------------------------------------------------------------- structure
def test_pages_chapters_then_lettered_appendices(fake_root):
    pages = book.book_pages(fake_root)
    assert {p.id: (p.number, p.title, p.kind) for p in pages} == EXPECTED_PAGES
    assert [p.id for p in pages] == list(EXPECTED_PAGES)
    by_id = {p.id: p for p in pages}
    assert by_id["app-data"].notebook == "00_klargjoring"
    assert by_id["app-regnskap"].notebook == by_id["06_vedlegg"].notebook == "06_vedlegg"
    assert by_id["app-metode"].heading == "Tillegg B — Metode"
    # The title heading is taken out of the cells (the renderers write it), the rest stays.
    assert not any(c["cell_type"] == "markdown" and c["source"].lstrip().startswith("# ")
                   for p in pages for c in p.cells)
    assert "Innledende avsnitt" in by_id["04_hovedfunn"].cells[0]["source"]


def test_transition_notebooks_with_one_prefix_make_one_chapter(tmp_path):
    """04_0_…, 04_1_… (before they are merged into 04_hovedfunn) form one chapter: the later
    notebooks' titles become its sections."""
    pipeline = ("parameters: params/default.yml\nnotebooks:\n"
                "  - {name: 01_sammendrag, title: Sammendrag}\n"
                "  - {name: 04_0_hovedfunn, title: Hovedfunn}\n"
                "  - {name: 04_1_kompetanse, title: Mål 1}\n")
    nbs = {"04_1_kompetanse": nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Mål 1: Faglighet\n\n## Kompetanse\n\nTekst.")])}
    root = build_fake_root(tmp_path, pipeline=pipeline, notebooks=nbs)
    pages = book.book_pages(root)
    assert [(p.id, p.number) for p in pages] == [("01_sammendrag", "1"), ("04_0_hovedfunn", "2")]
    sources = "\n".join(c["source"] for c in pages[1].cells if c["cell_type"] == "markdown")
    assert "## Mål 1: Faglighet" in sources and "### Kompetanse" in sources


@pytest.mark.parametrize("source, message", [
    ("# Tittel\n\n## A\n\n# Midt i", "står midt i et kapittel"),
    ("# Tittel\n\n# Tillegg uten id {.appendix}", "mangler en id"),
])
def test_bad_level_one_headings_are_named(tmp_path, source, message):
    pipeline = "parameters: params/default.yml\nnotebooks:\n  - {name: 01_sammendrag, title: S}\n"
    nbs = {"01_sammendrag": nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source)])}
    root = build_fake_root(tmp_path, pipeline=pipeline, notebooks=nbs)
    with pytest.raises(book.BookError, match=rf"01_sammendrag\.ipynb.*{message}"):
        book.book_pages(root)


def test_section_counter_is_pandocs():
    c = book.SectionCounter("4")
    got = [c.number(level, numbered) for level, numbered in
           [(2, True), (3, True), (4, True), (4, True), (2, True), (3, False), (3, True), (5, True)]]
    assert got == ["4.1", "4.1.1", "4.1.1.1", "4.1.1.2", "4.2", None, "4.2.1", "4.2.1.0.1"]


def test_pandoc_identifiers():
    used: set[str] = set()
    assert book.pandoc_identifier("Mål 4: Mål- og resultatstyring", used) == "mål-4-mål--og-resultatstyring"
    assert book.pandoc_identifier("Mål 4: Mål- og resultatstyring", used) == "mål-4-mål--og-resultatstyring-1"
    assert book.pandoc_identifier("4.2 Hva henger sammen?", used) == "hva-henger-sammen"
    assert book.pandoc_identifier("!!!", used) == "section"


def test_crossref_regex_leaves_emails_and_unknown_words():
    reg = {"fig-a": book.Float("fig-a", "fig", "4.2", "x.html"), "tbl-b": book.Float("tbl-b", "tbl", "A.1", "y.html")}
    out = book.resolve_crossrefs("Se @fig-a, og @Tbl-b. [-@fig-a] post@nav.no", reg, "x.html", "test")
    assert out == "Se [figur 4.2](#fig-a), og [Tabell A.1](y.html#tbl-b). [4.2](#fig-a) post@nav.no"
    with pytest.raises(book.BookError, match="@fig-mangler"):
        book.resolve_crossrefs("Se @fig-mangler.", reg, "x.html", "kap.ipynb: celle 3")


def test_markdown_callouts_and_fenced_divs():
    html_ = book.markdown_to_html("Før\n\n::: {.callout-warning}\n## Pass på\n\nInnhold **her**\n:::\n\nEtter")
    soup = BeautifulSoup(html_, "html.parser")
    callout = soup.select_one("div.callout.callout-warning")
    assert callout.select_one(".callout-title").text == "Pass på"
    assert callout.find("strong").text == "her"
    assert ":::" not in soup.get_text()


# ---------------------------------------------------------------------------- reader cells
def test_reader_cells_hide_setup_and_show_code_only_for_figures_and_tables(fake_root):
    pages = {p.id: p for p in book.book_pages(fake_root)}
    rp = book.reader_page(pages["04_hovedfunn"])
    code = [c for c in rp.cells if c["cell_type"] == "code"]
    assert not any({"parameters", "injected-parameters", "setup"} & set(c["metadata"].get("tags", [])) for c in code)
    assert not any("nbk.start" in c["source"] for c in code)
    shown = [c for c in code if c["metadata"].get("echo", True)]
    hidden = [c for c in code if not c["metadata"].get("echo", True)]
    assert [o["metadata"]["tillit"]["kind"] for c in shown for o in c["outputs"]] == ["figure", "table"]
    assert hidden and all(o["metadata"].get("tillit") is None for c in hidden for o in c["outputs"])
    # The work cell shows nothing itself: its code joins the first figure's fold.
    assert shown[0]["source"].startswith("import pandas as pd")
    # Headings below an unnumbered one are unnumbered too.
    md = "\n".join(c["source"] for c in rp.cells if c["cell_type"] == "markdown")
    assert "### Modelldetaljer {.unnumbered}" in md


# ---------------------------------------------------------------------------- Quarto project
def test_quarto_project_is_a_valid_book(fake_root, tmp_path):
    project = tmp_path / "outputs" / "_quarto"
    cfg_path = book.write_quarto_project(project, fake_root)
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    assert cfg["project"]["type"] == "book"
    assert cfg["lang"] == "nb"
    assert cfg["execute"]["enabled"] is False
    assert cfg["number-sections"] is True
    html_fmt = cfg["format"]["html"]
    assert html_fmt["code-fold"] is True and html_fmt["code-summary"] == "Vis kode"
    assert cfg["book"]["search"] is True
    for key in ("title", "author", "date"):
        assert cfg["book"][key]
    assert not Path(cfg["project"]["output-dir"]).is_absolute()
    assert (project / cfg["project"]["output-dir"]).resolve() == (fake_root / "outputs" / "book").resolve()
    chapters = [p for p, (_, _, kind) in EXPECTED_PAGES.items() if kind == "chapter"]
    appendices = [p for p, (_, _, kind) in EXPECTED_PAGES.items() if kind == "appendix"]
    assert cfg["book"]["chapters"] == ["index.qmd", *(f"{p}.ipynb" for p in chapters)]
    assert cfg["book"]["appendices"] == [f"{p}.ipynb" for p in appendices]
    for name in cfg["project"]["render"]:
        assert (project / name).is_file(), name
    # The front page is unnumbered: its first heading says so (Quarto reads the first one).
    index = (project / "index.qmd").read_text(encoding="utf-8")
    assert index.startswith("# Om kompendiet {.unnumbered}")
    assert "Syntetiske data" in index and "(app-regnskap.html)" in index
    nb = nbformat.read(project / "04_hovedfunn.ipynb", as_version=4)
    assert nb.cells[0].cell_type == "raw" and "title: Hovedfunn etter kartleggingsarbeidet" in nb.cells[0].source
    assert "Syntetiske data" in nb.cells[1].source and ".callout-warning" in nb.cells[1].source
    assert not any(c.cell_type == "markdown" and c.source.lstrip().startswith("# ") for c in nb.cells)
    assert all(c.source.endswith("\n") for c in nb.cells[1:]), "Quarto joins cells as they are"
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not any(o.get("output_type") == "stream" for o in outputs)
    assert "<pandas." not in json.dumps(outputs) and "RAW-DF-REPR" not in json.dumps(outputs)
    assert any(o.get("metadata", {}).get("tillit", {}).get("label") == "fig-faktorer" for o in outputs)
    assert not any(o.get("metadata", {}).get("tillit", {}).get("kind") == "banner" for o in outputs)
    assert not any("nbk.start" in c.source for c in nb.cells)
    assert any(c.metadata.get("echo") is False for c in nb.cells if c.cell_type == "code")
    app = nbformat.read(project / "app-regnskap.ipynb", as_version=4)
    assert "title: Reproduksjonsregnskap" in app.cells[0].source
    assert (project / "figures" / "04_hovedfunn" / "fig-faktorer.svg").is_file()
    assert (project / "tables" / "02_innledning" / "tbl-tillit.csv").is_file()


def test_quarto_project_regenerates_but_never_wipes_a_foreign_dir(fake_root, tmp_path):
    project = tmp_path / "q"
    book.write_quarto_project(project, fake_root)
    (project / "stale.ipynb").write_text("{}")
    book.write_quarto_project(project, fake_root)          # our own project: regenerated
    assert not (project / "stale.ipynb").exists()
    foreign = tmp_path / "annet"
    foreign.mkdir()
    (foreign / "viktig.txt").write_text("behold meg")
    with pytest.raises(book.BookError, match="ikke et Quarto-prosjekt laget av tillit.book.render"):
        book.write_quarto_project(foreign, fake_root)
    assert (foreign / "viktig.txt").read_text() == "behold meg"


def test_language_file_fixes_danish_labels(fake_root, tmp_path):
    project = tmp_path / "q"
    cfg = yaml.safe_load(book.write_quarto_project(project, fake_root).read_text(encoding="utf-8"))
    lang = yaml.safe_load((project / cfg["language"]).read_text(encoding="utf-8"))
    assert lang["crossref-ch-prefix"] == "Kapittel"
    assert lang["crossref-apx-prefix"] == lang["section-title-appendices"] == book.APPENDIX_WORD == "Tillegg"
    assert lang["callout-note-title"] == "Merk"
    assert lang["crossref-fig-title"] == "Figur" and lang["crossref-tbl-title"] == "Tabell"
    assert lang["code-summary"] == "Vis kode"


# ---------------------------------------------------------------------------- fallback
def test_fallback_says_which_renderer_ran(fallback_book, fake_root):
    assert fallback_book.renderer == "nbconvert-fallback" and fallback_book.status == "ok"
    assert fallback_book.index_path == fake_root / "outputs" / "book" / "index.html"
    assert (fake_root / "outputs" / "book" / ".renderer").read_text().strip() == "nbconvert-fallback"
    assert sorted(p.name for p in fallback_book.pages) == sorted(_order())
    assert stat.S_IMODE((fake_root / "outputs" / "book").stat().st_mode) == 0o755


def test_index_is_unnumbered_and_links_every_page(fallback_book):
    soup = _soup(fallback_book.index_path)
    hrefs = [a["href"] for a in soup.select("main .chapter-list a")]
    assert hrefs == _order()[1:]
    assert soup.select_one("main .data-banner") is not None
    assert not soup.select(".header-section-number")
    assert soup.select_one("h1#om-kompendiet.unnumbered")


def test_prev_next_chain_walks_the_book_in_order(fallback_book):
    order = _order()
    out = fallback_book.index_path.parent
    for i, page in enumerate(order):
        soup = _soup(out / page)
        nxt = soup.select_one("nav.pager a.next")
        prev = soup.select_one("nav.pager a.prev")
        assert (nxt["href"] if nxt else None) == (order[i + 1] if i + 1 < len(order) else None), page
        assert (prev["href"] if prev else None) == (order[i - 1] if i else None), page


def test_every_page_has_banner_sidebar_and_norwegian_ui(fallback_book):
    for page in fallback_book.pages:
        soup = _soup(page)
        banner = soup.select_one(".data-banner")
        assert banner is not None and "Syntetiske data" in banner.get_text(), page.name
        assert "syntetisk tvilling" in banner.get_text()
        # The notebook's own banner output is not repeated under the page banner.
        assert len(soup.find_all(string=re.compile("Syntetiske data"))) == 2, page.name  # tag + banner
        toc = soup.select("aside .toc-list > li > a")
        assert len(toc) == len(EXPECTED_PAGES) + 1, page.name
        assert soup.select_one("aside .toc-group").get_text(strip=True) == "Tillegg"
        text = soup.get_text(" ")
        for word in ("Innhold", "Søk"):
            assert word in text, (page.name, word)
        assert soup.html["lang"] == "nb"


def test_chapter_titles_are_numbered_and_appendices_lettered(fallback_book):
    out = fallback_book.index_path.parent
    for pid, (number, title, kind) in EXPECTED_PAGES.items():
        h1 = _soup(out / f"{pid}.html").select_one("article h1").get_text(" ", strip=True)
        assert h1 == (f"Tillegg {number} — {title}" if kind == "appendix" else f"{number} {title}"), pid


def test_setup_cells_are_gone_and_code_is_folded_only_for_figures_and_tables(fallback_book):
    out = fallback_book.index_path.parent
    for page in fallback_book.pages:
        soup = _soup(page)
        folds = soup.select("details.code")
        assert all(d.summary.get_text(strip=True) == "Vis kode" and not d.has_attr("open") for d in folds)
        assert all(pre.find_parent("details") for pre in soup.select("main pre"))
        for d in folds:
            section = d.find_parent("section")
            assert section.select("figure, table"), (page.name, d.get_text()[:60])
            assert "nbk.start" not in d.get_text() and "min_cell = 5" not in d.get_text()
    assert len(_soup(out / "04_hovedfunn.html").select("details.code")) == 2
    assert not _soup(out / "05_videre_arbeid.html").select("details.code")   # prose only


def test_noise_is_gone(fallback_book):
    soup = _soup(fallback_book.index_path.parent / "04_hovedfunn.html")
    for d in soup.select("details.code"):
        d.decompose()
    text = soup.get_text(" ")
    for noise in ("FutureWarning", "DeprecationWarning", "mellomregning 42", "RAW-DF-REPR", "<pandas", "In [",
                  "Out[", "Traceback"):
        assert noise not in text, noise
    assert not soup.select("table.dataframe")


def test_crossrefs_become_numbered_links(fallback_book):
    soup = _soup(fallback_book.index_path.parent / "04_hovedfunn.html")
    links = {a.get_text(): a["href"] for a in soup.select("article a") if "#fig-" in a["href"] or "#tbl-" in a["href"]}
    assert links["figur 3.1"] == "#fig-faktorer"
    assert links["3.1"] == "#fig-faktorer"                      # [-@fig-faktorer]
    assert links["Tabell 2.1"] == "02_innledning.html#tbl-tillit"
    assert links["figur B.1"] == "app-metode.html#fig-sammenligning"
    assert "@fig-" not in soup.get_text() and "@Tbl-" not in soup.get_text()
    assert "post@nav.no" in soup.get_text()


def test_captions_are_numbered_per_chapter(fallback_book):
    out = fallback_book.index_path.parent
    soup = _soup(out / "04_hovedfunn.html")
    assert soup.select_one("#fig-faktorer figcaption").get_text().startswith("Figur 3.1: Figurtekst")
    assert soup.select_one("#tbl-styring caption").get_text().startswith("Tabell 3.1: Tabelltekst")
    assert _soup(out / "app-metode.html").select_one("#fig-sammenligning figcaption").get_text().startswith("Figur B.1:")
    assert _soup(out / "app-data.html").select_one("#tbl-rensing caption").get_text().startswith("Tabell A.1:")


def test_sections_are_numbered_like_quarto(fallback_book):
    soup = _soup(fallback_book.index_path.parent / "04_hovedfunn.html")
    assert len(soup.select("h1")) == 1, "notatbokens egen tittel skal ikke gi en ekstra h1"
    assert "Innledende avsnitt skrevet i notatboken." in soup.get_text()
    heads = [(h.name, h.get_text(" ", strip=True)) for h in soup.select("article h2, article h3, article h4")]
    assert heads == EXPECTED_HOVEDFUNN
    assert soup.select_one("h2#sec-kommune") is not None
    summary = _soup(fallback_book.index_path.parent / "01_sammendrag.html")
    assert [h.get_text(" ", strip=True) for h in summary.select("article h2")] == ["1.1 Formål", "Hovedfunn i tall"]


def test_figures_have_alt_text_and_files(fallback_book):
    out = fallback_book.index_path.parent
    for page in fallback_book.pages:
        for img in _soup(page).select("img"):
            assert img.get("alt", "").strip(), (page.name, img)
            src = img["src"]
            if not src.startswith("data:"):
                assert (out / src).is_file(), src


def test_csv_and_provenance_links_resolve(fallback_book):
    out = fallback_book.index_path.parent
    soup = _soup(out / "02_innledning.html")
    assert "tables/02_innledning/tbl-tillit.csv" in [a["href"] for a in soup.select("a.csv")]
    for page in fallback_book.pages:
        for a in _soup(page).select("a[href]"):
            href = a["href"].split("#")[0]
            if href and not re.match(r"^[a-z]+:", href):
                assert (out / href).is_file(), (page.name, href)
    prov = soup.select_one(".provenance")
    assert "02_innledning.ipynb" in prov.get_text() and "commit" in prov.get_text()


def test_methods_appendix_names_the_versions_and_the_renderer(fallback_book):
    from importlib.metadata import version

    soup = _soup(fallback_book.index_path.parent / "app-metode.html")
    text = soup.get_text(" ")
    for name in ("pandas", "statsmodels", "numpy", "scipy", "seaborn", "matplotlib", "papermill"):
        assert f"{name} {version(name)}" in re.sub(r"\s+", " ", text), name
    assert f"nbconvert-reserveløsningen (nbconvert {version('nbconvert')}" in text
    assert "{{<" not in text and "{{&lt;" not in str(soup)


def test_search_index_covers_every_page(fallback_book):
    out = fallback_book.index_path.parent
    js = (out / "static" / "search-index.js").read_text(encoding="utf-8")
    data = json.loads(js.removeprefix("window.TILLIT_SEARCH = ").rstrip().rstrip(";"))
    assert {d["url"] for d in data} == {p.name for p in fallback_book.pages}
    hovedfunn = next(d for d in data if d["url"] == "04_hovedfunn.html")
    assert "figur 3.1" in hovedfunn["text"] and "import pandas" not in hovedfunn["text"]


# ---------------------------------------------------------------------------- cache
def _copy_root(tmp_path) -> Path:
    return build_fake_root(tmp_path)


def test_unchanged_book_is_not_rendered_again(tmp_path):
    root = _copy_root(tmp_path)
    first = book.render(root, renderer="fallback")
    index = first.index_path
    stamp = index.stat().st_mtime_ns
    again = book.render(root, renderer="fallback")
    assert again.status == "cached" and again.index_path.stat().st_mtime_ns == stamp
    assert [p.name for p in again.pages] == [p.name for p in first.pages]
    # Every input of the book is in the key: a template, the book config, the data source.
    for path in (root / "params" / "report.yml", root / "data" / "processed" / "data_source.json"):
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(text.replace('"seed": 2023', '"seed": 2024') if path.suffix == ".json"
                        else "title: Ny tittel\n", encoding="utf-8")
        assert book.render(root, renderer="fallback").status == "ok", path
    assert "Ny tittel" in _soup(root / "outputs" / "book" / "index.html").get_text()
    # A deleted page means a new render, not a cached answer.
    (root / "outputs" / "book" / "02_innledning.html").unlink()
    assert book.render(root, renderer="fallback").status == "ok"
    assert book.render(root, renderer="fallback", force=True).status == "ok"


def test_edit_to_one_chapter_re_renders_that_page_and_what_points_at_it(tmp_path):
    root = _copy_root(tmp_path)
    book.render(root, renderer="fallback")
    # Prose of chapter 5 only: its page and the search index change, nothing else.
    path = root / "outputs" / "notebooks" / "05_videre_arbeid.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].outputs[0]["data"]["text/markdown"] += "\nEn ny setning om fase to.\n"
    nbformat.write(nb, path)
    t0 = time.perf_counter()
    result = book.render(root, renderer="fallback")
    seconds = time.perf_counter() - t0
    assert result.rendered == ["05_videre_arbeid"], result.rendered
    assert "En ny setning" in (root / "outputs" / "book" / "05_videre_arbeid.html").read_text(encoding="utf-8")
    assert "En ny setning" in (root / "outputs" / "book" / "static" / "search-index.js").read_text(encoding="utf-8")
    assert seconds < 30  # a guard against re-rendering everything, not a benchmark
    # A new figure in the appendix renumbers B.1 → B.2: the appendix and the chapter citing it.
    path = root / "outputs" / "notebooks" / "06_vedlegg.ipynb"
    nb = nbformat.read(path, as_version=4)
    k = next(i for i, c in enumerate(nb.cells) if "app-metode" in c.source)
    fig = next(c for c in nb.cells if c.cell_type == "code" and any(
        o.get("metadata", {}).get("tillit", {}).get("label") == "fig-sammenligning" for o in c.outputs))
    extra = nbformat.from_dict(json.loads(json.dumps(fig)))
    extra.id = "ekstra-figur"
    extra.outputs[0]["metadata"]["tillit"]["label"] = "fig-ekstra"
    extra.outputs[0]["metadata"]["tillit"]["html"] = extra.outputs[0]["metadata"]["tillit"]["html"].replace(
        'id="fig-sammenligning"', 'id="fig-ekstra"')
    nb.cells.insert(k + 1, extra)
    nbformat.write(nb, path)
    result = book.render(root, renderer="fallback")
    assert sorted(result.rendered) == ["04_hovedfunn", "app-metode"]
    assert "01_sammendrag" in result.reused and "02_innledning" in result.reused
    links = {a.get_text(): a["href"] for a in _soup(root / "outputs" / "book" / "04_hovedfunn.html").select("article a")}
    assert links["figur B.2"] == "app-metode.html#fig-sammenligning"


# ---------------------------------------------------------------------------- failures
def test_failed_render_leaves_previous_book(fake_root, fallback_book, tmp_path):
    out = fake_root / "outputs" / "book"
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    broken = fake_root / "outputs" / "notebooks" / "05_videre_arbeid.ipynb"
    good = broken.read_bytes()
    nb = nbformat.reads(good.decode(), as_version=4)
    nb.cells[-1].outputs.append(nbformat.v4.new_output("display_data", data={"text/markdown": "Se @fig-finnesikke."}))
    broken.write_text(nbformat.writes(nb), encoding="utf-8")
    try:
        with pytest.raises(book.BookError, match=r"05_videre_arbeid\.ipynb: celle \d+: kryssreferansen '@fig-finnesikke'"):
            book.render(fake_root, renderer="fallback")
    finally:
        broken.write_bytes(good)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in (fake_root / "outputs").iterdir() if p.name.startswith(".book")]


def test_notebook_with_error_output_is_refused(tmp_path):
    root = build_fake_root(tmp_path)
    path = root / "outputs" / "notebooks" / "02_innledning.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].outputs.append(nbformat.v4.new_output("error", ename="KeyError", evalue="'rolle'", traceback=[]))
    nbformat.write(nb, path)
    with pytest.raises(book.BookError, match=r"02_innledning\.ipynb: celle \d+ endte med feil KeyError"):
        book.render(root, renderer="fallback")
    assert not (root / "outputs" / "book").exists()


def test_figure_without_fallback_html_is_named(tmp_path):
    root = build_fake_root(tmp_path)
    path = root / "outputs" / "notebooks" / "04_hovedfunn.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            out.get("metadata", {}).get("tillit", {}).pop("html", None)
    nbformat.write(nb, path)
    with pytest.raises(book.BookError, match=r"04_hovedfunn\.ipynb: celle \d+: figure 'fig-faktorer' mangler"):
        book.render(root, renderer="fallback")


def test_missing_or_bad_data_source_is_named(tmp_path):
    root = build_fake_root(tmp_path)
    src = root / "data" / "processed" / "data_source.json"
    src.write_text('{"kind": "ekte"}', encoding="utf-8")
    with pytest.raises(book.BookError, match=r"data_source\.json: feltet 'kind' er 'ekte'"):
        book.render(root, renderer="fallback")
    src.unlink()
    with pytest.raises(book.BookError, match="data_source.json: mangler"):
        book.render(root, renderer="fallback")


def test_real_data_banner(tmp_path):
    root = build_fake_root(tmp_path, kind="real")
    result = book.render(root, renderer="fallback")
    for page in result.pages:
        text = _soup(page).select_one(".data-banner").get_text()
        assert "Reelle data" in text and "Syntetiske" not in text


# ---------------------------------------------------------------------------- renderer choice
FAKE_QUARTO = """#!{python}
# FAKE quarto for tests: it does NOT render anything. It records its arguments and writes a
# stub index.html into --output-dir, so only the wiring of tillit.book.render.render is tested.
import json, sys, pathlib
args = sys.argv[1:]
if args == ["--version"]:
    print("0.0.0-falsk")
    sys.exit(0)
pathlib.Path({log!r}).write_text(json.dumps(args))
out = pathlib.Path(args[args.index("--output-dir") + 1])
out.mkdir(parents=True, exist_ok=True)
(out / "index.html").write_text("<html><body>falsk quarto</body></html>")
print("WARNING (filter.lua:1) falsk advarsel", file=sys.stderr)
sys.exit({code})
"""


def _fake_quarto(bin_dir: Path, log: Path, code: int = 0) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "quarto"
    exe.write_text(FAKE_QUARTO.format(python=sys.executable, log=str(log), code=code), encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_auto_uses_fallback_without_quarto_on_path(tmp_path, monkeypatch):
    root = build_fake_root(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = book.render(root, renderer="auto")
    assert result.renderer == "nbconvert-fallback"
    with pytest.raises(book.BookError, match="quarto finnes ikke på PATH"):
        book.render(root, renderer="quarto")


def test_auto_uses_quarto_when_on_path_wiring_only(tmp_path, monkeypatch):
    """Wiring only, with a FAKE quarto script: checks that auto picks quarto and what it is asked."""
    root = build_fake_root(tmp_path)
    log = tmp_path / "quarto-args.json"
    _fake_quarto(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = book.render(root, renderer="auto")
    assert result.renderer == "quarto" and result.version == "Quarto 0.0.0-falsk"
    args = json.loads(log.read_text())
    assert args[0] == "render" and Path(args[1]) == root / "outputs" / "_quarto"
    assert "--no-execute" in args
    assert (root / "outputs" / "_quarto" / "_quarto.yml").is_file()
    assert "falsk quarto" in result.index_path.read_text()
    assert (root / "outputs" / "book" / ".renderer").read_text().strip() == "quarto"
    assert result.warnings == ["quarto: WARNING (filter.lua:1) falsk advarsel"]
    # Cached: same inputs, same Quarto; the warnings are reported again.
    log.unlink()
    again = book.render(root, renderer="auto")
    assert again.status == "cached" and again.warnings == result.warnings and not log.exists()
    # A failing quarto leaves that book in place.
    _fake_quarto(tmp_path / "bin", log, code=1)
    with pytest.raises(book.BookError, match="quarto render feilet"):
        book.render(root, renderer="auto", force=True)
    assert "falsk quarto" in result.index_path.read_text()


# ---------------------------------------------------------------------------- chart colours
def _contrast(a, b) -> float:
    """WCAG 2.1 contrast ratio of two colours."""
    import matplotlib.colors as mc

    def lum(c):
        ch = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in mc.to_rgb(c)]
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]
    hi, lo = sorted([lum(a), lum(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula():
    assert round(_contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(_contrast("#777777", "#ffffff"), 2) == 4.48


def test_chart_colours_meet_wcag_contrast():
    """WCAG 2.1 1.4.11 and 1.4.3 for the charts (tillit.book.plots): every fill ≥ 3:1 against
    the white background, text ≥ 4.5:1 against what it is drawn on (TEXT on the background;
    on a bar, the ink plots picks for that bar's colour)."""
    import matplotlib.colors as mc

    from tillit.book import plots

    bg = "#ffffff"
    fills = {f"QUALITATIVE[{i}]": c for i, c in enumerate(plots.QUALITATIVE)}
    fills |= {"DONT_KNOW": plots.DONT_KNOW, "NEUTRAL": plots.NEUTRAL}
    fills |= {f"diverging_colors(5)[{i}]": mc.to_hex(c) for i, c in enumerate(plots.diverging_colors(5))}
    if hasattr(plots, "sequential_colors"):
        fills |= {f"sequential_colors(5)[{i}]": mc.to_hex(c) for i, c in enumerate(plots.sequential_colors(5))}
    bad = [f"{name} {mc.to_hex(c)}: {_contrast(c, bg):.2f}:1 mot hvit (krav 3:1)"
           for name, c in fills.items() if _contrast(c, bg) < 3]
    ink = getattr(plots, "_ink", lambda c: max(("white", plots.TEXT), key=lambda t: _contrast(t, c)))
    texts = [("TEXT", plots.TEXT, "bakgrunnen", bg)] + [("tekst", ink(c), name, c) for name, c in fills.items()]
    bad += [f"{t} {mc.to_hex(fg)} på {where} {mc.to_hex(back)}: {_contrast(fg, back):.2f}:1 (krav 4,5:1)"
            for t, fg, where, back in texts if _contrast(fg, back) < 4.5]
    assert not bad, "fargene i figurene (tillit.book.plots) har for lav kontrast:\n" + "\n".join(bad)


def test_notebook_pages_anchor_cells_and_load_nothing_from_elsewhere(fallback_book):
    out = fallback_book.index_path.parent
    for name in ("00_klargjoring", "04_hovedfunn", "06_vedlegg"):
        page = (out / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
        assert 'id="celle-' in page and (out / "notebooks" / f"{name}.ipynb").is_file()
        assert 'href="../index.html"' in page and not re.search(r'(?:href|src)="(?:figures|tables)/', page)
    for page in [*out.glob("*.html"), *out.glob("notebooks/*.html")]:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'<(?:script|link|img)\b[^>]*(?:src|href)="https?://', text), page.name


def test_links_to_missing_pages_are_reported(tmp_path):
    from tillit.book.render.run import dangling_links

    (tmp_path / "index.html").write_text('<a href="./a.html">a</a> <a href="https://nav.no/x.html">ut</a>')
    (tmp_path / "a.html").write_text('<a href="app-regnskap.html#ledger-x">41 %</a> <a href="#fig-a">figur</a>')
    assert dangling_links(tmp_path) == ["a.html: lenke til app-regnskap.html, som ikke finnes i boka"]


def test_fixture_book_has_no_dangling_links(fallback_book):
    assert not [w for w in fallback_book.warnings if "som ikke finnes i boka" in w]
