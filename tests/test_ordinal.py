"""Ordinal regressions (tillit.stats.ordinal): front end, reference results, derivatives, recovery,
failure cases. Fast: every fit here is on a few thousand rows."""
from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.tools.numdiff import approx_fprime

from tillit import fmt
from tillit.book import models as bm
from tillit.stats import ordinal as o
from tillit.data.codebook import load_codebook
from tillit.config import ConfigError, read_yaml, repo_root

ROOT = repo_root()
# Levels absent from the small test frames warn by design; tests that check the warning use pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore::tillit.stats.ordinal.OrdinalWarning")
TRUTH_FILE = ROOT / "params" / "synthetic.yml"


@pytest.fixture(scope="module")
def cb():
    return load_codebook()


@pytest.fixture(scope="module")
def models():
    return o.load_models()


def truth_for(outcome: str) -> dict:
    """True coefficients from params/synthetic.yml (never typed into the tests)."""
    return {**read_yaml(TRUTH_FILE)["outcomes"][outcome], "outcome": outcome}


@pytest.fixture(scope="module")
def sim(cb):
    return o.simulate_survey(3660, truth_for("trust_hindrance"), seed=11, codebook=cb)


@pytest.fixture(scope="module")
def trust_fit(sim, models, cb):
    return o.fit_model("trust", sim, models=models, codebook=cb)


