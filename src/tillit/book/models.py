"""The ordinal models as the book shows them: fitting the declared models on a chapter's data,
reader tables of odds ratios with intervals, predicted-probability figures and the Norwegian
reading of each model. Estimation and tests live in tillit.stats.ordinal (no plotting there)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillit import fmt
from tillit.book.context import Context


@dataclass
class ModelSet:
    fits: dict
    lr: dict
    brant: dict


def population_models(ctx: Context, df: pd.DataFrame):
    """params/models.yml for the edition's population (docs/editions.md): a population column
    (role, unit type, line) with one level in the edition leaves the models, and a reference
    level the edition lacks gives way to its largest level. The whole of NAV: unchanged."""
    from tillit.stats import ordinal

    spec = ordinal.load_models()
    if ctx.is_whole:
        return spec
    models = {}
    for name, m in spec.models.items():
        cats = {}
        for var, ref in m.categorical.items():
            if var not in ("role", "unit_type", "line") or var not in df.columns:
                cats[var] = ref
                continue
            present = df[var].astype("object").value_counts()
            present = present[present > 0]
            if len(present) > 1:
                cats[var] = ref if ref in present.index else str(present.idxmax())
        if not cats and not m.numeric:
            raise ordinal.OrdinalDataError(f"modell '{name}': ingen forklaringsvariabel varierer i utgaven "
                                           f"{ctx.edition.title}")
        models[name] = m.model_copy(update={"categorical": cats})
    return spec.model_copy(update={"models": models})


def fit_models(ctx: Context, names: tuple[str, ...] = ("trust", "mor_effect", "goal_types")) -> ModelSet:
    """Fit the chapter's main models, their likelihood-ratio comparisons and Brant tests."""
    from tillit.stats import ordinal

    df = ctx.survey()
    spec = population_models(ctx, df)
    fits, lr, brant = {}, {}, {}
    for key, comp in spec.comparisons.items():
        if comp.full in names:
            test = ordinal.lr_test(comp.full, comp.restricted, df, models=spec, label=comp.label)
            lr[comp.full] = test
            fits[comp.full] = test.full_fit
    for name in names:
        if name not in fits:
            fits[name] = ordinal.fit_model(name, df, models=spec)
        _check_levels(ctx, fits[name])
        brant[name] = ordinal.brant_test(fits[name])
    return ModelSet(fits, lr, brant)


def _check_levels(ctx: Context, fit) -> None:
    """Every category a model reports on must rest on at least min_cell respondents."""
    from tillit.stats.disclosure import DisclosureError

    d = fit.design
    for var in d.references:
        for col in d.terms[var]:
            n = int(d.X[col].sum())
            if n < ctx.min_cell:
                raise DisclosureError(
                    f"modell '{d.model}': nivået {d.level_labels.get(col, col)} av '{var}' bygger på {n} "
                    f"{d.unit} (< min_cell = {ctx.min_cell}); slå sammen nivåer i params/models.yml")


def model_table(ctx: Context, models: ModelSet, name: str, label: str) -> pd.DataFrame:
    from tillit.stats import ordinal

    fit = models.fits[name]
    table = ordinal.odds_ratio_table(fit, formatted=True)
    raw = ordinal.odds_ratio_table(fit)
    s = fit.summary_stats()
    conv = "konvergert" if s["konvergert"] else "IKKE konvergert"
    note = (f"n = {fmt.num(s['n_brukt'])} ({fmt.num(s['n_utelatt'])} utelatt); {fmt.num(s['n_klynger'] or 0)} klynger; "
            f"McFaddens pseudo-R² {fmt.num(s['mcfadden_r2'], 3)}; AIC {fmt.num(s['aic'], 1)}; {conv} etter "
            f"{s['iterasjoner']} Newton-steg (største gradient {fmt.num(s['maks_gradient'] * 1e6, 2)}·10⁻⁶). "
            f"Standardfeil robuste for klynger ({fit.design.spec.cluster}). Terskler på den latente skalaen.")
    ctx.table(table, label, f"{fit.design.spec.label}: ordinal logistisk regresjon, oddsforhold med 95 % "
              f"konfidensintervall ({fmt.n(s['n_brukt'])})", csv_df=raw.drop(columns=["kolonne"]), note=note)
    return table


