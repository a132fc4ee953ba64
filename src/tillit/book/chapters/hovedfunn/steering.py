"""Goal 4, how the survey's respondents experience mål- og resultatstyring (4.2.4.3–4.2.4.7).

Each function draws one figure or table from gated aggregates and returns what the prose
needs, including the comparisons it makes (most competition, leaders above employees,
kommunal above statlig), so the wording follows the data and a test can hold it to the table.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tillit import fmt
from tillit.book import plots
from tillit.book.context import Context
from tillit.book.chapters.hovedfunn.common import HIGH, Ranking, caption_n, gated_group_shares, missing, subset
from tillit.stats import tables
from tillit.stats.tables import DK


def _diverging_rows(ctx: Context, table_id: str, counts: pd.DataFrame, index_col: str) -> pd.DataFrame:
    frame = counts.set_index(index_col)[[1, 2, 3, 4, 5, DK]]
    gated = ctx.gate.shares(table_id, frame)
    ctx.gate.write_log()
    return gated.values


def _ordered_diverging(ctx: Context, shares: pd.DataFrame, ranking: Ranking, scale: str, label: str,
                       caption: str, alt: str) -> list[str]:
    """Diverging bars in the ranking's order (first at the top), suppressed rows last."""
    order = ranking.keys + list(ranking.suppressed)
    shown = shares.loc[order]
    fig = plots.diverging(shown[[1, 2, 3, 4, 5, DK, "n"]].iloc[::-1], ctx.codebook.scales[scale].short, sort=False)
    ctx.figure(fig, label, caption, alt, data=shown.reset_index().rename(columns=str))
    return order


# --- 4.2.4.3 views on mål- og resultatstyring ----------------------------------------------
@dataclass
class Views:
    positive: float
    negative: float
    by_unit: pd.DataFrame            # index unit label: shares, n, positive, negative, net
    by_role: pd.DataFrame            # index role key: positive, negative, n
    net: Ranking                     # unit types by net (positive − negative)

    def about_even(self, tol_points: float) -> bool | None:
        if missing(self.positive) or missing(self.negative):
            return None
        return abs(self.positive - self.negative) * 100 <= tol_points


def mor_views(ctx: Context, f) -> Views:
    """Mål- og resultatstyring as a factor: overall, by unit type (figure) and by role."""
    cb = ctx.codebook
    df = ctx.survey()
    counts = tables.label_groups(tables.distribution(df, ["f_mor"], cb, by="unit_type"), cb, cols=("unit_type",))
    sh = _diverging_rows(ctx, f"{ctx.name}/fig-mrs-enhet", counts, "unit_type")
    sh["positive"], sh["negative"] = sh[4] + sh[5], sh[1] + sh[2]
    sh["net"] = sh["positive"] - sh["negative"]
    net = Ranking.of(sh["net"])
    top, bottom = net.first(), net.last()
    alt = (f"Liggende stolper per enhetstype for hvordan mål- og resultatstyringen påvirker handlingsrommet, sortert "
           f"etter overvekt av positive svar. Øverst {top}, nederst {bottom}." if top else
           "Liggende stolper per enhetstype; alle grupper er prikket.")
    _ordered_diverging(ctx, sh, net, "effekt5", "fig-mrs-enhet", "Hvordan mål- og resultatstyringen påvirker "
                       "handlingsrommet, etter enhetstype, sortert etter andel positive minus andel negative "
                       f"({caption_n(sh['n'].sum(min_count=1))})", alt)
    roles = counts_by_role(ctx, df, "f_mor", f"{ctx.name}/mrs-rolle")
    row = f.row("f_mor")
    return Views(float(row["positive"]), float(row["negative"]), sh, roles, net)


def counts_by_role(ctx: Context, df: pd.DataFrame, var: str, table_id: str) -> pd.DataFrame:
    counts = tables.distribution(df, [var], ctx.codebook, by="role")
    sh = _diverging_rows(ctx, table_id, counts, "role")
    sh["positive"], sh["negative"] = sh[4] + sh[5], sh[1] + sh[2]
    return sh


