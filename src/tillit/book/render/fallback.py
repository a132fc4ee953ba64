"""The HTML book: a real Quarto book project, rendered by Quarto where it exists, and an
nbconvert fallback that gives readers the same chapters, numbers and navigation where it
does not. See docs/rendering.md.

Both renderers read the executed notebooks in outputs/notebooks/ (never re-execute them) and
write outputs/book/. A render goes to a temporary directory first and replaces the book only
when complete, so a failed render leaves the last good book as it was.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import jinja2
import mistune
import nbformat
import yaml
from bs4 import BeautifulSoup
from markupsafe import Markup

from tillit.config import ConfigError, load_pipeline, repo_root

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGE_FILE = "_language-nb-tillit.yml"
GENERATED_MARK = "# Generert av tillit.book.render – ikke rediger for hånd."
BOOK_TITLE = "Tillitsreformen i NAV – Delrapport 1"
BOOK_SUBTITLE = "Et reproduserbart forskningskompendium"
FIG_TITLE, TBL_TITLE = "Figur", "Tabell"
# Running-text cross-references are lower case in Norwegian; `@Fig-x` gives the capital.
FIG_PREFIX, TBL_PREFIX = "figur", "tabell"

CROSSREF_RE = re.compile(r"(\[-)?(?<![\w@/.])@([Ff]ig|[Tt]bl)-([A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)(\])?")
HEADING_ATTR_RE = re.compile(r"\s*\{([^{}]*)\}\s*$")
REPR_PATTERNS = (re.compile(r"<pandas\."), re.compile(r"Traceback \(most recent call last\)"),
                 re.compile(r"(?<![\w@/.])@(?:fig|tbl)-\w"),  # an unresolved cross-reference
                 re.compile(r"<(?:matplotlib|statsmodels|tillit)\.[\w.]+ object at 0x"))


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


# --------------------------------------------------------------------------------------
# Figure and table numbers (per chapter, as Quarto numbers them)
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# Markdown (Quarto-flavoured CommonMark) to HTML for the fallback
# --------------------------------------------------------------------------------------
_markdown = mistune.create_markdown(escape=False, plugins=["table", "strikethrough", "footnotes", "url"])
FENCE_OPEN_RE = re.compile(r"^\s*(:{3,})\s*\{([^}]*)\}\s*$|^\s*(:{3,})\s*([\w-]+)\s*$")
FENCE_CLOSE_RE = re.compile(r"^\s*:{3,}\s*$")
CALLOUT_TITLES = {"note": "Merk", "warning": "Advarsel", "important": "Viktig", "tip": "Tips", "caution": "Forsiktig"}


def _attrs(spec: str) -> tuple[str | None, list[str]]:
    ident, classes = None, []
    for token in spec.split():
        if token.startswith("#"):
            ident = token[1:]
        elif token.startswith("."):
            classes.append(token[1:])
        elif token == "-":
            classes.append("unnumbered")
    return ident, classes


def _split_fenced_divs(text: str) -> list[tuple[str, object]]:
    """Top-level pieces: ("md", text) or ("div", (attrs, inner text)). Pandoc fenced divs."""
    lines = text.split("\n")
    pieces: list[tuple[str, object]] = []
    buf: list[str] = []
    i = 0
    while i < len(lines):
        m = FENCE_OPEN_RE.match(lines[i])
        if m:
            depth, inner, j = 1, [], i + 1
            while j < len(lines):
                if FENCE_CLOSE_RE.match(lines[j]):
                    depth -= 1
                    if depth == 0:
                        break
                elif FENCE_OPEN_RE.match(lines[j]):
                    depth += 1
                inner.append(lines[j])
                j += 1
            if buf:
                pieces.append(("md", "\n".join(buf)))
                buf = []
            spec = m.group(2) if m.group(2) is not None else "." + m.group(4)
            pieces.append(("div", (spec, "\n".join(inner))))
            i = j + 1
            continue
        buf.append(lines[i])
        i += 1
    if buf:
        pieces.append(("md", "\n".join(buf)))
    return pieces


def markdown_to_html(text: str) -> str:
    """CommonMark plus the Quarto bits the notebooks use: fenced divs, callouts, heading attributes."""
    out: list[str] = []
    for kind, value in _split_fenced_divs(text):
        if kind == "md":
            out.append(_markdown(value))
            continue
        spec, inner = value
        ident, classes = _attrs(spec)
        callout = next((c for c in classes if c.startswith("callout")), None)
        id_attr = f' id="{html.escape(ident)}"' if ident else ""
        if callout:
            level = callout.split("-", 1)[1] if "-" in callout else "note"
            title = CALLOUT_TITLES.get(level, "Merk")
            m = re.match(r"^\s*#{1,6}\s+(.+?)\s*\n", inner + "\n")
            if m:
                title, inner = m.group(1), inner[m.end():]
            out.append(f'<div class="callout callout-{html.escape(level)}"{id_attr} role="note">'
                       f'<p class="callout-title">{html.escape(title)}</p>{markdown_to_html(inner)}</div>')
        else:
            cls = f' class="{html.escape(" ".join(classes))}"' if classes else ""
            out.append(f"<div{cls}{id_attr}>{markdown_to_html(inner)}</div>")
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# Reader notebooks: what the fallback template shows
# --------------------------------------------------------------------------------------
def _numbered_fragment(fragment: str, meta: dict, registry: dict[str, Float]) -> str:
    """The report helper's HTML fragment with Quarto's caption number put in front."""
    soup = BeautifulSoup(fragment, "html.parser")
    target = registry.get(meta.get("label", ""))
    if target is not None:
        cap = soup.find("figcaption") if target.kind == "fig" else soup.find("caption")
        if cap is not None:
            title = FIG_TITLE if target.kind == "fig" else TBL_TITLE
            num = soup.new_tag("span", attrs={"class": "float-number"})
            num.string = f"{title} {target.number}: "
            cap.insert(0, num)
    for img in soup.find_all("img"):
        if not (img.get("alt") or "").strip() and meta.get("alt"):
            img["alt"] = meta["alt"]
    return str(soup)


def _strip_title(nb: nbformat.NotebookNode) -> None:
    """Drop a leading `# Title` from the first Markdown cell: the chapter title comes from
    params/pipeline.yml in both renderers, and a second level-1 heading would break numbering."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("outputs"):
            return
        if cell.cell_type == "markdown" and cell.source.strip():
            lines = cell.source.lstrip().split("\n")
            if re.match(r"^#\s+\S", lines[0]):
                cell.source = "\n".join(lines[1:]).lstrip("\n")
            return


