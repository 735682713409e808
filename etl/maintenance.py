"""Routine warehouse care run by the `warehouse_maintenance` DAG: migrate, record a heartbeat, refresh stats."""

from __future__ import annotations

from etl.warehouse import migrations


def migrate(engine) -> str:
    """Bring the warehouse to the newest schema version and return it."""
    return migrations.migrate(engine).after


def record_heartbeat(engine, dag_id: str, run_id: str) -> int:
    """Append one line to audit.heartbeat_log; returns its id."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        return conn.execute(
            sa.text(
                "INSERT INTO audit.heartbeat_log (dag_id, run_id, schema_version, server_version) "
                "SELECT :dag_id, :run_id, version_num, current_setting('server_version') "
                "FROM audit.alembic_version RETURNING beat_id"
            ),
            {"dag_id": dag_id, "run_id": run_id},
        ).scalar_one()


def analyze(engine) -> None:
    """Refresh planner statistics so that queries on freshly loaded tables get good plans."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
