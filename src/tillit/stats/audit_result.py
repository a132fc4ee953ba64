"""What the disclosure audit (tillit.stats.audit) finds, and the file it leaves in the output
folder: names and counts only, never a bound of a hidden cell."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

AUDIT_NAME = "disclosure_audit.json"


class AuditError(ValueError):
    """The published numbers cannot be audited (they contradict each other, or a register is broken)."""


@dataclass
class Finding:
    table_id: str
    row: str
    quantity: str
    reason: str

    def as_dict(self) -> dict:
        return {"table_id": self.table_id, "row": self.row, "quantity": self.quantity, "reason": self.reason}


@dataclass
class AuditResult:
    min_cell: int
    tables: int = 0
    equations: int = 0
    suppressed: int = 0
    narrowest: float | None = None
    violations: list[Finding] = field(default_factory=list)
    unaudited: list[Finding] = field(default_factory=list)
    outside_gate: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.violations and not self.unaudited

    def as_dict(self) -> dict:
        """The result as written to outputs/: names and counts only, never a bound of a hidden cell."""
        return {
            "version": 1, "ok": self.ok, "min_cell": self.min_cell, "tables": self.tables,
            "published_equations": self.equations, "suppressed_counts": self.suppressed,
            "narrowest_interval": None if self.narrowest is None else int(np.floor(self.narrowest + 1e-9)),
            "violations": [f.as_dict() for f in self.violations],
            "unaudited": [f.as_dict() for f in self.unaudited],
            "outside_gate": sorted(self.outside_gate),
        }

    def message(self) -> str:
        """For the terminal: what failed, table by table."""
        lines = [f"Revisjonen av skjulte tall feilet (min_cell = {self.min_cell}):"]
        for f in [*self.violations, *self.unaudited][:40]:
            lines.append(f"  - {f.table_id}, rad «{f.row}», {f.quantity}: {f.reason}")
        more = len(self.violations) + len(self.unaudited) - 40
        if more > 0:
            lines.append(f"  … og {more} til")
        return "\n".join(lines)


def write_result(result: AuditResult, out_dir: Path | str) -> Path:
    """outputs/disclosure_audit.json, written only when its content changes (it is an input of
    the appendix, which shows it)."""
    path = Path(out_dir) / AUDIT_NAME
    text = json.dumps(result.as_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return path


def read_result(out_dir: Path | str) -> dict | None:
    path = Path(out_dir) / AUDIT_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
