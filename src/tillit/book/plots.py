"""The shared theme and chart helpers: one look for every figure in the book.

Colours: ColorBrewer's BrBG for scales that run from negative to positive (effekt5, enig5),
a sequential PuBu for scales that only run from little to much (grad5, mengde5: hindrances
are "much" without being "good"), and the colour-blind-safe Okabe–Ito set for groups. All
numbers on axes and bars are formatted the Norwegian way through tillit.fmt.

Each helper returns a matplotlib figure that carries ``fig.tillit``: the scale labels (so the
figure's data download gets labelled headers), the decimals its annotations show, and a
``narrow`` builder that draws the same chart for a phone (labels above the bars, no text under
11 px at 390 px width). :func:`tillit.book.display.show_figure` saves both as SVG.

Order: a chart shows its rows in the order the text states. :func:`likert` takes ``sort`` =
"net" (positive minus negative), "high" (share in the top two categories), "low", "affects"
(every answer but the middle one and "Vet ikke": the report's ranking of the factors), a list
of row labels (top first), or False (the order given, first row at the bottom, as before);
``rank_labels`` writes the place in front of each label ("7. Mål- og resultatstyring").
"""
from __future__ import annotations

import textwrap
from typing import Callable, Sequence

import matplotlib

matplotlib.use("Agg")  # headless and deterministic; notebooks still show figures via display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from cycler import cycler  # noqa: E402

from tillit import fmt  # noqa: E402

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
# Every fill has at least 3:1 contrast against the white background (WCAG 2.1 1.4.11), and
# either white or TEXT reaches 4.5:1 on it, so labels drawn on bars stay legible. Okabe–Ito's
# hues, darkened where the originals are too light.
QUALITATIVE = ["#0072B2", "#A66300", "#007A5A", "#B8508E", "#4A9BCF", "#C04F00", "#9A8B00", "#000000"]
DONT_KNOW = "#6E6E6E"
NEUTRAL = "#8C8C8C"
# Negative → neutral → positive (brown–teal, like BrBG) and little → much (blue), 5 steps each.
DIVERGING_5 = ["#8C510A", "#BB8436", NEUTRAL, "#2F9A8C", "#01665E"]
SEQUENTIAL_5 = ["#7B8FC0", "#4F68A8", "#3A5494", "#27407A", "#172B5A"]
TEXT = "#222222"
ASSUMED_NOTE = "antakelse"
CODES = [1, 2, 3, 4, 5]
# Sizes (points). Wide figures are about 9.5 in wide and shown at up to 56 rem; narrow ones
# are 4.3 in wide, for a 358 px column (390 px phone minus margins): 10 pt there is 11,5 px.
WIDE_W, NARROW_W = 9.5, 4.3
ANNOT, NARROW_FONT = 8.5, 10.0
MIN_PX = 11.0


# seaborn's set_theme(style="whitegrid", context="notebook", palette=QUALITATIVE), as the rc
# values it sets (seaborn 0.13: plotting_context, axes_style, the colour cycle): importing seaborn
# imports scipy.stats, about a second of every kernel's start, for these values alone.
# tests/test_theme.py checks them against seaborn itself. Not carried over: image.cmap "rocket"
# (seaborn's own colour map; no chart of the book uses a colour map).
SEABORN_THEME = {
    # plotting_context("notebook")
    "axes.linewidth": 1.25, "grid.linewidth": 1, "lines.linewidth": 1.5, "lines.markersize": 6,
    "patch.linewidth": 1, "xtick.major.width": 1.25, "ytick.major.width": 1.25, "xtick.minor.width": 1,
    "ytick.minor.width": 1, "xtick.major.size": 6, "ytick.major.size": 6, "xtick.minor.size": 4,
    "ytick.minor.size": 4, "font.size": 12, "axes.labelsize": 12, "axes.titlesize": 12, "xtick.labelsize": 11,
    "ytick.labelsize": 11, "legend.fontsize": 11, "legend.title_fontsize": 12,
    # axes_style("whitegrid"), with set_theme's font="sans-serif"
    "figure.facecolor": "white", "axes.labelcolor": ".15", "xtick.direction": "out", "ytick.direction": "out",
    "xtick.color": ".15", "ytick.color": ".15", "axes.axisbelow": True, "grid.linestyle": "-", "text.color": ".15",
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True, "xtick.top": False,
    "ytick.right": False, "axes.grid": True, "axes.facecolor": "white", "axes.edgecolor": ".8", "grid.color": ".8",
    "axes.spines.left": True, "axes.spines.bottom": True, "axes.spines.right": True, "axes.spines.top": True,
    "xtick.bottom": False, "ytick.left": False,
}


