#!/usr/bin/env python
"""Benchmark of the pipeline runner and the batch (run by hand, not in CI).

    .venv/bin/python benchmarks/bench_pipeline.py            # tmp compendium, all parts
    .venv/bin/python benchmarks/bench_pipeline.py --quick    # smaller sizes
    .venv/bin/python benchmarks/bench_pipeline.py --real     # also the real chapters on
                                                             # 3 660 / 36 600 / 366 000 respondents
    .venv/bin/python benchmarks/bench_pipeline.py --parts book [--repeat 3]
                                                             # the compendium as a user builds it

Everything runs in a temporary copy: a small compendium with the real shape (a data
step that reads a raw CSV and writes parquet, four chapters that import pandas and
matplotlib, aggregate and write a table and a figure). With --real the repository's
params/ and notebooks/ are copied and the synthetic twin (tillit.data.synth.write_raw) is
written into the copy's data/raw/; skipped with a message if either is missing.

Prints, measured in one run: cold full build; no-op rebuild (in-process and as a fresh
`python -m tillit.build.pipeline` process); rebuild after editing one chapter; the pipeline with
1 and 2 workers; a batch of 8 runs on 1 and 2 Dask workers; the pipeline on 3 660, 36 600
and 366 000 respondents; and the per-step overhead (papermill import, empty notebook).

`--parts book` times the compendium itself as a user meets it, each run a new `tillit build`
process in a temporary copy of params/ and notebooks/: a cold build (no data, no outputs:
twin, every notebook, render), a no-op build, and a build after an edit to one chapter's
prose (05_videre_arbeid); medians of --repeat runs (at least 3 for the no-op and the edit; --cold
sets the number of cold builds), wall and CPU time (the kernels included), the ratios to the
issue's targets (25 s, 0.5 s, 5 s) and to the cold build (with --compare-warm, also cold builds with
`warm_kernels: false`, alternated with the others, and the ratio), and the share of the cold build's CPU time spent
importing: each notebook's setup-cell imports timed in a fresh interpreter, plus the kernel
start (ipykernel), against the cold build's CPU; and the same share as the fork server pays it
(ipykernel and the common modules once, each notebook's other imports in its kernel). The
load average is printed: on a shared
machine wall times are only comparable at the same load.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
UNITS = ["nav_kontor", "nks", "nay", "nfp", "hot", "kontroll"]
ROLES = ["medarbeider", "leder", "tillitsvalgt", "verneombud"]

SHARED = (
    'data_dir = "data/processed"\nraw_dir = "data/raw"\noutput_dir = "outputs"\n'
    'min_cell = 5\nstrict_disclosure = False\ntargets = "error"\nstrict_duplicates = False\nedition = "nav"\n'
)
PREP = """
from pathlib import Path
import pandas as pd
raw = pd.read_csv(Path(raw_dir) / "survey_2023.csv")
raw = raw[raw["Status"] == "Fullført"].drop(columns=["Status"])
for col in ("role", "unit_type"):
    raw[col] = raw[col].astype("category")
