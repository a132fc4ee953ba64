"""Data preparation: raw export → validated, cleaned, coded tables in ``data/processed/``.

Read (:mod:`tillit.data.readers`) → map (``params/mapping.yml``) → validate (:mod:`tillit.data.schemas`) →
clean by the documented rules below → validate again → write, all or nothing.

Exclusion rules for the 2023 survey, applied in this order (docs/synthetic.md):

1. Test responses (``Testsvar`` = "Ja") are removed.
2. Partial completes (``Status`` = "Delvis") are removed, also when the same respondent
   completed another submission.
3. Duplicate submissions: per ``RespondentID`` the LAST complete submission (by ``Innsendt``,
   then by row in the file) is kept, whether the earlier ones are identical (step 3) or
   conflicting (step 4). The flow counts the two kinds apart; with the parameter
   ``strict_duplicates: true``, ``schemas.check_duplicates`` refuses conflicting duplicates instead.
5. Unit types spelled in other ways are recoded to the codebook key via its aliases (not an
   exclusion; the flow counts the rows recoded). 6. The same for roles.
7. Answers to questions not asked of the respondent's role (or unit type) are set to NA
   (the flow counts the cells).

Processed tables are built in a temporary folder beside ``processed_dir`` and swapped in at
the end, so a failure leaves the previous processed data intact.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tillit.config import RunParams
from tillit.data import readers as tio
from tillit.data import schemas, source
from tillit.data.codebook import Codebook, load_codebook, map_distinct, norm_key
from tillit.data.schemas import DataError
from tillit.data.source import MARKER, sha256  # noqa: F401 (re-exported)

FLOW_FILE = "exclusion_flow.parquet"
SOURCE_FILE = "data_source.json"

@dataclass
class PrepareResult:
    """What :func:`prepare` wrote."""

    processed_dir: Path
    n_respondents: int
    exclusion_flow: pd.DataFrame
    data_source: dict
    tables: dict[str, Path] = field(default_factory=dict)


# --- Helpers ----------------------------------------------------------------------------------
def _yes(series: pd.Series, word: str = "Ja") -> pd.Series:
    target = norm_key(word)
    return series.map(lambda v: not pd.isna(v) and norm_key(v) == target).astype(bool)


def _file_row(df: pd.DataFrame, idx) -> int | None:
    return schemas.file_row(df, idx)


def _codes(series: pd.Series, table: dict[str, int], path: Path, df: pd.DataFrame, column: str,
           expected: str) -> pd.Series:
    """Labels → nullable Int8 codes; an unknown label raises DataError with row and value."""
    keys = map_distinct(series, norm_key)
    codes = keys.map(lambda k: table.get(k) if k is not None else None)
    bad = keys.notna() & codes.isna()
    if bad.any():
        idx = bad[bad].index[0]
        raise DataError(path, "ukjent svaralternativ", row=_file_row(df, idx), column=column,
                        value=series.loc[idx], expected=expected, n_issues=int(bad.sum()), frame=df)
    return pd.array(codes.astype("float64").to_numpy(), dtype="Int8") if len(codes) else pd.array([], dtype="Int8")


def _lookup(series: pd.Series, table: dict[str, str], path: Path, df: pd.DataFrame, column: str,
            expected: str) -> pd.Series:
    keys = series.map(lambda v: None if pd.isna(v) else table.get(norm_key(v)))
    bad = series.notna() & keys.isna()
    if bad.any():
        idx = bad[bad].index[0]
        raise DataError(path, "ukjent verdi", row=_file_row(df, idx), column=column,
                        value=series.loc[idx], expected=expected, n_issues=int(bad.sum()), frame=df)
    return keys


# --- Survey -------------------------------------------------------------------------------------
def _survey_frame(df: pd.DataFrame, path: Path, cb: Codebook, items: list[str]) -> tuple[pd.DataFrame, dict]:
    """Raw text frame → processed columns (no rows removed). Returns (frame, recode counts)."""
    admin = cb.admin
    out = pd.DataFrame(index=df.index)
    out["respondent_id"] = df[admin["respondent_id"].raw].astype("object").map(
        lambda v: v if pd.isna(v) else str(v).strip())
    ts_col = admin["submitted_at"].raw
    if ts_col in df.columns:
        fmt = admin["submitted_at"].extra.get("format", "%Y-%m-%d %H:%M:%S")
        out["submitted_at"] = pd.to_datetime(df[ts_col], format=fmt, errors="raise").astype("datetime64[ns]")
    recoded = {"unit_type": 0, "role": 0}
    role_col = admin["role"].raw
    if role_col in df.columns:
        roles = _lookup(df[role_col], cb.role_aliases, path, df, role_col,
                        "en rolle i kodeboken: " + ", ".join(cb.roles.values()))
        recoded["role"] = int((df[role_col].notna() & (df[role_col].astype("object") != roles.map(
            lambda k: cb.roles.get(k) if isinstance(k, str) else None))).sum())
        out["role"] = pd.Categorical(roles, categories=list(cb.roles))
    ut_col = admin["unit_type"].raw
    if ut_col in df.columns:
        units = _lookup(df[ut_col], cb.unit_alias_map(), path, df, ut_col,
                        "en enhetstype i kodeboken: " + ", ".join(u.label for u in cb.unit_types.values()))
        canonical = units.map(lambda k: cb.unit_types[k].label if isinstance(k, str) else None)
        recoded["unit_type"] = int((df[ut_col].notna() & (df[ut_col].astype("object") != canonical)).sum())
        out["unit_type"] = pd.Categorical(units, categories=list(cb.unit_types))
        out["line"] = pd.Categorical(units.map(lambda k: cb.unit_types[k].line if isinstance(k, str) else None),
                                     categories=list(cb.lines))
    un_col = admin["unit_number"].raw
    if un_col in df.columns:
        out["unit_number"] = df[un_col].astype("object").map(lambda v: v if pd.isna(v) else str(v).strip())
    for name in items:
        var = cb.items[name]
        scale = cb.scales[var.scale]
        labels = ", ".join(f"'{v}'" for v in scale.code_to_label().values())
        out[name] = _codes(df[var.raw], scale.label_to_code(), path, df, var.raw, f"en av {labels} eller tomt")
    return out, recoded


def _not_asked_to_na(out: pd.DataFrame, cb: Codebook, items: list[str]) -> int:
    cells = 0
    for name in items:
        var = cb.items[name]
        if "role" not in out.columns:
            break
        asked = out["role"].astype("object").isin(var.asked_of)
        if var.unit_types and "unit_type" in out.columns:
            asked &= out["unit_type"].astype("object").isin(var.unit_types)
        leak = ~asked.to_numpy() & out[name].notna().to_numpy()
        cells += int(leak.sum())
        if leak.any():
            out.loc[leak, name] = pd.NA
    return cells


def clean_survey(df: pd.DataFrame, path: Path, cb: Codebook) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the exclusion rules to a validated 2023 export. Returns (clean frame, exclusion flow)."""
    admin = cb.admin
    items = list(cb.items)
    flow: list[dict] = []

    def step(no: int, rule: str, removed: int, remaining: int, changed: int = 0) -> None:
        flow.append({"step": no, "rule": rule, "removed": int(removed), "remaining": int(remaining),
                     "changed": int(changed)})

    step(0, "Besvarelser i eksporten fra undersøkelsesverktøyet", 0, len(df))
    test = _yes(df[admin["test_response"].raw], admin["test_response"].extra.get("values", ["Ja"])[0])
    df = df[~test.to_numpy()]
    step(1, "Testsvar fjernes (Testsvar = Ja)", int(test.sum()), len(df))
    complete_label = admin["status"].extra.get("values", ["Fullført"])[0]
    complete = _yes(df[admin["status"].raw], complete_label)
    df = df[complete.to_numpy()]
    step(2, "Ufullstendige besvarelser fjernes (Status = Delvis)", int((~complete).sum()), len(df))

    out, recoded = _survey_frame(df, path, cb, items)
    # Duplicates: keep the last complete submission per respondent (time, then file row).
    out["_row"] = np.arange(len(out))
    order = out.sort_values(["submitted_at", "_row"], kind="stable") if "submitted_at" in out else out
    last = ~order["respondent_id"].duplicated(keep="last")
    kept = order[last.to_numpy()]
    dropped = order[~last.to_numpy()]
    answer_cols = [c for c in ["role", "unit_type", "unit_number", *items] if c in out.columns]
    identical = 0
    if len(dropped):
        ref = kept.set_index("respondent_id").loc[dropped["respondent_id"], answer_cols]
        a = dropped[answer_cols].astype("object").where(dropped[answer_cols].notna(), None).to_numpy()
        b = ref.astype("object").where(ref.notna(), None).to_numpy()
        identical = int((a == b).all(axis=1).sum())
    conflicting = len(dropped) - identical
    step(3, "Identiske dubletter: samme RespondentID og like svar – siste fullførte beholdes",
         identical, len(out) - identical)
    step(4, "Motstridende dubletter: samme RespondentID, ulike svar – siste fullførte beholdes",
         conflicting, len(kept))
    out = kept.sort_values("_row", kind="stable").drop(columns="_row")
    step(5, "Enhetstype skrevet på annen måte rettes til kodebokens enhetstype (ingen fjernes)", 0, len(out),
         changed=_count_recoded(df, out, admin["unit_type"].raw, cb, "unit"))
    step(6, "Rolle skrevet på annen måte rettes til kodebokens rolle (ingen fjernes)", 0, len(out),
         changed=_count_recoded(df, out, admin["role"].raw, cb, "role"))
    cells = _not_asked_to_na(out, cb, items)
    step(7, "Svar på spørsmål rollen ikke fikk settes til manglende (ingen fjernes; antall celler)", 0, len(out),
         changed=cells)
    out = out.reset_index(drop=True)
    flow_df = pd.DataFrame(flow)
    flow_df = flow_df.astype({"step": "int64", "removed": "int64", "remaining": "int64", "changed": "int64"})
    return out, flow_df


