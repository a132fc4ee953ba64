"""tillit.stats.audit on a crafted export with small groups whose counts are recoverable.

The export has NAV kontroll with 3 leaders and 2 verneombud, and one verneombud who answers
"Vet ikke". Published the way the chapters publish (response profile, an item by role, the
same item by unit type for leaders, a mean by role with its "Vet ikke" counts):

* before the fix (a group is complemented only when its own table has a total row, and the
  "Vet ikke" counts of a means table are merged in after the gate) the audit finds the
  recoverable cells: the 3 leaders of NAV kontroll (the leaders' total is published by role),
  the single "Vet ikke" of the verneombud (its share times n), and the ungated "Vet ikke" column;
* after the fix (the gate as it is now) it passes.
"""
from __future__ import annotations

import re

import json

import numpy as np
import pandas as pd
import pytest

from tillit.data.codebook import load_codebook
from tillit.stats import audit, tables
from tillit.stats.disclosure import Gate

SIZES = {  # unit type → respondents per role (medarbeider, leder, tillitsvalgt, verneombud)
    "nav_kontor": (60, 20, 10, 8),
    "nks": (40, 10, 6, 6),
    "kontroll": (30, 3, 5, 2),
}
ROLES = ("medarbeider", "leder", "tillitsvalgt", "verneombud")


@pytest.fixture
def survey() -> pd.DataFrame:
    rows = []
    for unit, sizes in SIZES.items():
        for role, size in zip(ROLES, sizes):
            for i in range(size):
                rows.append({"unit_type": unit, "role": role, "i": i})
    df = pd.DataFrame(rows)
    df["submitted_at"] = pd.Timestamp("2023-03-01")
    df["line"] = df["unit_type"].map({"nav_kontor": "arbeid_tjeneste", "nks": "arbeid_tjeneste",
                                      "kontroll": "okonomi"})
    cycle = np.array([1, 2, 3, 3, 4, 5, 3, 2, 4, 3, 9, 3])
    df["trust_hindrance"] = pd.array(cycle[np.arange(len(df)) % len(cycle)], dtype="Int8")
    # The verneombud answer "Vet ikke" exactly once.
    vo = df.index[df["role"] == "verneombud"]
    df.loc[vo, "trust_hindrance"] = 3
    df.loc[vo[0], "trust_hindrance"] = 9
    knows = pd.array(np.where(np.arange(len(df)) % 7 == 0, 9, 1 + np.arange(len(df)) % 5), dtype="Int8")
    df["knows_goals"] = knows
    df.loc[df["role"] == "medarbeider", "knows_goals"] = pd.NA  # not asked
    return df


def publish(survey: pd.DataFrame, out, *, fixed: bool) -> None:
    """The four tables, gated, with their CSVs under out/tables/ as the book writes them."""
    cb = load_codebook()
    tables.SOURCES.clear()
    gate = Gate(5, out / "disclosure_log.csv", legacy=not fixed)

    def csv(table_id: str, frame: pd.DataFrame) -> None:
        path = out / "tables" / f"{table_id}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)

    profile = tables.crosstab(survey, "unit_type", "role", cb)
    profile.index = [cb.unit_types[k].label for k in profile.index]
    profile.columns = [cb.roles[k] for k in profile.columns]
    g = gate.counts("kap/tbl-svarprofil", profile, totals=True)
    csv("kap/tbl-svarprofil", g.values.reset_index())

    by_role = tables.label_groups(tables.distribution(survey, ["trust_hindrance"], cb, by="role"), cb)
    g = gate.shares("kap/fig-tillit-rolle", by_role.set_index("role")[[1, 2, 3, 4, 5, tables.DK]])
    csv("kap/fig-tillit-rolle", g.values.reset_index())

    leaders = survey[survey["role"] == "leder"]
    by_unit = tables.label_groups(tables.distribution(leaders, ["trust_hindrance"], cb, by="unit_type"), cb)
    g = gate.shares("kap/fig-tillit-ledere", by_unit.set_index("unit_type")[[1, 2, 3, 4, 5, tables.DK]])
    csv("kap/fig-tillit-ledere", g.values.reset_index())

    means = tables.label_groups(tables.mean(survey, "knows_goals", by="role", cb=cb), cb)
    if fixed:
        g = gate.means("kap/fig-kjenner", means.set_index("role")[["n", "mean", "lo", "hi", "dont_know"]])
        csv("kap/fig-kjenner", g.values.reset_index())
    else:  # as the chapters did: the "Vet ikke" counts merged in after the gate
        g = gate.means("kap/fig-kjenner", means.set_index("role")[["n", "mean", "lo", "hi"]])
        csv("kap/fig-kjenner", g.values.reset_index().merge(means[["role", "dont_know"]], on="role"))
    gate.write_log()


