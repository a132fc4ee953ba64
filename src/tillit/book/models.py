"""The ordinal models as the book shows them: fitting the declared models on a chapter's data,
reader tables of odds ratios with their intervals (and which method each interval comes
from), the cut-point-specific effects where proportional odds fails, predicted-probability
figures, and the Norwegian reading of each model. Estimation and tests live in
tillit.stats.ordinal (no plotting or prose there).

Every number in prose goes through ``ctx.num`` (model-only numbers via ``ctx.num.model``);
tables carry plain Norwegian-formatted strings.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tillit import fmt
from tillit.book.context import Context
from tillit.book.numbers import span
from tillit.stats import ordinal
from tillit.stats.ordinal.design import codebook_or_none, level_label

NB = fmt.NBSP
SETTING_TITLE = "Innstilling i metoden (params/models.yml), ikke et tall fra dataene"
PCT95 = f"95{NB}%"  # the intervals' level: a confidence level, not a number to quote


@dataclass
class ModelSet:
    """The chapter's fitted models, with their tests, on one context."""

    ctx: Context
    fits: dict
    lr: dict
    brant: dict
    partial: dict = field(default_factory=dict)     # name -> PartialPOFit where PO fails
    notes: dict = field(default_factory=dict)       # name -> why no partial model could be fitted


def _spec():
    return ordinal.load_models()


def population_models(ctx: Context, df: pd.DataFrame):
    """params/models.yml for the edition's population (docs/editions.md): a population column
    (role, unit type, line) with one level in the edition leaves the models, and a reference
    level the edition lacks gives way to its largest level. The whole of NAV: unchanged."""
    spec = _spec()
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
    """Fit the chapter's main models, their likelihood-ratio comparisons and Brant tests, and
    a partial proportional-odds model for every model where Brant rejects for some predictor."""
    df = ctx.survey()
    spec = population_models(ctx, df)
    fits, lr, brant = {}, {}, {}
    for comp in spec.comparisons.values():
        if comp.full in names:
            test = ordinal.lr_test(comp.full, comp.restricted, df, models=spec, label=comp.label)
            lr[comp.full] = test
            fits[comp.full] = test.full_fit
    out = ModelSet(ctx, fits, lr, brant)
    for name in names:
        if name not in fits:
            fits[name] = ordinal.fit_model(name, df, models=spec)
        _check_levels(ctx, fits[name])
        brant[name] = ordinal.brant_test(fits[name], alpha=spec.inference.po_alpha)
        failed = brant[name].failed
        if failed:
            try:
                out.partial[name] = ordinal.fit_partial_po(fits[name], failed)
            except ordinal.OrdinalError as exc:  # said in the prose, never hidden
                warnings.warn(str(exc), ordinal.OrdinalWarning, stacklevel=2)
                out.notes[name] = str(exc)
    return out


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


# -- small formatting helpers ----------------------------------------------------------------


def format_or(or_: float, lo: float, hi: float, decimals: int = 2) -> str:
    """1.2345, 1.1, 1.38 → '1,23 (1,10–1,38)'."""
    return fmt.estimate_ci(or_, lo, hi, decimals)


def format_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return ""
    if p < 0.001:
        return f"<{NB}0,001"
    return fmt.num(p, 3)


