"""Which edition a book is for (docs/editions.md), for the banner on every page of its book.

Read from the `edition` parameter the book's executed notebooks ran with (papermill's
metadata), so the renderer needs no knowledge of where the book is written.
"""
from __future__ import annotations

from pathlib import Path

from tillit.book.render.structure import BookError, read_notebook
from tillit.config import load_pipeline


def book_edition(root: Path) -> dict | None:
    """The edition a book is for (docs/editions.md), from the `edition` parameter its executed
    notebooks ran with (papermill's metadata): {key, title, text} for the banner, None for the
    whole of NAV. An edition's data step is the main book's (edition = the default), so the book's
    edition is the one other edition its notebooks name; two different ones are an error."""
    named: dict[str, Path] = {}
    for nb_spec in (nb for nb in load_pipeline(root=root).notebooks if nb.book):
        path = root / "outputs" / "notebooks" / f"{nb_spec.name}.ipynb"
        if path.is_file():
            params = read_notebook(path).get("metadata", {}).get("papermill", {}).get("parameters") or {}
            if params.get("edition") is not None:
                named.setdefault(str(params["edition"]), path)
    if not named:  # run by hand, without papermill: the parameters cell's default, the whole of NAV
        return None
    from tillit.stats.editions import load_editions

    eds = load_editions(root=root)
    others = {k: p for k, p in named.items() if k != eds.default}
    if len(others) > 1:
        raise BookError("boka blander utgaver: " + ", ".join(f"{p} ({k})" for k, p in others.items()))
    if not others:
        return None
    from tillit.book.context import edition_text
    from tillit.data.codebook import load_codebook

    key = next(iter(others))
    title, text = edition_text(eds.get(key), load_codebook(root / "params" / "codebook.yml"))
    return {"key": key, "title": title, "text": text}
