"""The synthetic twin: determinism, exact calibration, the mess, the true coefficients."""
from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from tillit.stats import ledger
from tillit.data import synth
from tillit.data.synth.calibrate import _Item
from tillit.data.synth.export import _simulate
from tillit.data.codebook import load_codebook
from tillit.data.errors import DataError


@pytest.fixture(scope="module")
def model():
    return synth.load_model()


@pytest.fixture(scope="module")
def default_raw():
    return synth.generate()


@pytest.fixture(scope="module")
def default_clean():
    return synth.generate_clean()


def _missed(clean: dict) -> pd.DataFrame:
    table = ledger.compute_ledger(clean)
    return table[(table["kind"] == "mål") & ~table["ok"]]   # assumptions are never ticked, nor missed


# --- determinism ---------------------------------------------------------------------------
def test_same_seed_writes_identical_bytes(tmp_path):
    a = synth.write_raw(tmp_path / "a", seed=11)
    b = synth.write_raw(tmp_path / "b", seed=11)
    assert [p.name for p in a] == [p.name for p in b]
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    c = synth.write_raw(tmp_path / "c", seed=12)
    survey = {p.name: p for p in c}["survey_2023.csv"]
    assert survey.read_bytes() != (tmp_path / "a" / "survey_2023.csv").read_bytes()


def test_marker_records_seed_sizes_and_version(tmp_path, model):
    synth.write_raw(tmp_path, seed=3, n_respondents=366)
    marker = json.loads((tmp_path / synth.MARKER).read_text(encoding="utf-8"))
    assert marker["seed"] == 3
    assert marker["n_respondents"] == 366
    assert marker["generator_version"] == model["generator_version"]
    assert marker["kind"] == "synthetic"
    assert marker["rows"]["survey_2023"] > 366  # the mess comes on top


def test_no_temp_files_left_and_stale_formats_removed(tmp_path):
    synth.write_raw(tmp_path, seed=1, n_respondents=366, formats=("sav",))
    synth.write_raw(tmp_path, seed=1, n_respondents=366, formats=("csv",))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "survey_2023.sav" not in names and "survey_2023.csv" in names
    assert not [n for n in names if n.startswith(".")]


def test_refuses_to_overwrite_a_real_export(tmp_path):
    (tmp_path / "survey_2023.csv").write_text("RespondentID\n1\n", encoding="utf-8")
    with pytest.raises(DataError, match="ikke har skrevet"):
        synth.write_raw(tmp_path, seed=1)
    assert (tmp_path / "survey_2023.csv").read_text(encoding="utf-8") == "RespondentID\n1\n"


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ukjent format"):
        synth.write_raw(tmp_path, seed=1, formats=("json",))


# --- exact calibration -----------------------------------------------------------------------
def test_every_target_holds_for_the_default_seed(default_clean):
    missed = _missed(default_clean)
    assert missed.empty, missed[["id", "recomputed"]].to_string()
    survey = default_clean["survey_2023"]
    assert len(survey) == 3660
    assert int(survey["f_kompetanse"].isin([4, 5]).sum()) == 2779  # 75,93 % of 3 660
    assert int(survey["f_tid"].isin([1, 2]).sum()) == 1584          # 43,28 % of 3 660


@pytest.mark.parametrize("seed", [1, 2, 3, 97, 2024])
def test_every_target_holds_for_other_seeds(seed):
    missed = _missed(synth.generate_clean(seed))
    assert missed.empty, missed[["id", "recomputed"]].to_string()


def test_shares_hold_approximately_at_ten_times_the_size(default_clean):
    big = synth.generate_clean(5, n_respondents=36_600)
    missed = _missed(big)
    assert list(missed["id"]) == ["antall_respondenter"]
    roles = big["survey_2023"]["role"].value_counts(normalize=True)
    assert roles["leder"] == pytest.approx(0.12, abs=0.002)
    assert roles["tillitsvalgt"] == pytest.approx(0.05, abs=0.002)
    assert roles["verneombud"] == pytest.approx(0.04, abs=0.002)


