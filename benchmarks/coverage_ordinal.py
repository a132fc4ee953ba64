"""Coverage of the 95 % intervals of the ordinal models – run by hand, not in CI.

    .venv/bin/python benchmarks/coverage_ordinal.py [--seeds 200] [--n 3660] [--link logit]
                                                     [--unit-sd 0.2] [--brant-seeds 100]

Simulates the main model (params/models.yml: trust) many times from the twin's true
coefficients (params/synthetic.yml, with a random unit intercept), fits it with cluster-robust
standard errors, and prints the share of 95 % intervals that cover the truth, per coefficient
and overall. The estimand is the population-averaged coefficient (a model without random
effects): exact β/√(1+σ²) for probit, the Zeger–Liang–Albert approximation for logit
(tillit.stats.ordinal.marginal_scale). With --brant-seeds it also prints how often the Brant test
rejects proportional odds at 5 % when it holds (model-based and cluster-robust forms).
With --twin the data come from the synthetic twin itself (tillit.data.synth.generate_clean, 150
units, calibrated to the published shares) instead of the plain simulator.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tillit.stats import ordinal as o  # noqa: E402
from tillit.data.codebook import load_codebook  # noqa: E402
from tillit.config import read_yaml, repo_root  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--n", type=int, default=3660)
    ap.add_argument("--model", default="trust")
    ap.add_argument("--link", choices=["logit", "probit"], default=None)
    ap.add_argument("--unit-sd", type=float, default=None)
    ap.add_argument("--brant-seeds", type=int, default=0)
    ap.add_argument("--twin", action="store_true",
                    help="simulate with tillit.data.synth.generate_clean (the twin, calibrated) instead")
    args = ap.parse_args()

    cb = load_codebook()
    models = o.load_models()
    spec = models.get(args.model)
    if args.link:
        spec = spec.model_copy(update={"link": args.link})
    truth = {**read_yaml(repo_root() / "params" / "synthetic.yml")["outcomes"][spec.outcome],
             "outcome": spec.outcome, "link": spec.link}
    if args.unit_sd is not None:
        truth["unit_sd"] = args.unit_sd
    z = stats.norm.ppf(0.975)
    hits, ests, failures = [], [], 0
    brant_p = {"modellbasert": [], "klyngerobust": []}
    t0 = time.perf_counter()
    for seed in range(args.seeds):
        if args.twin:
            from tillit.data import synth

            data = synth.generate_clean(seed=10_000 + seed, n_respondents=args.n)["survey_2023"]
        else:
            data = o.simulate_survey(args.n, truth, seed=10_000 + seed, codebook=cb)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", o.OrdinalWarning)
            try:
                fit = o.fit_model(spec, data, name=args.model, codebook=cb)
            except o.OrdinalError as exc:  # counted, not hidden
                failures += 1
                print(f"frø {seed}: {exc}", file=sys.stderr)
                continue
            if seed < args.brant_seeds:
                brant_p["modellbasert"].append(o.brant_test(fit).overall["p"])
                brant_p["klyngerobust"].append(o.brant_test(fit, robust=True).overall["p"])
        true = o.truth_vector(fit.design.X.columns, truth)
        se = pd.Series(np.sqrt(np.diag(fit.cov))[: fit.k_beta], index=fit.beta.index)
        hits.append((fit.beta - z * se <= true) & (true <= fit.beta + z * se))
        ests.append(fit.beta - true)
    elapsed = time.perf_counter() - t0
    hits_df = pd.DataFrame(hits)
    bias = pd.DataFrame(ests).mean()
    k = len(hits_df)
    mc_se = np.sqrt(0.95 * 0.05 / k)
    print(f"Data: {'tvillingen (tillit.data.synth.generate_clean)' if args.twin else 'tillit.stats.ordinal.simulate_survey'}")
    print(f"Modell '{args.model}' ({spec.link}), n = {args.n}, enhets-sd = {truth['unit_sd']}, "
          f"{k} simuleringer ({failures} feilet), {elapsed:.0f} s")
    print(f"Skaleringsfaktor for populasjonsgjennomsnittet: {o.marginal_scale(truth):.4f}")
    print(f"{'koeffisient':<28} {'dekning':>8} {'skjevhet':>9}")
    for c in hits_df.columns:
        print(f"{c:<28} {hits_df[c].mean():>8.3f} {bias[c]:>+9.4f}")
    within = [c for c in hits_df.columns if not c.startswith("unit_type[")]
    print(f"\nSamlet dekning (alle {hits_df.shape[1]} koeffisienter): {hits_df.to_numpy().mean():.3f} "
          f"(Monte Carlo-se per koeffisient ≈ {mc_se:.3f})")
    print(f"Respondentnivå (styringsvariabler og rolle): {hits_df[within].to_numpy().mean():.3f}")
    print(f"Enhetstype (enhetsnivå-dummyer): {hits_df.drop(columns=within).to_numpy().mean():.3f}")
    for name, ps in brant_p.items():
        if ps:
            print(f"Brant-test ({name}) forkaster PO ved 5 % i {np.mean(np.array(ps) < 0.05):.3f} "
                  f"av {len(ps)} simuleringer der PO holder")


if __name__ == "__main__":
    main()
