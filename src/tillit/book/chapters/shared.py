"""Building blocks that several chapters share: gated shares and means, the factor overview,
item and share figures by group, and the report facts.

One function per figure or table of the book.

Each takes the notebook context, computes aggregates from processed data, passes them
through the disclosure gate, shows the figure/table (with caption, alt text, provenance and
CSV) and returns the numbers the chapter's prose needs. Notebooks stay thin: they call these
and narrate.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import pandas as pd

from tillit import fmt
from tillit.book import plots
from tillit.stats import tables
from tillit.book.context import Context
from tillit.stats.tables import DK
HIGH = [4, 5]
LOW = [1, 2]


# --- helpers ------------------------------------------------------------------------------
def gated_shares(ctx: Context, table_id: str, counts: pd.DataFrame, index_col: str,
                  total_row: bool = False) -> pd.DataFrame:
    """Shares of all answers per row, after the gate; suppressed rows come back as NaN."""
    frame = counts.set_index(index_col)[[1, 2, 3, 4, 5, DK]]
    gated = ctx.gate.shares(table_id, frame, total_row=total_row)
    ctx.gate.write_log()
    out = gated.values.copy()
    out.index.name = index_col
    return out


def gated_means(ctx: Context, table_id: str, frame: pd.DataFrame, index_col: str) -> pd.DataFrame:
    # "Vet ikke" counts go through the gate with the means (they are counts of a group too).
    values = frame.set_index(index_col)[[c for c in ["n", "mean", "lo", "hi", "dont_know"] if c in frame.columns]]
    gated = ctx.gate.means(table_id, values)
    ctx.gate.write_log()
    return gated.values.reset_index()


def gated_share_rows(ctx: Context, table_id: str, frame: pd.DataFrame, index_cols: list[str],
                     dont_know: str | None = None) -> pd.DataFrame:
    """Gate a [*index_cols, k, n, share, lo, hi] frame (share of a group answering X).
    `dont_know`: a column with each group's "Vet ikke" count (not published): a row whose
    count is below min_cell is hidden (tillit.stats.disclosure.Gate.means)."""
    values = frame.set_index(index_cols)[["n", "share", "lo", "hi"]]
    counts = frame.set_index(index_cols)[dont_know] if dont_know else None
    gated = ctx.gate.means(table_id, values, dont_know_counts=counts)
    ctx.gate.write_log()
    return gated.values.reset_index()


GROUP_WORDS = {"unit_type": "enhetstype", "role": "rolle", "line": "linje"}


def caption_n(n: int) -> str:
    return fmt.n(int(n))


def unit_label(ctx: Context, key: str) -> str:
    return ctx.codebook.unit_types[key].label if key in ctx.codebook.unit_types else str(key)


def display_shares(df: pd.DataFrame, label_col: str, label_title: str, scale_short: dict[int, str],
                    decimals: int = 0) -> pd.DataFrame:
    out = pd.DataFrame({label_title: df[label_col].astype(str)})
    for code in [1, 2, 3, 4, 5]:
        out[scale_short[code]] = [fmt.pct(v, decimals) for v in df[code]]
    out["Vet ikke"] = [fmt.pct(v, decimals) for v in df[DK]]
    out["n"] = [fmt.num(v) for v in df["n"]]
    return out


# --- the 13 factors of handlingsrom -------------------------------------------------------
def affects_codes() -> list[int]:
    """Which answers count as "affects handlingsrom" when ranking the factors: defined once, in
    params/published.yml, for the ledger and the chapters alike."""
    from tillit.stats import ledger

    return list(ledger.load_published()["definitions"]["affects"]["codes"])


@dataclass
class FactorResult:
    ranked: pd.DataFrame            # one row per factor: item, label, shares, affects, net, rank
    n: int
    by_item: dict = field(default_factory=dict)
    shares: pd.DataFrame | None = None   # gated shares per factor (index = label)

    def row(self, item: str) -> pd.Series:
        return self.ranked.set_index("item").loc[item]


ORDERS = {"rank": "etter hvor mange som sier at forholdet påvirker handlingsrommet (som i rangeringen)",
          "net": "etter nettoeffekt (andel positivt minus andel negativt)"}


def factor_ranking(ctx: Context, label: str = "fig-faktorer") -> FactorResult:
    """The 13 factors' shares (through the disclosure gate) and their ranking, not yet drawn."""
    cb = ctx.codebook
    counts = tables.distribution(ctx.survey(), cb.factors, cb)
    sh = gated_shares(ctx, f"{ctx.name}/{label}", counts.assign(label=counts["label"]), "label")
    sh = sh.join(counts.set_index("label")[["item"]])
    ranked = tables.rank_factors(sh.reset_index(), affects_codes())
    return FactorResult(ranked=ranked, n=int(counts["n"].max()), shares=sh)


