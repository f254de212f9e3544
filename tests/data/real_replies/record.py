"""Record a run's model replies as test data: `python tests/data/real_replies/record.py RUN_DIR CACHE_DIR LABEL`.

Joins the run's ledger (`llm_calls` in run.duckdb: task, key) with the response cache under CACHE_DIR and appends
one JSON line per distinct reply to `<task>.jsonl` beside this file: {"task", "source", "text", "partial",
"finish_reason"}. `source` is LABEL (e.g. "smollm2-135m/hf"). How the committed files were made: README.md.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).parent


def record(run_dir: Path, cache_dir: Path, label: str) -> dict[str, int]:
    with duckdb.connect(str(run_dir / "run.duckdb"), read_only=True) as con:
        calls = con.execute("select distinct task, key from llm_calls where ok and task not like '%classify%'"
                            ).fetchall()
    cache = sqlite3.connect(cache_dir / "llm_responses.sqlite")
    counts: dict[str, int] = {}
    for task, key in sorted(calls):
        found = cache.execute("select response from responses where key = ?", (key,)).fetchone()
        if found is None:
            continue
        response = json.loads(found[0])
        line = {"task": task, "source": label, "text": response["text"], "partial": response.get("partial"),
                "finish_reason": response.get("finish_reason")}
        with (HERE / f"{task}.jsonl").open("a") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        counts[task] = counts.get(task, 0) + 1
    return counts


if __name__ == "__main__":
    print(record(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