def interval_text(lo: float, hi: float, decimals: int = 2) -> str:
    """'−3,49 til −2,73', with no-break spaces so an interval never wraps."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "ubegrenset"
    return f"{fmt.signed(lo, decimals)}{NB}til{NB}{fmt.signed(hi, decimals)}"


def _p_text(num, p: float) -> str:
    return f"p{NB}{num.model(format_p(p))}" if p < 0.001 else f"p{NB}={NB}{num.model(format_p(p))}"


def _df_text(num, df: int) -> str:
    return f"{num.count(df)}{NB}{'frihetsgrad' if df == 1 else 'frihetsgrader'}"


def _setting(value) -> str:
    """A method setting (params/models.yml), not a number from the data."""
    return span(fmt.num(value), "data", title=SETTING_TITLE)


def _words() -> ordinal.ReaderWords:
    return _spec().words


def level_word(var: str, level: str) -> str:
    """A level as a group in running text: 'medarbeidere', 'NAV-kontor', 'kvalitative mål'."""
    word = _words().levels.get(var, {}).get(level)
    return word if word else level_label(codebook_or_none(), var, level)


def cluster_words(cluster: str | None) -> tuple[str, str]:
    return _words().clusters.get(cluster or "", ("klynge", "klynger"))


def _method_label(r, cluster: str | None) -> str:
    if r["metode"] != ordinal.METHOD_FEW:
        return "klyngerobust"
    return f"få {cluster_words(cluster)[1]} ({fmt.num(r['klynger'])})"


# -- tables -------------------------------------------------------------------------------------
# A model's odds-ratio table (CR2 intervals: eigen-decompositions per cluster) is read by its
# reader table, its download and its prose; computed once per fit and level, copied per caller.
_OR_TABLES: dict[tuple[int, float], tuple[object, pd.DataFrame]] = {}


def _odds_ratio_table(fit, level: float = 0.95) -> pd.DataFrame:
    key = (id(fit), float(level))
    hit = _OR_TABLES.get(key)
    if hit is None or hit[0] is not fit:
        while len(_OR_TABLES) >= 16:  # a chapter has a handful of models; tests fit many
            _OR_TABLES.pop(next(iter(_OR_TABLES)))
        hit = _OR_TABLES[key] = (fit, ordinal.odds_ratio_table(fit, level))
    return hit[1].copy()



def reader_table(fit, level: float = 0.95, decimals: int = 2) -> pd.DataFrame:
    """The reader's coefficient table: Norwegian labels, "1,23 (1,10–1,38)", p, and which
    kind of interval each row has ("klyngerobust" or "få enheter (n)"), then the cut-points."""
    d = fit.design
    table = _odds_ratio_table(fit, level)
    head = "Oddsforhold (95 % KI)" if fit.link == "logit" else "Probit-koeffisient (95 % KI)"
    out = []
    for _, r in table.iterrows():
        if r["del"] == "koeffisient":
            val = (format_or(r["or"], r["or_lav"], r["or_hoy"], decimals) if fit.link == "logit"
                   else fmt.estimate_ci(r["estimat"], r["ki_lav"], r["ki_hoy"], decimals))
            out.append({"Variabel": r["etikett"], "Referanse": "" if pd.isna(r["referanse"]) else r["referanse"],
                        head: val, "p": format_p(r["p"]), "Intervall": _method_label(r, d.spec.cluster)})
        else:
            # cut-points can be negative: "−0,49 (−0,86 til −0,12)", never "−0,86–−0,12"
            out.append({"Variabel": f"Terskel {r['etikett']}", "Referanse": "",
                        head: f"{fmt.signed(r['estimat'], decimals)} ({interval_text(r['or_lav'], r['or_hoy'], decimals)})",
                        "p": "", "Intervall": ""})
    return pd.DataFrame(out)


def _table_note(num, fit) -> str:
    """The note under a coefficient table; its numbers carry their kind like prose."""
    s = fit.summary_stats()
    d = fit.design
    one, many = cluster_words(d.spec.cluster)
    conv = "konvergert" if s["konvergert"] else "IKKE konvergert"
    return (f"n = {num.count(s['n_brukt'])} ({num.count(s['n_utelatt'])} utelatt); "
            f"{num.count(s['n_klynger'] or 0)} {many}; McFaddens pseudo-R² {num.model(fmt.num(s['mcfadden_r2'], 3))}; "
            f"AIC {num.model(fmt.num(s['aic'], 1))}; {conv}. «Klyngerobust»: {PCT95} KI fra klyngerobuste "
            f"standardfeil (per {one}) og normalfordelingen. «Få {many} (k)»: koeffisienten bygger på færre enn "
            f"{_setting(ordinal.few_cluster_threshold())} {many}; intervallet og p er CR2-korrigert med "
            "referansefordeling for få klynger (se metodevedlegget). Tersklene er på den latente skalaen.")


def model_table(ctx: Context, models: ModelSet, name: str, label: str) -> pd.DataFrame:
    """The model's coefficient table, and after it the cut-point-specific effects if
    proportional odds fails for some predictor (label ``<label>-terskler``)."""
    fit = models.fits[name]
    table = reader_table(fit)
    raw = _odds_ratio_table(fit)
    kind = "ordinal logistisk regresjon, oddsforhold" if fit.link == "logit" else "ordinal probit-regresjon"
    ctx.table(table, label, f"{fit.design.spec.label}: {kind} med 95 % konfidensintervall "
              f"({fmt.n(fit.design.n_used)})", csv_df=raw.drop(columns=["kolonne"]), note=_table_note(ctx.num, fit))
    if name in models.partial:
        partial_table(ctx, models, name, f"{label}-terskler")
    return table


def partial_table(ctx: Context, models: ModelSet, name: str, label: str) -> pd.DataFrame:
    """Cut-point-specific odds ratios (partial proportional odds) of the predictors that
    fail the proportional-odds test, next to the common odds ratio."""
    ppo = models.partial[name]
    d = ppo.design
    eff = ppo.effects()
    order = {c: i for i, c in enumerate(ppo.nominal_cols)}  # grouped by variable, then cut-point
    eff = eff.sort_values(["kolonne", "terskel"], key=lambda s: s.map(order) if s.name == "kolonne" else s,
                          kind="stable").reset_index(drop=True)
    col_var = {c: v for v, cols in d.terms.items() for c in cols}
    labels = [d.term_labels.get(col_var[c], col_var[c]) if col_var[c] not in d.references
              else f"{d.term_labels.get(col_var[c], col_var[c])}: {d.level_labels[c]}" for c in eff["kolonne"]]
    disp = pd.DataFrame({
        "Variabel": labels, "Deling": eff["deling"],
        "Oddsforhold (95 % KI)": [format_or(np.exp(e), np.exp(lo), np.exp(hi))
                                  for e, lo, hi in zip(eff["estimat"], eff["ki_lav"], eff["ki_hoy"])],
        "Felles oddsforhold": [fmt.num(np.exp(v), 2) for v in eff["po_estimat"]],
    })
    lr = ppo.lr_test()
    names = fmt.listing([ppo.design.term_labels.get(v, v).lower() for v in ppo.nominal])
    num = ctx.num
    note = (f"Partielle proporsjonale odds: {names} får ett oddsforhold per terskel (oddsen for å svare "
            f"over terskelen), de andre variablene ett felles. LR-test mot modellen med felles oddsforhold: "
            f"χ²{NB}={NB}{num.model(fmt.num(lr['chi2'], 1))} med {_df_text(num, lr['df'])}, {_p_text(num, lr['p'])}. "
            f"{PCT95} KI fra klyngerobuste standardfeil.")
    ctx.table(disp, label, f"{ppo.design.spec.label}: oddsforhold ved hver terskel for variabler der "
              "antakelsen om proporsjonale odds ikke holder", csv_df=eff.rename(columns=str), note=note)
    return disp


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
    by_label = fit.design.term_labels.get(by, by).lower()
    alt = (f"Predikerte sannsynligheter for hvert svar på «{fit.design.outcome_label}» for ulike nivåer av "
           f"«{ctx.codebook.items[by].raw}». Sannsynligheten for «{top}» går fra {fmt.pct(p_first)} ved "
           f"«{first}» til {fmt.pct(p_last)} ved «{last}».")
    ctx.figure(fig, label, f"Predikert fordeling av svarene etter {by_label}, med 95 % intervaller "
               f"(modellen «{fit.design.spec.label}», {fmt.n(fit.design.n_used)})", alt,
               data=pp.drop(columns=["se"]).rename(columns=str))
    return pp


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
        ax.errorbar(x, y, yerr=err, fmt="o", capsize=3, label=str(g), color=colors[g_i % len(colors)])
    ax.set_xticks(np.arange(len(answers)), answers, rotation=0)
    ax.yaxis.set_major_formatter(fmt.percent_formatter())
    ax.set_ylabel("Predikert andel")
    ax.set_ylim(0, min(1.0, float(pp["ki_hoy"].max()) * 1.1 + 0.02))
    ax.legend(title=None, frameon=False, fontsize="small")
    if title:
        ax.set_title(title)
    return ax


# -- prose --------------------------------------------------------------------------------------


def regression_intro(ctx: Context) -> str:
    """The first words of the regression section: on the twin the associations are the
    generator's, so the models illustrate the method and say nothing about NAV."""
    if ctx.is_synthetic:
        return ("**Merk:** Denne utgaven bygger på syntetiske data. I dem er sammenhengene mellom "
                "styringserfaringene, tillit og handlingsrom nøyaktig de som den datagenererende modellen "
                "ble gitt. Regresjonene nedenfor viser derfor hvordan metoden virker og hvor presist den "
                "finner igjen kjente sammenhenger, men de sier ingenting om forholdene i NAV. Med den "
                "reelle eksporten gir de samme beregningene de faktiske sammenhengene.")
    return ("Regresjonene nedenfor beskriver sammenhenger i én tverrsnittsundersøkelse når rolle og "
            "enhetstype holdes fast; de er ikke årsakseffekter.")


