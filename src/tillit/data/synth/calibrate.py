"""Calibration of the synthetic twin: the fewest respondents nearest a cut-point are moved.

Answers are drawn from the latent model (:mod:`tillit.data.synth.latent`); calibration then
moves the fewest respondents nearest a cut-point until each calibrated share or mean lies in
its band (the bands of exact targets come from the published value and its rounding). Nothing
is re-drawn until it happens to match.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

NA_CODE = 0          # internal: not asked / not answered (NA in processed data)
_EPS = 1e-9

class CalibrationError(RuntimeError):
    """The calibration could not reach a band (model and targets disagree)."""



# --- Small numeric helpers ---------------------------------------------------------------
def round_half_up(x: float | np.ndarray, decimals: int) -> Any:
    """Round like a spreadsheet (75.925 -> 75.93), robust to binary representation."""
    f = 10.0 ** decimals
    return np.floor(np.asarray(x) * f + 0.5 + 1e-9) / f


def largest_remainder(weights: Iterable[float], total: int) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total`` (Hamilton's method)."""
    w = np.asarray(list(weights), dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = w / w.sum() * total
    base = np.floor(exact).astype(np.int64)
    rest = int(total - base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:rest]] += 1
    return base


def feasible_counts(denominator: int, *, band: tuple[float, float] | None = None,
                    value: float | None = None, decimals: int | None = None) -> np.ndarray:
    """Boolean mask over k = 0..denominator: is 100*k/denominator in the band / rounds to value."""
    k = np.arange(denominator + 1)
    pct = 100.0 * k / max(denominator, 1)
    if value is not None:
        return np.isclose(round_half_up(pct, decimals or 0), value)
    lo, hi = band
    return (pct >= lo - 1e-9) & (pct <= hi + 1e-9)


def _nearest(feasible: np.ndarray, current: int, band_center: float | None = None) -> int:
    idx = np.flatnonzero(feasible)
    if idx.size:
        return int(idx[np.argmin(np.abs(idx - current))])
    # Infeasible at this size (tiny n): the count closest to the band's centre.
    denominator = len(feasible) - 1
    if band_center is None or denominator == 0:
        return current
    return int(round(band_center / 100.0 * denominator))


# --- The item state and the minimal-move calibration ---------------------------------------
@dataclass
class _Item:
    name: str
    n_cat: int
    codes: np.ndarray      # int8: 1..n_cat, 9 = Vet ikke, 0 = not asked
    y: np.ndarray          # latent score (float64)
    cuts: np.ndarray       # n_cat - 1 cut-points on y
    under: np.ndarray      # underlying category for everyone asked (also for Vet ikke)
    dk_code: int = 9

    def answered(self) -> np.ndarray:
        return (self.codes >= 1) & (self.codes <= self.n_cat)


def _move_costs(item: _Item, cand: np.ndarray, up_ok: np.ndarray, down_ok: np.ndarray):
    """Per candidate: cheapest move (+1 / -1) and its distance to the cut-point crossed."""
    c = item.codes[cand].astype(np.int64)
    y = item.y[cand]
    cost_up = np.where(up_ok, item.cuts[np.clip(c - 1, 0, item.n_cat - 2)] - y, np.inf)
    cost_dn = np.where(down_ok, y - item.cuts[np.clip(c - 2, 0, item.n_cat - 2)], np.inf)
    direction = np.where(cost_up <= cost_dn, 1, -1)
    cost = np.minimum(cost_up, cost_dn)
    return direction, np.maximum(cost, 0.0)


def _apply(item: _Item, idx: np.ndarray, direction: np.ndarray) -> None:
    old = item.codes[idx].astype(np.int64)
    new = old + direction
    # Put the latent score just across the crossed cut so later moves stay consistent.
    cut_idx = np.where(direction > 0, old - 1, old - 2)
    item.y[idx] = item.cuts[cut_idx] + direction * 1e-6
    item.codes[idx] = new.astype(np.int8)
    item.under[idx] = new.astype(np.int8)


def _pick(cost: np.ndarray, k: int) -> np.ndarray:
    finite = np.flatnonzero(np.isfinite(cost))
    if finite.size <= k:
        return finite
    part = np.argpartition(cost[finite], k - 1)[:k]
    return finite[part]


