"""The synthetic twin: a seeded, documented generator of what the survey tool would export.

The model lives in ``params/synthetic.yml`` (documented in ``docs/synthetic.md``); the
published figures it must reproduce live in ``params/published.yml``. Calibration is exact by
construction: answers are drawn from a latent-variable model, then the fewest respondents
nearest a cut-point are moved until each calibrated share or mean lies in its band (the bands
of exact targets come from the published value and its rounding). Nothing is re-drawn until it
happens to match.

Public API: :func:`generate` (raw, export-like tables), :func:`generate_clean` (the same data
in the processed layout, without the mess), :func:`write_raw` (files in ``data/raw/``).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from tillit.data.codebook import Codebook, load_codebook
from tillit.config import ConfigError, read_yaml, repo_root

MARKER = "SYNTETISK.json"
SURVEY_STEM = "survey_2023"
SURVEY_FORMATS = ("csv", "xlsx", "sav")
NA_CODE = 0          # internal: not asked / not answered (NA in processed data)
_EPS = 1e-9


class CalibrationError(RuntimeError):
    """The calibration could not reach a band (model and targets disagree)."""


# --- Parameters ---------------------------------------------------------------------------
def load_model(path: Path | str | None = None) -> dict:
    """``params/synthetic.yml`` as a dict (checked for the keys the generator needs)."""
    path = Path(path) if path else repo_root() / "params" / "synthetic.yml"
    data = read_yaml(path)
    need = ["default_seed", "n_respondents", "population", "units", "period", "mess", "items",
            "outcomes", "calibration", "survey_2017", "md_brev", "registers", "generator_version"]
    missing = [k for k in need if not isinstance(data, dict) or k not in data]
    if missing:
        raise ConfigError(f"{path}: mangler nøklene {missing}")
    return data


def load_published(path: Path | str | None = None) -> dict:
    """``params/published.yml`` as a dict with a ``targets`` list (ids unique)."""
    path = Path(path) if path else repo_root() / "params" / "published.yml"
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
        raise ConfigError(f"{path}: forventet en liste under 'targets'")
    ids = [t.get("id") for t in data["targets"]]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{path}: målene {dupes} står flere ganger")
    return data


def default_seed() -> int:
    return int(load_model()["default_seed"])


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


# --- The generator -------------------------------------------------------------------------
@dataclass
class _People:
    role: np.ndarray        # int index into codebook roles
    unit_type: np.ndarray   # int index into codebook unit types
    unit: np.ndarray        # int index into unit list
    unit_numbers: np.ndarray  # str per unit
    unit_of_type: np.ndarray  # unit type index per unit
    g: np.ndarray           # person factor


class _Twin:
    """One realisation of the model (survey 2023 and 2017, MD-brev, registers)."""

    def __init__(self, seed: int, n: int, model: dict, published: dict, codebook: Codebook):
        if n < 1:
            raise ValueError(f"n_respondents må være minst 1 (fikk {n})")
        self.seed, self.n, self.model, self.published, self.cb = int(seed), int(n), model, published, codebook
        ss = np.random.SeedSequence(self.seed)
        names = ["people", "items", "outcomes", "mess", "y2017", "md", "registers", "raw"]
        self.rng = {name: np.random.default_rng(child) for name, child in zip(names, ss.spawn(len(names)))}
        self.roles = list(codebook.roles)
        self.unit_types = list(codebook.unit_types)
        self.targets = {t["id"]: t for t in published["targets"]}
        self.calibration_moves: dict[str, int] = {}

    # -- people ---------------------------------------------------------------------------
    def _population_counts(self, n: int) -> np.ndarray:
        pop = self.model["population"]
        unknown = set(pop) - set(self.unit_types)
        if unknown:
            raise ConfigError(f"synthetic.yml: population har ukjente enhetstyper {sorted(unknown)}")
        matrix = np.array([[float(pop.get(ut, {}).get(r, 0)) for r in self.roles] for ut in self.unit_types])
        return largest_remainder(matrix.ravel(), n).reshape(matrix.shape)

    def people(self, n: int, rng: np.random.Generator, units: tuple | None = None) -> _People:
        counts = self._population_counts(n)
        ut_idx, role_idx = np.nonzero(counts >= 0)
        reps = counts.ravel()
        unit_type = np.repeat(ut_idx, reps)
        role = np.repeat(role_idx, reps)
        perm = rng.permutation(n)
        unit_type, role = unit_type[perm], role[perm]
        if units is None:
            units = self._units(rng)
        unit_numbers, unit_of_type, weights = units
        unit = np.empty(n, dtype=np.int64)
        for t in range(len(self.unit_types)):
            members = np.flatnonzero(unit_type == t)
            own = np.flatnonzero(unit_of_type == t)
            if members.size == 0:
                continue
            if own.size == 0:
                raise ConfigError(f"synthetic.yml: enhetstypen {self.unit_types[t]} har respondenter, men ingen enheter")
            p = weights[own] / weights[own].sum()
            unit[members] = own[rng.choice(own.size, size=members.size, p=p)]
        g = rng.standard_normal(n)
        return _People(role, unit_type, unit, unit_numbers, unit_of_type, g)

    def _units(self, rng: np.random.Generator):
        spec = self.model["units"]
        per_type = [int(spec.get(ut, 0)) for ut in self.unit_types]
        total = sum(per_type)
        numbers = rng.choice(np.arange(100, 10000), size=total, replace=False)
        unit_numbers, unit_of_type = [], []
        start = 0
        for t, k in enumerate(per_type):
            block = np.sort(numbers[start:start + k])
            start += k
            unit_numbers += [f"{v:04d}" for v in block]
            unit_of_type += [t] * k
        alpha = float(self.model.get("unit_concentration", 4.0))
        weights = rng.gamma(alpha, 1.0, size=total)
        return np.array(unit_numbers, dtype=object), np.array(unit_of_type), weights

    # -- items ----------------------------------------------------------------------------
    def _spec(self, name: str) -> dict:
        defaults = dict(self.model["items"].get("defaults", {}))
        if name in self.model["outcomes"]:
            return {**defaults, **self.model["outcomes"][name]}
        if name not in self.model["items"]:
            raise ConfigError(f"synthetic.yml: items mangler spesifikasjon for '{name}'")
        return {**defaults, **self.model["items"][name]}

    def asked_mask(self, name: str, p: _People) -> np.ndarray:
        var = self.cb.items[name]
        role_ok = np.isin(p.role, [self.roles.index(r) for r in var.asked_of])
        if var.unit_types:
            role_ok &= np.isin(p.unit_type, [self.unit_types.index(u) for u in var.unit_types])
        return role_ok

    def _eta(self, spec: dict, p: _People, unit_effects: np.ndarray) -> np.ndarray:
        role_eff = np.array([float(spec.get("role", {}).get(r, 0.0)) for r in self.roles])
        ut_eff = np.array([float(spec.get("unit_type", {}).get(u, 0.0)) for u in self.unit_types])
        return (role_eff[p.role] + ut_eff[p.unit_type] + unit_effects[p.unit]
                + float(spec.get("loading", 0.0)) * p.g)

    def _dont_know(self, asked: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
        idx = np.flatnonzero(asked)
        k = int(round(rate * idx.size))
        dk = np.zeros(asked.size, dtype=bool)
        if k:
            dk[rng.choice(idx, size=k, replace=False)] = True
        return dk

    def shares_item(self, name: str, p: _People, rng: np.random.Generator,
                    shift: float = 0.0, cuts: np.ndarray | None = None) -> _Item:
        """Rank-based item: exact margins from ``shares`` (or fixed ``cuts`` when given)."""
        spec = self._spec(name)
        shares = np.asarray(spec["shares"], dtype=float)
        n_cat = shares.size
        asked = self.asked_mask(name, p)
        unit_eff = rng.normal(0.0, float(spec.get("unit_sd", 0.3)), size=p.unit_numbers.size)
        y = self._eta(spec, p, unit_eff) + shift + rng.logistic(size=p.role.size)
        dk = self._dont_know(asked, float(spec.get("dont_know", 0.03)), rng)
        codes = np.zeros(p.role.size, dtype=np.int8)
        if cuts is None:
            pool = np.flatnonzero(asked & ~dk)
            counts = largest_remainder(shares, pool.size)
            order = pool[np.argsort(y[pool], kind="stable")]
            ys = y[order]
            bounds = np.cumsum(counts)[:-1]
            cuts = np.empty(n_cat - 1)
            for j, b in enumerate(bounds):
                if 0 < b < ys.size:
                    cuts[j] = (ys[b - 1] + ys[b]) / 2
                elif b <= 0:
                    cuts[j] = (ys[0] if ys.size else 0.0) - 10.0 + j * 1e-3
                else:
                    cuts[j] = (ys[-1] if ys.size else 0.0) + 10.0 + j * 1e-3
            cuts = np.maximum.accumulate(cuts + np.arange(n_cat - 1) * 1e-12)
        under = np.zeros(p.role.size, dtype=np.int8)
        under[asked] = (np.searchsorted(cuts, y[asked]) + 1).astype(np.int8)
        codes[asked] = under[asked]
        codes[dk] = self.cb.scales[self.cb.items[name].scale].dont_know_code
        return _Item(name, n_cat, codes, y, np.asarray(cuts, dtype=float), under,
                     self.cb.scales[self.cb.items[name].scale].dont_know_code)

    def outcome_item(self, name: str, p: _People, predictors: dict[str, _Item],
                     rng: np.random.Generator, shift: float = 0.0) -> _Item:
        spec = self._spec(name)
        cuts = np.asarray(spec["cuts"], dtype=float)
        if spec.get("link", "logit") != "logit":
            raise ConfigError(f"synthetic.yml: outcomes.{name}.link må være logit")
        asked = self.asked_mask(name, p)
        unit_eff = rng.normal(0.0, float(spec.get("unit_sd", 0.2)), size=p.unit_numbers.size)
        eta = self._eta({**spec, "loading": 0.0}, p, unit_eff) + shift
        for pred, beta in spec["predictors"].items():
            x = predictors[pred].under.astype(float)
            eta = eta + float(beta) * (x - 3.0)
        y = eta + rng.logistic(size=p.role.size)
        dk = self._dont_know(asked, float(spec.get("dont_know", 0.03)), rng)
        under = np.zeros(p.role.size, dtype=np.int8)
        under[asked] = (np.searchsorted(cuts, y[asked]) + 1).astype(np.int8)
        codes = under.copy()
        dk_code = self.cb.scales[self.cb.items[name].scale].dont_know_code
        codes[dk] = dk_code
        return _Item(name, cuts.size + 1, codes, y, cuts, under, dk_code)

    # -- calibration ----------------------------------------------------------------------
    def _filter_mask(self, p: _People, flt: dict | None) -> np.ndarray:
        mask = np.ones(p.role.size, dtype=bool)
        for col, values in (flt or {}).items():
            if col == "role":
                mask &= np.isin(p.role, [self.roles.index(v) for v in values])
            elif col == "unit_type":
                mask &= np.isin(p.unit_type, [self.unit_types.index(v) for v in values])
            else:
                raise ConfigError(f"synthetic.yml: calibration-filter på ukjent kolonne '{col}'")
        return mask

    def calibrate(self, items: dict[str, _Item], p: _People, entries: list[dict]) -> None:
        done: list[tuple[str, tuple, np.ndarray]] = []
        for entry in entries:
            name = entry["item"]
            item = items[name]
            cell = self._filter_mask(p, entry.get("filter"))
            key = f"{name}:{entry.get('codes', 'mean')}:{entry.get('filter', {})}"
            if "mean_diff" in entry:
                md = entry["mean_diff"]
                other = items[md.get("other", name)]
                other_cell = self._filter_mask(p, md.get("other_filter", entry.get("filter")))
                ans = other_cell & other.answered()
                if not ans.any() or not (cell & item.answered()).any():
                    continue
                m_other = float(other.codes[ans].mean())
                lo, hi = md["band"]
                self.calibration_moves[key] = calibrate_mean(item, cell, (m_other + lo, m_other + hi))
                continue
            codes = tuple(int(c) for c in entry["codes"])
            movable = cell.copy()
            for prev_name, prev_codes, prev_cell in done:
                if prev_name == name and prev_codes == codes:
                    movable &= ~prev_cell
            kwargs: dict[str, Any] = {"denominator": entry.get("denominator", "all")}
            if "target" in entry:
                target = self.targets.get(entry["target"])
                if target is None:
                    raise ConfigError(f"synthetic.yml: calibration viser til ukjent mål '{entry['target']}'")
                check = target["check"]
                if check["op"] != "round_eq":
                    raise ConfigError(f"synthetic.yml: målet '{entry['target']}' har ikke op round_eq")
                kwargs.update(value=float(check["value"]), decimals=int(check.get("decimals", 0)))
                kwargs["denominator"] = target["compute"].get("denominator", "all")
            else:
                kwargs["band"] = tuple(float(v) for v in entry["share"])
            if not (cell & self.asked_mask(name, p)).any():
                continue
            self.calibration_moves[key] = calibrate_share(item, cell, movable, list(codes), **kwargs)
            done.append((name, codes, cell))

    # -- survey 2023 ----------------------------------------------------------------------
    def survey_2023(self) -> tuple[_People, dict[str, _Item]]:
        rng_p, rng_i, rng_o = self.rng["people"], self.rng["items"], self.rng["outcomes"]
        self.units = self._units(rng_p)
        p = self.people(self.n, rng_p, self.units)
        outcomes = self.model["outcomes"]
        items: dict[str, _Item] = {}
        for name in self.cb.items:
            if name not in outcomes:
                items[name] = self.shares_item(name, p, rng_i)
        entries = self.model["calibration"]
        self.calibrate(items, p, [e for e in entries if e["item"] not in outcomes])
        for name in outcomes:
            items[name] = self.outcome_item(name, p, items, rng_o)
        self.calibrate(items, p, [e for e in entries if e["item"] in outcomes])
        self.p2023, self.items2023 = p, items
        return p, items

    def survey_2017(self) -> tuple[_People, dict[str, _Item]]:
        spec = self.model["survey_2017"]
        rng = self.rng["y2017"]
        n17 = max(1, int(round(spec["n_respondents"] * self.n / int(self.model["n_respondents"]))))
        p = self.people(n17, rng, self.units)
        items: dict[str, _Item] = {}
        shifts = spec.get("shift", {})
        outcomes = self.model["outcomes"]
        # Predictors of an outcome are needed as latent scores even when not asked in 2017.
        needed = list(self.cb.items_2017)
        for out in outcomes:
            if out in needed:
                needed += [x for x in outcomes[out]["predictors"] if x not in needed]
        for name in needed:
            if name in outcomes:
                continue
            items[name] = self.shares_item(name, p, rng, shift=float(shifts.get(name, 0.0)),
                                           cuts=self.items2023[name].cuts)
        for name in needed:
            if name in outcomes:
                items[name] = self.outcome_item(name, p, items, rng, shift=float(shifts.get(name, 0.0)))
        self.p2017 = p
        return p, {k: v for k, v in items.items() if k in self.cb.items_2017}

    # -- frames ---------------------------------------------------------------------------
    def timestamps(self, n: int, period: dict, rng: np.random.Generator) -> np.ndarray:
        start = np.datetime64(period["start"], "s")
        end = np.datetime64(period["end"], "s")
        days = int((end - start) / np.timedelta64(1, "D")) + 1
        first, last = int(period.get("first_hour", 7)), int(period.get("last_hour", 17))
        day = rng.integers(0, days, size=n)
        sec = rng.integers(first * 3600, last * 3600, size=n)
        return start + (day * 86400 + sec).astype("timedelta64[s]")

    def clean_frame(self, p: _People, items: dict[str, _Item], ids: np.ndarray,
                    times: np.ndarray, with_unit: bool = True) -> pd.DataFrame:
        cb = self.cb
        lines = [cb.unit_types[u].line for u in self.unit_types]
        data: dict[str, Any] = {
            "respondent_id": pd.array(ids, dtype=object),
            "submitted_at": pd.to_datetime(times).astype("datetime64[ns]"),
            "role": pd.Categorical.from_codes(p.role, categories=self.roles),
            "unit_type": pd.Categorical.from_codes(p.unit_type, categories=self.unit_types),
            "line": pd.Categorical(np.array(lines, dtype=object)[p.unit_type], categories=list(cb.lines)),
        }
        if with_unit:
            data["unit_number"] = pd.array(p.unit_numbers[p.unit], dtype=object)
        for name in [n for n in cb.items if n in items]:  # codebook order
            item = items[name]
            arr = pd.array(item.codes, dtype="Int8")
            arr[item.codes == NA_CODE] = pd.NA
            data[name] = arr
        df = pd.DataFrame(data)
        df["respondent_id"] = df["respondent_id"].astype("str")
        if with_unit:
            df["unit_number"] = df["unit_number"].astype("str")
        # Rows in the export's order (submission time, then id), as prepare keeps them.
        order = np.lexsort((df["respondent_id"].to_numpy(dtype=str), df["submitted_at"].to_numpy()))
        return df.iloc[order].reset_index(drop=True)

    def ids(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.array([str(v) for v in 100_000_000 + rng.choice(900_000_000, size=n, replace=False)],
                        dtype=object)


# --- Raw rendering --------------------------------------------------------------------------
def _label_lookup(codebook: Codebook, name: str) -> np.ndarray:
    scale = codebook.scale_of(name)
    table = np.full(16, "", dtype=object)
    for code, label in scale.code_to_label().items():
        table[code] = label
    return table


def _alias_variants(aliases: list[str], rng: np.random.Generator, n: int, noise_share: float) -> np.ndarray:
    out = np.array(aliases, dtype=object)[rng.integers(0, len(aliases), size=n)]
    noisy = rng.random(n) < noise_share
    for i in np.flatnonzero(noisy):
        s = out[i]
        out[i] = [s.upper(), s.lower(), f" {s} ", s.replace("-", " ")][int(rng.integers(0, 4))]
    return out


def _render_survey_raw(twin: _Twin, clean: pd.DataFrame) -> pd.DataFrame:
    """The clean 2023 data as the survey tool would export them, with the mess added."""
    cb, model, rng = twin.cb, twin.model, twin.rng["mess"]
    n = len(clean)
    scale_n = n / int(model["n_respondents"])
    mess = model["mess"]

    def count(key: str) -> int:
        return int(round(float(mess.get(key, 0)) * scale_n))

    item_names = list(cb.items)
    codes = {name: clean[name].to_numpy(dtype="float64", na_value=np.nan) for name in item_names}
    base = {
        "respondent_id": clean["respondent_id"].to_numpy(dtype=object),
        "submitted_at": clean["submitted_at"].to_numpy(dtype="datetime64[s]"),
        "status": np.full(n, "Fullført", dtype=object),
        "test_response": np.full(n, "Nei", dtype=object),
        "role": clean["role"].to_numpy(dtype=object),
        "unit_type": clean["unit_type"].to_numpy(dtype=object),
        "unit_number": clean["unit_number"].to_numpy(dtype=object),
    }
    answers = np.column_stack([np.nan_to_num(codes[nm], nan=0).astype(np.int64) for nm in item_names]) \
        if item_names else np.zeros((n, 0), dtype=np.int64)

    # Routing leaks: answers to questions not asked of the role (prepare sets them to NA).
    leaks = min(count("not_asked_leaks"), n)
    leak_rows = np.array([], dtype=np.int64)
    if leaks:
        not_leader = np.flatnonzero(clean["role"].to_numpy(dtype=object) == "medarbeider")
        leak_rows = rng.choice(not_leader, size=min(leaks, not_leader.size), replace=False)
        leak_cols = [i for i, nm in enumerate(item_names) if "medarbeider" not in cb.items[nm].asked_of]
        for r in leak_rows:
            col = leak_cols[int(rng.integers(0, len(leak_cols)))]
            answers[r, col] = int(rng.integers(1, cb.scale_of(item_names[col]).codes[-1] + 1))

    blocks = [dict(base, answers=answers)]
    period = model["period"]
    start = np.datetime64(period["start"], "s")

    def take(rows: np.ndarray) -> dict:
        return {k: v[rows].copy() for k, v in blocks[0].items()}

    def redraw(block: dict, share: float) -> None:
        a = block["answers"]
        for j, nm in enumerate(item_names):
            top = cb.scale_of(nm).codes[-1]
            hit = (rng.random(a.shape[0]) < share) & (a[:, j] > 0)
            a[hit, j] = rng.integers(1, top + 1, size=int(hit.sum()))

    # Duplicates: an earlier complete submission by the same respondent (identical or not).
    eligible = np.flatnonzero(base["submitted_at"] >= start + np.timedelta64(3, "D"))
    k_id, k_conf, k_pc = count("duplicates_identical"), count("duplicates_conflicting"), count("partial_of_complete")
    pick = rng.choice(eligible, size=min(eligible.size, k_id + k_conf + k_pc), replace=False)
    ident, conf, pc = pick[:k_id], pick[k_id:k_id + k_conf], pick[k_id + k_conf:]
    for rows, conflicting in ((ident, False), (conf, True)):
        if rows.size == 0:
            continue
        blk = take(rows)
        blk["submitted_at"] = blk["submitted_at"] - rng.integers(3600, 48 * 3600, size=rows.size).astype("timedelta64[s]")
        if conflicting:
            a = blk["answers"].copy()
            blk["answers"] = a
            redraw(blk, 0.25)
            same = (blk["answers"] == blocks[0]["answers"][rows]).all(axis=1)
            for r in np.flatnonzero(same):  # guarantee a real conflict
                j = int(np.flatnonzero(a[r] > 0)[0])
                a[r, j] = 1 if a[r, j] != 1 else 2
        blocks.append(blk)

    def truncate(blk: dict) -> None:
        a = blk["answers"]
        stop = rng.integers(0, max(a.shape[1], 1), size=a.shape[0])
        cols = np.arange(a.shape[1])
        a[cols[None, :] >= stop[:, None]] = 0
        blk["status"][:] = "Delvis"

    # Partial completes by respondents who also completed (half before, half after).
    if pc.size:
        blk = take(pc)
        truncate(blk)
        offset = rng.integers(600, 24 * 3600, size=pc.size).astype("timedelta64[s]")
        sign = np.where(np.arange(pc.size) % 2 == 0, -1, 1)
        blk["submitted_at"] = blk["submitted_at"] + sign * offset
        blocks.append(blk)

    # Partial completes by respondents who never completed; test responses.
    k_partial, k_test = count("partial_unique"), count("test_responses")
    new_ids = twin.ids(n + k_partial + k_test, twin.rng["raw"])
    taken = set(base["respondent_id"].tolist())
    new_ids = np.array([i for i in new_ids if i not in taken][: k_partial + k_test], dtype=object)
    for k, kind in ((k_partial, "partial"), (k_test, "test")):
        if k == 0:
            continue
        donors = rng.choice(n, size=k, replace=True)
        blk = take(donors)
        blk["respondent_id"] = new_ids[:k]
        new_ids = new_ids[k:]
        blk["submitted_at"] = twin.timestamps(k, period, rng)
        redraw(blk, 0.5)
        if kind == "partial":
            truncate(blk)
        else:
            blk["test_response"][:] = "Ja"
        blocks.append(blk)

    allb = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
    m = allb["respondent_id"].size
    out: dict[str, Any] = {}
    admin = cb.admin
    out[admin["respondent_id"].raw] = allb["respondent_id"]
    out[admin["submitted_at"].raw] = pd.to_datetime(allb["submitted_at"]).strftime(
        admin["submitted_at"].extra.get("format", "%Y-%m-%d %H:%M:%S")).to_numpy(dtype=object)
    out[admin["status"].raw] = allb["status"]
    out[admin["test_response"].raw] = allb["test_response"]
    # Roles: label, sometimes an alias.
    role_labels = np.array([cb.roles[r] for r in allb["role"]], dtype=object)
    role_alias = rng.random(m) < float(mess.get("role_alias_share", 0.0))
    spec_roles = cb.raw["roles"]
    for i in np.flatnonzero(role_alias):
        aliases = spec_roles[allb["role"][i]].get("aliases", [])
        if aliases:
            role_labels[i] = aliases[int(rng.integers(0, len(aliases)))]
    out[admin["role"].raw] = role_labels
    unit_labels = np.array([cb.unit_types[u].label for u in allb["unit_type"]], dtype=object)
    alias_rows = np.flatnonzero(rng.random(m) < float(mess.get("unit_alias_share", 0.0)))
    noise = float(mess.get("unit_case_noise_share", 0.0))
    for key in twin.unit_types:
        rows = alias_rows[allb["unit_type"][alias_rows] == key]
        if rows.size:
            unit_labels[rows] = _alias_variants(list(cb.unit_types[key].aliases), rng, rows.size, noise)
    out[admin["unit_type"].raw] = unit_labels
    out[admin["unit_number"].raw] = allb["unit_number"]
    for j, nm in enumerate(item_names):
        out[cb.items[nm].raw] = _label_lookup(cb, nm)[allb["answers"][:, j]]
    comments = model.get("free_text_comments", [])
    free = np.full(m, "", dtype=object)
    if comments:
        has = rng.random(m) < float(mess.get("free_text_share", 0.0))
        free[has] = np.array(comments, dtype=object)[rng.integers(0, len(comments), size=int(has.sum()))]
    free[allb["test_response"] == "Ja"] = "Test – ikke tell med"
    out[admin["free_text"].raw] = free
    df = pd.DataFrame(out)
    order = np.lexsort((df[admin["respondent_id"].raw].to_numpy(dtype=str),
                        df[admin["submitted_at"].raw].to_numpy(dtype=str)))
    return df.iloc[order].reset_index(drop=True)


def _render_2017_raw(twin: _Twin, clean: pd.DataFrame) -> pd.DataFrame:
    cb = twin.cb
    admin = cb.admin
    out: dict[str, Any] = {
        admin["respondent_id"].raw: clean["respondent_id"].to_numpy(dtype=object),
        admin["submitted_at"].raw: clean["submitted_at"].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object),
        admin["role"].raw: np.array([cb.roles[r] for r in clean["role"].astype(str)], dtype=object),
        admin["unit_type"].raw: np.array([cb.unit_types[u].label for u in clean["unit_type"].astype(str)], dtype=object),
    }
    for nm in cb.items_2017:
        codes = clean[nm].to_numpy(dtype="float64", na_value=np.nan)
        out[cb.items[nm].raw] = _label_lookup(cb, nm)[np.nan_to_num(codes, nan=0).astype(np.int64)]
    df = pd.DataFrame(out)
    return df.sort_values([admin["submitted_at"].raw, admin["respondent_id"].raw], kind="stable").reset_index(drop=True)


# --- MD-brev and registers -------------------------------------------------------------------
def _md_brev(twin: _Twin) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clean processed-like frame, raw frame) of the MD-brev 2022 coding."""
    cb, rng, spec = twin.cb, twin.rng["md"], twin.model["md_brev"]
    cols = cb.md_letters["columns"]
    rows = []
    for sender in cb.md_letters["senders"]:
        s = spec[sender]
        n_st, n_non = int(s["steering"]), int(s["non_steering"])
        total = n_st + n_non
        steering = np.array([True] * n_st + [False] * n_non)
        # Result chain and concreteness: exact counts for steering goals, shares for the rest.
        rc_keys = list(cols["result_chain"]["values"])
        cc_keys = list(cols["concreteness"]["values"])
        rc = np.concatenate([
            np.repeat(rc_keys, [int(s["result_chain"][k]) for k in rc_keys]),
            np.repeat(rc_keys, largest_remainder([spec["non_steering_result_chain"][k] for k in rc_keys], n_non))])
        cc = np.concatenate([
            np.repeat(cc_keys, [int(s["concreteness"][k]) for k in cc_keys]),
            np.repeat(cc_keys, largest_remainder([spec["non_steering_concreteness"][k] for k in cc_keys], n_non))])
        if rc.size != total or cc.size != total:
            raise ConfigError(f"synthetic.yml: md_brev.{sender}: fordelingene summerer ikke til {n_st} styrende")
        rc[:n_st] = rc[:n_st][rng.permutation(n_st)]
        rc[n_st:] = rc[n_st:][rng.permutation(n_non)]
        # Focus: internal share within each (steering, concreteness) cell.
        focus = np.empty(total, dtype=object)
        for st in (True, False):
            for key in cc_keys:
                idx = np.flatnonzero((steering == st) & (cc == key))
                k_int = int(round(float(s["internal_share"]) * idx.size))
                lab = np.array(["intern"] * k_int + ["ekstern"] * (idx.size - k_int), dtype=object)
                focus[idx] = lab[rng.permutation(idx.size)]
        # Source: exactly `new` "ny"; the rest split tildelingsbrev / overliggende.
        n_new = int(s["new"])
        old = total - n_new
        k_tb = int(round(float(spec["tildelingsbrev_share_of_old"]) * old))
        source = np.array(["ny"] * n_new + ["tildelingsbrev"] * k_tb + ["overliggende"] * (old - k_tb), dtype=object)
        source = source[rng.permutation(total)]
        for i in range(total):
            rows.append((sender, bool(steering[i]), source[i], rc[i], cc[i], focus[i]))
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    rows.sort(key=lambda r: list(cb.md_letters["senders"]).index(r[0]))
    df = pd.DataFrame(rows, columns=["sender", "steering", "source", "result_chain", "concreteness", "focus"])
    df.insert(0, "goal_id", [f"{s}-{k:03d}" for s, k in zip(df["sender"], df.groupby("sender").cumcount() + 1)])
    clean = df.copy()
    for col in ("source", "result_chain", "concreteness", "focus"):
        clean[col] = pd.Categorical(clean[col], categories=list(cols[col]["values"]))
    clean["sender"] = pd.Categorical(clean["sender"], categories=list(cb.md_letters["senders"]))
    raw = pd.DataFrame({
        cols["goal_id"]["raw"]: df["goal_id"],
        cols["sender"]["raw"]: df["sender"].map(lambda s: sender_label(cb, s)),
        cols["steering"]["raw"]: np.where(df["steering"], "Ja", "Nei"),
        cols["source"]["raw"]: df["source"].map(cols["source"]["values"]),
        cols["result_chain"]["raw"]: df["result_chain"].map(cols["result_chain"]["values"]),
        cols["concreteness"]["raw"]: df["concreteness"].map(cols["concreteness"]["values"]),
        cols["focus"]["raw"]: df["focus"].map(cols["focus"]["values"]),
    })
    return clean, raw