def tiny_frame(cb, n=400, seed=0, **cols):
    """Respondent-level frame in the processed layout with random 1..5 answers."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "respondent_id": [f"R{i}" for i in range(n)],
        "role": pd.Categorical(rng.choice(["medarbeider", "leder"], n, p=[0.7, 0.3]), categories=list(cb.roles)),
        "unit_type": pd.Categorical(rng.choice(["nav_kontor", "nks", "nay"], n), categories=list(cb.unit_types)),
        "unit_number": [f"{u:04d}" for u in rng.integers(0, 40, n)],
    })
    for name in ("trust_hindrance", "competition", "results_use"):
        df[name] = pd.array(rng.integers(1, 6, n), dtype="Int8")
    for k, v in cols.items():
        df[k] = v
    return df


# --------------------------------------------------------------------------------------
# params/models.yml and the spec front end
# --------------------------------------------------------------------------------------


def test_models_file_loads_and_variants_inherit(models):
    assert {"trust", "mor_effect", "goal_types", "trust_probit", "mor_effect_probit"} <= set(models.models)
    t, tp = models.get("trust"), models.get("trust_probit")
    assert tp.link == "probit" and t.link == "logit"
    assert tp.numeric == t.numeric and tp.categorical == t.categorical and tp.outcome == t.outcome
    assert models.get("goal_types").cluster == "respondent_id"
    for comp in models.comparisons.values():
        o.check_nested(models.get(comp.full), models.get(comp.restricted))


def test_unknown_key_is_named_with_file(tmp_path):
    data = yaml.safe_load((ROOT / "params" / "models.yml").read_text(encoding="utf-8"))
    data["models"]["trust"]["predictor"] = ["competition"]  # typo for numeric
    path = tmp_path / "models.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        o.load_models(path)
    assert "models.trust.predictor" in str(exc.value) and str(path) in str(exc.value)


def test_bad_models_file_errors(tmp_path):
    base = {"models": {"a": {"label": "A", "outcome": "trust_hindrance", "numeric": ["competition"]}}}
    with pytest.raises(ConfigError, match="ukjent nøkkel 'defaults.lnk'"):
        o.parse_models({**base, "defaults": {"lnk": "logit"}}, "x.yml")
    with pytest.raises(ConfigError, match="link"):
        o.parse_models({"models": {"a": {**base["models"]["a"], "link": "cloglog"}}}, "x.yml")
    with pytest.raises(ConfigError, match="variant_of viser til ukjent modell 'zz'"):
        o.parse_models({"models": {"a": {"label": "A", "variant_of": "zz"}}}, "x.yml")
    with pytest.raises(ConfigError, match="minst én forklaringsvariabel"):
        o.parse_models({"models": {"a": {"label": "A", "outcome": "trust_hindrance"}}}, "x.yml")
    # a comparison whose "restricted" model has a variable the full one lacks
    bad = {"models": {**base["models"], "b": {"label": "B", "outcome": "trust_hindrance",
                                              "numeric": ["results_use"]}},
           "comparisons": {"c": {"full": "a", "restricted": "b", "label": "x"}}}
    with pytest.raises(ConfigError, match="ikke er i den fulle"):
        o.parse_models(bad, "x.yml")


def test_formula_front_end_drops_intercept_with_note():
    spec, notes = o.spec_from_formula("trust_hindrance ~ 1 + competition + C(role, ref=leder) + results_use")
    assert spec.numeric == ["competition", "results_use"]
    assert spec.categorical == {"role": "leder"}
    assert any("Konstantleddet" in n for n in notes)
    spec2, notes2 = o.spec_from_formula("trust_hindrance ~ competition + C(unit_type, Treatment('nks')) - 1")
    assert spec2.categorical == {"unit_type": "nks"} and spec2.numeric == ["competition"]
    assert any("Konstantleddet" in n for n in notes2)
    _, notes3 = o.spec_from_formula("trust_hindrance ~ competition")
    assert notes3 == []
    with pytest.raises(o.OrdinalError, match="samspill"):
        o.spec_from_formula("trust_hindrance ~ competition:results_use")
    with pytest.raises(o.OrdinalError, match="mangler '~'"):
        o.spec_from_formula("trust_hindrance competition")


def test_formula_model_fits_without_statsmodels_constant_error(cb):
    df = tiny_frame(cb)
    spec, _ = o.spec_from_formula("trust_hindrance ~ 1 + competition + C(role, ref=medarbeider)", cluster=None)
    fit = o.fit_model(spec, df, codebook=cb)
    assert "Intercept" not in fit.design.X.columns and "const" not in fit.design.X.columns
    assert list(fit.design.X.columns) == ["competition", "role[leder]"]


def test_design_dummies_and_dont_know_counts(cb):
    df = tiny_frame(cb, n=300, seed=3)
    y = df["trust_hindrance"].copy()
    y[:7] = 9          # "Vet ikke" on the outcome
    y[7:10] = pd.NA    # not answered
    comp = df["competition"].copy()
    comp[10:15] = 9
    comp[15:17] = pd.NA
    df["trust_hindrance"], df["competition"] = y, comp
    spec = o.ModelSpec(label="t", outcome="trust_hindrance", numeric=["competition"],
                       categorical={"unit_type": "nks"}, cluster="unit_number")
    d = o.build_design(spec, df, name="t", codebook=cb)
    counts = d.counts.set_index("variabel")
    assert counts.loc["trust_hindrance", "vet_ikke"] == 7 and counts.loc["trust_hindrance", "mangler"] == 3
    assert counts.loc["competition", "vet_ikke"] == 5 and counts.loc["competition", "mangler"] == 2
    assert d.n_used == 300 - 17 and d.n_dropped == 17
    # treatment dummies against the reference, empty levels (not in the data) left out with a warning
    assert list(d.X.columns) == ["competition", "unit_type[nav_kontor]", "unit_type[nay]"]
    assert set(np.unique(d.X["unit_type[nay]"])) == {0.0, 1.0}
    assert d.y.min() == 0 and d.y.max() == 4
    # values 9 never reach the design
    assert d.X["competition"].max() <= 5


def test_role_filter_and_bad_codes(cb):
    df = tiny_frame(cb, n=200, seed=4)
    spec = o.ModelSpec(label="t", outcome="trust_hindrance", numeric=["competition"], roles=["leder"], cluster=None)
    d = o.build_design(spec, df, name="t", codebook=cb)
    assert d.n_input == int((df["role"] == "leder").sum())
    bad = df.copy()
    bad["competition"] = bad["competition"].astype("Int16")
    bad.loc[5, "competition"] = 7
    with pytest.raises(o.OrdinalDataError) as exc:
        o.build_design(o.ModelSpec(label="t", outcome="trust_hindrance", numeric=["competition"], cluster=None),
                       bad, name="trust", codebook=cb)
    msg = str(exc.value)
    assert "'trust'" in msg and "rad 5" in msg and "'competition'" in msg and "7" in msg and "[1, 2, 3, 4, 5]" in msg


def test_collinear_predictors_named(cb):
    df = tiny_frame(cb, n=200, seed=5)
    df["results_use"] = df["competition"]
    spec = o.ModelSpec(label="t", outcome="trust_hindrance", numeric=["competition", "results_use"], cluster=None)
    with pytest.raises(o.OrdinalDataError, match="full rang"):
        o.build_design(spec, df, name="t", codebook=cb)


# --------------------------------------------------------------------------------------
# Reference results: UCLA data shipped with statsmodels (R MASS::polr, Stata ologit)
# --------------------------------------------------------------------------------------

UCLA = Path(__import__("statsmodels").__file__).parent / "miscmodels" / "tests" / "results"


@pytest.fixture(scope="module")
def ucla():
    from statsmodels.miscmodels.tests.results.results_ordinal_model import data_store, res_ord_logit, res_ord_probit

    assert (UCLA / "ologit_ucla.csv").is_file()
    return data_store.df, res_ord_logit, res_ord_probit


# Stata 'ologit apply pared public gpa' on the same file (UCLA OARC "Ordered logistic
# regression | Stata data analysis examples"): converged to Stata's tight default tolerance.
STATA_OLOGIT = {"coef": [1.047664, -0.0586828, 0.6157458], "cuts": [2.203323, 4.298767], "ll": -358.51244}


def test_ucla_logit_reproduces_stata_and_r(ucla):
    df, r_logit, _ = ucla
    fit = o.fit_arrays(df["apply"], df[["pared", "public", "gpa"]], link="logit")
    assert fit.convergence.converged and fit.convergence.max_abs_score < 1e-6
    np.testing.assert_allclose(fit.beta.to_numpy(), STATA_OLOGIT["coef"], atol=1e-4)
    np.testing.assert_allclose(fit.cutpoints()["estimat"], STATA_OLOGIT["cuts"], atol=1e-4)
    assert fit.llf == pytest.approx(STATA_OLOGIT["ll"], abs=1e-4)
    # R's polr stops early (BFGS, reltol 1e-8): its published point is 6e-4 away in the
    # cut-points, and has a larger gradient and a lower log-likelihood than ours.
    np.testing.assert_allclose(fit.beta.to_numpy(), r_logit.coefficients_val, atol=1e-3)
    np.testing.assert_allclose(fit.cutpoints()["estimat"], r_logit.thresholds, atol=1e-3)
    r_params = np.concatenate([r_logit.coefficients_val,
                               fit.model.transform_reverse_threshold_params(np.r_[r_logit.thresholds, np.inf])])
    assert fit.model.loglike(r_params) < fit.llf
    assert np.abs(fit.model.score(r_params)).max() > 100 * fit.convergence.max_abs_score
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov))[:3], r_logit.coefficients_stdE, rtol=3e-3)
    np.testing.assert_allclose(fit.result.predict()[:7], r_logit.prob_pred, atol=2e-4)


def test_ucla_probit_reproduces_r(ucla):
    df, _, r_probit = ucla
    fit = o.fit_arrays(df["apply"], df[["pared", "public", "gpa"]], link="probit")
    assert fit.convergence.converged
    np.testing.assert_allclose(fit.beta.to_numpy(), r_probit.coefficients_val, atol=1e-4)
    np.testing.assert_allclose(fit.cutpoints()["estimat"], r_probit.thresholds, atol=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov))[:3], r_probit.coefficients_stdE, rtol=3e-3)
    np.testing.assert_allclose(fit.result.predict()[:7], r_probit.prob_pred, atol=1e-4)


def test_statsmodels_default_fit_is_not_good_enough(ucla):
    """What OrderedModel.fit() does by default: Nelder–Mead, maxiter 500, numerical Hessian."""
    df, _, _ = ucla
    mod = OrderedModel(df["apply"], df[["pared", "public", "gpa"]], distr="logit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mod.fit(disp=0)
    assert res.mle_settings["optimizer"] == "nm"
    ours = o.fit_arrays(df["apply"], df[["pared", "public", "gpa"]], link="logit")
    # same model, our exact score at statsmodels' default optimum: far from zero
    sc = o.CumulativeLinkModel(df["apply"], df[["pared", "public", "gpa"]], distr="logit").score(res.params)
    assert np.abs(sc).max() > 1e3 * ours.convergence.max_abs_score


# --------------------------------------------------------------------------------------
# Exact derivatives
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_analytic_score_and_hessian_match_numerical(link, trust_fit):
    d = trust_fit.design
    endog = pd.Series(pd.Categorical.from_codes(d.y, categories=d.outcome_labels, ordered=True))
    mod = o.CumulativeLinkModel(endog, d.X.iloc[:, :6], distr=link)
    rng = np.random.default_rng(1)
    p = mod.start_params + rng.normal(0, 0.2, len(mod.start_params))
    num_score = approx_fprime(p, mod.loglike, centered=True)
    np.testing.assert_allclose(mod.score(p), num_score, rtol=1e-5, atol=1e-4)
    num_hess = approx_fprime(p, mod.score, centered=True)
    np.testing.assert_allclose(mod.hessian(p), num_hess, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(mod.score_obs(p).sum(0), mod.score(p), rtol=1e-10, atol=1e-8)
    # the log-likelihood itself equals statsmodels' own
    np.testing.assert_allclose(mod.loglike(p), OrderedModel.loglike(mod, p), rtol=1e-10)


def test_fit_reports_convergence(trust_fit):
    c = trust_fit.convergence
    assert c.converged and c.max_abs_score <= c.gtol and c.iterations >= 1
    assert "Konvergert" in c.message()
    assert np.abs(trust_fit.model.score(trust_fit.params)).max() <= c.gtol


def test_cluster_robust_cov_is_the_sandwich(trust_fit):
    m, d = trust_fit.model, trust_fit.design
    p = trust_fit.params
    S = m.score_obs(p)
    G = d.n_clusters
    Sg = np.zeros((G, S.shape[1]))
    np.add.at(Sg, d.groups, S)
    Hinv = np.linalg.inv(m.hessian(p))
    n, k = S.shape
    corr = G / (G - 1) * (n - 1) / (n - k)
    V = corr * Hinv @ (Sg.T @ Sg) @ Hinv
    np.testing.assert_allclose(trust_fit.cov, V, rtol=1e-8)
    assert "klyngerobust" in trust_fit.cov_type and str(G) in trust_fit.cov_type


# --------------------------------------------------------------------------------------
# Parameter recovery
# --------------------------------------------------------------------------------------


def _truth_vector(fit: o.OrdinalFit, truth: dict) -> pd.Series:
    return o.truth_vector(fit.design.X.columns, truth)


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_recovery_on_simulated_data(link, cb, models):
    truth = {**truth_for("trust_hindrance"), "link": link, "unit_sd": 0.3}
    df = o.simulate_survey(20000, truth, seed=5, codebook=cb)
    fit = o.fit_model("trust" if link == "logit" else "trust_probit", df, models=models, codebook=cb)
    true = _truth_vector(fit, truth)
    se = np.sqrt(np.diag(fit.cov))[: fit.k_beta]
    z = (fit.beta - true) / se
    assert np.all(np.abs(z) < 4), z[np.abs(z) >= 4]
    # cut-points: the simulator centres predictors at 3, so c_fit = c_true + 3·Σβ (numeric)
    shift = 3 * sum(truth["predictors"].values())
    np.testing.assert_allclose(fit.cutpoints()["estimat"],
                               (np.asarray(truth["cuts"]) + shift) * o.marginal_scale(truth), atol=0.15)


@pytest.fixture(scope="module")
def twin():
    synth = pytest.importorskip("tillit.data.synth", reason="the synthetic twin (tillit.data.synth) is not there yet")
    if not hasattr(synth, "generate_clean"):
        pytest.skip("tillit.data.synth.generate_clean() not available yet")
    return synth.generate_clean()["survey_2023"]  # default seed from params/synthetic.yml


@pytest.mark.parametrize("name,outcome", [("trust", "trust_hindrance"), ("mor_effect", "f_mor")])
def test_recovery_on_the_twin(twin, name, outcome, models, cb):
    """The twin's true coefficients (params/synthetic.yml) are recovered by the declared model.

    Respondent-level coefficients (steering scores, role) within 4 cluster-robust SEs. Unit-type
    effects rest on 2–12 units per type in the twin, so their cluster-robust SEs are not
    trustworthy; they are checked on the absolute scale only.
    """
    truth = truth_for(outcome)
    fit = o.fit_model(name, twin, models=models, codebook=cb)
    assert fit.convergence.converged
    true = _truth_vector(fit, truth)
    se = pd.Series(np.sqrt(np.diag(fit.cov))[: fit.k_beta], index=fit.beta.index)
    z = (fit.beta - true) / se
    within = [c for c in z.index if not c.startswith("unit_type[")]
    assert np.all(np.abs(z[within]) < 4), z[within][np.abs(z[within]) >= 4]
    units = [c for c in z.index if c.startswith("unit_type[")]
    assert np.all(np.abs(fit.beta[units] - true[units]) < 0.6), (fit.beta - true)[units]
    # the steering scores carry the story: sign and size recovered
    for c in truth["predictors"]:
        assert np.sign(fit.beta[c]) == np.sign(true[c]) and abs(fit.beta[c] - true[c]) < 0.15


def _long_goals(cb, n=1500, seed=0, qual_shift=0.8, resp_sd=0.6):
    """Goal items qn_/ql_ from a respondent effect + goal-type shift + aspect shifts."""
    rng = np.random.default_rng(seed)
    df = tiny_frame(cb, n=n, seed=seed)
    u = rng.normal(0, resp_sd, n)
    cuts = np.array([-2.0, -0.8, 0.8, 2.0])
    aspects = list(cb.goal_aspects)
    for gi, gtype in enumerate(cb.goal_types):
        for ai, asp in enumerate(aspects):
            lat = u + (qual_shift if gtype == "kvalitativ" else 0.0) + 0.1 * ai + rng.logistic(size=n)
            col = pd.array(np.searchsorted(cuts, lat) + 1, dtype="Int8")
            col[rng.random(n) < 0.05] = 9
            df[cb.goal_item(gtype, asp)] = col
    return df


def test_long_goal_model(cb, models):
    df = _long_goals(cb)
    fit = o.fit_model("goal_types", df, models=models, codebook=cb)
    d = fit.design
    assert d.n_input == len(df) * len(cb.goal_types) * len(cb.goal_aspects)
    assert d.n_clusters == len(df) and "respondent_id" in fit.cov_type
    b = fit.beta["goal_type[kvalitativ]"]
    se = np.sqrt(fit.cov[list(d.X.columns).index("goal_type[kvalitativ]")] [list(d.X.columns).index("goal_type[kvalitativ]")])
    true = 0.8 / np.sqrt(1 + (16 * np.sqrt(3) / (15 * np.pi)) ** 2 * 0.36)
    assert abs(b - true) < 4 * se
    # respondent clustering widens the interval relative to the naive one
    naive = o.fit_design(d, cluster=False)
    k = list(d.X.columns).index("goal_type[kvalitativ]")
    assert np.sqrt(naive.cov[k, k]) != pytest.approx(se)


# --------------------------------------------------------------------------------------
# Tests between models, PO check, reader output
# --------------------------------------------------------------------------------------


def test_lr_test_uses_the_same_rows(sim, models, cb):
    lr = o.lr_test("trust", "trust_base", sim, models=models, codebook=cb)
    assert lr.df == 4 and lr.statistic > 0
    assert lr.full_fit.design.n_used == lr.restricted_fit.design.n_used == lr.n
    assert lr.statistic == pytest.approx(2 * (lr.full_fit.llf - lr.restricted_fit.llf))
    assert lr.p_value == pytest.approx(stats.chi2.sf(lr.statistic, 4))
    # the restricted model alone would use more rows (fewer predictors to be missing)
    alone = o.fit_model("trust_base", sim, models=models, codebook=cb)
    assert alone.design.n_used > lr.n
    with pytest.raises(ConfigError, match="nøstet|ikke er i den fulle"):
        o.lr_test("trust_base", "mor_effect", sim, models=models, codebook=cb)


def test_pseudo_r2_and_aic(trust_fit):
    assert trust_fit.pseudo_r2 == pytest.approx(1 - trust_fit.llf / trust_fit.llnull)
    assert trust_fit.aic == pytest.approx(-2 * trust_fit.llf + 2 * len(trust_fit.params))
    assert trust_fit.aic == pytest.approx(trust_fit.result.aic)  # statsmodels counts the same


def test_brant_detects_non_proportional_odds(cb):
    rng = np.random.default_rng(8)
    n = 6000
    df = tiny_frame(cb, n=n, seed=8)
    x = df["competition"].astype(float).to_numpy()
    w = df["results_use"].astype(float).to_numpy()
    # x matters only for the top split: y>=5 depends on x, lower splits do not
    lat = 0.3 * w + rng.logistic(size=n)
    y = np.searchsorted([-0.5, 0.5, 1.5, 99], lat) + 1
    top = rng.random(n) < expit_(-3.5 + 0.6 * x)
    y = np.where(top, 5, np.minimum(y, 4))
    df["trust_hindrance"] = pd.array(y, dtype="Int8")
    spec = o.ModelSpec(label="ikke-PO", outcome="trust_hindrance", numeric=["competition", "results_use"],
                       cluster="unit_number")
    fit = o.fit_model(spec, df, codebook=cb)
    br = o.brant_test(fit)
    assert not br.holds and "competition" in br.failed
    cut = br.cut_estimates[br.cut_estimates["kolonne"] == "competition"]
    assert len(cut) == 4 and cut["estimat"].iloc[-1] > cut["estimat"].iloc[0] + 0.3
    from tillit.book.numbers import Numbers

    assert "proporsjonale odds ikke holder" in bm.describe(SimpleNamespace(num=Numbers(synthetic=True)), fit, br)


def expit_(x):
    return 1 / (1 + np.exp(-x))


def test_brant_under_proportional_odds(trust_fit):
    br = o.brant_test(trust_fit)
    assert br.overall["df"] == 3 * trust_fit.k_beta - 3 * len(
        [c for v in br.untested for c in trust_fit.design.terms[v]])
    assert set(br.by_predictor["variabel"]) | set(br.untested) == set(trust_fit.design.terms)
    assert br.overall["p"] > 0.01


def test_odds_ratio_table_and_format(trust_fit):
    tab = o.odds_ratio_table(trust_fit)
    coef = tab[tab["del"] == "koeffisient"]
    assert len(coef) == trust_fit.k_beta and (tab["del"] == "terskel").sum() == 4
    np.testing.assert_allclose(coef["or"], np.exp(trust_fit.beta.to_numpy()))
    assert np.all(coef["or_lav"] < coef["or"]) and np.all(coef["or"] < coef["or_hoy"])
    assert bm.format_or(1.2345, 1.1, 1.38) == "1,23 (1,10–1,38)"
    nice = bm.reader_table(trust_fit)
    first = nice.iloc[0]
    r = coef.iloc[0]
    assert first["Oddsforhold (95 % KI)"] == bm.format_or(r["or"], r["or_lav"], r["or_hoy"])
    assert "," in first["Oddsforhold (95 % KI)"] and "." not in first["Oddsforhold (95 % KI)"]
    assert nice["Referanse"].iloc[list(coef["kolonne"]).index("role[leder]")] == "Medarbeider"


def test_predicted_probabilities(trust_fit):
    pp = o.predicted_probabilities(trust_fit, "role")
    assert set(pp["nivå"]) == {"medarbeider", "leder", "tillitsvalgt", "verneombud"}
    sums = pp.groupby("nivå")["sannsynlighet"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-10)
    assert np.all((pp["ki_lav"] <= pp["sannsynlighet"]) & (pp["sannsynlighet"] <= pp["ki_hoy"]))
    # reference level = statsmodels' predictions with every role dummy set to 0
    X = trust_fit.design.X.copy()
    X[[c for c in X.columns if c.startswith("role[")]] = 0.0
    ref = trust_fit.result.model.predict(trust_fit.params, exog=X.to_numpy()).mean(0)
    np.testing.assert_allclose(pp[pp["nivå"] == "medarbeider"]["sannsynlighet"], ref, rtol=1e-10)
    num = o.predicted_probabilities(trust_fit, "competition")
    assert sorted(set(num["nivå"])) == [1, 2, 3, 4, 5]
    top = num[num["kategori"] == 5].set_index("nivå")["sannsynlighet"]
    assert top.is_monotonic_increasing  # competition raises hindrances in the simulation
    with pytest.raises(o.OrdinalError, match="ikke en forklaringsvariabel"):
        o.predicted_probabilities(trust_fit, "f_tid")


def test_describe_is_computed(trust_fit):
    from tillit.book.numbers import Numbers

    text = bm.describe(SimpleNamespace(num=Numbers(synthetic=True)), trust_fit)
    r = o.odds_ratio_table(trust_fit).set_index("kolonne").loc["competition"]
    assert fmt.num(r["or"], 2) in text
    assert fmt.num(trust_fit.design.n_used) in text
    assert "ikke årsakseffekter" in text


# --------------------------------------------------------------------------------------
# Failure cases: clear errors/warnings naming model and variable
# --------------------------------------------------------------------------------------


def test_empty_outcome_category(cb):
    df = tiny_frame(cb, n=300, seed=9)
    y = df["trust_hindrance"].copy()
    y[y == 1] = 2
    df["trust_hindrance"] = y
    spec = o.ModelSpec(label="t", outcome="trust_hindrance", numeric=["competition"], cluster=None)
    with pytest.raises(o.OrdinalDataError) as exc:
        o.fit_model(spec, df, name="tillit_test", codebook=cb)
    msg = str(exc.value)
    assert "'tillit_test'" in msg and "'trust_hindrance'" in msg and "I svært liten grad" in msg


def test_empty_predictor_level_warns_and_empty_reference_errors(cb):
    df = tiny_frame(cb, n=300, seed=10)
    spec = o.ModelSpec(label="t", outcome="trust_hindrance", numeric=["competition"],
                       categorical={"unit_type": "nav_kontor"}, cluster=None)
    with pytest.warns(o.OrdinalWarning, match=r"modell 'm1'.*'hot'.*unit_type"):
        fit = o.fit_model(spec, df, name="m1", codebook=cb)
    assert "unit_type[hot]" not in fit.design.X.columns
    assert any("hot" in n for n in fit.notes)
    spec_ref = o.ModelSpec(label="t", outcome="trust_hindrance", numeric=["competition"],
                           categorical={"unit_type": "kontroll"}, cluster=None)
    with pytest.raises(o.OrdinalDataError, match=r"modell 'm2'.*referansenivået 'kontroll'.*unit_type"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", o.OrdinalWarning)
            o.fit_model(spec_ref, df, name="m2", codebook=cb)


def test_perfect_separation_dummy(cb):
    df = tiny_frame(cb, n=300, seed=12)
    y = df["trust_hindrance"].copy()
    y[(df["role"] == "leder").to_numpy()] = 5
    df["trust_hindrance"] = y
    spec = o.ModelSpec(label="t", outcome="trust_hindrance", numeric=["competition"],
                       categorical={"role": "medarbeider"}, cluster=None)
    with pytest.raises(o.SeparationError, match=r"modell 'sep'.*'role'.*Leder"):
        o.fit_model(spec, df, name="sep", codebook=cb)


def test_perfect_separation_numeric(cb):
    df = tiny_frame(cb, n=300, seed=13)
    df["trust_hindrance"] = df["competition"]  # the answer is determined by the predictor
    spec = o.ModelSpec(label="t", outcome="trust_hindrance", numeric=["competition", "results_use"], cluster=None)
    with pytest.raises(o.SeparationError, match=r"modell 'sep2'.*competition"):
        o.fit_model(spec, df, name="sep2", codebook=cb)


def test_non_convergence(cb):
    df = tiny_frame(cb, n=300, seed=14)
    spec = o.ModelSpec(label="t", outcome="trust_hindrance", numeric=["competition", "results_use"],
                       cluster=None, maxiter=1, gtol=1e-12)
    with pytest.raises(o.ConvergenceError, match=r"modell 'nc'.*IKKE konvergert"):
        o.fit_model(spec, df, name="nc", codebook=cb)
    with pytest.warns(o.OrdinalWarning, match="IKKE konvergert"):
        fit = o.fit_model(spec, df, name="nc", codebook=cb, on_nonconvergence="warn")
    assert not fit.convergence.converged


def test_constant_predictor(cb):
    df = tiny_frame(cb, n=100, seed=15)
    df["competition"] = pd.array([3] * 100, dtype="Int8")
    spec = o.ModelSpec(label="t", outcome="trust_hindrance", numeric=["competition"], cluster=None)
    with pytest.raises(o.OrdinalDataError, match=r"modell 'k'.*'competition' har samme verdi"):
        o.fit_model(spec, df, name="k", codebook=cb)


def test_plot_predicted_probabilities(trust_fit):
    import matplotlib

    matplotlib.use("Agg")
    pp = o.predicted_probabilities(trust_fit, "role")
    ax = bm.plot_predicted_probabilities(pp, title="Tillit")
    assert len(ax.get_legend().get_texts()) == 4
    assert [t.get_text() for t in ax.get_xticklabels()] == trust_fit.design.outcome_labels
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


def test_few_clusters_flagged(twin, models, cb):
    fit = o.fit_model("trust", twin, models=models, codebook=cb)
    raw = o.odds_ratio_table(fit)
    nice = bm.reader_table(fit)
    coef = raw[raw["del"] == "koeffisient"].reset_index(drop=True)
    few = coef["variabel"].isin(fit.design.references) & (coef["klynger"] < o.few_cluster_threshold())
    assert few.any()  # the twin has 2–3 units for the smallest unit types
    flagged = nice.iloc[: len(coef)]["Intervall"].str.startswith("få enheter")
    assert (flagged == few).all() and (coef.loc[few, "metode"] == o.METHOD_FEW).all()
    assert (coef.loc[coef["variabel"] == "competition", "n"] == fit.design.n_used).all()
