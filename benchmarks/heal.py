"""What a rerun recovers after an outage: `python -m benchmarks.heal [--rates 0.1,0.3] [--experiment autoif]`.

For each fault rate, AutoIF (quickstart size, loopback server serving the sim teacher through the real openai
client) runs three times, each in its own run directory:
- `clean`: a fault-free server, its own cache: the reference tables;
- `faulty`: a server that fails that share of requests transiently (429, 500, dropped connections, malformed
  bodies, empty choices), with `llm.max_retries=0` so every fault loses its request, as a long outage would;
- `healed`: the same command against a fault-free server, on the faulty run's cache.
It prints per rate: requests lost to faults, rows the faulty run lost against the clean one (exports and
responses), requests the heal run sent (the failed ones, and those the rows lost with them lead to downstream:
more than the lost ones), how many of them had been answered before (0: nothing is paid twice), and whether the
healed tables equal the clean ones (and which differ). Last line: one JSON object.
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


def same_table(con: duckdb.DuckDBPyConnection, root: Path, name: str) -> bool:
    """Whether the healed run's table equals the clean run's, row for row (ignoring timing columns)."""
    clean = str(root / "clean" / "run.duckdb")
    try:
        cols = [c for (c, *_) in con.execute(f"describe healed.{name}").fetchall()
                if c not in ("seconds", "latency_s", "ts")]
        select = ", ".join(f'"{c}"' for c in cols)
        con.execute(f"ATTACH IF NOT EXISTS '{clean}' AS clean (READ_ONLY)")
        [(n,)] = con.execute(f"select count(*) from ((select {select} from healed.{name} except all "
                             f"select {select} from clean.{name}) union all (select {select} from clean.{name} "
                             f"except all select {select} from healed.{name}))").fetchall()
    except duckdb.Error:
        return False
    return n == 0


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
    reference, broken = counts(root / "clean"), counts(root / "faulty")
    failed = lost["llm"]["failures"]
    with duckdb.connect(str(root / "healed" / "run.duckdb"), read_only=True) as con:
        con.execute(f"ATTACH '{root / 'faulty' / 'run.duckdb'}' AS faulty (READ_ONLY)")
        # a heal run's requests are the failed ones and those the lost rows would have led to; none answered before
        [(paid_twice,)] = con.execute("select count(*) from llm_calls where attempt > 0 and key in "
                                      "(select key from faulty.llm_calls where ok)").fetchall()
        differing = [t for (t,) in con.execute("select table_name from information_schema.tables where "
                                               "table_catalog = 'healed' and table_name not like '%llm_calls%' "
                                               "and table_name not like '\\_%' escape '\\'").fetchall()
                     if not same_table(con, root, t)]
    return {
        "fail_rate": rate,
        "faulty_status": lost["status"],
        "requests_lost": failed,
        "rows_lost": {k: len(reference[k]) - len(broken.get(k, [])) for k in FINAL},
        "heal_requests_sent": sent,
        "sent_per_lost": round(sent / failed, 3) if failed else None,
        "answered_before_and_sent_again": paid_twice,
        "tables_differing_from_clean": differing,
        "healed": healed["llm"]["healed"],
        "healed_equals_clean": not differing,
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
              f"healed {result['healed']}, answered before and sent again {result['answered_before_and_sent_again']}; "
              f"final tables equal to the clean run: {result['healed_equals_clean']} "
              f"(tables differing: {result['tables_differing_from_clean'] or 'none'})")
    print(json.dumps({"experiment": args.experiment, "results": results}))


if __name__ == "__main__":
    main()
