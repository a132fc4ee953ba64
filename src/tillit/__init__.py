"""Tillitsreformen i NAV – Delrapport 1 as a reproducible research compendium."""
__version__ = "0.1.0"
