"""Partial proportional odds: the predictors that fail the proportional-odds test get one
coefficient per cut-point, the others keep one (R: ``ordinal::clm(y ~ x, nominal = ~ w)``;
VGAM: ``cumulative(parallel = FALSE ~ w)``).

    P(Y ≤ j | x, w) = F(c_j − xᵀβ − wᵀδ_j),   j = 1, …, J − 1

so δ_j is the change in the log-odds of answering *above* cut-point j per unit of w (the same
sign as β and as the binary logits of the Brant test). R's clm writes the nominal effects
into the thresholds with the opposite sign: ``coef(clm)["j|j+1.w"] = −δ_j``. The model is
fitted by the same damped Newton iteration with exact derivatives, on the same rows as the
proportional-odds model it relaxes, and compared with it by a likelihood-ratio test.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from tillit.stats.ordinal.design import Design
from tillit.stats.ordinal.estimation import OrdinalFit
from tillit.stats.ordinal.model import Convergence, _dist, newton
from tillit.stats.ordinal.specs import ConvergenceError, OrdinalError, OrdinalWarning


class PartialPOModel:
    """Log-likelihood, score and Hessian of the partial proportional-odds model.

    Parameters θ = (β for the proportional columns, δ_1 … δ_{J−1} for the nominal columns,
    c_1 … c_{J−1}). Both bounds of an observation's answer are linear in θ, η = A θ, so the
    derivatives are those of log(F(A_u θ) − F(A_l θ)).
    """

    def __init__(self, y: np.ndarray, X_po: np.ndarray, X_nom: np.ndarray, n_levels: int, link: str,
                 weights: np.ndarray | None = None):
        self.y = np.asarray(y, dtype=int)
        self.link = link
        n = len(self.y)
        self.k_po, self.k_nom = X_po.shape[1], X_nom.shape[1]
        self.J = n_levels
        m = n_levels - 1
        self.n_params = self.k_po + m * self.k_nom + m
        self.w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        self.A_u = self._bound_design(X_po, X_nom, self.y, self.y < m)
        self.A_l = self._bound_design(X_po, X_nom, self.y - 1, self.y > 0)
        self.has_u, self.has_l = self.y < m, self.y > 0

    def _bound_design(self, X_po, X_nom, j, present) -> np.ndarray:
        n, m = len(self.y), self.J - 1
        A = np.zeros((n, self.n_params))
        rows = np.flatnonzero(present)
        A[rows, : self.k_po] = -X_po[rows]
        for cut in range(m):  # the nominal block of cut-point j, then the cut-point itself
            at = rows[j[rows] == cut]
            start = self.k_po + cut * self.k_nom
            A[at, start:start + self.k_nom] = -X_nom[at]
        A[rows, self.k_po + m * self.k_nom + j[rows]] = 1.0
        return A

    def cuts(self, theta: np.ndarray) -> np.ndarray:
        return np.asarray(theta)[self.k_po + (self.J - 1) * self.k_nom:]

    def deltas(self, theta: np.ndarray) -> np.ndarray:
        """(J−1) × k_nom: the nominal columns' effect at each cut-point."""
        m = self.J - 1
        return np.asarray(theta)[self.k_po:self.k_po + m * self.k_nom].reshape(m, self.k_nom)

    def _terms(self, theta):
        eta_u = np.where(self.has_u, self.A_u @ theta, np.inf)
        eta_l = np.where(self.has_l, self.A_l @ theta, -np.inf)
        Fu, fu, dfu = _dist(eta_u, self.link)
        Fl, fl, dfl = _dist(eta_l, self.link)
        return Fu - Fl, fu, fl, dfu, dfl

    def loglike(self, theta) -> float:
        P, *_ = self._terms(theta)
        if np.any(P <= 0):  # crossing cut-point-specific effects: not a probability model here
            return -np.inf
        return float(self.w @ np.log(P))

    def score_obs(self, theta) -> np.ndarray:
        P, fu, fl, _, _ = self._terms(theta)
        P = np.maximum(P, 1e-300)
        return self.A_u * (self.w * fu / P)[:, None] - self.A_l * (self.w * fl / P)[:, None]

    def score(self, theta) -> np.ndarray:
        P, fu, fl, _, _ = self._terms(theta)
        P = np.maximum(P, 1e-300)
        return self.A_u.T @ (self.w * fu / P) - self.A_l.T @ (self.w * fl / P)

    def hessian(self, theta) -> np.ndarray:
        P, fu, fl, dfu, dfl = self._terms(theta)
        P = np.maximum(P, 1e-300)
        a, b = fu / P, fl / P
        huu = self.w * (dfu / P - a * a)
        hll = self.w * (-dfl / P - b * b)
        hul = self.w * a * b
        Au, Al = self.A_u, self.A_l
        cross = (Au * hul[:, None]).T @ Al
        return (Au * huu[:, None]).T @ Au + (Al * hll[:, None]).T @ Al + cross + cross.T


