"""Few-cluster inference (tillit.stats.ordinal.fewcluster, .inference, .bootstrap): CR2 and its
working-model reference distribution checked against a brute-force computation, the
threshold and the method column of the tables, and the seeded wild cluster score bootstrap."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tillit.stats import ordinal as o
from tillit.stats.ordinal import fewcluster as fc

pytestmark = pytest.mark.filterwarnings("ignore::tillit.stats.ordinal.OrdinalWarning")


def small_fit(seed: int = 3, n: int = 360, G: int = 12, treated: int = 2):
    """Ordinal logit with a respondent-level x and a dummy that only `treated` clusters have."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, G, n)
    u = rng.normal(0, 0.3, G)
    x = rng.normal(size=n)
    d = (g < treated).astype(float)
    lat = 0.6 * x + 0.4 * d + u[g] + rng.logistic(size=n)
    y = np.searchsorted([-1.5, -0.3, 0.8, 2.0], lat)
    X = pd.DataFrame({"x": x, "d": d})
    return o.fit_arrays(y, X, groups=g)


def brute_force(fit):
    """CR2 and the t statistic's working-model weights from full N × N matrices."""
    t = fc.po_terms(fit)
    Z3, r2 = fc._whiten(t)
    n, m, p = Z3.shape
    Z, r = Z3.reshape(n * m, p), r2.reshape(n * m)
    g = np.repeat(t.groups, m)
    B = np.linalg.inv(Z.T @ Z)
    H = Z @ B @ Z.T
    IH = np.eye(n * m) - H
    V = np.zeros((p, p))
    A = {}
    for c in np.unique(g):
        i = np.flatnonzero(g == c)
        w, E = np.linalg.eigh(np.eye(len(i)) - H[np.ix_(i, i)])
        A[c] = E @ np.diag(1 / np.sqrt(w)) @ E.T
        v = B @ Z[i].T @ A[c] @ r[i]
        V += np.outer(v, v)
    lams = []
    for k in range(len(t.names)):
        cols = []
        for c in np.unique(g):
            i = np.flatnonzero(g == c)
            a = np.zeros(n * m)
            a[i] = A[c] @ Z[i] @ B[:, k]
            cols.append(IH @ a)
        Gt = np.column_stack(cols)
        lam = np.linalg.eigvalsh(Gt.T @ Gt)
        lams.append(np.sort(lam)[::-1] / lam.sum())
    return V[: len(t.names), : len(t.names)], lams


def test_imhof_quantiles_are_t_quantiles():
    for df in (1, 2, 3, 5, 10, 30):
        sp = fc.Spectrum(np.full(df, 1.0 / df), 0.0, 0.0, float(df))
        tol = 2e-4 if df == 1 else 1e-5
        assert sp.quantile(0.95) == pytest.approx(stats.t.ppf(0.975, df), abs=tol)
        assert sp.sf(stats.t.ppf(0.99, df)) == pytest.approx(0.02, abs=1e-5)
    # a χ² remainder with m degrees of freedom is the same as m equal weights
    sp = fc.Spectrum(np.array([0.25]), 0.25, 3.0, 4.0)
    assert sp.quantile() == pytest.approx(stats.t.ppf(0.975, 4), abs=1e-5)


def test_whitened_score_is_the_score():
    fit = small_fit()
    Z3, r2 = fc._whiten(fc.po_terms(fit))
    # Σ Zᵀr is the score in (β, c): zero at the maximum
    assert np.abs(np.einsum("imp,im->p", Z3, r2)).max() < 1e-6
    # ZᵀZ is the Fisher information: close to the observed one for this sample
    info = np.einsum("imp,imq->pq", Z3, Z3)
    se_fisher = np.sqrt(np.diag(np.linalg.inv(info)))[:2]
    se_obs = np.sqrt(np.diag(np.linalg.inv(-fit.model.hessian(fit.params))))[:2]
    np.testing.assert_allclose(se_fisher, se_obs, rtol=0.05)


def test_cr2_and_its_reference_distribution_match_brute_force():
    fit = small_fit()
    res = o.cr2(fc.po_terms(fit), fit.params)
    V, lams = brute_force(fit)
    np.testing.assert_allclose(res.cov, V, rtol=1e-7, atol=1e-12)
    for k, lam in enumerate(lams):
        sp = res.spectra[k]
        assert sp.df == pytest.approx(1.0 / np.sum(lam ** 2), rel=1e-6)
        exact = fc.Spectrum(lam[lam > 1e-14], 0.0, 0.0, sp.df)
        assert sp.quantile() == pytest.approx(exact.quantile(), rel=1e-5)


