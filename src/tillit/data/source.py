"""What ``data/raw/`` holds – nothing, the synthetic twin, or a real export – and what that allows.

The twin proves which files are its own: its marker ``SYNTETISK.json`` lists every file it
wrote with the file's SHA-256. Any file in the folder that the marker does not list with that
exact hash is real (a researcher's export, a note, a twin file someone edited). So:

* the twin is written only into an empty folder or over files it wrote itself
  (:func:`check_twin_may_write`);
* a leftover marker beside a real export is ignored (the data are real) and never lets the
  twin overwrite the export;
* the twin's files beside a real export ("mixed") are refused by the preparation, so a book is
  never built half on synthetic data under a "real" label;
* a marker that cannot be read (empty, not JSON, no file list) is a one-line error.

This module also holds the one rule tying a parameter to the data kind: the floor under
``min_cell`` (:func:`check_min_cell`).
"""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tillit.config import ConfigError
from tillit.data.errors import DataError

MARKER = "SYNTETISK.json"
#: The smallest ``min_cell`` a book on a real export may be built with (issue 11). The twin
#: may go lower, with a warning, to study what the disclosure rule costs.
MIN_CELL_FLOOR = 3
Kind = Literal["empty", "synthetic", "real", "mixed"]


class LegacyMarkerError(DataError):
    """A marker written before the twin recorded its files' hashes (see
    :func:`tillit.data.synth.export.adopt_legacy`)."""


class MinCellWarning(UserWarning):
    """``min_cell`` is below the floor; allowed because the data are the synthetic twin."""


def sha256(path: Path | str) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ignored(name: str) -> bool:
    """Files that are neither data nor the twin's: hidden files (.DS_Store, the twin's own
    staging files) and the folder's README."""
    return name.startswith(".") or name.casefold() == "readme.md"


def read_marker(raw_dir: Path | str) -> dict | None:
    """The twin's marker as a dict, None when there is none; a one-line DataError when it
    cannot say which files the twin wrote."""
    path = Path(raw_dir) / MARKER
    if not path.is_file():
        return None
    what_to_do = (f"slett {MARKER} hvis mappen har en ekte eksport, eller tøm mappen og lag "
                  "tvillingen på nytt med `tillit synth`")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"kan ikke lese markørfilen ({type(exc).__name__})", hint=what_to_do) from None
    if not text.strip():
        raise DataError(path, "markørfilen er tom og viser ikke hvilke filer tvillingen skrev", hint=what_to_do)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(path, f"markørfilen er ikke gyldig JSON (linje {exc.lineno})", hint=what_to_do) from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        if isinstance(data, dict) and data.get("generator") == "tillit.data.synth":
            raise LegacyMarkerError(path, "markøren er fra en eldre versjon av tvillingen og viser ikke "
                                    "filene den skrev", hint=what_to_do)
        raise DataError(path, "markøren mangler listen 'files' over tvillingens filer og deres SHA-256",
                        hint=what_to_do)
    return data


@dataclass(frozen=True)
class RawState:
    """What a raw folder holds. ``kind``: empty, synthetic (only the twin's own files),
    real (no file of the twin's), or mixed (the twin's files beside real ones)."""

    raw_dir: Path
    kind: Kind
    twin_files: tuple[str, ...] = ()   # files the marker lists, unchanged since the twin wrote them
    real_files: tuple[str, ...] = ()   # every other file (not hidden, not the README)
    missing: tuple[str, ...] = ()      # files the marker lists that are gone
    marker: dict | None = field(default=None, compare=False)

    @property
    def leftover_marker(self) -> bool:
        """A marker beside real data with none of the twin's files: ignored."""
        return self.marker is not None and self.kind == "real"

    @property
    def needs_twin(self) -> bool:
        """Whether tillit.data.synth.ensure_raw has something to do here: write the twin (an
        empty folder, or a twin with files gone) or refuse the folder (mixed)."""
        return self.kind in ("empty", "mixed") or (self.kind == "synthetic" and bool(self.missing))

    @property
    def data_kind(self) -> str:
        """'synthetic' or 'real', as ``data_source.json`` records it (mixed is refused)."""
        if self.kind == "mixed":
            raise self.mixed_error()
        return "synthetic" if self.kind == "synthetic" else "real"

    def mixed_error(self) -> DataError:
        return DataError(
            self.raw_dir, f"mappen blander filer fra den syntetiske tvillingen ({_names(self.twin_files)}) "
            f"med filer tvillingen ikke har skrevet ({_names(self.real_files)})",
            hint=f"flytt tvillingens filer og {MARKER} ut av mappen (eller slett dem) før en ekte eksport "
                 "klargjøres")


