"""tillit.book.numbers: one helper for every number the book prints, with its kind."""
import pytest

from tillit.book.numbers import (ClaimError, Numbers, banner_sentence, check_claim, explanation_markdown,
                                 legend_html, span)
from tillit.config import ConfigError


def test_published_links_ledger_row_at_report_precision():
    n = Numbers(synthetic=True)
    html = n.pub("kompetanse_positiv", 75.925)
    assert 'data-kind="publisert"' in html and 'href="app-regnskap.html#ledger-kompetanse_positiv"' in html
    assert "75,93\u00a0%" in html


def test_published_number_that_is_not_the_report_s_is_refused_on_the_twin():
    with pytest.raises(ConfigError, match="49,00 er ikke rapportens 43,28"):
        Numbers(synthetic=True).pub("tid_negativ", 49.0, decimals=0)
    # On a real export it is shown, but marked and titled with the published value.
    html = Numbers(synthetic=False).pub("tid_negativ", 49.0)
    assert 'data-avvik="ja"' in html and "43,28" in html


def test_published_count_and_range():
    n = Numbers(synthetic=True)
    assert ">3\u00a0660<" in n.pub("antall_respondenter", 3660, unit="")
    assert "18–26\u00a0%" in n.pub_range("kvantitative_negativ_spenn", 17.9, 25.9)


def test_model_marking_disappears_on_real_data():
    twin, real = Numbers(synthetic=True).model("3,70"), Numbers(synthetic=False).model("3,70")
    assert 'data-kind="modell"' in twin and "(modelltall)" in twin   # said to screen readers too
    assert 'data-kind="data"' in real and "modelltall" not in real


def test_conveniences_format_the_norwegian_way():
    n = Numbers(synthetic=True)
    assert ">27\u00a0%<" in n.pct(0.2734)
    assert ">3,70<" in n.mean(3.7)
    assert ">−3,49 til −2,73<" in n.interval(-3.49, -2.73)


def test_fact_is_read_from_report_params():
    n = Numbers(synthetic=True)
    assert 'data-kind="rapport"' in n.fact("conversation_package_counties")
    with pytest.raises(ConfigError, match="report.yml"):
        n.fact("finnes.ikke")


def test_span_escapes_text():
    assert "&lt;b&gt;" in span("<b>", "modell")
    with pytest.raises(ValueError):
        span("1", "gjett")


def test_claim_carries_its_table_and_is_checked_when_values_are_given():
    n = Numbers(synthetic=True)
    values = {"Regelverk": 49.0, "Tid": 43.28, "Kompetanse": 2.0}
    html = n.claim("oftest negativt", table="tbl-faktorer", column="Negativt", rows="Regelverk", values=values)
    assert 'data-claim="max"' in html and 'data-table="tbl-faktorer"' in html and 'data-rows="Regelverk"' in html
    # The issue's own example: "Tid er forholdet som oftest trekker ned", while regelverk is higher.
    with pytest.raises(ClaimError, match="Tid .* er ikke størst; Regelverk"):
        n.claim("oftest negativt", table="tbl-faktorer", column="Negativt", rows="Tid", values=values)


@pytest.mark.parametrize("op, rows, kw, ok", [
    ("max", ["a"], {}, True), ("max", ["b"], {}, False), ("min", ["c"], {}, True),
    ("rank", ["b"], {"k": 2}, True), ("rank", ["b"], {"k": 1}, False),
    ("top", ["b"], {"k": 2}, True), ("top", ["c"], {"k": 2}, False),
    ("order", ["a", "b", "c"], {}, True), ("order", ["b", "a"], {}, False),
    ("gt", ["a", "c"], {}, True), ("gt", ["c", "a"], {}, False),
    ("near", ["a", "b"], {"tol": 3}, True), ("near", ["a", "c"], {"tol": 3}, False),
    ("max", ["x"], {}, False),
])
def test_check_claim(op, rows, kw, ok):
    assert (check_claim(op, rows, {"a": 10.0, "b": 8.0, "c": 1.0}, **kw) is None) is ok


def test_ties_share_the_better_place():
    assert check_claim("rank", ["b"], {"a": 5.0, "b": 5.0, "c": 1.0}, k=1) is None


def test_explanation_is_written_once_and_names_every_kind():
    text = explanation_markdown(True)
    for kind in ("publisert", "rapport", "modell"):
        assert f'data-kind="{kind}"' in legend_html() and f'data-kind="{kind}"' in text
    assert "markert" in text and "ingen tall er markert" in explanation_markdown(False)
    assert "modelltall" in banner_sentence(True) and "<" not in banner_sentence(True)
    assert "modelltall" not in banner_sentence(False)
