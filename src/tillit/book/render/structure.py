"""Structure of the book, shared by both renderers: its pages (chapters 1–6 in pipeline order,
then the lettered appendices), their numbers and titles, the data banner and the title block.

The convention (docs/rendering.md): a notebook opens with `# <chapter title>`; a level-1
heading `# Title {#app-x .appendix}` starts a lettered appendix on its own page `app-x.html`,
so one notebook can hold a chapter and several appendices (06_vedlegg) or just an appendix
(00_klargjoring). Chapters count 1, 2, … and appendices A, B, … in book order.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from tillit.book.render.markdown import Heading, heading_lines, headings, rewrite_headings
from tillit.config import load_pipeline

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
LANGUAGE_FILE = "_language-nb-tillit.yml"
GENERATED_MARK = "# Generert av tillit.book.render – ikke rediger for hånd."
BOOK_TITLE = "Tillitsreformen i NAV – Delrapport 1"
BOOK_SUBTITLE = "Et reproduserbart forskningskompendium"
FIG_TITLE, TBL_TITLE = "Figur", "Tabell"
# Running-text cross-references are lower case in Norwegian; `@Fig-x` gives the capital.
FIG_PREFIX, TBL_PREFIX = "figur", "tabell"
# The compendium's lettered additions are "Tillegg": the report's own chapter 6 is "Vedlegg".
APPENDIX_WORD = "Tillegg"
INDEX_HEADING = "Om kompendiet"
SETUP_TAGS = frozenset({"parameters", "injected-parameters", "setup"})
APPENDIX_ID_RE = re.compile(r"^[a-z][a-z0-9-]*$")


class BookError(RuntimeError):
    """The book cannot be rendered; the message names the file and what is wrong."""


@dataclass
class Page:
    """One page of the book: a chapter (or an appendix) cut from one notebook."""
    id: str                    # page stem: "04_hovedfunn", "app-regnskap"
    title: str
    kind: Literal["chapter", "appendix"]
    number: str                # "4" or "B"
    notebook: str              # the notebook it comes from
    cells: list = field(default_factory=list, repr=False)     # nbformat cells (copies)
    origins: list = field(default_factory=list, repr=False)   # (path, cell index) per cell

    @property
    def page(self) -> str:
        return f"{self.id}.html"

    @property
    def heading(self) -> str:
        """The page title as Quarto writes it (chapter: number and title; appendix: word, letter, dash)."""
        if self.kind == "appendix":
            return f"{APPENDIX_WORD} {self.number} — {self.title}"
        return f"{self.number}\u2002{self.title}"

    @property
    def toc_label(self) -> str:
        return f"{self.number}\u2002{self.title}"

    def where(self, i: int) -> str:
        path, index = self.origins[i]
        return f"{path}: celle {index}"


def read_notebook(path: Path) -> dict:
    """An executed notebook as plain JSON (nbformat-shaped dicts; no jsonschema validation)."""
    if not path.is_file():
        raise BookError(f"{path}: den kjørte notatboken mangler – kjør notatbøkene før boka bygges")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BookError(f"{path}: kan ikke leses som notatbok ({exc})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise BookError(f"{path}: kan ikke leses som notatbok (mangler 'cells')")
    for cell in nb["cells"]:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        for out in cell.get("outputs", []):
            for key, value in (out.get("data") or {}).items():
                if isinstance(value, list):
                    out["data"][key] = "".join(value)
    return nb


def check_no_errors(nb: dict, path: Path) -> None:
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise BookError(f"{path}: celle {i} endte med feil {out.get('ename')}: {out.get('evalue')} "
                                "– en notatbok med feil blir ikke publisert")


def is_setup(cell: dict) -> bool:
    return bool(SETUP_TAGS & set(cell.get("metadata", {}).get("tags", [])))


def _demote(cell: dict) -> None:
    """Transition only (the 04_* notebooks before they are merged into 04_hovedfunn): a
    notebook that continues the chapter of the one before it has its headings moved down
    one level, so its title becomes a section of that chapter."""
    def down(h: Heading) -> Heading:
        h.level = min(h.level + 1, 6)
        return h
    if cell["cell_type"] == "markdown":
        cell["source"] = rewrite_headings(cell["source"], down)
    for out in cell.get("outputs", []):
        data = out.get("data") or {}
        if "text/markdown" in data:
            data["text/markdown"] = rewrite_headings(data["text/markdown"], down)


def _split_at_appendices(cells: list, origins: list, path: Path) -> list[tuple[Heading | None, list, list]]:
    """Cut a notebook's cells at each `# Title {#app-x .appendix}` markdown heading.
    Returns (appendix heading or None for the leading chapter part, cells, origins); the
    appendix heading itself is taken out (the renderers write the page title)."""
    parts: list[tuple[Heading | None, list, list]] = [(None, [], [])]
    for cell, origin in zip(cells, origins):
        if cell["cell_type"] != "markdown":
            for out in cell.get("outputs", []):
                md = (out.get("data") or {}).get("text/markdown", "")
                if any(h.level == 1 for h in headings(md)):
                    raise BookError(f"{path}: celle {origin[1]}: en overskrift på nivå 1 i utdata fra kode; "
                                    "kapitler og tillegg begynner i en Markdown-celle")
            parts[-1][1].append(cell)
            parts[-1][2].append(origin)
            continue
        lines = cell["source"].split("\n")
        starts = {k: h for k, h in heading_lines(cell["source"]) if h.level == 1 and "appendix" in h.classes}
        cuts = sorted({0, *starts, len(lines)})
        for a, b in zip(cuts, cuts[1:]):
            if a in starts:
                head = starts[a]
                if not head.ident or not APPENDIX_ID_RE.match(head.ident):
                    raise BookError(f"{path}: celle {origin[1]}: tillegget '{head.title}' mangler en id "
                                    "(skriv '# Tittel {#app-navn .appendix}')")
                parts.append((head, [], []))
                a += 1
            chunk = "\n".join(lines[a:b]).strip("\n")
            if chunk:
                parts[-1][1].append(dict(cell, source=chunk, metadata=dict(cell.get("metadata", {}))))
                parts[-1][2].append(origin)
    return parts


def _take_title(cells: list, path: Path, take: bool) -> str | None:
    """The chapter's title: the level-1 heading that opens its first text (removed from the
    cells: the renderers write the title themselves). Any other level-1 heading is refused."""
    first = _first_text(cells)
    title = None
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue

        def check(h: Heading, cell=cell):
            nonlocal title
            if h.level != 1:
                return None
            opening = cell is first and cell["source"].lstrip().startswith("#") and title is None
            if take and opening:
                title = h.title
                return ""
            raise BookError(f"{path}: overskriften '# {h.title}' står midt i et kapittel: bruk '##' "
                            "for en seksjon eller '{#app-navn .appendix}' for et tillegg")
        cell["source"] = rewrite_headings(cell["source"], check).strip("\n")
    return title


def _first_text(cells: list):
    return next((c for c in cells if c["cell_type"] == "markdown" and c["source"].strip()), None)


def _has_content(cells: list) -> bool:
    return any((c["cell_type"] == "markdown" and c["source"].strip())
               or (c["cell_type"] == "code" and not is_setup(c) and c.get("outputs")) for c in cells)


def _groups(root: Path) -> list[tuple[str, str, list, list]]:
    """(page id, fallback title, cells, origins) per chapter notebook, in pipeline order.
    Notebooks sharing a two-digit prefix (04_0_…, 04_1_…) form one chapter during the
    transition to one notebook per chapter."""
    spec = load_pipeline(root=root)
    groups: list[tuple[str, str, list, list]] = []
    prefix = None
    for nb_spec in (nb for nb in spec.notebooks if nb.book):
        path = root / "outputs" / "notebooks" / f"{nb_spec.name}.ipynb"
        nb = read_notebook(path)
        check_no_errors(nb, path)
        origins = [(path, i) for i in range(len(nb["cells"]))]
        this = re.match(r"^(\d+)_", nb_spec.name)
        this = this.group(1) if this else nb_spec.name
        if groups and this == prefix:
            for cell in nb["cells"]:
                _demote(cell)
            groups[-1][2].extend(nb["cells"])
            groups[-1][3].extend(origins)
        else:
            groups.append((nb_spec.name, nb_spec.title, nb["cells"], origins))
        prefix = this
    return groups


def book_pages(root: Path) -> list[Page]:
    """Every page of the book, in book order, with its cells (read from outputs/notebooks/)."""
    chapters: list[Page] = []
    appendices: list[Page] = []
    seen: dict[str, str] = {}
    for name, fallback_title, cells, origins in _groups(root):
        path = origins[0][0] if origins else root / "outputs" / "notebooks" / f"{name}.ipynb"
        for head, part_cells, part_origins in _split_at_appendices(cells, origins, path):
            if head is None:
                if not _has_content(part_cells):
                    continue
                title = _take_title(part_cells, path, True) or fallback_title
                page = Page(name, title, "chapter", str(len(chapters) + 1), name, part_cells, part_origins)
                chapters.append(page)
            else:
                _take_title(part_cells, path, False)
                page = Page(head.ident, head.title, "appendix", "", name, part_cells, part_origins)
                appendices.append(page)
            if page.id in seen or page.id == "index":
                raise BookError(f"{path}: siden '{page.id}' finnes allerede (fra {seen.get(page.id, 'forsiden')})")
            seen[page.id] = name
    for k, page in enumerate(appendices):
        page.number = chr(ord("A") + k)
    pages = chapters + appendices
    if not pages:
        raise BookError(f"{root / 'params/pipeline.yml'}: ingen notatbøker gir sider i boka")
    return pages


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
        # libyaml's parser where PyYAML has it: the same values, a tenth of the time (report.yml is long)
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        info = loaded if isinstance(loaded, dict) else {}
    publisher = info.get("publisher", "Arbeids- og velferdsdirektoratet")
    published = info.get("published", "juni 2023")
    return BookMeta(title=str(info.get("title", BOOK_TITLE)),
                    subtitle=str(info.get("subtitle", BOOK_SUBTITLE)),
                    author=f"Gjenskapt etter rapporten fra {publisher} ({published})")
