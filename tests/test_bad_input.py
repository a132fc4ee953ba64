"""Every bad-input case of issue #6 that concerns input files and params files.

Each case must raise, and the message must name the file, the row (1-based as in the file,
header = row 1), the column, the offending value and what was expected. Reading never writes:
the directory holding the bad file is byte-for-byte unchanged afterwards.
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
        assert str(err.value) == str(value) and str(value) in msg
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
    assert "ukjent rolle" in str(err) and "'Sjef'" in str(err)
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
                 expected=["RespondentID 'R0002'", "rad 3 og rad 8", "ulike svar"])


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
