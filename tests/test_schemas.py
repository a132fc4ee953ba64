"""tillit.data.schemas: pandera schemas built from the codebook, processed checks, duplicates."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from exports_factory import valid_survey  # noqa: E402

from tillit.data.codebook import load_codebook, norm_key  # noqa: E402
from tillit.data.schemas import (  # noqa: E402
    DataError, Issue, check_duplicates, closest_header, raw_columns, raw_survey_schema,
    validate_processed_survey, validate_raw_survey,
)


@pytest.fixture(scope="module")
def cb():
    return load_codebook()


def processed(raw: pd.DataFrame, cb) -> pd.DataFrame:
    """The processed layout of docs/architecture.md, built here from the codebook."""
    out = pd.DataFrame({"respondent_id": raw["RespondentID"].astype(object)})
    out["submitted_at"] = pd.to_datetime(raw["Innsendt"])
    out["role"] = pd.Categorical(raw["Rolle"].map(lambda v: cb.role_aliases[norm_key(v)]), categories=list(cb.roles))
    units = raw["Enhetstype"].map(lambda v: cb.unit_alias_map()[norm_key(v)])
    out["unit_type"] = pd.Categorical(units, categories=list(cb.unit_types))
    out["line"] = pd.Categorical(units.map(lambda u: cb.unit_types[u].line), categories=list(cb.lines))
    out["unit_number"] = raw["Enhetsnr"].astype(object)
    for name, var in cb.items.items():
        codes = cb.scales[var.scale].label_to_code()
        out[name] = raw[var.raw].map(lambda v: codes[norm_key(v)]).astype("Int8")
    return out


def test_raw_schema_is_built_from_codebook(cb):
    schema = raw_survey_schema(cb, 2023)
    required, optional = raw_columns(cb, 2023)
    assert set(schema.columns) == set(required) | set(optional)
    assert len(required) == len(cb.items) + len(cb.admin) - 1 and optional == ["Utdypende svar"]
    # Every scale label of the codebook is named in the expectation of its columns.
    for var in cb.items.values():
        check = schema.columns[var.raw].checks[0]
        for label in cb.scales[var.scale].labels.values():
            assert f"'{label}'" in check.error


def test_raw_2017_requires_only_shared_items(cb):
    raw = valid_survey(cb, 3)
    keep = ["RespondentID"] + [cb.items[n].raw for n in cb.items_2017]
    validate_raw_survey(raw[keep], "survey_2017.csv", cb, 2017)
    with pytest.raises(DataError, match="kolonnen 'Resultater brukes til læring' mangler"):
        validate_raw_survey(raw[keep].drop(columns=["Resultater brukes til læring"]), "survey_2017.csv", cb, 2017)
    with pytest.raises(ValueError, match="ukjent undersøkelsesår 2019"):
        raw_columns(cb, 2019)


def test_raw_positional_index_gives_file_rows(cb):
    raw = valid_survey(cb, 4)
    raw.loc[2, "Status"] = "Ferdig"
    with pytest.raises(DataError) as exc:
        validate_raw_survey(raw, "eksport.csv", cb, 2023)
    assert exc.value.row == 4 and exc.value.column == "Status" and exc.value.value == "Ferdig"
    assert "'Fullført', 'Delvis'" in str(exc.value)


def test_raw_missing_id_is_an_error(cb):
    raw = valid_survey(cb, 3)
    raw.loc[1, "RespondentID"] = None
    with pytest.raises(DataError) as exc:
        validate_raw_survey(raw, "eksport.csv", cb, 2023)
    assert exc.value.row == 3 and exc.value.column == "RespondentID" and "tom verdi" in str(exc.value)


def test_error_caps_issue_list(cb):
    raw = valid_survey(cb, 12)
    raw["Status"] = "Ferdig"
    with pytest.raises(DataError) as exc:
        validate_raw_survey(raw, "eksport.csv", cb, 2023)
    err = exc.value
    assert err.n_issues == 12 and len(err.issues) == 5 and "viser de 5 første" in str(err)


def test_dataerror_message_parts():
    err = DataError("a.csv", [Issue("ukjent rolle", 7, "Rolle", "Sjef", "en kjent rolle")])
    assert str(err) == "a.csv: rad 7, kolonne 'Rolle': ukjent rolle; forventet en kjent rolle"
    assert err.detail == "a.csv: rad 7, kolonne 'Rolle': ukjent rolle – verdi 'Sjef'; forventet en kjent rolle"
    assert (err.file, err.row, err.column, err.value, err.expected) == ("a.csv", 7, "Rolle", "Sjef", "en kjent rolle")
    assert isinstance(err, ValueError)


def test_closest_header():
    assert closest_header("Enhetstype", ["Enhets type", "Rolle"]) == "Enhets type"
    assert closest_header("Rolle", ["Din rolle", "Enhetsnr"]) == "Din rolle"
    assert closest_header("Rolle", ["Innsendt"]) is None


def test_processed_valid(cb):
    out = validate_processed_survey(processed(valid_survey(cb, 6), cb), cb, 2023)
    assert len(out) == 6


@pytest.mark.parametrize("breakage,column,text", [
    (lambda d: d.__setitem__("f_tid", d["f_tid"].mask(d.index == 2, 6)), "f_tid", "kodene [1, 2, 3, 4, 5, 9]"),
    (lambda d: d.__setitem__("competition", d["competition"].astype("float64")), "competition", "Int8"),
    (lambda d: d.__setitem__("role", d["role"].cat.reorder_categories(list(d["role"].cat.categories)[::-1])),
     "role", "kodebokens rekkefølge"),
    (lambda d: d.__setitem__("unit_type", d["unit_type"].astype(str)), "unit_type", "kategorisk"),
    (lambda d: d.__setitem__("respondent_id", ["R1", "R1", "R2", "R3", "R4", "R5"]), "respondent_id", "én rad per"),
    (lambda d: d.__setitem__("submitted_at", d["submitted_at"].astype(str)), "submitted_at", "datetime64"),
    (lambda d: d.__setitem__("unit_number", d["unit_number"].mask(d.index == 1, "12")), "unit_number", "[0-9]{4}"),
])
def test_processed_breakages(cb, breakage, column, text):
    df = processed(valid_survey(cb, 6), cb)
    breakage(df)
    with pytest.raises(DataError) as exc:
        validate_processed_survey(df, cb, 2023)
    assert exc.value.column == column and text in str(exc.value)
    assert "klargjorte data survey_2023" in str(exc.value)


def test_processed_refuses_free_text(cb):
    df = processed(valid_survey(cb, 3), cb)
    df["free_text"] = "tekst"
    with pytest.raises(DataError, match="fritekst"):
        validate_processed_survey(df, cb, 2023)


def test_processed_2017_items_only(cb):
    df = processed(valid_survey(cb, 3), cb)[["respondent_id", *cb.items_2017]]
    validate_processed_survey(df, cb, 2017)
    with pytest.raises(DataError, match="kolonnen mangler"):
        validate_processed_survey(df.drop(columns=["f_tid"]), cb, 2017)


def test_check_duplicates_reports_every_conflict(cb):
    raw = valid_survey(cb, 4)
    first = raw.iloc[[0]].assign(Rolle="Leder" if raw.loc[0, "Rolle"] != "Leder" else "Medarbeider")
    second = raw.iloc[[2]].assign(**{"Involvert i målsetting": "Vet ikke"})
    both = pd.concat([raw, first, second], ignore_index=True)
    with pytest.raises(DataError) as exc:
        check_duplicates(both, "eksport.csv", cb)
    err = exc.value
    assert err.n_issues == 2
    msg = str(err)
    assert "rad 2 og rad 6" in msg and "'Rolle'" in msg
    assert "rad 4 og rad 7" in msg and "'Involvert i målsetting'" in msg
    # The ids and the answers go to the terminal only.
    assert "R0001" not in msg and "R0003" not in msg
    assert "RespondentID 'R0001'" in err.detail and "RespondentID 'R0003'" in err.detail


def test_check_duplicates_ignores_case_timestamp_free_text_and_test_responses(cb):
    raw = valid_survey(cb, 3)
    again = raw.iloc[[1]].assign(Innsendt="2023-04-01 12:00:00", **{"Utdypende svar": "annen tekst"})
    again["Rolle"] = again["Rolle"].str.upper()
    test = raw.iloc[[2]].assign(Testsvar="Ja", Rolle="Verneombud")
    check_duplicates(pd.concat([raw, again, test], ignore_index=True), "eksport.csv", cb)


def test_check_duplicates_needs_id_column(cb):
    with pytest.raises(DataError, match="kolonnen 'RespondentID' mangler"):
        check_duplicates(pd.DataFrame({"x": [1]}), "eksport.csv", cb)


def test_check_duplicates_compares_meanings_not_spellings(cb):
    raw = valid_survey(cb, 3)
    again = raw.iloc[[0]].copy()
    unit = cb.unit_alias_map()
    key = unit[norm_key(again["Enhetstype"].iloc[0])]
    again["Enhetstype"] = cb.unit_types[key].aliases[-1]          # another spelling, same unit
    again["Rolle"] = [a for a in cb.raw["roles"][cb.role_aliases[norm_key(raw.loc[0, "Rolle"])]]["aliases"]][-1]
    check_duplicates(pd.concat([raw, again], ignore_index=True), "eksport.csv", cb)


def test_norm_key_is_cached_per_type_and_map_distinct_maps_like_map():
    import numpy as np
    import pandas as pd

    from tillit.data.codebook import map_distinct, norm_key

    assert norm_key(1) == "1" and norm_key(1.0) == "1 0" and norm_key(True) == "true"  # 1, 1.0, True: three entries
    assert norm_key(["Ikke", "hashbar"]) == norm_key(str(["Ikke", "hashbar"]))
    s = pd.Series(["Helt  enig", None, "helt-enig", np.nan, "Uenig", "Helt  enig"], index=[5, 6, 7, 8, 9, 10],
                  dtype="str")
    calls = []
    out = map_distinct(s, lambda v: calls.append(v) or norm_key(v), missing="mangler")
    assert list(out.index) == [5, 6, 7, 8, 9, 10]
    assert list(out) == ["helt enig", "mangler", "helt enig", "mangler", "uenig", "helt enig"]
    assert sorted(calls) == sorted({"Helt  enig", "helt-enig", "Uenig"})  # once per distinct value
    assert map_distinct(pd.Series([], dtype="str"), norm_key).empty
