"""warehouse_maintenance really runs through Airflow (dag.test) against the test warehouse."""

from __future__ import annotations

import json
import os

import pytest
import sqlalchemy as sa

from etl.config import DAGS_FOLDER
from etl.orchestration import runner
from etl.warehouse import migrations

pytestmark = [pytest.mark.airflow, pytest.mark.warehouse]


@pytest.fixture(scope="module")
def dags(tmp_path_factory):
    runner.prepare_metadata_db(tmp_path_factory.mktemp("airflow-logs"))
    return runner.load_dags(DAGS_FOLDER)


def _beats(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM audit.heartbeat_log")).scalar()


def test_run_succeeds_and_records_a_heartbeat(dags, engine, tmp_path):
    before = _beats(engine)
    outcome = runner.run_dag(dags["warehouse_maintenance"], tmp_path)
    assert outcome.state == "success", outcome.log_file.read_text()[-3000:]
    assert outcome.failed_tasks == []
    assert _beats(engine) == before + 1
    with engine.connect() as conn:
        dag_id, version = conn.execute(
            sa.text("SELECT dag_id, schema_version FROM audit.heartbeat_log ORDER BY beat_id DESC LIMIT 1")
        ).one()
    assert (dag_id, version) == ("warehouse_maintenance", migrations.head())


def test_unreachable_warehouse_fails_the_run_visibly(dags, tmp_path, monkeypatch):
    conn = json.loads(os.environ["AIRFLOW_CONN_WAREHOUSE"])
    conn.update(host="127.0.0.1", port=1)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(conn))
    dag = dags["warehouse_maintenance"]
    for task in dag.tasks:
        monkeypatch.setattr(task, "retries", 0)
    outcome = runner.run_dag(dag, tmp_path)
    assert outcome.state == "failed"
    assert outcome.failed_tasks == ["migrate"]
