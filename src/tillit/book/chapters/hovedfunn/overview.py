"""4.1: the overview of the main findings per goal (the report's Figur 6).

Until the diagram (``diagrams.main_findings_figure``, chapter 1–3's owner) lands, the overview
is a table of the findings per goal, read from ``hovedfunn.main_findings`` in
params/report.yml — the same list the diagram is meant to draw.
"""
from __future__ import annotations

import pandas as pd

from tillit.book.context import Context
from tillit.book.chapters.hovedfunn.common import block, goals


def main_findings() -> dict:
    return block()["main_findings"]


def findings_overview(ctx: Context, label: str = "tbl-hovedfunn") -> pd.DataFrame:
    """One row per finding: the goal it answers, the finding and what lies behind it."""
    g = goals()
    rows = [{"Mål": f"Mål {k}: {g[k]['short']}", "Hovedfunn": item["title"], "Kort forklaring": item["summary"]}
            for k, items in main_findings().items() for item in items]
    disp = pd.DataFrame(rows)
    # The goal is named once, at its first finding, so the table reads as groups.
    disp.loc[disp["Mål"].duplicated(), "Mål"] = ""
    ctx.table(disp, label, "Hovedfunn etter kartleggingsarbeidet, per mål (rapportens figur 6)",
              csv_df=pd.DataFrame(rows))
    return disp
