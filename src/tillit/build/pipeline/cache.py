"""Cache keys and the manifest.

A step's key is a content hash of what decides its result (see docs/pipeline.md): its cells,
its resolved parameters, the files it reads, the package code notebooks import and the
environment. outputs/manifest.json records each step's key, its parts and the sha256 of
every output, so an unchanged step whose outputs are still on disk is skipped.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tillit.build.pipeline.files import _atomic_write_text, _digest, _rel, _walk_files, file_sha256, tree_hashes
from tillit.build.pipeline.params import (
    KERNEL_NAME,
    _abs,
    _params_file,
    _read_ipynb,
    _root,
    _source,
    _tags,
    is_prepare_step,
)
from tillit.config import PipelineSpec, load_pipeline, load_run_params

if TYPE_CHECKING:
    from tillit.build.pipeline.execute import StepResult

# Bump when the key recipe changes, so old manifests never match by accident.
KEY_VERSION = 1
MANIFEST_NAME = "manifest.json"
# Files several chapters append to (by table id); merged, never replaced wholesale, and not
# recorded as any one step's output.
MERGED_LOGS = ("disclosure_log.csv",)
# What appendices summarise besides the chapters' data: the disclosure log and the audit of
# the chapters' published numbers (tillit.stats.audit); they are keyed on both.
APPENDIX_INPUTS = (*MERGED_LOGS, "disclosure_audit.json")
# Params files that describe how to run, not what to compute: their effect on a step is
# already in the resolved parameters (pipeline.yml, default.yml) or they are batch specs.
_RUN_SPEC_PREFIXES = ("batch",)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@lru_cache(maxsize=1)
def environment_hash() -> str:
    """Hash of the interpreter version and every installed distribution with its version.

    Computed once per process (about 60 ms): the locked environment does not change under
    a running build.
    """
    from importlib import metadata

    dists = sorted({_name_version(d) for d in metadata.distributions()})
    return _digest({"python": sys.version, "dists": dists})


def _name_version(dist) -> tuple[str, str | None]:
    """(name in lower case, version) from the distribution's metadata headers, as
    ``(d.metadata["Name"] or "").lower(), d.version`` gives them, without the e-mail parser
    (a third of a no-op build's time went to parsing ~250 metadata files in full)."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the headers end at the first blank line
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version") and key not in found:
            found[key] = value.strip()
    return (found.get("Name") or "").lower(), found.get("Version")


# The package that actually runs; a module attribute so tests can point it elsewhere.
# The package that actually runs; a module attribute so tests can point it elsewhere.
PACKAGE_DIR = Path(__file__).resolve().parents[2]
# Parts that orchestrate runs or render the book but never compute a result inside a
# notebook: editing them (or the book's templates) must not invalidate every step.
RUNNER_PARTS = ("build/", "book/render", "book/templates/")


def package_hash(pkg: Path | None = None) -> str:
    """Hash of the tillit package that notebooks import: its *.py files (the rendering
    templates only shape the book, which is re-rendered after every build)."""
    pkg = Path(pkg or PACKAGE_DIR)
    files = [
        p for p in _walk_files(pkg)
        if p.suffix == ".py" and not p.relative_to(pkg).as_posix().startswith(RUNNER_PARTS)
    ]
    return _digest({p.relative_to(pkg).as_posix(): file_sha256(p) for p in files})


def cells_digest(nb: dict) -> str:
    """Hash of every cell's type, source and tags; outputs and other metadata are ignored.

    Markdown cells are included on purpose: the executed notebook is what the book shows,
    so a prose edit must reach it, and re-running the chapter is the simplest honest way.
    """
    return _digest([[c.get("cell_type"), _source(c), sorted(_tags(c))] for c in nb["cells"]])


def input_hashes(name: str, resolved: dict[str, Any], *, root: Path, spec: PipelineSpec) -> dict[str, str]:
    """The files a step reads: raw data for the data-preparation step, processed data for
    chapters, the shared logs for appendices, and for all the params/*.yml files that are
    not run specifications."""
    if is_prepare_step(name, spec):
        hashes = tree_hashes(_abs(resolved["raw_dir"], root), root)
    else:
        hashes = tree_hashes(_abs(resolved["data_dir"], root), root)
    if spec.spec(name).appendix:
        # Appendices summarise the chapters' disclosure log and its audit.
        for log in APPENDIX_INPUTS:
            path = _abs(resolved["output_dir"], root) / log
            if path.is_file():
                hashes[_rel(path, root)] = file_sha256(path)
    skip = {(root / "params" / "pipeline.yml").resolve(), _params_file(spec, root).resolve()}
    for path in sorted((root / "params").glob("*.yml")):
        if path.resolve() in skip or path.name.startswith(_RUN_SPEC_PREFIXES):
            continue
        hashes[_rel(path, root)] = file_sha256(path)
    return hashes


_PART_LABELS = {
    "cells": "notatbokceller",
    "parameters": "parametere",
    "inputs": "inndata",
    "package": "pakkekode",
    "environment": "miljø",
}


def key_parts(
    name: str,
    resolved: dict[str, Any],
    *,
    root: Path | None = None,
    spec: PipelineSpec | None = None,
) -> dict[str, str]:
    """The digests a step's key is made of (recorded in the manifest, so a re-run can say why)."""
    root = _root(root)
    spec = spec or load_pipeline(root=root)
    nb = _read_ipynb(root / "notebooks" / f"{name}.ipynb")
    return {
        "version": str(KEY_VERSION),
        "notebook": name,
        "kernel": KERNEL_NAME,
        "cells": cells_digest(nb),
        "parameters": _digest(resolved),
        "inputs": _digest(input_hashes(name, resolved, root=root, spec=spec)),
        "package": package_hash(),
        "environment": environment_hash(),
    }


def step_key(
    name: str,
    resolved: dict[str, Any],
    *,
    root: Path | None = None,
    spec: PipelineSpec | None = None,
) -> str:
    """Content hash of what decides a step's result (docs/pipeline.md)."""
    return _digest(key_parts(name, resolved, root=root, spec=spec))


def _changed(parts: dict[str, str], previous: dict | None) -> list[str]:
    """Norwegian labels of the key parts that differ from the previous run."""
    if not previous or "key_parts" not in previous:
        return ["ingen tidligere kjøring"]
    old = previous["key_parts"]
    labels = [label for part, label in _PART_LABELS.items() if old.get(part) != parts.get(part)]
    return labels or ["utdata endret eller mangler"]


def manifest_path(root: Path | None = None) -> Path:
    root = _root(root)
    spec = load_pipeline(root=root)
    out = _abs(load_run_params(_params_file(spec, root)).output_dir, root)
    return out / MANIFEST_NAME


def read_manifest(root: Path | None = None) -> dict:
    """outputs/manifest.json, or an empty manifest if there is none (or it is unreadable)."""
    return read_manifest_at(manifest_path(root))


def read_manifest_at(path: Path) -> dict:
    """The manifest at `path` (a build elsewhere than outputs/, e.g. an edition's)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("version") == KEY_VERSION:
            data.setdefault("steps", {})
            return data
    except (OSError, json.JSONDecodeError):
        pass
    return {"version": KEY_VERSION, "steps": {}}


def _write_manifest(path: Path, data: dict) -> None:
    _atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def _manifest_lock(path: Path):
    from filelock import FileLock

    return FileLock(str(path.parent / f".{MANIFEST_NAME}.lock"), timeout=30)


def _save_build_manifest(path: Path, data: dict) -> None:
    """Write the build's manifest, keeping a render record written meanwhile by record_render."""
    with _manifest_lock(path):
        try:
            on_disk = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(on_disk, dict) and "render" in on_disk:
                data["render"] = on_disk["render"]
        except (OSError, json.JSONDecodeError):
            pass
        _write_manifest(path, data)


def _entry(result: StepResult, previous: dict | None) -> dict:
    entry = {
        "key": result.key,
        "status": result.status,
        "seconds": round(result.seconds, 3),
        "started": result.started,
        "finished": result.finished,
        "outputs": result.output_hashes,
        "error": result.public_error if result.error else None,
        "key_parts": result.key_parts,
    }
    if result.reason:
        entry["reason"] = result.reason
    if result.status == "cached" and previous:
        entry["built_seconds"] = previous.get("built_seconds", previous.get("seconds"))
        entry["built_at"] = previous.get("built_at", previous.get("finished"))
    elif result.status == "ok":
        entry["built_seconds"] = entry["seconds"]
        entry["built_at"] = result.finished
    return entry


def _cached(name: str, key: str, previous: dict | None, root: Path) -> dict[str, str] | None:
    """The recorded outputs if the step is up to date (same key, outputs unchanged)."""
    if not previous or previous.get("key") != key or previous.get("status") not in ("ok", "cached"):
        return None
    outputs = previous.get("outputs") or {}
    if not outputs:
        return None
    for rel, digest in outputs.items():
        path = _abs(rel, root)
        try:
            if file_sha256(path) != digest:
                return None
        except OSError:
            return None
    return dict(outputs)


def record_render(renderer: str, seconds: float, *, root: Path | None = None, output: str | None = None) -> dict:
    """Record in the manifest which renderer built the book, how long it took, and from
    which build (the hash of all step keys)."""
    path = manifest_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _manifest_lock(path):
        data = read_manifest(root)
        data["render"] = {
            "renderer": renderer,
            "seconds": round(float(seconds), 3),
            "finished": _now(),
            "build": _digest({k: v.get("key") for k, v in sorted(data["steps"].items())}),
            "output": output,
        }
        _write_manifest(path, data)
    return data["render"]


def _record_step(path: Path, root: Path, result: StepResult, previous: dict | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _manifest_lock(path):
        data = read_manifest(root)
        data["steps"][result.name] = _entry(result, previous)
        _write_manifest(path, data)


