"""The thirteen factors of handlingsrom (4.2.1.2, 4.2.1.3, 4.2.4.2; the report's Figur 7 and 8).

One gated table of shares feeds everything: the two charts, the ranking table and every
comparative word in the prose. Three orders are computed from it:

- ``by_affects``: the share who say the factor affects handlingsrom at all (positive or
  negative; published.yml's definition). This is the ranking behind "nr. 7 av 13", and the
  order Figur 8 is drawn in.
- ``by_positive`` and ``by_negative``: who say it pulls up, who say it pulls down. Figur 7 is
  drawn in the positive order.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tillit import fmt
from tillit.book import plots
from tillit.book.context import Context
from tillit.book.chapters.hovedfunn.common import Ranking, Say, caption_n, lower_first, shown
from tillit.stats import tables
from tillit.stats.tables import DK


@dataclass
class Factors:
    table: pd.DataFrame          # index: item key; label, 1..5, Vet ikke, n, positive, negative, affects, net
    n: float
    by_affects: Ranking
    by_positive: Ranking
    by_negative: Ranking

    def row(self, key: str) -> pd.Series:
        return self.table.loc[key]

    def label(self, key: str) -> str:
        return str(self.table.loc[key, "label"])


def affects_codes() -> list[int]:
    from tillit.book.chapters.shared import affects_codes as codes

    return codes()


def factors(ctx: Context, table_id: str = "faktorer", *, whole: bool = False) -> Factors:
    """Shares of all answers per factor, through the gate; the three rankings."""
    cb = ctx.codebook
    counts = tables.distribution(ctx.survey(whole=whole), cb.factors, cb).set_index("item")
    gated = ctx.gate.shares(f"{ctx.name}/{table_id}", counts[[1, 2, 3, 4, 5, DK]])
    ctx.gate.write_log()
    t = gated.values.copy()
    t.insert(0, "label", counts["label"])
    t["positive"] = t[4] + t[5]
    t["negative"] = t[1] + t[2]
    t["affects"] = t[affects_codes()].sum(axis=1, min_count=1)
    t["net"] = t["positive"] - t["negative"]
    labels = t["label"].to_dict()
    return Factors(t, float(t["n"].max()), Ranking.of(t["affects"], labels),
                   Ranking.of(t["positive"], labels), Ranking.of(t["negative"], labels))


# The ranking table (Figur 8's numbers) and its columns: the claims in the prose name them.
TABLE = "tbl-faktorer-rangering"
COL_AFFECTS, COL_POS, COL_NEG = "Påvirker (positivt eller negativt)", "Positivt", "Negativt"
BY = {"affects": COL_AFFECTS, "positive": COL_POS, "negative": COL_NEG}


def values(f: Factors, metric: str) -> dict:
    """Factor label → share in percent, as the ranking table shows it (for ``Say.claim``)."""
    return shown(f.table.set_index("label")[metric])


def ranking(f: Factors, metric: str) -> Ranking:
    return {"affects": f.by_affects, "positive": f.by_positive, "negative": f.by_negative}[metric]


def claim_rank(say: Say, f: Factors, key: str, metric: str, text: str, *, op: str = "rank",
               k: int | None = None) -> str:
    """``text`` claimed about factor ``key`` in the ranking table: its place (``op="rank"``, ``k`` =
    its computed place), among the top ``k`` (``"top"``), largest (``"max"``)."""
    if op == "rank" and k is None:
        k = ranking(f, metric).rank(key)
    return say.claim(text, table=TABLE, column=BY[metric], rows=f.label(key), op=op, k=k,
                     values=values(f, metric))


def direction_figure(ctx: Context, f: Factors, label: str = "fig-faktorer-retning") -> list[str]:
    """Figur 7: how each factor pulls (diverging bars), most positive at the top. Returns the
    order drawn, top first."""
    order = f.by_positive.keys + list(f.by_positive.suppressed)
    shown_rows = f.table.loc[order].set_index("label")
    fig = plots.likert(shown_rows[[1, 2, 3, 4, 5, DK, "n"]], ctx.codebook.scales["effekt5"].short,
                       sort=list(shown_rows.index))
    top = f.by_positive.first()
    alt = (f"Liggende stolper for {fmt.number_word(len(f.table))} forhold, sortert med størst andel positive svar "
           f"øverst. Øverst: {f.label(top)} ({fmt.pct(f.row(top)['positive'])} positivt). Negative svar går mot "
           "venstre, positive mot høyre, og Vet ikke står i et eget felt." if top else
           "Liggende stolper for forholdene som påvirker handlingsrommet; andelene er prikket.")
    data = f.table.loc[order].reset_index()[["label", 1, 2, 3, 4, 5, DK, "n", "positive"]].rename(columns=str)
    ctx.figure(fig, label, "Hvordan forholdene påvirker handlingsrommet, sortert etter andelen som svarer "
               f"positivt ({caption_n(f.n)})", alt, data=data)
    return [f.label(k) for k in order]


def ranking_figure(ctx: Context, f: Factors, label: str = "fig-faktorer-rangering",
                   table_label: str | None = TABLE) -> list[str]:
    """Figur 8: the factors ranked by how many say they affect handlingsrom (positive plus
    negative), rank 1 at the top, each row with its place ("7. Mål- og resultatstyring"; tied
    factors share a place, as in the table), with the ranking table. Returns the order drawn."""
    order = f.by_affects.keys + list(f.by_affects.suppressed)
    t = f.table.loc[order]
    places = [f.by_affects.rank(k) for k in order]
    rows = t.set_index(pd.Index([f"{r}. {lab}" if r else lab for r, lab in zip(places, t["label"])]))
    ref = None if ctx.is_whole else factors(ctx, "faktorer-hele-nav", whole=True)
    if ref is not None:  # an edition: each factor's row for the whole of NAV beneath its own
        rr = ref.table.loc[order].set_index(pd.Index([f"   hele NAV ({lab.lower()})" for lab in t["label"]]))
        rows = pd.concat([rows.rename(index=lambda s: f"{s} – {ctx.edition.short}"), rr])
        rows = rows.iloc[[i + k * len(order) for i in range(len(order)) for k in (0, 1)]]
    fig = plots.likert(rows[[1, 2, 3, 4, 5, DK, "n"]], ctx.codebook.scales["effekt5"].short, sort=list(rows.index))
    top = f.by_affects.first()
    alt = (f"Liggende stolper, én per forhold, rangert etter hvor mange som sier at forholdet påvirker "
           f"handlingsrommet positivt eller negativt; plassen står foran navnet. Nr. 1 er {f.label(top)} "
           f"({fmt.pct(f.row(top)['affects'])})." if top else "Rangeringen av forholdene er prikket.")
    if "f_mor" in f.by_affects.values.index:
        alt += f" Mål- og resultatstyring er nr. {f.by_affects.rank('f_mor')}."
    data = t.reset_index()[["label", 1, 2, 3, 4, 5, DK, "n", "affects", "positive", "negative"]].rename(columns=str)
    data.insert(1, "rank", pd.array(places, dtype="Int64"))
    caption = ("Forholdene rangert etter andelen som sier at de påvirker handlingsrommet, positivt "
               f"eller negativt ({caption_n(f.n)})")
    if ref is not None:
        alt += " Under hvert forhold står svarene for hele NAV til sammenligning."
        caption = (f"{ctx.edition.title}: forholdene rangert etter andelen som sier at de påvirker handlingsrommet, "
                   f"positivt eller negativt ({caption_n(f.n)}), hvert med hele NAV under ({caption_n(ref.n)})")
        for col in ("affects", "positive", "negative"):  # shares only; the counts are the main book's
            data[f"{col}_hele_nav"] = ref.table.loc[order, col].to_numpy()
    ctx.figure(fig, label, caption, alt, data=data)
    if table_label:
        disp = pd.DataFrame({
            "Forhold": t["label"].to_list(),
            "Plass": [str(r or "–") for r in places],
            COL_AFFECTS: [fmt.pct(v, 1) for v in t["affects"]],
            COL_POS: [fmt.pct(v, 1) for v in t["positive"]],
            COL_NEG: [fmt.pct(v, 1) for v in t["negative"]],
            "Vet ikke": [fmt.pct(v, 1) for v in t[DK]],
        })
        csv = t.reset_index()[["label", "affects", "positive", "negative", DK, "n"]].rename(columns=str)
        csv.insert(1, "rank", pd.array(places, dtype="Int64"))
        ctx.table(disp, table_label, "Forholdene rangert etter andelen som sier at de påvirker handlingsrommet "
                  f"({caption_n(f.n)})", csv_df=csv)
    return [f.label(k) for k in order]


# --- what the prose says about them ------------------------------------------------------------
def mor_rank_text(f: Factors) -> str | None:
    """'den sjuende av tretten' (None if mål- og resultatstyring is suppressed)."""
    r = f.by_affects.rank("f_mor")
    if r is None:
        return None
    shared = " (delt plass)" if f.by_affects.tied("f_mor") else ""
    return f"den {fmt.ordinal_word(r)} av {fmt.number_word(len(f.by_affects) + len(f.by_affects.suppressed))}{shared}"


def mor_rank_claim(say: Say, f: Factors) -> str:
    """The published rank of mål- og resultatstyring, claimed against the ranking table."""
    text = say.pub_text("faktorer_mor_nr7", mor_rank_text(f))
    return claim_rank(say, f, "f_mor", "affects", text) if mor_rank_text(f) else text


def top_three_text(f: Factors) -> str | None:
    top = f.by_affects.top(3)
    return fmt.listing([lower_first(f.label(k)) for k in top]) if len(top) == 3 else None


def top_three_claim(say: Say, f: Factors, *, capitalize: bool = False) -> str:
    """The three factors that affect handlingsrom most (published), each claimed among the top three."""
    text = top_three_text(f)
    out = say.pub_text("faktorer_topp3", text[0].upper() + text[1:] if text and capitalize else text)
    for key in (f.by_affects.top(3) if text else []):
        out = claim_rank(say, f, key, "affects", out, op="top", k=3)
    return out


def others_above_mor(say: Say, f: Factors) -> str:
    """'Andre forhold enn mål- og resultatstyringen betyr mer for handlingsrommet' as far as the
    ranking bears it out (the report's finding), claimed with its place."""
    r = f.by_affects.rank("f_mor")
    if r is None:
        return "Hvor mål- og resultatstyringen står blant forholdene som påvirker handlingsrommet, er prikket"
    if r == 1:
        return ("Mål- og resultatstyringen er det forholdet som " + claim_rank(say, f, "f_mor", "affects", "flest")
                + " sier påvirker handlingsrommet")
    return ("Andre forhold enn mål- og resultatstyringen betyr "
            + claim_rank(say, f, "f_mor", "affects", "mer") + " for handlingsrommet")


def competence_places(say: Say, f: Factors) -> str:
    """Where egen erfaring og kompetanse stands in the two rankings, with its places claimed."""
    r_aff, r_pos = f.by_affects.rank("f_kompetanse"), f.by_positive.rank("f_kompetanse")
    if r_aff is None or r_pos is None:
        return "Hvor egen erfaring og kompetanse står på listen, er prikket i denne utgaven."
    where = "et stykke ned på listen"
    if max(r_aff, r_pos) <= 3:
        where = claim_rank(say, f, "f_kompetanse", "positive",
                           claim_rank(say, f, "f_kompetanse", "affects", "høyt", op="top", k=3), op="top", k=3)
        where += " på listen"
    return (f"Egen erfaring og kompetanse kommer {where}: forholdet er nr. "
            f"{claim_rank(say, f, 'f_kompetanse', 'affects', say.count(r_aff))} når forholdene rangeres etter hvor "
            f"mange som sier at de påvirker handlingsrommet i det hele tatt, og nr. "
            f"{claim_rank(say, f, 'f_kompetanse', 'positive', say.count(r_pos))} når bare de positive svarene telles.")


def negative_sentence(say: Say, f: Factors) -> str:
    """Which factor most often pulls handlingsrom down, and where tid stands — from the data."""
    worst = f.by_negative.first()
    if worst is None:
        return "Andelene som svarer negativt, er prikket."
    tid = f.row("f_tid")["negative"]
    tid_rank = f.by_negative.rank("f_tid")
    tid_text = say.pub("tid_negativ", tid)
    flest = claim_rank(say, f, worst, "negative", "flest", op="max")
    if worst == "f_tid":
        return (f"Tid er det forholdet {flest} sier trekker handlingsrommet ned: {tid_text} svarer at tiden "
                "påvirker negativt eller svært negativt.")
    place = ("den nest største" if tid_rank == 2 else f"den {fmt.ordinal_word(tid_rank)} største" if tid_rank
             else "en prikket")
    if tid_rank:
        place = claim_rank(say, f, "f_tid", "negative", place)
    return (f"{f.label(worst)} er det forholdet {flest} sier trekker handlingsrommet ned "
            f"({say.pct(f.row(worst)['negative'], 1)} negativt eller svært negativt). Tid har {place} andelen "
            f"negative svar: {tid_text} mener at tiden påvirker handlingsrommet negativt.")


def competence_sentence(say: Say, f: Factors) -> str:
    """Where egen erfaring og kompetanse stands among the positive answers."""
    r = f.by_positive.rank("f_kompetanse")
    share = say.pub("kompetanse_positiv", f.row("f_kompetanse")["positive"])
    if r is None:
        return f"Andelen som mener kompetansen påvirker positivt, er {share}."
    where = ("størst andel positive svar av alle forholdene" if r == 1 else
             f"den {fmt.ordinal_word(r)} største andelen positive svar")
    where = claim_rank(say, f, "f_kompetanse", "positive", where)
    return (f"Egen erfaring og kompetanse har {where}: {share} mener at kompetansen og erfaringen deres "
            f"påvirker handlingsrommet positivt, mens bare {say.pct(f.row('f_kompetanse')['negative'], 1)} "
            "mener den påvirker negativt (@fig-faktorer-retning).")


def factor_in_group(ctx: Context, item: str, col: str, key: str) -> tuple[float, float]:
    """(positive, negative) share on one factor within one group (e.g. NAV-kontor), gated."""
    from tillit.book.chapters.hovedfunn.common import HIGH, LOW, gated_group_shares

    df = ctx.survey()
    out = []
    for codes, tag in ((HIGH, "positiv"), (LOW, "negativ")):
        g = gated_group_shares(ctx, f"{ctx.name}/{item}-{col}-{tag}", df, item, codes, col).set_index(col)
        out.append(float(g["share"].get(key, float("nan"))))
    return out[0], out[1]
