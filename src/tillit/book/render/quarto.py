"""The Quarto book project (outputs/_quarto): _quarto.yml, one notebook per page with only the
reader's cells (tillit.book.render.reader), index.qmd, the language file; and the run of
`quarto render`, whose warnings are returned (the test suite fails on any)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import yaml

from tillit.book.render.fallback import _book_notebooks, copy_assets
from tillit.book.render.numbering import check_crossrefs, number_floats
from tillit.book.render.reader import ReaderPage, reader_page
from tillit.book.render.structure import (FIG_PREFIX, FIG_TITLE, GENERATED_MARK, INDEX_HEADING,
                                          LANGUAGE_FILE, TBL_PREFIX, TBL_TITLE, TEMPLATES, Banner,
                                          BookError, Page, banner_for, book_meta, book_pages,
                                          data_source)

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
WARNING_RE = re.compile(r"^\s*(?:\x1b\[[0-9;]*m)*\s*\[?(WARN(?:ING)?|ERROR)\b", re.MULTILINE)


def _banner_markdown(banner: Banner) -> str:
    return f"::: {{.callout-{banner.level} .data-banner}}\n## {banner.title}\n\n{banner.text}\n:::"


def quarto_notebook(rp: ReaderPage, banner: Banner) -> dict:
    """One page as a Quarto chapter: title front matter, the banner, the reader's cells."""
    front = yaml.safe_dump({"title": rp.page.title}, allow_unicode=True, sort_keys=False)
    cells = [{"cell_type": "raw", "id": "front-matter", "metadata": {}, "source": f"---\n{front}---\n"},
             {"cell_type": "markdown", "id": "data-banner", "metadata": {}, "source": _banner_markdown(banner) + "\n"}]
    for cell in rp.cells:
        cell = {k: v for k, v in cell.items() if k != "attachments"}
        # Quarto joins cells as they are: each must end its last line, or a heading runs into
        # the paragraph of the next cell.
        cell["source"] = cell["source"].rstrip("\n") + "\n"
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            if "text/markdown" in data:
                data["text/markdown"] = data["text/markdown"].rstrip("\n") + "\n"
        cells.append(cell)
    return {"cells": cells, "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def _index_qmd(root: Path, pages: list[Page], banner: Banner) -> str:
    """The front page: unnumbered (its first heading says so, as Quarto wants: hence before
    the banner), with the same introduction and list of pages as the fallback's."""
    listing = "\n".join(f"- [{p.heading}]({p.page})" for p in pages)
    return (f"# {INDEX_HEADING} {{.unnumbered}}\n\n{_banner_markdown(banner)}\n\n"
            + (TEMPLATES / "index_intro.md").read_text(encoding="utf-8").strip()
            + f"\n\n## Innhold {{.unnumbered}}\n\n::: {{.chapter-list}}\n{listing}\n:::\n")


def quarto_config(root: Path, pages: list[Page] | None = None, renderer: str = "Quarto") -> dict:
    """The _quarto.yml of the book project, as data. `renderer` fills the methods appendix's
    `{{< meta tillit-renderer >}}` (tillit.book.versions)."""
    pages = pages if pages is not None else book_pages(root)
    meta = book_meta(root)
    book: dict = {"title": meta.title, "subtitle": meta.subtitle, "author": meta.author,
                  "date": date.today().isoformat(), "search": True, "page-navigation": True,
                  "chapters": ["index.qmd", *(f"{p.id}.ipynb" for p in pages if p.kind == "chapter")]}
    appendices = [f"{p.id}.ipynb" for p in pages if p.kind == "appendix"]
    if appendices:
        book["appendices"] = appendices
    out_dir = os.path.relpath(root / "outputs" / "book", root / "outputs" / "_quarto")
    return {
        "project": {"type": "book", "output-dir": out_dir,
                    "render": ["index.qmd", *(f"{p.id}.ipynb" for p in pages)],
                    "resources": ["figures/**", "tables/**", "notebooks/**"]},
        "lang": "nb",
        "language": LANGUAGE_FILE,
        "tillit-renderer": renderer,
        "book": book,
        "execute": {"enabled": False},
        # Block HTML in the outputs (figure data tables, provenance) is finished HTML: read it as
        # raw, not as Markdown (where a cell "21. juni 2023" starts an ordered list and the
        # enclosing divs are left unclosed, with Pandoc warnings).
        "from": "markdown-markdown_in_html_blocks",
        "number-sections": True,
        "crossref": {"chapters": True, "fig-title": FIG_TITLE, "tbl-title": TBL_TITLE,
                     "fig-prefix": FIG_PREFIX, "tbl-prefix": TBL_PREFIX},
        "format": {"html": {"theme": ["cosmo", "tillit.scss"], "css": ["quarto.css", "numbers.css"], "code-fold": True,
                            "code-summary": "Vis kode", "code-tools": False, "warning": False,
                            "toc": True, "toc-title": "På denne siden", "fig-cap-location": "bottom",
                            "tbl-cap-location": "top", "anchor-sections": True,
                            "include-after-body": "scroll-regions.html"}},
    }


def write_quarto_project(project_dir: Path, root: Path, renderer: str = "Quarto") -> Path:
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
    pages = book_pages(root)
    check_crossrefs(pages, number_floats(pages))  # the fallback's error, not Quarto's warning
    banner = banner_for(data_source(root))
    config = quarto_config(root, pages, renderer)
    # output-dir is relative to the project; recompute in case project_dir is not outputs/_quarto.
    config["project"]["output-dir"] = os.path.relpath(root / "outputs" / "book", project_dir)
    import nbformat

    for page in pages:
        nb = nbformat.from_dict(quarto_notebook(reader_page(page), banner))
        nbformat.write(nb, project_dir / f"{page.id}.ipynb")
    (project_dir / "index.qmd").write_text(_index_qmd(root, pages, banner), encoding="utf-8")
    shutil.copy2(TEMPLATES / LANGUAGE_FILE, project_dir / LANGUAGE_FILE)
    for name in ("quarto.css", "tillit.scss"):
        shutil.copy2(TEMPLATES / "static" / name, project_dir / name)
    (project_dir / "numbers.css").write_text(numbers_css(), encoding="utf-8")
    script = (TEMPLATES / "static" / "scroll-regions.js").read_text(encoding="utf-8")
    (project_dir / "scroll-regions.html").write_text(f"<script>\n{script}</script>\n", encoding="utf-8")
    # Figures, tables and the .ipynb files (links to them resolve; their pages go in after the render).
    copy_assets(root, project_dir, names=_book_notebooks(root), pages=False)
    target = project_dir / "_quarto.yml"
    target.write_text(GENERATED_MARK + "\n"
                      + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def numbers_css() -> str:
    """The numbers block of book.css (issue 13's: number kinds, ledger rows, figure and table
    scrolling), so the Quarto book shows numbers as the fallback does; it starts at the line
    opening with `/* numbers` and runs to the end of the file."""
    text = (TEMPLATES / "static" / "book.css").read_text(encoding="utf-8")
    start = text.find("\n/* numbers")
    return text[start + 1:] if start >= 0 else ""


def quarto_version(quarto: str) -> str:
    proc = subprocess.run([quarto, "--version"], capture_output=True, text=True, timeout=60)
    return proc.stdout.strip() or "ukjent"


def render_quarto(root: Path, tmp_out: Path, renderer: str | None = None) -> tuple[list[Path], list[str]]:
    """`quarto render` of the generated project into tmp_out; returns (pages, Quarto's warnings)."""
    quarto = shutil.which("quarto")
    if quarto is None:
        raise BookError("quarto finnes ikke på PATH")
    project = root / "outputs" / "_quarto"
    write_quarto_project(project, root, renderer or f"Quarto {quarto_version(quarto)}")
    cmd = [quarto, "render", str(project), "--no-execute", "--output-dir", str(tmp_out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BookError(f"quarto render feilet (kode {proc.returncode}):\n{proc.stderr[-4000:]}")
    if not (tmp_out / "index.html").is_file():
        raise BookError(f"quarto render skrev ingen index.html i {tmp_out}")
    copy_assets(root, tmp_out, names=_book_notebooks(root))
    pages = sorted(tmp_out.glob("*.html"))
    for page in pages:
        _fix_page(page)
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip() for line in (proc.stderr + proc.stdout).splitlines()]
    warnings = []
    for k, line in enumerate(lines):
        if WARNING_RE.match(line):
            detail = next((ln.strip() for ln in lines[k + 1:k + 3] if ln.strip() and not WARNING_RE.match(ln)), "")
            warnings.append(line.strip() + (f" – {detail}" if detail and line.strip().endswith(")") else ""))
    return pages, [f"quarto: {w}" for w in warnings]


PAGINATION_TAG_RE = re.compile(r'<a\b[^>]*\bclass="pagination-link"[^>]*>')
PARAGRAPH_RE = re.compile(r"<p><em>(.*?)</em>(.*?)</p>", re.S)
TABLE_FLOAT_RE = re.compile(r'(<div id="tbl-[^"]+" class=")(quarto-float\b)')


def _provenance_class(m: re.Match) -> str:
    """The provenance line (tillit.book.provenance.markdown: an emphasis linking the notebook's
    page, or followed by the CSV download) gets the fallback's class, so styles and the
    number checks treat it alike in both books."""
    lead, rest = m.group(1), m.group(2)
    if 'href="notebooks/' in lead or re.search(r'href="[^"]+\.csv"', rest):
        return f'<p class="provenance"><em>{lead}</em>{rest}</p>'
    return m.group(0)


def _fix_page(page: Path) -> None:
    """Quarto 1.10 labels its previous/next links with the bare chapter title, so a reader of
    "2 Innledning" hears "Innledning" (WCAG 2.5.3, axe label-content-name-mismatch): drop the
    aria-label and let the visible text name the link. Provenance lines and table floats get
    the fallback's classes (provenance, tillit-table)."""
    text = page.read_text(encoding="utf-8")
    fixed = PAGINATION_TAG_RE.sub(lambda m: re.sub(r'\s+aria-label="[^"]*"', "", m.group(0)), text)
    fixed = PARAGRAPH_RE.sub(_provenance_class, fixed)
    fixed = TABLE_FLOAT_RE.sub(r"\1tillit-table \2", fixed)
    if fixed != text:
        page.write_text(fixed, encoding="utf-8")
