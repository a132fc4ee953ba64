"""Every number the book prints, with its kind.

Three kinds, told apart in the HTML both renderers keep (a plain inline ``<span>``):

- ``publisert``: a number the report published and the data reproduce; shown at the report's
  precision and linked to its row in the reproduction ledger (``app-regnskap.html#ledger-<id>``);
- ``rapport``: a fact from the report that is not survey data (66 interviews, 29 kommuner);
  read from ``params/report.yml``, never typed into prose;
- ``modell``: computed from the data but not published. On the synthetic twin such a number
  exists only because the generator made it, so it is marked (style, tooltip and a word for
  screen readers); on a real export it is a real number and the marking disappears
  (``data-kind="data"``).

Usage in a chapter:  ``n = ctx.num``; ``n.pub("kompetanse_positiv", 75.93)``,
``n.fact("interviews.deep")``, ``n.model(fmt.pct(share))`` (or ``n.pct(share)``).

A comparative claim in prose ("oftest", "høyest", "nr. 7") is written with :meth:`Numbers.claim`,
which names the table (or figure) and column it rests on, so a test can check the claim against
the very table the reader sees; given the values it is also checked at once.

The styles live in the ``/* numbers */`` block of ``templates/static/book.css``; what the marks
mean is explained once, in the banner (:func:`banner_sentence`) and in the methods appendix
(:func:`explanation_markdown`). :mod:`tillit.book.numbers_check` finds unmarked numbers in a
built book.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from numbers import Real
from pathlib import Path
from typing import Any, Mapping, Sequence

from tillit import fmt
from tillit.config import ConfigError, read_yaml, repo_root

KINDS = ("publisert", "rapport", "modell", "data")
TITLES = {
    "publisert": "Publisert i Delrapport 1 og gjenskapt fra dataene – lenken går til raden i "
                 "reproduksjonsregnskapet",
    "rapport": "Faktum fra Delrapport 1 (ikke fra spørreundersøkelsen)",
    "modell": "Modelltall: regnet ut fra de syntetiske dataene og ikke publisert i Delrapport 1 – "
              "ikke NAVs tall",
    "data": "Regnet ut fra dataene",
}
# What a screen reader hears after a model-only number in prose (tables say it once, in the note).
SPOKEN = {"modell": "modelltall"}
# The page that holds the reproduction ledger (its rows carry id="ledger-<id>").
LEDGER_PAGE = "app-regnskap.html"
# Numbers never break inside (white-space: nowrap); a longer text (a published ranking in
# words, a document title) may.
LONG = 24
CLAIM_OPS = ("max", "min", "rank", "top", "order", "gt", "near")


class ClaimError(ValueError):
    """A comparative sentence says something its own numbers do not."""


def span(text: str, kind: str, *, href: str | None = None, title: str | None = None,
         ref: str | None = None, spoken: bool = True, attrs: Mapping[str, str] | None = None) -> str:
    """The one HTML form of a number: ``<span class="tall" data-kind="…">``.

    ``spoken=False`` leaves out the hidden word for screen readers (used in table cells, whose
    table says once what its numbers are)."""
    if kind not in KINDS:
        raise ValueError(f"ukjent talltype {kind!r}; forventet en av {KINDS}")
    parts = [f'class="tall" data-kind="{kind}"',
             f'title="{html.escape(title or TITLES[kind], quote=True)}"']
    if ref:
        parts.append(f'data-ref="{html.escape(ref, quote=True)}"')
    for key, value in (attrs or {}).items():
        parts.append(f'{key}="{html.escape(str(value), quote=True)}"')
    if len(str(text)) > LONG:
        parts.append('data-long="ja"')   # a phrase, not a number: it may wrap on a phone
    inner = html.escape(str(text), quote=False)
    if href:
        inner = f'<a href="{html.escape(href, quote=True)}">{inner}</a>'
    if spoken and kind in SPOKEN:
        inner += f'<span class="visually-hidden"> ({SPOKEN[kind]})</span>'
    return f"<span {' '.join(parts)}>{inner}</span>"


def _dig(data: Any, path: str) -> Any:
    cur = data
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, dict) and part.isdigit() and int(part) in cur:
            cur = cur[int(part)]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise ConfigError(f"params/report.yml: finner ikke '{path}' (stopp ved '{part}')")
    return cur


def round_half_up(value: float, decimals: int) -> float:
    """The report rounds half up, as a spreadsheet does (75,925 → 75,93)."""
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP))


# --- the explanation, written once ------------------------------------------------------------
def banner_sentence(synthetic: bool) -> str:
    """The banner's plain-text sentence on how to read the marks (no HTML: the page template
    escapes the banner)."""
    if synthetic:
        return ("Tall med grå bakgrunn og prikket understreking er modelltall: de finnes bare fordi "
                "tvillingen lagde dem, og er ikke NAVs tall. Tall som er lenker, står i Delrapport 1 "
                "og er gjenskapt; lenken viser raden i reproduksjonsregnskapet.")
    return ("Alle tall er regnet ut fra dataene. Tall som er lenker, står i Delrapport 1; lenken "
            "viser raden i reproduksjonsregnskapet.")


def legend_html() -> str:
    """One line per kind, each with the mark itself, for the front page and the appendix."""
    return (
        "<ul class=\"tall-legend\">"
        f"<li>{span('Lenketall', 'publisert', href=LEDGER_PAGE)} er <strong>publisert</strong> i "
        "Delrapport 1 og regnet ut på nytt fra dataene, med rapportens presisjon. Lenken går til "
        "raden i reproduksjonsregnskapet, der rapportens tall og vårt tall står side om side.</li>"
        f"<li>{span('Rapporttall', 'rapport')} er <strong>fakta fra rapporten</strong> som ikke "
        "kommer fra spørreundersøkelsen, for eksempel hvor mange intervjuer som ble gjort.</li>"
        f"<li>{span('Modelltall', 'modell', spoken=False)} (grå bakgrunn, prikket understreking) er "
        "<strong>regnet ut fra dataene, men ikke publisert</strong>. Når boka viser den syntetiske "
        "tvillingen, finnes slike tall bare fordi tvillingen lagde dem: de sier ingenting om NAV og "
        "skal ikke siteres som NAVs tall. Bygges boka på den reelle eksporten, er alle tall ekte, og "
        "markeringen forsvinner.</li></ul>"
    )


def explanation_markdown(synthetic: bool = True) -> str:
    """The methods appendix's paragraph on the three kinds of numbers (Markdown with inline HTML)."""
    now = ("Denne utgaven bygger på den syntetiske tvillingen, så modelltallene er markert."
           if synthetic else "Denne utgaven bygger på den reelle eksporten, så ingen tall er markert "
           "som modelltall.")
    return (
        "Boka skiller mellom tre slags tall, og hvert tall i teksten, i tabellene og i figurenes "
        "tabellvisning sier selv hva det er:\n\n" + legend_html() + "\n\n"
        "Et publisert tall vises med rapportens presisjon. Tabeller og figurer viser beregnede tall "
        "med sin egen presisjon, og tallene i dem er modelltall når dataene er syntetiske. Holder du "
        "pekeren over et tall, står det hva slags tall det er; skjermlesere leser «modelltall» etter "
        f"hvert modelltall i teksten. {now} Påstander om rekkefølge og størrelse i teksten («høyest», "
        "«oftest», en plassering i en rangering) er regnet ut fra tabellen eller figuren de viser til, og boka testes på at "
        "de stemmer med den."
    )


