"""Ordinal (cumulative-link) regressions on the trust-vs-steering questions.

Models are declared as data in ``params/models.yml`` and fitted with statsmodels'
``OrderedModel`` through a subclass with the exact score and Hessian. Estimation and tests
only: the reader's tables, figures and Norwegian prose are made in :mod:`tillit.book.models`.

- :mod:`.specs` – ``load_models``, ``ModelSpec``, ``spec_from_formula``, the errors
- :mod:`.design` – ``build_design`` → ``Design`` (with "Vet ikke"/missing counts) and the guards
- :mod:`.model` – ``CumulativeLinkModel`` (exact derivatives), ``newton``
- :mod:`.estimation` – ``fit_model`` / ``fit_design`` / ``fit_arrays`` → ``OrdinalFit``
- :mod:`.po_tests` – ``lr_test``, ``brant_test``, ``wald_term``
- :mod:`.inference` – ``odds_ratio_table``, ``coefficient_intervals`` (standard and few-cluster)
- :mod:`.bootstrap` – ``WildBootstrap``: wild cluster score bootstrap (a check on CR2)
- :mod:`.predict` – ``predicted_probabilities``
- :mod:`.partial` – ``fit_partial_po``: partial proportional odds (clm's ``nominal=``)
- :mod:`.fewcluster` – CR2 with its working-model reference distribution (few clusters)
- :mod:`.separation` – the separation guards
- :mod:`.simulate` – ``simulate_survey``, ``truth_vector``, ``marginal_scale``

Nothing here writes respondent-level rows anywhere.
"""
from tillit.stats.ordinal.design import Design, build_design
from tillit.stats.ordinal.estimation import (OrdinalFit, fit_arrays, fit_design, fit_model,
                                             fit_plain_statsmodels)
from tillit.stats.ordinal.bootstrap import WildBootstrap
from tillit.stats.ordinal.fewcluster import clusters_behind, cr2
from tillit.stats.ordinal.inference import (METHOD_FEW, METHOD_STANDARD, coefficient_intervals,
                                            few_cluster_threshold, odds_ratio_table)
from tillit.stats.ordinal.model import Convergence, CumulativeLinkModel, newton
from tillit.stats.ordinal.partial import PartialPOFit, PartialPOModel, fit_partial_po
from tillit.stats.ordinal.po_tests import BrantResult, LRTest, brant_test, lr_test, wald_term
from tillit.stats.ordinal.predict import predicted_probabilities
from tillit.stats.ordinal.simulate import marginal_scale, simulate_survey, truth_vector
from tillit.stats.ordinal.specs import (LONG_OUTCOME, BootstrapSettings, Comparison, InferenceSettings, ReaderWords, ConvergenceError, ModelsFile,
                                        ModelSpec, OrdinalDataError, OrdinalError, OrdinalWarning,
                                        SeparationError, check_nested, load_models, parse_models,
                                        spec_from_formula)

__all__ = [
    "LONG_OUTCOME", "METHOD_FEW", "METHOD_STANDARD", "WildBootstrap", "clusters_behind", "cr2",
    "coefficient_intervals", "few_cluster_threshold", "BrantResult", "BootstrapSettings", "InferenceSettings", "ReaderWords", "Comparison", "Convergence", "ConvergenceError",
    "CumulativeLinkModel", "Design", "LRTest", "ModelSpec", "ModelsFile", "OrdinalDataError",
    "OrdinalError", "OrdinalFit", "OrdinalWarning", "SeparationError", "brant_test", "build_design",
    "check_nested", "fit_arrays", "fit_design", "fit_model", "fit_plain_statsmodels", "load_models",
    "lr_test", "marginal_scale", "newton", "odds_ratio_table", "parse_models",
    "predicted_probabilities", "PartialPOFit", "PartialPOModel", "fit_partial_po", "simulate_survey", "spec_from_formula", "truth_vector", "wald_term",
]
