"""The ordinal models against R's ordinal::clm on the synthetic twin (default seed): the
proportional-odds model, case weights (clm(weights=)), partial proportional odds
(clm(nominal=~x)), a probit model and a legitimate large coefficient (a predictor in small
units). The reference values were computed once with R and are recorded in
tests/r/clm_reference.json (how: tests/r/make_clm_reference.py); the suite does not need R.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from tillit.stats import ordinal as o

REFERENCE = Path(__file__).parent / "r" / "clm_reference.json"
TOL = 1e-6
pytestmark = pytest.mark.filterwarnings("ignore::tillit.stats.ordinal.OrdinalWarning")


def case_weights(n: int) -> np.ndarray:
    """Deterministic case weights in [1, 2] (no random stream, so R and Python agree)."""
    return 1.0 + ((np.arange(n) * 7919) % 13) / 12.0


# name -> (model in params/models.yml, nominal predictors, weighted, scale of competition)
CASES = {
    "po_trust": ("trust", [], False, 1.0),
    "po_trust_weighted": ("trust", [], True, 1.0),
    "po_mor_probit": ("mor_effect_probit", [], False, 1.0),
    "po_trust_small_units": ("trust", [], False, 50.0),
    "ppo_trust_competition": ("trust", ["competition"], False, 1.0),
    "ppo_trust_competition_weighted": ("trust", ["competition"], True, 1.0),
    "ppo_goal_types": ("goal_types", ["goal_type", "aspect"], False, 1.0),
}


def twin_survey():
    from tillit.data import synth

    return synth.generate_clean()["survey_2023"]  # default seed (params/synthetic.yml)


def case_design(name: str, survey) -> o.Design:
    model, _, weighted, scale = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", o.OrdinalWarning)
        d = o.build_design(o.load_models().get(model), survey, name=name)
    if scale != 1.0:  # competition in small units: beta grows by `scale`, nothing else moves
        d.X["competition"] = d.X["competition"] / scale
    if weighted:
        d.weights = case_weights(d.n_used)
    return d


def fingerprint(d: o.Design) -> dict:
    """Enough of the design to tell whether the twin has changed since the references."""
    return {"n": int(d.n_used), "J": len(d.outcome_codes), "sum_y": int(d.y.sum()),
            "col_sums": [float(v) for v in d.X.sum().round(9)]}


def fit_case(name: str, survey):
    d = case_design(name, survey)
    fit = o.fit_design(d, cluster=False, gtol=1e-10, maxiter=200)
    nominal = CASES[name][1]
    if nominal:
        return d, o.fit_partial_po(fit, nominal, cluster=False, gtol=1e-10, maxiter=200)
    return d, fit


def our_values(name: str, fit) -> dict:
    """Our estimates under R's names and signs: thresholds 'j|j+1' ('j|j+1.(Intercept)' with
    nominal effects), nominal effects 'j|j+1.<col>' (= −δ_j: clm adds them to the
    thresholds), slopes by column."""
    d = fit.design
    J = len(d.outcome_codes)
    cols = list(d.X.columns)
    codes = d.outcome_codes
    if isinstance(fit, o.PartialPOFit):
        m = fit.model
        se = fit.se()
        vals, ses = {}, {}
        cuts = m.cuts(fit.params)
        k0 = m.k_po + (J - 1) * m.k_nom
        for j in range(J - 1):
            key = f"{codes[j]}|{codes[j + 1]}"
            vals[f"{key}.(Intercept)"], ses[f"{key}.(Intercept)"] = cuts[j], se[k0 + j]
            for i, c in enumerate(fit.nominal_cols):
                key_c = f"{key}.x{cols.index(c) + 1}"
                idx = m.k_po + j * m.k_nom + i
                vals[key_c], ses[key_c] = -fit.params[idx], se[idx]
        for i, c in enumerate(fit.po_cols):
            vals[f"x{cols.index(c) + 1}"], ses[f"x{cols.index(c) + 1}"] = fit.params[i], se[i]
        return {"coef": vals, "se": ses, "logLik": fit.llf}
    cp = fit.cutpoints()
    se = np.sqrt(np.diag(fit.cov))
    vals = {f"{codes[j]}|{codes[j + 1]}": cp["estimat"].iloc[j] for j in range(J - 1)}
    ses = {f"{codes[j]}|{codes[j + 1]}": cp["se"].iloc[j] for j in range(J - 1)}
    for i, c in enumerate(cols):
        vals[f"x{i + 1}"], ses[f"x{i + 1}"] = fit.beta[c], se[i]
    return {"coef": vals, "se": ses, "logLik": fit.llf}


@pytest.fixture(scope="module")
def reference():
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def survey():
    return twin_survey()


def test_reference_file_covers_every_case(reference):
    assert set(reference) == set(CASES)
    for name, ref in reference.items():
        assert ref["converged"] and ref["max_grad"] < 1e-6, name


@pytest.mark.parametrize("name", list(CASES))
def test_matches_clm(name, reference, survey):
    ref = reference[name]
    d, fit = fit_case(name, survey)
    assert fingerprint(d) == ref["fingerprint"], (
        "the synthetic twin has changed since the R references were computed; "
        "recompute them with tests/r/make_clm_reference.py")
    ours = our_values(name, fit)
    r_coef = dict(zip(ref["names"], ref["coef"]))
    r_se = dict(zip(ref["names"], ref["se"]))
    assert set(ours["coef"]) == set(r_coef)
    diff = max(abs(ours["coef"][k] - r_coef[k]) for k in r_coef)
    assert diff < TOL, f"{name}: largest coefficient difference {diff:.2e}"
    diff_se = max(abs(ours["se"][k] - r_se[k]) for k in r_se)
    assert diff_se < TOL, f"{name}: largest SE difference {diff_se:.2e}"
    assert ours["logLik"] == pytest.approx(ref["logLik"], abs=TOL)


def test_partial_po_lr_test_matches_clm(reference, survey):
    """The LR test of partial against full proportional odds, from R's two log-likelihoods."""
    for ppo, po in (("ppo_trust_competition", "po_trust"),):
        _, fit = fit_case(ppo, survey)
        lr = fit.lr_test()
        r_stat = 2 * (reference[ppo]["logLik"] - reference[po]["logLik"])
        assert lr["chi2"] == pytest.approx(r_stat, abs=2 * TOL)
        assert lr["df"] == 3


def test_weights_move_the_estimates(reference):
    """clm(weights=) moves the estimates; a fit that ignored the weights would not."""
    w, u = reference["po_trust_weighted"], reference["po_trust"]
    assert max(abs(a - b) for a, b in zip(w["coef"], u["coef"])) > 0.01
