"""The disclosure gate: the one step every published table and figure passes through.

Rules (params ``min_cell``, default 5; strict mode at least 10), one rule for every table,
figure and ledger entry:

* **Primary suppression** – a group (a row of a table, a bar of a figure) is published only if
  at least ``min_cell`` respondents are behind it, and the same goes for its "Vet ikke" count
  (zero included: "nobody in this group" is also a disclosure); a count cell below
  ``min_cell`` is suppressed.
* **Complementary suppression** – where a total would let a reader recompute a suppressed
  cell (exactly one suppressed cell in a row or column that sums to a total), the smallest
  other cell of that row/column is suppressed too; repeated on rows and columns until no total
  reveals a single suppressed cell. For groups and "Vet ikke" counts the total is always taken
  as published (every figure's caption gives its n, and the response profile the sizes of the
  groups), so one hidden group always brings a second; a table of counts protects the totals
  it publishes itself. A hidden "Vet ikke" on a five-point scale takes the middle category as
  its row's complement where that is enough (the ends are published as sums elsewhere).
* **Rows and columns together** – in a shares table every hidden count is then bounded by
  linear programming over the table's rows and columns (tillit.stats.intervals), and where one
  is pinned to an interval narrower than ``min_cell`` a further cell is hidden.
* Suppressed cells are ``NaN`` in numeric output and :data:`MARK` in displayed output, with
  one footnote (:data:`FOOTNOTE`). Primary and complementary cells look the same, so the
  display does not tell which cell is the small one.
* Every suppression is logged (table id, row, column, reason, min_cell – never the hidden
  value) and :meth:`Gate.write_log` writes ``outputs/disclosure_log.csv``, replacing the rows
  of tables logged again, under a file lock (chapters may run in parallel).

The heuristic protects every single row/column equation. Across tables it is backed by the
audit (tillit.stats.audit): every gated table is also written, without hidden values, to
``<output_dir>/disclosure/<table_id>.json`` with what each row counts (see
tillit.stats.tables.SOURCES), and after every build the audit bounds every suppressed count by
linear programming over everything published.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal

import numpy as np
import pandas as pd

from tillit import fmt
from tillit.stats.register import (
    for_csv,
    register_counts,
    register_means,
    register_path,
    register_shares,
    write_register,
)
from tillit.stats.suppression import complement, group_equations, margin_equations, middle_cells

MARK = "–*"
FOOTNOTE = ("–* Skjult av personvernhensyn: færre enn {min_cell} svar bak tallet, eller skjult "
            "fordi tallet ellers kunne regnes ut fra summene.")
REASON_SMALL = "n < min_cell"
REASON_COMPLEMENT = "komplementær"
TOTAL = "Totalt"
DK = "Vet ikke"
WHOLE_ROW = "(hele raden)"
LOG_COLUMNS = ["table_id", "row", "column", "reason", "min_cell"]
#: Column names that mark a frame as respondent-level (never published).
RESPONDENT_LEVEL_COLUMNS = {
    "respondent_id", "respondentid", "submitted_at", "innsendt", "free_text", "utdypende svar",
    "unit_number", "enhetsnr",
}


class DisclosureError(ValueError):
    """A table would disclose, or cannot be checked; the message names table, cell and rule."""


@dataclass
class GatedTable:
    """A table after the gate.

    ``values``: numeric frame, ``NaN`` where suppressed. ``suppressed``: boolean mask of the
    same shape. ``log``: one record per suppressed cell. ``display()`` gives the publishable
    frame with :data:`MARK` in suppressed cells; :meth:`value`, :meth:`published` and
    :attr:`all_suppressed` let a chapter handle a table in which the gate hid everything
    (e.g. a very large ``min_cell``) without tripping over NaN.
    """

    table_id: str
    kind: str
    values: pd.DataFrame
    suppressed: pd.DataFrame
    min_cell: int
    log: list[dict] = field(default_factory=list)
    register: dict = field(default_factory=dict, repr=False)

    @property
    def n_suppressed(self) -> int:
        return int(self.suppressed.to_numpy().sum())

    @property
    def footnote(self) -> str:
        return FOOTNOTE.format(min_cell=fmt.number_word(self.min_cell)) if self.n_suppressed else ""

    @property
    def all_suppressed(self) -> bool:
        """True when nothing of the table may be published."""
        return bool(self.suppressed.to_numpy().all())

    def published(self) -> pd.DataFrame:
        """The rows with at least one published number (values; NaN where suppressed)."""
        keep = ~self.suppressed.all(axis=1)
        return self.values[keep.to_numpy()]

    def value(self, row, column, default=None):
        """One published number, or `default` where it is suppressed or absent."""
        try:
            v = self.values.at[row, column]
        except KeyError:
            return default
        return default if v is None or (isinstance(v, float) and np.isnan(v)) else v

    def display(self, decimals: int | dict[str, int] | None = None) -> pd.DataFrame:
        """Publishable frame: numbers (rounded if asked) and :data:`MARK` where suppressed."""
        vals = self.values
        if decimals is not None:
            vals = vals.round(decimals)
        out = vals.astype(object).where(~self.suppressed, MARK)
        return out

    def to_csv(self, path: Path | str, decimals: int | dict[str, int] | None = None) -> Path:
        """Write the display frame as UTF-8 CSV, atomically, with shares and means rounded
        (:func:`for_csv`) unless `decimals` says otherwise."""
        path = Path(path)
        frame = self.display(decimals) if decimals is not None else for_csv(self.values).astype(object).where(
            ~self.suppressed, MARK)
        _atomic_write(path, frame.to_csv(lineterminator="\n"))
        return path


class Gate:
    """The disclosure gate with one ``min_cell`` and one log file.

    ``Gate(min_cell=5, log_path=outputs/"disclosure_log.csv")``; or :meth:`from_params`.
    ``legacy=True`` restores the rule as it was before the audit (no "Vet ikke" rule; a group
    complemented only when its own table has a total row); it exists so a test can show what
    the audit catches.
    """

    def __init__(self, min_cell: int = 5, log_path: Path | str | None = None, *, legacy: bool = False,
                 populations=None):
        # populations: (respondents per unit type × role cell, codebook) of the survey the book
        # describes, or a callable giving them: for the rule of tillit.stats.outside.
        if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 1:
            raise DisclosureError(f"min_cell må være et heltall ≥ 1, fikk {min_cell!r}")
        self.min_cell = int(min_cell)
        self.log_path = Path(log_path) if log_path is not None else None
        self.legacy = legacy
        self.implicit_totals = not legacy
        self._logs: dict[str, list[dict]] = {}
        self._registers: dict[str, dict] = {}
        # A chapter writes its log after each table: each register is written again only when
        # it changed (or goes to another folder), not every register at every table.
        self._versions: dict[str, int] = {}
        self._written: dict[str, tuple[str, int]] = {}
        self._populations = populations

    def _outside(self, sources: list[list], n) -> np.ndarray:
        """Rows hidden because their n would pin the respondents outside their frame
        (tillit.stats.outside); the populations are read once, on first use."""
        from tillit.stats.outside import outside_rows

        if callable(self._populations):
            self._populations = self._populations()
        return outside_rows(sources, n, self._populations, self.min_cell)

    @classmethod
    def from_params(cls, params, root: Path | None = None) -> "Gate":
        """From :class:`tillit.config.RunParams`: effective min_cell (strict → ≥ 10), log under output_dir."""
        return cls(params.effective_min_cell, params.path("output_dir", root) / "disclosure_log.csv")

    def allows(self, n) -> bool:
        """May a group of `n` respondents be published (e.g. a ledger entry, a number in prose)?"""
        return n is not None and not pd.isna(n) and int(n) >= self.min_cell

    # -- counts --------------------------------------------------------------------------
    def counts(self, table_id: str, df_counts: pd.DataFrame,
               totals: bool | Literal["rows", "columns"] = True) -> GatedTable:
        """Gate a table of counts (rows × columns of respondents).

        ``totals``: True adds and publishes a row-total column and a column-total row
        (:data:`TOTAL`) and protects both; "rows"/"columns" publishes only that margin
        (row totals = one per row); False publishes none (no complementary suppression).
        """
        counts = _as_counts(table_id, df_counts)
        add_row_totals = totals is True or totals == "rows"
        add_col_totals = totals is True or totals == "columns"
        table = counts.copy()
        if add_row_totals:
            table[_total_key(table.columns)] = counts.sum(axis=1)
        if add_col_totals:
            table = _append_total_row(table)
        mask = pd.DataFrame(table.to_numpy() < self.min_cell, index=table.index, columns=table.columns)
        log = [self._record(table_id, r, c, REASON_SMALL) for r, c in _cells(mask)]
        equations = margin_equations(counts.shape, add_row_totals, add_col_totals)
        extra = complement(table.to_numpy(dtype=float), mask.to_numpy().copy(), equations, need=self.min_cell)
        for i, j in extra:
            mask.iat[i, j] = True
            log.append(self._record(table_id, table.index[i], table.columns[j], REASON_COMPLEMENT))
        values = table.astype(float).where(~mask)
        gated = GatedTable(table_id, "counts", values, mask, self.min_cell, log)
        gated.register = register_counts(gated, table, add_row_totals, add_col_totals)
        return self._done(gated)

    # -- shares --------------------------------------------------------------------------
    def shares(self, table_id: str, counts_df: pd.DataFrame, *, total_row: bool = False,
               cell_rule: bool = False, percent: bool = False, n_col: str = "n") -> GatedTable:
        """Row shares of a counts table (rows = groups, columns = answer categories).

        A group with fewer than ``min_cell`` respondents has every share and its ``n``
        suppressed, and so does a second group (the total is taken as published). A
        :data:`DK` ("Vet ikke") column whose count is below ``min_cell`` has that share
        suppressed, with a complementary share in its row (the shares sum to 1) and in its
        column. ``total_row`` adds an "all groups" row. ``cell_rule`` applies the count rule
        to every answer category, not only "Vet ikke".
        """
        counts = _as_counts(table_id, counts_df)
        raw = counts.copy()
        if total_row:
            counts = _append_total_row(counts)
        n = counts.sum(axis=1)
        shares = counts.div(n.where(n > 0), axis=0)
        if percent:
            shares = shares * 100
        values = shares.copy()
        values.insert(len(values.columns), n_col, n.astype(float))
        mask = pd.DataFrame(False, index=values.index, columns=values.columns)
        log: list[dict] = []
        total_label = _total_key(counts.index) if total_row else None
        small = self._group_suppression(table_id, n, total_row or self.implicit_totals, log, total_label,
                                        outside=self._outside(_share_sources(raw, total_row), n))
        mask.loc[small, :] = True
        ruled = list(counts.columns) if cell_rule else [] if self.legacy else [c for c in counts.columns if str(c) == DK]
        if ruled:
            inner = self._cell_rule(table_id, counts, np.asarray(small), ruled, log)
            mask.iloc[:, : counts.shape[1]] |= inner
        if not self.legacy and mask.to_numpy().any():
            self._protect_shares(table_id, counts, n, mask, np.asarray(small), total_row, log)
        gated = GatedTable(table_id, "shares", values.where(~mask), mask, self.min_cell, log)
        gated.register = register_shares(gated, raw, counts, total_row)
        return self._done(gated)

    def _cell_rule(self, table_id: str, counts: pd.DataFrame, small: np.ndarray, ruled: list,
                   log: list[dict]) -> np.ndarray:
        """Small counts in the `ruled` columns hidden, with complements in rows (which sum to
        n) and in columns (taken to sum to a published total when the rows are groups)."""
        cols = [list(counts.columns).index(c) for c in ruled]
        inner = np.zeros(counts.shape, dtype=bool)
        arr = counts.to_numpy()
        for j in cols:
            inner[:, j] = arr[:, j] < self.min_cell
        inner[small] = False
        for r, c in zip(*np.nonzero(inner)):
            log.append(self._record(table_id, counts.index[r], counts.columns[c], REASON_SMALL))
        m, k = counts.shape
        equations = [[(i, j) for j in range(k)] for i in range(m)]
        if self.implicit_totals and m > 1:
            equations += [[(i, j) for i in range(m)] for j in range(k)]
        done = small[:, None] | inner
        # The complement is the scale's middle category where it is enough, else the row's
        # largest: the ends are also published as sums elsewhere ("stor eller svært stor grad",
        # the share positive), and a hidden end category could be regained from such a sum.
        extra = complement(arr.astype(float), done, equations, prefer_last=False, need=self.min_cell,
                            largest=True, protected=inner.copy(), preferred=middle_cells(counts.columns, m))
        for i, j in extra:
            inner[i, j] = True
            log.append(self._record(table_id, counts.index[i], counts.columns[j], REASON_COMPLEMENT))
        return inner

    def _protect_shares(self, table_id: str, counts: pd.DataFrame, n: pd.Series, mask: pd.DataFrame,
                        small: np.ndarray, total_row: bool, log: list[dict]) -> None:
        """Rows and columns together must not pin a hidden count either (tillit.stats.intervals):
        the counts with their n and, last, the column totals (the table's total row, or taken as
        published); a further complement where a hidden count's interval is under min_cell."""
        from tillit.stats.intervals import protect

        m, k = counts.shape
        table = np.column_stack([counts.to_numpy(dtype=float), n.to_numpy(dtype=float)])
        hidden = mask.to_numpy().copy()
        if not total_row:
            table = np.vstack([table, table.sum(axis=0)])
            hidden = np.vstack([hidden, np.zeros((1, k + 1), dtype=bool)])
        last = table.shape[0] - 1
        equations = [[(i, j) for j in range(k + 1)] for i in range(last + 1)]
        equations += [[*((i, j) for i in range(last)), (last, j)] for j in range(k + 1)]
        groups = [i for i in range(m - int(total_row)) if not small[i]]
        middle = middle_cells(counts.columns, 1)[0]
        order = sorted(((i, j) for i in groups for j in range(k)), key=lambda c: (not middle[c[1]], -table[c], c))
        for i, j in protect(table, hidden, equations, self.min_cell, order):
            mask.iat[i, j] = True
            log.append(self._record(table_id, counts.index[i], counts.columns[j], REASON_COMPLEMENT))

    # -- means ---------------------------------------------------------------------------
    def means(self, table_id: str, df: pd.DataFrame, n_col: str = "n",
              total_label: str | None = None, dk_col: str = "dont_know",
              dont_know_counts: pd.Series | None = None) -> GatedTable:
        """Gate a table of group statistics (means, sd, shares, ...) with the group size in ``n_col``.

        Groups with ``n < min_cell`` have every value (and ``n``) suppressed, and a second
        group too (the total is taken as published; ``total_label`` names a row that pools the
        others). A ``dk_col`` column (the "Vet ikke" count, as tillit.stats.tables.mean gives
        it) is a count: below ``min_cell`` it is suppressed, with a second one in the column.
        """
        if n_col not in df.columns:
            raise DisclosureError(f"tabell '{table_id}': kolonnen '{n_col}' med antall svar mangler "
                                  f"(kolonner: {list(df.columns)})")
        n = _as_counts(table_id, df[[n_col]])[n_col]
        values = df.copy()
        for col in values.columns:   # keep the caller's column order
            try:
                values[col] = pd.to_numeric(df[col]).astype(float) if col != n_col else n.astype(float)
            except (TypeError, ValueError):
                raise DisclosureError(f"tabell '{table_id}', kolonne '{_label(col)}': forventet tall "
                                      f"(gjennomsnitt, andeler, intervaller)") from None
        log: list[dict] = []
        has_total = total_label is not None
        if has_total and total_label not in df.index:
            raise DisclosureError(f"tabell '{table_id}': totalraden '{total_label}' finnes ikke")
        outside = self._outside(_mean_sources(df, n_col, total_label), n)
        if dont_know_counts is not None:
            # A share with "Vet ikke" in its denominator, beside the other answers published
            # elsewhere, gives the group's "Vet ikke" count back: below min_cell, the row goes.
            dk_small = dont_know_counts.reindex(df.index).fillna(self.min_cell).to_numpy() < self.min_cell
            for i in np.nonzero(dk_small & ~(n < self.min_cell).to_numpy())[0]:
                log.append(self._record(table_id, df.index[i], WHOLE_ROW, "«Vet ikke» < min_cell"))
            outside = outside & ~dk_small if outside is not None else None
            dk_hidden = dk_small
        else:
            dk_hidden = None
        small = self._group_suppression(table_id, n, has_total or self.implicit_totals, log, total_label,
                                        outside=outside, forced=dk_hidden)
        mask = pd.DataFrame(False, index=values.index, columns=values.columns)
        mask.loc[small, :] = True
        if dk_col in df.columns and not self.legacy:
            dk = _as_counts(table_id, df[[dk_col]])
            inner = self._cell_rule(table_id, dk, np.asarray(small), [dk_col], log)
            mask[dk_col] |= inner[:, 0]
            # n counts those with a value; with the group's size known (the response profile),
            # n would give the hidden "Vet ikke" count back, so it is hidden with it.
            for i in np.nonzero(inner[:, 0])[0]:
                if not mask.iat[i, list(mask.columns).index(n_col)]:
                    mask.iat[i, list(mask.columns).index(n_col)] = True
                    log.append(self._record(table_id, df.index[i], n_col, REASON_COMPLEMENT))
        gated = GatedTable(table_id, "means", values.where(~mask), mask, self.min_cell, log)
        gated.register = register_means(gated, df, n_col, dk_col)
        return self._done(gated)

    # -- log -----------------------------------------------------------------------------
    @property
    def records(self) -> pd.DataFrame:
        rows = [r for recs in self._logs.values() for r in recs]
        return pd.DataFrame(rows, columns=LOG_COLUMNS)

    def write_log(self, path: Path | str | None = None) -> Path:
        """Merge this gate's records into the log CSV: rows of every table id gated here are
        replaced (also by nothing, if a table no longer needs suppression); others are kept.
        Each table's register (what its rows count, what is published, no hidden value) goes
        to ``disclosure/<table_id>.json`` beside the log, for the audit."""
        path = Path(path) if path is not None else self.log_path
        if path is None:
            raise DisclosureError("ingen loggfil: gi log_path til Gate() eller write_log()")
        from filelock import FileLock

        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock", timeout=60):
            if path.is_file() and path.stat().st_size:
                old = pd.read_csv(path, dtype=str, keep_default_na=False)
                if list(old.columns) != LOG_COLUMNS:
                    raise DisclosureError(f"{path}: uventede kolonner {list(old.columns)}, "
                                          f"forventet {LOG_COLUMNS}")
                old = old[~old["table_id"].isin(list(self._logs))]
            else:
                old = pd.DataFrame(columns=LOG_COLUMNS)
            new = self.records.astype(str)
            merged = pd.concat([old, new], ignore_index=True)
            # Stable order across runs and worker schedules: by table id, then as logged.
            merged["_order"] = range(len(merged))
            merged = merged.sort_values(["table_id", "_order"], kind="stable").drop(columns="_order")
            _atomic_write(path, merged.to_csv(index=False, lineterminator="\n"))
        where = str(path.parent.resolve())
        for table_id, reg in self._registers.items():
            mark = (where, self._versions.get(table_id, 0))
            if self._written.get(table_id) == mark and register_path(path.parent, table_id).is_file():
                continue
            write_register(path.parent, table_id, reg)
            self._written[table_id] = mark
        return path

    # -- internals -----------------------------------------------------------------------
    def _record(self, table_id: str, row, column, reason: str) -> dict:
        return {"table_id": table_id, "row": _label(row), "column": _label(column),
                "reason": reason, "min_cell": self.min_cell}

    def _done(self, table: GatedTable) -> GatedTable:
        self._logs[table.table_id] = table.log
        if table.register:
            self._registers[table.table_id] = dict(table.register, table_id=table.table_id,
                                                   kind=table.kind, min_cell=self.min_cell)
            self._versions[table.table_id] = self._versions.get(table.table_id, 0) + 1
        return table

    def _group_suppression(self, table_id: str, n: pd.Series, has_total: bool, log: list[dict],
                           total_label=TOTAL, outside: np.ndarray | None = None,
                           forced: np.ndarray | None = None) -> list[bool]:
        small = (n < self.min_cell).to_numpy().copy()
        for i in np.nonzero(small)[0]:
            log.append(self._record(table_id, n.index[i], WHOLE_ROW, REASON_SMALL))
        if forced is not None:  # already logged by the caller, with its reason
            small |= forced
        if outside is not None and self.implicit_totals:
            for i in np.nonzero(outside & ~small)[0]:
                small[i] = True
                log.append(self._record(table_id, n.index[i], WHOLE_ROW, REASON_COMPLEMENT))
        if has_total:
            equations = group_equations(n.index, total_label)
            extra = complement(n.to_numpy(dtype=float)[:, None], small[:, None],
                                [[(i, 0) for i in eq] for eq in equations],
                                prefer_last=total_label in n.index, need=self.min_cell)
            for i, _ in extra:
                small[i] = True
                log.append(self._record(table_id, n.index[i], WHOLE_ROW, REASON_COMPLEMENT))
        return list(small)


