"""Every bad-input case of issues #6 and #11 that concerns input files and params files.

Each case must raise, and the message must name the file, the row (1-based as in the file,
header = row 1), the column and what was expected; the offending value is named in
``err.detail`` (the terminal) and never in ``str(err)`` (what notebooks, logs and manifests
keep). Reading never writes: the directory holding the bad file is byte-for-byte unchanged
afterwards.
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from exports_factory import valid_survey, write_csv, write_sav, write_xlsx  # noqa: E402

from tillit.data import readers as io  # noqa: E402
from tillit.data.codebook import load_codebook  # noqa: E402
from tillit.config import ConfigError, load_pipeline, load_run_params  # noqa: E402
from tillit.data.errors import show  # noqa: E402
from tillit.data.schemas import DataError, check_duplicates, validate_raw_survey  # noqa: E402

ITEM = "Tillit: MRS skaper hindringer"        # a grad5 item
FACTOR = "Handlingsrom: Tid til oppgavene"   # an effekt5 item


@pytest.fixture(scope="module")
def cb():
    return load_codebook()


@pytest.fixture
def survey(cb):
    return valid_survey(cb, n=6)


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def load_and_validate(path: Path, cb, mapping=None):
    """What the prepare step does: read, then validate; must leave the folder untouched."""
    before = snapshot(path.parent)
    try:
        df = io.read_export(path, mapping or {}, codebook=cb)
        return validate_raw_survey(df, path, cb, 2023)
    finally:
        assert snapshot(path.parent) == before


def assert_names(err: DataError, path: Path, *, row=None, column=None, value=None, expected=()):
    msg = str(err)
    assert str(path) in msg and err.file == str(path)
    if row is not None:
        assert err.row == row and f"rad {row}" in msg
    if column is not None:
        assert err.column == column and f"'{column}'" in msg
    if value is not None:
        quoted = f"verdi {show(err.value)}"
        assert str(err.value) == str(value) and quoted in err.detail and quoted not in msg
    for text in expected:
        assert text in msg, f"'{text}' mangler i meldingen:\n{msg}"


# --- columns ----------------------------------------------------------------------------
def test_missing_column(tmp_path, cb, survey):
    path = write_csv(survey.drop(columns=["Enhetstype"]), tmp_path / "survey_2023.csv")
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=1, column="Enhetstype",
                 expected=["kolonnen 'Enhetstype' mangler", "params/mapping.yml"])


def test_renamed_column_suggests_closest_header(tmp_path, cb, survey):
    path = write_csv(survey.rename(columns={"Enhetstype": "Enhets-type"}), tmp_path / "survey_2023.csv")
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=1, column="Enhetstype",
                 expected=["nærmeste overskrift i filen er 'Enhets-type'"])
    # ... and the suggested fix works.
    df = load_and_validate(path, cb, {"columns": {"Enhets-type": "Enhetstype"}})
    assert "Enhetstype" in df.columns


def test_renamed_column_in_xlsx_reports_header_row(tmp_path, cb, survey):
    path = write_xlsx(survey.rename(columns={"Rolle": "Din rolle"}), tmp_path / "survey_2023.xlsx",
                      title_rows=["Eksport fra undersøkelsesverktøyet", ""])
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=3, column="Rolle", expected=["'Din rolle'"])


# --- answers ----------------------------------------------------------------------------
def test_unknown_answer_label(tmp_path, cb, survey):
    survey.loc[3, ITEM] = "Ganske mye"
    path = write_csv(survey, tmp_path / "survey_2023.csv")
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=5, column=ITEM, value="Ganske mye",
                 expected=["ukjent svaralternativ", "'I svært liten grad'", "'Vet ikke'", "grad5"])


def test_out_of_range_value_on_five_point_scale(tmp_path, cb, survey):
    survey.loc[0, FACTOR] = "6"
    path = write_csv(survey, tmp_path / "survey_2023.csv", sep=";")
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=2, column=FACTOR, value="6",
                 expected=["utenfor skalaen", "'Svært negativt'", "'Svært positivt'", "effekt5"])


def test_out_of_range_code_in_sav(tmp_path, cb, survey):
    survey = survey.astype(object)
    survey.loc[2, ITEM] = 6  # a code with no value label
    path = write_sav(survey, tmp_path / "survey_2023.sav", cb)
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=4, column=ITEM, value="6", expected=["utenfor skalaen"])


def test_unknown_code_in_sav(tmp_path, cb, survey):
    survey = survey.astype(object)
    survey.loc[1, FACTOR] = 7
    path = write_sav(survey, tmp_path / "survey_2023.sav", cb)
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=3, column=FACTOR, value="7", expected=["Verken positivt eller negativt"])


def test_several_errors_are_counted_and_the_first_shown_in_file_order(tmp_path, cb, survey):
    survey.loc[4, ITEM] = "Ukjent"
    survey.loc[1, "Rolle"] = "Sjef"
    survey.loc[2, "Enhetsnr"] = "12a"
    path = write_csv(survey, tmp_path / "survey_2023.csv")
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    err = exc.value
    assert err.n_issues == 3 and "3 feil" in str(err)
    assert [i.row for i in err.issues] == [3, 4, 6]
    assert "ukjent rolle" in str(err) and "'Sjef'" in err.detail and "'Sjef'" not in str(err)
    assert "^[0-9]{4}$" in str(err)


def test_blank_answers_and_dont_know_are_allowed(tmp_path, cb, survey):
    survey.loc[0, ITEM] = None
    survey.loc[1, ITEM] = "vet ikke"   # case-insensitive
    path = write_csv(survey, tmp_path / "survey_2023.csv")
    load_and_validate(path, cb)


# --- units ------------------------------------------------------------------------------
def test_unit_code_not_in_codebook(tmp_path, cb, survey):
    survey.loc[2, "Enhetstype"] = "99"
    path = write_csv(survey, tmp_path / "survey_2023.csv")
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=4, column="Enhetstype", value="99",
                 expected=["ukjent enhetstype", "NAV-kontor (10)", "NAV arbeid og ytelser (NAY) (20)"])


def test_unit_aliases_and_codes_are_accepted(tmp_path, cb, survey):
    survey["Enhetstype"] = ["NKS", "nav  kontoret", "20", "Nav Arbeid og ytelser", "AVdir", "Klageinstansen"]
    path = write_csv(survey, tmp_path / "survey_2023.csv")
    load_and_validate(path, cb)


# --- duplicates -------------------------------------------------------------------------
def test_duplicated_respondent_with_conflicting_answers(tmp_path, cb, survey):
    dup = survey.iloc[[1]].copy()
    dup[ITEM] = "I svært stor grad" if survey.loc[1, ITEM] != "I svært stor grad" else "I liten grad"
    path = write_csv(pd.concat([survey, dup], ignore_index=True), tmp_path / "survey_2023.csv")
    df = load_and_validate(path, cb)
    with pytest.raises(DataError) as exc:
        check_duplicates(df, path, cb)
    err = exc.value
    assert_names(err, path, row=8, column=ITEM, value=dup[ITEM].iloc[0],
                 expected=["rad 3 og rad 8", "ulike svar"])
    assert "RespondentID 'R0002'" in err.detail and "R0002" not in str(err)


def test_duplicates_that_agree_or_are_partial_pass(tmp_path, cb, survey):
    same = survey.iloc[[1]].copy()
    partial = survey.iloc[[2]].copy()
    partial["Status"] = "Delvis"
    partial[ITEM] = None
    path = write_csv(pd.concat([survey, same, partial], ignore_index=True), tmp_path / "survey_2023.csv")
    df = load_and_validate(path, cb)
    check_duplicates(df, path, cb)  # no error


# --- empty and header-only files ---------------------------------------------------------
@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n  \n"])
def test_empty_csv(tmp_path, cb, content):
    path = tmp_path / "survey_2023.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=1, expected=["filen er tom", "overskriftsrad"])


def test_empty_xlsx(tmp_path, cb):
    from openpyxl import Workbook

    path = tmp_path / "survey_2023.xlsx"
    Workbook().save(path)
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, expected=["filen er tom"])


def test_header_only_csv(tmp_path, cb, survey):
    path = write_csv(survey.head(0), tmp_path / "survey_2023.csv", sep=";")
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=1, expected=["bare overskriftsraden", "minst én rad"])


def test_header_only_xlsx(tmp_path, cb, survey):
    path = write_xlsx(survey.head(0), tmp_path / "survey_2023.xlsx", title_rows=["Tittel"])
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=2, expected=["bare overskriftsraden"])


def test_header_only_sav(tmp_path, cb, survey):
    path = write_sav(survey.head(0), tmp_path / "survey_2023.sav", cb)
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, expected=["ingen besvarelser"])


# --- encodings --------------------------------------------------------------------------
def test_cp1252_file_is_not_read_as_utf8(tmp_path, cb, survey):
    path = write_csv(survey, tmp_path / "survey_2023.csv", encoding="cp1252")
    assert "ø".encode("cp1252") in path.read_bytes()
    df = load_and_validate(path, cb)
    assert df.attrs["encoding"] == "cp1252"
    assert df.loc[2, "Status"] == "Fullført"
    assert not df.apply(lambda s: s.str.contains("Ã|\ufffd", na=False)).any().any()


def test_utf8_file_is_not_read_as_cp1252(tmp_path, cb, survey):
    path = write_csv(survey, tmp_path / "survey_2023.csv", encoding="utf-8")
    df = load_and_validate(path, cb)
    assert df.attrs["encoding"] == "utf-8"
    assert df.loc[2, "Status"] == "Fullført"  # not 'FullfÃ¸rt'


def test_file_in_neither_encoding(tmp_path, cb, survey):
    path = write_csv(survey, tmp_path / "survey_2023.csv", encoding="cp1252")
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"Nei", b"N\x81i")   # 0x81: undefined in cp1252, invalid in UTF-8
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=4, value="81", expected=["verken gyldig UTF-8 eller Windows-1252",
                                                               "UTF-8 (med eller uten BOM)"])


def test_double_encoded_utf8_is_refused(tmp_path, cb, survey):
    path = tmp_path / "survey_2023.csv"
    text = survey.to_csv(index=False)
    path.write_bytes(text.encode("utf-8").decode("cp1252").encode("utf-8"))  # 'Ã¸' for 'ø'
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=1, expected=["dobbeltkodet", "eksporter filen på nytt som UTF-8"])


# --- CSV structure ----------------------------------------------------------------------
def test_semicolon_csv_with_decimal_commas_reads(tmp_path, cb, survey):
    survey["Vekt"] = ["1,5", "0,75", "2", "1,25", "3,0", "0,5"]   # an extra numeric column
    path = write_csv(survey, tmp_path / "survey_2023.csv", sep=";", encoding="cp1252")
    df = load_and_validate(path, cb)
    assert df.attrs["delimiter"] == ";"
    assert pd.to_numeric(df["Vekt"]).tolist() == [1.5, 0.75, 2.0, 1.25, 3.0, 0.5]


def test_ragged_row(tmp_path, cb, survey):
    path = write_csv(survey, tmp_path / "survey_2023.csv", sep=";")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4] + ";ekstra"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=5, expected=[f"raden har {survey.shape[1] + 1} felt",
                                                   f"{survey.shape[1]} felt skilt med ';'"])


# --- XLSX -------------------------------------------------------------------------------
def test_xlsx_with_title_rows_above_header(tmp_path, cb, survey):
    survey.loc[1, ITEM] = "Feil"
    path = write_xlsx(survey, tmp_path / "survey_2023.xlsx",
                      title_rows=["Tillitsreformen", "Eksportert fra verktøyet 01.04.2023", None])
    with pytest.raises(DataError) as exc:   # the row number is the sheet's own
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=6, column=ITEM, value="Feil")


# --- SAV --------------------------------------------------------------------------------
def test_sav_value_labels_differ_from_codebook(tmp_path, cb, survey):
    path = write_sav(survey, tmp_path / "survey_2023.sav", cb,
                     label_overrides={ITEM: {3: "Middels"}})
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    err = exc.value
    assert_names(err, path, value="3 = 'Middels'",
                 expected=[ITEM, "kode 3", "'Middels'", "kodeboken har 'I noen grad'",
                           "1 = 'I svært liten grad'", "9 = 'Vet ikke'", "SPSS-variabel"])


def test_sav_extra_code_label(tmp_path, cb, survey):
    path = write_sav(survey, tmp_path / "survey_2023.sav", cb, label_overrides={FACTOR: {8: "Ikke relevant"}})
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, expected=["kode 8", "'Ikke relevant'", "finnes ikke i skalaen effekt5"])


def test_sav_labels_fixed_by_mapping(tmp_path, cb, survey):
    path = write_sav(survey, tmp_path / "survey_2023.sav", cb, label_overrides={ITEM: {9: "Vet ikke/usikker"}})
    load_and_validate(path, cb, {"labels": {ITEM: {"Vet ikke/usikker": "Vet ikke"}}})


# --- missing raw file -------------------------------------------------------------------
def test_missing_raw_file(tmp_path, cb):
    (tmp_path / "survey_2023.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        io.find_export(tmp_path, "survey_2023")
    msg = str(exc.value)
    assert "survey_2023" in msg and "mangler" in msg
    assert "survey_2023.csv, survey_2023.xlsx, survey_2023.sav" in msg
    assert "fant survey_2023.txt" in msg
    with pytest.raises(DataError, match="kildefilen mangler"):
        io.read_export(tmp_path / "survey_2023.csv", {}, codebook=cb)


# --- params files (tillit.config) -------------------------------------------------------
def test_params_unknown_key(tmp_path):
    path = tmp_path / "params.yml"
    path.write_text("min_cell: 5\nmin_celle: 10\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_run_params(path)
    assert str(path) in str(exc.value) and "ukjent nøkkel 'min_celle'" in str(exc.value)


@pytest.mark.parametrize("key,value", [("min_cell", "fem"), ("min_cell", "true"), ("strict_disclosure", "kanskje"),
                                       ("targets", "ignore"), ("min_cell", "0")])
def test_params_wrong_type(tmp_path, key, value):
    path = tmp_path / "params.yml"
    path.write_text(f"{key}: {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_run_params(path)
    msg = str(exc.value)
    assert str(path) in msg and f"'{key}'" in msg and value.casefold() in msg.casefold()


def test_params_override_wrong_type():
    with pytest.raises(ConfigError, match="'min_cell'"):
        load_run_params(None, min_cell="mange")


def test_params_strict_mode_raises_min_cell(tmp_path):
    path = tmp_path / "params.yml"
    path.write_text("min_cell: 5\nstrict_disclosure: true\n", encoding="utf-8")
    assert load_run_params(path).effective_min_cell == 10


def _pipeline_root(tmp_path: Path, notebooks: list[str], yaml_text: str) -> Path:
    (tmp_path / "notebooks").mkdir()
    for name in notebooks:
        (tmp_path / "notebooks" / f"{name}.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "pipeline.yml").write_text(yaml_text, encoding="utf-8")
    return tmp_path


def test_pipeline_notebook_that_does_not_exist(tmp_path):
    root = _pipeline_root(tmp_path, ["00_klargjoring"], (
        "notebooks:\n  - {name: 00_klargjoring, title: Klargjøring}\n  - {name: 01_sammendragg, title: Sammendrag}\n"))
    with pytest.raises(ConfigError) as exc:
        load_pipeline(root=root)
    msg = str(exc.value)
    assert "pipeline.yml" in msg and "'01_sammendragg' finnes ikke" in msg and "notebooks/01_sammendragg.ipynb" in msg


def test_pipeline_unknown_key_and_wrong_type(tmp_path):
    root = _pipeline_root(tmp_path, ["a"], "notebooks:\n  - {name: a, title: A, bok: true}\nworkers: mange\n")
    with pytest.raises(ConfigError) as exc:
        load_pipeline(root=root)
    msg = str(exc.value)
    assert "ukjent nøkkel 'notebooks.0.bok'" in msg
    assert "'workers'" in msg and "mange" in msg


def test_pipeline_override_for_unknown_notebook(tmp_path):
    root = _pipeline_root(tmp_path, ["a"], "notebooks:\n  - {name: a, title: A}\noverrides: {b: {min_cell: 10}}\n")
    with pytest.raises(ConfigError, match="overrides nevner ukjent notatbok 'b'"):
        load_pipeline(root=root)


def test_mixed_utf8_and_cp1252_is_refused(tmp_path, cb, survey):
    path = write_csv(survey, tmp_path / "survey_2023.csv", encoding="utf-8")
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace("Fullført".encode("utf-8"), "Fullført".encode("cp1252"))
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=1, expected=["blander UTF-8 og Windows-1252"])


# --- issue 11: exports as survey tools write them ---------------------------------------
from exports_factory import (SHEET, csv_utf16, register_interviews, sav_with_user_missing,  # noqa: E402
                             xlsx_with_footer, xlsx_with_formula, xlsx_with_two_level_header)

from tillit.data import prepare  # noqa: E402


def one_line(err: Exception) -> str:
    msg = str(err)
    assert "\n" not in msg, f"mer enn én linje:\n{msg}"
    return msg


def test_sav_user_missing_codes_are_read_as_what_they_are(tmp_path, cb, survey):
    """9 = 'Vet ikke' and 99 = 'Ikke besvart', both declared user-missing: 9 stays 'Vet ikke'
    (it used to vanish as a blank), 99 is a blank, and nothing else moves."""
    survey.loc[0, ITEM] = "Vet ikke"
    survey.loc[1, ITEM] = "Ikke besvart"
    survey.loc[2, ITEM] = "Vet ikke"
    path = sav_with_user_missing(survey, tmp_path / "survey_2023.sav", cb, ITEM,
                                 missing={99: "Ikke besvart"}, declared=[9, 99])
    df = load_and_validate(path, cb)
    assert [None if pd.isna(v) else v for v in df[ITEM].tolist()[:3]] == ["Vet ikke", None, "Vet ikke"]
    assert df.attrs["user_missing_blank"] == {ITEM: 1}
    assert df[ITEM].tolist()[3:] == survey[ITEM].tolist()[3:]
    out, _ = prepare.clean_survey(df, path, cb)
    name = cb.by_raw()[ITEM].name
    assert int((out[name] == cb.scale_of(name).dont_know_code).sum()) == int((survey[ITEM] == "Vet ikke").sum())


def test_sav_user_missing_without_labels_follow_the_codebook(tmp_path, cb, survey):
    survey.loc[0, ITEM] = "Vet ikke"
    path = sav_with_user_missing(survey, tmp_path / "survey_2023.sav", cb, ITEM, missing={}, declared=[9])
    import pyreadstat

    data, meta = pyreadstat.read_sav(str(path))
    assert pd.isna(data["V" + str(list(survey.columns).index(ITEM) + 1)].iloc[0])  # what used to happen
    assert load_and_validate(path, cb)[ITEM].iloc[0] == "Vet ikke"


def test_sav_answer_declared_missing_is_refused(tmp_path, cb, survey):
    path = sav_with_user_missing(survey, tmp_path / "survey_2023.sav", cb, ITEM, missing={}, declared=[3])
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, expected=["kode 3", "erklært som manglende", "svaralternativ i skalaen grad5"])


def test_xlsx_notes_under_the_data_are_not_responses(tmp_path, cb, survey):
    path = xlsx_with_footer(survey, tmp_path / "survey_2023.xlsx",
                            [["Kilde: Questback, eksportert 01.04.2023"], ["Totalt", None, None, None, None, 6]])
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    err = exc.value
    first_note = len(survey) + 3     # header, the rows, a blank row
    assert_names(err, path, row=first_note, column="RespondentID",
                 expected=[f"ark '{SHEET}'", "merknad eller bunntekst", "(A)", f"rad {first_note + 1}"])
    assert err.n_issues == 2 and err.sheet == SHEET
    assert "Questback" not in str(err) and "Questback" in err.detail


def test_xlsx_total_row_right_under_the_data(tmp_path, cb, survey):
    from openpyxl import load_workbook

    path = write_xlsx(survey, tmp_path / "survey_2023.xlsx")
    wb = load_workbook(path)
    ws = wb.active
    ws.append(["Totalt", "6 svar", "6", "0", "", "", "", ""] + ["6"] * (len(survey.columns) - 8))
    wb.save(path)
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=len(survey) + 2, column="RespondentID", expected=["merknad eller bunntekst"])


def test_xlsx_formula_without_saved_value(tmp_path, cb, survey):
    path = xlsx_with_formula(survey, tmp_path / "survey_2023.xlsx", row=2, column="Rolle",
                             formula='=IF(B4="","Leder","Medarbeider")')
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    letter = "ABCDEFGHIJ"[list(survey.columns).index("Rolle")]
    assert_names(exc.value, path, row=4, column="Rolle",
                 expected=[f"ark '{SHEET}'", "formelen har ingen lagret verdi", f"({letter})", "lagre den på nytt"])
    assert "IF(" in exc.value.detail


def test_xlsx_formula_with_saved_value_is_read(tmp_path, cb, survey):
    """A formula whose value Excel saved is data like any other (the cached value is read)."""
    import zipfile

    path = xlsx_with_formula(survey, tmp_path / "survey_2023.xlsx", row=0, column="Enhetsnr", formula="=999+1")
    # Put a cached value into the cell, as Excel does on save.
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"<f>999+1</f><v></v>", b"<f>999+1</f><v>1000</v>").replace(
        b"<f>999+1</f>", b"<f>999+1</f><v>1000</v>") if b"<v>1000</v>" not in parts[sheet] else parts[sheet]
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    df = load_and_validate(path, cb)
    assert df.loc[2, "Enhetsnr"] == "1000"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_entirely_blank_required_column(tmp_path, cb, survey, fmt):
    survey["Rolle"] = None
    path = (write_xlsx(survey, tmp_path / "survey_2023.xlsx") if fmt == "xlsx"
            else write_csv(survey, tmp_path / "survey_2023.csv"))
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    letter = "ABCDEFGHIJ"[list(survey.columns).index("Rolle")]
    expected = ["kolonnen er tom i alle rader"] + ([f"ark '{SHEET}'", f"({letter})"] if fmt == "xlsx" else [])
    assert_names(exc.value, path, row=1, column="Rolle", expected=expected)


def test_blank_question_nobody_was_asked_is_fine(tmp_path, cb, survey):
    leader_only = [v.raw for v in cb.items.values() if set(v.asked_of) == {"leder"}]
    assert leader_only, "the codebook has leader-only questions"
    survey["Rolle"] = cb.roles["medarbeider"]
    survey[leader_only[0]] = None
    load_and_validate(write_csv(survey, tmp_path / "survey_2023.csv"), cb)


@pytest.mark.parametrize("vertical", [False, True])
def test_xlsx_two_level_merged_header(tmp_path, cb, survey, vertical):
    items = [i for i, c in enumerate(survey.columns, start=1) if c in cb.by_raw() and cb.by_raw()[c].scale]
    path = xlsx_with_two_level_header(survey, tmp_path / "survey_2023.xlsx",
                                      {"Spørsmål": (items[0], items[-1])}, vertical=vertical)
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=1, expected=[f"ark '{SHEET}'", "to nivåer", "sammenslåtte celler",
                                                   "én overskriftsrad"])


def test_xlsx_merged_title_above_the_header_is_fine(tmp_path, cb, survey):
    from openpyxl import load_workbook

    path = write_xlsx(survey, tmp_path / "survey_2023.xlsx", title_rows=["Tillitsreformen – eksport", ""])
    wb = load_workbook(path)
    wb.active.merge_cells("A1:H1")
    wb.save(path)
    assert len(load_and_validate(path, cb)) == len(survey)


def test_xlsx_merged_cells_in_the_data(tmp_path, cb, survey):
    from openpyxl import load_workbook

    path = write_xlsx(survey, tmp_path / "survey_2023.xlsx")
    wb = load_workbook(path)
    col = list(survey.columns).index("Enhetstype") + 1
    wb.active.merge_cells(start_row=3, start_column=col, end_row=5, end_column=col)
    wb.save(path)
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    assert_names(exc.value, path, row=3, column="Enhetstype", expected=["sammenslåtte celler i dataene"])


def test_utf16_csv_is_one_clear_line(tmp_path, cb, survey):
    path = csv_utf16(survey, tmp_path / "survey_2023.csv")
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    msg = one_line(exc.value)
    assert str(path) in msg and "UTF-16" in msg and "CSV UTF-8" in msg and "anførselstegn" not in msg


def test_decimal_in_integer_register_column_is_one_clear_line(tmp_path, cb):
    path = register_interviews(tmp_path / "intervjuer.csv", ["45", "41,5", "60"])
    df = io.read_export(path, {}, codebook=cb)
    with pytest.raises(DataError) as exc:
        prepare.register_frame("interviews", df, path, cb)
    msg = one_line(exc.value)
    assert_names(exc.value, path, row=3, column="Varighet (minutter)", value="41.5",
                 expected=["ikke et heltall", "desimaler", "params/codebook.yml"])
    assert "41" not in msg.replace(str(path), "")


def test_whole_numbers_in_integer_register_column(tmp_path, cb):
    path = register_interviews(tmp_path / "intervjuer.csv", ["45", "41,0", "60"])
    out = prepare.register_frame("interviews", io.read_export(path, {}, codebook=cb), path, cb)
    assert out["duration_min"].tolist() == [45, 41, 60]


@pytest.mark.parametrize("name", ["Survey_2023.xlsx", "survey_2023.CSV", "SURVEY_2023.Sav"])
def test_exports_are_recognised_whatever_the_case(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    assert io.find_export(tmp_path, "survey_2023").name == name


def test_two_exports_differing_in_case_are_ambiguous(tmp_path):
    (tmp_path / "survey_2023.csv").write_bytes(b"")
    (tmp_path / "Survey_2023.xlsx").write_bytes(b"")
    with pytest.raises(DataError, match="flere kildefiler"):
        io.find_export(tmp_path, "survey_2023")


def test_respondents_values_stay_out_of_the_message(tmp_path, cb, survey):
    """A raw 'Rolle' cell with a name and an e-mail address: the terminal may see it, nothing
    persisted (str(err), what papermill and the manifest keep) does."""
    import pickle

    survey.loc[3, "Rolle"] = "Kari Nordmann <kari.nordmann@nav.no>"
    path = write_csv(survey, tmp_path / "survey_2023.csv")
    with pytest.raises(DataError) as exc:
        load_and_validate(path, cb)
    err = exc.value
    assert "Kari" not in str(err) and "@" not in str(err)
    assert "rad 5" in str(err) and "'Rolle'" in str(err) and "ukjent rolle" in str(err)
    assert "kari.nordmann@nav.no" in err.detail
    again = pickle.loads(pickle.dumps(err))     # across dask workers
    assert str(again) == str(err) and again.detail == err.detail
