"""Model specifications (params/models.yml, validated with pydantic), the formula front end,
and the errors every part of the ordinal package raises."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tillit.config import ConfigError, explain_validation, read_yaml, repo_root

# ---------------------------------------------------------------------------------------
# Errors and warnings
# ---------------------------------------------------------------------------------------


class OrdinalError(ValueError):
    """A model cannot be estimated as specified; the message names model and variable."""


class OrdinalDataError(OrdinalError):
    """Bad or unusable data for a model (wrong codes, empty categories, no variation)."""


class SeparationError(OrdinalError):
    """(Quasi-)perfect separation: a coefficient runs off to infinity."""


class ConvergenceError(OrdinalError):
    """The Newton iteration did not reach the gradient tolerance."""


class OrdinalWarning(UserWarning):
    """Something the reader of a table must know (e.g. a predictor level with no respondents)."""


# ---------------------------------------------------------------------------------------
# Specs (params/models.yml)
# ---------------------------------------------------------------------------------------

LONG_OUTCOME = "goal_effect"  # outcome name in the long goal-type model
SPEC_FIELDS_INHERITED = (
    "outcome", "numeric", "categorical", "link", "cluster", "weights", "roles", "unit_types", "lines",
    "long_format", "gtol", "maxiter",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Strict):
    """One ordinal model. ``categorical`` maps a variable to its reference level."""

    label: str
    outcome: str
    numeric: list[str] = Field(default_factory=list)
    categorical: dict[str, str] = Field(default_factory=dict)
    link: Literal["logit", "probit"] = "logit"
    cluster: str | None = "unit_number"
    weights: str | None = None
    roles: list[str] | None = None
    unit_types: list[str] | None = None
    lines: list[str] | None = None
    long_format: Literal["goal_types"] | None = None
    gtol: float = Field(1e-6, gt=0, le=1e-2)
    maxiter: int = Field(100, ge=1, le=1000)
    variant_of: str | None = None
    chapter: str | None = None
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> "ModelSpec":
        if not self.numeric and not self.categorical:
            raise ValueError("modellen må ha minst én forklaringsvariabel (numeric eller categorical)")
        both = set(self.numeric) & set(self.categorical)
        if both:
            raise ValueError(f"{sorted(both)} står både som numeric og categorical")
        if len(set(self.numeric)) != len(self.numeric):
            raise ValueError(f"numeric har duplikater: {self.numeric}")
        if self.outcome in self.numeric or self.outcome in self.categorical:
            raise ValueError(f"utfallet '{self.outcome}' står også som forklaringsvariabel")
        return self

    @property
    def predictors(self) -> list[str]:
        return [*self.numeric, *self.categorical]


class Comparison(_Strict):
    """A nested pair for a likelihood-ratio test; `restricted` must be nested in `full`."""

    full: str
    restricted: str
    label: str


class BootstrapSettings(_Strict):
    """The wild cluster score bootstrap (a check on CR2; see stats/ordinal/bootstrap.py)."""

    draws: int = Field(999, ge=99, le=99_999)
    weights: Literal["webb", "rademacher"] = "webb"
    seed: int = 20230601


class InferenceSettings(_Strict):
    """How intervals are made. ``few_clusters``: a coefficient with fewer clusters behind it
    gets the CR2 interval with its working-model reference distribution instead of the
    standard CR1 one. ``po_alpha``: a predictor whose Brant test has p below it gets
    cut-point-specific effects (partial proportional odds)."""

    level: float = Field(0.95, gt=0.5, lt=1.0)
    few_clusters: int = Field(30, ge=2, le=10_000)
    po_alpha: float = Field(0.05, gt=0.0, lt=0.5)
    bootstrap: BootstrapSettings = Field(default_factory=BootstrapSettings)


class ReaderWords(_Strict):
    """Words the book's prose needs beyond the codebook's labels: a level as a group of
    people or things ("sammenlignet med medarbeidere"), and a cluster in singular/plural."""

    levels: dict[str, dict[str, str]] = Field(default_factory=dict)
    clusters: dict[str, tuple[str, str]] = Field(default_factory=dict)


class ModelsFile(_Strict):
    version: int = 1
    defaults: dict[str, Any] = Field(default_factory=dict)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)
    words: ReaderWords = Field(default_factory=ReaderWords)
    models: dict[str, ModelSpec]
    comparisons: dict[str, Comparison] = Field(default_factory=dict)

    def get(self, name: str) -> ModelSpec:
        if name not in self.models:
            raise ConfigError(f"ukjent modell '{name}' (kjente: {', '.join(self.models)})")
        return self.models[name]


def _explain(path: Path | str, exc: ValidationError) -> str:
    return explain_validation(path, exc, "ugyldig modellspesifikasjon")


def parse_models(data: Any, path: Path | str = "params/models.yml") -> ModelsFile:
    """Validate a models file's content: variants inherit from their base, nesting is checked."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: forventet en tabell av nøkkel: verdi")
    raw_models = data.get("models")
    if not isinstance(raw_models, dict) or not raw_models:
        raise ConfigError(f"{path}: 'models' mangler eller er tom")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{path}: 'defaults' må være en tabell")
    bad_defaults = set(defaults) - set(SPEC_FIELDS_INHERITED)
    if bad_defaults:
        raise ConfigError(f"{path}: ukjent nøkkel 'defaults.{sorted(bad_defaults)[0]}' "
                          f"(tillatt: {', '.join(SPEC_FIELDS_INHERITED)})")
    resolved: dict[str, dict] = {}
    for name, spec in raw_models.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{path}: models.{name} må være en tabell")
        merged = {**defaults}
        base = spec.get("variant_of")
        if base is not None:
            if base not in raw_models:
                raise ConfigError(f"{path}: models.{name}.variant_of viser til ukjent modell '{base}'")
            if raw_models[base].get("variant_of"):
                raise ConfigError(f"{path}: models.{name}: variant av en variant ('{base}') er ikke støttet")
            merged.update({k: v for k, v in raw_models[base].items()
                           if k in SPEC_FIELDS_INHERITED})
        merged.update(spec)
        resolved[name] = merged
    try:
        out = ModelsFile(**{**data, "defaults": defaults, "models": resolved})
    except ValidationError as exc:
        raise ConfigError(_explain(path, exc)) from None
    for cname, comp in out.comparisons.items():
        for side in ("full", "restricted"):
            if getattr(comp, side) not in out.models:
                raise ConfigError(f"{path}: comparisons.{cname}.{side} viser til ukjent modell "
                                  f"'{getattr(comp, side)}'")
        check_nested(out.models[comp.full], out.models[comp.restricted],
                     where=f"{path}: comparisons.{cname}")
    return out


