"""Markdown (Quarto-flavoured CommonMark) to HTML for the fallback: mistune plus Pandoc
fenced divs, callouts and heading attributes."""
from __future__ import annotations

import html
import re

import mistune

_markdown = mistune.create_markdown(escape=False, plugins=["table", "strikethrough", "footnotes", "url"])
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


def markdown_to_html(text: str) -> str:
    """CommonMark plus the Quarto bits the notebooks use: fenced divs, callouts, heading attributes."""
    out: list[str] = []
    for kind, value in _split_fenced_divs(text):
        if kind == "md":
            out.append(_markdown(value))
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
                       f'<p class="callout-title">{html.escape(title)}</p>{markdown_to_html(inner)}</div>')
        else:
            cls = f' class="{html.escape(" ".join(classes))}"' if classes else ""
            out.append(f"<div{cls}{id_attr}>{markdown_to_html(inner)}</div>")
    return "\n".join(out)

