"""The synthetic twin: a seeded, documented generator of what the survey tool would export.

* :mod:`~tillit.data.synth.latent` – the latent model (people, units, latent scores, items);
* :mod:`~tillit.data.synth.calibrate` – the minimal-move calibration onto published figures;
* :mod:`~tillit.data.synth.raw` – the answers as the tools export them, with the mess;
* :mod:`~tillit.data.synth.export` – the public API and the writer of ``data/raw/``.

Public API: :func:`generate` (raw, export-like tables), :func:`generate_clean` (the same data
in the processed layout, without the mess), :func:`write_raw` (files in ``data/raw/``).
"""
from tillit.data.synth.calibrate import (CalibrationError, calibrate_mean, calibrate_share,
                                         feasible_counts, largest_remainder, round_half_up)
from tillit.data.synth.export import (MARKER, SURVEY_FORMATS, SURVEY_STEM, adopt_legacy, ensure_raw, generate,
                                      generate_clean, generate_survey, write_raw)
from tillit.data.synth.latent import default_seed, load_model, load_published

__all__ = ["CalibrationError", "MARKER", "SURVEY_FORMATS", "SURVEY_STEM", "adopt_legacy", "calibrate_mean",
           "calibrate_share", "default_seed", "ensure_raw", "feasible_counts", "generate", "generate_clean", "generate_survey", "largest_remainder", "load_model",
           "load_published", "round_half_up", "write_raw"]
