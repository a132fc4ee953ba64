"""What every part of chapter 4 shares: numbers that know they may be suppressed, rankings
whose order the prose and the charts both take, and the chapter's block of params/report.yml.

The rule for prose: a number goes through :class:`Say` (which goes through ``ctx.num``), and
a comparative word ("oftest", "høyest", "flest") comes from a :class:`Ranking` computed from
the same gated table the chart or table shows, so text and chart cannot disagree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Mapping, Sequence

import pandas as pd

from tillit import fmt
from tillit.book import numbers
from tillit.book.context import Context

SUPPRESSED = "(prikket)"
CLAIM_MARK = "\ue000"      # stands in for inner HTML while ctx.num.claim escapes its text
HIGH = [4, 5]
LOW = [1, 2]


def missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


def block() -> dict:
    """The chapter's own block of params/report.yml (``hovedfunn:``)."""
    from tillit.config import params_yaml

    return params_yaml("report.yml")["hovedfunn"]


class Say:
    """Numbers for one chapter's prose, with their kind (through ``ctx.num``).

    A value that the disclosure gate suppressed (NaN) prints as «(prikket)», and the section
    that printed it can end with :meth:`note`, which says why. Shares are 0–1.
    """

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.num = ctx.num
        self._gaps = 0

    def _gap(self) -> str:
        self._gaps += 1
        return SUPPRESSED

    def pub(self, target: str, share: Real | None, *, word: bool = True) -> str:
        """A published share (0–1), at the report's precision, linked to the ledger."""
        if missing(share):
            return self._gap()
        return self.num.pub(target, 100 * float(share), word=word)

    def pub_text(self, target: str, text: str | None) -> str:
        """A published statement or rank as text ("den sjuende av tretten"); None = suppressed."""
        return self._gap() if text is None else self.num.pub(target, text)

    def pct(self, share: Real | None, decimals: int = 0, *, word: bool = True) -> str:
        """A computed share that the report did not publish (model-only on the twin)."""
        if missing(share):
            return self._gap()
        return self.num.model(fmt.pct(share, decimals, word=word))

    def mean(self, x: Real | None, decimals: int = 2) -> str:
        return self._gap() if missing(x) else self.num.model(fmt.num(x, decimals))

    def count(self, k: int | None, *, word: bool = False) -> str:
        return self._gap() if missing(k) else self.num.count(int(k), word=word)

    def fact(self, path: str, **kw) -> str:
        return self.num.fact(path, **kw)

    def fact_count(self, path: str, *, word: bool = True) -> str:
        """How many items a list in params/report.yml holds ('fire'), as a report fact."""
        k = len(self.num.fact_value(path))
        return numbers.span(fmt.number_word(k) if word else fmt.num(k), "rapport", ref=path)

    def min_cell(self) -> str:
        return numbers.span(fmt.num(self.ctx.min_cell), "data",
                            title="Minste antall svar bak et publisert tall (parameteren min_cell)")

    def note(self) -> str:
        """One sentence on the suppressed numbers printed since the last note ('' if none)."""
        if not self._gaps:
            return ""
        self._gaps = 0
        return (f"Tall merket {SUPPRESSED} vises ikke fordi de bygger på færre enn {self.min_cell()} svar "
                "(se metodevedlegget om personvern).")

    def claim(self, text: str, *, table: str, column: str, rows: str | Sequence[str], op: str = "max",
              k: int | None = None, tol: float | None = None, values: Mapping | None = None) -> str:
        """A comparative phrase ("flest", "høyest", "nr. 7") tied to the table or figure it rests on
        (``ctx.num.claim``): ``table`` is its label, ``column`` the header the reader sees, ``rows``
        the first-column label(s), ``values`` the column as the table shows it (row label → number),
        so the claim is checked at once and again by the book test.

        ``text`` may already hold number spans (a published phrase, a count): the claim then wraps
        them, and claims nest (one per row a phrase is about). When a row the claim needs is not in
        ``values`` (suppressed), there is nothing to check it against and ``text`` is returned as is;
        the wording code never makes a comparison on a suppressed number."""
        rows = [rows] if isinstance(rows, str) else list(rows)
        known = None if values is None else {str(r): float(v) for r, v in dict(values).items() if not missing(v)}
        if known is not None and any(r not in known for r in rows):
            return text
        inner = "<" in text
        out = self.num.claim(CLAIM_MARK if inner else text, table=table, column=column, rows=rows, op=op, k=k,
                             tol=tol, values=known)
        return out.replace(CLAIM_MARK, text) if inner else out

    def finish(self, markdown: str) -> str:
        """A paragraph followed by the suppression note, if it printed any gap."""
        note = self.note()
        return markdown.strip() + (f"\n\n*{note}*" if note else "")