def test_calibration_hits_a_count_by_moving_the_fewest():
    rng = np.random.default_rng(0)
    y = rng.logistic(size=1000)
    cuts = np.array([-2.0, -0.7, 0.7, 2.0])
    codes = (np.searchsorted(cuts, y) + 1).astype(np.int8)
    item = _Item("x", 5, codes.copy(), y.copy(), cuts, codes.copy())
    cell = np.ones(1000, dtype=bool)
    before = int(np.isin(codes, [4, 5]).sum())
    moved = synth.calibrate_share(item, cell, cell, [4, 5], value=40.0, decimals=1)
    assert int(np.isin(item.codes, [4, 5]).sum()) == 400
    assert moved == abs(400 - before)
    changed = np.flatnonzero(item.codes != codes)
    # Only respondents next to the 3|4 cut moved, and only by one step.
    assert set(np.abs(item.codes[changed] - codes[changed])) <= {1}
    assert set(codes[changed]) <= {3, 4}


def test_calibration_moves_few_respondents(default_clean, model):
    twin, _, _ = _simulate(None, 3660)
    for key, moved in twin.calibration_moves.items():
        assert moved <= 0.06 * 3660, (key, moved)
    outcome_moves = sum(v for k, v in twin.calibration_moves.items() if k.split(":")[0] in model["outcomes"])
    assert outcome_moves < 0.05 * 2 * 3660


def test_infeasible_band_is_reported():
    y = np.linspace(-3, 3, 10)
    cuts = np.array([-2.0, -0.7, 0.7, 2.0])
    codes = np.full(10, 9, dtype=np.int8)  # everybody "Vet ikke": nothing can move
    item = _Item("x", 5, codes, y, cuts, codes.copy())
    cell = np.ones(10, dtype=bool)
    with pytest.raises(synth.CalibrationError, match="x"):
        synth.calibrate_share(item, cell, cell, [4, 5], band=(50.0, 60.0))


# --- the raw export looks like a survey tool's ------------------------------------------------
def test_raw_survey_has_codebook_headers_labels_and_mess(default_raw):
    cb = load_codebook()
    raw = default_raw["survey_2023"]
    expected = [v.raw for v in cb.admin.values() if v.type != "free_text"] + [v.raw for v in cb.items.values()]
    assert list(raw.columns) == expected + [cb.admin["free_text"].raw]
    assert (raw["Status"] == "Delvis").sum() == 236 + 20
    assert (raw["Testsvar"] == "Ja").sum() == 14
    assert raw["RespondentID"].duplicated().sum() == 41 + 23 + 20
    assert set(raw["Enhetstype"]) - {u.label for u in cb.unit_types.values()}  # alias spellings
    labels = set(raw["Handlingsrom: Tid til oppgavene"]) - {""}
    assert labels <= set(cb.scales["effekt5"].code_to_label().values())
    assert "Vet ikke" in labels
    times = pd.to_datetime(raw["Innsendt"], format="%Y-%m-%d %H:%M:%S")
    assert times.min() >= pd.Timestamp("2023-05-01") and times.max() < pd.Timestamp("2023-06-01")
    assert raw["Enhetsnr"].str.fullmatch(r"[0-9]{4}").all()
    assert raw["Utdypende svar"].ne("").mean() > 0.1


def test_units_are_about_150_and_nested_in_unit_types(default_clean):
    survey = default_clean["survey_2023"]
    per_unit = survey.groupby("unit_number", observed=True)["unit_type"].nunique()
    assert (per_unit == 1).all()
    assert 140 <= per_unit.size <= 150


def test_md_brev_and_registers_are_all_there(default_raw):
    assert {"survey_2017", "md_brev_2022", "kommuner", "intervjuer", "samtalepakker",
            "erfaringsbasen", "tilskudd", "storskalasamling"} <= set(default_raw)
    md = default_raw["md_brev_2022"]
    assert set(md["Avsender"]) == {"ATA", "YA", "ØSA"}
    assert len(md) == 250 + 220 + 72


