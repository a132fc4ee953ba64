"""Complementary suppression as arithmetic: the equations a table publishes (its totals, and
the groups a total is made of) and the cells to hide so that no equation gives a hidden cell
back (used by the disclosure gate, tillit.stats.disclosure)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def group_equations(index: pd.Index, total_label) -> list[list[int]]:
    """Totals that groups add up to (row positions; a total row, if any, last): all groups;
    and for a MultiIndex, the groups sharing all but one level (e.g. the roles of one unit
    type, and the unit types of one role)."""
    groups = [i for i, label in enumerate(index) if label != total_label]
    total_i = [i for i, label in enumerate(index) if label == total_label]
    equations = [[*groups, *total_i]]
    if isinstance(index, pd.MultiIndex) and index.nlevels > 1:
        for level in range(index.nlevels):
            others: dict[tuple, list[int]] = {}
            for i in groups:
                key = tuple(v for lv, v in enumerate(index[i]) if lv != level)
                others.setdefault(key, []).append(i)
            equations += [eq for eq in others.values() if len(eq) > 1]
    return equations


def margin_equations(shape: tuple[int, int], row_totals: bool, col_totals: bool) -> list[list[tuple[int, int]]]:
    """Each published total gives one equation: its cells (the total cell last)."""
    m, k = shape
    rows = m + (1 if col_totals else 0)
    eqs = []
    if row_totals:
        for i in range(rows):
            eqs.append([(i, j) for j in range(k)] + [(i, k)])
    if col_totals:
        cols = k + (1 if row_totals else 0)
        for j in range(cols):
            eqs.append([(i, j) for i in range(m)] + [(m, j)])
    return eqs


def complement(values: np.ndarray, mask: np.ndarray, equations: list[list[tuple[int, int]]],
                prefer_last: bool = True, need: float = 0, largest: bool = False,
                protected: np.ndarray | None = None, preferred: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Cells to suppress so that no equation has exactly one suppressed cell, and the hidden
    cells of an equation add up to at least `need` (else a hidden cell is pinned within an
    interval narrower than `need`: a hidden 2 beside a hidden 1 is known to be 0–3) wherever
    they guard a cell hidden for being small (one already in `mask` when called).

    Repeats over all equations until stable. The cell chosen is the smallest unsuppressed one
    of the equation that brings the hidden sum to `need` (the largest if none does; always the
    largest with `largest`; a `preferred` cell that is enough before any other), a cell that is
    not a total preferred (the total is the last cell
    of an equation when ``prefer_last``), ties broken by position, so the result is
    deterministic. ``mask`` is updated in place.
    """
    added: list[tuple[int, int]] = []
    # The cells hidden for being small (default: all hidden when called); `need` is about them.
    protected = mask.copy() if protected is None else protected
    changed = True
    while changed:
        changed = False
        for eq in equations:
            hidden = [c for c in eq if mask[c]]
            if not hidden:
                continue
            total_hidden = prefer_last and len(eq) > 1 and mask[eq[-1]]
            parts = [c for c in hidden if not (prefer_last and len(eq) > 1 and c == eq[-1])]
            hidden_sum = float(sum(values[c] for c in parts))
            guards = any(protected[c] for c in parts)
            unsafe = len(hidden) == 1 or (need > 0 and guards and not total_hidden and hidden_sum < need)
            candidates = [c for c in eq if not mask[c]]
            if not unsafe or not candidates:
                continue
            inner = candidates[:-1] if prefer_last and candidates[-1] == eq[-1] and len(candidates) > 1 else candidates
            enough = [] if largest else [c for c in inner if hidden_sum + values[c] >= need]
            pref = [c for c in inner if preferred is not None and preferred[c] and hidden_sum + values[c] >= need]
            if pref:
                enough, inner = ([], pref) if largest else (pref, inner)
            choice = min(enough, key=lambda c: (values[c], c)) if enough else max(inner, key=lambda c: (values[c], c))
            mask[choice] = True
            added.append(choice)
            changed = True
    return added


def middle_cells(columns, rows: int) -> np.ndarray:
    """Cells of a scale's middle category (3 of 1–5: the ends of a five-point scale are the ones
    published as sums; none for an even or shorter scale), rows × columns."""
    codes = [j for j, c in enumerate(columns) if isinstance(c, (int, np.integer)) and not isinstance(c, bool)]
    out = np.zeros((rows, len(columns)), dtype=bool)
    if len(codes) >= 5 and len(codes) % 2:
        out[:, codes[len(codes) // 2]] = True
    return out
