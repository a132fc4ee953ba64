"""Emit figures, tables and computed prose from a notebook in a form both renderers use.

Each output is a display_data bundle whose `text/markdown` is Quarto syntax (labels,
captions, cross-references) and whose metadata["tillit"] carries a ready HTML fragment for
the nbconvert fallback (see docs/rendering.md). Files go to outputs/figures and
outputs/tables under the notebook's name, with book-root-relative paths.

Figures are SVG (text as outlines, byte-identical between builds). A chart drawn with
:mod:`tillit.book.plots` also has a phone version (``<label>-smal.svg``, chosen by a
``<picture>`` below 40 rem); any other figure too small for a phone gets a minimum width, so
no label renders below 11 px at 390 px (the figure then scrolls sideways). Every figure with
data has a "Vis som tabell" disclosure with its numbers, and every table's numbers carry their
kind (:mod:`tillit.book.numbers`). Downloads (CSV and Excel) come from
:mod:`tillit.book.downloads`.
"""
from __future__ import annotations

import base64
import html
import math
import os
import re
import tempfile
from pathlib import Path

import pandas as pd

from tillit.book import downloads
from tillit.book.numbers import span
from tillit.book.provenance import FIGURE_CSV, TABLE_CSV, Provenance

LABEL_RE = re.compile(r"^(fig|tbl)-[a-z0-9][a-z0-9-]*$")
# Our own inline number markup, which captions, cells and notes may carry (everything else is escaped).
INLINE_RE = re.compile(r'<span class="(?:tall|claim)"[^>]*>(?:(?!<span class="(?:tall|claim)").)*?</span>'
                       r'(?:</span>)?', re.S)
PHONE_COLUMN_PX = 358.0     # a 390 px phone minus the page margins
MIN_LABEL_PX = 11.0
NARROW_MEDIA = "(max-width: 40em)"
DATA_TABLE_TEXT = "Vis som tabell"
SUPPRESSED = "–*"


def _display(markdown: str, plain: str, meta: dict) -> None:
    from IPython.display import display

    display({"text/markdown": markdown, "text/plain": plain}, raw=True, metadata={"tillit": meta})


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_label(label: str, kind: str) -> None:
    if not LABEL_RE.match(label) or not label.startswith(kind):
        raise ValueError(f"ugyldig etikett '{label}': forventet '{kind}-' fulgt av små bokstaver, tall og bindestrek")


def inline_html(text: str) -> str:
    """Escape ``text`` but keep the number spans of :mod:`tillit.book.numbers` (well-formed, ours)."""
    text = str(text)
    out, pos = [], 0
    for m in INLINE_RE.finditer(text):
        out.append(html.escape(text[pos:m.start()], quote=False))
        out.append(m.group(0))
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


CAPTION_N = re.compile(r"(?<![\w])(n[\s\u00a0]?=[\s\u00a0]?)(\d{1,3}(?:[\u00a0 ]\d{3})+|\d+)(?![\d,])")


def caption_html(caption: str, kind: str | None) -> str:
    """A caption for HTML: escaped, our spans kept, and the respondent counts it names
    ("n = 3 660", a computed count) wrapped with the output's kind."""
    html_text = inline_html(caption)
    if not kind or kind == "rapport":
        return html_text
    parts = re.split(r'(<span class="(?:tall|claim)".*?</span>(?:</span>)?)', html_text)
    return "".join(p if p.startswith("<span") else
                   CAPTION_N.sub(lambda m: m.group(1) + span(m.group(2), kind, spoken=False), p) for p in parts)


def strip_html(text: str) -> str:
    """The text of a cell without markup (for downloads); the hidden screen-reader word goes too."""
    text = re.sub(r'<span class="visually-hidden">.*?</span>', "", str(text))
    return html.unescape(re.sub(r"<[^>]+>", "", text))


