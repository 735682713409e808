"""warehouse_maintenance really runs through Airflow (dag.test) against the test warehouse, and its
`clean_airflow_metadata` task really purges Airflow's metadata database (`airflow db clean` in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from etl import maintenance
from etl.config import DAGS_FOLDER
from etl.orchestration import runner
from etl.warehouse import migrations

pytestmark = [pytest.mark.airflow, pytest.mark.warehouse]

OLD_DAYS, RECENT_DAYS = 200, 10  # either side of the default retention (90 days)


@pytest.fixture(scope="module")
def dags(tmp_path_factory):
    runner.prepare_metadata_db(tmp_path_factory.mktemp("airflow-logs"))
    return runner.load_dags(DAGS_FOLDER)


def _beats(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM audit.heartbeat_log")).scalar()


def _seed_metadata() -> None:
    """Dag runs, audit log lines and jobs in Airflow's metadata database (Airflow's own models), one of each dated
    OLD_DAYS ago and one RECENT_DAYS ago."""
    from airflow.jobs.job import Job
    from airflow.models.dagrun import DagRun
    from airflow.models.log import Log
    from airflow.utils import timezone
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    now = timezone.utcnow()
    with create_session() as session:
        for age in (OLD_DAYS, RECENT_DAYS):
            when = now - timedelta(days=age)
            session.add(
                DagRun(
                    dag_id="warehouse_maintenance",
                    run_id=f"obs_test_{age}_days",
                    run_type=DagRunType.MANUAL,
                    logical_date=when,
                    run_after=when,
                    start_date=when,
                    state=DagRunState.SUCCESS,
                    triggered_by=DagRunTriggeredByType.TEST,
                )
            )
            log = Log(event=f"obs_test_{age}_days")
            log.dttm = when
            session.add(log)
            job = Job()
            job.job_type, job.state = f"obs_test_{age}_days", "success"
            job.start_date = job.latest_heartbeat = when
            session.add(job)


def _metadata_left() -> dict[str, set[str]]:
    """The seeded rows still in the metadata database, per table."""
    from airflow.utils.session import create_session

    queries = {
        "dag_run": "SELECT run_id FROM dag_run WHERE run_id LIKE 'obs_test_%'",
        "log": "SELECT event FROM log WHERE event LIKE 'obs_test_%'",
        "job": "SELECT job_type FROM job WHERE job_type LIKE 'obs_test_%'",
    }
    with create_session() as session:
        return {table: set(session.execute(sa.text(sql)).scalars()) for table, sql in queries.items()}


def _purged_by_last_run() -> dict[str, int]:
    """What the last `clean_airflow_metadata` task returned (its XCom): rows purged per table."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            sa.select(XComModel)
            .where(
                XComModel.dag_id == "warehouse_maintenance",
                XComModel.task_id == "clean_airflow_metadata",
                XComModel.key == "return_value",
            )
            .order_by(XComModel.timestamp.desc())
            .limit(1)
        ).first()
        return XComModel.deserialize_value(row) if row is not None else {}


@pytest.fixture(scope="module")
def maintenance_run(dags, engine, tmp_path_factory):
    """One run of the DAG, with old and recent metadata seeded before it."""
    before = _beats(engine)
    _seed_metadata()
    seeded = _metadata_left()
    outcome = runner.run_dag(dags["warehouse_maintenance"], tmp_path_factory.mktemp("maintenance-run"))
    return SimpleNamespace(
        outcome=outcome, beats_before=before, seeded=seeded, left=_metadata_left(), purged=_purged_by_last_run()
    )


def test_run_succeeds_and_records_a_heartbeat(maintenance_run, engine):
    outcome = maintenance_run.outcome
    assert outcome.state == "success", outcome.log_file.read_text()[-3000:]
    assert outcome.failed_tasks == []
    assert _beats(engine) == maintenance_run.beats_before + 1
    with engine.connect() as conn:
        dag_id, version = conn.execute(
            sa.text("SELECT dag_id, schema_version FROM audit.heartbeat_log ORDER BY beat_id DESC LIMIT 1")
        ).one()
    assert (dag_id, version) == ("warehouse_maintenance", migrations.head())


def test_metadata_older_than_the_retention_is_purged_and_recent_metadata_stays(maintenance_run):
    old, recent = f"obs_test_{OLD_DAYS}_days", f"obs_test_{RECENT_DAYS}_days"
    expected = {"dag_run": {old, recent}, "log": {old, recent}, "job": {old, recent}}
    assert maintenance_run.seeded == expected
    assert maintenance_run.outcome.state == "success", maintenance_run.outcome.log_file.read_text()[-3000:]
    assert maintenance_run.left == {"dag_run": {recent}, "log": {recent}, "job": {recent}}
    # the task's summary counts them (other tests of the session may have left old runs too: dag.test() dates a
    # backfill's run at its logical date), and every table Airflow cleans was checked
    purged = maintenance_run.purged
    assert min(purged["dag_run"], purged["log"], purged["job"]) >= 1
    assert {"task_instance", "xcom", "asset_event", "import_error"} <= set(purged)


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


