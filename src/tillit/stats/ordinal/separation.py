"""(Quasi-)perfect separation: when no finite maximum likelihood estimate exists.

Two guards. Before the fit, a dummy whose rows all answered the lowest or the highest
category (the common case, with a message naming the level). After the fit, the fitted
probabilities: if some observation's own answer is predicted with (numerical) certainty, or
the iteration did not converge, a linear programme decides whether the log-likelihood keeps
rising along a direction of the parameters – a recession direction (b, e) with
e_{y_i} − x_i·b ≥ 0 and e_{y_i−1} − x_i·b ≤ 0 for every observation. It exists exactly when
the estimate is infinite (the design has full rank with a constant and every category is
observed); its nonzero slopes name the coefficients that run off. The size of a coefficient
is never the criterion: a predictor in small units can have beta = 20 with a small SE.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from tillit.stats.ordinal.design import Design
from tillit.stats.ordinal.specs import SeparationError

# An observation whose own answer has fitted probability above 1 − CERTAIN is "predicted with
# certainty" and makes the linear programme run (the programme, not this number, decides).
CERTAIN = 1e-4


def separation_precheck(design: Design) -> None:
    """A dummy whose respondents all sit in the lowest or highest answer: beta is infinite."""
    J = len(design.outcome_codes)
    for var, cols in design.terms.items():
        if var not in design.references:
            continue
        for col in cols:
            on = design.X[col].to_numpy() == 1.0
            ys = design.y[on]
            for extreme, word in ((0, "laveste"), (J - 1, "høyeste")):
                if len(ys) and np.all(ys == extreme):
                    raise SeparationError(
                        f"modell '{design.model}': perfekt separasjon – alle {len(ys)} {design.unit} med "
                        f"'{var}' = '{design.level_labels[col]}' svarte i {word} kategori "
                        f"(«{design.outcome_labels[extreme]}»), så koeffisienten er uendelig. "
                        "Slå sammen nivåer eller ta variabelen ut.")
    # reference level in an extreme category alone ↔ all other levels diverge together
    for var, ref in design.references.items():
        on = np.ones(design.n_used, dtype=bool)
        for col in design.terms[var]:
            on &= design.X[col].to_numpy() == 0.0
        ys = design.y[on]
        for extreme, word in ((0, "laveste"), (J - 1, "høyeste")):
            if len(ys) and np.all(ys == extreme):
                raise SeparationError(
                    f"modell '{design.model}': perfekt separasjon – alle {len(ys)} {design.unit} i "
                    f"referansenivået '{ref}' av '{var}' svarte i {word} kategori "
                    f"(«{design.outcome_labels[extreme]}»). Velg et annet referansenivå eller slå sammen nivåer.")


def recession_direction(design: Design, tol: float = 1e-7) -> np.ndarray | None:
    """The slopes b of a direction in which no observation's likelihood falls, or None if the
    only such direction is zero (then the maximum likelihood estimate is finite)."""
    X = design.X.to_numpy(dtype=float)
    y = np.asarray(design.y)
    J = len(design.outcome_codes)
    # identical (x, y) rows give identical constraints
    rows, idx = np.unique(np.column_stack([X, y]), axis=0, return_index=True)
    Xu, yu = X[idx], y[idx]
    n, k = Xu.shape
    m = J - 1
    up = yu < J - 1     # has an upper bound c_{y}
    lo = yu > 0         # has a lower bound c_{y-1}
    E_up = np.zeros((int(up.sum()), m))
    E_up[np.arange(E_up.shape[0]), yu[up]] = 1.0
    E_lo = np.zeros((int(lo.sum()), m))
    E_lo[np.arange(E_lo.shape[0]), yu[lo] - 1] = 1.0
    # variables s = (b, e); constraints A s <= 0:  x b − e_y ≤ 0 (upper), e_{y−1} − x b ≤ 0 (lower)
    A = np.vstack([np.hstack([Xu[up], -E_up]), np.hstack([-Xu[lo], E_lo])])
    # maximise the total slack  Σ (e_y − x b) − Σ (e_{y−1} − x b)  =  −Σ rows of A
    c = A.sum(axis=0)
    scale = np.abs(A).max(axis=0)  # every column on a unit scale, whatever its units
    scale[scale == 0] = 1.0
    res = linprog(c / scale, A_ub=A / scale, b_ub=np.zeros(A.shape[0]), bounds=[(-1.0, 1.0)] * (k + m),
                  method="highs")
    if res.status != 0 or -res.fun <= tol * max(1, n):
        return None
    s = res.x / scale
    return s[:k]


def check_separation(design: Design, model, theta: np.ndarray, *, converged: bool) -> None:
    """Raise SeparationError if the fit has run off to infinity (see the module docstring)."""
    P, *_ = model._terms(theta)
    if converged and not np.any(P > 1.0 - CERTAIN):
        return
    b = recession_direction(design)
    if b is None:
        return
    cols = list(design.X.columns)
    big = np.abs(b) > 1e-6 * np.abs(b).max()
    names = [cols[i] for i in np.flatnonzero(big)]
    n_certain = int(np.sum(P > 1.0 - CERTAIN))
    raise SeparationError(
        f"modell '{design.model}': (kvasi-)perfekt separasjon – svarene til {n_certain} {design.unit} "
        f"forutsies med full sikkerhet, og koeffisienten for {names} løper mot uendelig (det finnes ikke "
        "noe endelig estimat). Slå sammen nivåer eller kategorier, eller ta variabelen ut.")
