"""What every page shares: the runs served, links between pages, the navigation bar."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.view.html import Html, cell, href, join, link, tag
from engine.view.runs import Run

PREVIEW_FIELDS = 5
PREVIEW_CHARS = 90
NOT_PREVIEWED = ("id", "parent_ids", "simulated")
FOLD_IDS = 2  # a longer list of ids is folded
KEY_CHARS = 12


class NotFound(Exception):
    """A run, table or row the URL names that the directory does not have."""


@dataclass(frozen=True)
class Site:
    root: Path
    runs: list[Run]
    cache_dir: Path | None  # where the model replies are; None: each run's configured cache_dir

    @property
    def is_sweep(self) -> bool:
        return not (len(self.runs) == 1 and self.runs[0].label == "")

    def run(self, label: str | None) -> Run:
        for run in self.runs:
            if run.label == (label or ""):
                return run
        raise NotFound(f"no run {label!r} in {self.root}")

    def url(self, path: str, run: Run, **params: Any) -> str:
        return href(path, run=run.label, **params)

    def row_link(self, run: Run, row_id: Any) -> Html:
        return link(self.url("/row", run, id=row_id), row_id)

    def table_link(self, run: Run, table: str) -> Html:
        return link(self.url("/table", run, name=table), table)

    def nav(self, run: Run | None) -> Html:
        items = [link(href("/compare"), "compare jobs")] if self.is_sweep else []
        if run is not None:
            items.insert(0, link(self.url("/", run), f"job {run.label}" if run.label else "overview"))
        return join(items, " ")


def preview(row: dict) -> str:
    """A row's first few fields, shortened: enough to recognise it in a lineage or a list of children."""
    parts = []
    for key, value in row.items():
        if key in NOT_PREVIEWED or key.endswith("_key") or value is None:
            continue
        text = str(value).replace("\n", " ")
        parts.append(f"{key}={text[:PREVIEW_CHARS]}{'…' if len(text) > PREVIEW_CHARS else ''}")
        if len(parts) == PREVIEW_FIELDS:
            break
    return "  ".join(parts)


def status_badge(status: str) -> Html:
    return tag('<span class="{}">{}</span>', status.split()[0], status)


def value_cell(site: Site, run: Run, column: str, value: Any) -> Html:
    """Ids (a row's own, its parents', and `*_id` / `*_ids` references) link to the row's story, response keys are
    shortened, everything else is escaped and folded when long."""
    if column == "id" or column.endswith("_id"):
        return site.row_link(run, value) if isinstance(value, str) else cell(value)
    if column == "parent_ids" or column.endswith("_ids"):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            links = join((site.row_link(run, v) for v in value), " ")
            return links if len(value) <= FOLD_IDS else tag("<details><summary>{} ids</summary>{}</details>",
                                                            len(value), links)
    if column.endswith("_key") and isinstance(value, str) and len(value) > KEY_CHARS:
        return tag('<span title="{}">{}…</span>', value, value[:KEY_CHARS])  # a hash: its opening tells keys apart
    return cell(value)
