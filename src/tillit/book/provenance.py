"""The line under each figure and table: which notebook and cell made it, from which
parameters, data and commit — so a reader can trace any number to its code."""
from __future__ import annotations

import hashlib
import html
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_tree(directory: Path, pattern: str = "**/*") -> str:
    """One digest over every file below `directory` (names and contents, sorted)."""
    digest = hashlib.sha256()
    directory = Path(directory)
    for path in sorted(p for p in directory.glob(pattern) if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        digest.update(rel.encode())
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


@lru_cache(maxsize=8)
def git_commit(root: str) -> str:
    """Short commit of the working tree, with '+endret' when it has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=root,
                                capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "ukjent"
    return f"{commit}+endret" if dirty else commit


def current_cell() -> int | None:
    """The execution count of the running cell (papermill runs cells in order)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of ipykernel
        return None
    shell = get_ipython()
    return int(shell.execution_count) if shell is not None else None


@dataclass(frozen=True)
class Provenance:
    notebook: str
    cell: int | None
    params: str          # "params/default.yml" plus deviations, e.g. "min_cell=10"
    data_sha256: str
    commit: str

    def as_dict(self) -> dict:
        return {"notebook": self.notebook, "cell": self.cell, "params": self.params,
                "data_sha256": self.data_sha256, "commit": self.commit}

    def _cell_text(self) -> str:
        return f", celle [{self.cell}]" if self.cell is not None else ""

    def markdown(self, csv: str | None = None, csv_text: str = "Last ned tallene (CSV)") -> str:
        """The line in Markdown, with a download link to `csv` (book-relative) when given."""
        nb = f"[{self.notebook}.ipynb](notebooks/{self.notebook}.ipynb)"
        download = f" [{csv_text}]({csv})" if csv else ""
        return (f"*Kilde: notatbok {nb}{self._cell_text()} · parametere: {self.params} · "
                f"data (SHA-256): `{self.data_sha256[:12]}` · commit `{self.commit}`*{download}")

    def html(self, csv: str | None = None, csv_text: str = "Last ned tallene (CSV)") -> str:
        nb = html.escape(self.notebook)
        download = (f' · <a class="csv" href="{html.escape(csv)}" download>{html.escape(csv_text)}</a>'
                    if csv else "")
        return (
            f'<p class="provenance">Kilde: notatbok <a href="notebooks/{nb}.ipynb">{nb}.ipynb</a>'
            f"{html.escape(self._cell_text())} · parametere: {html.escape(self.params)} · "
            f'data (SHA-256): <code title="{self.data_sha256}">{self.data_sha256[:12]}</code> · '
            f"commit <code>{html.escape(self.commit)}</code>{download}</p>"
        )
