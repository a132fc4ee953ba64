"""Kapittel 3 Kunnskapsgrunnlag: kildene, spørreundersøkelsens svarprofil og dokumentanalysen."""
from __future__ import annotations

import pandas as pd
from tillit import fmt
from tillit.book.context import Context
from tillit.book.chapters.shared import caption_n, report_facts


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
              f"Respondenter etter enhetstype og rolle ({caption_n(len(df))})", csv_df=csv, note=note)
    return gated.values


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


def md_letters_summary(ctx: Context) -> dict:
    md = ctx.md_letters()
    return {"rows": len(md), "steering": int(md["steering"].sum())}
