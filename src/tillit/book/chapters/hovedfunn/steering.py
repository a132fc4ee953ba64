"""Goal 4, how the survey's respondents experience mål- og resultatstyring (4.2.4.3–4.2.4.7).

Each part is computed first (gated aggregates in a small result object) and drawn by its own
function, so the summary in 4.1 can state a finding before its figure. The result objects hold
what the prose compares (most competition, leaders above employees, kommunal above statlig),
and the figures' data tables carry the very columns the claims in the prose name, so a test can
hold every comparison to the table the reader sees.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tillit import fmt
from tillit.book import plots
from tillit.book.context import Context
from tillit.book.chapters.hovedfunn.common import (HIGH, Ranking, caption_n, gated_group_shares, missing, pct_cells,
                                                   shown, subset)
from tillit.stats import tables
from tillit.stats.tables import DK

NET_COL = "Positivt minus negativt (prosentpoeng)"
ROLE_COLS = {"positive": "Positivt eller svært positivt", "negative": "Negativt eller svært negativt"}


def _diverging_rows(ctx: Context, table_id: str, counts: pd.DataFrame, index_col: str) -> pd.DataFrame:
    frame = counts.set_index(index_col)[[1, 2, 3, 4, 5, DK]]
    gated = ctx.gate.shares(table_id, frame)
    ctx.gate.write_log()
    return gated.values


def _likert(ctx: Context, rows: pd.DataFrame, scale: str, **kw):
    """Stacked bars in the order of ``rows`` (first at the top)."""
    return plots.likert(rows[[1, 2, 3, 4, 5, DK, "n"]], ctx.codebook.scales[scale].short, sort=list(rows.index), **kw)


# --- 4.2.4.3 views on mål- og resultatstyring ----------------------------------------------
@dataclass
class Views:
    positive: float
    negative: float
    by_unit: pd.DataFrame | None     # index unit label: shares, n, positive, negative, net (None: not shown)
    by_role: pd.DataFrame            # index role key: positive, negative, n
    net: Ranking                     # unit types by net (positive − negative)

    def about_even(self, tol_points: float) -> bool | None:
        if missing(self.positive) or missing(self.negative):
            return None
        return abs(self.positive - self.negative) * 100 <= tol_points

    def net_values(self) -> dict:
        """Unit label → net in percentage points, as the figure's table shows it."""
        return {} if self.by_unit is None else {k: round(v, 1) for k, v in shown(self.by_unit["net"]).items()}


# Why an edition of roles leaves the figure by unit type out (ctx.not_in_edition).
BY_UNIT_IN_ROLE_EDITION = ("svarene etter enhetstype står i hver enhetstypes utgave, i tabellen etter rolle; publisert "
                           "fra begge sider, hver bok med sine skjulte tall, kunne de sammen ha gitt bort skjulte antall")


def by_unit_shown(ctx: Context) -> bool:
    """Whether this book breaks mål- og resultatstyring down by unit type. An edition of roles
    does not: the unit-type editions break the same unit × role cells down by role
    (tbl-mrs-rolle), and the two sides, each gated in its own book, let the audit of all books
    together recover counts that one of them hid. One side publishes the crossing."""
    return "role" not in ctx.edition.filters()


