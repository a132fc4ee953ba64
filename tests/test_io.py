"""tillit.data.readers: reading CSV/XLSX/SAV exports onto the codebook's headers and labels."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from exports_factory import valid_survey, write_csv, write_sav, write_xlsx  # noqa: E402

from tillit.data import readers as io  # noqa: E402
from tillit.data.codebook import load_codebook  # noqa: E402
from tillit.config import ConfigError  # noqa: E402
from tillit.data.schemas import ROW_INDEX, DataError, validate_raw_survey  # noqa: E402


@pytest.fixture(scope="module")
def cb():
    return load_codebook()


@pytest.fixture
def survey(cb):
    return valid_survey(cb, n=5)


def _same_as(survey: pd.DataFrame, got: pd.DataFrame) -> None:
    """Every cell equal as text (blank ↔ missing)."""
    assert list(got.columns) == list(survey.columns)

    def cells(df):
        return [[None if pd.isna(v) else str(v) for v in row] for row in df.itertuples(index=False)]

    assert cells(got) == cells(survey)


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_csv_round_trip_any_delimiter_and_encoding(tmp_path, cb, survey, sep, encoding):
    path = write_csv(survey, tmp_path / "survey_2023.csv", sep=sep, encoding=encoding)
    df = io.read_export(path, codebook=cb)
    _same_as(survey, df)
    assert df.attrs["delimiter"] == sep
    assert df.attrs["encoding"] == ("cp1252" if encoding == "cp1252" else "utf-8")
    # Norwegian letters survive: no mojibake either way.
    assert "Fullført" in set(df["Status"])
    assert df.index.name == ROW_INDEX and list(df.index) == [2, 3, 4, 5, 6]
    validate_raw_survey(df, path, cb, 2023)


def test_csv_every_column_is_text_and_blanks_are_missing(tmp_path, cb, survey):
    survey.loc[1, "Tillit: MRS skaper hindringer"] = None
    path = write_csv(survey, tmp_path / "s.csv")
    df = io.read_export(path, codebook=cb)
    assert all(pd.api.types.is_string_dtype(df[c]) for c in df.columns)
    assert df.loc[3, "Tillit: MRS skaper hindringer"] is pd.NA or pd.isna(df.loc[3, "Tillit: MRS skaper hindringer"])
    assert df.loc[2, "Enhetsnr"] == "1000"  # leading digits kept as text, not a number


def test_csv_row_numbers_skip_blank_lines(tmp_path, cb, survey):
    path = write_csv(survey.head(2), tmp_path / "s.csv")
    text = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([text[0], "", text[1], "", text[2]]) + "\n", encoding="utf-8")
    df = io.read_export(path, codebook=cb)
    assert list(df.index) == [3, 5]


def test_semicolon_csv_with_decimal_commas(tmp_path, cb):
    path = tmp_path / "intervjuer.csv"
    path.write_text("ID;Varighet;Kommentar\nI1;1,5;Godt, men kort\nI2;12 345,25;Ja\nI3;2;\n", encoding="utf-8")
    df = io.read_export(path, codebook=cb)
    assert df["Varighet"].tolist() == ["1.5", "12345.25", "2"]
    assert pd.to_numeric(df["Varighet"]).sum() == pytest.approx(12348.75)
    # Text with commas is not touched.
    assert df.loc[2, "Kommentar"] == "Godt, men kort"


def test_xlsx_with_title_rows(tmp_path, cb, survey):
    path = write_xlsx(survey, tmp_path / "survey_2023.xlsx",
                      title_rows=["Tillitsreformen – medarbeiderundersøkelse", "Eksportert 2023-04-01", ""])
    df = io.read_export(path, codebook=cb)
    _same_as(survey, df)
    assert df.attrs["header_row"] == 4
    assert list(df.index) == [5, 6, 7, 8, 9]  # the sheet's own row numbers
    validate_raw_survey(df, path, cb, 2023)


def test_xlsx_numbers_and_dates_become_text(tmp_path, cb, survey):
    from datetime import datetime

    survey = survey.astype(object)
    survey["Innsendt"] = [datetime(2023, 3, 1, 10, 0, i) for i in range(len(survey))]
    path = write_xlsx(survey, tmp_path / "s.xlsx")
    df = io.read_export(path, codebook=cb)
    assert df.loc[2, "Innsendt"] == "2023-03-01 10:00:00"
    validate_raw_survey(df, path, cb, 2023)


def test_sav_value_labels_applied(tmp_path, cb, survey):
    survey.loc[0, "Tillit: MRS skaper hindringer"] = None
    path = write_sav(survey, tmp_path / "survey_2023.sav", cb)
    df = io.read_export(path, codebook=cb)
    _same_as(survey, df)  # codes → the codebook's labels; headers from the variable labels
    validate_raw_survey(df, path, cb, 2023)


def test_mapping_renames_columns_and_labels(tmp_path, cb, survey):
    survey = survey.rename(columns={"Rolle": "Rolle i NAV"})
    survey["Rolle i NAV"] = survey["Rolle i NAV"].replace({"Leder": "Avdelingsleder"})
    survey["Resultater brukes til læring"] = "Ikke sikker"
    path = write_csv(survey, tmp_path / "s.csv")
    mapping = {"columns": {"Rolle i NAV": "Rolle"},
               "labels": {"Rolle": {"avdelingsleder": "Leder"}, "*": {"Ikke sikker": "Vet ikke"}}}
    df = io.read_export(path, mapping, codebook=cb)
    assert "Rolle" in df.columns and "Rolle i NAV" not in df.columns
    assert "Avdelingsleder" not in set(df["Rolle"]) and "Leder" in set(df["Rolle"])
    assert set(df["Resultater brukes til læring"]) == {"Vet ikke"}
    validate_raw_survey(df, path, cb, 2023)


def test_mapping_file_is_validated(tmp_path, cb):
    good = tmp_path / "mapping.yml"
    good.write_text('columns: {"Rolle i NAV": "Rolle"}\nlabels: {"*": {"Ikke sikker": "Vet ikke"}}\n', encoding="utf-8")
    assert io.load_mapping(good, cb)["columns"] == {"Rolle i NAV": "Rolle"}
    bad_key = tmp_path / "bad_key.yml"
    bad_key.write_text("kolonner: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ukjent nøkkel 'kolonner'"):
        io.load_mapping(bad_key, cb)
    bad_target = tmp_path / "bad_target.yml"
    bad_target.write_text('columns: {"Rolle i NAV": "Rolla"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'Rolla', som ikke er en overskrift i kodeboken"):
        io.load_mapping(bad_target, cb)
    bad_type = tmp_path / "bad_type.yml"
    bad_type.write_text("columns: [Rolle]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'columns'"):
        io.load_mapping(bad_type, cb)


def test_repo_mapping_file_loads(cb):
    mapping = io.load_mapping(None, cb)
    assert set(mapping) == {"columns", "labels"}


def test_mapping_collision_is_refused(tmp_path, cb, survey):
    survey["Rolle i NAV"] = survey["Rolle"]
    path = write_csv(survey, tmp_path / "s.csv")
    with pytest.raises(DataError, match="både 'Rolle' og 'Rolle i NAV' blir 'Rolle'"):
        io.read_export(path, {"columns": {"Rolle i NAV": "Rolle"}}, codebook=cb)


def test_find_export(tmp_path, cb, survey):
    write_csv(survey, tmp_path / "survey_2023.csv")
    (tmp_path / "survey_2017.csv").write_text("x\n1\n", encoding="utf-8")
    assert io.find_export(tmp_path, "survey_2023") == tmp_path / "survey_2023.csv"
    write_xlsx(survey, tmp_path / "survey_2023.xlsx")
    with pytest.raises(DataError, match="flere kildefiler.*survey_2023.csv, survey_2023.xlsx"):
        io.find_export(tmp_path, "survey_2023")


def test_xlsx_data_on_second_sheet(tmp_path, cb, survey):
    from openpyxl import load_workbook

    path = write_xlsx(survey, tmp_path / "survey_2023.xlsx", title_rows=["Svar"])
    wb = load_workbook(path)
    info = wb.create_sheet("Om eksporten", 0)     # a cover sheet first
    info.append(["Eksportert", "2023-04-01"])
    wb.save(path)
    df = io.read_export(path, codebook=cb)
    assert df.attrs["sheet"] == "Eksport" and df.attrs["header_row"] == 2
    _same_as(survey, df)


def test_sav_dates_and_labelled_admin_codes(tmp_path, cb, survey):
    import pyreadstat

    units = {float(u.code): u.label for u in cb.unit_types.values()}
    codes = [float(cb.unit_types[k].code) for k in ["nav_kontor", "nks", "nay", "nfp", "hot"]]
    data = pd.DataFrame({
        "id": [f"R{i}" for i in range(5)],
        "tid": pd.to_datetime(["2023-03-01 10:00:00", None, "2023-03-02 11:30:00",
                               "2023-03-03 09:00:05", "2023-03-04 08:00:00"]),
        "enhet": codes,
    })
    path = tmp_path / "survey_2023.sav"
    pyreadstat.write_sav(data, str(path), column_labels={"id": "RespondentID", "tid": "Innsendt", "enhet": "Enhetstype"},
                         variable_value_labels={"enhet": units})
    df = io.read_export(path, {}, codebook=cb)
    assert list(df.columns) == ["RespondentID", "Innsendt", "Enhetstype"]
    assert df.loc[2, "Innsendt"] == "2023-03-01 10:00:00" and pd.isna(df.loc[3, "Innsendt"])
    assert df["Enhetstype"].tolist()[:2] == ["NAV-kontor", "NAV kontaktsenter (NKS)"]


def test_load_raw_survey_runs_the_input_step(tmp_path, cb, survey):
    dup = survey.iloc[[0]].assign(Rolle="Verneombud")
    write_csv(pd.concat([survey, dup], ignore_index=True), tmp_path / "survey_2023.csv")
    df, path = io.load_raw_survey(tmp_path, 2023, codebook=cb, mapping={})
    assert path.name == "survey_2023.csv" and len(df) == 6
    with pytest.raises(DataError, match="samme RespondentID og ulike svar"):
        io.load_raw_survey(tmp_path, 2023, codebook=cb, mapping={}, strict=True)


def test_large_export_reads_quickly(tmp_path, cb):
    import time

    big = valid_survey(cb, n=5000)
    path = write_csv(big, tmp_path / "survey_2023.csv", sep=";", encoding="cp1252")
    start = time.perf_counter()
    df = io.read_export(path, {}, codebook=cb)
    validate_raw_survey(df, path, cb, 2023)
    elapsed = time.perf_counter() - start
    assert len(df) == 5000
    assert elapsed < 20, f"lesing og validering av 5000 rader tok {elapsed:.1f} s"
