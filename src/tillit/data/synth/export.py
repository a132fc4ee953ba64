"""The synthetic twin's public API: tables in memory, or files in ``data/raw/``.

:func:`generate` (raw, export-like tables), :func:`generate_clean` (the same data in the
processed layout, without the mess), :func:`write_raw` (files in ``data/raw/``).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from tillit.data import source
from tillit.data.codebook import Codebook, load_codebook
from tillit.data.synth.latent import _Twin, load_model, load_published
from tillit.data.synth.raw import _md_brev, _registers, _render_2017_raw, _render_survey_raw

MARKER = source.MARKER
SURVEY_STEM = "survey_2023"
SURVEY_FORMATS = ("csv", "xlsx", "sav")


# --- Public API -----------------------------------------------------------------------------
def _survey(seed: int | None, n_respondents: int, model: dict | None = None, published: dict | None = None,
            codebook: Codebook | None = None, *, calibrate_outcomes: bool = True) -> tuple[_Twin, pd.DataFrame]:
    model = model or load_model()
    published = published or load_published()
    codebook = codebook or load_codebook()
    seed = int(model["default_seed"]) if seed is None else int(seed)
    twin = _Twin(seed, n_respondents, model, published, codebook)
    p, items = twin.survey_2023(calibrate_outcomes=calibrate_outcomes)
    ids = twin.ids(n_respondents, twin.rng["people"])
    times = twin.timestamps(n_respondents, model["period"], twin.rng["people"])
    return twin, twin.clean_frame(p, items, ids, times)


def _simulate(seed: int | None, n_respondents: int, model: dict | None = None,
              published: dict | None = None, codebook: Codebook | None = None) -> tuple[_Twin, dict, dict]:
    model = model or load_model()
    codebook = codebook or load_codebook()
    twin, clean23 = _survey(seed, n_respondents, model, published, codebook)
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


def generate_survey(seed: int | None = None, n_respondents: int = 3660, *,
                    calibrate_outcomes: bool = True) -> pd.DataFrame:
    """Only ``survey_2023`` of :func:`generate_clean` (the same frame for the same seed), for
    studies that redraw it many times (benchmarks/coverage_ordinal.py).

    ``calibrate_outcomes=False`` leaves out the calibration of the model outcomes
    (synthetic.yml ``outcomes``) to their published shares: the outcomes are then exactly the
    latent model's draws, so the model's true coefficients are known (the predictors are still
    calibrated; the outcomes are drawn from the calibrated predictors). It is not the twin the
    book uses – that one always calibrates.
    """
    return _survey(seed, n_respondents, calibrate_outcomes=calibrate_outcomes)[1]


def _csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    path.write_bytes(_csv_bytes(df))


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Besvarelser")
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([v if v != "" else None for v in row])
    wb.save(path)


def _write_sav(df: pd.DataFrame, path: Path, codebook: Codebook) -> None:
    """SPSS file: variable names = processed names, labels = raw headers, items as codes, and
    "Vet ikke" declared user-missing, as survey tools write it."""
    import pyreadstat

    by_raw = codebook.by_raw()
    out, labels, value_labels, missing = {}, [], {}, {}
    for col in df.columns:
        var = by_raw[col]
        name = var.name
        if var.scale:
            scale = codebook.scales[var.scale]
            lookup = scale.code_to_label()
            inverse = {lab: float(code) for code, lab in lookup.items()}
            out[name] = df[col].map(lambda v: inverse.get(v, np.nan)).astype("float64")
            value_labels[name] = {float(c): lab for c, lab in lookup.items()}
            missing[name] = [float(scale.dont_know_code)]
        else:
            out[name] = df[col].astype(str)
        labels.append(col)
    frame = pd.DataFrame(out)
    pyreadstat.write_sav(frame, str(path), column_labels=labels, variable_value_labels=value_labels,
                         missing_ranges=missing)


def write_raw(raw_dir: Path | str, seed: int | None = None, n_respondents: int = 3660,
              formats: Iterable[str] = ("csv",)) -> list[Path]:
    """Write the twin's raw files into ``raw_dir``; return the paths (the marker first).

    ``formats`` chooses the survey_2023 export(s): any of ``csv``, ``xlsx``, ``sav`` (other
    tables are CSV). ``tillit.data.prepare`` wants exactly one survey_2023 file, so name several
    formats only to compare readers. CSV and JSON are byte-identical per seed; XLSX carries the
    zip's time stamps and SAV the file's creation time.

    The twin never overwrites a real file: it writes only into an empty folder or over files it
    wrote itself (:func:`tillit.data.source.check_twin_may_write`, a one-line error otherwise).
    The files are built in a hidden staging folder, the marker ``SYNTETISK.json`` records each
    file's SHA-256 (and, until the move is done, the previous hashes), then the files are moved
    in and the twin's own files from an earlier run that this run does not write are removed.
    """
    raw_dir = Path(raw_dir)
    formats = tuple(formats)
    bad = [f for f in formats if f not in SURVEY_FORMATS]
    if bad or not formats:
        raise ValueError(f"ukjent format {bad or formats} (tillatt: {', '.join(SURVEY_FORMATS)})")
    _state(raw_dir)                       # adopts a provable old-format marker
    source.check_twin_may_write(raw_dir)  # before the work, and again before anything is moved
    model = load_model()
    codebook = load_codebook()
    seed = int(model["default_seed"]) if seed is None else int(seed)
    twin, clean, raw = _simulate(seed, n_respondents, model=model, codebook=codebook)
    raw_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".synth-", dir=raw_dir))
    try:
        staged = _stage_files(stage, raw, formats, codebook)
        marker = {
            "kind": "synthetic",
            "note": "Syntetiske data fra tillit.data.synth – ikke ekte svar fra NAV-ansatte.",
            "generator": "tillit.data.synth",
            "generator_version": str(model["generator_version"]),
            "seed": seed,
            "n_respondents": int(n_respondents),
            "rows": {name: int(len(df)) for name, df in raw.items()},
            "survey_formats": list(formats),
            "files": {name: source.sha256(path) for name, path in staged.items()},
        }
        return _move_in(raw_dir, stage, staged, marker)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _stage_files(stage: Path, raw: dict[str, pd.DataFrame], formats: tuple[str, ...],
                 codebook: Codebook) -> dict[str, Path]:
    staged: dict[str, Path] = {}
    for name, df in raw.items():
        if name != SURVEY_STEM:
            staged[f"{name}.csv"] = stage / f"{name}.csv"
            _write_csv(df, staged[f"{name}.csv"])
    survey = raw[SURVEY_STEM]
    for fmt in formats:
        path = staged[f"{SURVEY_STEM}.{fmt}"] = stage / f"{SURVEY_STEM}.{fmt}"
        if fmt == "csv":
            _write_csv(survey, path)
        elif fmt == "xlsx":
            _write_xlsx(survey, path)
        else:
            _write_sav(survey, path, codebook)
    return staged


def _write_marker(raw_dir: Path, marker: dict) -> Path:
    path = raw_dir / MARKER
    tmp = raw_dir / f".{MARKER}.tmp-{os.getpid()}"
    tmp.write_bytes((json.dumps(marker, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    os.replace(tmp, path)
    return path


def _move_in(raw_dir: Path, stage: Path, staged: dict[str, Path], marker: dict) -> list[Path]:
    """Marker (new and previous hashes) → files → stale own files removed → final marker."""
    state = source.check_twin_may_write(raw_dir)
    previous = {n: h for n, h in (state.marker or {}).get("files", {}).items() if n in state.twin_files}
    marker_path = _write_marker(raw_dir, {**marker, "previous": previous})
    written = [marker_path]
    for name, path in staged.items():
        os.replace(path, raw_dir / name)
        written.append(raw_dir / name)
    for name in previous:
        if name not in staged:  # e.g. a survey format of an earlier run: ambiguous for prepare
            (raw_dir / name).unlink(missing_ok=True)
    _write_marker(raw_dir, marker)
    return written


def adopt_legacy(raw_dir: Path | str) -> bool:
    """Give a marker from before hashes were recorded its file list, where that can be proven.

    The twin's CSV files are byte-identical per seed and size, so the twin the old marker
    names is generated again in memory: each file in the folder that equals its twin file byte
    for byte is the twin's and gets its hash recorded; every other file stays real. Possible
    only for a CSV-only twin of the current generator version. Returns True if adopted.
    """
    raw_dir = Path(raw_dir)
    path = raw_dir / MARKER
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        seed, n = int(old["seed"]), int(old["n_respondents"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    model = load_model()
    if (old.get("generator") != "tillit.data.synth" or list(old.get("survey_formats", ["csv"])) != ["csv"]
            or str(old.get("generator_version")) != str(model["generator_version"])):
        return False
    _, _, raw = _simulate(seed, n, model=model)
    expected = {f"{name}.csv": _csv_bytes(df) for name, df in raw.items()}
    files = {}
    for name, data in expected.items():
        target = raw_dir / name
        if target.is_file() and target.read_bytes() == data:
            files[name] = source.sha256(target)
    _write_marker(raw_dir, {**old, "files": files})
    return True


def ensure_raw(raw_dir: Path | str) -> tuple[source.RawState, bool]:
    """What ``tillit build`` does first: (state of ``raw_dir``, whether the twin was written now).

    Writes the twin (default seed) into an empty folder, or over an incomplete twin of its
    own; a marker of an older version is adopted when provable (:func:`adopt_legacy`); a folder
    mixing the twin's files with real ones is refused; real data are never touched.
    """
    raw_dir = Path(raw_dir)
    state = _state(raw_dir)
    if state.kind == "mixed":
        raise state.mixed_error()
    if state.needs_twin:
        write_raw(raw_dir, None)
        return source.raw_state(raw_dir), True
    return state, False


def _state(raw_dir: Path) -> source.RawState:
    """:func:`tillit.data.source.raw_state`, adopting an old-format marker where provable."""
    try:
        return source.raw_state(raw_dir)
    except source.LegacyMarkerError:
        if not adopt_legacy(raw_dir):
            raise
        return source.raw_state(raw_dir)
