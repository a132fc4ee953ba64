"""One function per figure or table of the book.

Each takes the notebook context, computes aggregates from processed data, passes them
through the disclosure gate, shows the figure/table (with caption, alt text, provenance and
CSV) and returns the numbers the chapter's prose needs. Notebooks stay thin: they call these
and narrate.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import fmt, plots, tables
from .notebook import Context
from .tables import DK

HIGH = [4, 5]
LOW = [1, 2]


# --- helpers ------------------------------------------------------------------------------
def _gated_shares(ctx: Context, table_id: str, counts: pd.DataFrame, index_col: str,
                  total_row: bool = False) -> pd.DataFrame:
    """Shares of all answers per row, after the gate; suppressed rows come back as NaN."""
    frame = counts.set_index(index_col)[[1, 2, 3, 4, 5, DK]]
    gated = ctx.gate.shares(table_id, frame, total_row=total_row)
    ctx.gate.write_log()
    out = gated.values.copy()
    out.index.name = index_col
    return out


def _gated_means(ctx: Context, table_id: str, frame: pd.DataFrame, index_col: str) -> pd.DataFrame:
    values = frame.set_index(index_col)[["n", "mean", "lo", "hi"]]
    gated = ctx.gate.means(table_id, values)
    ctx.gate.write_log()
    return gated.values.reset_index()


def _gated_share_rows(ctx: Context, table_id: str, frame: pd.DataFrame, index_cols: list[str]) -> pd.DataFrame:
    """Gate a [*index_cols, k, n, share, lo, hi] frame (share of a group answering X)."""
    values = frame.set_index(index_cols)[["n", "share", "lo", "hi"]]
    gated = ctx.gate.means(table_id, values)
    ctx.gate.write_log()
    return gated.values.reset_index()


GROUP_WORDS = {"unit_type": "enhetstype", "role": "rolle", "line": "linje"}


def _caption_n(n: int) -> str:
    return fmt.n(int(n))


def _unit_label(ctx: Context, key: str) -> str:
    return ctx.codebook.unit_types[key].label if key in ctx.codebook.unit_types else str(key)


def _display_shares(df: pd.DataFrame, label_col: str, label_title: str, scale_short: dict[int, str],
                    decimals: int = 0) -> pd.DataFrame:
    out = pd.DataFrame({label_title: df[label_col].astype(str)})
    for code in [1, 2, 3, 4, 5]:
        out[scale_short[code]] = [fmt.pct(v, decimals) for v in df[code]]
    out["Vet ikke"] = [fmt.pct(v, decimals) for v in df[DK]]
    out["n"] = [fmt.num(v) for v in df["n"]]
    return out


# --- the 13 factors of handlingsrom -------------------------------------------------------
def _affects_codes() -> list[int]:
    """Which answers count as "affects handlingsrom" when ranking the factors: defined once, in
    params/published.yml, for the ledger and the chapters alike."""
    from . import ledger

    return list(ledger.load_published()["definitions"]["affects"]["codes"])


@dataclass
class FactorResult:
    ranked: pd.DataFrame            # one row per factor: item, label, shares, affects, net, rank
    n: int
    by_item: dict = field(default_factory=dict)

    def row(self, item: str) -> pd.Series:
        return self.ranked.set_index("item").loc[item]


def factor_overview(ctx: Context, label: str = "fig-faktorer", show_table: bool = True,
                    table_label: str = "tbl-faktorer") -> FactorResult:
    """The 13 factors as diverging bars sorted by net effect, "Vet ikke" apart, + a ranking table."""
    cb = ctx.codebook
    df = ctx.survey()
    counts = tables.distribution(df, cb.factors, cb)
    sh = _gated_shares(ctx, f"{ctx.name}/{label}", counts.assign(label=counts["label"]), "label")
    sh = sh.join(counts.set_index("label")[["item"]])
    scale = cb.scales["effekt5"]
    plot_df = sh.copy()
    n_all = int(counts["n"].max())
    fig = plots.diverging(plot_df[[1, 2, 3, 4, 5, DK, "n"]], scale.short)
    ranked = tables.rank_factors(sh.reset_index(), _affects_codes())
    top = ranked.iloc[0]
    alt = (f"Liggende stolper for {len(ranked)} forhold som påvirker handlingsrommet, sortert etter "
           f"nettoeffekt. {top['label']} påvirker flest ({fmt.pct(top['affects'])} svarer positivt eller "
           f"negativt). Andelen som svarer Vet ikke vises i et eget felt til høyre.")
    ctx.figure(fig, label, f"Hvordan {fmt.number_word(len(ranked))} forhold påvirker handlingsrommet, "
               f"andel av alle svar ({_caption_n(n_all)})", alt,
               data=sh.reset_index()[["label", 1, 2, 3, 4, 5, DK, "n"]].rename(columns=str))
    if show_table:
        disp = pd.DataFrame({
            "Plass": ranked["rank"].astype(int).astype(str),
            "Forhold": ranked["label"],
            "Påvirker (pos. eller neg.)": [fmt.pct(v, 1) for v in ranked["affects"]],
            "Positivt": [fmt.pct(v, 1) for v in ranked["positive"]],
            "Negativt": [fmt.pct(v, 1) for v in ranked["negative"]],
            "Vet ikke": [fmt.pct(v, 1) for v in ranked[DK]],
            "n": [fmt.num(v) for v in ranked["n"]],
        })
        csv = ranked[["rank", "item", "label", "affects", "positive", "negative", DK, "n"]].rename(columns=str)
        ctx.table(disp, table_label, "Forholdene rangert etter hvor mange som sier at de påvirker "
                  f"handlingsrommet, positivt eller negativt ({_caption_n(n_all)})", csv_df=csv)
    return FactorResult(ranked=ranked, n=n_all)


def exact_share(ctx: Context, var: str, codes: list[int], filt: dict | None = None) -> tuple[int, int, float]:
    """(k, n, share) of all answers (Vet ikke in the denominator) — for two-decimal figures."""
    df = ctx.survey()
    if filt:
        for col, values in filt.items():
            df = df[df[col].isin(values)]
    res = tables.share(df, var, codes)
    k, n = int(res["k"].iloc[0]), int(res["n"].iloc[0])
    if n < ctx.min_cell:
        return k, n, float("nan")
    return k, n, k / n


# --- one item by group (diverging) -------------------------------------------------------
@dataclass
class GroupShares:
    shares: pd.DataFrame       # index = group label; columns 1..5, Vet ikke, n
    keys: dict                 # label -> key
    n: int


def item_by_group(ctx: Context, var: str, by: str, label: str, caption: str, *,
                  filt: dict | None = None, sort: bool = True, title_group: str = "Gruppe") -> GroupShares:
    cb = ctx.codebook
    df = ctx.survey()
    if filt:
        for col, values in filt.items():
            df = df[df[col].isin(values)]
    keyed = tables.distribution(df, [var], cb, by=by)
    counts = tables.label_groups(keyed, cb, cols=(by,))
    key_of = dict(zip(counts[by], keyed[by]))
    sh = _gated_shares(ctx, f"{ctx.name}/{label}", counts, by)
    scale = cb.scale_of(var)
    n_all = int(counts["n"].sum())
    fig = plots.diverging(sh[[1, 2, 3, 4, 5, DK, "n"]], scale.short, sort=sort)
    high = (sh[4] + sh[5]).dropna()
    hi_label = high.idxmax() if len(high) else "–"
    lo_label = high.idxmin() if len(high) else "–"
    alt = (f"Liggende stolper per {title_group.lower()} for spørsmålet «{cb.items[var].text}». Høyest andel i de "
           f"to øverste kategoriene: {hi_label} ({fmt.pct(high.max())}); lavest: {lo_label} ({fmt.pct(high.min())}).")
    csv = sh.reset_index().rename(columns=str)
    ctx.figure(fig, label, f"{caption} ({_caption_n(n_all)})", alt, data=csv)
    return GroupShares(shares=sh, keys=key_of, n=n_all)


# --- share in top categories by group (bars) ----------------------------------------------
def share_by_group(ctx: Context, var: str, codes: list[int], by: str, label: str, caption: str, *,
                   hue: str | None = None, filt: dict | None = None, xlabel: str = "Andel",
                   sort: bool = True) -> pd.DataFrame:
    cb = ctx.codebook
    df = ctx.survey()
    if filt:
        for col, values in filt.items():
            df = df[df[col].isin(values)]
    groups = [by] + ([hue] if hue else [])
    res = tables.share(df, var, codes, by=groups)
    res = tables.label_groups(res, cb, cols=tuple(groups))
    gated = _gated_share_rows(ctx, f"{ctx.name}/{label}", res, groups)
    if sort:
        order_vals = gated.groupby(by)["share"].max().sort_values(ascending=False)
        order = list(order_vals.index)
    else:
        order = list(dict.fromkeys(gated[by]))
    fig = plots.share_bars(gated, by, "share", "n", hue_col=hue, lo_col="lo", hi_col="hi",
                           xlabel=xlabel, order=order)
    top = gated.dropna(subset=["share"]).sort_values("share", ascending=False)
    alt = (f"Stolper med andelen som svarer {', '.join(cb.scale_of(var).labels[c].lower() for c in codes)} "
           f"per {GROUP_WORDS.get(by, by)}" + (f" og {GROUP_WORDS.get(hue, hue)}" if hue else "") +
           (f". Høyest: {top.iloc[0][by]} ({fmt.pct(top.iloc[0]['share'])})." if len(top) else "."))
    ctx.figure(fig, label, f"{caption} ({_caption_n(int(res['n'].sum()))})", alt,
               data=gated.rename(columns=str))
    return gated


# --- means by group ----------------------------------------------------------------------
def means_by_group(ctx: Context, items: list[str], by: str, label: str, caption: str, *,
                   filt: dict | None = None, item_as_row: bool = True) -> pd.DataFrame:
    cb = ctx.codebook
    df = ctx.survey()
    if filt:
        for col, values in filt.items():
            df = df[df[col].isin(values)]
    frames = []
    for item in items:
        m = tables.mean(df, item, by=by, cb=cb)
        m.insert(0, "item", cb.items[item].label)
        m.insert(1, "var", item)
        frames.append(m)
    res = tables.label_groups(pd.concat(frames, ignore_index=True), cb, cols=(by,))
    res["row"] = res["item"] + " – " + res[by].astype(str)
    gated = _gated_means(ctx, f"{ctx.name}/{label}", res[["row", "n", "mean", "lo", "hi"]], "row")
    gated = gated.merge(res[["row", "item", "var", by, "dont_know"]], on="row")
    if item_as_row:
        fig = plots.mean_dots(gated, "item", "mean", "lo", "hi", hue_col=by)
    else:
        fig = plots.mean_dots(gated, by, "mean", "lo", "hi", hue_col="item")
    alt = ("Punkter med gjennomsnitt og 95 prosents konfidensintervall for "
           + fmt.listing([cb.items[i].label.lower() for i in items]) + f", fordelt på {GROUP_WORDS.get(by, by)}.")
    ctx.figure(fig, label, f"{caption} ({_caption_n(int(res.groupby('item')['n'].sum().max()))})", alt,
               data=gated.rename(columns=str))
    return gated


# --- quantitative vs qualitative goals ---------------------------------------------------
def goal_types(ctx: Context, label: str = "fig-maltyper", table_label: str = "tbl-maltyper") -> pd.DataFrame:
    cb = ctx.codebook
    df = ctx.survey()
    rows = []
    for gkey, gspec in cb.goal_types.items():
        items = [cb.goal_item(gkey, a) for a in cb.goal_aspects]
        counts = tables.distribution(df, items, cb)
        counts["row"] = [f"{gspec['label']}: {cb.goal_aspects[cb.items[i].extra['aspect']]}" for i in items]
        counts["goal_type"] = gkey
        counts["aspect"] = [cb.items[i].extra["aspect"] for i in items]
        rows.append(counts)
    counts = pd.concat(rows, ignore_index=True)
    sh = _gated_shares(ctx, f"{ctx.name}/{label}", counts, "row")
    sh = sh.join(counts.set_index("row")[["goal_type", "aspect"]])
    scale = cb.scales["effekt5"]
    # Order: aspect by aspect, quantitative then qualitative, so pairs stand together.
    order = [r for a in cb.goal_aspects for r in sh.index if sh.loc[r, "aspect"] == a]
    fig = plots.diverging(sh.loc[list(reversed(order)), [1, 2, 3, 4, 5, DK, "n"]], scale.short, sort=False)
    ctx.figure(fig, label, f"Hvordan kvantitative og kvalitative mål påvirker sider ved arbeidet, andel av "
               f"alle svar ({_caption_n(int(counts['n'].max()))})",
               "Liggende stolper parvis for fem sider ved arbeidet, kvantitative og kvalitative mål over "
               "hverandre. Kvalitative mål har større positive andeler enn kvantitative på hver side.",
               data=sh.reset_index().rename(columns=str))
    sh["positive"] = sh[4] + sh[5]
    sh["negative"] = sh[1] + sh[2]
    wide = sh.reset_index().pivot(index="aspect", columns="goal_type", values=["positive", "negative"])
    disp = pd.DataFrame({
        "Side ved arbeidet": [cb.goal_aspects[a] for a in wide.index],
        "Kvantitative: positivt": [fmt.pct(v) for v in wide[("positive", "kvantitativ")]],
        "Kvantitative: negativt": [fmt.pct(v) for v in wide[("negative", "kvantitativ")]],
        "Kvalitative: positivt": [fmt.pct(v) for v in wide[("positive", "kvalitativ")]],
        "Kvalitative: negativt": [fmt.pct(v) for v in wide[("negative", "kvalitativ")]],
    })
    csv = wide.copy()
    csv.columns = [f"{a}_{b}" for a, b in csv.columns]
    ctx.table(disp, table_label, "Andel som mener kvantitative og kvalitative mål virker positivt og negativt, "
              f"per side ved arbeidet ({_caption_n(int(counts['n'].max()))})", csv_df=csv.reset_index())
    return sh


# --- response profile and exclusion flow -------------------------------------------------
def response_profile(ctx: Context, label: str = "tbl-svarprofil") -> pd.DataFrame:
    """Respondents by unit type × role, with totals and complementary suppression."""
    cb = ctx.codebook
    df = ctx.survey()
    counts = pd.crosstab(df["unit_type"], df["role"])
    counts = counts.reindex(index=[k for k in cb.unit_types if k in counts.index],
                            columns=[k for k in cb.roles if k in counts.columns], fill_value=0)
    counts.index = [cb.unit_types[k].label for k in counts.index]
    counts.columns = [cb.roles[k] for k in counts.columns]
    gated = ctx.gate.counts(f"{ctx.name}/{label}", counts, totals=True)
    ctx.gate.write_log()
    disp = gated.display()
    disp = disp.map(lambda v: v if isinstance(v, str) else fmt.num(v))
    disp.insert(0, "Enhetstype", disp.index)
    note = gated.footnote or None
    csv = gated.values.reset_index().rename(columns={"index": "enhetstype"})
    ctx.table(disp.reset_index(drop=True), label,
              f"Respondenter etter enhetstype og rolle ({_caption_n(len(df))})", csv_df=csv, note=note)
    return gated.values


def exclusion_flow(ctx: Context, label: str = "tbl-rensing") -> pd.DataFrame:
    flow = ctx.exclusion_flow()
    disp = pd.DataFrame({
        "Steg": flow["step"].astype(str),
        "Regel": flow["rule"],
        "Fjernet": [fmt.num(v) for v in flow["removed"]],
        "Rettet": [fmt.num(v) if v else "" for v in flow.get("changed", pd.Series(0, index=flow.index))],
        "Igjen": [fmt.num(v) for v in flow["remaining"]],
    })
    ctx.table(disp, label, "Fra eksport til analysegrunnlag: rader fjernet av hver regel", csv_df=flow)
    return flow


# --- MD-brev 2022 --------------------------------------------------------------------------
def md_letters(ctx: Context) -> dict:
    cb = ctx.codebook
    md = ctx.md_letters()
    senders = cb.md_letters["senders"]
    cols = cb.md_letters["columns"]
    out: dict = {}
    steering = md[md["steering"]]
    per_sender = steering.groupby("sender", observed=True).size().reindex(list(senders))
    all_per_sender = md.groupby("sender", observed=True).size().reindex(list(senders))
    new_share = md.assign(new=md["source"] == "ny").groupby("sender", observed=True)["new"].mean().reindex(list(senders))
    out["steering"] = per_sender
    out["total"] = all_per_sender
    out["new_share"] = new_share
    disp = pd.DataFrame({
        "Avsender": [senders[s]["label"] for s in senders],
        "Mottaker": [senders[s]["recipient_line"] for s in senders],
        "Styrende mål/føringer": [fmt.num(v) for v in per_sender],
        "Alle mål/føringer": [fmt.num(v) for v in all_per_sender],
        "Andel «nye» føringer": [fmt.pct(v) for v in new_share],
    })
    csv = pd.DataFrame({"sender": list(senders), "steering": per_sender.to_numpy(),
                        "all": all_per_sender.to_numpy(), "new_share": new_share.to_numpy()})
    ctx.table(disp, "tbl-mdbrev", "Mål og føringer i MD-brevene for 2022, etter avsender "
              f"({_caption_n(len(md))} mål/føringer)", csv_df=csv)
    _md_scope_figure(ctx, senders, per_sender, all_per_sender, new_share)
    # Result chain, concreteness and focus among steering goals, by sender.
    long = []
    for dim, title in [("result_chain", "Resultatkjede"), ("concreteness", "Konkretisering"), ("focus", "Fokus")]:
        values = cols[dim]["values"]
        tab = pd.crosstab(steering["sender"], steering[dim], normalize="index").reindex(
            index=list(senders), columns=list(values), fill_value=0)
        for s in tab.index:
            for v in tab.columns:
                long.append({"dimension": title, "sender": senders[s]["short"],
                             "category": values[v], "share": float(tab.loc[s, v]), "key": v, "sender_key": s})
        out[dim] = tab
    long = pd.DataFrame(long)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(11.5, 4.0), sharey=True)
    for ax, (dim, sub) in zip(axes, long.groupby("dimension", sort=False)):
        piv = sub.pivot(index="category", columns="sender", values="share")
        piv = piv.reindex(list(dict.fromkeys(sub["category"])))
        piv.columns.name = None
        piv.plot(kind="bar", ax=ax, color=plots.QUALITATIVE[:3], width=0.8, legend=ax is axes[0])
        if ax is axes[0]:
            ax.legend(title=None)
        ax.set_title(dim, loc="left")
        ax.set_xlabel("")
        ax.yaxis.set_major_formatter(fmt.percent_formatter())
        plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    axes[0].set_ylabel("Andel av styrende mål/føringer")
    fig.tight_layout()
    ctx.figure(fig, "fig-mdbrev", "Styrende mål og føringer i MD-brevene 2022 etter plass i resultatkjeden, "
               f"konkretisering og fokus, per avsender ({_caption_n(len(steering))} styrende mål/føringer)",
               "Tre stolpediagram for ATA, YA og ØSA: resultatmål dominerer, aktivitetsmål er vanligere hos ATA "
               "og ØSA enn hos YA, og YA har flest tallfestede mål.", data=long.drop(columns=["key"]))
    return out


def _md_scope_figure(ctx: Context, senders: dict, steering: pd.Series, total: pd.Series, new_share: pd.Series):
    """Goals per line (steering and not) with the share of «new» føringer marked."""
    import matplotlib.pyplot as plt

    short = {s: senders[s]["short"] for s in senders}
    labels = [f"{short[s]} → {senders[s]['recipient_line']}" for s in senders]
    fig, ax = plt.subplots(figsize=(9, 2.9))
    y = np.arange(len(senders))
    st = steering.to_numpy(dtype=float)
    rest = total.to_numpy(dtype=float) - st
    ax.barh(y, st, color=plots.QUALITATIVE[0], label="Styrende")
    ax.barh(y, rest, left=st, color=plots.QUALITATIVE[4], label="Ikke styrende")
    for yi, (a, t, ns) in enumerate(zip(st, total, new_share)):
        ax.text(a / 2, yi, fmt.num(a), ha="center", va="center", color="white", fontsize=8)
        ax.text(t + 4, yi, f"{fmt.pct(ns)} «nye»", va="center", fontsize=8, color=plots.TEXT)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, float(total.max()) * 1.25)
    ax.xaxis.set_major_formatter(fmt.number_formatter())
    ax.set_xlabel("Antall mål og føringer")
    ax.legend(loc="lower right")
    fig.tight_layout()
    top = new_share.idxmax()
    ctx.figure(fig, "fig-mdbrev-omfang", "Mål og føringer per linje i MD-brevene 2022, styrende og ikke styrende, "
               f"med andelen «nye» føringer ({_caption_n(int(total.sum()))} mål/føringer)",
               f"Liggende stolper per avsender: {short[top]} har flest «nye» føringer ({fmt.pct(new_share[top])}); "
               f"NAV fylke styres med {fmt.num(steering.iloc[0])} styrende mål og føringer.",
               data=pd.DataFrame({"sender": list(senders), "steering": st, "total": total.to_numpy(),
                                  "new_share": new_share.to_numpy()}))


# --- registers -----------------------------------------------------------------------------
def registers_overview(ctx: Context, label: str = "tbl-kilder") -> dict:
    """Counts from the insight work's registers (no rows published, only counts)."""
    facts: dict = {}
    kommuner = ctx.register("municipalities")
    facts["municipalities_asked"] = len(kommuner)
    facts["municipalities_sent"] = int(kommuner["sent"].sum())
    interviews = ctx.register("interviews")
    deep = interviews[interviews["kind"] == "dybde"]
    facts["interviews_deep"] = len(deep)
    facts["interviews_steering"] = int((interviews["kind"] == "styringsenhet").sum())
    facts["minutes_min"] = int(deep["duration_min"].min())
    facts["minutes_max"] = int(deep["duration_min"].max())
    packages = ctx.register("conversation_packages")
    facts["units_packages"] = int(packages["sent_challenges"].astype(bool).sum())
    facts["gathering"] = len(ctx.register("gathering"))
    facts["experience_projects"] = len(ctx.register("experience_base"))
    grants = ctx.register("grants")
    per_year = grants.groupby("year").size()
    facts["grant_initiatives_per_year"] = {str(k): int(v) for k, v in per_year.items()}
    facts["grant_initiatives_min_year"] = int(per_year.min()) if len(per_year) else 0
    facts["survey_n"] = len(ctx.survey())
    return facts


