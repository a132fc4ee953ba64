"""Chapter 4: every comparative claim the prose makes is checked against the table or figure
data the chapter publishes, claims follow the data when the data change, the chapter survives
heavy suppression, and the notebook has the report's headings in the report's order."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from tillit.book import context as nbk
from tillit.book.chapters import hovedfunn as hf
from tillit.book.chapters.hovedfunn import (cooperation, documents, factors, prose, services, steering,
                                            trust)
from tillit import fmt
from tillit.config import SHARED_KEYS, load_run_params, repo_root
from tillit.data import prepare, synth

SPAN = re.compile(r"<[^>]+>")


def plain(html_text: str) -> str:
    return SPAN.sub("", html_text)


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    root = tmp_path_factory.mktemp("hovedfunn")
    synth.write_raw(root / "raw", seed=None)
    prepare.prepare(root / "raw", root / "processed")
    return root


def make_ctx(root, min_cell: int = 5, survey: pd.DataFrame | None = None):
    defaults = load_run_params()
    ns = {k: getattr(defaults, k) for k in SHARED_KEYS}
    ns.update(data_dir=str(root / "processed"), raw_dir=str(root / "raw"),
              output_dir=str(root / f"out-{min_cell}-{id(survey)}"), min_cell=min_cell)
    ctx = nbk.start("04_hovedfunn", ns, banner=False)
    if survey is not None:
        ctx._frames["survey_2023.parquet"] = survey
        # Changed answers are no longer the twin: a published number that now differs is shown and
        # marked (as on a real export) instead of refused.
        ctx.__dict__["data_source"] = {"kind": "endret i testen"}
        ctx.__dict__.pop("num", None)
    return ctx


@pytest.fixture(scope="module")
def ctx(processed):
    return make_ctx(processed)


@pytest.fixture(scope="module")
def f(ctx):
    return factors.factors(ctx)


def csv(ctx, label: str) -> pd.DataFrame:
    return pd.read_csv(ctx.output_dir / "tables" / ctx.name / f"{label}.csv")


# --- Ranking -----------------------------------------------------------------------------------
def test_ranking_orders_largest_first_shares_ties_and_keeps_suppressed_apart():
    r = hf.Ranking.of(pd.Series({"a": 0.2, "b": 0.5, "c": 0.5, "d": float("nan"), "e": 0.1}))
    assert r.keys == ["b", "c", "a", "e"]
    assert r.rank("b") == r.rank("c") == 1 and r.rank("a") == 3 and r.rank("d") is None
    assert r.tied("b") and not r.tied("a")
    assert r.suppressed == ("d",) and not r.complete()
    assert r.top(2) == ["b", "c"] and r.bottom(2) == ["e", "a"]


# --- 4.2.1 / 4.2.4.2: the thirteen factors ------------------------------------------------------
AFFECTS, POSITIVE = "Påvirker positivt eller negativt (%)", "Positivt eller svært positivt (%)"


def test_figure_8_is_drawn_in_the_ranking_the_text_cites(ctx, f):
    order = factors.ranking_figure(ctx, f)
    table = csv(ctx, "tbl-faktorer-rangering")
    by_affects = table.sort_values(AFFECTS, ascending=False, kind="stable")
    assert order == list(table["Betegnelse"]) == list(by_affects["Betegnelse"])
    assert list(csv(ctx, "fig-faktorer-rangering")["Betegnelse"]) == order    # the figure's own numbers too
    mor_rank = int(table.set_index("Betegnelse").loc[f.label("f_mor"), "Plass"])
    assert factors.mor_rank_text(f).startswith(f"den {fmt.ordinal_word(mor_rank)} av")
    assert mor_rank == 7  # the report's «nr. 7 av 13», reproduced by the twin
    top3 = [lab for lab in by_affects["Betegnelse"][:3]]
    assert factors.top_three_text(f) == fmt.listing([hf.common.lower_first(x) for x in top3])


def test_figure_7_is_sorted_by_the_positive_share_the_text_cites(ctx, f):
    order = factors.direction_figure(ctx, f)
    data = csv(ctx, "fig-faktorer-retning")
    positive = data[POSITIVE]
    # The sort key is the sum of the two positive answers (each rounded in the download).
    assert ((data["Positivt (%)"] + data["Svært positivt (%)"] - positive).abs() <= 0.1 + 1e-9).all()
    assert order == list(data["Betegnelse"])
    assert list(positive) == sorted(positive, reverse=True)
    text = plain(factors.competence_sentence(hf.Say(ctx), f))
    best = data.loc[positive.idxmax(), "Betegnelse"]
    assert ("størst andel positive svar" in text) == (best == "Egen erfaring og kompetanse")
    assert "75,93" in text


def test_most_negative_factor_is_computed_not_assumed(ctx, f):
    text = plain(factors.negative_sentence(hf.Say(ctx), f))
    worst = f.table["negative"].idxmax()
    assert text.startswith(f"{f.label(worst)} er det forholdet flest sier trekker handlingsrommet ned")
    # The twin reproduces the report: regelverk pulls down most often, tid second (43,28 %).
    assert worst == "f_regelverk" and "Tid har den nest største andelen" in text and "43,28" in text


def test_claim_follows_the_data_when_tid_becomes_the_most_negative(processed, ctx):
    survey = ctx.survey().copy()
    positive_tid = survey.index[survey["f_tid"].isin([3, 4, 5])][:400]
    survey.loc[positive_tid, "f_tid"] = 1
    other = make_ctx(processed, survey=survey)
    f2 = factors.factors(other)
    text = plain(factors.negative_sentence(hf.Say(other), f2))
    assert f2.by_negative.first() == "f_tid"
    assert text.startswith("Tid er det forholdet flest sier trekker handlingsrommet ned")


# --- 4.2.4.5 competition ----------------------------------------------------------------------
def test_competition_text_names_the_top_and_bottom_of_the_drawn_ranking(ctx):
    c = steering.competition(ctx)
    data = csv(ctx, "fig-konkurranse")
    alle = data.sort_values("Alle roller: andel (%)", ascending=False, kind="stable")
    assert c.chart_order == list(alle["Enhetstype"]) == list(data["Enhetstype"])
    text = plain(prose.competition_text(hf.Say(ctx), c))
    top4 = list(alle["Enhetstype"][:4])
    assert text.split(" er enhetstypene der flest")[0].endswith(fmt.listing(top4))
    bottom2 = list(alle["Enhetstype"][-2:][::-1])
    assert f"Færrest opplever det i {fmt.listing(bottom2)}" in text


def test_leader_competition_claims_match_the_leader_bars(ctx):
    c = steering.competition(ctx)
    data = csv(ctx, "fig-konkurranse")
    leaders = data.sort_values("Ledere: andel (%)", ascending=False)
    text = plain(prose.leaders_competition_text(hf.Say(ctx), c))
    assert f"lederne i {leaders['Enhetstype'].iloc[0]}" in text
    gap = (leaders["Ledere: andel (%)"].iloc[0] - leaders["Ledere: andel (%)"].iloc[1]) / 100
    assert ("skiller seg tydelig ut" in text) == (gap >= 0.10)
    assert ("generelt mer" in text) == (c.leader > c.employee)


# --- 4.2.4.8 trust ----------------------------------------------------------------------------
def test_trust_standouts_are_the_top_of_the_chart(ctx):
    t = trust.trust_by_unit(ctx)
    data = csv(ctx, "fig-tillit-enhet")
    assert data["Enhetstype"].iloc[-1] == trust.ALL_EMPLOYEES     # the bar the text compares with, last
    units = data.iloc[:-1]
    high = units["I stor eller svært stor grad (%)"]
    assert ((units["I stor grad (%)"] + units["I svært stor grad (%)"] - high).abs() <= 0.1 + 1e-9).all()
    assert list(high) == sorted(high, reverse=True)      # drawn in the ranking's order
    text = plain(trust.standouts_text(hf.Say(ctx), t))
    top2 = list(units["Enhetstype"][:2])
    assert f"høyest ligger {top2[0]} (" in text and f"og {top2[1]} (" in text
    assert text.startswith("Noen enheter skiller seg ut")   # 49 and 44 against 31 for all employees
    assert f"Lavest ligger {units['Enhetstype'].iloc[-1]}" in text
    assert "49" in text and "44" in text                    # the report's NKS and Klage og anke


# --- 4.2.3.1 cooperation ------------------------------------------------------------------------
def test_involvement_claims_match_the_means_and_flip_with_the_data(processed, ctx):
    rm = cooperation.role_means(ctx, ["involve_services", "involve_mor"], "fig-involvering", "Involvering")
    data = csv(ctx, "fig-involvering").set_index("Rolle")
    for item, label in (("involve_services", "Involvering i lokal tjenesteutvikling"),
                        ("involve_mor", "Involvering i mål- og resultatstyring")):
        row = data[f"{label}: gjennomsnitt"]
        assert rm.leaders_above(item) == bool(row["Leder"] > row["Tillitsvalgt"] and row["Leder"] > row["Verneombud"])
    text = plain(prose.involvement_text(hf.Say(ctx), rm, cooperation.leader_involvement(ctx)))
    assert "i noe mindre grad at de får medvirke" in text
    survey = ctx.survey().copy()
    tv = survey["role"] == "tillitsvalgt"
    survey.loc[tv, "involve_services"] = 5
    other = make_ctx(processed, survey=survey)
    rm2 = cooperation.role_means(other, ["involve_services", "involve_mor"], "fig-involvering", "Involvering")
    assert rm2.leaders_above("involve_services") is False
    text2 = plain(prose.involvement_text(hf.Say(other), rm2, cooperation.leader_involvement(other)))
    assert "ikke i mindre grad" in text2


# --- 4.2.4.3, 4.2.4.4, 4.2.4.7 -------------------------------------------------------------------
def test_views_goal_types_and_municipal_words_follow_their_tables(ctx, f):
    say = hf.Say(ctx)
    v = steering.mor_views(ctx, f)
    data = csv(ctx, "fig-mrs-enhet")
    net = data["Positivt minus negativt (prosentpoeng)"]
    parts = data["Positivt (%)"] + data["Svært positivt (%)"] - data["Negativt (%)"] - data["Svært negativt (%)"]
    assert ((parts - net).abs() <= 0.2 + 1e-9).all()
    assert list(net) == sorted(net, reverse=True)
    text = plain(prose.views_text(say, v, f))
    assert f"størst i {data['Enhetstype'].iloc[0]}" in text and f"størst i {data['Enhetstype'].iloc[-1]}" in text
    gt = steering.goal_types(ctx)
    table = csv(ctx, "tbl-maltyper").set_index("Side ved arbeidet")
    assert len(table) == len(gt.table) == 5
    assert all(gt.qualitative_above()[a] == bool(table.loc[r.label, "Kvalitative: positivt (%)"]
                                                 > table.loc[r.label, "Kvantitative: positivt (%)"])
               for a, r in gt.table.iterrows())
    assert "på alle fem sidene" in plain(prose.goal_types_text(say, gt))
    mu = steering.municipal_vs_state(ctx)
    diff = mu.difference()
    assert ("noe gunstigere" in plain(prose.municipal_text(say, mu))) == (0.1 <= diff < 0.5)


# --- documents and registers ---------------------------------------------------------------------
def test_md_letters_text_names_the_sender_with_most_new_guidelines(ctx):
    m = documents.letters(ctx)
    documents.letters_table(ctx, m)
    table = csv(ctx, "tbl-mdbrev")
    short = {m.senders[s]["label"]: m.short(s) for s in m.senders}
    top = short[table.loc[table["Andel «nye» føringer (%)"].idxmax(), "Avsender"]]
    text = plain(documents.lines_text(hf.Say(ctx), m))
    assert f"{top} legger til flest «nye» føringer" in text
    assert all(str(v) in text for v in table["Styrende mål/føringer"])
    assert m.activity_above_ya() and m.ya_top_concreteness() == "kvantitativ"


def test_register_bounds_are_printed_as_the_report_states_them(ctx):
    d = services.local_development(ctx)
    say = hf.Say(ctx)
    assert plain(services.projects_text(say, d)) == "mer enn 50"   # never the twin's own count
    assert plain(services.grants_text(say, d)) == "over 200"
    assert 'data-kind="publisert"' in services.projects_text(say, d)


# --- heavy suppression ---------------------------------------------------------------------------
def test_chapter_functions_survive_heavy_suppression_and_say_so(processed):
    ctx = make_ctx(processed, min_cell=1000)
    say = hf.Say(ctx)
    f = factors.factors(ctx)
    texts = [factors.negative_sentence(say, f), factors.competence_sentence(say, f)]
    factors.direction_figure(ctx, f)
    factors.ranking_figure(ctx, f)
    rm = cooperation.role_means(ctx, ["involve_services", "involve_mor"], "fig-involvering", "Involvering")
    texts.append(prose.involvement_text(say, rm, cooperation.leader_involvement(ctx)))
    know = cooperation.role_means(ctx, ["knows_goals", "goal_coherence"], "fig-malkjennskap", "Kjennskap")
    texts.append(prose.knowledge_text(say, know))
    texts.append(prose.views_text(say, steering.mor_views(ctx, f), f))
    c = steering.competition(ctx)
    texts += [prose.competition_text(say, c), prose.leaders_competition_text(say, c)]
    texts.append(prose.results_text(say, steering.results_use(ctx)))
    texts.append(prose.municipal_text(say, steering.municipal_vs_state(ctx)))
    t = trust.trust_by_unit(ctx)
    texts.append(trust.standouts_text(say, t))
    joined = plain(" ".join(texts))
    assert not re.search(r"\bnan\b", joined.lower())
    assert "prikket" in joined and "færre enn 1\u00a0000 svar" in joined
    # Leaders (440) and NAV-kontor leaders (200) are fewer than 1 000: nothing about them is shown.
    assert "Svarene fra lederne på NAV-kontorene om kommunal og statlig styring er prikket" in joined
    assert "Svarene fra ledere, tillitsvalgte og verneombud er prikket" in joined
    assert "Ledernes svar om konkurranse er prikket" in joined


# --- the notebook --------------------------------------------------------------------------------
EXPECTED_HEADINGS = [
    (2, "Innledning"), (2, "Hovedfunn"),
    (3, "Mål nr. 1:"), (4, "Samarbeid mellom medarbeidere"), (4, "Riktig kompetanse gir økt handlingsrom"),
    (4, "Det mangler gode rammebetingelser"), (4, "Kompetanseutvikling krever systematikk"),
    (4, "Det er behov for strategisk kompetanseledelse"),
    (3, "Mål nr. 2:"), (4, "Det er et stort omfang"), (4, "Det er behov for mer systematikk"),
    (4, "Det er behov for insentivordninger"), (4, "Begrepet «lokal tjenesteutvikling» er for snevert"),
    (4, "Utviklingsorientert ledelse"),
    (3, "Mål nr. 3:"), (4, "Ledere oppgir at de involverer"), (4, "Åpenhet og involvering"),
    (3, "Mål nr. 4:"), (4, "Direktoratet har til dels svært detaljert"), (4, "Det er flere faktorer"),
    (4, "Det er ulik oppfatning"), (4, "Kvalitative mål på enhetsnivå"), (4, "Det er stor variasjon"),
    (4, "Mål og resultater er nyttig"), (4, "Den kommunale styringen"), (4, "Det er variasjon i opplevelsen"),
    (4, "Hva henger sammen med opplevde tillitshindringer? {.unnumbered}"),
    (3, "Mål nr. 5:"), (4, "Involvering av brukerutvalg"), (4, "Funn fra diskusjoner i brukerutvalgene"),
    (4, "Balanse mellom ledelse, styring og handlingsrom i NAV"), (4, "Videreutvikle tilliten internt"),
]


def _headings():
    nb = json.loads((repo_root() / "notebooks" / "04_hovedfunn.ipynb").read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                m = re.match(r"^(#+) (.*)$", line)
                if m:
                    out.append((len(m.group(1)), m.group(2)))
    return out


def test_notebook_has_the_reports_headings_in_order_without_typed_numbers():
    found = _headings()
    assert found[0] == (1, "Hovedfunn etter kartleggingsarbeid")
    rest = found[1:]
    assert len(rest) == len(EXPECTED_HEADINGS), rest
    for (level, text), (want_level, start) in zip(rest, EXPECTED_HEADINGS):
        assert level == want_level and text.startswith(start), (level, text)
        assert not re.match(r"^\d+(\.\d+)*\s", text), f"typed number in heading: {text}"
    # A heading that is not in the report never takes a number.
    assert [t for _lvl, t in rest if "{.unnumbered}" in t] == [EXPECTED_HEADINGS[26][1]]


def test_summary_names_the_same_units_as_the_chapter_figure(ctx):
    t = trust.trust_by_unit(ctx)
    s = hf.trust_summary(ctx)
    assert s["ranking"].keys == t.by_unit.keys
    assert s["top_units"] == [t.by_unit.label(u) for u in t.by_unit.top(2)]
    assert round(100 * s["low"]) == 27 and round(100 * s["high"]) == 31


# --- the chapter as the notebook writes it: every claim holds, every number carries its kind ------
def _run_chapter(root, monkeypatch) -> str:
    """The notebook's cells run in this process on the test data (the regression cells left out:
    their prose is book/models.py's), with every figure, table and paragraph collected as the
    fallback renderer's HTML."""
    from tillit.book import display

    shown: list[str] = []
    monkeypatch.setattr(display, "_display", lambda md, plain_text, meta: shown.append(meta.get("html", "")))
    monkeypatch.setattr(display, "show_prose", lambda md: shown.append(f"<div class='prose'><p>{md}</p></div>"))
    nb = json.loads((repo_root() / "notebooks" / "04_hovedfunn.ipynb").read_text(encoding="utf-8"))
    ns: dict = {}
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "models." in source or "model_set" in source:
            continue
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            exec(source, ns)
            ns.update(data_dir=str(root / "processed"), raw_dir=str(root / "raw"),
                      output_dir=str(root / "out-notebook"))
            continue
        exec(source.replace("nbk.start(\"04_hovedfunn\", globals())",
                            "nbk.start(\"04_hovedfunn\", globals(), banner=False)"), ns)
    return "<html><body><main>" + "\n".join(shown) + "</main></body></html>"


