"""Ordinal (cumulative-link) regressions on the trust-vs-steering questions.

Models are declared as data in ``params/models.yml`` (validated with pydantic) and fitted with
statsmodels' :class:`~statsmodels.miscmodels.ordinal_model.OrderedModel`, but through a
subclass that supplies the exact score and Hessian of the cumulative-link log-likelihood
(logit and probit). statsmodels' defaults for ``OrderedModel.fit`` are Nelder–Mead with
``maxiter=500`` and numerical derivatives for the Hessian: slow, and not converged for
models with ~20 parameters. Here a damped Newton iteration with the analytic derivatives is
run until the largest absolute score is below ``gtol``, and the fit says so.

Public API (all aggregates; nothing here writes respondent-level rows anywhere):

- :func:`load_models` – params/models.yml as :class:`ModelsFile`
- :func:`spec_from_formula` – ``"y ~ a + C(role, ref=leder)"`` → :class:`ModelSpec`
- :func:`build_design` – spec + processed data → :class:`Design` (with NA/"Vet ikke" counts)
- :func:`fit_model` / :func:`fit_arrays` – → :class:`OrdinalFit`
- :func:`lr_test` – likelihood-ratio test of nested models, fitted on the same rows
- :func:`brant_test` – proportional-odds check, overall and per predictor, with the
  cut-point-specific estimates
- :func:`predicted_probabilities` – average predicted probability of each answer by group,
  with delta-method intervals
- :func:`odds_ratio_table`, :func:`format_or`, :func:`describe` – tables and prose for readers
- :func:`simulate_survey` – processed-layout data from a known cumulative-link model
  (tests, benchmarks, coverage study)
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats
from scipy.special import expit, ndtr
from statsmodels.miscmodels.ordinal_model import OrderedModel

from tillit import fmt
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
    "outcome", "numeric", "categorical", "link", "cluster", "roles", "unit_types", "lines",
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


class ModelsFile(_Strict):
    version: int = 1
    defaults: dict[str, Any] = Field(default_factory=dict)
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
    path = Path(path) if path else repo_root() / "params" / "models.yml"
    return parse_models(read_yaml(path), path)


def check_nested(full: ModelSpec, restricted: ModelSpec, where: str = "") -> None:
    """Raise unless `restricted` is `full` with some predictors removed."""
    prefix = f"{where}: " if where else ""
    for attr in ("outcome", "link", "roles", "unit_types", "lines", "long_format", "cluster"):
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


# ---------------------------------------------------------------------------------------
# Design matrix
# ---------------------------------------------------------------------------------------


@dataclass
class Design:
    """The estimation sample of one model (kept in memory only, never written)."""

    model: str
    spec: ModelSpec
    y: np.ndarray                 # 0..J-1
    X: pd.DataFrame               # float design, no intercept
    groups: np.ndarray | None     # cluster codes
    n_clusters: int | None
    outcome_codes: list[int]      # scale codes for 0..J-1
    outcome_labels: list[str]
    outcome_label: str
    terms: dict[str, list[str]]   # predictor -> its design columns
    term_labels: dict[str, str]   # predictor -> Norwegian label
    level_labels: dict[str, str]  # design column -> Norwegian label of the level
    references: dict[str, str]    # categorical predictor -> reference level
    counts: pd.DataFrame          # per variable: "Vet ikke" and missing counts
    n_input: int                  # rows after the respondent filter
    n_filtered_out: int
    n_used: int
    notes: list[str] = field(default_factory=list)
    frame: pd.DataFrame | None = field(default=None, repr=False)  # used rows, for predictions
    unit: str = "respondenter"

    @property
    def n_dropped(self) -> int:
        return self.n_input - self.n_used


def _codebook():
    from tillit.data.codebook import load_codebook

    return load_codebook()


def _var_label(cb, name: str) -> str:
    if cb is None:
        return name
    if name == "role":
        return "Rolle"
    if name == "unit_type":
        return "Enhetstype"
    if name == "line":
        return "Linje"
    if name == "goal_type":
        return "Måltype"
    if name == "aspect":
        return "Side ved arbeidet"
    if name == LONG_OUTCOME:
        return "Målenes virkning"
    var = cb.items.get(name)
    if var is None:
        return name
    if var.group == "factor":
        return f"Virkning av {var.label.lower()} på handlingsrommet"
    return var.label


def _level_label(cb, var: str, level: str) -> str:
    if cb is None:
        return str(level)
    if var == "role":
        return cb.roles.get(level, str(level))
    if var == "unit_type" and level in cb.unit_types:
        return cb.unit_types[level].label
    if var == "line":
        return cb.lines.get(level, str(level))
    if var == "goal_type" and level in cb.goal_types:
        return cb.goal_types[level]["label"]
    if var == "aspect":
        return cb.goal_aspects.get(level, str(level))
    return str(level)


def _first_bad(frame: pd.DataFrame, col: str, bad: pd.Series, id_col: str | None) -> str:
    pos = int(np.flatnonzero(bad.to_numpy())[0])
    rid = frame[id_col].iloc[pos] if id_col and id_col in frame.columns else frame.index[pos]
    return f"rad {pos} ({id_col or 'indeks'} {rid!r}), kolonne '{col}', verdi {frame[col].iloc[pos]!r}"


def _long_goal_frame(data: pd.DataFrame, spec: ModelSpec, cb, source: str) -> pd.DataFrame:
    """One row per respondent × goal type × aspect, outcome in ``goal_effect``."""
    keep = [c for c in dict.fromkeys(["respondent_id", *spec.numeric,
                                      *[v for v in spec.categorical if v not in ("goal_type", "aspect")],
                                      *([spec.cluster] if spec.cluster else [])])
            if c in data.columns and c not in ("goal_type", "aspect")]
    if "respondent_id" not in data.columns:
        raise OrdinalDataError(f"modell '{spec.label}': {source} mangler kolonnen 'respondent_id' "
                               "som langformatet grupperer på")
    parts = []
    for gkey in cb.goal_types:
        for akey in cb.goal_aspects:
            col = cb.goal_item(gkey, akey)
            if col not in data.columns:
                raise OrdinalDataError(f"modell '{spec.label}': {source} mangler kolonnen '{col}' "
                                       f"(målspørsmål {gkey}/{akey} fra kodeboken)")
            part = data[keep].copy()
            part["goal_type"] = gkey
            part["aspect"] = akey
            part[LONG_OUTCOME] = data[col].to_numpy()
            parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    long["goal_type"] = pd.Categorical(long["goal_type"], categories=list(cb.goal_types))
    long["aspect"] = pd.Categorical(long["aspect"], categories=list(cb.goal_aspects))
    return long


def build_design(spec: ModelSpec, data: pd.DataFrame, *, name: str | None = None,
                 codebook=None, source: str = "data/processed/survey_2023.parquet",
                 use_codebook: bool = True) -> Design:
    """Respondent filter → (long format) → codes checked → "Vet ikke"/NA dropped and counted
    → treatment dummies → guards (empty categories, empty levels, constant columns, rank)."""
    name = name or spec.label
    cb = codebook if codebook is not None else (_codebook() if use_codebook else None)
    frame = data
    n_all = len(frame)
    mask = pd.Series(True, index=frame.index)
    for col, allowed in (("role", spec.roles), ("unit_type", spec.unit_types), ("line", spec.lines)):
        if allowed is None:
            continue
        if col not in frame.columns:
            raise OrdinalDataError(f"modell '{name}': filteret på '{col}' krever kolonnen '{col}' i {source}")
        if cb is not None:
            known = {"role": cb.roles, "unit_type": cb.unit_types, "line": cb.lines}[col]
            unknown = [a for a in allowed if a not in known]
            if unknown:
                raise OrdinalDataError(f"modell '{name}': filteret '{col}' har ukjente nivåer {unknown} "
                                       f"(kjente: {list(known)})")
        mask &= frame[col].isin(allowed).fillna(False).astype(bool)
    frame = frame.loc[mask.to_numpy()]
    n_filtered_out = n_all - len(frame)
    unit = "respondenter"
    if spec.long_format == "goal_types":
        if cb is None:
            raise OrdinalDataError(f"modell '{name}': langformatet trenger kodeboken")
        frame = _long_goal_frame(frame, spec, cb, source)
        unit = "svar (respondent × måltype × side)"
    frame = frame.reset_index(drop=True)
    id_col = "respondent_id" if "respondent_id" in frame.columns else None
    n_input = len(frame)

    needed = [spec.outcome, *spec.predictors, *([spec.cluster] if spec.cluster else [])]
    missing_cols = [c for c in needed if c not in frame.columns]
    if missing_cols:
        raise OrdinalDataError(f"modell '{name}': {source} mangler kolonnene {missing_cols}")

    notes: list[str] = []
    count_rows = []
    usable = np.ones(n_input, dtype=bool)

    def scale_codes(var: str):
        if cb is None:
            return None
        if var == LONG_OUTCOME:
            return cb.scales[cb.raw["goal_scale"]]
        if var in cb.items and cb.items[var].scale:
            return cb.scale_of(var)
        return None

    def numeric_column(var: str, role: str) -> tuple[np.ndarray, int, int]:
        s = frame[var]
        scale = scale_codes(var)
        values = pd.to_numeric(s.astype("Float64") if not isinstance(s.dtype, pd.CategoricalDtype)
                               else s.astype(object), errors="coerce")
        non_num = s.notna() & values.isna()
        if non_num.any():
            raise OrdinalDataError(f"modell '{name}', {source}: {_first_bad(frame, var, non_num, id_col)}; "
                                   f"forventet tallkode")
        arr = values.to_numpy(dtype=float, na_value=np.nan)
        n_na = int(np.isnan(arr).sum())
        n_dk = 0
        if scale is not None:
            dk = arr == scale.dont_know_code
            n_dk = int(dk.sum())
            bad = ~np.isnan(arr) & ~dk & ~np.isin(arr, scale.codes)
            if bad.any():
                raise OrdinalDataError(
                    f"modell '{name}', {source}: {_first_bad(frame, var, pd.Series(bad), id_col)}; "
                    f"forventet {scale.codes} eller {scale.dont_know_code} («{scale.dont_know_label}») "
                    f"for {role} '{var}'")
            arr = np.where(dk, np.nan, arr)
        return arr, n_dk, n_na

    # Outcome
    y_arr, n_dk, n_na = numeric_column(spec.outcome, "utfallet")
    out_scale = scale_codes(spec.outcome)
    count_rows.append({"variabel": spec.outcome, "rolle": "utfall", "vet_ikke": n_dk, "mangler": n_na})
    usable &= ~np.isnan(y_arr)

    num_cols: dict[str, np.ndarray] = {}
    for var in spec.numeric:
        arr, n_dk, n_na = numeric_column(var, "forklaringsvariabelen")
        num_cols[var] = arr
        count_rows.append({"variabel": var, "rolle": "forklaring", "vet_ikke": n_dk, "mangler": n_na})
        usable &= ~np.isnan(arr)

    cat_cols: dict[str, pd.Series] = {}
    references: dict[str, str] = {}
    for var, ref in spec.categorical.items():
        s = frame[var]
        if isinstance(s.dtype, pd.CategoricalDtype):
            levels = [str(c) for c in s.cat.categories]
            s = s.astype(object).where(s.notna(), None)
        else:
            levels = sorted(str(v) for v in pd.unique(s.dropna()))
        if cb is not None and var in ("role", "unit_type", "line"):
            known = list({"role": cb.roles, "unit_type": cb.unit_types, "line": cb.lines}[var])
            bad = s.notna() & ~s.astype(object).isin(known)
            if bad.any():
                raise OrdinalDataError(f"modell '{name}', {source}: {_first_bad(frame, var, bad, id_col)}; "
                                       f"forventet en av kodebokens nøkler {known}")
            levels = known
        if not ref:
            ref = levels[0]
        if ref not in levels:
            raise OrdinalDataError(f"modell '{name}': referansenivået '{ref}' for '{var}' finnes ikke "
                                   f"(nivåer: {levels})")
        n_na = int(s.isna().sum())
        count_rows.append({"variabel": var, "rolle": "forklaring", "vet_ikke": 0, "mangler": n_na})
        usable &= s.notna().to_numpy()
        cat_cols[var] = s.astype(object)
        references[var] = ref

    groups = None
    n_clusters = None
    if spec.cluster:
        g = frame[spec.cluster]
        n_na = int(g.isna().sum())
        count_rows.append({"variabel": spec.cluster, "rolle": "klynge", "vet_ikke": 0, "mangler": n_na})
        usable &= g.notna().to_numpy()

    counts = pd.DataFrame(count_rows)
    n_used = int(usable.sum())
    if n_used == 0:
        raise OrdinalDataError(f"modell '{name}': ingen {unit} igjen etter at «Vet ikke» og manglende svar "
                               f"er fjernet (se tellingene: {counts.to_dict('records')})")

    # Outcome categories: an empty one would silently shift the cut-point labels.
    y_used = y_arr[usable].astype(int)
    codes = out_scale.codes if out_scale is not None else sorted(int(v) for v in np.unique(y_used))
    labels = ([out_scale.labels[c] for c in codes] if out_scale is not None else [str(c) for c in codes])
    present = np.isin(codes, y_used)
    if not present.all():
        empty = [f"{c} («{lab}»)" for c, lab, p in zip(codes, labels, present) if not p]
        raise OrdinalDataError(
            f"modell '{name}': utfallet '{spec.outcome}' har ingen svar i kategori {', '.join(empty)} "
            f"blant de {n_used} {unit} som brukes; slå sammen kategorier eller avgrens modellen")
    y = np.searchsorted(codes, y_used)

    columns: dict[str, np.ndarray] = {}
    terms: dict[str, list[str]] = {}
    level_labels: dict[str, str] = {}
    for var, arr in num_cols.items():
        col = arr[usable]
        if np.ptp(col) == 0:
            raise OrdinalDataError(f"modell '{name}': forklaringsvariabelen '{var}' har samme verdi "
                                   f"({col[0]:g}) for alle {n_used} {unit}; den kan ikke estimeres")
        columns[var] = col
        terms[var] = [var]
        level_labels[var] = _var_label(cb, var)
    for var, s in cat_cols.items():
        ref = references[var]
        vals = s.to_numpy()[usable]
        if isinstance(frame[var].dtype, pd.CategoricalDtype) or (cb is not None and var in ("role", "unit_type", "line")):
            levels = ([str(c) for c in frame[var].cat.categories] if isinstance(frame[var].dtype, pd.CategoricalDtype)
                      else sorted(set(map(str, vals))))
        else:
            levels = sorted(set(map(str, vals)))
        n_ref = int((vals == ref).sum())
        if n_ref == 0:
            raise OrdinalDataError(f"modell '{name}': referansenivået '{ref}' for '{var}' har ingen {unit} "
                                   "i utvalget; velg et annet referansenivå")
        terms[var] = []
        empty_levels = []
        for lev in levels:
            if lev == ref:
                continue
            ind = (vals == lev).astype(float)
            if ind.sum() == 0:
                empty_levels.append(lev)
                continue
            colname = f"{var}[{lev}]"
            columns[colname] = ind
            terms[var].append(colname)
            level_labels[colname] = _level_label(cb, var, lev)
        if empty_levels:
            which = ", ".join(f"'{lev}' ({_level_label(cb, var, lev)})" for lev in empty_levels)
            msg = (f"modell '{name}': {'nivået' if len(empty_levels) == 1 else 'nivåene'} {which} av "
                   f"'{var}' har ingen {unit} i utvalget og er tatt ut av modellen og tabellene")
            warnings.warn(msg, OrdinalWarning, stacklevel=2)
            notes.append(msg)
        if not terms[var]:
            raise OrdinalDataError(f"modell '{name}': '{var}' har bare referansenivået '{ref}' i utvalget; "
                                   "variabelen kan ikke estimeres")

    X = pd.DataFrame(columns)
    # Rank with a column of ones: an implicit constant (or collinearity) would be silently
    # unidentified in OrderedModel.
    # Rank from the small scaled Gram matrix (O(n k²), not an SVD of the n × k design).
    aug = np.column_stack([np.ones(n_used), X.to_numpy()])
    gram = aug.T @ aug
    scale = np.sqrt(np.diag(gram))
    gram = gram / np.outer(scale, scale)

    def _rank(m: np.ndarray) -> int:
        return int(np.linalg.matrix_rank(m, tol=1e-10, hermitian=True))

    rank = _rank(gram)
    if rank < aug.shape[1]:
        # name the culprits: columns whose removal leaves the rank unchanged
        culprits = [c for i, c in enumerate(X.columns)
                    if _rank(np.delete(np.delete(gram, i + 1, 0), i + 1, 1)) == rank]
        raise OrdinalDataError(f"modell '{name}': designmatrisen er ikke av full rang (lineært avhengige "
                               f"kolonner eller en skjult konstant); sjekk {culprits}")

    groups = None
    if spec.cluster:
        codes_g, uniq = pd.factorize(frame[spec.cluster].to_numpy()[usable])
        groups = codes_g
        n_clusters = len(uniq)
        if n_clusters < 2:
            raise OrdinalDataError(f"modell '{name}': klyngevariabelen '{spec.cluster}' har bare "
                                   f"{n_clusters} klynge; klyngerobuste standardfeil krever flere")

    used_frame = frame.loc[usable, [c for c in dict.fromkeys([*spec.predictors]) if c in frame.columns]]
    return Design(
        model=name, spec=spec, y=y, X=X, groups=groups, n_clusters=n_clusters,
        outcome_codes=list(codes), outcome_labels=labels, outcome_label=_var_label(cb, spec.outcome),
        terms=terms, term_labels={v: _var_label(cb, v) for v in spec.predictors},
        level_labels=level_labels, references=references, counts=counts, n_input=n_input,
        n_filtered_out=n_filtered_out, n_used=n_used, notes=notes,
        frame=used_frame.reset_index(drop=True), unit=unit,
    )


# ---------------------------------------------------------------------------------------
# The model: OrderedModel with exact derivatives
# ---------------------------------------------------------------------------------------


def _dist(z: np.ndarray, link: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F, f, f' at z; ±inf give (0|1, 0, 0) without nan."""
    finite = np.isfinite(z)
    zf = np.where(finite, z, 0.0)
    if link == "logit":
        F = expit(zf)
        f = F * (1.0 - F)
        df = f * (1.0 - 2.0 * F)
    else:
        F = ndtr(zf)
        f = np.exp(-0.5 * zf * zf) / np.sqrt(2.0 * np.pi)
        df = -zf * f
    F = np.where(finite, F, (z > 0).astype(float))
    f = np.where(finite, f, 0.0)
    df = np.where(finite, df, 0.0)
    return F, f, df


