"""Partial proportional odds (tillit.stats.ordinal.partial): derivatives, the LR test against
proportional odds, and what it finds where PO fails and where it holds. The agreement with
R's clm(nominal = ~ x) on the twin is in test_ordinal_r.py."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tools.numdiff import approx_fprime

from tillit.stats import ordinal as o

pytestmark = pytest.mark.filterwarnings("ignore::tillit.stats.ordinal.OrdinalWarning")


def data(non_po: bool, n: int = 4000, seed: int = 2):
    """x shifts only the top split when non_po; w is proportional throughout."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, n).astype(float)
    w = rng.normal(size=n)
    lat = 0.5 * w + (0.0 if non_po else 0.35 * x) + rng.logistic(size=n)
    y = np.searchsorted([-1.0, 0.2, 1.2, 2.2 + (0 if not non_po else 0)], lat)
    if non_po:
        top = rng.random(n) < 1 / (1 + np.exp(-(-4.0 + 0.7 * x + 0.5 * w)))
        y = np.where(top, 4, np.minimum(y, 3))
    groups = rng.integers(0, 80, n)
    return o.fit_arrays(y, pd.DataFrame({"x": x, "w": w}), groups=groups)


def test_derivatives_are_exact():
    fit = data(non_po=True)
    ppo = o.fit_partial_po(fit, ["x"])
    m = ppo.model
    theta = ppo.params + np.random.default_rng(0).normal(0, 0.05, len(ppo.params))
    np.testing.assert_allclose(m.score(theta), approx_fprime(theta, m.loglike, centered=True), atol=2e-4, rtol=1e-5)
    np.testing.assert_allclose(m.hessian(theta), approx_fprime(theta, m.score, centered=True), atol=2e-3, rtol=1e-5)
    np.testing.assert_allclose(m.score_obs(theta).sum(0), m.score(theta), atol=1e-8)


def test_finds_the_cut_point_specific_effect_where_po_fails():
    fit = data(non_po=True)
    assert "x" in o.brant_test(fit).failed
    ppo = o.fit_partial_po(fit, ["x"])
    lr = ppo.lr_test()
    assert lr["df"] == 3 and lr["p"] < 1e-6
    eff = ppo.effects().set_index("terskel")
    assert list(eff.index) == [1, 2, 3, 4] and (eff["kolonne"] == "x").all()
    assert eff.loc[4, "estimat"] > eff.loc[1, "estimat"] + 0.3   # strongest at the top split
    assert (eff["po_estimat"] == fit.beta["x"]).all()
    assert (eff["ki_lav"] < eff["estimat"]).all() and "klyngerobust" in ppo.cov_type
    # the proportional column keeps one coefficient, near the PO fit's
    assert ppo.coefficients()["w"] == pytest.approx(fit.beta["w"], abs=0.1)


def test_agrees_with_po_where_po_holds():
    fit = data(non_po=False)
    ppo = o.fit_partial_po(fit, ["x"])
    assert ppo.lr_test()["p"] > 0.01
    eff = ppo.effects()
    assert np.all(np.abs(eff["estimat"] - fit.beta["x"]) < 3 * eff["se"])
    assert ppo.llf >= fit.llf - 1e-8     # nested: it can only fit better


def test_same_rows_and_clear_errors():
    fit = data(non_po=True)
    ppo = o.fit_partial_po(fit, ["x"], cluster=False)
    assert ppo.design is fit.design and "modellbasert" in ppo.cov_type
    with pytest.raises(o.OrdinalError, match="ikke forklaringsvariabler"):
        o.fit_partial_po(fit, ["z"])
    with pytest.raises(o.OrdinalError, match="minst én"):
        o.fit_partial_po(fit, [])
