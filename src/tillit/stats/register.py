"""What the gate publishes, written down for the disclosure audit (tillit.stats.audit).

For every gated table the gate writes ``<output_dir>/disclosure/<table_id>.json``: one entry
per row with what the row counts (its :class:`tillit.stats.tables.Source`: item, answer codes,
group, the demographic cells of the frame tabulated) and the counts it publishes: ``n`` and,
per answer category, the count behind a published share. A suppressed quantity is ``null``;
no hidden value is ever written. A row whose source cannot be found is written with
``"source": null`` and the audit reports it.

Also here: :func:`for_csv`, the rounding of shares and means for published CSVs.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from tillit.stats.tables import DK, SOURCES, signature

REGISTER_DIR = "disclosure"
SHARE_DECIMALS = 4   # 0,3333 (33,33 %): finer than any share printed in the book
VALUE_DECIMALS = 3   # means, intervals and other statistics


def _label(value) -> str:
    if isinstance(value, tuple):
        return " / ".join(str(v) for v in value if str(v) != "")
    return str(value)


def _int_or_none(value, hidden: bool):
    if hidden or value is None or pd.isna(value):
        return None
    return int(value)


def _source_dict(src) -> dict | None:
    return src.as_dict() if src is not None else None


def _candidates(found: list) -> dict:
    """When two aggregates fit a row (same n and values), both, so the audit can bound a
    hidden count under each (it cannot tell which one the row is)."""
    return {"candidates": [_source_dict(s) for s in found]} if len(found) > 1 else {}


def register_shares(gated, raw: pd.DataFrame, counts: pd.DataFrame, total_row: bool) -> dict:
    """Rows of a shares table: the counts behind each published share, n, and the source
    (a distribution of one item over a group, found by its counts)."""
    rows = []
    code_cols = list(counts.columns)
    n_col = gated.values.columns[-1]
    for i, label in enumerate(counts.index):
        is_total = total_row and i == len(counts.index) - 1
        hidden = gated.suppressed.iloc[i]
        row_counts = counts.iloc[i]
        found = [] if is_total else SOURCES.candidates("distribution", int(row_counts.sum()),
                                                       [row_counts[c] for c in code_cols], _label(label))
        rows.append({
            "label": _label(label), "source": _source_dict(found[0] if len(found) == 1 else None),
            "measure": "distribution", "n": _int_or_none(row_counts.sum(), hidden[n_col]),
            "counts": {str(c): _int_or_none(row_counts[c], hidden[c]) for c in code_cols},
            **({"total_of": list(range(len(counts.index) - 1))} if is_total else {}),
            **_candidates(found),
        })
    return {"rows": rows}


def register_means(gated, df: pd.DataFrame, n_col: str, dk_col: str) -> dict:
    """Rows of a means (or share-by-group) table: n, the "Vet ikke" count if given, and k
    for a share; the source is found by n and the mean (or share)."""
    rows = []
    measure = "mean" if "mean" in df.columns else "share" if "share" in df.columns else None
    for i, label in enumerate(df.index):
        hidden = gated.suppressed.iloc[i]
        n = df[n_col].iloc[i]
        found = []
        if measure is not None:
            found = SOURCES.candidates(measure, int(n), [df[measure].iloc[i]], _label(label))
        entry = {"label": _label(label), "source": _source_dict(found[0] if len(found) == 1 else None),
                 "measure": measure, "n": _int_or_none(n, hidden[n_col]), **_candidates(found)}
        if dk_col in df.columns:
            entry["dont_know"] = _int_or_none(df[dk_col].iloc[i], hidden[dk_col])
        if measure == "share" and not hidden["share"] and not pd.isna(df["share"].iloc[i]):
            entry["k"] = int(round(float(df["share"].iloc[i]) * int(n)))
        rows.append(entry)
    return {"rows": rows}


def register_counts(gated, table: pd.DataFrame, row_totals: bool, col_totals: bool) -> dict:
    """Cells of a counts table, each with the group it counts: found among the sources of
    tillit.stats.tables.crosstab, else read from the codebook's labels; totals count the
    union of their row or column, within the same respondents as the cells."""
    vocab = _vocabulary()
    m, k = table.shape
    inner_m, inner_k = m - int(col_totals), k - int(row_totals)
    found = {}
    for i in range(inner_m):
        for j in range(inner_k):
            value = table.iat[i, j]
            found[i, j] = SOURCES.find("count", int(value), [value],
                                       f"{_label(table.index[i])} {_label(table.columns[j])}")
    known = [s for s in found.values() if s is not None]
    same = len({(s.universe, s.population) for s in known}) == 1 and len(known) == len(found)
    universe = [list(c) for c in known[0].universe] if same and known[0].universe is not None else None
    population = known[0].population if same else None
    rows = []
    for i in range(m):
        for j in range(k):
            group: dict[str, str] = {}
            if i < inner_m:
                group.update(_dims_of(table.index[i], vocab))
            if j < inner_k:
                group.update(_dims_of(table.columns[j], vocab))
            src = found.get((i, j))
            if src is not None:
                source = _source_dict(src)
            elif "?" in group:
                source = None
            else:
                source = {"measure": "count", "item": None, "group": group, "universe": universe,
                          "population": population, "codes": [], "denominator": "all", "labels": []}
            rows.append({"label": f"{_label(table.index[i])} × {_label(table.columns[j])}", "source": source,
                         "measure": "count", "n": _int_or_none(table.iat[i, j], gated.suppressed.iat[i, j])})
    return {"rows": rows}


def _vocabulary() -> dict[str, tuple[str, str]]:
    """{label or key: (dim, key)} for unit types, roles and lines, from the codebook."""
    try:
        from tillit.data.codebook import load_codebook

        cb = load_codebook()
    except Exception:  # noqa: BLE001 - no codebook (a test's own frame): nothing to read
        return {}
    vocab: dict[str, tuple[str, str]] = {}
    for key, unit in cb.unit_types.items():
        vocab[key] = vocab[unit.label] = ("unit_type", key)
    for key, label in cb.roles.items():
        vocab[key] = vocab[label] = ("role", key)
    for key, label in cb.lines.items():
        vocab[key] = vocab[label] = ("line", key)
    return vocab


def _dims_of(label, vocab: dict) -> dict[str, str | None]:
    parts = label if isinstance(label, tuple) else (label,)
    out: dict[str, str | None] = {}
    for part in parts:
        if str(part) == "":
            continue
        hit = vocab.get(str(part))
        if hit is None:
            return {"?": None}
        out[hit[0]] = hit[1]
    return out


def register_path(log_dir: Path, table_id: str) -> Path:
    """Where one table's register goes: ``<log_dir>/disclosure/<table_id>.json``."""
    return Path(log_dir) / REGISTER_DIR / f"{table_id}.json"


