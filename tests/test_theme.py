"""The book's chart theme is seaborn's whitegrid/notebook theme (tillit.book.plots.SEABORN_THEME
carries its values so kernels need not import seaborn and scipy.stats): checked against seaborn."""
from __future__ import annotations

import subprocess
import sys

import matplotlib as mpl
import pytest

from tillit.book import plots

sns = pytest.importorskip("seaborn")


def _rc(*steps) -> dict:
    with mpl.rc_context():
        mpl.rcdefaults()
        for step in steps:
            step()
        return dict(mpl.rcParams)


def _seaborn():
    sns.set_theme(style="whitegrid", context="notebook", palette=plots.QUALITATIVE)


def test_theme_values_are_seaborns():
    theirs = _rc(_seaborn)
    ours = _rc(lambda: mpl.rcParams.update(plots.SEABORN_THEME))
    for key in plots.SEABORN_THEME:
        assert ours[key] == theirs[key], key
    assert _rc(plots.set_theme)["axes.prop_cycle"] == _rc(_seaborn)["axes.prop_cycle"]


def test_theme_sets_every_key_seaborn_sets():
    # After seaborn and then the book's theme, only the book's values may remain: a key that
    # seaborn sets and SEABORN_THEME forgot would keep seaborn's value here but not without it.
    alone = _rc(plots.set_theme)
    both = _rc(_seaborn, plots.set_theme)
    differ = sorted(k for k in both if both[k] != alone[k] and k != "image.cmap")
    assert differ == []


def test_kernels_do_not_import_seaborn_or_scipy_stats():
    code = ("import sys; from tillit.book import context, diagrams, plots; from tillit.book.chapters import "
            "shared, videre_arbeid; plots.set_theme(); "
            "print(sorted(m for m in ('seaborn', 'scipy.stats', 'statsmodels') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
