"""Sentences of chapter 4 whose wording depends on the data: every comparative word ("flest",
"oftere", "høyest", "omtrent like mange") is chosen here from the results the figures and
tables show, and published claims link to their ledger row. The notebook narrates the rest.
"""
from __future__ import annotations

from tillit import fmt
from tillit.book.chapters.hovedfunn.common import Say, missing
from tillit.book.chapters.hovedfunn.cooperation import RoleMeans, comparison_words, majority_words
from tillit.book.chapters.hovedfunn.steering import Competition, GoalTypes, Municipal, ResultsUse, Views

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
def involvement_text(say: Say, rm: RoleMeans, leaders: dict) -> str:
    s, m = leaders["involve_services"], leaders["involve_mor"]
    gone = all_suppressed(say, rm.means["mean"], "ledere, tillitsvalgte og verneombud")
    if gone:
        return gone + " Det gjelder også @fig-involvering."
    above_s, above_m = rm.leaders_above("involve_services"), rm.leaders_above("involve_mor")
    both = None if above_s is None or above_m is None else (above_s and above_m)
    mean = lambda item, role: say.mean(rm.mean(item, role))  # noqa: E731
    return (
        f"{majority_words(min(s['some'], m['some'])).capitalize()} ledere sier at de trekker tillitsvalgte og "
        f"verneombud med i den lokale tjenesteutviklingen og i mål- og resultatstyringen: {say.pct(s['some'])} svarer minst «i noen "
        f"grad» for tjenesteutviklingen og {say.pct(m['some'])} for mål- og resultatstyringen, og {say.pct(s['much'])} "
        f"og {say.pct(m['much'])} svarer «i stor» eller «i svært stor grad». Tillitsvalgte og verneombud sier selv "
        + say.pub_text("involvering_tjenesteutvikling_ledere",
                       comparison_words(both, "i noe mindre grad", "ikke i mindre grad"))
        + " at de får medvirke. På en skala fra én til fem ligger lederne i snitt på "
        f"{mean('involve_services', 'leder')} for tjenesteutviklingen, mot {mean('involve_services', 'tillitsvalgt')} "
        f"for tillitsvalgte og {mean('involve_services', 'verneombud')} for verneombud. For mål- og resultatstyringen "
        f"er snittene {mean('involve_mor', 'leder')}, {mean('involve_mor', 'tillitsvalgt')} og "
        f"{mean('involve_mor', 'verneombud')} "
        f"({say.pub_text('involvering_mrs_ledere', comparison_words(above_m, 'ledere høyest', 'ledere ikke høyest'))}; "
        "@fig-involvering)."
    )


def knowledge_text(say: Say, rm: RoleMeans) -> str:
    tol_k = _check(say, "kjenner_mal_tv_vo_likt", "tol")
    tol_c = _check(say, "sammenheng_mal_tv_vo_likt", "tol")
    gone = all_suppressed(say, rm.means["mean"], "ledere, tillitsvalgte og verneombud om målene")
    if gone:
        return gone + " Det gjelder også @fig-malkjennskap."
    mean = lambda item, role: say.mean(rm.mean(item, role))  # noqa: E731
    close_k = rm.close("knows_goals", "tillitsvalgt", "verneombud", tol_k)
    close_c = rm.close("goal_coherence", "tillitsvalgt", "verneombud", tol_c)
    return (
        "Ledere svarer også "
        + say.pub_text("kjenner_mal_ledere", comparison_words(rm.leaders_above("knows_goals"), "i noe større grad",
                                                              "ikke i større grad"))
        + f" enn tillitsvalgte og verneombud at de kjenner NAVs overordnede mål godt ({mean('knows_goals', 'leder')} "
        f"mot {mean('knows_goals', 'tillitsvalgt')} og {mean('knows_goals', 'verneombud')}), og at målene og kravene for "
        "egen enhet henger sammen med de overordnede målene ("
        + say.pub_text("sammenheng_mal_ledere", comparison_words(rm.leaders_above("goal_coherence"), "også her høyest",
                                                                 "her ikke høyest"))
        + f": {mean('goal_coherence', 'leder')} mot {mean('goal_coherence', 'tillitsvalgt')} og "
        f"{mean('goal_coherence', 'verneombud')}; @fig-malkjennskap). Tillitsvalgte og verneombud svarer "
        + say.pub_text("kjenner_mal_tv_vo_likt", comparison_words(close_k, "omtrent likt", "ulikt"))
        + " seg imellom om kjennskapen til målene, og "
        + say.pub_text("sammenheng_mal_tv_vo_likt", comparison_words(close_c, "omtrent likt", "ulikt"))
        + " om sammenhengen."
    )


