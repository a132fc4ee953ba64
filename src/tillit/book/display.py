"""Emit figures, tables and computed prose from a notebook in a form both renderers use.

Each output is a display_data bundle whose `text/markdown` is Quarto syntax (labels,
captions, cross-references) and whose metadata["tillit"] carries a ready HTML fragment for
the nbconvert fallback (see docs/rendering.md). Files go to outputs/figures and
outputs/tables under the notebook's name, with book-root-relative paths.
"""
from __future__ import annotations

import base64
import html
import io
import os
import re
import tempfile
from pathlib import Path

import pandas as pd

from tillit.book.provenance import Provenance

TABLE_CSV = "Last ned tabellen (CSV)"
LABEL_RE = re.compile(r"^(fig|tbl)-[a-z0-9][a-z0-9-]*$")


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


def figure_png(fig) -> bytes:
    """PNG bytes with no software/version metadata, so identical inputs give identical files."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=144, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def show_figure(fig, *, notebook: str, output_dir: Path, label: str, caption: str, alt: str,
                provenance: Provenance, data: pd.DataFrame | None = None) -> Path:
    """Save and show a figure. `data` (already disclosure-checked aggregates) is saved as CSV."""
    import matplotlib.pyplot as plt

    _check_label(label, "fig")
    if not alt.strip():
        raise ValueError(f"{label}: figuren mangler alternativ tekst")
    png = figure_png(fig)
    plt.close(fig)
    src = f"figures/{notebook}/{label}.png"
    atomic_write_bytes(Path(output_dir) / src, png)
    csv = None
    if data is not None:
        csv = f"tables/{notebook}/{label}.csv"
        atomic_write_bytes(Path(output_dir) / csv, csv_bytes(data))
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    alt_attr = alt.replace('"', "'")
    markdown = (f'![{caption}]({uri}){{#{label} fig-alt="{alt_attr}"}}\n\n'
                f"{provenance.markdown(csv)}\n")
    fragment = (
        f'<figure id="{label}" class="tillit-figure"><img src="{src}" alt="{html.escape(alt, quote=True)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>{provenance.html(csv)}"
    )
    _display(markdown, f"[Figur {label}: {caption}]", {
        "kind": "figure", "label": label, "caption": caption, "alt": alt, "src": src, "csv": csv,
        "provenance": provenance.as_dict(), "html": fragment,
    })
    return Path(output_dir) / src


_NUMERIC_RE = re.compile(r"^[−+-]?[0-9][0-9\u00a0 ]*(,[0-9]+)?(\u00a0?%)?( \(.*\))?$")


def _is_numeric_column(values: pd.Series) -> bool:
    """A displayed column is right-aligned when every non-blank cell reads as a number."""
    texts = [str(v).strip() for v in values if str(v).strip() not in ("", "–", "–*", "nan")]
    return bool(texts) and all(_NUMERIC_RE.match(t) for t in texts)


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def show_table(display_df: pd.DataFrame, *, notebook: str, output_dir: Path, label: str,
               caption: str, provenance: Provenance, csv_df: pd.DataFrame | None = None,
               note: str | None = None) -> Path:
    """Show a formatted table (strings, Norwegian numbers) and save its data as CSV.

    `csv_df` is the machine-readable version (plain numbers, suppressed cells empty); by
    default the displayed frame is saved.
    """
    _check_label(label, "tbl")
    csv = f"tables/{notebook}/{label}.csv"
    path = Path(output_dir) / csv
    atomic_write_bytes(path, csv_bytes(csv_df if csv_df is not None else display_df))
    cols = [str(c) for c in display_df.columns]
    numeric = [_is_numeric_column(display_df.iloc[:, i]) for i in range(len(cols))]
    lines = ["| " + " | ".join(_md_cell(c) for c in cols) + " |",
             "|" + "|".join("---:" if num else ":---" for num in numeric) + "|"]
    for row in display_df.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    note_md = f"\n\n{note}" if note else ""
    markdown = ("\n".join(lines) + f"\n\n: {caption} {{#{label}}}{note_md}\n\n"
                f"{provenance.markdown(csv, TABLE_CSV)}\n")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(
            f"<td{' class=num' if numeric[i] else ''}>{html.escape(str(v))}</td>" for i, v in enumerate(row)
        ) + "</tr>"
        for row in display_df.itertuples(index=False)
    )
    note_html = f'<p class="table-note">{html.escape(note)}</p>' if note else ""
    fragment = (
        f'<div class="tillit-table" id="{label}"><table><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note_html}"
        f"{provenance.html(csv, TABLE_CSV)}</div>"
    )
    _display(markdown, f"[Tabell {label}: {caption}]", {
        "kind": "table", "label": label, "caption": caption, "csv": csv,
        "provenance": provenance.as_dict(), "html": fragment,
    })
    return path


def show_prose(markdown: str) -> None:
    """Computed prose: plain CommonMark (cross-references like @fig-x are allowed)."""
    from IPython.display import display

    display({"text/markdown": markdown.strip() + "\n", "text/plain": markdown.strip()}, raw=True)


def show_callout(text: str, *, kind: str = "banner", level: str = "warning", title: str = "Merk") -> None:
    markdown = f"::: {{.callout-{level}}}\n## {title}\n\n{text}\n:::\n"
    fragment = (f'<div class="callout callout-{level} tillit-{kind}"><p class="callout-title">'
                f"{html.escape(title)}</p><p>{html.escape(text)}</p></div>")
    _display(markdown, f"{title}: {text}", {"kind": kind, "html": fragment})
