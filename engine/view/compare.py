"""A sweep's jobs side by side: what differs in their configs, how each ended, their funnels' final counts and
their filter quality; for AutoIF, the figure of `reports.autoif.compare`."""

from __future__ import annotations

import io
import threading

from engine.view.html import Html, join, link, table, tag, text_of
from engine.view.runs import config_differences
from engine.view.site import Site, status_badge

_pyplot = threading.Lock()  # reports.autoif.compare draws with pyplot, whose state is global


def compare_view(site: Site) -> tuple[str, Html]:
    runs = site.runs
    summaries = [run.summary() or {} for run in runs]
    header = ("", *(link(site.url("/", run), f"job {run.label}") for run in runs))
    outcome = [("status", *(status_badge("in progress" if run.in_progress() else s.get("status", "?"))
                            for run, s in zip(runs, summaries, strict=True))),
               ("experiment", *(s.get("experiment", "") for s in summaries)),
               ("seconds", *(s.get("seconds", "") for s in summaries)),
               ("model calls", *((s.get("llm") or {}).get("calls", "") for s in summaries)),
               ("cost $", *(text_of((s.get("llm") or {}).get("cost_usd", "")) for s in summaries))]
    differences = config_differences(runs)
    parts = [tag("<h2>Jobs</h2>{}", table(header, outcome)),
             tag("<h2>What differs in their configs</h2>{}",
                 table(header, [(k, *(text_of(v) for v in values)) for k, values in differences.items()])
                 if differences else Html("<p class='muted'>Nothing: the jobs share one config.</p>")),
             tag("<h2>Rows out per stage</h2><p class='muted'>≠ marks the stages whose counts differ</p>{}",
                 table(header, final_counts(summaries))),
             quality_section(header, summaries)]
    if any(s.get("experiment") == "autoif" for s in summaries):
        parts.append(tag('<h2>AutoIF comparison</h2><div class="plots"><img src="{}" alt="comparison"></div>',
                         "/compare.png"))
    return f"{site.root.name}: {len(runs)} jobs", join(parts)


def final_counts(summaries: list[dict]) -> list[tuple]:
    stages = list(dict.fromkeys(name for s in summaries for name in (s.get("stages") or {})))
    rows = []
    for stage in stages:
        counts = [((s.get("stages") or {}).get(stage) or {}).get("rows_out") for s in summaries]
        rows.append((f"≠ {stage}" if len(set(counts)) > 1 else stage, *("" if c is None else f"{c:,}" for c in counts)))
    return rows


def quality_section(header: tuple, summaries: list[dict]) -> Html:
    """The experiments' `filter_quality` report: per filter, the share of bad items removed and good ones kept."""
    quality = [s.get("filter_quality") or {} for s in summaries]
    steps = list(dict.fromkeys(step for q in quality for step in q))
    if not steps:
        return Html("")
    rows = [(f"{step} {metric.replace('_', ' ')}", *(text_of((q.get(step) or {}).get(metric, "")) for q in quality))
            for step in steps for metric in ("bad_removed", "good_kept")]
    return tag("<h2>Filter quality</h2>{}", table(header, rows))


def comparison_png(site: Site) -> bytes:
    """reports.autoif.compare's figure for this sweep, drawn in memory: the viewer writes nothing."""
    from reports.autoif.compare import job_rows, plot

    rows = job_rows(site.root)
    if not rows:
        raise ValueError(f"no */summary.json under {site.root}")
    out = io.BytesIO()
    with _pyplot:
        plot(rows, out)
    return out.getvalue()