def reader_notebook(nb: nbformat.NotebookNode, chapter: Chapter, registry: dict[str, Float],
                    path: Path, warnings: list[str]) -> nbformat.NotebookNode:
    """A copy of an executed notebook holding only what a reader sees, as text/html outputs.

    Dropped: streams (stdout/stderr, warnings), outputs that are only a text/plain repr,
    and untagged DataFrame HTML (published tables come through tillit.book.display).
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # deep copy, plain types
    _strip_title(nb)
    for i, cell in enumerate(nb.cells):
        context = f"{path}: celle {i}"
        if cell.cell_type == "markdown":
            cell.metadata["tillit_html"] = markdown_to_html(
                resolve_crossrefs(cell.source, registry, chapter.page, context))
            continue
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            otype = out.get("output_type")
            if otype not in ("display_data", "execute_result"):
                continue
            data = out.get("data", {})
            meta = _tillit_meta(out)
            if (meta or {}).get("kind") == "banner":
                continue  # the page template shows the data banner once, at the top
            if meta and meta.get("kind") in ("figure", "table") and not isinstance(meta.get("html"), str):
                raise BookError(f"{context}: {meta.get('kind')} '{meta.get('label')}' mangler "
                                "metadata['tillit']['html'] (lag den med tillit.book.display)")
            if meta and isinstance(meta.get("html"), str):
                content = _numbered_fragment(meta["html"], meta, registry)
            elif "text/markdown" in data:
                content = markdown_to_html(resolve_crossrefs(data["text/markdown"], registry, chapter.page, context))
            elif "image/png" in data or "image/svg+xml" in data:
                alt = (meta or {}).get("alt") or ""
                if not alt:
                    warnings.append(f"{context}: figur uten tillit-metadata og alternativ tekst")
                    alt = f"Figur fra notatboken {chapter.name} uten beskrivelse"
                if "image/png" in data:
                    src = "data:image/png;base64," + str(data["image/png"]).replace("\n", "")
                    content = f'<figure class="plain-figure"><img src="{src}" alt="{html.escape(alt, quote=True)}"></figure>'
                else:
                    content = f'<figure class="plain-figure" role="img" aria-label="{html.escape(alt, quote=True)}">{data["image/svg+xml"]}</figure>'
            elif "text/html" in data:
                content = data["text/html"]
                if 'class="dataframe' in content:
                    warnings.append(f"{context}: rå DataFrame-visning utelatt (publiser tabeller med tillit.book.display)")
                    continue
            else:
                continue  # a bare text/plain repr is not for readers
            kept.append(nbformat.v4.new_output("display_data", data={"text/html": content}))
        cell.outputs = kept
    return _merge_code_without_output(nb)


def _merge_code_without_output(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Fold code that shows nothing into the next code cell that shows something, so a reader
    meets one "Vis kode" per figure, table or paragraph rather than a stack of empty folds
    (Quarto folds each code cell on its own; see docs/rendering.md)."""
    cells, pending = [], []
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell.outputs:
            if cell.source.strip():
                pending.append(cell.source.rstrip())
            continue
        if cell.cell_type == "code" and pending:
            cell.source = "\n\n".join([*pending, cell.source.rstrip()])
            pending = []
        cells.append(cell)
    if pending:
        last_code = next((c for c in reversed(cells) if c.cell_type == "code"), None)
        if last_code is not None:
            last_code.source = "\n\n".join([last_code.source.rstrip(), *pending])
        else:
            cells.append(nbformat.v4.new_code_cell("\n\n".join(pending)))
    nb.cells = cells
    return nb


