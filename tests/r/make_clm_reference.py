"""Recompute tests/r/clm_reference.json with R (needs Rscript with the ordinal and jsonlite
packages; Debian: apt-get install r-base-core r-cran-ordinal r-cran-jsonlite).

    .venv/bin/python tests/r/make_clm_reference.py

Builds every case of tests/test_ordinal_r.py on the synthetic twin, writes its design to a
temporary folder (y as 1..J, columns x1..xk, case weights w), fits it with clm
(tests/r/clm_reference.R) and records R's estimates, standard errors and log-likelihood
with a fingerprint of the design.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parents[1] / "src"))

import test_ordinal_r as t  # noqa: E402


def main() -> None:
    survey = t.twin_survey()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prints = {}
        for name, (_, nominal, weighted, _) in t.CASES.items():
            d = t.case_design(name, survey)
            frame = d.X.copy()
            cols = list(frame.columns)
            frame.columns = [f"x{i + 1}" for i in range(len(cols))]
            frame.insert(0, "y", d.y + 1)
            if weighted:
                frame["w"] = d.weights
            frame.to_csv(folder / f"case_{name}.csv", index=False, float_format="%.17g")
            nom = [f"x{cols.index(c) + 1}" for v in nominal for c in d.terms[v]]
            meta = {"po": [f"x{i + 1}" for i, c in enumerate(cols) if f"x{i + 1}" not in nom],
                    "nominal": nom, "link": d.spec.link, "weighted": weighted}
            (folder / f"case_{name}.json").write_text(json.dumps(meta), encoding="utf-8")
            prints[name] = t.fingerprint(d)
        subprocess.run(["Rscript", str(HERE / "clm_reference.R"), str(folder)], check=True)
        ref = json.loads((folder / "reference.json").read_text(encoding="utf-8"))
    out = {k.removeprefix("case_"): {**v, "fingerprint": prints[k.removeprefix("case_")]} for k, v in ref.items()}
    t.REFERENCE.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"skrev {t.REFERENCE} ({len(out)} tilfeller)")


if __name__ == "__main__":
    main()