# --- numbers ----------------------------------------------------------------------------------
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
        out = {t["id"]: t for t in data.get("targets", [])}
        # Published numbers without data have ledger rows too (never ticked).
        out.update({t["id"]: {**t, "check": {}} for t in data.get("not_reproducible", [])})
        return out

    @cached_property
    def report(self) -> dict:
        return read_yaml(self._root / "params" / "report.yml") or {}

    @property
    def model_kind(self) -> str:
        return "modell" if self.synthetic else "data"

    # -- the three kinds ---------------------------------------------------------------------
    def pub(self, target_id: str, value: Real | str, *, unit: str = "%", decimals: int | None = None,
            word: bool = False) -> str:
        """A published number (percent by default), at the report's precision, linked to the
        ledger. ``value`` is in percent (0–100) for unit "%", or already formatted text.

        A number that does not round to the published value is a bug in the chapter on the
        twin (it reproduces every target), so it raises; on a real export it is shown, marked
        ``data-avvik`` and titled with the published value."""
        if target_id not in self.targets:
            raise ConfigError(f"params/published.yml har ikke målet '{target_id}'")
        if not self.whole:  # an edition: computed for its part of NAV, not the report's number
            return self.model(value if isinstance(value, str) else self._format(target_id, value, unit, decimals, word))
        attrs: dict[str, str] = {}
        title = None
        if isinstance(value, str):
            text = value
        else:
            text = self._format(target_id, value, unit, decimals, word)
            mismatch = self._mismatch(target_id, float(value))
            if mismatch:
                if self.synthetic:
                    raise ConfigError(f"ctx.num.pub('{target_id}', {value!r}): {mismatch}")
                attrs["data-avvik"] = "ja"
                title = f"{TITLES['publisert']}. Avviker fra rapporten: {mismatch}"
        return span(text, "publisert", href=f"{self.ledger_page}#ledger-{target_id}", ref=target_id,
                    title=title, attrs=attrs)

    def pub_range(self, target_id: str, lo: Real, hi: Real, *, decimals: int | None = None,
                  word: bool = False) -> str:
        """A published range of percents ("15–30 %"), linked to its ledger row."""
        if target_id not in self.targets:
            raise ConfigError(f"params/published.yml har ikke målet '{target_id}'")
        d = self.decimals_of(target_id) if decimals is None else decimals
        unit = "prosent" if word else "%"
        text = f"{fmt.num(round_half_up(lo, d), d)}–{fmt.num(round_half_up(hi, d), d)}{fmt.NBSP}{unit}"
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
        return span(shown, self.model_kind)

    def count(self, k: int, *, word: bool = False) -> str:
        """A computed count (not published): 'tre' or '3 660', as model-only on the twin."""
        return self.model(fmt.number_word(int(k)) if word else fmt.num(int(k)))

    # -- conveniences over model() -----------------------------------------------------------
    def pct(self, share: Real, decimals: int = 0, *, word: bool = False) -> str:
        """A computed share (0–1) as '27 %' (or '27 prosent'), not published."""
        return self.model(fmt.pct(share, decimals, word=word))

    def mean(self, x: Real, decimals: int = 2) -> str:
        """A computed mean ('3,70'), not published."""
        return self.model(fmt.num(x, decimals))

    def interval(self, lo: Real, hi: Real, decimals: int = 2) -> str:
        """'−3,49 til −2,73' as one unbreakable model number."""
        return self.model(f"{fmt.signed(lo, decimals)} til {fmt.signed(hi, decimals)}")

    # -- comparative claims ------------------------------------------------------------------
    def claim(self, text: str, *, table: str, column: str, rows: str | Sequence[str], op: str = "max",
              k: int | None = None, tol: float | None = None,
              values: Mapping[str, float] | None = None) -> str:
        """A comparative phrase in prose, tied to the table it rests on.

        ``table`` is the label of the table or figure the reader can check (``tbl-faktorer``;
        a figure's "Vis som tabell" counts), ``column`` the header of the column compared,
        ``rows`` the first-column label(s) the claim is about. ``op``:

        - ``max`` / ``min``: ``rows`` holds the largest / smallest value of the column;
        - ``rank`` (``k``): ``rows`` is number ``k`` from the top; ``top`` (``k``): among the top ``k``;
        - ``order``: ``rows`` (several) are in falling order; ``gt``: the first row is larger than
          each of the others; ``near`` (``tol``): all rows within ``tol`` of each other.

        With ``values`` (row label → number, all rows of the column) the claim is checked now
        and a false one raises :class:`ClaimError`.
        """
        rows = [rows] if isinstance(rows, str) else list(rows)
        if op not in CLAIM_OPS:
            raise ValueError(f"ukjent påstand {op!r}; forventet en av {CLAIM_OPS}")
        if op in ("rank", "top") and not k:
            raise ValueError(f"påstanden '{op}' trenger k")
        if op == "near" and tol is None:
            raise ValueError("påstanden 'near' trenger tol")
        if values is not None:
            problem = check_claim(op, rows, dict(values), k=k, tol=tol)
            if problem:
                raise ClaimError(f"«{text}» ({table}, {column}): {problem}")
        attrs = {"data-claim": op, "data-table": table, "data-column": column, "data-rows": "|".join(rows)}
        if k is not None:
            attrs["data-k"] = str(k)
        if tol is not None:
            attrs["data-tol"] = repr(float(tol))
        inner = " ".join(f'{key}="{html.escape(v, quote=True)}"' for key, v in attrs.items())
        return f'<span class="claim" {inner}>{html.escape(text, quote=False)}</span>'

    # -- formatting --------------------------------------------------------------------------
    def decimals_of(self, target_id: str) -> int:
        check = self.targets[target_id].get("check", {})
        return int(check.get("decimals", 0))

    def _format(self, target_id: str, value: Real, unit: str, decimals: int | None, word: bool) -> str:
        d = self.decimals_of(target_id) if decimals is None else decimals
        value = round_half_up(float(value), d)
        if unit == "%":
            return fmt.pct(value / 100, d, word=word)
        return fmt.num(value, d) + (f"{fmt.NBSP}{unit}" if unit else "")

    def _mismatch(self, target_id: str, value: float) -> str | None:
        """Why ``value`` is not the published number, or None (also when it cannot be told)."""
        check = self.targets[target_id].get("check", {})
        op = check.get("op")
        if math.isnan(value):
            return "verdien mangler"
        if op == "round_eq":
            d = int(check.get("decimals", 0))
            if round_half_up(value, d) != round_half_up(float(check["value"]), d):
                return f"{fmt.num(round_half_up(value, d), d)} er ikke rapportens {fmt.num(float(check['value']), d)}"
        elif op == "eq" and value != float(check["value"]):
            return f"{fmt.num(value)} er ikke rapportens {fmt.num(float(check['value']))}"
        elif op == "round_between":
            d = int(check.get("decimals", 0))
            if not float(check["lo"]) <= round_half_up(value, d) <= float(check["hi"]):
                return f"{fmt.num(value, d)} ligger utenfor {check['lo']}–{check['hi']}"
        return None