# --- facts about the report (params/report.yml) ------------------------------------------
def report_facts() -> dict:
    """params/report.yml: facts about the report and the process that are not survey data."""
    from .config import params_yaml

    return params_yaml("report.yml")


def goals_table(ctx: Context, label: str = "tbl-mal") -> pd.DataFrame:
    goals = report_facts()["goals"]
    disp = pd.DataFrame({"Mål": [f"Mål {k}" for k in goals], "Tema": [g["short"] for g in goals.values()],
                         "Innhold": [g["text"] for g in goals.values()]})
    ctx.table(disp, label, f"De {fmt.number_word(len(goals))} målene for tillitsreformen i NAV")
    return disp


def working_group_table(ctx: Context, label: str = "tbl-arbeidsgruppe") -> dict:
    rows = pd.DataFrame(report_facts()["working_group"])
    disp = pd.DataFrame({"Side": rows["side"], "Organisasjon": rows["organisation"],
                         "Medlemmer": [fmt.num(v) for v in rows["members"]]})
    by_side = rows.groupby("side", sort=False)["members"].sum().to_dict()
    ctx.table(disp, label, f"Den partssammensatte arbeidsgruppen ({fmt.num(rows['members'].sum())} medlemmer)",
              csv_df=rows)
    return {"total": int(rows["members"].sum()), "by_side": {k: int(v) for k, v in by_side.items()}}


