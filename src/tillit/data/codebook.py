"""The codebook (params/codebook.yml) as typed objects: scales, roles, units, variables.

Everything that names a label, code or question reads it from here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tillit.config import ConfigError, read_yaml, repo_root


_SEPARATORS = re.compile(r"[\s\-_.]+")


def norm_key(text: str) -> str:
    """Case-, space- and dash-insensitive key for matching messy spellings."""
    try:
        return _norm_key(text)
    except TypeError:  # unhashable: not cached
        return _norm_key.__wrapped__(text)


def map_distinct(series, fn, missing=None):
    """``series.map(fn)`` as an object Series, `fn` called once per distinct value (an export
    has a handful of answer spellings over hundreds of thousands of cells); missing → `missing`."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values = np.empty(len(uniques) + 1, dtype=object)
    for i, value in enumerate(uniques):
        values[i] = fn(value)
    values[-1] = missing
    return pd.Series(values[codes], index=series.index, dtype=object)


@lru_cache(maxsize=1 << 16, typed=True)
def _norm_key(text) -> str:
    # Cached: the cleaning step keys every answer of every respondent (≈340 000 calls), and
    # an export has few distinct spellings.
    return _SEPARATORS.sub(" ", str(text)).strip().casefold()


@dataclass(frozen=True)
class Scale:
    name: str
    labels: dict[int, str]
    short: dict[int, str]
    dont_know_code: int
    dont_know_label: str

    @property
    def codes(self) -> list[int]:
        return sorted(self.labels)

    @property
    def all_codes(self) -> list[int]:
        return [*self.codes, self.dont_know_code]

    def label_to_code(self) -> dict[str, int]:
        out = {norm_key(v): k for k, v in self.labels.items()}
        out[norm_key(self.dont_know_label)] = self.dont_know_code
        return out

    def code_to_label(self) -> dict[int, str]:
        return {**self.labels, self.dont_know_code: self.dont_know_label}


