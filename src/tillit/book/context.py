"""What a chapter notebook needs, behind one call:

    from tillit.book import context as nbk
    ctx = nbk.start("04_4_styring", globals())

`start` validates the parameters cell, resolves every path against the repository root
(so a notebook runs alike from the repo root, from notebooks/ and under papermill), sets
the plot theme and shows the data-source banner.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from tillit import fmt
from tillit.book import display
from tillit.book.destination import check_output_dir
from tillit.data.codebook import Codebook, load_codebook
from tillit.config import SHARED_KEYS, ConfigError, RunParams, explain_validation, load_run_params, repo_root
from tillit.book.provenance import Provenance, current_cell, git_commit, sha256_tree


PATH_KEYS = ("data_dir", "raw_dir", "output_dir")


def data_source_text(source: dict) -> tuple[str, str]:
    """(level, text) of the banner saying which data the book shows."""
    if source.get("kind") == "synthetic":
        return "warning", (
            "Denne utgaven viser en syntetisk tvilling av datagrunnlaget: genererte svar fra "
            f"{fmt.num(source['n_respondents']) if 'n_respondents' in source else 'et kjent antall'} fiktive respondenter (frø "
            f"{source.get('seed', '?')}) som er kalibrert slik at de gjengir tallene som er "
            "publisert i Delrapport 1. Ingen svar fra ekte personer inngår. Tall som ikke er "
            "publisert i rapporten, er derfor modellens tall og ikke NAVs."
        )
    return "note", (
        "Denne utgaven bygger på den reelle eksporten av spørreundersøkelsen og dokumentanalysen "
        "(konfidensielle kildedata). Alle publiserte celler bygger på minst det konfigurerte "
        "minste antallet respondenter."
    )


@dataclass
class Context:
    name: str
    params: RunParams
    root: Path
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    # -- paths ---------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.params.path("data_dir", self.root)

    @property
    def raw_dir(self) -> Path:
        return self.params.path("raw_dir", self.root)

    @property
    def output_dir(self) -> Path:
        return self.params.path("output_dir", self.root)

    @property
    def min_cell(self) -> int:
        return self.params.effective_min_cell

    @cached_property
    def codebook(self) -> Codebook:
        return load_codebook(self.root / "params" / "codebook.yml")

    # -- data ----------------------------------------------------------------------------
    def _parquet(self, rel: str) -> pd.DataFrame:
        if rel not in self._frames:
            path = self.data_dir / rel
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path}: klargjorte data mangler; kjør først notebooks/00_klargjoring.ipynb "
                    "(eller `tillit build`)."
                )
            self._frames[rel] = pd.read_parquet(path)
        return self._frames[rel]

    def survey(self, year: int = 2023) -> pd.DataFrame:
        return self._parquet(f"survey_{year}.parquet")

    def md_letters(self) -> pd.DataFrame:
        return self._parquet("md_brev_2022.parquet")

    def register(self, name: str) -> pd.DataFrame:
        return self._parquet(f"registers/{name}.parquet")

    def exclusion_flow(self) -> pd.DataFrame:
        return self._parquet("exclusion_flow.parquet")

    @cached_property
    def data_source(self) -> dict:
        path = self.data_dir / "data_source.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    @property
    def is_synthetic(self) -> bool:
        return self.data_source.get("kind") == "synthetic"

    # -- provenance ----------------------------------------------------------------------
    @cached_property
    def data_sha256(self) -> str:
        return sha256_tree(self.data_dir) if self.data_dir.is_dir() else "0" * 64

    @cached_property
    def params_text(self) -> str:
        defaults = load_run_params()
        # Paths are where things live, not what they are (the data hash covers the data), and
        # the pipeline stages outputs in temporary folders; only value parameters are shown.
        changed = [f"{k}={getattr(self.params, k)}" for k in SHARED_KEYS
                   if k not in PATH_KEYS and getattr(self.params, k) != getattr(defaults, k)]
        return "params/default.yml" + (f" med {', '.join(changed)}" if changed else "")

    def provenance(self) -> Provenance:
        return Provenance(self.name, current_cell(), self.params_text, self.data_sha256,
                          git_commit(str(self.root)))

    # -- output --------------------------------------------------------------------------
    @cached_property
    def num(self):
        """Numbers with their kind (publisert / rapport / modell): see tillit.book.numbers."""
        from tillit.book.numbers import Numbers

        return Numbers(synthetic=self.is_synthetic, root=self.root)

    @cached_property
    def gate(self):
        from tillit.stats.disclosure import Gate

        return Gate(self.min_cell, self.output_dir / "disclosure_log.csv")

    def figure(self, fig, label: str, caption: str, alt: str, data: pd.DataFrame | None = None) -> Path:
        return display.show_figure(fig, notebook=self.name, output_dir=self.output_dir, label=label,
                                  caption=caption, alt=alt, provenance=self.provenance(), data=data)

    def table(self, display_df: pd.DataFrame, label: str, caption: str,
              csv_df: pd.DataFrame | None = None, note: str | None = None) -> Path:
        return display.show_table(display_df, notebook=self.name, output_dir=self.output_dir,
                                 label=label, caption=caption, provenance=self.provenance(),
                                 csv_df=csv_df, note=note)

    def prose(self, markdown: str) -> None:
        display.show_prose(markdown)

    def banner(self) -> None:
        if not self.data_source:
            return
        level, text = data_source_text(self.data_source)
        title = "Syntetiske data" if self.is_synthetic else "Reelle data"
        display.show_callout(text, kind="banner", level=level, title=title)


def start(name: str, namespace: dict[str, Any], *, banner: bool = True) -> Context:
    """Validate the notebook's parameters and return its context."""
    missing = [k for k in SHARED_KEYS if k not in namespace]
    if missing:
        raise ConfigError(
            f"notatboken {name}: parameters-cellen mangler {', '.join(missing)} "
            "(alle delte parametere i params/default.yml må stå der)"
        )
    values = {k: namespace[k] for k in SHARED_KEYS}
    try:
        params = RunParams(**values)
    except ValidationError as exc:
        raise ConfigError(explain_validation(f"notebooks/{name}.ipynb (parameters)", exc)) from None
    from tillit.book import plots

    plots.set_theme()
    ctx = Context(name=name, params=params, root=repo_root())
    check_output_dir(ctx.output_dir, ctx.root, raw_dir=ctx.raw_dir, data_dir=ctx.data_dir)  # H11b: never into sources
    if banner:
        ctx.banner()
    return ctx
