"""Sentences of chapter 4 whose wording depends on the data: every comparative word ("flest",
"oftere", "høyest", "omtrent like mange") is chosen here from the results the figures and
tables show, and published claims link to their ledger row. The notebook narrates the rest.
"""
from __future__ import annotations

from tillit import fmt
from tillit.book.chapters.hovedfunn.common import Say, missing, shown
from tillit.book.chapters.hovedfunn.cooperation import ROLES, RoleMeans, comparison_words, majority_words
from tillit.book.chapters.hovedfunn.steering import (COMP_ALL, COMP_FIG, COMP_LEAD, GOAL_COLS, GOAL_FIG,
                                                    GOAL_TABLE, MUNI_FIG, MUNI_SHARE, MUNI_TABLE, NET_COL,
                                                    POSITIVE, RESULTS_UNIT_COL, RESULTS_UNIT_TABLE, ROLE_COLS,
                                                    Competition, GoalTypes, Municipal, ResultsUse, Views,
                                                    role_values, steering_gap_words)

CANNOT = "(sammenligningen kan ikke vises fordi en gruppe er prikket)"


def pull_words(positive: float, negative: float) -> str:
    """'oftere ned enn opp' / 'oftere opp enn ned' / 'like ofte opp som ned'."""
    if missing(positive) or missing(negative):
        return CANNOT
    if abs(positive - negative) < 0.005:
        return "omtrent like ofte opp som ned"
    return "oftere ned enn opp" if negative > positive else "oftere opp enn ned"


def all_suppressed(say: Say, values, what: str) -> str | None:
    """A whole paragraph's replacement when every number in it is suppressed, else None."""
    if all(missing(v) for v in values):
        return (f"Svarene fra {what} er prikket i denne utgaven fordi gruppene har færre enn "
                f"{say.min_cell()} svar.")
    return None


def _check(say: Say, target: str, key: str) -> float:
    return float(say.num.targets[target]["check"][key])


# --- 4.2.3.1 -----------------------------------------------------------------------------------
def involvement_words(say: Say, rm: RoleMeans, yes: str = "i noe mindre grad", no: str = "ikke i mindre grad") -> str:
    """``yes`` (published) when leaders lie above both tillitsvalgte and verneombud on both items,
    claimed against the figure's means; else ``no``, or «(prikket)»."""
    above_s, above_m = rm.leaders_above("involve_services"), rm.leaders_above("involve_mor")
    both = None if above_s is None or above_m is None else (above_s and above_m)
    text = say.pub_text("involvering_tjenesteutvikling_ledere", comparison_words(both, yes, no))
    if both:
        for item in ("involve_services", "involve_mor"):
            text = rm.claim(say, text, item, ROLES)
    return text


def involvement_text(say: Say, rm: RoleMeans, leaders: dict) -> str:
    s, m = leaders["involve_services"], leaders["involve_mor"]
    gone = all_suppressed(say, rm.means["mean"], "ledere, tillitsvalgte og verneombud")
    if gone:
        return gone + " Det gjelder også @fig-involvering."
    above_m = rm.leaders_above("involve_mor")
    mean = lambda item, role: say.mean(rm.mean(item, role))  # noqa: E731
    highest = say.pub_text("involvering_mrs_ledere", comparison_words(above_m, "ledere høyest", "ledere ikke høyest"))
    if above_m:
        highest = rm.claim(say, highest, "involve_mor", ["leder"], op="max")
    return (
        f"{majority_words(min(s['some'], m['some'])).capitalize()} ledere sier at de trekker tillitsvalgte og "
        f"verneombud med i den lokale tjenesteutviklingen og i mål- og resultatstyringen: {say.pct(s['some'])} svarer minst «i noen "
        f"grad» for tjenesteutviklingen og {say.pct(m['some'])} for mål- og resultatstyringen, og {say.pct(s['much'])} "
        f"og {say.pct(m['much'])} svarer «i stor» eller «i svært stor grad». Tillitsvalgte og verneombud sier selv "
        f"{involvement_words(say, rm)} at de får medvirke. På en skala fra én til fem ligger lederne i snitt på "
        f"{mean('involve_services', 'leder')} for tjenesteutviklingen, mot {mean('involve_services', 'tillitsvalgt')} "
        f"for tillitsvalgte og {mean('involve_services', 'verneombud')} for verneombud. For mål- og resultatstyringen "
        f"er snittene {mean('involve_mor', 'leder')}, {mean('involve_mor', 'tillitsvalgt')} og "
        f"{mean('involve_mor', 'verneombud')} ({highest}; @fig-involvering)."
    )