def factor_figure(ctx: Context, res: FactorResult, label: str = "fig-faktorer", order: str = "rank") -> None:
    """Diverging bars of the factors, "Vet ikke" apart. `order="rank"` draws them in the order
    of the ranking the text cites (rank 1 at the top), so chart, table and prose agree;
    `order="net"` sorts by net effect. The caption says which."""
    if order not in ORDERS:
        raise ValueError(f"ukjent rekkefølge {order!r}; forventet en av {sorted(ORDERS)}")
    sh, ranked = res.shares, res.ranked
    plot_df = sh[[1, 2, 3, 4, 5, DK, "n"]]
    if order == "rank":  # the first row is drawn at the bottom: rank 1 last
        plot_df = plot_df.loc[list(ranked["label"])[::-1]]
    fig = plots.diverging(plot_df, ctx.codebook.scales["effekt5"].short, sort=order == "net")
    top = ranked.iloc[0]
    alt = (f"Liggende stolper for {len(ranked)} forhold som påvirker handlingsrommet, ordnet {ORDERS[order]}. "
           f"{top['label']} påvirker flest ({fmt.pct(top['affects'])} svarer positivt eller "
           f"negativt). Andelen som svarer Vet ikke vises i et eget felt til høyre.")
    ctx.figure(fig, label, f"Hvordan {fmt.number_word(len(ranked))} forhold påvirker handlingsrommet, "
               f"andel av alle svar, ordnet {ORDERS[order]} ({caption_n(res.n)})", alt,
               data=sh.reset_index()[["label", 1, 2, 3, 4, 5, DK, "n"]].rename(columns=str))


def factor_overview(ctx: Context, label: str = "fig-faktorer", show_table: bool = True,
                    table_label: str = "tbl-faktorer", order: str = "rank") -> FactorResult:
    """The factor chart and (optionally) the ranking table: the report's Figur 1, 7 and 8."""
    res = factor_ranking(ctx, label)
    factor_figure(ctx, res, label, order)
    if show_table:
        _factor_table(ctx, res.ranked, table_label, res.n)
    return res