def _count_recoded(raw: pd.DataFrame, kept: pd.DataFrame, column: str, cb: Codebook, what: str) -> int:
    """Rows among those kept whose spelling differs from the codebook label."""
    original = raw.loc[kept.index, column].astype("object")
    if what == "unit":
        canon = kept["unit_type"].astype("object").map(lambda k: cb.unit_types[k].label if isinstance(k, str) else None)
    else:
        canon = kept["role"].astype("object").map(lambda k: cb.roles.get(k) if isinstance(k, str) else None)
    return int((original.notna() & (original != canon.to_numpy())).sum())


def survey_2017_frame(df: pd.DataFrame, path: Path, cb: Codebook) -> pd.DataFrame:
    """The 2017 items, coded like 2023 (the 2017 file carries no test/partial rows)."""
    items = list(cb.items_2017)
    out, _ = _survey_frame(df, path, cb, items)
    admin = cb.admin
    if admin["test_response"].raw in df.columns:
        out = out[~_yes(df[admin["test_response"].raw]).to_numpy()]
    if admin["status"].raw in df.columns:
        out = out[_yes(df.loc[out.index, admin["status"].raw], admin["status"].extra["values"][0]).to_numpy()]
    _not_asked_to_na(out, cb, items)
    return out.reset_index(drop=True)


