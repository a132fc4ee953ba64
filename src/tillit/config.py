"""Parameters and paths: the one place that knows the repository root.

Every params file is validated on load (pydantic, unknown keys refused), and a bad file
raises :class:`ConfigError` with the file, the key and what was expected.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ROOT_ENV = "TILLIT_ROOT"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigError(ValueError):
    """A params file or parameter is wrong; the message says where and what was expected."""


def repo_root(start: Path | None = None) -> Path:
    """The compendium's root: $TILLIT_ROOT, else the nearest parent holding params/pipeline.yml.

    Searching upward lets a notebook run from the repo root or from notebooks/ alike.
    """
    env = os.environ.get(ROOT_ENV)
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "params" / "pipeline.yml").is_file():
            return candidate
    # Installed in editable mode: fall back to the source checkout holding this file.
    src_root = Path(__file__).resolve().parents[2]
    if (src_root / "params" / "pipeline.yml").is_file():
        return src_root
    raise ConfigError(
        f"Fant ikke kompendiets rotmappe (params/pipeline.yml) fra {here}; "
        f"start fra repoet eller sett {ROOT_ENV}."
    )


def read_yaml(path: Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: filen finnes ikke")
    try:
        with path.open(encoding="utf-8") as fh:
            # libyaml's parser where PyYAML has it (same values, ~10x faster: params are read by
            # every kernel and the build); the pure-Python SafeLoader otherwise.
            return yaml.load(fh, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: ugyldig YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: er ikke UTF-8 ({exc})") from exc


def explain_validation(path: Path | str, exc: ValidationError, what: str = "ugyldige parametere",
                       allowed: list[str] | None = None) -> str:
    """One message for a params file that failed validation: each bad key and what was expected."""
    lines = [f"{path}: {what}"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(toppnivå)"
        if err["type"] == "extra_forbidden":
            hint = f"tillatt: {', '.join(allowed)}" if allowed else f"se {Path(str(path)).name} og docs/"
            lines.append(f"  - ukjent nøkkel '{loc}' ({hint})")
        else:
            lines.append(f"  - '{loc}': {err['msg']} (fikk {err.get('input')!r})")
    return "\n".join(lines)



class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class RunParams(Strict):
    """Shared notebook parameters (params/default.yml); every notebook declares these."""

    data_dir: str = "data/processed"
    raw_dir: str = "data/raw"
    output_dir: str = "outputs"
    min_cell: int = Field(5, ge=1, le=1000)
    strict_disclosure: bool = False
    targets: Literal["error", "warn"] = "error"
    strict_duplicates: bool = False
    edition: str = "nav"

    @field_validator("edition")
    @classmethod
    def _known_edition(cls, v: str) -> str:
        known = edition_names()
        if known is not None and v not in known:
            raise ValueError(f"ukjent utgave '{v}'; params/editions.yml har {', '.join(known)}")
        return v

    @field_validator("min_cell", mode="before")
    @classmethod
    def _no_bool(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("må være et heltall")
        return v

    @property
    def effective_min_cell(self) -> int:
        return max(self.min_cell, 10) if self.strict_disclosure else self.min_cell

    def path(self, key: str, root: Path | None = None) -> Path:
        value = Path(getattr(self, key))
        return value if value.is_absolute() else (root or repo_root()) / value


SHARED_KEYS: tuple[str, ...] = tuple(RunParams.model_fields)


def edition_names() -> list[str] | None:
    """The editions named in params/editions.yml (None if the compendium has no such file).

    Only the names: the filters are checked against the codebook by tillit.stats.editions."""
    try:
        path = repo_root() / "params" / "editions.yml"
    except ConfigError:
        return None
    if not path.is_file():
        return None
    data = _cached_yaml(str(path), path.stat().st_mtime)
    editions = data.get("editions") if isinstance(data, dict) else None
    return list(editions) if isinstance(editions, dict) else []


class NotebookSpec(Strict):
    """One notebook of the pipeline. Its place in the book (chapter or lettered appendix) is
    read from its headings by tillit.book.render (see docs/rendering.md); `book: false`
    keeps a notebook out of the book; `title` is used when a notebook has no `#` heading.
    `appendix: true` is the pipeline's: the notebook runs after the chapters, whose
    disclosure log and tables it reads (06_vedlegg); it does not letter a book page."""
    name: str = Field(pattern=r"^[0-9A-Za-z_]+$")
    title: str
    book: bool = True
    appendix: bool = False


class PipelineSpec(Strict):
    parameters: str = "params/default.yml"
    notebooks: list[NotebookSpec]
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    workers: int = Field(0, ge=0, le=64)
    warm_kernels: bool = True

    def names(self) -> list[str]:
        return [nb.name for nb in self.notebooks]

    def spec(self, name: str) -> NotebookSpec:
        for nb in self.notebooks:
            if nb.name == name:
                return nb
        raise ConfigError(f"ukjent notatbok '{name}' (kjente: {', '.join(self.names())})")


def load_run_params(path: Path | str | None = None, **overrides: Any) -> RunParams:
    root = repo_root()
    path = Path(path) if path else root / "params" / "default.yml"
    if not path.is_absolute():
        path = root / path
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: forventet en tabell av nøkkel: verdi, fikk {type(data).__name__}")
    data.update(overrides)
    try:
        return RunParams(**data)
    except ValidationError as exc:
        raise ConfigError(explain_validation(path, exc)) from None


def load_pipeline(path: Path | str | None = None, root: Path | None = None) -> PipelineSpec:
    root = root or repo_root()
    path = Path(path) if path else root / "params" / "pipeline.yml"
    if not path.is_absolute():
        path = root / path
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: forventet en tabell av nøkkel: verdi")
    try:
        spec = PipelineSpec(**data)
    except ValidationError as exc:
        raise ConfigError(explain_validation(path, exc)) from None
    names = spec.names()
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ConfigError(f"{path}: notatboken {sorted(dupes)} står flere ganger")
    for nb in spec.notebooks:
        if not (root / "notebooks" / f"{nb.name}.ipynb").is_file():
            raise ConfigError(f"{path}: notatboken '{nb.name}' finnes ikke (notebooks/{nb.name}.ipynb)")
    for name, values in spec.overrides.items():
        if name not in names:
            raise ConfigError(f"{path}: overrides nevner ukjent notatbok '{name}' (kjente: {', '.join(names)})")
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: overrides.{name} må være en tabell av parametere")
    return spec


@lru_cache(maxsize=None)
def _cached_yaml(path: str, mtime: float) -> Any:
    return read_yaml(Path(path))


def params_yaml(name: str) -> Any:
    """A params/*.yml file as data, cached per modification time."""
    path = repo_root() / "params" / name
    if not path.is_file():
        raise ConfigError(f"{path}: filen finnes ikke")
    return _cached_yaml(str(path), path.stat().st_mtime)
