"""Warehouse care (etl/maintenance.py) on a warehouse and runtime folder of the test's own."""

from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from etl import landing, maintenance

pytestmark = pytest.mark.warehouse


def test_vacuum_analyze_does_the_tables_that_changed(isolated):
    with isolated.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO raw.cog_region (batch_id, line_no, code, nom) VALUES (1, 1, '84', 'x')"))
        conn.execute(sa.text("SELECT pg_stat_force_next_flush()"))  # this backend's counters, at commit
    done = maintenance.vacuum_analyze(isolated.engine)
    assert "raw.cog_region" in done
    with isolated.engine.connect() as conn:
        analyzed = conn.execute(
            sa.text(
                "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE schemaname = 'raw' AND relname = 'cog_region'"
            )  # fmt: skip
        ).one()
    assert tuple(analyzed) == (True, True)


def test_the_archive_report_counts_files_and_fails_when_a_copy_is_missing(isolated, tmp_path):
    dropped = tmp_path / "regions.csv"
    dropped.write_text("code;nom\n84;Auvergne-Rhône-Alpes\n", encoding="utf-8")
    receipt = landing.receive(isolated.engine, isolated.home, "cog_regions", dropped)
    rows = maintenance.archive_report(isolated.engine, isolated.home, "run-1")
    assert rows == [
        {
            "source_id": "cog_regions",
            "files": 1,
            "bytes": receipt.size_bytes,
            "registered": 1,
            "missing": 0,
            "outside": 0,
        }
    ]
    receipt.archive_path.chmod(0o644)
    receipt.archive_path.unlink()  # something deleted part of the archive
    with pytest.raises(maintenance.ArchiveDamaged, match=r"cog_regions \(1\)"):
        maintenance.archive_report(isolated.engine, isolated.home, "run-2")
    with isolated.engine.connect() as conn:
        journal = conn.execute(
            sa.text("SELECT run_id, files, missing FROM audit.archive_size_log ORDER BY log_id")
        ).all()
    assert [tuple(r) for r in journal] == [("run-1", 1, 0), ("run-2", 0, 1)]  # the report is kept, then it fails


def test_files_registered_in_another_runtime_folder_are_reported_not_checked(isolated, tmp_path):
    from etl.config import Home

    elsewhere = Home(tmp_path / "other-home").ensure()
    dropped = tmp_path / "departements.csv"
    dropped.write_text("code;nom;code_region\n01;Ain;84\n", encoding="utf-8")
    landing.receive(isolated.engine, elsewhere, "cog_departements", dropped)
    rows = {r["source_id"]: r for r in maintenance.archive_report(isolated.engine, isolated.home)}
    assert (rows["cog_departements"]["registered"], rows["cog_departements"]["outside"]) == (0, 1)


def test_old_task_logs_are_deleted_and_recent_ones_kept(tmp_path):
    old = tmp_path / "dag_id=x" / "run_id=1" / "task.log"
    recent = tmp_path / "dag_id=x" / "run_id=2" / "task.log"
    for path in (old, recent):
        path.parent.mkdir(parents=True)
        path.write_text("log")
    now = time.time()
    os.utime(old, (now - 91 * 86400, now - 91 * 86400))
    assert maintenance.clean_task_logs(tmp_path, 90, now=now) == 1
    assert not old.exists() and not old.parent.exists() and recent.exists()
