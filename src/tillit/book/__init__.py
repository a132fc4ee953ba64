"""Numbers → the book: the context a chapter notebook starts with, one module per chapter of
the report, plots, display helpers, provenance and rendering (Quarto or the fallback)."""