class CumulativeLinkModel(OrderedModel):
    """OrderedModel with the exact score and Hessian (logit or probit).

    Parameters are statsmodels' own: (beta, tau) with cut-points c_1 = tau_1 and
    c_j = c_{j-1} + exp(tau_j), so every statsmodels result method keeps working.
    """

    def __init__(self, endog, exog, distr: str = "logit", **kwds):
        if distr not in ("logit", "probit"):
            raise OrdinalError(f"ukjent link '{distr}' (forventet logit eller probit)")
        super().__init__(endog, exog, distr=distr, **kwds)
        self.link = distr
        self._X = np.asarray(self.exog, dtype=float)
        self._y = np.asarray(self.endog, dtype=int)
        J = self.k_levels
        self._Y1 = np.zeros((len(self._y), J))
        self._Y1[np.arange(len(self._y)), self._y] = 1.0

    def initialize(self):
        # GenericLikelihoodModel.initialize takes an SVD of the whole design only to set
        # df_model, which OrderedModel.__init__ overwrites anyway; build_design has already
        # checked the rank, so skip it (it was most of the time of a small fit).
        if self.exog is not None:
            k = self.exog.shape[1]
            self.df_model = float(k)
            self.df_resid = float(self.exog.shape[0] - k)
        else:  # pragma: no cover - every model here has predictors
            self.df_model = self.df_resid = np.nan

    # -- pieces --------------------------------------------------------------------------
    def _split(self, params):
        params = np.asarray(params, dtype=float)
        k = self.k_vars
        return params[:k], params[k:]

    def cut_jacobian(self, params) -> np.ndarray:
        """d c / d tau, (J-1)×(J-1): column 0 all ones, column m≥1 exp(tau_m) for rows ≥ m."""
        _, tau = self._split(params)
        m = len(tau)
        D = np.tril(np.ones((m, m)))
        D[:, 1:] *= np.exp(tau[1:])[None, :]
        return D

    def _terms(self, params):
        beta, _ = self._split(params)
        thresh = self.transform_threshold_params(params)
        xb = self._X @ beta if self.k_vars else np.zeros(len(self._y))
        upp = thresh[self._y + 1] - xb
        low = thresh[self._y] - xb
        Fu, fu, dfu = _dist(upp, self.link)
        Fl, fl, dfl = _dist(low, self.link)
        P = np.maximum(Fu - Fl, 1e-300)
        return P, fu, fl, dfu, dfl

    # -- likelihood and derivatives ------------------------------------------------------
    def loglikeobs(self, params):
        P, *_ = self._terms(params)
        return np.log(P)

    def loglike(self, params):
        return float(self.loglikeobs(params).sum())

    def _score_c_obs(self, a, b):
        J = self.k_levels
        Sc = self._Y1[:, : J - 1] * a[:, None] - self._Y1[:, 1:] * b[:, None]
        return Sc

    def score_obs(self, params):
        P, fu, fl, _, _ = self._terms(params)
        a, b = fu / P, fl / P
        Sb = -self._X * (a - b)[:, None]
        Sc = self._score_c_obs(a, b)
        return np.column_stack([Sb, Sc @ self.cut_jacobian(params)])

    def score(self, params):
        P, fu, fl, _, _ = self._terms(params)
        a, b = fu / P, fl / P
        J = self.k_levels
        gb = -(self._X.T @ (a - b))
        su = np.bincount(self._y, weights=a, minlength=J)
        sl = np.bincount(self._y, weights=b, minlength=J)
        gc = su[: J - 1] - sl[1:]
        return np.concatenate([gb, gc @ self.cut_jacobian(params)])

    def hessian(self, params):
        P, fu, fl, dfu, dfl = self._terms(params)
        a, b = fu / P, fl / P
        hu = dfu / P - a * a
        hl = -dfl / P - b * b
        hul = a * b
        J = self.k_levels
        X = self._X
        k = self.k_vars
        y = self._y
        # beta-beta
        w = hu + hl + 2.0 * hul
        Hbb = (X * w[:, None]).T @ X
        # beta-c: observation in category j has c_j as upper and c_{j-1} as lower bound
        wu = hu + hul
        wl = hl + hul
        Hbc = -(X.T @ (self._Y1[:, : J - 1] * wu[:, None]) + X.T @ (self._Y1[:, 1:] * wl[:, None]))
        # c-c
        s_hu = np.bincount(y, weights=hu, minlength=J)
        s_hl = np.bincount(y, weights=hl, minlength=J)
        s_hul = np.bincount(y, weights=hul, minlength=J)
        Hcc = np.diag(s_hu[: J - 1] + s_hl[1:])
        off = s_hul[1 : J - 1]
        Hcc[np.arange(J - 2), np.arange(1, J - 1)] = off
        Hcc[np.arange(1, J - 1), np.arange(J - 2)] = off
        # chain rule to tau (second term: curvature of exp)
        D = self.cut_jacobian(params)
        su = np.bincount(y, weights=a, minlength=J)
        sl = np.bincount(y, weights=b, minlength=J)
        gc = su[: J - 1] - sl[1:]
        _, tau = self._split(params)
        extra = np.zeros(J - 1)
        extra[1:] = np.exp(tau[1:]) * np.cumsum(gc[::-1])[::-1][1:]
        Htt = D.T @ Hcc @ D + np.diag(extra)
        Hbt = Hbc @ D
        H = np.empty((k + J - 1, k + J - 1))
        H[:k, :k] = Hbb
        H[:k, k:] = Hbt
        H[k:, :k] = Hbt.T
        H[k:, k:] = Htt
        return H