def test_every_claim_in_the_chapter_holds_against_the_table_it_names(processed, monkeypatch):
    from tillit.book import numbers_check as nc

    page = _run_chapter(processed, monkeypatch)
    problems = nc.check_book({"04_hovedfunn.html": page}, ledger_ids={"app-regnskap.html": set()})
    claims = nc.count_kinds({"p": page})["påstand"]
    assert claims >= 60, claims          # every comparative word the chapter prints is a claim
    assert not [str(p) for p in problems if p.check == "claim"]
    # No number in the chapter's own prose, captions or tables without its kind.
    assert not [str(p) for p in problems if p.check in ("unmarked", "table-cell")]


def test_claims_wrap_numbers_nest_and_refuse_what_the_table_contradicts(ctx):
    from tillit.book.numbers import ClaimError

    say = hf.Say(ctx)
    vals = {"A": 49.0, "B": 43.3, "C": 10.0}
    inner = say.claim(say.count(2), table="tbl-x", column="Negativt", rows="B", op="rank", k=2, values=vals)
    both = say.claim(inner, table="tbl-x", column="Negativt", rows="B", op="top", k=2, values=vals)
    assert both.count('class="claim"') == 2 and 'class="tall"' in both and plain(both).startswith("2")
    assert say.claim("høyest", table="tbl-x", column="Negativt", rows="D", values=vals) == "høyest"  # suppressed row
    with pytest.raises(ClaimError):
        say.claim("oftest", table="tbl-x", column="Negativt", rows="B", values=vals)