def set_theme() -> None:
    plt.rcParams.update(SEABORN_THEME)
    plt.rcParams["axes.prop_cycle"] = cycler("color", [matplotlib.colors.to_rgb(c) for c in QUALITATIVE])
    plt.rcParams.update({
        "figure.dpi": 110,
        "font.family": "DejaVu Sans",
        "axes.titleweight": "bold",
        "axes.titlesize": 12,
        "axes.labelsize": 10,
        "xtick.labelsize": 10,
        "ytick.labelsize": 10,
        "legend.fontsize": 10,
        "legend.frameon": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "tillit",   # deterministic ids in SVG output
        "svg.fonttype": "path",     # text as outlines: the same on every device
        "axes.formatter.use_locale": False,
    })


# --- scales ------------------------------------------------------------------------------------
def scale_polarity(labels: dict) -> str:
    """"bipolar" for scales from negative to positive (with a "verken … eller" middle),
    "unipolar" for scales from little to much (i liten grad … i stor grad; lite … mye)."""
    polarity = getattr(labels, "polarity", None)
    if polarity in ("bipolar", "unipolar"):
        return polarity
    words = " ".join(str(v).lower() for v in dict(labels).values())
    return "bipolar" if any(w in words for w in ("negativ", "uenig", "nøytral", "verken")) else "unipolar"


def diverging_colors(k: int = 5) -> list:
    if k != 5:
        raise ValueError("diverging_colors: skalaene i kodeboken har fem trinn")
    return [matplotlib.colors.to_rgb(c) for c in DIVERGING_5]


def sequential_colors(k: int = 5) -> list:
    """Light to dark: more of the quality, not better or worse."""
    if k != 5:
        raise ValueError("sequential_colors: skalaene i kodeboken har fem trinn")
    return [matplotlib.colors.to_rgb(c) for c in SEQUENTIAL_5]


def _ink(rgb) -> str:
    """White text on dark fills, dark text on light ones (WCAG contrast by luminance)."""
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in matplotlib.colors.to_rgb(rgb)]
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "white" if (1.05 / (lum + 0.05)) >= ((lum + 0.05) / 0.05) else TEXT


# --- ordering ------------------------------------------------------------------------------------
def order_rows(df: pd.DataFrame, sort, polarity: str = "bipolar") -> pd.DataFrame:
    """Rows top-down in the order ``sort`` asks for (see the module docstring)."""
    if sort is True:
        sort = "net" if polarity == "bipolar" else "high"
    if sort is False or sort is None:
        return df.iloc[::-1]   # as given, first row at the bottom (what callers have always relied on)
    if isinstance(sort, (list, tuple, pd.Index)):
        missing = [r for r in sort if r not in df.index]
        if missing:
            raise ValueError(f"sort: ukjente rader {missing} (har {list(df.index)})")
        return df.loc[list(sort)]
    metrics = {
        "net": lambda d: d[4] + d[5] - d[1] - d[2],
        "high": lambda d: d[4] + d[5],
        "low": lambda d: d[1] + d[2],
        "affects": lambda d: d[1] + d[2] + d[4] + d[5],
    }
    if sort not in metrics:
        raise ValueError(f"sort={sort!r}: forventet {sorted(metrics)}, en liste eller False")
    key = metrics[sort](df).fillna(-np.inf)
    return df.loc[key.sort_values(ascending=False, kind="stable").index]


