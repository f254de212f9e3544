"""The overview of one run: what ran, the funnel, the model-call account, the sandbox, the plots, the tables."""

from __future__ import annotations

from engine.report import LLM_KEYS, SANDBOX_KEYS, reuse_cell
from engine.view.html import Html, definitions, funnel_svg, join, link, table, tag, text_of
from engine.view.queries import account, count, finished_stages, models_per_role, tables
from engine.view.runs import Run, RunBusy, read_only
from engine.view.site import Site, status_badge

LIVE_REFRESH_S = 5  # each refresh makes the run wait a moment if it wants the file then
SUMMARY_KEYS = ("experiment", "status", "error", "stages", "llm", "sandbox", "seconds", "loops")


def overview(site: Site, run: Run) -> tuple[str, Html, int | None]:
    """(title, body, refresh seconds: set while the run is in progress)."""
    summary, live = run.summary(), run.in_progress()
    busy, db = None, {}
    try:
        with read_only(run.db) as con:  # every query first, then the file is closed before rendering
            names = tables(con)
            db = {"counts": {t: count(con, t) for t in names}, "finished": finished_stages(con),
                  "models": models_per_role(con), "account": account(con)}
    except RunBusy as e:
        busy = str(e)
    stages = (summary or {}).get("stages") or {}
    if live and db:
        # the summary (if any) is an earlier run's: the funnel is what this one has finished so far
        stages = {name: {**db["finished"][name], "reused": stages.get(name, {}).get("reused", False)}
                  for name in db["finished"]}
    name = (summary or {}).get("experiment") or run.config().get("name") or run.dir.name
    status = "in progress (or stopped before writing its summary)" if live else (summary or {}).get("status", "?")
    facts = [("experiment", name), ("status", status_badge(status)), ("directory", str(run.dir))]
    if summary and not live:
        facts += [("error", summary["error"])] if summary.get("error") else []
        facts.append(("seconds", summary.get("seconds")))
    parts = [definitions(facts)]
    if busy:
        parts.append(tag('<p class="banner">The run is writing run.duckdb: refresh in a moment. ({})</p>', busy))
    if live:
        parts.append(tag('<p class="banner">This page refreshes every {} s while the run goes on.</p>',
                         LIVE_REFRESH_S))
    parts += [funnel_section(site, run, stages, db.get("counts", {})), models_section(db.get("models"), run),
              account_section(summary if not live else None, db.get("account")),
              sandbox_section(summary if not live else None), report_section(summary or {}),
              plots_section(site, run), tables_section(site, run, db.get("counts", {}))]
    return name, join(parts), LIVE_REFRESH_S if live or busy else None


def funnel_section(site: Site, run: Run, stages: dict, counts: dict) -> Html:
    if not stages:
        return Html("<h2>Funnel</h2><p class='muted'>No stage has finished yet.</p>")
    rows = []
    for name, s in stages.items():
        by_reason = [f"{reason} {n:,}" for reason, n in sorted(s["rejected"].items(), key=lambda x: -x[1])]
        if f"{name}__rejected" in counts:
            by_reason = [link(site.url("/table", run, name=name) + "#rejected", r) for r in by_reason]
        computed = ", ".join(filter(None, ("computed", reuse_cell(s))))  # with the requests it left failed or healed
        rows.append((site.table_link(run, name) if name in counts else name, f"{s['rows_in']:,}", f"{s['rows_out']:,}",
                     join(by_reason, ", "), "reused" if s.get("reused") else computed,
                     f"{s['seconds']:.2f}" if "seconds" in s else "", s.get("errors") or ""))
    return tag("<h2>Funnel</h2>{}{}", funnel_svg(stages, lambda n: site.url("/table", run, name=n)),
               table(("stage", "rows in", "rows out", "rejected by reason", "reused", "seconds", "errors"), rows))


def models_section(models: list | None, run: Run) -> Html:
    if models:
        return tag("<h2>Models per role</h2>{}", table(("role", "backend", "model", "calls"), models))
    config = run.config()
    roles = {role: {**(config.get("llm") or {}), **(over or {})} for role, over in (config.get("roles") or {}).items()}
    if not roles:
        return Html("")
    return tag("<h2>Models per role</h2><p class='muted'>as configured; no call recorded yet</p>{}",
               table(("role", "backend", "model"), [(r, c.get("backend"), c.get("model")) for r, c in roles.items()]))


def account_section(summary: dict | None, ledger: tuple | None) -> Html:
    totals = (summary or {}).get("llm") or {}
    parts = [definitions((k.replace("_", " "), text_of(totals[k])) for k in LLM_KEYS if totals.get(k))]
    per_stage, failures = ledger or ([], [])
    if per_stage:
        parts.append(table(("stage", "role", "calls", "cache hits", "failed", "prompt tokens", "completion tokens",
                            "cost $"), per_stage))
    if failures:
        parts.append(tag("<h3>Failed calls by error</h3>{}", table(("reason", "error", "calls"), failures)))
    if not totals and not per_stage:
        return Html("")
    return tag("<h2>Model calls</h2>{}", join(parts))


def sandbox_section(summary: dict | None) -> Html:
    counts = (summary or {}).get("sandbox") or {}
    if not any(counts.values()):
        return Html("")
    return tag("<h2>Sandbox</h2>{}", definitions((k, f"{counts.get(k, 0):,}") for k in SANDBOX_KEYS))


def report_section(summary: dict) -> Html:
    """What the experiment's report added to the summary (filter quality, threshold curves): a table per section of
    records (records of records one row each), the JSON of anything else."""
    parts = []
    for key, value in summary.items():
        if key in SUMMARY_KEYS:
            continue
        records = as_records(value)
        if records:
            header = list(dict.fromkeys(k for v in records.values() for k in v))
            rows = [(name, *(text_of(v.get(h, "")) for h in header)) for name, v in records.items()]
            parts.append(tag("<h3>{}</h3>{}", key.replace("_", " "), table(("", *header), rows)))
        else:
            parts.append(tag("<h3>{}</h3><pre>{}</pre>", key.replace("_", " "), text_of(value)))
    return tag("<h2>Report</h2>{}", join(parts)) if parts else Html("")


def as_records(value) -> dict[str, dict]:
    """{row name: record} for a dict of records, or of dicts of records ("curve · point"); {} otherwise."""
    if not isinstance(value, dict) or not value or not all(isinstance(v, dict) for v in value.values()):
        return {}
    records = {}
    for name, v in value.items():
        if v and all(isinstance(inner, dict) for inner in v.values()):
            records.update({f"{name} · {point}": inner for point, inner in v.items()})
        else:
            records[name] = v
    return records


def plots_section(site: Site, run: Run) -> Html:
    plots = run.plots()
    if not plots:
        return Html("")
    images = join(tag('<a href="{0}"><img src="{0}" alt="{1}" title="{1}"></a>', site.url("/plot", run, name=p), p)
                  for p in plots)
    return tag('<h2>Plots</h2><div class="plots">{}</div>', images)


def tables_section(site: Site, run: Run, counts: dict) -> Html:
    if not counts:
        return Html("")
    return tag("<h2>Tables</h2>{}", table(("table", "rows"), [(site.table_link(run, t), f"{n:,}")
                                                            for t, n in counts.items()]))
