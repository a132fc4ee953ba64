"""The disclosure audit: can any suppressed count be recovered from what is published?

After every build the audit collects every number published about respondents and bounds
every suppressed count by linear programming (``scipy.optimize.linprog``, HiGHS) over all of
them at once. The build fails if a suppressed count's feasible interval is narrower than
``min_cell`` (unless the published numbers prove the count is at least ``min_cell``: then it
is no small group), or if a count below ``min_cell`` can be pinned down from published numbers.

What is collected:

* the gate's register of every gated table, figure and figure-data CSV
  (``<output_dir>/disclosure/**.json``, see tillit.stats.register): what each row counts and
  the counts it publishes (``n``, "Vet ikke", and the count behind every published share);
* the published CSVs (``<output_dir>/tables/**.csv``): a count column in a gated table's CSV
  that the gate did not publish (a "Vet ikke" count merged in after the gate) is a finding;
  CSVs that never went through the gate are listed;
* the reproduction ledger (``tbl-regnskap.csv`` with ``params/published.yml``): counts and
  shares of survey groups, as rounded where printed.

The model: unknowns are the number of respondents in each cell of unit type × role, and for
each question the number in each cell giving each answer ("Vet ikke" included), or none (not
answered: unknown, at least 0; not asked, per the codebook: 0). Every published count is an
equality; every published share is an interval (its rounding) times its denominator. Means
and intervals are not linear in the counts and are not used.
"""
from __future__ import annotations

import json
import re
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

# The result types and their file; tillit.stats.audit's names stay for its callers.
from tillit.stats.audit_result import (AUDIT_NAME, AuditError, AuditResult, Finding,  # noqa: F401
                                       read_result, write_result)

REGISTER_DIR = "disclosure"
DK_LABEL = "Vet ikke"
EXACT = 1e-9  # a share in a register is the gate's float: as good as exact
# The respondents the response profile and the ledger describe; a source that does not say
# which survey it counts is taken to be about them (the cautious choice).
MAIN_POPULATION = "survey_2023"
GROUP_DIMS = ("unit_type", "role", "line")


