"""What a rerun recovers after an outage: `python -m benchmarks.heal [--rates 0.1,0.3] [--experiment autoif]`.

For each fault rate, AutoIF (quickstart size, loopback server serving the sim teacher through the real openai
client) runs three times, each in its own run directory:
- `clean`: a fault-free server, its own cache: the reference tables;
- `faulty`: a server that fails that share of requests transiently (429, 500, dropped connections, malformed
  bodies, empty choices), with `llm.max_retries=0` so every fault loses its request, as a long outage would;
- `healed`: the same command against a fault-free server, on the faulty run's cache.
It prints per rate: requests lost to faults, rows the faulty run lost against the clean one (exports and
responses), requests the heal run sent (against the lost ones: the ratio is 1.0 when only failed requests are
sent again), and whether the healed tables equal the clean ones. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import duckdb

from engine.testing.fake_openai import serve_in_thread
from tests.conftest import compose_and_run

TRANSIENT = ("rate_limit", "server_error", "drop", "malformed", "empty_choices")
FINAL = {"responses_scored": "select prompt, response, score from responses_scored order by all",
         "exports": "select * exclude (id, parent_ids) from exports order by all"}


def overrides(base_url: str) -> list[str]:
    return ["llm=openai", f"llm.base_url={base_url}", "llm.api_key=test", "llm.model=sim-over-http",
            "llm.endpoint_id=loopback", "llm.max_retries=0", "llm.progress=false", "progress=false"]


def counts(run_dir: Path) -> dict[str, list]:
    with duckdb.connect(str(run_dir / "run.duckdb"), read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in FINAL.items()}


def measure(rate: float, experiment: str, root: Path) -> dict:
    with serve_in_thread() as clean:
        compose_and_run(experiment, *overrides(clean.base_url), run_dir=root / "clean", cache_dir=root / "c_clean")
    with serve_in_thread(fail_rate=rate, faults=TRANSIENT, seed=7) as faulty:
        lost = compose_and_run(experiment, *overrides(faulty.base_url), run_dir=root / "faulty",
                               cache_dir=root / "c_faulty")
    with serve_in_thread() as healthy:
        healed = compose_and_run(experiment, *overrides(healthy.base_url), run_dir=root / "healed",
                                 cache_dir=root / "c_faulty")
        sent = healthy.server.stats()["requests"]
    reference, broken, fixed = counts(root / "clean"), counts(root / "faulty"), counts(root / "healed")
    failed = lost["llm"]["failures"]
    return {
        "fail_rate": rate,
        "faulty_status": lost["status"],
        "requests_lost": failed,
        "rows_lost": {k: len(reference[k]) - len(broken.get(k, [])) for k in FINAL},
        "heal_requests_sent": sent,
        "sent_per_lost": round(sent / failed, 3) if failed else None,
        "healed": healed["llm"]["healed"],
        "healed_equals_clean": fixed == reference,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.heal", description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="0.1,0.3")
    parser.add_argument("--experiment", default="autoif")
    args = parser.parse_args()
    results = []
    for rate in (float(r) for r in args.rates.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            result = measure(rate, args.experiment, Path(tmp))
        results.append(result)
        print(f"fail rate {rate:.0%}: {result['requests_lost']} requests lost, rows lost {result['rows_lost']}; "
              f"heal run sent {result['heal_requests_sent']} ({result['sent_per_lost']} per lost request), "
              f"healed {result['healed']}, tables equal to the clean run: {result['healed_equals_clean']}")
    print(json.dumps({"experiment": args.experiment, "results": results}))


if __name__ == "__main__":
    main()
