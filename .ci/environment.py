#!/usr/bin/env python3
"""Write environment.yml from requirements.lock (make lock): the conda environment installs
the very same pinned, hash-checked packages with pip, and conda supplies Python 3.11 and the
Quarto CLI. The header lists the versions of the packages that make the numbers."""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUARTO = "1.10.16"   # the release the book is tested with (../shared/tools/build_quarto.sh)
KEY = ("numpy", "scipy", "pandas", "statsmodels", "matplotlib", "seaborn", "papermill", "nbconvert")


def pins(lock: Path) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)",
                                                                  lock.read_text(encoding="utf-8"), re.M)}


def render(lock: Path) -> str:
    found = pins(lock)
    missing = [k for k in KEY if k not in found]
    if missing:
        raise SystemExit(f"{lock}: mangler {', '.join(missing)}")
    listed = "\n".join(f"#   {k}=={found[k]}" for k in KEY)
    return f"""# Generated from {lock.name} by `make lock` (.ci/environment.py) – do not edit by hand.
# For researchers who work with conda: Python 3.11 and the Quarto CLI from conda-forge, and
# every Python package exactly as pinned (with SHA-256 hashes) in {lock.name}, among them
{listed}
#
#   conda env create -f environment.yml && conda activate tillit
#   pip install --no-deps --no-build-isolation -e .     # the compendium itself
#   tillit build
name: tillit
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - quarto={QUARTO}
  - pip:
      - -r {lock.name}
"""


def main() -> int:
    lock = ROOT / "requirements.lock"
    target = ROOT / "environment.yml"
    text = render(lock)
    if "--check" in sys.argv:
        return 0 if target.read_text(encoding="utf-8") == text else 1
    target.write_text(text, encoding="utf-8")
    print(f"skrev {target.relative_to(ROOT)} fra {lock.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