def calibrate_share(item: _Item, cell: np.ndarray, movable: np.ndarray, codes: list[int],
                    *, band=None, value=None, decimals=None, denominator: str = "all") -> int:
    """Move the fewest respondents nearest a cut so the share of ``codes`` in ``cell`` fits.

    Returns the number of respondents moved.
    """
    in_s_code = np.zeros(16, dtype=bool)
    in_s_code[codes] = True
    answered = item.answered()
    denom_mask = cell & (answered | ((item.codes == item.dk_code) & (denominator == "all")))
    denom = int(denom_mask.sum())
    k_now = int((cell & answered & in_s_code[item.codes]).sum())
    feasible = feasible_counts(denom, band=band, value=value, decimals=decimals)
    center = value if value is not None else (band[0] + band[1]) / 2
    k_target = _nearest(feasible, k_now, center)
    moved = 0
    for _ in range(item.n_cat + 2):
        k_now = int((cell & answered & in_s_code[item.codes]).sum())
        d = k_target - k_now
        if d == 0:
            return moved
        cand_mask = movable & answered & (in_s_code[item.codes] == (d < 0))
        cand = np.flatnonzero(cand_mask)
        c = item.codes[cand].astype(np.int64)
        up_ok = (c + 1 <= item.n_cat) & (in_s_code[np.clip(c + 1, 0, 15)] != (d < 0))
        down_ok = (c - 1 >= 1) & (in_s_code[np.clip(c - 1, 0, 15)] != (d < 0))
        direction, cost = _move_costs(item, cand, up_ok, down_ok)
        cost[~(up_ok | down_ok)] = np.inf
        chosen = _pick(cost, abs(d))
        short = abs(d) - chosen.size
        if chosen.size:
            _apply(item, cand[chosen], direction[chosen])
            moved += chosen.size
        if short > 0:
            # Not enough respondents one step from the border: step the nearest others
            # towards it (the count is unchanged now; the next round crosses).
            rest = np.setdiff1d(np.arange(cand.size), chosen)
            c = item.codes[cand[rest]].astype(np.int64)
            want = d > 0
            targets = np.array([k for k in range(1, item.n_cat + 1) if in_s_code[k] == want])
            if rest.size == 0 or targets.size == 0:
                break
            nearest = targets[np.argmin(np.abs(c[:, None] - targets[None, :]), axis=1)]
            step = np.sign(nearest - c)
            direction2, cost2 = _move_costs(item, cand[rest], step > 0, step < 0)
            cost2[step == 0] = np.inf
            chosen2 = _pick(cost2, short)
            if chosen2.size == 0:
                break
            _apply(item, cand[rest][chosen2], direction2[chosen2])
            moved += chosen2.size
    k_now = int((cell & answered & in_s_code[item.codes]).sum())
    if k_now != k_target:
        raise CalibrationError(f"{item.name}: fikk ikke {k_target} av {denom} i kategoriene {codes} "
                               f"(står på {k_now})")
    return moved


def calibrate_mean(item: _Item, cell: np.ndarray, band: tuple[float, float]) -> int:
    """Move respondents one step, cheapest first, until the cell's mean (1..K) lies in ``band``."""
    moved = 0
    for _ in range(4 * item.n_cat):
        answered = cell & item.answered()
        n = int(answered.sum())
        if n == 0:
            return moved
        total = int(item.codes[answered].sum())
        lo, hi = math.ceil(band[0] * n - 1e-9), math.floor(band[1] * n + 1e-9)
        lo, hi = max(lo, n), min(hi, item.n_cat * n)
        if lo > hi or lo <= total <= hi:
            return moved
        d = lo - total if total < lo else hi - total
        cand = np.flatnonzero(answered)
        c = item.codes[cand].astype(np.int64)
        up_ok = (c < item.n_cat) & (d > 0)
        down_ok = (c > 1) & (d < 0)
        direction, cost = _move_costs(item, cand, up_ok, down_ok)
        cost[~(up_ok | down_ok)] = np.inf
        chosen = _pick(cost, abs(d))
        if chosen.size == 0:
            break
        _apply(item, cand[chosen], direction[chosen])
        moved += chosen.size
    answered = cell & item.answered()
    mean = item.codes[answered].mean() if answered.any() else float("nan")
    if not (band[0] - 1e-9 <= mean <= band[1] + 1e-9):
        raise CalibrationError(f"{item.name}: snittet {mean:.3f} ligger utenfor {band}")
    return moved