# --- 4.2.4.3 -----------------------------------------------------------------------------------
def views_text(say: Say, v: Views, f) -> str:
    tol = _check(say, "mor_like_mange", "tol")
    even = v.about_even(tol)
    words = comparison_words(even, "omtrent like mange", "ikke like mange")
    neutral = f.row("f_mor")[3]
    lead = v.by_role.loc["leder"] if "leder" in v.by_role.index else None
    emp = v.by_role.loc["medarbeider"]
    role = _role_sentence(say, lead, emp)
    return (
        f"Synet på hvordan mål- og resultatstyringen påvirker handlingsrommet, er delt: "
        f"{say.pub_text('mor_like_mange', words)} mener at den påvirker positivt ({say.pct(v.positive)}) som negativt "
        f"({say.pct(v.negative)}), mens {say.pct(neutral)} svarer at den verken virker positivt eller negativt.{role}"
        f" {_net_sentence(v)}"
    )


def _role_sentence(say: Say, lead, emp) -> str:
    if lead is None or missing(lead["positive"]) or missing(emp["positive"]):
        return " Ledernes svar kan ikke sammenlignes med medarbeidernes fordi en gruppe er prikket."
    more = "oftere" if lead["positive"] > emp["positive"] else "sjeldnere"
    return (f" Ledere svarer {more} positivt enn medarbeidere: {say.pct(lead['positive'])} av lederne og "
            f"{say.pct(emp['positive'])} av medarbeiderne mener at styringen påvirker handlingsrommet positivt.")


def _net_sentence(v: Views) -> str:
    top, bottom = v.net.first(), v.net.last()
    if top is None or top == bottom:
        return "Enhetstypene kan ikke sammenlignes fordi for mange er prikket (@fig-mrs-enhet)."
    t, b = v.net.values[top], v.net.values[bottom]
    first = (f"overvekten av positive svar størst i {top}" if t > 0 else f"overvekten av negative svar minst i {top}")
    last = (f"overvekten av negative svar størst i {bottom}" if b < 0 else f"overvekten av positive svar minst i {bottom}")
    return (f"Mellom enhetstypene er {first} og {last} (@fig-mrs-enhet, sortert etter andelen positive minus "
            "andelen negative).")