# --------------------------------------------------------------------------------------
# Fallback renderer
# --------------------------------------------------------------------------------------
def _jinja() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True)


def _exporter():
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(extra_template_basedirs=[str(TEMPLATES)], template_name="tillit_chapter")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


def _number_sections(soup: BeautifulSoup, chapter: Chapter) -> list[dict]:
    """Number h2/h3 as Quarto does (4.1, 4.1.1); returns the page's section list for the sidebar."""
    sections: list[dict] = []
    h2 = h3 = 0
    used = {t["id"] for t in soup.find_all(id=True)}
    for tag in soup.find_all(["h2", "h3"]):
        if tag.find_parent(class_="callout") or tag.find_parent("figure"):
            continue
        classes = tag.get("class", [])
        last = tag.find_all(string=True)
        if last:
            m = HEADING_ATTR_RE.search(last[-1])
            if m:
                ident, extra = _attrs(m.group(1))
                last[-1].replace_with(last[-1][: m.start()])
                classes = [*classes, *extra]
                if ident:
                    tag["id"] = ident
        if classes:
            tag["class"] = classes
        if not tag.get("id"):
            base = re.sub(r"[^\w]+", "-", tag.get_text().strip().lower()).strip("-") or "seksjon"
            ident, k = base, 1
            while ident in used:
                k += 1
                ident = f"{base}-{k}"
            tag["id"] = ident
        used.add(tag["id"])
        numbered = chapter.number is not None and "unnumbered" not in classes
        if tag.name == "h2":
            h3 = 0
            if numbered:
                h2 += 1
                number = f"{chapter.number}.{h2}"
            else:
                number = None
        else:
            if numbered and h2:
                h3 += 1
                number = f"{chapter.number}.{h2}.{h3}"
            else:
                number = None
        if number:
            span = soup.new_tag("span", attrs={"class": "section-number"})
            span.string = number
            tag.insert(0, span)
            span.insert_after(" ")
        if tag.name == "h2":
            sections.append({"id": tag["id"], "title": tag.get_text(" ", strip=True)})
    return sections


def _page_text(soup: BeautifulSoup) -> str:
    copy = BeautifulSoup(str(soup), "html.parser")
    for tag in copy.select("details.code, script, style"):
        tag.decompose()
    return re.sub(r"\s+", " ", copy.get_text(" ")).strip()


def _copy_assets(root: Path, out: Path) -> None:
    outputs = root / "outputs"
    for sub in ("figures", "tables"):
        if (outputs / sub).is_dir():
            shutil.copytree(outputs / sub, out / sub, dirs_exist_ok=True)
    nb_dir = outputs / "notebooks"
    if nb_dir.is_dir():
        (out / "notebooks").mkdir(parents=True, exist_ok=True)
        for nb in nb_dir.glob("*.ipynb"):
            shutil.copy2(nb, out / "notebooks" / nb.name)


