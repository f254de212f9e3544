"""A row's story: the row, its lineage back to the seed, the rows made from it, the model calls that produced it
and, for a verifier, what the sandbox made of it."""

from __future__ import annotations

from engine.inspect import find_row, trace
from engine.store import RunDB, quote
from engine.view.html import Html, cell, definitions, join, table, tag, text_of
from engine.view.queries import calls_for, children, columns, model_keys, replies, tables_holding, tables_with
from engine.view.runs import Run, read_only
from engine.view.site import NotFound, Site, preview, value_cell

OUTCOME_COLUMNS = {"status", "message"}  # a table of sandbox outcomes (engine.sandbox.Outcome) per row
FAILED_OUTCOMES_SHOWN = 5


def row_view(site: Site, run: Run, row_id: str) -> tuple[str, Html]:
    with read_only(run.db) as con:
        found = find_row(con, row_id, RunDB.tables(con))
        if found is None:
            raise NotFound(f"no row with id {row_id!r} in any table of {run.db}")
        table_name, row = found
        holding = tables_holding(con, row_id)
        lineage = trace(con, row_id)[1:]
        made_from_it = children(con, row_id)
        keys = model_keys(row)
        call_cols, calls = calls_for(con, keys)
        outcomes = sandbox_outcomes(con, row_id)
    stored = replies(run.response_cache(site.cache_dir), keys)
    found_in = join((tag("{} ({})", site.table_link(run, t), reason) if reason else site.table_link(run, t)
                     for t, reason in holding), ", ")
    parts = [tag("<p>in {}</p>", found_in or site.table_link(run, table_name)),
             definitions((k, value_cell(site, run, k, v)) for k, v in row.items()),
             lineage_section(site, run, lineage), calls_section(row, call_cols, calls, stored),
             outcomes_section(site, run, outcomes), children_section(site, run, made_from_it)]
    return row_id, join(parts)


def lineage_section(site: Site, run: Run, lineage: list) -> Html:
    """Ancestors depth-first, as engine.inspect --trace prints them; the deepest are the seeds."""
    if not lineage:
        return Html("<h2>Lineage</h2><p class='muted'>A seed: no parents.</p>")
    items = []
    for depth, table_name, ancestor, rid in lineage:
        indent = f"margin-left:{(depth - 1) * 22}px"
        if ancestor is None:
            items.append(tag('<li style="{}">└ {} <span class="muted">{}</span></li>', indent, rid,
                             "" if table_name == "" else "not found in any table"))
            continue
        seed = " (seed)" if not ancestor.get("parent_ids") else ""
        items.append(tag('<li style="{}">└ <b>{}</b> {}{} <span class="muted">{}</span></li>', indent, table_name,
                         site.row_link(run, rid), seed, preview(ancestor)))
    return tag('<h2>Lineage</h2><ul class="lineage">{}</ul>', join(items))


def children_section(site: Site, run: Run, groups: list[tuple[str, int, list[dict]]]) -> Html:
    if not groups:
        return Html("<h2>Made from it</h2><p class='muted'>No row names it as a parent.</p>")
    parts = [Html("<h2>Made from it</h2>")]
    for table_name, n, rows in groups:
        shown = f" (first {len(rows)})" if n > len(rows) else ""
        parts.append(tag("<h3>{} · {} rows{}</h3>{}", site.table_link(run, table_name), f"{n:,}", shown,
                         table(("id", "fields"), [(site.row_link(run, r.get("id")), preview(r)) for r in rows])))
    return join(parts)


def calls_section(row: dict, call_cols: list[str], calls: list[tuple], stored: dict[str, dict]) -> Html:
    """The ledger's rows for the row's response keys (every attempt), with the reply kept in the response cache.
    The prompt is shown where the row keeps it: the ledger and the cache store neither messages nor prompts."""
    if not calls:
        return Html("")
    shown = ("stage", "role", "model", "attempt", "cache_hit", "ok", "reason", "error", "finish_reason",
             "prompt_tokens", "completion_tokens", "latency_s", "cost_usd")
    records = [dict(zip(call_cols, c, strict=True)) for c in calls]
    parts = [Html("<h2>Model calls</h2>"),
             table(("key", *(s.replace("_", " ") for s in shown)),
                   [(r["key"][:12], *(cell(r.get(k)) for k in shown)) for r in records])]
    if row.get("prompt"):
        parts.append(tag("<h3>Prompt</h3>{}", cell(row["prompt"])))
    for key in dict.fromkeys(r["key"] for r in records):
        reply = stored.get(key)
        if reply is not None:
            text = reply.get("text") if reply.get("text") is not None else reply.get("partial")
            parts.append(tag("<h3>Reply {}… ({})</h3>{}", key[:12], text_of(reply.get("finish_reason")), cell(text)))
    return join(parts)


def sandbox_outcomes(con, row_id: str) -> list[tuple[str, list[tuple], list[tuple]]]:
    """(table, rows per status, a few failures) for every table of sandbox outcomes with rows made from `row_id`:
    a verifier's runs on its test cases."""
    out = []
    for table_name in tables_with(con, "parent_ids"):
        if not OUTCOME_COLUMNS <= set(columns(con, table_name)):
            continue
        where = f"FROM {quote(table_name)} WHERE list_contains(parent_ids::VARCHAR[], ?)"
        per_status = con.execute(f"SELECT status, count(*) AS n {where} GROUP BY status ORDER BY n DESC",
                                 [row_id]).fetchall()
        if per_status:
            failures = con.execute(f"SELECT id, status, message {where} AND status <> 'ok' LIMIT "
                                   f"{FAILED_OUTCOMES_SHOWN}", [row_id]).fetchall()
            out.append((table_name, per_status, failures))
    return out


def outcomes_section(site: Site, run: Run, outcomes: list) -> Html:
    if not outcomes:
        return Html("")
    parts = [Html("<h2>Sandbox outcomes</h2>")]
    for table_name, per_status, failures in outcomes:
        parts.append(tag("<h3>{}</h3>{}", table_name, table(("status", "runs"), per_status)))
        if failures:
            rows = [(site.row_link(run, i), status, cell(message)) for i, status, message in failures]
            parts.append(table(("id", "status", "message"), rows))
    return join(parts)