def mor_views(ctx: Context, f) -> Views:
    """Mål- og resultatstyring as a factor: overall, by unit type (figure) and by role (table)."""
    cb = ctx.codebook
    df = ctx.survey()
    row = f.row("f_mor")
    if not by_unit_shown(ctx):
        ctx.not_in_edition("Figuren etter enhetstype", BY_UNIT_IN_ROLE_EDITION)
        roles = counts_by_role(ctx, df, "f_mor", f"{ctx.name}/tbl-mrs-rolle")
        return Views(float(row["positive"]), float(row["negative"]), None, roles, Ranking.of({}))
    counts = tables.label_groups(tables.distribution(df, ["f_mor"], cb, by="unit_type"), cb, cols=("unit_type",))
    sh = _diverging_rows(ctx, f"{ctx.name}/fig-mrs-enhet", counts, "unit_type")
    sh["positive"], sh["negative"] = sh[4] + sh[5], sh[1] + sh[2]
    sh["net"] = sh["positive"] - sh["negative"]
    net = Ranking.of(sh["net"])
    top, bottom = net.first(), net.last()
    alt = (f"Liggende stolper per enhetstype for hvordan mål- og resultatstyringen påvirker handlingsrommet, sortert "
           f"etter overvekt av positive svar. Øverst {top}, nederst {bottom}." if top else
           "Liggende stolper per enhetstype; alle grupper er prikket.")
    order = net.keys + list(net.suppressed)
    rows = sh.loc[order]
    fig = _likert(ctx, rows, "effekt5")
    fig.tillit["decimals"] = {"share": 0, "mean": 1}     # the net column, in points with one decimal
    data = rows.reset_index()[["unit_type", 1, 2, 3, 4, 5, DK, "n", "positive", "negative"]].rename(columns=str)
    data[NET_COL] = ["" if missing(v) else fmt.num(round(100 * v, 1), 1) for v in rows["net"]]
    ctx.figure(fig, "fig-mrs-enhet", "Hvordan mål- og resultatstyringen påvirker handlingsrommet, etter enhetstype, "
               "sortert etter andel positive minus andel negative "
               f"({caption_n(sh['n'].sum(min_count=1))})", alt, data=data)
    roles = counts_by_role(ctx, df, "f_mor", f"{ctx.name}/tbl-mrs-rolle")
    return Views(float(row["positive"]), float(row["negative"]), sh, roles, net)


def counts_by_role(ctx: Context, df: pd.DataFrame, var: str, table_id: str) -> pd.DataFrame:
    counts = tables.distribution(df, [var], ctx.codebook, by="role")
    sh = _diverging_rows(ctx, table_id, counts, "role")
    sh["positive"], sh["negative"] = sh[4] + sh[5], sh[1] + sh[2]
    return sh


def role_table(ctx: Context, v: Views, label: str = "tbl-mrs-rolle") -> None:
    """How mål- og resultatstyringen pulls handlingsrom, by role (the comparison the prose makes)."""
    roles = [r for r in ctx.codebook.roles if r in v.by_role.index]
    t = v.by_role.loc[roles]
    disp = pd.DataFrame({"Rolle": [ctx.codebook.roles[r] for r in roles],
                         ROLE_COLS["positive"]: [fmt.pct(x) for x in t["positive"]],
                         ROLE_COLS["negative"]: [fmt.pct(x) for x in t["negative"]],
                         "Antall svar": [fmt.num(x) if not missing(x) else "–" for x in t["n"]]})
    ctx.table(disp, label, "Hvordan mål- og resultatstyringen påvirker handlingsrommet, etter rolle "
              f"({caption_n(t['n'].sum(min_count=1))})",
              csv_df=t.reset_index()[["role", "positive", "negative", "n"]])


def role_values(v: Views, metric: str, labels: dict) -> dict:
    return shown({labels[r]: v.by_role.loc[r, metric] for r in v.by_role.index if r in labels})


# --- 4.2.4.4 quantitative and qualitative goals --------------------------------------------
GOAL_TABLE = "tbl-maltyper"
GOAL_FIG = "fig-maltyper"
GOAL_COLS = {"qn_pos": "Kvantitative: positivt", "qn_neg": "Kvantitative: negativt",
             "ql_pos": "Kvalitative: positivt", "ql_neg": "Kvalitative: negativt"}
POSITIVE = "Positivt eller svært positivt (%)"       # the figure table's header for «positive»


@dataclass
class GoalTypes:
    table: pd.DataFrame          # index aspect key: label, qn_pos, qn_neg, qn_neutral, ql_pos, ql_neg
    rows: pd.DataFrame           # index row label ("Kvalitative mål: Motivasjon"): 1..5, DK, n, goal_type, aspect
    row_label: dict              # (goal type, aspect) -> row label in the figure
    n: float

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

    def positive_values(self) -> dict:
        """Figure row label → positive share in percent (the figure's table)."""
        return shown(self.rows[4] + self.rows[5])

    def table_values(self, col: str) -> dict:
        """Aspect label → share in percent in a column of the table (``qn_neg`` …)."""
        return shown(self.table.set_index("label")[col])


