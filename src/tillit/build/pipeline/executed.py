"""The executed notebook as it is kept under outputs/: the same bytes for the same inputs, and
nothing that belongs on the terminal only.

papermill gives its injected cell a random id and stamps every cell and the notebook with
start and end times; both are replaced or dropped, so a rebuild writes byte-identical
notebooks (and the cache's output hashes stay stable). Warnings and other stderr output may
quote a respondent's value ("alle 3 respondenter med ..."), so they are taken out of the kept
notebook and written to ``.tillit/logs/<name>.log`` (outside outputs/), and returned so the
build can show them on the terminal. Absolute paths in what is kept are made relative to the
compendium (or replaced by ``<python>`` / ``~``).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from tillit.build.pipeline.files import _atomic_write_text
from tillit.build.pipeline.params import KERNEL_NAME, _read_ipynb, _tags

LOG_DIR = Path(".tillit") / "logs"
INJECTED_ID = "injected-parameters"
# papermill's per-cell and per-notebook timing keys (everything else it records is kept).
_TIMING = ("start_time", "end_time", "duration")


def _path_replacements(root: Path) -> list[tuple[str, str]]:
    pairs = [(str(root) + os.sep, ""), (str(root), ".")]
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        if prefix and not str(prefix).startswith(str(root)):
            pairs.append((str(prefix), "<python>"))
    home = os.path.expanduser("~")
    if home and home != os.sep:
        pairs.append((home, "~"))
    return sorted(pairs, key=lambda p: -len(p[0]))


def scrub_paths(text: str, root: Path) -> str:
    """`text` with the compendium root, the Python installation and the home folder taken out."""
    for old, new in _path_replacements(root):
        text = text.replace(old, new)
    return text


_TEXT_TYPES = ("text/plain", "text/markdown", "text/html", "text/latex")


def _scrub_text(value: Any, root: Path) -> Any:
    if isinstance(value, str):
        return scrub_paths(value, root)
    if isinstance(value, list):
        return [_scrub_text(v, root) for v in value]
    return value


def _scrub(out: dict, root: Path) -> dict:
    """Paths out of an output's text parts (never out of images or other binary data)."""
    out = dict(out)
    for key in ("text", "evalue", "traceback"):
        if key in out:
            out[key] = _scrub_text(out[key], root)
    if isinstance(out.get("data"), dict):
        out["data"] = {k: (_scrub_text(v, root) if k in _TEXT_TYPES else v) for k, v in out["data"].items()}
    return out


def _text(out: dict) -> str:
    text = out.get("text", "")
    return "".join(text) if isinstance(text, list) else str(text)


def normalise(nb_path: Path, name: str, logical: dict[str, Any], input_rel: str, output_rel: str,
              root: Path) -> list[str]:
    """Rewrite an executed notebook in place as it is kept (see the module doc); return the
    stderr lines taken out of it (also written to ``.tillit/logs/<name>.log``)."""
    from papermill.translators import translate_parameters

    nb = _read_ipynb(nb_path)
    warnings: list[str] = []
    for i, cell in enumerate(nb["cells"]):
        if "injected-parameters" in _tags(cell):
            src = translate_parameters(KERNEL_NAME, "python", logical, "Parameters")
            cell["source"] = src.splitlines(keepends=True)
            cell["id"] = INJECTED_ID
        elif "id" in cell and not cell["id"]:
            cell["id"] = f"{name}-{i:02d}"
        meta = cell.setdefault("metadata", {})
        meta.pop("execution", None)
        for key in _TIMING:
            meta.get("papermill", {}).pop(key, None)
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                warnings.extend(line for line in _text(out).splitlines() if line.strip())
                continue
            kept.append(_scrub(out, root))
        if "outputs" in cell:
            cell["outputs"] = kept
    meta = nb.setdefault("metadata", {}).setdefault("papermill", {})
    for key in _TIMING:
        meta.pop(key, None)
    meta.update(parameters=logical, input_path=input_rel, output_path=output_rel)
    _atomic_write_text(nb_path, json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    log = root / LOG_DIR / f"{name}.log"
    if warnings:
        _atomic_write_text(log, "\n".join(warnings) + "\n")
    else:
        log.unlink(missing_ok=True)
    return warnings