def write_register(log_dir: Path, table_id: str, register: dict) -> Path:
    """Write one table's register as ``<log_dir>/disclosure/<table_id>.json`` (atomically)."""
    path = register_path(log_dir, table_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(register, ensure_ascii=False, indent=1, sort_keys=True, default=_plain) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _plain(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return str(value)


def for_csv(frame: pd.DataFrame, share_decimals: int = SHARE_DECIMALS,
            value_decimals: int = VALUE_DECIMALS) -> pd.DataFrame:
    """A frame as it is published in a CSV: whole numbers as integers, shares (every value
    between 0 and 1) to `share_decimals`, other numbers to `value_decimals`.

    Keeps 0.3333 next to n = 12 instead of 0.33333333333333337; text and suppressed cells (NaN)
    are left as they are. Used by :meth:`GatedTable.to_csv`; meant for every CSV the book
    publishes (tillit.book.display).
    """
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        vals = s.dropna().astype(float)
        if vals.empty:
            continue
        if (vals == vals.round()).all() and vals.abs().max() < 2 ** 53:
            out[col] = s.astype("Int64") if s.isna().any() else s.astype("int64")
        elif vals.between(0, 1).all():
            out[col] = s.astype(float).round(share_decimals)
        else:
            out[col] = s.astype(float).round(value_decimals)
    return out


__all__ = ["REGISTER_DIR", "for_csv", "register_counts", "register_means", "register_shares",
           "write_register", "signature", "DK"]