def sender_label(codebook: Codebook, key: str) -> str:
    """The abbreviation NAV writes (ATA, YA, ØSA), as the coded export spells the sender."""
    return codebook.md_letters["senders"][key]["short"]


def _registers(twin: _Twin) -> dict[str, pd.DataFrame]:
    """Raw register tables (the codebook's raw headers, Norwegian labels), keyed by register name."""
    cb, rng, spec = twin.cb, twin.rng["registers"], twin.model["registers"]
    out: dict[str, pd.DataFrame] = {}
    m = spec["municipalities"]
    nums = np.sort(rng.choice(np.arange(301, 5700), size=int(m["asked"]), replace=False))
    sent = np.array(["Ja"] * int(m["sent"]) + ["Nei"] * (int(m["asked"]) - int(m["sent"])), dtype=object)
    out["municipalities"] = pd.DataFrame({"municipality_number": [f"{v:04d}" for v in nums], "asked": "Ja",
                                          "sent": sent[rng.permutation(sent.size)]})
    iv = spec["interviews"]
    depth, steer = int(iv["depth"]), int(iv["steering_units"])
    lo, hi = int(iv["min_minutes"]), int(iv["max_minutes"])
    minutes = rng.integers(lo, hi + 1, size=depth)
    if depth >= 2:
        minutes[:2] = [lo, hi]
        minutes = minutes[rng.permutation(depth)]
    roles = np.array(["Medarbeider", "Tillitsvalgt/verneombud", "Leder"], dtype=object)[rng.integers(0, 3, size=depth)]
    steer_minutes = rng.integers(45, 91, size=steer)
    kinds = cb.registers["interviews"]["columns"]["kind"]["values"]
    out["interviews"] = pd.DataFrame({
        "interview_id": [f"I{i + 1:03d}" for i in range(depth + steer)],
        "kind": [kinds["dybde"]] * depth + [kinds["styringsenhet"]] * steer,
        "role": list(roles) + ["Ansatt på styringsenhet"] * steer,
        "duration_min": [str(v) for v in np.concatenate([minutes, steer_minutes])],
    })
    cp = spec["conversation_packages"]
    used, sent_n = int(cp["units_used"]), int(cp["sent_challenges"])
    units = rng.choice(twin.units[0].size, size=min(used, twin.units[0].size), replace=False)
    flags = np.array(["Ja"] * sent_n + ["Nei"] * (units.size - sent_n), dtype=object)
    out["conversation_packages"] = pd.DataFrame({
        "unit_number": twin.units[0][units],
        "unit_type": [cb.unit_types[twin.unit_types[t]].label for t in twin.units[1][units]],
        "sent_challenges": flags[rng.permutation(flags.size)],
    }).sort_values("unit_number", kind="stable").reset_index(drop=True)
    k = int(spec["experience_base"]["projects"])
    line_labels = list(cb.lines.values())
    lines_eb = np.array(line_labels, dtype=object)[rng.choice(len(line_labels), size=k, p=[0.85, 0.08, 0.02, 0.05])]
    out["experience_base"] = pd.DataFrame({"project_id": [f"E{i + 1:03d}" for i in range(k)], "line": lines_eb,
                                           "year": [str(v) for v in rng.integers(2019, 2024, size=k)]})
    rows = []
    for year, count in spec["grants"]["per_year"].items():
        rows += [(f"T{year}-{i + 1:03d}", str(year)) for i in range(int(count))]
    out["grants"] = pd.DataFrame(rows, columns=["initiative_id", "year"])
    g = int(spec["gathering"]["participants"])
    g_roles = np.array(["Medarbeider", "Leder", "Tillitsvalgt", "Verneombud", "Brukerrepresentant"], dtype=object)
    out["gathering"] = pd.DataFrame({
        "participant_id": [f"D{i + 1:03d}" for i in range(g)],
        "line": np.array(line_labels, dtype=object)[rng.choice(len(line_labels), size=g, p=[0.55, 0.25, 0.1, 0.1])],
        "role": g_roles[rng.choice(5, size=g, p=[0.45, 0.25, 0.12, 0.08, 0.10])],
    })
    # Built with processed names; the export carries the codebook's raw headers.
    return {name: frame.rename(columns={col: c["raw"] for col, c in cb.registers[name]["columns"].items()})
            for name, frame in out.items()}


