"""Figure and table outputs: SVG files (and a phone version), Quarto markdown, fallback HTML,
"Vis som tabell", downloads (CSV and Excel), provenance, number kinds, guards; chart order and
palettes."""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

from tillit.book import display as report  # noqa: E402
from tillit.book import downloads, plots  # noqa: E402
from tillit.book.numbers import Numbers  # noqa: E402
from tillit.book.provenance import Provenance, notebook_page  # noqa: E402
from tillit.data.codebook import load_codebook  # noqa: E402

PROV = Provenance("04_4_styring", 7, "params/default.yml", "ab" * 32, "abc1234",
                  source="spørreundersøkelse til alle ansatte 2023 (syntetisk tvilling)")
CB = load_codebook()


@pytest.fixture()
def shown(monkeypatch):
    captured = []
    monkeypatch.setattr(report, "_display", lambda md, plain, meta: captured.append((md, plain, meta)))
    return captured


def _fig():
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    return fig


def _shares(index=("NAV-kontor", "NKS", "NAY")):
    return pd.DataFrame({1: [.1, .2, .05], 2: [.2, .1, .1], 3: [.3, .3, .2], 4: [.2, .3, .4], 5: [.15, .05, .2],
                         "Vet ikke": [.05, .05, .05], "n": [100, 200, 300]}, index=list(index))


def test_figure_writes_svg_csv_xlsx_and_emits_both_renderings(tmp_path, shown):
    path = report.show_figure(_fig(), notebook="04_4_styring", output_dir=tmp_path, label="fig-test",
                              caption="En figur (n\u00a0=\u00a010)", alt="En stigende linje", provenance=PROV,
                              data=pd.DataFrame({"x": [1], "share": [1 / 3]}))
    assert path.suffix == ".svg" and path.read_bytes().lstrip().startswith(b"<?xml")
    assert (tmp_path / "tables/04_4_styring/fig-test.csv").read_text() == "x,Andel (%)\n1,33.3\n"
    assert (tmp_path / "tables/04_4_styring/fig-test.xlsx").is_file()
    md, _, meta = shown[0]
    assert '{#fig-test fig-alt="En stigende linje"}' in md and "data:image/svg+xml;base64," in md
    assert "celle [7]" in md and "tables/04_4_styring/fig-test.csv" in md and "fig-test.xlsx" in md
    assert meta["kind"] == "figure" and meta["src"] == "figures/04_4_styring/fig-test.svg"
    html = meta["html"]
    assert 'alt="En stigende linje"' in html and 'href="tables/04_4_styring/fig-test.csv"' in html
    assert '<details class="figure-data" data-for="fig-test"><summary>Vis som tabell</summary>' in html
    # The caption's respondent count is a computed number, marked as such on the twin.
    assert 'n\u00a0=\u00a0<span class="tall" data-kind="modell"' in html
    assert html.endswith("</p>") and 'class="kind-note"' in html


def test_provenance_names_the_source_first_then_the_trail_and_links_the_rendered_notebook():
    html = PROV.html("tables/x/tbl-a.csv")
    text = html.split(">", 1)[1]
    assert text.index("Kilde: spørreundersøkelse til alle ansatte 2023") < text.index("notatbok")
    assert 'href="notebooks/04_4_styring.html#celle-7"' in html and "04_4_styring.ipynb" in html
    assert "commit" in html and 'href="tables/x/tbl-a.xlsx"' in html
    facts = Provenance("02_innledning", 3, "p", "0" * 64, "c", report_only=True).html("tables/y.csv")
    assert "Kilde: Delrapport 1" in facts and "notatbok" not in facts and "commit" not in facts


def test_same_figure_gives_identical_bytes():
    a = report.figure_svg(_fig())
    b = report.figure_svg(_fig())
    assert a == b