def render_fallback(root: Path, out: Path) -> tuple[list[Path], list[str]]:
    """Write the whole fallback book into `out` (an empty directory). Returns (pages, warnings)."""
    chapters = book_structure(root)
    info = data_source(root)
    banner = banner_for(info)
    paths = {ch.name: root / "outputs" / "notebooks" / f"{ch.name}.ipynb" for ch in chapters}
    notebooks = {}
    for ch in chapters:
        notebooks[ch.name] = _read_notebook(paths[ch.name])
        _check_no_errors(notebooks[ch.name], paths[ch.name])
    registry = number_floats(chapters, notebooks, paths)
    warnings: list[str] = []
    exporter = _exporter()
    env = _jinja()
    page_tpl = env.get_template("page.html.j2")
    bodies: dict[str, str] = {}
    sections: dict[str, list[dict]] = {}
    search: list[dict] = []
    for ch in chapters:
        reader = reader_notebook(notebooks[ch.name], ch, registry, paths[ch.name], warnings)
        body, _ = exporter.from_notebook_node(reader)
        soup = BeautifulSoup(body, "html.parser")
        sections[ch.name] = _number_sections(soup, ch)
        bodies[ch.name] = str(soup)
        search.append({"url": ch.page, "title": ch.heading, "text": _page_text(soup)})

    toc = [{"name": ch.name, "heading": ch.heading, "label": ch.toc_label, "page": ch.page, "kind": ch.kind,
            "in_part": ch.part is not None, "sections": sections[ch.name]} for ch in chapters]
    meta = book_meta(root)
    common = dict(book_title=meta.title, subtitle=meta.subtitle, author=meta.author, toc=toc,
                  banner=banner, data_kind=info["kind"],
                  build_date=date.today().strftime("%d.%m.%Y"), generator="nbconvert-fallback",
                  intro=Markup(markdown_to_html((TEMPLATES / "index_intro.md").read_text(encoding="utf-8"))))
    pages = []
    index = out / "index.html"
    index.write_text(page_tpl.render(**common, page="index.html", is_index=True, heading=meta.title,
                                     body="", prev=None, next=toc[0]), encoding="utf-8")
    pages.append(index)
    for k, ch in enumerate(chapters):
        prev = toc[k - 1] if k > 0 else {"page": "index.html", "heading": "Forside"}
        nxt = toc[k + 1] if k + 1 < len(toc) else None
        path = out / ch.page
        path.write_text(page_tpl.render(**common, page=ch.page, is_index=False, heading=ch.heading,
                                        chapter=toc[k], body=Markup(bodies[ch.name]),
                                        prev=prev, next=nxt), encoding="utf-8")
        pages.append(path)
    static = out / "static"
    static.mkdir()
    for name in ("book.css", "search.js", "favicon.svg"):
        shutil.copy2(TEMPLATES / "static" / name, static / name)
    from pygments.formatters import HtmlFormatter
    (static / "pygments.css").write_text(HtmlFormatter(style="friendly").get_style_defs(".highlight"), encoding="utf-8")
    search.insert(0, {"url": "index.html", "title": meta.title, "text": f"{banner.title}. {banner.text}"})
    (static / "search-index.js").write_text(
        "window.TILLIT_SEARCH = " + json.dumps(search, ensure_ascii=False) + ";\n", encoding="utf-8")
    _copy_assets(root, out)
    _check_pages(pages)
    return pages, warnings


def _check_pages(pages: list[Path]) -> None:
    """Last guard: no page may show a traceback or a raw Python repr."""
    for page in pages:
        text = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in text.select("details.code"):
            tag.decompose()
        visible = text.get_text(" ")
        for pattern in REPR_PATTERNS:
            m = pattern.search(visible)
            if m:
                raise BookError(f"{page}: siden viser rå Python-utdata ({m.group(0)!r})")


