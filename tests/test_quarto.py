"""Real Quarto: the book it renders is the fallback's book, page by page, and it renders
without a single warning. Needs `quarto` on PATH (Quarto 1.10.16 from
../shared/tools/build_quarto.sh: `export PATH=/opt/quarto-build:$PATH`); skipped otherwise.

Compared per page: the set of pages, the page title with its chapter number or appendix
letter, every section heading with its number and anchor, every figure and table with its
number and caption, every cross-reference (text and target), the data banner, the
provenance lines, the download links (CSV, notebook), the code folds, previous/next and
the table of contents."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from book_fixture import EXPECTED_HOVEDFUNN, EXPECTED_PAGES, build_fake_root, real_book_ready
from tillit.book.render.fallback import render_fallback
from tillit.book.render.quarto import render_quarto
from tillit.book.render.structure import book_pages
from tillit.config import repo_root

pytestmark = pytest.mark.quarto


@pytest.fixture(scope="module")
def quarto():
    exe = shutil.which("quarto")
    if exe is None:
        pytest.skip("quarto finnes ikke på PATH: bygg den med ../shared/tools/build_quarto.sh og "
                    "legg /opt/quarto-build på PATH for å teste Quarto-boka")
    return exe


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00b7", " ")).strip()


def _href(a) -> str:
    return a["href"].removeprefix("./")


def _is_provenance(p) -> bool:
    """The line under a figure or table: class provenance (fallback), or (Quarto) a paragraph
    opening with an emphasis that links the notebook's page or is followed by a CSV link."""
    if "provenance" in (p.get("class") or []):
        return True
    first = next((c for c in p.children if getattr(c, "name", None)), None)
    if first is None or first.name != "em" or p.find_parent(class_="provenance"):
        return False
    return bool(first.select('a[href*="notebooks/"]') or p.select(':scope > a[href$=".csv"]'))