@dataclass
class PartialPOFit:
    """A partial proportional-odds fit next to the proportional-odds fit it relaxes."""

    po_fit: OrdinalFit
    nominal: list[str]              # predictors with cut-point-specific effects
    nominal_cols: list[str]         # their design columns
    po_cols: list[str]              # the other design columns
    model: PartialPOModel
    params: np.ndarray
    cov: np.ndarray
    convergence: Convergence
    cov_type: str
    notes: list[str] = field(default_factory=list)

    @property
    def design(self) -> Design:
        return self.po_fit.design

    @property
    def llf(self) -> float:
        return self.model.loglike(self.params)

    @property
    def n_params(self) -> int:
        return len(self.params)

    @property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self.n_params

    def lr_test(self) -> dict[str, float]:
        """Likelihood ratio against the proportional-odds model on the same rows."""
        stat = 2.0 * (self.llf - self.po_fit.llf)
        df = self.n_params - self.po_fit.n_params
        return {"chi2": float(stat), "df": int(df), "p": float(stats.chi2.sf(stat, df))}

    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def effects(self, level: float = 0.95) -> pd.DataFrame:
        """Each nominal column's effect at each cut-point (log-odds of answering above it),
        with the common proportional-odds estimate next to it."""
        d = self.design
        m = self.model.J - 1
        se = self.se()
        zc = stats.norm.ppf(0.5 + level / 2)
        rows = []
        for j in range(m):
            for i, c in enumerate(self.nominal_cols):
                idx = self.model.k_po + j * self.model.k_nom + i
                est, s = self.params[idx], se[idx]
                rows.append({"kolonne": c, "etikett": d.level_labels.get(c, c), "terskel": j + 1,
                             "deling": f"over «{d.outcome_labels[j]}»", "estimat": est, "se": s,
                             "ki_lav": est - zc * s, "ki_hoy": est + zc * s,
                             "po_estimat": float(self.po_fit.beta[c])})
        return pd.DataFrame(rows)

    def coefficients(self) -> pd.Series:
        """The proportional columns' β, then the nominal effects named 'col@j', then the cuts."""
        m = self.model.J - 1
        names = [*self.po_cols, *[f"{c}@{j + 1}" for j in range(m) for c in self.nominal_cols],
                 *[f"terskel {j + 1}" for j in range(m)]]
        return pd.Series(self.params, index=names)


def _cluster_cov(model: PartialPOModel, theta: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Model-based −H⁻¹, or CR1 as statsmodels computes it for the PO model."""
    Hinv = np.linalg.inv(model.hessian(theta))
    if groups is None:
        return -Hinv
    S = model.score_obs(theta)
    G = int(groups.max() + 1)
    Sg = np.zeros((G, S.shape[1]))
    np.add.at(Sg, groups, S)
    n, p = S.shape
    return G / (G - 1) * (n - 1) / (n - p) * Hinv @ (Sg.T @ Sg) @ Hinv


def fit_partial_po(fit: OrdinalFit, nominal: list[str], *, cluster: bool = True,
                   gtol: float | None = None, maxiter: int | None = None) -> PartialPOFit:
    """Relax proportional odds for the predictors in `nominal` (names of the model's
    predictors, e.g. ``["goal_type"]``), on the same rows as `fit`."""
    d = fit.design
    unknown = [v for v in nominal if v not in d.terms]
    if unknown or not nominal:
        raise OrdinalError(f"modell '{d.model}': {unknown or 'ingen'} er ikke forklaringsvariabler i modellen "
                           f"(har {list(d.terms)}); oppgi minst én for partial proporsjonale odds")
    nom_cols = [c for v in nominal for c in d.terms[v]]
    po_cols = [c for c in d.X.columns if c not in nom_cols]
    J = len(d.outcome_codes)
    model = PartialPOModel(d.y, d.X[po_cols].to_numpy(float), d.X[nom_cols].to_numpy(float), J, fit.link,
                           d.weights)
    beta = fit.beta
    start = np.concatenate([beta[po_cols].to_numpy(), np.tile(beta[nom_cols].to_numpy(), J - 1),
                            fit.model.transform_threshold_params(fit.params)[1:-1]])
    theta, conv = newton(model, start, gtol=gtol or d.spec.gtol, maxiter=maxiter or d.spec.maxiter)
    if not conv.converged:
        raise ConvergenceError(f"modell '{d.model}' med terskelspesifikke effekter for {nominal}: {conv.message()}")
    P, *_ = model._terms(theta)
    notes = []
    if P.min() < 1e-8:
        msg = (f"modell '{d.model}': med terskelspesifikke effekter for {nominal} får noen {d.unit} en "
               f"predikert sannsynlighet nær null for sitt eget svar ({P.min():.1e})")
        warnings.warn(msg, OrdinalWarning, stacklevel=2)
        notes.append(msg)
    use_cluster = cluster and d.groups is not None
    cov = _cluster_cov(model, theta, d.groups if use_cluster else None)
    cov_type = (f"klyngerobust etter {d.spec.cluster} ({d.n_clusters} klynger)" if use_cluster
                else "modellbasert (ikke klyngerobust)")
    return PartialPOFit(fit, list(nominal), nom_cols, po_cols, model, theta, cov, conv, cov_type, notes)