@dataclass
class Convergence:
    converged: bool
    iterations: int
    max_abs_score: float
    gtol: float
    method: str = "Newton med eksakt gradient og Hessian, trinnhalvering"

    def message(self) -> str:
        if self.converged:
            return (f"Konvergert etter {self.iterations} Newton-iterasjoner: største absolutte gradient "
                    f"{self.max_abs_score:.1e} (toleranse {self.gtol:.0e}).")
        return (f"IKKE konvergert etter {self.iterations} iterasjoner: største absolutte gradient "
                f"{self.max_abs_score:.1e} (toleranse {self.gtol:.0e}).")


def newton(model: CumulativeLinkModel, start: np.ndarray, *, gtol: float = 1e-6,
           maxiter: int = 100) -> tuple[np.ndarray, Convergence]:
    """Damped Newton ascent with the analytic derivatives.

    The log-likelihood is concave in (beta, c) but not always in statsmodels' exp-increment
    parameters, so a non-negative-definite Hessian is regularised (Levenberg style) and every
    step is halved until the log-likelihood does not decrease.
    """
    theta = np.asarray(start, dtype=float).copy()
    ll = model.loglike(theta)
    g = model.score(theta)
    it = 0
    for it in range(1, maxiter + 1):
        if np.max(np.abs(g)) <= gtol:
            it -= 1
            break
        H = model.hessian(theta)
        negH = -H
        lam = 0.0
        scale = max(1.0, float(np.max(np.abs(np.diag(negH)))))
        for _ in range(30):
            try:
                L = np.linalg.cholesky(negH + lam * np.eye(len(theta)))
                break
            except np.linalg.LinAlgError:
                lam = max(lam * 10.0, 1e-8 * scale)
        else:  # pragma: no cover - Hessian full of nan
            break
        step = np.linalg.solve(L.T, np.linalg.solve(L, g))
        t = 1.0
        while t > 1e-12:
            cand = theta + t * step
            ll_c = model.loglike(cand)
            if np.isfinite(ll_c) and ll_c >= ll - 1e-12 * abs(ll):
                break
            t *= 0.5
        else:
            break
        theta, ll = cand, ll_c
        g = model.score(theta)
    mx = float(np.max(np.abs(g)))
    return theta, Convergence(mx <= gtol, it, mx, gtol)