# --- figures ----------------------------------------------------------------------------------
def figure_svg(fig) -> bytes:
    """SVG bytes with no date or software metadata, so identical inputs give identical files."""
    import io

    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "tillit", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def figure_png(fig) -> bytes:
    """PNG bytes (no metadata): kept for callers that need a bitmap."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=144, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def smallest_font_pt(fig) -> float:
    """The smallest visible text in a drawn figure, in points."""
    import matplotlib.text

    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip() and t.figure is not None]
    return min(sizes, default=10.0)


def svg_width_pt(svg: bytes) -> float:
    m = re.search(rb'<svg[^>]*\swidth="([\d.]+)pt"', svg)
    return float(m.group(1)) if m else 684.0


def phone_px(font_pt: float, width_pt: float) -> float:
    """How large ``font_pt`` renders on a phone: the SVG is ``width_pt`` wide (4/3 px per pt) and
    shrinks to the 358 px column when wider."""
    return min(font_pt * 4 / 3, font_pt * PHONE_COLUMN_PX / width_pt)


def _variant(fig) -> dict:
    svg = figure_svg(fig)
    width = svg_width_pt(svg)
    font = smallest_font_pt(fig)
    px = phone_px(font, width)
    min_width = None if px >= MIN_LABEL_PX else math.ceil(width * MIN_LABEL_PX / font)
    return {"svg": svg, "width_pt": width, "font_pt": font, "phone_px": round(px, 2), "min_width_px": min_width}


def _figure_data_table(data: pd.DataFrame, label: str, kind: str, codebook, info: dict) -> tuple[str, downloads.ReaderFrame]:
    rf = downloads.reader_frame(data, codebook=codebook, scale_labels=info.get("scale_labels"),
                                decimals=info.get("decimals"))
    rf.frame = _in_chart_order(rf.frame, info.get("order"))
    shown = _format_reader(rf, info.get("decimals") or {})
    table = _html_table(shown, kind=kind, caption=None)
    block = (f'<details class="figure-data" data-for="{label}"><summary>{DATA_TABLE_TEXT}</summary>'
             f'<div class="tillit-table table-scroll">{table}</div></details>')
    return block, rf


def _in_chart_order(frame: pd.DataFrame, order: list | None) -> pd.DataFrame:
    """Rows in the order the chart draws them (top first), when a column names the chart's rows."""
    if not order or frame.empty:
        return frame
    wanted = [str(o) for o in order]
    for col in frame.columns:
        values = frame[col].astype(str)
        if set(wanted) <= set(values) or set(values) <= set(wanted):
            rank = {v: i for i, v in enumerate(wanted)}
            key = values.map(lambda v: rank.get(v, len(rank)))
            return frame.iloc[key.argsort(kind="stable")].reset_index(drop=True)
    return frame


def _format_reader(rf: downloads.ReaderFrame, decimals: dict) -> pd.DataFrame:
    """A reader frame formatted the Norwegian way, at the book's precision (not the download's)."""
    from tillit import fmt

    out = pd.DataFrame(index=rf.frame.index)
    d_share, d_mean = int(decimals.get("share", 0)), int(decimals.get("mean", 2))
    for col in rf.frame.columns:
        kind = rf.formats.get(col, "text")
        s = rf.frame[col]
        if kind.startswith("pct:"):
            out[col] = [SUPPRESSED if pd.isna(v) else fmt.pct(float(v) / 100, d_share) for v in s]
        elif kind == "int":
            out[col] = [SUPPRESSED if pd.isna(v) else fmt.num(int(v)) for v in s]
        elif kind.startswith("dec:"):
            out[col] = [SUPPRESSED if pd.isna(v) else fmt.num(float(v), d_mean) for v in s]
        else:
            out[col] = ["" if (v is None or (isinstance(v, float) and math.isnan(v))) else str(v) for v in s]
    return out


def show_figure(fig, *, notebook: str, output_dir: Path, label: str, caption: str, alt: str,
                provenance: Provenance, data: pd.DataFrame | None = None, kind: str = "modell",
                codebook=None) -> Path:
    """Save and show a figure. `data` (already disclosure-checked aggregates) is saved as CSV and
    Excel and shown under the figure as a table. `kind` is the kind of the numbers in it."""
    import matplotlib.pyplot as plt

    _check_label(label, "fig")
    if not alt.strip():
        raise ValueError(f"{label}: figuren mangler alternativ tekst")
    info = dict(getattr(fig, "tillit", None) or {})
    wide = _variant(fig)
    narrow = None
    if callable(info.get("narrow")):
        small = info["narrow"]()
        narrow = _variant(small)
        plt.close(small)
    plt.close(fig)
    out = Path(output_dir)
    src = f"figures/{notebook}/{label}.svg"
    atomic_write_bytes(out / src, wide["svg"])
    src_small = None
    if narrow:
        src_small = f"figures/{notebook}/{label}-smal.svg"
        atomic_write_bytes(out / src_small, narrow["svg"])
    csv, data_block, warnings = None, "", []
    if data is not None:
        csv = f"tables/{notebook}/{label}.csv"
        data_block, rf = _figure_data_table(data, label, kind, codebook, info)
        _write_downloads(out, csv, rf, caption, provenance)
        warnings += rf.warnings
    uri = "data:image/svg+xml;base64," + base64.b64encode(wide["svg"]).decode()
    alt_attr = alt.replace('"', "'")
    picture = _picture(src, src_small, alt, wide, narrow)
    cap = caption_html(caption, kind)
    badge = _kind_badge(kind, provenance)
    markdown = (f'![{cap}]({uri}){{#{label} fig-alt="{alt_attr}"}}\n\n'
                + (f"{data_block}\n\n" if data_block else "") + f"{badge}{provenance.markdown(csv, FIGURE_CSV)}\n")
    fragment = (f'<figure id="{label}" class="tillit-figure" data-kind="{kind}">{picture}'
                f"<figcaption>{cap}</figcaption></figure>{data_block}{badge}{provenance.html(csv, FIGURE_CSV)}")
    _display(markdown, f"[Figur {label}: {strip_html(caption)}]", {
        "kind": "figure", "label": label, "caption": strip_html(caption), "alt": alt, "src": src,
        "src_narrow": src_small, "csv": csv, "xlsx": _xlsx(csv), "number_kind": kind,
        "phone": {"wide_px": wide["phone_px"], "narrow_px": narrow["phone_px"] if narrow else None,
                  "min_width_px": (narrow or wide)["min_width_px"]},
        "warnings": warnings, "provenance": provenance.as_dict(), "html": fragment,
    })
    return out / src


