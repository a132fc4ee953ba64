"""The measures a published target names – shares, means, counts and rankings over the
respondents a filter keeps – general enough for the chapters too, so a chapter's figure and
the reproduction ledger's check (tillit.stats.ledger) are one computation."""
from __future__ import annotations

from typing import Iterable

import pandas as pd

from tillit.data.codebook import Codebook, load_codebook


def apply_filter(df: pd.DataFrame, filter: dict | None = None) -> pd.DataFrame:
    """Rows where every ``column`` is one of its listed values (categoricals compared as keys)."""
    mask = filter_mask(df, filter)
    return df if mask is None else df[mask]


def filtered_column(df: pd.DataFrame, var: str, filter: dict | None = None) -> pd.Series:
    """``apply_filter(df, filter)[var]`` without taking the rows of every other column (the
    survey has dozens; the reproduction ledger filters some 300 times)."""
    mask = filter_mask(df, filter)
    return df[var] if mask is None else df[var][mask]


def filter_mask(df: pd.DataFrame, filter: dict | None = None):
    """The rows `filter` keeps, as a boolean array; None when there is no filter."""
    if not filter:
        return None
    mask = pd.Series(True, index=df.index)
    for col, values in filter.items():
        if col not in df.columns:
            raise KeyError(f"filteret viser til ukjent kolonne '{col}' (har: {', '.join(map(str, df.columns))})")
        values = list(values) if isinstance(values, (list, tuple, set)) else [values]
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            mask &= s.isin([bool(v) for v in values]).fillna(False).astype(bool)
        elif isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s) or s.dtype == object:
            mask &= s.astype("object").isin([str(v) for v in values]).fillna(False).astype(bool)
        else:
            mask &= s.isin(values).fillna(False).astype(bool)
    return mask.to_numpy()


def _dont_know(var: str, codebook: Codebook | None) -> int | None:
    codebook = codebook or load_codebook()
    if var in codebook.items:
        return codebook.scale_of(var).dont_know_code
    return None


def share(df: pd.DataFrame, var: str, codes: Iterable, filter: dict | None = None,
          denominator: str = "all", codebook: Codebook | None = None) -> float:
    """Percent of rows (after ``filter``) with ``var`` in ``codes``.

    NA (not asked / not answered) is never counted. ``denominator="all"`` keeps "Vet ikke" in
    the denominator, ``"answered"`` leaves it out. Returns NaN when the denominator is 0.
    """
    if denominator not in ("all", "answered"):
        raise ValueError(f"denominator må være 'all' eller 'answered' (fikk {denominator!r})")
    s = filtered_column(df, var, filter).dropna()
    if denominator == "answered":
        dk = _dont_know(var, codebook)
        if dk is not None:
            s = s[s != dk]
    if len(s) == 0:
        return float("nan")
    codes = list(codes)
    vals = s.astype("object") if not pd.api.types.is_numeric_dtype(s) else s
    if not pd.api.types.is_numeric_dtype(s):
        codes = [str(c) for c in codes]
    return 100.0 * float(vals.isin(codes).sum()) / len(s)


def mean(df: pd.DataFrame, var: str, filter: dict | None = None, codebook: Codebook | None = None) -> float:
    """Mean code (1..5) among those who answered ("Vet ikke" and NA left out)."""
    s = filtered_column(df, var, filter).dropna()
    dk = _dont_know(var, codebook)
    if dk is not None:
        s = s[s != dk]
    return float(s.astype("float64").mean()) if len(s) else float("nan")


def count(df: pd.DataFrame, filter: dict | None = None) -> int:
    return int(len(apply_filter(df, filter)))


def rank(df: pd.DataFrame, vars: list[str], codes: Iterable, denominator: str = "all",
         filter: dict | None = None, codebook: Codebook | None = None) -> pd.Series:
    """``vars`` ordered by their share in ``codes`` (highest first), as a Series of percents."""
    values = {v: share(df, v, codes, filter, denominator, codebook) for v in vars}
    return pd.Series(values, dtype="float64").sort_values(ascending=False, kind="stable")


def group_rank(df: pd.DataFrame, by: str, var: str | None = None, codes: Iterable | None = None,
               denominator: str = "all", filter: dict | None = None,
               codebook: Codebook | None = None) -> pd.Series:
    """Groups of ``by`` ordered by their share in ``codes`` of ``var`` (or by row count)."""
    sub = apply_filter(df, filter)
    out = {}
    groups = sub[by].cat.categories if isinstance(sub[by].dtype, pd.CategoricalDtype) else sorted(sub[by].dropna().unique())
    for g in groups:
        part = sub[sub[by].astype("object") == g]
        if len(part) == 0:
            continue
        out[str(g)] = float(len(part)) if var is None else share(part, var, codes, None, denominator, codebook)
    return pd.Series(out, dtype="float64").sort_values(ascending=False, kind="stable")