def goal_type_shares(ctx: Context, label: str = GOAL_FIG) -> GoalTypes:
    """How quantitative and qualitative goals pull five sides of the work, gated (no drawing)."""
    cb = ctx.codebook
    df = ctx.survey()
    parts, row_label = [], {}
    for gkey, gspec in cb.goal_types.items():
        items = [cb.goal_item(gkey, a) for a in cb.goal_aspects]
        counts = tables.distribution(df, items, cb)
        aspects = [cb.items[i].extra["aspect"] for i in items]
        counts["row"] = [f"{gspec['label']}: {cb.goal_aspects[a]}" for a in aspects]
        counts["goal_type"], counts["aspect"] = gkey, aspects
        row_label.update({(gkey, a): r for a, r in zip(aspects, counts["row"])})
        parts.append(counts)
    counts = pd.concat(parts, ignore_index=True)
    sh = _diverging_rows(ctx, f"{ctx.name}/{label}", counts, "row")
    sh = sh.join(counts.set_index("row")[["goal_type", "aspect"]])
    t = pd.DataFrame(index=list(cb.goal_aspects))
    t["label"] = [cb.goal_aspects[a] for a in t.index]
    for prefix, gkey in (("qn", "kvantitativ"), ("ql", "kvalitativ")):
        part = sh[sh["goal_type"] == gkey].set_index("aspect")
        t[f"{prefix}_pos"] = part[4] + part[5]
        t[f"{prefix}_neg"] = part[1] + part[2]
        t[f"{prefix}_neutral"] = part[3]
    return GoalTypes(t, sh, row_label, float(counts["n"].max()))


def goal_types_figure(ctx: Context, gt: GoalTypes, label: str = GOAL_FIG, table_label: str = GOAL_TABLE) -> None:
    cb = ctx.codebook
    sh = gt.rows
    # Aspect by aspect, quantitative above qualitative, so each pair stands together.
    order = [r for a in cb.goal_aspects for r in sh.index if sh.loc[r, "aspect"] == a]
    fig = _likert(ctx, sh.loc[order], "effekt5")
    data = sh.loc[order].reset_index()[["row", 1, 2, 3, 4, 5, DK, "n"]].rename(columns=str)
    data["positive"], data["negative"] = (sh.loc[order, 4] + sh.loc[order, 5]).to_numpy(), \
        (sh.loc[order, 1] + sh.loc[order, 2]).to_numpy()
    data = data.rename(columns={"row": "Måltype og side ved arbeidet"})
    ctx.figure(fig, label, "Hvordan kvantitative og kvalitative mål påvirker fem sider ved arbeidet, andel av alle "
               f"svar ({caption_n(gt.n)})",
               "Liggende stolper i par for fem sider ved arbeidet: kvantitative mål over kvalitative. Negative svar "
               "går mot venstre og positive mot høyre.", data=data)
    t = gt.table
    disp = pd.DataFrame({"Side ved arbeidet": t["label"], **{h: [fmt.pct(v) for v in t[c]] for c, h in GOAL_COLS.items()}})
    csv = pd.DataFrame({"Side ved arbeidet": t["label"], **{h: pct_cells(t[c]) for c, h in GOAL_COLS.items()},
                        "Kvantitative: verken positivt eller negativt": pct_cells(t["qn_neutral"])})
    ctx.table(disp.reset_index(drop=True), table_label, "Andel som mener kvantitative og kvalitative mål virker "
              f"positivt og negativt, per side ved arbeidet ({caption_n(gt.n)})", csv_df=csv.reset_index(drop=True))