# --- MD-brev and registers ------------------------------------------------------------------
def md_brev_frame(df: pd.DataFrame, path: Path, cb: Codebook) -> pd.DataFrame:
    cols = cb.md_letters["columns"]
    senders: dict[str, str] = {}
    for key, spec in cb.md_letters["senders"].items():
        aliases = [key, spec["label"], spec["short"], *spec.get("aliases", [])]
        senders.update({norm_key(a): key for a in aliases})
    missing = [c["raw"] for c in cols.values() if c["raw"] not in df.columns]
    if missing:
        raise DataError(path, f"kolonnen '{missing[0]}' mangler", row=df.attrs.get("header_row", 1),
                        column=missing[0], expected="overskriftene " + ", ".join(c["raw"] for c in cols.values()),
                        frame=df)
    out = pd.DataFrame(index=df.index)
    out["goal_id"] = df[cols["goal_id"]["raw"]].astype("object")
    out["sender"] = pd.Categorical(_lookup(df[cols["sender"]["raw"]], senders, path, df, cols["sender"]["raw"],
                                           "ATA, YA eller ØSA"), categories=list(cb.md_letters["senders"]))
    steering = _lookup(df[cols["steering"]["raw"]], {"ja": "Ja", "nei": "Nei"}, path, df,
                       cols["steering"]["raw"], "Ja eller Nei")
    out["steering"] = (steering == "Ja").astype(bool)
    for name in ("source", "result_chain", "concreteness", "focus"):
        values = cols[name]["values"]
        table = {norm_key(v): k for k, v in values.items()} | {norm_key(k): k for k in values}
        raw = cols[name]["raw"]
        keys = _lookup(df[raw], table, path, df, raw, "en av " + ", ".join(f"'{v}'" for v in values.values()))
        out[name] = pd.Categorical(keys, categories=list(values))
    return out.reset_index(drop=True)


