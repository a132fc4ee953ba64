"""The twin's answers as the survey tool (and the coders of MD-brev and the registers) export them.

The clean realisation from :mod:`tillit.data.synth.latent` gets the mess a real export has:
test responses, partial completes, duplicates, alias spellings and free text.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tillit.data.codebook import Codebook
from tillit.data.synth.calibrate import largest_remainder
from tillit.data.synth.latent import _Twin
from tillit.config import ConfigError


# --- Raw rendering --------------------------------------------------------------------------
def _label_lookup(codebook: Codebook, name: str) -> np.ndarray:
    scale = codebook.scale_of(name)
    table = np.full(16, "", dtype=object)
    for code, label in scale.code_to_label().items():
        table[code] = label
    return table


def _alias_variants(aliases: list[str], rng: np.random.Generator, n: int, noise_share: float) -> np.ndarray:
    out = np.array(aliases, dtype=object)[rng.integers(0, len(aliases), size=n)]
    noisy = rng.random(n) < noise_share
    for i in np.flatnonzero(noisy):
        s = out[i]
        out[i] = [s.upper(), s.lower(), f" {s} ", s.replace("-", " ")][int(rng.integers(0, 4))]
    return out


class _Mess:
    """Adds the mess of a real export to the clean 2023 answers, block by block.

    A block is a dict of equal-length arrays (one entry per submission); the first block holds
    every respondent's final complete submission, the others are the extra submissions.
    """

    def __init__(self, twin: _Twin, clean: pd.DataFrame):
        self.twin, self.cb, self.rng = twin, twin.cb, twin.rng["mess"]
        self.mess = twin.model["mess"]
        self.n = len(clean)
        self.scale_n = self.n / int(twin.model["n_respondents"])
        self.item_names = list(self.cb.items)
        codes = {name: clean[name].to_numpy(dtype="float64", na_value=np.nan) for name in self.item_names}
        n = self.n
        base = {
            "respondent_id": clean["respondent_id"].to_numpy(dtype=object),
            "submitted_at": clean["submitted_at"].to_numpy(dtype="datetime64[s]"),
            "status": np.full(n, "Fullført", dtype=object),
            "test_response": np.full(n, "Nei", dtype=object),
            "role": clean["role"].to_numpy(dtype=object),
            "unit_type": clean["unit_type"].to_numpy(dtype=object),
            "unit_number": clean["unit_number"].to_numpy(dtype=object),
        }
        answers = np.column_stack([np.nan_to_num(codes[nm], nan=0).astype(np.int64) for nm in self.item_names]) \
            if self.item_names else np.zeros((n, 0), dtype=np.int64)
        self.blocks = [dict(base, answers=answers)]

    def count(self, key: str) -> int:
        return int(round(float(self.mess.get(key, 0)) * self.scale_n))

    def take(self, rows: np.ndarray) -> dict:
        return {k: v[rows].copy() for k, v in self.blocks[0].items()}

    def redraw(self, block: dict, share: float) -> None:
        a, rng = block["answers"], self.rng
        for j, nm in enumerate(self.item_names):
            top = self.cb.scale_of(nm).codes[-1]
            hit = (rng.random(a.shape[0]) < share) & (a[:, j] > 0)
            a[hit, j] = rng.integers(1, top + 1, size=int(hit.sum()))

    def truncate(self, blk: dict) -> None:
        a = blk["answers"]
        stop = self.rng.integers(0, max(a.shape[1], 1), size=a.shape[0])
        cols = np.arange(a.shape[1])
        a[cols[None, :] >= stop[:, None]] = 0
        blk["status"][:] = "Delvis"

    def routing_leaks(self) -> None:
        """Answers to questions not asked of the role (prepare sets them to NA)."""
        cb, rng, answers = self.cb, self.rng, self.blocks[0]["answers"]
        leaks = min(self.count("not_asked_leaks"), self.n)
        if not leaks:
            return
        not_leader = np.flatnonzero(self.blocks[0]["role"] == "medarbeider")
        leak_rows = rng.choice(not_leader, size=min(leaks, not_leader.size), replace=False)
        leak_cols = [i for i, nm in enumerate(self.item_names) if "medarbeider" not in cb.items[nm].asked_of]
        for r in leak_rows:
            col = leak_cols[int(rng.integers(0, len(leak_cols)))]
            answers[r, col] = int(rng.integers(1, cb.scale_of(self.item_names[col]).codes[-1] + 1))

    def repeats(self) -> None:
        """Earlier complete submissions by the same respondent (identical or conflicting), and
        partial completes by respondents who also completed (half before, half after)."""
        rng, base = self.rng, self.blocks[0]
        start = np.datetime64(self.twin.model["period"]["start"], "s")
        eligible = np.flatnonzero(base["submitted_at"] >= start + np.timedelta64(3, "D"))
        k_id, k_conf, k_pc = (self.count("duplicates_identical"), self.count("duplicates_conflicting"),
                              self.count("partial_of_complete"))
        pick = rng.choice(eligible, size=min(eligible.size, k_id + k_conf + k_pc), replace=False)
        ident, conf, pc = pick[:k_id], pick[k_id:k_id + k_conf], pick[k_id + k_conf:]
        for rows, conflicting in ((ident, False), (conf, True)):
            if rows.size == 0:
                continue
            blk = self.take(rows)
            blk["submitted_at"] = blk["submitted_at"] - rng.integers(
                3600, 48 * 3600, size=rows.size).astype("timedelta64[s]")
            if conflicting:
                a = blk["answers"].copy()
                blk["answers"] = a
                self.redraw(blk, 0.25)
                same = (blk["answers"] == base["answers"][rows]).all(axis=1)
                for r in np.flatnonzero(same):  # guarantee a real conflict
                    j = int(np.flatnonzero(a[r] > 0)[0])
                    a[r, j] = 1 if a[r, j] != 1 else 2
            self.blocks.append(blk)
        if pc.size:
            blk = self.take(pc)
            self.truncate(blk)
            offset = rng.integers(600, 24 * 3600, size=pc.size).astype("timedelta64[s]")
            sign = np.where(np.arange(pc.size) % 2 == 0, -1, 1)
            blk["submitted_at"] = blk["submitted_at"] + sign * offset
            self.blocks.append(blk)

    def newcomers(self) -> None:
        """Partial completes by respondents who never completed, and test responses."""
        twin, rng, n = self.twin, self.rng, self.n
        k_partial, k_test = self.count("partial_unique"), self.count("test_responses")
        new_ids = twin.ids(n + k_partial + k_test, twin.rng["raw"])
        taken = set(self.blocks[0]["respondent_id"].tolist())
        new_ids = np.array([i for i in new_ids if i not in taken][: k_partial + k_test], dtype=object)
        for k, kind in ((k_partial, "partial"), (k_test, "test")):
            if k == 0:
                continue
            donors = rng.choice(n, size=k, replace=True)
            blk = self.take(donors)
            blk["respondent_id"] = new_ids[:k]
            new_ids = new_ids[k:]
            blk["submitted_at"] = twin.timestamps(k, twin.model["period"], rng)
            self.redraw(blk, 0.5)
            if kind == "partial":
                self.truncate(blk)
            else:
                blk["test_response"][:] = "Ja"
            self.blocks.append(blk)

    def labelled(self) -> pd.DataFrame:
        """Every submission with the export's headers and labels (roles and units sometimes
        spelled by an alias), free text, in the export's row order."""
        cb, rng, mess = self.cb, self.rng, self.mess
        allb = {k: np.concatenate([b[k] for b in self.blocks]) for k in self.blocks[0]}
        m = allb["respondent_id"].size
        admin = cb.admin
        out: dict[str, Any] = {admin["respondent_id"].raw: allb["respondent_id"]}
        out[admin["submitted_at"].raw] = pd.to_datetime(allb["submitted_at"]).strftime(
            admin["submitted_at"].extra.get("format", "%Y-%m-%d %H:%M:%S")).to_numpy(dtype=object)
        out[admin["status"].raw] = allb["status"]
        out[admin["test_response"].raw] = allb["test_response"]
        role_labels = np.array([cb.roles[r] for r in allb["role"]], dtype=object)
        role_alias = rng.random(m) < float(mess.get("role_alias_share", 0.0))
        spec_roles = cb.raw["roles"]
        for i in np.flatnonzero(role_alias):
            aliases = spec_roles[allb["role"][i]].get("aliases", [])
            if aliases:
                role_labels[i] = aliases[int(rng.integers(0, len(aliases)))]
        out[admin["role"].raw] = role_labels
        unit_labels = np.array([cb.unit_types[u].label for u in allb["unit_type"]], dtype=object)
        alias_rows = np.flatnonzero(rng.random(m) < float(mess.get("unit_alias_share", 0.0)))
        noise = float(mess.get("unit_case_noise_share", 0.0))
        for key in self.twin.unit_types:
            rows = alias_rows[allb["unit_type"][alias_rows] == key]
            if rows.size:
                unit_labels[rows] = _alias_variants(list(cb.unit_types[key].aliases), rng, rows.size, noise)
        out[admin["unit_type"].raw] = unit_labels
        out[admin["unit_number"].raw] = allb["unit_number"]
        for j, nm in enumerate(self.item_names):
            out[cb.items[nm].raw] = _label_lookup(cb, nm)[allb["answers"][:, j]]
        out[admin["free_text"].raw] = self.free_text(allb["test_response"])
        df = pd.DataFrame(out)
        order = np.lexsort((df[admin["respondent_id"].raw].to_numpy(dtype=str),
                            df[admin["submitted_at"].raw].to_numpy(dtype=str)))
        return df.iloc[order].reset_index(drop=True)

    def free_text(self, test_response: np.ndarray) -> np.ndarray:
        comments = self.twin.model.get("free_text_comments", [])
        free = np.full(test_response.size, "", dtype=object)
        if comments:
            has = self.rng.random(test_response.size) < float(self.mess.get("free_text_share", 0.0))
            free[has] = np.array(comments, dtype=object)[self.rng.integers(0, len(comments), size=int(has.sum()))]
        free[test_response == "Ja"] = "Test – ikke tell med"
        return free


