"""Readers for the survey tool's exports (CSV, XLSX, SPSS .sav) and the mapping onto the codebook.

:func:`read_export` returns every column as text (answer labels), with the file's row numbers
as index (named ``rad``; header = row 1) so later checks can point at the row in the file.
Headers and labels that differ from the codebook are renamed by ``params/mapping.yml``.
Anything that cannot be read raises :class:`tillit.data.errors.DataError` with file (and
sheet), row, column and what was expected; the value only in ``err.detail``. XLSX and SAV
have their own modules (:mod:`tillit.data.excel`, :mod:`tillit.data.spss`).
"""
from __future__ import annotations

import csv
import io as _io
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tillit.data.codebook import Codebook, load_codebook, norm_key
from tillit.config import ConfigError, read_yaml, repo_root
from tillit.data.schemas import ROW_INDEX, DataError

SUPPORTED_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx", ".sav")
ALL_COLUMNS = "*"            # key under `labels` in mapping.yml that applies to every column
_DELIMITERS = (",", ";", "\t")
# Mojibake left when UTF-8 text was once decoded as cp1252 and saved again ("Ã¸" for "ø").
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")
_DECIMAL_COMMA = re.compile(r"^[+-]?(?:\d{1,3}(?:[ \u00a0]\d{3})+|\d+)(?:,\d+)?$")


# --- Locating the export ----------------------------------------------------------------
def _candidates(raw_dir: Path, stem: str) -> list[Path]:
    """Files in ``raw_dir`` named ``stem`` with any suffix, ignoring case and the spelling of
    separators (``Survey_2023.XLSX``, ``survey 2023.csv``)."""
    if not raw_dir.is_dir():
        return []
    key = norm_key(stem)
    return sorted(p for p in raw_dir.iterdir() if p.is_file() and not p.name.startswith(".")
                  and norm_key(p.stem) == key)


def find_optional(raw_dir: Path | str, stem: str) -> Path | None:
    """The one readable file named ``stem`` (see :func:`find_export`), or None if there is none."""
    raw_dir = Path(raw_dir)
    if not any(p.suffix.lower() in SUPPORTED_SUFFIXES for p in _candidates(raw_dir, stem)):
        return None
    return find_export(raw_dir, stem)


def find_export(raw_dir: Path | str, stem: str) -> Path:
    """The one file ``<stem>.csv``, ``.xlsx`` or ``.sav`` in ``raw_dir``, matched without
    regard to case (``Survey_2023.xlsx``, ``survey_2023.CSV``).

    Raises :class:`DataError` when none exists ("mangler") or when several do (which one is
    meant would be a guess).
    """
    raw_dir = Path(raw_dir)
    candidates = _candidates(raw_dir, stem)
    found = [p for p in candidates if p.suffix.lower() in SUPPORTED_SUFFIXES]
    if not found:
        others = [p.name for p in candidates]
        extra = f" (fant {', '.join(others)}, men bare .csv, .xlsx og .sav kan leses)" if others else ""
        raise DataError(raw_dir / stem, f"kildefilen mangler{extra}", expected=(
            f"én av {', '.join(stem + s for s in SUPPORTED_SUFFIXES)} i {raw_dir}"),
            hint="legg eksporten i data/raw/, eller lag den syntetiske tvillingen med `tillit synth`")
    if len(found) > 1:
        raise DataError(raw_dir / stem, "flere kildefiler med samme navn: "
                        + ", ".join(p.name for p in found),
                        expected="nøyaktig én fil – flytt eller slett de andre")
    return found[0]


# --- Mapping ----------------------------------------------------------------------------
class _Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    columns: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, dict[str, str]] = Field(default_factory=dict)


def _known_headers(codebook: Codebook) -> set[str]:
    heads = set(codebook.by_raw())
    heads |= {spec["raw"] for spec in codebook.md_letters.get("columns", {}).values()}
    return heads