# --------------------------------------------------------------------------------------
# The model: variables for cells of unit type × role, and per question per answer
# --------------------------------------------------------------------------------------
class Model:
    def __init__(self, codebook):
        self.cb = codebook
        self.cells = [(u, r) for u in codebook.unit_types for r in codebook.roles]
        self.index: dict[tuple, int] = {}
        self.planning = True
        self.sets: dict[str, set[frozenset]] = {}
        self.atoms: dict[str, list[frozenset]] = {}
        self.eq_rows: list[dict[int, float]] = []
        self.eq_rhs: list[float] = []
        self.eq_tags: list[str | None] = []  # the table an equality comes from (None: identities)
        self.ub_rows: list[dict[int, float]] = []
        self.ub_rhs: list[float] = []

    def _var(self, key: tuple) -> int:
        if key not in self.index:
            self.index[key] = len(self.index)
        return self.index[key]

    def asked(self, item: str) -> list[tuple[str, str]]:
        var = self.cb.items[item]
        roles = set(var.asked_of or self.cb.roles)
        units = set(var.unit_types or self.cb.unit_types)
        return [d for d in self.cells if d[1] in roles and d[0] in units]

    def item(self, item: str) -> list[str]:
        """The answer categories of `item` ("1".."5", "Vet ikke")."""
        if item not in self.cb.items:
            raise AuditError(f"ukjent spørsmål '{item}' i registeret (ikke i kodeboken)")
        return [str(c) for c in self.cb.scale_of(item).codes] + [DK_LABEL]

    def pop(self, population: str, d: tuple[str, str]) -> int:
        """The variable for the number of respondents of `population` in cell `d`."""
        return self._var(("pop", population, d))

    def freeze(self) -> None:
        """After the planning pass: split each question's asked cells into atoms (cells that
        every published group either holds all of or none of), and create the variables and
        the identity answered + not answered = respondents per atom. Within an atom nothing
        published tells the cells apart, so one variable per answer suffices."""
        self.planning = False
        for (population, item), sets in sorted(self.sets.items()):
            cats = self.item(item)
            asked = self.asked(item)
            signature: dict[tuple, list] = {}
            for d in asked:
                key = tuple(d in cells for cells in sorted(sets, key=sorted))
                signature.setdefault(key, []).append(d)
            atoms = [frozenset(v) for v in signature.values()]
            self.atoms[(population, item)] = atoms
            for atom in atoms:
                row = {self._var(("a", population, item, atom, c)): 1.0 for c in cats}
                row[self._var(("na", population, item, atom))] = 1.0
                for d in atom:
                    row[self.pop(population, d)] = -1.0
                self.eq_rows.append(row)
                self.eq_rhs.append(0.0)
                self.eq_tags.append(None)

    def matches(self, d: tuple[str, str], group: dict, universe) -> bool:
        if universe is not None and d not in universe:
            return False
        unit, role = d
        for dim, want in group.items():
            wants = {str(w) for w in want} if isinstance(want, (list, tuple, set)) else {str(want)}
            have = {"unit_type": unit, "role": role,
                    "line": self.cb.unit_types[unit].line if unit in self.cb.unit_types else None}.get(dim)
            if have is None or have not in wants:
                return False
        return True

    def expr(self, src: dict, quantity: str) -> dict[int, float]:
        """A quantity of a row as {variable: coefficient}: "n" (the row's denominator),
        "k" (the share's numerator), a category count ("1".."5", "Vet ikke"), or "count"."""
        group = src.get("group") or {}
        universe = src.get("universe")
        universe = {tuple(c) for c in universe} if universe is not None else None
        population = src.get("population") or MAIN_POPULATION
        if src.get("item") is None or src.get("measure") == "count":
            if self.planning:
                return {}
            return {self.pop(population, d): 1.0 for d in self.cells if self.matches(d, group, universe)}
        item = src["item"]
        cats = self.item(item)
        if quantity == "n":
            if src.get("measure") == "mean" or src.get("denominator") == "answered":
                wanted = [c for c in cats if c != DK_LABEL]
            else:
                wanted = cats
        elif quantity == "k":
            wanted = [str(c) for c in src.get("codes") or []]
        elif quantity == "dont_know":
            wanted = [DK_LABEL]
        else:
            wanted = [quantity]
        cells = frozenset(d for d in self.asked(item) if self.matches(d, group, universe))
        if self.planning:
            self.sets.setdefault((population, item), set()).add(cells)
            return {}
        out: dict[int, float] = {}
        for atom in self.atoms[(population, item)]:
            if atom <= cells:
                for c in wanted:
                    out[self._var(("a", population, item, atom, c))] = 1.0
        return out

    def equal(self, expr: dict[int, float], value: float, tag: str | None = None) -> None:
        if self.planning:
            return
        self.eq_rows.append(expr)
        self.eq_rhs.append(float(value))
        self.eq_tags.append(tag)

    def share_between(self, num: dict[int, float], den: dict[int, float], lo: float, hi: float) -> None:
        """lo·den ≤ num ≤ hi·den."""
        if self.planning:
            return
        row = dict(num)
        for k, v in den.items():
            row[k] = row.get(k, 0.0) - hi * v
        self.ub_rows.append(row)
        self.ub_rhs.append(0.0)
        row = {k: -v for k, v in num.items()}
        for k, v in den.items():
            row[k] = row.get(k, 0.0) + lo * v
        self.ub_rows.append(row)
        self.ub_rhs.append(0.0)

    def matrices(self):
        from scipy.sparse import csr_matrix

        n = len(self.index)

        def build(rows):
            data, ri, ci = [], [], []
            for i, row in enumerate(rows):
                for j, v in row.items():
                    ri.append(i)
                    ci.append(j)
                    data.append(v)
            return csr_matrix((data, (ri, ci)), shape=(len(rows), n))

        a_eq = build(self.eq_rows) if self.eq_rows else None
        a_ub = build(self.ub_rows) if self.ub_rows else None
        return n, a_eq, np.array(self.eq_rhs), a_ub, np.array(self.ub_rhs)


