"""Timing of the ordinal models – run by hand, not in CI.

    .venv/bin/python benchmarks/bench_ordinal.py [--repeats 5] [--plain-all] [--model trust]
                                                 [--skip-sizes] [--draws 999]

Fits the declared model on 3 660, 36 600 and 366 000 synthetic respondents (tillit.stats.ordinal's
simulator with the twin's true coefficients from params/synthetic.yml) and prints the time per
fit (median of a few repeats; design + Newton + cluster-robust covariance), its growth, and the
ratio against the stock statsmodels OrderedModel fit (BFGS with numerical derivatives, then a
numerical Hessian) on the same design. The stock fit at 366 000 takes minutes; it runs only
with --plain-all.

Then, on the synthetic twin (default seed), the inference the book adds, per model: the CR2
intervals with their working-model quantiles for every coefficient (and for the few-cluster
ones the book shows), the wild cluster score bootstrap (params/models.yml: draws, Webb
weights, seed) – one test per coefficient and the inverted intervals for every coefficient –
and the partial proportional-odds fits the chapter makes where Brant rejects.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: comparable on a shared machine

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tillit.stats import ordinal as o  # noqa: E402
from tillit.data.codebook import load_codebook  # noqa: E402
from tillit.config import read_yaml, repo_root  # noqa: E402

SIZES = (3660, 36600, 366000)
TARGETS = {3660: 0.25, 366000: 6.0}


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--model", default="trust")
    ap.add_argument("--plain-all", action="store_true", help="also run stock statsmodels at 366 000")
    ap.add_argument("--skip-sizes", action="store_true", help="only the twin's inference timings")
    ap.add_argument("--draws", type=int, default=None, help="bootstrap draws (default: params/models.yml)")
    args = ap.parse_args()
    if not args.skip_sizes:
        sizes(args)
    inference_timings(args)


def inference_timings(args) -> None:
    from tillit.data import synth

    models = o.load_models()
    boot_cfg = models.inference.bootstrap
    draws = args.draws or boot_cfg.draws
    data = synth.generate_clean()["survey_2023"]
    print(f"\nTvillingen (standardfrø): CR2, villbootstrap ({draws} trekk, {boot_cfg.weights}), partielle PO")
    for name in ("trust", "mor_effect", "goal_types"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = o.fit_model(name, data, models=models)
            t_few, ci = timed(lambda: o.coefficient_intervals(fit), args.repeats)
            n_few = int((ci["metode"] == o.METHOD_FEW).sum())
            t_all, _ = timed(lambda: o.coefficient_intervals(fit, every=True), 1)
            boot = o.WildBootstrap.for_fit(fit, draws=draws, seed=boot_cfg.seed, kind=boot_cfg.weights)
            cols = list(fit.design.X.columns)
            t_test, _ = timed(lambda: [boot.p_value(k, 0.0) for k in range(len(cols))], 1)
            t0 = time.perf_counter()
            if name != "goal_types":  # 3 339 clusters: the bootstrap is not needed there
                ints = {c: boot.interval(c) for c in cols}
                t_int = time.perf_counter() - t0
                unbounded = sum(not np.isfinite(lo) or not np.isfinite(hi) for lo, hi in ints.values())
            else:
                t_int, unbounded = float("nan"), 0
            brant = o.brant_test(fit, alpha=models.inference.po_alpha)
            t_ppo = float("nan")
            if brant.failed:
                t_ppo, _ = timed(lambda: o.fit_partial_po(fit, brant.failed), 1)
        print(f"  {name:<11} {len(cols):>2} koeff. ({n_few:>2} få klynger): CR2 for tabellen {t_few:.3f} s, "
              f"for alle {t_all:.3f} s; villbootstrap {len(cols)} tester {t_test:.2f} s, alle intervaller "
              f"{t_int:.1f} s ({unbounded} ubegrenset); partiell PO "
              + (f"{t_ppo:.2f} s for {brant.failed}" if brant.failed else "ikke nødvendig (Brant holder)"),
              flush=True)


def sizes(args) -> None:

    cb = load_codebook()
    models = o.load_models()
    spec = models.get(args.model)
    truth = {**read_yaml(repo_root() / "params" / "synthetic.yml")["outcomes"][spec.outcome],
             "outcome": spec.outcome}
    rows = []
    print(f"Modell '{args.model}' ({spec.link}), klyngerobust etter {spec.cluster}")
    print(f"{'n':>8} {'brukt':>8} {'param':>5} {'tid (s)':>9} {'iter':>4} {'maks|g|':>9} "
          f"{'plain (s)':>10} {'plain/vår':>9} {'plain konv.':>11} {'maks|Δθ|':>9}")
    for n in SIZES:
        data = o.simulate_survey(n, truth, seed=2023, codebook=cb)
        reps = args.repeats if n < 366000 else max(3, args.repeats // 2)
        t_fit, fit = timed(lambda: o.fit_model(spec, data, name=args.model, models=models, codebook=cb), reps)
        row = {"n": n, "used": fit.design.n_used, "k": len(fit.params), "t": t_fit,
               "iter": fit.convergence.iterations, "g": fit.convergence.max_abs_score}
        if n < 366000 or args.plain_all:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_plain, plain = timed(lambda: o.fit_plain_statsmodels(fit.design, method="bfgs", maxiter=1000),
                                       1 if n > 3660 else 3)
            row.update(t_plain=t_plain, ratio=t_plain / t_fit,
                       plain_conv=bool(plain.mle_retvals.get("converged")),
                       plain_g=float(np.abs(fit.model.score(np.asarray(plain.params))).max()),
                       dtheta=float(np.abs(np.asarray(plain.params) - fit.params).max()))
        rows.append(row)
        print(f"{n:>8} {row['used']:>8} {row['k']:>5} {t_fit:>9.3f} {row['iter']:>4} {row['g']:>9.1e} "
              + (f"{row['t_plain']:>10.2f} {row['ratio']:>9.1f} {str(row['plain_conv']):>11} {row['dtheta']:>9.1e}"
                 if "t_plain" in row else f"{'ikke kjørt':>10}"), flush=True)
    print()
    for a, b in zip(rows, rows[1:]):
        print(f"vekst {a['n']} → {b['n']}: tid ×{b['t'] / a['t']:.1f} for n ×{b['n'] / a['n']:.0f}")
    for n, limit in TARGETS.items():
        t = next(r["t"] for r in rows if r["n"] == n)
        print(f"mål ≤ {limit} s ved {n}: {t:.3f} s – {'OK' if t <= limit else 'IKKE NÅDD'}")
    plain_rows = [r for r in rows if "t_plain" in r]
    for r in plain_rows:
        print(f"statsmodels (BFGS, numeriske deriverte) ved {r['n']}: konvergert={r['plain_conv']}, "
              f"maks|score| i dens optimum {r['plain_g']:.1e} (vår: {r['g']:.1e})")


if __name__ == "__main__":
    main()
