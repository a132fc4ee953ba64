"""The HTML book (tillit.book.render): the Quarto project it writes, and the nbconvert fallback
rendered from fake executed notebooks built with the project's own report helpers."""
from __future__ import annotations

import json
import os
import re
import stat
import sys
import textwrap
from pathlib import Path
from unittest import mock

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

from tillit.book import render as book
from tillit.book.provenance import Provenance

# The fixture book: 04_0 is the part page of 04_1 and 04_4; numbers as Quarto gives them.
FIXTURE_PIPELINE = textwrap.dedent("""\
    parameters: params/default.yml
    notebooks:
      - {name: 00_klargjoring, title: "Klargjøring av data", book: false}
      - {name: 01_sammendrag, title: "Sammendrag"}
      - {name: 02_innledning, title: "Innledning"}
      - {name: 04_0_hovedfunn, title: "Hovedfunn etter kartleggingsarbeidet"}
      - {name: 04_1_kompetanse, title: "Mål 1: Faglighet og kompetanse", part: 04_0_hovedfunn}
      - {name: 04_4_styring, title: "Mål 4: Mål- og resultatstyring og handlingsrom", part: 04_0_hovedfunn}
      - {name: 05_videre_arbeid, title: "Videre arbeid"}
      - {name: 06_vedlegg, title: "Vedlegg", appendix: true}
    overrides: {}
    workers: 0
    """)
EXPECTED_NUMBERS = {"01_sammendrag": "1", "02_innledning": "2", "04_0_hovedfunn": None,
                    "04_1_kompetanse": "3", "04_4_styring": "4", "05_videre_arbeid": "5",
                    "06_vedlegg": "A"}
FREE_TEXT = "Jeg opplever at lederen min stoler på meg, men fagsystemene stopper meg hver dag."


def _capture(fn, *args, **kwargs) -> list[dict]:
    """Run a tillit.book.display helper and return the display bundles it emitted as nbformat outputs."""
    captured = []

    def fake_display(obj, raw=False, metadata=None, **_):
        captured.append(nbformat.v4.new_output("display_data", data=obj, metadata=metadata or {}))

    with mock.patch("IPython.display.display", fake_display):
        fn(*args, **kwargs)
    return captured


def _figure():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.barh(["Regelverk", "Tid", "Kompetanse"], [-12.5, 8.0, 30.25], color="#0072B2")
    ax.set_xlabel("Netto effekt (prosentpoeng)")
    return fig


