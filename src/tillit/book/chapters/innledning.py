"""Kapittel 2 Innledning: oppdraget, arbeidsgruppen, faser og leveranser, kommunikasjonen.

Everything here is a report fact (params/report.yml), not survey data: tables say so in their
captions, and prose gets its numbers marked through ``ctx.num.fact``.
"""
from __future__ import annotations

import pandas as pd

from tillit import fmt
from tillit.book.context import Context
from tillit.book.chapters.shared import bullets, fact_text


def members(ctx: Context) -> pd.DataFrame:
    return pd.DataFrame(ctx.num.fact_value("working_group.members"))


def composition(ctx: Context) -> dict:
    """How many members each side has, and how many organisations on the union side: counted
    from the member list, so the summary's "to fra hver" follows the names."""
    df = members(ctx)
    per_side = df.groupby("side", sort=False).size().to_dict()
    unions = df[df["side"] == "hovedsammenslutning"].groupby("organisation", sort=False).size()
    each = sorted(set(unions.tolist()))
    return {"total": len(df), "per_side": {k: int(v) for k, v in per_side.items()},
            "unions": len(unions), "per_union": each[0] if len(each) == 1 else None,
            "union_names": list(unions.index)}


def composition_text(ctx: Context) -> str:
    """'to fra hver av de fire hovedsammenslutningene, fem fra arbeidsgiver, …' as marked facts."""
    c = composition(ctx)
    n = ctx.num

    def k(v: int) -> str:
        return n.fact("working_group.members", text=fmt.number_word(v))
    side = c["per_side"]
    parts = [f"{k(c['per_union'])} fra hver av de {k(c['unions'])} hovedsammenslutningene"
             if c["per_union"] else f"{k(side['hovedsammenslutning'])} fra hovedsammenslutningene",
             f"{k(side['arbeidsgiver'])} fra arbeidsgiversiden",
             f"{k(side['vernetjeneste'])} fra vernetjenesten",
             f"{k(side['brukerutvalg'])} fra brukerutvalg"]
    return fmt.listing(parts)


def members_prose(ctx: Context) -> str:
    """Who sits for the employer and the users, in words (the table has every name)."""
    df = members(ctx)
    emp = df[df["side"] == "arbeidsgiver"]
    users = df[df["side"] == "brukerutvalg"]

    def who(r) -> str:
        return f"{r['name']} ({r['role']})" if isinstance(r.get("role"), str) else r["name"]
    by_org = [f"{o} ved {fmt.listing([who(r) for _, r in g.iterrows()])}"
              for o, g in emp.groupby("organisation", sort=False)]
    user_text = fmt.listing([f"{who(r)} fra {r['organisation']}" for _, r in users.iterrows()])
    unions = fmt.listing(list(dict.fromkeys(df[df["side"] == "hovedsammenslutning"]["organisation"])))
    return (f"Hovedsammenslutningene er {unions}. På arbeidsgiversiden er {fmt.listing(by_org)} med. "
            f"Fra sentralt brukerutvalg sitter {user_text}.")


def working_group_table(ctx: Context, label: str = "tbl-arbeidsgruppe") -> pd.DataFrame:
    """The members by side, organisation and name (2.2)."""
    df = members(ctx)
    sides = ctx.num.fact_value("working_group.sides")
    disp = pd.DataFrame({
        "Part": [sides[s] for s in df["side"]],
        "Organisasjon": [o + (f", {r}" if isinstance(r, str) else "") for o, r in
                         zip(df["organisation"], df.get("role", pd.Series([None] * len(df))))],
        "Representant": df["name"],
    })
    ctx.table(disp, label, "Den partssammensatte arbeidsgruppen: representantene etter part og organisasjon",
              csv_df=disp, source="report")
    return disp


def assignments_list(ctx: Context) -> str:
    return bullets(ctx, "assignments", capital=False, end=";")[:-1] + "."


def questions_list(ctx: Context) -> str:
    return bullets(ctx, "deliveries.1.questions", numbered=True, end=".")


def tasks_list(ctx: Context) -> str:
    """The five tasks of delivery 1, the first with its two parts, as a nested Markdown list."""
    lines = []
    for i, task in enumerate(ctx.num.fact_value("deliveries.1.tasks")):
        text = fact_text(ctx, f"deliveries.1.tasks.{i}.text")
        lines.append(f"- {text}" + (", blant annet" if task.get("parts") else ";"))
        for j, _ in enumerate(task.get("parts") or []):
            lines.append(f"    - {fact_text(ctx, f'deliveries.1.tasks.{i}.parts.{j}')};")
    lines[-1] = lines[-1][:-1] + "."
    return "\n".join(lines)


def channels_list(ctx: Context) -> str:
    lines = []
    for i, ch in enumerate(ctx.num.fact_value("communication.channels")):
        lines.append(f"- **{fact_text(ctx, f'communication.channels.{i}.channel')}**: "
                     f"{fact_text(ctx, f'communication.channels.{i}.purpose')}.")
    return "\n".join(lines)
