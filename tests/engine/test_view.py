"""The run browser over a real small AutoIF run on sim and a real demo sweep, fetched over HTTP: funnel, tables,
filters, rejected reasons, lineage, model calls, sandbox outcomes, escaping, comparison, and that it never holds
run.duckdb from the run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from html import escape
from pathlib import Path
from urllib.parse import quote_plus

import duckdb
import pytest

from engine.config import PROJECT_ROOT
from engine.inspect import trace
from engine.view.server import make_server
from tests.conftest import compose_and_run, table

SMALL = ("autoif.augment_calls=1", "autoif.lines_per_call=10", "autoif.queries_per_instruction=2")
HOSTILE = "<script>alert('from a model')</script>"


@pytest.fixture(scope="module")
def autoif_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("view")
    summary = compose_and_run("autoif", *SMALL, run_dir=base / "run", cache_dir=base / "cache")
    assert summary["status"] == "ok", summary["error"]
    # model text can hold markup: a table whose row and rejected reason are HTML
    with duckdb.connect(str(base / "run" / "run.duckdb")) as con:
        con.execute("CREATE TABLE hostile AS SELECT 'hostile:1' AS id, ['constraint-00000'] AS parent_ids, ? AS text",
                    [HOSTILE])
        con.execute("CREATE TABLE hostile__rejected AS SELECT 'hostile:2' AS id, [] AS parent_ids, ? AS reason, "
                    "'' AS detail", [HOSTILE])
    return summary, base


def serve(root: Path, cache_dir: Path | None = None):
    server = make_server(root, 0, cache_dir)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def site(autoif_run):
    _, base = autoif_run
    server, url = serve(base / "run", base / "cache")
    yield url, base / "run"
    server.shutdown()
    server.server_close()


def get(url: str, host: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def is_png(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.headers["Content-Type"] == "image/png" and response.read(8) == b"\x89PNG\r\n\x1a\n"


def test_overview_shows_each_stage_with_its_counts_reasons_and_the_model_account(autoif_run, site):
    summary, _ = autoif_run
    url, _ = site
    status, page = get(url + "/")
    assert status == 200 and "autoif" in page and '<span class="ok">ok</span>' in page
    for name, s in summary["stages"].items():
        assert re.search(rf">{name}</a></td><td>{s['rows_in']:,}</td><td>{s['rows_out']:,}</td>", page), name
        assert f'class="stage">{name}</text>' in page  # the funnel chart
    assert f">duplicate {summary['stages']['constraints']['rejected']['duplicate']}</a>" in page
    assert "<td>judge</td><td>sim</td><td>sim-teacher</td>" in page
    assert f"<dt>calls</dt><dd>{summary['llm']['calls']}</dd>" in page
    assert f"<dt>executions</dt><dd>{summary['sandbox']['executions']:,}</dd>" in page
    assert "bad_removed" in page and 'src="/plot?name=funnel.png"' in page
    assert "refresh" not in page  # a finished run does not reload itself


def test_a_stage_table_pages_sorts_and_filters_in_sql(site):
    url, run_dir = site
    [(n,)] = table(run_dir, "select count(*) from verifier_cases")
    _, page = get(url + "/table?name=verifier_cases")
    assert f"{n:,} matching rows, page 1 of {(n + 49) // 50:,}" in page and "next →" in page
    [(top,)] = table(run_dir, "select max(number) from verifier_cases")
    _, page = get(url + "/table?name=verifier_cases&sort=number&desc=1")
    first_row = page.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert f"<td>{top}</td>" in first_row
    [(expected,)] = table(run_dir, "select count(*) from verifier_cases where expected and number < 3")
    _, page = get(url + "/table?name=verifier_cases&where=" + quote_plus("expected and number < 3"))
    assert f"<p>{expected:,} matching rows" in page
    [(some,)] = table(run_dir, "select count(*) from verifier_cases where input ilike '%section%' "
                               "or raw_output ilike '%section%'")
    _, page = get(url + "/table?name=verifier_cases&q=SECTION")
    assert 0 < some < n and f"<p>{some:,} matching rows" in page


def test_a_failing_where_filter_shows_duckdbs_message(site):
    url, _ = site
    status, page = get(url + "/table?name=constraints&where=" + quote_plus("no_such_column = 1"))
    assert status == 200 and "query failed: Binder Error" in page and "no_such_column" in page


def test_a_where_filter_cannot_add_a_statement(site, tmp_path):
    url, _ = site
    target = tmp_path / "written.csv"
    _, page = get(url + "/table?name=constraints&where=" + quote_plus(f"1=1); COPY (SELECT 1) TO '{target}' --"))
    assert "query failed" in page and not target.exists()


def test_rejected_rows_are_grouped_by_reason_with_examples(site):
    url, run_dir = site
    _, page = get(url + "/table?name=verifiers_kept")
    reasons = table(run_dir, "select reason, count(*) from verifiers_kept__rejected group by reason")
    assert reasons
    for reason, n in reasons:
        assert f"<h3>{reason} · {n:,} rows" in page
    [(example,)] = table(run_dir, "select id from verifiers_kept__rejected where reason = 'low_accuracy' limit 1")
    _, story = get(url + "/row?id=" + quote_plus(example))
    assert ">verifiers_kept__rejected</a> (low_accuracy)" in story


def test_a_rows_story_reaches_its_seed_and_shows_its_model_calls(site):
    url, run_dir = site
    [(row_id,)] = table(run_dir, "select id from responses_scored order by id limit 1")
    with duckdb.connect(str(run_dir / "run.duckdb"), read_only=True) as con:
        ancestors = trace(con, row_id)[1:]
    seeds = [rid for _, _, row, rid in ancestors if row is not None and not row.get("parent_ids")]
    _, page = get(url + "/row?id=" + quote_plus(row_id))
    lineage = page.split("<h2>Lineage</h2>", 1)[1].split("<h2>", 1)[0]
    assert seeds and all(f">{seed}</a> (seed)" in lineage for seed in seeds)
    assert "<b>seed_constraints</b>" in lineage and "<b>user_queries</b>" in lineage
    calls = page.split("<h2>Model calls</h2>", 1)[1]
    assert "<td>responses</td><td>generator</td>" in calls and "<td>responses_scored</td><td>judge</td>" in calls
    [(response,)] = table(run_dir, f"select response from responses_scored where id = '{row_id}'")
    assert "<h3>Reply" in calls and escape(response.split("\n", 1)[0][:40]) in calls  # from the response cache


def test_a_verifiers_story_shows_its_sandbox_outcomes(site):
    url, run_dir = site
    [(verifier_id,)] = table(run_dir, "select verifier_id from verifier_matrix group by verifier_id "
                                      "order by count(*) desc limit 1")
    per_status = table(run_dir, f"select status, count(*) from verifier_matrix where verifier_id = '{verifier_id}' "
                                "group by status")
    _, page = get(url + "/row?id=" + quote_plus(verifier_id))
    outcomes = page.split("<h2>Sandbox outcomes</h2>", 1)[1]
    for status, n in per_status:
        assert f"<td>{status}</td><td>{n}</td>" in outcomes


def test_model_text_is_escaped_everywhere_it_is_shown(site):
    url, _ = site
    pages = [get(url + path)[1] for path in ("/", "/table?name=hostile", "/row?id=hostile%3A1",
                                             "/table?name=hostile&q=" + quote_plus("<script>"))]
    for page in pages:
        assert "<script>" not in page
    assert all("&lt;script&gt;" in page for page in pages[1:])
    assert f"<h3>{escape(HOSTILE)} · 1 rows" in pages[1]  # the rejected reason


def test_plots_are_served_and_nothing_else_of_the_directory(site):
    url, _ = site
    assert is_png(url + "/plot?name=funnel.png")
    assert get(url + "/plot?name=../summary.json")[0] == 404 and get(url + "/nowhere")[0] == 404


def test_a_request_naming_another_host_is_refused(site):
    url, _ = site
    assert get(url + "/", host="attacker.example")[0] == 403


def test_the_viewer_holds_no_lock_between_requests(site):
    url, run_dir = site
    assert get(url + "/")[0] == 200 and get(url + "/table?name=constraints")[0] == 200
    write = ("import duckdb, sys; con = duckdb.connect(sys.argv[1]); con.execute('CREATE TABLE written AS SELECT 1');"
             "con.execute('DROP TABLE written')")
    res = subprocess.run([sys.executable, "-c", write, str(run_dir / "run.duckdb")], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr


def test_while_the_run_holds_the_file_the_page_says_refresh(site):
    url, run_dir = site
    hold = ("import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(run_dir / "run.duckdb")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        status, page = get(url + "/table?name=constraints")
        assert status == 503 and "the run is writing, refresh" in page and 'http-equiv="refresh"' in page
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert get(url + "/table?name=constraints")[0] == 200


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    base = tmp_path_factory.mktemp("sweep")
    res = subprocess.run([sys.executable, "-m", "engine", "-m", "+experiment=demo", "demo.per_round=2,4",
                          f"hydra.sweep.dir={base / 'sweep'}", f"cache_dir={base / 'cache'}", "progress=false"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr[-2000:]
    return base / "sweep"


def test_a_sweep_compares_its_jobs_config_and_counts(sweep):
    server, url = serve(sweep)
    try:
        status, page = get(url + "/")
        assert status == 200 and "<td>demo.per_round</td><td>2</td><td>4</td>" in page
        assert "<td>seed_constraints</td><td>48</td><td>48</td>" in page and "<td>≠ compounds</td>" in page
        status, job = get(url + "/?run=1")
        assert status == 200 and ">compounds</a>" in job and "job 1" in job
    finally:
        server.shutdown()
        server.server_close()


def test_the_autoif_comparison_figure_is_drawn_for_a_sweep_of_autoif_jobs(autoif_run):
    _, base = autoif_run
    server, url = serve(base)  # base holds one job directory, "run"
    try:
        _, page = get(url + "/")
        assert 'src="/compare.png"' in page
        assert is_png(url + "/compare.png")
    finally:
        server.shutdown()
        server.server_close()


def test_a_run_in_progress_shows_its_finished_stages_and_refreshes(sweep, tmp_path):
    live = tmp_path / "live"
    shutil.copytree(sweep / "0", live)
    (live / "summary.json").unlink()
    server, url = serve(live)
    try:
        _, page = get(url + "/")
        assert 'http-equiv="refresh"' in page and "in progress" in page
        [(n,)] = table(live, "select count(*) from compounds")
        assert 'class="stage">compounds</text>' in page
        assert re.search(rf">compounds</a></td><td>[\d,]+</td><td>{n:,}</td>", page)
    finally:
        server.shutdown()
        server.server_close()


def test_a_directory_without_a_run_is_a_clear_error(tmp_path):
    res = subprocess.run([sys.executable, "-m", "engine.view", str(tmp_path), "--port", "0"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "no run.duckdb or summary.json" in res.stderr
