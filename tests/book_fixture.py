"""A miniature compendium for the book tests: params/pipeline.yml, source notebooks and
executed notebooks made with the project's own display helpers, laid out as the book
convention says (docs/rendering.md): a notebook per chapter, `# Title` first, the
parameters and setup cells, and lettered appendices as `# Title {#app-x .appendix}`.

The numbers the renderers must give it are in EXPECTED_PAGES."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from unittest import mock

import nbformat
import yaml

from tillit.book.provenance import Provenance

FIXTURE_PIPELINE = textwrap.dedent("""\
    parameters: params/default.yml
    notebooks:
      - {name: 00_klargjoring, title: "Datagrunnlag og klargjøring"}
      - {name: 01_sammendrag, title: "Sammendrag"}
      - {name: 02_innledning, title: "Innledning"}
      - {name: 04_hovedfunn, title: "Hovedfunn"}
      - {name: 05_videre_arbeid, title: "Videre arbeid"}
      - {name: 06_vedlegg, title: "Vedlegg", appendix: true}
    overrides: {}
    workers: 0
    """)
# page id → (number, title, kind), in book order.
EXPECTED_PAGES = {
    "01_sammendrag": ("1", "Sammendrag", "chapter"),
    "02_innledning": ("2", "Innledning", "chapter"),
    "04_hovedfunn": ("3", "Hovedfunn etter kartleggingsarbeidet", "chapter"),
    "05_videre_arbeid": ("4", "Videre arbeid", "chapter"),
    "06_vedlegg": ("5", "Vedlegg", "chapter"),
    "app-data": ("A", "Datagrunnlag og klargjøring", "appendix"),
    "app-metode": ("B", "Metode", "appendix"),
    "app-regnskap": ("C", "Reproduksjonsregnskap", "appendix"),
}
# Headings of the chapter-4 page as both renderers must number them.
EXPECTED_HOVEDFUNN = [
    ("h2", "3.1 Innledning"), ("h2", "3.2 Hovedfunn"), ("h3", "3.2.1 Mål 1: Faglighet"),
    ("h3", "3.2.2 Mål 4: Styring"), ("h4", "3.2.2.1 Konkurranse"), ("h4", "3.2.2.2 Må-oppgaver"),
    ("h2", "Om modellene"), ("h3", "Modelldetaljer"), ("h2", "3.3 Styring i kommunene"),
]
FREE_TEXT = "Jeg opplever at lederen min stoler på meg, men fagsystemene stopper meg hver dag."

TEXTS = {
    "01_sammendrag": "## Formål\n\nKort om formålet.\n\n## Hovedfunn i tall {.unnumbered}\n\nSe @fig-faktorer.",
    "02_innledning": "## Bakgrunn\n\nOm bakgrunnen.\n\n## Organisering\n\nArbeidsgruppen, se @tbl-tillit.",
    "04_hovedfunn": ("## Innledning\n\nKapitlet presenterer funnene.\n\n## Hovedfunn\n\n### Mål 1: Faglighet\n\n"
                     "Tekst om mål 1.\n\n### Mål 4: Styring\n\nSom @fig-faktorer viser, trekker regelverket ned; "
                     "[-@fig-faktorer] er sortert etter netto effekt. @Tbl-tillit gir tallene, og @fig-sammenligning "
                     "står i tillegget. Skriv til post@nav.no.\n\n#### Konkurranse\n\nEn underseksjon.\n\n"
                     "#### Må-oppgaver\n\nEn til."),
    "05_videre_arbeid": "## Fase 2\n\nArbeidet går videre.",
    "06_vedlegg": "## Innhold\n\nReferansene.",
}


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


def _setup_cells(name: str, kind: str) -> list:
    from tillit.book import display as report
    from tillit.book.context import data_source_text

    params = nbformat.v4.new_code_cell("data_dir = 'data/processed'\nmin_cell = 5")
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell("# Parameters\nmin_cell = 5\n")
    injected.metadata["tags"] = ["injected-parameters"]
    setup = nbformat.v4.new_code_cell("from tillit.book import context as nbk\nctx = nbk.start(...)")
    setup.metadata["tags"] = ["setup"]
    level, btext = data_source_text({"kind": kind, "seed": 2023})
    setup.outputs = [nbformat.v4.new_output("stream", name="stderr", text="DeprecationWarning: gammel\n"),
                     *_capture(report.show_callout, btext, kind="banner", level=level,
                               title="Syntetiske data" if kind == "synthetic" else "Reelle data")]
    return [params, injected, setup]


def _noise_cell():
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
    return work


def _prose_cell(text: str):
    from tillit.book import display as report

    cell = nbformat.v4.new_code_cell("ctx.prose(f'''...''')")
    cell.outputs = _capture(report.show_prose, text)
    return cell


def _versions_cell():
    from tillit.book import versions

    return _prose_cell(versions.versions_markdown())


def _figure_cell(root: Path, name: str, label: str, slug: str, prov: Provenance):
    import pandas as pd

    from tillit.book import display as report

    cell = nbformat.v4.new_code_cell("fig = plots.faktorer(...)\nctx.figure(fig)")
    cell.outputs = _capture(
        report.show_figure, _figure(), notebook=name, output_dir=root / "outputs", label=label,
        caption=f"Figurtekst for {slug} (n = 1 234)", alt=f"Liggende stolper for {slug}: regelverk trekker ned",
        provenance=prov, data=pd.DataFrame({"faktor": ["Regelverk"], "netto": [-12.5]}))
    return cell


def _table_cell(root: Path, name: str, label: str, slug: str, prov: Provenance):
    import pandas as pd

    from tillit.book import display as report

    cell = nbformat.v4.new_code_cell("ctx.table(t)")
    cell.outputs = _capture(
        report.show_table, pd.DataFrame({"Enhet": ["NAV-kontor", "NKS"], "Andel": ["41,5 %", "38,0 %"], "n": ["812", "97"]}),
        notebook=name, output_dir=root / "outputs", label=label, caption=f"Tabelltekst for {slug}", provenance=prov)
    return cell


def _chapter_notebook(root: Path, name: str, title: str, kind: str = "synthetic") -> nbformat.NotebookNode:
    prov = Provenance(notebook=name, cell=3, params="params/default.yml", data_sha256="ab" * 32, commit="0123456789")
    if name == "00_klargjoring":
        cells = [nbformat.v4.new_markdown_cell("# Datagrunnlag og klargjøring {#app-data .appendix}\n\n"
                                               "Slik blir kildedata klargjort."),
                 *_setup_cells(name, kind), _noise_cell(),
                 nbformat.v4.new_markdown_cell("## Rensing steg for steg"),
                 _table_cell(root, name, "tbl-rensing", "rensing", prov)]
    else:
        heading = "Hovedfunn etter kartleggingsarbeidet" if name == "04_hovedfunn" else title
        cells = [nbformat.v4.new_markdown_cell(f"# {heading}\n\nInnledende avsnitt skrevet i notatboken."),
                 *_setup_cells(name, kind), _noise_cell(), _prose_cell(TEXTS.get(name, "## Om kapitlet\n\nTekst."))]
    if name == "02_innledning":
        cells.append(_table_cell(root, name, "tbl-tillit", "innledning", prov))
    if name == "04_hovedfunn":
        cells += [_figure_cell(root, name, "fig-faktorer", "hovedfunn", prov),
                  _table_cell(root, name, "tbl-styring", "hovedfunn", prov),
                  nbformat.v4.new_markdown_cell("## Om modellene {.unnumbered}\n\nEt tillegg fra kompendiet.\n\n"
                                                "### Modelldetaljer\n\nArver unummerert."),
                  _prose_cell("## Styring i kommunene {#sec-kommune}\n\nMer tekst.")]
    if name == "06_vedlegg":
        cells += [nbformat.v4.new_markdown_cell("# Metode {#app-metode .appendix}\n\n## Datagrunnlag\n\nOm dataene."),
                  _figure_cell(root, name, "fig-sammenligning", "vedlegg", prov),
                  nbformat.v4.new_markdown_cell("## Programvare"), _versions_cell(),
                  nbformat.v4.new_markdown_cell("# Reproduksjonsregnskap {#app-regnskap .appendix}"),
                  _prose_cell("## Regnskapet\n\nHver rad er et publisert tall."),
                  _table_cell(root, name, "tbl-regnskap", "regnskap", prov)]
    count = 0
    for cell in cells:   # as papermill leaves them: code cells counted in order
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def build_fake_root(base: Path, kind: str = "synthetic", pipeline: str = FIXTURE_PIPELINE,
                    notebooks: dict | None = None) -> Path:
    """A miniature compendium: params/pipeline.yml, source notebooks, executed notebooks,
    figures/tables under outputs/, data_source.json and a raw survey with free text.
    `notebooks` (name → NotebookNode) replaces the generated executed notebooks."""
    root = base / "repo"
    (root / "params").mkdir(parents=True)
    (root / "params" / "pipeline.yml").write_text(pipeline, encoding="utf-8")
    (root / "params" / "default.yml").write_text("min_cell: 5\n", encoding="utf-8")
    spec = yaml.safe_load(pipeline)
    (root / "notebooks").mkdir()
    (root / "outputs" / "notebooks").mkdir(parents=True)
    for entry in spec["notebooks"]:
        name = entry["name"]
        nbformat.write(nbformat.v4.new_notebook(), root / "notebooks" / f"{name}.ipynb")
        nb = (notebooks or {}).get(name) or _chapter_notebook(root, name, entry["title"], kind)
        nbformat.write(nb, root / "outputs" / "notebooks" / f"{name}.ipynb")
    (root / "data" / "processed").mkdir(parents=True)
    (root / "data" / "processed" / "data_source.json").write_text(
        json.dumps({"kind": kind, "seed": 2023, "files": {}}), encoding="utf-8")
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "survey_2023.csv").write_text(
        f'RespondentID,Rolle,Utdypende svar\nR000123,Leder,"{FREE_TEXT}"\n', encoding="utf-8")
    return root


def real_book_ready(root: Path) -> bool:
    """Has `make book` run in `root` (executed notebooks of every book page, data source)?"""
    from tillit.config import load_pipeline

    try:
        spec = load_pipeline(root=root)
    except Exception:
        return False
    nbs = root / "outputs" / "notebooks"
    return (root / "data" / "processed" / "data_source.json").is_file() and all(
        (nbs / f"{nb.name}.ipynb").is_file() for nb in spec.notebooks if nb.book)