def _chapter_notebook(root: Path, name: str, title: str, kind: str = "synthetic") -> nbformat.NotebookNode:
    from tillit.book import display as report

    out_dir = root / "outputs"
    prov = Provenance(notebook=name, cell=3, params="params/default.yml", data_sha256="ab" * 32, commit="0123456789")
    params = nbformat.v4.new_code_cell("data_dir = 'data/processed'\nmin_cell = 5")
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell("# Parameters\nmin_cell = 5\n")
    injected.metadata["tags"] = ["injected-parameters"]
    work = nbformat.v4.new_code_cell("import pandas as pd\ndf = pd.DataFrame({'a': [1]})\ndf")
    work.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="FutureWarning: noe er utdatert\n"),
        nbformat.v4.new_output("stream", name="stdout", text="mellomregning 42\n"),
        nbformat.v4.new_output("execute_result", data={
            "text/plain": "   a\n0  1",
            "text/html": '<table border="1" class="dataframe"><tr><td>RAW-DF-REPR</td></tr></table>'},
            execution_count=3),
        nbformat.v4.new_output("execute_result", data={"text/plain": "<pandas.core.frame.DataFrame object at 0x7f>"},
                               execution_count=3),
    ]
    title_md = nbformat.v4.new_markdown_cell(f"# {title}\n\nInnledende avsnitt skrevet i notatboken.")
    cells = [title_md, params, injected, work]
    slug = name.split("_", 2)[-1]
    start = nbformat.v4.new_code_cell("ctx = nbk.start(...)")
    from tillit.book.context import data_source_text
    level, btext = data_source_text({"kind": kind, "seed": 2023})
    start.outputs = _capture(report.show_callout, btext, kind="banner", level=level,
                             title="Syntetiske data" if kind == "synthetic" else "Reelle data")
    cells.append(start)
    prose = nbformat.v4.new_code_cell("nbk.prose(...)")
    text = f"## Om {title.lower()}\n\nDette kapitlet handler om {title.lower()}."
    if name == "04_4_styring":
        text += (" Som @fig-faktorer viser, trekker regelverket ned; [-@fig-faktorer] er sortert etter "
                 "netto effekt. @Tbl-tillit i kapittel 3 gir tallene. Skriv til post@nav.no.\n\n"
                 "### Nedbrytning\n\nEn underseksjon.\n\n## Styring i kommunene {#sec-kommune}\n\nMer tekst.")
    prose.outputs = _capture(report.show_prose, text)
    cells.append(prose)
    if name in ("04_4_styring", "04_1_kompetanse", "06_vedlegg"):
        fig_label = {"04_4_styring": "fig-faktorer", "04_1_kompetanse": "fig-kompetanse",
                     "06_vedlegg": "fig-sammenligning"}[name]
        figcell = nbformat.v4.new_code_cell("fig = plots.faktorer(...)\nnbk.figure(fig)")
        figcell.outputs = _capture(
            report.show_figure, _figure(), notebook=name, output_dir=out_dir, label=fig_label,
            caption=f"Figurtekst for {slug} (n = 1 234)", alt=f"Liggende stolper for {slug}: regelverk trekker ned",
            provenance=prov, data=__import__("pandas").DataFrame({"faktor": ["Regelverk"], "netto": [-12.5]}))
        cells.append(figcell)
    if name in ("04_1_kompetanse", "04_4_styring"):
        import pandas as pd

        tbl_label = {"04_1_kompetanse": "tbl-tillit", "04_4_styring": "tbl-styring"}[name]
        tcell = nbformat.v4.new_code_cell("nbk.table(t)")
        tcell.outputs = _capture(
            report.show_table, pd.DataFrame({"Enhet": ["NAV-kontor", "NKS"], "Andel": ["41,5 %", "38,0 %"], "n": ["812", "97"]}),
            notebook=name, output_dir=out_dir, label=tbl_label, caption=f"Tabelltekst for {slug}",
            provenance=prov)
        cells.append(tcell)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def build_fake_root(base: Path, kind: str = "synthetic") -> Path:
    """A miniature compendium: params/pipeline.yml, source notebooks, executed notebooks,
    figures/tables under outputs/, data_source.json and a raw survey with free text."""
    root = base / "repo"
    (root / "params").mkdir(parents=True)
    (root / "params" / "pipeline.yml").write_text(FIXTURE_PIPELINE, encoding="utf-8")
    (root / "params" / "default.yml").write_text("min_cell: 5\n", encoding="utf-8")
    spec = yaml.safe_load(FIXTURE_PIPELINE)
    (root / "notebooks").mkdir()
    (root / "outputs" / "notebooks").mkdir(parents=True)
    for entry in spec["notebooks"]:
        name = entry["name"]
        nbformat.write(nbformat.v4.new_notebook(), root / "notebooks" / f"{name}.ipynb")
        nb = _chapter_notebook(root, name, entry["title"], kind) if entry.get("book", True) else nbformat.v4.new_notebook()
        nbformat.write(nb, root / "outputs" / "notebooks" / f"{name}.ipynb")
    (root / "data" / "processed").mkdir(parents=True)
    (root / "data" / "processed" / "data_source.json").write_text(
        json.dumps({"kind": kind, "seed": 2023, "files": {}}), encoding="utf-8")
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "survey_2023.csv").write_text(
        f'RespondentID,Rolle,Utdypende svar\nR000123,Leder,"{FREE_TEXT}"\n', encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    return build_fake_root(tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="module")
def fallback_book(fake_root) -> book.RenderResult:
    with mock.patch.dict(os.environ, {"TILLIT_ROOT": str(fake_root)}):
        return book.render(fake_root, renderer="fallback")


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


# ---------------------------------------------------------------------------- structure
def test_structure_numbers_chapters_parts_and_appendices(fake_root):
    chapters = book.book_structure(fake_root)
    assert {c.name: c.number for c in chapters} == EXPECTED_NUMBERS
    kinds = {c.name: c.kind for c in chapters}
    assert kinds["04_0_hovedfunn"] == "part" and kinds["06_vedlegg"] == "appendix"
    assert "00_klargjoring" not in kinds


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
    # Output goes to the repo's outputs/book, relative to the project.
    assert not Path(cfg["project"]["output-dir"]).is_absolute()
    assert (project / cfg["project"]["output-dir"]).resolve() == (fake_root / "outputs" / "book").resolve()
    chapters = cfg["book"]["chapters"]
    assert chapters[0] == "index.qmd"
    flat = [c for c in chapters if isinstance(c, str)]
    assert flat == ["index.qmd", "01_sammendrag.ipynb", "02_innledning.ipynb", "05_videre_arbeid.ipynb"]
    part = next(c for c in chapters if isinstance(c, dict))
    assert part == {"part": "04_0_hovedfunn.ipynb", "chapters": ["04_1_kompetanse.ipynb", "04_4_styring.ipynb"]}
    assert cfg["book"]["appendices"] == ["06_vedlegg.ipynb"]
    assert "00_klargjoring.ipynb" not in cfg["project"]["render"]
    # Every chapter file and the index exist; chapters carry title and the data banner.
    for name in cfg["project"]["render"]:
        assert (project / name).is_file(), name
    nb = nbformat.read(project / "04_4_styring.ipynb", as_version=4)
    assert nb.cells[0].cell_type == "raw" and "title: 'Mål 4" in nb.cells[0].source
    assert "Syntetiske data" in nb.cells[1].source and ".callout-warning" in nb.cells[1].source
    assert not any(c.cell_type == "markdown" and c.source.lstrip().startswith("# ") for c in nb.cells)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not any(o.get("output_type") == "stream" for o in outputs)
    assert "<pandas." not in json.dumps(outputs) and "RAW-DF-REPR" not in json.dumps(outputs)
    assert any(o.get("metadata", {}).get("tillit", {}).get("label") == "fig-faktorer" for o in outputs)
    assert not any(o.get("metadata", {}).get("tillit", {}).get("kind") == "banner" for o in outputs)
    assert "Syntetiske data" in (project / "index.qmd").read_text(encoding="utf-8")
    # Figures/tables/notebooks sit under the project root where the book-root-relative paths point.
    assert (project / "figures" / "04_4_styring" / "fig-faktorer.png").is_file()
    assert (project / "tables" / "04_1_kompetanse" / "tbl-tillit.csv").is_file()


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
    assert lang["crossref-apx-prefix"] == "Vedlegg"
    assert lang["section-title-appendices"] == "Vedlegg"
    assert lang["callout-note-title"] == "Merk"
    assert lang["crossref-fig-title"] == "Figur" and lang["crossref-tbl-title"] == "Tabell"
    assert lang["code-summary"] == "Vis kode"


# ---------------------------------------------------------------------------- fallback
def test_fallback_says_which_renderer_ran(fallback_book, fake_root):
    assert fallback_book.renderer == "nbconvert-fallback"
    assert fallback_book.index_path == fake_root / "outputs" / "book" / "index.html"
    assert (fake_root / "outputs" / "book" / ".renderer").read_text().strip() == "nbconvert-fallback"
    names = sorted(p.name for p in fallback_book.pages)
    assert names == sorted(["index.html", *(f"{n}.html" for n in EXPECTED_NUMBERS)])


def test_index_links_every_chapter(fallback_book):
    soup = _soup(fallback_book.index_path)
    hrefs = {a["href"] for a in soup.select("main .chapter-list a")}
    assert hrefs == {f"{n}.html" for n in EXPECTED_NUMBERS}
    assert soup.select_one("main .data-banner") is not None


def test_prev_next_chain_walks_the_book_in_order(fallback_book):
    order = ["index.html", *(f"{n}.html" for n in EXPECTED_NUMBERS)]
    out = fallback_book.index_path.parent
    for i, page in enumerate(order):
        soup = _soup(out / page)
        nxt = soup.select_one("nav.pager a.next")
        prev = soup.select_one("nav.pager a.prev")
        if i + 1 < len(order):
            assert nxt["href"] == order[i + 1], page
        else:
            assert nxt is None
        if i:
            assert prev["href"] == order[i - 1], page
        else:
            assert prev is None


def test_every_page_has_banner_sidebar_and_norwegian_ui(fallback_book):
    for page in fallback_book.pages:
        soup = _soup(page)
        banner = soup.select_one(".data-banner")
        assert banner is not None and "Syntetiske data" in banner.get_text(), page.name
        assert "syntetisk tvilling" in banner.get_text()
        # The notebook's own banner output is not repeated under the page banner.
        assert len(soup.find_all(string=re.compile("Syntetiske data"))) == 2, page.name  # tag + banner
        toc = soup.select("aside .toc-list > li > a")
        assert len(toc) == len(EXPECTED_NUMBERS) + 1, page.name
        text = soup.get_text(" ")
        for word in ("Innhold", "Søk"):
            assert word in text, (page.name, word)
        assert soup.html["lang"] == "nb"


def test_code_is_folded_and_noise_is_gone(fallback_book):
    page = fallback_book.index_path.parent / "04_4_styring.html"
    soup = _soup(page)
    folds = soup.select("details.code")
    assert folds and all(d.summary.get_text(strip=True) == "Vis kode" for d in folds)
    assert all(not d.has_attr("open") for d in folds)
    assert all(pre.find_parent("details") for pre in soup.select("main pre"))
    visible = BeautifulSoup(str(soup), "html.parser")
    for d in visible.select("details.code"):
        d.decompose()
    text = visible.get_text(" ")
    for noise in ("FutureWarning", "mellomregning 42", "RAW-DF-REPR", "<pandas", "In [", "Out[", "Traceback"):
        assert noise not in text, noise
    assert not visible.select("table.dataframe")


def test_crossrefs_become_numbered_links(fallback_book):
    soup = _soup(fallback_book.index_path.parent / "04_4_styring.html")
    links = {a.get_text(): a["href"] for a in soup.select("article a") if a["href"].rsplit("#", 1)[-1].startswith(("fig-", "tbl-"))}
    assert links["figur 4.1"] == "#fig-faktorer"
    assert links["4.1"] == "#fig-faktorer"                      # [-@fig-faktorer]
    assert links["Tabell 3.1"] == "04_1_kompetanse.html#tbl-tillit"
    assert "@fig-" not in soup.get_text() and "@Tbl-" not in soup.get_text()
    assert "post@nav.no" in soup.get_text()


def test_captions_are_numbered_per_chapter(fallback_book):
    out = fallback_book.index_path.parent
    soup = _soup(out / "04_4_styring.html")
    assert soup.select_one("#fig-faktorer figcaption").get_text().startswith("Figur 4.1: Figurtekst")
    assert soup.select_one("#tbl-styring caption").get_text().startswith("Tabell 4.1: Tabelltekst")
    appendix = _soup(out / "06_vedlegg.html")
    assert appendix.select_one("#fig-sammenligning figcaption").get_text().startswith("Figur A.1:")
    assert appendix.select_one("h1").get_text(strip=True).startswith("Vedlegg A")


def test_sections_are_numbered_like_quarto(fallback_book):
    soup = _soup(fallback_book.index_path.parent / "04_4_styring.html")
    assert len(soup.select("h1")) == 1, "notatbokens egen tittel skal ikke gi en ekstra h1"
    assert "Innledende avsnitt skrevet i notatboken." in soup.get_text()
    heads = [h.get_text(" ", strip=True) for h in soup.select("article h2, article h3")]
    assert heads[:3] == ["4.1 Om mål 4: mål- og resultatstyring og handlingsrom", "4.1.1 Nedbrytning",
                         "4.2 Styring i kommunene"]
    assert soup.select_one("h2#sec-kommune") is not None
    part = _soup(fallback_book.index_path.parent / "04_0_hovedfunn.html")
    assert not part.select(".section-number")


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
    soup = _soup(out / "04_1_kompetanse.html")
    csvs = [a["href"] for a in soup.select("a.csv")]
    assert "tables/04_1_kompetanse/tbl-tillit.csv" in csvs
    for page in fallback_book.pages:
        for a in _soup(page).select("a[href]"):
            href = a["href"].split("#")[0]
            if href and not re.match(r"^[a-z]+:", href):
                assert (out / href).is_file(), (page.name, href)
    prov = soup.select_one(".provenance")
    assert "04_1_kompetanse.ipynb" in prov.get_text() and "commit" in prov.get_text()


def test_search_index_covers_every_page(fallback_book):
    out = fallback_book.index_path.parent
    js = (out / "static" / "search-index.js").read_text(encoding="utf-8")
    data = json.loads(js.removeprefix("window.TILLIT_SEARCH = ").rstrip().rstrip(";"))
    assert {d["url"] for d in data} == {p.name for p in fallback_book.pages}
    styring = next(d for d in data if d["url"] == "04_4_styring.html")
    assert "figur 4.1" in styring["text"] and "import pandas" not in styring["text"]


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
    path = root / "outputs" / "notebooks" / "04_1_kompetanse.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            out.get("metadata", {}).get("tillit", {}).pop("html", None)
    nbformat.write(nb, path)
    with pytest.raises(book.BookError, match=r"04_1_kompetanse\.ipynb: celle \d+: figure 'fig-kompetanse' mangler"):
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
pathlib.Path({log!r}).write_text(json.dumps(args))
out = pathlib.Path(args[args.index("--output-dir") + 1])
out.mkdir(parents=True, exist_ok=True)
(out / "index.html").write_text("<html><body>falsk quarto</body></html>")
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
    assert result.renderer == "quarto"
    args = json.loads(log.read_text())
    assert args[0] == "render" and Path(args[1]) == root / "outputs" / "_quarto"
    assert "--no-execute" in args
    assert (root / "outputs" / "_quarto" / "_quarto.yml").is_file()
    assert "falsk quarto" in result.index_path.read_text()
    assert (root / "outputs" / "book" / ".renderer").read_text().strip() == "quarto"
    # A failing quarto leaves that book in place.
    _fake_quarto(tmp_path / "bin", log, code=1)
    with pytest.raises(book.BookError, match="quarto render feilet"):
        book.render(root, renderer="auto")
    assert "falsk quarto" in result.index_path.read_text()
