"""Kapittel 6 Vedlegg (the report's reference list) and the compendium's lettered appendices:
methods (data, number kinds, disclosure, the 2017 comparison), the reproduction ledger, the
codebook and the map from the report's figures to the book's."""
from __future__ import annotations

import pandas as pd
from tillit import fmt
from tillit.book import plots
from tillit.stats import tables
from tillit.book.context import Context
from tillit.book.chapters.shared import HIGH, fact_text, gated_share_rows


def _ref_lines(ctx: Context, path: str, items: list, depth: int) -> list[str]:
    """Nested numbered Markdown list of the references (a dict item has a title and parts)."""
    lines = []
    for i, item in enumerate(items):
        here = f"{path}.{i}"
        indent = "    " * depth
        if isinstance(item, dict):
            lines.append(f"{indent}{i + 1}. {fact_text(ctx, here + '.title')}")
            lines += _ref_lines(ctx, here + ".parts", item["parts"], depth + 1)
        else:
            lines.append(f"{indent}{i + 1}. {fact_text(ctx, here)}")
    return lines


def references_markdown(ctx: Context) -> str:
    """6.1: the report's one appendix, the reference list, by theme as the report gives it."""
    refs = ctx.num.fact_value("references")
    themes = ctx.num.fact_value("reference_themes")
    blocks = []
    for key, items in refs.items():
        blocks.append(f"**{themes.get(key, key)}**\n\n" + "\n".join(_ref_lines(ctx, f"references.{key}", items, 0)))
    return "\n\n".join(blocks)


def cited_markdown(ctx: Context) -> str:
    """The documents the report cites in footnotes (outside its reference list)."""
    docs = ctx.num.fact_value("cited_documents")
    return "\n".join(f"- {fact_text(ctx, f'cited_documents.{i}.title')}" for i, _ in enumerate(docs))


def figure_map(ctx: Context) -> str:
    """Appendix app-figurer: the report's Figur 1–9 and where the book has them (a Markdown
    table with cross-references, so a label that no figure carries breaks the build)."""
    n = ctx.num
    rows = ["| Rapporten | Tittel i rapporten | Står i rapportens kapittel | I boka |", "|---|---|---|---|"]
    for i, f in enumerate(n.fact_value("figures")):
        refs = ", ".join(f"@{label}" for label in f["labels"])
        rows.append(f"| Figur {n.fact(f'figures.{i}.number')} | {f['title']} | "
                    f"{n.fact(f'figures.{i}.section')} | {refs} |")
    return "\n".join(rows)


