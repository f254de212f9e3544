"""A reader holding run.duckdb (a notebook, the DuckDB CLI) does not fail the run: it waits, and says what for."""

from __future__ import annotations

import logging
import subprocess
import sys

from engine.runner import run
from tests.conftest import table

F = "tests.engine.fixture_stages"
# holds the file until the test closes its stdin (once the run has said it waits), however long the run takes to
# reach the file on a busy machine; a fixed hold of a few seconds could end before the run even tried
HOLD = ("import duckdb, select, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print('holding', flush=True)\n"
        "select.select([sys.stdin], [], [], 300)\n")


class ReleaseOnWait(logging.Handler):
    """Lets the reader go when the run logs that it waits for the file."""

    def __init__(self, reader: subprocess.Popen):
        super().__init__(logging.WARNING)
        self.reader = reader

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("waiting for") and not self.reader.stdin.closed:
            self.reader.stdin.close()


def scaling(make_config, numbers_file, factor):
    return make_config({"numbers": {"source": str(numbers_file)},
                        "scaled": {"map": f"{F}:scaled", "inputs": ["numbers"], "params": {"factor": factor}}})


def test_a_run_waits_for_a_reader_holding_its_file_and_logs_the_wait(make_config, numbers_file, tmp_path, caplog):
    run(scaling(make_config, numbers_file, 2), tmp_path / "a")
    db = tmp_path / "a" / "run.duckdb"
    reader = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    release = ReleaseOnWait(reader)
    logging.getLogger("engine").addHandler(release)
    try:
        assert reader.stdout.readline().strip() == "holding"
        with caplog.at_level(logging.WARNING, logger="engine"):
            summary = run(scaling(make_config, numbers_file, 3), tmp_path / "a")
    finally:
        logging.getLogger("engine").removeHandler(release)
        if not reader.stdin.closed:
            reader.stdin.close()
        reader.wait(timeout=60)
    assert summary["status"] == "ok", summary["error"]
    assert table(tmp_path / "a", "select sum(n) from scaled") == [(135,)]
    waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("waiting for")]
    assert waits and str(db) in waits[0]
