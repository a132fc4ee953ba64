"""The reproduction ledger: every target ok on the twin, tampering is caught, helpers are general."""
from __future__ import annotations

import copy
import warnings

import pandas as pd
import pytest

from tillit.stats import ledger
from tillit.data import prepare
from tillit.data import synth


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    root = tmp_path_factory.mktemp("ledger")
    synth.write_raw(root / "raw", seed=None)
    prepare.prepare(root / "raw", root / "processed")
    return root / "processed"


@pytest.fixture(scope="module")
def table(processed):
    return ledger.compute_ledger(processed)


def _tables(processed) -> dict[str, pd.DataFrame]:
    out = {}
    for p in processed.rglob("*.parquet"):
        out[str(p.relative_to(processed).with_suffix(""))] = pd.read_parquet(p)
    return out


def test_every_target_ok_on_the_twin(table):
    assert list(table.columns[:7]) == ["id", "section", "statement", "published", "recomputed", "difference", "ok"]
    assert list(table.columns[7:]) == ["kind", "status", "n"]
    targets = table[table["kind"] == "mål"]
    assert len(targets) == len(ledger.load_published()["targets"])
    assert targets["ok"].all(), targets[~targets["ok"]].to_string()
    assert ledger.check_ledger(table).empty


def test_display_is_norwegian(table):
    row = table.set_index("id").loc["kompetanse_positiv"]
    assert row["published"] == "75,93 %"
    assert row["recomputed"].replace("\u00a0", " ") == "75,93 %"
    assert table.set_index("id").loc["antall_respondenter", "recomputed"].replace("\u00a0", " ") == "3 660"


def test_assumptions_are_listed_not_checked(table):
    assumed = table[table["kind"] == "antakelse"]
    assert len(assumed) > 0 and assumed["id"].str.startswith("sammenligning_2017").all()
    assert assumed["recomputed"].str.contains("2017").all()
    # Never ticked: not "ok", status "antakelse", and no verdict in the published view.
    assert not assumed["ok"].any() and (assumed["status"] == "antakelse").all()
    view = ledger.published_view(table)
    assert view.loc[view["kind"] == "antakelse", "ok"].isna().all()


def test_published_numbers_without_data_are_accounted_for(table):
    outside = table[table["kind"] == "utenfor dataene"].set_index("id")
    assert {"brukere_tillit_veiledning", "brukere_tillit_soknad"} <= set(outside.index)
    assert outside.loc["brukere_tillit_veiledning", "published"] == "nesten 90 %"
    assert ledger.check_ledger(table).empty     # listed, never a missed target


def test_ledger_covers_the_report_s_numbers(table):
    rows = table.set_index("id")
    for target, published in [("kvantitative_negativ_spenn", "15–30 %"), ("tillit_medarbeidere_lite", "27 %"),
                              ("tillit_medarbeidere_mye", "31 %"), ("tillit_klage_anke_mye", "44 %"),
                              ("tillit_nks_mye", "49 %"), ("konkurranse_nks_ledere", "80 %"),
                              ("md_styrende_ata", "212"), ("md_styrende_ya", "189"), ("md_styrende_osa", "58"),
                              ("md_nye_ata", "56 %"), ("md_nye_ya", "16 %"), ("md_nye_osa", "18 %"),
                              ("faktorer_mor_nr7", "nr. 7 av 13"), ("antall_respondenter", "3 660"),
                              ("kompetanse_positiv", "75,93 %"), ("tid_negativ", "43,28 %")]:
        assert rows.loc[target, "published"] == published and rows.loc[target, "ok"], target
    spread = rows.loc["kvantitative_negativ_spenn"]
    assert spread["recomputed"].replace("\u00a0", " ").endswith(" %") and spread["difference"] == "innenfor"


def test_every_survey_row_passes_the_gate(processed):
    from tillit.stats.disclosure import Gate

    gate = Gate(min_cell=40)
    gated = ledger.compute_ledger(processed, gate=gate, table_id="test/regnskap").set_index("id")
    # 35 NKS leaders rest behind the 80 %: fewer than 40, so the row is suppressed and logged.
    assert gated.loc["konkurranse_nks_ledere", "status"] == "skjult"
    assert gated.loc["tid_negativ", "status"] == "gjenskapt"
    # 3 660 answered, but only 37 of them "Vet ikke": the rule holds for that count too.
    assert gated.loc["kompetanse_positiv", "status"] == "skjult"
    assert not any(r["row"] == "kompetanse_positiv" for r in gate.records.to_dict("records"))  # see _gate_rows
    assert gated.loc["md_styrende_ata", "n"] is pd.NA or pd.isna(gated.loc["md_styrende_ata", "n"])
    assert any(r["row"] == "konkurranse_nks_ledere" for r in gate.records.to_dict("records"))
    view = ledger.published_view(gated.reset_index()).set_index("id")
    assert view.loc["konkurranse_nks_ledere", "recomputed"] == "–*" and pd.isna(view.loc["konkurranse_nks_ledere", "ok"])
    assert "n" not in view.columns      # respondent counts are not published with the ledger
    # A hidden miss is still a miss, named without its value.
    gated.loc["konkurranse_nks_ledere", "ok"] = False
    with pytest.raises(ledger.LedgerError) as err:
        ledger.check_ledger(gated.reset_index())
    assert "konkurranse_nks_ledere" in str(err.value) and "vises ikke" in str(err.value)


