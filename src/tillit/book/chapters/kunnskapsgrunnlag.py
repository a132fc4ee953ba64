"""Kapittel 3 Kunnskapsgrunnlag: spørreundersøkelsens svarprofil og dokumentanalysen.

The chapter's facts (29 of 40 kommuner, 66 interviews, …) are report facts read in the notebook
through ctx.num.fact; `registers_overview` counts the same things in the registers, for the
reproduction ledger and for chapter 4.
"""
from __future__ import annotations

import pandas as pd
from tillit import fmt
from tillit.book.context import Context
from tillit.book.chapters.shared import caption_n


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


def md_letters_summary(ctx: Context) -> dict:
    """How many goals/føringer the coded MD-brev hold (the report publishes only per sender)."""
    md = ctx.md_letters()
    return {"rows": len(md), "steering": int(md["steering"].sum())}