def _render_survey_raw(twin: _Twin, clean: pd.DataFrame) -> pd.DataFrame:
    """The clean 2023 data as the survey tool would export them, with the mess added."""
    mess = _Mess(twin, clean)
    mess.routing_leaks()
    mess.repeats()
    mess.newcomers()
    return mess.labelled()


def _render_2017_raw(twin: _Twin, clean: pd.DataFrame) -> pd.DataFrame:
    cb = twin.cb
    admin = cb.admin
    out: dict[str, Any] = {
        admin["respondent_id"].raw: clean["respondent_id"].to_numpy(dtype=object),
        admin["submitted_at"].raw: clean["submitted_at"].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object),
        admin["role"].raw: np.array([cb.roles[r] for r in clean["role"].astype(str)], dtype=object),
        admin["unit_type"].raw: np.array([cb.unit_types[u].label for u in clean["unit_type"].astype(str)], dtype=object),
    }
    for nm in cb.items_2017:
        codes = clean[nm].to_numpy(dtype="float64", na_value=np.nan)
        out[cb.items[nm].raw] = _label_lookup(cb, nm)[np.nan_to_num(codes, nan=0).astype(np.int64)]
    df = pd.DataFrame(out)
    return df.sort_values([admin["submitted_at"].raw, admin["respondent_id"].raw], kind="stable").reset_index(drop=True)


