"""Aggregations of the processed survey: answer distributions, shares and means by group.

Every function returns aggregates with the number of respondents behind each row (`n`), so
the disclosure gate (tillit.stats.disclosure) can suppress rows and cells resting on too few.
Nothing here returns respondent-level rows.

Each row produced is also noted in :data:`SOURCES` with what it counts (item, answer codes,
group, the demographic cells of the frame tabulated): the gate looks a row up there when it
publishes it, so the disclosure audit (tillit.stats.audit) knows which respondents every
published number is about, however the chapter reshaped the frame in between.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from tillit.data.codebook import Codebook

DK = "Vet ikke"
# The survey's demographic cross-classification: every published group is a union of these
# cells (a line is a union of unit types).
DIMS = ("unit_type", "role")
GROUP_DIMS = ("unit_type", "role", "line")


# --- where each aggregate row comes from ---------------------------------------------------
@dataclass(frozen=True)
class Source:
    """What one aggregate row counts: `measure` ("distribution", "share", "mean", "count") of
    `item` (None: respondents) over `group` ((dim, key) pairs) within `universe` (the
    (unit_type, role) cells present in the frame tabulated; None if it has no such columns).
    `codes`/`denominator` define a share ("all": "Vet ikke" in n; "answered": left out)."""

    measure: str
    item: str | None
    group: tuple[tuple[str, str], ...]
    universe: tuple[tuple[str, str], ...] | None
    population: str | None = None   # "survey_2023", "survey_2017": which respondents
    codes: tuple[int, ...] = ()
    denominator: str = "all"
    n: int = 0
    signature: tuple = ()
    labels: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        out = asdict(self)
        for key in ("signature", "n"):
            out.pop(key)
        out["group"] = dict(self.group)
        out["universe"] = [list(c) for c in self.universe] if self.universe is not None else None
        out["codes"] = list(self.codes)
        out["labels"] = list(self.labels)
        return out


def signature(values) -> tuple:
    """Values compared when a gated row is matched to its source (12 significant digits)."""
    out = []
    for v in values:
        v = float(v)
        out.append("nan" if math.isnan(v) else float(f"{v:.12g}"))
    return tuple(out)


class Sources:
    """The rows produced in this process, found again by (measure, n, values, labels)."""

    def __init__(self):
        self._rows: dict[tuple[str, int], list[Source]] = {}

    def add(self, src: Source) -> None:
        bucket = self._rows.setdefault((src.measure, src.n), [])
        if src not in bucket:
            bucket.append(src)

    def find(self, measure: str, n: int, values, text: str) -> Source | None:
        """The one source with these values whose group labels (or keys) all occur in `text`
        (the row's labels as published); None when there is none or more than one.

        Where several remain, the one a group and an item in `text` name: in an edition of one
        unit type its row in a table by unit type counts what the edition's whole distribution
        counts, and two questions may share a role's n and mean; the row's label tells them apart."""
        hits = self.candidates(measure, n, values, text)
        return hits[0] if len(hits) == 1 else None

    def candidates(self, measure: str, n: int, values, text: str) -> list[Source]:
        """The distinct sources the row may come from (several when two aggregates happen to
        have the same n and values, e.g. 9 of 90 on two questions): those the row's labels
        name, then those with a group, then those whose item the text names, where that
        narrows them."""
        sig = signature(values)
        hits = [s for s in self._rows.get((measure, int(n)), []) if s.signature == sig]

        def named(s: Source) -> bool:
            return all(lab in text or key in text for lab, (_, key) in zip(s.labels, s.group))

        for narrower in (named, lambda s: bool(s.group), lambda s: bool(s.item) and s.item in text):
            if len(_distinct(hits)) > 1:
                hits = [s for s in hits if narrower(s)] or hits
        distinct: dict[tuple, Source] = {}
        for s in hits:
            distinct.setdefault((s.item, s.group, s.universe, s.population, s.codes, s.denominator), s)
        return list(distinct.values())

    def clear(self) -> None:
        self._rows.clear()

    @contextlib.contextmanager
    def unrecorded(self):
        """Aggregates computed inside are not kept: what an edition computes of the whole of
        NAV (the main book's numbers) must not be taken for a source of its own tables."""
        saved = {key: list(bucket) for key, bucket in self._rows.items()}
        try:
            yield
        finally:
            self._rows = saved


def _distinct(hits: list[Source]) -> set[tuple]:
    return {(s.item, s.group, s.universe, s.population, s.codes, s.denominator) for s in hits}


SOURCES = Sources()


def _population(df: pd.DataFrame) -> str | None:
    """Which survey a frame's respondents come from: "survey_<year>" by the year most of them
    submitted in (the 2017 and 2023 surveys share their columns)."""
    if "submitted_at" not in df.columns or df.empty:
        return None
    years = pd.to_datetime(df["submitted_at"], errors="coerce").dt.year.dropna()
    return f"survey_{int(years.mode().iloc[0])}" if len(years) else None


def _universe(df: pd.DataFrame) -> tuple[tuple[str, str], ...] | None:
    if not all(d in df.columns for d in DIMS):
        return None
    cells = df[list(DIMS)].drop_duplicates().astype(str)
    return tuple(sorted(map(tuple, cells.to_numpy().tolist())))


def _group_labels(group: dict, cb: Codebook | None, item: str | None) -> tuple[str, ...]:
    out = []
    for dim, key in group.items():
        if cb is None:
            out.append(str(key))
        elif dim == "unit_type" and key in cb.unit_types:
            out.append(cb.unit_types[key].label)
        elif dim == "role":
            out.append(cb.roles.get(key, str(key)))
        elif dim == "line":
            out.append(cb.lines.get(key, str(key)))
        else:
            out.append(str(key))
    return tuple(out)


def _note(frame: pd.DataFrame, by: list[str], measure: str, df: pd.DataFrame, cb, *, item=None, codes=(),
          denominator="all", values=(), n_col="n") -> None:
    """Note every row of `frame`, tabulated from `df`, in :data:`SOURCES`."""
    universe, population = _universe(df), _population(df)
    # A grouping column that is not a demographic one and holds one value for the whole
    # frame ("alle") groups nothing: left out. Any other is kept, and the audit reports the
    # row as one it cannot model.
    by = [d for d in by if d in GROUP_DIMS or frame[d].nunique(dropna=False) > 1]
    for _, row in frame.iterrows():
        group = {d: str(row[d]) for d in by}
        SOURCES.add(Source(measure, item if item is not None else row.get("item"),
                           tuple(group.items()), universe, population, tuple(codes), denominator, int(row[n_col]),
                           signature([row[v] for v in values]),
                           _group_labels(group, cb, item)))


def _as_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def label_groups(frame: pd.DataFrame, cb: Codebook, cols=("role", "unit_type", "line")) -> pd.DataFrame:
    """Replace codebook keys by Norwegian labels in grouping columns (for display)."""
    out = frame.copy()
    maps = {"role": cb.roles, "unit_type": {k: u.label for k, u in cb.unit_types.items()}, "line": cb.lines}
    for col in cols:
        if col in out.columns:
            out[col] = out[col].astype("object").map(lambda v, m=maps[col]: m.get(v, v))
    return out


def distribution(df: pd.DataFrame, items: list[str], cb: Codebook, by=None) -> pd.DataFrame:
    """Counts per answer code (the scale's codes and "Vet ikke") for each item (and group).

    One row per item (× group), columns: [*by, 'item', 'label', 1, ..., 5, 'Vet ikke', 'n']
    (items in one call share a scale; a two-point scale gives columns 1, 2),
    where n counts everyone who answered (including "Vet ikke"); not-asked (<NA>) is left out.
    """
    by = _as_list(by)
    rows = []
    for item in items:
        scale = cb.scale_of(item)
        sub = df[[*by, item]].dropna(subset=[item])
        codes = sub[item].astype(int)
        if by:
            counts = (sub.assign(_code=codes).groupby([*by, "_code"], observed=True).size()
                      .unstack("_code", fill_value=0))
        else:
            counts = codes.value_counts().to_frame().T
            counts.index = [0]
        counts = counts.reindex(columns=scale.all_codes, fill_value=0)
        counts.columns = [*scale.codes, DK]
        counts["n"] = counts.sum(axis=1)
        counts = counts.reset_index() if by else counts.reset_index(drop=True)
        counts.insert(len(by), "item", item)
        counts.insert(len(by) + 1, "label", cb.items[item].label)
        rows.append(counts)
    out = pd.concat(rows, ignore_index=True)
    count_cols = [c for c in out.columns if isinstance(c, int) or c in (DK, "n")]
    out[count_cols] = out[count_cols].fillna(0).astype("int64")
    for item in items:
        part = out[out["item"] == item]
        codes = [c for c in part.columns if isinstance(c, int) or c == DK]
        codes = [c for c in codes if part[c].notna().all()]
        _note(part, by, "distribution", df, cb, item=item, values=codes)
    return out


def shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Turn a `distribution` frame into shares of all answers ("Vet ikke" in the denominator)."""
    out = counts.copy()
    cols = [c for c in out.columns if isinstance(c, int) or c == DK]
    n = out["n"].replace(0, np.nan)
    for col in cols:
        out[col] = out[col] / n
    return out


def share(df: pd.DataFrame, var: str, codes: list[int], by=None, *, dont_know: str = "include",
          cb: Codebook | None = None) -> pd.DataFrame:
    """Share answering one of `codes` on `var`, per group, with a Wilson 95 % interval.

    dont_know="include": "Vet ikke" stays in the denominator; "exclude": it is left out.
    Columns: [*by, 'k', 'n', 'share', 'lo', 'hi'].
    """
    by = _as_list(by)
    sub = df[[*by, var]].dropna(subset=[var])
    values = sub[var].astype(int)
    if dont_know == "exclude":
        dk_code = cb.scale_of(var).dont_know_code if cb else 9
        keep = values != dk_code
        sub, values = sub[keep], values[keep]
    hit = values.isin(codes)
    frame = sub[by].assign(_hit=hit.to_numpy()) if by else pd.DataFrame({"_hit": hit.to_numpy()})
    if by:
        agg = frame.groupby(by, observed=True)["_hit"].agg(k="sum", n="size").reset_index()
    else:
        agg = pd.DataFrame({"k": [int(hit.sum())], "n": [int(len(hit))]})
    agg["k"] = agg["k"].astype("int64")
    agg["n"] = agg["n"].astype("int64")
    agg["share"] = agg["k"] / agg["n"].replace(0, np.nan)
    lo, hi = wilson(agg["k"].to_numpy(), agg["n"].to_numpy())
    agg["lo"], agg["hi"] = lo, hi
    _note(agg, by, "share", df, cb, item=var, codes=codes,
          denominator="answered" if dont_know == "exclude" else "all", values=["share"])
    return agg


def wilson(k, n, level: float = 0.95):
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    from scipy import stats  # on first use: importing scipy.stats takes about a second

    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


def mean(df: pd.DataFrame, var: str, by=None, cb: Codebook | None = None) -> pd.DataFrame:
    """Mean of a 1..5 item per group ("Vet ikke" left out), with a t-based 95 % interval.

    Columns: [*by, 'n', 'mean', 'sd', 'lo', 'hi', 'dont_know'] (dont_know = count of "Vet ikke").
    """
    by = _as_list(by)
    dk_code = cb.scale_of(var).dont_know_code if cb else 9
    sub = df[[*by, var]].dropna(subset=[var])
    values = sub[var].astype(int)
    frame = sub[by].copy() if by else pd.DataFrame(index=sub.index)
    frame["_v"] = values.where(values != dk_code).astype(float)
    frame["_dk"] = (values == dk_code).astype(int)
    if by:
        g = frame.groupby(by, observed=True)
        agg = g["_v"].agg(n="count", mean="mean", sd="std").reset_index()
        agg["dont_know"] = g["_dk"].sum().to_numpy()
    else:
        agg = pd.DataFrame({"n": [int(frame["_v"].count())], "mean": [frame["_v"].mean()],
                            "sd": [frame["_v"].std()], "dont_know": [int(frame["_dk"].sum())]})
    agg["n"] = agg["n"].astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        se = agg["sd"] / np.sqrt(agg["n"])
        from scipy import stats

        t = stats.t.ppf(0.975, np.maximum(agg["n"] - 1, 1))
    agg["lo"] = agg["mean"] - t * se
    agg["hi"] = agg["mean"] + t * se
    _note(agg, by, "mean", df, cb, item=var, denominator="answered", values=["mean"])
    return agg


def counts_by(df: pd.DataFrame, by) -> pd.DataFrame:
    """Number of respondents per group (a profile table): [*by, 'n']."""
    by = _as_list(by)
    out = df.groupby(by, observed=True).size().rename("n").reset_index()
    _note(out, by, "count", df, None, values=["n"])
    return out


def crosstab(df: pd.DataFrame, rows: str, columns: str, cb: Codebook | None = None) -> pd.DataFrame:
    """Respondents by `rows` × `columns` (e.g. unit type × role), every combination present in
    the codebook order, zeros included; noted as counts for the disclosure audit."""
    table = pd.crosstab(df[rows].astype(str), df[columns].astype(str))
    order = {"unit_type": list(cb.unit_types) if cb else None, "role": list(cb.roles) if cb else None,
             "line": list(cb.lines) if cb else None}
    r_order = [k for k in (order.get(rows) or table.index) if k in table.index]
    c_order = [k for k in (order.get(columns) or table.columns) if k in table.columns]
    table = table.reindex(index=r_order, columns=c_order, fill_value=0)
    universe, population = _universe(df), _population(df)
    for r in table.index:
        for c in table.columns:
            group = {rows: str(r), columns: str(c)}
            SOURCES.add(Source("count", None, tuple(group.items()), universe, population, n=int(table.loc[r, c]),
                               signature=signature([table.loc[r, c]]), labels=_group_labels(group, cb, None)))
    return table


def rank_factors(dist_shares: pd.DataFrame, affects_codes: list[int]) -> pd.DataFrame:
    """Rank the handlingsrom factors by how much they affect it: the share of all answers in
    `affects_codes` (those saying the factor affects handlingsrom at all), largest first."""
    out = dist_shares.copy()
    out["affects"] = out[list(affects_codes)].sum(axis=1)
    out["positive"] = out[4] + out[5]
    out["negative"] = out[1] + out[2]
    out["net"] = out["positive"] - out["negative"]
    out = out.sort_values("affects", ascending=False).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out
