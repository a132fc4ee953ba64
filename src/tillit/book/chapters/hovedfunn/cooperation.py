"""Goal 3, partssamarbeidet (4.2.3.1): how leaders, tillitsvalgte and verneombud answer.

Leaders were asked how much they involve tillitsvalgte and verneombud; these were asked how
much they take part. The comparisons the prose makes ("ledere over både tillitsvalgte og
verneombud", "omtrent likt") are computed here from the gated means the figures show, with
the tolerance published.yml uses for "omtrent likt", and claimed against the figures' tables
(one row per role). The means are computed apart from the figure, so 4.1 can state them first.
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
    roles: dict                    # role key -> label
    figure: str = ""               # the figure's label (its table holds the means the prose compares)

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

    def column(self, item: str) -> str:
        """The figure table's header for an item's means."""
        return f"{self.labels[item]}: gjennomsnitt"

    def values(self, item: str) -> dict:
        """Role label → mean on ``item`` (2 decimals, as the figure's table shows it)."""
        return {self.roles[r]: round(self.mean(item, r), 2) for r in ROLES}

    def claim(self, say: Say, text: str, item: str, roles: list[str], op: str = "gt", tol: float | None = None) -> str:
        """``text`` claimed about ``roles`` on ``item`` against the figure's table."""
        return say.claim(text, table=self.figure, column=self.column(item), rows=[self.roles[r] for r in roles],
                         op=op, tol=tol, values=self.values(item))


def role_mean_values(ctx: Context, items: list[str], label: str) -> RoleMeans:
    """Means (1–5, Vet ikke left out) per role, gated (no drawing)."""
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
    return RoleMeans(gated.values, {i: cb.items[i].label for i in items}, {r: cb.roles[r] for r in ROLES}, label)


def _wide(rm: RoleMeans) -> pd.DataFrame:
    """One row per role, the means with their intervals and counts per item, for the figure's table."""
    out = pd.DataFrame({"Rolle": [rm.roles[r] for r in ROLES]})
    for item, label in rm.labels.items():
        part = rm.means.xs(item, level="item").reindex(ROLES)
        out[rm.column(item)] = part["mean"].to_numpy(dtype=float)
        out[f"{label}: 95 % KI fra"] = part["lo"].to_numpy(dtype=float)
        out[f"{label}: 95 % KI til"] = part["hi"].to_numpy(dtype=float)
        out[f"{label}: antall svar"] = pd.array(part["n"].round(), dtype="Int64")
    return out


def role_means_figure(ctx: Context, rm: RoleMeans, caption: str) -> None:
    """The means drawn as dots with 95 % intervals, one row per question, roles under each other."""
    cb = ctx.codebook
    plot_df = rm.means.reset_index()
    plot_df["Spørsmål"] = plot_df["item"].map(rm.labels)
    plot_df["Rolle"] = plot_df["role"].map(cb.roles)
    fig = plots.mean_dots(plot_df, "Spørsmål", "mean", "lo", "hi", hue_col="Rolle",
                          hue_order=[cb.roles[r] for r in ROLES])
    n_shown = rm.means.groupby(level="item")["n"].sum(min_count=1).max()
    alt = ("Punkter med gjennomsnitt og 95 prosents konfidensintervall per rolle for "
           + fmt.listing([label.lower() for label in rm.labels.values()]) + ". Ledere, tillitsvalgte og verneombud "
           "står under hverandre for hvert spørsmål.")
    ctx.figure(fig, rm.figure, f"{caption} ({caption_n(n_shown)})", alt, data=_wide(rm))


def role_means(ctx: Context, items: list[str], label: str, caption: str) -> RoleMeans:
    """Means per role, gated, drawn as dots with 95 % intervals."""
    rm = role_mean_values(ctx, items, label)
    role_means_figure(ctx, rm, caption)
    return rm


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