def _picture(src: str, src_small: str | None, alt: str, wide: dict, narrow: dict | None) -> str:
    alt_attr = html.escape(alt, quote=True)
    phone = narrow or wide
    style = f' style="min-width:{phone["min_width_px"]}px"' if phone["min_width_px"] else ""
    source = f'<source media="{NARROW_MEDIA}" srcset="{html.escape(src_small)}">' if src_small else ""
    img = f'<img src="{html.escape(src)}" alt="{alt_attr}"{style}>'
    inner = f"<picture>{source}{img}</picture>"
    return f'<div class="figure-scroll">{inner}</div>' if style else inner


def _kind_badge(kind: str, provenance: Provenance) -> str:
    if kind != "modell":
        return ""
    return ('<p class="kind-note" data-kind="modell">Modelltall: figuren viser syntetiske data. Bare tall '
            "som er publisert i Delrapport 1, er NAVs.</p>")


def _xlsx(csv: str | None) -> str | None:
    return None if csv is None else csv[: -len(".csv")] + ".xlsx"


def _write_downloads(out: Path, csv: str, rf: downloads.ReaderFrame, caption: str, provenance: Provenance) -> None:
    atomic_write_bytes(out / csv, downloads.csv_bytes(rf.frame))
    about = [("Kilde", strip_html(provenance.source or "Delrapport 1")),
             ("Laget i", f"notatbok {provenance.notebook}.ipynb" + (f", celle {provenance.cell}" if provenance.cell else "")),
             ("Skjulte celler", "Tomme celler er skjult av personvernhensyn (for få svar bak tallet) "
                                "eller fordi tallet mangler."),
             ("Desimaler", "Andeler i prosent med én desimal mer enn boka viser.")]
    atomic_write_bytes(out / _xlsx(csv), downloads.xlsx_bytes(rf, title=strip_html(caption), about=about))


# --- tables -----------------------------------------------------------------------------------
_NUMERIC_RE = re.compile(r"^[−+-]?[0-9][0-9\u00a0 ]*(,[0-9]+)?(\u00a0?%)?( \(.*\))?$")


def _is_number(text: str) -> bool:
    return bool(_NUMERIC_RE.match(text))


def _is_numeric_column(values: pd.Series) -> bool:
    """A displayed column is right-aligned when every non-blank cell reads as a number."""
    texts = [strip_html(v).strip() for v in values if strip_html(v).strip() not in ("", "–", SUPPRESSED, "nan")]
    return bool(texts) and all(_is_number(t) for t in texts)


def cell_html(value, kind: str | None) -> str:
    """One table cell: our spans kept, a bare number wrapped with the table's kind."""
    text = str(value)
    if INLINE_RE.search(text):
        return inline_html(text)
    plain = text.strip()
    if kind and _is_number(plain):
        return span(plain, kind, spoken=False)
    return html.escape(text, quote=False)


def _md_cell(value, kind: str | None) -> str:
    return cell_html(value, kind).replace("|", "\\|").replace("\n", " ")