@dataclass(frozen=True)
class Variable:
    name: str            # processed column
    raw: str             # column header in the export
    scale: str | None    # scale name, or None for non-scale columns
    text: str            # question text (Norwegian, ours)
    label: str           # short Norwegian label for tables and figures
    group: str           # admin | factor | goal | question
    asked_of: tuple[str, ...] = ()
    unit_types: tuple[str, ...] = ()
    type: str = "ordinal"
    extra: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class UnitType:
    key: str
    code: int
    label: str
    line: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Codebook:
    path: Path
    scales: dict[str, Scale]
    roles: dict[str, str]                 # key -> label
    role_aliases: dict[str, str]          # normalised alias -> key
    lines: dict[str, str]
    unit_types: dict[str, UnitType]
    admin: dict[str, Variable]
    items: dict[str, Variable]            # every scale question of the 2023 survey, in order
    factors: list[str]                    # processed names of the 13 factors, in codebook order
    goal_aspects: dict[str, str]
    goal_types: dict[str, dict]
    items_2017: list[str]
    md_letters: dict
    registers: dict
    raw: dict = field(repr=False, compare=False, hash=False)

    # -- look-ups ------------------------------------------------------------------------
    def scale_of(self, name: str) -> Scale:
        var = self.items.get(name)
        if var is None or var.scale is None:
            raise KeyError(f"'{name}' er ikke et skalaspørsmål i kodeboken")
        return self.scales[var.scale]

    def unit_alias_map(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for ut in self.unit_types.values():
            for alias in (ut.label, ut.key, str(ut.code), *ut.aliases):
                out[norm_key(alias)] = ut.key
        return out

    def unit_label(self, key: str) -> str:
        return self.unit_types[key].label

    def goal_item(self, goal_type: str, aspect: str) -> str:
        return f"{self.goal_types[goal_type]['name_prefix']}{aspect}"

    def by_raw(self) -> dict[str, Variable]:
        return {v.raw: v for v in (*self.admin.values(), *self.items.values())}


def _scale(name: str, spec: dict) -> Scale:
    labels = {int(k): str(v) for k, v in spec["labels"].items()}
    short = {int(k): str(v) for k, v in spec.get("short", spec["labels"]).items()}
    dk = spec["dont_know"]
    return Scale(name, labels, short, int(dk["code"]), str(dk["label"]))


def parse_codebook(data: dict, path: Path) -> Codebook:
    try:
        scales = {k: _scale(k, v) for k, v in data["scales"].items()}
        roles = {k: v["label"] for k, v in data["roles"].items()}
        role_aliases = {}
        for key, spec in data["roles"].items():
            for alias in (key, spec["label"], *spec.get("aliases", [])):
                role_aliases[norm_key(alias)] = key
        unit_types = {
            k: UnitType(k, int(v["code"]), v["label"], v["line"], tuple(v.get("aliases", [])))
            for k, v in data["unit_types"].items()
        }
        admin = {
            k: Variable(k, v["raw"], None, v.get("text", ""), v.get("text", k), "admin",
                        type=v["type"], extra=v)
            for k, v in data["survey_admin"].items()
        }
        items: dict[str, Variable] = {}
        everyone = tuple(data["roles"])
        for key, spec in data["factors"].items():
            name = f"{data['factor_name_prefix']}{key}"
            items[name] = Variable(
                name, f"{data['factor_raw_prefix']}{spec['label']}", data["factor_scale"],
                f"{data['factor_question']} – {spec['label']}", spec["label"], "factor",
                asked_of=everyone, extra={"key": key, **spec},
            )
        factors = list(items)
        for gkey, gspec in data["goal_types"].items():
            for akey, alabel in data["goal_aspects"].items():
                name = f"{gspec['name_prefix']}{akey}"
                items[name] = Variable(
                    name, f"{gspec['raw_prefix']}{alabel}", data["goal_scale"],
                    f"{data['goal_question']} ({gspec['label']}) – {alabel}", alabel, "goal",
                    asked_of=everyone, extra={"goal_type": gkey, "aspect": akey},
                )
        for key, spec in data["questions"].items():
            items[key] = Variable(
                key, spec["raw"], spec["scale"], spec["text"], spec.get("label", spec["raw"]),
                "question", asked_of=tuple(spec.get("asked_of", everyone)),
                unit_types=tuple(spec.get("unit_types", ())), extra=spec,
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: kodeboken mangler eller har feil i {exc}") from exc
    for var in items.values():
        if var.scale not in scales:
            raise ConfigError(f"{path}: variabelen '{var.name}' viser til ukjent skala '{var.scale}'")
        unknown = set(var.asked_of) - set(roles)
        if unknown:
            raise ConfigError(f"{path}: variabelen '{var.name}' viser til ukjente roller {sorted(unknown)}")
    items_2017 = list(data["survey_2017"]["items"])
    missing = [i for i in items_2017 if i not in items]
    if missing:
        raise ConfigError(f"{path}: survey_2017.items viser til ukjente variabler {missing}")
    return Codebook(
        path=path, scales=scales, roles=roles, role_aliases=role_aliases, lines=dict(data["lines"]),
        unit_types=unit_types, admin=admin, items=items, factors=factors,
        goal_aspects=dict(data["goal_aspects"]), goal_types=dict(data["goal_types"]),
        items_2017=items_2017, md_letters=data["md_letters"], registers=data["registers"], raw=data,
    )


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Codebook:
    return parse_codebook(read_yaml(Path(path)), Path(path))


def load_codebook(path: Path | str | None = None) -> Codebook:
    path = Path(path) if path else repo_root() / "params" / "codebook.yml"
    if not path.is_file():
        raise ConfigError(f"{path}: kodeboken finnes ikke")
    return _load(str(path.resolve()), path.stat().st_mtime)