def load_mapping(path: Path | str | None = None, codebook: Codebook | None = None) -> dict:
    """``params/mapping.yml`` (or ``path``) as ``{"columns": {...}, "labels": {...}}``, validated.

    ``columns`` maps a header in the export to the codebook's ``raw`` header; ``labels`` maps,
    per codebook header (or ``"*"`` for every column), an answer label in the export to the
    codebook's label. Unknown keys, wrong types and targets that are not codebook headers
    raise :class:`ConfigError`. A missing default file means "no renames".
    """
    default = path is None
    path = Path(path) if path is not None else repo_root() / "params" / "mapping.yml"
    if default and not path.is_file():
        return {"columns": {}, "labels": {}}
    data = read_yaml(path) or {}
    return validate_mapping(data, path, codebook)


def validate_mapping(data: Any, path: Path | str = "mapping", codebook: Codebook | None = None) -> dict:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: forventet en tabell med columns og labels, fikk {type(data).__name__}")
    try:
        spec = _Mapping(**{k: (v or {}) for k, v in data.items()})
    except ValidationError as exc:
        lines = [f"{path}: ugyldig mapping"]
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                lines.append(f"  - ukjent nøkkel '{loc}' (tillatt: columns, labels)")
            else:
                lines.append(f"  - '{loc}': {err['msg']} (fikk {err.get('input')!r})")
        raise ConfigError("\n".join(lines)) from None
    codebook = codebook or load_codebook()
    known = _known_headers(codebook)
    for src, dst in spec.columns.items():
        if dst not in known:
            raise ConfigError(f"{path}: columns.'{src}' peker på '{dst}', som ikke er en overskrift i "
                              f"kodeboken (params/codebook.yml, feltet raw)")
    for col in spec.labels:
        if col != ALL_COLUMNS and col not in known:
            raise ConfigError(f"{path}: labels.'{col}' er ikke en overskrift i kodeboken "
                              f"(bruk kodebokens raw-overskrift, eller '*' for alle kolonner)")
    return {"columns": dict(spec.columns), "labels": {k: dict(v) for k, v in spec.labels.items()}}


def _rename_columns(columns: list[str], mapping: dict, path: Path, header_row: int) -> list[str]:
    renames = mapping.get("columns", {})
    out = [renames.get(c, c) for c in columns]
    seen: dict[str, int] = {}
    for i, name in enumerate(out):
        if name in seen:
            src = columns[seen[name]], columns[i]
            what = (f"overskriften '{name}' står to ganger" if src[0] == src[1] else
                    f"både '{src[0]}' og '{src[1]}' blir '{name}' etter params/mapping.yml")
            raise DataError(path, what, row=header_row, column=name,
                            expected="hver overskrift bare én gang")
        seen[name] = i
    return out


def _label_lookup(mapping: dict, column: str) -> dict[str, str]:
    labels = mapping.get("labels", {})
    table = {norm_key(k): v for k, v in labels.get(ALL_COLUMNS, {}).items()}
    table.update({norm_key(k): v for k, v in labels.get(column, {}).items()})
    return table


def _apply_label_renames(df: pd.DataFrame, mapping: dict) -> pd.DataFrame:
    for col in df.columns:
        table = _label_lookup(mapping, col)
        if table:
            df[col] = df[col].map(lambda v: v if pd.isna(v) else table.get(norm_key(v), v)).astype(df[col].dtype)
    return df


# --- Reading ----------------------------------------------------------------------------
def read_export(path: Path | str, mapping: dict | None = None, codebook: Codebook | None = None) -> pd.DataFrame:
    """Read an export as text columns with the codebook's ``raw`` headers.

    * CSV: delimiter sniffed (comma, semicolon or tab), encoding UTF-8 (with or without BOM)
      or cp1252, decimal commas in numeric columns turned into points;
    * XLSX: first sheet, header row found below any title rows (the row holding the most
      codebook headers);
    * SAV: value labels applied; labels that differ from the codebook's scale are refused.

    ``mapping`` (default: ``params/mapping.yml``) renames headers and answer labels first.
    Blank cells become missing; surrounding whitespace is stripped. The index is the row
    number in the file (header = row 1 for CSV; the sheet's own row numbers for XLSX).
    """
    path = Path(path)
    codebook = codebook or load_codebook()
    mapping = load_mapping(None, codebook) if mapping is None else validate_mapping(mapping, "mapping", codebook)
    if not path.is_file():
        raise DataError(path, "kildefilen mangler", expected="en lesbar fil")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = _read_csv(path, mapping)
    elif suffix == ".xlsx":
        from tillit.data.excel import read_xlsx

        df = read_xlsx(path, mapping, codebook)
    elif suffix == ".sav":
        from tillit.data.spss import read_sav

        df = read_sav(path, mapping, codebook)
    else:
        raise DataError(path, f"ukjent filtype '{path.suffix}'", expected=", ".join(SUPPORTED_SUFFIXES))
    df = _apply_label_renames(df, mapping)
    df.attrs["source"] = str(path)
    return df


