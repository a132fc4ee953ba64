"""Kapittel 2 Innledning: arbeidsgruppen, faser og leveranser, kommunikasjonskanalene."""
from __future__ import annotations

import pandas as pd
from tillit import fmt
from tillit.book.context import Context
from tillit.book.chapters.shared import report_facts


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