def _share_change(num, or_: float) -> str:
    pct = (or_ - 1.0) * 100
    if round(abs(pct)) < 1:
        return "omtrent like høy"
    return f"{num.model(fmt.pct(abs(pct) / 100))} {'høyere' if pct > 0 else 'lavere'}"


def _or_text(num, r) -> str:
    return f"OR {num.model(fmt.num(r['or'], 2))}; {PCT95} KI {num.model(interval_text(r['or_lav'], r['or_hoy']))}"


def _numeric_text(num, fit, r) -> str:
    if fit.link == "logit":
        return (f"ett trinn høyere på «{r['etikett']}» henger sammen med {_share_change(num, r['or'])} odds "
                f"for et høyere svar ({_or_text(num, r)})")
    return (f"ett trinn høyere på «{r['etikett']}» flytter svarene {'opp' if r['estimat'] > 0 else 'ned'} "
            f"(probit-koeffisient {num.model(fmt.signed(r['estimat'], 2))})")


def _categorical_text(num, fit, var: str, sub: pd.DataFrame, alpha: float) -> tuple[str, bool]:
    """(text, clear). A predictor with few-cluster levels is read level by level from the
    intervals the table shows; the others by the joint Wald test and their extreme levels."""
    d = fit.design
    name = d.term_labels.get(var, var).lower()
    ref = level_word(var, d.references[var])
    lev = {c: level_word(var, c[len(var) + 1:-1]) for c in sub.index}
    if (sub["metode"] == ordinal.METHOD_FEW).any():
        clear = sub[(sub["p"] < alpha)]
        if not len(clear):
            return (f"{name}: med intervaller som tar hensyn til at hvert nivå bygger på få "
                    f"{cluster_words(d.spec.cluster)[1]}, skiller ingen seg tydelig fra {ref}"), False
        bits = [f"{lev[c]} ({_or_text(num, r)})" for c, r in clear.iterrows()]
        return f"{name}: sammenlignet med {ref} skiller {fmt.listing(bits)} seg ut", True
    w = ordinal.wald_term(fit, var)
    txt = f"{name} ({_p_text(num, w['p'])} samlet)"
    if w["p"] < alpha and fit.link == "logit":
        hi, lo = sub["estimat"].idxmax(), sub["estimat"].idxmin()
        bits = []
        if sub.loc[hi, "estimat"] > 0:
            bits.append(f"høyest for {lev[hi]} (OR {num.model(fmt.num(sub.loc[hi, 'or'], 2))})")
        if sub.loc[lo, "estimat"] < 0:
            bits.append(f"lavest for {lev[lo]} (OR {num.model(fmt.num(sub.loc[lo, 'or'], 2))})")
        if bits:
            txt += f": sammenlignet med {ref} er oddsen for et høyere svar " + " og ".join(bits)
    return txt, w["p"] < alpha


