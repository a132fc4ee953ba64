"""The error every data check raises: :class:`DataError`, naming file, sheet, row and column.

Two renderings, because respondents' values must never reach anything that is persisted
(executed or failed notebooks, the manifest, batch summaries, captured warnings):

* ``str(err)`` – the file, the sheet, the row, the column, what is wrong and what was expected;
  never a cell's value, a respondent id or free text. This is what papermill, logs and
  tracebacks see.
* ``err.detail`` – the same plus the offending values, for the terminal only (the ``tillit``
  command prints it when it catches the error itself).

Single problems render on one line (a hint is appended after " – "); several problems render
as a short list.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

#: Name of the index :func:`tillit.data.readers.read_export` gives its frames: the row number in the file.
ROW_INDEX = "rad"
#: How many individual problems a :class:`DataError` spells out (the rest are counted).
MAX_ISSUES = 5
_MISSING = object()


@dataclass(frozen=True)
class Issue:
    """One problem in one cell (or column, or file).

    ``problem`` and ``expected`` must not contain respondents' values; ``value`` (the cell's
    content) and ``detail`` (any further text quoting data) are shown by ``DataError.detail`` only.
    """

    problem: str
    row: int | None = None
    column: str | None = None
    value: Any = _MISSING
    expected: str | None = None
    row_name: str = "rad"    # "indeks" for frames that are not read from a file
    detail: str | None = None

    def describe(self, reveal: bool = False, letters: dict[str, str] | None = None) -> str:
        where = []
        if self.row is not None:
            where.append(f"{self.row_name} {self.row}")
        if self.column is not None:
            letter = (letters or {}).get(self.column)
            where.append(f"kolonne '{self.column}'" + (f" ({letter})" if letter else ""))
        text = ", ".join(where)
        text = f"{text}: {self.problem}" if text else self.problem
        if reveal and self.value is not _MISSING:
            text += f" – verdi {show(self.value)}"
        if reveal and self.detail:
            text += f" [{self.detail}]"
        if self.expected:
            text += f"; forventet {self.expected}"
        return text


def show(value: Any) -> str:
    """A value as it is quoted in a terminal message ('tekst', 12, (tom))."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "(tom)"
    return repr(str(value)) if not isinstance(value, (int, float)) else str(value)


class DataError(ValueError):
    """Bad input data: ``str(err)`` names file, sheet, row, column and what was expected.

    The first issue's fields are also attributes (``file``, ``row``, ``column``, ``value``,
    ``expected``) so callers and tests need not parse the message; ``issues`` holds up to
    :data:`MAX_ISSUES` issues and ``n_issues`` the total count. ``frame`` (a frame from
    :func:`tillit.data.readers.read_export`) supplies the sheet and the spreadsheet column
    letters of an XLSX export.
    """

    def __init__(self, file: Path | str | None, issues: list[Issue] | Issue | str, *,
                 n_issues: int | None = None, row: int | None = None, column: str | None = None,
                 value: Any = _MISSING, expected: str | None = None, hint: str | None = None,
                 sheet: str | None = None, frame: pd.DataFrame | None = None, detail: str | None = None,
                 letters: dict[str, str] | None = None):
        if isinstance(issues, str):
            issues = [Issue(issues, row, column, value, expected, detail=detail)]
        elif isinstance(issues, Issue):
            issues = [issues]
        attrs = frame.attrs if frame is not None else {}
        self.file = str(file) if file is not None else None
        self.sheet = sheet if sheet is not None else attrs.get("sheet")
        self.letters = dict(letters if letters is not None else attrs.get("column_letters") or {})
        self.issues = list(issues)[:MAX_ISSUES]
        self.n_issues = n_issues if n_issues is not None else len(issues)
        self.hint = hint
        first = self.issues[0]
        self.row, self.column, self.expected = first.row, first.column, first.expected
        self.value = None if first.value is _MISSING else first.value
        super().__init__(self._message(reveal=False))

    def __reduce__(self):  # picklable across processes (dask workers), the values with it
        return (_rebuild, (self.file, self.issues, self.n_issues, self.hint, self.sheet, self.letters))

    @property
    def detail(self) -> str:
        """The message with the offending values: for the terminal, never for a file."""
        return self._message(reveal=True)

    def _message(self, reveal: bool) -> str:
        head = ""
        if self.file:
            head = f"{self.file}" + (f", ark '{self.sheet}'" if self.sheet else "") + ": "
        if len(self.issues) == 1 and self.n_issues == 1:
            text = head + self.issues[0].describe(reveal, self.letters)
            return text + (f" – {self.hint}" if self.hint else "")
        shown = len(self.issues)
        more = f" (viser de {shown} første)" if self.n_issues > shown else ""
        text = f"{head}{self.n_issues} feil i dataene{more}:\n" + "\n".join(
            f"  - {i.describe(reveal, self.letters)}" for i in self.issues)
        return text + (f"\n{self.hint}" if self.hint else "")


def _rebuild(file, issues, n_issues, hint, sheet, letters) -> DataError:
    return DataError(file, issues, n_issues=n_issues, hint=hint, sheet=sheet, letters=letters)


def file_row(df: pd.DataFrame, index_value: Any) -> int | None:
    """The 1-based row in the source file of the frame row with this index label.

    Frames from :func:`tillit.data.readers.read_export` carry the file row as their index (named
    :data:`ROW_INDEX`); for any other frame a default positional index is assumed (header on
    row 1, so position 0 is row 2).
    """
    try:
        number = int(index_value)
    except (TypeError, ValueError):
        return None
    if df.index.name == ROW_INDEX:
        return number
    return number + int(df.attrs.get("header_row", 1)) + 1
