"""The cumulative-link model: statsmodels' OrderedModel with the exact score and Hessian
(logit and probit), and the damped Newton iteration that fits it to a gradient tolerance.

statsmodels' defaults for ``OrderedModel.fit`` are Nelder–Mead with ``maxiter=500`` and
numerical derivatives for the Hessian: slow, and not converged for models with ~20
parameters. Here Newton with the analytic derivatives runs until the largest absolute score
is below ``gtol``, and the fit says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, ndtr
from statsmodels.miscmodels.ordinal_model import OrderedModel

from tillit.stats.ordinal.specs import OrdinalError


def _dist(z: np.ndarray, link: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F, f, f' at z; ±inf give (0|1, 0, 0) without nan."""
    finite = np.isfinite(z)
    zf = np.where(finite, z, 0.0)
    if link == "logit":
        F = expit(zf)
        f = F * (1.0 - F)
        df = f * (1.0 - 2.0 * F)
    else:
        F = ndtr(zf)
        f = np.exp(-0.5 * zf * zf) / np.sqrt(2.0 * np.pi)
        df = -zf * f
    F = np.where(finite, F, (z > 0).astype(float))
    f = np.where(finite, f, 0.0)
    df = np.where(finite, df, 0.0)
    return F, f, df


class CumulativeLinkModel(OrderedModel):
    """OrderedModel with the exact score and Hessian (logit or probit).

    Parameters are statsmodels' own: (beta, tau) with cut-points c_1 = tau_1 and
    c_j = c_{j-1} + exp(tau_j), so every statsmodels result method keeps working.

    ``weights`` are case weights as in R's ``clm(weights=)``: observation i counts w_i times
    in the log-likelihood, its score and its Hessian (statsmodels' OrderedModel would accept
    the keyword and ignore it).
    """

    def __init__(self, endog, exog, distr: str = "logit", weights=None, **kwds):
        if distr not in ("logit", "probit"):
            raise OrdinalError(f"ukjent link '{distr}' (forventet logit eller probit)")
        unknown = set(kwds) - {"hasconst", "missing", "offset"}
        if unknown:
            raise OrdinalError(f"CumulativeLinkModel: ukjent argument {sorted(unknown)}")
        super().__init__(endog, exog, distr=distr, **kwds)
        self.link = distr
        self._X = np.asarray(self.exog, dtype=float)
        self._y = np.asarray(self.endog, dtype=int)
        if weights is None:
            self._w = np.ones(len(self._y))
            self.weighted = False
        else:
            w = np.asarray(weights, dtype=float)
            if w.shape != self._y.shape or not np.all(np.isfinite(w) & (w > 0)):
                raise OrdinalError("vektene må være positive, endelige tall, én per observasjon "
                                   f"(fikk form {w.shape} for {len(self._y)} observasjoner)")
            self._w = w
            self.weighted = True
        J = self.k_levels
        self._Y1 = np.zeros((len(self._y), J))
        self._Y1[np.arange(len(self._y)), self._y] = 1.0

    def initialize(self):
        # GenericLikelihoodModel.initialize takes an SVD of the whole design only to set
        # df_model, which OrderedModel.__init__ overwrites anyway; build_design has already
        # checked the rank, so skip it (it was most of the time of a small fit).
        if self.exog is not None:
            k = self.exog.shape[1]
            self.df_model = float(k)
            self.df_resid = float(self.exog.shape[0] - k)
        else:  # pragma: no cover - every model here has predictors
            self.df_model = self.df_resid = np.nan

    # -- pieces --------------------------------------------------------------------------
    def _split(self, params):
        params = np.asarray(params, dtype=float)
        k = self.k_vars
        return params[:k], params[k:]

    def cut_jacobian(self, params) -> np.ndarray:
        """d c / d tau, (J-1)×(J-1): column 0 all ones, column m≥1 exp(tau_m) for rows ≥ m."""
        _, tau = self._split(params)
        m = len(tau)
        D = np.tril(np.ones((m, m)))
        D[:, 1:] *= np.exp(tau[1:])[None, :]
        return D

    def _terms(self, params):
        beta, _ = self._split(params)
        thresh = self.transform_threshold_params(params)
        xb = self._X @ beta if self.k_vars else np.zeros(len(self._y))
        upp = thresh[self._y + 1] - xb
        low = thresh[self._y] - xb
        Fu, fu, dfu = _dist(upp, self.link)
        Fl, fl, dfl = _dist(low, self.link)
        P = np.maximum(Fu - Fl, 1e-300)
        return P, fu, fl, dfu, dfl

    @property
    def start_params(self):
        """The null model's cut-points (weighted answer shares), slopes zero."""
        freq = np.bincount(self._y, weights=self._w, minlength=self.k_levels) / self._w.sum()
        start_ppf = self.distr.ppf(np.clip(freq.cumsum(), 0, 1))
        return np.concatenate((np.zeros(self.k_vars), self.transform_reverse_threshold_params(start_ppf)))

    # -- likelihood and derivatives ------------------------------------------------------
    def loglikeobs(self, params):
        P, *_ = self._terms(params)
        return self._w * np.log(P)

    def loglike(self, params):
        return float(self.loglikeobs(params).sum())

    def _score_c_obs(self, a, b):
        J = self.k_levels
        Sc = self._Y1[:, : J - 1] * a[:, None] - self._Y1[:, 1:] * b[:, None]
        return Sc

    def score_obs(self, params):
        P, fu, fl, _, _ = self._terms(params)
        a, b = self._w * fu / P, self._w * fl / P
        Sb = -self._X * (a - b)[:, None]
        Sc = self._score_c_obs(a, b)
        return np.column_stack([Sb, Sc @ self.cut_jacobian(params)])

    def score(self, params):
        P, fu, fl, _, _ = self._terms(params)
        a, b = self._w * fu / P, self._w * fl / P
        J = self.k_levels
        gb = -(self._X.T @ (a - b))
        su = np.bincount(self._y, weights=a, minlength=J)
        sl = np.bincount(self._y, weights=b, minlength=J)
        gc = su[: J - 1] - sl[1:]
        return np.concatenate([gb, gc @ self.cut_jacobian(params)])

    def hessian(self, params):
        P, fu, fl, dfu, dfl = self._terms(params)
        a, b = fu / P, fl / P
        w_ = self._w
        hu = w_ * (dfu / P - a * a)
        hl = w_ * (-dfl / P - b * b)
        hul = w_ * a * b
        a, b = w_ * a, w_ * b
        J = self.k_levels
        X = self._X
        k = self.k_vars
        y = self._y
        # beta-beta
        w = hu + hl + 2.0 * hul
        Hbb = (X * w[:, None]).T @ X
        # beta-c: observation in category j has c_j as upper and c_{j-1} as lower bound
        wu = hu + hul
        wl = hl + hul
        Hbc = -(X.T @ (self._Y1[:, : J - 1] * wu[:, None]) + X.T @ (self._Y1[:, 1:] * wl[:, None]))
        # c-c
        s_hu = np.bincount(y, weights=hu, minlength=J)
        s_hl = np.bincount(y, weights=hl, minlength=J)
        s_hul = np.bincount(y, weights=hul, minlength=J)
        Hcc = np.diag(s_hu[: J - 1] + s_hl[1:])
        off = s_hul[1 : J - 1]
        Hcc[np.arange(J - 2), np.arange(1, J - 1)] = off
        Hcc[np.arange(1, J - 1), np.arange(J - 2)] = off
        # chain rule to tau (second term: curvature of exp)
        D = self.cut_jacobian(params)
        su = np.bincount(y, weights=a, minlength=J)
        sl = np.bincount(y, weights=b, minlength=J)
        gc = su[: J - 1] - sl[1:]
        _, tau = self._split(params)
        extra = np.zeros(J - 1)
        extra[1:] = np.exp(tau[1:]) * np.cumsum(gc[::-1])[::-1][1:]
        Htt = D.T @ Hcc @ D + np.diag(extra)
        Hbt = Hbc @ D
        H = np.empty((k + J - 1, k + J - 1))
        H[:k, :k] = Hbb
        H[:k, k:] = Hbt
        H[k:, :k] = Hbt.T
        H[k:, k:] = Htt
        return H