def load_models(path: Path | str | None = None) -> ModelsFile:
    """params/models.yml, validated. Parsed once per version of the file: a chapter asks for it
    dozens of times (every table and sentence about a model), and parsing it took seconds."""
    path = Path(path) if path else repo_root() / "params" / "models.yml"
    try:
        st = path.stat()
    except OSError:
        return parse_models(read_yaml(path), path)  # read_yaml says what is wrong
    return _parsed_models(str(path), (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)).model_copy(deep=True)


@lru_cache(maxsize=8)
def _parsed_models(path: str, version: tuple) -> ModelsFile:
    return parse_models(read_yaml(Path(path)), Path(path))


def check_nested(full: ModelSpec, restricted: ModelSpec, where: str = "") -> None:
    """Raise unless `restricted` is `full` with some predictors removed."""
    prefix = f"{where}: " if where else ""
    for attr in ("outcome", "link", "roles", "unit_types", "lines", "long_format", "cluster", "weights"):
        if getattr(full, attr) != getattr(restricted, attr):
            raise ConfigError(f"{prefix}modellene er ikke nøstet: '{attr}' er ulik "
                              f"({getattr(full, attr)!r} mot {getattr(restricted, attr)!r})")
    extra = set(restricted.predictors) - set(full.predictors)
    if extra:
        raise ConfigError(f"{prefix}den begrensede modellen har variabler som ikke er i den fulle: {sorted(extra)}")
    for var, ref in restricted.categorical.items():
        if full.categorical[var] != ref:
            raise ConfigError(f"{prefix}referansenivået for '{var}' er ulikt i de to modellene")
    if set(restricted.predictors) == set(full.predictors):
        raise ConfigError(f"{prefix}modellene har de samme variablene; ingen test å gjøre")


_TERM_C = re.compile(r"^C\(\s*([A-Za-z_]\w*)\s*(?:,\s*(?:ref|reference|Treatment\()\s*=?\s*['\"]?([\w\-]+)['\"]?\)?\s*)?\)$")


def spec_from_formula(formula: str, label: str | None = None, **options: Any) -> tuple[ModelSpec, list[str]]:
    """A main-effects formula → (ModelSpec, notes).

    ``"trust_hindrance ~ 1 + competition + C(role, ref=medarbeider)"``. OrderedModel refuses
    an intercept (it is not identified next to the cut-points), so an explicit ``1`` (or
    ``0``/``-1``) is dropped with a note instead of surfacing statsmodels' error; categorical
    terms always get treatment dummies against a reference level, which also keeps the
    implicit constant out. Interactions are not supported and raise a clear error.
    """
    if "~" not in formula:
        raise OrdinalError(f"formelen '{formula}' mangler '~' (forventet 'utfall ~ a + b')")
    lhs, rhs = (s.strip() for s in formula.split("~", 1))
    if not re.fullmatch(r"[A-Za-z_]\w*", lhs):
        raise OrdinalError(f"formelen '{formula}': venstresiden '{lhs}' er ikke et variabelnavn")
    notes: list[str] = []
    numeric: list[str] = []
    categorical: dict[str, str] = {}
    pending_ref: list[str] = []
    rhs = re.sub(r"\s*-\s*1\b", " + -1", rhs)
    for term in (t.strip() for t in rhs.split("+")):
        if not term:
            continue
        if term in ("1", "0", "-1"):
            notes.append(f"Konstantleddet ('{term}') er fjernet: i en ordinal modell spiller "
                         "terskelverdiene konstantens rolle (OrderedModel tillater ingen konstant).")
            continue
        if any(op in term for op in (":", "*", "/", "**", "I(")):
            raise OrdinalError(f"formelen '{formula}': leddet '{term}' (samspill/transformasjon) "
                               "støttes ikke; bruk hovedeffekter eller lag variabelen på forhånd")
        m = _TERM_C.match(term)
        if m:
            var, ref = m.group(1), m.group(2)
            categorical[var] = ref or ""
            if not ref:
                pending_ref.append(var)
            continue
        if re.fullmatch(r"[A-Za-z_]\w*", term):
            numeric.append(term)
            continue
        raise OrdinalError(f"formelen '{formula}': forstår ikke leddet '{term}'")
    try:
        spec = ModelSpec(label=label or formula, outcome=lhs, numeric=numeric,
                         categorical=categorical, **options)
    except ValidationError as exc:
        raise OrdinalError(_explain(f"formel '{formula}'", exc)) from None
    if pending_ref:
        notes.append(f"Referansenivå ikke oppgitt for {pending_ref}: første nivå i kodeboken brukes.")
    return spec, notes


