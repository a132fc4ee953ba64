"""The disclosure log is owned by the build.

Each step's suppressions are one of its outputs, ``<output_dir>/disclosure/<step>/log.csv``
(hashed and recorded in the manifest like any output, so deleting it re-runs the step), and
``<output_dir>/disclosure_log.csv`` is assembled from those parts after every step and at the
start and end of every build. The log therefore always describes the outputs on disk: a
deleted or stale log is rebuilt, and a step that no longer suppresses anything leaves no
rows behind. Aggregates only, like the log itself (table, row, column, reason, min_cell).
"""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

from tillit.build.pipeline.files import _atomic_write_text

LOG_NAME = "disclosure_log.csv"
LOG_KEY = "table_id"  # tillit.stats.disclosure.Gate replaces a log's rows per table id
PARTS_DIR = "disclosure"  # <output_dir>/disclosure/<step>/log.csv
PART_NAME = "log.csv"
# Read by appendix steps besides the log (tillit.stats.audit writes it); never their output.
AUDIT_NAME = "disclosure_audit.json"

_log_lock = threading.Lock()


def _read(path: Path):
    import pandas as pd

    if path.is_file() and path.stat().st_size > 0:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return None


def _file_lock(path: Path):
    from filelock import FileLock

    return FileLock(str(path) + ".lock", timeout=60)


def seed_log(main_out: Path, stage_out: Path) -> object | None:
    """For an appendix step, which reads the log: copy the assembled log into its staging
    folder and return it, so its own rows can be told from the ones it was given."""
    src = main_out / LOG_NAME
    with _log_lock, _file_lock(src):
        seed = _read(src)
        if seed is not None:
            shutil.copyfile(src, stage_out / LOG_NAME)
    if (main_out / AUDIT_NAME).is_file():
        shutil.copyfile(main_out / AUDIT_NAME, stage_out / AUDIT_NAME)
    return seed


def _rows_by_key(df, key: str) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    if df is None:
        return out
    for rec in df.itertuples(index=False):
        out.setdefault(str(getattr(rec, key)), []).append(tuple(rec))
    return out


def take_part(stage_out: Path, name: str, seed) -> Path | None:
    """Turn the log a step wrote in staging into its part, ``disclosure/<name>/log.csv``.

    Rows of table ids it was seeded with and left unchanged are not its own and are dropped.
    The staged log itself is removed (it is never moved into place).
    """
    staged = stage_out / LOG_NAME
    fresh = _read(staged)
    staged.unlink(missing_ok=True)
    (stage_out / AUDIT_NAME).unlink(missing_ok=True)
    for lock in stage_out.glob(f"{LOG_NAME}.lock"):
        lock.unlink(missing_ok=True)
    if fresh is None:
        return None
    if seed is not None and LOG_KEY in fresh.columns and LOG_KEY in seed.columns:
        before, after = _rows_by_key(seed, LOG_KEY), _rows_by_key(fresh, LOG_KEY)
        same = {k for k in after if before.get(k) == after[k]}
        fresh = fresh[~fresh[LOG_KEY].isin(same)]
    part = stage_out / PARTS_DIR / name / PART_NAME
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_text(fresh.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return part


def assemble_log(out_dir: Path) -> Path:
    """Write ``disclosure_log.csv`` from every step's part (sorted by table id, stable), only
    if its content changes. With no parts, the log has the header alone when one existed."""
    import pandas as pd

    target = out_dir / LOG_NAME
    parts = sorted((out_dir / PARTS_DIR).glob(f"*/{PART_NAME}"))
    with _log_lock, _file_lock(target):
        frames = [f for f in (_read(p) for p in parts) if f is not None]
        if not frames:
            if target.is_file():
                old = _read(target)
                header = ",".join(old.columns) + "\n" if old is not None else ""
                if target.read_text(encoding="utf-8") != header:
                    _atomic_write_text(target, header)
            return target
        merged = pd.concat(frames, ignore_index=True)
        if LOG_KEY in merged.columns:
            merged["_order"] = range(len(merged))
            merged = merged.sort_values([LOG_KEY, "_order"], kind="stable").drop(columns="_order")
        text = merged.to_csv(index=False, lineterminator="\n")
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            _atomic_write_text(target, text)
    return target