# --- Public API -----------------------------------------------------------------------------
def _simulate(seed: int | None, n_respondents: int, model: dict | None = None,
              published: dict | None = None, codebook: Codebook | None = None) -> tuple[_Twin, dict, dict]:
    model = model or load_model()
    published = published or load_published()
    codebook = codebook or load_codebook()
    seed = int(model["default_seed"]) if seed is None else int(seed)
    twin = _Twin(seed, n_respondents, model, published, codebook)
    p, items = twin.survey_2023()
    ids = twin.ids(n_respondents, twin.rng["people"])
    times = twin.timestamps(n_respondents, model["period"], twin.rng["people"])
    clean23 = twin.clean_frame(p, items, ids, times)
    p17, items17 = twin.survey_2017()
    spec17 = model["survey_2017"]
    ids17 = twin.ids(len(p17.role), twin.rng["y2017"])
    times17 = twin.timestamps(len(p17.role), spec17["period"], twin.rng["y2017"])
    clean17 = twin.clean_frame(p17, items17, ids17, times17, with_unit=False)
    md_clean, md_raw = _md_brev(twin)
    clean = {"survey_2023": clean23, "survey_2017": clean17, "md_brev_2022": md_clean}
    raw: dict[str, pd.DataFrame] = {
        "survey_2023": _render_survey_raw(twin, clean23),
        "survey_2017": _render_2017_raw(twin, clean17),
        "md_brev_2022": md_raw,
    }
    from tillit.data.prepare import register_frame  # one conversion for the twin and for real registers

    for name, frame in _registers(twin).items():
        raw[Path(codebook.registers[name]["file"]).stem] = frame
        clean[f"registers/{name}"] = register_frame(name, frame, codebook.registers[name]["file"], codebook)
    return twin, clean, raw