@dataclass
class Convergence:
    converged: bool
    iterations: int
    max_abs_score: float
    gtol: float
    method: str = "Newton med eksakt gradient og Hessian, trinnhalvering"

    def message(self) -> str:
        if self.converged:
            return (f"Konvergert etter {self.iterations} Newton-iterasjoner: største absolutte gradient "
                    f"{self.max_abs_score:.1e} (toleranse {self.gtol:.0e}).")
        return (f"IKKE konvergert etter {self.iterations} iterasjoner: største absolutte gradient "
                f"{self.max_abs_score:.1e} (toleranse {self.gtol:.0e}).")


def newton(model: CumulativeLinkModel, start: np.ndarray, *, gtol: float = 1e-6,
           maxiter: int = 100) -> tuple[np.ndarray, Convergence]:
    """Damped Newton ascent with the analytic derivatives.

    The log-likelihood is concave in (beta, c) but not always in statsmodels' exp-increment
    parameters, so a non-negative-definite Hessian is regularised (Levenberg style) and every
    step is halved until the log-likelihood does not decrease.
    """
    theta = np.asarray(start, dtype=float).copy()
    ll = model.loglike(theta)
    g = model.score(theta)
    it = 0
    for it in range(1, maxiter + 1):
        if np.max(np.abs(g)) <= gtol:
            it -= 1
            break
        H = model.hessian(theta)
        negH = -H
        lam = 0.0
        scale = max(1.0, float(np.max(np.abs(np.diag(negH)))))
        for _ in range(30):
            try:
                L = np.linalg.cholesky(negH + lam * np.eye(len(theta)))
                break
            except np.linalg.LinAlgError:
                lam = max(lam * 10.0, 1e-8 * scale)
        else:  # pragma: no cover - Hessian full of nan
            break
        step = np.linalg.solve(L.T, np.linalg.solve(L, g))
        t = 1.0
        while t > 1e-12:
            cand = theta + t * step
            ll_c = model.loglike(cand)
            if np.isfinite(ll_c) and ll_c >= ll - 1e-12 * abs(ll):
                break
            t *= 0.5
        else:
            break
        theta, ll = cand, ll_c
        g = model.score(theta)
    mx = float(np.max(np.abs(g)))
    return theta, Convergence(mx <= gtol, it, mx, gtol)