# ---------------------------------------------------------------------------------------
# Fitting and the result object
# ---------------------------------------------------------------------------------------


@dataclass
class OrdinalFit:
    """A fitted model: statsmodels results plus what a reader needs."""

    name: str
    design: Design
    result: Any                    # statsmodels OrderedResultsWrapper
    convergence: Convergence
    link: str
    cov_type: str
    notes: list[str] = field(default_factory=list)

    # -- basics --------------------------------------------------------------------------
    @property
    def model(self) -> CumulativeLinkModel:
        return self.result.model

    @property
    def k_beta(self) -> int:
        return self.model.k_vars

    @property
    def params(self) -> np.ndarray:
        return np.asarray(self.result.params, dtype=float)

    @property
    def cov(self) -> np.ndarray:
        return np.asarray(self.result.cov_params(), dtype=float)

    @property
    def beta(self) -> pd.Series:
        return pd.Series(self.params[: self.k_beta], index=list(self.design.X.columns))

    @property
    def llf(self) -> float:
        return float(self.result.llf)

    @property
    def llnull(self) -> float:
        return float(self.result.llnull)

    @property
    def pseudo_r2(self) -> float:
        """McFadden: 1 − llf / llnull (null = cut-points only, same rows)."""
        return 1.0 - self.llf / self.llnull

    @property
    def n_params(self) -> int:
        return len(self.params)

    @property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        return -2.0 * self.llf + np.log(self.design.n_used) * self.n_params

    def cutpoints(self, level: float = 0.95) -> pd.DataFrame:
        """Cut-points c_j on the latent scale with delta-method SEs (same cov as the table)."""
        k = self.k_beta
        c = self.model.transform_threshold_params(self.params)[1:-1]
        D = self.model.cut_jacobian(self.params)
        V = D @ self.cov[k:, k:] @ D.T
        se = np.sqrt(np.diag(V))
        zc = stats.norm.ppf(0.5 + level / 2)
        lab = self.design.outcome_labels
        return pd.DataFrame({
            "terskel": [f"{lab[j]} | {lab[j + 1]}" for j in range(len(c))],
            "estimat": c, "se": se, "ki_lav": c - zc * se, "ki_hoy": c + zc * se,
        })

    def summary_stats(self) -> dict[str, Any]:
        d = self.design
        return {
            "modell": self.name, "link": self.link, "n_brukt": d.n_used, "n_utelatt": d.n_dropped,
            "n_klynger": d.n_clusters, "loglik": self.llf, "loglik_null": self.llnull,
            "mcfadden_r2": self.pseudo_r2, "aic": self.aic, "bic": self.bic,
            "konvergert": self.convergence.converged, "iterasjoner": self.convergence.iterations,
            "maks_gradient": self.convergence.max_abs_score, "kovarians": self.cov_type,
        }


def _separation_precheck(design: Design) -> None:
    """A dummy whose respondents all sit in the lowest or highest answer: beta is infinite."""
    J = len(design.outcome_codes)
    for var, cols in design.terms.items():
        if var not in design.references:
            continue
        for col in cols:
            on = design.X[col].to_numpy() == 1.0
            ys = design.y[on]
            for extreme, word in ((0, "laveste"), (J - 1, "høyeste")):
                if len(ys) and np.all(ys == extreme):
                    raise SeparationError(
                        f"modell '{design.model}': perfekt separasjon – alle {len(ys)} {design.unit} med "
                        f"'{var}' = '{design.level_labels[col]}' svarte i {word} kategori "
                        f"(«{design.outcome_labels[extreme]}»), så koeffisienten er uendelig. "
                        "Slå sammen nivåer eller ta variabelen ut.")
    # reference level in an extreme category alone ↔ all other levels diverge together
    for var, ref in design.references.items():
        on = np.ones(design.n_used, dtype=bool)
        for col in design.terms[var]:
            on &= design.X[col].to_numpy() == 0.0
        ys = design.y[on]
        for extreme, word in ((0, "laveste"), (J - 1, "høyeste")):
            if len(ys) and np.all(ys == extreme):
                raise SeparationError(
                    f"modell '{design.model}': perfekt separasjon – alle {len(ys)} {design.unit} i "
                    f"referansenivået '{ref}' av '{var}' svarte i {word} kategori "
                    f"(«{design.outcome_labels[extreme]}»). Velg et annet referansenivå eller slå sammen nivåer.")


def fit_design(design: Design, *, cluster: bool = True, on_nonconvergence: str = "error",
               gtol: float | None = None, maxiter: int | None = None) -> OrdinalFit:
    spec = design.spec
    gtol = gtol if gtol is not None else spec.gtol
    maxiter = maxiter if maxiter is not None else spec.maxiter
    _separation_precheck(design)
    endog = pd.Series(pd.Categorical.from_codes(design.y, categories=design.outcome_labels, ordered=True),
                      name=spec.outcome)
    # hasconst=False: build_design has already ruled out an implicit constant (rank check),
    # so statsmodels need not repeat it with an SVD of the whole design.
    model = CumulativeLinkModel(endog, design.X, distr=spec.link, hasconst=False)
    theta, conv = newton(model, model.start_params, gtol=gtol, maxiter=maxiter)
    k = model.k_vars
    beta = theta[:k]
    # No survey association is this large (an odds ratio above 3 million per step): a
    # coefficient beyond it is running off to infinity, i.e. (quasi-)separation.
    bound = 15.0 if spec.link == "logit" else 8.0
    runaway = [c for c, b in zip(design.X.columns, beta) if abs(b) > bound]
    if runaway:
        raise SeparationError(
            f"modell '{design.model}': mulig (kvasi-)perfekt separasjon – koeffisienten for "
            f"{runaway} løper mot uendelig ({', '.join(f'{b:.1f}' for b in beta[[list(design.X.columns).index(c) for c in runaway]])}). "
            "Slå sammen nivåer eller ta variabelen ut.")
    if not conv.converged:
        msg = f"modell '{design.model}': {conv.message()}"
        if on_nonconvergence == "error":
            raise ConvergenceError(msg + " Øk maxiter i params/models.yml eller forenkle modellen.")
        warnings.warn(msg, OrdinalWarning, stacklevel=2)
    use_cluster = cluster and design.groups is not None
    kwargs: dict[str, Any] = {"cov_type": "nonrobust"}
    if use_cluster:
        kwargs = {"cov_type": "cluster", "cov_kwds": {"groups": design.groups}}
    with warnings.catch_warnings():
        # statsmodels' newton from the converged point: one step, results wrapped its way
        warnings.simplefilter("ignore", category=RuntimeWarning)
        res = OrderedModel.fit(model, start_params=theta, method="newton", maxiter=5, tol=1e-10,
                               disp=0, **kwargs)
    if not np.all(np.isfinite(np.asarray(res.bse))):
        bad = [n for n, s in zip(res.model.exog_names, np.asarray(res.bse)) if not np.isfinite(s)]
        raise SeparationError(f"modell '{design.model}': standardfeilene kan ikke beregnes for {bad} "
                              "(singulær Hessian; mulig separasjon eller for få svar)")
    cov_name = (f"klyngerobust etter {spec.cluster} ({design.n_clusters} klynger)" if use_cluster
                else "modellbasert (ikke klyngerobust)")
    return OrdinalFit(name=design.model, design=design, result=res, convergence=conv, link=spec.link,
                      cov_type=cov_name, notes=list(design.notes))


