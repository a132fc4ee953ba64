"""What a chapter notebook needs, behind one call:

    from tillit.book import context as nbk
    ctx = nbk.start("04_4_styring", globals())

`start` validates the parameters cell, resolves every path against the repository root
(so a notebook runs alike from the repo root, from notebooks/ and under papermill), sets
the plot theme and shows the data-source banner.
"""
from __future__ import annotations

import json
import shutil
import weakref
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
    """(level, text) of the banner saying which data the book shows and how to read its marks.
    Plain text for readers: no seeds, paths or tool names (those are in README and docs)."""
    from tillit.book.numbers import banner_sentence

    if source.get("kind") == "synthetic":
        return "warning", (
            "Denne utgaven viser en syntetisk tvilling av datagrunnlaget: oppdiktede svar fra like "
            "mange fiktive ansatte som svarte på den ekte undersøkelsen, laget slik at de gjenskaper "
            "tallene som er publisert i Delrapport 1. Ingen svar fra ekte personer inngår. "
            + banner_sentence(True)
        )
    return "note", (
        "Denne utgaven bygger på den reelle spørreundersøkelsen blant NAVs ansatte og "
        "dokumentanalysen. Grupper med for få svar vises ikke. " + banner_sentence(False)
    )


def edition_text(edition, codebook: Codebook) -> tuple[str, str]:
    """(title, text) naming an edition's part of NAV: the notebook's own note and, through
    tillit.book.render.structure.banner_for, the banner on every page of its book."""
    return (f"Utgave: {edition.title}",
            f"Denne boka er utgaven for {edition.title}, respondentene med {edition.describe(codebook)}. "
            "Kapitlene regner "
            "ut tallene for denne delen av NAV; der sammenligningen sier noe, står tallene for hele NAV "
            "ved siden av.")


