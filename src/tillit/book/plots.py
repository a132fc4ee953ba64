"""The shared theme and chart helpers: one look for every figure in the book.

Colours come from ColorBrewer's BrBG (diverging) and a colour-blind-safe qualitative set;
all numbers on axes and bars are formatted the Norwegian way through tillit.fmt.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless and deterministic; notebooks still show figures via report
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from tillit import fmt  # noqa: E402

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
QUALITATIVE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
DONT_KNOW = "#BDBDBD"
NEUTRAL = "#E0E0E0"
TEXT = "#222222"


def set_theme() -> None:
    sns.set_theme(style="whitegrid", context="notebook", palette=QUALITATIVE)
    plt.rcParams.update({
        "figure.dpi": 110,
        "font.family": "DejaVu Sans",
        "axes.titleweight": "bold",
        "axes.titlesize": 12,
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "legend.frameon": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "tillit",  # deterministic ids should anyone save SVG
        "axes.formatter.use_locale": False,
    })


def diverging_colors(k: int = 5) -> list:
    pal = sns.color_palette("BrBG", k)
    if k % 2:
        pal[k // 2] = matplotlib.colors.to_rgb(NEUTRAL)
    return pal


def diverging(shares: pd.DataFrame, labels: dict[int, str], dont_know: str | None = "Vet ikke",
              title: str | None = None, n_col: str | None = "n", sort: bool = True,
              height_per_row: float = 0.42, width: float = 9.5):
    """Diverging stacked bars for a 5-point scale.

    `shares`: one row per item/group (index = row label) with columns 1..5 (shares of all
    answers, "Vet ikke" included in the denominator) and optionally `dont_know` and `n_col`.
    Negative answers (1–2) extend left of zero, positive (4–5) right, the middle category is
    split across zero; "Vet ikke" is drawn apart in its own panel and counted.
    Rows are sorted by net effect (share 4–5 minus share 1–2), largest at the top.
    """
    df = shares.copy()
    codes = [1, 2, 3, 4, 5]
    if sort:
        net = df[4] + df[5] - df[1] - df[2]
        df = df.loc[net.sort_values(ascending=True).index]
    has_dk = dont_know is not None and dont_know in df.columns
    fig, axes = plt.subplots(
        1, 2 if has_dk else 1, figsize=(width, max(2.2, height_per_row * len(df) + 1.3)),
        sharey=True, gridspec_kw={"width_ratios": [5, 1]} if has_dk else None, squeeze=False,
    )
    ax = axes[0, 0]
    colors = diverging_colors(5)
    y = np.arange(len(df))
    left_start = -(df[1] + df[2] + df[3] / 2).to_numpy(dtype=float)
    starts = {1: left_start}
    starts[2] = starts[1] + df[1].to_numpy(dtype=float)
    starts[3] = starts[2] + df[2].to_numpy(dtype=float)
    starts[4] = starts[3] + df[3].to_numpy(dtype=float)
    starts[5] = starts[4] + df[4].to_numpy(dtype=float)
    for code in codes:
        width_vals = df[code].to_numpy(dtype=float)
        ax.barh(y, width_vals, left=starts[code], color=colors[code - 1], edgecolor="white",
                linewidth=0.6, label=labels[code], height=0.72)
        for yi, (w, s) in enumerate(zip(width_vals, starts[code])):
            if np.isfinite(w) and w >= 0.06:
                ax.text(s + w / 2, yi, fmt.pct(w), ha="center", va="center", fontsize=7.5,
                        color="white" if code in (1, 5) else TEXT)
    ax.axvline(0, color="#555555", linewidth=0.8)
    row_labels = [str(i) for i in df.index]
    if n_col and n_col in df.columns and df[n_col].nunique(dropna=False) > 1:
        row_labels = [f"{lab} ({fmt.n(int(nv))})" if pd.notna(nv) else f"{lab} (prikket)"
                      for lab, nv in zip(row_labels, df[n_col])]
    ax.set_yticks(y, row_labels)
    lim = np.nanmax(np.abs(np.r_[starts[1], starts[5] + df[5].to_numpy(dtype=float)])) if len(df) else 1
    lim = min(1.0, np.ceil((lim + 0.05) * 10) / 10)
    ax.set_xlim(-lim, lim)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: fmt.pct(abs(v))))
    ax.set_xlabel("Andel av alle svar (negative til venstre, positive til høyre)")
    ax.legend(ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.16 if len(df) > 4 else -0.3),
              handlelength=1.2, columnspacing=1.0)
    ax.grid(axis="y", visible=False)
    if has_dk:
        dax = axes[0, 1]
        vals = df[dont_know].to_numpy(dtype=float)
        dax.barh(y, vals, color=DONT_KNOW, height=0.72)
        for yi, v in enumerate(vals):
            if np.isfinite(v):
                dax.text(v + 0.005, yi, fmt.pct(v), va="center", fontsize=7.5, color=TEXT)
        dax.set_xlim(0, max(0.1, np.nanmax(vals) * 1.8 if len(vals) else 0.1))
        dax.set_title("Vet ikke", fontsize=9, fontweight="normal")
        dax.xaxis.set_major_formatter(fmt.percent_formatter())
        dax.tick_params(axis="x", labelsize=7)
        dax.grid(axis="y", visible=False)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=12)
    fig.tight_layout()
    return fig


def share_bars(df: pd.DataFrame, label_col: str, share_col: str, n_col: str = "n",
               hue_col: str | None = None, title: str | None = None, xlabel: str = "Andel",
               lo_col: str | None = None, hi_col: str | None = None, width: float = 8.5,
               order: list | None = None, hue_order: list | None = None):
    """Horizontal bars of a share per group (optionally split by `hue_col`), n on each label."""
    data = df.copy()
    groups = order or list(dict.fromkeys(data[label_col]))
    hues = hue_order or (list(dict.fromkeys(data[hue_col])) if hue_col else [None])
    fig, ax = plt.subplots(figsize=(width, max(2.4, 0.5 * len(groups) * max(1, len(hues) * 0.7) + 1.2)))
    bar_h = 0.8 / len(hues)
    for h_i, hue in enumerate(hues):
        sub = data if hue is None else data[data[hue_col] == hue]
        sub = sub.set_index(label_col).reindex(groups)
        y = np.arange(len(groups)) + (h_i - (len(hues) - 1) / 2) * bar_h
        vals = sub[share_col].to_numpy(dtype=float)
        xerr = None
        if lo_col and hi_col:
            xerr = np.vstack([vals - sub[lo_col].to_numpy(dtype=float), sub[hi_col].to_numpy(dtype=float) - vals])
        ax.barh(y, np.nan_to_num(vals), height=bar_h * 0.92, color=QUALITATIVE[h_i % len(QUALITATIVE)],
                label=None if hue is None else str(hue), xerr=xerr, error_kw={"elinewidth": 0.8, "capsize": 2})
        # Labels start right of the interval's upper end, so whiskers never cross them.
        ends = sub[hi_col].to_numpy(dtype=float) if (lo_col and hi_col) else vals
        for yi, v, end, nv in zip(y, vals, ends, sub[n_col] if n_col in sub else [None] * len(y)):
            text = "prikket" if not np.isfinite(v) else fmt.pct(v)
            if nv is not None and pd.notna(nv) and np.isfinite(v):
                text += f"  ({fmt.n(int(nv))})"
            x = 0.0 if not np.isfinite(v) else (end if np.isfinite(end) else v)
            ax.text(x + 0.012, yi, text, va="center", fontsize=7.5, color=TEXT)
    ax.set_yticks(np.arange(len(groups)), [str(g) for g in groups])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.18)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.xaxis.set_major_formatter(fmt.percent_formatter())
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    if hue_col:
        ax.legend(loc="lower right")
    if title:
        ax.set_title(title, loc="left")
    fig.tight_layout()
    return fig


def mean_dots(df: pd.DataFrame, label_col: str, mean_col: str, lo_col: str, hi_col: str,
              hue_col: str | None = None, title: str | None = None, xlabel: str = "Gjennomsnitt (1–5)",
              xlim: tuple[float, float] = (1, 5), width: float = 8.0, order: list | None = None,
              hue_order: list | None = None):
    """Means with 95 % intervals per group (dots and whiskers), optionally split by hue."""
    groups = order or list(dict.fromkeys(df[label_col]))
    hues = hue_order or (list(dict.fromkeys(df[hue_col])) if hue_col else [None])
    fig, ax = plt.subplots(figsize=(width, max(2.2, 0.55 * len(groups) + 1.2)))
    step = 0.6 / max(1, len(hues))
    for h_i, hue in enumerate(hues):
        sub = df if hue is None else df[df[hue_col] == hue]
        sub = sub.set_index(label_col).reindex(groups)
        y = np.arange(len(groups)) + (h_i - (len(hues) - 1) / 2) * step
        m = sub[mean_col].to_numpy(dtype=float)
        err = np.vstack([m - sub[lo_col].to_numpy(dtype=float), sub[hi_col].to_numpy(dtype=float) - m])
        ax.errorbar(m, y, xerr=err, fmt="o", color=QUALITATIVE[h_i % len(QUALITATIVE)], capsize=3,
                    label=None if hue is None else str(hue), markersize=6)
        hi_vals = sub[hi_col].to_numpy(dtype=float)
        for yi, v, h in zip(y, m, hi_vals):
            if np.isfinite(v):
                ax.text(h + 0.04, yi, fmt.num(v, 2), ha="left", va="center", fontsize=7.5, color=TEXT)
    ax.set_yticks(np.arange(len(groups)), [str(g) for g in groups])
    ax.invert_yaxis()
    ax.set_xlim(*xlim)
    ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(1))
    ax.xaxis.set_major_formatter(fmt.number_formatter(0))
    ax.set_xlabel(xlabel)
    if hue_col:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        ax.set_title(title, loc="left")
    fig.tight_layout()
    return fig


def grouped_columns(df: pd.DataFrame, x_col: str, y_col: str, hue_col: str, title: str | None = None,
                    ylabel: str = "Andel", percent: bool = True, width: float = 9.0,
                    order: list | None = None, hue_order: list | None = None, rotate: int = 0):
    """Grouped vertical columns (e.g. 2017 vs 2023, or letters by category)."""
    fig, ax = plt.subplots(figsize=(width, 4.2))
    sns.barplot(data=df, x=x_col, y=y_col, hue=hue_col, order=order, hue_order=hue_order, ax=ax,
                palette=QUALITATIVE[: len(hue_order or df[hue_col].unique())])
    for container in ax.containers:
        ax.bar_label(container, labels=[fmt.pct(v.get_height()) if percent else fmt.num(v.get_height())
                                        for v in container], fontsize=7.5, padding=2)
    if percent:
        ax.yaxis.set_major_formatter(fmt.percent_formatter())
    else:
        ax.yaxis.set_major_formatter(fmt.number_formatter())
    ax.set_xlabel("")
    ax.set_ylabel(ylabel)
    if rotate:
        plt.setp(ax.get_xticklabels(), rotation=rotate, ha="right")
    ax.legend(title=None, loc="best")
    if title:
        ax.set_title(title, loc="left")
    fig.tight_layout()
    return fig
