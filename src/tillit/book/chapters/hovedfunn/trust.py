"""Trust between employee and user (4.2.4.8) and the facts of goal 5 (4.2.5).

The hindrance scale runs from «i svært liten grad» to «i svært stor grad»: it is not a
negative–positive scale, and more hindrance is not better. The units are ranked by the share
answering «i stor» or «i svært stor grad» (the report's «mye»), the chart is drawn in that
order, and the prose names the units at the top of that same ranking.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tillit import fmt
from tillit.book import plots
from tillit.book.context import Context
from tillit.book.chapters.hovedfunn.common import (HIGH, LOW, Ranking, Say, caption_n, gated_total_share,
                                                   pct_cells, shown)
from tillit.stats import tables
from tillit.stats.disclosure import TOTAL
from tillit.stats.tables import DK

# Unit types whose share the report published (params/published.yml).
UNIT_TARGETS = {"nks": "tillit_nks_mye", "klage_anke": "tillit_klage_anke_mye"}
# How far above all employees a unit must lie to be said to stand out (percentage points / 100).
STANDOUT = 0.05


FIG = "fig-tillit-enhet"
HIGH_COL = "I stor eller svært stor grad"       # a share column: its table shows it as "… (%)"
ALL_EMPLOYEES = "Alle medarbeidere"


@dataclass
class Trust:
    low: float
    high: float
    n: float
    by_unit: Ranking              # unit key -> share «mye», employees
    chart_order: list             # unit keys, top first, as drawn (all employees below them)

    def values(self) -> dict:
        """Row label → share «mye» in percent, as the figure's table shows it (units and all employees)."""
        return shown({**{self.by_unit.label(k): self.by_unit.values[k] for k in self.by_unit.keys},
                      ALL_EMPLOYEES: self.high})


def _whole_employees(ctx: Context, label: str) -> pd.DataFrame:
    """All of NAV's employees as one row «Hele NAV», for an edition's figure: the main book's
    own row, gated as the main book gates it (ctx.whole_view: the same table, the same
    populations, a log of its own). Gated anew in the edition, its hidden cells could differ
    from the main book's and be recovered from them."""
    whole = ctx.whole_view()
    with tables.SOURCES.unrecorded():
        emp = whole.survey()
        emp = emp[emp["role"] == "medarbeider"]
        counts = tables.distribution(emp, ["trust_hindrance"], whole.codebook, by="unit_type").set_index("unit_type")
        gated = whole.gate.shares(f"{whole.name}/{label}", counts[[1, 2, 3, 4, 5, DK]], total_row=True)
    return gated.values.loc[[TOTAL]].set_axis(["Hele NAV"])


def trust_by_unit(ctx: Context, label: str = FIG) -> Trust:
    """Employees' answers on the hindrance scale per unit type (ranked by «mye») and for all
    employees (the bar the prose compares the units with), drawn in the sequential palette."""
    cb = ctx.codebook
    df = ctx.survey()
    emp = df[df["role"] == "medarbeider"]
    low, n = gated_total_share(ctx, f"{ctx.name}/tillit-lite", emp, "trust_hindrance", LOW)
    high, _ = gated_total_share(ctx, f"{ctx.name}/tillit-mye", emp, "trust_hindrance", HIGH)
    counts = tables.distribution(emp, ["trust_hindrance"], cb, by="unit_type").set_index("unit_type")
    # The all-employees row makes one suppressed unit recoverable: the gate then suppresses another.
    gated = ctx.gate.shares(f"{ctx.name}/{label}", counts[[1, 2, 3, 4, 5, DK]], total_row=True)
    ctx.gate.write_log()
    sh = gated.values.rename(index={TOTAL: ALL_EMPLOYEES})
    units = {k: u.label for k, u in cb.unit_types.items()}
    ranking = Ranking.of((sh[4] + sh[5]).reindex([k for k in units if k in sh.index]), units)
    order = ranking.keys + list(ranking.suppressed)
    rows = sh.loc[order + [ALL_EMPLOYEES]].rename(index=units)
    drawn = rows
    if not ctx.is_whole:  # an edition: all of NAV's employees beneath its own (docs/editions.md); the
        # row is drawn, not put in the figure's table: its numbers are the main book's, published there
        drawn = pd.concat([rows, _whole_employees(ctx, label)])
    fig = plots.likert(drawn[[1, 2, 3, 4, 5, DK, "n"]], cb.scales["grad5"].short, sort=list(drawn.index))
    first = ranking.first()
    alt = (f"Liggende stolper per enhetstype, fra lyst (liten grad) til mørkt (stor grad), sortert med størst andel "
           f"som opplever hindringer i stor eller svært stor grad øverst: {units[first]} "
           f"({fmt.pct(ranking.values[first])}). Nederst alle medarbeidere samlet." if first else
           "Liggende stolper per enhetstype; andelene er prikket.")
    data = rows.reset_index(names="unit_type")[["unit_type", 1, 2, 3, 4, 5, DK, "n"]].rename(columns=str)
    data[HIGH_COL] = pct_cells(rows[4] + rows[5])
    ctx.figure(fig, label, "I hvilken grad mål- og resultatstyringen skaper hindringer for tilliten mellom "
               "medarbeider og bruker, medarbeidere etter enhetstype, sortert etter andelen «i stor» eller "
               f"«i svært stor grad», og alle medarbeidere nederst ({caption_n(sh['n'].get(ALL_EMPLOYEES))})"
               + ("" if ctx.is_whole else "; under dem medarbeiderne i hele NAV til sammenligning (tallene står "
                  "i hovedboka)"), alt,
               data=data)
    return Trust(low, high, n, ranking, order)


