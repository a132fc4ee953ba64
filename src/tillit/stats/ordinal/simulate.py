"""Processed-layout data from a known cumulative-link model, and the coefficients a model
without unit effects should recover (tests, benchmarks, the coverage study)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tillit.stats.ordinal.design import _codebook


def simulate_survey(n: int, truth: dict, *, seed: int = 0, respondents_per_unit: int = 15,
                    dont_know: float = 0.03, missing: float = 0.02, codebook=None) -> pd.DataFrame:
    """Processed-layout respondents from latent = X·beta + unit effect + noise, cut at `cuts`.

    `truth` has the shape of params/synthetic.yml's `outcomes.<name>` block::

        {outcome: trust_hindrance, link: logit, cuts: [...4 values...], unit_sd: 0.4,
         predictors: {competition: 0.3, ...}, role: {leder: -0.2, ...}, unit_type: {nks: 0.4, ...}}

    Numeric predictors are 1..5 codes centred at 3 in the linear predictor (so the cut-points
    mean the same as in synthetic.yml), with a share "Vet ikke" = 9 and <NA>; role and unit
    type are codebook categoricals; unit_number is the cluster.
    """
    cb = codebook if codebook is not None else _codebook()
    rng = np.random.default_rng(seed)
    dont_know = float(truth.get("dont_know", dont_know))
    n_units = max(2, n // respondents_per_unit)
    ut_keys = list(cb.unit_types)
    ut_p = np.array([0.5 if k == "nav_kontor" else 0.5 / (len(ut_keys) - 1) for k in ut_keys])
    unit_type_of_unit = rng.choice(len(ut_keys), size=n_units, p=ut_p)
    unit_effect = rng.normal(0.0, float(truth.get("unit_sd", 0.0)), size=n_units)
    unit = rng.integers(0, n_units, size=n)
    width = max(4, len(str(n_units)))
    role_keys = list(cb.roles)
    role_p = np.array([0.75, 0.15, 0.06, 0.04])[: len(role_keys)]
    role = rng.choice(len(role_keys), size=n, p=role_p / role_p.sum())
    df = pd.DataFrame({
        "respondent_id": [f"R{i:07d}" for i in range(n)],
        "role": pd.Categorical.from_codes(role, categories=role_keys),
        "unit_type": pd.Categorical.from_codes(unit_type_of_unit[unit], categories=ut_keys),
        "unit_number": pd.Series([f"{u:0{width}d}" for u in unit], dtype=object),
    })
    df["line"] = pd.Categorical([cb.unit_types[u].line for u in df["unit_type"].astype(str)],
                                categories=list(cb.lines))
    eta = unit_effect[unit].copy()
    code_p = np.array([0.12, 0.22, 0.32, 0.22, 0.12])
    for var, b in (truth.get("predictors") or {}).items():
        x = rng.choice(5, size=n, p=code_p) + 1
        eta += float(b) * (x - 3)  # centred at 3, as in params/synthetic.yml
        col = pd.array(x, dtype="Int8")
        u = rng.random(n)
        col[u < dont_know] = 9
        col[(u >= dont_know) & (u < dont_know + missing)] = pd.NA
        df[var] = col
    for var in ("role", "unit_type", "line"):
        effects = truth.get(var) or {}
        if effects:
            codes = df[var].astype(str).to_numpy()
            eta += np.array([float(effects.get(c, 0.0)) for c in codes])
    link = truth.get("link", "logit")
    noise = rng.logistic(size=n) if link == "logit" else rng.normal(size=n)
    latent = eta + noise
    cuts = np.asarray(truth["cuts"], dtype=float)
    y = np.searchsorted(cuts, latent) + 1  # y = k  ⇔  c_{k-1} < latent ≤ c_k
    out = pd.array(y, dtype="Int8")
    u = rng.random(n)
    out[u < dont_know] = 9
    out[(u >= dont_know) & (u < dont_know + missing)] = pd.NA
    df[truth.get("outcome", "trust_hindrance")] = out
    return df


def truth_vector(columns, truth: dict) -> pd.Series:
    """The coefficients a model without unit effects should estimate, per design column:
    synthetic.yml's true values (dummies as `var[level]`), shrunk by :func:`marginal_scale`."""
    out = {}
    for c in columns:
        if "[" in c:
            var, lev = c[:-1].split("[")
            out[c] = float((truth.get(var) or {}).get(lev, 0.0))
        else:
            out[c] = float(truth["predictors"][c])
    return pd.Series(out) * marginal_scale(truth)


def marginal_scale(truth: dict) -> float:
    """Factor by which a random unit intercept (sd σ) shrinks the population-averaged slopes
    an ordinal model without random effects estimates: exact 1/√(1+σ²) for probit, the
    Zeger–Liang–Albert approximation 1/√(1+c²σ²), c = 16√3/(15π), for logit."""
    s = float(truth.get("unit_sd", 0.0))
    if truth.get("link", "logit") == "probit":
        return 1.0 / np.sqrt(1.0 + s * s)
    c = 16 * np.sqrt(3) / (15 * np.pi)
    return 1.0 / np.sqrt(1.0 + (c * s) ** 2)
