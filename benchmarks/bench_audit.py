#!/usr/bin/env python
"""Benchmark of the disclosure audit (run by hand, not in CI).

    .venv/bin/python benchmarks/bench_audit.py [OUTPUT_DIR] [--repeat 5]

Audits an existing build's outputs (default: the compendium's output_dir after `tillit
build`) `--repeat` times in this process and prints the median time, the size of the linear
programme and the import time of the audit (paid once per build process).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    t0 = time.perf_counter()
    from tillit.config import load_run_params, repo_root
    from tillit.stats import audit

    imported = time.perf_counter() - t0
    root = repo_root()
    out = Path(args.out) if args.out else load_run_params().path("output_dir", root)
    params = load_run_params()
    times = []
    for _ in range(args.repeat):
        result = audit.run_audit(out, min_cell=params.effective_min_cell, published_yml=root / "params" / "published.yml")
        times.append(result.seconds)
    print(f"Revisjon av {out} (CPU-er: {os.cpu_count()}, last: {os.getloadavg()[0]:.1f})")
    print(f"  import av tillit.stats.audit (scipy, pandas)   {imported:6.2f} s")
    print(f"  revisjon, median av {args.repeat}                      {statistics.median(times):6.2f} s "
          f"(min {min(times):.2f}, maks {max(times):.2f})")
    print(f"  {result.tables} tabeller, {result.equations} publiserte likninger og intervaller, "
          f"{result.suppressed} skjulte tall (hvert: min og maks); ok = {result.ok}")


if __name__ == "__main__":
    main()
