"""The Quarto book project (outputs/_quarto): _quarto.yml, one chapter notebook per page,
index.qmd, the language file; and the run of `quarto render`."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import nbformat
import yaml

from tillit.book.render.fallback import _copy_assets, _strip_title
from tillit.book.render.numbering import _tillit_meta
from tillit.book.render.structure import (FIG_PREFIX, FIG_TITLE, GENERATED_MARK, LANGUAGE_FILE,
                                          TBL_PREFIX, TBL_TITLE, TEMPLATES, Banner, BookError,
                                          Chapter, _check_no_errors, _read_notebook, banner_for,
                                          book_meta, book_structure, data_source)


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

