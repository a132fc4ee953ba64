"""tillit.book.numbers: one helper for every number the book prints, with its kind."""
from tillit.book.numbers import Numbers, span


def test_published_links_ledger_row_at_report_precision():
    n = Numbers(synthetic=True)
    html = n.pub("kompetanse_positiv", 75.925)
    assert 'data-kind="publisert"' in html and "#ledger-kompetanse_positiv" in html
    assert "75,93\u00a0%" in html


def test_model_marking_disappears_on_real_data():
    assert 'data-kind="modell"' in Numbers(synthetic=True).model("3,70")
    assert 'data-kind="data"' in Numbers(synthetic=False).model("3,70")


def test_fact_is_read_from_report_params():
    n = Numbers(synthetic=True)
    assert 'data-kind="rapport"' in n.fact("conversation_package_counties")
    try:
        n.fact("finnes.ikke")
    except Exception as exc:  # noqa: BLE001
        assert "report.yml" in str(exc)
    else:
        raise AssertionError("a missing fact must raise")


def test_span_escapes_text():
    assert "&lt;b&gt;" in span("<b>", "modell")