def _few_cluster_text(num, fit, coef: pd.DataFrame) -> str:
    few = coef[coef["metode"] == ordinal.METHOD_FEW]
    if not len(few):
        return ""
    many = cluster_words(fit.design.spec.cluster)[1]
    k = few["klynger"].astype(int)
    span_txt = num.count(k.min()) if k.min() == k.max() else f"{num.count(k.min())}–{num.count(k.max())}"
    return (f"Koeffisientene for {fmt.listing(sorted({fit.design.term_labels.get(v, v).lower() for v in few['variabel']}))} "
            f"bygger på {span_txt} {many} hver. Vanlige klyngerobuste intervaller blir da for smale, så "
            f"intervallene og p-verdiene for dem er CR2-korrigerte med en referansefordeling for få klynger "
            f"(færre enn {_setting(ordinal.few_cluster_threshold())} {many}; se metodevedlegget).")


def _brant_text(num, fit, brant, ppo, why_not: str | None) -> list[str]:
    d = fit.design
    out = []
    if brant.holds and not brant.failed:
        out.append(f"Brant-testen gir ikke grunn til å forkaste antakelsen om proporsjonale odds "
                   f"(χ²{NB}={NB}{num.model(fmt.num(brant.overall['chi2'], 1))}, {_df_text(num, brant.overall['df'])}, "
                   f"{_p_text(num, brant.overall['p'])}).")
    else:
        failed = [d.term_labels.get(v, v).lower() for v in brant.failed]
        out.append(f"Brant-testen tyder på at antakelsen om proporsjonale odds ikke holder "
                   f"(samlet {_p_text(num, brant.overall['p'])})" + (f", særlig for {fmt.listing(failed)}" if failed else "")
                   + ".")
        if ppo is not None:
            lr = ppo.lr_test()
            out.append(f"En modell der {fmt.listing(failed)} får et eget oddsforhold ved hver terskel (partielle "
                       f"proporsjonale odds), passer {'bedre' if lr['p'] < 0.05 else 'ikke tydelig bedre'} enn "
                       f"modellen med felles oddsforhold (LR-test χ²{NB}={NB}{num.model(fmt.num(lr['chi2'], 1))} med "
                       f"{_df_text(num, lr['df'])}, {_p_text(num, lr['p'])}); tabellen over de terskelspesifikke "
                       "oddsforholdene viser hvor sammenhengen er sterkest.")
        elif why_not:
            out.append("En modell med terskelspesifikke effekter kunne ikke estimeres for disse dataene.")
    if brant.untested:
        out.append(f"Brant-testen kunne ikke teste {fmt.listing([d.term_labels.get(v, v).lower() for v in brant.untested])} "
                   "(for få svar i noen kategorier).")
    return out


