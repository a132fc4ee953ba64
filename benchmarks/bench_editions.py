#!/usr/bin/env python
"""Benchmark: every edition of params/editions.yml on 1 Dask worker against 2 (run by hand).

    .venv/bin/python benchmarks/bench_editions.py                      # every edition
    .venv/bin/python benchmarks/bench_editions.py --editions nav,nks,ledere
    .venv/bin/python benchmarks/bench_editions.py --renderer fallback

Runs in a temporary copy of the compendium (params/, notebooks/, the synthetic twin written
into its data/raw/), so the repository's outputs/ are not touched. Then
`tillit.build.editions.run_editions(force=True)` builds every edition – its chapters and its
book – on a LocalCluster with 1 worker, and again with 2 workers. The wall time is the whole
command's: the data step (forced, run once before the editions start), the cluster's start
and every edition.

Prints, from that one run: each edition's seconds with 1 and 2 workers, their medians, the
wall time of each run and the ratio wall(1) / wall(2) (target ≥ 1.6), and the load average,
since the machine may be shared.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 1.6


def make_copy(base: Path) -> Path:
    root = base / "kompendium"
    for sub in ("params", "notebooks"):
        shutil.copytree(REPO / sub, root / sub)
    (root / "data" / "raw").mkdir(parents=True)
    os.environ["TILLIT_ROOT"] = str(root)
    from tillit.data import synth

    synth.write_raw(root / "data" / "raw", synth.default_seed())
    return root


def run(root: Path, names: list[str] | None, workers: int, renderer: str) -> tuple[float, dict[str, float], dict]:
    from tillit.build import editions

    lines: list[str] = []
    t0 = time.perf_counter()
    summary = editions.run_editions(names, root=root, workers=workers, force=True, renderer=renderer,
                                    progress=lines.append)
    wall = time.perf_counter() - t0
    failed = summary[summary["status"] == "failed"]
    if len(failed):
        print("\n".join(lines[-20:]), file=sys.stderr)
        raise SystemExit(f"{len(failed)} utgaver feilet: {', '.join(failed['edition'])}")
    return wall, dict(zip(summary["edition"], summary["seconds"])), dict(zip(summary["edition"], summary["status"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editions", default=None, help="kommaseparert utvalg (standard: alle)")
    parser.add_argument("--renderer", choices=["auto", "quarto", "fallback"], default="auto")
    args = parser.parse_args(argv)
    names = args.editions.split(",") if args.editions else None
    with tempfile.TemporaryDirectory(prefix="bench-editions-") as tmp:
        root = make_copy(Path(tmp))
        load_before = os.getloadavg()
        wall1, per1, status = run(root, names, 1, args.renderer)
        wall2, per2, _ = run(root, names, 2, args.renderer)
        load_after = os.getloadavg()

    width = max(len(k) for k in per1)
    print(f"\n{'utgave':<{width}}  {'status':<10} {'1 arbeider':>11} {'2 arbeidere':>12}")
    for key in per1:
        print(f"{key:<{width}}  {status[key]:<10} {per1[key]:>9.1f} s {per2[key]:>10.1f} s")
    built = [k for k in per1 if status[k] == "publish"]
    if built:
        print(f"{'median (bygde)':<{width}}  {'':<10} {statistics.median(per1[k] for k in built):>9.1f} s "
              f"{statistics.median(per2[k] for k in built):>10.1f} s")
    ratio = wall1 / wall2
    print(f"\n{len(per1)} utgaver ({len(built)} bygd, {len(per1) - len(built)} ikke publisert)")
    print(f"veggtid: 1 arbeider {wall1:.1f} s, 2 arbeidere {wall2:.1f} s")
    print(f"forhold 1/2: {ratio:.2f} (mål ≥ {TARGET}) {'OK' if ratio >= TARGET else 'UNDER MÅLET'}")
    print(f"lastsnitt (1 min) før/etter: {load_before[0]:.1f} / {load_after[0]:.1f} på {os.cpu_count()} kjerner")
    return 0


if __name__ == "__main__":
    sys.exit(main())