def knowledge_words(say: Say, rm: RoleMeans, item: str = "knows_goals", target: str = "kjenner_mal_ledere",
                    yes: str = "i noe større grad", no: str = "ikke i større grad") -> str:
    """Leaders above tillitsvalgte and verneombud on ``item`` (published words), claimed."""
    above = rm.leaders_above(item)
    text = say.pub_text(target, comparison_words(above, yes, no))
    return rm.claim(say, text, item, ROLES) if above else text


def knowledge_text(say: Say, rm: RoleMeans) -> str:
    tol_k = _check(say, "kjenner_mal_tv_vo_likt", "tol")
    tol_c = _check(say, "sammenheng_mal_tv_vo_likt", "tol")
    gone = all_suppressed(say, rm.means["mean"], "ledere, tillitsvalgte og verneombud om målene")
    if gone:
        return gone + " Det gjelder også @fig-malkjennskap."
    mean = lambda item, role: say.mean(rm.mean(item, role))  # noqa: E731

    def alike(item: str, target: str, tol: float) -> str:
        close = rm.close(item, "tillitsvalgt", "verneombud", tol)
        text = say.pub_text(target, comparison_words(close, "omtrent likt", "ulikt"))
        return rm.claim(say, text, item, ["tillitsvalgt", "verneombud"], op="near", tol=tol) if close else text

    coherence = rm.leaders_above("goal_coherence")
    also = say.pub_text("sammenheng_mal_ledere", comparison_words(coherence, "også her høyest", "her ikke høyest"))
    if coherence:
        also = rm.claim(say, also, "goal_coherence", ["leder"], op="max")
    return (
        f"Ledere svarer også {knowledge_words(say, rm)} enn tillitsvalgte og verneombud at de kjenner NAVs overordnede "
        f"mål godt ({mean('knows_goals', 'leder')} mot {mean('knows_goals', 'tillitsvalgt')} og "
        f"{mean('knows_goals', 'verneombud')}), og at målene og kravene for egen enhet henger sammen med de overordnede "
        f"målene ({also}: {mean('goal_coherence', 'leder')} mot {mean('goal_coherence', 'tillitsvalgt')} og "
        f"{mean('goal_coherence', 'verneombud')}; @fig-malkjennskap). Tillitsvalgte og verneombud svarer "
        f"{alike('knows_goals', 'kjenner_mal_tv_vo_likt', tol_k)} seg imellom om kjennskapen til målene, og "
        f"{alike('goal_coherence', 'sammenheng_mal_tv_vo_likt', tol_c)} om sammenhengen."
    )


# --- 4.2.4.3 -----------------------------------------------------------------------------------
def mor_even_words(say: Say, f) -> str:
    """'omtrent like mange' (published tolerance) positive as negative on mål- og resultatstyring."""
    row, tol = f.row("f_mor"), _check(say, "mor_like_mange", "tol")
    even = None if missing(row["positive"]) or missing(row["negative"]) else \
        abs(row["positive"] - row["negative"]) * 100 <= tol
    return say.pub_text("mor_like_mange", comparison_words(even, "omtrent like mange", "ikke like mange"))


def views_text(say: Say, v: Views, f) -> str:
    tol = _check(say, "mor_like_mange", "tol")
    even = v.about_even(tol)
    words = comparison_words(even, "omtrent like mange", "ikke like mange")
    neutral = f.row("f_mor")[3]
    return (
        f"Synet på hvordan mål- og resultatstyringen påvirker handlingsrommet, er delt: "
        f"{say.pub_text('mor_like_mange', words)} mener at den påvirker positivt ({say.pct(v.positive)}) som negativt "
        f"({say.pct(v.negative)}), mens {say.pct(neutral)} svarer at den verken virker positivt eller negativt."
        f"{_role_sentence(say, v)} {_net_sentence(say, v)}"
    )