def _wrap(label: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _row_labels(df: pd.DataFrame, n_col: str | None, rank_labels: bool) -> list[str]:
    labels = [str(i) for i in df.index]
    if n_col and n_col in df.columns and df[n_col].nunique(dropna=False) > 1:
        labels = [f"{lab} ({fmt.n(int(nv))})" if pd.notna(nv) else f"{lab} (skjult)"
                  for lab, nv in zip(labels, df[n_col])]
    if rank_labels:
        labels = [f"{i + 1}. {lab}" for i, lab in enumerate(labels)]
    return labels


def _meta(fig, narrow_builder: Callable | None, **info) -> None:
    fig.tillit = {"narrow": narrow_builder, **info}


def positions(labels: list[str], narrow: bool, extra: float = 0.0) -> np.ndarray:
    """Row centres top-down. On a phone each row also holds its label above the bar, so a
    label that wraps over more lines pushes the next rows down."""
    if not narrow:
        return np.arange(len(labels), dtype=float)
    pitch = [1.0 + extra + 0.3 * (lab.count("\n")) for lab in labels]
    return np.cumsum([0.0] + pitch[1:]) if labels else np.zeros(0)


def _labels_above(ax, y: np.ndarray, labels: list[str], size: float, bottom: float | None = None) -> None:
    """Phone layout: each row's label on its own line(s) above its bar."""
    trans = matplotlib.transforms.blended_transform_factory(ax.transAxes, ax.transData)
    for yi, lab in zip(y, labels):
        ax.text(0.0, yi - 0.3, lab, transform=trans, ha="left", va="bottom", fontsize=size, color=TEXT,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0, "alpha": 0.9}, zorder=4)
    ax.set_yticks([])
    first = labels[0].count("\n") if labels else 0
    ax.set_ylim((bottom if bottom is not None else (y[-1] if len(y) else 0)) + 0.45, -0.85 - 0.3 * first)


def _narrow_height(y: np.ndarray, labels: list[str]) -> float:
    span = (y[-1] if len(y) else 0) + 1.3 + 0.3 * (labels[0].count("\n") if labels else 0)
    return 0.62 * span + 1.9


def _narrow_legend(ax, size: float, ncol: int = 2) -> None:
    ax.legend(ncol=ncol, loc="lower left", bbox_to_anchor=(0.0, 1.0), handlelength=1.0, columnspacing=0.8,
              fontsize=size, borderaxespad=0.3)


# --- answers on a five-point scale ---------------------------------------------------------------
def _likert_xaxis(ax, polarity: str, labels: dict, starts: dict, vals: dict, narrow: bool, xlabel: str | None) -> None:
    """Around zero for a bipolar scale, from zero for a unipolar one: each with its own words."""
    if polarity == "bipolar":
        ax.axvline(0, color="#555555", linewidth=0.8)
        ends = np.r_[starts[1], starts[5] + np.nan_to_num(vals[5])]
        lim = np.nanmax(np.abs(ends)) if len(ends) else 1
        lim = min(1.0, np.ceil((lim + 0.05) * 10) / 10)
        ax.set_xlim(-lim, lim)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: fmt.pct(abs(v))))
        default = "Andel av alle svar" + ("\n" if narrow else " ") + "(negative til venstre, positive til høyre)"
    else:
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(fmt.percent_formatter())
        default = (f"Andel av alle svar, fra «{labels[1]}» (lys)" + ("\n" if narrow else " ")
                   + f"til «{labels[5]}» (mørk)")
    ax.set_xlabel(xlabel or default)


