"""Reading an SPSS .sav export: value labels and declared missing values, checked against the codebook.

SPSS variable names cannot hold spaces, so the codebook's header usually sits in the variable
label; either is accepted. Codes are turned into the file's value labels, and those labels
must mean what the codebook says (a label that differs is refused, see params/mapping.yml).

User-missing values (codes the file declares missing, e.g. 9 = "Vet ikke", 99 = "Ikke
besvart") are read as what they are (pyreadstat ``user_missing=True``), then the codebook
decides: a code labelled with the scale's "don't know" label (or, unlabelled, carrying its
code) is "Vet ikke"; a code labelled with an answer of the scale is a contradiction and
refused; any other declared-missing code is a blank (not answered). Without this, "Vet ikke"
silently became blank.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tillit.data.codebook import Codebook, Scale, norm_key
from tillit.data.errors import ROW_INDEX, DataError, Issue


def read_sav(path: Path, mapping: dict, codebook: Codebook) -> pd.DataFrame:
    """The .sav as a text frame (see :func:`tillit.data.readers.read_export`)."""
    import pyreadstat

    from tillit.data.readers import _known_headers, _label_lookup, _rename_columns

    try:
        data, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=True)
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        raise DataError(path, f"kan ikke lese SPSS-filen ({type(exc).__name__})", expected="en .sav-fil",
                        detail=str(exc)) from None
    if data.shape[1] == 0:
        raise DataError(path, "filen er tom (ingen variabler)", row=1, expected="variabler og besvarelser")
    known = _known_headers(codebook) | set(mapping.get("columns", {}))
    names_to_labels = meta.column_names_to_labels or {}
    headers = []
    for name in data.columns:
        label = names_to_labels.get(name)
        headers.append(label if name not in known and label and label.strip() in known else name)
    renamed = _rename_columns([h.strip() for h in headers], mapping, path, 1)
    by_raw = codebook.by_raw()
    value_labels = meta.variable_value_labels or {}
    missing_ranges = meta.missing_ranges or {}
    columns: dict[str, list[Any]] = {}
    counts: dict[str, int] = {}
    for name, header in zip(data.columns, renamed):
        table = _label_lookup(mapping, header)
        labels = {_code(k): table.get(norm_key(v), str(v)) for k, v in value_labels.get(name, {}).items()}
        ranges = missing_ranges.get(name, [])
        var = by_raw.get(header)
        scale = codebook.scales[var.scale] if var is not None and var.scale else None
        # Every declared-missing code, whether or not someone has it (99 = 'Ikke besvart' is
        # then not an unknown label).
        codes = {_code(v) for v in data[name].dropna().unique()} | set(labels)
        missing = {code: _missing_meaning(code, labels.get(code), scale)
                   for code in codes if _is_missing(code, ranges)}
        if scale is not None:
            _check_labels(path, header, name, labels, missing, scale)
        columns[header] = [_cell(v, labels, missing) for v in data[name].tolist()]
        counts[header] = sum(1 for v in data[name].tolist() if _code(v) in missing and missing[_code(v)] is None)
    if len(data) == 0:
        raise DataError(path, "filen inneholder bare variabler, ingen besvarelser", row=1,
                        expected="minst én besvarelse")
    df = pd.DataFrame(columns, index=pd.Index(range(2, len(data) + 2), name=ROW_INDEX), dtype="str")
    df.attrs["header_row"] = 1
    # Declared-missing cells read as blank (not "Vet ikke"), per column: counts, no values.
    df.attrs["user_missing_blank"] = {k: v for k, v in counts.items() if v}
    return df


def _code(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_missing(code: Any, ranges: list[dict]) -> bool:
    for r in ranges:
        lo, hi = r.get("lo"), r.get("hi")
        try:
            if lo <= code <= hi:
                return True
        except TypeError:  # a string variable's missing values against a number, or the reverse
            continue
    return False


def _missing_meaning(code: Any, label: str | None, scale: Scale | None) -> str | None:
    """What a declared-missing code stands for: the scale's "Vet ikke" label, an answer label
    (a contradiction, refused by :func:`_check_labels`), or None (blank: not answered)."""
    if scale is None:
        return None
    if label is None:
        return scale.dont_know_label if code == scale.dont_know_code else None
    if norm_key(label) == norm_key(scale.dont_know_label):
        return scale.dont_know_label
    if norm_key(label) in {norm_key(v) for v in scale.labels.values()}:
        return label
    return None


def _cell(value: Any, labels: dict, missing: dict) -> str | None:
    from tillit.data.readers import _blank, _cell as text

    if _blank(value):
        return None
    code = _code(value)
    if code in missing:
        return missing[code]
    if code in labels:
        return labels[code]
    return text(value)


def _check_labels(path: Path, header: str, name: str, labels: dict, missing: dict, scale: Scale) -> None:
    expected = scale.code_to_label()
    expected_text = ", ".join(f"{c} = '{lab}'" for c, lab in expected.items())
    column = header if header == name else f"{header}' (SPSS-variabel '{name}"
    answers = {norm_key(v) for v in scale.labels.values()}
    issues = []
    for code, label in sorted(labels.items(), key=lambda kv: str(kv[0])):
        want = expected.get(code)
        if code in missing:
            if missing.get(code) is not None and norm_key(label) in answers:
                issues.append(Issue(f"kode {code} ('{label}') er erklært som manglende verdi i .sav-filen, men "
                                    f"'{label}' er et svaralternativ i skalaen {scale.name}", 1, column,
                                    f"{code} = '{label}'", "at bare 'Vet ikke' og ubesvart er erklært manglende"))
            continue
        if want is None:
            issues.append(Issue(f"verdietiketten for kode {code} ('{label}') finnes ikke i skalaen "
                                f"{scale.name}", 1, column, f"{code} = '{label}'", expected_text))
        elif norm_key(want) != norm_key(label):
            issues.append(Issue(f"verdietiketten for kode {code} er '{label}', men kodeboken har "
                                f"'{want}'", 1, column, f"{code} = '{label}'", expected_text))
    if issues:
        raise DataError(path, issues, n_issues=len(issues),
                        hint="Kodene i .sav-filen betyr noe annet enn i kodeboken. Rett "
                             "verdietikettene, eller oversett etikettene under labels i "
                             "params/mapping.yml hvis bare ordlyden er ulik.")