def _role_sentence(say: Say, v: Views) -> str:
    roles = say.ctx.codebook.roles
    if "leder" not in v.by_role.index or "medarbeider" not in v.by_role.index:
        return ""  # an edition of one role has nothing to compare with (docs/editions.md)
    lead, emp = v.by_role.loc["leder"], v.by_role.loc["medarbeider"]
    if missing(lead["positive"]) or missing(emp["positive"]):
        return " Ledernes svar kan ikke sammenlignes med medarbeidernes fordi en gruppe er prikket."
    order = ["leder", "medarbeider"] if lead["positive"] > emp["positive"] else ["medarbeider", "leder"]
    more = "oftere" if order[0] == "leder" else "sjeldnere"
    if lead["positive"] != emp["positive"]:
        more = say.claim(more, table="tbl-mrs-rolle", column=ROLE_COLS["positive"], rows=[roles[r] for r in order],
                         op="gt", values=role_values(v, "positive", roles))
    return (f" Ledere svarer {more} positivt enn medarbeidere: {say.pct(lead['positive'])} av lederne og "
            f"{say.pct(emp['positive'])} av medarbeiderne mener at styringen påvirker handlingsrommet positivt "
            "(@tbl-mrs-rolle).")


def _net_sentence(say: Say, v: Views) -> str:
    if v.by_unit is None:  # an edition of roles (steering.by_unit_shown)
        return "Svarene etter enhetstype står i enhetstypenes egne utgaver."
    top, bottom = v.net.first(), v.net.last()
    if top is None or top == bottom:
        return "Enhetstypene kan ikke sammenlignes fordi for mange er prikket (@fig-mrs-enhet)."
    t, b = v.net.values[top], v.net.values[bottom]
    net = v.net_values()

    def claim(word: str, unit: str, op: str) -> str:
        return say.claim(word, table="fig-mrs-enhet", column=NET_COL, rows=unit, op=op, values=net)

    first = (f"overvekten av positive svar {claim('størst', top, 'max')} i {top}" if t > 0 else
             f"overvekten av negative svar {claim('minst', top, 'max')} i {top}")
    last = (f"overvekten av negative svar {claim('størst', bottom, 'min')} i {bottom}" if b < 0 else
            f"overvekten av positive svar {claim('minst', bottom, 'min')} i {bottom}")
    return (f"Mellom enhetstypene er {first} og {last} (@fig-mrs-enhet, sortert etter andelen positive minus "
            "andelen negative).")


# --- 4.2.4.4 -----------------------------------------------------------------------------------
def qualitative_words(say: Say, gt: GoalTypes, aspects: list[str] | None = None,
                      target: str = "kvalitative_over_kvantitative_motivasjon") -> str:
    """'mer positivt' (qualitative over quantitative goals), claimed for each of ``aspects`` where
    it holds against the figure's positive shares; the words follow the data."""
    above = gt.qualitative_above()
    aspects = list(above) if aspects is None else aspects
    known = [a for a in aspects if above.get(a) is not None]
    if not known:
        return say.pub_text(target, None)
    holds = all(above[a] for a in known)
    text = say.pub_text(target, "mer positivt" if holds else "ikke mer positivt")
    if holds:
        for a in known:
            rows = [gt.row_label[("kvalitativ", a)], gt.row_label[("kvantitativ", a)]]
            text = say.claim(text, table=GOAL_FIG, column=POSITIVE, rows=rows, op="gt", values=gt.positive_values())
    return text


def goal_types_text(say: Say, gt: GoalTypes) -> str:
    above = gt.qualitative_above()
    known = [a for a, v in above.items() if v is not None]
    if not known:
        return "Sammenligningen av kvalitative og kvantitative mål er prikket."
    yes = [a for a in known if above[a]]
    scope = (f"på alle {fmt.number_word(len(above))} sidene ved arbeidet vi spurte om" if len(yes) == len(above)
             else f"på {fmt.number_word(len(yes))} av de {fmt.number_word(len(above))} sidene ved arbeidet vi spurte om")
    words = qualitative_words(say, gt, yes) if yes else "ikke mer positivt"
    pairs = [f"{say.pub_text(f'kvalitative_over_kvantitative_{a}', gt.table.loc[a, 'label'].lower())} "
             f"({say.pct(gt.table.loc[a, 'ql_pos'])} mot {say.pct(gt.table.loc[a, 'qn_pos'])})" for a in known]
    return (f"I spørreundersøkelsen vurderer {say.ctx.edition_label} kvalitative mål {words} enn kvantitative {scope}. "
            f"Andelen som svarer positivt eller svært positivt, er for kvalitative og kvantitative mål: "
            f"{fmt.listing(pairs)} (@fig-maltyper, @tbl-maltyper).")


