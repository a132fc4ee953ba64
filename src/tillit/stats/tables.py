"""Aggregations of the processed survey: answer distributions, shares and means by group.

Every function returns aggregates with the number of respondents behind each row (`n`), so
the disclosure gate (tillit.stats.disclosure) can suppress rows and cells resting on too few.
Nothing here returns respondent-level rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from tillit.data.codebook import Codebook

DK = "Vet ikke"


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
    return agg


def wilson(k, n, level: float = 0.95):
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
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
        t = stats.t.ppf(0.975, np.maximum(agg["n"] - 1, 1))
    agg["lo"] = agg["mean"] - t * se
    agg["hi"] = agg["mean"] + t * se
    return agg


def counts_by(df: pd.DataFrame, by) -> pd.DataFrame:
    """Number of respondents per group (a profile table): [*by, 'n']."""
    by = _as_list(by)
    return df.groupby(by, observed=True).size().rename("n").reset_index()


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