def page_facts(path: Path) -> dict:
    """What a reader can see and cite on one page, in the same terms for both renderers."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup.select(".screen-reader-only, script, style"):
        tag.decompose()
    main = soup.select_one("main#quarto-document-content") or soup.select_one("main")
    quarto = main.get("id") == "quarto-document-content"
    title = soup.select_one("h1.title" if quarto else "main h1.chapter-heading, main h1.book-heading")
    heads = []
    for h in main.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        if h is title or h.find_parent(class_="callout") or h.find_parent("figure") or h.find_parent("nav"):
            continue
        if quarto and "title" in h.get("class", []):
            continue
        # Quarto puts the anchor on the enclosing <section>, the fallback on the heading.
        ident = h.get("id") or (h.parent.get("id") if h.parent.name == "section" else None)
        heads.append((h.name, ident, _norm(h.get_text(" "))))
    floats = {}
    for f in main.select('[id^="fig-"], [id^="tbl-"]'):
        cap = f.find("figcaption") or f.find("caption")
        if cap is not None and f.name in ("div", "figure"):
            floats[f["id"]] = _norm(cap.get_text(" "))
    xrefs = [(_norm(a.get_text(" ")), _href(a)) for a in main.select("a[href]")
             if re.search(r"#(fig|tbl)-", a["href"])]
    banner = soup.select_one(".data-banner")
    provenance = [p for p in main.find_all("p") if _is_provenance(p)]
    downloads = sorted(_href(a) for a in main.select("a[href]")
                       if a["href"].endswith(".csv") or _href(a).startswith("notebooks/"))
    folds = ["".join(d.select_one("pre").get_text().split()) for d in main.select("details")
             if d.summary and d.summary.get_text(strip=True) == "Vis kode"]
    if quarto:
        prev = soup.select_one(".page-navigation .nav-page-previous a")
        nxt = soup.select_one(".page-navigation .nav-page-next a")
        toc = [(_norm(a.get_text(" ")), _href(a)) for a in soup.select("#quarto-sidebar a.sidebar-link[href]")]
    else:
        prev, nxt = soup.select_one("nav.pager a.prev"), soup.select_one("nav.pager a.next")
        toc = [(_norm(a.get_text(" ")), _href(a)) for a in soup.select("aside .toc-list > li > a")]
    return {
        "title": _norm(title.get_text(" ")) if title else None,
        "headings": heads, "floats": floats, "xrefs": xrefs,
        "banner": _norm(banner.get_text(" ")) if banner else None,
        "provenance": [_norm(p.get_text(" ")) for p in provenance], "downloads": downloads,
        "folds": folds, "prev": _href(prev) if prev else None, "next": _href(nxt) if nxt else None,
        "toc": toc,
    }


def book_facts(book_dir: Path) -> dict[str, dict]:
    return {p.name: page_facts(p) for p in sorted(book_dir.glob("*.html"))}


def _render_both(root: Path, tmp: Path) -> tuple[Path, Path, list[str]]:
    fb, qb = tmp / "fallback", tmp / "quarto"
    fb.mkdir()
    qb.mkdir()
    render_fallback(root, fb)
    _, warnings = render_quarto(root, qb)
    return fb, qb, warnings


def _assert_same(fallback: dict, quarto: dict) -> None:
    assert sorted(quarto) == sorted(fallback), "sidene er ikke de samme"
    for page in fallback:
        for key, value in fallback[page].items():
            assert quarto[page][key] == value, f"{page}: {key} er ulik\n quarto:   {quarto[page][key]}\n fallback: {value}"


@pytest.fixture(scope="module")
def fixture_books(quarto, tmp_path_factory):
    root = build_fake_root(tmp_path_factory.mktemp("qbook"))
    return _render_both(root, tmp_path_factory.mktemp("qout"))


def test_quarto_renders_the_fixture_book_without_a_warning(fixture_books):
    _, qb, warnings = fixture_books
    assert warnings == []
    assert (qb / "index.html").is_file()


def test_quarto_book_names_quarto_as_its_renderer(fixture_books, quarto):
    import subprocess

    _, qb, _ = fixture_books
    text = (qb / "app-metode.html").read_text(encoding="utf-8")
    release = subprocess.run([quarto, "--version"], capture_output=True, text=True).stdout.strip()
    assert f"Quarto {release}" in text and "{{&lt;" not in text and "{{<" not in text


def test_both_renderers_give_the_same_fixture_book(fixture_books):
    fb, qb, _ = fixture_books
    fallback, quarto = book_facts(fb), book_facts(qb)
    assert sorted(fallback) == sorted(["index.html", *(f"{p}.html" for p in EXPECTED_PAGES)])
    # The comparison can fail: spot checks of what both must say.
    hovedfunn = quarto["04_hovedfunn.html"]
    assert hovedfunn["title"] == "3 Hovedfunn etter kartleggingsarbeidet"
    assert [(h, t) for h, _, t in hovedfunn["headings"]] == EXPECTED_HOVEDFUNN
    assert hovedfunn["floats"]["fig-faktorer"].startswith("Figur 3.1: ")
    assert ("figur B.1", "app-metode.html#fig-sammenligning") in hovedfunn["xrefs"]
    assert quarto["app-data.html"]["title"] == "Tillegg A — Datagrunnlag og klargjøring"
    assert not any(h[2][0].isdigit() for h in quarto["index.html"]["headings"]), "forsiden er nummerert"
    assert len(hovedfunn["folds"]) == 2 and not quarto["05_videre_arbeid.html"]["folds"]
    _assert_same(fallback, quarto)




@pytest.mark.slow
def test_both_renderers_give_the_same_compendium(quarto, tmp_path):
    """The real book (after `make book`): no Quarto warning, the same pages and numbers."""
    root = repo_root()
    if not real_book_ready(root):
        pytest.skip("de kjørte notatbøkene mangler i outputs/notebooks – kjør make book først")
    fb, qb, warnings = _render_both(root, tmp_path)
    assert warnings == []
    fallback, quarto_ = book_facts(fb), book_facts(qb)
    assert sorted(fallback) == sorted(["index.html", *(p.page for p in book_pages(root))])
    _assert_same(fallback, quarto_)
