"""Rendering the book as a build step: under the build lock, into the checked output folder,
readable by others, and never leaving half a book behind.

The renderer itself is tillit.book.render (Quarto or the nbconvert fallback); it builds the
book in ``<output_dir>/.book-*`` and swaps it in. This wrapper makes that safe to interrupt
and to repeat: stale ``.book-*`` folders from a killed render are removed (and a book that
was moved aside but not replaced is put back), SIGTERM is handled like Ctrl-C, and the book
is made world-readable (folders 0755, files 0644; mkdtemp gives 0700).
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from tillit.book.destination import prepare_output_dir
from tillit.config import SHARED_KEYS, RunParams, load_pipeline, load_run_params

BOOK = "book"


@dataclass
class Rendered:
    renderer: str
    seconds: float
    index_path: Path
    warnings: list[str]
    status: str = "ok"                       # "cached": the book was up to date, nothing rendered
    version: str = ""
    rendered: list[str] = field(default_factory=list)  # fallback: pages written this time
    reused: list[str] = field(default_factory=list)    # fallback: pages kept from the last book
    output_dir: Path | None = None


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


def run_params(root: Path, parameters: dict | None = None) -> RunParams:
    """The shared parameters of a build: the pipeline's parameter file, then the caller's
    `-p`/`-f` values for the shared keys (output_dir, data_dir, min_cell, …)."""
    spec = load_pipeline(root=root)
    path = Path(spec.parameters)
    shared = {k: v for k, v in (parameters or {}).items() if k in SHARED_KEYS}
    return load_run_params(path if path.is_absolute() else root / path, **shared)


def book_output_dir(root: Path, parameters: dict | None = None) -> Path:
    """The checked output folder (tillit.book.destination), created with its marker; refused
    early, before anything runs, if it may not hold the book."""
    params = run_params(root, parameters)
    return prepare_output_dir(params.output_dir, root, raw_dir=params.raw_dir, data_dir=params.data_dir)


def render_book(root: Path, renderer: str = "auto", parameters: dict | None = None) -> Rendered:
    """Render the book of <output_dir>/notebooks into <output_dir>/book under the build lock,
    and record it in <output_dir>/manifest.json."""
    from tillit.book import render as book
    from tillit.build.pipeline.orchestrate import _acquire_lock, _sigterm_as_interrupt

    root = Path(root).resolve()
    params = run_params(root, parameters)
    out_dir = book_output_dir(root, parameters)
    data_dir = params.path("data_dir", root)
    lock = _acquire_lock(out_dir, root)
    try:
        with _sigterm_as_interrupt():
            clean_book_leftovers(out_dir)
            t0 = time.perf_counter()
            try:
                result = book.render(root, renderer=renderer, output_dir=out_dir, data_dir=data_dir)
            except BaseException:
                clean_book_leftovers(out_dir)
                raise
            seconds = time.perf_counter() - t0
            make_readable(out_dir / BOOK)
            record_render(out_dir, result.renderer, seconds, getattr(result, "status", "ok"))
    finally:
        lock.release()
    return Rendered(result.renderer, seconds, Path(result.index_path), list(getattr(result, "warnings", []) or []),
                    getattr(result, "status", "ok"), getattr(result, "version", ""),
                    list(getattr(result, "rendered", []) or []), list(getattr(result, "reused", []) or []), out_dir)


def record_render(out_dir: Path, renderer: str, seconds: float, status: str = "ok") -> dict:
    """Which renderer made the book in `out_dir`, how long it took, whether it was up to date,
    and from which build (the hash of all step keys), in that folder's manifest."""
    from tillit.build.pipeline.cache import MANIFEST_NAME, _manifest_lock, _now, _write_manifest, read_manifest_at
    from tillit.build.pipeline.files import _digest

    path = out_dir / MANIFEST_NAME
    with _manifest_lock(path):
        data = read_manifest_at(path)
        data["render"] = {
            "renderer": renderer, "seconds": round(float(seconds), 3), "finished": _now(), "status": status,
            "build": _digest({k: v.get("key") for k, v in sorted(data["steps"].items())}), "output": None,
        }
        _write_manifest(path, data)
    return data["render"]