def fit_model(spec: ModelSpec | str, data: pd.DataFrame, *, name: str | None = None,
              models: ModelsFile | None = None, codebook=None, cluster: bool = True,
              on_nonconvergence: Literal["error", "warn"] = "error",
              source: str = "data/processed/survey_2023.parquet") -> OrdinalFit:
    """Fit one declared model (by name from params/models.yml, or a ModelSpec)."""
    if isinstance(spec, str):
        name = name or spec
        spec = (models or load_models()).get(spec)
    design = build_design(spec, data, name=name or spec.label, codebook=codebook, source=source)
    return fit_design(design, cluster=cluster, on_nonconvergence=on_nonconvergence)


def fit_arrays(y, X: pd.DataFrame, *, link: str = "logit", groups=None, name: str = "modell",
               labels: list[str] | None = None, gtol: float = 1e-8, maxiter: int = 100) -> OrdinalFit:
    """Fit on ready arrays (no codebook): y integer codes 0..J-1 or ordered categorical."""
    X = pd.DataFrame(X).astype(float)
    if isinstance(getattr(y, "dtype", None), pd.CategoricalDtype):
        labels = labels or [str(c) for c in y.cat.categories]
        y = y.cat.codes.to_numpy()
    y = np.asarray(y, dtype=int)
    labels = labels or [str(i) for i in range(int(y.max()) + 1)]
    spec = ModelSpec(label=name, outcome="y", numeric=list(X.columns), link=link,
                     cluster="cluster" if groups is not None else None, gtol=gtol, maxiter=maxiter)
    counts = pd.DataFrame([{"variabel": "y", "rolle": "utfall", "vet_ikke": 0, "mangler": 0}])
    gcodes = pd.factorize(np.asarray(groups))[0] if groups is not None else None
    design = Design(model=name, spec=spec, y=y, X=X.reset_index(drop=True), groups=gcodes,
                    n_clusters=None if gcodes is None else int(gcodes.max() + 1),
                    outcome_codes=list(range(len(labels))), outcome_labels=labels, outcome_label="y",
                    terms={c: [c] for c in X.columns}, term_labels={c: c for c in X.columns},
                    level_labels={c: c for c in X.columns}, references={}, counts=counts,
                    n_input=len(y), n_filtered_out=0, n_used=len(y), frame=X.reset_index(drop=True))
    return fit_design(design, cluster=groups is not None)


def fit_plain_statsmodels(design: Design, method: str = "bfgs", maxiter: int = 500, **kw):
    """The stock statsmodels fit (numerical derivatives) on the same design, for comparison."""
    endog = pd.Series(pd.Categorical.from_codes(design.y, categories=design.outcome_labels, ordered=True))
    mod = OrderedModel(endog, design.X, distr=design.spec.link)
    return mod.fit(method=method, maxiter=maxiter, disp=0, **kw)


# ---------------------------------------------------------------------------------------
# Tests between and within models
# ---------------------------------------------------------------------------------------


@dataclass
class LRTest:
    label: str
    full: str
    restricted: str
    statistic: float
    df: int
    p_value: float
    n: int
    full_fit: OrdinalFit
    restricted_fit: OrdinalFit

    def row(self) -> dict[str, Any]:
        return {"test": self.label, "full": self.full, "begrenset": self.restricted, "lr": self.statistic,
                "df": self.df, "p": self.p_value, "n": self.n,
                "aic_full": self.full_fit.aic, "aic_begrenset": self.restricted_fit.aic}


def lr_test(full: ModelSpec | str, restricted: ModelSpec | str, data: pd.DataFrame, *,
            models: ModelsFile | None = None, label: str | None = None, codebook=None) -> LRTest:
    """LR test on the FULL model's estimation rows (the restricted model would otherwise use
    rows the full one dropped for missing predictors, and the test would be invalid)."""
    models_ = models if models is not None else (None if not (isinstance(full, str) or isinstance(restricted, str)) else load_models())
    fname = full if isinstance(full, str) else full.label
    rname = restricted if isinstance(restricted, str) else restricted.label
    fspec = models_.get(full) if isinstance(full, str) else full
    rspec = models_.get(restricted) if isinstance(restricted, str) else restricted
    check_nested(fspec, rspec, where=f"LR-test {fname} mot {rname}")
    fdesign = build_design(fspec, data, name=fname, codebook=codebook)
    ffit = fit_design(fdesign)
    cols = [c for v in rspec.predictors for c in fdesign.terms[v]]
    rdesign = Design(**{**fdesign.__dict__, "model": rname, "spec": rspec, "X": fdesign.X[cols],
                        "terms": {v: fdesign.terms[v] for v in rspec.predictors},
                        "references": {v: r for v, r in fdesign.references.items() if v in rspec.categorical},
                        "term_labels": {v: fdesign.term_labels[v] for v in rspec.predictors}})
    rfit = fit_design(rdesign)
    stat = 2.0 * (ffit.llf - rfit.llf)
    df = ffit.n_params - rfit.n_params
    return LRTest(label or f"{fname} mot {rname}", fname, rname, float(stat), int(df),
                  float(stats.chi2.sf(stat, df)), fdesign.n_used, ffit, rfit)


@dataclass
class BrantResult:
    """Proportional-odds check: Wald test that the slopes of the J−1 binary logits are equal."""

    overall: dict[str, float]
    by_predictor: pd.DataFrame         # variabel, chi2, df, p
    cut_estimates: pd.DataFrame        # column, cut, estimate, se, or, ci (binary logits)
    robust: bool
    alpha: float = 0.05
    untested: dict[str, str] = field(default_factory=dict)   # predictor -> why not testable
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return list(self.by_predictor.loc[self.by_predictor["p"] < self.alpha, "variabel"])

    @property
    def holds(self) -> bool:
        return self.overall["p"] >= self.alpha