def quantitative_text(say: Say, gt: GoalTypes) -> str:
    mostly = gt.mostly_positive_or_neutral()
    lo, lo_a, hi, hi_a = gt.negative_range()
    band_lo = int(_check(say, "kvantitative_negativ_motivasjon", "lo"))
    band_hi = int(_check(say, "kvantitative_negativ_motivasjon", "hi"))
    inside = (lo is not None and band_lo <= round(100 * lo) and round(100 * hi) <= band_hi)
    first = ("Kvantitative mål virker i hovedsak positivt eller nøytralt: på hver side ved arbeidet svarer mer enn "
             "halvparten at de kvantitative målene virker positivt eller verken positivt eller negativt."
             if mostly else "Kvantitative mål virker ikke i hovedsak positivt eller nøytralt på alle sider ved arbeidet."
             if mostly is not None else "")
    if lo is None:
        return first + " Andelene som svarer negativt, er prikket."
    band = (say.pub_text("kvantitative_negativ_motivasjon", f"mellom {band_lo} og {band_hi} prosent") if inside
            else f"mellom {say.pct(lo)} og {say.pct(hi)}")
    neg = gt.table_values("qn_neg")

    def claim(word: str, aspect: str, op: str) -> str:
        return say.claim(word, table=GOAL_TABLE, column=GOAL_COLS["qn_neg"], rows=gt.table.loc[aspect, "label"],
                         op=op, values=neg)

    return (f"{first} Samtidig mener et ganske stort mindretall – {band} – at kvantitative mål virker negativt eller "
            f"svært negativt på enkelte sider ved arbeidet. {claim('Lavest', lo_a, 'min')} er andelen for "
            f"{gt.table.loc[lo_a, 'label'].lower()} ({say.pct(lo)}), {claim('høyest', hi_a, 'max')} for "
            f"{gt.table.loc[hi_a, 'label'].lower()} ({say.pct(hi)}; @tbl-maltyper).")


# --- 4.2.4.5 -----------------------------------------------------------------------------------
def competition_text(say: Say, c: Competition) -> str:
    r = c.by_unit
    if len(r) < 6:
        return ("For mange enhetstyper er prikket til at de kan rangeres etter opplevd konkurranse "
                "(@fig-konkurranse).")
    top, bottom = r.top(4), r.bottom(2)
    vals = c.unit_values()

    def claim(text: str, key: str, op: str, k: int | None = None) -> str:
        return say.claim(text, table=COMP_FIG, column=COMP_ALL, rows=r.label(key), op=op, k=k, values=vals)

    top_text = say.pub_text("konkurranse_mest", fmt.listing([r.label(k) for k in top]))
    bottom_text = say.pub_text("konkurranse_minst", fmt.listing([r.label(k) for k in bottom]))
    most, fewest = "flest", "Færrest"
    for key in top:
        most = claim(most, key, "top", 4)
    fewest = claim(claim(fewest, bottom[0], "min"), bottom[1], "rank", r.rank(bottom[1]))
    gap = "" if r.complete() else f" ({r.suppressed_text()} er prikket og ikke med i rangeringen)"
    return (
        "Opplevelsen av konkurranse varierer mellom enhetene: noen opplever mye, andre lite. "
        f"{top_text} er enhetstypene der {most} opplever mye eller svært mye konkurranse med andre enheter om best "
        f"mulige måltall og resultater; {claim('øverst', top[0], 'max')} ligger {r.label(top[0])} med "
        f"{say.pct(r.values[top[0]])}{gap}. {fewest} opplever det i {bottom_text} ({say.pct(r.values[bottom[0]])} og "
        f"{say.pct(r.values[bottom[1]])}). En mulig forklaring er at de som arbeider der, har oppgaver som er "
        "vanskeligere å sammenligne med det andre enheter gjør (@fig-konkurranse; figuren er sortert etter andelen "
        "i alle roller)."
    )


