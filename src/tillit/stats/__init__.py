"""Klargjorte data → numbers fit to publish: aggregations, the disclosure gate, the ordinal
models (estimation and tests, no plotting) and the reproduction ledger."""
