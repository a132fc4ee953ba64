"""Coefficient tables with their intervals (numbers; the reader's table is made in
tillit.book.models).

Two kinds of interval. The standard one is the cluster-robust CR1 sandwich with a normal
reference (statsmodels; it matches R's clm with sandwich::vcovCL). Where fewer than
``inference.few_clusters`` clusters lie behind a coefficient (params/models.yml; see
:func:`.fewcluster.clusters_behind`), the table uses CR2 with its working-model reference
distribution instead (:mod:`.fewcluster`), and says so in the column ``metode``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from tillit.stats.ordinal.design import codebook_or_none, level_label
from tillit.stats.ordinal.estimation import OrdinalFit
from tillit.stats.ordinal.fewcluster import CR2Result, clusters_behind, cr2, po_terms

METHOD_STANDARD = "standard"
METHOD_FEW = "få klynger"


@lru_cache(maxsize=1)
def _default_settings():
    from tillit.stats.ordinal.specs import load_models

    return load_models().inference


def few_cluster_threshold() -> int:
    """Fewer clusters than this behind a coefficient: CR2 (params/models.yml, inference)."""
    return int(_default_settings().few_clusters)


def cr2_for(fit: OrdinalFit) -> CR2Result:
    return cr2(po_terms(fit), fit.params)


def coefficient_intervals(fit: OrdinalFit, level: float = 0.95, *, few_clusters: int | None = None,
                          every: bool = False) -> pd.DataFrame:
    """Per coefficient: the estimate, the standard interval and, where few clusters lie behind
    it (or for all with ``every=True``), the CR2 interval; ``metode`` says which one the
    table shows, and ``ki_lav``/``ki_hoy``/``p`` are that one."""
    d = fit.design
    k = fit.k_beta
    few_clusters = few_cluster_threshold() if few_clusters is None else few_clusters
    est = fit.params[:k]
    se = np.sqrt(np.diag(fit.cov)[:k])
    zc = stats.norm.ppf(0.5 + level / 2)
    behind = clusters_behind(d).to_numpy()
    few = np.isfinite(behind) & (behind < few_clusters)
    out = pd.DataFrame({
        "kolonne": list(d.X.columns), "estimat": est, "se": se,
        "p_standard": 2 * stats.norm.sf(np.abs(est / se)),
        "lav_standard": est - zc * se, "hoy_standard": est + zc * se,
        "klynger": behind, "metode": np.where(few, METHOD_FEW, METHOD_STANDARD),
    })
    for c in ("se_cr2", "fg_cr2", "kvantil_cr2", "p_cr2", "lav_cr2", "hoy_cr2"):
        out[c] = np.nan
    want = np.ones(k, dtype=bool) if every else few
    if d.groups is not None and want.any():
        res = cr2_for(fit)
        idx = np.flatnonzero(want)
        q = np.array([res.spectra[i].quantile(level) for i in idx])
        out.loc[idx, "se_cr2"] = res.se[idx]
        out.loc[idx, "fg_cr2"] = res.df[idx]
        out.loc[idx, "kvantil_cr2"] = q
        out.loc[idx, "p_cr2"] = [res.spectra[i].sf(est[i] / res.se[i]) if np.isfinite(res.se[i]) else np.nan
                                 for i in idx]
        out.loc[idx, "lav_cr2"] = est[idx] - q * res.se[idx]
        out.loc[idx, "hoy_cr2"] = est[idx] + q * res.se[idx]
    use = out["metode"] == METHOD_FEW
    out["ki_lav"] = np.where(use, out["lav_cr2"], out["lav_standard"])
    out["ki_hoy"] = np.where(use, out["hoy_cr2"], out["hoy_standard"])
    out["p"] = np.where(use, out["p_cr2"], out["p_standard"])
    return out


def odds_ratio_table(fit: OrdinalFit, level: float = 0.95, *, few_clusters: int | None = None) -> pd.DataFrame:
    """Coefficients (with odds ratios for logit) and their intervals, then the cut-points.

    ``or_lav``/``or_hoy`` and ``p`` come from the method in ``metode``; the standard interval
    is kept next to it (``lav_standard``, ``hoy_standard``) for every coefficient.
    """
    d = fit.design
    ci = coefficient_intervals(fit, level, few_clusters=few_clusters)
    col_to_var = {c: v for v, cols in d.terms.items() for c in cols}
    cb = codebook_or_none()
    rows = []
    for i, r in ci.iterrows():
        c = r["kolonne"]
        var = col_to_var[c]
        ref = d.references.get(var)
        on = d.X[c].to_numpy() == 1.0 if ref is not None else np.ones(d.n_used, dtype=bool)
        rows.append({
            "del": "koeffisient", "variabel": var, "kolonne": c,
            "etikett": d.term_labels.get(var, var) if ref is None else
            f"{d.term_labels.get(var, var)}: {d.level_labels[c]}",
            "referanse": None if ref is None else level_label(cb, var, ref),
            **{key: r[key] for key in ci.columns if key != "kolonne"},
            "z": r["estimat"] / r["se"], "or": np.exp(r["estimat"]),
            "or_lav": np.exp(r["ki_lav"]), "or_hoy": np.exp(r["ki_hoy"]),
            "n": int(on.sum()),  # respondents behind a level: the disclosure gate needs it
        })
    cuts = fit.cutpoints(level)
    for _, r in cuts.iterrows():
        rows.append({"del": "terskel", "variabel": None, "kolonne": None, "etikett": r["terskel"],
                     "referanse": None, "estimat": r["estimat"], "se": r["se"], "z": r["estimat"] / r["se"],
                     "p": np.nan, "or": np.nan, "or_lav": r["ki_lav"], "or_hoy": r["ki_hoy"],
                     "ki_lav": r["ki_lav"], "ki_hoy": r["ki_hoy"], "metode": METHOD_STANDARD,
                     "n": d.n_used, "klynger": d.n_clusters})
    return pd.DataFrame(rows)