def goal_types(ctx: Context, label: str = GOAL_FIG, table_label: str = GOAL_TABLE) -> GoalTypes:
    gt = goal_type_shares(ctx, label)
    goal_types_figure(ctx, gt, label, table_label)
    return gt


# --- 4.2.4.5 competition ---------------------------------------------------------------------
COMP_FIG = "fig-konkurranse"
COMP_ALL, COMP_LEAD = "Alle roller: andel (%)", "Ledere: andel (%)"


@dataclass
class Competition:
    by_unit: Ranking                 # unit key -> share mye/svært mye, all roles
    leaders_by_unit: Ranking         # unit key -> share among leaders
    leader: float
    employee: float
    chart_order: list                # unit labels, top first, as drawn
    roles: pd.DataFrame              # index role key: n, share (leaders and employees)

    def leaders_above(self) -> bool | None:
        return None if missing(self.leader) or missing(self.employee) else self.leader > self.employee

    def unit_values(self, leaders: bool = False) -> dict:
        """Unit label → share in percent, as the figure's table shows it."""
        r = self.leaders_by_unit if leaders else self.by_unit
        return shown({r.label(k): r.values[k] for k in r.keys})


def _wide_competition(all_roles: pd.DataFrame, leaders: pd.DataFrame, units: dict, order: list) -> pd.DataFrame:
    """One row per unit type (the chart's rows): all roles and leaders side by side."""
    a, l_ = all_roles.set_index("unit_type"), leaders.set_index("unit_type")
    keys = [k for k in order if k in a.index or k in l_.index]
    out = pd.DataFrame({"Enhetstype": [units[k] for k in keys]})
    for name, part in (("Alle roller", a), ("Ledere", l_)):
        p = part.reindex(keys)
        out[f"{name}: andel"] = pct_cells(p["share"])
        out[f"{name}: antall svar"] = pd.array(p["n"].round(), dtype="Int64")
        out[f"{name}: 95 % KI fra"] = pct_cells(p["lo"])
        out[f"{name}: 95 % KI til"] = pct_cells(p["hi"])
    return out


def competition(ctx: Context, label: str = COMP_FIG) -> Competition:
    """Share with much competition per unit type: all roles (the ranking) and leaders; by role."""
    cb = ctx.codebook
    df = ctx.survey()
    units = {k: u.label for k, u in cb.unit_types.items()}
    all_roles = gated_group_shares(ctx, f"{ctx.name}/{label}-alle", df, "competition", HIGH, "unit_type")
    # Leaders only beside all roles: a third role bar per unit would let a reader subtract their way
    # to the small remaining group (tillitsvalgte and verneombud in each unit).
    leaders_df = df[df["role"] == "leder"]
    by_role = (gated_group_shares(ctx, f"{ctx.name}/{label}-ledere", leaders_df, "competition", HIGH,
                                  ["unit_type", "role"]) if len(leaders_df)  # an edition may have none
               else pd.DataFrame(columns=[*all_roles.columns, "role"]))
    ranking = Ranking.of(all_roles.set_index("unit_type")["share"].reindex(list(units)), units)
    leaders = by_role[by_role["role"] == "leder"].set_index("unit_type")["share"].reindex(list(units))
    two = df[df["role"].isin(["leder", "medarbeider"])]
    roles = (gated_group_shares(ctx, f"{ctx.name}/tbl-konkurranse-rolle", two, "competition", HIGH, "role")
             .set_index("role") if len(two)  # an edition of tillitsvalgte and verneombud has neither
             else pd.DataFrame(columns=["n", "share"], dtype=float))
    hue = {"alle": "Alle roller", "leder": "Ledere"}
    plot_df = pd.concat([all_roles.assign(role="alle"), by_role], ignore_index=True)
    plot_df["Enhetstype"] = plot_df["unit_type"].map(units)
    plot_df["Rolle"] = plot_df["role"].map(hue)
    keys = ranking.keys + list(ranking.suppressed)
    order = [units[k] for k in keys]
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
               data=_wide_competition(all_roles, by_role[by_role["role"] == "leder"], units, keys))
    return Competition(ranking, Ranking.of(leaders, units), float(roles["share"].get("leder", float("nan"))),
                       float(roles["share"].get("medarbeider", float("nan"))), order, roles[["n", "share"]])


