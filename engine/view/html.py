"""HTML for the run browser. Rows hold model-written text, so every value goes through `esc`; only `Html`, made by
`tag` from a literal template of this package, is inserted as markup."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from html import escape
from typing import Any
from urllib.parse import urlencode

FOLD_CHARS = 160  # longer texts are folded behind their opening
OPENING_CHARS = 60  # short enough that a folded cell stays one or two lines in a narrow column
SHOW_CHARS = 20_000  # and cut there even unfolded: a page is for reading, the table is in run.duckdb


class Html(str):
    """Markup made from a literal template: inserted as is."""


def esc(value: Any) -> Html:
    if isinstance(value, Html):
        return value
    return Html(escape("" if value is None else str(value), quote=True))


def tag(template: str, *args: Any) -> Html:
    """`template` (a literal) with each `{}` filled by an escaped argument."""
    return Html(template.format(*(esc(a) for a in args)))


def join(parts: Iterable[Any], sep: str = "") -> Html:
    return Html(sep.join(esc(p) for p in parts))


def href(path: str, **params: Any) -> str:
    """A URL of this site; escaped like any value where it is inserted."""
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return path + ("?" + urlencode(kept) if kept else "")


def link(url: str, text: Any) -> Html:
    return tag('<a href="{}">{}</a>', url, text)


def text_of(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def cell(value: Any) -> Html:
    """A value as a table cell's content: null marked, long text folded behind its opening."""
    if value is None:
        return Html('<span class="null">null</span>')
    text = text_of(value)
    if len(text) <= FOLD_CHARS and "\n" not in text:
        return esc(text)
    opening = text.split("\n", 1)[0][:OPENING_CHARS]
    cut = f"\n… ({len(text) - SHOW_CHARS:,} more characters)" if len(text) > SHOW_CHARS else ""
    return tag('<details><summary>{}…</summary><pre>{}{}</pre></details>', opening, text[:SHOW_CHARS], cut)


def table(header: Iterable[Any], rows: Iterable[Iterable[Any]], cls: str = "") -> Html:
    """Header cells and row cells are escaped unless they are Html (a link, a folded cell)."""
    head = join(tag("<th>{}</th>", h) for h in header)
    body = join(tag("<tr>{}</tr>", join(tag("<td>{}</td>", c) for c in row)) for row in rows)
    return tag('<table class="{}"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', cls, head, body)


def definitions(pairs: Iterable[tuple[Any, Any]]) -> Html:
    return tag("<dl>{}</dl>", join(tag("<dt>{}</dt><dd>{}</dd>", k, v) for k, v in pairs))


def funnel_svg(stages: dict[str, dict], stage_url) -> Html:
    """Rows kept (blue) and rejected (orange) per stage on a log scale, as the run's funnel.png draws them, with
    reused stages marked. Row counts span orders of magnitude (a handful of seeds beside a verifier matrix)."""
    if not stages:
        return Html("")
    label_w, bar_w, row_h = 230, 520, 22
    top = max(max(s["rows_out"] + sum(s["rejected"].values()) for s in stages.values()), 1)

    def x(n: int) -> float:
        return bar_w * math.log10(1 + n) / math.log10(1 + top)

    rows = []
    for i, (name, s) in enumerate(stages.items()):
        y, kept, rejected = i * row_h + 4, s["rows_out"], sum(s["rejected"].values())
        end = x(kept + rejected)
        note = f"{kept:,}" + (f"  (−{rejected:,})" if rejected else "") + ("  reused" if s.get("reused") else "")
        rows.append(tag(
            '<a href="{}"><text x="{}" y="{}" class="stage">{}</text></a>'
            '<rect x="{}" y="{}" width="{}" height="{}" class="kept"><title>{} kept</title></rect>'
            '<rect x="{}" y="{}" width="{}" height="{}" class="rejected"><title>{} rejected</title></rect>'
            '<text x="{}" y="{}" class="{}">{}</text>',
            stage_url(name), label_w - 8, y + 14, name,
            label_w, y, f"{x(kept):.1f}", row_h - 6, kept,
            f"{label_w + x(kept):.1f}", y, f"{end - x(kept):.1f}", row_h - 6, rejected,
            f"{label_w + end + 6:.1f}", y + 14, "note reused" if s.get("reused") else "note", note))
    height = len(stages) * row_h + 8
    return tag('<svg class="funnel" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
               'aria-label="rows per stage">{}</svg>', label_w + bar_w + 170, height, label_w + bar_w + 170, height,
               join(rows))


CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232b;background:#f7f8fa}
header{background:#1d2b3a;color:#fff;padding:10px 24px;display:flex;gap:20px;align-items:baseline}
header a{color:#cfe1ff}header .title{font-weight:600;font-size:16px}
main{padding:16px 24px;max-width:1400px}
h2{font-size:16px;margin:22px 0 8px}h3{font-size:14px;margin:16px 0 6px}
a{color:#1f5fbf;text-decoration:none}a:hover{text-decoration:underline}
table{border-collapse:collapse;background:#fff;margin:4px 0 12px;font-size:13px}
th,td{border:1px solid #dde2e8;padding:3px 8px;text-align:left;vertical-align:top;max-width:420px;
overflow-wrap:break-word}
th{background:#eef1f5;font-weight:600;white-space:nowrap}
td pre{white-space:pre-wrap;margin:4px 0;font-size:12px}
details summary{cursor:pointer;color:#333}td details{min-width:240px}
.null{color:#999;font-style:italic}
.banner{padding:8px 12px;border-radius:4px;margin:8px 0;background:#fff4d6;border:1px solid #e8c95a}
.error{background:#fde8e8;border-color:#e39b9b;white-space:pre-wrap;font-family:monospace}
.ok{color:#17803d;font-weight:600}.failed{color:#c0262d;font-weight:600}.running{color:#b26b00;font-weight:600}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:4px 0}dt{color:#5b6570}dd{margin:0}
svg.funnel{background:#fff;border:1px solid #dde2e8;font-size:12px}
svg .kept{fill:#3b7dd8}svg .rejected{fill:#e0a040}svg .stage{text-anchor:end;fill:#1f5fbf}
svg .note{fill:#333}svg .reused{fill:#777;font-style:italic}
form.filters{display:flex;gap:8px;flex-wrap:wrap;margin:6px 0}form.filters input[name=where]{width:420px}
.plots img{max-width:640px;border:1px solid #dde2e8;background:#fff;margin:4px 8px 4px 0}
.lineage{list-style:none;padding-left:0}.lineage li{margin:3px 0}
.muted{color:#6b7580}
"""


def page(title: str, body: Html, nav: Html, refresh_s: int | None = None) -> bytes:
    refresh = tag('<meta http-equiv="refresh" content="{}">', refresh_s) if refresh_s else Html("")
    return tag('<!doctype html><html lang="en"><head><meta charset="utf-8">{}<title>{}</title>'
               '<style>{}</style></head><body><header><span class="title">execfeed · {}</span>{}</header>'
               '<main>{}</main></body></html>', refresh, title, Html(CSS), title, nav, body).encode()