def test_2017_is_labelled_as_assumption_and_shares_items(default_clean):
    cb = load_codebook()
    s17 = default_clean["survey_2017"]
    assert [c for c in s17.columns if c in cb.items] == list(cb.items_2017)
    assert len(s17) == 2980
    table = ledger.compute_ledger(default_clean)
    assumed = table[table["kind"] == "antakelse"]
    assert len(assumed) == len(cb.items_2017)
    assert assumed["published"].str.contains("antakelse").all()


# --- the true coefficients are recoverable ----------------------------------------------------
def _fit(survey: pd.DataFrame, outcome: str, predictors: list[str]):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    cols = [outcome, *predictors]
    sub = survey[["role", "unit_type", *cols]].dropna()
    sub = sub[(sub[cols] != 9).all(axis=1)]
    X = pd.get_dummies(sub[["role", "unit_type"]], drop_first=True, dtype=float)
    X = pd.concat([X, sub[predictors].astype(float)], axis=1)
    return OrderedModel(sub[outcome].astype(int), X, distr="logit").fit(method="bfgs", disp=False, maxiter=2000)


@pytest.mark.parametrize("outcome", ["trust_hindrance", "f_mor"])
def test_true_coefficients_are_recovered_for_the_default_seed(default_clean, model, outcome):
    truth = model["outcomes"][outcome]["predictors"]
    res = _fit(default_clean["survey_2023"], outcome, list(truth))
    for name, beta in truth.items():
        z = (res.params[name] - beta) / res.bse[name]
        assert abs(z) < 3.0, (outcome, name, res.params[name], beta)


@pytest.mark.slow
def test_interval_coverage_across_seeds(model):
    hits, total = 0, 0
    for seed in range(40):
        survey = synth.generate_clean(1000 + seed)["survey_2023"]
        for outcome, spec in model["outcomes"].items():
            res = _fit(survey, outcome, list(spec["predictors"]))
            ci = res.conf_int()
            for name, beta in spec["predictors"].items():
                hits += int(ci.loc[name, 0] <= beta <= ci.loc[name, 1])
                total += 1
    assert 0.88 <= hits / total <= 0.99, hits / total


@pytest.mark.slow
def test_366000_respondents_in_well_under_a_minute():
    start = time.perf_counter()
    raw = synth.generate(7, n_respondents=366_000)
    assert time.perf_counter() - start < 45
    assert len(raw["survey_2023"]) > 366_000


