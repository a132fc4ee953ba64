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
from tillit.book.chapters.hovedfunn.common import HIGH, LOW, Ranking, Say, caption_n, gated_total_share
from tillit.stats import tables
from tillit.stats.tables import DK

# Unit types whose share the report published (params/published.yml).
UNIT_TARGETS = {"nks": "tillit_nks_mye", "klage_anke": "tillit_klage_anke_mye"}
# How far above all employees a unit must lie to be said to stand out (percentage points / 100).
STANDOUT = 0.05


@dataclass
class Trust:
    low: float
    high: float
    n: float
    by_unit: Ranking              # unit key -> share «mye», employees
    chart_order: list             # unit keys, top first, as drawn


def trust_by_unit(ctx: Context, label: str = "fig-tillit-enhet") -> Trust:
    cb = ctx.codebook
    df = ctx.survey()
    emp = df[df["role"] == "medarbeider"]
    low, n = gated_total_share(ctx, f"{ctx.name}/tillit-lite", emp, "trust_hindrance", LOW)
    high, _ = gated_total_share(ctx, f"{ctx.name}/tillit-mye", emp, "trust_hindrance", HIGH)
    counts = tables.distribution(emp, ["trust_hindrance"], cb, by="unit_type").set_index("unit_type")
    gated = ctx.gate.shares(f"{ctx.name}/{label}", counts[[1, 2, 3, 4, 5, DK]])
    ctx.gate.write_log()
    sh = gated.values
    units = {k: u.label for k, u in cb.unit_types.items()}
    ranking = Ranking.of((sh[4] + sh[5]).reindex([k for k in units if k in sh.index]), units)
    order = ranking.keys + list(ranking.suppressed)
    shown = sh.loc[order].rename(index=units)
    fig = plots.diverging(shown[[1, 2, 3, 4, 5, DK, "n"]].iloc[::-1], cb.scales["grad5"].short, sort=False)
    first = ranking.first()
    alt = (f"Liggende stolper per enhetstype, sortert med størst andel som opplever hindringer i stor eller svært "
           f"stor grad øverst: {units[first]} ({fmt.pct(ranking.values[first])})." if first else
           "Liggende stolper per enhetstype; andelene er prikket.")
    ctx.figure(fig, label, "I hvilken grad mål- og resultatstyringen skaper hindringer for tilliten mellom "
               "medarbeider og bruker, medarbeidere etter enhetstype, sortert etter andelen «i stor» eller "
               f"«i svært stor grad» ({caption_n(sh['n'].sum(min_count=1))})", alt,
               data=shown.reset_index(names="enhetstype").rename(columns=str))
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
    named = [f"{t.by_unit.label(u)} ({unit_share_text(say, t, u)})" for u in top]
    low = t.by_unit.last()
    tail = (f" Lavest ligger {t.by_unit.label(low)} ({say.pct(t.by_unit.values[low])})."
            if low is not None and low not in top else "")
    missing_units = (f" {t.by_unit.suppressed_text()} er prikket og inngår ikke i sammenligningen."
                     if not t.by_unit.complete() else "")
    above = t.high == t.high and all(t.by_unit.values[u] - t.high >= STANDOUT for u in top)
    lead = ("Noen enheter skiller seg ut med en klart høyere andel som svarer «mye» enn medarbeiderne samlet: "
            if above else "Ingen enhetstype skiller seg klart ut fra medarbeiderne samlet, men ")
    return f"{lead}høyest ligger {fmt.listing(named)} (@fig-tillit-enhet).{tail}{missing_units}"


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
