"""The reproduction ledger: every published figure against the value recomputed from data.

Reads only ``data/processed/`` and ``params/published.yml``: nothing is typed in. The metrics
it evaluates (share, mean, count, rank, group_rank) are tillit.stats.metrics, which the
chapters can use too, so a chapter's figure and the ledger's check are one computation.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from tillit import fmt
from tillit.data.codebook import Codebook, load_codebook
from tillit.config import ConfigError, read_yaml, repo_root
# The metric helpers live in tillit.stats.metrics; the ledger's names stay for its callers.
from tillit.stats.metrics import (_dont_know, apply_filter, count, filtered_column, group_rank, mean,  # noqa: F401
                                  rank, share)

LEDGER_COLUMNS = ["id", "section", "statement", "published", "recomputed", "difference", "ok", "kind",
                  "status", "n"]
SURVEY = "survey_2023"
# Row status, as the appendix shows it.
GOT, MISSED, ASSUMED, HIDDEN = "gjenskapt", "ikke gjenskapt", "antakelse", "skjult"
OUTSIDE = "utenfor dataene"   # published, but from a source the compendium has no data for


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


# --- Evaluating a target ----------------------------------------------------------------------
def _round(x: float, decimals: int) -> float:
    f = 10.0 ** decimals
    return math.floor(x * f + 0.5 + 1e-9) / f


def _resolve_metric(spec: dict, definitions: dict) -> dict:
    if isinstance(spec, str):
        return dict(definitions[spec])
    return dict(spec)


def _is_survey(table: str) -> bool:
    return table.startswith("survey")


def _answered(df: pd.DataFrame, var: str, denominator: str, codebook: Codebook | None,
              filter: dict | None = None) -> int:
    """Rows (that `filter` keeps) behind a share or mean of ``var`` (NA left out; "Vet ikke"
    too for means/answered)."""
    s = filtered_column(df, var, filter).dropna()
    if denominator == "answered":
        dk = _dont_know(var, codebook)
        if dk is not None:
            s = s[s != dk]
    return int(len(s))


def metric_n(tables: Tables, spec: dict, definitions: dict, codebook: Codebook) -> tuple[float, int | None]:
    """(value, respondents behind it) for a compute/metric spec. The count is None for tables
    that are not survey answers (MD-brev goals, registers): the disclosure rule is about people
    answering a survey."""
    spec = _resolve_metric(spec, definitions)
    kind = spec.get("kind")
    if kind == "constant":
        return float(spec["value"]), None
    name = spec.get("table", SURVEY)
    df = tables[name]
    if kind == "count":
        value = float(count(df, spec.get("filter")))
        return value, (int(value) if _is_survey(name) else None)
    if kind not in ("share", "mean"):
        raise ConfigError(f"published.yml: ukjent metrikk '{kind}'")
    if kind == "share":
        denominator = spec.get("denominator", "all")
        value = share(df, spec["var"], spec["codes"], spec.get("filter"), denominator, codebook)
    else:
        denominator = "answered"
        value = mean(df, spec["var"], spec.get("filter"), codebook)
    n = _answered(df, spec["var"], denominator, codebook, spec.get("filter"))
    return value, (n if _is_survey(name) else None)


def metric_value(tables: Tables, spec: dict, definitions: dict, codebook: Codebook) -> float:
    """One number from a compute/metric spec: count, share (percent), mean or constant."""
    return metric_n(tables, spec, definitions, codebook)[0]


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


def _min_n(ns: Iterable[int | None]) -> int | None:
    known = [n for n in ns if n is not None]
    return min(known) if known else None


@dataclass
class Outcome:
    """What one target gives: the recomputed value as shown, its distance from the published
    one, whether it is reproduced, and the respondents behind it (None: not survey answers)."""

    recomputed: str
    difference: str
    ok: bool
    n: int | None


def _wrong_op(target: dict, kind: str) -> ConfigError:
    return ConfigError(f"published.yml: {target['id']}: op '{target['check'].get('op')}' passer ikke til {kind}")


def _eval_metric(target: dict, tables: Tables, definitions: dict, codebook: Codebook) -> Outcome:
    comp, check = target["compute"], target["check"]
    kind, op = comp["kind"], check.get("op")
    x, n = metric_n(tables, comp, definitions, codebook)
    pp = " pp" if kind == "share" else ""
    missing = math.isnan(x)
    if op == "round_eq":
        d, want = int(check.get("decimals", 0)), float(check["value"])
        ok = not missing and math.isclose(_round(x, d), want, abs_tol=1e-9)
        return Outcome(_show(x, kind, d), _signed(_round(x, d) - want, d, pp), ok, n)
    if op == "eq":
        want = float(check["value"])
        return Outcome(_show(x, kind, 0), _signed(x - want, 0, ""), not missing and x == want, n)
    if op == "gt":
        want = float(check["value"])
        return Outcome(_show(x, kind, 1), _signed(x - want, 1, pp) + " over grensen", not missing and x > want, n)
    if op == "round_between":
        d = int(check.get("decimals", 0))
        ok = not missing and float(check["lo"]) <= _round(x, d) <= float(check["hi"])
        return Outcome(_show(x, kind, d), "innenfor" if ok else "utenfor", ok, n)
    raise _wrong_op(target, kind)


def _eval_range(target: dict, tables: Tables, definitions: dict, codebook: Codebook) -> Outcome:
    """One share metric over several variables, checked on every value: the report's
    "15–30 prosent" over the five sides of work, or "i hovedsak" (every value over a bound)."""
    comp, check = target["compute"], target["check"]
    op = check.get("op")
    if op not in ("round_within", "min_gt"):
        raise _wrong_op(target, "range")
    m = _resolve_metric(comp["metric"], definitions)
    results = [metric_n(tables, {**m, "var": v, "filter": comp.get("filter")}, definitions, codebook)
               for v in comp["vars"]]
    d = int(check.get("decimals", 0 if op == "round_within" else 1))
    vals = [_round(x, d) for x, _ in results]
    if op == "round_within":
        lo, hi = float(check["lo"]), float(check["hi"])
        ok = bool(vals) and all(not math.isnan(v) and lo <= v <= hi for v in vals)
        diff = "innenfor" if ok else "utenfor"
    else:
        bound = float(check["value"])
        ok = bool(vals) and all(not math.isnan(v) and v > bound for v in vals)
        diff = _signed(min(vals) - bound, d, " pp") + " over grensen" if vals else fmt.MISSING
    shown = f"{fmt.num(min(vals), d)}–{fmt.num(max(vals), d)}{fmt.NBSP}%" if vals else fmt.MISSING
    return Outcome(shown, diff, ok, _min_n(n for _, n in results))


def _eval_rank(target: dict, tables: Tables, definitions: dict, codebook: Codebook) -> Outcome:
    comp, check = target["compute"], target["check"]
    vars_ = list(codebook.factors) if comp["vars"] == "factors" else list(comp["vars"])
    m = _resolve_metric(comp["metric"], definitions)
    df = tables[comp.get("table", SURVEY)]
    denominator = m.get("denominator", "all")
    r = rank(df, vars_, m["codes"], denominator, comp.get("filter"), codebook)
    sub = apply_filter(df, comp.get("filter"))
    n = min(_answered(sub, v, denominator, codebook) for v in vars_)
    order = list(r.index)
    if check.get("op") == "top_set":
        want = list(check["set"])
        got = order[:len(want)]
        shown = "; ".join(f"{i + 1}. {_label(v, codebook)} ({_show(r[v], 'share')})" for i, v in enumerate(got))
        nxt = order[len(want)] if len(order) > len(want) else None
        diff = (f"avstand til nr. {len(want) + 1}: {_signed(r[got[-1]] - r[nxt], 1, ' pp')}"
                if nxt else fmt.MISSING)
        return Outcome(shown, diff, set(got) == set(want), n)
    if check.get("op") == "position":
        item, pos = check["item"], int(check["position"])
        got_pos = order.index(item) + 1
        return Outcome(f"nr. {got_pos} av {len(order)} ({_show(r[item], 'share')})",
                       _signed(float(got_pos - pos), 0, " plasser"), got_pos == pos, n)
    raise _wrong_op(target, "rank")


def _group_ranking(comp: dict, tables: Tables, definitions: dict, codebook: Codebook):
    """(ranking, how to show a value, smallest group behind it) for a group_rank target."""
    m = _resolve_metric(comp.get("metric", {"kind": "count"}), definitions)
    name = comp.get("table", SURVEY)
    df = tables[name]
    if m.get("kind") == "count":
        r = group_rank(df, comp["by"], filter=comp.get("filter"), codebook=codebook)
        sizes = r
        show = lambda v: fmt.num(v, 0)  # noqa: E731
    else:
        denominator = m.get("denominator", "all")
        r = group_rank(df, comp["by"], comp["var"], m["codes"], denominator, comp.get("filter"), codebook)
        sub = apply_filter(df, comp.get("filter"))
        sizes = pd.Series({g: _answered(sub[sub[comp["by"]].astype("object") == g], comp["var"], denominator,
                                        codebook) for g in r.index})
        show = lambda v: _show(v, "share")  # noqa: E731
    n = int(sizes.min()) if len(sizes) and _is_survey(name) else None
    return r, show, n


def _eval_group_rank(target: dict, tables: Tables, definitions: dict, codebook: Codebook) -> Outcome:
    comp, check = target["compute"], target["check"]
    op = check.get("op")
    r, show, n = _group_ranking(comp, tables, definitions, codebook)
    order = list(r.index)
    if op in ("top_set", "bottom_set"):
        want = list(check["set"])
        got = order[:len(want)] if op == "top_set" else order[-len(want):]
        diff = fmt.MISSING
        if op == "top_set" and len(order) > len(want):
            diff = f"avstand til neste: {_signed(r[got[-1]] - r[order[len(want)]], 1, '')}"
        elif op == "bottom_set" and len(order) > len(want):
            diff = f"avstand til neste: {_signed(r[order[-len(want) - 1]] - r[got[0]], 1, '')}"
        return Outcome("; ".join(f"{_label(v, codebook)} ({show(r[v])})" for v in got), diff,
                       set(got) == set(want), n)
    if op == "order":
        want = list(check["order"])
        got = [v for v in order if v in want]
        ok = got == want and all(r[a] > r[b] for a, b in zip(want, want[1:]))
        return Outcome(" > ".join(f"{_label(v, codebook)} ({show(r[v])})" for v in got),
                       "samme rekkefølge" if ok else "annen rekkefølge", ok, n)
    raise _wrong_op(target, "group_rank")


def _eval_compare(target: dict, tables: Tables, definitions: dict, codebook: Codebook) -> Outcome:
    comp, check = target["compute"], target["check"]
    a_specs = comp["a"] if isinstance(comp["a"], list) else [comp["a"]]
    b_specs = comp["b"] if isinstance(comp["b"], list) else [comp["b"]]
    a = [metric_n(tables, s, definitions, codebook) for s in a_specs]
    b = [metric_n(tables, s, definitions, codebook) for s in b_specs]
    kinds = {_resolve_metric(s, definitions).get("kind") for s in a_specs + b_specs} - {"constant"}
    mk = kinds.pop() if len(kinds) == 1 else "mean"
    dec, unit = (1, " pp") if mk == "share" else (2, " poeng")
    shown = " mot ".join("/".join(_show(v, mk, dec) for v, _ in side) for side in (a, b))
    diffs = [x - y for x, _ in a for y, _ in b]
    valid = all(not math.isnan(d) for d in diffs)
    n = _min_n(k for _, k in a + b)
    op = check.get("op")
    if op == "gt_all":
        ok = valid and all(d > 0 for d in diffs)
        diff = "minste forskjell " + _signed(min(diffs), dec, unit) if valid else fmt.MISSING
    elif op == "abs_diff_le":
        tol = float(check["tol"])
        ok = valid and all(abs(d) <= tol for d in diffs)
        diff = _signed(diffs[0], dec, unit) + f" (grense ±{fmt.num(tol, dec)})" if valid else fmt.MISSING
    elif op == "diff_between":
        lo, hi = float(check["lo"]), float(check["hi"])
        ok = valid and all(lo <= d <= hi for d in diffs)
        diff = _signed(diffs[0], dec, unit) + f" (ønsket {fmt.num(lo, dec)}–{fmt.num(hi, dec)})" if valid else fmt.MISSING
    else:
        raise _wrong_op(target, "compare")
    return Outcome(shown, diff, ok, n)


def _eval_minmax(target: dict, tables: Tables, definitions: dict, codebook: Codebook) -> Outcome:
    comp, check = target["compute"], target["check"]
    if check.get("op") != "range_eq":
        raise _wrong_op(target, "minmax")
    df = apply_filter(tables[comp["table"]], comp.get("filter"))
    s = pd.to_numeric(df[comp["var"]], errors="coerce").dropna()
    lo, hi = (float(s.min()), float(s.max())) if len(s) else (float("nan"), float("nan"))
    ok = lo == float(check["min"]) and hi == float(check["max"])
    diff = "lik" if ok else f"{_signed(lo - float(check['min']), 0, '')} / {_signed(hi - float(check['max']), 0, '')}"
    return Outcome(f"{fmt.num(lo, 0)}–{fmt.num(hi, 0)}", diff, ok, None)


def _eval_per_group(target: dict, tables: Tables, definitions: dict, codebook: Codebook) -> Outcome:
    comp, check = target["compute"], target["check"]
    if check.get("op") != "min_gt":
        raise _wrong_op(target, "per_group")
    df = apply_filter(tables[comp["table"]], comp.get("filter"))
    counts = df.groupby(comp["by"], observed=True).size()
    low = float(counts.min()) if len(counts) else float("nan")
    return Outcome(", ".join(f"{g}: {fmt.num(v, 0)}" for g, v in counts.items()),
                   f"minst {fmt.num(low, 0)}" if not math.isnan(low) else fmt.MISSING,
                   not math.isnan(low) and low > float(check["value"]), None)


EVALUATORS = {"count": _eval_metric, "share": _eval_metric, "mean": _eval_metric, "range": _eval_range,
              "rank": _eval_rank, "group_rank": _eval_group_rank, "compare": _eval_compare,
              "minmax": _eval_minmax, "per_group": _eval_per_group}


def evaluate(target: dict, tables: Tables, definitions: dict, codebook: Codebook) -> dict:
    """One ledger row for one target (see LEDGER_COLUMNS)."""
    kind = target["compute"].get("kind")
    if kind not in EVALUATORS:
        raise ConfigError(f"published.yml: {target['id']}: ukjent compute.kind '{kind}'")
    out = EVALUATORS[kind](target, tables, definitions, codebook)
    return {**{k: target[k] for k in ("id", "section", "statement", "published")},
            "recomputed": out.recomputed, "difference": out.difference, "ok": bool(out.ok), "kind": "mål",
            "status": GOT if out.ok else MISSED, "n": out.n}


def _assumption_rows(spec: dict, tables: Tables, definitions: dict, codebook: Codebook) -> list[dict]:
    """One row per item asked in 2017 and 2023. The 2017 answers are assumptions (not
    published anywhere), so these rows are never ticked as reproduced: status "antakelse"."""
    rows = []
    items = list(codebook.items_2017) if spec.get("items") == "survey_2017" else list(spec.get("items", []))
    m = _resolve_metric(spec["metric"], definitions)
    try:
        old, new = tables["survey_2017"], tables[SURVEY]
    except (FileNotFoundError, KeyError):
        return rows
    denominator = m.get("denominator", "all")
    for item in items:
        a = share(old, item, m["codes"], None, denominator, codebook)
        b = share(new, item, m["codes"], None, denominator, codebook)
        rows.append({
            "id": f"{spec['id']}_{item}", "section": spec["section"],
            "statement": f"{spec['statement']}: {_label(item, codebook)}",
            "published": spec.get("published", "antakelse"),
            "recomputed": f"2017: {_show(a, 'share')} – 2023: {_show(b, 'share')}",
            "difference": _signed(b - a, 1, " pp"), "ok": False, "kind": ASSUMED, "status": ASSUMED,
            "n": min(_answered(old, item, denominator, codebook), _answered(new, item, denominator, codebook)),
        })
    return rows


def _gate_rows(rows: list[dict], gate, table_id: str) -> None:
    """Pass the ledger through the disclosure gate: a row resting on fewer than min_cell
    respondents is shown as suppressed (its value, distance and verdict hidden), and so is
    one whose "Vet ikke" count is below min_cell (the rule for every group published: a
    share printed with two decimals is as good as its count, and beside the other answers
    published elsewhere it would give the small "Vet ikke" count back)."""
    survey_rows = {r["id"]: r["n"] for r in rows if r["n"] is not None}
    if not survey_rows:
        return
    frame = pd.DataFrame({"n": pd.Series(survey_rows, dtype="float64")})
    gated = gate.means(table_id, frame)
    hidden = set(gated.suppressed.index[gated.suppressed["n"].to_numpy()])
    for r in rows:
        sides = r.pop("_sides", None) or []
        if r["id"] in survey_rows and r["id"] not in hidden and _hidden_by_rules(sides, gate):
            # Shown as "skjult" in the ledger itself, and not added to the disclosure log: the
            # appendix reads that log, and a row of its own there would change its input
            # after every run (the pipeline seeds the appendix with the log; see
            # tillit.build.pipeline.logs), so a rebuild would never be a no-op.
            hidden.add(r["id"])
        if r["id"] in hidden:
            r["status"] = HIDDEN


def _hidden_by_rules(sides: list[tuple], gate) -> str | None:
    """Why a ledger entry the n rule lets through is hidden all the same: a "Vet ikke" count
    below min_cell, or a group whose size would pin the few respondents outside it
    (tillit.stats.outside, with the cell sizes the gate was given)."""
    if any(dk is not None and dk < gate.min_cell for _src, _n, dk in sides):
        return "«Vet ikke» < min_cell"
    if sides and gate._outside([[src] for src, _n, _dk in sides], [n for _src, n, _dk in sides]).any():
        return "komplementær"
    return None


def _metrics(spec: dict, definitions: dict) -> list[dict]:
    """The share and mean metrics a compute spec prints (a comparison: both sides)."""
    if not isinstance(spec, (dict, str)):
        return []
    if isinstance(spec, dict) and spec.get("kind") == "compare":
        return [*_metrics(spec.get("a"), definitions), *_metrics(spec.get("b"), definitions)]
    try:
        spec = _resolve_metric(spec, definitions)
    except (ConfigError, KeyError):
        return []
    return [spec] if spec.get("kind") in ("share", "mean") and "var" in spec else []


def metric_sides(target: dict, tables: Tables, definitions: dict, codebook: Codebook) -> list[tuple]:
    """(source, n, "Vet ikke" count) of each survey share or mean a target prints: what the
    gate's rules need (the source as tillit.stats.tables.Source; the count None when the
    question has no "Vet ikke")."""
    from tillit.stats.tables import Source

    out = []
    for spec in _metrics(target.get("compute"), definitions):
        name = spec.get("table", SURVEY)
        if not _is_survey(name):
            continue
        df = apply_filter(tables[name], spec.get("filter"))
        if spec["var"] not in df.columns:
            continue
        dk = _dont_know(spec["var"], codebook)
        denominator = spec.get("denominator", "all") if spec["kind"] == "share" else "answered"
        group = tuple(sorted((dim, str(v)) for dim, vals in (spec.get("filter") or {}).items()
                             for v in (vals if isinstance(vals, (list, tuple)) else [vals])))
        src = Source(spec["kind"], spec["var"], group, None, name if name.startswith("survey_") else None,
                     tuple(spec.get("codes") or ()), denominator)
        out.append((src, _answered(df, spec["var"], denominator, codebook),
                    None if dk is None else int((df[spec["var"]] == dk).sum())))
    return out


def compute_ledger(processed_dir: Path | str | dict[str, pd.DataFrame],
                   published: dict | Path | str | None = None,
                   codebook: Codebook | None = None, gate=None, table_id: str = "regnskap") -> pd.DataFrame:
    """Published vs recomputed, one row per target (then the 2017 assumptions and the
    published numbers from sources without data).

    Columns: id, section, statement, published (as printed), recomputed (Norwegian display
    string), difference, ok (bool: reproduced), kind ("mål" or "antakelse"), status
    ("gjenskapt", "ikke gjenskapt", "antakelse", "utenfor dataene" or, after the gate,
    "skjult") and n (survey
    respondents behind the figure; None for documents and registers). ``processed_dir`` may also
    be a dict of processed tables (name -> frame), as :func:`tillit.data.synth.generate_clean`
    returns. With ``gate`` (a :class:`tillit.stats.disclosure.Gate`) rows resting on fewer than
    ``min_cell`` respondents get status "skjult"; :func:`published_view` then hides their values.
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
            if gate is not None:
                rows[-1]["_sides"] = metric_sides(t, tables, definitions, codebook)
        except (FileNotFoundError, KeyError) as exc:
            # A missing table or column is a missed target, not a crash: the ledger says why.
            rows.append({**{k: t[k] for k in ("id", "section", "statement", "published")},
                         "recomputed": f"mangler data ({exc})", "difference": fmt.MISSING,
                         "ok": False, "kind": "mål", "status": MISSED, "n": None})
    for spec in published.get("assumptions", []):
        rows += _assumption_rows(spec, tables, definitions, codebook)
    for spec in published.get("not_reproducible", []):
        rows.append({**{k: spec[k] for k in ("id", "section", "statement", "published")},
                     "recomputed": fmt.MISSING, "difference": spec["reason"], "ok": False,
                     "kind": OUTSIDE, "status": OUTSIDE, "n": None})
    if gate is not None:
        _gate_rows(rows, gate, table_id)
    df = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
    df["ok"] = df["ok"].astype(bool)
    df["n"] = df["n"].astype("Int64")
    return df


