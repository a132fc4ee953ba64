"""Markdown (Quarto-flavoured CommonMark) to HTML for the fallback: mistune plus Pandoc
fenced divs, callouts and heading attributes."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from functools import lru_cache

FENCE_OPEN_RE = re.compile(r"^\s*(:{3,})\s*\{([^}]*)\}\s*$|^\s*(:{3,})\s*([\w-]+)\s*$")
FENCE_CLOSE_RE = re.compile(r"^\s*:{3,}\s*$")
CALLOUT_TITLES = {"note": "Merk", "warning": "Advarsel", "important": "Viktig", "tip": "Tips", "caution": "Forsiktig"}


def _attrs(spec: str) -> tuple[str | None, list[str]]:
    ident, classes = None, []
    for token in spec.split():
        if token.startswith("#"):
            ident = token[1:]
        elif token.startswith("."):
            classes.append(token[1:])
        elif token == "-":
            classes.append("unnumbered")
    return ident, classes


def _split_fenced_divs(text: str) -> list[tuple[str, object]]:
    """Top-level pieces: ("md", text) or ("div", (attrs, inner text)). Pandoc fenced divs."""
    lines = text.split("\n")
    pieces: list[tuple[str, object]] = []
    buf: list[str] = []
    i = 0
    while i < len(lines):
        m = FENCE_OPEN_RE.match(lines[i])
        if m:
            depth, inner, j = 1, [], i + 1
            while j < len(lines):
                if FENCE_CLOSE_RE.match(lines[j]):
                    depth -= 1
                    if depth == 0:
                        break
                elif FENCE_OPEN_RE.match(lines[j]):
                    depth += 1
                inner.append(lines[j])
                j += 1
            if buf:
                pieces.append(("md", "\n".join(buf)))
                buf = []
            spec = m.group(2) if m.group(2) is not None else "." + m.group(4)
            pieces.append(("div", (spec, "\n".join(inner))))
            i = j + 1
            continue
        buf.append(lines[i])
        i += 1
    if buf:
        pieces.append(("md", "\n".join(buf)))
    return pieces


@lru_cache(maxsize=1)
def _mistune():
    import mistune  # imported on first use: the render cache check needs none of this

    return mistune.create_markdown(escape=False, plugins=["table", "strikethrough", "footnotes", "url"])


# --------------------------------------------------------------------------------------
# data: URIs out of the parser's way
# --------------------------------------------------------------------------------------
# A figure's Markdown carries its SVG as `![..](data:image/svg+xml;base64,…)`, hundreds of
# kilobytes long, and mistune's link and block parsing is slow on such text (about 3 s of a
# cold render). The payload never changes how the Markdown parses and is passed through
# unchanged (its characters are all URL- and HTML-safe), so it is swapped for a short token
# in the same alphabet before parsing and put back in the HTML afterwards. The media type and
# `;base64,` stay, so anything deciding by the URI's scheme decides the same.
DATA_URI_RE = re.compile(r"(data:[A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+;base64,)([A-Za-z0-9+/]+={0,2})")


class DataURIs:
    """Stand-ins for the base64 payloads of the data: URIs in some texts.

    The token's stem ``tillitDataUri<n>x`` is one that occurs in none of the `texts`, so a
    text that looks like a token is left as it is; `restore` puts back exactly the payloads
    `hide` took out."""

    def __init__(self, *texts: str):
        n = 0
        while any(f"tillitDataUri{n}x" in t for t in texts):
            n += 1
        self.stem = f"tillitDataUri{n}x"
        self.payloads: list[str] = []
        self._token_re = re.compile(re.escape(self.stem) + r"(\d+)x")

    def hide(self, text: str) -> str:
        if "base64," not in text:
            return text

        def swap(m: re.Match) -> str:
            self.payloads.append(m.group(2))
            return f"{m.group(1)}{self.stem}{len(self.payloads) - 1}x"

        return DATA_URI_RE.sub(swap, text)

    def restore(self, html_text: str) -> str:
        if not self.payloads:
            return html_text
        return self._token_re.sub(lambda m: self.payloads[int(m.group(1))], html_text)


def markdown_to_html(text: str) -> str:
    """CommonMark plus the Quarto bits the notebooks use: fenced divs, callouts, heading
    attributes. data: URIs are kept out of mistune's way (DataURIs), the HTML is the same."""
    uris = DataURIs(text)
    return uris.restore(_markdown_to_html(uris.hide(text)))