def phases_table(ctx: Context, label: str = "tbl-faser") -> pd.DataFrame:
    rep = report_facts()
    phases = pd.DataFrame(rep["phases"])
    disp = pd.DataFrame({"Fase": phases["phase"], "Periode": phases["period"], "Leveranse": phases["delivery"]})
    ctx.table(disp, label, f"Arbeidet med tillitsreformen i {fmt.number_word(len(phases))} faser", csv_df=phases)
    if label == "tbl-faser":
        ms = pd.DataFrame(rep["milestones"])
        ctx.table(pd.DataFrame({"Når": ms["date"], "Hva": ms["event"]}), "tbl-milepaeler",
                  "Milepæler i arbeidet", csv_df=ms)
    return phases


def channels_table(ctx: Context, label: str = "tbl-kanaler") -> pd.DataFrame:
    ch = pd.DataFrame(report_facts()["channels"])
    ctx.table(pd.DataFrame({"Kanal": ch["channel"], "Brukt til": ch["purpose"]}), label,
              "Kanaler for kommunikasjon om reformen", csv_df=ch)
    return ch


def sources_table(ctx: Context, facts: dict, label: str = "tbl-kilder") -> pd.DataFrame:
    md = ctx.md_letters()
    scope = {
        "md_letters": f"{fmt.num(len(md))} mål/føringer i MD-brev; dokumenter fra "
                      f"{fmt.num(facts['municipalities_sent'])} av {fmt.num(facts['municipalities_asked'])} kommuner",
        "survey": f"{fmt.num(facts['survey_n'])} respondenter",
        "interviews": f"{fmt.num(facts['interviews_deep'])} dybdeintervjuer og "
                      f"{fmt.num(facts['interviews_steering'])} med styringsenheter",
        "conversation_packages": f"{fmt.num(facts['units_packages'])} enheter sendte inn utfordringer",
        "gathering": f"{fmt.num(facts['gathering'])} deltakere",
        "experience_base": f"{fmt.num(facts['experience_projects'])} prosjekter i Erfaringsbasen",
    }
    rows = report_facts()["sources"]
    disp = pd.DataFrame({"Kilde": [r["source"] for r in rows],
                         "Omfang": [scope.get(r["register"], "Oppsummert kunnskap") for r in rows]})
    ctx.table(disp, label, "Kildene i kunnskapsgrunnlaget og omfanget av dem")
    return disp


