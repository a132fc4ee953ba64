"""Numbers, as Quarto gives them, computed once for both renderers: figures and tables per
page (Figur 4.3, Tabell A.1), sections under their chapter (4.2.4.8), cross-references."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tillit.book.render.markdown import Heading, rewrite_headings
from tillit.book.render.structure import FIG_PREFIX, TBL_PREFIX, BookError, Page

CROSSREF_RE = re.compile(r"(\[-)?(?<![\w@/.])@([Ff]ig|[Tt]bl)-([A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)(\])?")


@dataclass(frozen=True)
class Float:
    label: str
    kind: Literal["fig", "tbl"]
    number: str               # "4.2", "A.1"
    page: str

    def ref(self, capital: bool = False, number_only: bool = False) -> str:
        if number_only:
            return self.number
        prefix = {"fig": FIG_PREFIX, "tbl": TBL_PREFIX}[self.kind]
        return f"{prefix.capitalize() if capital else prefix} {self.number}"


def tillit_meta(output) -> dict | None:
    meta = output.get("metadata", {}).get("tillit") if isinstance(output.get("metadata"), dict) else None
    return meta if isinstance(meta, dict) else None


def number_floats(pages: list[Page]) -> dict[str, Float]:
    """Label → number for every figure and table made with tillit.book.display, per page in
    order of appearance (figures and tables counted separately, as Quarto does)."""
    registry: dict[str, Float] = {}
    where: dict[str, str] = {}
    for page in pages:
        counts = {"fig": 0, "tbl": 0}
        for i, cell in enumerate(page.cells):
            for out in cell.get("outputs", []):
                meta = tillit_meta(out)
                if not meta or meta.get("kind") not in ("figure", "table"):
                    continue
                kind = "fig" if meta["kind"] == "figure" else "tbl"
                label = meta.get("label", "")
                if not isinstance(label, str) or not label.startswith(kind + "-"):
                    raise BookError(f"{page.where(i)}: etiketten {label!r} passer ikke til "
                                    f"'{meta['kind']}' (forventet '{kind}-…')")
                if label in registry:
                    raise BookError(f"{page.where(i)}: etiketten '{label}' er allerede brukt i {where[label]}")
                counts[kind] += 1
                registry[label] = Float(label, kind, f"{page.number}.{counts[kind]}", page.page)
                where[label] = page.where(i)
    return registry


def resolve_crossrefs(text: str, registry: dict[str, Float], page: str, context: str) -> str:
    """Replace Quarto cross-references (@fig-x, @Fig-x, [-@tbl-x]) by Markdown links."""
    def sub(m: re.Match) -> str:
        bracket_open, kind, rest, bracket_close = m.group(1), m.group(2), m.group(3), m.group(4)
        label = f"{kind.lower()}-{rest}"
        target = registry.get(label)
        if target is None:
            raise BookError(f"{context}: kryssreferansen '@{label}' peker ikke på noen figur eller tabell "
                            f"(kjente: {', '.join(sorted(registry)) or 'ingen'})")
        number_only = bool(bracket_open and bracket_close)
        text_ = target.ref(capital=kind[0].isupper(), number_only=number_only)
        href = f"#{label}" if target.page == page else f"{target.page}#{label}"
        link = f"[{text_}]({href})"
        if bracket_open and not bracket_close:
            return "[-" + link
        if bracket_close and not bracket_open:
            return link + "]"
        return link
    return CROSSREF_RE.sub(sub, text)


def check_crossrefs(pages: list[Page], registry: dict[str, Float]) -> None:
    """Every cross-reference points at a figure or table of the book (Quarto only warns)."""
    for page in pages:
        for i, cell in enumerate(page.cells):
            texts = [cell["source"]] if cell["cell_type"] == "markdown" else [
                (out.get("data") or {}).get("text/markdown", "") for out in cell.get("outputs", [])]
            for text in texts:
                resolve_crossrefs(text, registry, page.page, page.where(i))


# --------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------
class SectionCounter:
    """Pandoc's section numbers under a chapter number (as Quarto numbers a book chapter):
    `##` → 4.1, `###` → 4.1.1, a skipped level counts as 0. An `.unnumbered` heading takes no
    number and leaves the counters alone."""

    def __init__(self, chapter: str):
        self.chapter = chapter
        self.counts: list[int] = []

    def number(self, level: int, numbered: bool) -> str | None:
        if not numbered or level < 2:
            return None
        depth = level - 1
        if len(self.counts) >= depth:
            self.counts = self.counts[:depth]
            self.counts[-1] += 1
        else:
            self.counts = self.counts + [0] * (depth - len(self.counts) - 1) + [1]
        return ".".join([self.chapter, *map(str, self.counts)])


class UnnumberedScope:
    """Makes every heading below an `.unnumbered` heading unnumbered too, until a heading at
    its level or above: a compendium addition's own subsections never borrow the report's
    numbers (Pandoc alone would number them on from the section before)."""

    def __init__(self):
        self.level: int | None = None

    def __call__(self, h: Heading) -> Heading | None:
        if self.level is not None and h.level <= self.level:
            self.level = None
        if self.level is None:
            if not h.numbered:
                self.level = h.level
            return None
        if h.numbered:
            h.classes.append("unnumbered")
            return h
        return None


def scope_unnumbered(page: Page) -> None:
    """Apply UnnumberedScope over the page's Markdown, cells and outputs in reading order."""
    scope = UnnumberedScope()
    for cell in page.cells:
        if cell["cell_type"] == "markdown":
            cell["source"] = rewrite_headings(cell["source"], scope)
            continue
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            if "text/markdown" in data:
                data["text/markdown"] = rewrite_headings(data["text/markdown"], scope)
