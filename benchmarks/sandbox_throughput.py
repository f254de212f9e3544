"""Sandbox throughput against the original AutoIF way of running verifiers, measured in the same run.

    python -m benchmarks.sandbox_throughput [--jobs 20000] [--workers 2]

The baseline is what AutoIF did: `exec` the verifier source for every call in one process, with a
`signal.alarm` timeout and no containment. The sandbox runs the same jobs (cache off), then a 10-job batch
on a warm pool (latency), then the whole batch twice through the cache (second run: all hits). Responses
are GPT-4 IFEval responses from ../shared/data when present (read in place, not copied), otherwise
generated text. The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import tempfile
import time
from pathlib import Path
from textwrap import dedent

from engine.sandbox import Job, Sandbox
from engine.testing import SHARED_DATA

RESPONSES_PATH = SHARED_DATA / "ifeval_input_response_data_gpt4_20231107_145030.jsonl"
LATENCY_BATCH = 10
LATENCY_REPEATS = 30

# IFEval-style verifier templates; each is instantiated with several parameters below.
TEMPLATES = {
    "min_words": """
        def evaluate(response):
            return len(response.split()) >= {n}
    """,
    "max_words_regex": """
        import re
        def evaluate(response):
            return len(re.findall(r"\\b\\w+\\b", response)) < {n}
    """,
    "sentences": """
        import re
        def evaluate(response):
            sentences = [s for s in re.split(r"[.!?]+", response) if s.strip()]
            return len(sentences) >= {n}
    """,
    "keyword_counts": """
        def evaluate(response):
            counts = {{}}
            for word in response.lower().split():
                word = word.strip(".,!?;:*")
                counts[word] = counts.get(word, 0) + 1
            return counts.get("{word}", 0) >= {n}
    """,
    "counter_keyword": """
        from collections import Counter
        def evaluate(response):
            return Counter(response.lower().split())["{word}"] < {n}
    """,
    "no_commas": """
        def evaluate(response):
            return response.count(",") <= {n}
    """,
    "lowercase_ratio": """
        def evaluate(response):
            letters = [ch for ch in response if ch.isalpha()]
            return sum(ch.islower() for ch in letters) / max(1, len(letters)) > 0.{n}
    """,
    "bullets": """
        def evaluate(response):
            bullets = [line for line in response.splitlines() if line.strip().startswith(("* ", "- "))]
            return len(bullets) >= {n}
    """,
    "highlights": """
        import re
        def evaluate(response):
            return len(re.findall(r"\\*[^\\n\\*]+\\*", response)) >= {n}
    """,
    "paragraphs": """
        def evaluate(response):
            paragraphs = [p for p in response.split("\\n\\n") if p.strip()]
            return len(paragraphs) >= {n}
    """,
    "json_like": """
        import json
        def evaluate(response):
            try:
                json.loads(response.strip().strip("`").removeprefix("json"))
            except ValueError:
                return False
            return {n} > 0
    """,
    "latin_letters": """
        import unicodedata
        def evaluate(response):
            letters = [ch for ch in response[:{n}00] if ch.isalpha()]
            return all("LATIN" in unicodedata.name(ch, "") for ch in letters)
    """,
    "class_tally": """
        class Tally:
            def __init__(self):
                self.count = 0
            def add(self, word):
                if word.istitle():
                    self.count += 1
        def evaluate(response):
            tally = Tally()
            for word in response.split():
                tally.add(word)
            return tally.count >= {n}
    """,
}
PARAMETERS = [{"n": n, "word": word} for n, word in ((2, "the"), (3, "and"), (5, "of"))]


def verifier_sources() -> list[str]:
    return [dedent(template.format(**params)) for template in TEMPLATES.values() for params in PARAMETERS]


def load_responses(rng: random.Random) -> list[str]:
    if RESPONSES_PATH.exists():
        with RESPONSES_PATH.open() as f:
            return [json.loads(line)["response"] for line in f]
    words = "the quick brown fox jumps over a lazy dog and of data model answer".split()
    return ["\n\n".join(" ".join(rng.choices(words, k=rng.randint(5, 40))).capitalize() + "."
                        for _ in range(rng.randint(1, 6))) for _ in range(500)]


def autoif_baseline(jobs: list[Job], timeout_s: int) -> list[object]:
    """Original AutoIF: exec the source for every call, alarm-based timeout, no containment."""

    def on_alarm(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, on_alarm)
    results = []
    try:
        for job in jobs:
            signal.alarm(timeout_s)
            try:
                namespace: dict = {}
                exec(job.source, namespace)
                results.append(namespace[job.entry](*job.args))
            except Exception as e:
                results.append(e)
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return results


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    sources, responses = verifier_sources(), load_responses(rng)
    jobs = [Job(rng.choice(sources), "evaluate", (rng.choice(responses),)) for _ in range(args.jobs)]

    baseline_results, baseline_s = timed(autoif_baseline, jobs, 2)

    with Sandbox(workers=args.workers, timeout_s=2.0, memory_mb=512, cache="off") as sandbox:
        _, startup_s = timed(lambda: sandbox.containment)
        outcomes, sandbox_s = timed(sandbox.run, jobs)
        latencies = []
        for _ in range(LATENCY_REPEATS):
            batch = rng.sample(jobs, LATENCY_BATCH)
            latencies.append(timed(sandbox.run, batch)[1])
    agree = sum(o.status == "ok" and o.value == r for o, r in zip(outcomes, baseline_results, strict=True))

    with tempfile.TemporaryDirectory() as cache_dir:
        cache_path = Path(cache_dir) / "sandbox.sqlite"
        with Sandbox(workers=args.workers, timeout_s=2.0, memory_mb=512, cache_path=cache_path) as sandbox:
            _, cache_fill_s = timed(sandbox.run, jobs)
        with Sandbox(workers=args.workers, timeout_s=2.0, memory_mb=512, cache_path=cache_path) as sandbox:
            _, cached_s = timed(sandbox.run, jobs)
            cache_hits = sandbox.stats["cache_hits"]

    figures = {
        "jobs": args.jobs,
        "workers": args.workers,
        "distinct_verifiers": len(sources),
        "baseline_jobs_per_s": round(args.jobs / baseline_s, 1),
        "sandbox_jobs_per_s": round(args.jobs / sandbox_s, 1),
        "sandbox_vs_baseline": round(baseline_s / sandbox_s, 2),
        "sandbox_startup_s": round(startup_s, 3),
        "latency_10_jobs_ms_median": round(statistics.median(latencies) * 1000, 2),
        "latency_10_jobs_ms_max": round(max(latencies) * 1000, 2),
        "cache_fill_s": round(cache_fill_s, 3),
        "cached_rerun_s": round(cached_s, 3),
        "cached_rerun_vs_baseline": round(baseline_s / cached_s, 2),
        "cache_hits": cache_hits,
        "same_results_as_baseline": agree,
    }
    rows = [("AutoIF baseline (exec + alarm, 1 process)", f"{baseline_s:8.2f} s",
             f"{args.jobs / baseline_s:9.0f} jobs/s"),
            (f"sandbox, {args.workers} workers, cache off", f"{sandbox_s:8.2f} s",
             f"{args.jobs / sandbox_s:9.0f} jobs/s  ({baseline_s / sandbox_s:.2f}x)"),
            ("sandbox start-up (workers ready)", f"{startup_s:8.2f} s", ""),
            (f"{LATENCY_BATCH}-job batch, warm pool (median)", f"{figures['latency_10_jobs_ms_median']:8.1f} ms", ""),
            ("cache fill (first cached run)", f"{cache_fill_s:8.2f} s", ""),
            ("cached re-run (all hits)", f"{cached_s:8.2f} s", f"{baseline_s / cached_s:9.1f}x baseline")]
    print(f"{args.jobs} jobs, {len(sources)} distinct verifiers, {len(responses)} responses")
    for row in rows:
        print(f"  {row[0]:45} {row[1]}  {row[2]}")
    print(f"  outcomes equal to the baseline's results: {agree}/{args.jobs}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
