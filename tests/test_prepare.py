"""Data preparation: exclusion rules and flow, equality with the twin, formats, atomic writes."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from tillit.data import prepare
from tillit.data import synth
from tillit.data.schemas import DataError

SEED = 5


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("prep")
    synth.write_raw(root / "raw", seed=SEED)
    result = prepare.prepare(root / "raw", root / "processed")
    return root, result


@pytest.fixture(scope="module")
def clean():
    return synth.generate_clean(SEED)


def test_twin_gives_exactly_3660_respondents(prepared):
    root, result = prepared
    survey = pd.read_parquet(root / "processed" / "survey_2023.parquet")
    assert result.n_respondents == len(survey) == 3660
    assert survey["respondent_id"].is_unique
    assert "Utdypende svar" not in survey.columns and "free_text" not in survey.columns


def test_exclusion_flow_adds_up(prepared):
    root, result = prepared
    flow = pd.read_parquet(root / "processed" / "exclusion_flow.parquet")
    pd.testing.assert_frame_equal(flow, result.exclusion_flow, check_dtype=False)
    assert list(flow.columns[:4]) == ["step", "rule", "removed", "remaining"]
    raw_rows = len(pd.read_csv(root / "raw" / "survey_2023.csv", dtype=str))
    assert flow["remaining"].iloc[0] == raw_rows
    for prev, cur in zip(flow.itertuples(), flow.iloc[1:].itertuples()):
        assert cur.remaining == prev.remaining - cur.removed, cur.rule
    assert flow["remaining"].iloc[-1] == 3660
    assert flow["removed"].sum() == raw_rows - 3660
    by_step = flow.set_index("step")
    assert by_step.loc[1, "removed"] == 14        # test responses
    assert by_step.loc[2, "removed"] == 236 + 20  # partial completes
    assert by_step.loc[3, "removed"] == 41        # identical duplicates
    assert by_step.loc[4, "removed"] == 23        # conflicting duplicates
    assert by_step.loc[5, "changed"] > 0          # unit-type spellings recoded
    assert by_step.loc[7, "changed"] == 18        # answers to questions not asked -> NA
    assert flow["rule"].str.len().gt(10).all()


@pytest.mark.parametrize("name", ["survey_2023", "survey_2017", "md_brev_2022", "registers/interviews",
                                  "registers/municipalities", "registers/grants"])
def test_processed_equals_the_twins_clean_data(prepared, clean, name):
    root, _ = prepared
    got = pd.read_parquet(root / "processed" / f"{name}.parquet")
    want = clean[name]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
    if name.startswith("survey"):
        for col in ("role", "unit_type", "line"):
            assert list(got[col].cat.categories) == list(want[col].cat.categories)
        items = [c for c in got.columns if str(got[c].dtype) == "Int8"]
        assert len(items) >= 10


def test_processed_coding(prepared):
    root, _ = prepared
    survey = pd.read_parquet(root / "processed" / "survey_2023.parquet")
    assert str(survey["f_tid"].dtype) == "Int8"
    assert set(survey["f_tid"].dropna().unique()) <= {1, 2, 3, 4, 5, 9}
    assert (survey["f_tid"] == 9).sum() > 0
    # Questions not asked of the role are NA, never answered.
    med = survey["role"] == "medarbeider"
    assert survey.loc[med, "steer_municipal"].isna().all()
    assert survey.loc[med, "knows_goals"].isna().all()
    assert str(survey["submitted_at"].dtype) == "datetime64[ns]"


def test_data_source_records_kind_seed_and_hashes(prepared):
    root, result = prepared
    source = json.loads((root / "processed" / "data_source.json").read_text(encoding="utf-8"))
    assert source["kind"] == "synthetic" and source["seed"] == SEED
    assert source["files"]["survey_2023.csv"] == prepare.sha256(root / "raw" / "survey_2023.csv")
    assert set(source["files"]) >= {"SYNTETISK.json", "md_brev_2022.csv", "kommuner.csv"}
    assert result.data_source == source


def test_without_marker_the_data_count_as_real(tmp_path, prepared):
    root, _ = prepared
    raw = tmp_path / "raw"
    shutil.copytree(root / "raw", raw)
    (raw / synth.MARKER).unlink()
    result = prepare.prepare(raw, tmp_path / "processed")
    assert result.data_source["kind"] == "real" and result.data_source["seed"] is None


def test_csv_xlsx_and_sav_give_identical_processed_tables(tmp_path):
    frames = {}
    for fmt in ("csv", "xlsx", "sav"):
        synth.write_raw(tmp_path / fmt / "raw", seed=8, n_respondents=1464, formats=(fmt,))
        prepare.prepare(tmp_path / fmt / "raw", tmp_path / fmt / "processed")
        frames[fmt] = {
            name: pd.read_parquet(tmp_path / fmt / "processed" / f"{name}.parquet")
            for name in ("survey_2023", "exclusion_flow")
        }
    for fmt in ("xlsx", "sav"):
        for name in frames["csv"]:
            pd.testing.assert_frame_equal(frames["csv"][name], frames[fmt][name], obj=f"{fmt}:{name}")


def test_a_failure_leaves_the_previous_processed_data_intact(tmp_path, prepared):
    root, _ = prepared
    processed = tmp_path / "processed"
    shutil.copytree(root / "processed", processed)
    before = {p.relative_to(processed): p.read_bytes() for p in processed.rglob("*") if p.is_file()}
    raw = tmp_path / "raw"
    shutil.copytree(root / "raw", raw)
    (raw / synth.MARKER).unlink()   # an edited twin is no longer the twin: these are real data
    text = (raw / "survey_2023.csv").read_text(encoding="utf-8").splitlines()
    # Corrupt one answer on the fifth data row.
    cells = text[5].split(",")
    col = text[0].split(",").index("Handlingsrom: Tid til oppgavene")
    cells[col] = "Kanskje"
    text[5] = ",".join(cells)
    (raw / "survey_2023.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        prepare.prepare(raw, processed)
    msg = str(err.value)
    assert "survey_2023.csv" in msg and "rad 6" in msg and "Handlingsrom: Tid til oppgavene" in msg
    assert "Kanskje" not in msg and "Kanskje" in err.value.detail
    after = {p.relative_to(processed): p.read_bytes() for p in processed.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".processed")]


def test_unknown_md_sender_is_named(tmp_path, prepared):
    root, _ = prepared
    raw = tmp_path / "raw"
    shutil.copytree(root / "raw", raw)
    (raw / synth.MARKER).unlink()
    md = pd.read_csv(raw / "md_brev_2022.csv", dtype=str, keep_default_na=False)
    md.loc[3, "Avsender"] = "HR"
    md.to_csv(raw / "md_brev_2022.csv", index=False)
    with pytest.raises(DataError) as err:
        prepare.prepare(raw, tmp_path / "processed")
    assert "Avsender" in str(err.value) and "rad 5" in str(err.value) and "'HR'" in err.value.detail
    assert not (tmp_path / "processed").exists()


def test_processed_folder_keeps_an_ordinary_mode(tmp_path, prepared):
    root, _ = prepared
    prepare.prepare(root / "raw", tmp_path / "processed")
    assert (tmp_path / "processed").stat().st_mode & 0o777 == 0o755


# --- real or synthetic, and the parameters that depend on it (issue 11) -------------------------
from tillit.config import ConfigError, RunParams  # noqa: E402
from tillit.data.source import MinCellWarning  # noqa: E402


def _real_copy(root, tmp_path, rename=None):
    """The twin's files without its marker: as far as anyone can tell, a real export."""
    raw = tmp_path / "raw"
    shutil.copytree(root / "raw", raw)
    (raw / synth.MARKER).unlink()
    if rename:
        (raw / "survey_2023.csv").rename(raw / rename)
    return raw