@dataclass
class Context:
    name: str
    params: RunParams
    root: Path
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    # Data read since the last figure or table, and by the last one (the provenance line names them).
    _used: list[str] = field(default_factory=list, repr=False)
    _last_used: list[str] = field(default_factory=list, repr=False)
    _ever_used: bool = field(default=False, repr=False)
    _n: dict[str, int] = field(default_factory=dict, repr=False)

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
        name = rel.removesuffix(".parquet")
        if name not in self._used:
            self._used.append(name)
        self._ever_used = True
        if rel not in self._frames:
            path = self.data_dir / rel
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path}: klargjorte data mangler; kjør først notebooks/00_klargjoring.ipynb "
                    "(eller `tillit build`)."
                )
            self._frames[rel] = pd.read_parquet(path)
        return self._frames[rel]

    def survey(self, year: int = 2023, *, whole: bool = False) -> pd.DataFrame:
        """The prepared survey, for the edition's population (`whole=True`: all of NAV)."""
        df = self._parquet(f"survey_{year}.parquet")
        df = df if whole else self.edition.select(df)
        if not whole:
            self._n[f"survey_{year}"] = len(df)   # the respondents the provenance line names
        return df

    # -- the edition (params/editions.yml; docs/editions.md) -----------------------------
    @cached_property
    def edition(self):
        from tillit.stats.editions import load_editions

        return load_editions(root=self.root).get(self.params.edition)

    @property
    def is_whole(self) -> bool:
        """True for the whole of NAV (the main book), False for an edition's part of it."""
        return self.edition.is_whole

    @property
    def edition_label(self) -> str:
        """How the text names the respondents where the main book says "de ansatte"."""
        return self.edition.staff

    def main_book_href(self, page: str = "index.html") -> str:
        """A link from this edition's book (outputs/editions/<key>/book/) to a page of the
        main book (outputs/book/). From the layout, not from output_dir: a notebook runs in a
        staging folder."""
        from tillit.stats.editions import EDITIONS_DIR

        return f"{'../' * (len(Path(EDITIONS_DIR).parts) + 2)}book/{page}"

    def whole_view(self) -> "Context":
        """The same notebook for the whole of NAV, for what an edition quotes of the whole (4.1's
        overview of the report's findings). Its gate writes to a folder of its own, so nothing it
        computes is published as the edition's."""
        if self.is_whole:
            return self
        if "_whole" not in self.__dict__:
            import tempfile

            from tillit.stats.editions import load_editions

            out = tempfile.mkdtemp(prefix="tillit-hele-nav-")
            params = self.params.model_copy(update={"edition": load_editions(root=self.root).default,
                                                    "output_dir": out})
            self.__dict__["_whole"] = Context(name=self.name, params=params, root=self.root)
            weakref.finalize(self, shutil.rmtree, out, True)  # the folder goes with the context
        return self.__dict__["_whole"]

    def among(self, group: str) -> str:
        """A group word placed in the edition: "medarbeiderne" → "medarbeiderne i NKS"."""
        where = "" if self.is_whole else self.edition.where
        return f"{group} {where}" if where else group

    def reaches(self, item: str | None = None, *, roles=None, unit_types=None) -> bool:
        """Whether the edition has at least min_cell respondents in a group: those asked
        `item` (its codebook `asked_of` and `unit_types`), or of these roles / unit types."""
        df = self.survey()
        keep = pd.Series(True, index=df.index)
        if item is not None:
            var = self.codebook.items[item]
            roles = roles or var.asked_of
            unit_types = unit_types or var.unit_types or None
        if roles:
            keep &= df["role"].astype("object").isin(roles)
        if unit_types:
            keep &= df["unit_type"].astype("object").isin(unit_types)
        return int(keep.sum()) >= self.min_cell

    def not_in_edition(self, what: str, why: str | None = None) -> None:
        """Say that a part of the book is left out of this edition, and why (never how many).
        In the main book (a min_cell so large that a whole group falls below it) there is no
        other book to point to."""
        k = fmt.number_word(self.min_cell)  # a parameter, written as the methods appendix writes it
        if self.is_whole:
            display.show_callout(
                f"{what} vises ikke: {why or f'færre enn {k} respondenter hører til gruppen det gjelder'}.",
                kind="edition", level="note", title="Ikke vist")
            return
        why = why or f"færre enn {k} av {self.edition_label} hører til gruppen det gjelder"
        display.show_callout(
            f"{what} vises ikke i utgaven {self.edition.title}: {why}. Tallene for hele NAV står i hovedboka.",
            kind="edition", level="note", title="Ikke med i denne utgaven")

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

    def _sources(self, source: str | list[str] | None) -> list[str]:
        """Which data an output rests on: as given, else what was read since the last output,
        else what the last output used; [] (report facts) if the notebook read no data."""
        if source == "report":
            return []
        if source is not None:
            return [source] if isinstance(source, str) else list(source)
        used = list(self._used) or list(self._last_used)
        self._last_used, self._used = used, []
        return used if self._ever_used else []

    def source_text(self, sources: list[str]) -> str:
        """"spørreundersøkelse til alle ansatte 2023 (syntetisk tvilling, n = 3 660)"; numbers wrapped."""
        from tillit.book.provenance import SOURCE_WORDS

        parts = []
        for rel in sources:
            words = SOURCE_WORDS.get(rel, rel)
            extra = ["syntetisk tvilling"] if self.is_synthetic else []
            if rel.startswith("survey_"):
                n = self._n.get(rel)
                if n is not None:
                    published = (rel == "survey_2023" and "antall_respondenter" in self.num.targets
                                 and self.num._mismatch("antall_respondenter", float(n)) is None)
                    shown = self.num.pub("antall_respondenter", n, unit="") if published else self.num.count(n)
                    extra.append(f"n{fmt.NBSP}={fmt.NBSP}{shown}")
            parts.append(words + (f" ({', '.join(extra)})" if extra else ""))
        return "; ".join(parts)

    def provenance(self, source: str | list[str] | None = None) -> Provenance:
        sources = self._sources(source)
        return Provenance(self.name, current_cell(), self.params_text, self.data_sha256,
                          git_commit(str(self.root)), source=self.source_text(sources),
                          report_only=not sources)

    # -- output --------------------------------------------------------------------------
    @cached_property
    def num(self):
        """Numbers with their kind (publisert / rapport / modell): see tillit.book.numbers."""
        from tillit.book.numbers import Numbers

        return Numbers(synthetic=self.is_synthetic, root=self.root, whole=self.is_whole)

    @cached_property
    def gate(self):
        from tillit.stats.disclosure import Gate

        return Gate(self.min_cell, self.output_dir / "disclosure_log.csv", populations=self._cell_populations)

    def _cell_populations(self):
        """Respondents per unit type × role of the survey this book describes, for the gate's
        rule on counts of sub-populations (tillit.stats.outside); None before the data exist."""
        if not (self.data_dir / "survey_2023.parquet").is_file():
            return None
        from tillit.stats.outside import cell_populations

        survey = self.edition.select(self._parquet("survey_2023.parquet"))  # survey() would name it in provenance
        return cell_populations(survey, self.codebook), self.codebook

    def _kind(self, prov: Provenance, kind: str | None) -> str:
        if kind is not None:
            return kind
        return "rapport" if prov.report_only else self.num.model_kind

    def figure(self, fig, label: str, caption: str, alt: str, data: pd.DataFrame | None = None, *,
               source: str | list[str] | None = None, kind: str | None = None) -> Path:
        """Show a figure; `source` names the data ("survey_2023", "md_brev_2022", "report", …)
        when the data read since the last output is not it."""
        prov = self.provenance(source)
        return display.show_figure(fig, notebook=self.name, output_dir=self.output_dir, label=label,
                                   caption=caption, alt=alt, provenance=prov, data=data,
                                   kind=self._kind(prov, kind), codebook=self.codebook)

    def table(self, display_df: pd.DataFrame, label: str, caption: str,
              csv_df: pd.DataFrame | None = None, note: str | None = None, *,
              source: str | list[str] | None = None, kind: str | None = None,
              row_ids: list[str | None] | None = None, scale: str | None = None) -> Path:
        """Show a table. A table of report facts says ``source="report"`` (or ``kind="rapport"``):
        its line reads "Kilde: Delrapport 1". Bare numbers in cells get the kind of the table's
        numbers (default: model-only on the twin; ``kind=""`` leaves cells as given). ``scale``
        (a codebook scale) labels answer-code columns 1..5 in the download."""
        if kind == "rapport" and source is None:
            source = "report"
        prov = self.provenance(source)
        labels = dict(self.codebook.scales[scale].labels) if scale else None
        return display.show_table(display_df, notebook=self.name, output_dir=self.output_dir,
                                  label=label, caption=caption, provenance=prov, csv_df=csv_df, note=note,
                                  kind=self._kind(prov, kind), row_ids=row_ids, codebook=self.codebook,
                                  scale_labels=labels)

    def ledger(self, label: str = "tbl-regnskap", mode: str = "error") -> pd.DataFrame:
        """The reproduction ledger on the appendix page: every published number against the one
        recomputed here, through the disclosure gate, each row anchored ``id="ledger-<id>"``
        (where :meth:`Numbers.pub` links). Returns the full ledger (not for publication)."""
        from tillit.stats import ledger

        if not self.is_whole:  # the report published numbers for the whole of NAV only (docs/editions.md)
            self.prose(f"Reproduksjonsregnskapet sammenligner bare utgaven for hele NAV med Delrapport 1, fordi "
                       f"rapporten publiserte tall for hele NAV. Denne utgaven gjelder {self.edition.title}, og "
                       "tallene her er regnet ut for den delen av NAV; de sammenlignes derfor ikke med rapportens. "
                       f"Regnskapet står i [hovedboka]({self.main_book_href('app-regnskap.html')}).")
            return pd.DataFrame()
        table = ledger.compute_ledger(self.data_dir, gate=self.gate, table_id=f"{self.name}/{label}")
        self.gate.write_log()
        disp, view, caption, note = ledger_display(table, self.num, self.min_cell)
        self.table(disp, label, caption, csv_df=view, note=note,
                   source=["survey_2023", "survey_2017", "md_brev_2022"], kind="", row_ids=[f"ledger-{i}" for i in table["id"]])
        ledger.check_ledger(table, mode=mode)
        return table

    def prose(self, markdown: str) -> None:
        display.show_prose(markdown)

    def banner(self) -> None:
        if not self.is_whole:
            title, text = edition_text(self.edition, self.codebook)
            display.show_callout(text, kind="edition", level="note", title=title)
        if not self.data_source:
            return
        level, text = data_source_text(self.data_source)
        title = "Syntetiske data" if self.is_synthetic else "Reelle data"
        display.show_callout(text, kind="banner", level=level, title=title)

    def check_edition(self) -> None:
        """Refuse an edition the disclosure rule does not let us publish (never saying its size)."""
        if self.is_whole or not (self.data_dir / "survey_2023.parquet").is_file():
            return
        from tillit.stats.editions import cell_counts, decide_editions, load_editions

        cells = cell_counts(self._parquet("survey_2023.parquet"), self.codebook)
        decision = decide_editions(load_editions(root=self.root), self.codebook, cells, self.min_cell)
        if not decision[self.edition.key].published:
            raise ConfigError(f"utgaven '{self.edition.key}' publiseres ikke: {decision[self.edition.key].reason} "
                              f"(min_cell = {self.min_cell}); `tillit build --edition` lager en side som sier det")