def model_prediction_figure(ctx: Context, models: ModelSet, name: str, by: str, label: str):
    import matplotlib.pyplot as plt

    from tillit.stats import ordinal

    fit = models.fits[name]
    pp = ordinal.predicted_probabilities(fit, by)
    scale = ctx.codebook.scale_of(by)
    pp["etikett"] = pp["nivå"].map(lambda v: scale.short.get(int(v), str(v)) if str(v).isdigit() else str(v))
    fig, ax = plt.subplots(figsize=(9, 4.2))
    ordinal.plot_predicted_probabilities(pp, ax=ax)
    ax.legend(title=ctx.codebook.items[by].raw, frameon=False, fontsize="small", loc="upper right")
    fig.tight_layout()
    first, last = pp["etikett"].iloc[0], pp["etikett"].iloc[-1]
    top = pp["svar"].iloc[-1]
    p_first = pp[(pp["etikett"] == first) & (pp["svar"] == top)]["sannsynlighet"].iloc[0]
    p_last = pp[(pp["etikett"] == last) & (pp["svar"] == top)]["sannsynlighet"].iloc[0]
    alt = (f"Predikerte sannsynligheter for hvert svar på «{fit.design.outcome_label}» for ulike nivåer av "
           f"«{ctx.codebook.items[by].raw}». Sannsynligheten for «{top}» går fra {fmt.pct(p_first)} ved "
           f"«{first}» til {fmt.pct(p_last)} ved «{last}».")
    ctx.figure(fig, label, f"Predikert fordeling av svarene etter opplevd konkurranse, med 95 % intervaller "
               f"(modellen «{fit.design.spec.label}», {fmt.n(fit.design.n_used)})", alt,
               data=pp.drop(columns=["se"]).rename(columns=str))
    return pp


def model_prose(models: ModelSet, name: str) -> str:
    from tillit.stats import ordinal

    return ordinal.describe(models.fits[name], models.brant.get(name), models.lr.get(name))


def goal_model_section(ctx: Context, models: ModelSet) -> None:
    model_table(ctx, models, "goal_types", "tbl-modell-maltyper")
    ctx.prose(model_prose(models, "goal_types"))
    brant = models.brant["goal_types"]
    if not brant.holds or brant.failed:
        cut = brant.cut_estimates
        cut = cut[cut["kolonne"].str.startswith("goal_type")]
        if len(cut):
            disp = pd.DataFrame({
                "Deling": cut["deling"], "Oddsforhold (95 % KI)": [
                    fmt.estimate_ci(o, lo, hi) for o, lo, hi in zip(cut["or"], cut["or_lav"], cut["or_hoy"])],
                "Felles oddsforhold": [fmt.num(np.exp(v), 2) for v in cut["po_estimat"]],
            })
            ctx.table(disp, "tbl-modell-maltyper-terskler",
                      "Kvalitative mot kvantitative mål: oddsforhold ved hver terskel (separate binære logiter)",
                      csv_df=cut.rename(columns=str))


def ordinal_method_prose(ctx: Context) -> str:
    from tillit.stats import ordinal

    df = ctx.survey()
    try:
        spec = population_models(ctx, df)
        main = ordinal.fit_model("trust", df, models=spec)
        probit = ordinal.fit_model("trust_probit", df, models=spec)
        ratio = (main.beta / probit.beta)[[c for c in main.beta.index if c in spec.get("trust").numeric]]
        sensitivity = (
            "Probit-lenken brukes som følsomhetsanalyse: forholdet mellom "
            f"logit- og probit-koeffisientene for styringserfaringene ligger mellom {fmt.num(ratio.min(), 2)} og "
            f"{fmt.num(ratio.max(), 2)}, nær den forventede skalaforskjellen på omtrent 1,6–1,8, så konklusjonene "
            "avhenger ikke av lenkefunksjonen.")
    except ordinal.OrdinalError:
        if ctx.is_whole:
            raise
        spec = ordinal.load_models()
        sensitivity = ("Probit-lenken brukes som følsomhetsanalyse. For utgaven "
                       f"{ctx.edition.title} kan modellene ikke estimeres; sammenligningen står i hovedboka.")
    return (
        "Modellene er kumulative logit-modeller med proporsjonale odds: sannsynligheten for å svare i "
        "kategori j eller lavere er F(c_j − xβ), der F er den logistiske fordelingen, c_1 < … < c_4 er "
        "terskler og x er forklaringsvariablene (rolle og enhetstype som dummyer, erfaringene med styringen "
        "som skårer 1–5). Modellen har ikke konstantledd; tersklene tar den rollen. Modellene er deklarert i "
        f"`params/models.yml` ({fmt.num(len(spec.models))} modeller, {fmt.num(len(spec.comparisons))} "
        "sammenligninger) og estimeres med statsmodels' OrderedModel med eksakt gradient og Hessian, til største "
        "absolutte gradient er under 10⁻⁶. Standardfeilene er robuste for klynger (enhet, og respondent i "
        "langformatmodellen for måltyper). Svaret «Vet ikke» og manglende svar holdes utenfor og telles.\n\n"
        "Antakelsen om proporsjonale odds testes med Brants test, som sammenligner estimatene fra separate "
        f"binære logiter ved hver terskel. {sensitivity}\n\n"
        "Begrensninger: dataene er ett tverrsnitt, og modellene viser sammenhenger, ikke effekter. Opplevd "
        "konkurranse og tillitshindringer kan begge påvirkes av en tredje faktor, og svarene er selvrapporterte. "
        "Modellen antar at avstanden mellom svarkategoriene er lik for alle grupper (via felles terskler)."
    )
