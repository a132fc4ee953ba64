"""Coefficient tables with their intervals (numbers; the reader's table is made in
tillit.book.models)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from tillit.stats.ordinal.design import codebook_or_none, level_label
from tillit.stats.ordinal.estimation import OrdinalFit


FEW_CLUSTERS = 10  # below this many clusters behind a level, its cluster-robust SE is flagged


def odds_ratio_table(fit: OrdinalFit, level: float = 0.95) -> pd.DataFrame:
    """Coefficients (with odds ratios for logit) and intervals, then the cut-points."""
    d = fit.design
    k = fit.k_beta
    est = fit.params[:k]
    se = np.sqrt(np.diag(fit.cov)[:k])
    zc = stats.norm.ppf(0.5 + level / 2)
    zval = est / se
    p = 2 * stats.norm.sf(np.abs(zval))
    col_to_var = {c: v for v, cols in d.terms.items() for c in cols}
    rows = []
    for i, c in enumerate(d.X.columns):
        var = col_to_var[c]
        ref = d.references.get(var)
        # respondents and clusters behind a level: the disclosure gate needs n, and a
        # cluster-robust SE resting on a handful of units is not to be trusted
        on = d.X[c].to_numpy() == 1.0 if ref is not None else np.ones(d.n_used, dtype=bool)
        n_level = int(on.sum())
        n_cl = int(len(np.unique(d.groups[on]))) if d.groups is not None else None
        rows.append({
            "del": "koeffisient", "variabel": var, "kolonne": c,
            "etikett": d.term_labels.get(var, var) if ref is None else
            f"{d.term_labels.get(var, var)}: {d.level_labels[c]}",
            "referanse": None if ref is None else level_label(codebook_or_none(), var, ref),
            "estimat": est[i], "se": se[i], "z": zval[i], "p": p[i],
            "or": np.exp(est[i]), "or_lav": np.exp(est[i] - zc * se[i]), "or_hoy": np.exp(est[i] + zc * se[i]),
            "n": n_level, "klynger": n_cl,
        })
    cuts = fit.cutpoints(level)
    for _, r in cuts.iterrows():
        rows.append({"del": "terskel", "variabel": None, "kolonne": None, "etikett": r["terskel"],
                     "referanse": None, "estimat": r["estimat"], "se": r["se"], "z": r["estimat"] / r["se"],
                     "p": np.nan, "or": np.nan, "or_lav": r["ki_lav"], "or_hoy": r["ki_hoy"],
                     "n": d.n_used, "klynger": d.n_clusters})
    return pd.DataFrame(rows)