def brant_test(fit: OrdinalFit, *, robust: bool = False, alpha: float = 0.05) -> BrantResult:
    """Brant (1990) test with separate binary logits at each cut-point (logit link).

    Default: Brant's model-based joint covariance of the binary-logit estimates. With
    ``robust=True`` the cluster-robust stacked sandwich is used instead; it is NOT the default
    because with many unit-level dummies and few units per level it over-rejects badly (in
    benchmarks/coverage_ordinal.py about half of the null simulations were rejected at 5 %,
    against about 5 % for the model-based form). For a probit fit the binary models are probits.
    """
    import statsmodels.api as sm

    d = fit.design
    J = len(d.outcome_codes)
    # A dummy with no variation in a binary split (e.g. nobody at a small unit type answered
    # the top category) makes that split's logit diverge: such predictors cannot be tested
    # and are left out of the binary logits, with a warning and a note in the result.
    untestable: dict[str, str] = {}
    for var, cols in d.terms.items():
        if var not in d.references:
            continue
        for c in cols:
            on = d.X[c].to_numpy() == 1.0
            for j in range(J - 1):
                z_on = d.y[on] > j
                if z_on.all() or not z_on.any():
                    untestable.setdefault(
                        var, f"nivået '{d.level_labels[c]}' har {'bare' if z_on.all() else 'ingen'} svar over "
                             f"«{d.outcome_labels[j]}»")
                    break
    notes = []
    for var, why in untestable.items():
        msg = (f"modell '{d.model}': Brant-testen kan ikke teste '{var}' ({why}); variabelen er utelatt "
               "fra de binære modellene")
        warnings.warn(msg, OrdinalWarning, stacklevel=2)
        notes.append(msg)
    terms = {v: c for v, c in d.terms.items() if v not in untestable}
    colnames = [c for cols in terms.values() for c in cols]
    if not colnames:
        raise OrdinalError(f"modell '{d.model}': ingen variabler kan testes med Brant-testen")
    X = d.X[colnames].to_numpy()
    n, k = X.shape
    Xc = np.column_stack([np.ones(n), X])
    fam_link = fit.link
    ests, pis = [], []
    for j in range(J - 1):
        z = (d.y > j).astype(float)
        mod = sm.Logit(z, Xc) if fam_link == "logit" else sm.Probit(z, Xc)
        with warnings.catch_warnings():
            warnings.simplefilter("error", category=Warning)
            try:
                r = mod.fit(disp=0, method="newton", maxiter=100)
            except Exception as exc:  # separation in a binary split, or non-convergence
                raise SeparationError(
                    f"modell '{d.model}': den binære modellen ved terskel {j + 1} "
                    f"(«{d.outcome_labels[j]}» eller lavere mot høyere) kan ikke estimeres: {exc}") from None
        ests.append(np.asarray(r.params))
        pis.append(np.asarray(r.predict()))
    m = k + 1
    if fam_link == "logit":
        # score of observation i in split j: x_i (z_ij − π_ij); bread: X' W_jj X
        bread = [np.linalg.inv((Xc * (p * (1 - p))[:, None]).T @ Xc) for p in pis]
    else:
        bread = []
        for j, p in enumerate(pis):
            xb = Xc @ ests[j]
            phi = stats.norm.pdf(xb)
            bread.append(np.linalg.inv((Xc * (phi ** 2 / (p * (1 - p)))[:, None]).T @ Xc))
    V = np.zeros(((J - 1) * m, (J - 1) * m))
    if robust:
        S = []
        for j, p in enumerate(pis):
            z = (d.y > j).astype(float)
            if fam_link == "logit":
                w = z - p
            else:
                xb = Xc @ ests[j]
                w = stats.norm.pdf(xb) * (z - p) / (p * (1 - p))
            S.append(Xc * w[:, None])
        S = np.hstack(S)
        if d.groups is not None:
            G = int(d.groups.max() + 1)
            Sg = np.zeros((G, S.shape[1]))
            np.add.at(Sg, d.groups, S)
            meat = Sg.T @ Sg * G / (G - 1)
        else:
            meat = S.T @ S
        B = np.zeros_like(V)
        for j in range(J - 1):
            B[j * m:(j + 1) * m, j * m:(j + 1) * m] = bread[j]
        V = B @ meat @ B
    else:
        for j in range(J - 1):
            for l in range(j, J - 1):
                if fam_link == "logit":
                    w = pis[l] * (1 - pis[j])  # P(y>l) (1 − P(y>j)) for l ≥ j
                else:  # the same cross-moment of the probit scores
                    phij = stats.norm.pdf(Xc @ ests[j]) / (pis[j] * (1 - pis[j]))
                    phil = stats.norm.pdf(Xc @ ests[l]) / (pis[l] * (1 - pis[l]))
                    w = pis[l] * (1 - pis[j]) * phij * phil
                M = (Xc * w[:, None]).T @ Xc
                block = bread[j] @ M @ bread[l]
                V[j * m:(j + 1) * m, l * m:(l + 1) * m] = block
                V[l * m:(l + 1) * m, j * m:(j + 1) * m] = block.T
    # slopes only (drop each split's intercept)
    slope_idx = np.concatenate([np.arange(j * m + 1, (j + 1) * m) for j in range(J - 1)])
    b = np.concatenate([e[1:] for e in ests])
    Vb = V[np.ix_(slope_idx, slope_idx)]

    def wald(cols: list[int]) -> tuple[float, int]:
        rows = []
        for j in range(1, J - 1):
            for c in cols:
                r = np.zeros(len(b))
                r[c] = 1.0
                r[j * k + c] = -1.0
                rows.append(r)
        R = np.array(rows)
        diff = R @ b
        RVR = R @ Vb @ R.T
        stat = float(diff @ np.linalg.pinv(RVR) @ diff)
        return stat, R.shape[0]

    stat, df = wald(list(range(k)))
    overall = {"chi2": stat, "df": df, "p": float(stats.chi2.sf(stat, df))}
    rows = []
    for var, cols in terms.items():
        s, dfv = wald([colnames.index(c) for c in cols])
        rows.append({"variabel": var, "etikett": d.term_labels.get(var, var), "chi2": s, "df": dfv,
                     "p": float(stats.chi2.sf(s, dfv))})
    se = np.sqrt(np.diag(Vb))
    zc = stats.norm.ppf(0.975)
    lab = d.outcome_labels
    cut_rows = []
    for j in range(J - 1):
        for c_i, c in enumerate(colnames):
            est = b[j * k + c_i]
            s_ = se[j * k + c_i]
            cut_rows.append({"kolonne": c, "etikett": d.level_labels.get(c, c), "terskel": j + 1,
                             "deling": f"over «{lab[j]}»", "estimat": est, "se": s_,
                             "or": np.exp(est), "or_lav": np.exp(est - zc * s_), "or_hoy": np.exp(est + zc * s_)})
    # the PO estimate next to them, for a chapter table
    po = fit.beta
    cut_df = pd.DataFrame(cut_rows)
    cut_df["po_estimat"] = cut_df["kolonne"].map(po)
    return BrantResult(overall, pd.DataFrame(rows), cut_df, robust, alpha, untested=untestable, notes=notes)


# ---------------------------------------------------------------------------------------
# Reader-facing output
# ---------------------------------------------------------------------------------------


FEW_CLUSTERS = 10  # below this many clusters behind a level, its cluster-robust SE is flagged


def odds_ratio_table(fit: OrdinalFit, level: float = 0.95, *, formatted: bool = False,
                     decimals: int = 2) -> pd.DataFrame:
    """Coefficients as odds ratios (logit) or probit coefficients with CI, then cut-points.

    With ``formatted=True`` a reader's table: Norwegian labels and "1,23 (1,10–1,38)".
    """
    d = fit.design
    k = fit.k_beta
    est = fit.params[:k]
    se = np.sqrt(np.diag(fit.cov)[:k])
    zc = stats.norm.ppf(0.5 + level / 2)
    zval = est / se
    p = 2 * stats.norm.sf(np.abs(zval))
    col_to_var = {c: v for v, cols in d.terms.items() for c in cols}
    rows = []
    for i, c in enumerate(d.X.columns):
        var = col_to_var[c]
        ref = d.references.get(var)
        # respondents and clusters behind a level: the disclosure gate needs n, and a
        # cluster-robust SE resting on a handful of units is not to be trusted
        on = d.X[c].to_numpy() == 1.0 if ref is not None else np.ones(d.n_used, dtype=bool)
        n_level = int(on.sum())
        n_cl = int(len(np.unique(d.groups[on]))) if d.groups is not None else None
        rows.append({
            "del": "koeffisient", "variabel": var, "kolonne": c,
            "etikett": d.term_labels.get(var, var) if ref is None else
            f"{d.term_labels.get(var, var)}: {d.level_labels[c]}",
            "referanse": None if ref is None else _level_label(_cb_or_none(), var, ref),
            "estimat": est[i], "se": se[i], "z": zval[i], "p": p[i],
            "or": np.exp(est[i]), "or_lav": np.exp(est[i] - zc * se[i]), "or_hoy": np.exp(est[i] + zc * se[i]),
            "n": n_level, "klynger": n_cl,
        })
    cuts = fit.cutpoints(level)
    for _, r in cuts.iterrows():
        rows.append({"del": "terskel", "variabel": None, "kolonne": None, "etikett": r["terskel"],
                     "referanse": None, "estimat": r["estimat"], "se": r["se"], "z": r["estimat"] / r["se"],
                     "p": np.nan, "or": np.nan, "or_lav": r["ki_lav"], "or_hoy": r["ki_hoy"],
                     "n": d.n_used, "klynger": d.n_clusters})
    table = pd.DataFrame(rows)
    if not formatted:
        return table
    head = "Oddsforhold (95 % KI)" if fit.link == "logit" else "Probit-koeffisient (95 % KI)"
    out = []
    for _, r in table.iterrows():
        if r["del"] == "koeffisient":
            val = (format_or(r["or"], r["or_lav"], r["or_hoy"], decimals) if fit.link == "logit"
                   else fmt.estimate_ci(r["estimat"], r["estimat"] - zc * r["se"], r["estimat"] + zc * r["se"], decimals))
            few = (r["klynger"] is not None and not pd.isna(r["klynger"])
                   and r["variabel"] in d.references and r["klynger"] < FEW_CLUSTERS)
            out.append({"Variabel": r["etikett"], "Referanse": "" if pd.isna(r["referanse"]) else r["referanse"], head: val,
                        "p": format_p(r["p"]),
                        "Merknad": f"bare {int(r['klynger'])} klynger: usikker standardfeil" if few else ""})
        else:
            out.append({"Variabel": f"Terskel {r['etikett']}", "Referanse": "",
                        head: fmt.estimate_ci(r["estimat"], r["or_lav"], r["or_hoy"], decimals), "p": "",
                        "Merknad": ""})
    return pd.DataFrame(out)


