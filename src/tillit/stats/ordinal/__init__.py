"""Ordinal (cumulative-link) regressions (being split into modules; see design.py)."""
from tillit.stats.ordinal.design import *  # noqa: F401,F403
from tillit.stats.ordinal.design import fmt  # noqa: F401  (tests reach fmt through the module)
