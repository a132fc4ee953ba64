"""The files a reader downloads beside each figure and table: a CSV and an Excel workbook.

Both hold the same frame, made for people: Norwegian headers (never bare answer codes such as
1–5), category labels instead of codebook keys, shares in percent rounded to one decimal more
than the book shows, means likewise, and no float noise (no 0.33333333333333337). Suppressed
cells are empty. The CSV is plain UTF-8 with comma and decimal point, for R, Python and
spreadsheets that ask; the ``.xlsx`` opens directly in Norwegian Excel with real numbers and
number formats (percent, thousands), a header row that stays in view, and a second sheet
saying what the table is and where it comes from. Both are byte-identical between builds.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Known machine names in the frames chapters pass → Norwegian headers.
HEADERS = {
    "n": "Antall svar (n)", "k": "Antall i kategoriene", "share": "Andel", "lo": "Nedre grense, 95 % KI",
    "hi": "Øvre grense, 95 % KI", "mean": "Gjennomsnitt", "sd": "Standardavvik", "label": "Betegnelse",
    "item": "Spørsmål", "var": "Spørsmål", "row": "Rad", "role": "Rolle", "unit_type": "Enhetstype",
    "line": "Linje", "year": "År", "rank": "Plass", "affects": "Påvirker positivt eller negativt",
    "positive": "Positivt eller svært positivt", "negative": "Negativt eller svært negativt", "sender": "Avsender", "steering": "Styrende mål/føringer",
    "all": "Alle mål/føringer", "total": "Alle mål/føringer", "new_share": "Andel «nye» føringer",
    "dont_know": "Vet ikke (antall)", "dimension": "Dimensjon", "category": "Kategori",
    "initiatives": "Initiativ", "goal_type": "Måltype", "aspect": "Side ved arbeidet",
    "id": "Id", "section": "Kapittel", "statement": "Påstand", "published": "Publisert",
    "recomputed": "Beregnet", "difference": "Avvik", "ok": "Gjenskapt", "kind": "Type", "status": "Status",
    "step": "Steg", "rule": "Regel", "removed": "Fjernet", "changed": "Rettet", "remaining": "Igjen",
}
# Columns holding shares (0–1): shown in percent.
SHARE_NAMES = {"share", "affects", "positive", "negative", "new_share", "Vet ikke"}
# Columns that are keys next to a label column: dropped when the label is there.
KEY_NAMES = {"key", "sender_key"}
CODE_COLUMN = re.compile(r"^[1-9]$")
PCT_RE = re.compile(r"(\d+)(?:,(\d+))?\u00a0?%")
DEC_RE = re.compile(r"^[−-]?\d[\d\u00a0 ]*,(\d+)$")
FIXED_TIME = (2023, 6, 1, 0, 0, 0)  # zip entry times: fixed, so builds are byte-identical


@dataclass
class ReaderFrame:
    """The frame for readers and how to format each column in Excel."""

    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)   # header -> "pct:<d>" | "int" | "dec:<d>" | "text"
    warnings: list[str] = field(default_factory=list)


def shown_decimals(display_df: pd.DataFrame) -> dict[str, int]:
    """The decimals a displayed table shows, for shares ("27,3 %") and other decimals ("3,70")."""
    pct, dec = [], []
    for v in display_df.to_numpy().ravel():
        text = re.sub(r"<[^>]+>", "", str(v))
        for m in PCT_RE.finditer(text):
            pct.append(len(m.group(2) or ""))
        m = DEC_RE.match(text.strip())
        if m:
            dec.append(len(m.group(1)))
    return {"share": max(pct, default=0), "mean": max(dec, default=2)}


def _value_labels(codebook) -> dict[str, dict[str, str]]:
    if codebook is None:
        return {}
    out = {
        "role": dict(codebook.roles),
        "unit_type": {k: u.label for k, u in codebook.unit_types.items()},
        "line": dict(codebook.lines),
        "item": {k: v.label for k, v in codebook.items.items()},
        "var": {k: v.label for k, v in codebook.items.items()},
        "sender": {k: s.get("label", k) for k, s in codebook.md_letters.get("senders", {}).items()},
    }
    return out


def infer_scale_labels(df: pd.DataFrame, codebook) -> dict[int, str] | None:
    """Answer labels for code columns 1..5, from the items the frame names (item/var keys or
    item labels), when they all share one scale."""
    if codebook is None:
        return None
    by_label = {v.label: k for k, v in codebook.items.items()}
    names: set[str] = set()
    for col in ("item", "var"):
        if col in df.columns:
            names |= {str(v) for v in df[col] if str(v) in codebook.items}
    for col in [c for c in ("label", "row") if c in df.columns] + ([df.index.name] if df.index.name else []):
        values = df[col] if col in df.columns else df.index
        names |= {by_label[str(v)] for v in values if str(v) in by_label}
    scales = {codebook.items[n].scale for n in names}
    if len(scales) == 1:
        return dict(codebook.scales[scales.pop()].labels)
    return None


def _full_labels(short: dict, codebook) -> dict[int, str]:
    """The full answer labels of the codebook scale whose short labels these are."""
    if codebook is not None:
        for scale in codebook.scales.values():
            if dict(getattr(scale, "short", {}) or {}) == {int(k): v for k, v in short.items()}:
                return dict(scale.labels)
    return {int(k): v for k, v in short.items()}


def reader_frame(df: pd.DataFrame, *, codebook=None, scale_labels: dict | None = None,
                 decimals: dict[str, int] | None = None) -> ReaderFrame:
    """``df`` (plain numbers, codebook keys, English or code column names) for readers."""
    decimals = {"share": 0, "mean": 2, **(decimals or {})}
    d_share, d_mean = decimals["share"] + 1, decimals["mean"] + 1
    out = df.copy()
    if not isinstance(out.index, pd.RangeIndex):
        out = out.reset_index()
    out.columns = [str(c) for c in out.columns]
    warnings: list[str] = []
    labels = _value_labels(codebook)
    if any(c in out.columns for c in ("label", "sender_label")):
        out = out.drop(columns=[c for c in out.columns if c in KEY_NAMES])
    for col, mapping in labels.items():
        if col in out.columns and not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(object).map(lambda v, m=mapping: m.get(v, v) if isinstance(v, str) else v)
    # A key column that, labelled, repeats the label column says nothing new.
    for key in ("var", "item"):
        for other in ("label", "item"):
            if key != other and key in out.columns and other in out.columns and \
                    out[key].astype(str).tolist() == out[other].astype(str).tolist():
                out = out.drop(columns=[key])
                break
    codes = [c for c in out.columns if CODE_COLUMN.match(c)]
    if codes:
        answer = (_full_labels(scale_labels, codebook) if scale_labels else None) or infer_scale_labels(df, codebook)
        if not answer:
            warnings.append("svarkodene " + ", ".join(codes) + " mangler etiketter (oppgi scale=)")
            answer = {int(c): f"Svaralternativ {c}" for c in codes}
    has_mean = "mean" in out.columns
    formats: dict[str, str] = {}
    renamed: dict[str, str] = {}
    parsed = {col: _parse_norwegian(out[col]) for col in out.columns
              if out[col].dtype == object or pd.api.types.is_string_dtype(out[col])}
    for col in list(out.columns):
        if parsed.get(col) is not None:
            values, kind = parsed[col]
            out[col] = values
            header = HEADERS.get(col, col) + (" (%)" if kind.startswith("pct") and "%" not in col else "")
            formats[header] = kind
            renamed[col] = header
            continue
        s = out[col]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        is_share = (numeric and pd.api.types.is_float_dtype(s) and _within_unit(s)
                    and (col in SHARE_NAMES or col in codes or (col in ("lo", "hi") and not has_mean)
                         or col.endswith("_share")))
        header = answer[int(col)] if col in codes else HEADERS.get(col, col)
        if is_share:
            out[col] = (s.astype(float) * 100).round(d_share)
            header = f"{header} (%)"
            formats[header] = f"pct:{d_share}"
        elif pd.api.types.is_bool_dtype(s) or (s.dtype == object and s.dropna().map(type).eq(bool).all() and s.notna().any()):
            out[col] = s.map(lambda v: "Ja" if v is True else ("Nei" if v is False else v))
            formats[header] = "text"
        elif numeric and pd.api.types.is_integer_dtype(s):
            formats[header] = "int"
        elif numeric:
            vals = s.astype(float)
            whole = bool(np.all(np.isnan(vals) | (vals == np.round(vals))))
            if whole and col not in ("mean", "lo", "hi"):
                out[col] = vals.round(0).astype("Int64")
                formats[header] = "int"
            else:
                out[col] = vals.round(d_mean)
                formats[header] = f"dec:{d_mean}"
        else:
            formats[header] = "text"
        renamed[col] = header
    out = out.rename(columns=renamed)
    if out.columns.duplicated().any():   # two sources under one header: number the repeats
        seen: dict[str, int] = {}
        heads = []
        for h in out.columns:
            seen[h] = seen.get(h, 0) + 1
            heads.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
        formats.update({new: formats[old] for old, new in zip(out.columns, heads) if old != new})
        out.columns = heads
    return ReaderFrame(out, formats, warnings)


NUMBER_RE = re.compile(r"^([−-]?)(\d[\d\u00a0 ]*)(?:,(\d+))?(\u00a0?%)?$")


def _parse_norwegian(s: pd.Series) -> tuple[pd.Series, str] | None:
    """A column of displayed Norwegian numbers ("3 660", "27,3 %", "–*") as numbers, or None."""
    values, decimals, pct, seen = [], 0, None, 0
    for v in s:
        text = "" if v is None else str(v).strip()
        if text in ("", "–", "–*", "nan"):
            values.append(np.nan)
            continue
        m = NUMBER_RE.match(text)
        if not m or (pct is not None and pct != bool(m.group(4))):
            return None
        pct = bool(m.group(4))
        seen += 1
        digits = m.group(2).replace("\u00a0", "").replace(" ", "")
        frac = m.group(3) or ""
        decimals = max(decimals, len(frac))
        values.append((-1 if m.group(1) else 1) * float(f"{digits}.{frac or 0}"))
    if not seen:
        return None
    out = pd.Series(values, index=s.index, dtype="float64")
    if pct:
        return out, f"pct:{decimals}"
    if decimals == 0:
        return out.astype("Int64"), "int"
    return out, f"dec:{decimals}"


def _within_unit(s: pd.Series) -> bool:
    vals = s.astype(float).dropna()
    return bool(len(vals) == 0 or ((vals >= 0) & (vals <= 1)).all())


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry times (openpyxl stamps the current time)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return buf.getvalue()


def _excel_format(kind: str) -> str:
    if kind.startswith("pct:"):
        d = int(kind.split(":")[1])
        return "0" + ("." + "0" * d if d else "") + "%"
    if kind.startswith("dec:"):
        d = int(kind.split(":")[1])
        return "0." + "0" * d
    if kind == "int":
        return "#,##0"
    return "@"


def xlsx_bytes(rf: ReaderFrame, *, title: str, about: list[tuple[str, str]]) -> bytes:
    """An Excel workbook: sheet "Tabell" (header row frozen, real numbers, number formats;
    percentages stored as fractions with a percent format, so Excel shows "27,3 %" in a
    Norwegian locale) and sheet "Om tabellen" (title, source and notes)."""
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Tabell"
    frame = rf.frame
    ws.append([str(c) for c in frame.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    kinds = [rf.formats.get(str(c), "text") for c in frame.columns]
    for row in frame.itertuples(index=False):
        values = []
        for v, kind in zip(row, kinds):
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
                values.append(None)
            elif kind.startswith("pct:"):
                values.append(float(v) / 100)
            elif kind == "int":
                values.append(int(v))
            elif kind.startswith("dec:"):
                values.append(float(v))
            else:
                values.append(str(v))
        ws.append(values)
    for j, kind in enumerate(kinds, start=1):
        letter = get_column_letter(j)
        for cell in ws[letter][1:]:
            cell.number_format = _excel_format(kind)
        longest = max([len(str(frame.columns[j - 1]))] + [len(str(v)) for v in frame.iloc[:, j - 1].head(200)])
        ws.column_dimensions[letter].width = min(60, max(10, longest + 2))
    ws.freeze_panes = "A2"
    info = wb.create_sheet("Om tabellen")
    info.append([title])
    info["A1"].font = Font(bold=True)
    for key, value in about:
        info.append([key, value])
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 100
    stamp = datetime(*FIXED_TIME)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "tillit"
    buf = io.BytesIO()
    wb.save(buf)
    return _deterministic_zip(buf.getvalue())