def _cb_or_none():
    try:
        return _codebook()
    except Exception:  # noqa: BLE001 - labels only; arrays-only fits have no codebook
        return None


def format_or(or_: float, lo: float, hi: float, decimals: int = 2) -> str:
    """1.2345, 1.1, 1.38 → '1,23 (1,10–1,38)'."""
    return fmt.estimate_ci(or_, lo, hi, decimals)


def format_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return ""
    if p < 0.001:
        return "< 0,001"
    return fmt.num(p, 3)


def predicted_probabilities(fit: OrdinalFit, by: str, levels: list | None = None,
                            level: float = 0.95) -> pd.DataFrame:
    """Average predicted probability of each answer with `by` set to each level for everyone
    in the estimation sample (other predictors as observed), with delta-method intervals
    computed on the logit scale so they stay within 0–1.
    """
    d = fit.design
    if by not in d.terms:
        raise OrdinalError(f"modell '{d.model}': '{by}' er ikke en forklaringsvariabel i modellen "
                           f"(har {list(d.terms)})")
    X0 = d.X.to_numpy().copy()
    cols = list(d.X.columns)
    k = fit.k_beta
    beta = fit.params[:k]
    cuts = fit.model.transform_threshold_params(fit.params)
    D = fit.model.cut_jacobian(fit.params)
    V = fit.cov
    J = len(d.outcome_codes)
    zc = stats.norm.ppf(0.5 + level / 2)
    is_cat = by in d.references
    if levels is None:
        if is_cat:
            levels = [d.references[by], *[c[len(by) + 1:-1] for c in d.terms[by]]]
        else:
            cb = _cb_or_none()
            levels = (cb.scale_of(by).codes if cb is not None and by in cb.items
                      else sorted(np.unique(d.X[by]).tolist()))
    rows = []
    for lev in levels:
        X = X0.copy()
        if is_cat:
            for c in d.terms[by]:
                X[:, cols.index(c)] = 0.0
            col = f"{by}[{lev}]"
            if lev != d.references[by]:
                if col not in cols:
                    raise OrdinalError(f"modell '{d.model}': nivået '{lev}' av '{by}' finnes ikke i modellen")
                X[:, cols.index(col)] = 1.0
            lev_label = _level_label(_cb_or_none(), by, lev)
        else:
            X[:, cols.index(by)] = float(lev)
            lev_label = str(lev)
        xb = X @ beta
        F = np.empty((len(xb), J + 1))
        f = np.empty((len(xb), J + 1))
        for j in range(J + 1):
            F[:, j], f[:, j], _ = _dist(cuts[j] - xb, fit.link)
        for kc in range(J):
            p = float(np.mean(F[:, kc + 1] - F[:, kc]))
            gb = -(X.T @ (f[:, kc + 1] - f[:, kc])) / len(xb)
            gc = np.zeros(J - 1)
            if kc < J - 1:
                gc[kc] = np.mean(f[:, kc + 1])
            if kc > 0:
                gc[kc - 1] -= np.mean(f[:, kc])
            grad = np.concatenate([gb, gc @ D])
            se = float(np.sqrt(grad @ V @ grad))
            pc = min(max(p, 1e-12), 1 - 1e-12)
            se_l = se / (pc * (1 - pc))
            lg = np.log(pc / (1 - pc))
            rows.append({"variabel": by, "nivå": lev, "etikett": lev_label, "kategori": d.outcome_codes[kc],
                         "svar": d.outcome_labels[kc], "sannsynlighet": p, "se": se,
                         "ki_lav": float(expit(lg - zc * se_l)), "ki_hoy": float(expit(lg + zc * se_l))})
    return pd.DataFrame(rows)