def _share_sources(raw: pd.DataFrame, total_row: bool) -> list[list]:
    """Per row of a shares table, the sources it counts (tillit.stats.tables.SOURCES; a
    total row: those of all rows)."""
    from tillit.stats.tables import SOURCES

    cols = list(raw.columns)
    found = [[SOURCES.find("distribution", int(raw.iloc[i].sum()), [raw.iloc[i][c] for c in cols], _label(lab))]
             for i, lab in enumerate(raw.index)]
    return found + ([[s for part in found for s in part]] if total_row else [])


def _mean_sources(df: pd.DataFrame, n_col: str, total_label) -> list[list]:
    """Per row of a means (or share) table, its source; a total row: those of the others."""
    from tillit.stats.tables import SOURCES

    measure = "mean" if "mean" in df.columns else "share" if "share" in df.columns else None
    found: list[list] = []
    for i, label in enumerate(df.index):
        n = df[n_col].iloc[i]
        ok = measure is not None and not pd.isna(n) and label != total_label
        found.append([SOURCES.find(measure, int(n), [df[measure].iloc[i]], _label(label))] if ok else [None])
    if total_label is not None and total_label in df.index:
        pos = list(df.index).index(total_label)
        found[pos] = [s for i, part in enumerate(found) if i != pos for s in part]
    return found


