"""A step's notebook and parameters: the notebook read as plain JSON (no nbformat/jsonschema,
so a no-op rebuild stays fast), its `parameters` cell parsed with ast, and the parameters
resolved from params/default.yml, pipeline.yml overrides and the caller, then validated."""
from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tillit.config import (
    SHARED_KEYS,
    ConfigError,
    PipelineSpec,
    RunParams,
    load_pipeline,
    load_run_params,
    repo_root,
)

KERNEL_NAME = "python3"


def _read_ipynb(path: Path) -> dict:
    try:
        with Path(path).open(encoding="utf-8") as fh:
            nb = json.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: notatboken finnes ikke") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: er ikke en gyldig notatbok (JSON): {exc}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ConfigError(f"{path}: mangler 'cells'; forventet en Jupyter-notatbok (nbformat 4)")
    return nb


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []) or [])




def notebook_parameters(path: Path) -> dict[str, Any]:
    """Names declared in the cell tagged `parameters`, with their literal defaults.

    A default that is not a literal (e.g. a call) is reported as ``...`` (Ellipsis).
    """
    nb = _read_ipynb(path)
    cells = [c for c in nb["cells"] if "parameters" in _tags(c)]
    if not cells:
        raise ConfigError(f"{path}: ingen celle er merket «parameters» (se docs/architecture.md)")
    src = _source(cells[0])
    try:
        tree = ast.parse(src)
    except SyntaxError as exc:
        raise ConfigError(f"{path}: parametercellen er ikke gyldig Python (linje {exc.lineno}): {exc.msg}") from None
    out: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    out[target.id] = ast.literal_eval(value)
                except ValueError:
                    out[target.id] = ...
    return out


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------
def _root(root: Path | None) -> Path:
    return Path(root).resolve() if root else repo_root()


def _params_file(spec: PipelineSpec, root: Path) -> Path:
    path = Path(spec.parameters)
    return path if path.is_absolute() else root / path


def resolve_parameters(
    name: str,
    parameters: dict | None = None,
    *,
    root: Path | None = None,
    spec: PipelineSpec | None = None,
) -> dict[str, Any]:
    """Shared params (default.yml) + pipeline.yml overrides + `parameters`, validated.

    Every key must be declared in the notebook's parameters cell; shared keys are
    validated by tillit.config.RunParams; a notebook-specific key whose default is a plain
    literal must keep that literal's type.
    """
    root = _root(root)
    spec = spec or load_pipeline(root=root)
    spec.spec(name)  # unknown notebook → ConfigError
    params_path = _params_file(spec, root)
    resolved: dict[str, Any] = load_run_params(params_path).model_dump()
    source = {k: params_path.name for k in resolved}
    for key, value in (spec.overrides.get(name) or {}).items():
        resolved[key] = value
        source[key] = f"pipeline.yml overrides.{name}"
    for key, value in (parameters or {}).items():
        resolved[key] = value
        source[key] = "parametre gitt ved kjøring"

    nb_path = root / "notebooks" / f"{name}.ipynb"
    declared = notebook_parameters(nb_path)
    unknown = [k for k in resolved if k not in declared]
    if unknown:
        details = ", ".join(f"'{k}' (fra {source[k]})" for k in unknown)
        raise ConfigError(
            f"{nb_path}: ukjent parameter {details}; notatbokens parametercelle har "
            f"{', '.join(sorted(declared)) or 'ingen'}"
        )
    try:
        RunParams(**{k: resolved[k] for k in SHARED_KEYS if k in resolved})
    except ValidationError as exc:
        lines = [f"{nb_path}: ugyldige parametere"]
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            lines.append(f"  - '{key}' (fra {source.get(key, '?')}): {err['msg']} (fikk {err.get('input')!r})")
        raise ConfigError("\n".join(lines)) from None
    for key, value in resolved.items():
        if key in SHARED_KEYS:
            continue
        default = declared[key]
        if default is None or default is ... or value is None:
            continue
        expected = type(default)
        ok = isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise ConfigError(
                f"{nb_path}: parameteren '{key}' (fra {source[key]}) har verdien {value!r}; "
                f"forventet {expected.__name__} som standardverdien {default!r}"
            )
    return resolved


def _abs(value: str, root: Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path




def is_prepare_step(name: str, spec: PipelineSpec) -> bool:
    """The data-preparation step is the first notebook in pipeline.yml (00_klargjoring)."""
    return bool(spec.notebooks) and spec.notebooks[0].name == name
