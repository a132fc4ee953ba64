"""The nbconvert fallback: the reader's notebook (what a reader sees of an executed notebook)
and the multi-page book around it (index, sidebar, prev/next, search)."""
from __future__ import annotations

import html
import json
import re
import shutil
from datetime import date
from pathlib import Path

import jinja2
import nbformat
from bs4 import BeautifulSoup
from markupsafe import Markup

from tillit.book.render.markdown import _attrs, markdown_to_html
from tillit.book.render.numbering import Float, _tillit_meta, number_floats, resolve_crossrefs
from tillit.book.render.structure import (FIG_TITLE, TBL_TITLE, TEMPLATES, BookError, Chapter,
                                          _check_no_errors, _read_notebook, banner_for,
                                          book_meta, book_structure, data_source)

HEADING_ATTR_RE = re.compile(r"\s*\{([^{}]*)\}\s*$")
REPR_PATTERNS = (re.compile(r"<pandas\."), re.compile(r"Traceback \(most recent call last\)"),
                 re.compile(r"(?<![\w@/.])@(?:fig|tbl)-\w"),  # an unresolved cross-reference
                 re.compile(r"<(?:matplotlib|statsmodels|tillit)\.[\w.]+ object at 0x"))


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