# --------------------------------------------------------------------------------------
# Quarto project
# --------------------------------------------------------------------------------------
def _for_readers(output) -> bool:
    """Whether Quarto should show an output: the same rule as the fallback's reader_notebook
    (no streams, no bare text/plain reprs, no untagged DataFrame HTML)."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return False
    if (_tillit_meta(output) or {}).get("kind") == "banner":
        return False  # the page carries the data banner once, at the top
    data = output.get("data", {})
    if _tillit_meta(output) or "text/markdown" in data or "image/png" in data or "image/svg+xml" in data:
        return True
    return "text/html" in data and 'class="dataframe' not in data["text/html"]


def _banner_markdown(banner: Banner) -> str:
    return f"::: {{.callout-{banner.level} .data-banner}}\n## {banner.title}\n\n{banner.text}\n:::"


def _quarto_chapter(nb: nbformat.NotebookNode, chapter: Chapter, banner: Banner) -> nbformat.NotebookNode:
    """The executed notebook as a Quarto chapter: title front matter, banner, no streams."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    _strip_title(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if _for_readers(o)]
    front = yaml.safe_dump({"title": chapter.title}, allow_unicode=True, sort_keys=False)
    nb.cells[:0] = [
        nbformat.v4.new_raw_cell(f"---\n{front}---"),
        nbformat.v4.new_markdown_cell(_banner_markdown(banner)),
    ]
    return nb


def quarto_config(root: Path) -> dict:
    """The _quarto.yml of the book project, as data."""
    chapters = book_structure(root)
    main: list = ["index.qmd"]
    appendices: list = []
    part_members: dict[str, list[str]] = {}
    for ch in chapters:
        if ch.part:
            part_members.setdefault(ch.part, []).append(f"{ch.name}.ipynb")
    for ch in chapters:
        if ch.kind == "appendix":
            appendices.append(f"{ch.name}.ipynb")
        elif ch.kind == "part":
            main.append({"part": f"{ch.name}.ipynb", "chapters": part_members.get(ch.name, [])})
        elif ch.part is None:
            main.append(f"{ch.name}.ipynb")
    meta = book_meta(root)
    book: dict = {"title": meta.title, "subtitle": meta.subtitle, "author": meta.author,
                  "date": date.today().isoformat(), "chapters": main, "search": True,
                  "page-navigation": True}
    if appendices:
        book["appendices"] = appendices
    render_list = ["index.qmd", *[f"{ch.name}.ipynb" for ch in chapters]]
    out_dir = os.path.relpath(root / "outputs" / "book", root / "outputs" / "_quarto")
    return {
        "project": {"type": "book", "output-dir": out_dir, "render": render_list,
                    "resources": ["figures/**", "tables/**", "notebooks/**"]},
        "lang": "nb",
        "language": LANGUAGE_FILE,
        "book": book,
        "execute": {"enabled": False},
        "number-sections": True,
        "crossref": {"chapters": True, "fig-title": FIG_TITLE, "tbl-title": TBL_TITLE,
                     "fig-prefix": FIG_PREFIX, "tbl-prefix": TBL_PREFIX},
        "format": {"html": {"theme": "cosmo", "css": "quarto.css", "code-fold": True,
                            "code-summary": "Vis kode", "code-tools": False, "warning": False,
                            "toc": True, "toc-title": "På denne siden", "fig-cap-location": "bottom",
                            "tbl-cap-location": "top"}},
    }


