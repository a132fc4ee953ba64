"""Validation of survey data against the codebook (pandera schemas built from params/codebook.yml).

Two levels:

* :func:`validate_raw_survey` checks an export as read by :func:`tillit.data.readers.read_export`
  (every column as text, answer labels): required columns, answer labels per scale, role and
  unit-type spellings (codebook aliases), unit numbers and timestamps.
* :func:`validate_processed_survey` checks the prepared frame (nullable ``Int8`` codes,
  categoricals with the codebook's keys, unique ``respondent_id``).

Every failure is a :class:`DataError` whose message names the file (and sheet), the row (1-based
as in the file, header = row 1), the column and what was expected; the offending value is in
``err.detail`` only (see :mod:`tillit.data.errors`). No label is typed in this module: all of
them come from the codebook.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from tillit.data.codebook import Codebook, map_distinct, norm_key
from tillit.data.errors import MAX_ISSUES, ROW_INDEX, DataError, Issue, file_row, show  # noqa: F401 (ROW_INDEX re-exported)


# --- Helpers ----------------------------------------------------------------------------
def _header_row(df: pd.DataFrame) -> int:
    return int(df.attrs.get("header_row", 1))


def _labels_text(labels: list[str]) -> str:
    return "en av " + ", ".join(f"'{x}'" for x in labels)


def _norm_isin(allowed: list[str]) -> Callable[[pd.Series], pd.Series]:
    keys = {norm_key(a) for a in allowed}

    def check(series: pd.Series) -> pd.Series:
        return series.isna() | map_distinct(series, lambda v: norm_key(v) in keys, missing=True).astype(bool)

    return check


def _matches_format(fmt: str) -> Callable[[pd.Series], pd.Series]:
    def check(series: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(series, format=fmt, errors="coerce")
        return series.isna() | parsed.notna()

    return check


def _pattern(regex: str) -> Callable[[pd.Series], pd.Series]:
    def check(series: pd.Series) -> pd.Series:
        return series.isna() | series.astype(str).str.fullmatch(regex.strip("^$")).fillna(False).astype(bool)

    return check


def raw_columns(codebook: Codebook, year: int) -> tuple[list[str], list[str]]:
    """(required, optional) raw headers of the survey export for ``year``.

    2023: every admin column and every scale item; the free-text column is optional (a real
    export may leave it out). 2017: the respondent id and the items repeated from 2017; the
    other admin columns are checked when present.
    """
    admin = codebook.admin
    if year == 2023:
        required = [v.raw for k, v in admin.items() if v.type != "free_text"]
        required += [v.raw for v in codebook.items.values()]
        optional = [v.raw for v in admin.values() if v.type == "free_text"]
    elif year == 2017:
        required = [admin["respondent_id"].raw] + [codebook.items[n].raw for n in codebook.items_2017]
        optional = [v.raw for k, v in admin.items() if k != "respondent_id"]
    else:
        raise ValueError(f"ukjent undersøkelsesår {year} (kjente: 2017, 2023)")
    return required, optional


# --- Raw schema -------------------------------------------------------------------------
def _raw_column_specs(codebook: Codebook, year: int) -> dict[str, tuple[Callable, str, str]]:
    """raw header -> (check function, check name, what is expected, in Norwegian)."""
    required, optional = raw_columns(codebook, year)
    wanted = set(required) | set(optional)
    specs: dict[str, tuple[Callable, str, str]] = {}
    for key, var in codebook.admin.items():
        if var.raw not in wanted:
            continue
        extra = var.extra
        if var.type == "role":
            labels = list(codebook.roles.values())
            aliases = [a for a in codebook.role_aliases]
            specs[var.raw] = (_norm_isin(aliases), "rolle",
                              f"en kjent rolle ({', '.join(labels)}; eller et alias i kodeboken)")
        elif var.type == "unit_type":
            known = [f"{u.label} ({u.code})" for u in codebook.unit_types.values()]
            specs[var.raw] = (_norm_isin(list(codebook.unit_alias_map())), "enhetstype",
                              "en kjent enhetstype: " + ", ".join(known))
        elif var.type == "category":
            values = extra.get("values", [])
            values = list(values.values()) if isinstance(values, dict) else list(values)
            specs[var.raw] = (_norm_isin(values), "kategori", _labels_text(values))
        elif var.type == "datetime":
            fmt = extra.get("format", "%Y-%m-%d %H:%M:%S")
            specs[var.raw] = (_matches_format(fmt), "tidspunkt", f"tidspunkt på formen {fmt}")
        elif var.type == "str" and extra.get("pattern"):
            specs[var.raw] = (_pattern(extra["pattern"]), "mønster",
                              f"tekst som passer mønsteret {extra['pattern']}"
                              + (f" ({extra['text']})" if extra.get("text") else ""))
    items = codebook.items.values() if year == 2023 else [codebook.items[n] for n in codebook.items_2017]
    for var in items:
        scale = codebook.scales[var.scale]
        labels = [scale.labels[c] for c in scale.codes] + [scale.dont_know_label]
        specs[var.raw] = (_norm_isin(labels), f"skala {scale.name}",
                          f"{_labels_text(labels)} eller tomt (skala {scale.name})")
    return specs


def raw_survey_schema(codebook: Codebook, year: int) -> pa.DataFrameSchema:
    """The pandera schema of a raw export (columns as text), built from the codebook."""
    required, optional = raw_columns(codebook, year)
    specs = _raw_column_specs(codebook, year)
    id_raw = codebook.admin["respondent_id"].raw
    columns = {}
    for raw in [*required, *optional]:
        checks = []
        if raw in specs:
            fn, name, expected = specs[raw]
            checks.append(pa.Check(fn, name=name, error=expected))
        columns[raw] = pa.Column(
            None, checks=checks, nullable=(raw != id_raw), required=(raw in required), name=raw)
    return pa.DataFrameSchema(columns, strict=False, coerce=False, name=f"survey_{year}_raw")


def closest_header(wanted: str, candidates: list[str]) -> str | None:
    """The header in ``candidates`` most like ``wanted`` (spelling, case, or one containing the other)."""
    keys = {norm_key(c): c for c in candidates}
    target = norm_key(wanted)
    close = difflib.get_close_matches(target, list(keys), n=1, cutoff=0.6)
    if close:
        return keys[close[0]]
    containing = [k for k in keys if target in k or (len(k) >= 4 and k in target)]
    return keys[min(containing, key=lambda k: (abs(len(k) - len(target)), k))] if containing else None


def _missing_columns(df: pd.DataFrame, path: Path | str, required: list[str]) -> None:
    present = [str(c) for c in df.columns]
    missing = [c for c in required if c not in present]
    if not missing:
        return
    unused = [c for c in present if c not in required]
    issues = []
    for col in missing:
        close = closest_header(col, unused)
        hint = f"; nærmeste overskrift i filen er '{close}'" if close else ""
        issues.append(Issue(f"kolonnen '{col}' mangler{hint}", _header_row(df), col, expected=(
            f"overskriften '{col}' fra kodeboken (eller en omdøping i params/mapping.yml)")))
    raise DataError(path, issues, n_issues=len(issues), frame=df,
                    hint="Rett overskriften i filen, eller legg til 'Overskrift i filen: "
                         "Overskrift i kodeboken' under columns i params/mapping.yml.")


def _numeric_out_of_range(value: Any, expected: str) -> str:
    try:
        float(str(value).replace(",", "."))
    except ValueError:
        return "ukjent svaralternativ"
    return "tallverdi utenfor skalaen (svar skal stå som tekst, eller som kode med verdietikett i .sav)"


def _schema_issues(df: pd.DataFrame, exc: SchemaErrors | SchemaError,
                   specs: dict[str, tuple[Callable, str, str]]) -> tuple[list[Issue], int]:
    cases = exc.failure_cases if isinstance(exc, SchemaErrors) else exc.failure_cases
    if cases is None or len(cases) == 0:
        return [Issue("dataene passer ikke skjemaet", detail=str(exc))], 1
    cases = cases.copy()
    order = {c: i for i, c in enumerate(df.columns)}
    cases["file_row"] = [file_row(df, i) if pd.notna(i) else None for i in cases["index"]]
    cases["col_pos"] = cases["column"].map(lambda c: order.get(c, len(order)))
    cases = cases.sort_values(["file_row", "col_pos"], na_position="first", kind="stable")
    issues: list[Issue] = []
    for case in cases.itertuples(index=False):
        col = case.column
        expected = specs.get(col, (None, None, str(case.check)))[2]
        value = case.failure_case
        if col in specs and specs[col][1].startswith("skala"):
            problem = _numeric_out_of_range(value, expected)
        elif col in specs and specs[col][1] == "enhetstype":
            problem = "ukjent enhetstype"
        elif col in specs and specs[col][1] == "rolle":
            problem = "ukjent rolle"
        elif str(case.check).startswith("not_nullable"):
            problem, value, expected = "tom verdi", None, "en verdi i hver rad"
        else:
            problem = "ugyldig verdi"
        issues.append(Issue(problem, case.file_row, col, value, expected))
    return issues[:MAX_ISSUES], len(cases)


def validate_raw_survey(df: pd.DataFrame, path: Path | str, codebook: Codebook, year: int) -> pd.DataFrame:
    """Check a raw export (as from :func:`tillit.data.readers.read_export`) against the codebook.

    Raises :class:`DataError` naming the file, the first few offending rows/columns and what
    was expected (the values are in ``err.detail``); returns ``df`` unchanged when it passes.
    """
    required, _ = raw_columns(codebook, year)
    _missing_columns(df, path, required)
    _blank_columns(df, path, codebook, year)
    specs = _raw_column_specs(codebook, year)
    schema = raw_survey_schema(codebook, year)
    try:
        schema.validate(df, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        issues, total = _schema_issues(df, exc, specs)
        raise DataError(path, issues, n_issues=total, frame=df,
                        hint="Ukjente svaralternativer kan oversettes under labels i "
                             "params/mapping.yml.") from None
    return df


def _blank_columns(df: pd.DataFrame, path: Path | str, codebook: Codebook, year: int) -> None:
    """A required column with no value in any row means the export lost it (a filter, a
    formula, a wrong export setting); reading on would count every respondent as not answering.

    Admin columns must hold something in some row; a question must hold an answer (or "Vet
    ikke") from someone it was asked of, when anyone in the file was asked it.
    """
    required, _ = raw_columns(codebook, year)
    by_raw = codebook.by_raw()
    roles = _keys(df, codebook.admin["role"].raw, codebook.role_aliases)
    units = _keys(df, codebook.admin["unit_type"].raw, codebook.unit_alias_map())
    issues = []
    for col in required:
        if col not in df.columns or df[col].notna().any():
            continue
        var = by_raw.get(col)
        if var is not None and var.scale and roles is not None:
            asked = roles.isin(var.asked_of)
            if var.unit_types and units is not None:
                asked &= units.isin(var.unit_types)
            if not asked.any():
                continue  # nobody in the file was asked this question: blank is right
        issues.append(Issue("kolonnen er tom i alle rader", _header_row(df), col,
                            expected="svar i kolonnen (sjekk filtre og eksportinnstillinger i "
                                     "undersøkelsesverktøyet, eller formler uten lagrede verdier)"))
    if issues:
        raise DataError(path, issues, n_issues=len(issues), frame=df)


def _keys(df: pd.DataFrame, column: str, aliases: dict[str, str]) -> pd.Series | None:
    """A role or unit-type column as codebook keys (None where unknown or blank)."""
    if column not in df.columns:
        return None
    return df[column].map(lambda v: None if pd.isna(v) else aliases.get(norm_key(v)))


# --- Duplicates -------------------------------------------------------------------------
def check_duplicates(df: pd.DataFrame, path: Path | str, codebook: Codebook | None = None) -> None:
    """Raise if one respondent id has several *complete* submissions with conflicting answers.

    Only complete (``Status`` = "Fullført") submissions that are not test responses are
    compared, on the answer columns (role, unit type, unit number and every scale item; not the
    timestamp or free text), by meaning: aliases of one role or unit type and label casing
    agree. Identical repeats pass: the prepare step keeps the last complete submission by rule,
    and with ``strict_duplicates: true`` it calls this function to refuse the data instead when
    the repeats disagree. The message names the file rows of both submissions and the first
    differing column; the id and both values are in ``err.detail`` only.
    """
    if codebook is None:
        from tillit.data.codebook import load_codebook
        codebook = load_codebook()
    admin = codebook.admin
    id_col = admin["respondent_id"].raw
    if id_col not in df.columns:
        raise DataError(path, f"kolonnen '{id_col}' mangler", row=_header_row(df), column=id_col,
                        expected=f"overskriften '{id_col}' fra kodeboken", frame=df)
    keep = pd.Series(True, index=df.index)
    status = admin["status"]
    if status.raw in df.columns:
        complete = norm_key(status.extra.get("values", ["Fullført"])[0])
        keep &= df[status.raw].map(lambda v: not pd.isna(v) and norm_key(v) == complete).astype(bool)
    test = admin["test_response"]
    if test.raw in df.columns:
        yes = norm_key(test.extra.get("values", ["Ja"])[0])
        keep &= ~df[test.raw].map(lambda v: not pd.isna(v) and norm_key(v) == yes).astype(bool)
    sub = df[keep]
    ids = sub[id_col].astype(str).str.strip()
    dup = ids[ids.duplicated(keep=False)]
    if dup.empty:
        return
    answer_cols = [admin[k].raw for k in ("role", "unit_type", "unit_number")]
    answer_cols += [v.raw for v in codebook.items.values()]
    answer_cols = [c for c in answer_cols if c in df.columns]
    # Compare meanings, not spellings: aliases of one role/unit type and any label casing agree.
    canon = {admin["role"].raw: codebook.role_aliases, admin["unit_type"].raw: codebook.unit_alias_map()}
    for var in codebook.items.values():
        canon[var.raw] = {k: str(c) for k, c in codebook.scales[var.scale].label_to_code().items()}
    normed = pd.DataFrame({
        c: sub.loc[dup.index, c].map(
            lambda v, table=canon.get(c, {}): "" if pd.isna(v) else table.get(norm_key(v), norm_key(v)))
        for c in answer_cols}, index=dup.index)
    issues: list[Issue] = []
    n_conflicts = 0
    for rid, idx in dup.groupby(dup, sort=False).groups.items():
        idx = list(idx)
        first = idx[0]
        for other in idx[1:]:
            differs = [c for c in answer_cols if normed.at[first, c] != normed.at[other, c]]
            if not differs:
                continue
            n_conflicts += 1
            col = differs[0]
            r1, r2 = file_row(df, first), file_row(df, other)
            issues.append(Issue(
                f"to fullførte besvarelser med samme RespondentID og ulike svar (rad {r1} og rad {r2}; "
                f"{len(differs)} kolonne(r) ulike, første: '{col}')",
                r2, col, sub.at[other, col],
                f"samme svar som rad {r1}, eller bare én fullført besvarelse per RespondentID",
                detail=f"RespondentID {show(rid)}; rad {r1}: {show(sub.at[first, col])}"))
    if issues:
        raise DataError(path, issues, n_issues=n_conflicts, frame=df,
                        hint="Klargjøringen beholder ellers siste fullførte besvarelse; med "
                             "strict_duplicates: true må dubletter med ulike svar ryddes i eksporten.")


# --- Processed schema -------------------------------------------------------------------
def _categorical(categories: list[str]) -> Callable[[pd.Series], bool]:
    def check(series: pd.Series) -> bool:
        return isinstance(series.dtype, pd.CategoricalDtype) and list(series.cat.categories) == categories

    return check


def processed_survey_schema(codebook: Codebook, year: int) -> pa.DataFrameSchema:
    """The pandera schema of ``data/processed/survey_<year>.parquet`` (see docs/architecture.md)."""
    cols: dict[str, pa.Column] = {
        "respondent_id": pa.Column(None, checks=[pa.Check(
            lambda s: s.map(lambda v: isinstance(v, str)), name="tekst",
            error="tekst (str)")], nullable=False, unique=True),
    }
    required_2023 = year == 2023
    cats = {"role": list(codebook.roles), "unit_type": list(codebook.unit_types),
            "line": list(codebook.lines)}
    for name, categories in cats.items():
        cols[name] = pa.Column(None, checks=[pa.Check(
            _categorical(categories), name="kategorier",
            error=f"kategorisk med kategoriene {categories} i kodebokens rekkefølge")],
            nullable=True, required=required_2023)
    # Any datetime64 resolution (pandas 3 parses to microseconds), tz-naive or not.
    cols["submitted_at"] = pa.Column(None, checks=[pa.Check(
        lambda s: pd.api.types.is_datetime64_any_dtype(s), name="tidspunkt",
        error="datetime64 (tidspunkt)")], nullable=True, required=required_2023)
    pattern = codebook.admin["unit_number"].extra.get("pattern", r"^[0-9]{4}$")
    cols["unit_number"] = pa.Column(None, checks=[pa.Check(_pattern(pattern), name="mønster",
                                                           error=f"mønsteret {pattern}")],
                                    nullable=True, required=required_2023)
    names = list(codebook.items) if year == 2023 else list(codebook.items_2017)
    for name in names:
        scale = codebook.scale_of(name)
        cols[name] = pa.Column(pd.Int8Dtype(), checks=[pa.Check.isin(
            scale.all_codes, error=f"kodene {scale.all_codes} eller <NA>")], nullable=True)
    return pa.DataFrameSchema(cols, strict=False, name=f"survey_{year}_processed")


def validate_processed_survey(df: pd.DataFrame, codebook: Codebook, year: int) -> pd.DataFrame:
    """Check a prepared survey frame: dtypes, codes, categories, unique ids, no free text."""
    where = f"klargjorte data survey_{year}"
    banned = {codebook.admin["free_text"].name, codebook.admin["free_text"].raw}
    leaked = [c for c in df.columns if c in banned]
    if leaked:
        raise DataError(where, "fritekst skal ikke være med i klargjorte data", column=leaked[0],
                        expected="ingen fritekstkolonne")
    schema = processed_survey_schema(codebook, year)
    try:
        return schema.validate(df, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        cases = exc.failure_cases
        issues = []
        for case in cases.head(MAX_ISSUES).itertuples(index=False):
            check = str(case.check)
            spec = schema.columns.get(case.column)
            errors = {c.name: c.error for c in (spec.checks if spec is not None else [])}
            row = None if pd.isna(case.index) else case.index
            if check == "field_uniqueness":
                problem, expected = "respondent_id står flere ganger", "én rad per respondent_id"
            elif check.startswith("dtype("):
                problem, expected = "feil datatype", f"{spec.dtype}" if spec is not None else check
            elif check == "not_nullable":
                problem, expected = "tom verdi", "en verdi i hver rad"
            elif check == "column_in_dataframe":
                problem, expected = "kolonnen mangler", "kolonnen fra docs/architecture.md"
            else:
                problem = "ugyldig verdi"
                expected = next((e for n, e in errors.items() if e and (n in check or e in check)), check)
            issues.append(Issue(problem, row, case.column, case.failure_case, expected, "indeks"))
        raise DataError(where, issues, n_issues=len(cases)) from None
