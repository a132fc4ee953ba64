"""Rendering the book as a build step: under the build lock, into the checked output folder,
readable by others, and never leaving half a book behind.

The renderer itself is tillit.book.render (Quarto or the nbconvert fallback); it builds the
book in ``<output_dir>/.book-*`` and swaps it in. This wrapper makes that safe to interrupt
and to repeat: stale ``.book-*`` folders from a killed render are removed (and a book that
was moved aside but not replaced is put back), SIGTERM is handled like Ctrl-C, and the book
is made world-readable (folders 0755, files 0644; mkdtemp gives 0700).
"""
from __future__ import annotations

import inspect
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from tillit.book.destination import prepare_output_dir
from tillit.config import ConfigError, load_run_params

BOOK = "book"


@dataclass
class Rendered:
    renderer: str
    seconds: float
    index_path: Path
    warnings: list[str]


def clean_book_leftovers(out_dir: Path) -> None:
    """Remove ``.book-*`` left by an interrupted render; first put back a book that a render
    had moved aside (``.book-old-*/book``) when no book took its place."""
    for old in sorted(out_dir.glob(".book-old-*")):
        if (old / BOOK).is_dir() and not (out_dir / BOOK).exists():
            os.replace(old / BOOK, out_dir / BOOK)
    for path in out_dir.glob(".book-*"):
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def make_readable(book: Path) -> None:
    """Folders 0755 and files 0644: the book is for readers, on a shared server too."""
    if not book.is_dir():
        return
    book.chmod(0o755)
    for path in book.rglob("*"):
        if path.is_symlink():
            continue
        path.chmod(0o755 if path.is_dir() else 0o644)


def book_output_dir(root: Path) -> Path:
    """The checked output folder; refused early if the renderer cannot write the book there."""
    params = load_run_params()
    out_dir = prepare_output_dir(params.output_dir, root, raw_dir=params.raw_dir, data_dir=params.data_dir)
    from tillit.book import render as book

    if "output_dir" not in inspect.signature(book.render).parameters and out_dir != (root / "outputs").resolve():
        raise ConfigError(f"output_dir = {params.output_dir!r}: boka kan foreløpig bare lages i outputs/ "
                          "(tillit.book.render tar ikke output_dir ennå); bruk output_dir: outputs")
    return out_dir


def render_book(root: Path, renderer: str = "auto") -> Rendered:
    """Render the book under the build lock and record it in the manifest."""
    from tillit.book import render as book
    from tillit.build import pipeline
    from tillit.build.pipeline.orchestrate import _acquire_lock, _sigterm_as_interrupt

    out_dir = book_output_dir(root)
    kwargs = {"renderer": renderer}
    if "output_dir" in inspect.signature(book.render).parameters:
        kwargs["output_dir"] = out_dir
    lock = _acquire_lock(out_dir, root)
    try:
        with _sigterm_as_interrupt():
            clean_book_leftovers(out_dir)
            t0 = time.perf_counter()
            try:
                result = book.render(root, **kwargs)
            except BaseException:
                clean_book_leftovers(out_dir)
                raise
            seconds = time.perf_counter() - t0
            make_readable(out_dir / BOOK)
            pipeline.record_render(result.renderer, seconds, root=root)
    finally:
        lock.release()
    return Rendered(result.renderer, seconds, Path(result.index_path), list(getattr(result, "warnings", []) or []))