def _dont_know_panel(dax, y: np.ndarray, dk: np.ndarray, title: str, size: float) -> None:
    dax.barh(y, dk, color=DONT_KNOW, height=0.72)
    for yi, v in zip(y, dk):
        if np.isfinite(v):
            dax.text(v + 0.005, yi, fmt.pct(v), va="center", fontsize=size, color=TEXT)
    top = np.nanmax(dk) if len(dk) and np.isfinite(np.nanmax(dk)) else 0.05
    dax.set_xlim(0, max(0.1, top * 1.9))
    dax.set_title(title, fontsize=10, fontweight="normal")
    dax.xaxis.set_major_formatter(fmt.percent_formatter())
    dax.tick_params(axis="x", labelsize=9)
    dax.grid(axis="y", visible=False)


def likert(shares: pd.DataFrame, labels: dict[int, str], *, dont_know: str | None = "Vet ikke",
           title: str | None = None, n_col: str | None = "n", sort=True, rank_labels: bool = False,
           polarity: str | None = None, narrow: bool = False, width: float | None = None,
           height_per_row: float | None = None, xlabel: str | None = None):
    """Stacked bars of a 5-point scale, one row per item or group.

    `shares`: index = row label, columns 1..5 (shares of all answers, "Vet ikke" included in
    the denominator) and optionally `dont_know` and `n_col`. A bipolar scale (negative …
    positive) diverges around zero (BrBG, middle split across zero); a unipolar one (liten …
    stor grad) is stacked from zero in a sequential palette with its own axis label. "Vet ikke"
    is drawn apart and counted.
    """
    polarity = polarity or scale_polarity(labels)
    df = order_rows(shares.copy(), sort, polarity)
    has_dk = dont_know is not None and dont_know in df.columns
    row_labels = _row_labels(df, n_col, rank_labels)
    if narrow and has_dk:
        # Non-breaking, so "Vet ikke 3 %" never splits over two lines.
        row_labels = [f"{lab} · " + f"{dont_know} {fmt.pct(v)}".replace(" ", fmt.NBSP) if pd.notna(v) else lab
                      for lab, v in zip(row_labels, df[dont_know])]
    if narrow:
        row_labels = [_wrap(lab, 46) for lab in row_labels]
    size = NARROW_FONT if narrow else ANNOT
    y = positions(row_labels, narrow)
    fig_w = width or (NARROW_W if narrow else WIDE_W)
    height = _narrow_height(y, row_labels) if narrow else (height_per_row or 0.46) * len(df) + 1.4
    split = has_dk and not narrow
    fig, axes = plt.subplots(1, 2 if split else 1, figsize=(fig_w, max(2.4, height)),
                             sharey=True, gridspec_kw={"width_ratios": [5, 1]} if split else None, squeeze=False)
    ax = axes[0, 0]
    vals = {c: df[c].to_numpy(dtype=float) for c in CODES}
    if polarity == "bipolar":
        colors = diverging_colors(5)
        left = -(vals[1] + vals[2] + vals[3] / 2)
    else:
        colors = sequential_colors(5)
        left = np.zeros(len(df))
    starts = {}
    for c in CODES:
        starts[c] = left
        left = left + np.nan_to_num(vals[c])
    min_w = 0.11 if narrow else 0.06
    for c in CODES:
        ax.barh(y, vals[c], left=starts[c], color=colors[c - 1], edgecolor="white", linewidth=0.6,
                label=labels[c], height=0.5 if narrow else 0.72)
        for yi, (w, s) in enumerate(zip(vals[c], starts[c])):
            if np.isfinite(w) and w >= min_w:
                ax.text(s + w / 2, y[yi], fmt.pct(w), ha="center", va="center", fontsize=size, color=_ink(colors[c - 1]))
    _likert_xaxis(ax, polarity, labels, starts, vals, narrow, xlabel)
    if narrow:
        _labels_above(ax, y, row_labels, size)
        ax.tick_params(axis="x", labelsize=size)
        _narrow_legend(ax, size, ncol=3 if polarity == "unipolar" else 2)
    else:
        ax.set_yticks(y, row_labels)
        ax.set_ylim(len(df) - 0.5, -0.5)
        ax.legend(ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.16 if len(df) > 4 else -0.3),
                  handlelength=1.2, columnspacing=1.0)
    ax.grid(axis="y", visible=False)
    if split:
        _dont_know_panel(axes[0, 1], y, df[dont_know].to_numpy(dtype=float), dont_know, size)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=12)
    fig.tight_layout()
    builder = None if narrow else (lambda: likert(shares, labels, dont_know=dont_know, title=title, n_col=n_col,
                                                  sort=sort, rank_labels=rank_labels, polarity=polarity,
                                                  narrow=True, xlabel=xlabel))
    _meta(fig, builder, scale_labels=dict(labels), decimals={"share": 0}, order=list(df.index), polarity=polarity)
    return fig


