"""render(): pick the renderer, skip the render when nothing it reads has changed, else build
into a temporary directory and swap the book in; and the command line (`python -m tillit.book`).

The skip test is cheap on purpose (no nbformat, nbconvert or bs4 import): a no-op
`tillit build` is dominated by it. Its key covers everything the book is made from: the
executed notebooks, the figures and tables copied into the book, the templates and this
package's code, the book config (params/pipeline.yml, params/report.yml), the data source
(the banner) and the renderer with its version.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tillit.config import ConfigError, repo_root

PACKAGE = Path(__file__).resolve().parent
BOOK_PACKAGE = PACKAGE.parent
RECORD = ".render.json"
KEY_VERSION = 1


@dataclass
class RenderResult:
    renderer: Literal["quarto", "nbconvert-fallback"]
    index_path: Path
    pages: list[Path]
    warnings: list[str] = field(default_factory=list)
    status: Literal["ok", "cached"] = "ok"
    version: str = ""
    rendered: list[str] = field(default_factory=list)   # fallback: pages written this time
    reused: list[str] = field(default_factory=list)     # fallback: pages kept from the last book


# What a render imports (beyond this module), and the fallback's `prepare` (its warm-up, ahead):
# a build does them while its chapters run (tillit.build.pipeline.preload), so the render does
# not wait for them at the end.
FALLBACK_MODULES = ("tillit.book.render.fallback", "tillit.book.render.edition", "tillit.book.provenance",
                    "tillit.book.context", "tillit.stats.editions", "nbconvert.exporters.html",
                    "nbconvert.filters.highlight", "nbconvert.filters.widgetsdatatypefilter", "bs4", "jinja2.ext",
                    "pygments.lexers.python", "concurrent.futures.process", "multiprocessing.popen_fork",
                    "multiprocessing.synchronize", "tillit.book.render.fallback:prepare")
QUARTO_MODULES = ("tillit.book.render.quarto",)


def render_modules(renderer: str = "auto") -> tuple[str, ...]:
    """The modules `render(renderer=...)` will import: the fallback's, or Quarto's where
    `renderer` asks for it or "auto" finds quarto on PATH."""
    use_quarto = renderer == "quarto" or (renderer == "auto" and shutil.which("quarto") is not None)
    return QUARTO_MODULES if use_quarto else FALLBACK_MODULES


def _tree(digest, directory: Path, pattern: str = "**/*") -> None:
    if not directory.is_dir():
        digest.update(f"{directory.name}:none\n".encode())
        return
    for path in sorted(p for p in directory.glob(pattern) if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if "__pycache__" in rel or rel.endswith(".pyc"):
            continue
        digest.update(f"{directory.name}/{rel}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def _file(digest, path: Path) -> None:
    digest.update(f"{path.name}\n".encode())
    digest.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"missing")


def templates_key() -> str:
    digest = hashlib.sha256()
    _tree(digest, BOOK_PACKAGE / "templates")
    _tree(digest, PACKAGE, "*.py")
    _file(digest, BOOK_PACKAGE / "context.py")  # the banner's wording
    _file(digest, BOOK_PACKAGE / "provenance.py")  # notebook_page: the executed notebooks' pages
    return digest.hexdigest()


def render_key(root: Path, renderer: str, version: str) -> str:
    digest = hashlib.sha256(f"{KEY_VERSION}|{renderer}|{version}\n".encode())
    digest.update(templates_key().encode())
    outputs = root / "outputs"
    _tree(digest, outputs / "notebooks", "*.ipynb")
    _tree(digest, outputs / "figures")
    _tree(digest, outputs / "tables")
    for rel in ("params/pipeline.yml", "params/report.yml", "data/processed/data_source.json"):
        _file(digest, root / rel)
    return digest.hexdigest()


def fallback_version() -> str:
    from importlib.metadata import version

    return f"nbconvert {version('nbconvert')}, mistune {version('mistune')}"


LINK_RE = re.compile(r'href="(?:\./)?([^"#:?]+\.html)(?:#[^"]*)?"')


def dangling_links(book: Path) -> list[str]:
    """Links from one page of the book to a page it does not have (in either renderer):
    e.g. a number linked to its ledger row before the ledger appendix exists."""
    found = []
    for page in sorted(book.glob("*.html")):
        targets = {m.group(1) for m in LINK_RE.finditer(page.read_text(encoding="utf-8"))}
        missing = sorted(t for t in targets if not t.startswith("../") and not (book / t).is_file())
        found += [f"{page.name}: lenke til {target}, som ikke finnes i boka" for target in missing]
    return found


def _recorded(final: Path, key: str) -> dict | None:
    try:
        record = json.loads((final / RECORD).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(record, dict) or record.get("key") != key:
        return None
    if not all((final / name).is_file() for name in record.get("pages", [])):
        return None
    return record


VIEW_SOURCES = ("params", "notebooks", "data", "src")


@contextlib.contextmanager
def compendium_view(root: Path, output_dir: Path, data_dir: Path | None = None):
    """A view of the compendium whose outputs/ is `output_dir` (and whose data/processed/ is
    `data_dir`): symbolic links to the sources in a temporary folder. The renderers read and
    write <root>/outputs/; through the view they read and write `output_dir` and nothing
    under the repository's own outputs/."""
    with tempfile.TemporaryDirectory(prefix="tillit-visning-") as tmp:
        view = Path(tmp)
        for name in VIEW_SOURCES:
            if name == "data" and data_dir is not None and data_dir != (root / "data" / "processed").resolve():
                (view / "data").mkdir()
                (view / "data" / "processed").symlink_to(data_dir, target_is_directory=True)
                if (root / "data" / "raw").exists():
                    (view / "data" / "raw").symlink_to(root / "data" / "raw", target_is_directory=True)
            elif (root / name).exists():
                (view / name).symlink_to(root / name, target_is_directory=True)
        (view / "outputs").symlink_to(output_dir, target_is_directory=True)
        yield view


