import numpy as np
import pandas as pd
import pytest

from tillit.stats import tables
from tillit.data.codebook import load_codebook


@pytest.fixture()
def survey():
    # 10 respondents: known answers on two factors, two roles.
    return pd.DataFrame({
        "role": pd.Categorical(["medarbeider"] * 6 + ["leder"] * 4),
        "f_tid": pd.array([1, 2, 2, 3, 4, 9, 5, 5, 1, 9], dtype="Int8"),
        "f_kompetanse": pd.array([4, 4, 5, 5, 3, 9, 4, 5, 2, pd.NA], dtype="Int8"),
    })


def test_distribution_counts_every_code_and_dont_know(survey):
    cb = load_codebook()
    dist = tables.distribution(survey, ["f_tid", "f_kompetanse"], cb)
    tid = dist.set_index("item").loc["f_tid"]
    assert [tid[c] for c in [1, 2, 3, 4, 5, tables.DK]] == [2, 2, 1, 1, 2, 2]
    assert tid["n"] == 10
    assert dist.set_index("item").loc["f_kompetanse", "n"] == 9  # <NA> = not asked, left out


def test_distribution_by_group(survey):
    dist = tables.distribution(survey, ["f_tid"], load_codebook(), by="role")
    leder = dist.set_index("role").loc["leder"]
    assert leder[5] == 2 and leder[1] == 1 and leder[tables.DK] == 1 and leder["n"] == 4


def test_share_with_and_without_dont_know(survey):
    cb = load_codebook()
    inc = tables.share(survey, "f_tid", [1, 2], cb=cb)
    exc = tables.share(survey, "f_tid", [1, 2], dont_know="exclude", cb=cb)
    assert inc.loc[0, "k"] == 4 and inc.loc[0, "n"] == 10
    assert exc.loc[0, "n"] == 8 and exc.loc[0, "share"] == pytest.approx(0.5)
    assert inc.loc[0, "lo"] < 0.4 < inc.loc[0, "hi"]


def test_mean_leaves_dont_know_out(survey):
    res = tables.mean(survey, "f_tid", by="role", cb=load_codebook()).set_index("role")
    assert res.loc["leder", "n"] == 3
    assert res.loc["leder", "mean"] == pytest.approx((5 + 5 + 1) / 3)
    assert res.loc["leder", "dont_know"] == 1


def test_rank_factors_orders_by_share_that_affects(survey):
    sh = tables.shares(tables.distribution(survey, ["f_tid", "f_kompetanse"], load_codebook()))
    ranked = tables.rank_factors(sh, [1, 2, 4, 5])
    assert list(ranked["item"]) == ["f_kompetanse", "f_tid"]  # 7/9 vs 7/10
    assert list(ranked["rank"]) == [1, 2]


def test_wilson_interval_contains_estimate():
    lo, hi = tables.wilson(np.array([27]), np.array([100]))
    assert lo[0] < 0.27 < hi[0]


def test_a_row_finds_its_own_source_among_equal_counts():
    """In an edition of one unit type the row by unit type has the counts of the edition's
    whole distribution, and two questions can share a role's n and mean: the row's label (its
    group, its item) picks the source, so the audit can bound what the row hides."""
    cb = load_codebook()
    codes = [1, 2, 3, 3, 4, 9, 2, 3]
    df = pd.DataFrame({"unit_type": "kontroll", "role": ["leder", "medarbeider"] * 4, "line": "okonomi",
                       "f_mor": pd.array(codes, dtype="Int8"), "f_tid": pd.array(codes, dtype="Int8")})
    tables.SOURCES.clear()
    whole = tables.distribution(df, ["f_mor"], cb)
    by_unit = tables.label_groups(tables.distribution(df, ["f_mor"], cb, by="unit_type"), cb)
    cols = [1, 2, 3, 4, 5, tables.DK]
    row = by_unit.iloc[0]
    found = tables.SOURCES.find("distribution", int(row["n"]), [row[c] for c in cols], str(row["unit_type"]))
    assert found is not None and dict(found.group) == {"unit_type": "kontroll"}
    found = tables.SOURCES.find("distribution", int(whole["n"].iloc[0]), [whole[c].iloc[0] for c in cols], "f_mor")
    assert found is not None and found.group == ()
    # Two questions, equal answers: the item in the row's label decides; without it, none is taken.
    means = pd.concat([tables.mean(df, item, by="role", cb=cb).assign(item=item) for item in ("f_mor", "f_tid")])
    leader = means[means["role"] == "leder"].iloc[1]
    found = tables.SOURCES.find("mean", int(leader["n"]), [leader["mean"]], "f_tid / leder")
    assert found is not None and found.item == "f_tid" and dict(found.group) == {"role": "leder"}
    assert tables.SOURCES.find("mean", int(leader["n"]), [leader["mean"]], "Leder") is None
