"""The HTTP side: the standard library's threading server on 127.0.0.1, one route per page."""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from engine.view.compare import compare_view, comparison_png
from engine.view.html import Html, page, tag
from engine.view.overview import overview
from engine.view.runs import Run, RunBusy, find_runs
from engine.view.site import NotFound, Site
from engine.view.story import row_view
from engine.view.table_page import table_view

log = logging.getLogger("engine.view")
HOST = "127.0.0.1"
BUSY_REFRESH_S = 2


def make_server(root: Path, port: int = 8000, cache_dir: Path | None = None) -> ThreadingHTTPServer:
    """A server for the run or sweep directory `root` (port 0: any free one); serve_forever() to start it."""
    runs = find_runs(root)
    if not runs:
        raise ValueError(f"no run.duckdb or summary.json in {root} or in its job directories")
    site = Site(root, runs, cache_dir)

    class Handler(ViewHandler):
        pass

    Handler.site = site
    server = ThreadingHTTPServer((HOST, port), Handler)
    server.daemon_threads = True  # a browser's kept-alive connection must not hold up Ctrl-C
    return server


class ViewHandler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:
        # a page of another site that resolves its own name to 127.0.0.1 (DNS rebinding) names that host here
        if self.headers.get("Host", "").rsplit(":", 1)[0] not in (HOST, "localhost"):
            self.send(403, "text/plain", b"the run browser answers only to 127.0.0.1 and localhost")
            return
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query))
        try:
            self.route(url.path, params)
        except RunBusy as e:
            body = tag('<p class="banner">The run is writing run.duckdb: this page refreshes in a moment. ({})</p>',
                       str(e))
            self.send(503, "text/html", page("the run is writing, refresh", body, self.site.nav(None), BUSY_REFRESH_S))
        except NotFound as e:
            body = tag('<p class="banner error">{}</p>', e)
            self.send(404, "text/html", page("not found", body, self.site.nav(None)))
        except Exception as e:  # the page says what broke; the server goes on
            log.exception("%s failed", self.path)
            body = tag('<p class="banner error">{}: {}</p>', type(e).__name__, e)
            self.send(500, "text/html", page("error", body, self.site.nav(None)))

    def route(self, path: str, params: dict[str, str]) -> None:
        site = self.site
        if path == "/compare.png":
            self.send(200, "image/png", comparison_png(site))
            return
        if path == "/compare" or (path == "/" and site.is_sweep and "run" not in params):
            self.html(None, *compare_view(site))
            return
        run = site.run(params.get("run"))
        if path == "/":
            self.html(run, *overview(site, run))
        elif path == "/table":
            self.html(run, *table_view(site, run, params))
        elif path == "/row":
            self.html(run, *row_view(site, run, params.get("id", "")))
        elif path == "/plot" and params.get("name") in run.plots():
            self.send(200, "image/png", (run.dir / "plots" / params["name"]).read_bytes())
        else:
            raise NotFound(f"no page {path}")

    def html(self, run: Run | None, title: str, body: Html, refresh_s: int | None = None) -> None:
        self.send(200, "text/html", page(title, body, self.site.nav(run), refresh_s))

    def send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8" if content_type.startswith("text")
                         else content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")  # a run's tables change under the same URL
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        log.debug(format, *args)