def write_quarto_project(project_dir: Path, root: Path) -> Path:
    """Write a Quarto book project into `project_dir` (normally outputs/_quarto). Returns _quarto.yml."""
    project_dir = Path(project_dir)
    if project_dir.exists():
        # Only ever wipe a project this module generated (never, say, a mistyped repo root).
        marker = project_dir / "_quarto.yml"
        ours = marker.is_file() and marker.read_text(encoding="utf-8").startswith(GENERATED_MARK)
        if any(project_dir.iterdir()) and not ours:
            raise BookError(f"{project_dir}: finnes og er ikke et Quarto-prosjekt laget av tillit.book.render; "
                            "velg en tom eller ny mappe")
        shutil.rmtree(project_dir)
    project_dir.mkdir(parents=True)
    chapters = book_structure(root)
    info = data_source(root)
    banner = banner_for(info)
    config = quarto_config(root)
    # output-dir is relative to the project; recompute in case project_dir is not outputs/_quarto.
    config["project"]["output-dir"] = os.path.relpath(root / "outputs" / "book", project_dir)
    for ch in chapters:
        path = root / "outputs" / "notebooks" / f"{ch.name}.ipynb"
        nb = _read_notebook(path)
        _check_no_errors(nb, path)
        nbformat.write(_quarto_chapter(nb, ch, banner), project_dir / f"{ch.name}.ipynb")
    front = yaml.safe_dump({"title": book_meta(root).title}, allow_unicode=True)
    index = (f'---\n{front}---\n\n{_banner_markdown(banner)}\n\n'
             + (TEMPLATES / "index_intro.md").read_text(encoding="utf-8") + "\n")
    (project_dir / "index.qmd").write_text(index, encoding="utf-8")
    shutil.copy2(TEMPLATES / LANGUAGE_FILE, project_dir / LANGUAGE_FILE)
    shutil.copy2(TEMPLATES / "static" / "quarto.css", project_dir / "quarto.css")
    _copy_assets(root, project_dir)
    target = project_dir / "_quarto.yml"
    target.write_text(GENERATED_MARK + "\n"
                      + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


# --------------------------------------------------------------------------------------
# render()
# --------------------------------------------------------------------------------------
@dataclass
class RenderResult:
    renderer: Literal["quarto", "nbconvert-fallback"]
    index_path: Path
    pages: list[Path]
    warnings: list[str] = field(default_factory=list)


def _render_quarto(root: Path, tmp_out: Path) -> tuple[list[Path], list[str]]:
    quarto = shutil.which("quarto")
    if quarto is None:
        raise BookError("quarto finnes ikke på PATH")
    project = root / "outputs" / "_quarto"
    write_quarto_project(project, root)
    cmd = [quarto, "render", str(project), "--no-execute", "--output-dir", str(tmp_out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BookError(f"quarto render feilet (kode {proc.returncode}):\n{proc.stderr[-4000:]}")
    if not (tmp_out / "index.html").is_file():
        raise BookError(f"quarto render skrev ingen index.html i {tmp_out}")
    _copy_assets(root, tmp_out)
    return sorted(tmp_out.glob("*.html")), []


def render(root: Path | None = None,
           renderer: Literal["auto", "quarto", "fallback"] = "auto") -> RenderResult:
    """Render outputs/book/ with Quarto when it is on PATH (or asked for), else the fallback.

    The result says truthfully which renderer ran. The book is built in a temporary
    directory and swapped in only when complete.
    """
    root = Path(root) if root else repo_root()
    if renderer not in ("auto", "quarto", "fallback"):
        raise BookError(f"ukjent renderer {renderer!r}: forventet 'auto', 'quarto' eller 'fallback'")
    use_quarto = renderer == "quarto" or (renderer == "auto" and shutil.which("quarto") is not None)
    if renderer == "quarto" and shutil.which("quarto") is None:
        raise BookError("renderer='quarto' ble bedt om, men quarto finnes ikke på PATH")
    outputs = root / "outputs"
    outputs.mkdir(parents=True, exist_ok=True)
    final = outputs / "book"
    tmp_out = Path(tempfile.mkdtemp(prefix=".book-", dir=outputs))
    try:
        if use_quarto:
            pages, warnings = _render_quarto(root, tmp_out)
            name = "quarto"
        else:
            pages, warnings = render_fallback(root, tmp_out)
            name = "nbconvert-fallback"
        (tmp_out / ".renderer").write_text(name + "\n", encoding="utf-8")
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=".book-old-", dir=outputs))
            os.replace(final, old / "book")
        os.replace(tmp_out, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp_out, ignore_errors=True)
        raise
    pages = [final / p.relative_to(tmp_out) for p in pages]
    return RenderResult(name, final / "index.html", pages, warnings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tillit.book.render", description="Bygg HTML-boka i outputs/book/")
    parser.add_argument("--renderer", choices=["auto", "quarto", "fallback"], default="auto")
    parser.add_argument("--root", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        result = render(args.root, args.renderer)
    except (BookError, ConfigError) as exc:
        print(f"Feil: {exc}", file=sys.stderr)
        return 1
    for w in result.warnings:
        print(f"Advarsel: {w}", file=sys.stderr)
    print(f"Boka er bygget med {result.renderer}: {result.index_path} ({len(result.pages)} sider)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