def _html_table(df: pd.DataFrame, *, kind: str | None, caption: str | None,
                row_ids: list[str | None] | None = None) -> str:
    cols = [str(c) for c in df.columns]
    numeric = [_is_numeric_column(df.iloc[:, i]) for i in range(len(cols))]
    head = "".join(f'<th scope="col"{" class=num" if numeric[i] else ""}>{inline_html(c)}</th>'
                   for i, c in enumerate(cols))
    rows = []
    for r, row in enumerate(df.itertuples(index=False)):
        rid = row_ids[r] if row_ids else None
        cells = []
        for i, v in enumerate(row):
            tag = "th scope=\"row\"" if i == 0 else "td"
            cls = " class=num" if numeric[i] else ""
            cells.append(f"<{tag}{cls}>{cell_html(v, kind)}</{tag.split()[0]}>")
        id_attr = f' id="{html.escape(rid)}"' if rid else ""
        rows.append(f"<tr{id_attr}>" + "".join(cells) + "</tr>")
    cap = f"<caption>{caption_html(caption, kind)}</caption>" if caption else ""
    kind_attr = f' data-kind="{kind}"' if kind else ""
    return f"<table{kind_attr}>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def show_table(display_df: pd.DataFrame, *, notebook: str, output_dir: Path, label: str,
               caption: str, provenance: Provenance, csv_df: pd.DataFrame | None = None,
               note: str | None = None, kind: str | None = "modell", row_ids: list[str | None] | None = None,
               codebook=None, scale_labels: dict | None = None) -> Path:
    """Show a formatted table (strings, Norwegian numbers) and save its data as CSV and Excel.

    `csv_df` is the machine-readable version (plain numbers, suppressed cells empty); by
    default the displayed frame (markup stripped) is saved. Bare numbers in cells are wrapped
    with `kind` ("modell"/"data" for computed tables, "rapport" for report facts, None: leave);
    cells may also carry spans of their own. `row_ids` give rows an ``id`` (the ledger's
    ``ledger-<id>``).
    """
    _check_label(label, "tbl")
    csv = f"tables/{notebook}/{label}.csv"
    out = Path(output_dir)
    decimals = downloads.shown_decimals(display_df)
    source = csv_df if csv_df is not None else display_df.map(strip_html)
    rf = downloads.reader_frame(source, codebook=codebook, scale_labels=scale_labels, decimals=decimals)
    _write_downloads(out, csv, rf, caption, provenance)
    cols = [str(c) for c in display_df.columns]
    numeric = [_is_numeric_column(display_df.iloc[:, i]) for i in range(len(cols))]
    lines = ["| " + " | ".join(_md_cell(c, None) for c in cols) + " |",
             "|" + "|".join("---:" if num else ":---" for num in numeric) + "|"]
    for r, row in enumerate(display_df.itertuples(index=False)):
        cells = [_md_cell(v, kind) for v in row]
        if row_ids and row_ids[r]:
            cells[0] = f'<span id="{html.escape(row_ids[r])}"></span>' + cells[0]
        lines.append("| " + " | ".join(cells) + " |")
    note_md = f"\n\n{inline_html(note)}" if note else ""
    markdown = ("\n".join(lines) + f"\n\n: {caption_html(caption, kind)} {{#{label}}}{note_md}\n\n"
                f"{provenance.markdown(csv, TABLE_CSV)}\n")
    note_html = f'<p class="table-note">{inline_html(note)}</p>' if note else ""
    table = _html_table(display_df, kind=kind, caption=caption, row_ids=row_ids)
    fragment = (f'<div class="tillit-table table-scroll" id="{label}">{table}{note_html}'
                f"{provenance.html(csv, TABLE_CSV)}</div>")
    _display(markdown, f"[Tabell {label}: {strip_html(caption)}]", {
        "kind": "table", "label": label, "caption": strip_html(caption), "csv": csv, "xlsx": _xlsx(csv),
        "number_kind": kind, "warnings": rf.warnings, "provenance": provenance.as_dict(), "html": fragment,
    })
    return out / csv


def show_prose(markdown: str) -> None:
    """Computed prose: plain CommonMark (cross-references like @fig-x are allowed)."""
    from IPython.display import display

    display({"text/markdown": markdown.strip() + "\n", "text/plain": strip_html(markdown).strip()}, raw=True)


def show_callout(text: str, *, kind: str = "banner", level: str = "warning", title: str = "Merk") -> None:
    markdown = f"::: {{.callout-{level}}}\n## {title}\n\n{text}\n:::\n"
    fragment = (f'<div class="callout callout-{level} tillit-{kind}"><p class="callout-title">'
                f"{html.escape(title)}</p><p>{inline_html(text)}</p></div>")
    _display(markdown, f"{title}: {strip_html(text)}", {"kind": kind, "html": fragment})
