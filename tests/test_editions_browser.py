"""An edition's book as a reader gets it: the browser and disclosure checks of the main book
(tests/test_browser.py, whose helpers and Chromium fixture are imported, not copied) on one
published edition's book, for both renderers (Quarto when `quarto` is on PATH).

The book is a published edition of the compendium when one is built (`tillit build --edition
nks`; NKS preferred), re-rendered from a view whose outputs/ holds links to the edition's
notebooks, tables and figures; before any edition is built, the renderers' fixture book with
its chapters run for NKS (papermill's `edition` parameter), as an edition's book is.

Checked on every page, at desktop and phone width for axe: it is reached from the front page
and loads without console errors, names the edition in its banner, shows no traceback or raw
repr, and has no WCAG 2.1 A/AA violation (axe-core); the edition's outputs hold no respondent
rows or free text, and its own disclosure audit passed. With CI=true a missing browser, driver
or axe-core fails instead of skipping (tests/test_browser.require)."""
from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from book_fixture import build_fake_root
from test_browser import (AXE, REPO, RENDERERS, VIEWPORTS, _axe_report, _crawl, _leaks, _QuietHandler,  # noqa: F401
                          _raw_secrets, assert_no_bad_text, axe_on_book, driver, real_book_ready, require)
from tillit.config import repo_root

FIXTURE_EDITION = "nks"


def _built_edition(root: Path) -> str | None:
    """A published edition of the compendium whose book can be rendered again (NKS first;
    TILLIT_EDITION=<key> checks that one, e.g. every published edition in turn after
    `tillit editions`)."""
    from tillit.stats.audit import read_result

    base = root / "outputs" / "editions"
    keys = sorted(p.parent.name for p in base.glob("*/notebooks") if p.is_dir()) if base.is_dir() else []
    wanted = os.environ.get("TILLIT_EDITION")
    if wanted:
        keys = [k for k in keys if k == wanted]
    for key in sorted(keys, key=lambda k: k != FIXTURE_EDITION):
        audit = read_result(base / key)
        if audit is not None and audit.get("ok") and (base / key / "book" / "index.html").is_file():
            return key
    return None


def _view(root: Path, key: str, base: Path) -> Path:
    """A compendium whose outputs/ reads the edition's notebooks, tables and figures (links)
    and takes what the renderers write (the Quarto project) in a folder of its own."""
    view = base / "view"
    (view / "outputs").mkdir(parents=True)
    for name in ("params", "notebooks", "data", "src"):
        if (root / name).exists():
            (view / name).symlink_to(root / name, target_is_directory=True)
    for name in ("notebooks", "tables", "figures", "disclosure"):
        if (root / "outputs" / "editions" / key / name).is_dir():
            (view / "outputs" / name).symlink_to(root / "outputs" / "editions" / key / name, target_is_directory=True)
    return view


def _fixture_edition(base: Path) -> Path:
    root = build_fake_root(base)
    for name in ("codebook.yml", "editions.yml"):
        shutil.copy(REPO / "params" / name, root / "params" / name)
    for path in sorted((root / "outputs" / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        key = "nav" if path.stem.startswith("00_") else FIXTURE_EDITION  # the data step is the main book's
        nb["metadata"]["papermill"] = {"parameters": {"edition": key, "min_cell": 5}}
        path.write_text(json.dumps(nb), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def edition_root(tmp_path_factory):
    """(view root, edition key, title, the edition's own outputs folder, is it the compendium's)."""
    from tillit.stats.editions import load_editions

    root = repo_root()
    key = _built_edition(root)
    wanted = os.environ.get("TILLIT_EDITION")
    if wanted and key != wanted:
        pytest.fail(f"TILLIT_EDITION={wanted}: utgaven er ikke bygget og publisert i {root / 'outputs' / 'editions'}")
    if key is not None:
        view = _view(root, key, tmp_path_factory.mktemp("edition"))
        if real_book_ready(view):
            return view, key, load_editions(root=root).get(key).title, root / "outputs" / "editions" / key, True
    view = _fixture_edition(tmp_path_factory.mktemp("edition-fixture"))
    title = load_editions(root=view).get(FIXTURE_EDITION).title
    return view, FIXTURE_EDITION, title, view / "outputs", False


@pytest.fixture(scope="module", params=RENDERERS)
def served_edition(request, edition_root, tmp_path_factory):
    """(book_dir, base_url, renderer) of the edition's book, served on 127.0.0.1."""
    renderer = request.param
    if renderer == "quarto" and shutil.which("quarto") is None:
        pytest.skip("quarto finnes ikke på PATH: Quarto-boka testes ikke (legg /opt/quarto-build på PATH)")
    root = edition_root[0]
    book_dir = tmp_path_factory.mktemp(f"edition-book-{renderer}")
    if renderer == "quarto":
        from tillit.book.render.quarto import render_quarto

        render_quarto(root, book_dir)
    else:
        from tillit.book.render.fallback import render_fallback

        render_fallback(root, book_dir)
    handler = functools.partial(_QuietHandler, directory=str(book_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield book_dir, f"http://127.0.0.1:{server.server_address[1]}/", renderer
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def edition_crawl(served_edition, driver):  # noqa: F811 - the fixture imported from test_browser
    book_dir, base, _ = served_edition
    return book_dir, base, _crawl(driver, base)


@pytest.mark.browser
@pytest.mark.slow
def test_every_page_of_the_edition_is_reached_loads_and_names_the_edition(edition_crawl, edition_root):
    book_dir, base, pages = edition_crawl
    title = edition_root[2]
    on_disk = {p.name for p in book_dir.glob("*.html")}
    reached = {urlparse(u).path.lstrip("/") for u in pages}
    assert len(on_disk) > 3 and on_disk <= reached, f"sider som ingen lenke når: {sorted(on_disk - reached)}"
    for url, info in pages.items():
        if urlparse(url).path.lstrip("/") not in on_disk:
            continue  # the edition's links to the main book lie outside this server's folder
        assert info["ready"] == "complete", url
        assert info["title"].strip() and len(info["text"]) > 200, url
        assert not info["console"], (url, info["console"])
        assert f"Utgave: {title}" in info["text"], f"{url}: siden nevner ikke utgaven {title}"


@pytest.mark.browser
@pytest.mark.slow
def test_no_traceback_or_raw_repr_in_the_edition(edition_crawl):
    _, _, pages = edition_crawl
    assert_no_bad_text(pages)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_axe_finds_no_wcag_violation_in_the_edition(served_edition, driver, viewport):  # noqa: F811
    require(AXE.is_file(), f"axe-core mangler ({AXE.relative_to(REPO)}): kjør make node_modules")
    book_dir, base, renderer = served_edition
    found, pages = axe_on_book(driver, book_dir, base, viewport)
    assert not found, (f"axe fant brudd på WCAG 2.1 A/AA i utgavens bok ({renderer}) på {len(found)} av "
                       f"{len(pages)} sider:\n" + _axe_report(found))


@pytest.mark.browser
@pytest.mark.slow
def test_the_editions_outputs_hold_no_respondent_rows_and_its_audit_passed(edition_root, served_edition):
    view, key, _, outputs, is_real = edition_root
    ids, texts = _raw_secrets(view)
    if not is_real:
        assert ids and texts  # the fixture's raw survey has an id and a free-text answer to look for
    assert not _leaks(outputs, ids, texts)
    assert not _leaks(served_edition[0], ids, texts)
    if is_real:
        from tillit.stats.audit import read_result

        assert read_result(outputs)["ok"], f"utgaven {key}: revisjonen av skjulte tall feilet"