# --- appendix ------------------------------------------------------------------------------
def compare_2017(ctx: Context, label: str = "fig-2017-2023") -> pd.DataFrame:
    """The items asked in both years: share in the top two categories, 2017 vs 2023.

    The 2017 microdata are not public; in the synthetic twin they are generated from documented
    assumptions (params/synthetic.yml), and the caption says so.
    """
    if not ctx.is_whole:
        # The book compares the years for the whole of NAV only: a part's 2023 bars beside the
        # main book's gave back counts the two books' gates hid differently (the editions' audit).
        ctx.not_in_edition("Sammenligningen med 2017", "boka sammenligner 2017 og 2023 bare for hele NAV")
        return pd.DataFrame()
    cb = ctx.codebook
    rows = []
    for year in (2017, 2023):
        df = ctx.survey(year)
        for item in cb.items_2017:
            res = tables.share(df, item, HIGH)
            dk = cb.scale_of(item).dont_know_code
            rows.append({"year": str(year), "item": item, "label": cb.items[item].label,
                         **res.iloc[0][["k", "n", "share", "lo", "hi"]].to_dict(),
                         "dont_know": int((df[item] == dk).sum()) if dk is not None else None})
    long = pd.DataFrame(rows)
    gated = gated_share_rows(ctx, f"{ctx.name}/{label}", long.assign(row=long["year"] + " " + long["item"]),
                              ["row"], dont_know="dont_know").merge(long[["year", "label"]].assign(row=long["year"] + " " + long["item"]),
                                             on="row")
    assumed = ctx.is_synthetic
    if gated["share"].isna().all():  # min_cell so large that the gate hid every bar
        from tillit.book.audit_report import everything_suppressed_text

        ctx.prose(everything_suppressed_text(ctx, "Sammenligningen mellom 2017 og 2023"))
        return gated
    year_label = {"2017": "2017 (antakelse)" if assumed else "2017", "2023": "2023"}
    gated["År"] = gated["year"].map(year_label)
    fig = plots.grouped_columns(gated, "label", "share", "År", ylabel="Andel positivt / i stor grad / mye",
                                order=[cb.items[i].label for i in cb.items_2017], rotate=30, width=11,
                                hue_order=[year_label["2017"], year_label["2023"]],
                                assumed=[year_label["2017"]] if assumed else [])
    n17 = len(ctx.survey(2017))
    note = (" 2017-søylene er skraverte og uten fyll fordi de ikke er målinger: de er generert ut fra "
            "dokumenterte antakelser, fordi 2017-dataene ikke er publisert." if assumed else "")
    ctx.figure(fig, label, f"Spørsmål stilt både i 2017 og 2023: andel i de to øverste kategoriene "
               f"(2017: {fmt.n(n17)}; 2023: {fmt.n(len(ctx.survey()))}).{note}",
               "Grupperte søyler for hvert spørsmål som ble stilt begge år, med andelen i de to øverste "
               "svarkategoriene i 2017 og 2023 side om side." + (" 2017-søylene er skraverte antakelser, "
               "ikke målinger." if assumed else ""),
               data=gated[["year", "label", "n", "share"]])
    if assumed:
        ctx.prose("Sammenligningen med 2017 bygger i denne utgaven på genererte 2017-svar. Forskjellene "
                  "mellom årene er derfor modellens antakelser, ikke funn, og reproduksjonsregnskapet "
                  "fører dem som antakelser.")
    return gated


def data_method_prose(ctx: Context) -> str:
    """How the survey data were prepared and, on the twin, how they were generated."""
    from tillit.config import params_yaml

    n = ctx.num
    flow = ctx.exclusion_flow()
    base = (
        f"Eksporten av spørreundersøkelsen hadde {n.count(flow['remaining'].iloc[0])} besvarelser. "
        "Rensingen fjerner testsvar, ufullstendige besvarelser og doble innsendinger etter faste regler "
        "i fast rekkefølge, og retter ulike skrivemåter av enhetstyper og roller etter kodeboken "
        f"(se vedlegget om datagrunnlaget og klargjøringen). Igjen står "
        f"{n.pub('antall_respondenter', fmt.num(flow['remaining'].iloc[-1]))} respondenter. Svaret "
        "«Vet ikke» holdes utenfor gjennomsnitt og modeller, men telles og vises i figurene, og andeler "
        "regnes av alle svar, med «Vet ikke» i nevneren, når ikke annet er sagt."
    )
    if not ctx.is_synthetic:
        return base + " Dataene er den reelle eksporten, lest inn etter kodeboken."
    src = ctx.data_source
    model = params_yaml("synthetic.yml")
    hind = model["outcomes"]["trust_hindrance"]
    coefs = fmt.listing([f"{ctx.codebook.items[k].raw.lower()} {n.model(fmt.signed(v, 2))}"
                         for k, v in hind["predictors"].items()])
    return base + (
        "\n\nDenne utgaven bygger på en syntetisk tvilling av dataene, ikke på svar fra ekte personer "
        f"(generatorversjon {n.model(str(src.get('generator_version', '?')))}, frø "
        f"{n.model(str(src.get('seed', '?')))}). Svarene trekkes fra en modell med en latent variabel, "
        f"tilfeldige effekter for hver enhet (standardavvik {n.model(fmt.num(hind['unit_sd'], 2))} på "
        "log-odds-skalaen), effekter av rolle og enhetstype og faste koeffisienter fra erfaringene med "
        "styringen til utfallene. For opplevde tillitshindringer er de sanne log-odds-koeffisientene per "
        f"skalatrinn {coefs}. Deretter kalibreres utvalget eksakt til tallene rapporten publiserte, ved å "
        "flytte de færreste respondentene som ligger nærmest skjæringspunktene, slik at modellens "
        "sammenhenger nesten ikke endres. Tvillingen har også det rotet en ekte eksport har: testsvar, "
        "avbrutte og doble besvarelser og ulike skrivemåter. Fritekstsvarene er også genererte, og ingen "
        "av dem vises i boka."
    )


