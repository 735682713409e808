"""The embedded server: start, reuse, stale pid files after a crash, stop. Each test owns its data folder."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

from etl.warehouse import embedded


@pytest.fixture
def pgdata():
    root = Path(tempfile.mkdtemp(prefix="obsemb-"))
    yield root / "pg"
    embedded.stop(root / "pg")


def _answers(server: embedded.ServerStatus) -> bool:
    with psycopg2.connect(server.url()) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_database()")
        return cur.fetchone()[0] == embedded.DATABASE


def test_second_start_reuses_the_running_server(pgdata):
    first = embedded.start(pgdata)
    second = embedded.start(pgdata)
    assert first.running and second.pid == first.pid
    assert _answers(second)


def test_start_after_a_crash_ignores_the_stale_pid_file(pgdata):
    first = embedded.start(pgdata)
    os.kill(first.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while embedded.status(pgdata).running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (pgdata / "postmaster.pid").exists()
    assert not embedded.status(pgdata).running
    again = embedded.start(pgdata)
    assert again.running and again.pid != first.pid
    assert _answers(again)


def test_pid_file_naming_another_live_process_does_not_block_start(pgdata):
    first = embedded.start(pgdata)
    assert embedded.stop(pgdata)
    lines = [str(os.getpid()), str(pgdata), "0", "5432", str(pgdata), "", "0 0", "ready"]
    (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")
    assert not embedded.status(pgdata).running
    again = embedded.start(pgdata)
    assert again.running and again.pid not in (first.pid, os.getpid())
    assert _answers(again)


def test_stop_and_status(pgdata):
    embedded.start(pgdata)
    assert embedded.status(pgdata).running
    assert embedded.stop(pgdata) is True
    assert not embedded.status(pgdata).running
    assert embedded.stop(pgdata) is False
