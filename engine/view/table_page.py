"""A table of the run, a page at a time: sortable, filtered by free text or a SQL condition, and for a stage its
`__rejected` rows grouped by reason."""

from __future__ import annotations

from typing import Any

from engine.view.html import Html, cell, definitions, join, link, table, tag
from engine.view.queries import PAGE_ROWS, QueryError, TableQuery, rejected_by_reason, table_page, tables
from engine.view.runs import Run, read_only
from engine.view.site import NotFound, Site, preview, value_cell

REJECTED = "__rejected"


def table_view(site: Site, run: Run, params: dict[str, str]) -> tuple[str, Html]:
    name = params.get("name", "")
    q = TableQuery(table=name, page=max(int(params.get("page") or 0), 0), sort=params.get("sort") or None,
                   descending=params.get("desc") == "1", text=params.get("q", ""), where=params.get("where", ""))
    error, rows, cols, total, rejected = None, [], [], 0, None
    with read_only(run.db) as con:
        names = tables(con)
        if name not in names:
            raise NotFound(f"no table {name!r} in {run.db}")
        try:
            cols, rows, total = table_page(con, q)
        except QueryError as e:
            error = str(e)
        if name + REJECTED in names:
            rejected = rejected_by_reason(con, name + REJECTED)
    stats = ((run.summary() or {}).get("stages") or {}).get(name)
    parts = [stage_facts(site, run, name, stats, rejected), filter_form(site, run, q)]
    if error is not None:
        parts.append(tag('<p class="banner error">query failed: {}</p>', error))
    else:
        parts += [tag("<p>{} matching rows{}</p>", f"{total:,}", pages_note(q, total)),
                  table([sort_link(site, run, q, c) for c in cols],
                        [[value_cell(site, run, c, v) for c, v in zip(cols, r, strict=True)] for r in rows]),
                  pager(site, run, q, total)]
    if rejected is not None:
        parts.append(rejected_section(site, run, name, rejected))
    return name, join(parts)


def stage_facts(site: Site, run: Run, name: str, stats: dict | None, rejected: list | None) -> Html:
    facts: list[tuple[str, Any]] = []
    if name.endswith(REJECTED):
        facts.append(("rows a filter removed from", site.table_link(run, name.removesuffix(REJECTED))))
    if stats:
        facts += [("rows in", f"{stats['rows_in']:,}"), ("rows out", f"{stats['rows_out']:,}"),
                  ("", "reused from the stage store" if stats.get("reused") else "computed in this run"),
                  ("seconds", stats.get("seconds"))]
    if rejected:
        facts.append(("rejected", join((link("#rejected", f"{reason} {n:,}") for reason, n, _ in rejected), ", ")))
    return definitions(facts) if facts else Html("")


def filter_form(site: Site, run: Run, q: TableQuery) -> Html:
    hidden = join(tag('<input type="hidden" name="{}" value="{}">', k, v)
                  for k, v in (("run", run.label), ("name", q.table), ("sort", q.sort or ""),
                               ("desc", "1" if q.descending else "")) if v)
    return tag('<form class="filters" method="get" action="/table">{}'
               '<input name="q" value="{}" placeholder="text in any column">'
               '<input name="where" value="{}" placeholder="SQL condition, e.g. score >= 8">'
               '<button>filter</button> <a href="{}">clear</a></form>',
               hidden, q.text, q.where, site.url("/table", run, name=q.table))


def page_url(site: Site, run: Run, q: TableQuery, **changes: Any) -> str:
    state = {"name": q.table, "page": q.page or None, "sort": q.sort, "desc": "1" if q.descending else None,
             "q": q.text, "where": q.where}
    return site.url("/table", run, **(state | changes))


def sort_link(site: Site, run: Run, q: TableQuery, column: str) -> Html:
    """A header: click to sort by it, again to reverse."""
    descending = q.sort == column and not q.descending
    arrow = (" ▼" if q.descending else " ▲") if q.sort == column else ""
    return link(page_url(site, run, q, sort=column, desc="1" if descending else None, page=None), column + arrow)


def pages_note(q: TableQuery, total: int) -> str:
    pages = max((total + PAGE_ROWS - 1) // PAGE_ROWS, 1)
    return f", page {q.page + 1} of {pages:,}" if pages > 1 else ""


def pager(site: Site, run: Run, q: TableQuery, total: int) -> Html:
    links = []
    if q.page > 0:
        links.append(link(page_url(site, run, q, page=q.page - 1 or None), "← previous"))
    if (q.page + 1) * PAGE_ROWS < total:
        links.append(link(page_url(site, run, q, page=q.page + 1), "next →"))
    return tag("<p>{}</p>", join(links, " · ")) if links else Html("")


def rejected_section(site: Site, run: Run, stage: str, groups: list[tuple[str, int, list[dict]]]) -> Html:
    total = sum(n for _, n, _ in groups)
    parts = [tag('<h2 id="rejected">Rejected: {} rows ({})</h2>', f"{total:,}",
                 link(site.url("/table", run, name=stage + REJECTED), "browse them"))]
    for reason, n, examples in groups:
        rows = [(site.row_link(run, e["id"]) if e.get("id") is not None else "", cell(e.get("detail")),
                 cell(preview({k: v for k, v in e.items() if k not in ("reason", "detail")})))
                for e in examples]
        filtered = site.url("/table", run, name=stage + REJECTED, where="reason = '" + reason.replace("'", "''") + "'")
        parts.append(tag("<h3>{} · {} rows ({})</h3>{}", reason, f"{n:,}", link(filtered, "all of them"),
                         table(("id", "detail", "fields"), rows)))
    return join(parts)
