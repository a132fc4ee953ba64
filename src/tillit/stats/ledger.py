"""The reproduction ledger: every published figure against the value recomputed from data.

Reads only ``data/processed/`` and ``params/published.yml``: nothing is typed in. The small
metric helpers (:func:`share`, :func:`mean`, :func:`count`, :func:`rank`, :func:`group_rank`)
are general and meant for the chapters too, so a chapter's figure and the ledger's check are
one computation.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Iterable

import pandas as pd

from tillit import fmt
from tillit.data.codebook import Codebook, load_codebook
from tillit.config import ConfigError, read_yaml, repo_root

LEDGER_COLUMNS = ["id", "section", "statement", "published", "recomputed", "difference", "ok", "kind"]
SURVEY = "survey_2023"


class LedgerError(AssertionError):
    """One or more published targets are not reproduced; the message lists them."""


# --- Loading ----------------------------------------------------------------------------------
def load_published(path: Path | str | None = None) -> dict:
    path = Path(path) if path else repo_root() / "params" / "published.yml"
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
        raise ConfigError(f"{path}: forventet en liste under 'targets'")
    need = ["id", "section", "statement", "published", "compute", "check"]
    for i, t in enumerate(data["targets"]):
        missing = [k for k in need if k not in t]
        if missing:
            raise ConfigError(f"{path}: mål nr. {i + 1} ({t.get('id', '?')}) mangler {missing}")
    return data


class Tables:
    """Processed tables read on demand: ``survey_2023``, ``md_brev_2022``, ``registers/<name>``."""

    def __init__(self, processed_dir: Path | str | dict[str, pd.DataFrame]):
        if isinstance(processed_dir, dict):
            self.dir, self._cache = None, dict(processed_dir)
        else:
            self.dir, self._cache = Path(processed_dir), {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            if self.dir is None:
                raise KeyError(f"tabellen '{name}' finnes ikke")
            path = self.dir / f"{name}.parquet"
            if not path.is_file():
                raise FileNotFoundError(f"{path}: klargjort tabell mangler (kjør klargjøringen først)")
            self._cache[name] = pd.read_parquet(path)
        return self._cache[name]


# --- General metric helpers (for chapters as well) --------------------------------------------
def apply_filter(df: pd.DataFrame, filter: dict | None = None) -> pd.DataFrame:
    """Rows where every ``column`` is one of its listed values (categoricals compared as keys)."""
    if not filter:
        return df
    mask = pd.Series(True, index=df.index)
    for col, values in filter.items():
        if col not in df.columns:
            raise KeyError(f"filteret viser til ukjent kolonne '{col}' (har: {', '.join(map(str, df.columns))})")
        values = list(values) if isinstance(values, (list, tuple, set)) else [values]
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            mask &= s.isin([bool(v) for v in values]).fillna(False).astype(bool)
        elif isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s) or s.dtype == object:
            mask &= s.astype("object").isin([str(v) for v in values]).fillna(False).astype(bool)
        else:
            mask &= s.isin(values).fillna(False).astype(bool)
    return df[mask.to_numpy()]


def _dont_know(var: str, codebook: Codebook | None) -> int | None:
    codebook = codebook or load_codebook()
    if var in codebook.items:
        return codebook.scale_of(var).dont_know_code
    return None


def share(df: pd.DataFrame, var: str, codes: Iterable, filter: dict | None = None,
          denominator: str = "all", codebook: Codebook | None = None) -> float:
    """Percent of rows (after ``filter``) with ``var`` in ``codes``.

    NA (not asked / not answered) is never counted. ``denominator="all"`` keeps "Vet ikke" in
    the denominator, ``"answered"`` leaves it out. Returns NaN when the denominator is 0.
    """
    if denominator not in ("all", "answered"):
        raise ValueError(f"denominator må være 'all' eller 'answered' (fikk {denominator!r})")
    sub = apply_filter(df, filter)
    s = sub[var].dropna()
    if denominator == "answered":
        dk = _dont_know(var, codebook)
        if dk is not None:
            s = s[s != dk]
    if len(s) == 0:
        return float("nan")
    codes = list(codes)
    vals = s.astype("object") if not pd.api.types.is_numeric_dtype(s) else s
    if not pd.api.types.is_numeric_dtype(s):
        codes = [str(c) for c in codes]
    return 100.0 * float(vals.isin(codes).sum()) / len(s)


def mean(df: pd.DataFrame, var: str, filter: dict | None = None, codebook: Codebook | None = None) -> float:
    """Mean code (1..5) among those who answered ("Vet ikke" and NA left out)."""
    sub = apply_filter(df, filter)
    s = sub[var].dropna()
    dk = _dont_know(var, codebook)
    if dk is not None:
        s = s[s != dk]
    return float(s.astype("float64").mean()) if len(s) else float("nan")


def count(df: pd.DataFrame, filter: dict | None = None) -> int:
    return int(len(apply_filter(df, filter)))


def rank(df: pd.DataFrame, vars: list[str], codes: Iterable, denominator: str = "all",
         filter: dict | None = None, codebook: Codebook | None = None) -> pd.Series:
    """``vars`` ordered by their share in ``codes`` (highest first), as a Series of percents."""
    values = {v: share(df, v, codes, filter, denominator, codebook) for v in vars}
    return pd.Series(values, dtype="float64").sort_values(ascending=False, kind="stable")


def group_rank(df: pd.DataFrame, by: str, var: str | None = None, codes: Iterable | None = None,
               denominator: str = "all", filter: dict | None = None,
               codebook: Codebook | None = None) -> pd.Series:
    """Groups of ``by`` ordered by their share in ``codes`` of ``var`` (or by row count)."""
    sub = apply_filter(df, filter)
    out = {}
    groups = sub[by].cat.categories if isinstance(sub[by].dtype, pd.CategoricalDtype) else sorted(sub[by].dropna().unique())
    for g in groups:
        part = sub[sub[by].astype("object") == g]
        if len(part) == 0:
            continue
        out[str(g)] = float(len(part)) if var is None else share(part, var, codes, None, denominator, codebook)
    return pd.Series(out, dtype="float64").sort_values(ascending=False, kind="stable")


# --- Evaluating a target ----------------------------------------------------------------------
def _round(x: float, decimals: int) -> float:
    f = 10.0 ** decimals
    return math.floor(x * f + 0.5 + 1e-9) / f


def _resolve_metric(spec: dict, definitions: dict) -> dict:
    if isinstance(spec, str):
        return dict(definitions[spec])
    return dict(spec)


def metric_value(tables: Tables, spec: dict, definitions: dict, codebook: Codebook) -> float:
    """One number from a compute/metric spec: count, share (percent), mean or constant."""
    spec = _resolve_metric(spec, definitions)
    kind = spec.get("kind")
    if kind == "constant":
        return float(spec["value"])
    df = tables[spec.get("table", SURVEY)]
    if kind == "count":
        return float(count(df, spec.get("filter")))
    if kind == "share":
        return share(df, spec["var"], spec["codes"], spec.get("filter"), spec.get("denominator", "all"), codebook)
    if kind == "mean":
        return mean(df, spec["var"], spec.get("filter"), codebook)
    raise ConfigError(f"published.yml: ukjent metrikk '{kind}'")


def _label(key: str, codebook: Codebook) -> str:
    if key in codebook.items:
        return codebook.items[key].label
    if key in codebook.unit_types:
        return codebook.unit_types[key].label
    for col in codebook.md_letters.get("columns", {}).values():
        values = col.get("values")
        if isinstance(values, dict) and key in values:
            return values[key]
    return key


def _show(x: float, kind: str, decimals: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return fmt.MISSING
    if kind == "share":
        return f"{fmt.num(_round(x, decimals), decimals)}{fmt.NBSP}%"
    if kind == "count" or kind == "constant":
        return fmt.num(x, 0)
    return fmt.num(_round(x, decimals), decimals)


def _signed(x: float, decimals: int, unit: str) -> str:
    if x is None or math.isnan(x):
        return fmt.MISSING
    r = _round(abs(x), decimals) * (1 if x >= 0 else -1)
    sign = "+" if r > 0 else ("−" if r < 0 else "±")
    return f"{sign}{fmt.num(abs(r), decimals)}{unit}"


def evaluate(target: dict, tables: Tables, definitions: dict, codebook: Codebook) -> dict:
    """One ledger row for one target."""
    comp, check = target["compute"], target["check"]
    kind, op = comp.get("kind"), check.get("op")
    row = {k: target[k] for k in ("id", "section", "statement", "published")}
    row["kind"] = "mål"
    recomputed, difference, ok = fmt.MISSING, fmt.MISSING, False

    if kind in ("count", "share", "mean"):
        x = metric_value(tables, comp, definitions, codebook)
        pp = " pp" if kind == "share" else ""
        if op == "round_eq":
            d = int(check.get("decimals", 0))
            recomputed = _show(x, kind, d)
            ok = not math.isnan(x) and math.isclose(_round(x, d), float(check["value"]), abs_tol=1e-9)
            difference = _signed(_round(x, d) - float(check["value"]), d, pp)
        elif op == "eq":
            recomputed = _show(x, kind, 0)
            ok = not math.isnan(x) and x == float(check["value"])
            difference = _signed(x - float(check["value"]), 0, "")
        elif op == "gt":
            recomputed = _show(x, kind, 1)
            ok = not math.isnan(x) and x > float(check["value"])
            difference = _signed(x - float(check["value"]), 1, pp) + " over grensen"
        elif op == "round_between":
            d = int(check.get("decimals", 0))
            recomputed = _show(x, kind, d)
            r = _round(x, d)
            ok = not math.isnan(x) and float(check["lo"]) <= r <= float(check["hi"])
            difference = "innenfor" if ok else "utenfor"
        else:
            raise ConfigError(f"published.yml: {target['id']}: op '{op}' passer ikke til {kind}")

    elif kind == "rank":
        vars_ = list(codebook.factors) if comp["vars"] == "factors" else list(comp["vars"])
        m = _resolve_metric(comp["metric"], definitions)
        r = rank(tables[comp.get("table", SURVEY)], vars_, m["codes"], m.get("denominator", "all"),
                 comp.get("filter"), codebook)
        order = list(r.index)
        if op == "top_set":
            want = list(check["set"])
            got = order[:len(want)]
            ok = set(got) == set(want)
            recomputed = "; ".join(f"{i + 1}. {_label(v, codebook)} ({_show(r[v], 'share')})" for i, v in enumerate(got))
            nxt = order[len(want)] if len(order) > len(want) else None
            difference = (f"avstand til nr. {len(want) + 1}: {_signed(r[got[-1]] - r[nxt], 1, ' pp')}"
                          if nxt else fmt.MISSING)
        elif op == "position":
            item, pos = check["item"], int(check["position"])
            got_pos = order.index(item) + 1
            ok = got_pos == pos
            recomputed = f"nr. {got_pos} av {len(order)} ({_show(r[item], 'share')})"
            difference = _signed(float(got_pos - pos), 0, " plasser")
        else:
            raise ConfigError(f"published.yml: {target['id']}: op '{op}' passer ikke til rank")

    elif kind == "group_rank":
        m = _resolve_metric(comp.get("metric", {"kind": "count"}), definitions)
        df = tables[comp.get("table", SURVEY)]
        if m.get("kind") == "count":
            r = group_rank(df, comp["by"], filter=comp.get("filter"), codebook=codebook)
            show = lambda v: fmt.num(v, 0)  # noqa: E731
        else:
            r = group_rank(df, comp["by"], comp["var"], m["codes"], m.get("denominator", "all"),
                           comp.get("filter"), codebook)
            show = lambda v: _show(v, "share")  # noqa: E731
        order = list(r.index)
        if op in ("top_set", "bottom_set"):
            want = list(check["set"])
            got = order[:len(want)] if op == "top_set" else order[-len(want):]
            ok = set(got) == set(want)
            recomputed = "; ".join(f"{_label(v, codebook)} ({show(r[v])})" for v in got)
            if op == "top_set" and len(order) > len(want):
                difference = f"avstand til neste: {_signed(r[got[-1]] - r[order[len(want)]], 1, '')}"
            elif op == "bottom_set" and len(order) > len(want):
                difference = f"avstand til neste: {_signed(r[order[-len(want) - 1]] - r[got[0]], 1, '')}"
        elif op == "order":
            want = list(check["order"])
            got = [v for v in order if v in want]
            ok = got == want and all(r[a] > r[b] for a, b in zip(want, want[1:]))
            recomputed = " > ".join(f"{_label(v, codebook)} ({show(r[v])})" for v in got)
            difference = "samme rekkefølge" if ok else "annen rekkefølge"
        else:
            raise ConfigError(f"published.yml: {target['id']}: op '{op}' passer ikke til group_rank")

    elif kind == "compare":
        a_specs = comp["a"] if isinstance(comp["a"], list) else [comp["a"]]
        b_specs = comp["b"] if isinstance(comp["b"], list) else [comp["b"]]
        a_vals = [metric_value(tables, s, definitions, codebook) for s in a_specs]
        b_vals = [metric_value(tables, s, definitions, codebook) for s in b_specs]
        kinds = {_resolve_metric(s, definitions).get("kind") for s in a_specs + b_specs} - {"constant"}
        mk = kinds.pop() if len(kinds) == 1 else "mean"
        dec = 1 if mk == "share" else 2
        unit = " pp" if mk == "share" else " poeng"
        recomputed = " mot ".join([
            "/".join(_show(v, mk, dec) for v in a_vals),
            "/".join(_show(v, mk, dec) for v in b_vals)])
        diffs = [a - b for a in a_vals for b in b_vals]
        valid = all(not math.isnan(d) for d in diffs)
        if op == "gt_all":
            ok = valid and all(d > 0 for d in diffs)
            difference = "minste forskjell " + _signed(min(diffs), dec, unit) if valid else fmt.MISSING
        elif op == "abs_diff_le":
            tol = float(check["tol"])
            ok = valid and all(abs(d) <= tol for d in diffs)
            difference = _signed(diffs[0], dec, unit) + f" (grense ±{fmt.num(tol, dec)})" if valid else fmt.MISSING
        elif op == "diff_between":
            lo, hi = float(check["lo"]), float(check["hi"])
            ok = valid and all(lo <= d <= hi for d in diffs)
            difference = _signed(diffs[0], dec, unit) + f" (ønsket {fmt.num(lo, dec)}–{fmt.num(hi, dec)})" if valid else fmt.MISSING
        else:
            raise ConfigError(f"published.yml: {target['id']}: op '{op}' passer ikke til compare")

    elif kind == "minmax":
        df = apply_filter(tables[comp["table"]], comp.get("filter"))
        s = pd.to_numeric(df[comp["var"]], errors="coerce").dropna()
        lo, hi = (float(s.min()), float(s.max())) if len(s) else (float("nan"), float("nan"))
        recomputed = f"{fmt.num(lo, 0)}–{fmt.num(hi, 0)}"
        ok = op == "range_eq" and lo == float(check["min"]) and hi == float(check["max"])
        difference = "lik" if ok else f"{_signed(lo - float(check['min']), 0, '')} / {_signed(hi - float(check['max']), 0, '')}"

    elif kind == "per_group":
        df = apply_filter(tables[comp["table"]], comp.get("filter"))
        counts = df.groupby(comp["by"], observed=True).size()
        low = float(counts.min()) if len(counts) else float("nan")
        recomputed = ", ".join(f"{g}: {fmt.num(v, 0)}" for g, v in counts.items())
        ok = op == "min_gt" and not math.isnan(low) and low > float(check["value"])
        difference = f"minst {fmt.num(low, 0)}" if not math.isnan(low) else fmt.MISSING

    else:
        raise ConfigError(f"published.yml: {target['id']}: ukjent compute.kind '{kind}'")

    row.update(recomputed=recomputed, difference=difference, ok=bool(ok))
    return row


def _assumption_rows(spec: dict, tables: Tables, definitions: dict, codebook: Codebook) -> list[dict]:
    rows = []
    items = list(codebook.items_2017) if spec.get("items") == "survey_2017" else list(spec.get("items", []))
    m = _resolve_metric(spec["metric"], definitions)
    try:
        old, new = tables["survey_2017"], tables[SURVEY]
    except (FileNotFoundError, KeyError):
        return rows
    for item in items:
        a = share(old, item, m["codes"], None, m.get("denominator", "all"), codebook)
        b = share(new, item, m["codes"], None, m.get("denominator", "all"), codebook)
        rows.append({
            "id": f"{spec['id']}_{item}", "section": spec["section"],
            "statement": f"{spec['statement']}: {_label(item, codebook)}",
            "published": spec.get("published", "antakelse"),
            "recomputed": f"2017: {_show(a, 'share')} – 2023: {_show(b, 'share')}",
            "difference": _signed(b - a, 1, " pp"), "ok": True, "kind": "antakelse",
        })
    return rows


def compute_ledger(processed_dir: Path | str | dict[str, pd.DataFrame],
                   published: dict | Path | str | None = None,
                   codebook: Codebook | None = None) -> pd.DataFrame:
    """Published vs recomputed, one row per target (then the 2017 assumptions).

    Columns: id, section, statement, published (as printed), recomputed (Norwegian display
    string), difference, ok (bool), kind ("mål" or "antakelse"). ``processed_dir`` may also be a
    dict of processed tables (name -> frame), as :func:`tillit.data.synth.generate_clean` returns.
    """
    if not isinstance(published, dict):
        published = load_published(published)
    codebook = codebook or load_codebook()
    tables = Tables(processed_dir)
    definitions = published.get("definitions", {})
    rows = []
    for t in published["targets"]:
        try:
            rows.append(evaluate(t, tables, definitions, codebook))
        except (FileNotFoundError, KeyError) as exc:
            # A missing table or column is a missed target, not a crash: the ledger says why.
            rows.append({**{k: t[k] for k in ("id", "section", "statement", "published")},
                         "recomputed": f"mangler data ({exc})", "difference": fmt.MISSING,
                         "ok": False, "kind": "mål"})
    for spec in published.get("assumptions", []):
        rows += _assumption_rows(spec, tables, definitions, codebook)
    df = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
    df["ok"] = df["ok"].astype(bool)
    return df


def check_ledger(df: pd.DataFrame, mode: str = "error") -> pd.DataFrame:
    """Raise :class:`LedgerError` (mode "error") or warn (mode "warn") when a target is missed.

    Returns the missed rows (empty when every target is reproduced).
    """
    if mode not in ("error", "warn"):
        raise ValueError(f"mode må være 'error' eller 'warn' (fikk {mode!r})")
    missed = df[~df["ok"].astype(bool)]
    if missed.empty:
        return missed
    lines = [f"{len(missed)} av {int((df['kind'] == 'mål').sum())} publiserte tall er ikke gjenskapt:"]
    for r in missed.itertuples(index=False):
        lines.append(f"  - {r.id} (kap. {r.section}): publisert {r.published}, beregnet {r.recomputed}"
                     f" [{r.difference}] – {r.statement}")
    message = "\n".join(lines)
    if mode == "error":
        raise LedgerError(message + "\n(Med ekte data: sett targets: warn i params/default.yml for å bare varsle.)")
    warnings.warn(message, stacklevel=2)
    return missed
