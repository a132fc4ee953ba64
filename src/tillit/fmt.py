"""Norwegian number formatting for prose, tables and plots.

Decimal comma, a non-breaking space as thousands separator and before "%", an en dash in
intervals. matplotlib's locale setting only reaches tick labels, so every annotation and
table goes through these functions instead.
"""
from __future__ import annotations

import math
from numbers import Real

NBSP = "\u00a0"
MISSING = "–"  # shown for suppressed or missing values


def _is_missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(math.isnan(x))
    except TypeError:
        return False


def num(x: Real | None, decimals: int = 0) -> str:
    """3660 → '3 660'; 1.234 (2) → '1,23'."""
    if _is_missing(x):
        return MISSING
    text = f"{float(x):,.{decimals}f}"
    # Python gives '3,660.5'; swap separators the Norwegian way.
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", NBSP)


def pct(share: Real | None, decimals: int = 0, *, word: bool = False) -> str:
    """0.2734 → '27 %' (or '27 prosent' in running text with word=True)."""
    if _is_missing(share):
        return MISSING
    return f"{num(100 * float(share), decimals)}{NBSP}{'prosent' if word else '%'}"


def pct_points(diff: Real | None, decimals: int = 0) -> str:
    if _is_missing(diff):
        return MISSING
    sign = "+" if diff > 0 else ("−" if diff < 0 else "")
    return f"{sign}{num(abs(100 * float(diff)), decimals)}{NBSP}prosentpoeng"


def signed(x: Real | None, decimals: int = 2) -> str:
    if _is_missing(x):
        return MISSING
    sign = "−" if x < 0 else ""
    return f"{sign}{num(abs(float(x)), decimals)}"


def interval(lo: Real | None, hi: Real | None, decimals: int = 2) -> str:
    """(1.1, 1.38) → '1,10–1,38' (negative bounds with a true minus sign)."""
    if _is_missing(lo) or _is_missing(hi):
        return MISSING
    return f"{signed(lo, decimals)}–{signed(hi, decimals)}"


def estimate_ci(est: Real, lo: Real, hi: Real, decimals: int = 2) -> str:
    """'1,23 (1,10–1,38)'."""
    return f"{signed(est, decimals)} ({interval(lo, hi, decimals)})"


def n(x: int) -> str:
    """'n = 3 660' for captions."""
    return f"n{NBSP}={NBSP}{num(x)}"


def listing(items: list[str], conj: str = "og") -> str:
    """['a', 'b', 'c'] → 'a, b og c'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conj} {items[-1]}"


def ordinal_word(k: int) -> str:
    words = {1: "første", 2: "andre", 3: "tredje", 4: "fjerde", 5: "femte", 6: "sjette",
             7: "sjuende", 8: "åttende", 9: "niende", 10: "tiende", 11: "ellevte",
             12: "tolvte", 13: "trettende"}
    return words.get(k, f"{k}.")


def number_word(k: int) -> str:
    words = {0: "ingen", 1: "én", 2: "to", 3: "tre", 4: "fire", 5: "fem", 6: "seks", 7: "sju",
             8: "åtte", 9: "ni", 10: "ti", 11: "elleve", 12: "tolv", 13: "tretten"}
    return words.get(k, num(k))


def percent_formatter(decimals: int = 0):
    """A matplotlib tick formatter for shares (0–1) in Norwegian style."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: pct(v, decimals))


def number_formatter(decimals: int = 0):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: num(v, decimals))