def _bounds(model: Model, targets: list[dict[int, float]], *, low_only: int = 0) -> list[tuple[float, float]]:
    """min and max of each target over the published numbers (HiGHS); for the last
    `low_only` targets the min alone (max is then inf). Identical targets are solved once."""
    from scipy.optimize import linprog

    n, a_eq, b_eq, a_ub, b_ub = model.matrices()
    kwargs = dict(A_eq=a_eq, b_eq=b_eq if a_eq is not None else None, A_ub=a_ub,
                  b_ub=b_ub if a_ub is not None else None, bounds=(0, None), method="highs")
    probe = linprog(np.zeros(n), **kwargs)
    if probe.status == 2:
        raise AuditError("de publiserte tallene motsier hverandre (ingen løsning finnes): "
                         + ", ".join(_inconsistent(model)) + " beskriver ikke det de teller riktig "
                         "(et filter på svarene? lag tabellen med tillit.stats.tables på hele gruppen)")
    solved: dict[tuple, tuple[float, float]] = {}
    out = []
    for i, target in enumerate(targets):
        both = i < len(targets) - low_only
        key = (tuple(sorted(target.items())), both)
        if key not in solved:
            c = np.zeros(n)
            for j, v in target.items():
                c[j] = v
            lo = linprog(c, **kwargs)
            low = lo.fun if lo.status == 0 else 0.0
            high = float("inf")
            if both:
                hi = linprog(-c, **kwargs)
                high = -hi.fun if hi.status == 0 else float("inf")
            solved[key] = (low, high)
        out.append(solved[key])
    return out


def _inconsistent(model: Model) -> list[str]:
    """The tables whose equalities cannot all hold: the same problem with a slack on every
    published equality, the total slack minimised; tables with slack left are named."""
    from scipy.optimize import linprog
    from scipy.sparse import hstack

    n, a_eq, b_eq, a_ub, b_ub = model.matrices()
    tagged = [i for i, t in enumerate(model.eq_tags) if t is not None]
    m = a_eq.shape[0]
    pick = np.zeros((m, len(tagged)))
    for k, i in enumerate(tagged):
        pick[i, k] = 1.0
    a = hstack([a_eq, pick, -pick]).tocsr()
    c = np.concatenate([np.zeros(n), np.ones(2 * len(tagged))])
    ub = hstack([a_ub, np.zeros((a_ub.shape[0], 2 * len(tagged)))]).tocsr() if a_ub is not None else None
    res = linprog(c, A_eq=a, b_eq=b_eq, A_ub=ub, b_ub=b_ub if ub is not None else None, bounds=(0, None),
                  method="highs")
    if res.status != 0:
        return ["(ukjent tabell)"]
    slack = res.x[n:n + len(tagged)] + res.x[n + len(tagged):]
    return sorted({model.eq_tags[tagged[k]] for k in np.nonzero(slack > 1e-6)[0]}) or ["(ukjent tabell)"]



# --------------------------------------------------------------------------------------
# Collecting what is published
# --------------------------------------------------------------------------------------
def _registers(out_dir: Path) -> list[dict]:
    regs = []
    for path in sorted((out_dir / REGISTER_DIR).rglob("*.json")):
        try:
            reg = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise AuditError(f"{path}: registeret kan ikke leses ({exc})") from None
        if isinstance(reg, dict) and "rows" in reg and "table_id" in reg:
            regs.append(reg)
    return regs


QUANTITIES = ("n", "dont_know", "k")


def _row_quantities(row: dict) -> list[tuple[str, int | None]]:
    out = [(q, row[q]) for q in QUANTITIES if q in row]
    for cat, value in (row.get("counts") or {}).items():
        out.append((cat, value))
    return out