def register_frame(name: str, df: pd.DataFrame, path: Path | str, cb: Codebook | None = None) -> pd.DataFrame:
    """One register (raw text) → processed columns, typed by the codebook's `registers` section
    (bools for Ja/Nei, ints for years/minutes, categories by their labels)."""
    cb = cb or load_codebook()
    spec = cb.registers[name]["columns"]
    headers = [c["raw"] for c in spec.values()]
    missing = [h for h in headers if h not in df.columns]
    if missing:
        raise DataError(path, f"kolonnen '{missing[0]}' mangler", row=df.attrs.get("header_row", 1),
                        column=missing[0], expected="overskriftene " + ", ".join(headers), frame=df)
    out = pd.DataFrame(index=df.index)
    for col, c in spec.items():
        raw, kind = c["raw"], c["type"]
        s = df[raw]
        if kind == "bool":
            out[col] = _lookup(s, {"ja": True, "nei": False}, Path(path), df, raw, "Ja eller Nei").astype(bool)
        elif kind == "int":
            out[col] = _integers(s, Path(path), df, raw)
        elif kind == "category":
            values = c["values"]
            out[col] = _lookup(s, {norm_key(label): key for key, label in values.items()}, Path(path), df, raw,
                               " eller ".join(values.values()))
        else:
            out[col] = s.astype("object")
    return out.reset_index(drop=True)


def _integers(s: pd.Series, path: Path, df: pd.DataFrame, column: str) -> pd.Series:
    """A register column of whole numbers; '41,5' (read as 41.5), text or '1e3' is one clear error."""
    num = pd.to_numeric(s, errors="coerce")
    whole = num.notna() & (num == num.round()) & s.astype("object").map(
        lambda v: pd.isna(v) or str(v).strip().lstrip("+-").replace(".", "", 1).isdigit()).astype(bool)
    bad = s.notna() & ~whole
    if bad.any():
        idx = bad[bad].index[0]
        decimal = pd.notna(num.loc[idx])
        raise DataError(path, "ikke et heltall" + (" (tallet har desimaler)" if decimal else ""),
                        row=_file_row(df, idx), column=column, value=s.loc[idx], n_issues=int(bad.sum()),
                        expected="et helt tall uten desimaler eller tekst", frame=df,
                        hint="rett verdien i kildefilen (registerets heltallskolonner står i params/codebook.yml)")
    return pd.array(num.round(), dtype="Int64")


# --- Writing ----------------------------------------------------------------------------------
def _swap_in(tmp: Path, target: Path) -> None:
    """Replace ``target`` by ``tmp`` (both directories on one filesystem)."""
    backup = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, backup)
    try:
        os.replace(tmp, target)
    except BaseException:
        if backup.exists():
            os.replace(backup, target)
        raise
    if backup.exists():
        shutil.rmtree(backup, ignore_errors=True)