def _frame(path: Path, header: list[str], rows: list[list[Any]], row_numbers: list[int],
           header_row: int, mapping: dict) -> pd.DataFrame:
    header = [str(h).strip().lstrip("\ufeff") if h is not None else "" for h in header]
    for i, h in enumerate(header):
        if not h:
            if all(_blank(r[i]) for r in rows if i < len(r)):
                continue  # a blank trailing column (common in Excel) is dropped below
            raise DataError(path, f"kolonne nr. {i + 1} har ingen overskrift", row=header_row,
                            column=f"nr. {i + 1}", expected="en overskrift over hver kolonne med data")
    keep = [i for i, h in enumerate(header) if h]
    names = _rename_columns([header[i] for i in keep], mapping, path, header_row)
    if not rows:
        raise DataError(path, "filen inneholder bare overskriftsraden, ingen besvarelser",
                        row=header_row, expected="minst én rad med data under overskriftene")
    data = {name: [_cell(r[i]) if i < len(r) else None for r in rows] for name, i in zip(names, keep)}
    df = pd.DataFrame(data, index=pd.Index(row_numbers, name=ROW_INDEX), dtype="str")
    df.attrs["header_row"] = header_row
    return df


def _blank(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    try:
        return value is None or bool(pd.isna(value))   # None, NaN, NaT, pd.NA
    except (TypeError, ValueError):
        return False


def _cell(value: Any) -> str | None:
    """One cell as text: blank → missing; integral floats without '.0'; dates in ISO form."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        return "Ja" if value else "Nei"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    return str(value).strip()


# CSV -------------------------------------------------------------------------------------
def decode_text(raw: bytes, path: Path) -> tuple[str, str]:
    """(text, encoding): strict UTF-8 (BOM optional) first, then cp1252; else a clear error.

    Text that decodes but carries mojibake ('Ã¸' for 'ø') is refused too: in a UTF-8 file it
    means the export was double-encoded; in a cp1252 file it means UTF-8 and cp1252 are mixed.
    """
    _refuse_utf16(raw, path)
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as utf_err:
        try:
            text, encoding = raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as cp_err:
            # Report the byte that fits neither (cp1252 is the last try), with its line.
            line = raw[: cp_err.start].count(b"\n") + 1
            byte = raw[cp_err.start: cp_err.start + 1]
            utf_line = raw[: utf_err.start].count(b"\n") + 1
            raise DataError(path, f"ukjent tegnkoding: byte 0x{byte.hex()} (posisjon {cp_err.start}) "
                            f"er verken gyldig UTF-8 eller Windows-1252 (første ugyldige UTF-8-byte "
                            f"står på rad {utf_line})", row=line, value=byte.hex(),
                            expected="UTF-8 (med eller uten BOM) eller Windows-1252 – lagre "
                                     "filen som CSV UTF-8") from None
    bad = _MOJIBAKE.search(text)
    if bad:
        line_no = text.count("\n", 0, bad.start()) + 1
        line_start = text.rfind("\n", 0, bad.start()) + 1
        col = bad.start() - line_start
        line = text[line_start:].splitlines()[0]
        snippet = line[max(0, col - 15): col + 15]
        problem = ("teksten ser dobbeltkodet ut (UTF-8 som er lest som Windows-1252 og lagret på "
                   "nytt; 'Ã¸' i stedet for 'ø')" if encoding == "utf-8" else
                   "filen blander UTF-8 og Windows-1252 (deler av teksten gir 'Ã¸' i stedet for 'ø')")
        raise DataError(path, problem, row=line_no, value=snippet,
                        expected="æ, ø og å som vanlige tegn – eksporter filen på nytt som UTF-8")
    return text, encoding


def _refuse_utf16(raw: bytes, path: Path) -> None:
    """UTF-16 (Excel's "Unicode text") or other text with NUL bytes: one line saying what to do.
    Left alone it decodes as Windows-1252 garbage and surfaces as a quoting problem."""
    head = raw[:4096]
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(head) >= 4 and head.count(b"\x00") >= len(head) // 4
        and (head[1::2].count(b"\x00") > len(head) // 4 or head[0::2].count(b"\x00") > len(head) // 4))
    if utf16:
        raise DataError(path, "filen er lagret som UTF-16 (Excel: «Unicode-tekst»), ikke som UTF-8",
                        hint="lagre den på nytt som «CSV UTF-8 (kommadelt)» og legg den i data/raw/")
    if b"\x00" in head:
        raise DataError(path, "filen inneholder NUL-byte og er ikke en tekstfil (CSV)",
                        hint="eksporter dataene som CSV UTF-8, XLSX eller SPSS .sav")


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line into the most fields (comma on a tie)."""
    best, best_n = ",", 0
    for delim in _DELIMITERS:
        n = len(next(csv.reader([header_line], delimiter=delim), []))
        if n > best_n:
            best, best_n = delim, n
    return best


def _read_csv(path: Path, mapping: dict) -> pd.DataFrame:
    raw = path.read_bytes()
    text, encoding = decode_text(raw, path)
    if not text.strip():
        raise DataError(path, "filen er tom", row=1, expected="en overskriftsrad og minst én rad med data")
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip())
    delim = sniff_delimiter(lines[first])
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delim)
    header: list[str] | None = None
    header_row = 1
    rows: list[list[str]] = []
    numbers: list[int] = []
    previous_end = 0
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not any(field.strip() for field in record):
                continue
            if header is None:
                header, header_row = record, start
                continue
            if len(record) != len(header):
                raise DataError(path, f"raden har {len(record)} felt, men overskriften har {len(header)}",
                                row=start, value=delim.replace("\t", "tab"),
                                expected=f"{len(header)} felt skilt med '{delim}' (sjekk anførselstegn "
                                         f"rundt tekst som inneholder skilletegnet)")
            rows.append(record)
            numbers.append(start)
    except csv.Error as exc:
        raise DataError(path, f"CSV-feil: {exc}", row=previous_end + 1,
                        expected="gyldig CSV") from None
    df = _frame(path, header or [], rows, numbers, header_row, mapping)
    df.attrs.update(encoding=encoding, delimiter=delim)
    return _decimal_commas(df)