# --- 4.2.4.4 quantitative and qualitative goals --------------------------------------------
@dataclass
class GoalTypes:
    table: pd.DataFrame          # index aspect key: label, qn_pos, qn_neg, qn_neutral, ql_pos, ql_neg

    def qualitative_above(self) -> dict:
        """Aspect -> qualitative goals' positive share above quantitative (None if suppressed)."""
        return {a: (None if missing(r.ql_pos) or missing(r.qn_pos) else bool(r.ql_pos > r.qn_pos))
                for a, r in self.table.iterrows()}

    def negative_range(self) -> tuple:
        neg = self.table["qn_neg"].dropna()
        if not len(neg):
            return None, None, None, None
        return float(neg.min()), neg.idxmin(), float(neg.max()), neg.idxmax()

    def mostly_positive_or_neutral(self) -> bool | None:
        s = (self.table["qn_pos"] + self.table["qn_neutral"]).dropna()
        return None if not len(s) else bool((s > 0.5).all())


def goal_types(ctx: Context, label: str = "fig-maltyper", table_label: str = "tbl-maltyper") -> GoalTypes:
    cb = ctx.codebook
    df = ctx.survey()
    rows = []
    for gkey, gspec in cb.goal_types.items():
        items = [cb.goal_item(gkey, a) for a in cb.goal_aspects]
        counts = tables.distribution(df, items, cb)
        counts["row"] = [f"{gspec['label']}: {cb.goal_aspects[cb.items[i].extra['aspect']]}" for i in items]
        counts["goal_type"], counts["aspect"] = gkey, [cb.items[i].extra["aspect"] for i in items]
        rows.append(counts)
    counts = pd.concat(rows, ignore_index=True)
    sh = _diverging_rows(ctx, f"{ctx.name}/{label}", counts, "row")
    sh = sh.join(counts.set_index("row")[["goal_type", "aspect"]])
    # Aspect by aspect, quantitative above qualitative, so each pair stands together.
    order = [r for a in cb.goal_aspects for r in sh.index if sh.loc[r, "aspect"] == a]
    fig = plots.diverging(sh.loc[list(reversed(order)), [1, 2, 3, 4, 5, DK, "n"]], cb.scales["effekt5"].short, sort=False)
    ctx.figure(fig, label, "Hvordan kvantitative og kvalitative mål påvirker fem sider ved arbeidet, andel av alle "
               f"svar ({caption_n(counts['n'].max())})",
               "Liggende stolper i par for fem sider ved arbeidet: kvantitative mål over kvalitative. Negative svar "
               "går mot venstre og positive mot høyre.", data=sh.reset_index().rename(columns=str))
    t = pd.DataFrame(index=list(cb.goal_aspects))
    t["label"] = [cb.goal_aspects[a] for a in t.index]
    for prefix, gkey in (("qn", "kvantitativ"), ("ql", "kvalitativ")):
        part = sh[sh["goal_type"] == gkey].set_index("aspect")
        t[f"{prefix}_pos"] = part[4] + part[5]
        t[f"{prefix}_neg"] = part[1] + part[2]
        t[f"{prefix}_neutral"] = part[3]
    disp = pd.DataFrame({"Side ved arbeidet": t["label"],
                         "Kvantitative: positivt": [fmt.pct(v) for v in t["qn_pos"]],
                         "Kvantitative: negativt": [fmt.pct(v) for v in t["qn_neg"]],
                         "Kvalitative: positivt": [fmt.pct(v) for v in t["ql_pos"]],
                         "Kvalitative: negativt": [fmt.pct(v) for v in t["ql_neg"]]})
    ctx.table(disp.reset_index(drop=True), table_label, "Andel som mener kvantitative og kvalitative mål virker "
              f"positivt og negativt, per side ved arbeidet ({caption_n(counts['n'].max())})",
              csv_df=t.round(4).reset_index(names="aspect"))
    return GoalTypes(t)