def test_the_role_table_of_a_small_edition_gives_no_hidden_count_away(processed, monkeypatch):
    """NKS alone (the edition's population): tbl-mrs-rolle hides small «Vet ikke» counts, and the
    audit over what the section publishes (the factor table, the figure by unit type and the
    table by role) can bound none of them to less than min_cell. Without the gate's interval
    check (stats.intervals) it could: the roles' zero «Vet ikke» formed a closed loop."""
    from tillit.stats import audit
    from tillit.stats.disclosure import Gate

    full = pd.read_parquet(processed / "processed" / "survey_2023.parquet")
    nks = full[full["unit_type"] == "nks"]

    def publish(survey) -> audit.AuditResult:
        ctx = make_ctx(processed, survey=survey)
        steering.role_table(ctx, steering.mor_views(ctx, factors.factors(ctx)))
        log = pd.read_csv(ctx.output_dir / "disclosure_log.csv")
        assert ((log["table_id"] == "04_hovedfunn/tbl-mrs-rolle") & (log["column"] == "Vet ikke")).sum() >= 2
        return audit.run_audit(ctx.output_dir, min_cell=5, codebook=ctx.codebook)

    result = publish(nks)
    assert result.ok, result.message()
    with monkeypatch.context() as mp:
        mp.setattr(Gate, "_protect_shares", lambda self, *a, **k: None)
        before = publish(nks.copy())
    assert any(f.table_id == "04_hovedfunn/tbl-mrs-rolle" for f in before.violations), before.message()