STATUS_SHOWN = {"gjenskapt": "✓ gjenskapt", "ikke gjenskapt": "✗ ikke gjenskapt", "antakelse": "antakelse",
                "utenfor dataene": "ingen data", "skjult": "skjult"}


def ledger_display(table: pd.DataFrame, num, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
    """(displayed table, published CSV frame, caption, note) of the reproduction ledger. The
    report's numbers are report facts; the recomputed ones are computed numbers (model-only on
    the twin); assumptions and suppressed rows are never ticked."""
    from tillit.book.numbers import span
    from tillit.stats import ledger

    view = ledger.published_view(table)

    def wrap(text: str, kind: str) -> str:
        return span(text, kind, spoken=False) if any(ch.isdigit() for ch in str(text)) else str(text)

    disp = pd.DataFrame({
        "Kap.": view["section"].astype(str),
        "Påstand": view["statement"],
        "Publisert": [wrap(v, "rapport") for v in view["published"]],
        "Beregnet": [v if v == "–*" else wrap(v, num.model_kind) for v in view["recomputed"]],
        "Avvik": [v if v == "–*" else wrap(v, num.model_kind) for v in view["difference"]],
        "Status": [STATUS_SHOWN.get(s, s) for s in view["status"]],
    })
    targets = table[table["kind"] == "mål"]
    shown = targets[targets["status"] != ledger.HIDDEN]
    counts = table["status"].value_counts()
    caption = (f"Reproduksjonsregnskap: {num.count(int(shown['ok'].sum()))} av {num.count(len(targets))} "
               f"publiserte tall gjenskapt, pluss {num.count(int(counts.get(ledger.ASSUMED, 0)))} antakelser og "
               f"{num.count(int(counts.get(ledger.OUTSIDE, 0)))} publiserte tall uten data i kompendiet")
    note = ("✓: tallet er gjenskapt med rapportens presisjon. Antakelse: 2017-tallene er ikke publisert og er "
            "generert ut fra dokumenterte antakelser; de er aldri haket av. Ingen data: rapporten oppgir tallet "
            "fra en kilde kompendiet ikke har. Skjult: færre enn " + num.count(min_cell) + " svar bak tallet.")
    return disp, view, caption, note


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
    ctx.check_edition()
    if banner:
        ctx.banner()
    return ctx