def _markdown_to_html(text: str) -> str:
    out: list[str] = []
    for kind, value in _split_fenced_divs(text):
        if kind == "md":
            out.append(_mistune()(value))
            continue
        spec, inner = value
        ident, classes = _attrs(spec)
        callout = next((c for c in classes if c.startswith("callout")), None)
        id_attr = f' id="{html.escape(ident)}"' if ident else ""
        if callout:
            level = callout.split("-", 1)[1] if "-" in callout else "note"
            title = CALLOUT_TITLES.get(level, "Merk")
            m = re.match(r"^\s*#{1,6}\s+(.+?)\s*\n", inner + "\n")
            if m:
                title, inner = m.group(1), inner[m.end():]
            out.append(f'<div class="callout callout-{html.escape(level)}"{id_attr} role="note">'
                       f'<p class="callout-title">{html.escape(title)}</p>{_markdown_to_html(inner)}</div>')
        else:
            cls = f' class="{html.escape(" ".join(classes))}"' if classes else ""
            out.append(f"<div{cls}{id_attr}>{_markdown_to_html(inner)}</div>")
    return "\n".join(out)



# --------------------------------------------------------------------------------------
# Headings in Markdown sources (shared by both renderers)
# --------------------------------------------------------------------------------------
ATX_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*$")
CODE_FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
HEADING_ATTRS_RE = re.compile(r"[ \t]*\{([^{}]*)\}[ \t]*$")


@dataclass
class Heading:
    """An ATX heading `## Title {#id .class key=value}` as Pandoc reads it."""
    level: int
    title: str
    ident: str | None = None
    classes: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)   # key=value attributes, kept as written

    @classmethod
    def parse(cls, line: str) -> Heading | None:
        m = ATX_RE.match(line)
        if not m:
            return None
        level, title = len(m.group(1)), m.group(2)
        ident, classes, extra = None, [], []
        attrs = HEADING_ATTRS_RE.search(title)
        if attrs:
            title = title[: attrs.start()]
            for token in attrs.group(1).split():
                if token.startswith("#"):
                    ident = token[1:]
                elif token.startswith("."):
                    classes.append(token[1:])
                elif token == "-":
                    classes.append("unnumbered")
                else:
                    extra.append(token)
        return cls(level, title.rstrip().rstrip("#").rstrip(), ident, classes, extra)

    @property
    def numbered(self) -> bool:
        return "unnumbered" not in self.classes

    def line(self) -> str:
        tokens = ([f"#{self.ident}"] if self.ident else []) + [f".{c}" for c in self.classes] + self.extra
        return "#" * self.level + " " + self.title + (" {" + " ".join(tokens) + "}" if tokens else "")


def heading_lines(text: str) -> list[tuple[int, Heading]]:
    """(line index, heading) for every section heading of `text`: outside code fences and
    outside callouts (whose first heading is the callout's title, not a section)."""
    found: list[tuple[int, Heading]] = []
    fence: str | None = None
    divs: list[bool] = []          # open fenced divs: is each a callout?
    for i, line in enumerate(text.split("\n")):
        if fence is not None:
            if line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
                fence = None
            continue
        m = CODE_FENCE_RE.match(line)
        if m:
            fence = m.group(1)
            continue
        if FENCE_CLOSE_RE.match(line) and divs:
            divs.pop()
            continue
        opened = FENCE_OPEN_RE.match(line)
        if opened:
            spec = opened.group(2) if opened.group(2) is not None else "." + opened.group(4)
            divs.append(any(c.startswith("callout") for c in _attrs(spec)[1]))
            continue
        if not any(divs) and (heading := Heading.parse(line)) is not None:
            found.append((i, heading))
    return found


def rewrite_headings(text: str, fn) -> str:
    """Apply fn(Heading) -> Heading | str | None to every section heading of `text` (see
    heading_lines): a Heading or a string replaces the line, None leaves it as it was."""
    lines = text.split("\n")
    for i, heading in heading_lines(text):
        new = fn(heading)
        if new is not None:
            lines[i] = new if isinstance(new, str) else new.line()
    return "\n".join(lines)


def headings(text: str) -> list[Heading]:
    return [h for _, h in heading_lines(text)]


def pandoc_identifier(text: str, used: set[str]) -> str:
    """Pandoc's auto_identifiers, so both renderers give a heading the same anchor: drop
    everything but letters, digits, `_-.` and spaces, spaces to hyphens, lower case, nothing
    before the first letter; 'section' if empty; '-1', '-2' … on repeats."""
    plain = re.sub(r"<[^>]+>|[*`]", "", text)
    kept = "".join(ch for ch in plain if ch.isalnum() or ch in "_-. \n\t")
    ident = re.sub(r"\s+", "-", kept.strip()).lower()
    while ident and not ident[0].isalpha():
        ident = ident[1:]
    ident = ident or "section"
    base, k = ident, 0
    while ident in used:
        k += 1
        ident = f"{base}-{k}"
    used.add(ident)
    return ident