def test_plots_carry_a_phone_version_with_legible_labels(tmp_path, shown):
    plots.set_theme()
    fig = plots.diverging(_shares(), CB.scales["effekt5"].short)
    report.show_figure(fig, notebook="n", output_dir=tmp_path, label="fig-tel", caption="c", alt="a",
                       provenance=PROV, data=_shares().reset_index(names="Enhet"), codebook=CB)
    meta = shown[0][2]
    assert (tmp_path / "figures/n/fig-tel-smal.svg").is_file()
    assert meta["phone"]["wide_px"] < 11 <= meta["phone"]["narrow_px"]
    assert '<source media="(max-width: 40em)" srcset="figures/n/fig-tel-smal.svg">' in meta["html"]
    # Its data table and download carry the scale's labels, never the codes 1..5.
    csv = (tmp_path / "tables/n/fig-tel.csv").read_text().splitlines()
    assert csv[0] == ("Enhet,Svært negativt (%),Negativt (%),Verken positivt eller negativt (%),Positivt (%),"
                      "Svært positivt (%),Vet ikke (%),Antall svar (n)")
    # Rows in the order the chart draws them (net positive, largest first; ties keep their order).
    assert csv[1] == "NAY,5.0,10.0,20.0,40.0,20.0,5.0,300" and csv[2].startswith("NAV-kontor,10.0")
    assert "<th scope=\"col\" class=num>Positivt (%)</th>" in meta["html"]


def test_a_figure_without_a_phone_version_gets_a_minimum_width(tmp_path, shown):
    fig, ax = plt.subplots(figsize=(11, 4))
    ax.text(0.5, 0.5, "liten tekst", fontsize=7)
    report.show_figure(fig, notebook="n", output_dir=tmp_path, label="fig-bred", caption="c", alt="a",
                       provenance=PROV)
    meta = shown[0][2]
    width = meta["phone"]["min_width_px"]
    assert width and 'class="figure-scroll"' in meta["html"] and f"min-width:{width}px" in meta["html"]
    # At that width the 7 pt label renders at 11 px at least.
    svg_pt = report.svg_width_pt((tmp_path / "figures/n/fig-bred.svg").read_bytes())
    assert 7 * width / svg_pt >= 11


def test_table_wraps_numbers_keeps_spans_and_aligns(tmp_path, shown):
    n = Numbers(synthetic=True)
    df = pd.DataFrame({"Enhet": ["NKS", "NAY"], "Andel": [n.pub("tillit_nks_mye", 49), "–*"], "n": ["266", "351"]})
    report.show_table(df, notebook="04_5_tillit", output_dir=tmp_path, label="tbl-test", caption="Tabell",
                      provenance=PROV, note="–* skjult", row_ids=["rad-nks", None])
    md, _, meta = shown[0]
    assert "|:---|---:|---:|" in md and ": Tabell {#tbl-test}" in md and '<span id="rad-nks"></span>' in md
    html = meta["html"]
    assert '<tr id="rad-nks"><th scope="row">NKS</th>' in html
    assert 'href="app-regnskap.html#ledger-tillit_nks_mye"' in html          # the cell's own span kept
    assert '<td class=num><span class="tall" data-kind="modell"' in html     # bare "266" wrapped
    assert 'class="tillit-table table-scroll"' in html
    rows = (tmp_path / "tables/04_5_tillit/tbl-test.csv").read_text().splitlines()
    assert rows[0] == "Enhet,Andel (%),Antall svar (n)" and rows[1] == "NKS,49.0,266" and rows[2] == "NAY,,351"


def test_report_fact_table_says_so(tmp_path, shown):
    prov = Provenance("02_innledning", 3, "p", "0" * 64, "c", report_only=True)
    report.show_table(pd.DataFrame({"Mål": ["Mål 1"], "Medlemmer": ["17"]}), notebook="n", output_dir=tmp_path,
                      label="tbl-fakta", caption="c", provenance=prov, kind="rapport")
    html = shown[0][2]["html"]
    assert 'data-kind="rapport"' in html and "Kilde: Delrapport 1" in html


