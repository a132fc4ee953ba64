"""Fitting a design and the result object: the separation guards, the Newton fit, the
cluster-robust covariance (CR1, statsmodels' sandwich on the analytic scores)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.miscmodels.ordinal_model import OrderedModel

from tillit.stats.ordinal.design import Design, build_design, design_from_arrays
from tillit.stats.ordinal.model import Convergence, CumulativeLinkModel, newton
from tillit.stats.ordinal.separation import check_separation, separation_precheck
from tillit.stats.ordinal.specs import (ConvergenceError, ModelSpec, ModelsFile, OrdinalError, OrdinalWarning,
                                        SeparationError, load_models)


@dataclass
class OrdinalFit:
    """A fitted model: statsmodels results plus what a reader needs."""

    name: str
    design: Design
    result: Any                    # statsmodels OrderedResultsWrapper
    convergence: Convergence
    link: str
    cov_type: str
    notes: list[str] = field(default_factory=list)

    # -- basics --------------------------------------------------------------------------
    @property
    def model(self) -> CumulativeLinkModel:
        return self.result.model

    @property
    def k_beta(self) -> int:
        return self.model.k_vars

    @property
    def params(self) -> np.ndarray:
        return np.asarray(self.result.params, dtype=float)

    @property
    def cov(self) -> np.ndarray:
        return np.asarray(self.result.cov_params(), dtype=float)

    @property
    def beta(self) -> pd.Series:
        return pd.Series(self.params[: self.k_beta], index=list(self.design.X.columns))

    @property
    def llf(self) -> float:
        return float(self.result.llf)

    @property
    def llnull(self) -> float:
        return float(self.result.llnull)

    @property
    def pseudo_r2(self) -> float:
        """McFadden: 1 − llf / llnull (null = cut-points only, same rows)."""
        return 1.0 - self.llf / self.llnull

    @property
    def n_params(self) -> int:
        return len(self.params)

    @property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self.n_params

    @property
    def nobs(self) -> float:
        """Rows, or the sum of the case weights (as R's clm counts them)."""
        w = self.design.weights
        return float(self.design.n_used if w is None else w.sum())

    @property
    def bic(self) -> float:
        return -2.0 * self.llf + np.log(self.nobs) * self.n_params

    def cutpoints(self, level: float = 0.95) -> pd.DataFrame:
        """Cut-points c_j on the latent scale with delta-method SEs (same cov as the table)."""
        k = self.k_beta
        c = self.model.transform_threshold_params(self.params)[1:-1]
        D = self.model.cut_jacobian(self.params)
        V = D @ self.cov[k:, k:] @ D.T
        se = np.sqrt(np.diag(V))
        zc = stats.norm.ppf(0.5 + level / 2)
        lab = self.design.outcome_labels
        return pd.DataFrame({
            "terskel": [f"{lab[j]} | {lab[j + 1]}" for j in range(len(c))],
            "estimat": c, "se": se, "ki_lav": c - zc * se, "ki_hoy": c + zc * se,
        })

    def summary_stats(self) -> dict[str, Any]:
        d = self.design
        return {
            "modell": self.name, "link": self.link, "n_brukt": d.n_used, "n_utelatt": d.n_dropped,
            "n_klynger": d.n_clusters, "loglik": self.llf, "loglik_null": self.llnull,
            "mcfadden_r2": self.pseudo_r2, "aic": self.aic, "bic": self.bic,
            "konvergert": self.convergence.converged, "iterasjoner": self.convergence.iterations,
            "maks_gradient": self.convergence.max_abs_score, "kovarians": self.cov_type,
        }


def fit_design(design: Design, *, cluster: bool = True, on_nonconvergence: str = "error",
               gtol: float | None = None, maxiter: int | None = None) -> OrdinalFit:
    spec = design.spec
    gtol = gtol if gtol is not None else spec.gtol
    maxiter = maxiter if maxiter is not None else spec.maxiter
    separation_precheck(design)
    endog = pd.Series(pd.Categorical.from_codes(design.y, categories=design.outcome_labels, ordered=True),
                      name=spec.outcome)
    # hasconst=False: build_design has already ruled out an implicit constant (rank check),
    # so statsmodels need not repeat it with an SVD of the whole design.
    model = CumulativeLinkModel(endog, design.X, distr=spec.link, hasconst=False, weights=design.weights)
    theta, conv = newton(model, model.start_params, gtol=gtol, maxiter=maxiter)
    # Separation is judged on the fitted probabilities (an observation's own answer predicted
    # with certainty), confirmed by a linear programme; the size of a coefficient says nothing
    # (a predictor in small units can have beta = 20 with a small SE).
    check_separation(design, model, theta, converged=conv.converged)
    if not conv.converged:
        msg = f"modell '{design.model}': {conv.message()}"
        if on_nonconvergence == "error":
            raise ConvergenceError(msg + " Øk maxiter i params/models.yml eller forenkle modellen.")
        warnings.warn(msg, OrdinalWarning, stacklevel=2)
    use_cluster = cluster and design.groups is not None
    kwargs: dict[str, Any] = {"cov_type": "nonrobust"}
    if use_cluster:
        kwargs = {"cov_type": "cluster", "cov_kwds": {"groups": design.groups}}
    with warnings.catch_warnings():
        # statsmodels' newton from the converged point: one step, results wrapped its way
        warnings.simplefilter("ignore", category=RuntimeWarning)
        res = OrderedModel.fit(model, start_params=theta, method="newton", maxiter=5, tol=1e-10,
                               disp=0, **kwargs)
    if not np.all(np.isfinite(np.asarray(res.bse))):
        bad = [n for n, s in zip(res.model.exog_names, np.asarray(res.bse)) if not np.isfinite(s)]
        raise SeparationError(f"modell '{design.model}': standardfeilene kan ikke beregnes for {bad} "
                              "(singulær Hessian; mulig separasjon eller for få svar)")
    cov_name = (f"klyngerobust etter {spec.cluster} ({design.n_clusters} klynger)" if use_cluster
                else "modellbasert (ikke klyngerobust)")
    return OrdinalFit(name=design.model, design=design, result=res, convergence=conv, link=spec.link,
                      cov_type=cov_name, notes=list(design.notes))


def fit_model(spec: ModelSpec | str, data: pd.DataFrame, *, name: str | None = None,
              models: ModelsFile | None = None, codebook=None, cluster: bool = True,
              on_nonconvergence: Literal["error", "warn"] = "error",
              source: str = "data/processed/survey_2023.parquet") -> OrdinalFit:
    """Fit one declared model (by name from params/models.yml, or a ModelSpec)."""
    if isinstance(spec, str):
        name = name or spec
        spec = (models or load_models()).get(spec)
    design = build_design(spec, data, name=name or spec.label, codebook=codebook, source=source)
    return fit_design(design, cluster=cluster, on_nonconvergence=on_nonconvergence)


def fit_arrays(y, X: pd.DataFrame, *, link: str = "logit", groups=None, weights=None,
               name: str = "modell", labels: list[str] | None = None, gtol: float = 1e-8,
               maxiter: int = 100) -> OrdinalFit:
    """Fit on ready arrays (no codebook): y integer codes 0..J-1 or an ordered categorical,
    optional cluster ids and case weights; the same checks as a declared model's design."""
    design = design_from_arrays(y, X, link=link, groups=groups, weights=weights, name=name,
                                labels=labels, gtol=gtol, maxiter=maxiter)
    return fit_design(design, cluster=groups is not None)


def fit_plain_statsmodels(design: Design, method: str = "bfgs", maxiter: int = 500, **kw):
    """The stock statsmodels fit (numerical derivatives) on the same design, for comparison."""
    if design.weights is not None:
        raise OrdinalError(f"modell '{design.model}': statsmodels' OrderedModel kan ikke vekte observasjoner")
    endog = pd.Series(pd.Categorical.from_codes(design.y, categories=design.outcome_labels, ordered=True))
    mod = OrderedModel(endog, design.X, distr=design.spec.link)
    return mod.fit(method=method, maxiter=maxiter, disp=0, **kw)