def references(ctx: Context, label: str = "tbl-referanser") -> pd.DataFrame:
    refs = report_facts()["references"]
    titles = {"kompetanse": "Lokal tjenesteutøvelse – kompetanse", "innovasjon": "Lokal tjenesteutvikling – innovasjon",
              "styring": "Mål- og resultatstyring"}
    rows = [{"Tema": titles.get(k, k), "Referanse": r} for k, lst in refs.items() for r in lst]
    disp = pd.DataFrame(rows)
    ctx.table(disp, label, f"Referanser ({fmt.num(len(disp))})")
    return disp


# --- summaries used in prose --------------------------------------------------------------
def trust_summary(ctx: Context) -> dict:
    """Trust hindrance among medarbeidere: shares low/high, and the unit types highest on high."""
    cb = ctx.codebook
    df = ctx.survey()
    emp = df[df["role"] == "medarbeider"]
    low = tables.share(emp, "trust_hindrance", LOW)
    high = tables.share(emp, "trust_hindrance", HIGH)
    by_unit = tables.share(emp, "trust_hindrance", HIGH, by="unit_type")
    gated = _gated_share_rows(ctx, f"{ctx.name}/tillit-enhet-andel", by_unit, ["unit_type"])
    gated = gated.dropna(subset=["share"]).sort_values("share", ascending=False)
    overall = float(high["share"].iloc[0])
    above = gated[gated["share"] > overall + 0.1]
    top = [cb.unit_types[k].label for k in above["unit_type"]][:3]
    text = fmt.listing([f"{cb.unit_types[k].label} ({fmt.pct(s)})" for k, s in zip(above["unit_type"], above["share"])])
    return {"low": float(low["share"].iloc[0]), "high": overall, "n": int(low["n"].iloc[0]),
            "top_units": top or ["ingen enhetstyper"], "units_text": text or "ingen enhetstyper skiller seg ut",
            "by_unit": gated}