@dataclass(frozen=True)
class Ranking:
    """Keys ordered by a metric, largest first. Suppressed keys (NaN) are kept apart and never
    ranked; tied values share the better rank ("delt 5. plass")."""

    values: pd.Series                       # key -> value; ranked keys first, in order
    labels: dict = field(default_factory=dict)
    suppressed: tuple = ()

    @classmethod
    def of(cls, values: pd.Series | dict, labels: dict | None = None) -> "Ranking":
        s = pd.Series(values, dtype="float64")
        shown = s.dropna()
        # Stable on the original order, so ties keep the codebook's order in text and chart alike.
        shown = shown.iloc[(-shown).argsort(kind="stable")]
        return cls(shown, dict(labels or {}), tuple(k for k in s.index if pd.isna(s[k])))

    @property
    def keys(self) -> list:
        return list(self.values.index)

    def __len__(self) -> int:
        return len(self.values)

    def label(self, key) -> str:
        return str(self.labels.get(key, key))

    def rank(self, key) -> int | None:
        if key not in self.values.index:
            return None
        return int((self.values > self.values[key] + 1e-12).sum()) + 1

    def tied(self, key) -> bool:
        return key in self.values.index and int((abs(self.values - self.values[key]) <= 1e-12).sum()) > 1

    def top(self, k: int = 1) -> list:
        return self.keys[:k]

    def bottom(self, k: int = 1) -> list:
        return self.keys[-k:][::-1] if k else []

    def first(self):
        return self.keys[0] if len(self) else None

    def last(self):
        return self.keys[-1] if len(self) else None

    def gap_after_first(self) -> float | None:
        """How far the first lies ahead of the second (None with fewer than two ranked)."""
        return float(self.values.iloc[0] - self.values.iloc[1]) if len(self) > 1 else None

    def complete(self) -> bool:
        return not self.suppressed

    def suppressed_text(self) -> str:
        return fmt.listing([self.label(k) for k in self.suppressed])


def gated_group_shares(ctx: Context, table_id: str, df: pd.DataFrame, var: str, codes: list[int],
                       by: str | list[str], dont_know: str = "include") -> pd.DataFrame:
    """Share answering ``codes`` on ``var`` per group (Vet ikke in the denominator), gated:
    [*by, n, share, lo, hi] with NaN in groups under min_cell. Group columns keep their keys."""
    from tillit.stats import tables

    by = [by] if isinstance(by, str) else list(by)
    res = tables.share(df, var, codes, by=by, dont_know=dont_know, cb=ctx.codebook)
    gated = ctx.gate.means(table_id, res.set_index(by)[["n", "share", "lo", "hi"]])
    ctx.gate.write_log()
    return gated.values.reset_index()


def gated_total_share(ctx: Context, table_id: str, df: pd.DataFrame, var: str,
                      codes: list[int]) -> tuple[float, float]:
    """(share, n) of all of ``df`` answering ``codes`` (NaN, NaN when under min_cell)."""
    from tillit.stats import tables

    res = tables.share(df, var, codes).assign(group="alle").set_index("group")
    gated = ctx.gate.means(table_id, res[["n", "share", "lo", "hi"]])
    ctx.gate.write_log()
    row = gated.values.iloc[0]
    return float(row["share"]), float(row["n"])


def subset(df: pd.DataFrame, filt: dict | None) -> pd.DataFrame:
    for col, values in (filt or {}).items():
        df = df[df[col].isin(values)]
    return df


def model_caption(ctx: Context) -> str:
    """Caption tail for charts whose numbers were not published (model-only on the twin)."""
    return " Tallene i figuren er ikke publisert i rapporten; her er de modelltall fra den syntetiske tvillingen." \
        if ctx.is_synthetic else ""


def lower_first(label: str) -> str:
    """'Personvern og GDPR' → 'personvern og GDPR'; acronyms ('NAV-kontor', 'GDPR') stay."""
    if not label or label[:2].isupper():
        return label
    return label[0].lower() + label[1:]


def pct_cells(values, decimals: int = 1) -> list[str]:
    """Shares (0–1) as Norwegian percent text for a figure's data frame under a header of our own
    ("Alle roller: andel"): the download reads them back as percent with these decimals (one more
    than the chart shows), and a suppressed share is an empty cell."""
    return ["" if missing(v) else fmt.pct(float(v), decimals) for v in values]


def shown(values: Mapping | pd.Series, scale: float = 100.0) -> dict:
    """Row label → value in the unit its table shows (percent for shares), for ``Say.claim``;
    rounded to 10 decimals, so two shares equal but for float noise (7/9 summed in two orders)
    tie in the claim's check as they do in :class:`Ranking`."""
    return {str(k): (float("nan") if missing(v) else round(float(v) * scale, 10)) for k, v in dict(values).items()}


def bullets(items: list[str]) -> str:
    return "\n".join(f"- {i}" for i in items)


def caption_n(n) -> str:
    return "prikket" if missing(n) else fmt.n(int(n))
