"""Inference that keeps its level when few clusters lie behind a coefficient: the CR2
(Bell–McCaffrey) cluster-robust covariance with Satterthwaite ("BM") degrees of freedom.

Why this method (docs/ordinal.md has the long form): a unit-type dummy in the twin rests on
2–3 units. The usual CR1 sandwich then underestimates the variance by about the share of the
dummy's clusters in their own estimate (≈ half with two clusters), and its normal reference
ignores that the variance is estimated from 1–2 effective cluster sums. CR2 removes the
leverage bias exactly in the linear model under independent errors, and the BM degrees of
freedom measure how many cluster sums really inform the variance of *this* coefficient
(Bell & McCaffrey 2002; Imbens & Kolesár 2016; Pustejovsky & Tipton 2018). A wild cluster
bootstrap that imposes the null cannot reject with 2–3 treated clusters (MacKinnon & Webb
2017, 2018); see :mod:`.bootstrap` and benchmarks/coverage_ordinal.py.

The cumulative-link model is linearised as a multivariate GLM: observation i has the J−1
cumulative indicators Y_ij = 1{y_i ≤ j} with mean γ_ij = F(η_ij), covariance
V_i = [γ_min(j,k) − γ_ij γ_ik] and Jacobian D_i = ∂γ_i/∂θ. Whitening with V_i = L_i L_iᵀ gives
Z_i = L_i⁻¹ D_i and r_i = L_i⁻¹ (Y_i − γ_i): the score is Σ Z_iᵀ r_i, the Fisher information
ZᵀZ, and CR2 is the linear-model CR2 on (Z, r). The result does not depend on the whitening
chosen nor on how the cut-points are parametrised.

The reference distribution is worked out under independent observations (Bell–McCaffrey, the
book's choice) or, with ``working="random_intercept"``, under a random shift of each cluster's
latent scores (Imbens & Kolesár 2016); benchmarks/coverage_ordinal.py measures both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from tillit.stats.ordinal.model import _dist

# A cluster whose own leverage in a direction is this close to 1 identifies that direction
# alone: no cluster-robust variance exists for it (reported as nan, never as a number).
_LEVERAGE_MAX = 1.0 - 1e-10


@dataclass
class CumulativeTerms:
    """Everything CR2 needs from a fit, in the (slopes, cut-points) parametrisation."""

    gamma: np.ndarray        # n × m cumulative probabilities F(η_ij), m = J − 1
    dens: np.ndarray         # n × m densities f(η_ij)
    A: np.ndarray            # n × m × p: ∂η_ij/∂θ
    y: np.ndarray            # 0..J−1
    groups: np.ndarray       # cluster codes 0..G−1
    weights: np.ndarray | None
    names: list[str]         # the slope coefficients (first len(names) entries of θ)


def po_terms(fit) -> CumulativeTerms:
    """Cumulative terms of a proportional-odds fit: η_ij = c_j − x_i β."""
    d = fit.design
    if d.groups is None:
        raise ValueError(f"modell '{d.model}': CR2 krever en klyngevariabel")
    X = d.X.to_numpy(dtype=float)
    n, k = X.shape
    beta = fit.params[:k]
    cuts = fit.model.transform_threshold_params(fit.params)[1:-1]
    m = len(cuts)
    eta = cuts[None, :] - (X @ beta)[:, None]
    A = np.zeros((n, m, k + m))
    A[:, :, :k] = -X[:, None, :]
    A[:, np.arange(m), k + np.arange(m)] = 1.0
    F, f, _ = _dist(eta, fit.link)
    return CumulativeTerms(F, f, A, np.asarray(d.y), np.asarray(d.groups), d.weights, list(d.X.columns))


def _whiten(t: CumulativeTerms) -> tuple[np.ndarray, np.ndarray]:
    """Z (n × m × p) and r (n × m) in the whitened space."""
    n, m = t.gamma.shape
    # category probabilities kept away from 0 so that every V_i is numerically positive definite
    probs = np.diff(np.column_stack([np.zeros(n), t.gamma, np.ones(n)]), axis=1)
    probs = np.maximum(probs, 1e-12)
    probs /= probs.sum(axis=1, keepdims=True)
    g = np.cumsum(probs, axis=1)[:, :m]
    V = np.minimum(g[:, :, None], g[:, None, :]) - g[:, :, None] * g[:, None, :]
    L = np.linalg.cholesky(V)
    D = t.dens[:, :, None] * t.A
    Yc = (t.y[:, None] <= np.arange(m)[None, :]).astype(float)
    Z = np.linalg.solve(L, D)
    r = np.linalg.solve(L, (Yc - t.gamma)[:, :, None])[:, :, 0]
    if t.weights is not None:
        sw = np.sqrt(np.asarray(t.weights, dtype=float))
        Z, r = Z * sw[:, None, None], r * sw[:, None]
    return Z, r


# The spectrum behind a coefficient: the largest eigenvalues are kept exactly; the others,
# each small, enter as one scaled χ² with their effective number of degrees of freedom.
_SPECTRUM_KEEP = 40
# Beyond this many clusters only the clusters that weigh most enter the eigenproblem.
_CLUSTERS_EXACT = 400
# Imhof's integral, by the trapezoid rule in t = log u: the integrand is smooth and decays at
# both ends; 2 001 points give the t quantiles to 1e-4 at 1 df and 1e-6 from 2 df
# (tests/test_ordinal_fewcluster.py).
_LOG_U = np.linspace(-18.0, 12.0, 2001)
_U = np.exp(_LOG_U)


def _imhof_cdf0(c: np.ndarray, mult: np.ndarray) -> float:
    """P(Σ c_j χ²(m_j) ≤ 0) for independent χ² with m_j degrees of freedom (Imhof 1961)."""
    cu = np.outer(_U, c)
    theta = 0.5 * (np.arctan(cu) @ mult)
    log_rho = 0.25 * (np.log1p(cu * cu) @ mult)
    val = np.trapezoid(np.sin(theta) * np.exp(-log_rho), _LOG_U)
    return float(min(max(0.5 - val / np.pi, 0.0), 1.0))


@dataclass
class Spectrum:
    """Under the working model the CR2 variance of one coefficient, divided by its
    expectation, is Σ λ_j z_j² + w·χ²(m) (z iid N(0, 1); λ and w·m sum to 1)."""

    lam: np.ndarray
    rest_w: float
    rest_m: float
    df: float          # Bell–McCaffrey: the two-moment (Satterthwaite) summary, 1 / Σ λ_j²

    def sf(self, q: float) -> float:
        """P(|t| > q) for t = N(0, 1) / √(Σ λ_j z_j² + w χ²(m))."""
        q = abs(float(q))
        if q == 0:
            return 1.0
        c = np.r_[1.0, -q * q * self.lam, -q * q * self.rest_w]
        mult = np.r_[1.0, np.ones(len(self.lam)), self.rest_m]
        return 1.0 - _imhof_cdf0(c, mult)

    def quantile(self, level: float = 0.95) -> float:
        """The two-sided critical value: between the normal one and (nearly always) the
        Bell–McCaffrey t one, which bracket the root."""
        alpha = 1.0 - level
        lo = stats.norm.ppf(1 - alpha / 2) * 0.999
        hi = stats.t.ppf(1 - alpha / 2, max(self.df, 0.2)) * 1.001 + 1e-6
        while self.sf(hi) > alpha and hi < 1e6:
            lo, hi = hi, hi * 2.0
        return float(optimize.brentq(lambda q: self.sf(q) - alpha, lo, hi, xtol=1e-7, rtol=1e-10))


def _summarise(lam: np.ndarray, total: float, frob: float, left_out: np.ndarray | None = None) -> Spectrum:
    """Keep the largest eigenvalues exactly, the others as one scaled χ² (both normalised)."""
    lam = np.clip(np.sort(lam)[::-1], 0.0, None) / total
    top, others = lam[:_SPECTRUM_KEEP], lam[_SPECTRUM_KEEP:]
    rest = max(0.0, 1.0 - top.sum())
    sq = float(np.sum(others ** 2))
    if left_out is not None:  # the clusters left out, counted by their own weights
        sq += float(np.sum((left_out / total) ** 2))
    m = rest * rest / sq if rest > 0 and sq > 0 else 0.0
    return Spectrum(top, rest / m if m else 0.0, m, total ** 2 / frob)


def _spectrum(diag: np.ndarray, U: np.ndarray, B: np.ndarray) -> Spectrum:
    """Eigenvalues of diag(d) − Uᵀ B U (the clusters' terms and how they co-vary), normalised."""
    BU = B @ U
    uBu = np.einsum("pg,pg->g", U, BU)
    total = float(diag.sum() - uBu.sum())
    M = B @ (U @ U.T)                               # ‖UᵀBU‖²_F = tr(M²)
    frob = float(np.sum(diag ** 2) - 2 * np.sum(diag * uBu) + np.sum(M * M.T))
    if not (total > 0 and frob > 0):
        return Spectrum(np.array([1.0]), 0.0, 0.0, 1.0)
    keep = np.arange(len(diag))
    if len(diag) > _CLUSTERS_EXACT:
        keep = np.argsort(diag)[::-1][:_CLUSTERS_EXACT]
    Gm = np.diag(diag[keep]) - U[:, keep].T @ BU[:, keep]
    return _summarise(np.linalg.eigvalsh(Gm), total, frob,
                      np.delete(diag, keep) if len(keep) < len(diag) else None)


def _spectrum_re(diag: np.ndarray, U: np.ndarray, B: np.ndarray, alpha: np.ndarray, Xi: np.ndarray,
                 s2: float) -> Spectrum:
    """The same under a random-intercept working model (Imbens & Kolesár 2016's "Moulton"
    model): the cluster terms then co-vary as diag(d) − UᵀBU + s²·WWᵀ, W = diag(α) − UᵀBΞ,
    where α_g and Ξ_g carry cluster g's response to a common shift of its latent scores.
    As in Imbens–Kolesár the spectrum is normalised by its own trace (only the shape of the
    reference distribution changes; the CR2 standard error is the same)."""
    W = np.diag(alpha) - U.T @ (B @ Xi)
    Gm = np.diag(diag) - U.T @ (B @ U) + s2 * (W @ W.T)
    total = float(np.trace(Gm))
    frob = float(np.sum(Gm * Gm))
    if not (total > 0 and frob > 0):
        return Spectrum(np.array([1.0]), 0.0, 0.0, 1.0)
    return _summarise(np.linalg.eigvalsh(Gm), total, frob)


@dataclass
class CR2Result:
    names: list[str]
    estimate: np.ndarray     # slope estimates
    se: np.ndarray           # CR2 standard errors (nan where one cluster identifies the coefficient)
    spectra: list[Spectrum]  # the working-model reference distribution of each t statistic
    cov: np.ndarray          # CR2 covariance of the slopes
    n_clusters: int
    unit_var: float = float("nan")  # moment estimate of the latent unit variance (working model)
    spectra_independent: list[Spectrum] | None = None  # kept when `working` is not independent

    @property
    def df(self) -> np.ndarray:
        return np.array([s.df for s in self.spectra])

    def quantiles(self, level: float = 0.95) -> np.ndarray:
        return np.array([s.quantile(level) for s in self.spectra])

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        q = self.quantiles(level)
        return self.estimate - q * self.se, self.estimate + q * self.se

    def p_values(self, null: np.ndarray | float = 0.0) -> np.ndarray:
        t = (self.estimate - null) / self.se
        return np.array([s.sf(v) if np.isfinite(v) else np.nan for s, v in zip(self.spectra, t)])


WORKING_MODELS = ("independent", "random_intercept")


def cr2(terms: CumulativeTerms, estimate: np.ndarray, working: str = "independent") -> CR2Result:
    """CR2 covariance of every slope coefficient and the working-model distribution of its
    t statistic (whose Satterthwaite summary is the Bell–McCaffrey degrees of freedom).

    ``working``: the model under which that distribution is worked out – ``independent``
    (Bell–McCaffrey: the observations' whitened residuals independent), or
    ``random_intercept`` (Imbens–Kolesár: plus a random shift of each cluster's latent scores,
    its variance estimated from the residuals' within-cluster cross-products). The adjustment
    matrices, and so the standard errors, are the independent ones in both."""
    if working not in WORKING_MODELS:
        raise ValueError(f"ukjent arbeidsmodell '{working}' (kjente: {', '.join(WORKING_MODELS)})")
    Z3, r2 = _whiten(terms)
    n, m, p = Z3.shape
    k = len(terms.names)
    # the direction of a common shift of the latent scores: the sum of the cut-point columns
    e = np.r_[np.zeros(k), np.ones(p - k)]
    ze = Z3 @ e                                   # n × m: whitened response to the shift
    q_i, c_i = np.einsum("im,im->i", ze, r2), np.einsum("im,im->i", ze, ze)
    B = np.linalg.inv(np.einsum("imp,imq->pq", Z3, Z3))
    order = np.argsort(terms.groups, kind="stable")
    bounds = np.flatnonzero(np.diff(terms.groups[order])) + 1
    G = len(bounds) + 1
    V = np.zeros((p, p))
    sq = np.zeros((G, k))         # ‖a_g‖² for every slope
    U = np.zeros((G, p, k))       # Z_gᵀ a_g for every slope
    bad = np.zeros(k, dtype=bool)
    alpha = np.zeros((G, k))      # (A_g Z_g B e_j)ᵀ Z_g e for every slope
    Xi = np.zeros((p, G))         # Z_gᵀ Z_g e
    cross = np.zeros(2)           # within-cluster cross-products of q, and their expectation per unit s²
    for g, rows in enumerate(np.split(order, bounds)):
        Zg = Z3[rows].reshape(-1, p)
        rg = r2[rows].reshape(-1)
        Q, R = np.linalg.qr(Zg)                    # Z_g = Q R, Q orthonormal (m n_g × s)
        lam, E = np.linalg.eigh(R @ B @ R.T)       # H_gg = Q E Λ Eᵀ Qᵀ
        bad |= np.abs((E[:, lam > _LEVERAGE_MAX].T @ R @ B[:, :k])).max(axis=0, initial=0.0) > 1e-8
        lam = np.clip(lam, 0.0, _LEVERAGE_MAX)
        adj = E @ np.diag(1.0 / np.sqrt(1.0 - lam) - 1.0) @ E.T
        T = (np.eye(len(lam)) + adj) @ R @ B       # A_g Z_g B = Q T
        v = T.T @ (Q.T @ rg)
        V += np.outer(v, v)
        Tk = T[:, :k]
        sq[g] = (Tk * Tk).sum(axis=0)
        U[g] = R.T @ Tk
        Re = R @ e
        alpha[g] = Tk.T @ Re
        Xi[:, g] = R.T @ Re
        cross += (q_i[rows].sum() ** 2 - np.sum(q_i[rows] ** 2), c_i[rows].sum() ** 2 - np.sum(c_i[rows] ** 2))
    spectra = [_spectrum(sq[:, j], U[:, :, j].T, B) for j in range(k)]
    # analog estimate of the unit variance (as Imbens–Kolesár's of ρ), never below 0
    s2 = max(0.0, cross[0] / cross[1]) if cross[1] > 0 else 0.0
    independent = None
    if working == "random_intercept":
        independent = spectra
        spectra = [_spectrum_re(sq[:, j], U[:, :, j].T, B, alpha[:, j], Xi, s2) for j in range(k)]
    Vs = V[:k, :k]
    se = np.sqrt(np.diag(Vs))
    se[bad] = np.nan
    return CR2Result(list(terms.names), np.asarray(estimate[:k], dtype=float), se, spectra, Vs, G, s2, independent)


def clusters_behind(design) -> pd.Series:
    """How many clusters lie behind each coefficient: for a dummy the fewer of the clusters
    with the level and the clusters with the reference level (for a 0/1 column, with 1 and
    with 0); for any other numeric predictor all."""
    out = {}
    if design.groups is None:
        return pd.Series({c: np.nan for c in design.X.columns}, dtype=float)
    groups = np.asarray(design.groups)
    for var, cols in design.terms.items():
        if var not in design.references:
            for c in cols:
                x = design.X[c].to_numpy()
                if np.isin(x, (0.0, 1.0)).all():  # an indicator given as a number
                    out[c] = float(min(len(np.unique(groups[x == 1.0])), len(np.unique(groups[x == 0.0]))))
                else:
                    out[c] = float(design.n_clusters)
            continue
        X = design.X[cols].to_numpy()
        ref = ~(X == 1.0).any(axis=1)
        n_ref = len(np.unique(groups[ref]))
        for i, c in enumerate(cols):
            out[c] = float(min(len(np.unique(groups[X[:, i] == 1.0])), n_ref))
    return pd.Series(out)[list(design.X.columns)]
