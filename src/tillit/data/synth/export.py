"""The synthetic twin's public API: tables in memory, or files in ``data/raw/``.

:func:`generate` (raw, export-like tables), :func:`generate_clean` (the same data in the
processed layout, without the mess), :func:`write_raw` (files in ``data/raw/``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from tillit.data.codebook import Codebook, load_codebook
from tillit.data.synth.latent import _Twin, load_model, load_published
from tillit.data.synth.raw import _md_brev, _registers, _render_2017_raw, _render_survey_raw

MARKER = "SYNTETISK.json"
SURVEY_STEM = "survey_2023"
SURVEY_FORMATS = ("csv", "xlsx", "sav")


# --- Public API -----------------------------------------------------------------------------
def _simulate(seed: int | None, n_respondents: int, model: dict | None = None,
              published: dict | None = None, codebook: Codebook | None = None) -> tuple[_Twin, dict, dict]:
    model = model or load_model()
    published = published or load_published()
    codebook = codebook or load_codebook()
    seed = int(model["default_seed"]) if seed is None else int(seed)
    twin = _Twin(seed, n_respondents, model, published, codebook)
    p, items = twin.survey_2023()
    ids = twin.ids(n_respondents, twin.rng["people"])
    times = twin.timestamps(n_respondents, model["period"], twin.rng["people"])
    clean23 = twin.clean_frame(p, items, ids, times)
    p17, items17 = twin.survey_2017()
    spec17 = model["survey_2017"]
    ids17 = twin.ids(len(p17.role), twin.rng["y2017"])
    times17 = twin.timestamps(len(p17.role), spec17["period"], twin.rng["y2017"])
    clean17 = twin.clean_frame(p17, items17, ids17, times17, with_unit=False)
    md_clean, md_raw = _md_brev(twin)
    clean = {"survey_2023": clean23, "survey_2017": clean17, "md_brev_2022": md_clean}
    raw: dict[str, pd.DataFrame] = {
        "survey_2023": _render_survey_raw(twin, clean23),
        "survey_2017": _render_2017_raw(twin, clean17),
        "md_brev_2022": md_raw,
    }
    from tillit.data.prepare import register_frame  # one conversion for the twin and for real registers

    for name, frame in _registers(twin).items():
        raw[Path(codebook.registers[name]["file"]).stem] = frame
        clean[f"registers/{name}"] = register_frame(name, frame, codebook.registers[name]["file"], codebook)
    return twin, clean, raw


def generate(seed: int | None = None, n_respondents: int = 3660) -> dict[str, pd.DataFrame]:
    """Raw, export-like tables of the synthetic twin, keyed by file stem.

    ``survey_2023`` (one row per submission, with test responses, partial completes,
    duplicates, alias spellings and free text), ``survey_2017``, ``md_brev_2022`` and the
    registers (``kommuner``, ``intervjuer``, ``samtalepakker``, ``erfaringsbasen``,
    ``tilskudd``, ``storskalasamling``). Every cell is text (labels, as the tool exports them).
    Same seed and size -> identical tables. ``seed=None`` uses ``default_seed`` in synthetic.yml.
    """
    return _simulate(seed, n_respondents)[2]


def generate_clean(seed: int | None = None, n_respondents: int = 3660) -> dict[str, pd.DataFrame]:
    """The same realisation in the processed layout (docs/architecture.md), without the mess.

    ``survey_2023``, ``survey_2017``, ``md_brev_2022`` and ``registers/<name>``; what
    ``tillit.data.prepare`` yields from the raw files of the same seed.
    """
    return _simulate(seed, n_respondents)[1]


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _atomic_write(path: Path, writer) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}{path.suffix}")
    try:
        writer(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Besvarelser")
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([v if v != "" else None for v in row])
    wb.save(path)


def _write_sav(df: pd.DataFrame, path: Path, codebook: Codebook) -> None:
    """SPSS file: variable names = processed names, labels = raw headers, items as codes."""
    import pyreadstat

    by_raw = codebook.by_raw()
    out, labels, value_labels = {}, [], {}
    for col in df.columns:
        var = by_raw[col]
        name = var.name
        if var.scale:
            lookup = codebook.scales[var.scale].code_to_label()
            inverse = {lab: float(code) for code, lab in lookup.items()}
            out[name] = df[col].map(lambda v: inverse.get(v, np.nan)).astype("float64")
            value_labels[name] = {float(c): lab for c, lab in lookup.items()}
        else:
            out[name] = df[col].astype(str)
        labels.append(col)
    frame = pd.DataFrame(out)
    pyreadstat.write_sav(frame, str(path), column_labels=labels, variable_value_labels=value_labels)


def write_raw(raw_dir: Path | str, seed: int | None = None, n_respondents: int = 3660,
              formats: Iterable[str] = ("csv",), force: bool = False) -> list[Path]:
    """Write the twin's raw files into ``raw_dir`` (atomically, file by file); return the paths.

    ``formats`` chooses the survey_2023 export(s): any of ``csv``, ``xlsx``, ``sav`` (other
    tables are CSV). ``tillit.data.prepare`` wants exactly one survey_2023 file, so name several
    formats only to compare readers. CSV and JSON are byte-identical per seed; XLSX carries
    the zip's time stamps and SAV the file's creation time. ``SYNTETISK.json`` (seed, sizes, generator version) is written first, so
    a half-written folder is never mistaken for a real export. Refuses to write into a folder
    that holds a real export (a ``survey_2023.*`` without ``SYNTETISK.json``) unless ``force``.
    """
    raw_dir = Path(raw_dir)
    formats = tuple(formats)
    bad = [f for f in formats if f not in SURVEY_FORMATS]
    if bad or not formats:
        raise ValueError(f"ukjent format {bad or formats} (tillatt: {', '.join(SURVEY_FORMATS)})")
    raw_dir.mkdir(parents=True, exist_ok=True)
    existing = [raw_dir / f"{SURVEY_STEM}.{f}" for f in SURVEY_FORMATS if (raw_dir / f"{SURVEY_STEM}.{f}").exists()]
    if existing and not (raw_dir / MARKER).exists() and not force:
        raise FileExistsError(
            f"{raw_dir} inneholder en ekte eksport ({', '.join(p.name for p in existing)}, uten {MARKER}); "
            "den syntetiske tvillingen skrives ikke over ekte data. Bruk en annen mappe.")
    model = load_model()
    codebook = load_codebook()
    seed = int(model["default_seed"]) if seed is None else int(seed)
    twin, clean, raw = _simulate(seed, n_respondents, model=model, codebook=codebook)
    marker = {
        "kind": "synthetic",
        "note": "Syntetiske data fra tillit.data.synth – ikke ekte svar fra NAV-ansatte.",
        "generator": "tillit.data.synth",
        "generator_version": str(model["generator_version"]),
        "seed": seed,
        "n_respondents": int(n_respondents),
        "rows": {name: int(len(df)) for name, df in raw.items()},
        "survey_formats": list(formats),
    }
    written: list[Path] = []
    marker_path = raw_dir / MARKER
    _atomic_write_bytes(marker_path, (json.dumps(marker, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    written.append(marker_path)
    for name, df in raw.items():
        if name == SURVEY_STEM:
            continue
        path = raw_dir / f"{name}.csv"
        _atomic_write_bytes(path, _csv_bytes(df))
        written.append(path)
    survey = raw[SURVEY_STEM]
    for fmt in formats:
        path = raw_dir / f"{SURVEY_STEM}.{fmt}"
        if fmt == "csv":
            _atomic_write_bytes(path, _csv_bytes(survey))
        elif fmt == "xlsx":
            _atomic_write(path, lambda tmp: _write_xlsx(survey, tmp))
        else:
            _atomic_write(path, lambda tmp: _write_sav(survey, tmp, codebook))
        written.append(path)
    # A single survey export: stale formats from an earlier synthetic run would be ambiguous.
    for fmt in SURVEY_FORMATS:
        stale = raw_dir / f"{SURVEY_STEM}.{fmt}"
        if fmt not in formats and stale.exists():
            stale.unlink()
    return written
