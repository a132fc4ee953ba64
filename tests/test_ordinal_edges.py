"""The ordinal models' edges (issue 11, found against R's clm): case weights are used (R's
values are in test_ordinal_r.py) or refused, fit_arrays shares build_design's checks, and
separation is judged on the fitted probabilities, never on the size of a coefficient."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillit.data.codebook import load_codebook
from tillit.stats import ordinal as o

pytestmark = pytest.mark.filterwarnings("ignore::tillit.stats.ordinal.OrdinalWarning")


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(4)
    n = 800
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(1, 6, n).astype(float)})
    lat = 0.8 * X["a"] - 0.3 * X["b"] + rng.logistic(size=n)
    y = np.searchsorted([-2.0, -1.2, -0.2, 0.9], lat)
    groups = rng.integers(0, 40, n)
    return y, X, groups


# -- weights -----------------------------------------------------------------------------


def test_integer_weights_equal_repeated_rows(arrays):
    y, X, groups = arrays
    w = 1 + (np.arange(len(y)) % 3)
    weighted = o.fit_arrays(y, X, weights=w)
    rep = np.repeat(np.arange(len(y)), w)
    repeated = o.fit_arrays(y[rep], X.iloc[rep].reset_index(drop=True))
    np.testing.assert_allclose(weighted.params, repeated.params, atol=1e-7)
    np.testing.assert_allclose(np.sqrt(np.diag(weighted.cov)), np.sqrt(np.diag(repeated.cov)), rtol=1e-6)
    assert weighted.llf == pytest.approx(repeated.llf, rel=1e-10)
    assert weighted.llnull == pytest.approx(repeated.llnull, rel=1e-10)
    assert weighted.nobs == repeated.nobs == w.sum()
    unweighted = o.fit_arrays(y, X)
    assert np.abs(weighted.params - unweighted.params).max() > 1e-3  # the weights are used


def test_weights_reach_predictions_and_cluster_sandwich(arrays):
    y, X, groups = arrays
    w = 1 + (np.arange(len(y)) % 3)
    fit = o.fit_arrays(y, X, groups=groups, weights=w)
    assert "klyngerobust" in fit.cov_type
    pp = o.predicted_probabilities(fit, "a", levels=[0.0])
    P = fit.result.model.predict(fit.params, exog=X.assign(a=0.0).to_numpy())
    np.testing.assert_allclose(pp["sannsynlighet"], (w[:, None] * P).sum(0) / w.sum(), rtol=1e-10)


def test_bad_weights_are_refused(arrays):
    y, X, _ = arrays
    for bad in (np.r_[-1.0, np.ones(len(y) - 1)], np.r_[np.nan, np.ones(len(y) - 1)], np.ones(3)):
        with pytest.raises(o.OrdinalDataError, match="vekt|rader"):
            o.fit_arrays(y, X, weights=bad)
    endog = pd.Series(pd.Categorical.from_codes(y, categories=list("abcde"), ordered=True))
    with pytest.raises(o.OrdinalError, match="positive"):
        o.CumulativeLinkModel(endog, X, weights=np.zeros(len(y)))
    with pytest.raises(o.OrdinalError, match="ukjent argument"):
        o.CumulativeLinkModel(endog, X, wieghts=np.ones(len(y)))


def test_weighted_fit_refuses_what_cannot_weight(arrays):
    y, X, groups = arrays
    fit = o.fit_arrays(y, X, groups=groups, weights=np.full(len(y), 2.0))
    with pytest.raises(o.OrdinalError, match="vektede"):
        o.brant_test(fit)
    with pytest.raises(o.OrdinalError, match="vekte"):
        o.fit_plain_statsmodels(fit.design)


def test_declared_weights_column():
    cb = load_codebook()
    df = o.simulate_survey(1200, {"outcome": "trust_hindrance", "cuts": [-2, -1, 1, 2],
                                  "predictors": {"competition": 0.4}}, seed=2, codebook=cb)
    df["vekt"] = 1.0 + (np.arange(len(df)) % 4) / 3
    df.loc[5, "vekt"] = np.nan
    spec = o.ModelSpec(label="v", outcome="trust_hindrance", numeric=["competition"], weights="vekt")
    fit = o.fit_model(spec, df, codebook=cb)
    assert fit.design.weights is not None and len(fit.design.weights) == fit.design.n_used
    assert fit.design.counts.set_index("variabel").loc["vekt", "mangler"] == 1
    df.loc[7, "vekt"] = -2.0
    with pytest.raises(o.OrdinalDataError, match=r"rad 7.*'vekt'.*positiv"):
        o.fit_model(spec, df, codebook=cb)


# -- fit_arrays shares build_design's checks ---------------------------------------------------


def test_fit_arrays_constant_column(arrays):
    y, X, _ = arrays
    with pytest.raises(o.OrdinalDataError, match="'k' har samme verdi"):
        o.fit_arrays(y, X.assign(k=3.0))


def test_fit_arrays_collinear_and_hidden_constant(arrays):
    y, X, _ = arrays
    with pytest.raises(o.OrdinalDataError, match="full rang"):
        o.fit_arrays(y, X.assign(c=2 * X["a"]))
    with pytest.raises(o.OrdinalDataError, match="full rang"):
        o.fit_arrays(y, X.assign(d1=(X["b"] > 3).astype(float), d0=(X["b"] <= 3).astype(float)))


def test_fit_arrays_outcome_codes(arrays):
    y, X, _ = arrays
    with pytest.raises(o.OrdinalDataError, match=r"kodet 1–5.*0\.\.J−1"):
        o.fit_arrays(y + 1, X)
    with pytest.raises(o.OrdinalDataError, match=r"kodet 1–5"):
        o.fit_arrays(y + 1, X, labels=list("abcde"))
    empty = np.where(y == 2, 3, y)
    with pytest.raises(o.OrdinalDataError, match=r"ingen svar i kategori 2"):
        o.fit_arrays(empty, X)
    with pytest.raises(o.OrdinalDataError, match="manglende"):
        o.fit_arrays(np.r_[np.nan, y[1:]], X)
    with pytest.raises(o.OrdinalDataError, match="heltall"):
        o.fit_arrays(y + 0.5, X)


def test_fit_arrays_unused_level_of_an_ordered_categorical(arrays):
    y, X, _ = arrays
    cat = pd.Series(pd.Categorical.from_codes(y, categories=list("abcdef"), ordered=True))
    with pytest.raises(o.OrdinalDataError, match=r"ingen svar i kategori 5 \(«f»\)"):
        o.fit_arrays(cat, X)
    ok = o.fit_arrays(pd.Series(pd.Categorical.from_codes(y, categories=list("abcde"), ordered=True)), X)
    assert ok.design.outcome_labels == list("abcde")


def test_fit_arrays_missing_values_and_clusters(arrays):
    y, X, groups = arrays
    bad = X.copy()
    bad.loc[9, "a"] = np.nan
    with pytest.raises(o.OrdinalDataError, match=r"'a'.*rad 9"):
        o.fit_arrays(y, bad)
    g = groups.astype(object)
    g[4] = None
    with pytest.raises(o.OrdinalDataError, match=r"klyngevariabelen.*mangler.*rad 4"):
        o.fit_arrays(y, X, groups=g)
    with pytest.raises(o.OrdinalDataError, match="bare 1 klynge"):
        o.fit_arrays(y, X, groups=np.zeros(len(y)))
    with pytest.raises(o.OrdinalDataError, match="groups har 3 rader"):
        o.fit_arrays(y, X, groups=groups[:3])


# -- separation from the fitted probabilities -------------------------------------------------


def test_large_coefficient_in_small_units_fits(arrays):
    """A predictor in small units has a large, well-estimated beta: not separation (R's clm
    fits it too; see po_trust_small_units in test_ordinal_r.py)."""
    y, X, _ = arrays
    small = X.assign(a=X["a"] / 40.0)
    fit = o.fit_arrays(y, small)
    base = o.fit_arrays(y, X)
    assert fit.beta["a"] > 20 and fit.convergence.converged
    assert fit.beta["a"] == pytest.approx(40 * base.beta["a"], rel=1e-6)


def test_complete_separation_on_a_numeric_predictor(arrays):
    _, X, _ = arrays
    y = np.digitize(X["a"], [-1.0, -0.3, 0.3, 1.0])  # the answer is a function of a
    with pytest.raises(o.SeparationError, match=r"'a'.*uendelig"):
        o.fit_arrays(y, X, name="sep")


def test_quasi_separation_names_the_coefficient(arrays):
    """A 0/1 column given as a number (so the dummy pre-check does not see it) whose rows all
    gave the top answer, among others who did too: quasi-complete separation."""
    y, X, _ = arrays
    z = ((y == 4) & (X["b"] > 3)).astype(float)
    with pytest.raises(o.SeparationError, match=r"modell 'kvasi'.*\['z'\].*uendelig"):
        o.fit_arrays(y, X.assign(z=z), name="kvasi")


def test_recession_direction_is_none_for_a_proper_model(arrays):
    y, X, _ = arrays
    d = o.fit_arrays(y, X).design
    from tillit.stats.ordinal.separation import recession_direction

    assert recession_direction(d) is None
