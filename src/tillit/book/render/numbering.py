"""Figure and table numbers (per chapter, as Quarto numbers them) and cross-references."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import nbformat

from tillit.book.render.structure import (FIG_PREFIX, TBL_PREFIX, BookError, Chapter)

CROSSREF_RE = re.compile(r"(\[-)?(?<![\w@/.])@([Ff]ig|[Tt]bl)-([A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)(\])?")


@dataclass(frozen=True)
class Float:
    label: str
    kind: Literal["fig", "tbl"]
    number: str               # "4.2", "A.1", or "2" in an unnumbered page
    page: str

    def ref(self, capital: bool = False, number_only: bool = False) -> str:
        if number_only:
            return self.number
        prefix = {"fig": FIG_PREFIX, "tbl": TBL_PREFIX}[self.kind]
        return f"{prefix.capitalize() if capital else prefix} {self.number}"


def _tillit_meta(output) -> dict | None:
    meta = output.get("metadata", {}).get("tillit") if isinstance(output.get("metadata"), dict) else None
    return meta if isinstance(meta, dict) else None


def number_floats(chapters: list[Chapter], notebooks: dict[str, nbformat.NotebookNode],
                  paths: dict[str, Path]) -> dict[str, Float]:
    registry: dict[str, Float] = {}
    where: dict[str, str] = {}
    for ch in chapters:
        counts = {"fig": 0, "tbl": 0}
        for i, cell in enumerate(notebooks[ch.name].cells):
            for out in cell.get("outputs", []):
                meta = _tillit_meta(out)
                if not meta or meta.get("kind") not in ("figure", "table"):
                    continue
                kind = "fig" if meta["kind"] == "figure" else "tbl"
                label = meta.get("label", "")
                if not isinstance(label, str) or not label.startswith(kind + "-"):
                    raise BookError(f"{paths[ch.name]}: celle {i}: etiketten {label!r} passer ikke til "
                                    f"'{meta['kind']}' (forventet '{kind}-…')")
                if label in registry:
                    raise BookError(f"{paths[ch.name]}: celle {i}: etiketten '{label}' er allerede brukt i {where[label]}")
                counts[kind] += 1
                number = f"{ch.number}.{counts[kind]}" if ch.number else str(counts[kind])
                registry[label] = Float(label, kind, number, ch.page)
                where[label] = f"{paths[ch.name]} celle {i}"
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