def test_highest_units_are_claimed_against_the_other_units_when_all_employees_lie_between():
    """Arbeids- og tjenestelinjen's employees: NKS 49 %, all employees 29 %, NAV-kontor 26 %: NAV-kontor
    is no. 3 of the table's rows, but above every other unit type shown."""
    from tillit.book.numbers import ClaimError, check_claim

    vals = {"NKS": 49.2, "NAV-kontor": 26.2, "HOT": 22.7, "NAV fylke": 19.1, trust.ALL_EMPLOYEES: 28.6}
    made = []

    def claim(text, rows, op, k_=None):
        rows = [rows] if isinstance(rows, str) else rows
        problem = check_claim(op, rows, vals, k=k_)
        if problem:
            raise ClaimError(problem)
        made.append((op, rows[0]))
        return text

    assert trust._highest_claim(claim, vals, ["NKS", "NAV-kontor"], ["HOT", "NAV fylke"], 2) == "høyest"
    assert made == [("gt", "NKS"), ("gt", "NAV-kontor")]
    made.clear()
    vals[trust.ALL_EMPLOYEES] = 24.0  # below both: the table's top two
    trust._highest_claim(claim, vals, ["NKS", "NAV-kontor"], ["HOT", "NAV fylke"], 2)
    assert made == [("top", "NKS"), ("top", "NAV-kontor")]


def test_shares_equal_but_for_float_noise_tie_in_the_claim_as_in_the_ranking():
    """NAV økonomi stønad: 70 of 90 say «Egen erfaring og kompetanse» and «Fagsystemer» affect their
    room for action, summed from shares in two orders (0,77777777777777779 and …768)."""
    from tillit.book.chapters.hovedfunn.common import shown
    from tillit.book.numbers import check_claim

    values = {"Regelverk": 0.81111111111111101, "Fagsystemer": 0.77777777777777779,
              "Egen erfaring og kompetanse": 0.77777777777777768, "Tid": 0.73333333333333328}
    r = hf.Ranking.of(values)
    assert r.rank("Egen erfaring og kompetanse") == r.rank("Fagsystemer") == 2
    assert check_claim("rank", ["Egen erfaring og kompetanse"], shown(values), k=2) is None
