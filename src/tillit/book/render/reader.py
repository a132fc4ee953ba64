"""What a reader sees of a page's cells, decided once for both renderers.

- Set-up cells (tagged `parameters`, `injected-parameters` or `setup`) are not shown at all.
- Outputs: only display data a reader should see (no streams, warnings, bare `text/plain`
  reprs, untagged DataFrame HTML, or the notebook's own data banner: the page has one).
- Code is shown, folded under "Vis kode", only for cells that make a figure or a table;
  code that shows nothing joins the next such fold, and prose cells show no code.

The decision is written as Quarto cell options in the cell metadata (`echo: false`), which
Quarto reads from .ipynb cells and the fallback's template honours.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from tillit.book.render.numbering import scope_unnumbered, tillit_meta
from tillit.book.render.structure import Page, is_setup


@dataclass
class ReaderPage:
    page: Page
    cells: list = field(default_factory=list)
    origins: list = field(default_factory=list)
    dropped: list = field(default_factory=list)   # (cell index, why) for the fallback's warnings

    def where(self, i: int) -> str:
        path, index = self.origins[i]
        return f"{path}: celle {index}"


def for_readers(output: dict) -> bool:
    if output.get("output_type") not in ("display_data", "execute_result"):
        return False
    meta = tillit_meta(output) or {}
    if meta.get("kind") == "banner":
        return False  # the page carries the data banner once, at the top
    data = output.get("data", {})
    if meta or "text/markdown" in data or "image/png" in data or "image/svg+xml" in data:
        return True
    return "text/html" in data and 'class="dataframe' not in data["text/html"]


def makes_float(output: dict) -> bool:
    """A figure or a table: from tillit.book.display, or an image a notebook showed itself."""
    meta = tillit_meta(output) or {}
    if meta.get("kind") in ("figure", "table"):
        return True
    data = output.get("data", {})
    return not meta and ("image/png" in data or "image/svg+xml" in data)


def reader_page(page: Page) -> ReaderPage:
    """A copy of the page's cells holding only what a reader sees (see the module docstring)."""
    out = ReaderPage(page)
    pending: list[str] = []
    for cell, origin in zip(page.cells, page.origins):
        kind = cell.get("cell_type")
        if kind == "markdown":
            if cell["source"].strip():
                out.cells.append(copy.deepcopy(cell))
                out.origins.append(origin)
            continue
        if kind != "code" or is_setup(cell):
            continue
        kept = []
        for o in cell.get("outputs", []):
            if for_readers(o):
                kept.append(copy.deepcopy(o))
            elif "text/html" in o.get("data", {}) and 'class="dataframe' in o["data"]["text/html"]:
                out.dropped.append((origin, "rå DataFrame-visning utelatt (publiser tabeller med tillit.book.display)"))
        source = cell.get("source", "").rstrip()
        if not kept:
            if source.strip():
                pending.append(source)
            continue
        new = {"cell_type": "code", "execution_count": None, "id": cell.get("id") or f"c{origin[1]}",
               "metadata": {k: v for k, v in cell.get("metadata", {}).items() if k == "tags"},
               "outputs": kept, "source": source}
        if any(makes_float(o) for o in kept):
            new["source"] = "\n\n".join([*pending, source])
            pending = []
        else:
            new["metadata"]["echo"] = False
        out.cells.append(new)
        out.origins.append(origin)
    shadow = Page(page.id, page.title, page.kind, page.number, page.notebook, out.cells, out.origins)
    scope_unnumbered(shadow)
    return out