def describe(ctx: Context, fit, brant=None, lrt=None, ppo=None, alpha: float = 0.05, why_not: str | None = None) -> str:
    """A short Norwegian reading of the model; every number computed from the fit and wrapped
    by ``ctx.num`` (model-only on the twin)."""
    num = ctx.num
    d = fit.design
    tab = _odds_ratio_table(fit)
    coef = tab[tab["del"] == "koeffisient"].set_index("kolonne")
    dk_out = int(d.counts.loc[d.counts["rolle"] == "utfall", "vet_ikke"].sum())
    parts = [f"Modellen «{d.spec.label}» bygger på {num.count(d.n_used)} {d.unit}"
             + (f" ({num.count(d.n_dropped)} utelatt på grunn av «Vet ikke» eller manglende svar, "
                f"herav {num.count(dk_out)} «Vet ikke» på utfallet)" if d.n_dropped else "") + "."]
    clear, unclear = [], []
    for var, cols in d.terms.items():
        if var in d.references:
            txt, is_clear = _categorical_text(num, fit, var, coef.loc[cols], alpha)
        else:
            r = coef.loc[cols[0]]
            txt, is_clear = _numeric_text(num, fit, r), r["p"] < alpha
        (clear if is_clear else unclear).append(txt)
    if clear:
        parts.append("Når de andre variablene i modellen holdes fast, gjelder dette: " + "; ".join(clear) + ".")
    if unclear:
        parts.append(f"Usikre sammenhenger (ikke tydelige på {PCT95}-nivå): " + "; ".join(unclear) + ".")
    few = _few_cluster_text(num, fit, coef)
    if few:
        parts.append(few)
    parts.append(f"McFaddens pseudo-R² er {num.model(fmt.num(fit.pseudo_r2, 3))}, og AIC er "
                 f"{num.model(fmt.num(fit.aic, 1))}.")
    if lrt is not None:
        parts.append(f"Likelihood-ratio-testen mot modellen «{lrt.restricted_fit.design.spec.label}» gir "
                     f"χ²{NB}={NB}{num.model(fmt.num(lrt.statistic, 1))} med {_df_text(num, lrt.df)} "
                     f"({_p_text(num, lrt.p_value)}).")
    if brant is not None:
        parts += _brant_text(num, fit, brant, ppo, why_not)
    parts.append("Tallene beskriver sammenhenger i én tverrsnittsundersøkelse, ikke årsakseffekter.")
    return " ".join(parts)


