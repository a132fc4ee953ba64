"""Goal 2, local service development (4.2.2): Erfaringsbasen and the grant scheme.

The report gives only bounds ("mer enn 50" projects, "over 200" initiatives a year); the
prose prints those bounds, linked to the ledger, when the registers bear them out, and the
registers' own counts only as computed numbers (model-only on the twin).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tillit import fmt
from tillit.book import plots
from tillit.book.context import Context
from tillit.book.chapters.hovedfunn.common import Say, model_caption



def _bound(say: Say, target: str) -> int:
    """The bound a published target checks against (published.yml: 'mer enn 50', 'over 200')."""
    return int(say.num.targets[target]["check"]["value"])


@dataclass
class LocalDevelopment:
    projects: int
    per_line: pd.DataFrame          # label, n, share; largest first
    grants_per_year: pd.Series      # year -> initiatives

    @property
    def main_line(self) -> str:
        return str(self.per_line.iloc[0]["label"]) if len(self.per_line) else ""

    @property
    def main_share(self) -> float:
        return float(self.per_line.iloc[0]["share"]) if len(self.per_line) else float("nan")


def local_development(ctx: Context) -> LocalDevelopment:
    """Projects in Erfaringsbasen by line (figure) and grant initiatives per year (table)."""
    cb = ctx.codebook
    eb = ctx.register("experience_base")
    per_line = eb.groupby("line", observed=True).size().rename("n").reset_index()
    per_line["label"] = per_line["line"].map(lambda k: cb.lines.get(k, k))
    per_line["share"] = per_line["n"] / per_line["n"].sum()
    per_line = per_line.sort_values("n", ascending=False, kind="stable").reset_index(drop=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.5 * len(per_line) + 1.3))
    ax.barh(per_line["label"], per_line["n"], color=plots.QUALITATIVE[0])
    for y, v in enumerate(per_line["n"]):
        ax.text(v + 0.3, y, fmt.num(v), va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Antall prosjekter")
    ax.xaxis.set_major_formatter(fmt.number_formatter())
    fig.tight_layout()
    top = per_line.iloc[0] if len(per_line) else None
    ctx.figure(fig, "fig-erfaringsbasen", "Utviklingsprosjekter registrert i Erfaringsbasen, etter linje."
               + model_caption(ctx),
               (f"Liggende stolper, én per linje: {top['label']} har flest prosjekter." if top is not None
                else "Erfaringsbasen har ingen registrerte prosjekter."),
               data=per_line[["label", "n", "share"]])
    grants = ctx.register("grants")
    per_year = grants.groupby("year").size()
    ctx.table(pd.DataFrame({"År": [str(y) for y in per_year.index],
                            "Lokale utviklingsinitiativ": [fmt.num(v) for v in per_year]}),
              "tbl-tilskudd", "Lokale utviklingsinitiativ med tilskudd til utvikling av sosiale tjenester i "
              "NAV-kontor, per år." + model_caption(ctx).replace("figuren", "tabellen"),
              csv_df=per_year.rename("initiatives").reset_index())
    return LocalDevelopment(len(eb), per_line, per_year)


def projects_text(say: Say, d: LocalDevelopment) -> str:
    """'mer enn 50' (published bound) when the register holds it, else the count itself."""
    bound = _bound(say, "erfaringsbasen")
    if d.projects > bound:
        return say.pub_text("erfaringsbasen", f"mer enn {bound}")
    return say.count(d.projects)


def grants_text(say: Say, d: LocalDevelopment) -> str:
    bound = _bound(say, "tilskudd_per_ar")
    if len(d.grants_per_year) and int(d.grants_per_year.min()) > bound:
        return say.pub_text("tilskudd_per_ar", f"over {bound}")
    return f"minst {say.count(int(d.grants_per_year.min()) if len(d.grants_per_year) else 0)}"


def main_line_words(d: LocalDevelopment) -> str:
    """How dominant the largest line is, in words chosen from its share."""
    s = d.main_share
    if s != s:
        return "uten at noen linje skiller seg ut"
    if s >= 0.75:
        return "i all hovedsak"
    if s > 0.5:
        return "for det meste"
    return "oftest"
