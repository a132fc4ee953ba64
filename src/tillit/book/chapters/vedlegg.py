"""Kapittel 6 Vedlegg og kompendiets egne tillegg: referanser, metode, personvern, regnskapet og kodeboken."""
from __future__ import annotations

import pandas as pd
from tillit import fmt
from tillit.book import plots
from tillit.stats import tables
from tillit.book.context import Context
from tillit.book.chapters.shared import HIGH, gated_share_rows, report_facts


def references(ctx: Context, label: str = "tbl-referanser") -> pd.DataFrame:
    refs = report_facts()["references"]
    titles = {"kompetanse": "Lokal tjenesteutøvelse – kompetanse", "innovasjon": "Lokal tjenesteutvikling – innovasjon",
              "styring": "Mål- og resultatstyring"}
    rows = [{"Tema": titles.get(k, k), "Referanse": r} for k, lst in refs.items() for r in lst]
    disp = pd.DataFrame(rows)
    ctx.table(disp, label, f"Referanser ({fmt.num(len(disp))})")
    return disp


# --- appendix ------------------------------------------------------------------------------
def compare_2017(ctx: Context, label: str = "fig-2017-2023") -> pd.DataFrame:
    """The items asked in both years: share in the top two categories, 2017 vs 2023.

    The 2017 microdata are not public; in the synthetic twin they are generated from documented
    assumptions (params/synthetic.yml), and the caption says so.
    """
    cb = ctx.codebook
    rows = []
    for year in (2017, 2023):
        df = ctx.survey(year)
        for item in cb.items_2017:
            res = tables.share(df, item, HIGH)
            rows.append({"year": str(year), "item": item, "label": cb.items[item].label,
                         **res.iloc[0][["k", "n", "share", "lo", "hi"]].to_dict()})
    long = pd.DataFrame(rows)
    gated = gated_share_rows(ctx, f"{ctx.name}/{label}", long.assign(row=long["year"] + " " + long["item"]),
                              ["row"]).merge(long[["year", "label"]].assign(row=long["year"] + " " + long["item"]),
                                             on="row")
    assumed = ctx.is_synthetic
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
    from tillit.config import params_yaml

    flow = ctx.exclusion_flow()
    src = ctx.data_source
    base = (f"Spørreundersøkelsen ble eksportert med {fmt.num(flow['remaining'].iloc[0])} rader. Rensingen "
            f"fjerner testsvar, avbrutte besvarelser og doble innsendinger etter faste regler i rekkefølge "
            f"(se @tbl-rensing i kapittel 3), og retter ulike skrivemåter av enhetstyper og roller etter "
            f"kodeboken. Igjen står {fmt.num(flow['remaining'].iloc[-1])} respondenter. Svaret «Vet ikke» "
            f"holdes utenfor gjennomsnitt og modeller, men telles og vises i figurene, og andeler regnes av "
            f"alle svar med «Vet ikke» i nevneren når ikke annet er sagt.")
    if not ctx.is_synthetic:
        return base + " Dataene er den reelle eksporten, lest inn etter kodeboken og `params/mapping.yml`."
    model = params_yaml("synthetic.yml")
    truth = model["outcomes"]["trust_hindrance"]["predictors"]
    coefs = fmt.listing([f"{ctx.codebook.items[k].raw.lower()} {fmt.signed(v, 2)}" for k, v in truth.items()])
    return base + (
        f"\n\nDenne utgaven bruker en syntetisk tvilling (generatorversjon {src.get('generator_version', '?')}, frø "
        f"{src.get('seed', '?')}). Svarene trekkes fra en latent variabel-modell med tilfeldige effekter for "
        f"hver enhet (standardavvik {fmt.num(model['outcomes']['trust_hindrance']['unit_sd'], 2)} på log-odds-skalaen), "
        f"effekter av rolle og enhetstype og eksplisitte koeffisienter fra erfaringer med styringen til "
        f"utfallene. For opplevde tillitshindringer er de sanne log-odds-koeffisientene per skalatrinn: "
        f"{coefs}. Deretter kalibreres utvalget eksakt til rapportens publiserte tall ved å flytte de "
        f"færreste respondentene nærmest skjæringspunktene, slik at modellens sammenhenger nesten ikke "
        f"påvirkes. Tvillingen har også det rot en ekte eksport har: testsvar, avbrutte og doble "
        f"besvarelser og ulike skrivemåter. Fritekstsvarene er genererte og forlater aldri `data/`."
    )


def disclosure_prose(ctx: Context) -> str:
    log_path = ctx.output_dir / "disclosure_log.csv"
    n_log = 0
    tables_hit = 0
    if log_path.is_file():
        log = pd.read_csv(log_path, dtype=str)
        n_log, tables_hit = len(log), log["table_id"].nunique()
    return (
        f"Hver tabell og figur passerer ett og samme prikkesteg. En celle som bygger på færre enn "
        f"{fmt.num(ctx.min_cell)} respondenter, vises ikke (markert med –*), og andeler og gjennomsnitt for en "
        f"så liten gruppe skjules også. Der en publisert sum ellers ville gjøre det mulig å regne ut en skjult "
        f"celle, skjules også den nest minste cellen i samme rad eller kolonne. Minstegrensen settes med "
        f"parameteren `min_cell` (streng modus hever den til minst 10). Ved bygging av denne utgaven var "
        f"{fmt.num(n_log)} {'celle' if n_log == 1 else 'celler'} i {fmt.num(tables_hit)} "
        f"{'tabell' if tables_hit == 1 else 'tabeller'} skjult så langt; hver skjuling er logget "
        f"med årsak i `outputs/disclosure_log.csv`. Ingen rader på respondentnivå og ingen fritekstsvar "
        f"skrives til utdataene."
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
    ctx.table(disp, label, f"Kodeboken: de {fmt.num(len(disp))} spørsmålene i undersøkelsen 2023, skala, "
              "kode for «Vet ikke» og hvilke publiserte tall de inngår i")
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
