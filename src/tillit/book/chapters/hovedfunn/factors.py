"""The thirteen factors of handlingsrom (4.2.1.2, 4.2.1.3, 4.2.4.2; the report's Figur 7 and 8).

One gated table of shares feeds everything: the two charts, the ranking table and every
comparative word in the prose. Three orders are computed from it:

- ``by_affects``: the share who say the factor affects handlingsrom at all (positive or
  negative; published.yml's definition). This is the ranking behind "nr. 7 av 13", and the
  order Figur 8 is drawn in.
- ``by_positive`` and ``by_negative``: who say it pulls up, who say it pulls down. Figur 7 is
  drawn in the positive order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillit import fmt
from tillit.book import plots
from tillit.book.context import Context
from tillit.book.chapters.hovedfunn.common import Ranking, Say, caption_n, lower_first
from tillit.stats import tables
from tillit.stats.tables import DK


@dataclass
class Factors:
    table: pd.DataFrame          # index: item key; label, 1..5, Vet ikke, n, positive, negative, affects, net
    n: float
    by_affects: Ranking
    by_positive: Ranking
    by_negative: Ranking

    def row(self, key: str) -> pd.Series:
        return self.table.loc[key]

    def label(self, key: str) -> str:
        return str(self.table.loc[key, "label"])


def affects_codes() -> list[int]:
    from tillit.book.chapters.shared import affects_codes as codes

    return codes()


def factors(ctx: Context, table_id: str = "faktorer") -> Factors:
    """Shares of all answers per factor, through the gate; the three rankings."""
    cb = ctx.codebook
    counts = tables.distribution(ctx.survey(), cb.factors, cb).set_index("item")
    gated = ctx.gate.shares(f"{ctx.name}/{table_id}", counts[[1, 2, 3, 4, 5, DK]])
    ctx.gate.write_log()
    t = gated.values.copy()
    t.insert(0, "label", counts["label"])
    t["positive"] = t[4] + t[5]
    t["negative"] = t[1] + t[2]
    t["affects"] = t[affects_codes()].sum(axis=1, min_count=1)
    t["net"] = t["positive"] - t["negative"]
    labels = t["label"].to_dict()
    return Factors(t, float(t["n"].max()), Ranking.of(t["affects"], labels),
                   Ranking.of(t["positive"], labels), Ranking.of(t["negative"], labels))


def direction_figure(ctx: Context, f: Factors, label: str = "fig-faktorer-retning") -> list[str]:
    """Figur 7: how each factor pulls (diverging bars), most positive at the top. Returns the
    order drawn, top first."""
    scale = ctx.codebook.scales["effekt5"]
    order = f.by_positive.keys + list(f.by_positive.suppressed)
    shown = f.table.loc[order].set_index("label")
    # plots.diverging draws the first row at the bottom: hand it the order bottom-up.
    fig = plots.diverging(shown[[1, 2, 3, 4, 5, DK, "n"]].iloc[::-1], scale.short, sort=False)
    top = f.by_positive.first()
    alt = (f"Liggende stolper for {fmt.number_word(len(f.table))} forhold, sortert med størst andel positive svar "
           f"øverst. Øverst: {f.label(top)} ({fmt.pct(f.row(top)['positive'])} positivt). Negative svar går mot "
           "venstre, positive mot høyre, og Vet ikke står i et eget felt." if top else
           "Liggende stolper for forholdene som påvirker handlingsrommet; andelene er prikket.")
    ctx.figure(fig, label, "Hvordan forholdene påvirker handlingsrommet, sortert etter andelen som svarer "
               f"positivt ({caption_n(f.n)})", alt,
               data=f.table.loc[order].reset_index()[["item", "label", 1, 2, 3, 4, 5, DK, "n"]].rename(columns=str))
    return [f.label(k) for k in order]


def _ranking_chart(f: Factors, order: list[str]):
    import matplotlib.pyplot as plt

    colors = plots.diverging_colors(5)
    t = f.table.loc[order]
    y = np.arange(len(t))
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(t) + 1.4))
    neg = t["negative"].to_numpy(dtype=float)
    pos = t["positive"].to_numpy(dtype=float)
    ax.barh(y, np.nan_to_num(neg), color=colors[1], height=0.7, label="Negativt eller svært negativt")
    ax.barh(y, np.nan_to_num(pos), left=np.nan_to_num(neg), color=colors[3], height=0.7,
            label="Positivt eller svært positivt")
    ranks = [f.by_affects.rank(k) for k in order]
    for yi, (a, r) in enumerate(zip(t["affects"].to_numpy(dtype=float), ranks)):
        ax.text((a if np.isfinite(a) else 0) + 0.01, yi, fmt.pct(a) if np.isfinite(a) else "prikket",
                va="center", fontsize=8, color=plots.TEXT)
    ax.set_yticks(y, [f"{r}. {lab}" if r else f"{lab}" for r, lab in zip(ranks, t["label"])])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.0)
    ax.xaxis.set_major_formatter(fmt.percent_formatter())
    ax.set_xlabel("Andel av alle svar som sier at forholdet påvirker handlingsrommet")
    ax.legend(loc="lower right")
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def ranking_figure(ctx: Context, f: Factors, label: str = "fig-faktorer-rangering",
                   table_label: str | None = "tbl-faktorer-rangering") -> list[str]:
    """Figur 8: the factors ranked by how many say they affect handlingsrom (positive plus
    negative), rank 1 at the top, with the ranking table. Returns the order drawn, top first."""
    order = f.by_affects.keys + list(f.by_affects.suppressed)
    top = f.by_affects.first()
    alt = (f"Liggende stolper, én per forhold, rangert etter hvor mange som sier at forholdet påvirker "
           f"handlingsrommet. Hver stolpe er delt i negative og positive svar. Nr. 1 er {f.label(top)} "
           f"({fmt.pct(f.row(top)['affects'])})." if top else "Rangeringen av forholdene er prikket.")
    if "f_mor" in f.by_affects.values.index:
        alt += f" Mål- og resultatstyring er nr. {f.by_affects.rank('f_mor')}."
    ctx.figure(_ranking_chart(f, order), label, "Forholdene rangert etter andelen som sier at de påvirker "
               f"handlingsrommet, positivt eller negativt ({caption_n(f.n)})", alt,
               data=f.table.loc[order].reset_index()[["item", "label", "affects", "positive", "negative", "n"]])
    if table_label:
        t = f.table.loc[order]
        disp = pd.DataFrame({
            "Plass": [str(f.by_affects.rank(k) or "–") for k in order],
            "Forhold": t["label"].to_list(),
            "Påvirker (positivt eller negativt)": [fmt.pct(v, 1) for v in t["affects"]],
            "Positivt": [fmt.pct(v, 1) for v in t["positive"]],
            "Negativt": [fmt.pct(v, 1) for v in t["negative"]],
            "Vet ikke": [fmt.pct(v, 1) for v in t[DK]],
        })
        csv = t.reset_index()[["item", "label", "affects", "positive", "negative", DK, "n"]].rename(columns=str)
        csv.insert(0, "rank", [f.by_affects.rank(k) for k in order])
        ctx.table(disp, table_label, "Forholdene rangert etter andelen som sier at de påvirker handlingsrommet "
                  f"({caption_n(f.n)})", csv_df=csv)
    return [f.label(k) for k in order]


# --- what the prose says about them ------------------------------------------------------------
def mor_rank_text(f: Factors) -> str | None:
    """'den sjuende av tretten' (None if mål- og resultatstyring is suppressed)."""
    r = f.by_affects.rank("f_mor")
    if r is None:
        return None
    shared = " (delt plass)" if f.by_affects.tied("f_mor") else ""
    return f"den {fmt.ordinal_word(r)} av {fmt.number_word(len(f.by_affects) + len(f.by_affects.suppressed))}{shared}"


def top_three_text(f: Factors) -> str | None:
    top = f.by_affects.top(3)
    return fmt.listing([lower_first(f.label(k)) for k in top]) if len(top) == 3 else None


def negative_sentence(say: Say, f: Factors) -> str:
    """Which factor most often pulls handlingsrom down, and where tid stands — from the data."""
    worst = f.by_negative.first()
    if worst is None:
        return "Andelene som svarer negativt, er prikket."
    tid = f.row("f_tid")["negative"]
    tid_rank = f.by_negative.rank("f_tid")
    tid_text = say.pub("tid_negativ", tid)
    if worst == "f_tid":
        return (f"Tid er det forholdet flest sier trekker handlingsrommet ned: {tid_text} svarer at tiden "
                "påvirker negativt eller svært negativt.")
    place = ("den nest største" if tid_rank == 2 else f"den {fmt.ordinal_word(tid_rank)} største" if tid_rank
             else "en prikket")
    return (f"{f.label(worst)} er det forholdet flest sier trekker handlingsrommet ned "
            f"({say.pct(f.row(worst)['negative'], 1)} negativt eller svært negativt). Tid har {place} andelen "
            f"negative svar: {tid_text} mener at tiden påvirker handlingsrommet negativt.")


def competence_sentence(say: Say, f: Factors) -> str:
    """Where egen erfaring og kompetanse stands among the positive answers."""
    r = f.by_positive.rank("f_kompetanse")
    share = say.pub("kompetanse_positiv", f.row("f_kompetanse")["positive"])
    if r is None:
        return f"Andelen som mener kompetansen påvirker positivt, er {share}."
    where = ("størst andel positive svar av alle forholdene" if r == 1 else
             f"den {fmt.ordinal_word(r)} største andelen positive svar")
    return (f"Egen erfaring og kompetanse har {where}: {share} mener at kompetansen og erfaringen deres "
            f"påvirker handlingsrommet positivt, mens bare {say.pct(f.row('f_kompetanse')['negative'], 1)} "
            "mener den påvirker negativt (@fig-faktorer-retning).")


def factor_in_group(ctx: Context, item: str, col: str, key: str) -> tuple[float, float]:
    """(positive, negative) share on one factor within one group (e.g. NAV-kontor), gated."""
    from tillit.book.chapters.hovedfunn.common import HIGH, LOW, gated_group_shares

    df = ctx.survey()
    out = []
    for codes, tag in ((HIGH, "positiv"), (LOW, "negativ")):
        g = gated_group_shares(ctx, f"{ctx.name}/{item}-{col}-{tag}", df, item, codes, col).set_index(col)
        out.append(float(g["share"].get(key, float("nan"))))
    return out[0], out[1]
