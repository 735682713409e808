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


def _runs_with(server: embedded.ServerStatus, name: str, size: str) -> bool:
    with psycopg2.connect(server.url()) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_size_bytes(current_setting(%s)) = pg_size_bytes(%s)", (name, size))
        return cur.fetchone()[0]


def test_settings_are_sized_on_the_machines_memory_within_bounds():
    gib = 1 << 30
    assert embedded.settings(2 * gib) == {"shared_buffers": "512MB", "effective_cache_size": "1024MB"}
    assert embedded.settings(gib // 4)["shared_buffers"] == "128MB"  # PostgreSQL's own default, never less
    assert embedded.settings(64 * gib) == {"shared_buffers": "2048MB", "effective_cache_size": "16384MB"}


def test_a_new_server_runs_with_the_settings_and_a_restart_restores_them(pgdata):
    import psutil

    wanted = embedded.settings(psutil.virtual_memory().total)
    server = embedded.start(pgdata)
    assert wanted["shared_buffers"] != "128MB"  # this machine's setting differs from PostgreSQL's default
    assert _runs_with(server, "shared_buffers", wanted["shared_buffers"])
    assert _runs_with(server, "effective_cache_size", wanted["effective_cache_size"])
    # a folder whose settings were changed by hand (or written by an older version) gets them back at its next start
    embedded.stop(pgdata)
    (pgdata / embedded.SETTINGS_FILE).write_text("shared_buffers = '128MB'\n", encoding="utf-8")
    server = embedded.start(pgdata)
    assert _runs_with(server, "shared_buffers", wanted["shared_buffers"])
    assert (pgdata / "postgresql.conf").read_text(encoding="utf-8").count(embedded.SETTINGS_FILE) == 1
