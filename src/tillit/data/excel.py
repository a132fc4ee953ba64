"""Reading an XLSX export: the sheet, the header row, and what must never pass as responses.

The sheet whose first rows hold the most codebook headers is read (the first sheet on a tie);
the header row is the row among the first :data:`MAX_TITLE_ROWS` with the most codebook
headers, so title rows above it are skipped. Each of these is a :class:`DataError` naming the
sheet, the row and the column (with its spreadsheet letter), never counted as responses:

* a two-level header (cells merged across or down the header row, or group headings merged
  over several columns just above it) and merged cells in the data;
* formula cells with no saved value (a file written by a program that does not calculate);
* notes or footer rows under (or between) the data: rows with content in only one or two
  cells, or trailing rows opening with "Totalt", "Sum", "Kilde" and the like.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from tillit.data.codebook import Codebook, norm_key
from tillit.data.errors import DataError, Issue

MAX_TITLE_ROWS = 30
# First words of the lines survey tools and spreadsheet users put under a table.
_FOOTER_WORDS = ("totalt", "total", "sum", "antall", "kilde", "merknad", "merk", "note", "notat",
                 "generert", "eksportert", "n =", "n=", "*")
_FORMULA = re.compile(rb"<f[ >/]")


def _open(path: Path, data_only: bool):
    from openpyxl import load_workbook

    try:
        # Not read-only: merged cells are only known to a fully loaded sheet (as fast here).
        return load_workbook(path, read_only=False, data_only=data_only)
    except Exception as exc:  # openpyxl raises several types for a broken file
        raise DataError(path, f"kan ikke åpne arbeidsboken ({type(exc).__name__})",
                        expected="en .xlsx-fil lagret av Excel eller undersøkelsesverktøyet",
                        detail=str(exc)) from None


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def read_xlsx(path: Path, mapping: dict, codebook: Codebook) -> pd.DataFrame:
    """The export's best sheet as a text frame (see :func:`tillit.data.readers.read_export`)."""
    from tillit.data.readers import _blank, _frame, _known_headers

    known = {norm_key(h) for h in _known_headers(codebook)} | {norm_key(h) for h in mapping.get("columns", {})}

    def score(row: Any) -> int:
        return sum(1 for v in row if isinstance(v, str) and norm_key(v) in known)

    wb = _open(path, data_only=True)
    try:
        ws = max(wb.worksheets, key=lambda sheet: max(
            (score(r) for r in sheet.iter_rows(max_row=MAX_TITLE_ROWS, values_only=True)), default=0))
        all_rows = [list(r) for r in ws.iter_rows(values_only=True)]
        merged = [(r.min_row, r.max_row, r.min_col - 1, r.max_col - 1) for r in ws.merged_cells.ranges]
    finally:
        wb.close()
    sheet = ws.title
    numbered = [(i + 1, r) for i, r in enumerate(all_rows) if not all(_blank(v) for v in r)]
    if not numbered:
        raise DataError(path, "filen er tom (ingen celler med innhold)", row=1, sheet=sheet,
                        expected="en overskriftsrad og minst én rad med data")
    candidates = numbered[:MAX_TITLE_ROWS]
    header_row, header = max(candidates, key=lambda item: score(item[1]))
    if score(header) == 0:
        header_row, header = candidates[0]  # no codebook header anywhere: the first row with content
    body = [(n, r) for n, r in numbered if n > header_row]
    width = len(header)
    while width and _blank(header[width - 1]) and all(_blank(r[width - 1]) for _, r in body if width - 1 < len(r)):
        width -= 1
    header = header[:width]
    names = [str(h).strip() if not _blank(h) else "" for h in header]
    _check_merged(path, sheet, merged, header_row, names, all_rows)
    _check_formulas(path, sheet, header_row, width, names, all_rows)
    _check_notes(path, sheet, body, width, names)
    df = _frame(path, header, [r[:width] for _, r in body], [n for n, _ in body], header_row, mapping)
    df.attrs["sheet"] = sheet
    kept = [i for i, h in enumerate(names) if h]
    df.attrs["column_letters"] = {col: _letter(i) for col, i in zip(df.columns, kept)}
    return df


def _letters(names: list[str]) -> dict[str, str]:
    return {name: _letter(i) for i, name in enumerate(names) if name}


def _column_name(names: list[str], index: int) -> str:
    return names[index] if index < len(names) and names[index] else _letter(index)