def test_metadata_clean_fails_with_one_sentence_when_the_cli_cannot_reach_the_metadata_db(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{tmp_path}/no/such/folder/airflow.db")
    with pytest.raises(maintenance.MetadataCleanFailed) as failure:
        maintenance.clean_airflow_metadata(90)
    message = str(failure.value)
    assert message.startswith("airflow db clean exited with code ")
    assert "\n" not in message and message.endswith("run the task again.")


# Run in a process that hides the metadata database exactly as Airflow's task supervisor does in a real worker
# (block_orm_access, then the task runner's setproctitle, which also wipes /proc/self/environ), then purges three ways.
HIDDEN_WORKER = """
import json, os, sys
import airflow.settings
from airflow.sdk.execution_time.supervisor import block_orm_access
from setproctitle import setproctitle
block_orm_access()
setproctitle("airflow worker -- 0199c1b2-0000-7000-8000-000000000000")
assert os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("airflow-db-not-allowed")
from etl import maintenance

def purge():
    try:
        return len(maintenance.clean_airflow_metadata(90, granted=maintenance.granted_metadata_url())[1])
    except maintenance.MetadataCleanFailed as exc:
        return str(exc)

outcomes = {"local": purge()}  # no grant: airflow.cfg of AIRFLOW_HOME names the same SQLite file
os.environ["AIRFLOW_HOME"] = sys.argv[1]  # an Airflow home of its own: the fallback reaches another database
outcomes["elsewhere"] = purge()
os.environ["AIRFLOW_CONN_AIRFLOW_METADATA"] = sys.argv[2]  # the deployment grants the database to the task
outcomes["granted"] = purge()
print(json.dumps(outcomes))
"""


def test_in_a_real_worker_the_purge_reaches_the_metadata_db_or_fails_saying_how_to_grant_it(tmp_path):
    """A worker (CeleryExecutor, docker-compose) started with the metadata database URL only in its environment
    cannot give it to its tasks: without the `airflow_metadata` connection the purge must fail with the remedy, not
    succeed on an empty database; with it, the purge checks Airflow's tables."""
    metadata_url = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    result = subprocess.run(
        [sys.executable, "-c", HIDDEN_WORKER, str(tmp_path / "other-airflow-home"), metadata_url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]
    outcomes = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcomes["local"] >= 10  # dag_run, task_instance, xcom, log, job, ...: the CLI really read them
    assert outcomes["elsewhere"].startswith("airflow db clean found none of Airflow's tables")
    assert "AIRFLOW_CONN_AIRFLOW_METADATA" in outcomes["elsewhere"] and "\n" not in outcomes["elsewhere"]
    assert outcomes["granted"] == outcomes["local"]


def test_cli_environment_passes_the_granted_url_only_where_airflow_hid_it():
    blocked = "airflow-db-not-allowed:///"
    real = "postgresql+psycopg2://airflow@db/airflow"
    env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": blocked, "AIRFLOW__CORE__SQL_ALCHEMY_CONN": blocked, "X": "1"}
    # hidden, and granted: the grant is the CLI's metadata database
    assert maintenance.airflow_cli_environment(env, granted=real) == {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": real,
        "X": "1",
    }
    # hidden, no grant: the markers go, so the CLI reads airflow.cfg (or a _CMD / _SECRET variable)
    assert maintenance.airflow_cli_environment(env) == {"X": "1"}
    # nothing hidden (dag.test, a CLI run by hand): the environment is passed as it is, a grant does not override it
    plain = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "sqlite:////x/airflow.db", "X": "1"}
    assert maintenance.airflow_cli_environment(plain, granted=real) == plain
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == blocked  # the caller's mapping is not modified


def test_granted_connections_become_sqlalchemy_urls():
    from airflow.sdk import Connection

    def url(uri):
        return maintenance.connection_sqlalchemy_url(Connection.from_uri(uri, conn_id="airflow_metadata"))

    assert (
        url("postgresql://airflow:p%40ss@postgres:5432/airflow") == "postgresql://airflow:p%40ss@postgres:5432/airflow"
    )
    assert url("postgresql+psycopg://postgres@127.0.0.1:5432/af") == "postgresql+psycopg://postgres@127.0.0.1:5432/af"
    assert url("sqlite:////srv/airflow/airflow.db") == "sqlite:////srv/airflow/airflow.db"
    sqlite = Connection(conn_id="airflow_metadata", conn_type="sqlite", host="/srv/airflow/airflow.db")
    assert maintenance.connection_sqlalchemy_url(sqlite) == "sqlite:////srv/airflow/airflow.db"


def test_metadata_clean_output_is_read_per_table():
    output = (
        "\nChecking table log\nFound 12 rows meeting deletion criteria.\nPerforming Delete...\n"
        "Finished Performing Delete\n2026-01-01 [warning  ] Table celery_taskmeta not found.  Skipping.\n"
        "\nChecking table dag_run\nFound 0 rows meeting deletion criteria.\n"
    )
    assert maintenance.parse_metadata_clean_output(output) == {"log": 12, "dag_run": 0}
    argv = maintenance.metadata_clean_argv(datetime(2026, 1, 1, tzinfo=UTC))
    assert argv[1:] == [
        "-m",
        "airflow",
        "db",
        "clean",
        "--clean-before-timestamp",
        "2026-01-01T00:00:00+00:00",
        "--yes",
        "--skip-archive",
        "--error-on-cleanup-failure",
    ]
