"""The latent model of the synthetic twin: people, units and latent scores behind every answer.

The model lives in ``params/synthetic.yml`` (documented in ``docs/synthetic.md``); the
published figures it must reproduce live in ``params/published.yml``. Answers are drawn from a
latent-variable model and then calibrated (:mod:`tillit.data.synth.calibrate`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tillit.config import ConfigError, read_yaml, repo_root
from tillit.data.codebook import Codebook
from tillit.data.synth.calibrate import NA_CODE, _Item, calibrate_mean, calibrate_share, largest_remainder


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
    def survey_2023(self, calibrate_outcomes: bool = True) -> tuple[_People, dict[str, _Item]]:
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
        if calibrate_outcomes:  # off only for coverage studies (export.generate_survey)
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