def test_misnamed_export_is_read_as_real(tmp_path, prepared):
    root, _ = prepared
    raw = _real_copy(root, tmp_path, rename="Survey_2023.CSV")
    result = prepare.prepare(raw, tmp_path / "processed")
    assert result.n_respondents == 3660 and result.data_source["kind"] == "real"
    assert "Survey_2023.CSV" in result.data_source["files"]


def test_leftover_marker_beside_a_real_export_says_real(tmp_path, prepared):
    root, _ = prepared
    raw = _real_copy(root, tmp_path, rename="Survey_2023.csv")
    for name in ("survey_2017.csv", "md_brev_2022.csv"):
        (raw / name).unlink()
    for reg in ("kommuner", "intervjuer", "samtalepakker", "erfaringsbasen", "tilskudd", "storskalasamling"):
        (raw / f"{reg}.csv").unlink()
    shutil.copy(root / "raw" / synth.MARKER, raw / synth.MARKER)   # left behind by the twin
    result = prepare.prepare(raw, tmp_path / "processed")
    source = json.loads((tmp_path / "processed" / "data_source.json").read_text(encoding="utf-8"))
    assert source["kind"] == "real" and source["seed"] is None and synth.MARKER in source["note"]
    assert result.data_source == source


def test_twin_files_beside_a_real_export_are_refused(tmp_path, prepared):
    root, _ = prepared
    raw = tmp_path / "raw"
    shutil.copytree(root / "raw", raw)
    (raw / "survey_2023.csv").rename(raw / "Survey_2023.csv")     # the "real" export …
    (raw / "Survey_2023.csv").write_text((raw / "Survey_2023.csv").read_text(encoding="utf-8") + "\n",
                                         encoding="utf-8")          # … not byte-identical to the twin's
    with pytest.raises(DataError) as err:
        prepare.prepare(raw, tmp_path / "processed")
    msg = str(err.value)
    assert "\n" not in msg and "blander" in msg and "Survey_2023.csv" in msg and "erfaringsbasen.csv" in msg
    assert not (tmp_path / "processed").exists()