def findings(result: audit.AuditResult) -> set[tuple[str, str, str]]:
    return {(f.table_id, f.row, f.quantity) for f in result.violations}


def test_recoverable_cells_are_found_before_the_fix(survey, tmp_path):
    publish(survey, tmp_path, fixed=False)
    result = audit.run_audit(tmp_path, min_cell=5, codebook=load_codebook())
    assert not result.ok
    found = findings(result)
    # 3 leaders in NAV kontroll = leaders in all (by role) − NAV-kontor − NKS.
    assert ("kap/fig-tillit-ledere", "NAV kontroll", "antall svar (n)") in found
    # One verneombud said "Vet ikke": its share times n gives it.
    assert ("kap/fig-tillit-rolle", "Verneombud", "antall «Vet ikke»") in found
    # The means table's "Vet ikke" counts never went through the gate.
    assert any(t == "kap/fig-kjenner" and q == "kolonnen «dont_know»" for t, _, q in found)
    assert "Revisjonen av skjulte tall feilet" in result.message()


def test_nothing_is_recoverable_after_the_fix(survey, tmp_path):
    publish(survey, tmp_path, fixed=True)
    result = audit.run_audit(tmp_path, min_cell=5, codebook=load_codebook())
    assert result.ok, result.message()
    assert result.suppressed >= 6 and result.narrowest >= 5
    assert not result.unaudited and result.tables == 4


def test_bounds_are_the_true_feasible_interval(tmp_path):
    """A 2 × 2 block hidden in a table with margins: the audit's interval is the textbook one."""
    cb = load_codebook()
    tables.SOURCES.clear()
    df = pd.DataFrame({"unit_type": ["nav_kontor"] * 20 + ["nks"] * 16, "role": (["leder"] * 12 + ["medarbeider"] * 8)
                       + (["leder"] * 9 + ["medarbeider"] * 7), "submitted_at": pd.Timestamp("2023-01-01")})
    t = tables.crosstab(df, "unit_type", "role", cb)
    gated = Gate(5).counts("kap/blokk", t, totals=True)
    full = gated.values.copy()                # nothing small: every cell published so far
    gated.suppressed.iloc[:2, :2] = True      # hide the four inner cells; the margins stay
    from tillit.stats.register import register_counts, write_register

    reg = dict(register_counts(gated, full, True, True), table_id="kap/blokk", kind="counts", min_cell=5)
    write_register(tmp_path, "kap/blokk", reg)
    result = audit.run_audit(tmp_path, min_cell=5, codebook=cb)
    # nav_kontor/leder = x: x ∈ [max(0, 20 − 15), min(20, 21)] = [5, 20], width 15.
    assert result.suppressed == 4 and result.narrowest == pytest.approx(15)
    assert result.ok