def _check_merged(path: Path, sheet: str, merged: list[tuple[int, int, int, int]], header_row: int,
                  names: list[str], rows: list[list[Any]]) -> None:
    from tillit.data.readers import _blank

    header, data = [], []
    for top, bottom, left, right in sorted(merged, key=lambda m: (m[0], m[2])):
        ref = f"{_letter(left)}{top}:{_letter(right)}{bottom}"
        if top <= header_row <= bottom or (bottom == header_row - 1 and right > left and not _title(
                rows[top - 1], left, _blank)):
            header.append((top, left, ref))
        elif top > header_row:
            data.append((top, left, ref))
    issues = []
    if header:
        top, left, _ = header[0]
        shown = rows[top - 1][left] if left < len(rows[top - 1]) else None
        column = names[left] if left < len(names) and names[left] else (
            str(shown).strip() if not _blank(shown) else _letter(left))
        refs = ", ".join(r for *_, r in header[:3]) + (f" og {len(header) - 3} til" if len(header) > 3 else "")
        issues.append(Issue(f"overskriften går over to nivåer (sammenslåtte celler {refs}); bare én "
                            "overskriftsrad kan leses", top, column,
                            expected="én overskriftsrad med kodebokens overskrifter – slå nivåene sammen til én "
                                     "rad (f.eks. 'Faktorer: Lokal forankring'), eller eksporter uten grupperte "
                                     "overskrifter"))
    for top, left, ref in data:
        issues.append(Issue(f"sammenslåtte celler i dataene ({ref}); bare den første cellen har en verdi, "
                            "de andre ville blitt lest som tomme", top, _column_name(names, left),
                            expected="én verdi i hver celle – opphev sammenslåingen og fyll inn verdiene"))
    if issues:
        raise DataError(path, issues[:5], n_issues=len(issues), sheet=sheet, letters=_letters(names))


def _title(row: list[Any], left: int, blank) -> bool:
    """A merged range that starts in column A and is the row's only content is a title."""
    return left == 0 and sum(not blank(v) for v in row) <= 1


def _check_formulas(path: Path, sheet: str, header_row: int, width: int, names: list[str],
                    values: list[list[Any]]) -> None:
    """Formula cells whose saved value is missing (read as blank, they would vanish)."""
    try:
        with zipfile.ZipFile(path) as zf:
            has_formula = any(_FORMULA.search(zf.read(n)) for n in zf.namelist()
                              if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    except (zipfile.BadZipFile, OSError, KeyError):
        return
    if not has_formula:
        return
    wb = _open(path, data_only=False)
    try:
        issues = []
        for r_idx, row in enumerate(wb[sheet].iter_rows(min_row=header_row, max_col=max(width, 1)), start=header_row):
            for c_idx, cell in enumerate(row):
                if cell.data_type != "f":
                    continue
                cached = values[r_idx - 1][c_idx] if c_idx < len(values[r_idx - 1]) else None
                if cached is None:
                    issues.append(Issue("formelen har ingen lagret verdi (filen er lagret av et program som ikke "
                                        "regner ut formler)", r_idx, _column_name(names, c_idx),
                                        expected="verdier: åpne filen i Excel og lagre den på nytt, eller lim inn "
                                                 "som verdier", detail=str(cell.value)))
    finally:
        wb.close()
    if issues:
        raise DataError(path, issues[:5], n_issues=len(issues), sheet=sheet, letters=_letters(names))


def _check_notes(path: Path, sheet: str, body: list[tuple[int, list[Any]]], width: int, names: list[str]) -> None:
    """Notes, totals and footers under the data are not responses."""
    from tillit.data.readers import _blank

    if width < 3 or not body:
        return  # too narrow to tell a note from a row
    sparse_limit = 2 if width >= 6 else 1
    filled = [[i for i, v in enumerate(r[:width]) if not _blank(v)] for _, r in body]
    notes = {k for k, cols in enumerate(filled) if len(cols) <= sparse_limit}
    # Trailing rows (at the bottom, below the last ordinary row) opening with a footer word.
    for k in range(len(body) - 1, -1, -1):
        first = str(body[k][1][filled[k][0]]).strip().casefold() if filled[k] else ""
        if k in notes or first.startswith(_FOOTER_WORDS):
            notes.add(k)
        else:
            break
    if not notes:
        return
    issues = [Issue(f"raden ser ut som en merknad eller bunntekst, ikke en besvarelse ({len(filled[k])} av "
                    f"{width} celler har innhold)", body[k][0], _column_name(names, filled[k][0]),
                    expected="bare besvarelser under overskriftsraden – slett raden, eller flytt merknaden "
                             "til et eget ark", detail=str(body[k][1][filled[k][0]]))
              for k in sorted(notes)]
    raise DataError(path, issues[:5], n_issues=len(issues), sheet=sheet, letters=_letters(names))