def diverging(shares: pd.DataFrame, labels: dict[int, str], dont_know: str | None = "Vet ikke",
              title: str | None = None, n_col: str | None = "n", sort=True,
              height_per_row: float | None = None, width: float | None = None, **kwargs):
    """Kept for existing callers: :func:`likert`, which draws a unipolar scale sequentially
    (so "i stor grad" hindrances are never drawn in the "positive" colours)."""
    return likert(shares, labels, dont_know=dont_know, title=title, n_col=n_col, sort=sort,
                  height_per_row=height_per_row, width=width, **kwargs)


# --- a share per group -----------------------------------------------------------------------------
def _group_order(data: pd.DataFrame, label_col: str, share_col: str, order, sort) -> list:
    if order:
        return list(order)
    groups = list(dict.fromkeys(data[label_col]))
    if sort in ("high", "share", True):
        best = data.groupby(label_col, sort=False)[share_col].max()
        return list(best.reindex(groups).fillna(-np.inf).sort_values(ascending=False, kind="stable").index)
    if sort == "low":
        best = data.groupby(label_col, sort=False)[share_col].max()
        return list(best.reindex(groups).fillna(np.inf).sort_values(ascending=True, kind="stable").index)
    return groups


def share_bars(df: pd.DataFrame, label_col: str, share_col: str, n_col: str = "n",
               hue_col: str | None = None, title: str | None = None, xlabel: str = "Andel",
               lo_col: str | None = None, hi_col: str | None = None, width: float | None = None,
               order: list | None = None, hue_order: list | None = None, sort=False,
               rank_labels: bool = False, narrow: bool = False):
    """Horizontal bars of a share per group (optionally split by `hue_col`), n on each label.
    Rows top-down in `order`, or sorted by `sort` ("high"/"low"), or as given."""
    data = df.copy()
    groups = _group_order(data, label_col, share_col, order, sort)
    hues = hue_order or (list(dict.fromkeys(data[hue_col])) if hue_col else [None])
    size = NARROW_FONT if narrow else ANNOT
    labels = [f"{i + 1}. {g}" if rank_labels else str(g) for i, g in enumerate(groups)]
    if narrow:
        labels = [_wrap(lab, 46) for lab in labels]
    bar_h = (0.34 if narrow else 0.8 / len(hues))
    base = positions(labels, narrow, extra=bar_h * (len(hues) - 1))
    height = (_narrow_height(base, labels) + 0.25 * len(groups) * (len(hues) - 1) if narrow
              else 0.5 * max(1, len(hues) * 0.7) * len(groups) + 1.2)
    fig, ax = plt.subplots(figsize=(width or (NARROW_W if narrow else 8.5), max(2.4, height)))
    for h_i, hue in enumerate(hues):
        sub = data if hue is None else data[data[hue_col] == hue]
        sub = sub.set_index(label_col).reindex(groups)
        y = base + (h_i * bar_h if narrow else (h_i - (len(hues) - 1) / 2) * bar_h)
        vals = sub[share_col].to_numpy(dtype=float)
        xerr = None
        if lo_col and hi_col:
            xerr = np.vstack([vals - sub[lo_col].to_numpy(dtype=float), sub[hi_col].to_numpy(dtype=float) - vals])
        ax.barh(y, np.nan_to_num(vals), height=bar_h * 0.92, color=QUALITATIVE[h_i % len(QUALITATIVE)],
                label=None if hue is None else str(hue), xerr=xerr, error_kw={"elinewidth": 0.8, "capsize": 2})
        # Labels start right of the interval's upper end, so whiskers never cross them.
        ends = sub[hi_col].to_numpy(dtype=float) if (lo_col and hi_col) else vals
        ns = sub[n_col] if n_col in sub else [None] * len(y)
        for yi, v, end, nv in zip(y, vals, ends, ns):
            text = "skjult" if not np.isfinite(v) else fmt.pct(v)
            if not narrow and nv is not None and pd.notna(nv) and np.isfinite(v):
                text += f"  ({fmt.n(int(nv))})"
            x = 0.0 if not np.isfinite(v) else (end if np.isfinite(end) else v)
            ax.text(x + 0.012, yi, text, va="center", fontsize=size, color=TEXT)
    if narrow:
        _labels_above(ax, base, labels, size, bottom=base[-1] + bar_h * (len(hues) - 1) if len(base) else 0)
        ax.tick_params(axis="x", labelsize=size)
    else:
        ax.set_yticks(base, labels)
        ax.invert_yaxis()
    ax.set_xlim(0, 1.25 if narrow else 1.18)
    ax.set_xticks(np.linspace(0, 1, 3 if narrow else 6))
    ax.xaxis.set_major_formatter(fmt.percent_formatter())
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    if hue_col:
        if narrow:
            _narrow_legend(ax, size)
        else:
            ax.legend(loc="lower right")
    if title:
        ax.set_title(title, loc="left")
    fig.tight_layout()
    builder = None if narrow else (lambda: share_bars(df, label_col, share_col, n_col, hue_col, title, xlabel,
                                                      lo_col, hi_col, None, groups, hues if hue_col else None,
                                                      False, rank_labels, narrow=True))
    _meta(fig, builder, decimals={"share": 0}, order=groups)
    return fig