def plot_predicted_probabilities(pp: pd.DataFrame, *, title: str | None = None, ax=None):
    """Dot-and-interval figure of :func:`predicted_probabilities`: one panel, answers on the
    x-axis, one colour per group, 95 % intervals as bars; Norwegian percent ticks."""
    import matplotlib.pyplot as plt

    try:
        from tillit.book.plots import QUALITATIVE as colors
    except Exception:  # noqa: BLE001 - the shared theme is optional here
        colors = None
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.2))
    groups = list(dict.fromkeys(pp["etikett"]))
    answers = list(dict.fromkeys(pp["svar"]))
    width = 0.8 / max(1, len(groups))
    for g_i, g in enumerate(groups):
        sub = pp[pp["etikett"] == g].set_index("svar").loc[answers]
        x = np.arange(len(answers)) - 0.4 + width * (g_i + 0.5)
        y = sub["sannsynlighet"].to_numpy()
        err = np.vstack([y - sub["ki_lav"].to_numpy(), sub["ki_hoy"].to_numpy() - y])
        ax.errorbar(x, y, yerr=err, fmt="o", capsize=3, label=str(g),
                    color=None if colors is None else colors[g_i % len(colors)])
    ax.set_xticks(np.arange(len(answers)), answers, rotation=0)
    ax.yaxis.set_major_formatter(fmt.percent_formatter())
    ax.set_ylabel("Predikert andel")
    ax.set_ylim(0, min(1.0, float(pp["ki_hoy"].max()) * 1.1 + 0.02))
    ax.legend(title=None, frameon=False, fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def _share_change(or_: float) -> str:
    pct = (or_ - 1.0) * 100
    if round(abs(pct)) < 1:
        return "omtrent like høy"
    word = "høyere" if pct > 0 else "lavere"
    return f"{fmt.num(abs(pct), 0)}{fmt.NBSP}% {word}"


def _p_text(p: float) -> str:
    return f"p {format_p(p)}" if p < 0.001 else f"p = {format_p(p)}"


def wald_term(fit: OrdinalFit, var: str) -> dict[str, float]:
    """Joint Wald test (with the fit's covariance) that all of a predictor's coefficients are 0."""
    cols = fit.design.terms[var]
    idx = [list(fit.design.X.columns).index(c) for c in cols]
    b = fit.params[idx]
    V = fit.cov[np.ix_(idx, idx)]
    stat = float(b @ np.linalg.solve(V, b))
    return {"chi2": stat, "df": len(idx), "p": float(stats.chi2.sf(stat, len(idx)))}


def describe(fit: OrdinalFit, brant: BrantResult | None = None, lrt: LRTest | None = None,
             alpha: float = 0.05) -> str:
    """A short Norwegian reading of the model, every number computed from the fit.

    Numeric predictors: the odds ratio per step; categorical predictors: the joint Wald test
    and the levels furthest above and below the reference.
    """
    d = fit.design
    tab = odds_ratio_table(fit)
    coef = tab[tab["del"] == "koeffisient"].set_index("kolonne")
    dk_out = int(d.counts.loc[d.counts["rolle"] == "utfall", "vet_ikke"].sum())
    parts = [
        f"Modellen «{d.spec.label}» bygger på {fmt.num(d.n_used)} {d.unit}"
        + (f" ({fmt.num(d.n_dropped)} utelatt på grunn av «Vet ikke» eller manglende svar, "
           f"herav {fmt.num(dk_out)} «Vet ikke» på utfallet)" if d.n_dropped else "") + "."
    ]
    pct = f"95{fmt.NBSP}%"
    clear, unclear = [], []
    for var, cols in d.terms.items():
        if var not in d.references:
            r = coef.loc[cols[0]]
            if fit.link == "logit":
                txt = (f"ett trinn høyere på «{r['etikett']}» henger sammen med {_share_change(r['or'])} odds "
                       f"for et høyere svar (OR {fmt.num(r['or'], 2)}; {pct} KI {fmt.interval(r['or_lav'], r['or_hoy'], 2)})")
            else:
                txt = (f"ett trinn høyere på «{r['etikett']}» flytter svarene "
                       f"{'opp' if r['estimat'] > 0 else 'ned'} (probit-koeffisient {fmt.signed(r['estimat'], 2)})")
            (clear if r["p"] < alpha else unclear).append(txt)
            continue
        w = wald_term(fit, var)
        sub = coef.loc[cols]
        hi, lo = sub["estimat"].idxmax(), sub["estimat"].idxmin()
        ref_label = _level_label(_cb_or_none(), var, d.references[var])
        name = d.term_labels.get(var, var).lower()
        txt = f"{name} ({_p_text(w['p'])} samlet)"
        if w["p"] < alpha and fit.link == "logit":
            bits = []
            if sub.loc[hi, "estimat"] > 0:
                bits.append(f"høyest for {d.level_labels[hi]} (OR {fmt.num(sub.loc[hi, 'or'], 2)})")
            if sub.loc[lo, "estimat"] < 0:
                bits.append(f"lavest for {d.level_labels[lo]} (OR {fmt.num(sub.loc[lo, 'or'], 2)})")
            txt += f": sammenlignet med {ref_label} er oddsen for et høyere svar " + " og ".join(bits)
        (clear if w["p"] < alpha else unclear).append(txt)
    if clear:
        parts.append("Når de andre variablene i modellen holdes fast, gjelder dette: " + "; ".join(clear) + ".")
    if unclear:
        parts.append(f"Usikre sammenhenger (ikke tydelige på {pct}-nivå): " + "; ".join(unclear) + ".")
    few = coef[coef["variabel"].isin(list(d.references)) & (coef["klynger"].fillna(np.inf) < FEW_CLUSTERS)]
    if len(few):
        parts.append("Usikkerheten for " + fmt.listing([f"{d.level_labels[c]} ({int(k)} {'klynge' if k == 1 else 'klynger'})"
                                                         for c, k in few["klynger"].items()])
                     + " hviler på få klynger og er trolig undervurdert.")
    parts.append(f"McFaddens pseudo-R² er {fmt.num(fit.pseudo_r2, 3)}, og AIC er {fmt.num(fit.aic, 1)}.")
    if lrt is not None:
        parts.append(f"Likelihood-ratio-testen mot modellen «{lrt.restricted_fit.design.spec.label}» gir "
                     f"χ² = {fmt.num(lrt.statistic, 1)} med {lrt.df} frihetsgrader ({_p_text(lrt.p_value)}).")
    if brant is not None:
        if brant.holds and not brant.failed:
            parts.append(f"Brant-testen gir ikke grunn til å forkaste antakelsen om proporsjonale odds "
                         f"(χ² = {fmt.num(brant.overall['chi2'], 1)}, df = {brant.overall['df']}, "
                         f"{_p_text(brant.overall['p'])}).")
        else:
            failed = [d.term_labels.get(v, v).lower() for v in brant.failed]
            parts.append(f"Brant-testen tyder på at antakelsen om proporsjonale odds ikke holder "
                         f"(samlet {_p_text(brant.overall['p'])})"
                         + (f", særlig for {fmt.listing(failed)}" if failed else "")
                         + "; de terskelspesifikke estimatene viser hvor sammenhengen er sterkest.")
        if brant.untested:
            parts.append(f"Brant-testen kunne ikke teste {fmt.listing([d.term_labels.get(v, v).lower() for v in brant.untested])} "
                         "(for få svar i noen kategorier).")
    parts.append("Tallene beskriver sammenhenger i én tverrsnittsundersøkelse, ikke årsakseffekter.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------
# Simulation from a known model (tests, benchmarks, coverage)
# ---------------------------------------------------------------------------------------


def simulate_survey(n: int, truth: dict, *, seed: int = 0, respondents_per_unit: int = 15,
                    dont_know: float = 0.03, missing: float = 0.02, codebook=None) -> pd.DataFrame:
    """Processed-layout respondents from latent = X·beta + unit effect + noise, cut at `cuts`.

    `truth` has the shape of params/synthetic.yml's `outcomes.<name>` block::

        {outcome: trust_hindrance, link: logit, cuts: [...4 values...], unit_sd: 0.4,
         predictors: {competition: 0.3, ...}, role: {leder: -0.2, ...}, unit_type: {nks: 0.4, ...}}

    Numeric predictors are 1..5 codes centred at 3 in the linear predictor (so the cut-points
    mean the same as in synthetic.yml), with a share "Vet ikke" = 9 and <NA>; role and unit
    type are codebook categoricals; unit_number is the cluster.
    """
    cb = codebook if codebook is not None else _codebook()
    rng = np.random.default_rng(seed)
    dont_know = float(truth.get("dont_know", dont_know))
    n_units = max(2, n // respondents_per_unit)
    ut_keys = list(cb.unit_types)
    ut_p = np.array([0.5 if k == "nav_kontor" else 0.5 / (len(ut_keys) - 1) for k in ut_keys])
    unit_type_of_unit = rng.choice(len(ut_keys), size=n_units, p=ut_p)
    unit_effect = rng.normal(0.0, float(truth.get("unit_sd", 0.0)), size=n_units)
    unit = rng.integers(0, n_units, size=n)
    width = max(4, len(str(n_units)))
    role_keys = list(cb.roles)
    role_p = np.array([0.75, 0.15, 0.06, 0.04])[: len(role_keys)]
    role = rng.choice(len(role_keys), size=n, p=role_p / role_p.sum())
    df = pd.DataFrame({
        "respondent_id": [f"R{i:07d}" for i in range(n)],
        "role": pd.Categorical.from_codes(role, categories=role_keys),
        "unit_type": pd.Categorical.from_codes(unit_type_of_unit[unit], categories=ut_keys),
        "unit_number": pd.Series([f"{u:0{width}d}" for u in unit], dtype=object),
    })
    df["line"] = pd.Categorical([cb.unit_types[u].line for u in df["unit_type"].astype(str)],
                                categories=list(cb.lines))
    eta = unit_effect[unit].copy()
    code_p = np.array([0.12, 0.22, 0.32, 0.22, 0.12])
    for var, b in (truth.get("predictors") or {}).items():
        x = rng.choice(5, size=n, p=code_p) + 1
        eta += float(b) * (x - 3)  # centred at 3, as in params/synthetic.yml
        col = pd.array(x, dtype="Int8")
        u = rng.random(n)
        col[u < dont_know] = 9
        col[(u >= dont_know) & (u < dont_know + missing)] = pd.NA
        df[var] = col
    for var in ("role", "unit_type", "line"):
        effects = truth.get(var) or {}
        if effects:
            codes = df[var].astype(str).to_numpy()
            eta += np.array([float(effects.get(c, 0.0)) for c in codes])
    link = truth.get("link", "logit")
    noise = rng.logistic(size=n) if link == "logit" else rng.normal(size=n)
    latent = eta + noise
    cuts = np.asarray(truth["cuts"], dtype=float)
    y = np.searchsorted(cuts, latent) + 1  # y = k  ⇔  c_{k-1} < latent ≤ c_k
    out = pd.array(y, dtype="Int8")
    u = rng.random(n)
    out[u < dont_know] = 9
    out[(u >= dont_know) & (u < dont_know + missing)] = pd.NA
    df[truth.get("outcome", "trust_hindrance")] = out
    return df


def truth_vector(columns, truth: dict) -> pd.Series:
    """The coefficients a model without unit effects should estimate, per design column:
    synthetic.yml's true values (dummies as `var[level]`), shrunk by :func:`marginal_scale`."""
    out = {}
    for c in columns:
        if "[" in c:
            var, lev = c[:-1].split("[")
            out[c] = float((truth.get(var) or {}).get(lev, 0.0))
        else:
            out[c] = float(truth["predictors"][c])
    return pd.Series(out) * marginal_scale(truth)


def marginal_scale(truth: dict) -> float:
    """Factor by which a random unit intercept (sd σ) shrinks the population-averaged slopes
    an ordinal model without random effects estimates: exact 1/√(1+σ²) for probit, the
    Zeger–Liang–Albert approximation 1/√(1+c²σ²), c = 16√3/(15π), for logit."""
    s = float(truth.get("unit_sd", 0.0))
    if truth.get("link", "logit") == "probit":
        return 1.0 / np.sqrt(1.0 + s * s)
    c = 16 * np.sqrt(3) / (15 * np.pi)
    return 1.0 / np.sqrt(1.0 + (c * s) ** 2)
