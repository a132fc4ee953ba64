"""tillit.stats.disclosure: small cells, small groups, complementary suppression, the log, the publish check."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tillit.config import RunParams
from tillit.stats.disclosure import (
    FOOTNOTE, LOG_COLUMNS, MARK, REASON_COMPLEMENT, REASON_SMALL, TOTAL, WHOLE_ROW,
    DisclosureError, Gate, assert_publishable,
)

UNITS = ["NAV-kontor", "NKS", "NAY"]
ROLES = ["Medarbeider", "Leder", "Tillitsvalgt"]


def counts(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, index=UNITS[: len(rows)], columns=ROLES[: len(rows[0])])


def reasons(table) -> dict[tuple[str, str], str]:
    return {(r["row"], r["column"]): r["reason"] for r in table.log}


def unrecoverable(mask: np.ndarray, row_totals: bool, col_totals: bool) -> bool:
    """No published total equation has exactly one hidden cell."""
    m, k = mask.shape
    inner_m, inner_k = m - int(col_totals), k - int(row_totals)
    eqs = []
    if row_totals:
        eqs += [mask[i, :] for i in range(m)]
    if col_totals:
        eqs += [mask[:, j] for j in range(k)]
    del inner_m, inner_k
    return all(eq.sum() != 1 for eq in eqs)


# --- primary suppression ----------------------------------------------------------------
def test_small_cells_are_suppressed_and_marked():
    gate = Gate(5)
    t = gate.counts("t", counts([[50, 4, 20], [30, 0, 25], [40, 12, 9]]), totals=False)
    assert np.isnan(t.values.loc["NAV-kontor", "Leder"]) and np.isnan(t.values.loc["NKS", "Leder"])
    shown = t.display()
    assert shown.loc["NAV-kontor", "Leder"] == MARK and shown.loc["NKS", "Leder"] == MARK  # zero too
    assert shown.loc["NAY", "Leder"] == 12
    assert t.n_suppressed == 2
    assert reasons(t) == {("NAV-kontor", "Leder"): REASON_SMALL, ("NKS", "Leder"): REASON_SMALL}
    assert t.footnote == FOOTNOTE.format(min_cell="fem") and "færre enn fem" in t.footnote  # a word: no bare digit in prose


def test_cell_at_min_cell_is_published():
    t = Gate(5).counts("t", counts([[5, 6], [7, 8]]))
    assert t.n_suppressed == 0 and t.footnote == ""
    assert t.values.loc[TOTAL, TOTAL] == 26


def test_strict_mode_uses_ten():
    params = RunParams(min_cell=5, strict_disclosure=True)
    gate = Gate.from_params(params)
    assert gate.min_cell == 10 and gate.log_path.name == "disclosure_log.csv"
    t = gate.counts("t", counts([[50, 9], [30, 25]]), totals=False)
    assert t.display().loc["NAV-kontor", "Leder"] == MARK


# --- complementary suppression ----------------------------------------------------------
def test_complementary_on_row_with_row_total():
    t = Gate(5).counts("t", counts([[50, 3, 8], [40, 12, 7]]), totals="rows")
    r = reasons(t)
    # 3 alone would be 61 - 50 - 8; the next-smallest of the row (8) goes too.
    assert r == {("NAV-kontor", "Leder"): REASON_SMALL, ("NAV-kontor", "Tillitsvalgt"): REASON_COMPLEMENT}
    assert t.values.loc["NAV-kontor", TOTAL] == 61      # the total stays published
    assert unrecoverable(t.suppressed.to_numpy(), True, False)


def test_complementary_on_column_with_column_total():
    t = Gate(5).counts("t", counts([[50, 3], [40, 12], [30, 9]]), totals="columns")
    r = reasons(t)
    assert r == {("NAV-kontor", "Leder"): REASON_SMALL, ("NAY", "Leder"): REASON_COMPLEMENT}
    assert t.values.loc[TOTAL, "Leder"] == 24
    assert unrecoverable(t.suppressed.to_numpy(), False, True)


def test_complementary_iterates_over_rows_and_columns():
    t = Gate(5).counts("t", counts([[50, 3, 8], [40, 12, 7], [30, 9, 6]]), totals=True)
    r = reasons(t)
    assert r[("NAV-kontor", "Leder")] == REASON_SMALL
    assert r[("NAV-kontor", "Tillitsvalgt")] == REASON_COMPLEMENT   # row
    assert r[("NAY", "Leder")] == REASON_COMPLEMENT                 # column Leder
    assert r[("NAY", "Tillitsvalgt")] == REASON_COMPLEMENT          # row NAY, closes column Tillitsvalgt
    assert len(r) == 4
    assert unrecoverable(t.suppressed.to_numpy(), True, True)
    # The grand total and the margins stay.
    assert t.values.loc[TOTAL, TOTAL] == 165


def test_small_total_is_suppressed_and_protected():
    # Row NKS totals 4: the total itself is small, so one more cell of the total column goes.
    t = Gate(5).counts("t", counts([[50, 10], [2, 2], [30, 9]]), totals=True)
    m = t.suppressed
    assert m.loc["NKS", TOTAL] and m.loc["NKS", "Medarbeider"] and m.loc["NKS", "Leder"]
    assert unrecoverable(m.to_numpy(), True, True)


def test_no_totals_means_no_complements():
    t = Gate(5).counts("t", counts([[50, 3, 8], [40, 12, 7]]), totals=False)
    assert set(reasons(t).values()) == {REASON_SMALL} and TOTAL not in t.values.columns


@settings(max_examples=60, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=st.integers(0, 30)),
       st.sampled_from([True, "rows", "columns"]), st.integers(1, 10))
def test_property_every_small_cell_hidden_and_no_total_reveals_one(values, totals, min_cell):
    df = pd.DataFrame(values, index=[f"r{i}" for i in range(values.shape[0])],
                      columns=[f"c{j}" for j in range(values.shape[1])])
    t = Gate(min_cell).counts("p", df, totals=totals)
    shown = t.values
    full = df.copy()
    if totals in (True, "rows"):
        full[TOTAL] = df.sum(axis=1)
    if totals in (True, "columns"):
        full.loc[TOTAL] = full.sum(axis=0)
    small = full.to_numpy() < min_cell
    assert t.suppressed.to_numpy()[small].all()
    published = ~t.suppressed.to_numpy()
    assert (shown.to_numpy()[published] == full.to_numpy()[published]).all()
    assert np.isnan(shown.to_numpy()[~published]).all()
    assert unrecoverable(t.suppressed.to_numpy(), totals in (True, "rows"), totals in (True, "columns"))
    assert len(t.log) == t.n_suppressed


# --- shares and means -------------------------------------------------------------------
def test_shares_of_small_group_are_suppressed_with_a_second_group():
    answers = pd.DataFrame({"Negativt": [30, 1, 10], "Nøytralt": [20, 1, 10], "Positivt": [50, 2, 30]},
                           index=["Medarbeider", "Leder", "Tillitsvalgt"])
    t = Gate(5).shares("andeler", answers, percent=True)
    assert t.values.loc["Medarbeider", "Positivt"] == pytest.approx(50.0)
    assert t.values.loc["Leder"].isna().all()           # shares and n of a 4-person group
    assert (t.display().loc["Leder"] == MARK).all()
    # The total (every caption gives n) would give Leder back: the next-smallest group goes too.
    assert reasons(t) == {("Leder", WHOLE_ROW): REASON_SMALL, ("Tillitsvalgt", WHOLE_ROW): REASON_COMPLEMENT}
    assert t.values.loc["Medarbeider", "n"] == 100
    # As before the audit (legacy): the small group alone.
    old = Gate(5, legacy=True).shares("andeler", answers)
    assert reasons(old) == {("Leder", WHOLE_ROW): REASON_SMALL}


def test_dont_know_count_is_a_group_count():
    # NKS: 2 said "Vet ikke" (below 5): hidden, with the row's largest share (the shares sum
    # to 1) and, in the "Vet ikke" column, a second group's (the column has a total too).
    answers = pd.DataFrame({1: [10, 3, 8], 2: [20, 4, 9], 3: [40, 30, 20], "Vet ikke": [9, 2, 6]},
                           index=["NAV-kontor", "NKS", "NAY"])
    t = Gate(5).shares("dk", answers)
    r = reasons(t)
    assert r[("NKS", "Vet ikke")] == REASON_SMALL
    assert r[("NKS", "3")] == REASON_COMPLEMENT            # largest in the row, not the small 3
    assert sum(1 for (row, col) in r if col == "Vet ikke") == 2
    assert t.values.loc["NKS", "n"] == 39 and t.values.loc["NKS", 1] == pytest.approx(3 / 39)
    assert unrecoverable(t.suppressed.iloc[:, :4].to_numpy(), False, False)
    rows_ok = all(row.sum() != 1 for row in t.suppressed.iloc[:, :4].to_numpy())
    assert rows_ok
    # Zero is a small count too.
    z = Gate(5).shares("dk0", answers.assign(**{"Vet ikke": [9, 0, 6]}))
    assert ("NKS", "Vet ikke") in reasons(z)
    # Legacy: "Vet ikke" published whatever its size.
    assert not reasons(Gate(5, legacy=True).shares("dk", answers))


def test_hidden_cells_add_up_to_min_cell():
    # A hidden 1 and a hidden 2 in one equation would be known to lie in 0–3: the complement
    # is one that brings the hidden sum to at least min_cell.
    t = Gate(5).counts("t", counts([[40, 1, 2], [30, 20, 9]]), totals="rows")
    hidden = t.suppressed.iloc[0, :3].to_numpy()
    assert hidden[1] and hidden[2]
    values = np.array([40, 1, 2])
    assert values[hidden].sum() >= 5


# NKS's answers on «Mål- og resultatstyring» by role, as the twin gave them (tbl-mrs-rolle):
# three roles without a «Vet ikke».
NKS_BY_ROLE = {"medarbeider": [26, 60, 114, 47, 10, 9], "leder": [3, 6, 14, 9, 3, 0],
               "tillitsvalgt": [3, 4, 6, 1, 2, 0], "verneombud": [3, 1, 4, 5, 0, 0]}


def _publish_by_role(out, monkeypatch, *, protect: bool):
    """The table by role and the whole population's distribution (its column totals), gated
    and registered as a chapter does; `protect=False` is the gate before its interval check."""
    from tillit.data.codebook import load_codebook
    from tillit.stats import tables

    cb = load_codebook()
    codes = [1, 2, 3, 4, 5, 9]
    rows = [(role, code) for role, k in NKS_BY_ROLE.items() for code, n in zip(codes, k) for _ in range(n)]
    survey = pd.DataFrame(rows, columns=["role", "f_mor"]).assign(
        unit_type="nks", line="arbeid_tjeneste", submitted_at=pd.Timestamp("2023-03-01"))
    survey["f_mor"] = survey["f_mor"].astype("Int8")
    if not protect:
        monkeypatch.setattr(Gate, "_protect_shares", lambda self, *a, **k: None)
    tables.SOURCES.clear()
    gate = Gate(5, out / "disclosure_log.csv")
    by_role = tables.distribution(survey, ["f_mor"], cb, by="role").set_index("role")
    whole = tables.distribution(survey, ["f_mor"], cb, by="unit_type").set_index("unit_type")
    cols = [1, 2, 3, 4, 5, tables.DK]
    table = gate.shares("kap/tbl-mrs-rolle", by_role[cols])
    gate.shares("kap/fig-mrs-enhet", whole[cols])
    gate.write_log()
    return table


def test_rows_and_columns_together_do_not_pin_a_hidden_dont_know(tmp_path, monkeypatch):
    from tillit.data.codebook import load_codebook
    from tillit.stats import audit

    # Before: each row and column has two hidden cells, but the leaders' and tillitsvalgtes
    # «Vet ikke» (both 0) and their middle category form a closed loop: the audit pins them.
    with monkeypatch.context() as mp:
        before = _publish_by_role(tmp_path / "before", mp, protect=False)
    result = audit.run_audit(tmp_path / "before", min_cell=5, codebook=load_codebook())
    assert {(f.row, f.quantity) for f in result.violations} >= {
        ("leder", "antall «Vet ikke»"), ("tillitsvalgt", "antall «Vet ikke»")}, result.message()
    assert not before.suppressed.loc["medarbeider", 3]
    # After: the gate bounds the table by linear programming and hides one more cell, the
    # largest that opens the loop (the employees' middle category); nothing can be pinned.
    after = _publish_by_role(tmp_path / "after", monkeypatch, protect=True)
    result = audit.run_audit(tmp_path / "after", min_cell=5, codebook=load_codebook())
    assert result.ok, result.message()
    assert result.narrowest >= 5
    added = after.suppressed & ~before.suppressed
    assert added.to_numpy().sum() == 1 and added.loc["medarbeider", 3]
    assert reasons(after)[("medarbeider", "3")] == REASON_COMPLEMENT
    # The roles' positive and negative shares (4 + 5, 1 + 2) stay published for the leaders.
    assert not after.suppressed.loc["leder", [1, 2, 4, 5]].any()


def test_the_complement_of_a_five_point_dont_know_is_the_middle_category():
    # NAV kontroll on «Nærmeste leder»: 4 is the largest answer, but the share answering 4 or 5
    # is published elsewhere (the 2017 comparison); hiding 4 would give 4 back, and with it the
    # «Vet ikke». The middle category 3 is enough (2 + 27 ≥ 5) and is hidden instead.
    answers = pd.DataFrame({1: [4, 20], 2: [10, 30], 3: [27, 40], 4: [36, 50], 5: [11, 30], "Vet ikke": [2, 9]},
                           index=["f_leder", "f_tid"])
    t = Gate(5).shares("faktorer", answers)
    assert t.suppressed.loc["f_leder", "Vet ikke"] and t.suppressed.loc["f_leder", 3]
    assert not t.suppressed.loc["f_leder", [1, 2, 4, 5]].any()
    assert reasons(t)[("f_leder", "3")] == REASON_COMPLEMENT
    # When the middle is too small to protect the hidden count, the largest is taken as before.
    small_middle = answers.copy()
    small_middle.loc["f_leder", 3] = 1
    t = Gate(5).shares("faktorer", small_middle)
    assert t.suppressed.loc["f_leder", 4] and not t.suppressed.loc["f_leder", 3]


def test_the_interval_check_leaves_a_protected_table_as_it_was(monkeypatch):
    from tillit.stats.intervals import widths

    answers = pd.DataFrame({1: [10, 3, 8], 2: [20, 4, 9], 3: [40, 30, 20], "Vet ikke": [9, 2, 6]},
                           index=["NAV-kontor", "NKS", "NAY"])
    checked = Gate(5).shares("dk", answers)
    monkeypatch.setattr(Gate, "_protect_shares", lambda self, *a, **k: None)
    heuristic = Gate(5).shares("dk", answers)
    assert checked.log == heuristic.log and checked.suppressed.equals(heuristic.suppressed)
    # …because no hidden count is pinned: rows (n) and columns (their totals) give 0 to 9 at best.
    table = np.vstack([answers.to_numpy(float), answers.to_numpy(float).sum(axis=0)])
    mask = np.vstack([checked.suppressed.iloc[:, :4].to_numpy(), np.zeros((1, 4), bool)])
    equations = [[(i, j) for i in range(3)] + [(3, j)] for j in range(4)]
    equations += [[(i, j) for j in range(4)] + [(i, 4)] for i in range(3)]
    table = np.column_stack([table, table.sum(axis=1)])
    mask = np.column_stack([mask, np.zeros(4, bool)])
    assert min(widths(table, mask, equations).values()) >= 5


def test_means_dont_know_goes_through_the_gate_and_takes_n_with_it():
    stats = pd.DataFrame({"n": [40, 183, 145], "mean": [3.1, 3.6, 3.7], "dont_know": [12, 0, 1]},
                         index=["Leder", "Tillitsvalgt", "Verneombud"])
    t = Gate(5).means("m", stats)
    assert np.isnan(t.values.loc["Tillitsvalgt", "dont_know"]) and np.isnan(t.values.loc["Verneombud", "dont_know"])
    # With the group's size known, n would give "Vet ikke" back: hidden too; the mean stays.
    assert np.isnan(t.values.loc["Tillitsvalgt", "n"]) and t.values.loc["Tillitsvalgt", "mean"] == 3.6
    # The two small counts add up to 1: the column's largest (Leder, 12) is hidden with them,
    # and its n too; every mean is still shown.
    assert np.isnan(t.values.loc["Leder", "dont_know"]) and np.isnan(t.values.loc["Leder", "n"])
    assert t.values["mean"].notna().all()


def test_gated_table_helpers_when_everything_is_hidden():
    answers = pd.DataFrame({"Ja": [3, 2], "Nei": [1, 1]}, index=["A", "B"])
    t = Gate(1000).shares("alt", answers)
    assert t.all_suppressed and t.published().empty
    assert t.value("A", "Ja") is None and t.value("A", "Ja", default=0.0) == 0.0
    assert t.value("finnes ikke", "Ja") is None
    big = Gate(5).shares("stor", pd.DataFrame({"Ja": [30, 20], "Nei": [10, 10]}, index=["A", "B"]))
    assert not big.all_suppressed and big.value("A", "Ja") == pytest.approx(0.75)
    gate = Gate(5)
    assert gate.allows(5) and not gate.allows(4) and not gate.allows(float("nan")) and not gate.allows(None)


def test_csv_shares_are_rounded_next_to_n(tmp_path):
    answers = pd.DataFrame({"Ja": [4, 30], "Nei": [8, 10]}, index=["A", "B"])
    t = Gate(5).shares("runding", answers)
    path = t.to_csv(tmp_path / "t.csv")
    text = path.read_text(encoding="utf-8")
    assert "0.3333," in text and "0.33333333" not in text
    assert ",12\n" in text and "12.0" not in text       # n as a whole number
    from tillit.stats.register import for_csv

    frame = pd.DataFrame({"andel": [1 / 3, 2 / 3], "snitt": [3.14159, 2.5], "n": [12.0, 30.0], "tekst": ["a", "b"]})
    out = for_csv(frame)
    assert out["andel"].tolist() == [0.3333, 0.6667] and out["snitt"].tolist() == [3.142, 2.5]
    assert out["n"].dtype.kind == "i" and out["tekst"].tolist() == ["a", "b"]


def test_shares_with_total_row_get_complementary_group():
    answers = pd.DataFrame({"Ja": [60, 2, 5], "Nei": [40, 1, 4]}, index=["Medarbeider", "Leder", "Tillitsvalgt"])
    t = Gate(5).shares("andeler", answers, total_row=True)
    r = reasons(t)
    # Leder (n=3) is small; with a published total row it could be recovered, so the
    # next-smallest group (Tillitsvalgt, n=9) is hidden too.
    assert r == {("Leder", WHOLE_ROW): REASON_SMALL, ("Tillitsvalgt", WHOLE_ROW): REASON_COMPLEMENT}
    assert t.values.loc[TOTAL, "n"] == 112 and t.values.loc[TOTAL, "Ja"] == pytest.approx(67 / 112)


def test_shares_cell_rule_hides_small_count_and_complements():
    answers = pd.DataFrame({"Ja": [60, 3], "Nei": [40, 27], "Vet ikke": [9, 20]}, index=["A", "B"])
    t = Gate(5).shares("andeler", answers, cell_rule=True)
    r = reasons(t)
    assert r[("B", "Ja")] == REASON_SMALL
    # Row B (sums to n) and column Ja (sums to a total) each get a second hidden cell.
    assert r[("B", "Nei")] == REASON_COMPLEMENT and r[("A", "Ja")] == REASON_COMPLEMENT
    assert t.values.loc["B", "n"] == 50 and t.values.loc["A", "Vet ikke"] == pytest.approx(9 / 109)
    assert unrecoverable(t.suppressed.iloc[:, :3].to_numpy(), True, True)


def test_means_of_small_group_are_suppressed_with_complement_from_total():
    stats = pd.DataFrame({"snitt": [3.1, 2.5, 4.0, 3.3], "sd": [1.0, 0.5, 0.9, 1.0], "n": [40, 3, 20, 63]},
                         index=["NAV-kontor", "NKS", "NAY", "Alle"])
    t = Gate(5).means("snitt", stats, total_label="Alle")
    assert t.values.loc["NKS"].isna().all() and t.values.loc["NAY"].isna().all()
    assert t.values.loc["NAV-kontor", "snitt"] == 3.1 and t.values.loc["Alle", "n"] == 63
    assert reasons(t) == {("NKS", WHOLE_ROW): REASON_SMALL, ("NAY", WHOLE_ROW): REASON_COMPLEMENT}
    # Without a total row the total is still known (captions give n): the same two groups.
    plain = Gate(5).means("snitt", stats.drop(index="Alle"))
    assert reasons(plain) == {("NKS", WHOLE_ROW): REASON_SMALL, ("NAY", WHOLE_ROW): REASON_COMPLEMENT}
    assert reasons(Gate(5, legacy=True).means("snitt", stats.drop(index="Alle"))) == {("NKS", WHOLE_ROW): REASON_SMALL}


def test_means_input_errors():
    with pytest.raises(DisclosureError, match="kolonnen 'n' med antall svar mangler"):
        Gate(5).means("m", pd.DataFrame({"snitt": [1.0]}))
    with pytest.raises(DisclosureError, match="totalraden 'Alle' finnes ikke"):
        Gate(5).means("m", pd.DataFrame({"snitt": [1.0], "n": [10]}, index=["A"]), total_label="Alle")


@pytest.mark.parametrize("bad", [-1, 2.5, "mange", None])
def test_counts_must_be_counts(bad):
    df = counts([[50, 10], [20, 30]]).astype(object)
    df.loc["NKS", "Leder"] = bad
    with pytest.raises(DisclosureError) as exc:
        Gate(5).counts("tabell_x", df)
    msg = str(exc.value)
    assert "tabell 'tabell_x', rad 'NKS', kolonne 'Leder'" in msg and "heltall ≥ 0" in msg


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_min_cell_must_be_positive_int(bad):
    with pytest.raises(DisclosureError, match="min_cell"):
        Gate(bad)


# --- the log ----------------------------------------------------------------------------
def test_log_written_replaced_per_table_and_holds_no_values(tmp_path):
    log = tmp_path / "outputs" / "disclosure_log.csv"
    gate = Gate(5, log)
    gate.counts("tab_a", counts([[50, 3, 8], [40, 12, 7]]), totals="rows")
    gate.counts("tab_b", counts([[50, 2], [40, 12]]), totals=False)
    gate.write_log()
    first = pd.read_csv(log, dtype=str)
    assert list(first.columns) == LOG_COLUMNS
    assert sorted(first["table_id"]) == ["tab_a", "tab_a", "tab_b"]
    assert set(first["reason"]) == {REASON_SMALL, REASON_COMPLEMENT}
    # The hidden values (3, 8, 2) appear nowhere in the log.
    assert not first.isin(["3", "8", "2"]).any().any() and "n" not in first.columns

    again = Gate(5, log)                              # a re-run of tab_a only, now without small cells
    again.counts("tab_a", counts([[50, 30, 8], [40, 12, 7]]), totals="rows")
    again.write_log()
    second = pd.read_csv(log, dtype=str)
    assert list(second["table_id"]) == ["tab_b"]      # tab_a replaced (by nothing), tab_b kept

    bytes_before = log.read_bytes()
    again.write_log()                                 # idempotent
    assert log.read_bytes() == bytes_before
    assert not list(log.parent.glob(".*tmp"))         # no temporary files left


def test_log_is_deterministic_whatever_the_order(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    tables = {"x": counts([[1, 9], [9, 9]]), "y": counts([[9, 2], [9, 9]])}
    g1 = Gate(5, a)
    for k in ["x", "y"]:
        g1.counts(k, tables[k])
        g1.write_log()
    g2 = Gate(5, b)
    for k in ["y", "x"]:
        g2.counts(k, tables[k])
    g2.write_log()
    assert a.read_bytes() == b.read_bytes()


def test_log_refuses_foreign_file(tmp_path):
    log = tmp_path / "disclosure_log.csv"
    log.write_text("a,b\n1,2\n", encoding="utf-8")
    gate = Gate(5, log)
    gate.counts("t", counts([[1, 9], [9, 9]]))
    with pytest.raises(DisclosureError, match="uventede kolonner"):
        gate.write_log()
    with pytest.raises(DisclosureError, match="ingen loggfil"):
        Gate(5).write_log()


def test_gated_table_csv(tmp_path):
    t = Gate(5).counts("t", counts([[50, 3], [40, 12]]), totals=False)
    path = t.to_csv(tmp_path / "tables" / "t.csv")
    text = path.read_text(encoding="utf-8")
    assert MARK in text and ",3" not in text


# --- publish check ----------------------------------------------------------------------
def test_assert_publishable_accepts_gated_tables():
    gate = Gate(5)
    assert_publishable(gate.counts("t", counts([[50, 3], [40, 12]])), 5)
    answers = pd.DataFrame({"Ja": [60, 2], "Nei": [40, 1]}, index=["A", "B"])
    assert_publishable(gate.shares("s", answers), 5)


@pytest.mark.parametrize("frame,text", [
    (pd.DataFrame({"respondent_id": ["R1"], "n": [10]}), "respondent_id"),
    (pd.DataFrame({"RespondentID": ["R1"]}), "RespondentID"),
    (pd.DataFrame({"Utdypende svar": ["x"]}), "Utdypende svar"),
    (pd.DataFrame({"tid": pd.to_datetime(["2023-01-01"])}), "tidspunkter"),
    (pd.DataFrame({"svar": [f"Dette er en lang fritekst nummer {i} om hvordan jeg opplever arbeidet mitt i NAV"
                            for i in range(5)]}), "fritekst"),
    (pd.DataFrame({"andel": [0.5, 0.2], "n": [40, 3]}, index=["A", "B"]), "rad 'B', kolonne 'n': n = 3"),
    (pd.DataFrame({"n_svar": [40, 0]}), "n = 0"),
])
def test_assert_publishable_refuses(frame, text):
    with pytest.raises(DisclosureError) as exc:
        assert_publishable(frame, 5, table_id="tab_z")
    assert "tab_z kan ikke publiseres" in str(exc.value) and text in str(exc.value)


def test_assert_publishable_index_name_counts():
    df = pd.DataFrame({"snitt": [3.0]}, index=pd.Index(["R1"], name="respondent_id"))
    with pytest.raises(DisclosureError, match="respondent_id"):
        assert_publishable(df, 5)


def test_unit_by_role_breakdown_keeps_multiindex():
    idx = pd.MultiIndex.from_tuples([("NAV-kontor", "Leder"), ("NAV-kontor", "Medarbeider"), ("NKS", "Leder")],
                                    names=["enhet", "rolle"])
    answers = pd.DataFrame({"Ja": [3, 40, 10], "Nei": [8, 30, 12]}, index=idx)
    gate = Gate(5)
    t = gate.counts("enhet_rolle", answers)
    assert t.values.index.names == ["enhet", "rolle"]
    assert t.display().loc[("NAV-kontor", "Leder"), "Ja"] == MARK
    assert t.values.loc[(TOTAL, ""), TOTAL] == 103
    assert unrecoverable(t.suppressed.to_numpy(), True, True)
    assert ("NAV-kontor / Leder", "Ja") in reasons(t)
    s = gate.shares("enhet_rolle_andel", answers.assign(Ja=[1, 40, 10], Nei=[2, 30, 12]), total_row=True)
    r = reasons(s)
    # Hidden leaders of NAV-kontor: the other leaders (same role) and the other roles of
    # NAV-kontor (same unit) would each give it back; one group of each goes too.
    assert r == {("NAV-kontor / Leder", WHOLE_ROW): REASON_SMALL, ("NKS / Leder", WHOLE_ROW): REASON_COMPLEMENT,
                 ("NAV-kontor / Medarbeider", WHOLE_ROW): REASON_COMPLEMENT}


def test_means_keep_column_order_and_refuse_text():
    stats = pd.DataFrame({"n": [40, 3, 30], "mean": [3.1, 2.0, 2.5], "lo": [2.9, 1.0, 2.2], "hi": [3.3, 3.0, 2.8]},
                         index=["A", "B", "C"])
    t = Gate(5).means("m", stats)
    assert list(t.values.columns) == ["n", "mean", "lo", "hi"]
    assert t.values.loc["B"].isna().all() and t.values.loc["A", "hi"] == 3.3
    with pytest.raises(DisclosureError, match="kolonne 'mean': forventet tall"):
        Gate(5).means("m", stats.assign(mean=["høy", "lav", "middels"]))


# --- the log and the registers ------------------------------------------------------------
def test_write_log_writes_each_register_again_only_when_it_changed(tmp_path):
    import json
    import os

    gate = Gate(5)
    gate.counts("t1", counts([[50, 4], [30, 25]]))
    log = gate.write_log(tmp_path / "a" / "disclosure_log.csv")
    first = tmp_path / "a" / "disclosure" / "t1.json"
    assert first.is_file()
    os.utime(first, ns=(1, 1))  # a rewrite would give it a new mtime
    gate.counts("t2", counts([[60, 7], [20, 21]]))
    gate.write_log(log)
    assert first.stat().st_mtime_ns == 1 and (tmp_path / "a" / "disclosure" / "t2.json").is_file()
    before = json.loads(first.read_text(encoding="utf-8"))
    gate.counts("t1", counts([[50, 40], [30, 25]]))  # t1 gated again, with other counts
    gate.write_log(log)
    assert first.stat().st_mtime_ns != 1 and json.loads(first.read_text(encoding="utf-8")) != before
    # Another folder gets every register; a register deleted by hand is written again.
    gate.write_log(tmp_path / "b" / "disclosure_log.csv")
    assert sorted(p.name for p in (tmp_path / "b" / "disclosure").glob("*.json")) == ["t1.json", "t2.json"]
    (tmp_path / "a" / "disclosure" / "t2.json").unlink()
    gate.write_log(log)
    assert (tmp_path / "a" / "disclosure" / "t2.json").is_file()