def test_result_written_names_no_hidden_value(survey, tmp_path):
    publish(survey, tmp_path, fixed=True)
    result = audit.run_audit(tmp_path, min_cell=5, codebook=load_codebook())
    path = audit.write_result(result, tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["ok"] and data["min_cell"] == 5 and set(data) >= {"published_equations", "suppressed_counts"}
    assert "bounds" not in path.read_text(encoding="utf-8")
    before = path.stat().st_mtime_ns
    audit.write_result(result, tmp_path)  # unchanged content: not rewritten (the appendix is keyed on it)
    assert path.stat().st_mtime_ns == before
    # The registers hold published numbers only: the 3 leaders and 2 verneombud of NAV
    # kontroll appear nowhere as counts.
    reg = json.loads((tmp_path / "disclosure" / "kap" / "tbl-svarprofil.json").read_text(encoding="utf-8"))
    hidden = [r for r in reg["rows"] if r["label"] in ("NAV kontroll × Leder", "NAV kontroll × Verneombud")]
    assert hidden and all(r["n"] is None for r in hidden)


def test_a_row_without_a_source_cannot_be_audited(tmp_path):
    tables.SOURCES.clear()
    gate = Gate(5, tmp_path / "disclosure_log.csv")
    frame = pd.DataFrame({1: [30, 1], 2: [20, 2], tables.DK: [3, 0]}, index=["A", "B"])  # not from tables
    gate.shares("kap/ukjent", frame)
    gate.write_log()
    result = audit.run_audit(tmp_path, min_cell=5, codebook=load_codebook())
    assert not result.ok and {f.row for f in result.unaudited} == {"A", "B"}


def test_a_ledger_figure_about_a_hidden_small_group_is_found(survey, tmp_path):
    publish(survey, tmp_path, fixed=True)
    published = tmp_path / "published.yml"
    published.write_text(
        "targets:\n"
        "  - {id: kontroll_ledere, section: x, statement: x, published: x, check: {op: eq, value: 1},\n"
        "     compute: {kind: share, var: trust_hindrance, codes: [4, 5], denominator: all,\n"
        "               filter: {role: [leder], unit_type: [kontroll]}}}\n"
        "  - {id: alle_ledere, section: x, statement: x, published: x, check: {op: eq, value: 1},\n"
        "     compute: {kind: share, var: trust_hindrance, codes: [4, 5], denominator: all, filter: {role: [leder]}}}\n",
        encoding="utf-8")
    ledger = tmp_path / "tables" / "vedlegg" / "tbl-regnskap.csv"
    ledger.parent.mkdir(parents=True)
    ledger.write_text("id,recomputed\nkontroll_ledere,\"33 %\"\nalle_ledere,\"21 %\"\n", encoding="utf-8")
    result = audit.run_audit(tmp_path, min_cell=5, codebook=load_codebook(), published_yml=published)
    found = {(f.table_id, f.row) for f in result.violations}
    assert ("regnskapet", "kontroll_ledere") in found        # a share about 3 leaders
    assert ("regnskapet", "alle_ledere") not in found        # 33 leaders: fine


def test_the_methods_appendix_reports_the_audit(survey, tmp_path):
    from types import SimpleNamespace

    from tillit.book import audit_report

    from tillit.book.numbers import Numbers

    ctx = SimpleNamespace(output_dir=tmp_path, min_cell=5, num=Numbers(synthetic=True))
    assert "ikke tilgjengelig" in audit_report.audit_text(ctx)
    publish(survey, tmp_path, fixed=True)
    audit.write_result(audit.run_audit(tmp_path, min_cell=5, codebook=load_codebook()), tmp_path)
    text = audit_report.audit_text(ctx)
    assert 'data-kind="modell"' in text          # the build's counts carry their kind
    text = re.sub(r"<[^>]+>", "", re.sub(r"<span class=\"visually-hidden\">.*?</span>", "", text))
    assert "4 tabeller og figurer revidert" in text and "ingen tall som kan regnes tilbake" in text
    assert "minst fem respondenter" in audit_report.rule_text(ctx) and "«Vet ikke»" in audit_report.rule_text(ctx)


# --- counts of a sub-population (tillit.stats.outside) ------------------------------------
SMALL_OUTSIDE = {  # NAV kontroll: 30 medarbeidere and only 3 others
    "nav_kontor": (60, 20, 10, 8),
    "nks": (40, 10, 6, 6),
    "kontroll": (30, 1, 1, 1),
}


def _survey(sizes) -> pd.DataFrame:
    rows = [{"unit_type": u, "role": r, "i": i} for u, s in sizes.items() for r, k in zip(ROLES, s) for i in range(k)]
    df = pd.DataFrame(rows)
    df["submitted_at"] = pd.Timestamp("2023-03-01")
    df["trust_hindrance"] = pd.array(1 + np.arange(len(df)) % 5, dtype="Int8")  # everybody answers
    return df


def _publish_medarbeider(df: pd.DataFrame, out, populations) -> Gate:
    """The response profile (unit type × role with totals) and trust among the medarbeidere by
    unit type, as 4.2 publishes it."""
    from tillit.stats.outside import cell_populations

    cb = load_codebook()
    tables.SOURCES.clear()
    gate = Gate(5, out / "disclosure_log.csv",
                populations=(lambda: (cell_populations(df, cb), cb)) if populations else None)
    profile = tables.crosstab(df, "unit_type", "role", cb)
    profile.index = [cb.unit_types[k].label for k in profile.index]
    profile.columns = [cb.roles[k] for k in profile.columns]
    gate.counts("kap/tbl-svarprofil", profile, totals=True)
    emp = df[df["role"] == "medarbeider"]
    by_unit = tables.label_groups(tables.distribution(emp, ["trust_hindrance"], cb, by="unit_type"), cb)
    gate.shares("kap/fig-tillit-enhet", by_unit.set_index("unit_type")[[1, 2, 3, 4, 5, tables.DK]], total_row=True)
    gate.write_log()
    return gate


def test_a_count_of_the_medarbeidere_that_gives_away_the_few_others_is_hidden(tmp_path):
    """30 medarbeidere of NAV kontroll answered, and the unit has 33: the 3 others (a leder, a
    tillitsvalgt and a verneombud, hidden in the response profile) would be pinned to 0–3."""
    df = _survey(SMALL_OUTSIDE)
    before = tmp_path / "uten"
    _publish_medarbeider(df, before, populations=False)
    found = findings(audit.run_audit(before, min_cell=5, codebook=load_codebook()))
    assert any(t == "kap/tbl-svarprofil" and "NAV kontroll" in r for t, r, _ in found), found

    after = tmp_path / "med"
    gate = _publish_medarbeider(df, after, populations=True)
    result = audit.run_audit(after, min_cell=5, codebook=load_codebook())
    assert result.ok, result.message()
    log = gate.records
    hidden = log[(log["table_id"] == "kap/fig-tillit-enhet") & (log["column"] == "(hele raden)")]
    assert "NAV kontroll" in set(hidden["row"]) and set(hidden["reason"]) == {"komplementær"}
    # The units with enough others outside the frame keep their bars.
    reg = json.loads((after / "disclosure" / "kap" / "fig-tillit-enhet.json").read_text(encoding="utf-8"))
    assert {r["label"]: r["n"] for r in reg["rows"]}["NAV-kontor"] == 60


def test_the_rule_leaves_a_count_alone_when_nobody_is_outside_or_many_are():
    from tillit.stats.outside import reveals_outside
    from tillit.stats.tables import Source

    cb = load_codebook()
    cells = {(u, r): 0 for u in cb.unit_types for r in cb.roles}
    cells.update({("nks", "medarbeider"): 40, ("nks", "leder"): 3, ("kontroll", "medarbeider"): 30})
    emp = tuple(sorted((u, "medarbeider") for u in cb.unit_types))
    nks = Source("distribution", "trust_hindrance", (("unit_type", "nks"),), emp)
    kontroll = Source("distribution", "trust_hindrance", (("unit_type", "kontroll"),), emp)
    everybody = Source("distribution", "trust_hindrance", (("unit_type", "nks"),), None)
    assert reveals_outside([nks], 40, (cells, cb), 5)            # 3 leaders pinned to 0–3
    assert not reveals_outside([nks], 30, (cells, cb), 5)        # 13 unaccounted for: ≥ 5
    assert not reveals_outside([kontroll], 30, (cells, cb), 5)   # nobody outside the frame
    assert not reveals_outside([everybody], 43, (cells, cb), 5)  # the frame is the whole unit
    assert not reveals_outside([None], 40, (cells, cb), 5)       # unknown source: the audit decides
    assert reveals_outside([nks, kontroll], 70, (cells, cb), 5)  # a total of both
    # The same count labelled as the role: the total of all respondents (73) gives the 3 away.
    medarbeidere = Source("distribution", "trust_hindrance", (("role", "medarbeider"),), None)
    assert reveals_outside([medarbeidere], 70, (cells, cb), 5)
    assert not reveals_outside([medarbeidere], 60, (cells, cb), 5)


def test_a_hidden_row_two_aggregates_fit_is_bounded_under_each(tmp_path):
    """9 of 90 on two questions: the register keeps both candidates, and a hidden n must be
    safe under either (here the second is pinned by a published total)."""
    from tillit.stats.register import write_register

    cb = load_codebook()
    every = [[u, r] for u in cb.unit_types for r in cb.roles]
    def src(item, unit):
        return {"measure": "share", "item": item, "group": {"unit_type": unit}, "universe": every,
                "population": "survey_2023", "codes": [4, 5], "denominator": "all", "labels": []}
    rows = [{"label": "kontroll", "source": None, "measure": "share", "n": None,
             "candidates": [src("trust_hindrance", "kontroll"), src("competition", "kontroll")]}]
    write_register(tmp_path, "kap/a", {"rows": rows, "table_id": "kap/a", "kind": "means", "min_cell": 5})
    ok = audit.run_audit(tmp_path, min_cell=5, codebook=cb)
    assert ok.ok and ok.suppressed == 2 and not ok.unaudited
    # competition answered by all of kontroll is published elsewhere: the second candidate is pinned.
    pinned = [{"label": "kontroll", "source": src("competition", "kontroll"), "measure": "share", "n": 3,
               "k": 1}]
    write_register(tmp_path, "kap/b", {"rows": pinned, "table_id": "kap/b", "kind": "means", "min_cell": 5})
    result = audit.run_audit(tmp_path, min_cell=5, codebook=cb)
    assert ("kap/a", "kontroll", "antall svar (n)") in findings(result)


def test_a_share_whose_group_has_few_vet_ikke_is_hidden_when_the_counts_are_given(tmp_path):
    """37 of 3 660 said "Vet ikke": with min_cell 1 000 the share of all (k and n exact) would,
    beside the other answers published elsewhere, give the 37 back; the row goes, with a
    second one so that the total does not give it back."""
    tables.SOURCES.clear()
    gate = Gate(1000, tmp_path / "disclosure_log.csv")
    frame = pd.DataFrame({"n": [3660, 3660, 3660], "share": [0.759, 0.52, 0.31], "lo": [0.7, 0.5, 0.3],
                          "hi": [0.8, 0.6, 0.4]}, index=["kompetanse", "leder", "tid"])
    gated = gate.means("kap/andeler", frame, dont_know_counts=pd.Series({"kompetanse": 37, "leder": 1500,
                                                                          "tid": 1200}))
    hidden = gated.suppressed.all(axis=1)
    assert hidden["kompetanse"] and not hidden["tid"]
    log = gate.records
    assert "«Vet ikke» < min_cell" in set(log.loc[log["row"] == "kompetanse", "reason"])
    assert "37" not in log.to_csv()  # the count itself is never written
    # Without the counts the gate cannot know: the row is published, as before.
    assert not Gate(1000).means("kap/andeler", frame).suppressed.all(axis=1)["kompetanse"]


def test_a_hidden_count_proved_large_by_what_is_published_is_no_finding(tmp_path):
    """All 3 660 hidden in one row and published in another: pinned, but no small group."""
    from tillit.stats.register import write_register

    cb = load_codebook()
    src = {"measure": "share", "item": "f_kompetanse", "group": {}, "universe": None, "population": "survey_2023",
           "codes": [4, 5], "denominator": "all", "labels": []}
    write_register(tmp_path, "kap/a", {"table_id": "kap/a", "kind": "means", "min_cell": 1000,
                                       "rows": [{"label": "alle", "source": src, "measure": "share", "n": None}]})
    write_register(tmp_path, "kap/b", {"table_id": "kap/b", "kind": "means", "min_cell": 1000,
                                       "rows": [{"label": "alle", "source": src, "measure": "share", "n": 3660}]})
    result = audit.run_audit(tmp_path, min_cell=1000, codebook=cb)
    assert result.ok and result.suppressed == 1 and result.narrowest is None
    # The same pinning of a count that may be small is a finding.
    write_register(tmp_path, "kap/b", {"table_id": "kap/b", "kind": "means", "min_cell": 1000,
                                       "rows": [{"label": "alle", "source": src, "measure": "share", "n": 300}]})
    assert ("kap/a", "alle", "antall svar (n)") in findings(audit.run_audit(tmp_path, min_cell=1000, codebook=cb))