def mean_dots(df: pd.DataFrame, label_col: str, mean_col: str, lo_col: str, hi_col: str,
              hue_col: str | None = None, title: str | None = None, xlabel: str = "Gjennomsnitt (1–5)",
              xlim: tuple[float, float] = (1, 5), width: float | None = None, order: list | None = None,
              hue_order: list | None = None, sort=False, narrow: bool = False):
    """Means with 95 % intervals per group (dots and whiskers), optionally split by hue."""
    groups = _group_order(df, label_col, mean_col, order, sort)
    hues = hue_order or (list(dict.fromkeys(df[hue_col])) if hue_col else [None])
    size = NARROW_FONT if narrow else ANNOT
    labels = [_wrap(g, 46) if narrow else str(g) for g in groups]
    step = 0.3 if narrow else 0.6 / max(1, len(hues))
    base = positions(labels, narrow, extra=step * (len(hues) - 1))
    height = (_narrow_height(base, labels) + 0.2 * len(groups) * (len(hues) - 1) if narrow
              else 0.55 * len(groups) + 1.2)
    fig, ax = plt.subplots(figsize=(width or (NARROW_W if narrow else 8.0), max(2.4, height)))
    for h_i, hue in enumerate(hues):
        sub = df if hue is None else df[df[hue_col] == hue]
        sub = sub.set_index(label_col).reindex(groups)
        y = base + (h_i * step if narrow else (h_i - (len(hues) - 1) / 2) * step)
        m = sub[mean_col].to_numpy(dtype=float)
        err = np.vstack([m - sub[lo_col].to_numpy(dtype=float), sub[hi_col].to_numpy(dtype=float) - m])
        ax.errorbar(m, y, xerr=err, fmt="o", color=QUALITATIVE[h_i % len(QUALITATIVE)], capsize=3,
                    label=None if hue is None else str(hue), markersize=6)
        for yi, v, h in zip(y, m, sub[hi_col].to_numpy(dtype=float)):
            if np.isfinite(v):
                ax.text(h + 0.05, yi, fmt.num(v, 2), ha="left", va="center", fontsize=size, color=TEXT)
    if narrow:
        _labels_above(ax, base, labels, size, bottom=base[-1] + step * (len(hues) - 1) if len(base) else 0)
        ax.tick_params(axis="x", labelsize=size)
    else:
        ax.set_yticks(base, labels)
        ax.invert_yaxis()
    ax.set_xlim(xlim[0], xlim[1] + (0.5 if narrow else 0))
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(np.arange(np.ceil(xlim[0]), xlim[1] + 1)))
    ax.xaxis.set_major_formatter(fmt.number_formatter(0))
    ax.set_xlabel(xlabel)
    if hue_col:
        if narrow:
            _narrow_legend(ax, size)
        else:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        ax.set_title(title, loc="left")
    fig.tight_layout()
    builder = None if narrow else (lambda: mean_dots(df, label_col, mean_col, lo_col, hi_col, hue_col, title,
                                                     xlabel, xlim, None, groups, hues if hue_col else None, False,
                                                     narrow=True))
    _meta(fig, builder, decimals={"share": 0, "mean": 2}, order=groups)
    return fig