# --- MD-brev and registers -------------------------------------------------------------------
def _md_brev(twin: _Twin) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clean processed-like frame, raw frame) of the MD-brev 2022 coding."""
    cb, rng, spec = twin.cb, twin.rng["md"], twin.model["md_brev"]
    cols = cb.md_letters["columns"]
    rows = []
    for sender in cb.md_letters["senders"]:
        s = spec[sender]
        n_st, n_non = int(s["steering"]), int(s["non_steering"])
        total = n_st + n_non
        steering = np.array([True] * n_st + [False] * n_non)
        # Result chain and concreteness: exact counts for steering goals, shares for the rest.
        rc_keys = list(cols["result_chain"]["values"])
        cc_keys = list(cols["concreteness"]["values"])
        rc = np.concatenate([
            np.repeat(rc_keys, [int(s["result_chain"][k]) for k in rc_keys]),
            np.repeat(rc_keys, largest_remainder([spec["non_steering_result_chain"][k] for k in rc_keys], n_non))])
        cc = np.concatenate([
            np.repeat(cc_keys, [int(s["concreteness"][k]) for k in cc_keys]),
            np.repeat(cc_keys, largest_remainder([spec["non_steering_concreteness"][k] for k in cc_keys], n_non))])
        if rc.size != total or cc.size != total:
            raise ConfigError(f"synthetic.yml: md_brev.{sender}: fordelingene summerer ikke til {n_st} styrende")
        rc[:n_st] = rc[:n_st][rng.permutation(n_st)]
        rc[n_st:] = rc[n_st:][rng.permutation(n_non)]
        # Focus: internal share within each (steering, concreteness) cell.
        focus = np.empty(total, dtype=object)
        for st in (True, False):
            for key in cc_keys:
                idx = np.flatnonzero((steering == st) & (cc == key))
                k_int = int(round(float(s["internal_share"]) * idx.size))
                lab = np.array(["intern"] * k_int + ["ekstern"] * (idx.size - k_int), dtype=object)
                focus[idx] = lab[rng.permutation(idx.size)]
        # Source: exactly `new` "ny"; the rest split tildelingsbrev / overliggende.
        n_new = int(s["new"])
        old = total - n_new
        k_tb = int(round(float(spec["tildelingsbrev_share_of_old"]) * old))
        source = np.array(["ny"] * n_new + ["tildelingsbrev"] * k_tb + ["overliggende"] * (old - k_tb), dtype=object)
        source = source[rng.permutation(total)]
        for i in range(total):
            rows.append((sender, bool(steering[i]), source[i], rc[i], cc[i], focus[i]))
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    rows.sort(key=lambda r: list(cb.md_letters["senders"]).index(r[0]))
    df = pd.DataFrame(rows, columns=["sender", "steering", "source", "result_chain", "concreteness", "focus"])
    df.insert(0, "goal_id", [f"{s}-{k:03d}" for s, k in zip(df["sender"], df.groupby("sender").cumcount() + 1)])
    clean = df.copy()
    for col in ("source", "result_chain", "concreteness", "focus"):
        clean[col] = pd.Categorical(clean[col], categories=list(cols[col]["values"]))
    clean["sender"] = pd.Categorical(clean["sender"], categories=list(cb.md_letters["senders"]))
    raw = pd.DataFrame({
        cols["goal_id"]["raw"]: df["goal_id"],
        cols["sender"]["raw"]: df["sender"].map(lambda s: sender_label(cb, s)),
        cols["steering"]["raw"]: np.where(df["steering"], "Ja", "Nei"),
        cols["source"]["raw"]: df["source"].map(cols["source"]["values"]),
        cols["result_chain"]["raw"]: df["result_chain"].map(cols["result_chain"]["values"]),
        cols["concreteness"]["raw"]: df["concreteness"].map(cols["concreteness"]["values"]),
        cols["focus"]["raw"]: df["focus"].map(cols["focus"]["values"]),
    })
    return clean, raw


def sender_label(codebook: Codebook, key: str) -> str:
    """The abbreviation NAV writes (ATA, YA, ØSA), as the coded export spells the sender."""
    return codebook.md_letters["senders"][key]["short"]


def _registers(twin: _Twin) -> dict[str, pd.DataFrame]:
    """Raw register tables (the codebook's raw headers, Norwegian labels), keyed by register name."""
    cb, rng, spec = twin.cb, twin.rng["registers"], twin.model["registers"]
    out: dict[str, pd.DataFrame] = {}
    m = spec["municipalities"]
    nums = np.sort(rng.choice(np.arange(301, 5700), size=int(m["asked"]), replace=False))
    sent = np.array(["Ja"] * int(m["sent"]) + ["Nei"] * (int(m["asked"]) - int(m["sent"])), dtype=object)
    out["municipalities"] = pd.DataFrame({"municipality_number": [f"{v:04d}" for v in nums], "asked": "Ja",
                                          "sent": sent[rng.permutation(sent.size)]})
    iv = spec["interviews"]
    depth, steer = int(iv["depth"]), int(iv["steering_units"])
    lo, hi = int(iv["min_minutes"]), int(iv["max_minutes"])
    minutes = rng.integers(lo, hi + 1, size=depth)
    if depth >= 2:
        minutes[:2] = [lo, hi]
        minutes = minutes[rng.permutation(depth)]
    roles = np.array(["Medarbeider", "Tillitsvalgt/verneombud", "Leder"], dtype=object)[rng.integers(0, 3, size=depth)]
    steer_minutes = rng.integers(45, 91, size=steer)
    kinds = cb.registers["interviews"]["columns"]["kind"]["values"]
    out["interviews"] = pd.DataFrame({
        "interview_id": [f"I{i + 1:03d}" for i in range(depth + steer)],
        "kind": [kinds["dybde"]] * depth + [kinds["styringsenhet"]] * steer,
        "role": list(roles) + ["Ansatt på styringsenhet"] * steer,
        "duration_min": [str(v) for v in np.concatenate([minutes, steer_minutes])],
    })
    cp = spec["conversation_packages"]
    used, sent_n = int(cp["units_used"]), int(cp["sent_challenges"])
    units = rng.choice(twin.units[0].size, size=min(used, twin.units[0].size), replace=False)
    flags = np.array(["Ja"] * sent_n + ["Nei"] * (units.size - sent_n), dtype=object)
    out["conversation_packages"] = pd.DataFrame({
        "unit_number": twin.units[0][units],
        "unit_type": [cb.unit_types[twin.unit_types[t]].label for t in twin.units[1][units]],
        "sent_challenges": flags[rng.permutation(flags.size)],
    }).sort_values("unit_number", kind="stable").reset_index(drop=True)
    k = int(spec["experience_base"]["projects"])
    line_labels = list(cb.lines.values())
    lines_eb = np.array(line_labels, dtype=object)[rng.choice(len(line_labels), size=k, p=[0.85, 0.08, 0.02, 0.05])]
    out["experience_base"] = pd.DataFrame({"project_id": [f"E{i + 1:03d}" for i in range(k)], "line": lines_eb,
                                           "year": [str(v) for v in rng.integers(2019, 2024, size=k)]})
    rows = []
    for year, count in spec["grants"]["per_year"].items():
        rows += [(f"T{year}-{i + 1:03d}", str(year)) for i in range(int(count))]
    out["grants"] = pd.DataFrame(rows, columns=["initiative_id", "year"])
    g = int(spec["gathering"]["participants"])
    g_roles = np.array(["Medarbeider", "Leder", "Tillitsvalgt", "Verneombud", "Brukerrepresentant"], dtype=object)
    out["gathering"] = pd.DataFrame({
        "participant_id": [f"D{i + 1:03d}" for i in range(g)],
        "line": np.array(line_labels, dtype=object)[rng.choice(len(line_labels), size=g, p=[0.55, 0.25, 0.1, 0.1])],
        "role": g_roles[rng.choice(5, size=g, p=[0.45, 0.25, 0.12, 0.08, 0.10])],
    })
    # Built with processed names; the export carries the codebook's raw headers.
    return {name: frame.rename(columns={col: c["raw"] for col, c in cb.registers[name]["columns"].items()})
            for name, frame in out.items()}
