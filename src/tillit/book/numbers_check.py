"""Checks a built book for honest numbers (used by tests/test_honest_numbers.py).

Three checks over every page:

- **unmarked numbers**: a share, a mean, a count or a decimal in the reading text (paragraphs,
  list items, headings, captions, callouts) that is not inside a number span of
  :mod:`tillit.book.numbers`. Not numbers in this sense: section and figure numbers, years,
  cross-references, "Mål 1", "fase 2", paragraph signs and scale end points ("1–5");
  provenance lines, code and the page chrome are not reading text. Table cells are checked
  on their own: a cell that is a number must be a span.
- **published links**: every ``data-kind="publisert"`` span links to ``<page>#ledger-<id>``, and
  that page has an element with that id.
- **claims**: every ``<span class="claim">`` is checked against the table (or a figure's "Vis
  som tabell") it names, as the reader sees it.

:func:`count_kinds` counts the spans of each kind.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag

from tillit.book.numbers import check_claim

# A number as a reader would quote it: digits with a Norwegian thousands space or decimal comma,
# optionally a percent. Not part of a word, a dotted section number or a longer number.
NUMBER_RE = re.compile(r"(?<![\w.,/§–-])[−-]?(?:\d{1,3}(?:[\u00a0\u202f ]\d{3})+|\d+)(?:,\d+)?"
                       r"(?:[\u00a0 ]?(?:%|prosent))?(?![\w]|[.,]\d|[–-]\d)")
RANGE_RE = re.compile(r"(?<![\w.,/§])\d+(?:,\d+)?[–-]\d+(?:,\d+)?(?:[\u00a0 ]?(?:%|prosent))?(?![\w]|[.,]\d)")
SECTION_RE = re.compile(r"(?<![\w,])\d+(?:\.\d+)+\.?")   # 4.2.1, 21.06.2023
YEAR_RE = re.compile(r"^(19|20)\d\d$")
# Words after which a number is a name, not a quantity (Mål 1, mål nr. 3, fase 2, Figur 3).
NAME_WORDS = re.compile(r"\b(?:mål|figur|figurene|tabell|tabellene|kapittel|kapitlene|kap|vedlegg|fase|fasene|"
                        r"leveranse|leveransene|delleveranse|delleveransene|punkt|steg|trinn|versjon|del|"
                        r"stortingsmelding|celle|runde|alternativ|svaralternativ|notat|delrapport|§)\.?\s*(?:nr\.?\s*)?$",
                        re.I)
# "95 % konfidensintervall": the confidence level is a convention of the method, not a finding.
CONFIDENCE = re.compile(r"\b95[\u00a0 ]?(?:%|prosent)(?=[\s-]*(?:konfidens|KI\b|intervall|-?nivå|sikker))", re.I)
# Table columns whose numbers are names (chapter, step, year), not quantities.
NAME_COLUMNS = {"kap.", "kapittel", "steg", "år", "nr.", "figur", "tabell", "mål"}
SCALE_ENDS = re.compile(r"\bfra 1\b(.{0,80}?)\btil 5\b", re.S)
SCALE_SPAN = re.compile(r"(?<![\w,])1\s*[–-]\s*5(?![\w,])")
PROSE_TAGS = ["p", "li", "dd", "dt", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption", "caption"]
SKIP_CLASSES = {"tall", "claim-skip", "provenance", "section-number", "float-number", "header-section-number",
                "visually-hidden", "cell-anchor", "chapter-number", "quarto-xref", "kind-note"}
SKIP_TAGS = {"code", "pre", "script", "style", "nav", "header", "footer", "aside", "table", "details", "figure",
             "svg", "math", "sup"}
CHROME = {"site-header", "sidebar", "pager", "site-footer", "data-banner", "toc", "search", "chapter-list",
          "tall-legend"}
XREF_HREF = re.compile(r"#(?:fig|tbl|sec)-|^#fn|#ledger-")
SEP = " \x00 "


@dataclass
class Problem:
    page: str
    check: str        # "unmarked", "table-cell", "link", "claim"
    text: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.page}: [{self.check}] {self.text}" + (f" – {self.detail}" if self.detail else "")


def _is_markdown_provenance(el: Tag) -> bool:
    """Quarto renders the provenance line from its Markdown form: a paragraph that opens with an
    emphasis linking the executed notebook's page (the fallback's has class "provenance")."""
    if el.name != "p":
        return False
    first = next((c for c in el.children if isinstance(c, Tag)), None)
    return first is not None and first.name == "em" and first.select_one('a[href*="notebooks/"]') is not None


def _skip(tag: Tag, allow: tuple[str, ...] = ()) -> bool:
    """Whether ``tag`` (or a parent) is not reading text: code, chrome, provenance, a number span."""
    for el in [tag, *tag.parents]:
        if not isinstance(el, Tag):
            continue
        if _is_markdown_provenance(el):
            return True
        classes = set(el.get("class") or [])
        if (el.name in SKIP_TAGS and el.name not in allow) or classes & SKIP_CLASSES or classes & CHROME:
            return True
        if el.name == "a" and XREF_HREF.search(el.get("href", "")):
            return True
    return False


def _reading_text(tag: Tag) -> str:
    """The tag's text with skipped parts (spans, cross-references, section numbers) replaced by a
    separator, so a number next to a span is never glued to it."""
    parts: list[str] = []
    for node in tag.descendants:
        if not isinstance(node, NavigableString):
            continue
        skipped = False
        for p in node.parents:
            if p is tag or p is None:
                break
            classes = set(p.get("class") or [])
            if classes & SKIP_CLASSES or p.name in ("code", "sup", "svg") or (
                    p.name == "a" and XREF_HREF.search(p.get("href", ""))):
                skipped = True
                break
        parts.append(SEP if skipped else str(node))
    return re.sub(r"(\x00\s*)+", "\x00 ", "".join(parts))


def numbers_in(text: str) -> list[tuple[str, str]]:
    """(number, context) for each quantity in ``text`` that a reader could quote."""
    text = SCALE_ENDS.sub(lambda m: " " + m.group(1) + " ", text)
    text = SCALE_SPAN.sub(" ", text)
    text = CONFIDENCE.sub(" ", text)
    text = SECTION_RE.sub(" ", text)
    found = []
    for regex in (RANGE_RE, NUMBER_RE):
        for m in regex.finditer(text):
            token = m.group(0)
            digits = re.sub(r"[\u00a0\u202f ]", "", token)
            if regex is NUMBER_RE and RANGE_RE.search(text[max(0, m.start() - 8):m.end() + 8]):
                continue   # reported once, as a range
            if YEAR_RE.match(digits) or re.fullmatch(r"(19|20)\d\d[–-](19|20)?\d\d", digits):
                continue
            if NAME_WORDS.search(text[max(0, m.start() - 40):m.start()]):
                continue
            context = re.sub(r"\s+", " ", text[max(0, m.start() - 35):m.end() + 35]).replace("\x00", "…")
            found.append((token, context.strip()))
    return found


def unmarked_numbers(soup: BeautifulSoup) -> list[str]:
    """Numbers in the reading text that are not wrapped, with a little context each."""
    found: list[str] = []
    main = soup.find("main") or soup
    for tag in main.find_all(PROSE_TAGS):
        if tag.find_parent(PROSE_TAGS):     # nested (a list in a list item): the outer one covers it
            continue
        allow = ("figure",) if tag.name == "figcaption" else (("table",) if tag.name == "caption" else ())
        if _skip(tag, allow):
            continue
        text = _reading_text(tag)
        if tag.name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = re.sub(r"^\s*\d+(?:\.\d+)*\s", " ", text)   # the heading's own number
        found += [f"«{tok}» i «{ctx}»" for tok, ctx in numbers_in(text)]
    return found


def unmarked_cells(soup: BeautifulSoup) -> list[str]:
    """Table cells that are a bare number (no span): numbers in tables carry their kind too."""
    out = []
    for cell in soup.select("main td, main tbody th") if soup.find("main") else soup.select("td, tbody th"):
        if cell.find(class_="tall") or cell.find_parent(class_=list(CHROME)):
            continue
        text = cell.get_text(" ", strip=True)
        if _column_header(cell).lower() in NAME_COLUMNS:
            continue
        if text and re.fullmatch(r"[−-]?\d[\d\u00a0 ]*(,\d+)?(\u00a0?%)?", text):
            table = cell.find_parent(id=True)
            out.append(f"«{text}» i tabellen {table.get('id') if table else '?'}")
    return out


def _column_header(cell: Tag) -> str:
    """The header text of a cell's column (its position in the row against the head row)."""
    table, row = cell.find_parent("table"), cell.find_parent("tr")
    if table is None or row is None:
        return ""
    heads = table.select("thead th")
    index = row.find_all(["td", "th"]).index(cell)
    return heads[index].get_text(" ", strip=True) if index < len(heads) else ""