Path(data_dir).mkdir(parents=True, exist_ok=True)
raw.to_parquet(Path(data_dir) / "survey_2023.parquet", index=False)
"""
CHAPTER = """
from pathlib import Path
import numpy as np
import pandas as pd
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
df = pd.read_parquet(Path(data_dir) / "survey_2023.parquet")
items = [c for c in df.columns if c.startswith("q")]
table = df.groupby(["unit_type", "role"], observed=True)[items].mean().round(2)
counts = df.groupby(["unit_type", "role"], observed=True).size()
table = table[counts >= min_cell]
rng = np.random.default_rng(1)
x = df[items[ITEM]].to_numpy(dtype=float)
boot = [x[rng.integers(0, len(x), len(x))].mean() for _ in range(reps)]
out = Path(output_dir) / "tables" / NAME
out.mkdir(parents=True, exist_ok=True)
table.to_csv(out / "means.csv")
fig_dir = Path(output_dir) / "figures" / NAME
fig_dir.mkdir(parents=True, exist_ok=True)
fig, ax = plt.subplots(figsize=(4, 3))
table[items[ITEM]].plot.barh(ax=ax)
fig.savefig(fig_dir / "fig.png", dpi=60)
print(f"{NAME}: {len(df)} svar, KI {np.percentile(boot, 2.5):.2f}-{np.percentile(boot, 97.5):.2f}")
"""
CHAPTERS = ["01_kap", "02_kap", "03_kap", "04_kap"]


def write_notebook(path: Path, cells: list[tuple[str, str, list[str]]]) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(cells=[
        new_code_cell(src, metadata={"tags": tags}) if kind == "code" else new_markdown_cell(src)
        for kind, src, tags in cells
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


def write_raw(raw_dir: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "Status": rng.choice(["Fullført", "Delvis"], n, p=[0.95, 0.05]),
        "role": rng.choice(ROLES, n),
        "unit_type": rng.choice(UNITS, n),
        **{f"q{i}": rng.integers(1, 6, n) for i in range(12)},
    })
    raw_dir.mkdir(parents=True, exist_ok=True)
    df.to_csv(raw_dir / "survey_2023.csv", index=False)


def make_compendium(root: Path, n: int, reps: int = 200) -> Path:
    for sub in ("params", "notebooks", "data/processed", "outputs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "params/default.yml").write_text(
        "data_dir: data/processed\nraw_dir: data/raw\noutput_dir: outputs\n"
        "min_cell: 5\nstrict_disclosure: false\ntargets: error\n", encoding="utf-8")
    spec = {"parameters": "params/default.yml",
            "notebooks": [{"name": "00_prep", "title": "Klargjøring", "book": False}]
            + [{"name": c, "title": c} for c in CHAPTERS],
            "overrides": {}, "workers": 2}
    (root / "params/pipeline.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    write_notebook(root / "notebooks/00_prep.ipynb", [("code", SHARED, ["parameters"]), ("code", PREP, [])])
    for i, name in enumerate(CHAPTERS):
        write_notebook(root / f"notebooks/{name}.ipynb", [
            ("code", SHARED + f"reps = {reps}\n", ["parameters"]),
            ("markdown", f"# Kapittel {name}", []),
            ("code", f"NAME = {name!r}\nITEM = {i}\n" + CHAPTER, []),
        ])
    write_raw(root / "data/raw", n)
    return root


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t0, out


def ran(results) -> list[str]:
    return [r.name for r in results if r.status == "ok"]


PARTS = ("overhead", "rebuild", "workers", "batch", "scale", "real", "book")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="mindre størrelser (rask sjekk)")
    ap.add_argument("--real", action="store_true", help="også de ekte kapitlene på syntetiske data")
    ap.add_argument("--parts", default=",".join(p for p in PARTS if p != "real"),
                    help=f"kommaseparert utvalg av {', '.join(PARTS)}")
    ap.add_argument("--keep", action="store_true", help="behold tmp-mappene")
    ap.add_argument("--repeat", type=int, default=3, help="antall kjøringer per måling i --parts book (no-op og "
                    "redigering minst 3)")
    ap.add_argument("--compare-warm", action="store_true", help="i --parts book: hver kalde bygging også med "
                    "warm_kernels: false (vekselvis, samme last), og forholdet mellom medianene")
    ap.add_argument("--cold", type=int, default=None, help="antall kalde bygginger i --parts book (standard: --repeat)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    if args.real:
        parts.add("real")
    unknown = parts - set(PARTS)
    if unknown:
        ap.error(f"ukjente deler: {', '.join(sorted(unknown))} (kjente: {', '.join(PARTS)})")

    tmp = Path(tempfile.mkdtemp(prefix="tillit-bench-"))
    root = make_compendium(tmp / "komp", n=3660)
    os.environ["TILLIT_ROOT"] = str(root)
    summary: list[str] = []

    def report(label: str, value: str) -> None:
        print(f"  {label:<56} {value}", flush=True)

    quiet = lambda s: None  # noqa: E731
    print(f"Benchmark i {tmp} (CPU-er: {os.cpu_count()}, last nå: {os.getloadavg()[0]:.1f})")
    from tillit.build import pipeline

    # Others may be editing src/tillit while this runs; key the in-process builds on a
    # snapshot of the package so an edit elsewhere does not turn a no-op into a full run.
    snapshot = tmp / "pakke"
    shutil.copytree(pipeline.cache.PACKAGE_DIR, snapshot, ignore=shutil.ignore_patterns("__pycache__"))
    pipeline.cache.PACKAGE_DIR = snapshot

    if "overhead" in parts:
        # Per-step overhead: papermill import in a fresh process; an empty notebook run.
        t = subprocess.run([sys.executable, "-c", "import time;t=time.perf_counter();import papermill;"
                            "print(time.perf_counter()-t)"], capture_output=True, text=True)
        report("import papermill (ny prosess)", f"{float(t.stdout):.2f} s")
        t = subprocess.run([sys.executable, "-c", "import time;t=time.perf_counter();"
                            "import pandas, matplotlib.pyplot, seaborn, statsmodels.api;print(time.perf_counter()-t)"],
                           capture_output=True, text=True)
        if t.returncode == 0:
            report("import pandas+seaborn+statsmodels (som i en kjerne)", f"{float(t.stdout):.2f} s")
        empty = tmp / "tom"
        make_compendium(empty, n=10)
        write_notebook(empty / "notebooks/01_kap.ipynb",
                       [("code", SHARED + "reps = 1\n", ["parameters"]), ("code", "x = 1", [])])
        pipeline.run_notebook("01_kap", root=empty)  # warm the file cache
        sec, _ = timed(pipeline.run_notebook, "01_kap", root=empty)
        report("tom notatbok (kjernestart + papermill)", f"{sec:.2f} s")
        os.environ["TILLIT_ROOT"] = str(root)

    if "rebuild" in parts:
        sec_cold, res = timed(pipeline.build, root=root, workers=2, progress=quiet)
        report("kald full bygging (2 arbeidere)", f"{sec_cold:.2f} s  ({len(ran(res))} steg)")
        sec_noop, res = timed(pipeline.build, root=root, workers=2, progress=quiet)
        report("no-op ombygging (i prosessen)", f"{sec_noop:.3f} s  (kjørt: {ran(res) or 'ingen'})")
        summary.append(f"no-op < 1 s: {sec_noop:.3f} s i prosessen")
        import nbformat

        nb_path = root / "notebooks/02_kap.ipynb"
        nb = nbformat.read(str(nb_path), as_version=4)
        nb.cells[2].source += "\n# redigert"
        nbformat.write(nb, str(nb_path))
        sec_edit, res = timed(pipeline.build, root=root, workers=2, progress=quiet)
        report("ombygging etter redigert kapittel", f"{sec_edit:.2f} s  (kjørt: {ran(res)})")
        # A fresh process keys on the real package: one build to catch up, then the no-op.
        cmd = [sys.executable, "-m", "tillit.build.pipeline"]
        env = dict(os.environ, TILLIT_ROOT=str(root))
        subprocess.run(cmd, capture_output=True, text=True, env=env)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        sec_noop_proc = time.perf_counter() - t0
        reran = [m.group(1) for m in re.finditer(r"^\s*(\S+)\s+[\d.]+ s  ok\b", proc.stdout, re.M)]
        report("no-op ombygging (ny prosess: python -m tillit.build.pipeline)",
               f"{sec_noop_proc:.3f} s  (rc {proc.returncode}; kjørt: {reran or 'ingen'})")
        summary.append(f"no-op < 1 s: {sec_noop_proc:.3f} s som ny prosess")

    if "workers" in parts:
        sec1, _ = timed(pipeline.build, root=root, workers=1, force=True, progress=quiet)
        sec2, _ = timed(pipeline.build, root=root, workers=2, force=True, progress=quiet)
        report("full bygging, 1 arbeider", f"{sec1:.2f} s")
        report("full bygging, 2 arbeidere", f"{sec2:.2f} s  (x{sec1 / sec2:.2f})")
        summary.append(f"pipeline 2 vs 1 arbeidere: x{sec1 / sec2:.2f}")

    if "batch" in parts:
        from tillit.build import batch

        reps = 300 if args.quick else 1500
        spec = tmp / "batch.yml"
        spec.write_text(yaml.safe_dump({"notebooks": ["01_kap", "02_kap"],
                                        "grid": {"min_cell": [5, 10], "reps": [reps, reps + 1]}}), encoding="utf-8")
        b1, s1 = timed(batch.run_batch, spec, tmp / "batch1", workers=1, progress=False)
        b2, s2 = timed(batch.run_batch, spec, tmp / "batch2", workers=2, progress=False)
        report("batch 8 kjøringer, 1 Dask-arbeider", f"{b1:.2f} s  ({(s1.status == 'ok').sum()} ok)")
        report("batch 8 kjøringer, 2 Dask-arbeidere", f"{b2:.2f} s  (x{b1 / b2:.2f}; mål >= 1,6)")
        summary.append(f"batch 2 vs 1 Dask-arbeidere: x{b1 / b2:.2f} (mål >= 1,6)")

    sizes = [3660, 36600] if args.quick else [3660, 36600, 366000]
    if "scale" in parts:
        times = {}
        for n in sizes:
            write_raw(root / "data/raw", n)
            times[n], _ = timed(pipeline.build, root=root, workers=2, force=True, progress=quiet)
            report(f"full bygging, {n:>7,} respondenter".replace(",", " "), f"{times[n]:.2f} s")
        base = sizes[0]
        for n in sizes[1:]:
            verdict = "ok (høyst lineær)" if times[n] / times[base] <= n / base else "VERRE ENN LINEÆR"
            report(f"  tid x{times[n] / times[base]:.2f} for respondenter x{n // base}", verdict)
            summary.append(f"tid x{times[n] / times[base]:.2f} for x{n // base} respondenter: {verdict}")

    if "real" in parts:
        real_scaling(tmp, sizes, report, summary)

    if "book" in parts:
        book_builds(tmp, max(1, args.repeat), report, summary, cold_runs=args.cold, compare_warm=args.compare_warm)

    print(f"\nLast ved slutt (1 min): {os.getloadavg()[0]:.1f} på {os.cpu_count()} CPU-er")
    print("Oppsummering (mål):")
    for line in summary:
        print(f"  {line}")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def real_scaling(tmp: Path, sizes: list[int], report, summary: list[str]) -> None:
    """The repository's own chapters on the synthetic twin, in a copy of params/ and notebooks/."""
    try:
        from tillit.data import synth
        write_raw_real = synth.write_raw
    except (ImportError, AttributeError) as exc:
        print(f"  (hopper over de ekte kapitlene: tillit.data.synth.write_raw finnes ikke ennå: {exc})")
        return
    from tillit.build import pipeline
    from tillit.config import ConfigError, load_pipeline

    real = tmp / "ekte"
    for sub in ("params", "notebooks"):
        shutil.copytree(REPO / sub, real / sub)
    (real / "data/processed").mkdir(parents=True)
    try:
        load_pipeline(root=real)
    except ConfigError as exc:
        print(f"  (hopper over de ekte kapitlene: {exc})")
        return
    # Other sizes than the report's cannot hit its published figures: warn, do not fail.
    default = yaml.safe_load((real / "params/default.yml").read_text(encoding="utf-8"))
    default["targets"] = "warn"
    (real / "params/default.yml").write_text(yaml.safe_dump(default, allow_unicode=True), encoding="utf-8")
    os.environ["TILLIT_ROOT"] = str(real)
    times = {}
    for n in sizes:
        shutil.rmtree(real / "data/raw", ignore_errors=True)
        write_raw_real(real / "data/raw", 2023, n_respondents=n)
        try:
            sec, _ = timed(pipeline.build, root=real, force=True, progress=lambda s: None)
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"  ekte kapitler, {n} respondenter: feilet: {str(exc).splitlines()[0]}")
            return
        times[n] = sec
        report(f"ekte kapitler, {n:>7,} respondenter".replace(",", " "), f"{sec:.2f} s")
        if n == sizes[0]:
            sec, res = timed(pipeline.build, root=real, progress=lambda s: None)
            report("ekte kapitler, no-op ombygging", f"{sec:.3f} s  (kjørt: {ran(res) or 'ingen'})")
            summary.append(f"ekte kapitler, no-op: {sec:.3f} s")
            import nbformat

            chapter = pipeline.load_pipeline(root=real).names()[-2]
            nb_path = real / "notebooks" / f"{chapter}.ipynb"
            nb = nbformat.read(str(nb_path), as_version=4)
            code = [c for c in nb.cells if c.cell_type == "code"]
            code[-1].source += "\n# redigert"
            nbformat.write(nb, str(nb_path))
            sec, res = timed(pipeline.build, root=real, progress=lambda s: None)
            report(f"ekte kapitler, etter redigert {chapter}", f"{sec:.2f} s  (kjørt: {ran(res)})")
            summary.append(f"ekte kapitler, redigert {chapter}: kjørt {ran(res)}")
            # The data step again on the same raw data: identical processed files keep
            # every chapter cached (the key is on content, not on mtime).
            prep = pipeline.load_pipeline(root=real).names()[0]
            pipeline.build(root=real, only=[prep], force=True, progress=lambda s: None)
            sec, res = timed(pipeline.build, root=real, progress=lambda s: None)
            report(f"ekte kapitler, etter {prep} på nytt", f"{sec:.3f} s  (kjørt: {ran(res) or 'ingen'})")
            summary.append(f"ekte kapitler, {prep} på nytt med samme rådata: kjørt {ran(res) or 'ingen'}")
    base = sizes[0]
    for n in sizes[1:]:
        summary.append(f"ekte kapitler: tid x{times[n] / times[base]:.2f} for x{n // base} respondenter")


