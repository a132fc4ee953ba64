"""Files as the pipeline sees them: content hashes, walks that skip staging, atomic moves.

Everything a build trusts is compared by sha256 of the bytes, never by mtime. Moves into
place are renames (`os.replace`), so a reader sees the old file or the new one, never half.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any, Iterable

_hash_memo: dict[tuple[str, int, int, int], str] = {}
_hash_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, memoised per (path, size, mtime, inode) within the process."""
    path = Path(path)
    st = path.stat()
    memo_key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    with _hash_lock:
        hit = _hash_memo.get(memo_key)
    if hit:
        return hit
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    with _hash_lock:
        _hash_memo[memo_key] = digest
    return digest


def _is_hidden(rel: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in rel.parts)


def _walk_files(base: Path) -> Iterable[Path]:
    """Regular files under base (sorted), skipping hidden files/folders (staging, locks)."""
    if base.is_file():
        yield base
        return
    if not base.is_dir():
        return
    for path in sorted(base.rglob("*")):
        if path.is_file() and not _is_hidden(path.relative_to(base)):
            yield path


def _rel(path: Path, root: Path) -> str:
    path = Path(path)
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def tree_hashes(base: Path, root: Path) -> dict[str, str]:
    """{path relative to root: sha256} for every file under base."""
    return {_rel(p, root): file_sha256(p) for p in _walk_files(base)}


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------------------
# Atomic moves
# --------------------------------------------------------------------------------------
def move(src: Path, dst: Path) -> None:
    """Rename `src` to `dst` (a file, or a folder where nothing is yet); across file systems,
    where a rename is impossible (EXDEV), copy next to `dst` first and rename that into place,
    so `dst` is still never seen half-written. `src` is removed once `dst` is complete."""
    try:
        os.replace(src, dst)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    tmp = dst.parent / f".{dst.name}.copy-{uuid.uuid4().hex[:8]}"
    try:
        if Path(src).is_dir():
            shutil.copytree(src, tmp, symlinks=True)
        else:
            shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise
    if Path(src).is_dir():
        shutil.rmtree(src, ignore_errors=True)
    else:
        Path(src).unlink(missing_ok=True)


def _replace_dir(new: Path, target: Path) -> None:
    """Put directory `new` at `target`: rename the old one aside, move in, delete the old
    (the old one is put back if the move fails)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    trash = None
    if target.exists():
        trash = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(target, trash)
    try:
        move(new, target)
    except BaseException:
        if trash is not None and not target.exists():
            os.replace(trash, target)
        raise
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