def check_claim(op: str, rows: list[str], values: dict[str, float], *, k: int | None = None,
                tol: float | None = None) -> str | None:
    """Why a claim is false for ``values`` (label → number), or None when it holds."""
    known = {r: v for r, v in values.items() if v is not None and not math.isnan(v)}
    missing = [r for r in rows if r not in known]
    if missing:
        return f"finner ikke {', '.join(missing)} blant {', '.join(known) or 'ingen verdier'}"
    ordered = sorted(known, key=lambda r: known[r], reverse=True)
    head = rows[0]
    if op == "max" and known[head] < max(known.values()):
        return f"{head} ({known[head]:g}) er ikke størst; {ordered[0]} har {known[ordered[0]]:g}"
    if op == "min" and known[head] > min(known.values()):
        return f"{head} ({known[head]:g}) er ikke minst; {ordered[-1]} har {known[ordered[-1]]:g}"
    if op in ("rank", "top"):
        # Ties share the better place, as a ranking table shows them.
        place = 1 + sum(1 for v in known.values() if v > known[head])
        if (op == "rank" and place != k) or (op == "top" and place > k):
            return f"{head} er nr. {place}, ikke {'nr. ' if op == 'rank' else 'blant de '}{k}"
    if op == "order":
        vals = [known[r] for r in rows]
        if any(a < b for a, b in zip(vals, vals[1:])):
            return "rekkefølgen " + " > ".join(rows) + " stemmer ikke (" + ", ".join(f"{v:g}" for v in vals) + ")"
    if op == "gt" and any(known[head] <= known[r] for r in rows[1:]):
        return f"{head} ({known[head]:g}) er ikke større enn " + ", ".join(f"{r} ({known[r]:g})" for r in rows[1:])
    if op == "near":
        vals = [known[r] for r in rows]
        if max(vals) - min(vals) > float(tol):
            return f"forskjellen {max(vals) - min(vals):g} er større enn {tol:g}"
    return None
