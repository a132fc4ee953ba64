"""The ordinal models as the book shows them: fitting the declared models on a chapter's data,
reader tables of odds ratios with intervals, predicted-probability figures and the Norwegian
reading of each model. Estimation and tests live in tillit.stats.ordinal (no plotting there)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scipy import stats

from tillit import fmt
from tillit.book.context import Context
from tillit.stats import ordinal
from tillit.stats.ordinal.design import codebook_or_none, level_label


@dataclass
class ModelSet:
    fits: dict
    lr: dict
    brant: dict


def fit_models(ctx: Context, names: tuple[str, ...] = ("trust", "mor_effect", "goal_types")) -> ModelSet:
    """Fit the chapter's main models, their likelihood-ratio comparisons and Brant tests."""
    spec = ordinal.load_models()
    df = ctx.survey()
    fits, lr, brant = {}, {}, {}
    for key, comp in spec.comparisons.items():
        if comp.full in names:
            test = ordinal.lr_test(comp.full, comp.restricted, df, models=spec, label=comp.label)
            lr[comp.full] = test
            fits[comp.full] = test.full_fit
    for name in names:
        if name not in fits:
            fits[name] = ordinal.fit_model(name, df)
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
    fit = models.fits[name]
    table = reader_table(fit)
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

    fit = models.fits[name]
    pp = ordinal.predicted_probabilities(fit, by)
    scale = ctx.codebook.scale_of(by)
    pp["etikett"] = pp["nivå"].map(lambda v: scale.short.get(int(v), str(v)) if str(v).isdigit() else str(v))
    fig, ax = plt.subplots(figsize=(9, 4.2))
    plot_predicted_probabilities(pp, ax=ax)
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
    return describe(models.fits[name], models.brant.get(name), models.lr.get(name))


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
    spec = ordinal.load_models()
    df = ctx.survey()
    main = ordinal.fit_model("trust", df)
    probit = ordinal.fit_model("trust_probit", df)
    ratio = (main.beta / probit.beta)[[c for c in main.beta.index if c in
                                      spec.get("trust").numeric]]
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
        "binære logiter ved hver terskel. Probit-lenken brukes som følsomhetsanalyse: forholdet mellom "
        f"logit- og probit-koeffisientene for styringserfaringene ligger mellom {fmt.num(ratio.min(), 2)} og "
        f"{fmt.num(ratio.max(), 2)}, nær den forventede skalaforskjellen på omtrent 1,6–1,8, så konklusjonene "
        "avhenger ikke av lenkefunksjonen.\n\n"
        "Begrensninger: dataene er ett tverrsnitt, og modellene viser sammenhenger, ikke effekter. Opplevd "
        "konkurranse og tillitshindringer kan begge påvirkes av en tredje faktor, og svarene er selvrapporterte. "
        "Modellen antar at avstanden mellom svarkategoriene er lik for alle grupper (via felles terskler)."
    )


def reader_table(fit, level: float = 0.95, decimals: int = 2) -> pd.DataFrame:
    """The reader's coefficient table: Norwegian labels, "1,23 (1,10–1,38)", p, a note for
    levels resting on few clusters, then the cut-points."""
    from tillit.stats import ordinal

    d = fit.design
    table = ordinal.odds_ratio_table(fit, level)
    zc = stats.norm.ppf(0.5 + level / 2)
    head = "Oddsforhold (95 % KI)" if fit.link == "logit" else "Probit-koeffisient (95 % KI)"
    out = []
    for _, r in table.iterrows():
        if r["del"] == "koeffisient":
            val = (format_or(r["or"], r["or_lav"], r["or_hoy"], decimals) if fit.link == "logit"
                   else fmt.estimate_ci(r["estimat"], r["estimat"] - zc * r["se"], r["estimat"] + zc * r["se"], decimals))
            few = (r["klynger"] is not None and not pd.isna(r["klynger"])
                   and r["variabel"] in d.references and r["klynger"] < ordinal.few_cluster_threshold())
            out.append({"Variabel": r["etikett"], "Referanse": "" if pd.isna(r["referanse"]) else r["referanse"], head: val,
                        "p": format_p(r["p"]),
                        "Merknad": f"bare {int(r['klynger'])} klynger: usikker standardfeil" if few else ""})
        else:
            out.append({"Variabel": f"Terskel {r['etikett']}", "Referanse": "",
                        head: fmt.estimate_ci(r["estimat"], r["or_lav"], r["or_hoy"], decimals), "p": "",
                        "Merknad": ""})
    return pd.DataFrame(out)