def generate(seed: int | None = None, n_respondents: int = 3660) -> dict[str, pd.DataFrame]:
    """Raw, export-like tables of the synthetic twin, keyed by file stem.

    ``survey_2023`` (one row per submission, with test responses, partial completes,
    duplicates, alias spellings and free text), ``survey_2017``, ``md_brev_2022`` and the
    registers (``kommuner``, ``intervjuer``, ``samtalepakker``, ``erfaringsbasen``,
    ``tilskudd``, ``storskalasamling``). Every cell is text (labels, as the tool exports them).
    Same seed and size -> identical tables. ``seed=None`` uses ``default_seed`` in synthetic.yml.
    """
    return _simulate(seed, n_respondents)[2]


def generate_clean(seed: int | None = None, n_respondents: int = 3660) -> dict[str, pd.DataFrame]:
    """The same realisation in the processed layout (docs/architecture.md), without the mess.

    ``survey_2023``, ``survey_2017``, ``md_brev_2022`` and ``registers/<name>``; what
    ``tillit.data.prepare`` yields from the raw files of the same seed.
    """
    return _simulate(seed, n_respondents)[1]


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _atomic_write(path: Path, writer) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}{path.suffix}")
    try:
        writer(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Besvarelser")
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([v if v != "" else None for v in row])
    wb.save(path)


def _write_sav(df: pd.DataFrame, path: Path, codebook: Codebook) -> None:
    """SPSS file: variable names = processed names, labels = raw headers, items as codes."""
    import pyreadstat

    by_raw = codebook.by_raw()
    out, labels, value_labels = {}, [], {}
    for col in df.columns:
        var = by_raw[col]
        name = var.name
        if var.scale:
            lookup = codebook.scales[var.scale].code_to_label()
            inverse = {lab: float(code) for code, lab in lookup.items()}
            out[name] = df[col].map(lambda v: inverse.get(v, np.nan)).astype("float64")
            value_labels[name] = {float(c): lab for c, lab in lookup.items()}
        else:
            out[name] = df[col].astype(str)
        labels.append(col)
    frame = pd.DataFrame(out)
    pyreadstat.write_sav(frame, str(path), column_labels=labels, variable_value_labels=value_labels)


def write_raw(raw_dir: Path | str, seed: int | None = None, n_respondents: int = 3660,
              formats: Iterable[str] = ("csv",), force: bool = False) -> list[Path]:
    """Write the twin's raw files into ``raw_dir`` (atomically, file by file); return the paths.

    ``formats`` chooses the survey_2023 export(s): any of ``csv``, ``xlsx``, ``sav`` (other
    tables are CSV). ``tillit.data.prepare`` wants exactly one survey_2023 file, so name several
    formats only to compare readers. CSV and JSON are byte-identical per seed; XLSX carries
    the zip's time stamps and SAV the file's creation time. ``SYNTETISK.json`` (seed, sizes, generator version) is written first, so
    a half-written folder is never mistaken for a real export. Refuses to write into a folder
    that holds a real export (a ``survey_2023.*`` without ``SYNTETISK.json``) unless ``force``.
    """
    raw_dir = Path(raw_dir)
    formats = tuple(formats)
    bad = [f for f in formats if f not in SURVEY_FORMATS]
    if bad or not formats:
        raise ValueError(f"ukjent format {bad or formats} (tillatt: {', '.join(SURVEY_FORMATS)})")
    raw_dir.mkdir(parents=True, exist_ok=True)
    existing = [raw_dir / f"{SURVEY_STEM}.{f}" for f in SURVEY_FORMATS if (raw_dir / f"{SURVEY_STEM}.{f}").exists()]
    if existing and not (raw_dir / MARKER).exists() and not force:
        raise FileExistsError(
            f"{raw_dir} inneholder en ekte eksport ({', '.join(p.name for p in existing)}, uten {MARKER}); "
            "den syntetiske tvillingen skrives ikke over ekte data. Bruk en annen mappe.")
    model = load_model()
    codebook = load_codebook()
    seed = int(model["default_seed"]) if seed is None else int(seed)
    twin, clean, raw = _simulate(seed, n_respondents, model=model, codebook=codebook)
    marker = {
        "kind": "synthetic",
        "note": "Syntetiske data fra tillit.data.synth – ikke ekte svar fra NAV-ansatte.",
        "generator": "tillit.data.synth",
        "generator_version": str(model["generator_version"]),
        "seed": seed,
        "n_respondents": int(n_respondents),
        "rows": {name: int(len(df)) for name, df in raw.items()},
        "survey_formats": list(formats),
    }
    written: list[Path] = []
    marker_path = raw_dir / MARKER
    _atomic_write_bytes(marker_path, (json.dumps(marker, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    written.append(marker_path)
    for name, df in raw.items():
        if name == SURVEY_STEM:
            continue
        path = raw_dir / f"{name}.csv"
        _atomic_write_bytes(path, _csv_bytes(df))
        written.append(path)
    survey = raw[SURVEY_STEM]
    for fmt in formats:
        path = raw_dir / f"{SURVEY_STEM}.{fmt}"
        if fmt == "csv":
            _atomic_write_bytes(path, _csv_bytes(survey))
        elif fmt == "xlsx":
            _atomic_write(path, lambda tmp: _write_xlsx(survey, tmp))
        else:
            _atomic_write(path, lambda tmp: _write_sav(survey, tmp, codebook))
        written.append(path)
    # A single survey export: stale formats from an earlier synthetic run would be ambiguous.
    for fmt in SURVEY_FORMATS:
        stale = raw_dir / f"{SURVEY_STEM}.{fmt}"
        if fmt not in formats and stale.exists():
            stale.unlink()
    return written
