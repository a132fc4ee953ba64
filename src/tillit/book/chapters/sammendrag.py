"""Kapittel 1 Sammendrag: the goals, the main findings per goal and the factor summary.

The lists come from params/report.yml (goals, summary_findings); the factor paragraph's
numbers and its order claims are computed from the survey.
"""
from __future__ import annotations

from dataclasses import dataclass

from tillit import fmt
from tillit.book.context import Context
from tillit.book.chapters.shared import FactorResult, fact_text, factor_figure, factor_ranking


def goals_list(ctx: Context, *, bold: bool = False) -> str:
    """The goals as a numbered Markdown list (the goal's full text)."""
    goals = ctx.num.fact_value("goals")
    return "\n".join(f"{k}. " + (f"**{g['short']}.** " if bold else "") + fact_text(ctx, f"goals.{k}.text")
                     for k, g in goals.items())


def findings_markdown(ctx: Context) -> str:
    """The summary's main findings, goal by goal: a lead line per goal and its points. A finding
    that rests on published numbers links to them in the ledger and says whether the data
    reproduce it (computed here, so the text never asserts what the data do not show)."""
    from tillit.stats import ledger

    goals = ctx.num.fact_value("goals")
    findings = ctx.num.fact_value("summary_findings")
    needed = [t for items in findings.values() for f in items for t in f.get("targets", [])]
    verdict = ledger.compute_ledger(ctx.data_dir).set_index("id")["ok"] if needed else None
    blocks = []
    for k, items in findings.items():
        lines = [f"**Mål {k} – {goals[k]['short'].lower()}.** {fact_text(ctx, f'goals.{k}.text')}", ""]
        for i, f in enumerate(items):
            check = ""
            if f.get("targets"):
                ok = bool(verdict.reindex(f["targets"]).fillna(False).astype(bool).all())
                check = f" ({ctx.num.pub(f['targets'][0], 'gjenskapt' if ok else 'ikke gjenskapt i disse dataene')})"
            lines.append(f"- {fact_text(ctx, f'summary_findings.{k}.{i}.text')}{check}.")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


@dataclass
class FactorSummary:
    result: FactorResult
    top_positive: str          # the factor most often said to affect handlingsrom positively
    top_positive_share: float  # its share (0–1) of all answers
    is_kompetanse: bool
    mor_rank: int
    total: int


def factor_summary(ctx: Context, label: str = "fig-faktorer-sammendrag") -> FactorSummary:
    """What the summary says of the factors (computed; the chart is drawn by `factor_chart`)."""
    res = factor_ranking(ctx, label)
    by_pos = res.ranked.sort_values("positive", ascending=False).iloc[0]
    return FactorSummary(result=res, top_positive=str(by_pos["label"]),
                         top_positive_share=float(by_pos["positive"]),
                         is_kompetanse=by_pos["item"] == "f_kompetanse",
                         mor_rank=int(res.row("f_mor")["rank"]), total=len(res.ranked))


def factor_chart(ctx: Context, s: FactorSummary, label: str = "fig-faktorer-sammendrag") -> None:
    """The report's Figur 1: the factors in the order of the ranking the prose cites."""
    factor_figure(ctx, s.result, label, order="rank")


def factor_prose(ctx: Context, s: FactorSummary, label: str = "fig-faktorer-sammendrag") -> str:
    n = ctx.num
    top = s.top_positive[0].lower() + s.top_positive[1:]
    share = (n.pub("kompetanse_positiv", 100 * s.top_positive_share, word=True) if s.is_kompetanse
             else n.model(fmt.pct(s.top_positive_share, 1, word=True)))
    return (
        "Spørreundersøkelsen kartla hvilke forhold som påvirker handlingsrommet til alle ansatte. "
        f"Blant forholdene som tydelig trekker i positiv retning, ligger {top} på topp: {share} "
        "svarer at dette påvirker handlingsrommet deres positivt. Analysene viser samtidig at NAV ikke "
        "har gode nok rammer og strukturer for å utvikle kompetansen. Mål- og "
        "resultatstyringen havner noe lenger ned på listen over forhold som påvirker handlingsrommet, "
        f"som nummer {n.pub('faktorer_mor_nr7', f'{s.mor_rank} av {s.total}')} (@{label}). "
        "Listen rangerer forholdene etter hvor mange som sier at de påvirker handlingsrommet i det "
        "hele tatt, i positiv eller negativ retning, og figuren er ordnet på samme måte."
    )