def test_tampered_data_are_flagged(processed):
    tables = _tables(processed)
    survey = tables["survey_2023"].copy()
    # Flip 40 positive answers on competence to neutral: 75,93 % no longer holds.
    pos = survey.index[survey["f_kompetanse"].isin([4, 5])][:40]
    survey.loc[pos, "f_kompetanse"] = 3
    # And make NKS leaders report little competition.
    nks_leaders = survey.index[(survey["role"] == "leder") & (survey["unit_type"] == "nks")][:10]
    survey.loc[nks_leaders, "competition"] = 1
    tables["survey_2023"] = survey
    tables["md_brev_2022"] = tables["md_brev_2022"].iloc[1:]  # one ATA goal lost
    result = ledger.compute_ledger(tables)
    missed = set(result.loc[~result["ok"] & (result["kind"] == "mål"), "id"])
    assert {"kompetanse_positiv", "konkurranse_nks_ledere", "md_styrende_ata"} <= missed
    assert "tid_negativ" not in missed
    with pytest.raises(ledger.LedgerError) as err:
        ledger.check_ledger(result, mode="error")
    assert "kompetanse_positiv" in str(err.value) and "75,93 %" in str(err.value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = ledger.check_ledger(result, mode="warn")
    assert set(out["id"]) == missed
    assert any("kompetanse_positiv" in str(w.message) for w in caught)


def test_values_come_from_published_yml(processed):
    published = copy.deepcopy(ledger.load_published())
    for t in published["targets"]:
        if t["id"] == "kompetanse_positiv":
            t["check"]["value"] = 75.94
    result = ledger.compute_ledger(processed, published=published)
    assert not result.set_index("id").loc["kompetanse_positiv", "ok"]


def test_check_ledger_mode_is_validated(table):
    with pytest.raises(ValueError):
        ledger.check_ledger(table, mode="maybe")


def test_every_target_has_section_statement_and_precision():
    for t in ledger.load_published()["targets"]:
        assert t["section"] and t["statement"] and t["published"] and t.get("precision"), t["id"]


# --- the general helpers --------------------------------------------------------------------
@pytest.fixture
def tiny():
    return pd.DataFrame({
        "role": pd.Categorical(["leder", "medarbeider", "medarbeider", "medarbeider", "leder"],
                               categories=["medarbeider", "leder", "tillitsvalgt", "verneombud"]),
        "f_tid": pd.array([1, 2, 9, None, 5], dtype="Int8"),
    })


def test_share_denominators(tiny):
    assert ledger.share(tiny, "f_tid", [1, 2]) == pytest.approx(50.0)                  # 2 of 4 (NA out)
    assert ledger.share(tiny, "f_tid", [1, 2], denominator="answered") == pytest.approx(200 / 3)
    assert ledger.share(tiny, "f_tid", [1, 2], filter={"role": ["medarbeider"]}) == pytest.approx(50.0)  # 2 of 2, 9
    with pytest.raises(ValueError):
        ledger.share(tiny, "f_tid", [1], denominator="some")


def test_mean_leaves_out_dont_know(tiny):
    assert ledger.mean(tiny, "f_tid") == pytest.approx((1 + 2 + 5) / 3)
    assert ledger.mean(tiny, "f_tid", {"role": ["leder"]}) == pytest.approx(3.0)


def test_rank_and_filter_errors(tiny):
    tiny = tiny.assign(f_mor=pd.array([4, 4, 4, 3, 9], dtype="Int8"))
    order = ledger.rank(tiny, ["f_tid", "f_mor"], [4, 5])
    assert list(order.index) == ["f_mor", "f_tid"]
    with pytest.raises(KeyError, match="ukjent kolonne"):
        ledger.apply_filter(tiny, {"unit": ["x"]})


def test_a_filtered_column_is_the_column_of_the_filtered_rows(tiny):
    tiny = tiny.assign(flag=[True, False, True, True, False],
                       unit=pd.Categorical(["a", "b", "a", "c", "b"]), name=pd.array(list("vwxyz"), dtype="string"))
    filters = [None, {}, {"role": ["leder"]}, {"flag": True}, {"unit": ["a", "c"], "role": ["medarbeider", "leder"]},
               {"name": ["x", "z"]}, {"f_tid": [1, 5]}]
    for filt in filters:
        for var in tiny.columns:
            pd.testing.assert_series_equal(ledger.filtered_column(tiny, var, filt), ledger.apply_filter(tiny, filt)[var])
    with pytest.raises(KeyError, match="ukjent kolonne"):
        ledger.filtered_column(tiny, "f_tid", {"nope": ["x"]})


def test_missing_table_is_a_missed_target_not_a_crash(processed):
    tables = _tables(processed)
    del tables["registers/grants"]
    result = ledger.compute_ledger(tables).set_index("id")
    assert not result.loc["tilskudd_per_ar", "ok"]
    assert "mangler data" in result.loc["tilskudd_per_ar", "recomputed"]
    assert result.loc["kompetanse_positiv", "ok"]