def grouped_columns(df: pd.DataFrame, x_col: str, y_col: str, hue_col: str, title: str | None = None,
                    ylabel: str = "Andel", percent: bool = True, width: float | None = None,
                    order: list | None = None, hue_order: list | None = None, rotate: int = 0,
                    assumed: Sequence[str] = (), narrow: bool = False):
    """Grouped columns (e.g. 2017 vs 2023). Hue values in `assumed` are not measurements: they
    are drawn hatched and unfilled, and the legend says so. On a phone the columns become
    rows (label above, one bar per hue)."""
    order = order or list(dict.fromkeys(df[x_col]))
    hue_order = hue_order or list(dict.fromkeys(df[hue_col]))
    size = NARROW_FONT if narrow else ANNOT
    k = len(hue_order)
    labels = [_wrap(o, 46) for o in order] if narrow else [_wrap(o, 18) for o in order]
    step = 0.34 if narrow else 0.8 / k
    base = positions(labels, narrow, extra=step * (k - 1))
    if narrow:
        fig, ax = plt.subplots(figsize=(width or NARROW_W, max(2.6, _narrow_height(base, labels) + 0.25 * len(order) * (k - 1))))
    else:
        fig, ax = plt.subplots(figsize=(width or 9.0, 4.6))
    for h_i, hue in enumerate(hue_order):
        sub = df[df[hue_col] == hue].set_index(x_col).reindex(order)
        vals = sub[y_col].to_numpy(dtype=float)
        pos = base + (h_i * step if narrow else (h_i - (k - 1) / 2) * step)
        color = QUALITATIVE[h_i % len(QUALITATIVE)]
        is_assumed = hue in assumed
        style = dict(facecolor="white", edgecolor=color, hatch="///", linewidth=1.2) if is_assumed else dict(color=color)
        label = f"{hue} ({ASSUMED_NOTE}, ikke målt)" if is_assumed and ASSUMED_NOTE not in str(hue) else str(hue)
        bar = (ax.barh if narrow else ax.bar)(pos, np.nan_to_num(vals), step * 0.92, label=label, **style)
        texts = [fmt.pct(v) if percent else fmt.num(v) for v in vals]
        ax.bar_label(bar, labels=[t if np.isfinite(v) else "skjult" for t, v in zip(texts, vals)],
                     fontsize=size, padding=2)
    fmt_axis = fmt.percent_formatter() if percent else fmt.number_formatter()
    if narrow:
        _labels_above(ax, base, labels, size, bottom=base[-1] + step * (k - 1) if len(base) else 0)
        ax.xaxis.set_major_formatter(fmt_axis)
        ax.set_xlim(0, float(np.nanmax(df[y_col])) * 1.3 if len(df) else 1)
        ax.set_xlabel(ylabel)
        ax.tick_params(axis="x", labelsize=size)
        _narrow_legend(ax, size, ncol=1)
    else:
        ax.set_xticks(base, labels)
        ax.yaxis.set_major_formatter(fmt_axis)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("")
        if rotate:
            plt.setp(ax.get_xticklabels(), rotation=rotate, ha="right")
        ax.legend(title=None, loc="best")
    ax.grid(axis="x" if not narrow else "y", visible=False)
    if title:
        ax.set_title(title, loc="left")
    fig.tight_layout()
    builder = None if narrow else (lambda: grouped_columns(df, x_col, y_col, hue_col, title, ylabel, percent, None,
                                                           order, hue_order, 0, assumed, narrow=True))
    _meta(fig, builder, decimals={"share": 0}, order=order, assumed=list(assumed))
    return fig