def prepare(raw_dir: Path | str, processed_dir: Path | str, codebook: Codebook | None = None,
            mapping_path: Path | str | None = None, *, params: RunParams | None = None) -> PrepareResult:
    """Read, validate, clean and write every table from ``raw_dir`` into ``processed_dir``.

    Writes ``survey_2023.parquet`` (and ``survey_2017``, ``md_brev_2022``, ``registers/*`` when
    their raw files exist), ``exclusion_flow.parquet`` (step, rule, removed, remaining,
    changed) and ``data_source.json`` (kind synthetic/real, seed, sha256 per raw file). All or
    nothing: built in a temporary folder and swapped in.

    The kind comes from :func:`tillit.data.source.raw_state`: synthetic only when every file is
    one the twin's marker vouches for; a leftover marker beside a real export is ignored; the
    twin's files beside a real export are refused. ``params`` (the notebook's
    :class:`~tillit.config.RunParams`; defaults when None): ``strict_duplicates`` refuses
    conflicting duplicate submissions (:func:`tillit.data.schemas.check_duplicates`) instead of
    keeping the last; ``min_cell`` is held to the floor for the kind
    (:func:`tillit.data.source.check_min_cell`).
    """
    raw_dir, processed_dir = Path(raw_dir), Path(processed_dir)
    params = params or RunParams()
    state = source.raw_state(raw_dir)
    kind = state.data_kind  # raises for a mixed folder
    source.check_min_cell(params.effective_min_cell, kind)
    cb = codebook or load_codebook()
    frames, flow = _read_all(raw_dir, cb, tio.load_mapping(mapping_path, cb), params.strict_duplicates)
    meta = state.marker if kind == "synthetic" else {}
    info = {
        "kind": kind,
        "seed": meta.get("seed"),
        "generator_version": meta.get("generator_version"),
        "n_respondents": int(len(frames["survey_2023"])),
        "files": {p.name: sha256(p) for p in sorted(raw_dir.iterdir())
                  if p.is_file() and not p.name.startswith(".")},
    }
    if state.leftover_marker:
        info["note"] = f"{MARKER} ligger igjen ved siden av en ekte eksport og er ikke brukt"
    written = _write(processed_dir, frames, flow, info)
    return PrepareResult(processed_dir, int(len(frames["survey_2023"])), flow, info, written)


def _read_all(raw_dir: Path, cb: Codebook, mapping: dict,
              strict_duplicates: bool) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Every table of ``raw_dir``, validated and cleaned (nothing written), and the exclusion flow."""
    frames: dict[str, pd.DataFrame] = {}
    path = tio.find_export(raw_dir, "survey_2023")
    raw = tio.read_export(path, mapping, cb)
    schemas.validate_raw_survey(raw, path, cb, 2023)
    if strict_duplicates:
        schemas.check_duplicates(raw, path, cb)
    survey, flow = clean_survey(raw, path, cb)
    frames["survey_2023"] = schemas.validate_processed_survey(survey, cb, 2023)
    p17 = tio.find_optional(raw_dir, "survey_2017")
    if p17 is not None:
        raw17 = tio.read_export(p17, mapping, cb)
        schemas.validate_raw_survey(raw17, p17, cb, 2017)
        frames["survey_2017"] = schemas.validate_processed_survey(survey_2017_frame(raw17, p17, cb), cb, 2017)
    pmd = tio.find_optional(raw_dir, "md_brev_2022")
    if pmd is not None:
        frames["md_brev_2022"] = md_brev_frame(tio.read_export(pmd, mapping, cb), pmd, cb)
    for name, spec in cb.registers.items():
        preg = tio.find_optional(raw_dir, Path(spec["file"]).stem)
        if preg is not None:
            frames[f"registers/{name}"] = register_frame(name, tio.read_export(preg, {}, cb), preg, cb)
    return frames, flow


def _write(processed_dir: Path, frames: dict[str, pd.DataFrame], flow: pd.DataFrame, info: dict) -> dict[str, Path]:
    """All tables into a temporary folder beside ``processed_dir``, then swapped in."""
    processed_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{processed_dir.name}.tmp-", dir=processed_dir.parent))
    # mkdtemp makes the folder private (0700); processed data get an ordinary folder mode.
    os.chmod(tmp, 0o755)
    try:
        written: dict[str, Path] = {}
        for name, frame in frames.items():
            target = tmp / f"{name}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            frame.to_parquet(target, index=False)
            written[name] = processed_dir / f"{name}.parquet"
        flow.to_parquet(tmp / FLOW_FILE, index=False)
        written["exclusion_flow"] = processed_dir / FLOW_FILE
        (tmp / SOURCE_FILE).write_text(json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                       encoding="utf-8")
        written["data_source"] = processed_dir / SOURCE_FILE
        _swap_in(tmp, processed_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return written
