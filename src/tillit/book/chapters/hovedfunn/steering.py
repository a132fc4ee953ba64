"""Kapittel 4 Hovedfunn: funnene per mål (4.2.1–4.2.5), MD-brevene, målene, konkurranse, styring og modellene."""
from __future__ import annotations

import numpy as np
import pandas as pd
from tillit import fmt
from tillit.book import plots
from tillit.stats import tables
from tillit.book.context import Context
from tillit.stats.tables import DK
from tillit.book.chapters.shared import HIGH, LOW, affects_codes, caption_n, gated_share_rows, gated_shares, exact_share, means_by_group, report_facts
from tillit.book.chapters.kunnskapsgrunnlag import registers_overview


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
    sh = gated_shares(ctx, f"{ctx.name}/{label}", counts, "row")
    sh = sh.join(counts.set_index("row")[["goal_type", "aspect"]])
    scale = cb.scales["effekt5"]
    # Order: aspect by aspect, quantitative then qualitative, so pairs stand together.
    order = [r for a in cb.goal_aspects for r in sh.index if sh.loc[r, "aspect"] == a]
    fig = plots.diverging(sh.loc[list(reversed(order)), [1, 2, 3, 4, 5, DK, "n"]], scale.short, sort=False)
    ctx.figure(fig, label, f"Hvordan kvantitative og kvalitative mål påvirker sider ved arbeidet, andel av "
               f"alle svar ({caption_n(int(counts['n'].max()))})",
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
              f"per side ved arbeidet ({caption_n(int(counts['n'].max()))})", csv_df=csv.reset_index())
    return sh


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
              f"({caption_n(len(md))} mål/føringer)", csv_df=csv)
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
               f"konkretisering og fokus, per avsender ({caption_n(len(steering))} styrende mål/føringer)",
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
               f"med andelen «nye» føringer ({caption_n(int(total.sum()))} mål/føringer)",
               f"Liggende stolper per avsender: {short[top]} har flest «nye» føringer ({fmt.pct(new_share[top])}); "
               f"NAV fylke styres med {fmt.num(steering.iloc[0])} styrende mål og føringer.",
               data=pd.DataFrame({"sender": list(senders), "steering": st, "total": total.to_numpy(),
                                  "new_share": new_share.to_numpy()}))


# --- summaries used in prose --------------------------------------------------------------
def trust_summary(ctx: Context) -> dict:
    """Trust hindrance among medarbeidere: shares low/high, and the unit types highest on high."""
    cb = ctx.codebook
    df = ctx.survey()
    emp = df[df["role"] == "medarbeider"]
    low = tables.share(emp, "trust_hindrance", LOW)
    high = tables.share(emp, "trust_hindrance", HIGH)
    by_unit = tables.share(emp, "trust_hindrance", HIGH, by="unit_type")
    gated = gated_share_rows(ctx, f"{ctx.name}/tillit-enhet-andel", by_unit, ["unit_type"])
    gated = gated.dropna(subset=["share"]).sort_values("share", ascending=False)
    overall = float(high["share"].iloc[0])
    above = gated[gated["share"] > overall + 0.1]
    top = [cb.unit_types[k].label for k in above["unit_type"]][:3]
    text = fmt.listing([f"{cb.unit_types[k].label} ({fmt.pct(s)})" for k, s in zip(above["unit_type"], above["share"])])
    return {"low": float(low["share"].iloc[0]), "high": overall, "n": int(low["n"].iloc[0]),
            "top_units": top or ["ingen enhetstyper"], "units_text": text or "ingen enhetstyper skiller seg ut",
            "by_unit": gated}


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
    g = gated_share_rows(ctx, f"{ctx.name}/konkurranse-enhet", by_unit, ["unit_type"]).dropna(subset=["share"])
    g = g.sort_values("share", ascending=False)
    by_role = tables.share(df[df["role"].isin(["leder", "medarbeider"])], "competition", HIGH, by="role")
    r = gated_share_rows(ctx, f"{ctx.name}/konkurranse-rolle", by_role, ["role"]).set_index("role")["share"]
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
    ranked = tables.rank_factors(dist, affects_codes())
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


# --- ordinal models ---------------------------------------------------------------------------
