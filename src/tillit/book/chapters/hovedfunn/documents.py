"""Goal 4, the document analysis of the MD-brev (4.2.4 and 4.2.4.1).

The letters are documents, not respondents, so no disclosure gate applies; the counts the
report published (212, 189, 58; 56 %, 16 %, 18 %) are printed through ``Say.pub`` and every
comparison the prose makes ("ATA legger til flest «nye» føringer", "mest på resultat") is
computed here from the table the book shows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillit import fmt
from tillit.book import plots
from tillit.book.context import Context
from tillit.book.chapters.hovedfunn.common import Ranking, Say

DIMENSIONS = [("result_chain", "Resultatkjede"), ("concreteness", "Konkretisering"), ("focus", "Fokus")]
STEERING_TARGETS = {"ATA": "md_styrende_ata", "YA": "md_styrende_ya", "OSA": "md_styrende_osa"}
NEW_TARGETS = {"ATA": "md_nye_ata", "YA": "md_nye_ya", "OSA": "md_nye_osa"}


@dataclass
class Letters:
    senders: dict                 # key -> codebook entry (label, short, recipient_line)
    steering: pd.Series           # sender -> steering goals
    total: pd.Series              # sender -> all goals
    new_share: pd.Series          # sender -> share «ny» of all the sender's goals
    shares: dict                  # dimension -> DataFrame sender × category (share of steering goals)
    overall: dict                 # dimension -> Series category -> share of all steering goals
    descriptive_internal: float   # share internal among steering, descriptive goals

    def short(self, s: str) -> str:
        return self.senders[s]["short"]

    def most_new(self) -> Ranking:
        return Ranking.of(self.new_share, {s: self.short(s) for s in self.senders})

    def chain_order(self) -> Ranking:
        return Ranking.of(self.overall["result_chain"])

    def activity_above_ya(self) -> bool:
        a = self.shares["result_chain"]["aktivitet"]
        return bool(a["ATA"] > a["YA"] and a["OSA"] > a["YA"])

    def ya_top_concreteness(self) -> str:
        return str(self.shares["concreteness"].loc["YA"].idxmax())


def letters(ctx: Context) -> Letters:
    cb = ctx.codebook
    md = ctx.md_letters()
    senders = cb.md_letters["senders"]
    keys = list(senders)
    steering = md[md["steering"]]
    per_sender = steering.groupby("sender", observed=True).size().reindex(keys, fill_value=0)
    total = md.groupby("sender", observed=True).size().reindex(keys, fill_value=0)
    new = md.assign(new=md["source"] == "ny").groupby("sender", observed=True)["new"].mean().reindex(keys)
    shares, overall = {}, {}
    for dim, _title in DIMENSIONS:
        values = list(cb.md_letters["columns"][dim]["values"])
        shares[dim] = pd.crosstab(steering["sender"], steering[dim], normalize="index").reindex(
            index=keys, columns=values, fill_value=0)
        overall[dim] = steering[dim].value_counts(normalize=True).reindex(values, fill_value=0)
    desc = steering[steering["concreteness"] == "beskrivende"]
    internal = float((desc["focus"] == "intern").mean()) if len(desc) else float("nan")
    return Letters(senders, per_sender, total, new, shares, overall, internal)


def letters_table(ctx: Context, m: Letters) -> None:
    disp = pd.DataFrame({
        "Avsender": [m.senders[s]["label"] for s in m.senders],
        "Mottaker": [m.senders[s]["recipient_line"] for s in m.senders],
        "Styrende mål/føringer": [fmt.num(v) for v in m.steering],
        "Alle mål/føringer": [fmt.num(v) for v in m.total],
        "Andel «nye» føringer": [fmt.pct(v) for v in m.new_share],
    })
    csv = pd.DataFrame({"avsender": [m.short(s) for s in m.senders], "styrende": m.steering.to_numpy(),
                        "alle": m.total.to_numpy(), "andel_nye": m.new_share.round(4).to_numpy()})
    ctx.table(disp, "tbl-mdbrev", f"Mål og føringer i MD-brevene for {ctx.num.fact_value('hovedfunn.steering.md_year')}, "
              f"etter avsender (n = {fmt.num(int(m.total.sum()))} mål/føringer)", csv_df=csv)


def scope_figure(ctx: Context, m: Letters) -> None:
    """Goals per line (steering and not), with the share of «nye» føringer."""
    import matplotlib.pyplot as plt

    labels = [f"{m.short(s)} → {m.senders[s]['recipient_line']}" for s in m.senders]
    fig, ax = plt.subplots(figsize=(9, 2.9))
    y = np.arange(len(m.senders))
    st = m.steering.to_numpy(dtype=float)
    ax.barh(y, st, color=plots.QUALITATIVE[0], label="Styrende")
    ax.barh(y, m.total.to_numpy(dtype=float) - st, left=st, color=plots.QUALITATIVE[4], label="Ikke styrende")
    for yi, (a, t, ns) in enumerate(zip(st, m.total, m.new_share)):
        ax.text(a / 2, yi, fmt.num(a), ha="center", va="center", color="white", fontsize=8)
        ax.text(t + 4, yi, f"{fmt.pct(ns)} «nye»", va="center", fontsize=8, color=plots.TEXT)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, float(m.total.max()) * 1.25)
    ax.xaxis.set_major_formatter(fmt.number_formatter())
    ax.set_xlabel("Antall mål og føringer")
    ax.legend(loc="lower right")
    fig.tight_layout()
    top = m.most_new().first()
    ctx.figure(fig, "fig-mdbrev-omfang", "Mål og føringer per linje i MD-brevene, styrende og ikke styrende, "
               "med andelen «nye» føringer", f"Liggende stolper per avsender: {m.short(top)} har størst andel «nye» "
               f"føringer ({fmt.pct(m.new_share[top])}).",
               data=pd.DataFrame({"avsender": [m.short(s) for s in m.senders], "styrende": st,
                                  "alle": m.total.to_numpy(), "andel_nye": m.new_share.round(4).to_numpy()}))


def profile_figure(ctx: Context, m: Letters) -> None:
    """Steering goals by place in the result chain, concreteness and focus, per sender."""
    import matplotlib.pyplot as plt

    cols = ctx.codebook.md_letters["columns"]
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 4.0), sharey=True)
    long = []
    for ax, (dim, title) in zip(axes, DIMENSIONS):
        tab = m.shares[dim].copy()
        tab.index = [m.short(s) for s in tab.index]
        tab.columns = [cols[dim]["values"][c] for c in tab.columns]
        long += [{"dimensjon": title, "avsender": s, "kategori": c, "andel": round(float(tab.loc[s, c]), 4)}
                 for s in tab.index for c in tab.columns]
        tab.T.plot(kind="bar", ax=ax, color=plots.QUALITATIVE[:3], width=0.8, legend=ax is axes[0])
        ax.set_title(title, loc="left")
        ax.set_xlabel("")
        ax.yaxis.set_major_formatter(fmt.percent_formatter())
        plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    axes[0].legend(title=None)
    axes[0].set_ylabel("Andel av avsenderens styrende mål/føringer")
    fig.tight_layout()
    ctx.figure(fig, "fig-mdbrev", "Styrende mål og føringer i MD-brevene etter plass i resultatkjeden, "
               f"konkretisering og fokus, per avsender (n = {fmt.num(int(m.steering.sum()))} styrende mål/føringer)",
               "Tre stolpediagram for ATA, YA og ØSA med andelene i hver kategori: resultatkjede, konkretisering "
               "og fokus.", data=pd.DataFrame(long))


# --- prose -------------------------------------------------------------------------------------
def overview_text(say: Say, m: Letters) -> str:
    """4.2.4: what the letters steer on, overall."""
    conc, chain = m.overall["concreteness"], m.chain_order()
    words = {"resultat": "resultater", "aktivitet": "aktivitet og innsats", "effekt": "effekt"}
    order = [words.get(k, k) for k in chain.keys]
    majority = conc["beskrivende"] > 0.5
    return (
        f"{'Flertallet' if majority else 'En mindre del'} av de styrende målene og føringene er kvalitative eller "
        f"beskrivende ({say.pub_text('md_flertall_beskrivende', fmt.pct(conc['beskrivende'], word=True))}), og "
        f"{'de fleste' if m.descriptive_internal > 0.5 else 'færre enn halvparten'} av disse har et internt fokus "
        f"({say.pub_text('md_beskrivende_internt', fmt.pct(m.descriptive_internal, word=True))}). Brevene styrer "
        f"mest på {order[0]}, dernest på {order[1]} og minst på {order[2]} "
        f"({say.pub_text('md_resultat_aktivitet_effekt', fmt.listing([fmt.pct(v) for v in chain.values], 'og'))} "
        "av de styrende målene)."
    )


def lines_text(say: Say, m: Letters) -> str:
    """4.2.4.1: goals per line and the «nye» føringer, with the comparisons computed."""
    st, new = m.steering, m.new_share
    ranked = m.most_new()
    first, rest = ranked.first(), [s for s in m.senders if s != ranked.first()]
    return (
        f"NAV fylke styres med {say.pub_text(STEERING_TARGETS['ATA'], fmt.num(st['ATA']))} styrende mål og føringer "
        f"fra ATA, ytelseslinjen med {say.pub_text(STEERING_TARGETS['YA'], fmt.num(st['YA']))} fra YA og "
        f"økonomilinjen med {say.pub_text(STEERING_TARGETS['OSA'], fmt.num(st['OSA']))} fra ØSA. I tillegg står "
        f"det {say.count(int((m.total - m.steering).sum()))} mål og føringer i brevene som enhetene ikke styrer "
        f"etter (@tbl-mdbrev). {m.short(first)} legger til flest «nye» føringer – føringer som verken kommer fra "
        f"tildelingsbrevet eller fra et overliggende MD-brev: {say.pub(NEW_TARGETS[first], new[first])} av "
        f"føringene, mot {say.pub(NEW_TARGETS[rest[0]], new[rest[0]])} hos {m.short(rest[0])} og "
        f"{say.pub(NEW_TARGETS[rest[1]], new[rest[1]])} hos {m.short(rest[1])} (@fig-mdbrev-omfang)."
    )


def chain_text(say: Say, m: Letters) -> str:
    a = m.shares["result_chain"]["aktivitet"]
    c = m.shares["concreteness"]
    above = m.activity_above_ya()
    ya_top = m.ya_top_concreteness()
    values = {"kvantitativ": "tallfestede mål", "retning": "mål som angir en retning",
              "beskrivende": "kvalitative beskrivelser"}
    return (
        f"Aktivitet og innsats utgjør {say.pct(a['ATA'])} av de styrende målene hos ATA og {say.pct(a['OSA'])} hos "
        f"ØSA, mot {say.pct(a['YA'])} hos YA. ATA og ØSA styrer altså "
        f"{say.pub_text('md_aktivitet_ata_osa_over_ya', 'mer på aktivitet og innsats' if above else 'ikke mer på aktivitet og innsats')} "
        f"enn YA, der resultatmålene har større plass. Ytelseslinjen styres mest med "
        f"{say.pub_text('md_ya_tallfestet', values.get(ya_top, ya_top))} ({say.pct(c.loc['YA', ya_top])} hos YA), "
        f"mens {say.pub_text('md_ata_osa_beskrivende', 'et flertall' if min(c.loc['ATA', 'beskrivende'], c.loc['OSA', 'beskrivende']) > 0.5 else 'en del')} "
        f"av målene fra ATA og ØSA er kvalitativt beskrevet ({say.pct(c.loc['ATA', 'beskrivende'])} og "
        f"{say.pct(c.loc['OSA', 'beskrivende'])}; @fig-mdbrev)."
    )
