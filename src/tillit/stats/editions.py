"""Editions: the population of one part of NAV, and the disclosure rule across editions.

An edition (params/editions.yml) is a filter on the codebook's unit types, lines and roles:
values within one key are alternatives, several keys must all hold, and no filter is the
whole of NAV. :func:`load_editions` validates the file against the codebook (pydantic),
:meth:`Edition.mask` selects the edition's respondents from the prepared survey.

Disclosure across editions (:func:`decide_editions`). Every edition is a union of *cells*:
the (unit type, role) combinations of the codebook. Whatever an edition or the whole book
publishes is a count over a set of cells (:class:`Count`): its population, a row of a table
by role, the number answering 4 on a question. A reader holding several books can add and
subtract these; :func:`bound` finds, by linear programming (``scipy.optimize.linprog``), the
smallest and largest value a hidden count can take given every published count. The rule:

* an edition whose population is below ``min_cell`` is not published;
* an edition is not published if publishing it (with the editions already accepted, in the
  order of params/editions.yml, and the whole book) narrows the feasible interval of a hidden
  count to less than ``min_cell`` – a suppressed cell of any book, the population of a
  too small edition, or a small group of cells (fewer than ``min_cell`` respondents, not
  empty) that no table shows but subtraction could isolate.

Intervals the whole book alone already narrows are the whole book's audit's finding
(issue 11), reported but not held against an edition.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Iterable, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from tillit.config import ConfigError, explain_validation, read_yaml, repo_root
from tillit.data.codebook import Codebook, load_codebook

Cell = tuple[str, str]  # (unit_type key, role key)
FILTER_KEYS = ("unit_type", "line", "role")
#: The codebook section each filter key is checked against, and its Norwegian name.
_FILTER_SOURCES = {"unit_type": ("unit_types", "enhetstype"), "line": ("lines", "linje"),
                   "role": ("roles", "rolle")}
POPULATION = "n"
#: Where the editions' books go, inside the main output_dir: <output_dir>/editions/<key>/.
EDITIONS_DIR = "editions"


# --------------------------------------------------------------------------------------
# params/editions.yml
# --------------------------------------------------------------------------------------
class EditionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    short: str = Field(min_length=1)
    staff: str = Field(min_length=1)
    where: str = ""
    unit_type: list[str] = Field(default_factory=list)
    line: list[str] = Field(default_factory=list)
    role: list[str] = Field(default_factory=list)

    @field_validator("unit_type", "line", "role")
    @classmethod
    def _known(cls, values: list[str], info: ValidationInfo) -> list[str]:
        codebook: Codebook | None = (info.context or {}).get("codebook")
        if len(set(values)) != len(values):
            raise ValueError(f"{values} nevner samme verdi flere ganger")
        if codebook is not None:
            section, noun = _FILTER_SOURCES[info.field_name]
            known = list(getattr(codebook, section))
            unknown = [v for v in values if v not in known]
            if unknown:
                raise ValueError(f"ukjent {noun} {unknown}; kodeboken har {', '.join(known)}")
        return values


class EditionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: str
    editions: dict[str, EditionSpec] = Field(min_length=1)

    @field_validator("editions")
    @classmethod
    def _names(cls, editions: dict[str, EditionSpec]) -> dict[str, EditionSpec]:
        for name in editions:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
                raise ValueError(f"utgavenavnet '{name}' må være små bokstaver a–z, sifre og _ "
                                 "(det blir et mappenavn), høyst 40 tegn")
        return editions


@dataclass(frozen=True)
class Edition:
    key: str
    title: str
    short: str
    staff: str
    where: str = ""
    unit_type: tuple[str, ...] = ()
    line: tuple[str, ...] = ()
    role: tuple[str, ...] = ()

    @property
    def is_whole(self) -> bool:
        return not (self.unit_type or self.line or self.role)

    def filters(self) -> dict[str, tuple[str, ...]]:
        return {k: getattr(self, k) for k in FILTER_KEYS if getattr(self, k)}

    def mask(self, df: pd.DataFrame) -> pd.Series:
        """True for the respondents of this edition (columns unit_type, line, role)."""
        keep = pd.Series(True, index=df.index)
        for key, values in self.filters().items():
            if key not in df.columns:
                raise ConfigError(f"utgaven '{self.key}' filtrerer på '{key}', men dataene har ingen slik kolonne")
            keep &= df[key].astype("object").isin(values)
        return keep

    def select(self, df: pd.DataFrame) -> pd.DataFrame:
        return df if self.is_whole else df[self.mask(df)]

    def cells(self, codebook: Codebook) -> frozenset[Cell]:
        """The (unit type, role) cells this edition is made of."""
        out = set()
        for ut, role in product(codebook.unit_types.values(), codebook.roles):
            if ((not self.unit_type or ut.key in self.unit_type) and (not self.line or ut.line in self.line)
                    and (not self.role or role in self.role)):
                out.add((ut.key, role))
        return frozenset(out)

    def describe(self, codebook: Codebook) -> str:
        """The filter in words: 'enhetstype NAV-kontor og rolle Leder'."""
        labels = {"unit_type": lambda k: codebook.unit_types[k].label, "line": codebook.lines.get,
                  "role": codebook.roles.get}
        parts = [f"{_FILTER_SOURCES[k][1]} {' eller '.join(labels[k](v) for v in vals)}"
                 for k, vals in self.filters().items()]
        return " og ".join(parts) or "alle respondentene"


@dataclass(frozen=True)
class Editions:
    path: Path
    default: str
    editions: dict[str, Edition]

    def names(self) -> list[str]:
        return list(self.editions)

    def get(self, name: str) -> Edition:
        if name not in self.editions:
            raise ConfigError(f"{self.path}: ukjent utgave '{name}' (kjente: {', '.join(self.editions)})")
        return self.editions[name]

    @property
    def whole(self) -> Edition:
        return self.editions[self.default]

    def others(self) -> list[Edition]:
        return [e for k, e in self.editions.items() if k != self.default]


def parse_editions(data, path: Path, codebook: Codebook) -> Editions:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: forventet en tabell med 'default' og 'editions'")
    try:
        spec = EditionsFile.model_validate(data, context={"codebook": codebook})
    except ValidationError as exc:
        raise ConfigError(explain_validation(path, exc, "ugyldige utgaver",
                                             ["default", "editions", *EditionSpec.model_fields])) from None
    editions = {k: Edition(k, s.title, s.short, s.staff, s.where, tuple(s.unit_type), tuple(s.line), tuple(s.role))
                for k, s in spec.editions.items()}
    if spec.default not in editions:
        raise ConfigError(f"{path}: default '{spec.default}' er ikke en av utgavene ({', '.join(editions)})")
    if not editions[spec.default].is_whole:
        raise ConfigError(f"{path}: standardutgaven '{spec.default}' må være hele NAV (uten filter)")
    seen: dict[frozenset, str] = {}
    for key, ed in editions.items():
        cells = ed.cells(codebook)
        if not cells:
            raise ConfigError(f"{path}: utgaven '{key}' ({ed.describe(codebook)}) passer ingen enhet i "
                              "kodeboken; filtrene utelukker hverandre")
        if cells in seen:
            raise ConfigError(f"{path}: utgavene '{seen[cells]}' og '{key}' har samme populasjon; "
                              "behold én av dem")
        seen[cells] = key
    return Editions(path, spec.default, editions)


@lru_cache(maxsize=8)
def _load(path: str, mtime: float, codebook_path: str, codebook_mtime: float) -> Editions:
    return parse_editions(read_yaml(Path(path)), Path(path), load_codebook(codebook_path))


def load_editions(path: Path | str | None = None, codebook: Path | str | None = None,
                  root: Path | None = None) -> Editions:
    """params/editions.yml, validated against params/codebook.yml (cached per file version)."""
    root = root or repo_root()
    path = Path(path) if path else root / "params" / "editions.yml"
    cb_path = Path(codebook) if codebook else root / "params" / "codebook.yml"
    for p in (path, cb_path):
        if not p.is_file():
            raise ConfigError(f"{p}: filen finnes ikke")
    return _load(str(path.resolve()), path.stat().st_mtime, str(cb_path.resolve()), cb_path.stat().st_mtime)


# --------------------------------------------------------------------------------------
# Counts over cells, and their bounds
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Count:
    """One count a book publishes (``value``) or hides (``value=None``).

    ``measure`` is what is counted: :data:`POPULATION` ("n") for respondents, else
    "<item>=<category>" (e.g. "trust_hindrance=4"). ``cells`` are the (unit type, role)
    cells whose respondents it counts. A count rebuilt from a rounded share is known only
    within ``± tolerance``.
    """

    scope: str
    table: str
    label: str
    measure: str
    cells: frozenset[Cell]
    value: float | None
    tolerance: float = 0.0

    @property
    def hidden(self) -> bool:
        return self.value is None

    @property
    def question(self) -> str:
        return self.measure.split("=", 1)[0]


@dataclass(frozen=True)
class Breach:
    """A hidden count that the published counts pin down to an interval narrower than min_cell."""

    target: Count
    low: float
    high: float

    def describe(self) -> str:
        where = f"{self.target.table} ({self.target.scope})" if self.target.table else self.target.scope
        return (f"«{self.target.label}» i {where} kan regnes ut innenfor et intervall på "
                f"{self.high - self.low:.1f} av de publiserte tallene")


def _lp_bounds(published: list[Count], targets: list[Count]) -> list[tuple[float, float]]:
    """min and max of each target over every non-negative count vector that reproduces `published`.

    Variables are x[cell, measure] for one question at a time plus the population n; a
    cell's counts over one question's categories cannot exceed its population.
    """
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    measures = sorted({c.measure for c in (*published, *targets)} | {POPULATION})
    cells = sorted(set().union(*(c.cells for c in (*published, *targets))))
    col = {(cell, m): i for i, (cell, m) in enumerate(product(cells, measures))}
    n_var = len(col)

    def row(count: Count) -> dict[int, float]:
        return {col[(cell, count.measure)]: 1.0 for cell in count.cells}

    eq_rows, eq_b, ub_rows, ub_b = [], [], [], []
    for c in published:
        r = row(c)
        if c.tolerance > 0:
            ub_rows += [r, {k: -v for k, v in r.items()}]
            ub_b += [c.value + c.tolerance, -(c.value - c.tolerance)]
        else:
            eq_rows.append(r)
            eq_b.append(c.value)
    questions = {m.split("=", 1)[0] for m in measures if m != POPULATION}
    for q, cell in product(sorted(questions), cells):
        r = {col[(cell, m)]: 1.0 for m in measures if m != POPULATION and m.split("=", 1)[0] == q}
        r[col[(cell, POPULATION)]] = -1.0
        ub_rows.append(r)
        ub_b.append(0.0)

    def matrix(rows: list[dict[int, float]]):
        if not rows:
            return None
        i = [k for k, r in enumerate(rows) for _ in r]
        j = [c for r in rows for c in r]
        v = [x for r in rows for x in r.values()]
        return coo_matrix((v, (i, j)), shape=(len(rows), n_var)).tocsr()

    a_eq, a_ub = matrix(eq_rows), matrix(ub_rows)
    out = []
    for t in targets:
        obj = np.zeros(n_var)
        for k in row(t):
            obj[k] = 1.0
        ends = []
        for sign in (1.0, -1.0):
            res = linprog(sign * obj, A_ub=a_ub, b_ub=ub_b or None, A_eq=a_eq, b_eq=eq_b or None,
                          bounds=(0, None), method="highs")
            if res.status == 2:
                raise ValueError("de publiserte tallene motsier hverandre (ingen løsning finnes)")
            ends.append(np.inf if res.status == 3 else sign * res.fun)
        out.append((ends[0], ends[1]))
    return out


def bound(published: Iterable[Count], targets: Iterable[Count]) -> list[tuple[float, float]]:
    """Feasible (low, high) of each target count given the published counts (LP relaxation).

    Questions are independent given the populations, so each target is bounded in the
    sub-problem of its own question and the population counts.
    """
    published = [c for c in published if not c.hidden]
    targets = list(targets)
    out: list[tuple[float, float] | None] = [None] * len(targets)
    by_question: dict[str, list[int]] = {}
    for i, t in enumerate(targets):
        by_question.setdefault(t.question, []).append(i)
    for q, idx in by_question.items():
        sub = [c for c in published if c.measure == POPULATION or c.question == q]
        for i, b in zip(idx, _lp_bounds(sub, [targets[i] for i in idx])):
            out[i] = b
    return out  # type: ignore[return-value]


def small_cells(cell_counts: dict[Cell, int], min_cell: int) -> list[Cell]:
    """Cells with 1 … min_cell-1 respondents: groups that must never be isolated."""
    return [c for c, n in sorted(cell_counts.items()) if 0 < n < min_cell]


def find_breaches(published: Iterable[Count], min_cell: int, *, extra_targets: Iterable[Count] = (),
                  measures: set[str] | None = None) -> list[Breach]:
    """Every hidden count (in `published`, plus `extra_targets`) whose interval is < min_cell.

    `measures`: only targets whose bounds these measures' counts can move (a new edition's
    counts move their own measures', and populations move the answer counts')."""
    published = list(published)
    targets: dict[tuple, Count] = {}
    for t in [*(c for c in published if c.hidden), *extra_targets]:
        if measures is not None and t.measure not in measures and not (POPULATION in measures and "=" in t.measure):
            continue
        targets.setdefault((t.measure, t.cells), t)  # the same count hidden in several books: once
    if not targets:
        return []
    found = []
    for t, (lo, hi) in zip(targets.values(), bound(published, targets.values())):
        if hi - lo < min_cell - 1e-9:
            found.append(Breach(t, lo, hi))
    return found


# --------------------------------------------------------------------------------------
# The audit of every book together (tillit.stats.audit's model, over several books)
# --------------------------------------------------------------------------------------
def audit_books(books: list[tuple[str, Path, frozenset[Cell]]], min_cell: int, codebook: Codebook):
    """tillit.stats.audit over several books at once: each book's registered rows are counts
    over the cells of the respondents they were computed on (the register's `universe`; a row
    without one is taken to count within its edition), so what one book hides is bounded by
    what every book publishes. `books`: (edition key, output folder, the edition's cells).
    Returns the audit's result; table ids carry the edition ("nks:04_hovedfunn/fig-…")."""
    import copy

    from tillit.stats import audit

    regs = []
    for key, out_dir, cells in books:
        for reg in audit._registers(Path(out_dir)):
            reg = copy.deepcopy(reg)
            reg["table_id"] = f"{key}:{reg['table_id']}"
            for row in reg["rows"]:
                src = row.get("source")
                if src is None:
                    continue
                if src.get("universe") is None:  # else the register knows whose answers it counts
                    src["universe"] = [list(c) for c in sorted(cells)]
            regs.append(reg)
    result = audit.AuditResult(min_cell=int(min_cell), tables=len(regs))
    if not regs:
        return result
    model = audit.Model(codebook)
    audit._add_registers(model, regs, audit.AuditResult(min_cell=int(min_cell)))  # planning pass
    model.freeze()
    targets = audit._add_registers(model, regs, result)
    result.suppressed = len(targets)
    for (finding, _), (low, high) in zip(targets, audit._bounds(model, [t for _, t in targets]) if targets else []):
        width = high - low
        result.narrowest = width if result.narrowest is None else min(result.narrowest, width)
        if width < min_cell - 1e-6:
            finding.reason = f"kan regnes ut fra publiserte tall innenfor et intervall smalere enn {min_cell}"
            result.violations.append(finding)
    return result


# --------------------------------------------------------------------------------------
# The rule
# --------------------------------------------------------------------------------------
Status = Literal["publish", "too_small", "withheld"]


@dataclass
class Decision:
    edition: str
    status: Status
    reason: str = ""
    breaches: list[Breach] = field(default_factory=list)
    findings: list = field(default_factory=list)   # tillit.stats.audit.Finding, from audit_editions

    @property
    def published(self) -> bool:
        return self.status == "publish"


def cell_counts(df: pd.DataFrame, codebook: Codebook) -> dict[Cell, int]:
    """Respondents per (unit type, role) cell of the codebook (zeros included): the cell sizes
    the gate's sub-population rule uses (tillit.stats.outside), so the two rules count alike."""
    from tillit.stats.outside import cell_populations

    return cell_populations(df, codebook)


def population_counts(editions: Editions, cells: dict[Cell, int], codebook: Codebook) -> dict[str, Count]:
    """Each edition's population as a :class:`Count` (value = its number of respondents)."""
    out = {}
    for ed in editions.editions.values():
        members = ed.cells(codebook)
        out[ed.key] = Count(ed.key, "populasjon", f"alle i utgaven {ed.title}", POPULATION, members,
                            float(sum(cells.get(c, 0) for c in members)))
    return out


def _group_targets(cells: dict[Cell, int], min_cell: int, codebook: Codebook) -> list[Count]:
    out = []
    for cell in small_cells(cells, min_cell):
        ut, role = cell
        label = f"{codebook.unit_types[ut].label}, {codebook.roles[role]}"
        out.append(Count("", "", label, POPULATION, frozenset([cell]), None))
    return out


def decide_editions(
    editions: Editions,
    codebook: Codebook,
    cells: dict[Cell, int],
    min_cell: int,
    published: dict[str, list[Count]] | None = None,
) -> dict[str, Decision]:
    """Which editions may be published (the rule in the module docstring).

    `cells`: respondents per (unit type, role) cell, from the data. `published`: what each
    edition's book publishes beyond its population, keyed by edition (the default edition's
    entry is the whole book); without it only populations are weighed. Editions are
    considered in file order; the whole book is always the baseline.
    """
    published = published or {}
    pops = population_counts(editions, cells, codebook)
    whole = [pops[editions.default], *published.get(editions.default, [])]
    groups = _group_targets(cells, min_cell, codebook)
    # A hidden count the whole book alone already pins down is its own audit's finding.
    baseline = {(b.target.measure, b.target.cells) for b in find_breaches(whole, min_cell, extra_targets=groups)}
    decisions = {editions.default: Decision(editions.default, "publish")}
    accepted = list(whole)
    too_small: list[Count] = []  # their populations stay hidden too
    for ed in editions.others():
        pop = pops[ed.key]
        if pop.value < min_cell:
            decisions[ed.key] = Decision(ed.key, "too_small",
                                         f"færre enn {min_cell} respondenter i utgaven")
            if pop.value > 0:  # an empty edition hides nobody
                too_small.append(Count(ed.key, "populasjon", f"alle i utgaven {ed.title}", POPULATION,
                                       pop.cells, None))
            continue
        own = [pop, *published.get(ed.key, [])]
        candidate = [*accepted, *own]
        new = [b for b in find_breaches(candidate, min_cell, extra_targets=[*groups, *too_small],
                                        measures={c.measure for c in own})
               if (b.target.measure, b.target.cells) not in baseline]
        if new:
            decisions[ed.key] = Decision(ed.key, "withheld", WITHHELD, new)
        else:
            decisions[ed.key] = Decision(ed.key, "publish")
            accepted = candidate
    return decisions


WITHHELD = "utgaven ville sammen med de andre gjort det mulig å regne ut en skjult gruppe ved subtraksjon"


def audit_editions(editions: Editions, codebook: Codebook, min_cell: int, built: dict[str, Path]) -> dict[str, Decision]:
    """The rule over what the books on disk publish: the whole book (`built[default]`) and
    every built edition, together, with tillit.stats.audit's model (:func:`audit_books`). If
    all of them together give nothing away beyond what the whole book alone does, all are
    published; otherwise editions are added in file order and one that gives a hidden count
    away is withheld (its findings say which)."""
    def book(k: str):
        return k, built[k], editions.get(k).cells(codebook)

    def key_of(f) -> tuple:
        return f.table_id, f.row, f.quantity

    whole = editions.default
    baseline = {key_of(f) for f in audit_books([book(whole)], min_cell, codebook).violations}
    others = [e.key for e in editions.others() if e.key in built]
    decisions = {k: Decision(k, "publish") for k in [whole, *others]}
    together = audit_books([book(k) for k in [whole, *others]], min_cell, codebook)
    if not [f for f in together.violations if key_of(f) not in baseline]:
        return decisions
    accepted = [whole]
    for k in others:
        new = [f for f in audit_books([book(x) for x in [*accepted, k]], min_cell, codebook).violations
               if key_of(f) not in baseline]
        if new:
            decisions[k] = Decision(k, "withheld", WITHHELD, findings=new)
        else:
            accepted.append(k)
    return decisions
