"""Kildedata → klargjorte data: the codebook, the export readers and their schemas, the
documented preparation rules, and the synthetic twin."""
