"""Tests between and within models: likelihood-ratio tests of nested models on the same
rows, the Brant test of proportional odds, and joint Wald tests of a predictor's terms."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tillit.stats.ordinal.design import Design, build_design
from tillit.stats.ordinal.estimation import OrdinalFit, fit_design
from tillit.stats.ordinal.specs import (ModelSpec, ModelsFile, OrdinalError, OrdinalWarning,
                                        SeparationError, check_nested, load_models)


@dataclass
class LRTest:
    label: str
    full: str
    restricted: str
    statistic: float
    df: int
    p_value: float
    n: int
    full_fit: OrdinalFit
    restricted_fit: OrdinalFit

    def row(self) -> dict[str, Any]:
        return {"test": self.label, "full": self.full, "begrenset": self.restricted, "lr": self.statistic,
                "df": self.df, "p": self.p_value, "n": self.n,
                "aic_full": self.full_fit.aic, "aic_begrenset": self.restricted_fit.aic}


def lr_test(full: ModelSpec | str, restricted: ModelSpec | str, data: pd.DataFrame, *,
            models: ModelsFile | None = None, label: str | None = None, codebook=None) -> LRTest:
    """LR test on the FULL model's estimation rows (the restricted model would otherwise use
    rows the full one dropped for missing predictors, and the test would be invalid)."""
    models_ = models if models is not None else (None if not (isinstance(full, str) or isinstance(restricted, str)) else load_models())
    fname = full if isinstance(full, str) else full.label
    rname = restricted if isinstance(restricted, str) else restricted.label
    fspec = models_.get(full) if isinstance(full, str) else full
    rspec = models_.get(restricted) if isinstance(restricted, str) else restricted
    check_nested(fspec, rspec, where=f"LR-test {fname} mot {rname}")
    fdesign = build_design(fspec, data, name=fname, codebook=codebook)
    ffit = fit_design(fdesign)
    cols = [c for v in rspec.predictors for c in fdesign.terms[v]]
    rdesign = Design(**{**fdesign.__dict__, "model": rname, "spec": rspec, "X": fdesign.X[cols],
                        "terms": {v: fdesign.terms[v] for v in rspec.predictors},
                        "references": {v: r for v, r in fdesign.references.items() if v in rspec.categorical},
                        "term_labels": {v: fdesign.term_labels[v] for v in rspec.predictors}})
    rfit = fit_design(rdesign)
    stat = 2.0 * (ffit.llf - rfit.llf)
    df = ffit.n_params - rfit.n_params
    return LRTest(label or f"{fname} mot {rname}", fname, rname, float(stat), int(df),
                  float(stats.chi2.sf(stat, df)), fdesign.n_used, ffit, rfit)


@dataclass
class BrantResult:
    """Proportional-odds check: Wald test that the slopes of the J−1 binary logits are equal."""

    overall: dict[str, float]
    by_predictor: pd.DataFrame         # variabel, chi2, df, p
    cut_estimates: pd.DataFrame        # column, cut, estimate, se, or, ci (binary logits)
    robust: bool
    alpha: float = 0.05
    untested: dict[str, str] = field(default_factory=dict)   # predictor -> why not testable
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return list(self.by_predictor.loc[self.by_predictor["p"] < self.alpha, "variabel"])

    @property
    def holds(self) -> bool:
        return self.overall["p"] >= self.alpha


def _brant_untestable(d: Design) -> dict[str, str]:
    """A dummy with no variation in a binary split (e.g. nobody at a small unit type answered
    the top category) makes that split's logit diverge: such predictors cannot be tested."""
    J = len(d.outcome_codes)
    untestable: dict[str, str] = {}
    for var, cols in d.terms.items():
        if var not in d.references:
            continue
        for c in cols:
            on = d.X[c].to_numpy() == 1.0
            for j in range(J - 1):
                z_on = d.y[on] > j
                if z_on.all() or not z_on.any():
                    untestable.setdefault(
                        var, f"nivået '{d.level_labels[c]}' har {'bare' if z_on.all() else 'ingen'} svar over "
                             f"«{d.outcome_labels[j]}»")
                    break
    return untestable