def md_letters_summary(ctx: Context) -> dict:
    md = ctx.md_letters()
    return {"rows": len(md), "steering": int(md["steering"].sum())}


def md_letters_prose(res: dict) -> str:
    st, new = res["steering"], res["new_share"]
    chain, conc = res["result_chain"], res["concreteness"]
    return (
        f"NAV fylke styres med {fmt.num(st['ATA'])} styrende mål og føringer fra ATA, ytelseslinjen med "
        f"{fmt.num(st['YA'])} fra YA og økonomilinjen med {fmt.num(st['OSA'])} fra ØSA (@tbl-mdbrev). Brevene "
        f"inneholder i tillegg mål og føringer som ikke er styrende. ATA legger til flest «nye» føringer, som "
        f"verken kommer fra tildelingsbrevet eller et overliggende MD-brev: {fmt.pct(new['ATA'])} av føringene i "
        f"ATAs brev, mot {fmt.pct(new['YA'])} hos YA og {fmt.pct(new['OSA'])} hos ØSA (@fig-mdbrev-omfang).\n\n"
        f"Aktivitets- og innsatsmål utgjør {fmt.pct(chain.loc['ATA', 'aktivitet'])} av de styrende målene hos ATA og "
        f"{fmt.pct(chain.loc['OSA', 'aktivitet'])} hos ØSA, men {fmt.pct(chain.loc['YA', 'aktivitet'])} hos YA, som "
        f"i større grad styrer på resultater. Ytelseslinjen styres mest med tallfestede mål "
        f"({fmt.pct(conc.loc['YA', 'kvantitativ'])} hos YA), mens de fleste målene til ATA og ØSA er kvalitative "
        f"eller beskrivende (@fig-mdbrev)."
    )


def goal_types_summary(sh: pd.DataFrame, ctx: Context) -> dict:
    quant = sh[sh["goal_type"] == "kvantitativ"]
    neg = quant["negative"]
    worst = neg.idxmax()
    return {"aspects": len(quant), "neg_min": float(neg.min()), "neg_max": float(neg.max()),
            "neg_max_aspect": ctx.codebook.goal_aspects[quant.loc[worst, "aspect"]]}


def competition_summary(ctx: Context, comp: pd.DataFrame) -> dict:
    cb = ctx.codebook
    df = ctx.survey()
    by_unit = tables.share(df, "competition", HIGH, by="unit_type")
    g = _gated_share_rows(ctx, f"{ctx.name}/konkurranse-enhet", by_unit, ["unit_type"]).dropna(subset=["share"])
    g = g.sort_values("share", ascending=False)
    by_role = tables.share(df[df["role"].isin(["leder", "medarbeider"])], "competition", HIGH, by="role")
    r = _gated_share_rows(ctx, f"{ctx.name}/konkurranse-rolle", by_role, ["role"]).set_index("role")["share"]
    nks = comp[(comp["unit_type"] == cb.unit_types["nks"].label) & (comp["role"] == cb.roles["leder"])]
    return {"top": [cb.unit_types[k].label for k in g["unit_type"].head(4)],
            "bottom": [cb.unit_types[k].label for k in g["unit_type"].tail(2)],
            "leader": float(r.get("leder", np.nan)), "employee": float(r.get("medarbeider", np.nan)),
            "nks_leader": float(nks["share"].iloc[0]) if len(nks) else float("nan")}


def role_gaps(*frames: pd.DataFrame) -> dict:
    """{variable: {role label: mean}} from means_by_group results."""
    out: dict = {}
    for frame in frames:
        for _, row in frame.iterrows():
            out.setdefault(row["var"], {})[row["role"]] = row["mean"]
    return out


