"""Goal 3, partssamarbeidet (4.2.3.1): how leaders, tillitsvalgte and verneombud answer.

Leaders were asked how much they involve tillitsvalgte and verneombud; these were asked how
much they take part. The comparisons the prose makes ("ledere over både tillitsvalgte og
verneombud", "omtrent likt") are computed here from the gated means the figures show, with
the tolerance published.yml uses for "omtrent likt".
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tillit import fmt
from tillit.book import plots
from tillit.book.context import Context
from tillit.book.chapters.hovedfunn.common import Say, caption_n, gated_group_shares, missing
from tillit.stats import tables

ROLES = ["leder", "tillitsvalgt", "verneombud"]


@dataclass
class RoleMeans:
    means: pd.DataFrame            # index (item, role key): n, mean, lo, hi (NaN when suppressed)
    labels: dict                   # item -> label

    def mean(self, item: str, role: str) -> float:
        try:
            return float(self.means.loc[(item, role), "mean"])
        except KeyError:
            return float("nan")

    def leaders_above(self, item: str) -> bool | None:
        """Leaders' mean above both tillitsvalgte's and verneombud's (None if any is suppressed)."""
        vals = [self.mean(item, r) for r in ROLES]
        if any(missing(v) for v in vals):
            return None
        return vals[0] > vals[1] and vals[0] > vals[2]

    def close(self, item: str, a: str, b: str, tol: float) -> bool | None:
        va, vb = self.mean(item, a), self.mean(item, b)
        return None if missing(va) or missing(vb) else abs(va - vb) <= tol


def role_means(ctx: Context, items: list[str], label: str, caption: str) -> RoleMeans:
    """Means (1–5, Vet ikke left out) per role, gated, drawn as dots with 95 % intervals."""
    cb = ctx.codebook
    df = ctx.survey()
    df = df[df["role"].isin(ROLES)]
    frames = []
    for item in items:
        m = tables.mean(df, item, by="role", cb=cb)
        m["item"] = item
        frames.append(m)
    res = pd.concat(frames, ignore_index=True).set_index(["item", "role"])
    gated = ctx.gate.means(f"{ctx.name}/{label}", res[["n", "mean", "lo", "hi"]])
    ctx.gate.write_log()
    g = gated.values
    plot_df = g.reset_index()
    plot_df["Spørsmål"] = plot_df["item"].map(lambda i: cb.items[i].label)
    plot_df["Rolle"] = plot_df["role"].map(cb.roles)
    fig = plots.mean_dots(plot_df, "Spørsmål", "mean", "lo", "hi", hue_col="Rolle",
                          hue_order=[cb.roles[r] for r in ROLES])
    n_shown = g.groupby(level="item")["n"].sum(min_count=1).max()
    alt = ("Punkter med gjennomsnitt og 95 prosents konfidensintervall per rolle for "
           + fmt.listing([cb.items[i].label.lower() for i in items]) + ". Ledere, tillitsvalgte og verneombud "
           "står under hverandre for hvert spørsmål.")
    ctx.figure(fig, label, f"{caption} ({caption_n(n_shown)})", alt,
               data=plot_df[["Spørsmål", "Rolle", "n", "mean", "lo", "hi"]])
    return RoleMeans(g, {i: cb.items[i].label for i in items})


def leader_involvement(ctx: Context) -> dict:
    """Among leaders: share who involve at least «i noen grad», and «i stor/svært stor grad»."""
    df = ctx.survey()
    leaders = df[df["role"] == "leder"]
    out = {}
    for item in ("involve_services", "involve_mor"):
        some = gated_group_shares(ctx, f"{ctx.name}/involvering-ledere-{item}", leaders, item, [3, 4, 5], "role")
        much = gated_group_shares(ctx, f"{ctx.name}/involvering-ledere-{item}-mye", leaders, item, [4, 5], "role")
        out[item] = {"some": float(some["share"].iloc[0]) if len(some) else float("nan"),
                     "much": float(much["share"].iloc[0]) if len(much) else float("nan")}
    return out


def tolerance(say: Say, target: str) -> float:
    return float(say.num.targets[target]["check"]["tol"])


def majority_words(share: float) -> str:
    """'de fleste' / 'halvparten' / 'under halvparten' from a share."""
    if missing(share):
        return "en prikket andel av"
    return "de fleste" if share > 0.5 else ("halvparten" if share == 0.5 else "under halvparten av")


def comparison_words(holds: bool | None, yes: str, no: str) -> str | None:
    """Claim words that follow the data: ``yes`` if it holds, ``no`` if not, None when a group
    it rests on is suppressed (``Say.pub_text`` then prints «(prikket)»)."""
    if holds is None:
        return None
    return yes if holds else no