def _binary_fits(d: Design, Xc: np.ndarray, link: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Separate binary logits (probits) of y > j at each cut-point j: estimates, fitted P."""
    import statsmodels.api as sm

    ests, pis = [], []
    for j in range(len(d.outcome_codes) - 1):
        z = (d.y > j).astype(float)
        mod = sm.Logit(z, Xc) if link == "logit" else sm.Probit(z, Xc)
        with warnings.catch_warnings():
            warnings.simplefilter("error", category=Warning)
            try:
                r = mod.fit(disp=0, method="newton", maxiter=100)
            except Exception as exc:  # separation in a binary split, or non-convergence
                raise SeparationError(
                    f"modell '{d.model}': den binære modellen ved terskel {j + 1} "
                    f"(«{d.outcome_labels[j]}» eller lavere mot høyere) kan ikke estimeres: {exc}") from None
        ests.append(np.asarray(r.params))
        pis.append(np.asarray(r.predict()))
    return ests, pis


def _brant_cov(d: Design, Xc: np.ndarray, ests, pis, link: str, robust: bool) -> np.ndarray:
    """Joint covariance of the stacked binary estimates: Brant's model-based form, or the
    cluster-robust stacked sandwich."""
    m = Xc.shape[1]
    J1 = len(ests)
    if link == "logit":
        # score of observation i in split j: x_i (z_ij − π_ij); bread: X' W_jj X
        bread = [np.linalg.inv((Xc * (p * (1 - p))[:, None]).T @ Xc) for p in pis]
    else:
        bread = [np.linalg.inv((Xc * (stats.norm.pdf(Xc @ e) ** 2 / (p * (1 - p)))[:, None]).T @ Xc)
                 for e, p in zip(ests, pis)]
    V = np.zeros((J1 * m, J1 * m))
    if robust:
        S = []
        for j, p in enumerate(pis):
            z = (d.y > j).astype(float)
            w = z - p if link == "logit" else stats.norm.pdf(Xc @ ests[j]) * (z - p) / (p * (1 - p))
            S.append(Xc * w[:, None])
        S = np.hstack(S)
        if d.groups is not None:
            G = int(d.groups.max() + 1)
            Sg = np.zeros((G, S.shape[1]))
            np.add.at(Sg, d.groups, S)
            meat = Sg.T @ Sg * G / (G - 1)
        else:
            meat = S.T @ S
        B = np.zeros_like(V)
        for j in range(J1):
            B[j * m:(j + 1) * m, j * m:(j + 1) * m] = bread[j]
        return B @ meat @ B
    for j in range(J1):
        for l in range(j, J1):
            if link == "logit":
                w = pis[l] * (1 - pis[j])  # P(y>l) (1 − P(y>j)) for l ≥ j
            else:  # the same cross-moment of the probit scores
                phij = stats.norm.pdf(Xc @ ests[j]) / (pis[j] * (1 - pis[j]))
                phil = stats.norm.pdf(Xc @ ests[l]) / (pis[l] * (1 - pis[l]))
                w = pis[l] * (1 - pis[j]) * phij * phil
            block = bread[j] @ ((Xc * w[:, None]).T @ Xc) @ bread[l]
            V[j * m:(j + 1) * m, l * m:(l + 1) * m] = block
            V[l * m:(l + 1) * m, j * m:(j + 1) * m] = block.T
    return V


def _equal_slopes_wald(b: np.ndarray, Vb: np.ndarray, k: int, J1: int, cols: list[int]) -> tuple[float, int]:
    """Wald statistic that the slopes of `cols` are equal across the J−1 splits."""
    rows = []
    for j in range(1, J1):
        for c in cols:
            r = np.zeros(len(b))
            r[c] = 1.0
            r[j * k + c] = -1.0
            rows.append(r)
    R = np.array(rows)
    diff = R @ b
    stat = float(diff @ np.linalg.pinv(R @ Vb @ R.T) @ diff)
    return stat, R.shape[0]


def brant_test(fit: OrdinalFit, *, robust: bool = False, alpha: float = 0.05) -> BrantResult:
    """Brant (1990) test with separate binary logits at each cut-point (logit link).

    Default: Brant's model-based joint covariance of the binary-logit estimates. With
    ``robust=True`` the cluster-robust stacked sandwich is used instead; it is NOT the default
    because with many unit-level dummies and few units per level it over-rejects badly (in
    benchmarks/coverage_ordinal.py about half of the null simulations were rejected at 5 %,
    against about 5 % for the model-based form). For a probit fit the binary models are probits.
    Predictors that cannot be tested (see :func:`_brant_untestable`) are left out of the binary
    models, with a warning and a note in the result.
    """
    d = fit.design
    if d.weights is not None:
        raise OrdinalError(f"modell '{d.model}': Brant-testen er ikke implementert for vektede modeller "
                           "(de binære logitene ville ignorert vektene); bruk fit_partial_po og LR-testen i stedet")
    untestable = _brant_untestable(d)
    notes = []
    for var, why in untestable.items():
        msg = (f"modell '{d.model}': Brant-testen kan ikke teste '{var}' ({why}); variabelen er utelatt "
               "fra de binære modellene")
        warnings.warn(msg, OrdinalWarning, stacklevel=2)
        notes.append(msg)
    terms = {v: c for v, c in d.terms.items() if v not in untestable}
    colnames = [c for cols in terms.values() for c in cols]
    if not colnames:
        raise OrdinalError(f"modell '{d.model}': ingen variabler kan testes med Brant-testen")
    n, k = len(d.y), len(colnames)
    Xc = np.column_stack([np.ones(n), d.X[colnames].to_numpy()])
    ests, pis = _binary_fits(d, Xc, fit.link)
    J1 = len(ests)
    V = _brant_cov(d, Xc, ests, pis, fit.link, robust)
    # slopes only (drop each split's intercept)
    slope_idx = np.concatenate([np.arange(j * (k + 1) + 1, (j + 1) * (k + 1)) for j in range(J1)])
    b = np.concatenate([e[1:] for e in ests])
    Vb = V[np.ix_(slope_idx, slope_idx)]
    stat, df = _equal_slopes_wald(b, Vb, k, J1, list(range(k)))
    overall = {"chi2": stat, "df": df, "p": float(stats.chi2.sf(stat, df))}
    rows = []
    for var, cols in terms.items():
        s, dfv = _equal_slopes_wald(b, Vb, k, J1, [colnames.index(c) for c in cols])
        rows.append({"variabel": var, "etikett": d.term_labels.get(var, var), "chi2": s, "df": dfv,
                     "p": float(stats.chi2.sf(s, dfv))})
    se = np.sqrt(np.diag(Vb))
    zc = stats.norm.ppf(0.975)
    cut_rows = []
    for j in range(J1):
        for c_i, c in enumerate(colnames):
            est, s_ = b[j * k + c_i], se[j * k + c_i]
            cut_rows.append({"kolonne": c, "etikett": d.level_labels.get(c, c), "terskel": j + 1,
                             "deling": f"over «{d.outcome_labels[j]}»", "estimat": est, "se": s_,
                             "or": np.exp(est), "or_lav": np.exp(est - zc * s_), "or_hoy": np.exp(est + zc * s_)})
    cut_df = pd.DataFrame(cut_rows)
    cut_df["po_estimat"] = cut_df["kolonne"].map(fit.beta)  # the PO estimate next to them
    return BrantResult(overall, pd.DataFrame(rows), cut_df, robust, alpha, untested=untestable, notes=notes)


def wald_term(fit: OrdinalFit, var: str) -> dict[str, float]:
    """Joint Wald test (with the fit's covariance) that all of a predictor's coefficients are 0."""
    cols = fit.design.terms[var]
    idx = [list(fit.design.X.columns).index(c) for c in cols]
    b = fit.params[idx]
    V = fit.cov[np.ix_(idx, idx)]
    stat = float(b @ np.linalg.solve(V, b))
    return {"chi2": stat, "df": len(idx), "p": float(stats.chi2.sf(stat, len(idx)))}