def local_development(ctx: Context) -> dict:
    cb = ctx.codebook
    eb = ctx.register("experience_base")
    grants = ctx.register("grants")
    per_line = eb.groupby("line", observed=True).size().rename("n").reset_index()
    per_line["label"] = per_line["line"].map(lambda k: cb.lines.get(k, k))
    per_line["share"] = per_line["n"] / per_line["n"].sum()
    per_line = per_line.sort_values("n", ascending=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 2.8))
    ax.barh(per_line["label"], per_line["n"], color=plots.QUALITATIVE[0])
    for y, v in enumerate(per_line["n"]):
        ax.text(v + 0.3, y, fmt.num(v), va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Antall prosjekter")
    ax.xaxis.set_major_formatter(fmt.number_formatter())
    fig.tight_layout()
    ctx.figure(fig, "fig-erfaringsbasen", f"Utviklingsprosjekter i Erfaringsbasen etter linje "
               f"({fmt.num(len(eb))} prosjekter)",
               f"Liggende stolper: {per_line.iloc[0]['label']} har flest prosjekter i Erfaringsbasen "
               f"({fmt.num(per_line.iloc[0]['n'])} av {fmt.num(len(eb))}).", data=per_line[["label", "n", "share"]])
    per_year = grants.groupby("year").size()
    ctx.table(pd.DataFrame({"År": [str(y) for y in per_year.index], "Initiativ": [fmt.num(v) for v in per_year]}),
              "tbl-tilskudd", "Lokale utviklingsinitiativ med tilskudd til sosiale tjenester i NAV-kontor, per år",
              csv_df=per_year.rename("initiatives").reset_index())
    return {"projects": len(eb), "main_line": per_line.iloc[0]["label"],
            "share_main_line": float(per_line.iloc[0]["share"]), "grants_min": int(per_year.min())}


def municipal_vs_state(ctx: Context) -> dict:
    cb = ctx.codebook
    filt = {"role": ["leder"], "unit_type": ["nav_kontor"]}
    gated = means_by_group(ctx, ["steer_municipal", "steer_state"], "role", "fig-kommunal-statlig",
                           "Hvordan kommunal og statlig styring påvirker handlingsrommet, ledere på NAV-kontor",
                           filt=filt, item_as_row=True)
    df = ctx.survey()
    sub = df[df["role"].isin(filt["role"]) & df["unit_type"].isin(filt["unit_type"])]
    counts = tables.distribution(sub, ["goal_conflict"], cb)
    scale = cb.scales["janei"]
    frame = counts.set_index("label")[[1, 2, DK]]
    g = ctx.gate.shares(f"{ctx.name}/tbl-malkonflikt", frame)
    ctx.gate.write_log()
    vals = g.values.iloc[0]
    answered = (vals[1] + vals[2])
    disp = pd.DataFrame({"Svar": [scale.labels[1], scale.labels[2], scale.dont_know_label],
                         "Andel": [fmt.pct(vals[1]), fmt.pct(vals[2]), fmt.pct(vals[DK])]})
    ctx.table(disp, "tbl-malkonflikt", "Opplever du en målkonflikt mellom statlig og kommunal styring? Ledere på "
              f"NAV-kontor ({fmt.n(int(vals['n']))})", csv_df=g.values.reset_index().rename(columns=str),
              note=g.footnote or None)
    means = gated.set_index("var")["mean"]
    return {"municipal": float(means["steer_municipal"]), "state": float(means["steer_state"]),
            "yes": float(vals[1] / answered) if answered else float("nan"),
            "no": float(vals[2] / answered) if answered else float("nan"), "n": int(vals["n"])}


def municipal_vs_state_prose(s: dict) -> str:
    return (
        f"Lederne på NAV-kontorene vurderer i snitt den kommunale styringen til {fmt.num(s['municipal'], 2)} og den "
        f"statlige til {fmt.num(s['state'], 2)} på en skala fra 1 (svært negativt) til 5 (svært positivt) "
        f"(@fig-kommunal-statlig): den kommunale styringen oppleves noe mer positiv for handlingsrommet. Av lederne "
        f"som tok stilling, svarer {fmt.pct(s['yes'])} at de opplever en målkonflikt mellom statlig og kommunal "
        f"styring, og {fmt.pct(s['no'])} at de ikke gjør det (@tbl-malkonflikt). Flere peker på at statlige "
        f"forventninger ikke står i forhold til de kommunale budsjettrammene."
    )


def findings_overview(ctx: Context, label: str = "tbl-hovedfunn") -> pd.DataFrame:
    """Headline findings per goal, each with one key number computed from the data."""
    goals = report_facts()["goals"]
    findings = report_facts()["headline_findings"]
    facts = registers_overview(ctx)
    k_kompetanse = exact_share(ctx, "f_kompetanse", HIGH)
    inv = tables.mean(ctx.survey()[ctx.survey()["role"].isin(["leder", "tillitsvalgt", "verneombud"])],
                      "involve_services", by="role", cb=ctx.codebook).set_index("role")["mean"]
    dist = tables.shares(tables.distribution(ctx.survey(), ctx.codebook.factors, ctx.codebook))
    ranked = tables.rank_factors(dist, _affects_codes())
    mor_rank = int(ranked.set_index("item").loc["f_mor", "rank"])
    trust = exact_share(ctx, "trust_hindrance", HIGH, {"role": ["medarbeider"]})
    key = {
        1: f"{fmt.pct(k_kompetanse[2], 2)} mener kompetansen styrker handlingsrommet",
        2: f"{fmt.num(facts['experience_projects'])} prosjekter i Erfaringsbasen",
        3: f"Involvering i tjenesteutvikling: ledere {fmt.num(inv['leder'], 1)}, tillitsvalgte "
           f"{fmt.num(inv['tillitsvalgt'], 1)} (skala 1–5)",
        4: f"Mål- og resultatstyring er nr. {mor_rank} av {len(ranked)} forhold",
        5: f"{fmt.pct(trust[2])} av medarbeiderne ser store tillitshindringer",
    }
    disp = pd.DataFrame({
        "Mål": [f"{k}. {goals[k]['short']}" for k in goals],
        "Hovedfunn": ["; ".join(findings[k]) for k in goals],
        "Nøkkeltall": [key[k] for k in goals],
    })
    ctx.table(disp, label, "Hovedfunn og nøkkeltall for hvert av de fem målene")
    return disp


# --- appendix ------------------------------------------------------------------------------
def compare_2017(ctx: Context, label: str = "fig-2017-2023") -> pd.DataFrame:
    """The items asked in both years: share in the top two categories, 2017 vs 2023.

    The 2017 microdata are not public; in the synthetic twin they are generated from documented
    assumptions (params/synthetic.yml), and the caption says so.
    """
    cb = ctx.codebook
    rows = []
    for year in (2017, 2023):
        df = ctx.survey(year)
        for item in cb.items_2017:
            res = tables.share(df, item, HIGH)
            rows.append({"year": str(year), "item": item, "label": cb.items[item].label,
                         **res.iloc[0][["k", "n", "share", "lo", "hi"]].to_dict()})
    long = pd.DataFrame(rows)
    gated = _gated_share_rows(ctx, f"{ctx.name}/{label}", long.assign(row=long["year"] + " " + long["item"]),
                              ["row"]).merge(long[["year", "label"]].assign(row=long["year"] + " " + long["item"]),
                                             on="row")
    assumed = ctx.is_synthetic
    year_label = {"2017": "2017 (antakelse)" if assumed else "2017", "2023": "2023"}
    gated["År"] = gated["year"].map(year_label)
    fig = plots.grouped_columns(gated, "label", "share", "År", ylabel="Andel positivt / i stor grad / mye",
                                order=[cb.items[i].label for i in cb.items_2017], rotate=30, width=11)
    n17 = len(ctx.survey(2017))
    note = (" 2017-tallene er genererte ut fra dokumenterte antakelser, fordi 2017-dataene ikke er publisert."
            if assumed else "")
    ctx.figure(fig, label, f"Spørsmål stilt både i 2017 og 2023: andel i de to øverste kategoriene "
               f"(2017: {fmt.n(n17)}; 2023: {fmt.n(len(ctx.survey()))}).{note}",
               "Grupperte søyler for hvert spørsmål som ble stilt begge år, med andelen i de to øverste "
               "svarkategoriene i 2017 og 2023 side om side.", data=gated[["year", "label", "n", "share"]])
    if assumed:
        ctx.prose("Sammenligningen med 2017 bygger i denne utgaven på genererte 2017-svar. Forskjellene "
                  "mellom årene er derfor modellens antakelser, ikke funn, og reproduksjonsregnskapet "
                  "fører dem som antakelser.")
    return gated


def data_method_prose(ctx: Context) -> str:
    from .config import params_yaml

    flow = ctx.exclusion_flow()
    src = ctx.data_source
    base = (f"Spørreundersøkelsen ble eksportert med {fmt.num(flow['remaining'].iloc[0])} rader. Rensingen "
            f"fjerner testsvar, avbrutte besvarelser og doble innsendinger etter faste regler i rekkefølge "
            f"(se @tbl-rensing i kapittel 3), og retter ulike skrivemåter av enhetstyper og roller etter "
            f"kodeboken. Igjen står {fmt.num(flow['remaining'].iloc[-1])} respondenter. Svaret «Vet ikke» "
            f"holdes utenfor gjennomsnitt og modeller, men telles og vises i figurene, og andeler regnes av "
            f"alle svar med «Vet ikke» i nevneren når ikke annet er sagt.")
    if not ctx.is_synthetic:
        return base + " Dataene er den reelle eksporten, lest inn etter kodeboken og `params/mapping.yml`."
    model = params_yaml("synthetic.yml")
    truth = model["outcomes"]["trust_hindrance"]["predictors"]
    coefs = fmt.listing([f"{ctx.codebook.items[k].raw.lower()} {fmt.signed(v, 2)}" for k, v in truth.items()])
    return base + (
        f"\n\nDenne utgaven bruker en syntetisk tvilling (generatorversjon {src.get('generator_version', '?')}, frø "
        f"{src.get('seed', '?')}). Svarene trekkes fra en latent variabel-modell med tilfeldige effekter for "
        f"hver enhet (standardavvik {fmt.num(model['outcomes']['trust_hindrance']['unit_sd'], 2)} på log-odds-skalaen), "
        f"effekter av rolle og enhetstype og eksplisitte koeffisienter fra erfaringer med styringen til "
        f"utfallene. For opplevde tillitshindringer er de sanne log-odds-koeffisientene per skalatrinn: "
        f"{coefs}. Deretter kalibreres utvalget eksakt til rapportens publiserte tall ved å flytte de "
        f"færreste respondentene nærmest skjæringspunktene, slik at modellens sammenhenger nesten ikke "
        f"påvirkes. Tvillingen har også det rot en ekte eksport har: testsvar, avbrutte og doble "
        f"besvarelser og ulike skrivemåter. Fritekstsvarene er genererte og forlater aldri `data/`."
    )


def disclosure_prose(ctx: Context) -> str:
    log_path = ctx.output_dir / "disclosure_log.csv"
    n_log = 0
    tables_hit = 0
    if log_path.is_file():
        log = pd.read_csv(log_path, dtype=str)
        n_log, tables_hit = len(log), log["table_id"].nunique()
    return (
        f"Hver tabell og figur passerer ett og samme prikkesteg. En celle som bygger på færre enn "
        f"{fmt.num(ctx.min_cell)} respondenter, vises ikke (markert med –*), og andeler og gjennomsnitt for en "
        f"så liten gruppe skjules også. Der en publisert sum ellers ville gjøre det mulig å regne ut en skjult "
        f"celle, skjules også den nest minste cellen i samme rad eller kolonne. Minstegrensen settes med "
        f"parameteren `min_cell` (streng modus hever den til minst 10). Ved bygging av denne utgaven var "
        f"{fmt.num(n_log)} {'celle' if n_log == 1 else 'celler'} i {fmt.num(tables_hit)} "
        f"{'tabell' if tables_hit == 1 else 'tabeller'} skjult så langt; hver skjuling er logget "
        f"med årsak i `outputs/disclosure_log.csv`. Ingen rader på respondentnivå og ingen fritekstsvar "
        f"skrives til utdataene."
    )


def ledger_section(ctx: Context, mode: str = "error", label: str = "tbl-regnskap") -> pd.DataFrame:
    from . import ledger

    table = ledger.compute_ledger(ctx.data_dir)
    disp = pd.DataFrame({
        "Kap.": table["section"], "Påstand": table["statement"], "Publisert": table["published"],
        "Beregnet": table["recomputed"], "Avvik": table["difference"],
        "": ["✓" if ok else "✗" for ok in table["ok"]],
    })
    targets = table[table["kind"] == "mål"]
    ctx.table(disp, label, f"Reproduksjonsregnskap: {fmt.num(int(targets['ok'].sum()))} av "
              f"{fmt.num(len(targets))} publiserte tall gjenskapt, pluss {fmt.num(len(table) - len(targets))} "
              "antakelser", csv_df=table)
    missed = ledger.check_ledger(table, mode=mode)
    if len(missed):
        ctx.prose(f"**{fmt.num(len(missed))} publiserte tall er ikke gjenskapt** (se ✗ i tabellen).")
    return table


# --- ordinal models ---------------------------------------------------------------------------
@dataclass
class ModelSet:
    fits: dict
    lr: dict
    brant: dict


def fit_models(ctx: Context, names: tuple[str, ...] = ("trust", "mor_effect", "goal_types")) -> ModelSet:
    """Fit the chapter's main models, their likelihood-ratio comparisons and Brant tests."""
    from . import ordinal

    spec = ordinal.load_models()
    df = ctx.survey()
    fits, lr, brant = {}, {}, {}
    for key, comp in spec.comparisons.items():
        if comp.full in names:
            test = ordinal.lr_test(comp.full, comp.restricted, df, models=spec, label=comp.label)
            lr[comp.full] = test
            fits[comp.full] = test.full_fit
    for name in names:
        if name not in fits:
            fits[name] = ordinal.fit_model(name, df)
        _check_levels(ctx, fits[name])
        brant[name] = ordinal.brant_test(fits[name])
    return ModelSet(fits, lr, brant)


def _check_levels(ctx: Context, fit) -> None:
    """Every category a model reports on must rest on at least min_cell respondents."""
    from .disclosure import DisclosureError

    d = fit.design
    for var in d.references:
        for col in d.terms[var]:
            n = int(d.X[col].sum())
            if n < ctx.min_cell:
                raise DisclosureError(
                    f"modell '{d.model}': nivået {d.level_labels.get(col, col)} av '{var}' bygger på {n} "
                    f"{d.unit} (< min_cell = {ctx.min_cell}); slå sammen nivåer i params/models.yml")


def model_table(ctx: Context, models: ModelSet, name: str, label: str) -> pd.DataFrame:
    from . import ordinal

    fit = models.fits[name]
    table = ordinal.odds_ratio_table(fit, formatted=True)
    raw = ordinal.odds_ratio_table(fit)
    s = fit.summary_stats()
    conv = "konvergert" if s["konvergert"] else "IKKE konvergert"
    note = (f"n = {fmt.num(s['n_brukt'])} ({fmt.num(s['n_utelatt'])} utelatt); {fmt.num(s['n_klynger'] or 0)} klynger; "
            f"McFaddens pseudo-R² {fmt.num(s['mcfadden_r2'], 3)}; AIC {fmt.num(s['aic'], 1)}; {conv} etter "
            f"{s['iterasjoner']} Newton-steg (største gradient {fmt.num(s['maks_gradient'] * 1e6, 2)}·10⁻⁶). "
            f"Standardfeil robuste for klynger ({fit.design.spec.cluster}). Terskler på den latente skalaen.")
    ctx.table(table, label, f"{fit.design.spec.label}: ordinal logistisk regresjon, oddsforhold med 95 % "
              f"konfidensintervall ({fmt.n(s['n_brukt'])})", csv_df=raw.drop(columns=["kolonne"]), note=note)
    return table


def model_prediction_figure(ctx: Context, models: ModelSet, name: str, by: str, label: str):
    import matplotlib.pyplot as plt

    from . import ordinal

    fit = models.fits[name]
    pp = ordinal.predicted_probabilities(fit, by)
    scale = ctx.codebook.scale_of(by)
    pp["etikett"] = pp["nivå"].map(lambda v: scale.short.get(int(v), str(v)) if str(v).isdigit() else str(v))
    fig, ax = plt.subplots(figsize=(9, 4.2))
    ordinal.plot_predicted_probabilities(pp, ax=ax)
    ax.legend(title=ctx.codebook.items[by].raw, frameon=False, fontsize="small", loc="upper right")
    fig.tight_layout()
    first, last = pp["etikett"].iloc[0], pp["etikett"].iloc[-1]
    top = pp["svar"].iloc[-1]
    p_first = pp[(pp["etikett"] == first) & (pp["svar"] == top)]["sannsynlighet"].iloc[0]
    p_last = pp[(pp["etikett"] == last) & (pp["svar"] == top)]["sannsynlighet"].iloc[0]
    alt = (f"Predikerte sannsynligheter for hvert svar på «{fit.design.outcome_label}» for ulike nivåer av "
           f"«{ctx.codebook.items[by].raw}». Sannsynligheten for «{top}» går fra {fmt.pct(p_first)} ved "
           f"«{first}» til {fmt.pct(p_last)} ved «{last}».")
    ctx.figure(fig, label, f"Predikert fordeling av svarene etter opplevd konkurranse, med 95 % intervaller "
               f"(modellen «{fit.design.spec.label}», {fmt.n(fit.design.n_used)})", alt,
               data=pp.drop(columns=["se"]).rename(columns=str))
    return pp


def model_prose(models: ModelSet, name: str) -> str:
    from . import ordinal

    return ordinal.describe(models.fits[name], models.brant.get(name), models.lr.get(name))


def goal_model_section(ctx: Context, models: ModelSet) -> None:
    model_table(ctx, models, "goal_types", "tbl-modell-maltyper")
    ctx.prose(model_prose(models, "goal_types"))
    brant = models.brant["goal_types"]
    if not brant.holds or brant.failed:
        cut = brant.cut_estimates
        cut = cut[cut["kolonne"].str.startswith("goal_type")]
        if len(cut):
            disp = pd.DataFrame({
                "Deling": cut["deling"], "Oddsforhold (95 % KI)": [
                    fmt.estimate_ci(o, lo, hi) for o, lo, hi in zip(cut["or"], cut["or_lav"], cut["or_hoy"])],
                "Felles oddsforhold": [fmt.num(np.exp(v), 2) for v in cut["po_estimat"]],
            })
            ctx.table(disp, "tbl-modell-maltyper-terskler",
                      "Kvalitative mot kvantitative mål: oddsforhold ved hver terskel (separate binære logiter)",
                      csv_df=cut.rename(columns=str))


def ordinal_method_prose(ctx: Context) -> str:
    from . import ordinal

    spec = ordinal.load_models()
    df = ctx.survey()
    main = ordinal.fit_model("trust", df)
    probit = ordinal.fit_model("trust_probit", df)
    ratio = (main.beta / probit.beta)[[c for c in main.beta.index if c in
                                      spec.get("trust").numeric]]
    return (
        "Modellene er kumulative logit-modeller med proporsjonale odds: sannsynligheten for å svare i "
        "kategori j eller lavere er F(c_j − xβ), der F er den logistiske fordelingen, c_1 < … < c_4 er "
        "terskler og x er forklaringsvariablene (rolle og enhetstype som dummyer, erfaringene med styringen "
        "som skårer 1–5). Modellen har ikke konstantledd; tersklene tar den rollen. Modellene er deklarert i "
        f"`params/models.yml` ({fmt.num(len(spec.models))} modeller, {fmt.num(len(spec.comparisons))} "
        "sammenligninger) og estimeres med statsmodels' OrderedModel med eksakt gradient og Hessian, til største "
        "absolutte gradient er under 10⁻⁶. Standardfeilene er robuste for klynger (enhet, og respondent i "
        "langformatmodellen for måltyper). Svaret «Vet ikke» og manglende svar holdes utenfor og telles.\n\n"
        "Antakelsen om proporsjonale odds testes med Brants test, som sammenligner estimatene fra separate "
        "binære logiter ved hver terskel. Probit-lenken brukes som følsomhetsanalyse: forholdet mellom "
        f"logit- og probit-koeffisientene for styringserfaringene ligger mellom {fmt.num(ratio.min(), 2)} og "
        f"{fmt.num(ratio.max(), 2)}, nær den forventede skalaforskjellen på omtrent 1,6–1,8, så konklusjonene "
        "avhenger ikke av lenkefunksjonen.\n\n"
        "Begrensninger: dataene er ett tverrsnitt, og modellene viser sammenhenger, ikke effekter. Opplevd "
        "konkurranse og tillitshindringer kan begge påvirkes av en tredje faktor, og svarene er selvrapporterte. "
        "Modellen antar at avstanden mellom svarkategoriene er lik for alle grupper (via felles terskler)."
    )


def codebook_table(ctx: Context, label: str = "tbl-kodebok") -> pd.DataFrame:
    """Every survey variable: question, scale, "Vet ikke" code, and the published figures
    (params/published.yml) that use it — derived, so the link lives in one place."""
    from . import ledger

    cb = ctx.codebook
    uses: dict[str, list[str]] = {}
    for target in ledger.load_published()["targets"]:
        for var in _target_vars(target.get("compute", {}), cb):
            uses.setdefault(var, []).append(target["section"])
    rows = []
    for name, var in cb.items.items():
        scale = cb.scales[var.scale]
        asked = "alle" if set(var.asked_of) == set(cb.roles) else fmt.listing(
            [cb.roles[r].lower() for r in var.asked_of])
        rows.append({"Variabel": name, "Spørsmål": var.text, "Skala": " / ".join(scale.labels.values()),
                     "Vet ikke": str(scale.dont_know_code), "Stilt til": asked,
                     "Publiserte tall (kap.)": ", ".join(sorted(set(uses.get(name, [])))) or "–"})
    disp = pd.DataFrame(rows)
    ctx.table(disp, label, f"Kodeboken: de {fmt.num(len(disp))} spørsmålene i undersøkelsen 2023, skala, "
              "kode for «Vet ikke» og hvilke publiserte tall de inngår i")
    return disp


def _target_vars(compute: dict, cb) -> set[str]:
    """Variables a published target's computation reads (nested compare specs included)."""
    out: set[str] = set()
    if not isinstance(compute, dict):
        return out
    if compute.get("var") in cb.items:
        out.add(compute["var"])
    if compute.get("vars") == "factors":
        out.update(cb.factors)
    for key in ("a", "b"):
        sub = compute.get(key)
        for spec in (sub if isinstance(sub, list) else [sub]):
            out |= _target_vars(spec, cb)
    return out