def count_bars(df: pd.DataFrame, label_col: str, value_cols: Sequence[str], *, labels: Sequence[str] | None = None,
               note_col: str | None = None, xlabel: str = "Antall", title: str | None = None,
               order: list | None = None, narrow: bool = False, width: float | None = None):
    """Horizontal bars of counts per row, stacked over `value_cols` (legend `labels`), with an
    optional text per row (`note_col`, already formatted) right of the bar."""
    data = df.set_index(label_col).reindex(order or list(df[label_col]))
    size = NARROW_FONT if narrow else ANNOT
    rows = [_wrap(str(i), 46) if narrow else str(i) for i in data.index]   # not `labels`: that is the legend
    y = positions(rows, narrow)
    fig, ax = plt.subplots(figsize=(width or (NARROW_W if narrow else 8.5),
                                    max(2.2, _narrow_height(y, rows) if narrow else 0.5 * len(data) + 1.3)))
    left = np.zeros(len(data))
    for i, col in enumerate(value_cols):
        vals = data[col].to_numpy(dtype=float)
        color = QUALITATIVE[[0, 4, 2, 1][i % 4]]
        ax.barh(y, vals, left=left, color=color, height=0.5 if narrow else 0.7,
                label=(labels or value_cols)[i] if len(value_cols) > 1 else None)
        for yi, (v, s) in enumerate(zip(vals, left)):
            if np.isfinite(v) and v > 0.12 * np.nanmax(data[list(value_cols)].sum(axis=1)):
                ax.text(s + v / 2, y[yi], fmt.num(v), ha="center", va="center", fontsize=size, color=_ink(color))
        left = left + np.nan_to_num(vals)
    if note_col:
        for yi, (t, note) in enumerate(zip(left, data[note_col])):
            ax.text(t + 0.01 * left.max(), y[yi], str(note), va="center", fontsize=size, color=TEXT)
    if narrow:
        _labels_above(ax, y, rows, size)
        ax.tick_params(axis="x", labelsize=size)
    else:
        ax.set_yticks(y, rows)
        ax.invert_yaxis()
    ax.set_xlim(0, float(left.max()) * (1.45 if note_col else 1.1) if len(left) else 1)
    ax.xaxis.set_major_formatter(fmt.number_formatter())
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    if len(value_cols) > 1:
        if narrow:
            _narrow_legend(ax, size)
        else:
            ax.legend(loc="lower right")
    if title:
        ax.set_title(title, loc="left")
    fig.tight_layout()
    builder = None if narrow else (lambda: count_bars(df, label_col, value_cols, labels=labels, note_col=note_col,
                                                      xlabel=xlabel, title=title, order=order, narrow=True))
    _meta(fig, builder, decimals={"share": 0}, order=list(data.index))
    return fig
