"""INSEE's QPV population through its Airflow DAG: the demo's workbook loads, the broken one is quarantined, and a run
for the population's year with nothing new reloads it from the archive, leaving the tables identical."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.config import DAGS_FOLDER, Home
from etl.orchestration import runner
from etl.warehouse.fingerprint import differences, fingerprint

pytestmark = [pytest.mark.airflow, pytest.mark.warehouse]

SOURCE = "insee_population"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, engine):
    from etl.samples.demo_data import drop_sample_files

    logs = tmp_path_factory.mktemp("airflow-logs")
    runner.prepare_metadata_db(logs)
    dags = runner.load_dags(DAGS_FOLDER)
    home = Home.from_env()
    for folder in ("inbox", "quarantine"):
        shutil.rmtree(home.folder(folder), ignore_errors=True)
    home.ensure()
    drop = drop_sample_files(home, sources={SOURCE})
    assert runner.run_dag(dags["referentiels"], logs).state == "success"
    return dags, drop, runner.run_dag(dags[SOURCE], logs), logs


def _rows(engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).all()


def test_the_workbook_loads_and_the_broken_one_is_quarantined(loaded, engine):
    _, drop, outcome, _ = loaded
    assert {name for source_id, name in drop.expected_quarantine if source_id == SOURCE} == {"pop_qpv_2020_broken.xlsx"}
    assert outcome.state == "failed"
    assert outcome.failed_tasks == ["fail_if_any_task_failed", f"ingest_{SOURCE}"]
    batches = dict(
        _rows(engine, f"SELECT original_name, status FROM audit.batch WHERE source_id = '{SOURCE}'")  # noqa: S608
    )
    assert batches == {"pop_qpv_2020.xlsx": "loaded", "pop_qpv_2020_broken.xlsx": "quarantined"}
    [(report,)] = _rows(engine, "SELECT report_path FROM audit.batch WHERE original_name = 'pop_qpv_2020_broken.xlsx'")
    assert "column territory_code" in Path(report).read_text(encoding="utf-8")
    [(qpv, figures, missing)] = _rows(
        engine,
        "SELECT (SELECT count(*) FROM core.qpv WHERE geography = '2024'), count(*), "
        "count(*) FILTER (WHERE status = 'missing' AND value IS NULL) FROM core.indicator_value "
        "WHERE indicator_code = 'INSEE_POP_QPV' AND period_code = '2020' AND breakdown = 'total'",
    )
    assert figures == qpv and 0 < missing < 50


def test_a_run_for_the_population_year_reloads_it_and_changes_nothing(loaded, engine):
    dags, _, _, logs = loaded
    before = fingerprint(engine)
    finished = "SELECT finished_at FROM audit.batch WHERE original_name = 'pop_qpv_2020.xlsx'"
    [(first_load,)] = _rows(engine, finished)
    # the run of 1 July 2025 is for 2024; asked for the population's year, it reloads 2020 from the archive
    outcome = runner.run_dag(
        dags[SOURCE], logs, "reload", logical_date=datetime(2025, 7, 1, 6, tzinfo=UTC), conf={"period": "2020"}
    )
    assert outcome.state == "success"
    [(reloaded,)] = _rows(engine, finished)
    assert reloaded > first_load  # really processed again, by that run
    after = fingerprint(engine)
    assert [t for t in differences(before, after) if t.startswith(("raw.", "staging.", "core."))] == []