def _add_registers(model: Model, regs: list[dict], result: AuditResult) -> list[tuple[Finding, dict]]:
    """Published quantities become equalities; suppressed ones are returned as targets."""
    targets: list[tuple[Finding, dict]] = []
    min_cell = result.min_cell
    for reg in regs:
        table = reg["table_id"]
        rows = reg["rows"]
        for row in rows:
            if "total_of" in row:
                parts = [rows[i].get("source") for i in row["total_of"]]
                if any(p is None for p in parts):
                    src_exprs = None
                else:
                    src_exprs = parts
            else:
                src_exprs = [row.get("source")] if row.get("source") is not None else None
            unsupported = [d for src in (src_exprs or []) for d in (src.get("group") or {}) if d not in GROUP_DIMS]
            if unsupported:
                result.unaudited.append(Finding(table, row["label"], "hele raden",
                                                f"gruppert på «{unsupported[0]}», som revisjonen ikke kan modellere "
                                                "(bare enhetstype, rolle og linje)"))
                continue
            for quantity, value in _row_quantities(row):
                if src_exprs is None and value is None and quantity in PROTECTED and _known(row.get("candidates")):
                    # Two aggregates fit the row: a hidden count must be safe whichever it is.
                    for src in row["candidates"]:
                        targets.append((Finding(table, row["label"], _qlabel(quantity), ""),
                                        model.expr(src, quantity)))
                    continue
                if src_exprs is None:
                    if value is None or (quantity in ("n", "dont_know", DK_LABEL) and value < min_cell):
                        result.unaudited.append(Finding(table, row["label"], _qlabel(quantity),
                                                        "kilden er ukjent, så tallet kan ikke revideres "
                                                        "(lag tabellen med tillit.stats.tables)"))
                    continue
                expr: dict[int, float] = {}
                for src in src_exprs:
                    for k, v in model.expr(src, quantity).items():
                        expr[k] = expr.get(k, 0.0) + v
                if value is None:
                    # Bounded: the counts the rule protects (a group's size, its "Vet ikke",
                    # a cell of a counts table). A hidden share of another answer is no count
                    # of a group; it is an unknown like any other.
                    if quantity in PROTECTED:
                        targets.append((Finding(table, row["label"], _qlabel(quantity), ""), expr))
                    continue
                model.equal(expr, value, table)
                result.equations += 1
                # A group's size and its "Vet ikke" count must be at least min_cell (other
                # answer categories may be small: the rule is about groups, not cells).
                if quantity in PROTECTED and value < min_cell:
                    result.violations.append(Finding(table, row["label"], _qlabel(quantity),
                                                     "publisert tall under min_cell"))
    return targets


PROTECTED = ("n", "dont_know", DK_LABEL)


def _known(candidates) -> bool:
    """Candidate sources the model can express (grouped by unit type, role or line only)."""
    return bool(candidates) and all(
        isinstance(c, dict) and all(d in GROUP_DIMS for d in (c.get("group") or {})) for c in candidates)


def _qlabel(quantity: str) -> str:
    return {"n": "antall svar (n)", "dont_know": "antall «Vet ikke»", "k": "antall i andelen",
            DK_LABEL: "antall «Vet ikke»", "count": "antall"}.get(quantity, f"antall som svarte {quantity}")


COUNT_NAMES = re.compile(r"^(n|n_.*|k|dont_know|antall.*)$", re.IGNORECASE)


def _count_key(column: str, headers: dict[str, str]) -> str | None:
    """The quantity a CSV column holds ("n", "k", "dont_know"), by its machine name or the
    reader's header the book gives it (tillit.book.downloads.HEADERS, passed by the build);
    None for a column that is not a count."""
    readers = {headers.get(q, q): q for q in QUANTITIES}
    name = str(column)
    if name in readers:
        return readers[name]
    if name in QUANTITIES:
        return name
    if name.startswith("n_"):
        return "n"
    return "n" if COUNT_NAMES.match(name) else None


def _check_csvs(out_dir: Path, regs: list[dict], result: AuditResult, skip: tuple[str, ...] = (),
                headers: dict[str, str] | None = None) -> None:
    """Every count column of a gated table's CSV must be one the gate published."""
    headers = headers or {}
    by_id = {r["table_id"]: r for r in regs}
    everywhere = {q: {float(v) for r in regs for row in r["rows"] for qq, v in _row_quantities(row)
                      if qq == q and v is not None} for q in QUANTITIES}
    tables = out_dir / "tables"
    for path in sorted(tables.rglob("*.csv")) if tables.is_dir() else []:
        table_id = path.relative_to(tables).with_suffix("").as_posix()
        if table_id.split("/")[0] in skip:
            continue
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError):
            continue
        counts = [c for c in frame.columns if _count_key(c, headers) is not None]
        reg = by_id.get(table_id)
        if reg is None:
            # Not gated itself: fine if every count in it is one the gate published elsewhere
            # (e.g. a ranking table built from a gated figure); listed otherwise.
            for col in counts:
                key = _count_key(col, headers)
                values = pd.to_numeric(frame[col], errors="coerce").dropna()
                if any(float(v) not in everywhere.get(key, set()) for v in values):
                    result.outside_gate.append(table_id)
                    break
            continue
        published = {q: {v for row in reg["rows"] for qq, v in _row_quantities(row) if qq == q and v is not None}
                     for q in QUANTITIES}
        for col in counts:
            key = _count_key(col, headers)
            allowed = {float(a) for a in published.get(key, set())}
            values = pd.to_numeric(frame[col], errors="coerce")
            stray = [i for i, v in enumerate(values) if not pd.isna(v) and float(v) not in allowed]
            if stray:
                small = any(float(values.iloc[i]) < result.min_cell for i in stray)
                result.violations.append(Finding(
                    table_id, str(frame.iloc[stray[0], 0]), f"kolonnen «{col}»",
                    "tallene gikk ikke gjennom porten" + (" (og noen er under min_cell)" if small else "")))


