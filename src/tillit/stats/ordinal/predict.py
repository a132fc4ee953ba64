"""Average predicted probabilities by group, with delta-method intervals (numbers only; the
figure is drawn in tillit.book.models)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from tillit.stats.ordinal.design import codebook_or_none, level_label
from tillit.stats.ordinal.estimation import OrdinalFit
from tillit.stats.ordinal.model import _dist
from tillit.stats.ordinal.specs import OrdinalError


def predicted_probabilities(fit: OrdinalFit, by: str, levels: list | None = None,
                            level: float = 0.95) -> pd.DataFrame:
    """Average predicted probability of each answer with `by` set to each level for everyone
    in the estimation sample (other predictors as observed; weighted by the case weights if
    the model has them), with delta-method intervals computed on the logit scale so they stay
    within 0–1.
    """
    d = fit.design
    if by not in d.terms:
        raise OrdinalError(f"modell '{d.model}': '{by}' er ikke en forklaringsvariabel i modellen "
                           f"(har {list(d.terms)})")
    X0 = d.X.to_numpy().copy()
    cols = list(d.X.columns)
    k = fit.k_beta
    beta = fit.params[:k]
    cuts = fit.model.transform_threshold_params(fit.params)
    D = fit.model.cut_jacobian(fit.params)
    V = fit.cov
    J = len(d.outcome_codes)
    zc = stats.norm.ppf(0.5 + level / 2)
    w = np.ones(d.n_used) if d.weights is None else np.asarray(d.weights, dtype=float)
    w = w / w.sum()
    is_cat = by in d.references
    if levels is None:
        if is_cat:
            levels = [d.references[by], *[c[len(by) + 1:-1] for c in d.terms[by]]]
        else:
            cb = codebook_or_none()
            levels = (cb.scale_of(by).codes if cb is not None and by in cb.items
                      else sorted(np.unique(d.X[by]).tolist()))
    rows = []
    for lev in levels:
        X = X0.copy()
        if is_cat:
            for c in d.terms[by]:
                X[:, cols.index(c)] = 0.0
            col = f"{by}[{lev}]"
            if lev != d.references[by]:
                if col not in cols:
                    raise OrdinalError(f"modell '{d.model}': nivået '{lev}' av '{by}' finnes ikke i modellen")
                X[:, cols.index(col)] = 1.0
            lev_label = level_label(codebook_or_none(), by, lev)
        else:
            X[:, cols.index(by)] = float(lev)
            lev_label = str(lev)
        xb = X @ beta
        F = np.empty((len(xb), J + 1))
        f = np.empty((len(xb), J + 1))
        for j in range(J + 1):
            F[:, j], f[:, j], _ = _dist(cuts[j] - xb, fit.link)
        for kc in range(J):
            p = float(w @ (F[:, kc + 1] - F[:, kc]))
            gb = -(X.T @ (w * (f[:, kc + 1] - f[:, kc])))
            gc = np.zeros(J - 1)
            if kc < J - 1:
                gc[kc] = w @ f[:, kc + 1]
            if kc > 0:
                gc[kc - 1] -= w @ f[:, kc]
            grad = np.concatenate([gb, gc @ D])
            se = float(np.sqrt(grad @ V @ grad))
            pc = min(max(p, 1e-12), 1 - 1e-12)
            se_l = se / (pc * (1 - pc))
            lg = np.log(pc / (1 - pc))
            rows.append({"variabel": by, "nivå": lev, "etikett": lev_label, "kategori": d.outcome_codes[kc],
                         "svar": d.outcome_labels[kc], "sannsynlighet": p, "se": se,
                         "ki_lav": float(expit(lg - zc * se_l)), "ki_hoy": float(expit(lg + zc * se_l))})
    return pd.DataFrame(rows)


