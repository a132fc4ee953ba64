"""Kapittel 5 Videre arbeid: the path after delivery 1, and Figur 9 (the process of delivery 2)."""
from __future__ import annotations

import pandas as pd

from tillit import fmt
from tillit.book import diagrams
from tillit.book.context import Context


def delivery2(ctx: Context, label: str = "fig-prosess-leveranse2") -> pd.DataFrame:
    """Draw Figur 9 from params/report.yml (delivery_2) and return its content as a table."""
    return diagrams.delivery2_figure(ctx, label=label)


def continued_work(ctx: Context) -> str:
    """What carries on after delivery 2, in words (the same list Figur 9 draws)."""
    after = ctx.num.fact_value("delivery_2.after")
    return fmt.listing(after)
