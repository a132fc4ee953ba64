"""Structure of the book: its chapters and appendices, their numbers, the data banner and
the title block, read from params/ and data/processed/. Shared by both renderers."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import nbformat
import yaml

from tillit.config import load_pipeline

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
LANGUAGE_FILE = "_language-nb-tillit.yml"
GENERATED_MARK = "# Generert av tillit.book.render – ikke rediger for hånd."
BOOK_TITLE = "Tillitsreformen i NAV – Delrapport 1"
BOOK_SUBTITLE = "Et reproduserbart forskningskompendium"
FIG_TITLE, TBL_TITLE = "Figur", "Tabell"
# Running-text cross-references are lower case in Norwegian; `@Fig-x` gives the capital.
FIG_PREFIX, TBL_PREFIX = "figur", "tabell"


class BookError(RuntimeError):
    """The book cannot be rendered; the message names the file and what is wrong."""


# --------------------------------------------------------------------------------------
# Structure: chapters, parts, appendices and their numbers
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Chapter:
    name: str                 # notebook name, e.g. "04_4_styring"
    title: str
    kind: Literal["chapter", "part", "appendix"]
    number: str | None        # "4", "A", or None (part pages are unnumbered, as in Quarto)
    part: str | None = None   # name of the part page this chapter belongs to

    @property
    def page(self) -> str:
        return f"{self.name}.html"

    @property
    def heading(self) -> str:
        if self.number is None:
            return self.title
        if self.kind == "appendix":
            return f"Vedlegg {self.number} – {self.title}"
        return f"{self.number}\u2002{self.title}"

    @property
    def toc_label(self) -> str:
        """As in Quarto's sidebar: the number (or appendix letter) and the title."""
        return self.title if self.number is None else f"{self.number}\u2002{self.title}"


def book_structure(root: Path) -> list[Chapter]:
    """The chapters of the book from params/pipeline.yml, numbered as Quarto numbers them.

    Chapters count 1, 2, … in order; a notebook that other notebooks name as their `part`
    becomes the (unnumbered) part page, and its members continue the chapter count;
    appendices count A, B, ….
    """
    spec = load_pipeline(root=root)
    book = [nb for nb in spec.notebooks if nb.book]
    parts = {nb.part for nb in book if nb.part}
    out: list[Chapter] = []
    n_chapter = n_appendix = 0
    for nb in book:
        if nb.appendix:
            n_appendix += 1
            out.append(Chapter(nb.name, nb.title, "appendix", chr(ord("A") + n_appendix - 1)))
        elif nb.name in parts:
            out.append(Chapter(nb.name, nb.title, "part", None))
        else:
            n_chapter += 1
            out.append(Chapter(nb.name, nb.title, "chapter", str(n_chapter), nb.part))
    if not out:
        raise BookError(f"{root / 'params/pipeline.yml'}: ingen notatbøker er merket som kapitler (book: true)")
    return out


def data_source(root: Path) -> dict:
    path = root / "data" / "processed" / "data_source.json"
    if not path.is_file():
        raise BookError(f"{path}: mangler – kjør klargjøringen (00_klargjoring) før boka bygges")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BookError(f"{path}: ugyldig JSON ({exc})") from None
    kind = info.get("kind") if isinstance(info, dict) else None
    if kind not in ("synthetic", "real"):
        raise BookError(f"{path}: feltet 'kind' er {kind!r}, forventet 'synthetic' eller 'real'")
    return info


@dataclass(frozen=True)
class Banner:
    title: str
    text: str
    level: str                # callout level: "warning" (synthetic twin) or "note" (real export)


def banner_for(info: dict) -> Banner:
    """The data banner every page carries; wording from tillit.book.context (one source), so the
    page banner says what each notebook's own banner said when it ran."""
    from tillit.book.context import data_source_text

    level, text = data_source_text(info)
    title = "Syntetiske data" if info["kind"] == "synthetic" else "Reelle data"
    return Banner(title, text, level)


@dataclass(frozen=True)
class BookMeta:
    title: str
    subtitle: str
    author: str


def book_meta(root: Path) -> BookMeta:
    """Title, subtitle and byline: from params/report.yml when it has them."""
    path = root / "params" / "report.yml"
    info = {}
    if path.is_file():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        info = loaded if isinstance(loaded, dict) else {}
    publisher = info.get("publisher", "Arbeids- og velferdsdirektoratet")
    published = info.get("published", "juni 2023")
    return BookMeta(title=str(info.get("title", BOOK_TITLE)),
                    subtitle=str(info.get("subtitle", BOOK_SUBTITLE)),
                    author=f"Gjenskapt etter rapporten fra {publisher} ({published})")


def _read_notebook(path: Path) -> nbformat.NotebookNode:
    if not path.is_file():
        raise BookError(f"{path}: den kjørte notatboken mangler – kjør notatbøkene før boka bygges")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several types for a broken file
        raise BookError(f"{path}: kan ikke leses som notatbok ({exc})") from None


def _check_no_errors(nb, path: Path) -> None:
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise BookError(f"{path}: celle {i} endte med feil {out.get('ename')}: {out.get('evalue')} "
                                "– en notatbok med feil blir ikke publisert")

