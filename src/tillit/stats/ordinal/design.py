"""The estimation sample of a model: respondent filter, long format, codes checked against the
codebook, "Vet ikke" and missing answers dropped and counted, treatment dummies, and the
guards every fit shares (empty categories, empty levels, constant columns, rank, clusters)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tillit.stats.ordinal.specs import LONG_OUTCOME, ModelSpec, OrdinalDataError, OrdinalWarning

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
    weights: np.ndarray | None = field(default=None, repr=False)  # case weights (clm's weights=)

    @property
    def n_dropped(self) -> int:
        return self.n_input - self.n_used


def _codebook():
    from tillit.data.codebook import load_codebook

    return load_codebook()


def codebook_or_none():
    try:
        return _codebook()
    except Exception:  # noqa: BLE001 - labels only; arrays-only fits have no codebook
        return None


def var_label(cb, name: str) -> str:
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


def level_label(cb, var: str, level: str) -> str:
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



# -- guards shared by build_design and design_from_arrays --------------------------------


def outcome_categories(y_used: np.ndarray, codes: list[int], labels: list[str], name: str,
                       outcome: str, unit: str) -> np.ndarray:
    """Scale codes → 0..J-1, refusing an empty category (it would silently shift the cut-point
    labels) and a code outside the scale."""
    codes = list(codes)
    bad = ~np.isin(y_used, codes)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise OrdinalDataError(f"modell '{name}': utfallet '{outcome}' har verdien {y_used[pos]!r} i rad {pos}; "
                               f"forventet en av kodene {codes}")
    present = np.isin(codes, y_used)
    if not present.all():
        empty = [f"{c} («{lab}»)" for c, lab, p in zip(codes, labels, present) if not p]
        raise OrdinalDataError(
            f"modell '{name}': utfallet '{outcome}' har ingen svar i kategori {', '.join(empty)} "
            f"blant de {len(y_used)} {unit} som brukes; slå sammen kategorier eller avgrens modellen")
    return np.searchsorted(codes, y_used)


def check_not_constant(var: str, col: np.ndarray, name: str, unit: str) -> None:
    if len(col) and np.ptp(col) == 0:
        raise OrdinalDataError(f"modell '{name}': forklaringsvariabelen '{var}' har samme verdi "
                               f"({col[0]:g}) for alle {len(col)} {unit}; den kan ikke estimeres")


def check_rank(X: pd.DataFrame, name: str) -> None:
    """Rank with a column of ones: an implicit constant (or collinearity) would be silently
    unidentified next to the cut-points. From the small scaled Gram matrix (O(n k²), not an
    SVD of the n × k design); names the culprits (columns whose removal keeps the rank)."""
    aug = np.column_stack([np.ones(len(X)), X.to_numpy(dtype=float)])
    gram = aug.T @ aug
    scale = np.sqrt(np.diag(gram))
    scale[scale == 0] = 1.0
    gram = gram / np.outer(scale, scale)

    def _rank(m: np.ndarray) -> int:
        return int(np.linalg.matrix_rank(m, tol=1e-10, hermitian=True))

    rank = _rank(gram)
    if rank < aug.shape[1]:
        culprits = [c for i, c in enumerate(X.columns)
                    if _rank(np.delete(np.delete(gram, i + 1, 0), i + 1, 1)) == rank]
        raise OrdinalDataError(f"modell '{name}': designmatrisen er ikke av full rang (lineært avhengige "
                               f"kolonner eller en skjult konstant); sjekk {culprits}")


def cluster_codes(values, name: str, cluster: str) -> tuple[np.ndarray, int]:
    """Cluster ids → codes 0..G-1; a missing id or fewer than two clusters is an error."""
    values = pd.Series(np.asarray(values, dtype=object))
    missing = values.isna().to_numpy()
    if missing.any():
        pos = int(np.flatnonzero(missing)[0])
        raise OrdinalDataError(f"modell '{name}': klyngevariabelen '{cluster}' mangler i {int(missing.sum())} "
                               f"rader (første: rad {pos}); alle rader må ha en klynge")
    codes, uniq = pd.factorize(values.to_numpy())
    if len(uniq) < 2:
        raise OrdinalDataError(f"modell '{name}': klyngevariabelen '{cluster}' har bare "
                               f"{len(uniq)} klynge; klyngerobuste standardfeil krever flere")
    return codes.astype(np.int64), int(len(uniq))


# -- build_design and its steps ------------------------------------------------------------


def _respondent_filter(spec: ModelSpec, frame: pd.DataFrame, cb, name: str, source: str) -> pd.DataFrame:
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
    return frame.loc[mask.to_numpy()]


def _scale_of(cb, var: str):
    if cb is None:
        return None
    if var == LONG_OUTCOME:
        return cb.scales[cb.raw["goal_scale"]]
    if var in cb.items and cb.items[var].scale:
        return cb.scale_of(var)
    return None


def _numeric_column(frame: pd.DataFrame, var: str, role: str, cb, name: str, source: str,
                    id_col: str | None) -> tuple[np.ndarray, int, int]:
    """Scale codes as floats with "Vet ikke" and missing as nan, and how many of each."""
    s = frame[var]
    scale = _scale_of(cb, var)
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


def _categorical_column(frame: pd.DataFrame, var: str, ref: str, cb, name: str, source: str,
                        id_col: str | None) -> tuple[pd.Series, str, list[str]]:
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
    ref = ref or levels[0]
    if ref not in levels:
        raise OrdinalDataError(f"modell '{name}': referansenivået '{ref}' for '{var}' finnes ikke "
                               f"(nivåer: {levels})")
    return s.astype(object), ref, levels


def _dummies(var: str, vals: np.ndarray, ref: str, levels: list[str], cb, name: str, unit: str,
             columns: dict, level_labels: dict, notes: list[str]) -> list[str]:
    """Treatment dummies against `ref`; a level without rows is left out with a warning."""
    if int((vals == ref).sum()) == 0:
        raise OrdinalDataError(f"modell '{name}': referansenivået '{ref}' for '{var}' har ingen {unit} "
                               "i utvalget; velg et annet referansenivå")
    cols, empty_levels = [], []
    for lev in levels:
        if lev == ref:
            continue
        ind = (vals == lev).astype(float)
        if ind.sum() == 0:
            empty_levels.append(lev)
            continue
        colname = f"{var}[{lev}]"
        columns[colname] = ind
        cols.append(colname)
        level_labels[colname] = level_label(cb, var, lev)
    if empty_levels:
        which = ", ".join(f"'{lev}' ({level_label(cb, var, lev)})" for lev in empty_levels)
        msg = (f"modell '{name}': {'nivået' if len(empty_levels) == 1 else 'nivåene'} {which} av "
               f"'{var}' har ingen {unit} i utvalget og er tatt ut av modellen og tabellene")
        warnings.warn(msg, OrdinalWarning, stacklevel=3)
        notes.append(msg)
    if not cols:
        raise OrdinalDataError(f"modell '{name}': '{var}' har bare referansenivået '{ref}' i utvalget; "
                               "variabelen kan ikke estimeres")
    return cols


def _weights_column(frame: pd.DataFrame, var: str, name: str, source: str, id_col: str | None) -> np.ndarray:
    w = pd.to_numeric(frame[var], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = pd.Series(frame[var].notna().to_numpy() & ~(np.isfinite(w) & (w > 0)))
    if bad.any():
        raise OrdinalDataError(f"modell '{name}', {source}: {_first_bad(frame, var, bad, id_col)}; "
                               "forventet en positiv, endelig vekt")
    return w


def build_design(spec: ModelSpec, data: pd.DataFrame, *, name: str | None = None,
                 codebook=None, source: str = "data/processed/survey_2023.parquet",
                 use_codebook: bool = True) -> Design:
    """Respondent filter → (long format) → codes checked → "Vet ikke"/NA dropped and counted
    → treatment dummies → guards (empty categories, empty levels, constant columns, rank)."""
    name = name or spec.label
    cb = codebook if codebook is not None else (_codebook() if use_codebook else None)
    n_all = len(data)
    frame = _respondent_filter(spec, data, cb, name, source)
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
    extra = [c for c in (spec.cluster, spec.weights) if c]
    missing_cols = [c for c in [spec.outcome, *spec.predictors, *extra] if c not in frame.columns]
    if missing_cols:
        raise OrdinalDataError(f"modell '{name}': {source} mangler kolonnene {missing_cols}")

    notes: list[str] = []
    count_rows = []
    y_arr, n_dk, n_na = _numeric_column(frame, spec.outcome, "utfallet", cb, name, source, id_col)
    count_rows.append({"variabel": spec.outcome, "rolle": "utfall", "vet_ikke": n_dk, "mangler": n_na})
    usable = ~np.isnan(y_arr)
    num_cols: dict[str, np.ndarray] = {}
    for var in spec.numeric:
        arr, n_dk, n_na = _numeric_column(frame, var, "forklaringsvariabelen", cb, name, source, id_col)
        num_cols[var] = arr
        count_rows.append({"variabel": var, "rolle": "forklaring", "vet_ikke": n_dk, "mangler": n_na})
        usable &= ~np.isnan(arr)
    cat_cols: dict[str, pd.Series] = {}
    references: dict[str, str] = {}
    for var, ref in spec.categorical.items():
        s, references[var], _ = _categorical_column(frame, var, ref, cb, name, source, id_col)
        count_rows.append({"variabel": var, "rolle": "forklaring", "vet_ikke": 0, "mangler": int(s.isna().sum())})
        usable &= s.notna().to_numpy()
        cat_cols[var] = s
    for var, role in ((spec.cluster, "klynge"), (spec.weights, "vekt")):
        if var:
            n_na = int(frame[var].isna().sum())
            count_rows.append({"variabel": var, "rolle": role, "vet_ikke": 0, "mangler": n_na})
            usable &= frame[var].notna().to_numpy()
    weights = _weights_column(frame, spec.weights, name, source, id_col)[usable] if spec.weights else None
    counts = pd.DataFrame(count_rows)
    n_used = int(usable.sum())
    if n_used == 0:
        raise OrdinalDataError(f"modell '{name}': ingen {unit} igjen etter at «Vet ikke» og manglende svar "
                               f"er fjernet (se tellingene: {counts.to_dict('records')})")

    out_scale = _scale_of(cb, spec.outcome)
    y_used = y_arr[usable].astype(int)
    codes = out_scale.codes if out_scale is not None else sorted(int(v) for v in np.unique(y_used))
    labels = [out_scale.labels[c] for c in codes] if out_scale is not None else [str(c) for c in codes]
    y = outcome_categories(y_used, codes, labels, name, spec.outcome, unit)

    columns: dict[str, np.ndarray] = {}
    terms: dict[str, list[str]] = {}
    level_labels: dict[str, str] = {}
    for var, arr in num_cols.items():
        check_not_constant(var, arr[usable], name, unit)
        columns[var], terms[var], level_labels[var] = arr[usable], [var], var_label(cb, var)
    for var, s in cat_cols.items():
        vals = s.to_numpy()[usable]
        levels = ([str(c) for c in frame[var].cat.categories] if isinstance(frame[var].dtype, pd.CategoricalDtype)
                  else sorted(set(map(str, vals))))
        terms[var] = _dummies(var, vals, references[var], levels, cb, name, unit, columns, level_labels, notes)
    X = pd.DataFrame(columns)
    check_rank(X, name)
    groups, n_clusters = None, None
    if spec.cluster:
        groups, n_clusters = cluster_codes(frame[spec.cluster].to_numpy()[usable], name, spec.cluster)
    used_frame = frame.loc[usable, [c for c in dict.fromkeys([*spec.predictors]) if c in frame.columns]]
    return Design(
        model=name, spec=spec, y=y, X=X, groups=groups, n_clusters=n_clusters,
        outcome_codes=list(codes), outcome_labels=labels, outcome_label=var_label(cb, spec.outcome),
        terms=terms, term_labels={v: var_label(cb, v) for v in spec.predictors},
        level_labels=level_labels, references=references, counts=counts, n_input=n_input,
        n_filtered_out=n_filtered_out, n_used=n_used, notes=notes,
        frame=used_frame.reset_index(drop=True), unit=unit, weights=weights,
    )


def _array_outcome(y, labels: list[str] | None, name: str) -> tuple[np.ndarray, list[str]]:
    """y as codes 0..J-1 (integers or an ordered categorical), refusing what fit_arrays
    cannot mean: missing values, non-integers, a 1..J coding, unused levels."""
    if isinstance(getattr(y, "dtype", None), pd.CategoricalDtype):
        cats = [str(c) for c in y.cat.categories]
        labels = labels or cats
        codes = np.asarray(y.cat.codes, dtype=int)
        if (codes < 0).any():
            pos = int(np.flatnonzero(codes < 0)[0])
            raise OrdinalDataError(f"modell '{name}': y mangler i {int((codes < 0).sum())} rader (første: rad {pos})")
        return outcome_categories(codes, list(range(len(cats))), labels, name, "y", "rader"), labels
    arr = pd.to_numeric(pd.Series(np.asarray(y, dtype=object)), errors="coerce").to_numpy(dtype=float)
    if np.isnan(arr).any():
        pos = int(np.flatnonzero(np.isnan(arr))[0])
        raise OrdinalDataError(f"modell '{name}': y har manglende eller ikke-numeriske verdier "
                               f"({int(np.isnan(arr).sum())} rader, første: rad {pos})")
    if not np.all(arr == np.round(arr)):
        raise OrdinalDataError(f"modell '{name}': y må være heltallskoder 0..J−1")
    codes = arr.astype(int)
    J = len(labels) if labels else int(codes.max()) + 1
    if codes.min() >= 1 and (labels is None or codes.max() == J):
        raise OrdinalDataError(
            f"modell '{name}': y er kodet {codes.min()}–{codes.max()}, men fit_arrays forventer 0..J−1 "
            "(0 = laveste kategori); trekk fra 1, eller send en ordnet pandas-kategorisk")
    labels = labels or [str(i) for i in range(J)]
    return outcome_categories(codes, list(range(J)), labels, name, "y", "rader"), labels


def design_from_arrays(y, X: pd.DataFrame, *, link: str = "logit", groups=None, weights=None,
                       name: str = "modell", labels: list[str] | None = None, gtol: float = 1e-8,
                       maxiter: int = 100) -> Design:
    """A Design from ready arrays (no codebook), with the same guards as :func:`build_design`:
    outcome codes and empty categories, missing or constant columns, rank, cluster ids, weights."""
    X = pd.DataFrame(X).reset_index(drop=True)
    n = len(X)
    y_arr, labels = _array_outcome(y, labels, name)
    for what, v in (("y", y_arr), ("groups", groups), ("weights", weights)):
        if v is not None and len(v) != n:
            raise OrdinalDataError(f"modell '{name}': {what} har {len(v)} rader, X har {n}")
    for c in X.columns:
        col = pd.to_numeric(X[c], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(col)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise OrdinalDataError(f"modell '{name}': kolonnen '{c}' har manglende eller ikke-numeriske verdier "
                                   f"({int(bad.sum())} rader, første: rad {pos}, verdi {X[c].iloc[pos]!r})")
        check_not_constant(str(c), col, name, "rader")
        X[c] = col
    check_rank(X, name)
    gcodes, n_clusters = (None, None) if groups is None else cluster_codes(groups, name, "groups")
    w = None
    if weights is not None:
        w = pd.to_numeric(pd.Series(np.asarray(weights, dtype=object)), errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(w) & (w > 0)):
            pos = int(np.flatnonzero(~(np.isfinite(w) & (w > 0)))[0])
            raise OrdinalDataError(f"modell '{name}': vekten i rad {pos} er {weights[pos]!r}; "
                                   "forventet en positiv, endelig vekt")
    spec = ModelSpec(label=name, outcome="y", numeric=[str(c) for c in X.columns], link=link,
                     cluster="cluster" if groups is not None else None,
                     weights="weights" if weights is not None else None, gtol=gtol, maxiter=maxiter)
    counts = pd.DataFrame([{"variabel": "y", "rolle": "utfall", "vet_ikke": 0, "mangler": 0}])
    cols = [str(c) for c in X.columns]
    X.columns = cols
    return Design(model=name, spec=spec, y=y_arr, X=X, groups=gcodes, n_clusters=n_clusters,
                  outcome_codes=list(range(len(labels))), outcome_labels=list(labels), outcome_label="y",
                  terms={c: [c] for c in cols}, term_labels={c: c for c in cols},
                  level_labels={c: c for c in cols}, references={}, counts=counts,
                  n_input=n, n_filtered_out=0, n_used=n, frame=X.copy(), weights=w)