def model_prose(models: ModelSet, name: str) -> str:
    return describe(models.ctx, models.fits[name], models.brant.get(name), models.lr.get(name),
                    models.partial.get(name), why_not=models.notes.get(name))


def goal_model_section(ctx: Context, models: ModelSet) -> None:
    """The long goal-type model: its table (with the cut-point-specific effects where PO
    fails) and its reading."""
    model_table(ctx, models, "goal_types", "tbl-modell-maltyper")
    ctx.prose(model_prose(models, "goal_types"))


def ordinal_method_prose(ctx: Context) -> str:
    """The methods appendix's account of the models and of how their intervals are made."""
    num = ctx.num
    df = ctx.survey()
    try:
        spec = population_models(ctx, df)
        main = ordinal.fit_model("trust", df, models=spec)
        probit = ordinal.fit_model("trust_probit", df, models=spec)
        ratio = (main.beta / probit.beta)[[c for c in main.beta.index if c in spec.get("trust").numeric]]
        sensitivity = (
            "Probit-lenken brukes som følsomhetsanalyse: forholdet mellom logit- og probit-koeffisientene for "
            f"styringserfaringene ligger mellom {num.model(fmt.num(ratio.min(), 2))} og "
            f"{num.model(fmt.num(ratio.max(), 2))}, nær forholdet mellom standardavvikene til den logistiske "
            "fordelingen og normalfordelingen, så konklusjonene avhenger ikke av lenkefunksjonen.")
    except ordinal.OrdinalError:
        if ctx.is_whole:
            raise
        spec = _spec()  # an edition too uniform for the models (docs/editions.md)
        sensitivity = ("Probit-lenken brukes som følsomhetsanalyse. For utgaven "
                       f"{ctx.edition.title} kan modellene ikke estimeres; sammenligningen står i hovedboka.")
    few = spec.inference.few_clusters
    return (
        "Modellene er kumulative logit-modeller med proporsjonale odds: sannsynligheten for å svare i "
        "en bestemt kategori eller lavere er F(c − xβ), der F er den logistiske fordelingen, c er terskelen "
        "for kategorien og x er forklaringsvariablene (rolle og enhetstype som dummyer, erfaringene med "
        "styringen som skårer fra laveste til høyeste svar). Modellen har ikke konstantledd; tersklene tar "
        f"den rollen. Kompendiet har {num.count(len(spec.models))} slike modeller og "
        f"{num.count(len(spec.comparisons))} sammenligninger mellom dem. De estimeres med sannsynlighetsmaksimering "
        "med eksakt gradient og Hessian, og resultatene stemmer med R-pakken ordinal. Svaret «Vet ikke» og "
        "manglende svar holdes utenfor og telles.\n\n"
        "Usikkerheten er klyngerobust: svar fra samme enhet (i langformatmodellen: fra samme respondent) "
        "kan henge sammen. Det vanlige klyngerobuste intervallet bygger på at mange klynger ligger bak hver "
        "koeffisient. Det gjør de ikke for enhetstypene, som hver består av få enheter: da blir vanlige "
        "intervaller for smale, og et enkelt bootstrap-intervall blir for bredt. For koeffisienter som bygger "
        f"på færre enn {_setting(few)} klynger, bruker tabellene derfor CR2-korreksjonen (Bell og McCaffrey) "
        "med referansefordelingen som t-observatoren har for akkurat disse klyngene, og tabellene sier hvilken "
        "metode hvert intervall kommer fra. En simuleringsstudie på nye trekninger av de syntetiske dataene "
        "viser at intervallene da dekker de sanne verdiene omtrent så ofte som de skal.\n\n"
        "Antakelsen om proporsjonale odds testes med Brants test, som sammenligner estimatene fra separate "
        "binære logiter ved hver terskel. Der den forkastes, estimeres en modell med partielle proporsjonale "
        "odds, der de berørte variablene får ett oddsforhold per terskel, og den sammenlignes med "
        f"hovedmodellen med en likelihood-ratio-test. {sensitivity}\n\n"
        "Begrensninger: dataene er ett tverrsnitt, og modellene viser sammenhenger, ikke effekter. Opplevd "
        "konkurranse og tillitshindringer kan begge påvirkes av en tredje faktor, og svarene er selvrapporterte. "
        "Modellen antar at avstanden mellom svarkategoriene er lik for alle grupper (via felles terskler)."
    )
