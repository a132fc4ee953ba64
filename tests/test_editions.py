"""Editions: the filter and its validation, the disclosure rule across editions, and
`tillit editions` on a tiny temporary compendium on a dask LocalCluster with 2 workers."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import cloudpickle
import nbformat
import pandas as pd
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tillit.config import SHARED_KEYS, ConfigError, RunParams
from tillit.data.codebook import load_codebook
from tillit.stats import editions as E

REPO = Path(__file__).resolve().parents[1]
CB = load_codebook(REPO / "params" / "codebook.yml")


def parse(editions: dict, default: str = "nav") -> E.Editions:
    data = {"default": default, "editions": {"nav": {"title": "Hele NAV", "short": "NAV", "staff": "de ansatte"},
                                             **editions}}
    return E.parse_editions(data, Path("editions.yml"), CB)


def ed(**filters) -> dict:
    return {"title": "T", "short": "S", "staff": "de ansatte i T", **filters}


# --------------------------------------------------------------------------------------
# params/editions.yml and the filter
# --------------------------------------------------------------------------------------
def test_the_shipped_editions_are_valid_and_distinct():
    eds = E.load_editions(root=REPO)
    assert eds.whole.is_whole and eds.default == "nav"
    assert {"nks", "ytelseslinjen", "ledere"} <= set(eds.names())
    assert eds.get("nks").unit_type == ("nks",)
    assert eds.get("ytelseslinjen").line == ("ytelse",)
    assert eds.get("ledere").role == ("leder",)
    cells = [e.cells(CB) for e in eds.editions.values()]
    assert len(set(cells)) == len(cells)
    with pytest.raises(ConfigError, match="ukjent utgave 'nkss'.*kjente: nav"):
        eds.get("nkss")


@pytest.mark.parametrize("editions, message", [
    ({"x": ed(unit_type=["nkss"])}, r"editions\.x\.unit_type.*ukjent enhetstype \['nkss'\].*nav_kontor"),
    ({"x": ed(line=["ytelser"])}, r"ukjent linje \['ytelser'\]"),
    ({"x": ed(role=["sjef"])}, r"ukjent rolle \['sjef'\].*medarbeider"),
    ({"x": ed(enhet=["nks"])}, r"ukjent nøkkel 'editions\.x\.enhet'"),
    ({"x": ed(role="leder")}, r"editions\.x\.role.*list"),
    ({"x": ed(role=["leder", "leder"])}, r"samme verdi flere ganger"),
    ({"NKS": ed(unit_type=["nks"])}, r"utgavenavnet 'NKS'"),
    ({"x": {"title": "T", "short": "S", "unit_type": ["nks"]}}, r"editions\.x\.staff"),
    ({"x": ed(unit_type=["nks"], line=["ytelse"])}, r"'x'.*passer ingen enhet"),
    ({"x": ed(line=["direktoratet"]), "y": ed(unit_type=["direktoratet"])}, r"'x' og 'y' har samme populasjon"),
])
def test_bad_editions_name_the_key_and_what_was_expected(editions, message):
    with pytest.raises(ConfigError, match=message):
        parse(editions)


def test_the_default_must_exist_and_be_the_whole():
    with pytest.raises(ConfigError, match="default 'alle' er ikke en av utgavene"):
        parse({}, default="alle")
    with pytest.raises(ConfigError, match="standardutgaven 'nks' må være hele NAV"):
        parse({"nks": ed(unit_type=["nks"])}, default="nks")


def test_filters_combine_or_within_a_key_and_and_across_keys():
    eds = parse({"a": ed(unit_type=["nks", "nay"], role=["leder"]), "b": ed(line=["ytelse"])})
    df = pd.DataFrame({
        "unit_type": pd.Categorical(["nks", "nay", "nks", "nav_kontor", "nfp"], categories=list(CB.unit_types)),
        "role": pd.Categorical(["leder", "leder", "medarbeider", "leder", "medarbeider"], categories=list(CB.roles)),
    })
    df["line"] = df["unit_type"].map(lambda k: CB.unit_types[k].line)
    assert eds.get("a").mask(df).tolist() == [True, True, False, False, False]
    assert eds.get("b").mask(df).tolist() == [False, True, False, False, True]
    assert eds.whole.select(df) is df
    assert eds.get("a").cells(CB) == {("nks", "leder"), ("nay", "leder")}
    assert eds.get("a").describe(CB) == ("enhetstype NAV kontaktsenter (NKS) eller NAV arbeid og ytelser (NAY) "
                                        "og rolle Leder")
    with pytest.raises(ConfigError, match="filtrerer på 'role'"):
        eds.get("a").mask(df.drop(columns="role"))


# --------------------------------------------------------------------------------------
# Bounds and the disclosure rule
# --------------------------------------------------------------------------------------
def cells_of(*keys) -> frozenset:
    return frozenset(keys)


def count(cells, value, measure="n", label="x", scope="s", tolerance=0.0) -> E.Count:
    return E.Count(scope, "tbl", label, measure, frozenset(cells), value, tolerance)


def test_bound_is_exact_for_a_difference_and_open_without_one():
    a, b, c = ("nks", "leder"), ("nks", "medarbeider"), ("nay", "leder")
    published = [count([a, b], 40), count([b], 37), count([a, b, c], 60)]
    (lo, hi), (lo2, hi2) = E.bound(published, [count([a], None), count([c], None)])
    assert (round(lo, 6), round(hi, 6)) == (3, 3)
    assert (round(lo2, 6), round(hi2, 6)) == (20, 20)
    # Without the row for b, a lies anywhere in 0..40.
    (lo, hi), = E.bound([count([a, b], 40)], [count([a], None)])
    assert (round(lo, 6), round(hi, 6)) == (0, 40)
    # Rounded shares give counts only within a tolerance: the interval widens accordingly.
    (lo, hi), = E.bound([count([a, b], 40), count([b], 37, tolerance=2)], [count([a], None)])
    assert (round(lo, 6), round(hi, 6)) == (1, 5)


def test_answer_counts_cannot_exceed_the_population_of_their_cells():
    a, b = ("kontroll", "verneombud"), ("kontroll", "leder")
    published = [count([a, b], 16), count([b], 12), count([a, b], 15, measure="q=1")]
    (lo, hi), = E.bound(published, [count([a], None, measure="q=1")])
    # q=1 in a: at most a's population (4), at least 15 − 12.
    assert (round(lo, 6), round(hi, 6)) == (3, 4)


def test_contradictory_published_counts_are_an_error():
    a = ("nks", "leder")
    with pytest.raises(ValueError, match="motsier hverandre"):
        E.bound([count([a], 3), count([a], 4)], [count([a], None)])


TWIN_LIKE = {cell: 40 for cell in [(u, r) for u in CB.unit_types for r in CB.roles]}


def test_an_edition_below_min_cell_is_not_published():
    cells = {**TWIN_LIKE, **{("kontroll", r): 1 for r in CB.roles}}
    eds = parse({"kontroll": ed(unit_type=["kontroll"]), "nks": ed(unit_type=["nks"])})
    d = E.decide_editions(eds, CB, cells, min_cell=5)
    assert d["kontroll"].status == "too_small" and d["nks"].published and d["nav"].published
    assert "færre enn 5" in d["kontroll"].reason


def test_an_edition_that_lets_a_small_unit_be_subtracted_from_the_line_is_withheld():
    # NAV kontroll has 3 respondents; the line (kontroll + NØS) and NØS alone would give it away.
    cells = {**TWIN_LIKE, ("kontroll", "medarbeider"): 3,
             **{("kontroll", r): 0 for r in ("leder", "tillitsvalgt", "verneombud")}}
    eds = parse({"okonomilinjen": ed(line=["okonomi"]), "nos": ed(unit_type=["okonomi_stonad"]),
                 "kontroll": ed(unit_type=["kontroll"]), "nks": ed(unit_type=["nks"])})
    d = E.decide_editions(eds, CB, cells, min_cell=5)
    assert d["okonomilinjen"].published
    assert d["nos"].status == "withheld"
    assert d["kontroll"].status == "too_small"
    assert d["nks"].published
    breach = d["nos"].breaches[0]
    assert breach.target.cells == {("kontroll", "medarbeider")} and breach.high - breach.low <= 3 + 1e-6
    assert "NAV kontroll, Medarbeider" in breach.describe()
    # In the other order the line is the one held back.
    eds = parse({"nos": ed(unit_type=["okonomi_stonad"]), "okonomilinjen": ed(line=["okonomi"])})
    d = E.decide_editions(eds, CB, cells, min_cell=5)
    assert d["nos"].published and d["okonomilinjen"].status == "withheld"


def test_a_suppressed_table_cell_recovered_across_editions_withholds_the_later_edition():
    # The unit's book hides verneombud (4) and, complementarily, tillitsvalgt (5) in its role
    # table; the parties' book publishes tillitsvalgt in NAV kontroll = 5 in its unit table.
    k = lambda r: ("kontroll", r)  # noqa: E731
    cells = {**TWIN_LIKE, k("medarbeider"): 69, k("leder"): 12, k("tillitsvalgt"): 5, k("verneombud"): 4}
    eds = parse({"kontroll": ed(unit_type=["kontroll"]), "tillitsvalgte": ed(role=["tillitsvalgt"])})
    published = {
        "kontroll": [count([k("medarbeider")], 69, scope="kontroll"), count([k("leder")], 12, scope="kontroll"),
                     count([k("tillitsvalgt")], None, scope="kontroll", label="Tillitsvalgt"),
                     count([k("verneombud")], None, scope="kontroll", label="Verneombud")],
        "tillitsvalgte": [count([k("tillitsvalgt")], 5, scope="tillitsvalgte")],
    }
    d = E.decide_editions(eds, CB, cells, min_cell=5, published=published)
    assert d["kontroll"].published
    assert d["tillitsvalgte"].status == "withheld"
    assert {b.target.label for b in d["tillitsvalgte"].breaches} >= {"Verneombud"}
    # Without the unit's table the parties' edition is harmless.
    d = E.decide_editions(eds, CB, cells, min_cell=5, published={"tillitsvalgte": published["tillitsvalgte"]})
    assert d["tillitsvalgte"].published


def test_what_the_whole_book_already_reveals_is_not_held_against_an_edition():
    k = ("kontroll", "verneombud")
    cells = {**TWIN_LIKE, k: 4}
    rest = frozenset(c for c in TWIN_LIKE if c != k)
    whole = [count(rest, float(sum(v for c, v in cells.items() if c != k)), scope="nav")]
    eds = parse({"nks": ed(unit_type=["nks"])})
    d = E.decide_editions(eds, CB, cells, min_cell=5, published={"nav": whole})
    assert d["nks"].published  # the whole book's own audit reports the 4


def test_cell_counts_include_empty_cells():
    df = pd.DataFrame({"unit_type": ["nks", "nks", "nay"], "role": ["leder", "leder", "medarbeider"]})
    counts = E.cell_counts(df, CB)
    assert counts[("nks", "leder")] == 2 and counts[("nay", "medarbeider")] == 1
    assert counts[("hot", "leder")] == 0 and len(counts) == len(CB.unit_types) * len(CB.roles)
    assert E.small_cells(counts, 5) == [("nay", "medarbeider"), ("nks", "leder")]


# --------------------------------------------------------------------------------------
# tillit editions on a tiny compendium
# --------------------------------------------------------------------------------------
#: Respondents of the tiny compendium: (unit_type, role, how many).
PEOPLE = [("nks", "medarbeider", 20), ("nks", "leder", 6), ("nav_kontor", "medarbeider", 30),
          ("nav_kontor", "leder", 8), ("kontroll", "medarbeider", 3), ("okonomi_stonad", "medarbeider", 10),
          ("hot", "leder", 4)]

PREP = """
import pandas as pd
from pathlib import Path
from tillit.data.codebook import load_codebook
cb = load_codebook()
rows = [line.split(",") for line in (Path(raw_dir) / "people.csv").read_text().split()]
df = pd.DataFrame([(u, r) for u, r, n in rows for _ in range(int(n))], columns=["unit_type", "role"])
df["line"] = df["unit_type"].map(lambda k: cb.unit_types[k].line)
Path(data_dir).mkdir(parents=True, exist_ok=True)
df.to_parquet(Path(data_dir) / "survey_2023.parquet")
(Path(output_dir) / "tables" / "00_prep").mkdir(parents=True, exist_ok=True)
(Path(output_dir) / "tables" / "00_prep" / "flow.csv").write_text("step\\nalle\\n")
"""

CHAPTER = """
import pandas as pd
from pathlib import Path
from tillit.stats.editions import load_editions
df = load_editions().get(edition).select(pd.read_parquet(Path(data_dir) / "survey_2023.parquet"))
out = Path(output_dir) / "tables" / NAME
out.mkdir(parents=True, exist_ok=True)
(out / "n.csv").write_text(f"edition,n\\n{edition},{len(df)}\\n")
# Respondents per unit type and per role through the gate (its register is what the audit reads).
from tillit.stats import tables
from tillit.stats.disclosure import Gate
gate = Gate(min_cell, Path(output_dir) / "disclosure_log.csv")
gate.counts(f"{NAME}/enheter", tables.counts_by(df, "unit_type").set_index("unit_type")[["n"]], totals=False)
gate.counts(f"{NAME}/roller", tables.counts_by(df, "role").set_index("role")[["n"]], totals=False)
gate.write_log()
"""

EDITIONS = {
    "default": "nav",
    "editions": {
        "nav": {"title": "Hele NAV", "short": "NAV", "staff": "de ansatte"},
        "nks": {"title": "NAV kontaktsenter (NKS)", "short": "NKS", "staff": "de ansatte i NKS", "unit_type": ["nks"]},
        "ledere": {"title": "Lederne", "short": "Ledere", "staff": "lederne", "role": ["leder"]},
        "nos": {"title": "NAV økonomi stønad", "short": "NØS", "staff": "de ansatte i NØS",
                "unit_type": ["okonomi_stonad"]},
        "okonomilinjen": {"title": "Økonomilinjen", "short": "Øk", "staff": "de ansatte i økonomilinjen",
                          "line": ["okonomi"]},
        "kontroll": {"title": "NAV kontroll", "short": "Kontroll", "staff": "de ansatte i NAV kontroll",
                     "unit_type": ["kontroll"]},
    },
}


def _parameters_source() -> str:
    values = dict(RunParams().model_dump())
    if "edition" not in SHARED_KEYS:
        values["edition"] = "nav"  # until `edition` is a shared parameter
    return "".join(f"{k} = {v!r}\n" for k, v in values.items())


def _notebook(path: Path, cells: list) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


def make_compendium(root: Path) -> Path:
    for sub in ("params", "notebooks", "data/raw", "outputs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "params" / "default.yml").write_text(yaml.safe_dump(RunParams().model_dump()), encoding="utf-8")
    shutil.copy(REPO / "params" / "codebook.yml", root / "params" / "codebook.yml")
    (root / "params" / "editions.yml").write_text(yaml.safe_dump(EDITIONS, allow_unicode=True, sort_keys=False), encoding="utf-8")
    chapters = ["01_a", "02_b"]
    spec = {"parameters": "params/default.yml",
            "notebooks": [{"name": "00_prep", "title": "Klargjøring", "book": False}]
            + [{"name": c, "title": c} for c in chapters], "workers": 2}
    (root / "params" / "pipeline.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    (root / "data" / "raw" / "people.csv").write_text("\n".join(f"{u},{r},{n}" for u, r, n in PEOPLE) + "\n")
    params = new_code_cell(_parameters_source(), metadata={"tags": ["parameters"]})
    _notebook(root / "notebooks" / "00_prep.ipynb", [params, new_code_cell(PREP)])
    for c in chapters:
        _notebook(root / "notebooks" / f"{c}.ipynb",
                  [params, new_markdown_cell(f"# {c}"), new_code_cell(f"NAME = {c!r}\n" + CHAPTER)])
    return root


def stub_render(root: Path, out_dir: Path, renderer: str) -> str:
    """Stands in for the book renderer: a page per executed notebook, as the real one reads them."""
    book = out_dir / "book"
    book.mkdir(parents=True, exist_ok=True)
    names = sorted(p.stem for p in (out_dir / "notebooks").glob("*.ipynb"))
    (book / "index.html").write_text("<html><body>" + " ".join(names) + "</body></html>", encoding="utf-8")
    return "stub"


@pytest.fixture
def comp(tmp_path, monkeypatch):
    root = make_compendium(tmp_path / "komp")
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    # The workers import tillit but not this test module: send the stub by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield root
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_every_edition_is_built_on_dask_with_its_own_population_and_an_index(comp):
    from tillit.build import editions as build

    stale = comp / "outputs/editions/kontroll/tables/01_a"
    stale.mkdir(parents=True)
    (stale / "n.csv").write_text("edition,n\nkontroll,3\n")
    lines: list[str] = []
    summary = build.run_editions(root=comp, workers=2, progress=lines.append, render=stub_render)

    status = dict(zip(summary["edition"], summary["status"]))
    # kontroll: 3 respondents. okonomilinjen minus nos is kontroll. ledere: built, but its unit
    # table (nks 6, nav_kontor 8, hot hidden) and its role table (18) give hot's 4 leaders away.
    assert status == {"nav": "publish", "nks": "publish", "ledere": "withheld", "nos": "publish",
                      "okonomilinjen": "withheld", "kontroll": "too_small"}
    assert list(summary.columns) == build.SUMMARY_COLUMNS
    # Each edition computes on its own population, into its own folder.
    n = lambda p: pd.read_csv(comp / p)["n"].item()  # noqa: E731
    assert n("outputs/tables/01_a/n.csv") == 81
    assert n("outputs/editions/nks/tables/01_a/n.csv") == 26
    assert n("outputs/editions/nos/tables/02_b/n.csv") == 10
    # The data step ran once and is shown in every edition's book.
    assert (comp / "outputs/editions/nks/notebooks/00_prep.ipynb").is_file()
    assert (comp / "outputs/editions/nks/tables/00_prep/flow.csv").is_file()
    assert "00_prep 01_a 02_b" in (comp / "outputs/editions/nks/book/index.html").read_text()
    executed = json.loads((comp / "outputs/editions/nks/notebooks/01_a.ipynb").read_text())
    assert executed["metadata"]["papermill"]["parameters"]["edition"] == "nks"
    # Cache keys differ per edition (the edition is a parameter).
    main = json.loads((comp / "outputs/manifest.json").read_text())["steps"]["01_a"]["key"]
    nks = json.loads((comp / "outputs/editions/nks/manifest.json").read_text())["steps"]["01_a"]["key"]
    assert main != nks
    # An edition that may not be published: one page, no numbers, old tables gone.
    for key, words in (("kontroll", "færre enn 5 respondenter"), ("okonomilinjen", "trekke tall fra hverandre"),
                       ("ledere", "trekke tall fra hverandre")):
        page = (comp / f"outputs/editions/{key}/book/index.html").read_text()
        assert "publiseres ikke" in page and words in page and 'lang="nb"' in page
        assert 'href="../../../book/index.html"' in page
        assert not (comp / f"outputs/editions/{key}/tables").exists()
        assert not (comp / f"outputs/editions/{key}/notebooks").exists()
    # The edition's own audit found it (details on the terminal only); the audit of all the
    # books together found nothing more, and is recorded without values.
    assert any(ln.startswith("[ledere") and "01_a/enheter" in ln for ln in lines), lines
    audit = pd.read_csv(comp / "outputs/editions/disclosure_audit.csv").set_index("edition")
    assert set(audit.index) == {"nav", "nks", "nos"} and (audit["status"] == "publish").all()
    assert (audit["findings"] == 0).all()
    # The index links every edition's book.
    index = (comp / "outputs/editions/index.html").read_text()
    for href in ("../book/index.html", "nks/book/index.html", "kontroll/book/index.html"):
        assert f'href="{href}"' in index
    assert "Ikke publisert: for få respondenter" in index and "3 av 6 utgaver er publisert" in index
    assert pd.read_csv(comp / "outputs/editions/summary.csv")["status"].tolist() == summary["status"].tolist()
    # Progress per edition: the steps, tagged by edition, and a line as each edition ends.
    assert any(ln.startswith("[nks") and "01_a" in ln and " ok" in ln for ln in lines)
    assert any(ln.startswith("[kontroll") and "for få respondenter" in ln for ln in lines)
    assert lines[-1].startswith("6 utgaver") and "3 publisert, 3 ikke publisert, 0 feilet" in lines[-1]

    # A second run is all cache; a chosen subset builds only that, and is audited with the rest.
    lines.clear()
    summary = build.run_editions(["nks"], root=comp, workers=1, progress=lines.append, render=stub_render)
    row = summary.set_index("edition").loc["nks"]
    assert row["status"] == "publish" and row["steps_run"] == 0 and row["steps_cached"] == 2


def test_unknown_edition_is_refused_before_anything_runs(comp):
    from tillit.build import editions as build

    with pytest.raises(ConfigError, match="ukjent utgave 'nk'"):
        build.run_editions(["nk"], root=comp, workers=1, progress=lambda s: None, render=stub_render)
    assert not (comp / "data/processed").exists()


# --------------------------------------------------------------------------------------
# The parameter, the notebook context and the command line
# --------------------------------------------------------------------------------------
def test_the_edition_parameter_must_name_an_edition():
    assert RunParams(edition="nks").edition == "nks"
    with pytest.raises(ValueError, match="ukjent utgave 'nk'; params/editions.yml har nav, "):
        RunParams(edition="nk")
    assert "edition" in SHARED_KEYS
    assert yaml.safe_load((REPO / "params/default.yml").read_text())["edition"] == E.load_editions(root=REPO).default
    from tillit.build.pipeline import notebook_parameters

    for nb in sorted((REPO / "notebooks").glob("*.ipynb")):
        assert notebook_parameters(nb).get("edition") == "nav", nb.name


def test_the_context_serves_the_editions_population(tmp_path):
    from tillit.book.context import Context

    people = [("nks", "medarbeider")] * 7 + [("nks", "leder")] * 6 + [("nay", "medarbeider")] * 9
    df = pd.DataFrame(people, columns=["unit_type", "role"])
    df["line"] = df["unit_type"].map(lambda k: CB.unit_types[k].line)
    df.to_parquet(tmp_path / "survey_2023.parquet")
    ctx = Context("x", RunParams(data_dir=str(tmp_path), edition="nks"), REPO)
    assert len(ctx.survey()) == 13 and set(ctx.survey()["unit_type"]) == {"nks"}
    assert len(ctx.survey(whole=True)) == 22
    assert not ctx.is_whole and ctx.edition_label == "de ansatte i NKS"
    ctx.check_edition()  # 13 ≥ min_cell 5
    whole = Context("x", RunParams(data_dir=str(tmp_path)), REPO)
    assert whole.is_whole and len(whole.survey()) == 22 and whole.edition_label == "de ansatte"
    small = Context("x", RunParams(data_dir=str(tmp_path), edition="kontroll"), REPO)
    with pytest.raises(ConfigError, match="utgaven 'kontroll' publiseres ikke: færre enn 5 respondenter"):
        small.check_edition()


def test_the_commands_refuse_an_unknown_edition_in_one_line(capsys):
    from tillit.build import cli

    assert cli.main(["build", "--edition", "nk"]) == 2
    assert "ukjent utgave 'nk'" in capsys.readouterr().err
    assert cli.main(["build", "--edition", "nks", "--only", "01_sammendrag"]) == 2
    assert "--only og --edition" in capsys.readouterr().err
    assert cli.main(["editions", "--only", "nk"]) == 2
    assert "ukjent utgave 'nk'" in capsys.readouterr().err


def test_an_editions_models_drop_what_does_not_vary_and_move_a_missing_reference(tmp_path):
    from tillit.book.context import Context
    from tillit.book.models import population_models
    from tillit.stats.ordinal import OrdinalError

    df = pd.DataFrame({"unit_type": ["nks"] * 6, "role": ["leder"] * 4 + ["tillitsvalgt"] * 2})
    df["line"] = "arbeid_tjeneste"
    ctx = Context("x", RunParams(data_dir=str(tmp_path), edition="nks"), REPO)
    spec = population_models(ctx, df)
    trust = spec.get("trust")
    assert "unit_type" not in trust.categorical and trust.categorical["role"] == "leder"
    assert spec.get("goal_types").categorical["goal_type"] == "kvantitativ"  # not a population column
    whole = Context("x", RunParams(data_dir=str(tmp_path)), REPO)
    assert population_models(whole, df).get("trust").categorical == {"role": "medarbeider", "unit_type": "nav_kontor"}
    with pytest.raises(OrdinalError, match="ingen forklaringsvariabel varierer"):
        population_models(ctx, df.assign(role="leder"))


def test_numbers_in_an_edition_are_computed_not_published():
    from tillit.book.numbers import Numbers

    target = next(iter(Numbers(synthetic=True, root=REPO).targets))
    shown = Numbers(synthetic=True, root=REPO, whole=False).pub(target, 12.3456)
    assert 'data-kind="modell"' in shown and "ledger-" not in shown
    assert 'data-kind="publisert"' in Numbers(synthetic=True, root=REPO).pub(target, "tekst")


def test_the_context_words_and_links_for_an_edition(tmp_path):
    from tillit.book.context import Context

    nks = Context("x", RunParams(data_dir=str(tmp_path), edition="nks"), REPO)
    assert nks.among("medarbeiderne") == "medarbeiderne i NKS"
    assert nks.main_book_href("app-regnskap.html") == "../../../book/app-regnskap.html"
    leaders = Context("x", RunParams(data_dir=str(tmp_path), edition="ledere"), REPO)
    assert leaders.among("medarbeiderne") == "medarbeiderne"
    whole = Context("x", RunParams(data_dir=str(tmp_path)), REPO)
    assert whole.among("medarbeiderne") == "medarbeiderne"
    df = pd.DataFrame({"unit_type": ["nks"] * 7 + ["nav_kontor"] * 6, "role": ["leder"] * 7 + ["medarbeider"] * 6})
    df["line"] = "arbeid_tjeneste"
    df.to_parquet(tmp_path / "survey_2023.parquet")
    assert nks.reaches(roles=["leder"]) and not nks.reaches(roles=["medarbeider"])
    assert not nks.reaches("steer_municipal")  # asked of leaders at NAV offices only
    assert whole.reaches("steer_municipal") is False and whole.reaches(roles=["medarbeider"])


def test_the_audit_of_all_books_together_finds_what_no_book_alone_gives_away(tmp_path, monkeypatch):
    """The whole book hides NAV kontroll (3) in its unit table; the economy line's book
    publishes its employees (13) and the whole book NØS (10): together, 13 − 10 = 3."""
    from tillit.stats import tables
    from tillit.stats.disclosure import Gate

    monkeypatch.setenv("TILLIT_ROOT", str(REPO))
    people = [("nks", "medarbeider", 20), ("kontroll", "medarbeider", 3), ("okonomi_stonad", "medarbeider", 10)]
    df = pd.DataFrame([(u, r) for u, r, n in people for _ in range(n)], columns=["unit_type", "role"])
    df["line"] = df["unit_type"].map(lambda k: CB.unit_types[k].line)
    eds = parse({"okonomilinjen": ed(line=["okonomi"]), "nks": ed(unit_type=["nks"])})
    books = {"nav": tmp_path / "nav", "okonomilinjen": tmp_path / "ok", "nks": tmp_path / "nks"}
    for key, by in (("nav", "unit_type"), ("okonomilinjen", "role"), ("nks", "role")):
        gate = Gate(5, books[key] / "disclosure_log.csv")
        part = eds.get(key).select(df)
        gate.counts(f"01_a/{by}", tables.counts_by(part, by).set_index(by)[["n"]], totals=False)
        gate.write_log()
    alone = E.audit_books([("nav", books["nav"], eds.whole.cells(CB))], 5, CB)
    assert alone.ok and alone.suppressed == 1
    d = E.audit_editions(eds, CB, 5, books)
    assert d["nav"].published and d["nks"].published
    assert d["okonomilinjen"].status == "withheld"
    assert [f.row for f in d["okonomilinjen"].findings] == ["kontroll × n"]
    assert d["okonomilinjen"].findings[0].table_id == "nav:01_a/unit_type"


# --------------------------------------------------------------------------------------
# The edition on every page of its book (both renderers)
# --------------------------------------------------------------------------------------
def _edition_book(tmp_path: Path, edition: str | None) -> Path:
    """The renderers' fixture book, its notebooks run (as papermill records it) for `edition`;
    the data step for the whole of NAV, as an edition's book copies it from the main build."""
    sys.path.insert(0, str(REPO / "tests"))
    from book_fixture import build_fake_root

    root = build_fake_root(tmp_path)
    for name in ("codebook.yml", "editions.yml"):
        shutil.copy(REPO / "params" / name, root / "params" / name)
    for path in sorted((root / "outputs" / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        key = "nav" if path.stem.startswith("00_") or edition is None else edition
        nb["metadata"]["papermill"] = {"parameters": {"edition": key, "min_cell": 5}}
        path.write_text(json.dumps(nb), encoding="utf-8")
    return root


def test_every_page_of_an_editions_book_names_the_edition_in_both_renderers(tmp_path):
    from bs4 import BeautifulSoup

    from tillit.book import render as book

    root = _edition_book(tmp_path / "nks", "nks")
    result = book.render(root, renderer="fallback")
    pages = [*result.pages, root / "outputs" / "book" / "index.html"]
    assert len(pages) > 5
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        banner = soup.select_one(".data-banner").get_text(" ", strip=True)
        assert "Utgave: NAV kontaktsenter (NKS)" in banner, page.name
        assert "respondentene med enhetstype NAV kontaktsenter (NKS)." in banner and "Syntetiske data" in banner, page.name
        assert "NAV kontaktsenter (NKS)" in soup.select_one(".data-tag").get_text(), page.name
    # Quarto: the banner cell opening every chapter's notebook, and the front page.
    project = book.write_quarto_project(tmp_path / "nks-quarto" / "_quarto", root)
    for nb_path in sorted(project.parent.glob("*.ipynb")):
        first = json.loads(nb_path.read_text(encoding="utf-8"))["cells"][1]
        source = "".join(first["source"])
        assert first["id"] == "data-banner" and "## Utgave: NAV kontaktsenter (NKS) · Syntetiske data" in source
        assert "Denne boka er utgaven for NAV kontaktsenter (NKS)" in source, nb_path.name
    assert "Utgave: NAV kontaktsenter (NKS)" in (project.parent / "index.qmd").read_text(encoding="utf-8")


def test_the_main_book_banner_names_no_edition_and_a_mixed_book_is_refused(tmp_path):
    from tillit.book.render.structure import BookError, banner_for, data_source

    whole = _edition_book(tmp_path / "nav", None)
    banner = banner_for(data_source(whole))
    assert banner.title == "Syntetiske data" and "Utgave" not in banner.text
    mixed = _edition_book(tmp_path / "mixed", "nks")
    path = mixed / "outputs" / "notebooks" / "02_innledning.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["metadata"]["papermill"]["parameters"]["edition"] = "ledere"
    path.write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(BookError, match=r"boka blander utgaver: .*\(nks\).*02_innledning\.ipynb \(ledere\)"):
        data_source(mixed)


def test_a_part_left_out_names_the_edition_only_in_an_edition(tmp_path, monkeypatch):
    """In the main book (a min_cell so large a whole group falls below it) the note says the
    part is not shown and why, without calling the main book an edition or pointing to itself."""
    from tillit.book import context as context_module
    from tillit.book.context import Context

    said = []
    monkeypatch.setattr(context_module.display, "show_callout", lambda text, **kw: said.append((text, kw["title"])))
    Context("x", RunParams(data_dir=str(tmp_path), min_cell=1000), REPO).not_in_edition("Figuren om ledere")
    Context("x", RunParams(data_dir=str(tmp_path), edition="nks"), REPO).not_in_edition("Figuren om ledere")
    (whole, whole_title), (nks, nks_title) = said
    from tillit import fmt

    assert whole == (f"Figuren om ledere vises ikke: færre enn {fmt.number_word(1000)} respondenter hører til "
                     "gruppen det gjelder.")
    assert whole_title == "Ikke vist" and "hovedboka" not in whole and "utgaven" not in whole
    assert "i utgaven NAV kontaktsenter (NKS)" in nks and "står i hovedboka" in nks and nks_title == "Ikke med i denne utgaven"


def test_the_2017_comparison_is_left_out_of_an_edition_and_gates_nothing(tmp_path, monkeypatch):
    """The book compares 2017 with 2023 for the whole of NAV only: an edition's 2023 bars beside
    the main book's gave back counts the two books' gates hid differently (the audit of all
    books together found them)."""
    from tillit.book import context as context_module
    from tillit.book.chapters import vedlegg
    from tillit.book.context import Context

    said = []
    monkeypatch.setattr(context_module.display, "show_callout", lambda text, **kw: said.append(text))
    ctx = Context("06_vedlegg", RunParams(data_dir=str(tmp_path), output_dir=str(tmp_path / "out"),
                                          edition="nks"), REPO)
    assert vedlegg.compare_2017(ctx).empty  # no data read: there are none in tmp_path
    assert said == ["Sammenligningen med 2017 vises ikke i utgaven NAV kontaktsenter (NKS): boka sammenligner "
                    "2017 og 2023 bare for hele NAV. Tallene for hele NAV står i hovedboka."]
    assert not (tmp_path / "out" / "disclosure_log.csv").exists()


def _trust_survey(path: Path) -> None:
    """Employees' trust answers in three unit types; NAY's «Vet ikke» (2) is below min_cell."""
    import numpy as np

    dk = CB.scale_of("trust_hindrance").dont_know_code
    rows = []
    for unit, answers in {"nks": [1, 2, 3, 4, 5] * 4 + [dk] * 6, "nay": [2, 3, 4, 5] * 5 + [dk] * 2,
                          "nav_kontor": [1, 2, 3, 4, 5] * 6 + [dk] * 7}.items():
        rows += [(unit, "medarbeider", a) for a in answers]
    df = pd.DataFrame(rows, columns=["unit_type", "role", "trust_hindrance"])
    df["line"] = df["unit_type"].map(lambda k: CB.unit_types[k].line)
    df["trust_hindrance"] = df["trust_hindrance"].astype(np.int64)
    df.to_parquet(path / "survey_2023.parquet")


def test_an_editions_whole_nav_row_is_the_main_books_row_and_is_not_its_own_publication(tmp_path):
    """Beside an edition's employees the trust figure draws all of NAV's: gated as the main
    book gates it (its «Vet ikke» hidden exactly where the main book hides it), not logged or
    registered as the edition's (gated anew, its hidden cells differed from the main book's and
    could be recovered from them), and not taken for a source of the edition's own tables."""
    from tillit.book.chapters.hovedfunn import trust
    from tillit.book.context import Context
    from tillit.stats import tables
    from tillit.stats.disclosure import TOTAL

    _trust_survey(tmp_path)
    main = Context("04_hovedfunn", RunParams(data_dir=str(tmp_path), output_dir=str(tmp_path / "main")), REPO)
    emp = main.survey()
    counts = tables.distribution(emp, ["trust_hindrance"], main.codebook, by="unit_type").set_index("unit_type")
    expected = main.gate.shares("04_hovedfunn/fig-tillit-enhet", counts[[1, 2, 3, 4, 5, tables.DK]],
                                total_row=True).values.loc[[TOTAL]]
    tables.SOURCES.clear()
    nks = Context("04_hovedfunn", RunParams(data_dir=str(tmp_path), output_dir=str(tmp_path / "nks"),
                                            edition="nks"), REPO)
    row = trust._whole_employees(nks, "fig-tillit-enhet")
    assert list(row.index) == ["Hele NAV"]
    pd.testing.assert_frame_equal(row.reset_index(drop=True), expected.reset_index(drop=True))
    # Gated alone the row would show every share; the main book hides two of them («Vet ikke» and
    # the middle category), to protect NAY's «Vet ikke» (2) in the rows above it.
    from tillit.stats.disclosure import Gate

    alone = Gate(5).shares("alene", counts[[1, 2, 3, 4, 5, tables.DK]].sum().to_frame().T.astype("int64")).values
    assert alone.notna().all(axis=None) and row.isna().sum(axis=None) == 2
    assert nks.gate.records.empty and not (tmp_path / "nks" / "disclosure_log.csv").exists()
    assert tables.SOURCES.candidates("count", 26, [26], "nks") == []  # nothing of the whole kept


def test_the_whole_view_of_an_edition_leaves_no_folder_behind(tmp_path):
    import gc

    from tillit.book.context import Context

    _trust_survey(tmp_path)
    nks = Context("04_hovedfunn", RunParams(data_dir=str(tmp_path), output_dir=str(tmp_path / "nks"),
                                            edition="nks"), REPO)
    folder = Path(nks.whole_view().params.output_dir)
    assert folder.is_dir() and nks.whole_view().is_whole
    del nks
    gc.collect()
    assert not folder.exists()


def test_an_edition_of_roles_leaves_the_figure_by_unit_type_to_the_unit_editions(tmp_path):
    """The unit × role crossing of mål- og resultatstyring is published from one side: the
    unit-type editions' tables by role. An edition of roles, whose figure by unit type gave
    the other side's hidden «Vet ikke» back in the audit of all books, leaves it out, and its
    text points to the unit editions instead of to a figure it does not have."""
    from tillit.book.chapters.hovedfunn import prose, steering
    from tillit.book.context import Context

    def shown(edition):
        return steering.by_unit_shown(Context("04_hovedfunn", RunParams(data_dir=str(tmp_path), edition=edition), REPO))

    assert shown("nav") and shown("nks") and shown("ytelseslinjen")
    assert not shown("ledere") and not shown("medarbeidere") and not shown("ledere_nav_kontor")
    views = steering.Views(0.3, 0.2, None, pd.DataFrame(), steering.Ranking.of({}))
    text = prose._net_sentence(None, views)
    assert "@fig-mrs-enhet" not in text and "enhetstypenes egne utgaver" in text
    assert views.net_values() == {}
