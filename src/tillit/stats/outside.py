"""Complementary suppression across tables: a count of a sub-population must not tell how many
respondents lie outside it.

A chapter often tabulates part of the survey: one role (the medarbeidere), or a question
asked only of some roles or unit types. A row of such a table says "n respondents of group G
answered", and the size of G as a whole is published elsewhere (the response profile, every
figure's n). Then the respondents of G outside the frame – e.g. the ledere, tillitsvalgte and
verneombud of a unit – number at most size(G) − n. When that bound is below ``min_cell`` and
there is anybody outside, a group too small to publish is pinned within an interval narrower
than ``min_cell`` (the audit, tillit.stats.audit, finds it after the build), so the gate hides
such a row before it publishes anything, as a complementary suppression.

The sizes of the cells (unit type × role) come from the survey the book describes, passed to
the gate by the notebook context; without them the rule does not apply (tests of the gate
alone) and the audit remains the check.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

Cell = tuple[str, str]
#: (respondents per (unit type, role) cell, codebook) of the survey the book describes.
Populations = tuple[dict[Cell, int], object]
MAIN_POPULATION = "survey_2023"


def _in_group(cell: Cell, group: dict, codebook) -> bool:
    unit, role = cell
    for dim, want in group.items():
        wants = {str(w) for w in want} if isinstance(want, (list, tuple, set)) else {str(want)}
        if dim == "unit_type":
            have = unit
        elif dim == "role":
            have = role
        elif dim == "line":
            info = getattr(codebook, "unit_types", {}).get(unit)
            have = getattr(info, "line", None)
        else:
            return False  # a dimension outside the cells: the rule cannot tell, the audit does
        if have not in wants:
            return False
    return True


def _asked(codebook, item: str | None, cells: Iterable[Cell]) -> set[Cell]:
    items = getattr(codebook, "items", {})
    if item is None or item not in items:
        return set(cells)
    var = items[item]
    roles = set(getattr(var, "asked_of", None) or codebook.roles)
    units = set(getattr(var, "unit_types", None) or codebook.unit_types)
    return {d for d in cells if d[0] in units and d[1] in roles}


def reveals_outside(parts: list, n: float, populations: Populations, min_cell: int) -> bool:
    """Would publishing `n` respondents of the row made of the sources `parts` (one, or the
    rows a total adds up) pin the respondents outside it within less than `min_cell`?

    "Outside" is measured against every total a reader may know: all respondents, the
    row's group without the frame's restriction (all roles of a unit, when the frame is the
    medarbeidere), and the group with one of its dimensions dropped (the unit's total, the
    role's total). False when nobody is outside or a source is unknown (the audit decides)."""
    cells, codebook = populations
    if not parts or any(p is None for p in parts) or n is None or np.isnan(float(n)):
        return False
    if any(p.population not in (None, MAIN_POPULATION) for p in parts):
        return False
    counted: set[Cell] = set()
    ambients: list[set[Cell]] = [set(cells)]
    for p in parts:
        group: dict[str, list] = {}
        for dim, key in p.group:
            group.setdefault(dim, []).append(key)
        if any(dim not in ("unit_type", "role", "line") for dim in group):
            return False
        members = {d for d in cells if _in_group(d, group, codebook)}
        frame = members if p.universe is None else members & {tuple(c) for c in p.universe}
        counted |= frame & _asked(codebook, p.item, frame)
        ambients.append(members)
        for dim in group:
            rest = {k: v for k, v in group.items() if k != dim}
            ambients.append({d for d in cells if _in_group(d, rest, codebook)})
    if len(parts) > 1:  # a total: the union of its rows' groups
        ambients.append(set().union(*ambients[1:]))
    for ambient in ambients:
        if not counted <= ambient:
            continue
        outside = sum(cells[d] for d in ambient - counted)
        if outside > 0 and sum(cells[d] for d in ambient) - float(n) < min_cell:
            return True
    return False


def outside_rows(sources: list[list], n: Iterable[float], populations: Populations | Callable | None,
                 min_cell: int) -> np.ndarray:
    """Per row, :func:`reveals_outside` (all False without populations)."""
    n = list(n)
    if callable(populations):
        populations = populations()
    if populations is None:
        return np.zeros(len(n), dtype=bool)
    return np.array([reveals_outside(parts, value, populations, min_cell) for parts, value in zip(sources, n)],
                    dtype=bool)


def cell_populations(df, codebook) -> dict[Cell, int]:
    """Respondents per (unit type, role) cell of `df` (zeros included)."""
    counts = {(u, r): 0 for u in codebook.unit_types for r in codebook.roles}
    if len(df):
        grouped = df.groupby([df["unit_type"].astype("object"), df["role"].astype("object")]).size()
        for cell, value in grouped.items():
            if cell in counts:
                counts[cell] = int(value)
    return counts