def test_random_intercept_working_model_matches_brute_force():
    """Imbens–Kolesár's working model: Ω = I + s²·aaᵀ within each cluster, a = the whitened
    response to a common shift of the cluster's latent scores (Z·e, e = the cut-point columns)."""
    fit = small_fit(G=10, treated=3, seed=8)
    t = fc.po_terms(fit)
    res = o.cr2(t, fit.params, working="random_intercept")
    ind = o.cr2(t, fit.params)
    np.testing.assert_allclose(res.se, ind.se)          # the same standard errors
    assert [s.df for s in res.spectra_independent] == [s.df for s in ind.spectra]
    Z3, r2 = fc._whiten(t)
    n, m, p = Z3.shape
    k = len(t.names)
    e = np.r_[np.zeros(k), np.ones(p - k)]
    q, c = np.einsum("imp,p,im->i", Z3, e, r2), np.einsum("imp,p->im", Z3, e)
    c = (c * c).sum(axis=1)
    num = sum(q[t.groups == g].sum() ** 2 - (q[t.groups == g] ** 2).sum() for g in np.unique(t.groups))
    den = sum(c[t.groups == g].sum() ** 2 - (c[t.groups == g] ** 2).sum() for g in np.unique(t.groups))
    assert res.unit_var == pytest.approx(max(0.0, num / den), rel=1e-9)
    Z = Z3.reshape(n * m, p)
    g = np.repeat(t.groups, m)
    a = Z @ e
    Omega = np.eye(n * m)
    for cl in np.unique(g):
        i = np.flatnonzero(g == cl)
        Omega[np.ix_(i, i)] += res.unit_var * np.outer(a[i], a[i])
    B = np.linalg.inv(Z.T @ Z)
    IH = np.eye(n * m) - Z @ B @ Z.T
    for j in range(k):
        cols = []
        for cl in np.unique(g):
            i = np.flatnonzero(g == cl)
            w, E = np.linalg.eigh(np.eye(len(i)) - (Z[i] @ B @ Z[i].T))
            v = np.zeros(n * m)
            v[i] = E @ np.diag(1 / np.sqrt(w)) @ E.T @ Z[i] @ B[:, j]
            cols.append(IH @ v)
        Gt = np.column_stack(cols)
        lam = np.sort(np.linalg.eigvalsh(Gt.T @ Omega @ Gt))[::-1]
        lam /= lam.sum()
        sp = res.spectra[j]
        assert sp.df == pytest.approx(1.0 / np.sum(lam ** 2), rel=1e-6)
        exact = fc.Spectrum(lam[lam > 1e-14], 0.0, 0.0, sp.df)
        assert sp.quantile() == pytest.approx(exact.quantile(), rel=1e-5)
    with pytest.raises(ValueError, match="arbeidsmodell"):
        o.cr2(t, fit.params, working="ar1")


def test_unit_variance_estimate_finds_the_unit_effects():
    rng = np.random.default_rng(4)
    n, G = 4000, 80
    grp = rng.integers(0, G, n)
    x = rng.normal(size=n)
    def y_of(sd):
        return np.searchsorted([-1.5, -0.3, 0.8, 2.0], 0.5 * x + rng.normal(0, sd, G)[grp] + rng.logistic(size=n))

    big = o.cr2(fc.po_terms(f := o.fit_arrays(y_of(0.6), pd.DataFrame({"x": x}), groups=grp)), f.params,
                working="random_intercept").unit_var
    none = o.cr2(fc.po_terms(f := o.fit_arrays(y_of(0.0), pd.DataFrame({"x": x}), groups=grp)), f.params,
                 working="random_intercept").unit_var
    assert 0.15 < big < 0.5       # 0.36 on the latent scale, a little attenuated
    assert none < 0.03


def test_two_cluster_dummy_gets_few_cluster_interval():
    fit = small_fit(treated=2)
    ci = o.coefficient_intervals(fit, few_clusters=30, every=True).set_index("kolonne")
    assert o.clusters_behind(fit.design).to_dict() == {"x": 12.0, "d": 2.0}
    assert ci.loc["d", "metode"] == o.METHOD_FEW and ci.loc["x", "metode"] == o.METHOD_FEW  # 12 < 30
    ci10 = o.coefficient_intervals(fit, few_clusters=10).set_index("kolonne")
    assert ci10.loc["x", "metode"] == o.METHOD_STANDARD and ci10.loc["d", "metode"] == o.METHOD_FEW
    # the standard interval is the CR1 one; the few-cluster one is CR2 with a wider quantile
    se1 = np.sqrt(np.diag(fit.cov))[:2]
    assert ci10.loc["x", "ki_hoy"] == pytest.approx(fit.beta["x"] + stats.norm.ppf(0.975) * se1[0])
    d = ci.loc["d"]
    assert 1.96 < d["kvantil_cr2"] < stats.t.ppf(0.975, d["fg_cr2"])  # between z and the BM t
    assert d["fg_cr2"] < 2.0
    assert d["hoy_cr2"] - d["lav_cr2"] > d["hoy_standard"] - d["lav_standard"]
    assert ci10.loc["d", "ki_lav"] == d["lav_cr2"] and np.isnan(ci10.loc["x", "se_cr2"])
    p = ci.loc["d", "p_cr2"]
    assert 0 < p < 1 and p == pytest.approx(res_sf(fit, "d"))


