"""Complementary suppression checked by linear programming, one table at a time.

The gate's heuristic (tillit.stats.disclosure) makes sure that no single row or column of a
table reveals a hidden cell. Rows and columns together still can. In a small edition, the
roles' «Vet ikke» counts on one question may be 9, 0, 0, 0: the gate hides all four (the
three zeros and, as their column's complement, the 9) and, in each row, a second cell. If the
two zeros' rows took their complements from the same column, those four hidden cells form a
closed loop (two rows × two columns) whose two «Vet ikke» cells add up to a known number, 0:
both are pinned, although no single row or column gives them away. The disclosure audit
(tillit.stats.audit) finds this over the whole book; here the gate finds it before it
publishes.

:func:`protect` bounds every hidden cell of a table by linear programming (scipy's HiGHS, as
the audit does) over what the table publishes: its visible cells and every total in
`equations` (the gate takes the column totals as published, as they are elsewhere in the
book). While a hidden cell's feasible interval is narrower than `need` (``min_cell``, the
audit's criterion), one more cell is hidden: the largest visible cell that widens that
interval enough, in the caller's order (the gate tries the scale's middle category first, then
the largest: they are the ones least likely to be published as part of a sum elsewhere, such as
the share positive), else the first visible cell of its row.
A table the heuristic already protects is left exactly as it was.
"""
from __future__ import annotations

import numpy as np

Cell = tuple[int, int]
TOL = 1e-6


def _system(values: np.ndarray, mask: np.ndarray, equations: list[list[Cell]]):
    """Unknowns (the hidden cells) and the equalities among them: each equation says its
    cells but the last add up to the last (a total)."""
    hidden = [tuple(int(x) for x in c) for c in zip(*np.nonzero(mask))]
    index = {c: k for k, c in enumerate(hidden)}
    rows, rhs = [], []
    for eq in equations:
        coef = np.zeros(len(hidden))
        const = 0.0
        for pos, cell in enumerate(eq):
            sign = -1.0 if pos == len(eq) - 1 else 1.0
            if cell in index:
                coef[index[cell]] += sign
            else:
                const -= sign * float(values[cell])
        if coef.any():
            rows.append(coef)
            rhs.append(const)
    return hidden, index, (np.array(rows) if rows else None), (np.array(rhs) if rhs else None)


def widths(values: np.ndarray, mask: np.ndarray, equations: list[list[Cell]],
           cells: list[Cell] | None = None) -> dict[Cell, float]:
    """Width of the feasible interval of each hidden cell (or of `cells`), every cell ≥ 0."""
    from scipy.optimize import linprog

    hidden, index, a_eq, b_eq = _system(values, mask, equations)
    if not hidden:
        return {}
    out: dict[Cell, float] = {}
    for cell in (cells if cells is not None else hidden):
        c = np.zeros(len(hidden))
        c[index[cell]] = 1.0
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        low = lo.fun if lo.status == 0 else 0.0
        out[cell] = (-hi.fun if hi.status == 0 else float("inf")) - low
    return out


def protect(values: np.ndarray, mask: np.ndarray, equations: list[list[Cell]], need: float,
            candidates: list[Cell]) -> list[Cell]:
    """Hide cells among `candidates` (in the order they are to be tried) until every hidden
    cell's interval is at least `need` wide. ``mask`` is updated in place; returns the cells
    added, in order (deterministic)."""
    added: list[Cell] = []
    while True:
        narrow = [c for c, w in sorted(widths(values, mask, equations).items()) if w < need - TOL]
        visible = [c for c in candidates if not mask[c]]
        if not narrow or not visible:
            return added
        cell = narrow[0]
        choice = None
        for cand in visible:
            mask[cand] = True
            wide = widths(values, mask, equations, [cell])[cell] >= need - TOL
            mask[cand] = False
            if wide:
                choice = cand
                break
        if choice is None:  # no one cell is enough: the largest of its row (or the table), and on
            same_row = [c for c in visible if c[0] == cell[0]]
            choice = (same_row or visible)[0]
        mask[choice] = True
        added.append(choice)