def leaders_competition_text(say: Say, c: Competition) -> str:
    above = c.leaders_above()
    if missing(c.leader):
        return (f"Ledernes svar om konkurranse er prikket i denne utgaven fordi gruppene har færre enn "
                f"{say.min_cell()} svar; blant medarbeiderne opplever {say.pct(c.employee)} mye eller svært mye "
                "konkurranse.")
    roles = say.ctx.codebook.roles
    more = say.pub_text("konkurranse_ledere_over_medarbeidere", comparison_words(above, "generelt mer", "ikke mer"))
    if above:
        more = say.claim(more, table="tbl-konkurranse-rolle", column="Mye eller svært mye konkurranse",
                         rows=[roles["leder"], roles["medarbeider"]], op="gt",
                         values=shown({roles[k]: v for k, v in c.roles["share"].items()}))
    first = (f"Ledere opplever {more} konkurranse enn medarbeidere ({say.pct(c.leader)} mot {say.pct(c.employee)}; "
             "@tbl-konkurranse-rolle).")
    lr = c.leaders_by_unit
    if len(lr) < 2:
        return first + " Ledernes svar per enhetstype er prikket."
    spread_leaders = float(lr.values.iloc[0] - lr.values.iloc[-1])
    spread_all = float(c.by_unit.values.iloc[0] - c.by_unit.values.iloc[-1]) if len(c.by_unit) > 1 else float("nan")
    wider = ("Mellom lederne på ulike enheter er forskjellene enda større" if spread_leaders > spread_all
             else "Også mellom lederne på ulike enheter varierer svarene")
    leader_top = lr.first()
    gap = lr.gap_after_first() or 0.0
    stand = say.claim("skiller seg tydelig ut" if gap >= 0.10 else "ligger høyest", table=COMP_FIG, column=COMP_LEAD,
                      rows=lr.label(leader_top), op="max", values=c.unit_values(leaders=True))
    nks = lr.values.get("nks")
    value = say.pub("konkurranse_nks_ledere", nks) if leader_top == "nks" else say.pct(lr.values[leader_top])
    extra = ("" if leader_top == "nks" or nks is None else
             f" Blant lederne i {lr.label('nks')} er andelen {say.pub('konkurranse_nks_ledere', nks)}.")
    return (f"{first} {wider}: lederne i {lr.label(leader_top)} {stand}, der {value} oppgir mye eller svært mye "
            f"konkurranse.{extra} Dette kan bety at oppmerksomheten om resultater er større blant ledere, eller at "
            "lederne i noen grad holder medarbeiderne unna dette presset.")


# --- 4.2.4.6 -----------------------------------------------------------------------------------
def results_text(say: Say, r: ResultsUse) -> str:
    it = r.items
    spread = ""
    if len(r.by_unit) > 1:
        lo, hi = r.by_unit.last(), r.by_unit.first()
        vals = r.unit_values()

        def claim(word: str, key: str, op: str) -> str:
            return say.claim(word, table=RESULTS_UNIT_TABLE, column=RESULTS_UNIT_COL, rows=r.by_unit.label(key),
                             op=op, values=vals)

        spread = (f" Mellom enhetstypene er andelen som svarer «i stor» eller «i svært stor grad», "
                  f"{claim('lavest', lo, 'min')} i {r.by_unit.label(lo)} ({say.pct(r.by_unit.values[lo])}) og "
                  f"{claim('høyest', hi, 'max')} i {r.by_unit.label(hi)} ({say.pct(r.by_unit.values[hi])}; "
                  "@tbl-resultatbruk-enhet).")
    return (
        f"Spørreundersøkelsen viser at enhetene bruker resultatene sine til læring og forbedring i ulik grad: "
        f"{say.pct(it.loc['results_use', 'low'])} svarer at resultatene i liten eller svært liten grad brukes slik, "
        f"{say.pct(it.loc['results_use', 'high'])} i stor eller svært stor grad (@fig-resultatdialog).{spread} I de "
        "utdypende svarene ønsker flere å bli mer involvert når målene settes, og de etterlyser generelt bedre "
        "informasjon om hvorfor målene og prioriteringene er valgt. Det samme viser svarene om involvering: "
        f"{say.pct(it.loc['goal_involvement', 'low'])} sier at de i liten eller svært liten grad blir involvert når "
        f"målene for enheten settes, mot {say.pct(it.loc['goal_involvement', 'high'])} i stor eller svært stor grad."
    )


def dialogue_text(say: Say, r: ResultsUse) -> str:
    it = r.items
    return (f"I spørreundersøkelsen svarer {say.pct(it.loc['dialogue_upper', 'high'])} at dialogen om resultatene med "
            f"overliggende nivå i stor eller svært stor grad er tilstrekkelig, og {say.pct(it.loc['dialogue_upper', 'low'])} "
            "at den i liten eller svært liten grad er det.")


