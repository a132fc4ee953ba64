"""The models as the book shows them (tillit.book.models): the reader's table says which
method each interval comes from, the cut-point-specific effects appear where proportional
odds fails, and the regression prose (issue 13) opens with what synthetic data can and cannot
say, has no raw identifiers, correct Norwegian, "< 0,001", intervals as "a til b" that never
wrap, and every number wrapped by ctx.num."""
from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tillit import fmt
from tillit.book import models as bm
from tillit.book.numbers import Numbers
from tillit.stats import ordinal as o

pytestmark = pytest.mark.filterwarnings("ignore::tillit.stats.ordinal.OrdinalWarning")


class FakeContext(SimpleNamespace):
    """What book.models needs from a chapter context; tables and figures are collected."""

    def __init__(self, survey, synthetic=True):
        super().__init__(num=Numbers(synthetic=synthetic), is_synthetic=synthetic, min_cell=5,
                         is_whole=True, edition=None,  # the main book: the whole of NAV
                         tables={}, figures={}, prose_parts=[], _survey=survey)

    def survey(self, year: int = 2023):
        return self._survey

    def table(self, display_df, label, caption, csv_df=None, note=None):
        self.tables[label] = (display_df, caption, csv_df, note)

    def figure(self, fig, label, caption, alt, data=None):
        import matplotlib.pyplot as plt

        plt.close(fig)
        self.figures[label] = (caption, alt, data)

    def prose(self, markdown):
        self.prose_parts.append(markdown)


@pytest.fixture(scope="module")
def twin():
    from tillit.data import synth

    return synth.generate_clean()["survey_2023"]


@pytest.fixture(scope="module")
def model_set(twin):
    ctx = FakeContext(twin)
    return bm.fit_models(ctx)


def unwrapped_digits(text: str) -> list[str]:
    """Numbers outside <span class="tall" …>…</span> (a name such as CR2 is not a number)."""
    bare = re.sub(r'<span class="tall"[^>]*>.*?</span>(</span>)?', "", text)
    bare = re.sub(r"95\u00a0%(?=( KI|-nivå))", "", bare)   # the confidence level is not a number to quote
    return re.findall(r"(?<![A-Za-z])\d+", bare)


def test_reader_table_names_the_method_of_each_interval(model_set):
    fit = model_set.fits["trust"]
    tab = bm.reader_table(fit)
    raw = o.odds_ratio_table(fit)
    coef = raw[raw["del"] == "koeffisient"].reset_index(drop=True)
    shown = tab.iloc[: len(coef)]
    few = coef["metode"] == o.METHOD_FEW
    assert few.any() and (~few).any()
    assert shown.loc[few, "Intervall"].str.match(r"få enheter \(\d+\)").all()
    assert (shown.loc[~few, "Intervall"] == "klyngerobust").all()
    # every unit-type dummy rests on fewer clusters than the threshold: all are few-cluster
    assert few[coef["variabel"] == "unit_type"].all() and not few[coef["variabel"] != "unit_type"].any()
    # the shown interval is the chosen one, and wider than the standard for a 2-unit type
    r = coef[coef["kolonne"] == "unit_type[okonomi_stonad]"].iloc[0]
    assert r["klynger"] == 2
    assert shown.loc[coef["kolonne"] == "unit_type[okonomi_stonad]", "Oddsforhold (95 % KI)"].iloc[0] == \
        bm.format_or(r["or"], r["or_lav"], r["or_hoy"])
    assert r["hoy_cr2"] - r["lav_cr2"] > 2 * (r["hoy_standard"] - r["lav_standard"])


def test_model_table_note_and_csv(twin, model_set):
    ctx = FakeContext(twin)
    bm.model_table(ctx, model_set, "trust", "tbl-modell-tillit")
    disp, caption, csv, note = ctx.tables["tbl-modell-tillit"]
    assert "unit_number" not in note and "enheter" in note and "CR2" in note
    assert unwrapped_digits(note) == [], unwrapped_digits(note)   # notes are read like prose
    assert {"metode", "lav_standard", "lav_cr2", "klynger"} <= set(csv.columns)


def test_cut_point_specific_effects_where_po_fails(twin, model_set):
    assert "goal_types" in model_set.partial          # Brant rejects for goal type and aspect
    assert "trust" not in model_set.partial            # the twin's trust model is PO
    ctx = FakeContext(twin)
    bm.goal_model_section(ctx, model_set)
    disp, caption, csv, note = ctx.tables["tbl-modell-maltyper-terskler"]
    ppo = model_set.partial["goal_types"]
    assert set(ppo.nominal) == set(model_set.brant["goal_types"].failed)
    assert len(disp) == 4 * len(ppo.nominal_cols) and "LR-test" in note
    assert unwrapped_digits(note) == [] and "frihetsgrader" in note
    assert disp["Deling"].str.startswith("over «").all()
    text = ctx.prose_parts[-1]
    assert "partielle proporsjonale odds" in text and "terskelspesifikke" in text


def test_regression_prose_is_honest_and_well_formed(twin, model_set):
    ctx = FakeContext(twin)
    intro = bm.regression_intro(ctx)
    assert "syntetiske data" in intro and "ingenting om forholdene i NAV" in intro
    assert "syntetiske" not in bm.regression_intro(FakeContext(twin, synthetic=False))
    for name in ("trust", "mor_effect", "goal_types"):
        text = bm.model_prose(model_set, name)
        for raw in ("unit_number", "respondent_id", "Medarbeider)", "1 frihetsgrader"):
            assert raw not in text, (name, raw)
        assert unwrapped_digits(text) == [], (name, unwrapped_digits(text))
        assert "KI " not in text or f"{fmt.NBSP}til{fmt.NBSP}" in text  # intervals as "a til b"
    trust = bm.model_prose(model_set, "trust")
    assert "sammenlignet med medarbeidere" in trust
    assert f"p{fmt.NBSP}" in trust and f"&lt;{fmt.NBSP}0,001" in trust
    assert f"{fmt.NBSP}til{fmt.NBSP}" in trust
    assert "frihetsgrader" in trust  # LR test of four steering scores
    assert "få klynger" in trust or "CR2" in trust


def test_degrees_of_freedom_in_words():
    num = Numbers(synthetic=False)
    assert bm._df_text(num, 1).endswith(f"{fmt.NBSP}frihetsgrad")
    assert bm._df_text(num, 4).endswith("frihetsgrader")
    assert bm.interval_text(-3.494, -2.731) == f"−3,49{fmt.NBSP}til{fmt.NBSP}−2,73"
    assert bm.format_p(0.0004) == f"<{fmt.NBSP}0,001" and bm.format_p(0.0123) == "0,012"


def test_method_appendix_prose(twin):
    ctx = FakeContext(twin)
    text = bm.ordinal_method_prose(ctx)
    assert "CR2" in text and "partielle proporsjonale odds" in text
    assert unwrapped_digits(text) == [], unwrapped_digits(text)


def test_prediction_figure(twin, model_set):
    from tillit.data.codebook import load_codebook

    ctx = FakeContext(twin)
    ctx.codebook = load_codebook()
    pp = bm.model_prediction_figure(ctx, model_set, "trust", "competition", "fig-modell-tillit")
    caption, alt, data = ctx.figures["fig-modell-tillit"]
    label = model_set.fits["trust"].design.term_labels["competition"].lower()
    assert f"etter {label}" in caption and isinstance(data, pd.DataFrame)
    np.testing.assert_allclose(pp.groupby("nivå")["sannsynlighet"].sum(), 1.0, atol=1e-10)