def _total_key(index: pd.Index):
    """The label of a total row/column: "Totalt", padded for a MultiIndex."""
    if isinstance(index, pd.MultiIndex):
        return (TOTAL,) + ("",) * (index.nlevels - 1)
    return TOTAL


def _append_total_row(table: pd.DataFrame) -> pd.DataFrame:
    key = _total_key(table.index)
    total = pd.DataFrame([table.sum(axis=0).to_numpy()], columns=table.columns,
                         index=pd.MultiIndex.from_tuples([key], names=table.index.names)
                         if isinstance(table.index, pd.MultiIndex) else pd.Index([key], name=table.index.name))
    return pd.concat([table, total.astype(table.dtypes.to_dict())])


def _cells(mask: pd.DataFrame) -> Iterable[tuple]:
    arr = mask.to_numpy()
    for i, j in zip(*np.nonzero(arr)):
        yield mask.index[i], mask.columns[j]


def _label(value) -> str:
    if isinstance(value, tuple):
        return " / ".join(str(v) for v in value if str(v) != "")
    return str(value)


def _as_counts(table_id: str, df: pd.DataFrame) -> pd.DataFrame:
    """Validate a counts frame: numeric, whole, non-negative; returns int64 copy."""
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise DisclosureError(f"tabell '{table_id}': forventet en ikke-tom tabell med antall")
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = pd.to_numeric(df[col], errors="coerce")
        bad = s.isna() | (s < 0) | (s.round() != s)
        if bad.any():
            row = s.index[bad.to_numpy().nonzero()[0][0]]
            raise DisclosureError(
                f"tabell '{table_id}', rad '{_label(row)}', kolonne '{_label(col)}': verdien "
                f"{df.at[row, col]!r} er ikke et antall; forventet et heltall ≥ 0")
        out[col] = s.astype("int64")
    return out


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- Publish check ----------------------------------------------------------------------
def assert_publishable(df: pd.DataFrame | GatedTable, min_cell: int, *, n_cols: Iterable[str] | None = None,
                       table_id: str = "tabell", free_text_length: int = 60) -> None:
    """Refuse a frame that is not safe to publish.

    * no column that looks respondent-level (id, timestamp, free text, unit number; any
      datetime column; a text column with long, mostly unique strings);
    * every count in ``n_cols`` (default: columns named ``n`` or starting ``n_``) is either
      suppressed (NaN or :data:`MARK`) or at least ``min_cell``.
    """
    if isinstance(df, GatedTable):
        df = df.display()
    problems: list[str] = []
    names = [*map(str, df.columns), *[str(n) for n in (df.index.names or []) if n is not None]]
    for name in names:
        if name.strip().casefold() in RESPONDENT_LEVEL_COLUMNS:
            problems.append(f"kolonnen '{name}' ser ut som data på respondentnivå")
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            problems.append(f"kolonnen '{col}' har tidspunkter (respondentnivå?)")
        elif s.dtype == object or pd.api.types.is_string_dtype(s):
            text = s.dropna().astype(str)
            text = text[text != MARK]
            if len(text) and text.str.len().mean() > free_text_length and text.nunique() > 0.8 * len(text):
                problems.append(f"kolonnen '{col}' ser ut som fritekst (lange, ulike tekster)")
    wanted = list(n_cols) if n_cols is not None else [
        c for c in df.columns if str(c) == "n" or str(c).startswith("n_")]
    for col in wanted:
        if col not in df.columns:
            problems.append(f"kolonnen '{col}' finnes ikke")
            continue
        s = df[col]
        hidden = s.isna() | (s.astype(str) == MARK)
        nums = pd.to_numeric(s.where(~hidden), errors="coerce")
        bad = ~hidden & (nums.isna() | (nums < min_cell))
        for row in list(s.index[bad.to_numpy()])[:5]:
            problems.append(f"rad '{_label(row)}', kolonne '{col}': n = {s[row]} er under "
                            f"min_cell = {min_cell} og ikke skjult")
    if problems:
        raise DisclosureError(f"{table_id} kan ikke publiseres:\n" + "\n".join(f"  - {p}" for p in problems))