def disclosure_prose(ctx: Context) -> str:
    """What the gate hid in this edition (the rule itself: tillit.book.audit_report.rule_text)."""
    n = ctx.num
    log_path = ctx.output_dir / "disclosure_log.csv"
    n_log = tables_hit = 0
    if log_path.is_file():
        log = pd.read_csv(log_path, dtype=str)
        n_log, tables_hit = len(log), log["table_id"].nunique()
    return (
        "Hver tabell og figur går gjennom det samme prikkesteget, som følger regelen over. I denne "
        f"utgaven var {n.count(n_log)} {'celle' if n_log == 1 else 'celler'} i {n.count(tables_hit)} "
        f"{'tabell' if tables_hit == 1 else 'tabeller'} skjult da dette kapitlet ble laget, og hver "
        "skjuling er logget med årsak. Ingen svar fra enkeltpersoner og ingen fritekstsvar står i boka "
        "eller i tabellene som kan lastes ned."
    )


def ledger_section(ctx: Context, mode: str = "error", label: str = "tbl-regnskap") -> pd.DataFrame:
    """The reproduction ledger (rows id="ledger-<id>", through the disclosure gate): see Context.ledger."""
    return ctx.ledger(label, mode)


def codebook_table(ctx: Context, label: str = "tbl-kodebok") -> pd.DataFrame:
    """Every survey variable: question, scale, "Vet ikke" code, and the published figures
    (params/published.yml) that use it — derived, so the link lives in one place."""
    from tillit.stats import ledger

    cb = ctx.codebook
    uses: dict[str, list[str]] = {}
    for target in ledger.load_published()["targets"]:
        for var in _target_vars(target.get("compute", {}), cb):
            uses.setdefault(var, []).append(target["section"])
    rows = []
    for name, var in cb.items.items():
        scale = cb.scales[var.scale]
        asked = "alle" if set(var.asked_of) == set(cb.roles) else fmt.listing(
            [cb.roles[r].lower() for r in var.asked_of])
        rows.append({"Variabel": name, "Spørsmål": var.text, "Skala": " / ".join(scale.labels.values()),
                     "Vet ikke": str(scale.dont_know_code), "Stilt til": asked,
                     "Publiserte tall (kap.)": ", ".join(sorted(set(uses.get(name, [])))) or "–"})
    disp = pd.DataFrame(rows)
    ctx.table(disp, label, f"Kodeboken: de {ctx.num.count(len(disp))} spørsmålene i undersøkelsen "
              f"{ctx.num.fact('survey.year')}, skala, kode for «Vet ikke» og hvilke publiserte tall de inngår i")
    return disp


def _target_vars(compute: dict, cb) -> set[str]:
    """Variables a published target's computation reads (nested compare specs included)."""
    out: set[str] = set()
    if not isinstance(compute, dict):
        return out
    if compute.get("var") in cb.items:
        out.add(compute["var"])
    if compute.get("vars") == "factors":
        out.update(cb.factors)
    for key in ("a", "b"):
        sub = compute.get(key)
        for spec in (sub if isinstance(sub, list) else [sub]):
            out |= _target_vars(spec, cb)
    return out


