"""The AutoIF report (the experiment's `report` hook): filter quality of steps 3, 5, 7 and 8 against the sim
teacher's ground truth (table sim_truth, joined on each row's llm_key), how the quality would change with other
thresholds, and plots/filter_quality.png. On a run without simulated rows it reports only the counts it can.

For each filter: `bad_removed` = share of bad items it removed, `good_kept` = share of good items it kept, where
  step 3 cross_validate (verifiers): good = the verifier the teacher meant as correct;
  step 3 cross_validate (constraints): good = a constraint the sim's space knows how to check;
  step 5 nli (constraints): good = checkable, and every verifier that survived step 3 is correct;
  step 5b probes (constraints): the same good, among the aligned constraints;
  step 7 verify (responses): good = the response really follows its constraint;
  step 8 score (responses): good = an on-topic answer (not a generic, poor one).
`exported` is the precision of the exported rows (share truly compliant) and the share of truly compliant
responses they keep, overall and on the constraints of each kind of sim error (constraint_kinds): independent
slips only, a shared misreading, a generic check for an uncheckable line; and the share of right DPO pairs.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from sims.autoif import constraint_space

Item = tuple[bool, bool]  # (good, kept)


def quality(items: list[Item]) -> dict:
    good = [kept for is_good, kept in items if is_good]
    bad = [kept for is_good, kept in items if not is_good]
    return {"n_good": len(good), "n_bad": len(bad),
            "good_kept": round(sum(good) / len(good), 4) if good else None,
            "bad_removed": round(sum(not k for k in bad) / len(bad), 4) if bad else None}


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    # information_schema, not duckdb_tables(): a stage reused from the stage store is a view
    return bool(con.execute(f"select 1 from information_schema.tables where table_name = '{table}' "
                            "and table_catalog = current_database()").fetchall())


def _truths(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    if not _has(con, "sim_truth"):
        return {}
    rows = con.execute("select key, any_value(truth) from sim_truth group by key").fetchall()
    return {key: json.loads(truth) for key, truth in rows}


def _all(con: duckdb.DuckDBPyConnection, stage: str, columns: str) -> list[tuple]:
    """Kept and rejected rows of a stage, each with a kept flag last."""
    sql = f"select {columns}, true from {stage}"
    if _has(con, f"{stage}__rejected"):
        sql += f" union all select {columns}, false from {stage}__rejected"
    return con.execute(sql).fetchall()


def verifier_quality(con, truths) -> tuple[list[Item], dict[str, bool]]:
    """Per verifier that parsed: good when the teacher meant it to be correct; kept when it survived."""
    kept_ids = {r[0] for r in con.execute("select id from verifiers_kept").fetchall()}
    items, correct = [], {}
    for verifier_id, key in con.execute("select id, llm_key from verifier_accuracy").fetchall():
        truth = truths.get(key)
        if truth is None:
            continue
        correct[verifier_id] = truth.get("kind") == "correct"
        items.append((correct[verifier_id], verifier_id in kept_ids))
    return items, correct


def constraint_kinds(con, truths) -> dict[str, str]:
    """constraint id -> the sim's correlated error on it: "shared_misreading" (most samples of its verifiers and
    their cases share one wrong reading), "generic" (uncheckable, given a check any real answer passes) or
    "independent" (only independent slips)."""
    kinds: dict[str, str] = {}
    for constraint_id, key, _ in _all(con, "verifier_samples", "constraint_id, llm_key"):
        truth = truths.get(key) or {}
        if truth.get("shared_misreading"):
            kinds[constraint_id] = "shared_misreading"
        elif truth.get("kind") == "generic":
            kinds[constraint_id] = "generic"
        else:
            kinds.setdefault(constraint_id, "independent")
    return kinds


def exported_quality(con, truths, kinds: dict[str, str]) -> dict:
    """Precision of the exported SFT rows (share that truly follow their constraint) and how many truly compliant
    responses they keep, overall and per kind of constraint; DPO pairs whose chosen response is truly compliant
    and whose rejected one is not."""
    generated = [(cid, truths.get(key, {}).get("compliant")) for cid, key in
                 con.execute("select constraint_id, llm_key from responses").fetchall()]
    exported = [(cid, truths.get(key, {}).get("compliant")) for cid, key in
                con.execute("select constraint_id, llm_key from responses_scored").fetchall()]

    def figures(keep) -> dict:
        mine = [ok for cid, ok in exported if keep(cid) and ok is not None]
        compliant = sum(bool(ok) for cid, ok in generated if keep(cid) and ok is not None)
        return {"n_exported": len(mine), "precision": round(sum(mine) / len(mine), 4) if mine else None,
                "compliant_exported": sum(mine),
                "compliant_kept": round(sum(mine) / compliant, 4) if compliant else None}

    out = {"all": figures(lambda cid: True)}
    for kind in ("independent", "shared_misreading", "generic"):
        out[kind] = figures(lambda cid, kind=kind: kinds.get(cid) == kind)
    compliant_of = {rid: truths.get(key, {}).get("compliant") for rid, key in
                    con.execute("select response_id, llm_key from response_checks").fetchall()}
    pairs = con.execute("select json_extract_string(lineage, '$.response_id'), json_extract_string(lineage, "
                        "'$.rejected_response_id') from exports where kind = 'dpo'").fetchall()
    right = [bool(compliant_of.get(c)) and compliant_of.get(r) is False for c, r in pairs]
    out["dpo"] = {"n_pairs": len(right), "right": round(sum(right) / len(right), 4) if right else None}
    return out


def report(con: duckdb.DuckDBPyConnection, run_dir: Path) -> dict:
    truths = _truths(con)
    if not truths:
        return {"filter_quality": None, "filter_quality_note": "no sim_truth rows in this run: not a sim run, or "
                "its model stages were reused from the stage store, which does not carry their ground truth"}
    checkable = {cid: constraint_space.parse_constraint(text) is not None
                 for cid, text in con.execute("select id, text from constraints").fetchall()}
    verified = {r[0] for r in con.execute("select id from constraints_verified").fetchall()}
    aligned = {r[0] for r in con.execute("select id from constraints_aligned").fetchall()}
    verifier_items, correct = verifier_quality(con, truths)
    survivors: dict[str, list[bool]] = {}
    for verifier_id, constraint_id in con.execute("select id, constraint_id from verifiers_kept").fetchall():
        survivors.setdefault(constraint_id, []).append(correct.get(verifier_id, False))

    kept_verified = {r[0] for r in con.execute("select id from responses_verified").fetchall()}
    check_rows = con.execute("select id, llm_key, pass_rate from response_checks").fetchall()
    compliant = {key: truths.get(key, {}).get("compliant") for _, key, _ in check_rows}
    verify_items = [(bool(compliant[key]), cid in kept_verified) for cid, key, _ in check_rows
                    if compliant[key] is not None]

    scored = _all(con, "responses_scored", "llm_key, score")
    good_answer = {key: truths.get(key, {}).get("quality") == "good" for key, _, _ in scored}
    score_items = [(good_answer[key], kept) for key, _, kept in scored]

    kinds = constraint_kinds(con, truths)
    probed = {r[0] for r in con.execute("select id from constraints_probed").fetchall()}
    # good: checkable, and every surviving verifier correct (a misread one is not)
    sound = {c: checkable[c] and all(survivors.get(c, [False])) for c in verified}
    filter_quality = {
        "cross_validate_verifiers": quality(verifier_items),
        "cross_validate_constraints": quality([(checkable[c], c in verified) for c in checkable]),
        "nli": quality([(sound[c], c in aligned) for c in verified]),
        "probes": quality([(sound[c], c in probed) for c in aligned]),
        "verify": quality(verify_items),
        "score": quality(score_items),
    }
    curves = {
        "pass_threshold": {label: quality([(bool(compliant[key]), rate is not None and keep(rate))
                                           for _, key, rate in check_rows if compliant[key] is not None])
                           for label, keep in (("any (> 0)", lambda r: r > 0), (">= 0.5", lambda r: r >= 0.5),
                                               (">= 0.8", lambda r: r >= 0.8), ("1.0", lambda r: r >= 1.0))},
        "score_threshold": {f">= {t}": quality([(good_answer[key], score is not None and score >= t)
                                                for key, score, _ in scored]) for t in (6, 7, 8, 9)},
    }
    filter_quality["exported"] = exported_quality(con, truths, kinds)
    plot({k: q for k, q in filter_quality.items() if k != "exported"}, run_dir / "plots" / "filter_quality.png")
    return {"filter_quality": filter_quality, "threshold_curves": curves}


def plot(filter_quality: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, q in filter_quality.items() if q["n_good"] or q["n_bad"]]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [filter_quality[n]["bad_removed"] or 0 for n in names], 0.4, label="bad removed")
    ax.bar([x + 0.2 for x in xs], [filter_quality[n]["good_kept"] or 0 for n in names], 0.4, label="good kept")
    ax.set_xticks(list(xs), names, rotation=15, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title("autoif: filter quality against the sim ground truth")
    ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