_NUM = re.compile(r"(-?\d[\d  ]*(?:,\d+)?)\s*%")


def _add_ledger(model: Model, out_dir: Path, published_yml: Path | None, result: AuditResult,
                headers: dict[str, str] | None = None) -> list:
    """Shares and counts of survey groups in the ledger, as rounded where printed. Returns,
    per share, the group's size, which must be shown to be at least min_cell."""
    groups: list[tuple[Finding, dict]] = []
    if published_yml is None or not published_yml.is_file():
        return groups
    ledgers = sorted((out_dir / "tables").rglob("tbl-regnskap.csv")) if (out_dir / "tables").is_dir() else []
    if not ledgers:
        return groups
    specs = _ledger_specs(str(published_yml), published_yml.stat().st_mtime_ns)
    ledger = pd.read_csv(ledgers[0], dtype=str, keep_default_na=False)
    headers = headers or {}
    # The ledger's columns under their machine names (the book gives readers Norwegian ones).
    ledger = ledger.rename(columns={headers.get(k, k): k for k in ("id", "recomputed")})
    if "id" not in ledger.columns or "recomputed" not in ledger.columns:
        raise AuditError(f"{ledgers[0]}: finner ikke kolonnene id og recomputed (eller {headers.get('id')}, "
                         f"{headers.get('recomputed')}); regnskapet kan ikke revideres")
    for rec in ledger.to_dict("records"):
        spec = specs.get(rec.get("id"))
        if not spec or spec.get("table", "survey_2023") != "survey_2023":
            continue
        shares = _shares_in(spec)
        printed = _NUM.findall(rec.get("recomputed", ""))
        if spec.get("kind") == "count" and not spec.get("filter"):
            digits = re.sub(r"\D", "", rec.get("recomputed", ""))
            if digits:
                model.equal(model.expr({"item": None, "group": {}, "universe": None}, "count"), int(digits),
                            "regnskapet")
                result.equations += 1
            continue
        if not shares or len(printed) < len(shares):
            continue
        for s, text in zip(shares, printed):
            if s.get("var") not in model.cb.items:
                continue
            value = float(text.replace(" ", "").replace(" ", "").replace(",", "."))
            decimals = len(text.split(",")[1]) if "," in text else 0
            half = 0.5 * 10 ** (-decimals) / 100
            src = {"item": s["var"], "group": s.get("filter") or {}, "universe": None,
                   "codes": s.get("codes", []), "denominator": s.get("denominator", "all"), "measure": "share"}
            den = model.expr(src, "n")
            model.share_between(model.expr(src, "k"), den, max(value / 100 - half, 0.0), min(value / 100 + half, 1.0))
            result.equations += 1
            groups.append((Finding("regnskapet", rec["id"], "antall bak andelen", ""), den))
    return groups


def _ledger_table_id(out_dir: Path) -> str | None:
    tables = out_dir / "tables"
    found = sorted(tables.rglob("tbl-regnskap.csv")) if tables.is_dir() else []
    return found[0].relative_to(tables).with_suffix("").as_posix() if found else None


@lru_cache(maxsize=2)
def _ledger_specs(path: str, mtime: int) -> dict:
    from tillit.config import read_yaml

    return {t["id"]: t["compute"] for t in read_yaml(Path(path)).get("targets", [])}


