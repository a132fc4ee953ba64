"""The disclosure rule and its audit, as the methods appendix shows them.

The appendix notebook (06_vedlegg, in the methods appendix) calls::

    from tillit.book import audit_report
    ctx.prose(audit_report.rule_text(ctx))
    ctx.prose(audit_report.audit_text(ctx))

`rule_text` states the rule exactly as the gate (tillit.stats.disclosure) applies it;
`audit_text` reports the audit (tillit.stats.audit) that the build ran over the chapters'
published numbers before the appendices, read from ``disclosure_audit.json``. After the
appendices the build runs the audit again over everything, the appendices' own tables
included, and fails if it does not pass, so a rendered book has passed both.
"""
from __future__ import annotations

from tillit import fmt
from tillit.stats.audit import AUDIT_NAME, read_result


def rule_text(ctx) -> str:
    """The disclosure rule in Norwegian, with the min_cell this build used."""
    k = fmt.number_word(ctx.min_cell)
    return (
        f"**Regelen for hva som publiseres.** En gruppe – en rad i en tabell, en stolpe i en figur eller en "
        f"linje i regnskapet – publiseres bare når minst {k} respondenter står bak den, og det samme gjelder "
        f"antallet som har svart «Vet ikke» i gruppen; også null regnes som et lite tall. Et skjult tall vises "
        f"som –*. For at et skjult tall ikke skal kunne regnes ut av summene, skjules også et tall til i samme "
        f"rad eller kolonne, og vi regner alltid med at summen for grupperingen er kjent (figurtekstene oppgir "
        f"n, og svarprofilen gir størrelsen på gruppene). Et antall for en del av en gruppe – for eksempel "
        f"medarbeiderne i en enhet, eller de som fikk et spørsmål som bare ble stilt til noen roller – "
        f"skjules også når resten av gruppen er færre enn {k} og ikke tom, for ellers kunne de få i resten "
        f"regnes ut ved å trekke fra. Andre svarkategorier enn «Vet ikke» kan bygge på "
        f"færre enn {k} svar når gruppen selv er stor nok."
    )


def audit_text(ctx) -> str:
    """What the audit found, in Norwegian; says plainly when there is no audit to show."""
    result = read_result(ctx.output_dir)
    if result is None:
        return (f"Revisjonen av skjulte tall er ikke tilgjengelig i denne kjøringen ({AUDIT_NAME} mangler); "
                "den kjøres av `tillit build` etter kapitlene.")
    k = fmt.number_word(int(result["min_cell"]))
    n_hidden = result["suppressed_counts"]
    num = ctx.num.count  # counts of this build: computed, not published
    text = (
        f"**Revisjon.** Etter hver bygging samler en revisjon alle tall som er publisert om respondentene – "
        f"tabeller, figurdata, CSV-filer og regnskapet – og setter dem opp som likninger i antall respondenter "
        f"per enhetstype og rolle og per svar. For hvert skjult tall finner den med lineær programmering det "
        f"minste og største antallet som er forenlig med alt som er publisert. Byggingen stopper hvis noe skjult "
        f"tall kan bestemmes nærmere enn {k}, eller hvis et tall i regnskapet handler om en gruppe som ikke "
        f"kan vises å ha minst {k} svar. I denne utgaven er {num(result['tables'])} tabeller og figurer "
        f"revidert, med {num(result['published_equations'])} publiserte tall og "
        f"{num(n_hidden)} skjulte tall."
    )
    if n_hidden and result.get("narrowest_interval") is not None:
        text += (f" Det smaleste intervallet et skjult tall kan regnes ut innenfor, spenner over "
                 f"{num(result['narrowest_interval'])} respondenter (kravet er minst {k}).")
    if result["ok"]:
        text += " Revisjonen fant ingen tall som kan regnes tilbake."
    else:
        text += (f" Revisjonen fant {num(len(result['violations']) + len(result['unaudited']))} tall som ikke "
                 "er godt nok beskyttet; byggingen skal da ha stoppet.")
    if result.get("outside_gate"):
        text += (f" {ctx.num.count(len(result['outside_gate']))} tabeller har antall som ikke kom fra porten (for "
                 "eksempel antall prosjekter, eller antallet respondenter i en modell); de er ikke revidert og er "
                 f"listet i {AUDIT_NAME}.")
    return text


def everything_suppressed_text(ctx, what: str) -> str:
    """One sentence for a chapter whose table or figure the gate hid entirely."""
    return (f"{what} vises ikke: med minste gruppestørrelse {fmt.num(ctx.min_cell)} ville hver gruppe bygge "
            f"på for få svar.")