def competition_role_table(ctx: Context, c: Competition, label: str = "tbl-konkurranse-rolle") -> None:
    """Leaders and employees: the share with much competition (the comparison the prose makes)."""
    roles = [r for r in ("leder", "medarbeider") if r in c.roles.index]
    t = c.roles.loc[roles]
    disp = pd.DataFrame({"Rolle": [ctx.codebook.roles[r] for r in roles],
                         "Mye eller svært mye konkurranse": [fmt.pct(v) for v in t["share"]],
                         "Antall svar": [fmt.num(v) for v in t["n"]]})
    ctx.table(disp, label, "Andel som opplever mye eller svært mye konkurranse med andre enheter, ledere og "
              f"medarbeidere ({caption_n(t['n'].sum(min_count=1))})",
              csv_df=t.reset_index()[["role", "share", "n"]])


# --- 4.2.4.6 results, goal setting and dialogue ----------------------------------------------
RESULTS_UNIT_TABLE = "tbl-resultatbruk-enhet"
RESULTS_UNIT_COL = "I stor eller svært stor grad"


@dataclass
class ResultsUse:
    items: pd.DataFrame             # index item: low, high, n (all respondents)
    by_unit: Ranking                # unit key -> share «stor/svært stor grad» on results_use

    def unit_values(self) -> dict:
        return shown({self.by_unit.label(k): self.by_unit.values[k] for k in self.by_unit.keys})


def results_use(ctx: Context, label: str = "fig-resultatdialog") -> ResultsUse:
    cb = ctx.codebook
    df = ctx.survey()
    items = ["results_use", "goal_involvement", "dialogue_upper"]
    counts = tables.distribution(df, items, cb)
    sh = _diverging_rows(ctx, f"{ctx.name}/{label}", counts, "item")
    sh["low"], sh["high"] = sh[1] + sh[2], sh[4] + sh[5]
    rows = sh.rename(index=lambda i: cb.items[i].label)
    fig = _likert(ctx, rows, "grad5")
    ctx.figure(fig, label, "Bruk av resultater, involvering når målene settes, og dialogen med overliggende nivå, andel "
               f"av alle svar ({caption_n(counts['n'].max())})",
               "Liggende stolper for tre spørsmål på skalaen fra i svært liten til i svært stor grad, fra lyst "
               "(liten grad) til mørkt (stor grad): resultatene brukes til læring, involvering i målsettingen og "
               "dialogen om resultater med overliggende nivå.",
               data=rows.reset_index(names="item")[["item", 1, 2, 3, 4, 5, DK, "n"]].rename(columns=str))
    units = {k: u.label for k, u in cb.unit_types.items()}
    g = gated_group_shares(ctx, f"{ctx.name}/{RESULTS_UNIT_TABLE}", df, "results_use", HIGH, "unit_type")
    ranking = Ranking.of(g.set_index("unit_type")["share"].reindex(list(units)), units)
    keys = ranking.keys + list(ranking.suppressed)
    t = g.set_index("unit_type").reindex(keys)
    ctx.table(pd.DataFrame({"Enhetstype": [units[k] for k in keys],
                            RESULTS_UNIT_COL: [fmt.pct(v) for v in t["share"]],
                            "Antall svar": [fmt.num(v) for v in t["n"]]}),
              RESULTS_UNIT_TABLE, "Andel som svarer at resultatene i stor eller svært stor grad brukes til læring og "
              f"forbedring, etter enhetstype ({caption_n(t['n'].sum(min_count=1))})",
              csv_df=t.reset_index()[["unit_type", "share", "lo", "hi", "n"]])
    return ResultsUse(sh[["low", "high", "n"]], ranking)


