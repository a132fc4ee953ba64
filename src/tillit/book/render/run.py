"""render(): pick the renderer, build into a temporary directory, swap the book in; and the
command line (`python -m tillit.book`)."""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tillit.book.render.fallback import render_fallback
from tillit.book.render.quarto import _render_quarto
from tillit.book.render.structure import BookError
from tillit.config import ConfigError, repo_root


@dataclass
class RenderResult:
    renderer: Literal["quarto", "nbconvert-fallback"]
    index_path: Path
    pages: list[Path]
    warnings: list[str] = field(default_factory=list)


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