def _shares_in(spec) -> list[dict]:
    """The simple share metrics in a ledger spec (a share, or the sides of a comparison), in
    the order the ledger prints them; [] when any side is something else."""
    if isinstance(spec, list):
        parts = [p for s in spec for p in _shares_in(s)]
        return parts if len(parts) == len(spec) else []
    if not isinstance(spec, dict):
        return []
    if spec.get("kind") == "share" and "var" in spec:
        return [spec] if spec.get("table", "survey_2023") == "survey_2023" else []
    if spec.get("kind") == "compare":
        a, b = _shares_in(spec.get("a")), _shares_in(spec.get("b"))
        return [*a, *b] if a and b else []
    return []


def run_audit(out_dir: Path | str, *, min_cell: int, codebook=None, published_yml: Path | None = None,
              skip: tuple[str, ...] = (), only: tuple[str, ...] | None = None,
              headers: dict[str, str] | None = None) -> AuditResult:
    """Audit everything published under `out_dir`; return the result (see :class:`AuditResult`).

    `skip`: notebooks whose tables are left out (the build audits the chapters before the
    appendices run, and everything after). `only`: the notebooks of the pipeline (tables of
    other notebooks, left over in a folder the build does not own, are ignored). `headers`:
    machine name → the header readers see in the CSVs (tillit.book.downloads.HEADERS)."""
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    result = AuditResult(min_cell=int(min_cell))
    appendix_skipped = bool(skip)
    if only is not None:
        skip = (*skip, *{r["table_id"].split("/")[0] for r in _registers(out_dir)} - set(only))
    regs = [r for r in _registers(out_dir) if r["table_id"].split("/")[0] not in skip]
    result.tables = len(regs)
    if not regs:
        _check_csvs(out_dir, regs, result, skip, headers)
        result.seconds = time.perf_counter() - t0
        return result  # nothing went through the gate: nothing to bound
    if codebook is None:
        from tillit.data.codebook import load_codebook

        codebook = load_codebook(published_yml.parent / "codebook.yml" if published_yml else None)
    model = Model(codebook)
    scratch = AuditResult(min_cell=result.min_cell)
    ledger = published_yml if not appendix_skipped else None  # the ledger is an appendix table
    modelled = _ledger_table_id(out_dir) if ledger is not None and ledger.is_file() else None
    if modelled is not None:
        # What the ledger prints is modelled from published.yml (each entry's question,
        # group and rounding: _add_ledger); its gate register only lists the n behind each
        # entry, which the ledger does not print and whose source the gate cannot know.
        regs = [r for r in regs if r["table_id"] != modelled]
    _add_registers(model, regs, scratch)          # planning pass: which groups each question has
    _add_ledger(model, out_dir, ledger, scratch, headers)
    model.freeze()
    targets = _add_registers(model, regs, result)
    ledger_groups = _add_ledger(model, out_dir, ledger, result, headers)
    _check_csvs(out_dir, regs, result, skip, headers)
    result.suppressed = len(targets)
    bounds = _bounds(model, [t for _, t in targets] + [g for _, g in ledger_groups],
                     low_only=len(ledger_groups)) if targets or ledger_groups else []
    for (finding, _), (low, _high) in zip(ledger_groups, bounds[len(targets):]):
        # A ledger figure is published about a group: it must rest on at least min_cell.
        if low < min_cell - 1e-6:
            finding.reason = f"gruppen bak tallet kan ikke vises å ha minst {min_cell} svar"
            result.violations.append(finding)
    if targets:
        for (finding, _), (low, high) in zip(targets, bounds[:len(targets)]):
            width = high - low
            if low >= min_cell - 1e-6:
                # The published numbers prove the hidden count is at least min_cell: a group
                # the rule lets be published (e.g. all 3 660, hidden in one figure, given in
                # every other), so pinning it gives away no small group.
                continue
            result.narrowest = width if result.narrowest is None else min(result.narrowest, width)
            if width < min_cell - 1e-6:
                finding.reason = f"kan regnes ut fra publiserte tall innenfor et intervall smalere enn {min_cell}"
                result.violations.append(finding)
    result.seconds = time.perf_counter() - t0
    return result
