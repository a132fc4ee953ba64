"""The report's diagrams (Figur 2, 3, 4, 5, 6 and 9), drawn from params/report.yml.

The report draws these as pictures; its text gives their content only in part. Each diagram
here shows what the text states and nothing more: where the text is silent (the names of the
four main themes in Figur 3, the dates of the phases in Figur 4, the steps of Figur 9) the
diagram says so, and so does its caption.

Layout is phone-first: one narrow column (FIG_WIDTH inches) read top to bottom, text at
least BODY points, so that the figure stays legible when a phone shrinks it. Every diagram
comes with its content as a table (`data`) and an alt text built from the same facts.

Two layers: `draw_*` functions take plain facts and return a matplotlib figure (testable
without a notebook); the `*_figure(ctx, …)` functions read the facts, draw and show the figure
through ``ctx.figure``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyBboxPatch
from matplotlib.textpath import TextToPath

from tillit import fmt
from tillit.book.plots import QUALITATIVE, TEXT

FIG_WIDTH = 4.6          # inches; about the width of a phone screen at 1:1
MARGIN = 0.12
BODY = 10.0              # points: the smallest text in any diagram
HEAD = 11.0
LINE = 1.28              # line height in em
PAD = 0.09               # inner padding of a box, inches
GAP = 0.12               # space between boxes, inches
ARROW = 0.34             # height of a row holding an arrow
MUTED = "#5A5A5A"
GOAL_COLORS = [QUALITATIVE[i] for i in (0, 1, 2, 3, 5)]
_TEXT_TO_PATH = TextToPath()


def _tint(color: str, amount: float = 0.82) -> tuple:
    """A light version of `color` (mixed with white) for box fills under dark text."""
    import matplotlib.colors as mcolors

    r, g, b = mcolors.to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


@lru_cache(maxsize=4096)
def _width_pt(text: str, size: float, bold: bool) -> float:
    """The rendered width of `text` in points (measured with the font, not guessed)."""
    prop = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
    width, _h, _d = _TEXT_TO_PATH.get_text_width_height_descent(text, prop, ismath=False)
    return width


def wrap(text: str, width_in: float, size: float = BODY, bold: bool = False) -> list[str]:
    """Lines of `text` that fit `width_in` inches at `size` points (greedy, measured)."""
    room = width_in * 72 * 0.93  # the renderer draws a few per cent wider than the outline measure
    lines: list[str] = []
    for para in str(text).split("\n"):  # an explicit line break starts a new line
        line = ""
        for word in para.split():
            trial = f"{line} {word}".strip()
            if line and _width_pt(trial, size, bold) > room:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines


def text_height(lines: int, size: float = BODY) -> float:
    return lines * size * LINE / 72


# --- a tiny top-to-bottom layout ------------------------------------------------------------
@dataclass
class Canvas:
    """Collects drawing operations while tracking the height used, then draws them on a
    figure of exactly that height (y grows downwards, in inches)."""

    width: float = FIG_WIDTH
    y: float = MARGIN
    ops: list = field(default_factory=list)

    @property
    def inner(self) -> float:
        return self.width - 2 * MARGIN

    def box(self, x: float, y: float, w: float, title: str | None, body: str | None = None, *,
            edge: str = MUTED, fill=None, dashed: bool = False, title_size: float = BODY,
            bold: bool = True, center: bool = False) -> float:
        """A rounded box at (x, y) of width w holding a bold title and body text; returns its height."""
        title_lines = wrap(title, w - 2 * PAD, title_size, bold) if title else []
        body_lines = wrap(body, w - 2 * PAD) if body else []
        h = (2 * PAD + text_height(len(title_lines), title_size) + text_height(len(body_lines))
             + (0.04 if title_lines and body_lines else 0))
        self.ops.append(("box", dict(x=x, y=y, w=w, h=h, edge=edge, fill=fill or "white", dashed=dashed)))
        ty = y + PAD
        tx, ha = (x + w / 2, "center") if center else (x + PAD, "left")
        if title_lines:
            self.ops.append(("text", dict(x=tx, y=ty, s="\n".join(title_lines), size=title_size,
                                          weight="bold" if bold else "normal", ha=ha, color=TEXT)))
            ty += text_height(len(title_lines), title_size) + 0.04
        if body_lines:
            self.ops.append(("text", dict(x=tx, y=ty, s="\n".join(body_lines), size=BODY,
                                          weight="normal", ha=ha, color=TEXT)))
        return h

    def stack(self, title: str | None, body: str | None = None, **kw) -> None:
        """A full-width box at the current height."""
        self.y += self.box(MARGIN, self.y, self.inner, title, body, **kw) + GAP

    def row(self, items: list[tuple[str | None, str | None]], **kw) -> None:
        """Boxes side by side, as tall as the tallest (drawn as such)."""
        k = len(items)
        w = (self.inner - GAP * (k - 1)) / k
        start = len(self.ops)
        heights = [self.box(MARGIN + i * (w + GAP), self.y, w, t, b, **kw) for i, (t, b) in enumerate(items)]
        top = max(heights)
        for op in self.ops[start:]:
            if op[0] == "box":
                op[1]["h"] = top
        self.y += top + GAP

    def label(self, text: str, *, size: float = HEAD, color: str = TEXT, weight: str = "bold") -> None:
        lines = wrap(text, self.inner, size, weight == "bold")
        self.ops.append(("text", dict(x=MARGIN, y=self.y, s="\n".join(lines), size=size, weight=weight,
                                      ha="left", color=color)))
        self.y += text_height(len(lines), size) + 0.06

    def arrow(self) -> None:
        x = self.width / 2
        self.ops.append(("arrow", dict(x=x, y0=self.y - 0.04, y1=self.y + ARROW - 0.1)))
        self.y += ARROW

    def draw(self):
        height = self.y + MARGIN - GAP
        fig = plt.figure(figsize=(self.width, height))
        ax = fig.add_axes([0, 0, 1, 1])
        ax.set_xlim(0, self.width)
        ax.set_ylim(height, 0)
        ax.axis("off")
        for kind, op in self.ops:
            if kind == "box":
                ax.add_patch(FancyBboxPatch((op["x"], op["y"]), op["w"], op["h"],
                                            boxstyle="round,pad=0,rounding_size=0.06", linewidth=1.1,
                                            edgecolor=op["edge"], facecolor=op["fill"],
                                            linestyle=(0, (4, 3)) if op["dashed"] else "solid"))
            elif kind == "text":
                ax.text(op["x"], op["y"], op["s"], fontsize=op["size"], fontweight=op["weight"],
                        ha=op["ha"], va="top", color=op["color"], linespacing=LINE * 0.95)
            elif kind == "arrow":
                ax.annotate("", xy=(op["x"], op["y1"]), xytext=(op["x"], op["y0"]),
                            arrowprops=dict(arrowstyle="-|>", color=MUTED, lw=1.4, mutation_scale=14))
        return fig


def _goal_color(k: int) -> str:
    return GOAL_COLORS[(int(k) - 1) % len(GOAL_COLORS)]


# --- Figur 2: the five goals ------------------------------------------------------------------
def draw_goals(goals: dict, parties: list[str]):
    c = Canvas()
    c.stack("Formål", "Et tett og tillitsfullt samarbeid mellom " + fmt.listing(parties) + ".",
            edge=TEXT, fill="#F2F2F2", title_size=HEAD)
    c.arrow()
    for k, g in goals.items():
        c.stack(f"Mål {k}: {g['short']}", g["text"], edge=_goal_color(k), fill=_tint(_goal_color(k)))
    return c.draw()


# --- Figur 3: the approach --------------------------------------------------------------------
def draw_approach(goals: dict, themes: int, theme_names: list[str] | None, deliveries: dict,
                  reports_to: str, coordinator: str):
    c = Canvas()
    c.stack("Partssammensatt arbeidsgruppe",
            f"Leder arbeidet og rapporterer til {reports_to}. Sekretariatet koordineres av {coordinator}.",
            edge=TEXT, fill="#F2F2F2")
    c.arrow()
    c.stack("Målene som skal svares ut", "\n".join(f"{k}  {g['short']}" for k, g in goals.items()),
            edge=MUTED)
    c.arrow()
    c.label(f"Arbeidet delt inn i {fmt.number_word(themes)} hovedtema")
    names = theme_names or [None] * themes
    pairs = [(n or f"Hovedtema {i + 1}", None if n else "ikke navngitt i rapportens tekst")
             for i, n in enumerate(names)]
    for i in range(0, len(pairs), 2):
        c.row(pairs[i:i + 2], dashed=theme_names is None, bold=True)
    c.arrow()
    c.row([(f"Leveranse {k}", d["title"]) for k, d in deliveries.items()], edge=TEXT)
    return c.draw()


# --- Figur 4: the overall timeline -------------------------------------------------------------
def draw_timeline(phases: list[dict], deliveries: dict, timeline: list[dict]):
    c = Canvas()
    c.label("Fasene i rekkefølge")
    for i, p in enumerate(phases):
        color = QUALITATIVE[i % len(QUALITATIVE)]
        d = p.get("delivery")
        body = f"Leveranse {d}: {deliveries[d]['title']}" if d else p.get("what")
        c.stack(f"Fase {i + 1}: {p['name']}", body, edge=color, fill=_tint(color, 0.8))
        if i + 1 < len(phases):
            c.arrow()
    c.y += GAP
    c.label("Tidspunkter rapportens tekst nevner (ikke i skala)", size=BODY)
    for ev in timeline:
        c.stack(ev["when"], ev["what"], edge=MUTED, fill="white")
    return c.draw()


# --- Figur 5: main activities ------------------------------------------------------------------
def draw_activities(activities: list[dict]):
    c = Canvas()
    c.label("Innsiktsarbeidet i første fase")
    for i in range(0, len(activities), 2):
        pair = activities[i:i + 2]
        c.row([(a["name"], a["what"][0].upper() + a["what"][1:]) for a in pair], edge=QUALITATIVE[0], fill=_tint(QUALITATIVE[0], 0.88))
    return c.draw()


# --- Figur 6: main findings per goal -------------------------------------------------------------
def draw_findings(goals: dict, findings: dict, summaries: bool = False):
    c = Canvas()
    for k, items in findings.items():
        color = _goal_color(k)
        c.stack(f"Mål {k}: {goals[k]['short']}", None, edge=color, fill=_tint(color, 0.55), title_size=HEAD)
        for f in items:
            c.stack(f["title"], f["summary"] if summaries else None, edge=color, fill=_tint(color, 0.9),
                    bold=not summaries)
    return c.draw()


# --- Figur 9: delivery 2 ---------------------------------------------------------------------------
def draw_delivery2(d2: dict, title: str):
    c = Canvas()
    c.label("Grunnlaget")
    for item in d2["inputs"]:
        c.stack(None, item["what"], edge=MUTED)
    c.arrow()
    body = "; ".join(d2["outputs"]) + (f" ({d2['when']})" if d2.get("when") else "")
    c.stack(f"Leveranse 2: {title}", body[0].upper() + body[1:], edge=TEXT, fill="#F2F2F2")
    c.arrow()
    c.label("Videreføres etter leveranse 2")
    after = d2["after"]
    for i in range(0, len(after), 2):
        c.row([(None, a[0].upper() + a[1:]) for a in after[i:i + 2]], edge=QUALITATIVE[2],
              fill=_tint(QUALITATIVE[2], 0.88))
    return c.draw()


# --- shown in the book ---------------------------------------------------------------------------
def _facts(ctx) -> dict:
    return ctx.num.report


def resolve_timeline(report: dict) -> list[dict]:
    """The timeline with each `at` path replaced by the date it points to (`when`)."""
    out = []
    for ev in report["timeline"]:
        cur = report
        for part in ev["at"].split("."):
            cur = cur[part]
        out.append({**ev, "when": str(cur)})
    return out


def goals_figure(ctx, label: str = "fig-mal") -> pd.DataFrame:
    """Figur 2 Mål for tillitsreformen i NAV."""
    r = _facts(ctx)
    goals = r["goals"]
    data = pd.DataFrame({"Mål": [f"Mål {k}" for k in goals], "Tema": [g["short"] for g in goals.values()],
                         "Innhold": [g["text"] for g in goals.values()]})
    alt = (f"Diagram: formålet med reformen øverst, og under det de {fmt.number_word(len(goals))} målene. "
           + " ".join(f"Mål {k}: {g['text']}" for k, g in goals.items()))
    ctx.figure(draw_goals(goals, r["purpose_parties"]), label,
               "Mål for tillitsreformen i NAV: formålet og målene som mandatet konkretiserer det i", alt,
               data=data, source="report")
    return data


def approach_figure(ctx, label: str = "fig-tilnaerming") -> pd.DataFrame:
    """Figur 3 Prosjektets tilnærming til oppdraget: only what the text says about it."""
    r = _facts(ctx)
    wg, ap, dl = r["working_group"], r["approach"], r["deliveries"]
    fig = draw_approach(r["goals"], ap["themes"], ap["names"], dl, wg["reports_to"], r["secretariat"]["coordinator"])
    themes = fmt.number_word(ap["themes"])
    data = pd.DataFrame({
        "Ledd": ["Arbeidsgruppen", "Mål", "Hovedtema", *[f"Leveranse {k}" for k in dl]],
        "Innhold": [f"rapporterer til {wg['reports_to']}; sekretariat koordinert av {r['secretariat']['coordinator']}",
                    "; ".join(g["short"] for g in r["goals"].values()),
                    f"{themes} hovedtema" + ("" if ap["names"] else " (ikke navngitt i rapportens tekst)"),
                    *[d["title"] for d in dl.values()]]})
    caption = ("Prosjektets tilnærming til oppdraget. Rapportens tekst sier at arbeidet er delt inn i "
               f"{themes} hovedtema for å svare ut målene, men navngir dem ikke; de står bare i rapportens "
               "egen figur. Diagrammet viser derfor temaene som ubenevnte felt.")
    alt = ("Flytdiagram: den partssammensatte arbeidsgruppen, målene for reformen, "
           f"{themes} hovedtema som ikke er navngitt i teksten, og de to leveransene.")
    ctx.figure(fig, label, caption, alt, data=data, source="report")
    return data


def timeline_figure(ctx, label: str = "fig-fremdrift") -> pd.DataFrame:
    """Figur 4 Overordnet fremdriftsplan: phases in order, and only the dates the text names."""
    r = _facts(ctx)
    timeline = resolve_timeline(r)
    fig = draw_timeline(r["phases"], r["deliveries"], timeline)
    data = pd.DataFrame({"Når": [e["when"] for e in timeline], "Hva": [e["what"] for e in timeline],
                         "Omtalt i kapittel": [e["section"] for e in timeline]})
    caption = ("Overordnet fremdrift: de tre fasene i rekkefølge, med delleveransene, og tidspunktene "
               "rapportens tekst nevner. Teksten gir ikke start- og sluttdatoer for fasene, så de er "
               "ikke tegnet inn, og tidspunktene står ikke i tidsskala.")
    alt = ("Fasene " + fmt.listing([p["name"].lower() for p in r["phases"]]) + " i rekkefølge. Deretter "
           "tidspunktene teksten nevner: " + "; ".join(f"{e['when']}: {e['what']}" for e in timeline) + ".")
    ctx.figure(fig, label, caption, alt, data=data, source="report")
    return data


def activities_figure(ctx, label: str = "fig-aktiviteter") -> pd.DataFrame:
    """Figur 5 Hovedaktiviteter i prosjektet, as chapter 3 lists them."""
    acts = _facts(ctx)["activities"]
    data = pd.DataFrame({"Aktivitet": [a["name"] for a in acts], "Innhold": [a["what"] for a in acts],
                         "Omtalt i kapittel": [a["section"] for a in acts]})
    caption = ("Hovedaktiviteter i innsiktsarbeidet, slik sammendraget og kapittel tre beskriver dem. "
               "Rapportens egen figur er ikke beskrevet i teksten; oppsettet her er kompendiets.")
    alt = "Kort for hver aktivitet i innsiktsarbeidet: " + "; ".join(f"{a['name']} ({a['what']})" for a in acts) + "."
    ctx.figure(draw_activities(acts), label, caption, alt, data=data, source="report")
    return data


def main_findings_figure(ctx, label: str = "fig-hovedfunn", summaries: bool = False) -> pd.DataFrame:
    """Figur 6 Hovedfunn etter kartleggingsarbeidet: the findings per goal (report.yml `findings`).

    Called by chapter 4.1. `summaries=True` also draws each finding's short explanation; the
    explanations are always in the figure's table.
    """
    r = _facts(ctx)
    goals, findings = r["goals"], r["findings"]
    data = pd.DataFrame([{"Mål": f"Mål {k}: {goals[k]['short']}", "Funn": f["title"], "Forklaring": f["summary"],
                          "Utdypet i kapittel": f["section"]} for k, items in findings.items() for f in items])
    fig = draw_findings(goals, findings, summaries=summaries)
    caption = "Hovedfunn etter kartleggingsarbeidet, ordnet etter målene for reformen"
    alt = ("Liste over hovedfunnene for hvert mål. "
           + " ".join(f"Mål {k}: " + "; ".join(f["title"] for f in items) + "." for k, items in findings.items()))
    ctx.figure(fig, label, caption, alt, data=data, source="report")
    return data


def delivery2_figure(ctx, label: str = "fig-prosess-leveranse2") -> pd.DataFrame:
    """Figur 9 Overordnet prosess delleveranse 2: what the text says it builds on and leads to."""
    r = _facts(ctx)
    d2 = r["delivery_2"]
    fig = draw_delivery2(d2, r["deliveries"]["2"]["title"])
    rows = ([{"Ledd": "Grunnlag", "Innhold": i["what"], "Omtalt i kapittel": i["section"]} for i in d2["inputs"]]
            + [{"Ledd": "Leveranse 2", "Innhold": o, "Omtalt i kapittel": "2.3"} for o in d2["outputs"]]
            + [{"Ledd": "Etter leveranse 2", "Innhold": a, "Omtalt i kapittel": "5"} for a in d2["after"]])
    data = pd.DataFrame(rows)
    caption = ("Prosessen for delleveranse 2. Stegene i rapportens egen figur står ikke i teksten; "
               "diagrammet viser det teksten sier om hva leveransen bygger på, hva den skal inneholde, "
               "og hva som videreføres etter den.")
    alt = ("Flyt fra grunnlaget (" + "; ".join(i["what"] for i in d2["inputs"]) + ") til leveranse 2 ("
           + "; ".join(d2["outputs"]) + ") og videre (" + "; ".join(d2["after"]) + ").")
    ctx.figure(fig, label, caption, alt, data=data, source="report")
    return data