# --- 4.2.4.7 -----------------------------------------------------------------------------------
def municipal_words(say: Say, mu: Municipal) -> str:
    """How the kommunal steering stands to the statlig one (published band), claimed on the means."""
    lo, hi = _check(say, "kommunal_over_statlig", "lo"), _check(say, "kommunal_over_statlig", "hi")
    if missing(mu.difference()):
        return say.pub_text("kommunal_over_statlig", None)
    words = steering_gap_words(mu.difference(), lo, hi)
    text = say.pub_text("kommunal_over_statlig", words)
    kom, stat = mu.labels["steer_municipal"], mu.labels["steer_state"]
    spec = {"klart gunstigere": ("gt", [kom, stat]), "noe gunstigere": ("gt", [kom, stat]),
            "mindre gunstig": ("gt", [stat, kom]), "omtrent like gunstig": ("near", [kom, stat])}.get(words)
    if spec is None:
        return text
    return say.claim(text, table=MUNI_FIG, column="Gjennomsnitt", rows=spec[1], op=spec[0],
                     tol=lo if spec[0] == "near" else None, values={k: round(v, 2) for k, v in mu.mean_values().items()})


def municipal_than(say: Say, mu: Municipal) -> str:
    """'enn' after «gunstigere», 'som' after «omtrent like gunstig»."""
    lo, hi = _check(say, "kommunal_over_statlig", "lo"), _check(say, "kommunal_over_statlig", "hi")
    return "som" if steering_gap_words(mu.difference(), lo, hi).startswith("omtrent") else "enn"


def conflict_words(say: Say, mu: Municipal) -> str:
    """'omtrent like mange' ledere with and without a goal conflict (published tolerance), claimed."""
    tol = _check(say, "malkonflikt_like_mange", "tol")
    even = None if missing(mu.yes) else abs(mu.yes - mu.no) * 100 <= tol
    text = say.pub_text("malkonflikt_like_mange", comparison_words(even, "omtrent like mange", "ikke like mange"))
    return say.claim(text, table=MUNI_TABLE, column=MUNI_SHARE, rows=["Ja", "Nei"], op="near", tol=tol,
                     values=mu.yes_no_values()) if even else text


def municipal_text(say: Say, mu: Municipal) -> str:
    sh = mu.shares
    gone = all_suppressed(say, [*mu.means, mu.yes], "lederne på NAV-kontorene om kommunal og statlig styring")
    if gone:
        return gone + " Det gjelder også @fig-kommunal-statlig og @tbl-malkonflikt."
    words, than = municipal_words(say, mu), municipal_than(say, mu)
    return (
        "I spørreundersøkelsen ble lederne på NAV-kontorene spurt hvordan de opplever den kommunale og den statlige "
        f"styringen. Svarene spriker: {say.pct(sh.loc['steer_municipal', 'negative'])} mener at den kommunale styringen "
        f"påvirker handlingsrommet negativt, og {say.pct(sh.loc['steer_municipal', 'positive'])} at den påvirker "
        f"positivt. For den statlige styringen er andelene {say.pct(sh.loc['steer_state', 'negative'])} og "
        f"{say.pct(sh.loc['steer_state', 'positive'])} (@fig-kommunal-statlig). I snitt oppleves den kommunale "
        f"styringen som {words} for handlingsrommet "
        f"{than} den statlige "
        f"({say.mean(mu.means['steer_municipal'])} mot {say.mean(mu.means['steer_state'])} på en skala fra én til "
        f"fem). Av lederne som svarte ja eller nei, opplever {say.pct(mu.yes)} en målkonflikt mellom statlig og "
        f"kommunal styring, og {say.pct(mu.no)} gjør det ikke – {conflict_words(say, mu)} (@tbl-malkonflikt)."
    )


# --- the regression section ----------------------------------------------------------------------
def regression_intro(say: Say) -> str:
    twin = ("**Les dette først:** I denne utgaven bygger modellene på den syntetiske tvillingen. Sammenhengene de "
            "viser, er dem generatoren ble gitt; de illustrerer metoden og sier ingenting om NAV. "
            if say.ctx.is_synthetic else "")
    return (
        f"{twin}Rapporten oppgir andeler. Her går vi et steg videre med ordinale regresjonsmodeller (proporsjonale "
        "odds): hvordan henger erfaringene med styringen – konkurranse, bruk av resultater, involvering når målene "
        "settes, og dialogen med overliggende nivå – sammen med opplevde hindringer for tilliten til brukerne og med "
        "vurderingen av mål- og resultatstyringen, når rolle og enhetstype holdes fast? Modellene viser sammenhenger i "
        "ett tverrsnitt, ikke årsaker. Metoden er beskrevet i metodevedlegget."
    )


def models_suppressed(say: Say) -> str:
    return ("Regresjonsmodellene vises ikke i denne utgaven: minst én gruppe de bygger på, har færre enn "
            f"{say.min_cell()} svar.")