# --- 4.2.4.4 -----------------------------------------------------------------------------------
def goal_types_text(say: Say, gt: GoalTypes) -> str:
    above = gt.qualitative_above()
    known = [a for a, v in above.items() if v is not None]
    if not known:
        return "Sammenligningen av kvalitative og kvantitative mål er prikket."
    k = sum(1 for a in known if above[a])
    scope = (f"på alle {fmt.number_word(len(above))} sidene ved arbeidet vi spurte om" if k == len(above)
             else f"på {fmt.number_word(k)} av de {fmt.number_word(len(above))} sidene ved arbeidet vi spurte om")
    pairs = [f"{say.pub_text(f'kvalitative_over_kvantitative_{a}', gt.table.loc[a, 'label'].lower())} "
             f"({say.pct(gt.table.loc[a, 'ql_pos'])} mot {say.pct(gt.table.loc[a, 'qn_pos'])})" for a in known]
    return (f"I spørreundersøkelsen vurderer de ansatte kvalitative mål mer positivt enn kvantitative {scope}. "
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
    return (f"{first} Samtidig mener et ganske stort mindretall – {band} – at kvantitative mål virker negativt eller "
            f"svært negativt på enkelte sider ved arbeidet. Lavest er andelen for "
            f"{gt.table.loc[lo_a, 'label'].lower()} ({say.pct(lo)}), høyest for "
            f"{gt.table.loc[hi_a, 'label'].lower()} ({say.pct(hi)}; @tbl-maltyper).")


# --- 4.2.4.5 -----------------------------------------------------------------------------------
def competition_text(say: Say, c: Competition) -> str:
    r = c.by_unit
    if len(r) < 6:
        return ("For mange enhetstyper er prikket til at de kan rangeres etter opplevd konkurranse "
                "(@fig-konkurranse).")
    top, bottom = r.top(4), r.bottom(2)
    top_text = say.pub_text("konkurranse_mest", fmt.listing([r.label(k) for k in top]))
    bottom_text = say.pub_text("konkurranse_minst", fmt.listing([r.label(k) for k in bottom]))
    gap = "" if r.complete() else f" ({r.suppressed_text()} er prikket og ikke med i rangeringen)"
    return (
        "Opplevelsen av konkurranse varierer mellom enhetene: noen opplever mye, andre lite. "
        f"{top_text} er enhetstypene der flest opplever mye eller svært mye konkurranse med andre enheter om best "
        f"mulige måltall og resultater; øverst ligger {r.label(top[0])} med {say.pct(r.values[top[0]])}{gap}. "
        f"Færrest opplever det i {bottom_text} ({say.pct(r.values[bottom[0]])} og {say.pct(r.values[bottom[1]])}). "
        "En mulig forklaring er at de som arbeider der, har oppgaver som er vanskeligere å sammenligne med det "
        "andre enheter gjør (@fig-konkurranse; figuren er sortert etter andelen i alle roller)."
    )


def leaders_competition_text(say: Say, c: Competition) -> str:
    above = c.leaders_above()
    if missing(c.leader):
        return (f"Ledernes svar om konkurranse er prikket i denne utgaven fordi gruppene har færre enn "
                f"{say.min_cell()} svar; blant medarbeiderne opplever {say.pct(c.employee)} mye eller svært mye "
                "konkurranse.")
    first = (f"Ledere opplever {say.pub_text('konkurranse_ledere_over_medarbeidere', comparison_words(above, 'generelt mer', 'ikke mer'))} "
             f"konkurranse enn medarbeidere ({say.pct(c.leader)} mot {say.pct(c.employee)}).")
    lr = c.leaders_by_unit
    if len(lr) < 2:
        return first + " Ledernes svar per enhetstype er prikket."
    spread_leaders = float(lr.values.iloc[0] - lr.values.iloc[-1])
    spread_all = float(c.by_unit.values.iloc[0] - c.by_unit.values.iloc[-1]) if len(c.by_unit) > 1 else float("nan")
    wider = ("Mellom lederne på ulike enheter er forskjellene enda større" if spread_leaders > spread_all
             else "Også mellom lederne på ulike enheter varierer svarene")
    leader_top = lr.first()
    gap = lr.gap_after_first() or 0.0
    stand = "skiller seg tydelig ut" if gap >= 0.10 else "ligger høyest"
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
    span = ""
    if len(r.by_unit) > 1:
        lo, hi = r.by_unit.last(), r.by_unit.first()
        span = (f" Mellom enhetstypene går andelen som svarer «i stor» eller «i svært stor grad», fra "
                f"{say.pct(r.by_unit.values[lo])} i {r.by_unit.label(lo)} til {say.pct(r.by_unit.values[hi])} i "
                f"{r.by_unit.label(hi)}.")
    return (
        f"Spørreundersøkelsen viser at enhetene bruker resultatene sine til læring og forbedring i ulik grad: "
        f"{say.pct(it.loc['results_use', 'low'])} svarer at resultatene i liten eller svært liten grad brukes slik, "
        f"{say.pct(it.loc['results_use', 'high'])} i stor eller svært stor grad (@fig-resultatdialog).{span} I de "
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
def municipal_text(say: Say, mu: Municipal) -> str:
    from tillit.book.chapters.hovedfunn.steering import steering_gap_words

    lo, hi = _check(say, "kommunal_over_statlig", "lo"), _check(say, "kommunal_over_statlig", "hi")
    tol = _check(say, "malkonflikt_like_mange", "tol")
    words = steering_gap_words(mu.difference(), lo, hi)
    even = None if missing(mu.yes) else abs(mu.yes - mu.no) * 100 <= tol
    sh = mu.shares
    gone = all_suppressed(say, [*mu.means, mu.yes], "lederne på NAV-kontorene om kommunal og statlig styring")
    if gone:
        return gone + " Det gjelder også @fig-kommunal-statlig og @tbl-malkonflikt."
    return (
        "I spørreundersøkelsen ble lederne på NAV-kontorene spurt hvordan de opplever den kommunale og den statlige "
        f"styringen. Svarene spriker: {say.pct(sh.loc['steer_municipal', 'negative'])} mener at den kommunale styringen "
        f"påvirker handlingsrommet negativt, og {say.pct(sh.loc['steer_municipal', 'positive'])} at den påvirker "
        f"positivt. For den statlige styringen er andelene {say.pct(sh.loc['steer_state', 'negative'])} og "
        f"{say.pct(sh.loc['steer_state', 'positive'])} (@fig-kommunal-statlig). I snitt oppleves den kommunale "
        f"styringen som {say.pub_text('kommunal_over_statlig', words)} for handlingsrommet "
        f"{'som' if words.startswith('omtrent') else 'enn'} den statlige "
        f"({say.mean(mu.means['steer_municipal'])} mot {say.mean(mu.means['steer_state'])} på en skala fra én til "
        f"fem). Av lederne som svarte ja eller nei, opplever {say.pct(mu.yes)} en målkonflikt mellom statlig og "
        f"kommunal styring, og {say.pct(mu.no)} gjør det ikke – "
        f"{say.pub_text('malkonflikt_like_mange', comparison_words(even, 'omtrent like mange', 'ikke like mange'))} "
        "(@tbl-malkonflikt)."
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