def published_view(df: pd.DataFrame, mark: str = "–*") -> pd.DataFrame:
    """The ledger as it may be published: no respondent counts, and for suppressed rows
    neither value, distance nor verdict (a verdict on a small group is itself a disclosure)."""
    out = df.drop(columns=["n"]).copy()
    hidden = out["status"] == HIDDEN
    out.loc[hidden, ["recomputed", "difference"]] = mark
    out["ok"] = out["ok"].astype(object)
    out.loc[hidden | (out["kind"] != "mål"), "ok"] = None
    return out


def check_ledger(df: pd.DataFrame, mode: str = "error") -> pd.DataFrame:
    """Raise :class:`LedgerError` (mode "error") or warn (mode "warn") when a target is missed.

    Returns the missed rows (empty when every target is reproduced). Assumptions are never
    targets. A missed target that the gate hid is named without its value.
    """
    if mode not in ("error", "warn"):
        raise ValueError(f"mode må være 'error' eller 'warn' (fikk {mode!r})")
    targets = df[df["kind"] == "mål"]
    missed = targets[~targets["ok"].astype(bool)]
    if missed.empty:
        return missed
    lines = [f"{len(missed)} av {len(targets)} publiserte tall er ikke gjenskapt:"]
    for r in missed.itertuples(index=False):
        if getattr(r, "status", None) == HIDDEN:
            lines.append(f"  - {r.id} (kap. {r.section}): publisert {r.published}; beregnet verdi vises ikke "
                         f"(færre svar enn min_cell) – {r.statement}")
        else:
            lines.append(f"  - {r.id} (kap. {r.section}): publisert {r.published}, beregnet {r.recomputed}"
                         f" [{r.difference}] – {r.statement}")
    message = "\n".join(lines)
    if mode == "error":
        raise LedgerError(message + "\n(Med ekte data: sett targets: warn i params/default.yml for å bare varsle.)")
    warnings.warn(message, stacklevel=2)
    return missed