def _decimal_commas(df: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns written with decimal commas (and space thousands) → '.' decimals.

    Only a column in which every non-blank value is such a number and at least one has a
    comma is touched, so labels and free text never are.
    """
    for col in df.columns:
        values = df[col].dropna()
        if values.empty or not values.str.contains(",", regex=False).any():
            continue
        if values.map(lambda v: bool(_DECIMAL_COMMA.match(v))).all():
            df[col] = df[col].str.replace(r"[ \u00a0]", "", regex=True).str.replace(",", ".", regex=False)
    return df


# --- The whole input step ---------------------------------------------------------------
def load_raw_survey(raw_dir: Path | str, year: int = 2023, *, codebook: Codebook | None = None,
                    mapping: dict | None = None, strict: bool = False) -> tuple[pd.DataFrame, Path]:
    """Find, read and validate ``survey_<year>`` in ``raw_dir``: (frame, path of the file read).

    The order the prepare step follows: :func:`find_export` → :func:`read_export` (mapping) →
    :func:`tillit.data.schemas.validate_raw_survey`; with ``strict`` also
    :func:`tillit.data.schemas.check_duplicates` (conflicting complete repeats are refused instead
    of resolved by the keep-last rule). Nothing is written.
    """
    from tillit.data.schemas import check_duplicates, validate_raw_survey

    codebook = codebook or load_codebook()
    path = find_export(raw_dir, f"survey_{year}")
    df = read_export(path, mapping, codebook=codebook)
    validate_raw_survey(df, path, codebook, year)
    if strict:
        check_duplicates(df, path, codebook)
    return df, path
