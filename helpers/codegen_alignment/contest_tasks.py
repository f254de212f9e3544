"""Contest tasks in the CodeContests schema: whole programs reading stdin and writing stdout, judged on tests.

A record holds `name`, `description`, `public_tests` / `private_tests` / `generated_tests` (each
`{"input": [...], "output": [...]}`), `time_limit` (`{"seconds", "nanos"}` as in CodeContests, or seconds),
`memory_limit_bytes` and optionally `solutions` (`{"language": [...], "solution": [...]}` or a list of programs);
read from JSONL or Parquet. The first Python 3 solution (language 3; any when none is tagged) is the reference.
As CodeContests evaluates, the hidden tests are the private and the generated ones; the public ones are the
statement's examples, shown to the models.
"""

from __future__ import annotations

import json
from pathlib import Path

SHIPPED = Path(__file__).parents[2] / "sample_data" / "codecontests_sample.jsonl"
PYTHON3 = 3  # CodeContests' Language enum
DEFAULT_TIME_LIMIT_S = 2.0
DEFAULT_MEMORY_MB = 256


def read_records(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def io_tests(record: dict, key: str, where: str) -> list[dict[str, str]]:
    tests = record.get(key) or {"input": [], "output": []}
    inputs, outputs = list(tests.get("input") or []), list(tests.get("output") or [])
    if len(inputs) != len(outputs):
        raise ValueError(f"{where}: {key} has {len(inputs)} inputs and {len(outputs)} outputs; expected one each")
    return [{"input": i, "output": o} for i, o in zip(inputs, outputs, strict=True)]


def time_limit_s(value: object) -> float:
    if isinstance(value, dict):
        seconds = (value.get("seconds") or 0) + (value.get("nanos") or 0) / 1e9
        return float(seconds) or DEFAULT_TIME_LIMIT_S
    return float(value) if value else DEFAULT_TIME_LIMIT_S


def reference_solution(solutions: object) -> str | None:
    if isinstance(solutions, dict):
        programs, languages = solutions.get("solution") or [], solutions.get("language") or []
        tagged = [p for p, lang in zip(programs, languages, strict=False) if lang == PYTHON3]
        return (tagged or ([] if languages else programs) or [None])[0]
    if isinstance(solutions, list) and solutions:
        return solutions[0]
    return None


def statement(record: dict, public: list[dict[str, str]], limit_s: float, memory_mb: int) -> str:
    """What the models see: the description, the limits and the public examples, as a contest page shows them."""
    parts = [record["description"].strip(), f"Time limit: {limit_s:g} s. Memory limit: {memory_mb} MB."]
    for k, test in enumerate(public, start=1):
        parts.append(f"Example {k}\nInput:\n```\n{test['input'].rstrip()}\n```\n"
                     f"Output:\n```\n{test['output'].rstrip()}\n```")
    return f"Problem: {record['name']}\n\n" + "\n\n".join(parts) + "\n"


def contest_tasks(path: str | None) -> list[dict]:
    """Rows for every record of the file (the shipped problems when path is None) with a reference solution."""
    source = SHIPPED if path is None else Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"codegen_alignment.dataset_path: dataset 'codecontests' needs a JSONL or Parquet "
                                f"file, found {path!r}; null uses the problems shipped in {SHIPPED.name}")
    rows = []
    for n, record in enumerate(read_records(source)):
        where = f"{source}: record {n} ({record.get('name')!r})"
        for key in ("name", "description"):
            if not isinstance(record.get(key), str):
                raise ValueError(f"{where}: expected a string {key!r}, found {type(record.get(key)).__name__}")
        public = io_tests(record, "public_tests", where)
        hidden = io_tests(record, "private_tests", where) + io_tests(record, "generated_tests", where)
        limit_s = time_limit_s(record.get("time_limit"))
        memory_mb = int((record.get("memory_limit_bytes") or DEFAULT_MEMORY_MB * 2**20) // 2**20)
        rows.append({"task_id": record["name"], "dataset": "codecontests", "kind": "program",
                     "prompt": statement(record, public, limit_s, memory_mb), "entry_point": "",
                     "reference": reference_solution(record.get("solutions")), "ground_truth": "",
                     "public_tests": public, "hidden_tests": hidden, "time_limit_s": limit_s, "memory_mb": memory_mb})
    return rows