def unit_share_text(say: Say, t: Trust, key: str) -> str:
    """A unit's share «mye»: published (linked) for the units the report named, else computed."""
    value = t.by_unit.values.get(key, float("nan"))
    return say.pub(UNIT_TARGETS[key], value) if key in UNIT_TARGETS else say.pct(value)


def standouts_text(say: Say, t: Trust, k: int = 2) -> str:
    """The ``k`` units with the largest share «mye», in the chart's order, with their shares."""
    top = t.by_unit.top(k)
    if len(t.by_unit) <= k:
        return ("For mange enhetstyper er prikket til at de kan sammenlignes; "
                f"{t.by_unit.suppressed_text()} vises ikke (@fig-tillit-enhet).")
    vals = t.values()

    def claim(text: str, rows, op: str, k_: int | None = None) -> str:
        return say.claim(text, table=FIG, column=f"{HIGH_COL} (%)", rows=rows, op=op, k=k_, values=vals)

    named = [f"{t.by_unit.label(u)} ({unit_share_text(say, t, u)})" for u in top]
    low = t.by_unit.last()
    # With units suppressed, all employees may lie below the lowest unit shown: then «lavest» (of the
    # units) is true but not the table's minimum, and is left unclaimed.
    lowest = "Lavest" if low is None or vals.get(ALL_EMPLOYEES, 0) < vals[t.by_unit.label(low)] else \
        claim("Lavest", t.by_unit.label(low), "min")
    tail = (f" {lowest} ligger {t.by_unit.label(low)} ({say.pct(t.by_unit.values[low])})."
            if low is not None and low not in top else "")
    missing_units = (f" {t.by_unit.suppressed_text()} er prikket og inngår ikke i sammenligningen."
                     if not t.by_unit.complete() else "")
    above = t.high == t.high and all(t.by_unit.values[u] - t.high >= STANDOUT for u in top)
    highest = _highest_claim(claim, vals, [t.by_unit.label(u) for u in top],
                             [t.by_unit.label(u) for u in t.by_unit.keys if u not in top], k)
    if above:
        stand = "skiller seg ut"
        for u in top:
            stand = claim(stand, [t.by_unit.label(u), ALL_EMPLOYEES], "gt")
        lead = f"Noen enheter {stand} med en klart høyere andel som svarer «mye» enn medarbeiderne samlet: "
    else:
        lead = "Ingen enhetstype skiller seg klart ut fra medarbeiderne samlet, men "
    return f"{lead}{highest} ligger {fmt.listing(named)} (@fig-tillit-enhet).{tail}{missing_units}"


def _highest_claim(claim, vals: dict, top: list[str], rest: list[str], k: int) -> str:
    """«høyest» claimed for the ``top`` units: among the table's top ``k`` rows; where the row of
    all employees lies among them (in an edition one large unit can pull it above the second
    unit), as larger than every other unit shown; unclaimed if even that fails (ties)."""
    from tillit.book.numbers import check_claim

    text = "høyest"
    if all(check_claim("top", [u], vals, k=k) is None for u in top):
        for u in top:
            text = claim(text, u, "top", k)
    elif rest and all(check_claim("gt", [u, *rest], vals) is None for u in top):
        for u in top:
            text = claim(text, [u, *rest], "gt")
    return text


def employees_share(ctx: Context, which: str) -> float:
    """Share of employees answering «lite» (``which="low"``) or «mye» (``"high"``), gated."""
    emp = ctx.survey()[ctx.survey()["role"] == "medarbeider"]
    share, _n = gated_total_share(ctx, f"{ctx.name}/tillit-{'lite' if which == 'low' else 'mye'}", emp,
                                  "trust_hindrance", LOW if which == "low" else HIGH)
    return share


def trust_summary(ctx: Context, k: int = 2) -> dict:
    """Trust hindrance in a few numbers, without a figure (for the summary in chapter 1): the
    employees' shares «lite» and «mye», and the ``k`` unit types highest on «mye» — the same
    ranking as the chapter-4 figure, so the two chapters cannot name different units."""
    from tillit.book.chapters.hovedfunn.common import gated_group_shares

    cb = ctx.codebook
    emp = ctx.survey()[ctx.survey()["role"] == "medarbeider"]
    units = {key: u.label for key, u in cb.unit_types.items()}
    g = gated_group_shares(ctx, f"{ctx.name}/tillit-enhet-andel", emp, "trust_hindrance", HIGH, "unit_type")
    ranking = Ranking.of(g.set_index("unit_type")["share"].reindex(list(units)), units)
    top = [ranking.label(u) for u in ranking.top(k)]
    return {"low": employees_share(ctx, "low"), "high": employees_share(ctx, "high"), "ranking": ranking,
            "top_units": top or ["ingen enhetstyper (prikket)"], "units_text": fmt.listing(top)}