def test_downloads_use_labels_and_round_one_decimal_more(tmp_path):
    frame = pd.DataFrame({"unit_type": ["nks", "nay"], "role": ["leder", "medarbeider"], "share": [0.333333333, np.nan],
                          "lo": [0.3, np.nan], "hi": [0.36, np.nan], "n": [35, 2]})
    rf = downloads.reader_frame(frame, codebook=CB, decimals={"share": 0})
    assert list(rf.frame.columns) == ["Enhetstype", "Rolle", "Andel (%)", "Nedre grense, 95 % KI (%)",
                                      "Øvre grense, 95 % KI (%)", "Antall svar (n)"]
    assert rf.frame.iloc[0, 0] == CB.unit_types["nks"].label and rf.frame.iloc[0, 1] == "Leder"
    assert rf.frame.iloc[0, 2] == 33.3 and pd.isna(rf.frame.iloc[1, 2])
    data = downloads.xlsx_bytes(rf, title="Tittel", about=[("Kilde", "x")])
    assert data == downloads.xlsx_bytes(rf, title="Tittel", about=[("Kilde", "x")])   # byte-identical
    ws = load_workbook(io.BytesIO(data))["Tabell"]
    assert [c.value for c in ws[1]] == list(rf.frame.columns)
    assert ws["C2"].value == pytest.approx(0.333) and ws["C2"].number_format == "0.0%"
    assert ws["F2"].value == 35 and ws["F2"].number_format == "#,##0" and ws["C3"].value is None
    assert ws.freeze_panes == "A2"


def test_xlsx_is_byte_identical_across_seconds():
    # openpyxl stamps the save time into docProps/core.xml; two builds a second apart must
    # still give the same bytes (the forced-rebuild test compares every published file).
    import time

    rf = downloads.reader_frame(pd.DataFrame({"role": ["leder"], "n": [35]}), codebook=CB)
    first = downloads.xlsx_bytes(rf, title="T", about=[("Kilde", "x")])
    time.sleep(1.1)
    assert downloads.xlsx_bytes(rf, title="T", about=[("Kilde", "x")]) == first


def test_downloads_never_show_bare_codes(tmp_path):
    frame = pd.DataFrame({"label": ["Tid til oppgavene"], **{str(c): [0.2] for c in range(1, 6)}, "Vet ikke": [0.0]})
    rf = downloads.reader_frame(frame, codebook=CB)
    assert "Svært negativt (%)" in rf.frame.columns and not rf.warnings          # inferred from the item
    rf = downloads.reader_frame(frame.rename(columns={"label": "gruppe"}), codebook=CB)
    assert rf.warnings and "Svaralternativ 1 (%)" in rf.frame.columns           # said, never silent


def test_displayed_numbers_become_numbers_in_the_download():
    rf = downloads.reader_frame(pd.DataFrame({"År": ["2021"], "Andel": ["27,3\u00a0%"], "Antall": ["3\u00a0660"]}))
    assert rf.frame.iloc[0].tolist() == [2021, 27.3, 3660] and rf.formats["Andel (%)"] == "pct:1"


@pytest.mark.parametrize("label", ["tbl-x", "fig_x", "fig-X", "figur"])
def test_bad_figure_labels_are_refused(tmp_path, shown, label):
    with pytest.raises(ValueError, match="ugyldig etikett"):
        report.show_figure(_fig(), notebook="n", output_dir=tmp_path, label=label, caption="c",
                           alt="a", provenance=PROV)


def test_figure_without_alt_text_is_refused(tmp_path, shown):
    with pytest.raises(ValueError, match="alternativ tekst"):
        report.show_figure(_fig(), notebook="n", output_dir=tmp_path, label="fig-a", caption="c",
                           alt="  ", provenance=PROV)


def test_inline_html_keeps_only_our_spans():
    n = Numbers(synthetic=True)
    text = f"<b>fet</b> {n.pct(0.5)} og {n.pub('tid_negativ', 43.28)}"
    out = report.inline_html(text)
    assert out.startswith("&lt;b&gt;fet&lt;/b&gt; ") and n.pct(0.5) in out and n.pub("tid_negativ", 43.28) in out


# --- charts ------------------------------------------------------------------------------------
def _bar_colours(fig):
    ax = fig.axes[0]
    return [tuple(round(c, 3) for c in p.get_facecolor()[:3]) for p in ax.patches]