# --- rounding the way the report rounds -------------------------------------------------------
from decimal import ROUND_HALF_UP, Decimal  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=20_000), st.data(), st.integers(min_value=0, max_value=2))
def test_feasible_counts_agree_with_decimal_half_up(denominator, data, decimals):
    k = data.draw(st.integers(min_value=0, max_value=denominator))
    exact = (Decimal(100 * k) / Decimal(denominator)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    mask = synth.feasible_counts(denominator, value=float(exact), decimals=decimals)
    assert mask[k]
    for other in np.flatnonzero(mask):
        again = (Decimal(100 * int(other)) / Decimal(denominator)).quantize(
            Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        assert again == exact


def test_report_precision_examples():
    assert np.flatnonzero(synth.feasible_counts(3660, value=75.93, decimals=2)).tolist() == [2779]
    assert np.flatnonzero(synth.feasible_counts(58, value=18, decimals=0)).tolist() == []
    assert np.flatnonzero(synth.feasible_counts(72, value=18, decimals=0)).tolist() == [13]


# --- the twin never overwrites a real file (issue 11) ------------------------------------------
from tillit.data import source  # noqa: E402

SMALL = 366


@pytest.fixture(scope="module")
def twin_dir(tmp_path_factory):
    """A small twin, written once; tests copy it."""
    path = tmp_path_factory.mktemp("twin") / "raw"
    synth.write_raw(path, seed=2, n_respondents=SMALL)
    return path


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_marker_records_every_file_and_its_sha256(twin_dir):
    marker = json.loads((twin_dir / synth.MARKER).read_text(encoding="utf-8"))
    on_disk = {p.name for p in twin_dir.iterdir() if p.is_file()} - {synth.MARKER}
    assert set(marker["files"]) == on_disk
    for name, digest in marker["files"].items():
        assert source.sha256(twin_dir / name) == digest
    assert "previous" not in marker
    assert source.raw_state(twin_dir).kind == "synthetic"


def test_the_twin_rewrites_its_own_files(tmp_path, twin_dir):
    raw = _copy(twin_dir, tmp_path / "raw")
    synth.write_raw(raw, seed=3, n_respondents=SMALL)
    assert json.loads((raw / synth.MARKER).read_text(encoding="utf-8"))["seed"] == 3
    assert source.raw_state(raw).kind == "synthetic"


@pytest.mark.parametrize("name", ["Survey_2023.xlsx", "survey_2023.CSV", "notater.txt", "kommuner.CSV"])
def test_refuses_next_to_any_file_it_did_not_write(tmp_path, name):
    """A misnamed export used to be missed and the twin written over the real registers."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / name).write_bytes(b"ekte data")
    (raw / "md_brev_2022.csv").write_bytes(b"ekte koding")
    before = _snapshot(raw)
    with pytest.raises(DataError) as exc:
        synth.write_raw(raw, seed=1, n_respondents=SMALL)
    msg = str(exc.value)
    assert "\n" not in msg and name in msg and "ikke har skrevet" in msg
    assert _snapshot(raw) == before and not [p for p in raw.iterdir() if p.name.startswith(".")]


def test_an_edited_twin_file_counts_as_real(tmp_path, twin_dir):
    raw = _copy(twin_dir, tmp_path / "raw")
    with (raw / "kommuner.csv").open("a", encoding="utf-8") as fh:
        fh.write("9999,Ja,Ja\n")
    state = source.raw_state(raw)
    assert state.kind == "mixed" and state.real_files == ("kommuner.csv",)
    before = _snapshot(raw)
    with pytest.raises(DataError, match="kommuner.csv"):
        synth.write_raw(raw, seed=1, n_respondents=SMALL)
    assert _snapshot(raw) == before


def test_leftover_marker_beside_a_real_export(tmp_path, twin_dir):
    """The twin's files were removed and the real export dropped in under the twin's name:
    the marker no longer vouches for anything, the data are real, and synth refuses."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / synth.MARKER).write_bytes((twin_dir / synth.MARKER).read_bytes())
    (raw / "survey_2023.csv").write_text("RespondentID\nekte\n", encoding="utf-8")
    state = source.raw_state(raw)
    assert state.kind == "real" and state.leftover_marker and state.data_kind == "real"
    before = _snapshot(raw)
    with pytest.raises(DataError, match="survey_2023.csv"):
        synth.write_raw(raw, seed=1, n_respondents=SMALL)
    assert _snapshot(raw) == before


@pytest.mark.parametrize("content,problem", [
    (b"", "markørfilen er tom"),
    (b"{not json", "ikke gyldig JSON"),
    (b'{"kind": "synthetic"}', "mangler listen 'files'"),
    (b'{"generator": "tillit.data.synth", "seed": 1}', "eldre versjon"),
])
def test_unreadable_marker_is_one_line(tmp_path, content, problem):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / synth.MARKER).write_bytes(content)
    (raw / "survey_2023.csv").write_text("RespondentID\n1\n", encoding="utf-8")
    for call in (lambda: source.raw_state(raw), lambda: synth.write_raw(raw, seed=1, n_respondents=SMALL)):
        with pytest.raises(DataError) as exc:
            call()
        msg = str(exc.value)
        assert "\n" not in msg and synth.MARKER in msg and problem in msg and "slett" in msg
    assert (raw / "survey_2023.csv").read_text(encoding="utf-8") == "RespondentID\n1\n"


def test_an_interrupted_rewrite_leaves_no_file_looking_real(tmp_path, twin_dir, monkeypatch):
    """Killed between moving files in: the marker still vouches for old and new versions."""
    from tillit.data.synth import export

    raw = _copy(twin_dir, tmp_path / "raw")
    real_replace = export.os.replace
    calls = {"n": 0}

    def dying_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 4:   # the marker (tmp → marker) and two files are in place
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(export.os, "replace", dying_replace)
    with pytest.raises(OSError):
        synth.write_raw(raw, seed=9, n_respondents=SMALL)
    monkeypatch.undo()
    state = source.raw_state(raw)
    assert state.kind == "synthetic" and not state.real_files
    assert not [p for p in raw.iterdir() if p.name.startswith(".")]
    synth.write_raw(raw, seed=9, n_respondents=SMALL)   # and it can finish
    assert "previous" not in json.loads((raw / synth.MARKER).read_text(encoding="utf-8"))


def test_legacy_marker_is_adopted_only_for_identical_files(tmp_path, twin_dir):
    raw = _copy(twin_dir, tmp_path / "raw")
    marker = json.loads((raw / synth.MARKER).read_text(encoding="utf-8"))
    legacy = {k: v for k, v in marker.items() if k != "files"}
    (raw / synth.MARKER).write_text(json.dumps(legacy), encoding="utf-8")
    (raw / "tilskudd.csv").write_text("TiltakID,År\nekte,2022\n", encoding="utf-8")   # a real file
    with pytest.raises(source.LegacyMarkerError):
        source.raw_state(raw)
    assert synth.adopt_legacy(raw)
    state = source.raw_state(raw)
    assert state.kind == "mixed" and state.real_files == ("tilskudd.csv",)
    assert len(state.twin_files) == len(marker["files"]) - 1


def test_ensure_raw_generates_only_into_an_empty_folder(tmp_path, twin_dir):
    state, generated = synth.ensure_raw(tmp_path / "new")
    assert generated and state.kind == "synthetic"
    raw = _copy(twin_dir, tmp_path / "raw")
    (raw / "survey_2017.csv").unlink()                  # an incomplete twin is completed
    state, generated = synth.ensure_raw(raw)
    assert generated and (raw / "survey_2017.csv").is_file()
    (raw / "Survey_2023.xlsx").write_bytes(b"ekte")      # a real export beside the twin
    with pytest.raises(DataError, match="blander"):
        synth.ensure_raw(raw)
    assert (raw / "Survey_2023.xlsx").read_bytes() == b"ekte"


def test_remove_twin_leaves_real_files(tmp_path, twin_dir):
    raw = _copy(twin_dir, tmp_path / "raw")
    (raw / "Survey_2023.xlsx").write_bytes(b"ekte")
    source.remove_twin(raw)
    assert sorted(p.name for p in raw.iterdir()) == ["Survey_2023.xlsx"]


def test_sav_declares_dont_know_user_missing(tmp_path):
    import pyreadstat

    synth.write_raw(tmp_path, seed=1, n_respondents=SMALL, formats=("sav",))
    _, meta = pyreadstat.read_sav(str(tmp_path / "survey_2023.sav"), metadataonly=True, user_missing=True)
    cb = load_codebook()
    name = next(iter(cb.items))
    assert meta.missing_ranges[name] == [{"lo": 9.0, "hi": 9.0}]


def test_cli_empty_marker_is_one_line_exit_2(tmp_path, capsys):
    from tillit.build import cli

    (tmp_path / synth.MARKER).write_bytes(b"")
    assert cli.main(["synth", "--raw-dir", str(tmp_path), "--n", str(SMALL)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "markørfilen er tom" in err and "Traceback" not in err


def test_cli_ensure_raw_notes_a_leftover_marker(tmp_path, twin_dir):
    from tillit.build import cli

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / synth.MARKER).write_bytes((twin_dir / synth.MARKER).read_bytes())
    (raw / "survey_2023.xlsx").write_bytes(b"ekte")
    lines = []
    assert cli.ensure_raw(raw, progress=lines.append) == "real"
    assert any("reell eksport" in line for line in lines) and any(synth.MARKER in line for line in lines)
    assert sorted(p.name for p in raw.iterdir()) == [synth.MARKER, "survey_2023.xlsx"]
