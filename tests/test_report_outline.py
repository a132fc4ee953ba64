"""The book has the report's structure: every chapter and section of Delrapport 1 (the
`outline` in params/report.yml), in the report's order and with the report's numbers, and the
compendium's own additions only as lettered appendices after chapter 6.

Three layers:
- the outline itself is well formed (and, where the report's text is at hand, says what the
  report says);
- the notebooks' headings, numbered the way the book convention says the renderers number
  them, give exactly the outline (fast: no build);
- the rendered book shows every outline heading with its number, in order, in both renderers
  (slow: builds the book in a fresh copy; the Quarto half is skipped when quarto is missing).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tillit.config import load_pipeline, repo_root

ROOT = repo_root()
# The report as text, where a machine has it (not shipped: the compendium holds no copy).
REPORT_TEXT = Path(os.environ.get("TILLIT_REPORT_TEXT", "/work/shared/reference/delrapport1.txt"))
# The lettered appendices, in book order (the book-structure convention): 00_klargjoring is
# appendix A, then the four in 06_vedlegg.
APPENDICES = ["app-data", "app-metode", "app-regnskap", "app-kodebok", "app-figurer"]
NUMBER_RE = re.compile(r"^\d+(?:\.\d+)*$")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*(?:\{([^{}]*)\})?\s*$")


@dataclass(frozen=True)
class Heading:
    level: int
    number: str | None   # "3.2.1.1", "A" for an appendix, None when unnumbered
    title: str
    ident: str | None = None
    where: str = ""


def norm(title: str) -> str:
    """Compare titles as a reader would: case, quotes, dashes and spacing do not matter."""
    t = unicodedata.normalize("NFKC", title).replace("\u00a0", " ")
    t = re.sub(r"[«»“”„\"']", '"', t)
    t = re.sub(r"[–—‑-]", "-", t)
    t = re.sub(r"\s+", " ", t).strip().rstrip(".:").casefold()
    return t


def outline() -> list[dict]:
    data = yaml.safe_load((ROOT / "params" / "report.yml").read_text(encoding="utf-8"))
    return data["outline"]


def level_of(entry: dict) -> int:
    return entry["n"].count(".") + 1 if entry["n"] else int(entry["level"])


# --- the outline ---------------------------------------------------------------------------
def test_outline_is_well_formed():
    entries = outline()
    assert entries, "params/report.yml mangler outline"
    seen: list[tuple[int, ...]] = []
    chapter = None
    for e in entries:
        assert set(e) <= {"n", "title", "level"} and e.get("title"), e
        if e["n"] is None:
            assert e.get("level") in (2, 3, 4, 5), f"unummerert overskrift uten nivå: {e}"
            assert chapter is not None, f"unummerert overskrift før første kapittel: {e}"
            continue
        assert NUMBER_RE.match(e["n"]), e
        key = tuple(int(p) for p in e["n"].split("."))
        if len(key) == 1:
            chapter = key[0]
            assert key[0] == (seen[-1][0] + 1 if seen else 1), f"kapittel {e['n']} kommer ikke i rekkefølge"
        else:
            assert key[:-1] in seen, f"{e['n']} har ingen overordnet seksjon {'.'.join(map(str, key[:-1]))}"
            siblings = [s for s in seen if s[:-1] == key[:-1] and len(s) == len(key)]
            assert key[-1] == (siblings[-1][-1] + 1 if siblings else 1), f"{e['n']} hopper over et nummer"
        seen.append(key)
    assert [k[0] for k in seen if len(k) == 1] == [1, 2, 3, 4, 5, 6]


@pytest.mark.skipif(not REPORT_TEXT.is_file(), reason="rapportteksten finnes ikke på denne maskinen")
def test_outline_numbers_and_titles_are_the_reports():
    """Every numbered outline entry appears in the report as a line '<number> <title>'."""
    lines = [norm(line) for line in REPORT_TEXT.read_text(encoding="utf-8").splitlines()]
    missing = []
    for e in outline():
        if e["n"] is None:
            if norm(e["title"]) not in lines:
                missing.append(e["title"])
            continue
        num = e["n"] + ("." if "." not in e["n"] else "")
        want = {f"{num} {norm(e['title'])}", f"{e['n']} {norm(e['title'])}"}
        if not want & set(lines):
            missing.append(f"{e['n']} {e['title']}")
    assert not missing, "finnes ikke i rapporten: " + "; ".join(missing)


# --- the notebooks, numbered as the convention says ----------------------------------------------
def _notebook_headings(name: str) -> list[tuple[int, str, str | None, list[str]]]:
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            m = HEADING_RE.match(line)
            if m:
                attrs = (m.group(3) or "").split()
                ident = next((a[1:] for a in attrs if a.startswith("#")), None)
                out.append((len(m.group(1)), m.group(2), ident, [a[1:] for a in attrs if a.startswith(".")]))
    return out


def simulated_book() -> tuple[list[Heading], list[Heading]]:
    """(chapter headings, appendix headings) as the renderers must number them: `#` starts a
    chapter (1, 2, …) unless it is `.appendix` (lettered A, B, … in notebook order, after the
    chapters); `##`–`####` count within it; `.unnumbered` headings take no number."""
    chapters: list[Heading] = []
    appendices: list[Heading] = []
    counters = [0] * 6
    in_appendix = False
    for name in load_pipeline().names():
        for level, title, ident, classes in _notebook_headings(name):
            where = f"notebooks/{name}.ipynb"
            if level == 1:
                in_appendix = "appendix" in classes
                if in_appendix:
                    appendices.append(Heading(1, chr(ord("A") + len(appendices)), title, ident, where))
                    continue
                counters = [counters[0] + 1, 0, 0, 0, 0, 0]
                chapters.append(Heading(1, str(counters[0]), title, ident, where))
                continue
            if in_appendix:
                continue
            if "unnumbered" in classes:
                chapters.append(Heading(level, None, title, ident, where))
                continue
            counters[level - 1] += 1
            counters[level:] = [0] * (6 - level)
            chapters.append(Heading(level, ".".join(str(c) for c in counters[:level]), title, ident, where))
    return chapters, appendices


def outline_problems(found: list[Heading]) -> list[str]:
    """What keeps `found` (the book's chapter headings, in order) from being the outline."""
    entries = outline()
    problems = []
    numbered = [h for h in found if h.number and NUMBER_RE.match(h.number)]
    want = [e for e in entries if e["n"]]
    for i in range(max(len(numbered), len(want))):
        h = numbered[i] if i < len(numbered) else None
        e = want[i] if i < len(want) else None
        if h is None:
            problems.append(f"mangler {e['n']} {e['title']}")
        elif e is None:
            problems.append(f"{h.where}: ekstra nummerert overskrift {h.number} {h.title}")
        elif h.number != e["n"] or norm(h.title) != norm(e["title"]):
            problems.append(f"{h.where}: {h.number} «{h.title}» der rapporten har {e['n']} «{e['title']}»")
        if len(problems) >= 15:
            break
    pos = 0
    for e in entries:  # unnumbered ones: present, unnumbered, in order
        same = [k for k in range(pos, len(found)) if norm(found[k].title) == norm(e["title"])]
        if e["n"]:  # keep our place: the heading with this title (or, failing that, this number)
            pos = next(iter(same), next((k for k in range(pos, len(found)) if found[k].number == e["n"]), pos))
            continue
        plain = [k for k in same if found[k].number is None and found[k].level == level_of(e)]
        if plain:
            pos = plain[0]
        elif same:
            h = found[same[0]]
            problems.append(f"{h.where}: «{e['title']}» skal være unummerert på nivå {level_of(e)}, men har "
                            f"{h.number or 'nivå ' + str(h.level)}")
        else:
            problems.append(f"mangler den unummererte overskriften «{e['title']}»")
    return problems


def _perfect() -> list[Heading]:
    return [Heading(level_of(e), e["n"], e["title"], None, "bok") for e in outline()]


def test_the_check_accepts_the_outline_and_catches_each_kind_of_fault():
    assert outline_problems(_perfect()) == []
    # A compendium heading without .unnumbered after 3.2.1.1 shifts 3.2.1.2 and 3.2.1.3 by one.
    shifted = []
    for h in _perfect():
        shifted.append(Heading(h.level, _bump(h.number), h.title, None, "bok"))
        if h.number == "3.2.1.1":
            shifted.append(Heading(4, "3.2.1.2", "Et tillegg uten .unnumbered", None, "bok"))
    assert any("3.2.1.2" in p for p in outline_problems(shifted))
    unnumbered = [Heading(h.level, "1.1" if h.title == "Prosess" else h.number, h.title, None, "bok")
                  for h in _perfect()]
    assert any("Prosess" in p for p in outline_problems(unnumbered))
    missing = [h for h in _perfect() if h.title != "Veien videre"]
    assert any("Veien videre" in p for p in outline_problems(missing))
    renamed = [Heading(h.level, h.number, "Hovedfunn i boka" if h.number == "4.2" else h.title, None, "bok")
               for h in _perfect()]
    assert any("4.2" in p for p in outline_problems(renamed))
    # typography does not matter
    assert norm("Prosjekt \"Økt kompetanse\"") == norm("prosjekt «Økt kompetanse»")
    assert norm("FOU-plan 2021-2025") == norm("FoU-plan 2021–2025")


def _bump(number: str | None) -> str | None:
    """The next number at the same level (3.2.1.1 → 3.2.1.2): the shift an extra heading causes."""
    if number not in ("3.2.1.2", "3.2.1.3"):
        return number
    head, last = number.rsplit(".", 1)
    return f"{head}.{int(last) + 1}"


def test_notebook_headings_carry_no_typed_numbers():
    typed = [f"{name}: {title}" for name in load_pipeline().names()
             for _lvl, title, _i, _c in _notebook_headings(name)
             if re.match(r"^\d+(\.\d+)*\.?\s", title)]
    assert not typed, "overskrifter med nummer skrevet inn for hånd: " + "; ".join(typed)


def test_notebook_headings_give_the_reports_outline():
    chapters, _ = simulated_book()
    problems = outline_problems(chapters)
    assert not problems, "\n".join(problems)


def test_notebooks_hold_the_lettered_appendices_in_order():
    _, appendices = simulated_book()
    assert [a.ident for a in appendices] == APPENDICES, [(a.number, a.ident, a.title) for a in appendices]


# --- the rendered book ------------------------------------------------------------------------
BIN = Path(sys.executable).parent
QUARTO = shutil.which("quarto")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A fresh copy of the compendium (params, notebooks), built once with `tillit build`."""
    root = tmp_path_factory.mktemp("bok")
    for folder in ("params", "notebooks"):
        shutil.copytree(ROOT / folder, root / folder)
    for folder in ("data/raw", "data/processed", "outputs"):
        (root / folder).mkdir(parents=True)
    env = {**os.environ, "TILLIT_ROOT": str(root)}
    run = subprocess.run([str(BIN / "tillit"), "build"], cwd=root, env=env, capture_output=True, text=True,
                         timeout=1800)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return root, env


def _render(root: Path, env: dict, renderer: str) -> Path:
    run = subprocess.run([str(BIN / "python"), "-m", "tillit.book.render", "--renderer", renderer,
                          "--root", str(root)], cwd=root, env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = root / f"book-{renderer}"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(root / "outputs" / "book", out)
    return out


def _page_order(book: Path) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((book / "index.html").read_text(encoding="utf-8"), "html.parser")
    nav = soup.select_one("#quarto-sidebar") or soup.select_one(".toc-list") or soup
    pages = []
    for a in nav.find_all("a", href=True):
        href = a["href"].split("#")[0].removeprefix("./")
        if re.fullmatch(r"[\w-]+\.html", href) and href != "index.html" and href not in pages:
            pages.append(href)
    return pages


def _rendered_headings(book: Path) -> list[Heading]:
    from bs4 import BeautifulSoup

    found = []
    for page in _page_order(book):
        soup = BeautifulSoup((book / page).read_text(encoding="utf-8"), "html.parser")
        main = soup.select_one("#quarto-document-content") or soup.find("main") or soup
        header = soup.select_one("#title-block-header")
        tags = ([header.find("h1")] if header and header.find("h1") else []) + main.find_all(
            ["h1", "h2", "h3", "h4", "h5"])
        for tag in dict.fromkeys(t for t in tags if t is not None):
            if tag.find_parent(class_=re.compile(r"callout|quarto-title-meta")) or tag.find_parent("figure"):
                continue
            num_tag = tag.select_one(".chapter-number, .header-section-number, .section-number")
            text = tag.get_text(" ", strip=True)
            number = num_tag.get_text(strip=True) if num_tag else None
            if number:
                text = text.replace(number, "", 1).strip()
            else:
                m = re.match(r"^(?:(?:Tillegg|Vedlegg)\s+)?(\d+(?:\.\d+)*|[A-Z](?:\.\d+)*)(?:\s*[–—-])?\s+(.+)$",
                             text)
                if m and (NUMBER_RE.match(m.group(1)) or text.startswith(("Tillegg", "Vedlegg"))):
                    number, text = m.group(1), m.group(2)
            found.append(Heading(int(tag.name[1]), number or None, text.strip(" –-"),
                                 tag.get("id"), f"{book.name}/{page}"))
    return found


def _check_rendered(book: Path) -> None:
    found = _rendered_headings(book)
    problems = outline_problems(found)
    pages = _page_order(book)
    letters = []
    for k, ident in enumerate(APPENDICES):
        page = f"{ident}.html"
        if page not in pages:
            problems.append(f"vedlegget {ident} har ingen egen side ({page})")
            continue
        h1 = next((h for h in found if h.where.endswith("/" + page) and h.level == 1), None)
        letters.append(h1.number if h1 else None)
        if h1 is None or h1.number != chr(ord("A") + k):
            problems.append(f"{page}: forventet vedlegg {chr(ord('A') + k)}, fant {h1.number if h1 else 'ingen tittel'}")
    chapter6 = next((h.where for h in found if h.level == 1 and h.number == "6"), None)
    if chapter6 and all(f"{a}.html" in pages for a in APPENDICES):
        last_chapter = pages.index(chapter6.split("/")[-1])
        if min(pages.index(f"{a}.html") for a in APPENDICES) < last_chapter:
            problems.append("vedleggene står før kapittel 6")
    assert not problems, f"{book.name}:\n" + "\n".join(problems[:40])


@pytest.mark.slow
def test_fallback_book_has_the_reports_outline(built):
    root, env = built
    _check_rendered(_render(root, env, "fallback"))


@pytest.mark.slow
@pytest.mark.skipif(QUARTO is None, reason="quarto finnes ikke på PATH (prøv PATH=/opt/quarto-build:$PATH)")
def test_quarto_book_has_the_reports_outline(built):
    root, env = built
    _check_rendered(_render(root, env, "quarto"))


# --- how much of the report the front chapters carry ---------------------------------------------
WORD_RE = re.compile(r"[\wÆØÅæøå]+(?:[-’'][\wÆØÅæøå]+)*")
FRONT = {"1": "01_sammendrag", "2": "02_innledning", "3": "03_kunnskapsgrunnlag", "5": "05_videre_arbeid"}


def report_words() -> dict[str, int]:
    """Words per chapter of the report's text, tables (tab-separated lines) and figure captions
    left out, headings kept."""
    lines = REPORT_TEXT.read_text(encoding="utf-8").splitlines()
    starts = {}
    for k in "123456":
        title = next(e["title"] for e in outline() if e["n"] == k)
        starts[k] = next(i for i, line in enumerate(lines) if i > 40 and line.strip() == f"{k}. {title}")
    order = sorted(starts, key=starts.get)
    out = {}
    for j, k in enumerate(order):
        end = starts[order[j + 1]] if j + 1 < len(order) else len(lines)
        body = [line for line in lines[starts[k]:end] if "\t" not in line and not re.match(r"^Figur \d", line.strip())]
        out[k] = sum(len(WORD_RE.findall(line)) for line in body)
    return out


def book_words(nb_path: Path) -> int:
    """Words of prose in an executed notebook: Markdown cells and prose outputs; headings, pipe
    tables, figures, tables and the banner left out."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    texts = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            texts.append("".join(cell["source"]))
        for out in cell.get("outputs", []):
            if not (out.get("metadata") or {}).get("tillit"):
                texts.append("".join((out.get("data") or {}).get("text/markdown", "")))
    words = 0
    for line in "\n".join(texts).splitlines():
        s = line.strip()
        if s.startswith(("#", "|", ": ")):
            continue
        words += len(WORD_RE.findall(re.sub(r"<[^>]+>", " ", s)))
    return words


@pytest.mark.slow
@pytest.mark.skipif(not REPORT_TEXT.is_file(), reason="rapportteksten finnes ikke på denne maskinen")
def test_front_chapters_carry_at_least_the_reports_words(built):
    root, _ = built
    want = report_words()
    short = {k: (book_words(root / "outputs" / "notebooks" / f"{nb}.ipynb"), want[k])
             for k, nb in FRONT.items()}
    assert all(have >= need for have, need in short.values()), f"(boka, rapporten) per kapittel: {short}"