def test_unipolar_scales_get_a_sequential_palette_and_their_own_axis_label():
    plots.set_theme()
    grad = plots.diverging(_shares(), CB.scales["grad5"].short)
    effekt = plots.diverging(_shares(), CB.scales["effekt5"].short)
    assert plots.scale_polarity(CB.scales["grad5"].short) == "unipolar"
    assert plots.scale_polarity(CB.scales["enig5"].short) == "bipolar"
    seq = {tuple(round(c, 3) for c in rgb) for rgb in plots.sequential_colors(5)}
    div = {tuple(round(c, 3) for c in rgb) for rgb in plots.diverging_colors(5)}
    assert set(_bar_colours(grad)) <= seq and not set(_bar_colours(grad)) & (div - seq)
    assert set(_bar_colours(effekt)) <= div
    assert "positive til høyre" not in grad.axes[0].get_xlabel() and "Svært liten" in grad.axes[0].get_xlabel()
    assert grad.axes[0].get_xlim()[0] == 0          # stacked from zero, not around it
    assert "positive til høyre" in effekt.axes[0].get_xlabel()


def test_rows_come_in_the_order_the_text_states():
    sh = _shares()
    # affects = 1+2+4+5: NKS .65, NAY .75, NAV-kontor .65 → NAY first; net: NAY, NKS, NAV-kontor.
    fig = plots.diverging(sh, CB.scales["effekt5"].short, sort="affects", rank_labels=True)
    assert fig.tillit["order"][0] == "NAY"
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[0].startswith("1. NAY")
    # sort=False keeps what callers rely on: the rows as given, the first at the bottom.
    assert plots.diverging(sh, CB.scales["effekt5"].short, sort=False).tillit["order"] == ["NAY", "NKS", "NAV-kontor"]
    fig = plots.diverging(sh, CB.scales["effekt5"].short, sort=["NKS", "NAY", "NAV-kontor"])
    assert fig.tillit["order"] == ["NKS", "NAY", "NAV-kontor"]
    with pytest.raises(ValueError, match="ukjente rader"):
        plots.diverging(sh, CB.scales["effekt5"].short, sort=["NFP"])
    bars = plots.share_bars(pd.DataFrame({"g": ["a", "b"], "share": [0.2, 0.6], "n": [10, 10]}), "g", "share",
                            sort="high")
    assert bars.tillit["order"] == ["b", "a"]


def test_assumed_values_are_drawn_apart_and_named_in_the_legend():
    df = pd.DataFrame({"label": ["Tid", "Tid"], "share": [0.3, 0.4], "År": ["2017 (antakelse)", "2023"]})
    fig = plots.grouped_columns(df, "label", "share", "År", assumed=["2017 (antakelse)"],
                                hue_order=["2017 (antakelse)", "2023"])
    ax = fig.axes[0]
    assumed, measured = ax.patches[0], ax.patches[1]
    assert assumed.get_hatch() and assumed.get_facecolor()[:3] == (1, 1, 1)
    assert not measured.get_hatch()
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "2017 (antakelse)"
    narrow = fig.tillit["narrow"]()
    assert narrow.axes[0].patches[0].get_hatch()


def test_notebook_page_anchors_each_code_cell():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Tittel"), nbformat.v4.new_code_cell("1 + 1", execution_count=1),
                nbformat.v4.new_code_cell("2 + 2", execution_count=2)]
    page = notebook_page(nb, "04_hovedfunn")
    assert page.index('id="celle-1"') < page.index('id="celle-2"') and "Tilbake til boka" in page


def test_notebook_page_leaves_out_bare_object_reprs_and_keeps_real_output():
    import nbformat

    cell = nbformat.v4.new_code_cell("df", execution_count=1)
    cell.outputs = [
        nbformat.v4.new_output("execute_result", data={"text/plain": "<pandas.core.frame.DataFrame object at 0x7f>"},
                               execution_count=1),
        nbformat.v4.new_output("execute_result", data={"text/plain": "mellomregning 42"}, execution_count=1),
        nbformat.v4.new_output("stream", name="stdout", text="<tillit.X object at 0x1> i en utskrift\n")]
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell]
    page = notebook_page(nb, "02_innledning")
    assert "&lt;pandas." not in page and "<pandas." not in page
    assert "mellomregning 42" in page and "i en utskrift" in page


def test_caption_counts_are_marked_whatever_the_spaces():
    html = report.caption_html("Mål og føringer (n = 542 mål/føringer; n\u00a0=\u00a03\u00a0660)", "modell")
    assert html.count('data-kind="modell"') == 2 and ">542<" in html and ">3\u00a0660<" in html
    assert report.caption_html("Fakta (n = 5)", "rapport") == "Fakta (n = 5)"