# --- 4.2.4.5 competition ---------------------------------------------------------------------
@dataclass
class Competition:
    by_unit: Ranking                 # unit key -> share mye/svært mye, all roles
    leaders_by_unit: Ranking         # unit key -> share among leaders
    leader: float
    employee: float
    chart_order: list                # unit labels, top first, as drawn

    def leaders_above(self) -> bool | None:
        return None if missing(self.leader) or missing(self.employee) else self.leader > self.employee


def competition(ctx: Context, label: str = "fig-konkurranse") -> Competition:
    """Share with much competition per unit type: all roles (the ranking), leaders, employees."""
    cb = ctx.codebook
    df = ctx.survey()
    units = {k: u.label for k, u in cb.unit_types.items()}
    all_roles = gated_group_shares(ctx, f"{ctx.name}/{label}-alle", df, "competition", HIGH, "unit_type")
    # Leaders only beside all roles: a third role bar per unit would let a reader subtract their way
    # to the small remaining group (tillitsvalgte and verneombud in each unit).
    by_role = gated_group_shares(ctx, f"{ctx.name}/{label}-ledere", df[df["role"] == "leder"],
                                 "competition", HIGH, ["unit_type", "role"])
    ranking = Ranking.of(all_roles.set_index("unit_type")["share"].reindex(list(units)), units)
    leaders = by_role[by_role["role"] == "leder"].set_index("unit_type")["share"].reindex(list(units))
    roles = gated_group_shares(ctx, f"{ctx.name}/konkurranse-rolle", df[df["role"].isin(["leder", "medarbeider"])],
                               "competition", HIGH, "role").set_index("role")["share"]
    hue = {"alle": "Alle roller", "leder": "Ledere"}
    plot_df = pd.concat([all_roles.assign(role="alle"), by_role], ignore_index=True)
    plot_df["Enhetstype"] = plot_df["unit_type"].map(units)
    plot_df["Rolle"] = plot_df["role"].map(hue)
    order = [units[k] for k in ranking.keys + list(ranking.suppressed)]
    fig = plots.share_bars(plot_df, "Enhetstype", "share", "n", hue_col="Rolle", lo_col="lo", hi_col="hi",
                           xlabel="Andel som opplever mye eller svært mye konkurranse", order=order,
                           hue_order=list(hue.values()))
    first = ranking.first()
    alt = (f"Stolper per enhetstype, sortert etter andelen i alle roller som opplever mye eller svært mye konkurranse. "
           f"Øverst {units[first]} ({fmt.pct(ranking.values[first])})." if first else
           "Stolper per enhetstype; andelene er prikket.")
    ctx.figure(fig, label, "Andel som opplever mye eller svært mye konkurranse med andre enheter, etter enhetstype: "
               "alle roller (sorteringen) og ledere "
               f"({caption_n(all_roles['n'].sum(min_count=1))})", alt,
               data=plot_df[["Enhetstype", "Rolle", "n", "share", "lo", "hi"]])
    return Competition(ranking, Ranking.of(leaders, units), float(roles.get("leder", float("nan"))),
                       float(roles.get("medarbeider", float("nan"))), order)


# --- 4.2.4.6 results, goal setting and dialogue ----------------------------------------------
@dataclass
class ResultsUse:
    items: pd.DataFrame             # index item: low, high, n (all respondents)
    by_unit: Ranking                # unit key -> share «stor/svært stor grad» on results_use


def results_use(ctx: Context, label: str = "fig-resultatdialog") -> ResultsUse:
    cb = ctx.codebook
    df = ctx.survey()
    items = ["results_use", "goal_involvement", "dialogue_upper"]
    counts = tables.distribution(df, items, cb)
    sh = _diverging_rows(ctx, f"{ctx.name}/{label}", counts, "item")
    sh["low"], sh["high"] = sh[1] + sh[2], sh[4] + sh[5]
    shown = sh.rename(index=lambda i: cb.items[i].label)
    fig = plots.diverging(shown[[1, 2, 3, 4, 5, DK, "n"]].iloc[::-1], cb.scales["grad5"].short, sort=False)
    ctx.figure(fig, label, "Bruk av resultater, involvering når målene settes, og dialogen med overliggende nivå, andel "
               f"av alle svar ({caption_n(counts['n'].max())})",
               "Liggende stolper for tre spørsmål på skalaen fra i svært liten til i svært stor grad: resultatene "
               "brukes til læring, involvering i målsettingen og dialogen om resultater med overliggende nivå.",
               data=shown.reset_index().rename(columns=str))
    units = {k: u.label for k, u in cb.unit_types.items()}
    g = gated_group_shares(ctx, f"{ctx.name}/resultatbruk-enhet", df, "results_use", HIGH, "unit_type")
    return ResultsUse(sh[["low", "high", "n"]], Ranking.of(g.set_index("unit_type")["share"].reindex(list(units)), units))


