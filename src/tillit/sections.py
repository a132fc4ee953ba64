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
    ranked = tables.rank_factors(sh.reset_index())
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
    counts = tables.distribution(df, [var], cb, by=by)
    counts = tables.label_groups(counts, cb, cols=(by,))
    key_of = dict(zip(tables.label_groups(tables.distribution(df, [var], cb, by=by), cb, cols=(by,))[by],
                      tables.distribution(df, [var], cb, by=by)[by]))
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
           f"per {by.replace('_', ' ')}" + (f" og {hue}" if hue else "") +
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
        frames.append(m)
    res = tables.label_groups(pd.concat(frames, ignore_index=True), cb, cols=(by,))
    res["row"] = res["item"] + " – " + res[by].astype(str)
    gated = _gated_means(ctx, f"{ctx.name}/{label}", res[["row", "n", "mean", "lo", "hi"]], "row")
    gated = gated.merge(res[["row", "item", by, "dont_know"]], on="row")
    if item_as_row:
        fig = plots.mean_dots(gated, "item", "mean", "lo", "hi", hue_col=by)
    else:
        fig = plots.mean_dots(gated, by, "mean", "lo", "hi", hue_col="item")
    alt = ("Punkter med gjennomsnitt og 95 prosents konfidensintervall for "
           + fmt.listing([cb.items[i].label for i in items]) + f", fordelt på {by.replace('_', ' ')}.")
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
    # Result chain, concreteness and focus among steering goals, by sender.
    long = []
    for dim, title in [("result_chain", "Resultatkjede"), ("concreteness", "Konkretisering"), ("focus", "Fokus")]:
        values = cols[dim]["values"]
        tab = pd.crosstab(steering["sender"], steering[dim], normalize="index").reindex(
            index=list(senders), columns=list(values), fill_value=0)
        for s in tab.index:
            for v in tab.columns:
                long.append({"dimension": title, "sender": senders[s]["label"].split("(")[-1].rstrip(")"),
                             "category": values[v], "share": float(tab.loc[s, v]), "key": v, "sender_key": s})
        out[dim] = tab
    long = pd.DataFrame(long)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(11.5, 4.0), sharey=True)
    for ax, (dim, sub) in zip(axes, long.groupby("dimension", sort=False)):
        piv = sub.pivot(index="category", columns="sender", values="share")
        piv = piv.reindex(list(dict.fromkeys(sub["category"])))
        piv.plot(kind="bar", ax=ax, color=plots.QUALITATIVE[:3], width=0.8, legend=ax is axes[0])
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
def _report() -> dict:
    from .config import params_yaml

    return params_yaml("report.yml")


def goals_table(ctx: Context, label: str = "tbl-mal") -> pd.DataFrame:
    goals = _report()["goals"]
    disp = pd.DataFrame({"Mål": [f"Mål {k}" for k in goals], "Tema": [g["short"] for g in goals.values()],
                         "Innhold": [g["text"] for g in goals.values()]})
    ctx.table(disp, label, f"De {fmt.number_word(len(goals))} målene for tillitsreformen i NAV")
    return disp


def working_group_table(ctx: Context, label: str = "tbl-arbeidsgruppe") -> dict:
    rows = pd.DataFrame(_report()["working_group"])
    disp = pd.DataFrame({"Side": rows["side"], "Organisasjon": rows["organisation"],
                         "Medlemmer": [fmt.num(v) for v in rows["members"]]})
    by_side = rows.groupby("side", sort=False)["members"].sum().to_dict()
    ctx.table(disp, label, f"Den partssammensatte arbeidsgruppen ({fmt.num(rows['members'].sum())} medlemmer)",
              csv_df=rows)
    return {"total": int(rows["members"].sum()), "by_side": {k: int(v) for k, v in by_side.items()}}


def phases_table(ctx: Context, label: str = "tbl-faser") -> pd.DataFrame:
    rep = _report()
    phases = pd.DataFrame(rep["phases"])
    disp = pd.DataFrame({"Fase": phases["phase"], "Periode": phases["period"], "Leveranse": phases["delivery"]})
    ctx.table(disp, label, f"Arbeidet med tillitsreformen i {fmt.number_word(len(phases))} faser", csv_df=phases)
    if label == "tbl-faser":
        ms = pd.DataFrame(rep["milestones"])
        ctx.table(pd.DataFrame({"Når": ms["date"], "Hva": ms["event"]}), "tbl-milepaeler",
                  "Milepæler i arbeidet", csv_df=ms)
    return phases


def channels_table(ctx: Context, label: str = "tbl-kanaler") -> pd.DataFrame:
    ch = pd.DataFrame(_report()["channels"])
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
    rows = _report()["sources"]
    disp = pd.DataFrame({"Kilde": [r["source"] for r in rows],
                         "Omfang": [scope.get(r["register"], "Oppsummert kunnskap") for r in rows]})
    ctx.table(disp, label, "Kildene i kunnskapsgrunnlaget og omfanget av dem")
    return disp


def references(ctx: Context, label: str = "tbl-referanser") -> pd.DataFrame:
    refs = _report()["references"]
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
        f"ATAs brev, mot {fmt.pct(new['YA'])} hos YA og {fmt.pct(new['OSA'])} hos ØSA.\n\n"
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
    """{item label key: {role label: mean}} from means_by_group results (item keys as codebook names)."""
    out: dict = {}
    for frame in frames:
        for _, row in frame.iterrows():
            out.setdefault(row["item"], {})[row["role"]] = row["mean"]
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
    means = gated.set_index("item")["mean"]
    return {"municipal": float(means[cb.items["steer_municipal"].label]),
            "state": float(means[cb.items["steer_state"].label]),
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
    goals = _report()["goals"]
    findings = _report()["headline_findings"]
    facts = registers_overview(ctx)
    k_kompetanse = exact_share(ctx, "f_kompetanse", HIGH)
    inv = tables.mean(ctx.survey()[ctx.survey()["role"].isin(["leder", "tillitsvalgt", "verneombud"])],
                      "involve_services", by="role", cb=ctx.codebook).set_index("role")["mean"]
    dist = tables.shares(tables.distribution(ctx.survey(), ctx.codebook.factors, ctx.codebook))
    ranked = tables.rank_factors(dist)
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
