"""Every number the book prints, with its kind.

Three kinds, told apart in the HTML both renderers keep (a plain inline ``<span>``):

- ``publisert``: a number the report published and the data reproduce; shown at the report's
  precision and linked to its row in the reproduction ledger (``#ledger-<id>``);
- ``rapport``: a fact from the report that is not survey data (66 interviews, 29 kommuner);
  read from ``params/report.yml``, never typed into prose;
- ``modell``: computed from the data but not published. On the synthetic twin such a number
  exists only because the generator made it, so it is marked (style + tooltip); on a real
  export it is a real number and the marking disappears (``data-kind="data"``).

Usage in a chapter:  ``n = ctx.num``; ``n.pub("kompetanse_positiv", 75.93)``,
``n.fact("interviews.deep")``, ``n.model(fmt.pct(share))``.
"""
from __future__ import annotations

import html
from decimal import ROUND_HALF_UP, Decimal
from dataclasses import dataclass
from functools import cached_property
from numbers import Real
from pathlib import Path
from typing import Any

from tillit import fmt
from tillit.config import ConfigError, read_yaml, repo_root

KINDS = ("publisert", "rapport", "modell", "data")
TITLES = {
    "publisert": "Publisert i Delrapport 1 og gjenskapt fra dataene – se reproduksjonsregnskapet",
    "rapport": "Faktum fra Delrapport 1 (ikke fra spørreundersøkelsen)",
    "modell": "Modelltall: beregnet fra de syntetiske dataene og ikke publisert i rapporten",
    "data": "Beregnet fra dataene",
}
# The page that holds the reproduction ledger (its rows carry id="ledger-<id>").
LEDGER_PAGE = "app-regnskap.html"


def span(text: str, kind: str, *, href: str | None = None, title: str | None = None,
         ref: str | None = None) -> str:
    """The one HTML form of a number: ``<span class="tall" data-kind="…">``."""
    if kind not in KINDS:
        raise ValueError(f"ukjent talltype {kind!r}; forventet en av {KINDS}")
    attrs = f'class="tall" data-kind="{kind}" title="{html.escape(title or TITLES[kind], quote=True)}"'
    if ref:
        attrs += f' data-ref="{html.escape(ref, quote=True)}"'
    inner = html.escape(str(text), quote=False)
    if href:
        inner = f'<a href="{html.escape(href, quote=True)}">{inner}</a>'
    return f"<span {attrs}>{inner}</span>"


def _dig(data: Any, path: str) -> Any:
    cur = data
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise ConfigError(f"params/report.yml: finner ikke '{path}' (stopp ved '{part}')")
    return cur


@dataclass
class Numbers:
    """Wraps numbers for prose, tables and chart annotations. ``synthetic`` decides whether
    unpublished numbers are marked as model-only."""

    synthetic: bool
    root: Path | None = None
    ledger_page: str = LEDGER_PAGE
    # False in an edition for part of NAV: its numbers are not the report's, so pub() marks
    # them as computed, with no link to the ledger (docs/editions.md).
    whole: bool = True

    @cached_property
    def _root(self) -> Path:
        return self.root or repo_root()

    @cached_property
    def targets(self) -> dict[str, dict]:
        data = read_yaml(self._root / "params" / "published.yml")
        return {t["id"]: t for t in data.get("targets", [])}

    @cached_property
    def report(self) -> dict:
        return read_yaml(self._root / "params" / "report.yml") or {}

    # -- the three kinds ---------------------------------------------------------------------
    def pub(self, target_id: str, value: Real | str, *, unit: str = "%", decimals: int | None = None,
            word: bool = False) -> str:
        """A published number (percent by default), at the report's precision, linked to the
        ledger. ``value`` is in percent (0–100) for unit "%", or already formatted text."""
        if target_id not in self.targets:
            raise ConfigError(f"params/published.yml har ikke målet '{target_id}'")
        text = value if isinstance(value, str) else self._format(target_id, value, unit, decimals, word)
        if not self.whole:
            return self.model(text)
        return span(text, "publisert", href=f"{self.ledger_page}#ledger-{target_id}", ref=target_id)

    def fact(self, path: str, *, text: str | None = None, word: bool = False) -> str:
        """A report fact read from params/report.yml by dotted path (``interviews.deep``). A
        number is formatted the Norwegian way; ``text`` overrides the shown wording."""
        value = _dig(self.report, path)
        if text is None:
            if isinstance(value, bool) or not isinstance(value, Real):
                text = str(value)
            else:
                text = fmt.number_word(int(value)) if word and float(value).is_integer() else fmt.num(value)
        return span(text, "rapport", ref=path)

    def fact_value(self, path: str) -> Any:
        """The raw value of a report fact (for computing, e.g. a count of a list)."""
        return _dig(self.report, path)

    def model(self, text: str | Real, *, decimals: int = 0) -> str:
        """A number computed from the data and not published: marked on the synthetic twin."""
        shown = text if isinstance(text, str) else fmt.num(text, decimals)
        return span(shown, "modell" if self.synthetic else "data")

    def count(self, k: int, *, word: bool = False) -> str:
        """A computed count (not published): 'tre' or '3 660', as model-only on the twin."""
        return self.model(fmt.number_word(int(k)) if word else fmt.num(int(k)))

    # -- formatting --------------------------------------------------------------------------
    def decimals_of(self, target_id: str) -> int:
        check = self.targets[target_id].get("check", {})
        return int(check.get("decimals", 0))

    def _format(self, target_id: str, value: Real, unit: str, decimals: int | None, word: bool) -> str:
        d = self.decimals_of(target_id) if decimals is None else decimals
        # The report rounds half up, as a spreadsheet does (75,925 → 75,93).
        value = float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-d), ROUND_HALF_UP))
        if unit == "%":
            return fmt.pct(float(value) / 100, d, word=word)
        return fmt.num(value, d) + (f"{fmt.NBSP}{unit}" if unit else "")