# --- 4.2.4.7 municipal and state steering ----------------------------------------------------
@dataclass
class Municipal:
    means: pd.Series                # var -> mean (1–5), NaN when suppressed
    shares: pd.DataFrame            # var -> positive, negative
    yes: float                      # goal conflict, of those who answered yes or no
    no: float
    n: float

    def difference(self) -> float:
        return float(self.means["steer_municipal"] - self.means["steer_state"])


FILTER = {"role": ["leder"], "unit_type": ["nav_kontor"]}


def municipal_vs_state(ctx: Context, label: str = "fig-kommunal-statlig") -> Municipal:
    cb = ctx.codebook
    sub = subset(ctx.survey(), FILTER)
    items = ["steer_municipal", "steer_state"]
    counts = tables.distribution(sub, items, cb)
    sh = _diverging_rows(ctx, f"{ctx.name}/{label}", counts, "item")
    means = pd.concat([tables.mean(sub, v, cb=cb).assign(item=v) for v in items]).set_index("item")
    gm = ctx.gate.means(f"{ctx.name}/{label}-snitt", means[["n", "mean", "lo", "hi"]]).values
    ctx.gate.write_log()
    shown = sh.rename(index=lambda i: cb.items[i].label)
    fig = plots.diverging(shown[[1, 2, 3, 4, 5, DK, "n"]].iloc[::-1], cb.scales["effekt5"].short, sort=False)
    ctx.figure(fig, label, "Hvordan kommunal og statlig styring påvirker handlingsrommet, ledere på NAV-kontor "
               f"({caption_n(counts['n'].max())})", "To liggende stolper, kommunal og statlig styring, med negative "
               "svar mot venstre og positive mot høyre.", data=shown.reset_index().rename(columns=str))
    yes_no = gated_group_shares(ctx, f"{ctx.name}/tbl-malkonflikt", sub[sub["goal_conflict"].isin([1, 2])].assign(alle="alle"),
                                "goal_conflict", [1], "alle")
    yes = float(yes_no["share"].iloc[0]) if len(yes_no) else float("nan")
    n = float(yes_no["n"].iloc[0]) if len(yes_no) else float("nan")
    disp = pd.DataFrame({"Svar": ["Ja", "Nei"], "Andel av dem som svarte ja eller nei": [fmt.pct(yes), fmt.pct(1 - yes)]})
    ctx.table(disp, "tbl-malkonflikt", "Opplever du en målkonflikt mellom statlig og kommunal styring? Ledere på "
              f"NAV-kontor som svarte ja eller nei ({caption_n(n)})",
              csv_df=pd.DataFrame({"svar": ["ja", "nei"], "andel": [round(yes, 4), round(1 - yes, 4)]}),
              note=None if not missing(yes) else "Andelene er prikket: for få svar.")
    shares = pd.DataFrame({"positive": sh[4] + sh[5], "negative": sh[1] + sh[2]})
    return Municipal(gm["mean"], shares, yes, 1 - yes, n)


def steering_gap_words(diff: float, lo: float, hi: float) -> str:
    """How the municipal mean stands to the state mean, in words fixed by published.yml's band."""
    if missing(diff):
        return "(sammenligningen er prikket)"
    if diff >= hi:
        return "klart gunstigere"
    if diff >= lo:
        return "noe gunstigere"
    if diff > -lo:
        return "omtrent like gunstig"
    return "mindre gunstig"