def render(root: Path | None = None, renderer: Literal["auto", "quarto", "fallback"] = "auto",
           *, force: bool = False, output_dir: Path | str | None = None,
           data_dir: Path | str | None = None) -> RenderResult:
    """Render <output_dir>/book/ with Quarto when it is on PATH (or asked for), else the fallback.

    `output_dir` (default <root>/outputs) holds the executed notebooks, figures and tables
    and receives the book; `data_dir` (default <root>/data/processed) is where the banner's
    data_source.json is read. Relative paths are taken against `root`. The caller checks the
    folder (tillit.book.destination; `tillit build` and `tillit render` do).

    The result says truthfully which renderer ran (and `status="cached"` when the book on
    disk was made from the same inputs and nothing was rendered). The book is built in a
    temporary directory and swapped in only when complete.
    """
    root = (Path(root) if root else repo_root()).resolve()
    out = _under(root, output_dir, "outputs")
    data = _under(root, data_dir, "data/processed")
    if out == root / "outputs" and data == root / "data" / "processed":
        return _render(root, renderer, force)
    out.mkdir(parents=True, exist_ok=True)
    with compendium_view(root, out, data) as view:
        result = _render(view, renderer, force)
    # Paths as the caller knows them, not through the (now removed) view.
    book = out / "book"
    result.index_path = book / result.index_path.relative_to(view / "outputs" / "book")
    result.pages = [book / p.relative_to(view / "outputs" / "book") for p in result.pages]
    return result


def _under(root: Path, value: Path | str | None, default: str) -> Path:
    path = Path(value) if value is not None else Path(default)
    return (path if path.is_absolute() else root / path).resolve()


def _render(root: Path, renderer: str, force: bool) -> RenderResult:
    from tillit.book.render.structure import BookError

    if renderer not in ("auto", "quarto", "fallback"):
        raise BookError(f"ukjent renderer {renderer!r}: forventet 'auto', 'quarto' eller 'fallback'")
    quarto = shutil.which("quarto")
    if renderer == "quarto" and quarto is None:
        raise BookError("renderer='quarto' ble bedt om, men quarto finnes ikke på PATH")
    use_quarto = renderer == "quarto" or (renderer == "auto" and quarto is not None)
    if use_quarto:
        from tillit.book.render.quarto import quarto_version

        name, version = "quarto", f"Quarto {quarto_version(quarto)}"
    else:
        name, version = "nbconvert-fallback", fallback_version()
    outputs = root / "outputs"
    final = outputs / "book"
    key = render_key(root, name, version)
    record = None if force else _recorded(final, key)
    if record is not None:
        return RenderResult(name, final / "index.html", [final / p for p in record["pages"]],
                            list(record.get("warnings", [])), "cached", version)
    outputs.mkdir(parents=True, exist_ok=True)
    tmp_out = Path(tempfile.mkdtemp(prefix=".book-", dir=outputs))
    os.chmod(tmp_out, 0o755)  # readable by others, as a published book must be
    done: dict[str, list[str]] = {}
    try:
        if use_quarto:
            from tillit.book.render.quarto import render_quarto

            pages, warnings = render_quarto(root, tmp_out, version)
        else:
            from tillit.book.render.fallback import render_fallback

            previous = final if (final / RECORD).is_file() and not force else None
            pages, warnings, done = render_fallback(root, tmp_out, previous, templates_key(),
                                                    f"nbconvert-reserveløsningen ({version})")
        warnings = warnings + dangling_links(tmp_out)
        (tmp_out / ".renderer").write_text(name + "\n", encoding="utf-8")
        (tmp_out / RECORD).write_text(json.dumps(
            {"key": key, "renderer": name, "version": version, "warnings": warnings,
             "pages": [p.relative_to(tmp_out).as_posix() for p in pages]}, ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8")
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
    return RenderResult(name, final / "index.html", pages, warnings, "ok", version,
                        done.get("rendered", []), done.get("reused", []))


def main(argv: list[str] | None = None) -> int:
    from tillit.book.render.structure import BookError

    parser = argparse.ArgumentParser(prog="python -m tillit.book", description="Bygg HTML-boka i outputs/book/")
    parser.add_argument("--renderer", choices=["auto", "quarto", "fallback"], default="auto")
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--force", action="store_true", help="bygg boka på nytt selv om ingenting er endret")
    parser.add_argument("--output-dir", default=None, help="mappen med de kjørte notatbøkene (standard outputs)")
    args = parser.parse_args(argv)
    try:
        out = None
        if args.output_dir is not None:
            from tillit.book.destination import check_output_dir

            root = (args.root or repo_root()).resolve()
            out = check_output_dir(args.output_dir, root, label="--output-dir")
        result = render(args.root, args.renderer, force=args.force, output_dir=out)
    except (BookError, ConfigError) as exc:
        print(f"Feil: {exc}", file=sys.stderr)
        return 1
    for w in result.warnings:
        print(f"Advarsel: {w}", file=sys.stderr)
    if result.status == "cached":
        print(f"Boka er uendret ({result.renderer}, {result.version}): {result.index_path}")
    else:
        print(f"Boka er bygget med {result.renderer} ({result.version}): {result.index_path} "
              f"({len(result.pages)} sider)")
    return 0