def _factor_table(ctx: Context, ranked: pd.DataFrame, label: str, n_all: int) -> None:
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
    ctx.table(disp, label, "Forholdene rangert etter hvor mange som sier at de påvirker "
              f"handlingsrommet, positivt eller negativt ({caption_n(n_all)})", csv_df=csv)


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
    keyed = tables.distribution(df, [var], cb, by=by)
    counts = tables.label_groups(keyed, cb, cols=(by,))
    key_of = dict(zip(counts[by], keyed[by]))
    sh = gated_shares(ctx, f"{ctx.name}/{label}", counts, by)
    scale = cb.scale_of(var)
    n_all = int(counts["n"].sum())
    fig = plots.diverging(sh[[1, 2, 3, 4, 5, DK, "n"]], scale.short, sort=sort)
    high = (sh[4] + sh[5]).dropna()
    hi_label = high.idxmax() if len(high) else "–"
    lo_label = high.idxmin() if len(high) else "–"
    alt = (f"Liggende stolper per {title_group.lower()} for spørsmålet «{cb.items[var].text}». Høyest andel i de "
           f"to øverste kategoriene: {hi_label} ({fmt.pct(high.max())}); lavest: {lo_label} ({fmt.pct(high.min())}).")
    csv = sh.reset_index().rename(columns=str)
    ctx.figure(fig, label, f"{caption} ({caption_n(n_all)})", alt, data=csv)
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
    gated = gated_share_rows(ctx, f"{ctx.name}/{label}", res, groups)
    if sort:
        order_vals = gated.groupby(by)["share"].max().sort_values(ascending=False)
        order = list(order_vals.index)
    else:
        order = list(dict.fromkeys(gated[by]))
    fig = plots.share_bars(gated, by, "share", "n", hue_col=hue, lo_col="lo", hi_col="hi",
                           xlabel=xlabel, order=order)
    top = gated.dropna(subset=["share"]).sort_values("share", ascending=False)
    alt = (f"Stolper med andelen som svarer {', '.join(cb.scale_of(var).labels[c].lower() for c in codes)} "
           f"per {GROUP_WORDS.get(by, by)}" + (f" og {GROUP_WORDS.get(hue, hue)}" if hue else "") +
           (f". Høyest: {top.iloc[0][by]} ({fmt.pct(top.iloc[0]['share'])})." if len(top) else "."))
    ctx.figure(fig, label, f"{caption} ({caption_n(int(res['n'].sum()))})", alt,
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
        m.insert(1, "var", item)
        frames.append(m)
    res = tables.label_groups(pd.concat(frames, ignore_index=True), cb, cols=(by,))
    res["row"] = res["item"] + " – " + res[by].astype(str)
    gated = gated_means(ctx, f"{ctx.name}/{label}", res[["row", "n", "mean", "lo", "hi", "dont_know"]], "row")
    gated = gated.merge(res[["row", "item", "var", by]], on="row")
    if item_as_row:
        fig = plots.mean_dots(gated, "item", "mean", "lo", "hi", hue_col=by)
    else:
        fig = plots.mean_dots(gated, by, "mean", "lo", "hi", hue_col="item")
    alt = ("Punkter med gjennomsnitt og 95 prosents konfidensintervall for "
           + fmt.listing([cb.items[i].label.lower() for i in items]) + f", fordelt på {GROUP_WORDS.get(by, by)}.")
    ctx.figure(fig, label, f"{caption} ({caption_n(int(res.groupby('item')['n'].sum().max()))})", alt,
               data=gated.rename(columns=str))
    return gated


def exclusion_flow(ctx: Context, label: str = "tbl-rensing") -> pd.DataFrame:
    flow = ctx.exclusion_flow()
    disp = pd.DataFrame({
        "Steg": flow["step"].astype(str),
        "Regel": flow["rule"],
        "Fjernet": [fmt.num(v) for v in flow["removed"]],
        "Rettet": [fmt.num(v) if v else "" for v in flow.get("changed", pd.Series(0, index=flow.index))],
        "Igjen": [fmt.num(v) for v in flow["remaining"]],
    })
    ctx.table(disp, label, "Fra eksport til analysegrunnlag: rader fjernet av hver regel", csv_df=flow)
    return flow


# --- facts about the report (params/report.yml) ------------------------------------------
def report_facts() -> dict:
    """params/report.yml: facts about the report and the process that are not survey data."""
    from tillit.config import params_yaml

    return params_yaml("report.yml")


# A run of digits in a report fact (a year, a period, a date, a document number).
DIGITS_RE = re.compile(r"\d+(?:[.,:]\d+)*(?:\s?[–-]\s?\d+)?")


def fact_text(ctx: Context, path: str, value=None) -> str:
    """A text fact from params/report.yml for prose, with each number in it marked as a report
    fact (``ctx.num.fact``) and the rest escaped: «tildelingsbrevet for <span…>2022</span>»."""
    text = str(ctx.num.fact_value(path) if value is None else value)
    out, pos = [], 0
    for m in DIGITS_RE.finditer(text):
        out.append(html.escape(text[pos:m.start()], quote=False))
        out.append(ctx.num.fact(path, text=m.group(0)))
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def fact_count(ctx: Context, path: str, *, word: bool = True) -> str:
    """How many items a list (or mapping) in report.yml has, as a marked report fact ("fem")."""
    k = len(ctx.num.fact_value(path))
    return ctx.num.fact(path, text=fmt.number_word(k) if word else fmt.num(k))


def bullets(ctx: Context, path: str, *, numbered: bool = False, capital: bool = True, end: str = "") -> str:
    """A Markdown list of the strings under `path` (numbers in them marked as report facts)."""
    items = ctx.num.fact_value(path)
    lines = []
    for i, _ in enumerate(items, start=1):
        text = fact_text(ctx, f"{path}.{i - 1}")
        if capital and text:
            text = text[0].upper() + text[1:]
        lines.append(f"{i}. {text}{end}" if numbered else f"- {text}{end}")
    return "\n".join(lines)