def _number(text: str) -> float | None:
    m = re.search(r"[−-]?\d[\d\u00a0 ]*(?:,\d+)?", text)
    if not m:
        return None
    raw = m.group(0).replace("\u00a0", "").replace(" ", "").replace(",", ".").replace("−", "-")
    try:
        return float(raw)
    except ValueError:
        return None


def tables_of(soup: BeautifulSoup) -> dict[str, dict[str, dict[str, float | None]]]:
    """{table or figure label: {column header: {first-column label: value}}} as displayed."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    holders = [(el.get("id"), el.find("table")) for el in soup.select(".tillit-table[id]")]
    holders += [(el.get("data-for"), el.find("table")) for el in soup.select("details.figure-data[data-for]")]
    for label, table in holders:
        if not label or table is None:
            continue
        heads = [th.get_text(" ", strip=True) for th in table.select("thead th")]
        cols: dict[str, dict[str, float | None]] = {h: {} for h in heads[1:]}
        for tr in table.select("tbody tr"):
            cells = tr.find_all(["td", "th"])
            if not cells:
                continue
            key = cells[0].get_text(" ", strip=True)
            key = re.sub(r"\s*\(modelltall\)$", "", key)
            for h, cell in zip(heads[1:], cells[1:]):
                text = cell.get_text(" ", strip=True).replace("(modelltall)", "")
                cols[h][key] = None if "–" in text and _number(text) is None else _number(text)
        out.setdefault(label, cols)
    return out


def check_book(pages: dict[str, str], ledger_ids: dict[str, set[str]] | None = None) -> list[Problem]:
    """Every problem in a book given as {page file name: HTML}."""
    soups = {name: BeautifulSoup(text, "html.parser") for name, text in pages.items()}
    ids = ledger_ids or {name: {t["id"] for t in s.find_all(id=True)} for name, s in soups.items()}
    all_tables: dict[str, dict] = {}
    for s in soups.values():
        for label, cols in tables_of(s).items():
            all_tables.setdefault(label, cols)
    problems: list[Problem] = []
    for name, soup in soups.items():
        problems += [Problem(name, "unmarked", t) for t in unmarked_numbers(soup)]
        problems += [Problem(name, "table-cell", t) for t in unmarked_cells(soup)]
        problems += _check_links(name, soup, ids)
        problems += _check_claims(name, soup, all_tables)
    return problems


def _check_links(name: str, soup: BeautifulSoup, ids: dict[str, set[str]]) -> list[Problem]:
    out = []
    for el in soup.select('.tall[data-kind="publisert"]'):
        if el.find_parent(class_="tall-legend"):
            continue   # the legend's sample
        a = el.find("a")
        href = a.get("href", "") if a else ""
        m = re.fullmatch(r"([^#]*)#(ledger-[\w-]+)", href)
        text = el.get_text(" ", strip=True)
        if not m:
            out.append(Problem(name, "link", text, f"publisert tall uten lenke til regnskapet ({href or 'ingen lenke'})"))
            continue
        page = m.group(1) or name
        if page not in ids:
            out.append(Problem(name, "link", text, f"siden {page} finnes ikke"))
        elif m.group(2) not in ids[page]:
            out.append(Problem(name, "link", text, f"{page} har ingen rad med id {m.group(2)}"))
    return out


def _check_claims(name: str, soup: BeautifulSoup, tables: dict[str, dict]) -> list[Problem]:
    out = []
    for el in soup.select("span.claim"):
        label, column = el.get("data-table", ""), el.get("data-column", "")
        rows = [r for r in el.get("data-rows", "").split("|") if r]
        text = el.get_text(" ", strip=True)
        if label not in tables:
            out.append(Problem(name, "claim", text, f"tabellen/figuren {label} finnes ikke i boka"))
            continue
        if column not in tables[label]:
            out.append(Problem(name, "claim", text, f"{label} har ingen kolonne «{column}» "
                               f"(har: {', '.join(tables[label])})"))
            continue
        k = int(el["data-k"]) if el.get("data-k") else None
        tol = float(el["data-tol"]) if el.get("data-tol") else None
        problem = check_claim(el.get("data-claim", "max"), rows, tables[label][column], k=k, tol=tol)
        if problem:
            out.append(Problem(name, "claim", text, f"{label}, «{column}»: {problem}"))
    return out


def count_kinds(pages: dict[str, str]) -> Counter:
    """Number spans per kind over the book (publisert, rapport, modell, data) and claims."""
    counts: Counter = Counter()
    for text in pages.values():
        soup = BeautifulSoup(text, "html.parser")
        for el in soup.select("span.tall[data-kind]"):
            if not el.find_parent(class_="tall-legend"):
                counts[el["data-kind"]] += 1
        counts["påstand"] += len(soup.select("span.claim"))
    return counts


def read_book(book_dir: Path) -> dict[str, str]:
    """{file name: HTML} for every page of a built book (notebook pages left out)."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(book_dir).glob("*.html"))}