def _tillit_build(root: Path) -> tuple[float, float, str]:
    """One `tillit build` as a new process: (wall s, CPU s of it and its kernels, stdout)."""
    import resource

    env = dict(os.environ, TILLIT_ROOT=str(root))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "tillit"), "build"], capture_output=True,
                          text=True, env=env, cwd=root)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"tillit build feilet ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def _import_cpu(code: str) -> float:
    """CPU seconds of running `code` in a fresh interpreter, less the interpreter's own start."""
    import resource

    def cpu(src: str) -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", src], check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return max(0.0, cpu(code) - cpu("pass"))


def _edit_chapter(root: Path, k: int) -> str:
    import nbformat

    name = "05_videre_arbeid"
    path = root / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    md = next(c for c in reversed(nb.cells) if c.cell_type == "markdown")
    md.source = md.source.rstrip() + f"\n\nRedigert for måling {k}."
    nbformat.write(nb, str(path))
    return name


def _ran(stdout: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^\s*(\S+)\s+[\d.]+ s  ok\b", stdout, re.M)]


# The targets (issue 14): cold build on 2 cores, no-op as a new process, one-chapter edit → book.
TARGETS = {"cold": 25.0, "noop": 0.5, "edit": 5.0}


def _without_warm_kernels(root: Path) -> None:
    path = root / "params" / "pipeline.yml"
    text = re.sub(r"(?m)^warm_kernels:.*$", "", path.read_text(encoding="utf-8"))
    path.write_text(text.rstrip() + "\nwarm_kernels: false\n", encoding="utf-8")


def book_builds(tmp: Path, repeat: int, report, summary: list[str], cold_runs: int | None = None,
                compare_warm: bool = False) -> None:
    """Cold, no-op and one-chapter-edit `tillit build` of the compendium (see the docstring)."""
    from statistics import median

    from tillit.config import load_pipeline

    def fresh(k: int) -> Path:
        root = tmp / f"bok{k}"
        shutil.rmtree(root, ignore_errors=True)
        for sub in ("params", "notebooks"):
            shutil.copytree(REPO / sub, root / sub)
        (root / "data" / "raw").mkdir(parents=True)
        (root / "data" / "processed").mkdir(parents=True)
        return root

    n_cold = cold_runs or repeat
    print(f"  (kompendiet: {n_cold} kalde bygginger, {max(3, repeat)} no-op og {max(3, repeat)} redigeringer; "
          f"last {os.getloadavg()[0]:.1f} på {os.cpu_count()} CPU-er)")
    cold, noop, edit, cold_off = [], [], [], []
    root = None
    for k in range(n_cold):
        if compare_warm:  # alternate, so both see the same load
            off = fresh(1000 + k)
            _without_warm_kernels(off)
            cold_off.append(_tillit_build(off)[:2])
            shutil.rmtree(off, ignore_errors=True)
        root = fresh(k)
        cold.append(_tillit_build(root)[:2])
    fast = 0
    for _ in range(max(3, repeat)):
        wall, cpu, out = _tillit_build(root)
        noop.append((wall, cpu))
        fast += "uendret siden byggingen" in out  # answered by tillit.build.noop's stamp
        if _ran(out):
            print(f"  advarsel: no-op-byggingen kjørte {_ran(out)}")
    for k in range(max(3, repeat)):
        name = _edit_chapter(root, k)
        wall, cpu, out = _tillit_build(root)
        edit.append((wall, cpu))
        ran = _ran(out)
    c_wall, c_cpu = median(w for w, _ in cold), median(c for _, c in cold)
    n_wall, n_cpu = median(w for w, _ in noop), median(c for _, c in noop)
    e_wall, e_cpu = median(w for w, _ in edit), median(c for _, c in edit)
    ratio = {"kald": c_wall / TARGETS["cold"], "no-op": n_wall / TARGETS["noop"], "redigering": e_wall / TARGETS["edit"]}
    report("kald tillit build (ny prosess, median)", f"{c_wall:.1f} s vegg, {c_cpu:.1f} s CPU  "
           f"(mål <= {TARGETS['cold']:g} s: x{ratio['kald']:.2f} av målet)")
    report("no-op tillit build (ny prosess, median)", f"{n_wall:.2f} s vegg, {n_cpu:.2f} s CPU  "
           f"(mål < {TARGETS['noop']:g} s: x{ratio['no-op']:.2f} av målet; {fast} av {len(noop)} fra stempelet; "
           f"x{c_wall / n_wall:.0f} raskere enn kald)")
    report(f"redigert {name} → bok (ny prosess, median)", f"{e_wall:.2f} s vegg, {e_cpu:.2f} s CPU  "
           f"(mål < {TARGETS['edit']:g} s: x{ratio['redigering']:.2f} av målet; {e_wall / c_wall:.0%} av kald; "
           f"kjørt: {ran})")
    if cold_off:
        o_wall, o_cpu = median(w for w, _ in cold_off), median(c for _, c in cold_off)
        report("kald uten forvarmede kjerner (warm_kernels: false)", f"{o_wall:.1f} s vegg, {o_cpu:.1f} s CPU  "
               f"(forvarmet/uten: x{c_wall / o_wall:.2f} vegg)")
        report("  alle kjøringer, kald uten forvarming (vegg)", ", ".join(f"{w:.2f}" for w, _ in cold_off) + " s")
        summary.append(f"kald med/uten forvarmede kjerner: {c_wall:.1f} / {o_wall:.1f} s (x{c_wall / o_wall:.2f})")
    for label, runs in (("kald", cold), ("no-op", noop), ("redigering", edit)):
        report(f"  alle kjøringer, {label} (vegg)", ", ".join(f"{w:.2f}" for w, _ in runs) + " s")
    # Imports: each notebook's setup imports in a fresh interpreter, plus the kernel start.
    spec = load_pipeline(root=root)
    kernel = _import_cpu("import ipykernel.kernelapp, papermill")
    # What the setup cells import, as the warm kernels run it (tillit.build.pipeline.warm).
    from tillit.build.pipeline.warm import setup_imports

    imports = {nb.name: _import_cpu(setup_imports(root / "notebooks" / f"{nb.name}.ipynb")) for nb in spec.notebooks}
    total = sum(imports.values()) + kernel * len(imports)
    for name, sec in imports.items():
        report(f"  import i {name} (CPU, ny tolk)", f"{sec:.2f} s")
    report("  kjernestart (ipykernel + papermill, CPU) per notatbok", f"{kernel:.2f} s")
    # Lower bound: imports a notebook makes later (scipy.stats on first use) and the CLI's own are not in it.
    report("importandel av kald byggings CPU-tid (oppsettcellene + kjernestart, hver i ny tolk)",
           f"{total / c_cpu:.0%}  ({total:.1f} av {c_cpu:.1f} s)")
    # With the fork server (tillit.build.pipeline.forkserver) the kernels do not each pay for
    # ipykernel and the common modules: the server imports them once, each kernel the rest.
    from tillit.build.pipeline.warm import common_modules

    common = "import ipykernel.kernelapp, ipykernel.ipkernel\n" + "".join(
        f"import {m}\n" for m in common_modules([root / "notebooks" / f"{nb.name}.ipynb" for nb in spec.notebooks]))
    server = _import_cpu(common)
    rest = {nb.name: max(0.0, _import_cpu(common + setup_imports(root / "notebooks" / f"{nb.name}.ipynb")) - server)
            for nb in spec.notebooks}
    forked = server + sum(rest.values())
    report("  gaffelserveren: felles import én gang (CPU)", f"{server:.2f} s")
    report("importandel med gaffelserver (felles import én gang + hver notatboks resten)",
           f"{forked / c_cpu:.0%}  ({forked:.1f} av {c_cpu:.1f} s; kjernenes egen oppstart etter gaffelen ikke med)")
    summary += [f"kald {c_wall:.1f} s / no-op {n_wall:.2f} s / redigert kapittel {e_wall:.2f} s (medianer, vegg; "
                f"last {os.getloadavg()[0]:.1f})",
                "mot målene (25 s / 0,5 s / 5 s): " + ", ".join(f"{k} x{v:.2f}" for k, v in ratio.items()),
                f"importandel {total / c_cpu:.0%} av kald CPU-tid (hver kjerne i ny tolk), "
                f"{forked / c_cpu:.0%} med gaffelserveren"]


if __name__ == "__main__":
    sys.exit(main())
