"""Coverage of the ordinal models' 95 % intervals on the synthetic twin – run by hand, not in CI.

    .venv/bin/python benchmarks/coverage_ordinal.py [--seeds 1000] [--first-seed 0] [--workers 2]
        [--models trust mor_effect] [--draws 399] [--no-bootstrap] [--brant] [--calibrated]
        [--simulator] [--csv FILE] [--pool CSV ...]

For each seed the twin's survey is generated afresh (tillit.data.synth.generate_survey, seed
10 000 + i: new units, unit effects, respondents and answers). By default the model outcomes
are left as the latent model drew them (calibrate_outcomes=False), so the truth is the model's;
--calibrated calibrates them to the published shares as the book's twin does, which pins the
NKS and Klage og anke shares of the trust outcome and makes their coefficients vary less than
the model says (docs/ordinal.md, "Dekning"). --simulator draws from simulate_survey instead
(a known model, but ~13 units per unit type, so not the few-cluster case). Then
the declared models (params/models.yml) are fitted. For every coefficient it records whether
each kind of 95 % interval covers the truth – params/synthetic.yml's coefficient, shrunk to
the population-averaged scale a model without unit effects estimates (marginal_scale):

  standard  CR1 cluster-robust SE, normal quantile (the models' default; R clm + vcovCL)
  cr2       CR2 SE with its working-model reference distribution (tillit.stats.ordinal.fewcluster)
  cr2_ik    CR2 SE with the reference distribution worked out under a random-intercept working
            model (Imbens & Kolesár 2016; the unit variance estimated from the residuals)
  cr2_bm    CR2 SE with a t(Bell–McCaffrey df) quantile (the Satterthwaite summary of the same)
  cr2_g1    CR2 SE with a t(G − 1) quantile, G = all clusters in the model
  wild      wild cluster score bootstrap imposing the null (Webb weights): the truth is
            covered iff the bootstrap test of "coefficient = truth" does not reject at 5 %
  valgt     what the book's tables show: cr2 where fewer than inference.few_clusters
            clusters lie behind the coefficient, standard otherwise

and prints coverage per coefficient with its Monte Carlo standard error √(p(1 − p)/S), how many
clusters lie behind it, and which coefficients fall outside 93–97 %. Seeds are spread over
`--workers` processes (one BLAS thread each); every number depends only on the seed.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy: each worker uses one core

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from multiprocessing import get_context  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tillit.config import read_yaml, repo_root  # noqa: E402
from tillit.stats import ordinal as o  # noqa: E402
from tillit.stats.ordinal import fewcluster as fc  # noqa: E402

KINDS = ("standard", "cr2", "cr2_ik", "cr2_bm", "cr2_g1", "wild", "valgt")
TARGET = (0.93, 0.97)
_STATE: dict = {}


def _init(models: list[str], draws: int, bootstrap: bool, simulator: bool, brant: bool,
          calibrated: bool = False) -> None:
    warnings.simplefilter("ignore")
    spec = o.load_models()
    truths = read_yaml(repo_root() / "params" / "synthetic.yml")["outcomes"]
    _STATE.update(models=models, spec=spec, draws=draws, bootstrap=bootstrap, simulator=simulator, brant=brant,
                  calibrated=calibrated,
                  truth={m: {**truths[spec.get(m).outcome], "outcome": spec.get(m).outcome} for m in models})


def _data(seed: int, model: str) -> pd.DataFrame:
    """One draw for `model`: the twin (the same frame for every model of a seed), or the
    simulator, which draws only the one outcome (so each model gets its own stream)."""
    if _STATE["simulator"]:
        k = _STATE["models"].index(model)
        return o.simulate_survey(3660, _STATE["truth"][model], seed=seed * 16 + k)
    if _STATE.get("_frame", (None,))[0] != seed:
        from tillit.data import synth

        _STATE["_frame"] = (seed, synth.generate_survey(seed=seed, calibrate_outcomes=_STATE["calibrated"]))
    return _STATE["_frame"][1]


def one_seed(i: int) -> list[dict]:
    """Every model and coefficient of one realisation of the twin."""
    seed = 10_000 + i
    rows = []
    spec = _STATE["spec"]
    for name in _STATE["models"]:
        t0 = time.perf_counter()
        data = _data(seed, name)
        t_data = time.perf_counter() - t0
        truth = _STATE["truth"][name]
        t1 = time.perf_counter()
        try:
            fit = o.fit_model(name, data, models=spec)
        except o.OrdinalError as exc:  # counted, never hidden
            rows.append({"seed": i, "model": name, "error": str(exc)})
            continue
        t_fit = time.perf_counter() - t1
        true = o.truth_vector(fit.design.X.columns, truth).to_numpy()
        t2 = time.perf_counter()
        ci = o.coefficient_intervals(fit, every=True)
        t_cr2 = time.perf_counter() - t2
        est, se2, df_bm = ci["estimat"].to_numpy(), ci["se_cr2"].to_numpy(), ci["fg_cr2"].to_numpy()
        q_bm = stats.t.ppf(0.975, df_bm)
        q_g1 = stats.t.ppf(0.975, fit.design.n_clusters - 1)
        ik = o.cr2(fc.po_terms(fit), fit.params, working="random_intercept")
        q_ik = ik.quantiles(0.95)
        brant = {}
        if _STATE["brant"]:
            brant = {"brant_modell": o.brant_test(fit).overall["p"],
                     "brant_robust": o.brant_test(fit, robust=True).overall["p"]}
        t3 = time.perf_counter()
        wild_p = np.full(len(est), np.nan)
        if _STATE["bootstrap"]:
            boot = o.WildBootstrap.for_fit(fit, draws=_STATE["draws"], seed=spec.inference.bootstrap.seed,
                                           kind=spec.inference.bootstrap.weights)
            wild_p = np.array([boot.p_value(k, true[k])[0] for k in range(len(est))])
        t_boot = time.perf_counter() - t3
        for k, col in enumerate(ci["kolonne"]):
            cover = {
                "standard": ci["lav_standard"][k] <= true[k] <= ci["hoy_standard"][k],
                "cr2": ci["lav_cr2"][k] <= true[k] <= ci["hoy_cr2"][k],
                "cr2_ik": abs(est[k] - true[k]) <= q_ik[k] * se2[k],
                "cr2_bm": abs(est[k] - true[k]) <= q_bm[k] * se2[k],
                "cr2_g1": abs(est[k] - true[k]) <= q_g1 * se2[k],
                "wild": wild_p[k] > 0.05 if np.isfinite(wild_p[k]) else np.nan,
                "valgt": ci["ki_lav"][k] <= true[k] <= ci["ki_hoy"][k],
            }
            rows.append({"seed": i, "model": name, "kolonne": col, "klynger": ci["klynger"][k],
                         "metode": ci["metode"][k], "fg_bm": df_bm[k], "kvantil": ci["kvantil_cr2"][k],
                         "kvantil_ik": q_ik[k],
                         "enhetsvarians": ik.unit_var,
                         "feil": est[k] - true[k], "se1": ci["se"][k], "se2": se2[k], **cover, **brant,
                         "t_data": t_data, "t_fit": t_fit, "t_cr2": t_cr2, "t_boot": t_boot})
    return rows


def report(df: pd.DataFrame, seeds: int, elapsed: float, workers: int) -> None:
    errors = df[df.get("error").notna()] if "error" in df else df.iloc[:0]
    ok = df[df["kolonne"].notna()]
    source = ("simulate_survey" if _STATE["simulator"] else
              "tvillingen (synth.generate_survey), utfallene " +
              ("kalibrert til de publiserte andelene" if _STATE["calibrated"] else "ikke kalibrert"))
    first = int(ok["seed"].min()) if len(ok) else 0
    kinds = "CR1, CR2-variantene" + (" og villbootstrap" if _STATE["bootstrap"] else " (ikke villbootstrap)")
    run = (f"{workers} prosesser, {elapsed:.0f} s i alt ({elapsed * workers / max(1, seeds):.2f} CPU-s per frø)"
           if workers else "samlet fra tidligere kjøringer (--pool)")
    print(f"Data: {source}; {seeds} frø (10 000 + {first} …); {kinds}; {run}")
    if len(errors):
        print(f"{len(errors)} tilpasninger feilet:", errors["error"].value_counts().to_dict())
    per = ok.drop_duplicates(["seed", "model"])
    print("Median tid per frø og modell: data {:.3f} s (per frø), tilpasning {:.3f} s, CR2 {:.3f} s, "
          "villbootstrap {:.3f} s".format(per.groupby("seed")["t_data"].sum().median(), per["t_fit"].median(),
                                          per["t_cr2"].median(), per["t_boot"].median()))
    outside = []
    kinds_here = [k for k in KINDS if k in ok]  # a pooled older file may lack a kind
    for model, sub in ok.groupby("model", sort=False):
        S = sub["seed"].nunique()
        print(f"\nModell '{model}': {S} simuleringer, Monte Carlo-se ved 95 % = {np.sqrt(0.95 * 0.05 / S):.4f}")
        if "enhetsvarians" in sub:
            print(f"Enhetsvarians (arbeidsmodellen til cr2_ik), median {sub['enhetsvarians'].median():.4f}")
        # skjev = mean error / its sd; sd/se2 = sd of the estimates over the CR2 standard error (rms)
        head = (f"{'koeffisient':<27} {'klynger':>7} {'fg BM':>6} {'metode':>10}" + "".join(f" {k:>8}" for k in kinds_here)
                + f" {'±valgt':>7} {'skjev':>6} {'sd/se2':>6}")
        print(head)
        for col, g in sub.groupby("kolonne", sort=False):
            cov = {k: g[k].astype(float).mean() for k in kinds_here}
            mc = np.sqrt(cov["valgt"] * (1 - cov["valgt"]) / len(g))
            sd = g["feil"].std()
            extra = (f" {mc:>7.3f} {g['feil'].mean() / sd:>6.2f} {sd / np.sqrt(np.mean(g['se2'] ** 2)):>6.3f}"
                     if "se2" in g else f" {mc:>7.3f}")
            line = (f"{col:<27} {g['klynger'].median():>7.0f} {g['fg_bm'].median():>6.1f} {g['metode'].iloc[0]:>10}"
                    + "".join(f" {cov[k]:>8.3f}" for k in kinds_here) + extra)
            print(line)
            for k in ("standard", "valgt"):
                if not (TARGET[0] <= cov[k] <= TARGET[1]):
                    outside.append((model, col, k, cov[k], np.sqrt(cov[k] * (1 - cov[k]) / len(g))))
        S_ = len(sub) / sub["kolonne"].nunique()
        print("  ± MC-se per dekning: " + ", ".join(
            f"{k} {np.sqrt(max(p, 1e-9) * (1 - p) / S_):.3f}" for k, p in
            ((k, sub[k].astype(float).mean()) for k in ("standard", "valgt"))) + " (samlet)")
    if "brant_modell" in ok:
        for form in ("brant_modell", "brant_robust"):
            for model, sub in per.groupby("model", sort=False):
                print(f"Brant ({form.split('_')[1]}), '{model}': forkaster PO ved 5 % i "
                      f"{np.mean(sub[form] < 0.05):.3f} av {len(sub)} simuleringer der PO holder")
    print("\nUtenfor 93–97 %:" if outside else "\nAlle koeffisienter innenfor 93–97 % med standard og valgt metode.")
    for model, col, k, p, mc in outside:
        print(f"  {model:<12} {col:<27} {k:<9} {p:.3f} ± {mc:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=1000)
    ap.add_argument("--first-seed", type=int, default=0, help="seeds 10 000 + first … (to add to an earlier run)")
    ap.add_argument("--calibrated", action="store_true",
                    help="calibrate the outcomes to the published shares, as the book's twin does "
                         "(the truth is then only approximately the model's; docs/ordinal.md)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--models", nargs="+", default=["trust", "mor_effect"])
    ap.add_argument("--draws", type=int, default=399, help="bootstrap draws per test")
    ap.add_argument("--no-bootstrap", action="store_true")
    ap.add_argument("--simulator", action="store_true", help="tillit.stats.ordinal.simulate_survey instead of the twin")
    ap.add_argument("--brant", action="store_true", help="also how often Brant rejects PO (which holds)")
    ap.add_argument("--csv", type=Path, help="write every (seed, model, coefficient) row here")
    ap.add_argument("--pool", type=Path, nargs="+", metavar="CSV",
                    help="no new draws: report the rows of earlier --csv runs (of distinct seeds) together")
    args = ap.parse_args()
    init = (args.models, args.draws, not args.no_bootstrap, args.simulator, args.brant, args.calibrated)
    _init(*init)
    if args.pool:
        df = pd.concat([pd.read_csv(f) for f in args.pool], ignore_index=True)
        df = df[df["model"].isin(args.models)]
        if df.duplicated(["seed", "model", "kolonne"]).any():
            raise SystemExit("--pool: the same seed occurs in more than one file")
        report(df.sort_values(["model", "seed"], kind="stable"), df["seed"].nunique(), float("nan"), 0)
        return
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    t0 = time.perf_counter()
    rows: list[dict] = []
    if args.workers > 1:
        with get_context("spawn").Pool(args.workers, initializer=_init, initargs=init) as pool:
            for k, part in enumerate(pool.imap_unordered(one_seed, seeds, chunksize=4), 1):
                rows += part
                if k % 50 == 0:
                    print(f"  {k}/{args.seeds} frø, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    else:
        for i in seeds:
            rows += one_seed(i)
    elapsed = time.perf_counter() - t0
    df = pd.DataFrame(rows).sort_values(["model", "seed"], kind="stable")
    if args.csv:
        df.to_csv(args.csv, index=False)
    report(df, args.seeds, elapsed, args.workers)


if __name__ == "__main__":
    main()