def _names(names: tuple[str, ...], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" og {len(names) - limit} til" if len(names) > limit else "")


def raw_state(raw_dir: Path | str) -> RawState:
    """Classify ``raw_dir`` by the twin's marker and the hashes it records."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return RawState(raw_dir, "empty")
    marker = read_marker(raw_dir)
    names = sorted(p.name for p in raw_dir.iterdir() if p.is_file() and not ignored(p.name) and p.name != MARKER)
    if marker is None:
        return RawState(raw_dir, "real" if names else "empty", real_files=tuple(names))
    accepted = _accepted_hashes(marker)
    twin, real = [], []
    for name in names:
        (twin if name in accepted and sha256(raw_dir / name) in accepted[name] else real).append(name)
    missing = tuple(sorted(set(marker["files"]) - set(names)))
    if real:
        kind: Kind = "mixed" if twin else "real"
    else:
        kind = "synthetic" if twin else "empty"
    return RawState(raw_dir, kind, tuple(twin), tuple(real), missing, marker)


def _accepted_hashes(marker: dict) -> dict[str, set[str]]:
    """name → hashes the twin vouches for. While the twin rewrites a folder its marker also
    lists the files' previous hashes, so a write cut short never makes its own files 'real'."""
    out: dict[str, set[str]] = {}
    for key in ("files", "previous"):
        for name, digest in (marker.get(key) or {}).items():
            out.setdefault(name, set()).add(str(digest))
    return out


def check_twin_may_write(raw_dir: Path | str) -> RawState:
    """Raise (one line) unless ``raw_dir`` is empty or holds only the twin's own files."""
    state = raw_state(raw_dir)
    if state.real_files:
        raise DataError(
            state.raw_dir, f"mappen har filer som den syntetiske tvillingen ikke har skrevet "
            f"({_names(state.real_files)}); tvillingen skrives aldri ved siden av eller over dem",
            hint="bruk en tom mappe (--raw-dir), eller flytt filene ut hvis de ikke er en ekte eksport")
    return state


def remove_twin(raw_dir: Path | str) -> list[Path]:
    """Delete the twin's own files (those whose hash the marker vouches for) and then the
    marker; real files are never touched. Returns what was deleted."""
    state = raw_state(raw_dir)
    removed = []
    for name in state.twin_files:
        path = state.raw_dir / name
        path.unlink()
        removed.append(path)
    if state.marker is not None:
        (state.raw_dir / MARKER).unlink()
        removed.append(state.raw_dir / MARKER)
    return removed


def check_min_cell(min_cell: int, kind: str | None, *, setting: str = "min_cell") -> int:
    """The floor under ``min_cell``: below :data:`MIN_CELL_FLOOR` a real export is refused
    (ConfigError); the twin is allowed with a :class:`MinCellWarning`. An unknown kind counts
    as real. Returns ``min_cell``."""
    if min_cell >= MIN_CELL_FLOOR:
        return min_cell
    if kind == "synthetic":
        warnings.warn(f"{setting} = {min_cell} er under gulvet {MIN_CELL_FLOOR}; det er tillatt bare fordi "
                      "dataene er den syntetiske tvillingen, og en bok med ekte data bygges aldri slik",
                      MinCellWarning, stacklevel=2)
        return min_cell
    raise ConfigError(f"{setting} = {min_cell} er under gulvet {MIN_CELL_FLOOR} for en reell eksport: "
                      f"sett min_cell til minst {MIN_CELL_FLOOR} (params/default.yml eller -p min_cell)")
