"""The wild cluster score bootstrap (Kline & Santos 2012) for one coefficient of a
proportional-odds fit, imposing the null (restricted estimate), with Rademacher or Webb
weights; intervals by test inversion. Seeded and deterministic: the same weights are used for
every null value and every coefficient.

It is here to be compared with CR2 (benchmarks/coverage_ordinal.py) and as a check, not as
the book's method: with 2–3 clusters behind a coefficient the restricted bootstrap has almost
no distinct draws in the clusters that matter and cannot reject, so its intervals are far
too wide or unbounded (MacKinnon & Webb 2017, 2018) – the coverage benchmark shows it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from tillit.stats.ordinal.estimation import OrdinalFit
from tillit.stats.ordinal.specs import OrdinalError

# Webb (2014): six points with mean 0, variance 1 and third moment 0, for few clusters.
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def cluster_weights(n_clusters: int, draws: int, seed: int, kind: str = "webb") -> np.ndarray:
    """draws × G bootstrap weights (numpy PCG64 from `seed`)."""
    rng = np.random.default_rng(seed)
    if kind == "webb":
        return WEBB[rng.integers(0, 6, size=(draws, n_clusters))]
    if kind == "rademacher":
        return rng.choice([-1.0, 1.0], size=(draws, n_clusters))
    raise OrdinalError(f"ukjent bootstrapvekt '{kind}' (forventet webb eller rademacher)")


def restricted_fit(fit: OrdinalFit, k: int, value: float, *, start: np.ndarray | None = None,
                   gtol: float = 1e-8, maxiter: int = 50) -> np.ndarray:
    """Maximum likelihood with coefficient k fixed at `value` (damped Newton on the others)."""
    model = fit.model
    theta = np.array(fit.params if start is None else start, dtype=float)
    theta[k] = value
    free = np.r_[0:k, k + 1:len(theta)]
    ll = model.loglike(theta)
    for _ in range(maxiter):
        g = model.score(theta)[free]
        if np.max(np.abs(g)) <= gtol:
            return theta
        H = model.hessian(theta)[np.ix_(free, free)]
        try:
            step = np.linalg.solve(-H, g)
        except np.linalg.LinAlgError:
            step = g / max(1.0, float(np.max(np.abs(np.diag(H)))))
        t = 1.0
        while t > 1e-10:
            cand = theta.copy()
            cand[free] += t * step
            ll_c = model.loglike(cand)
            if np.isfinite(ll_c) and ll_c >= ll - 1e-12 * abs(ll):
                break
            t *= 0.5
        theta, ll = cand, ll_c
    return theta


@dataclass
class WildBootstrap:
    """The bootstrap for one fit: its cluster indicator and the weights, drawn once."""

    fit: OrdinalFit
    weights: np.ndarray          # draws × G
    kind: str
    seed: int

    @classmethod
    def for_fit(cls, fit: OrdinalFit, *, draws: int = 999, seed: int = 20230601, kind: str = "webb"):
        d = fit.design
        if d.groups is None:
            raise OrdinalError(f"modell '{d.model}': villbootstrap for klynger krever en klyngevariabel")
        return cls(fit, cluster_weights(d.n_clusters, draws, seed, kind), kind, seed)

    def _cluster_scores(self, theta: np.ndarray) -> np.ndarray:
        d = self.fit.design
        S = self.fit.model.score_obs(theta)
        ind = sparse.csr_matrix((np.ones(len(d.groups)), (d.groups, np.arange(len(d.groups)))),
                                shape=(d.n_clusters, len(d.groups)))
        return np.asarray(ind @ S)

    def p_value(self, column: str | int, value: float = 0.0, *, start: np.ndarray | None = None
                ) -> tuple[float, np.ndarray]:
        """Two-sided bootstrap p-value of H0: coefficient = value, and the restricted estimate."""
        k = column if isinstance(column, int) else list(self.fit.design.X.columns).index(column)
        theta = restricted_fit(self.fit, k, value, start=start)
        Sg = self._cluster_scores(theta)
        H = self.fit.model.hessian(theta)
        free = np.r_[0:k, k + 1:len(theta)]
        proj = np.linalg.solve(H[np.ix_(free, free)], H[free, k])
        psi = Sg[:, k] - Sg[:, free] @ proj            # efficient score of each cluster
        denom = np.sqrt(np.sum(psi ** 2))
        if denom == 0:
            return 1.0, theta
        t_obs = psi.sum() / denom
        wpsi = self.weights * psi[None, :]
        t_star = wpsi.sum(axis=1) / np.sqrt(np.sum(wpsi ** 2, axis=1))
        return float(np.mean(np.abs(t_star) >= abs(t_obs) - 1e-12)), theta

    def interval(self, column: str, level: float = 0.95, *, guess: tuple[float, float] | None = None,
                 xtol: float = 1e-4, max_width: float = 50.0) -> tuple[float, float]:
        """The values not rejected at 1 − level (bisection on each side); ±inf if the test
        cannot reject within `max_width` of the estimate."""
        k = list(self.fit.design.X.columns).index(column)
        est = float(self.fit.params[k])
        se = float(np.sqrt(self.fit.cov[k, k]))
        alpha = 1.0 - level
        out = []
        for sign, g in ((-1.0, None if guess is None else guess[0]), (1.0, None if guess is None else guess[1])):
            inner, start = est, None
            outer = est + sign * 2.0 * se if g is None else g + sign * se
            p, theta = self.p_value(k, outer)
            while p > alpha and abs(outer - est) < max_width:
                inner, start = outer, theta
                outer = est + 2.0 * (outer - est)
                p, theta = self.p_value(k, outer, start=start)
            if p > alpha:
                out.append(sign * np.inf)
                continue
            while abs(outer - inner) > xtol:
                mid = 0.5 * (inner + outer)
                p, theta_m = self.p_value(k, mid, start=start)
                if p > alpha:
                    inner, start = mid, theta_m
                else:
                    outer = mid
            out.append(0.5 * (inner + outer))
        return out[0], out[1]