def res_sf(fit, col):
    res = o.cr2(fc.po_terms(fit), fit.params)
    k = res.names.index(col)
    return res.spectra[k].sf(res.estimate[k] / res.se[k])


def test_odds_ratio_table_shows_the_method():
    fit = small_fit(treated=2)
    tab = o.odds_ratio_table(fit, few_clusters=10)
    coef = tab[tab["del"] == "koeffisient"].set_index("kolonne")
    assert list(coef["metode"]) == [o.METHOD_STANDARD, o.METHOD_FEW]
    np.testing.assert_allclose(coef["or_lav"], np.exp(coef["ki_lav"]))
    assert (tab["del"] == "terskel").sum() == 4


def test_threshold_comes_from_params():
    assert o.few_cluster_threshold() == o.load_models().inference.few_clusters
    with pytest.raises(Exception, match="few_clusters"):
        o.parse_models({"inference": {"few_clusters": 1},
                        "models": {"a": {"label": "A", "outcome": "y", "numeric": ["x"]}}})


def test_wild_bootstrap_is_seeded_and_sensible():
    fit = small_fit(treated=6, seed=5)
    b1 = o.WildBootstrap.for_fit(fit, draws=399, seed=11)
    b2 = o.WildBootstrap.for_fit(fit, draws=399, seed=11)
    p1, theta = b1.p_value("x", 0.0)
    assert p1 == b2.p_value("x", 0.0)[0]       # deterministic
    assert theta[0] == 0.0                      # the null is imposed
    assert p1 < 0.01                            # x has a clear effect (0.6 per sd)
    p_at_est, _ = b1.p_value("x", float(fit.beta["x"]))
    assert p_at_est > 0.9
    lo, hi = b1.interval("x")
    assert lo < fit.beta["x"] < hi
    assert b1.p_value("x", lo - 0.01)[0] <= 0.05 < b1.p_value("x", lo + 0.01)[0]
    with pytest.raises(o.OrdinalError, match="bootstrapvekt"):
        o.WildBootstrap.for_fit(fit, kind="mammen")


def test_wild_bootstrap_cannot_reject_with_two_clusters():
    """The reason it is not the book's method: with two clusters behind the dummy, even a far
    null value is not rejected (MacKinnon & Webb 2017)."""
    fit = small_fit(treated=2)
    boot = o.WildBootstrap.for_fit(fit, draws=399, seed=1)
    se = np.sqrt(fit.cov[1, 1])
    assert boot.p_value("d", float(fit.beta["d"]) + 4 * se)[0] > 0.05


def test_coverage_study_twin_leaves_outcomes_uncalibrated():
    """benchmarks/coverage_ordinal.py draws the twin's survey without calibrating the model
    outcomes (so their truth is the model's); the default twin is unchanged."""
    from tillit.data import synth
    from tillit.data.synth.export import _survey

    seed = 10_003
    pd.testing.assert_frame_equal(synth.generate_survey(seed=seed), synth.generate_clean(seed=seed)["survey_2023"])
    twin_cal, cal = _survey(seed, 3660)
    twin_raw, raw = _survey(seed, 3660, calibrate_outcomes=False)
    outcomes = list(synth.load_model()["outcomes"])
    assert any(k.startswith("trust_hindrance") and v > 0 for k, v in twin_cal.calibration_moves.items())
    assert not any(k.split(":")[0] in outcomes for k in twin_raw.calibration_moves)
    pd.testing.assert_frame_equal(raw.drop(columns=outcomes), cal.drop(columns=outcomes))
    nks = (cal["unit_type"] == "nks") & (cal["role"] == "medarbeider")
    as_num = lambda df: df.loc[nks, "trust_hindrance"].astype(float).fillna(-1)  # noqa: E731
    assert (as_num(raw) != as_num(cal)).any()