# --- 4.2.4.7 municipal and state steering ----------------------------------------------------
MUNI_FIG, MUNI_TABLE = "fig-kommunal-statlig", "tbl-malkonflikt"
MUNI_SHARE = "Andel av dem som svarte ja eller nei"


@dataclass
class Municipal:
    means: pd.Series                # var -> mean (1–5), NaN when suppressed
    shares: pd.DataFrame            # var -> positive, negative
    yes: float                      # goal conflict, of those who answered yes or no
    no: float
    n: float
    rows: pd.DataFrame              # index var: 1..5, DK, n (the figure's rows)
    labels: dict                    # var -> item label

    def difference(self) -> float:
        return float(self.means["steer_municipal"] - self.means["steer_state"])

    def mean_values(self) -> dict:
        return {self.labels[v]: float(m) for v, m in self.means.items()}

    def yes_no_values(self) -> dict:
        return shown({"Ja": self.yes, "Nei": self.no})


FILTER = {"role": ["leder"], "unit_type": ["nav_kontor"]}


def municipal_shares(ctx: Context, label: str = MUNI_FIG) -> Municipal:
    """Kommunal and statlig styring among NAV-kontor leaders, and the goal conflict, gated."""
    cb = ctx.codebook
    sub = subset(ctx.survey(), FILTER)
    items = ["steer_municipal", "steer_state"]
    counts = tables.distribution(sub, items, cb)
    sh = _diverging_rows(ctx, f"{ctx.name}/{label}", counts, "item")
    means = pd.concat([tables.mean(sub, v, cb=cb).assign(item=v) for v in items]).set_index("item")
    gm = ctx.gate.means(f"{ctx.name}/{label}-snitt", means[["n", "mean", "lo", "hi"]]).values
    ctx.gate.write_log()
    # Those who answered yes or no: "Vet ikke" left out by tables.share, not by filtering the
    # leaders on their answer (a filter on answers makes the row's group unknown to the audit).
    yes_no = gated_group_shares(ctx, f"{ctx.name}/{MUNI_TABLE}", sub.assign(alle="alle"),
                                "goal_conflict", [1], "alle", dont_know="exclude")
    yes = float(yes_no["share"].iloc[0]) if len(yes_no) else float("nan")
    n = float(yes_no["n"].iloc[0]) if len(yes_no) else float("nan")
    shares = pd.DataFrame({"positive": sh[4] + sh[5], "negative": sh[1] + sh[2]})
    return Municipal(gm["mean"], shares, yes, 1 - yes, n, sh, {i: cb.items[i].label for i in items})


def municipal_figure(ctx: Context, mu: Municipal, label: str = MUNI_FIG) -> None:
    rows = mu.rows.rename(index=mu.labels)
    fig = _likert(ctx, rows, "effekt5")
    data = rows.reset_index(names="item")[["item", 1, 2, 3, 4, 5, DK, "n"]].rename(columns=str)
    data["mean"] = [mu.means.get(v, float("nan")) for v in mu.rows.index]
    ctx.figure(fig, label, "Hvordan kommunal og statlig styring påvirker handlingsrommet, ledere på NAV-kontor "
               f"({caption_n(mu.rows['n'].max())})", "To liggende stolper, kommunal og statlig styring, med negative "
               "svar mot venstre og positive mot høyre.", data=data)
    disp = pd.DataFrame({"Svar": ["Ja", "Nei"], MUNI_SHARE: [fmt.pct(mu.yes), fmt.pct(mu.no)]})
    ctx.table(disp, MUNI_TABLE, "Opplever du en målkonflikt mellom statlig og kommunal styring? Ledere på "
              f"NAV-kontor som svarte ja eller nei ({caption_n(mu.n)})",
              csv_df=pd.DataFrame({"Svar": ["Ja", "Nei"], "share": [mu.yes, mu.no]}),
              note=None if not missing(mu.yes) else "Andelene er prikket: for få svar.")


def municipal_vs_state(ctx: Context, label: str = MUNI_FIG) -> Municipal:
    mu = municipal_shares(ctx, label)
    municipal_figure(ctx, mu, label)
    return mu


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