def format_or(or_: float, lo: float, hi: float, decimals: int = 2) -> str:
    """1.2345, 1.1, 1.38 → '1,23 (1,10–1,38)'."""
    return fmt.estimate_ci(or_, lo, hi, decimals)


def format_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return ""
    if p < 0.001:
        return "< 0,001"
    return fmt.num(p, 3)


def plot_predicted_probabilities(pp: pd.DataFrame, *, title: str | None = None, ax=None):
    """Dot-and-interval figure of :func:`predicted_probabilities`: one panel, answers on the
    x-axis, one colour per group, 95 % intervals as bars; Norwegian percent ticks."""
    import matplotlib.pyplot as plt

    from tillit.book.plots import QUALITATIVE as colors

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.2))
    groups = list(dict.fromkeys(pp["etikett"]))
    answers = list(dict.fromkeys(pp["svar"]))
    width = 0.8 / max(1, len(groups))
    for g_i, g in enumerate(groups):
        sub = pp[pp["etikett"] == g].set_index("svar").loc[answers]
        x = np.arange(len(answers)) - 0.4 + width * (g_i + 0.5)
        y = sub["sannsynlighet"].to_numpy()
        err = np.vstack([y - sub["ki_lav"].to_numpy(), sub["ki_hoy"].to_numpy() - y])
        ax.errorbar(x, y, yerr=err, fmt="o", capsize=3, label=str(g),
                    color=colors[g_i % len(colors)])
    ax.set_xticks(np.arange(len(answers)), answers, rotation=0)
    ax.yaxis.set_major_formatter(fmt.percent_formatter())
    ax.set_ylabel("Predikert andel")
    ax.set_ylim(0, min(1.0, float(pp["ki_hoy"].max()) * 1.1 + 0.02))
    ax.legend(title=None, frameon=False, fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def _share_change(or_: float) -> str:
    pct = (or_ - 1.0) * 100
    if round(abs(pct)) < 1:
        return "omtrent like høy"
    word = "høyere" if pct > 0 else "lavere"
    return f"{fmt.num(abs(pct), 0)}{fmt.NBSP}% {word}"


def _p_text(p: float) -> str:
    return f"p {format_p(p)}" if p < 0.001 else f"p = {format_p(p)}"


def describe(fit, brant=None, lrt=None,
             alpha: float = 0.05) -> str:
    """A short Norwegian reading of the model, every number computed from the fit.

    Numeric predictors: the odds ratio per step; categorical predictors: the joint Wald test
    and the levels furthest above and below the reference.
    """
    d = fit.design
    tab = ordinal.odds_ratio_table(fit)
    coef = tab[tab["del"] == "koeffisient"].set_index("kolonne")
    dk_out = int(d.counts.loc[d.counts["rolle"] == "utfall", "vet_ikke"].sum())
    parts = [
        f"Modellen «{d.spec.label}» bygger på {fmt.num(d.n_used)} {d.unit}"
        + (f" ({fmt.num(d.n_dropped)} utelatt på grunn av «Vet ikke» eller manglende svar, "
           f"herav {fmt.num(dk_out)} «Vet ikke» på utfallet)" if d.n_dropped else "") + "."
    ]
    pct = f"95{fmt.NBSP}%"
    clear, unclear = [], []
    for var, cols in d.terms.items():
        if var not in d.references:
            r = coef.loc[cols[0]]
            if fit.link == "logit":
                txt = (f"ett trinn høyere på «{r['etikett']}» henger sammen med {_share_change(r['or'])} odds "
                       f"for et høyere svar (OR {fmt.num(r['or'], 2)}; {pct} KI {fmt.interval(r['or_lav'], r['or_hoy'], 2)})")
            else:
                txt = (f"ett trinn høyere på «{r['etikett']}» flytter svarene "
                       f"{'opp' if r['estimat'] > 0 else 'ned'} (probit-koeffisient {fmt.signed(r['estimat'], 2)})")
            (clear if r["p"] < alpha else unclear).append(txt)
            continue
        w = ordinal.wald_term(fit, var)
        sub = coef.loc[cols]
        hi, lo = sub["estimat"].idxmax(), sub["estimat"].idxmin()
        ref_label = level_label(codebook_or_none(), var, d.references[var])
        name = d.term_labels.get(var, var).lower()
        txt = f"{name} ({_p_text(w['p'])} samlet)"
        if w["p"] < alpha and fit.link == "logit":
            bits = []
            if sub.loc[hi, "estimat"] > 0:
                bits.append(f"høyest for {d.level_labels[hi]} (OR {fmt.num(sub.loc[hi, 'or'], 2)})")
            if sub.loc[lo, "estimat"] < 0:
                bits.append(f"lavest for {d.level_labels[lo]} (OR {fmt.num(sub.loc[lo, 'or'], 2)})")
            txt += f": sammenlignet med {ref_label} er oddsen for et høyere svar " + " og ".join(bits)
        (clear if w["p"] < alpha else unclear).append(txt)
    if clear:
        parts.append("Når de andre variablene i modellen holdes fast, gjelder dette: " + "; ".join(clear) + ".")
    if unclear:
        parts.append(f"Usikre sammenhenger (ikke tydelige på {pct}-nivå): " + "; ".join(unclear) + ".")
    few = coef[coef["variabel"].isin(list(d.references)) & (coef["klynger"].fillna(np.inf) < ordinal.few_cluster_threshold())]
    if len(few):
        parts.append("Usikkerheten for " + fmt.listing([f"{d.level_labels[c]} ({int(k)} {'klynge' if k == 1 else 'klynger'})"
                                                         for c, k in few["klynger"].items()])
                     + " hviler på få klynger og er trolig undervurdert.")
    parts.append(f"McFaddens pseudo-R² er {fmt.num(fit.pseudo_r2, 3)}, og AIC er {fmt.num(fit.aic, 1)}.")
    if lrt is not None:
        parts.append(f"Likelihood-ratio-testen mot modellen «{lrt.restricted_fit.design.spec.label}» gir "
                     f"χ² = {fmt.num(lrt.statistic, 1)} med {lrt.df} frihetsgrader ({_p_text(lrt.p_value)}).")
    if brant is not None:
        if brant.holds and not brant.failed:
            parts.append(f"Brant-testen gir ikke grunn til å forkaste antakelsen om proporsjonale odds "
                         f"(χ² = {fmt.num(brant.overall['chi2'], 1)}, df = {brant.overall['df']}, "
                         f"{_p_text(brant.overall['p'])}).")
        else:
            failed = [d.term_labels.get(v, v).lower() for v in brant.failed]
            parts.append(f"Brant-testen tyder på at antakelsen om proporsjonale odds ikke holder "
                         f"(samlet {_p_text(brant.overall['p'])})"
                         + (f", særlig for {fmt.listing(failed)}" if failed else "")
                         + "; de terskelspesifikke estimatene viser hvor sammenhengen er sterkest.")
        if brant.untested:
            parts.append(f"Brant-testen kunne ikke teste {fmt.listing([d.term_labels.get(v, v).lower() for v in brant.untested])} "
                         "(for få svar i noen kategorier).")
    parts.append("Tallene beskriver sammenhenger i én tverrsnittsundersøkelse, ikke årsakseffekter.")
    return " ".join(parts)


