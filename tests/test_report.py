"""Figure and table outputs: files, Quarto markdown, fallback HTML, provenance, guards."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tillit.book import display as report  # noqa: E402
from tillit.book.provenance import Provenance  # noqa: E402

PROV = Provenance("04_4_styring", 7, "params/default.yml", "ab" * 32, "abc1234")


@pytest.fixture()
def shown(monkeypatch):
    captured = []
    monkeypatch.setattr(report, "_display", lambda md, plain, meta: captured.append((md, plain, meta)))
    return captured


def _fig():
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    return fig


def test_figure_writes_png_and_csv_and_emits_both_renderings(tmp_path, shown):
    path = report.show_figure(_fig(), notebook="04_4_styring", output_dir=tmp_path, label="fig-test",
                              caption="En figur (n = 10)", alt="En stigende linje", provenance=PROV,
                              data=pd.DataFrame({"x": [1], "share": [0.5]}))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "tables/04_4_styring/fig-test.csv").read_text() == "x,share\n1,0.5\n"
    md, _, meta = shown[0]
    assert '{#fig-test fig-alt="En stigende linje"}' in md and "data:image/png;base64," in md
    assert "celle [7]" in md and "tables/04_4_styring/fig-test.csv" in md
    assert meta["kind"] == "figure" and meta["src"] == "figures/04_4_styring/fig-test.png"
    assert 'alt="En stigende linje"' in meta["html"] and 'href="tables/04_4_styring/fig-test.csv"' in meta["html"]
    assert meta["html"].count("<p") == 1 and meta["html"].endswith("</p>")


def test_same_figure_gives_identical_bytes(tmp_path, shown):
    a = report.figure_png(_fig())
    b = report.figure_png(_fig())
    assert a == b


def test_table_aligns_numbers_right_and_text_left(tmp_path, shown):
    df = pd.DataFrame({"Enhet": ["NKS", "NAY"], "Andel": ["49\u00a0%", "–*"], "n": ["266", "351"]})
    report.show_table(df, notebook="04_5_tillit", output_dir=tmp_path, label="tbl-test",
                      caption="Tabell", provenance=PROV, note="–* skjult")
    md, _, meta = shown[0]
    assert "|:---|---:|---:|" in md and ": Tabell {#tbl-test}" in md
    assert "<td class=num>49\u00a0%</td>" in meta["html"] and "<td>NKS</td>" in meta["html"]
    assert (tmp_path / "tables/04_5_tillit/tbl-test.csv").is_file()


@pytest.mark.parametrize("label", ["tbl-x", "fig_x", "fig-X", "figur"])
def test_bad_figure_labels_are_refused(tmp_path, shown, label):
    with pytest.raises(ValueError, match="ugyldig etikett"):
        report.show_figure(_fig(), notebook="n", output_dir=tmp_path, label=label, caption="c",
                           alt="a", provenance=PROV)


def test_figure_without_alt_text_is_refused(tmp_path, shown):
    with pytest.raises(ValueError, match="alternativ tekst"):
        report.show_figure(_fig(), notebook="n", output_dir=tmp_path, label="fig-a", caption="c",
                           alt="  ", provenance=PROV)