# --- appendix A: Datagrunnlag og klargjøring (notebook 00_klargjoring) -----------------------
def sources_prose(ctx: Context, result) -> str:
    """What the book's data are, in words, and which edition this is."""
    n = ctx.num
    synthetic = result.data_source.get("kind") == "synthetic"
    kind = ("Alle dataene i denne utgaven er en syntetisk tvilling: genererte svar og registre som "
            "gjengir tallene rapporten publiserte, uten svar fra ekte personer." if synthetic else
            "Denne utgaven bygger på de reelle, konfidensielle kildedataene.")
    return (
        "Boka bygger på fire slags data. Det viktigste er svarene på spørreundersøkelsen til alle ansatte "
        f"i {n.fact('survey.year')}, som etter klargjøringen omfatter "
        f"{n.pub('antall_respondenter', fmt.num(result.n_respondents))} respondenter. Svarene fra kartleggingen "
        f"i {n.fact('survey.previous')} brukes bare i sammenligningen mellom årene i metodevedlegget. "
        f"Mål og føringer i MD-brevene for {n.fact('md_letters.year')} er kodet ett og ett, slik "
        "dokumentanalysen beskriver. Til slutt finnes registre fra innsiktsarbeidet – kommunene som ble "
        "spurt, intervjuene, samtalepakkene, storskalasamlingen, Erfaringsbasen og tilskuddsordningen – "
        f"som boka bare teller i. {kind}"
    )


def cleaning_prose(ctx: Context) -> str:
    """The preparation of the survey export, step by step, with the counts of this edition."""
    n = ctx.num
    flow = ctx.exclusion_flow()
    removed = flow.loc[flow["removed"] > 0]
    return (
        "Eksporten fra undersøkelsesverktøyet leses inn etter kodeboken: kolonnenavn og svaralternativer "
        "oversettes til kodebokens koder, og hver kolonne kontrolleres mot et skjema før noe regnes ut. "
        "En verdi som ikke passer, stopper klargjøringen med en melding om hvilken fil, rad og kolonne "
        f"det gjelder. Eksporten hadde {n.count(flow['remaining'].iloc[0])} besvarelser. Deretter brukes "
        f"reglene i tabellen under, i fast rekkefølge; {n.count(len(removed), word=True)} av dem fjerner "
        f"besvarelser, til sammen {n.count(int(flow['removed'].sum()))}. De andre fjerner ingen, men retter "
        "ulike skrivemåter av enhetstyper og roller, og setter svar på spørsmål som en rolle ikke fikk, til "
        f"manglende. Igjen står {n.pub('antall_respondenter', fmt.num(flow['remaining'].iloc[-1]))} "
        "respondenter, som er grunnlaget for alle tall fra undersøkelsen i boka. Tabellen inneholder bare "
        "antall, aldri enkeltsvar."
    )


def registers_prose(ctx: Context) -> str:
    """The registers' counts set against the facts the report states (they must agree; the
    reproduction ledger checks the same)."""
    from tillit.book.chapters.kunnskapsgrunnlag import registers_overview

    n = ctx.num
    f = registers_overview(ctx)
    return (
        "Registrene fra innsiktsarbeidet publiseres bare som antall. De skal stemme med det rapporten "
        f"oppgir: registeret over kommuner har {n.count(f['municipalities_asked'])} kommuner som ble spurt og "
        f"{n.count(f['municipalities_sent'])} som sendte dokumenter (rapporten: {n.fact('municipalities.asked')} "
        f"og {n.fact('municipalities.sent')}); intervjuregisteret har {n.count(f['interviews_deep'])} "
        f"dybdeintervjuer og {n.count(f['interviews_steering'])} intervjuer med styringsenheter (rapporten: "
        f"{n.fact('interviews.deep')} og {n.fact('interviews.steering')}), og storskalasamlingen har "
        f"{n.count(f['gathering'])} deltakere (rapporten: {n.fact('gathering.participants')}). "
        "Reproduksjonsregnskapet kontrollerer disse og de andre registertallene rapporten publiserte."
    )