def test_empty_marker_is_one_line(tmp_path, prepared):
    root, _ = prepared
    raw = tmp_path / "raw"
    shutil.copytree(root / "raw", raw)
    (raw / synth.MARKER).write_bytes(b"")
    with pytest.raises(DataError) as err:
        prepare.prepare(raw, tmp_path / "processed")
    assert "\n" not in str(err.value) and "markørfilen er tom" in str(err.value)


def test_strict_duplicates_refuses_conflicting_submissions(tmp_path, prepared):
    root, result = prepared
    assert result.exclusion_flow.set_index("step").loc[4, "removed"] == 23   # kept-last by default
    with pytest.raises(DataError) as err:
        prepare.prepare(root / "raw", tmp_path / "processed", params=RunParams(strict_duplicates=True))
    assert err.value.n_issues == 23 and "samme RespondentID og ulike svar" in str(err.value)
    assert "strict_duplicates" in str(err.value)
    assert not (tmp_path / "processed").exists()


def test_min_cell_floor_for_a_real_export(tmp_path, prepared):
    root, _ = prepared
    raw = _real_copy(root, tmp_path)
    with pytest.raises(ConfigError) as err:
        prepare.prepare(raw, tmp_path / "processed", params=RunParams(min_cell=2))
    assert "\n" not in str(err.value) and "min_cell = 2" in str(err.value) and "minst 3" in str(err.value)
    assert not (tmp_path / "processed").exists()
    # strict disclosure lifts the effective min_cell to 10: allowed
    prepare.prepare(raw, tmp_path / "processed", params=RunParams(min_cell=2, strict_disclosure=True))


def test_min_cell_below_the_floor_on_the_twin_warns(tmp_path, prepared):
    root, _ = prepared
    with pytest.warns(MinCellWarning, match="syntetiske tvillingen"):
        result = prepare.prepare(root / "raw", tmp_path / "processed", params=RunParams(min_cell=1))
    assert result.data_source["kind"] == "synthetic"
