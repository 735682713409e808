"""
### warehouse_maintenance

Keeps the warehouse fit for the loads: applies pending schema migrations (`sql/migrations/`), appends a
heartbeat line to `audit.heartbeat_log` (proof that the scheduler reaches the warehouse through the
`warehouse` connection), then `VACUUM (ANALYZE)` of the tables that changed since their last analyze, a report of
the archive's size per source in `audit.archive_size_log` (the archive is never deleted; the task fails if a
registered file lost its archive copy), the deletion of Airflow task logs older than
`OBSERVATOIRE_LOG_RETENTION_DAYS` (default 90), and the purge of Airflow's metadata database of rows older than
`OBSERVATOIRE_METADATA_RETENTION_DAYS` (default 90) with `airflow db clean --skip-archive` (dag runs, task
instances, XComs, jobs, the audit log, asset events, ...; the latest scheduled run of each DAG is kept). Airflow 3
hides its metadata database from task processes: on a worker started with the URL only in its environment
(CeleryExecutor, docker-compose), the deployment grants it to this task as the connection `airflow_metadata`
(`AIRFLOW_CONN_AIRFLOW_METADATA`); the local `make airflow` needs none (the CLI finds the SQLite file through
`airflow.cfg`). A purge that reaches no Airflow table fails instead of succeeding empty.

| what | value |
|---|---|
| schedule | daily, 03:00 Europe/Paris |
| reads / writes | the `warehouse` connection: `audit.alembic_version`, `audit.heartbeat_log`, `audit.archive_size_log`; `archive/` (read only), Airflow's `logs/`; Airflow's metadata database (the `airflow db clean` CLI in a subprocess; connection `airflow_metadata` where the worker does not see it) |
| tasks | `migrate` → `heartbeat` → `vacuum_analyze`, `archive_report`; `clean_task_logs`; `clean_airflow_metadata` |
| on failure | retried twice; a migration failure names the revision and PostgreSQL's reason; a failed `airflow db clean` gives its exit code and last error line |
"""

from airflow.sdk import dag, task

from etl.orchestration.defaults import DEFAULT_ARGS, START_DATE


@dag(
    dag_id="warehouse_maintenance",
    schedule="0 3 * * *",
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["maintenance", "warehouse"],
    doc_md=__doc__,
    max_active_runs=1,
)
def warehouse_maintenance():
    @task
    def migrate() -> str:
        from etl import maintenance
        from etl.orchestration.connections import warehouse_engine

        return maintenance.migrate(warehouse_engine())

    @task
    def heartbeat(schema_version: str, dag_run=None) -> int:
        from etl import maintenance
        from etl.orchestration.connections import warehouse_engine

        print(f"warehouse at schema version {schema_version}")
        return maintenance.record_heartbeat(warehouse_engine(), dag_run.dag_id, dag_run.run_id)

    @task
    def vacuum_analyze(_beat_id: int) -> list[str]:
        from etl import maintenance
        from etl.orchestration.connections import warehouse_engine

        tables = maintenance.vacuum_analyze(warehouse_engine())
        print(f"VACUUM (ANALYZE) of {len(tables)} changed table(s): {', '.join(tables) or 'none'}")
        return tables

    @task
    def archive_report(_beat_id: int, dag_run=None) -> list[dict]:
        from etl import maintenance
        from etl.config import Home
        from etl.orchestration.connections import warehouse_engine

        rows = maintenance.archive_report(warehouse_engine(), Home.from_env(), dag_run.run_id if dag_run else None)
        for row in rows:
            outside = f", {row['outside']} registered outside this archive" if row["outside"] else ""
            print(
                f"  {row['source_id']}: {row['files']} file(s), {row['bytes']} bytes, {row['registered']} registered{outside}"
            )
        return rows

    @task
    def clean_task_logs() -> int:
        import os

        from etl import maintenance
        from etl.config import Home

        days = int(os.environ.get("OBSERVATOIRE_LOG_RETENTION_DAYS", "90"))
        deleted = maintenance.clean_task_logs(Home.from_env().airflow_home / "logs", days)
        print(f"{deleted} Airflow task log file(s) older than {days} days deleted")
        return deleted

    @task
    def clean_airflow_metadata() -> dict[str, int]:
        import os

        from etl import maintenance

        days = int(os.environ.get("OBSERVATOIRE_METADATA_RETENTION_DAYS", maintenance.METADATA_RETENTION_DAYS))
        granted = maintenance.granted_metadata_url()
        before, purged, _output = maintenance.clean_airflow_metadata(days, granted=granted)
        print(maintenance.metadata_clean_summary(before, purged, days))
        return purged

    beat = heartbeat(migrate())
    vacuum_analyze(beat)
    archive_report(beat)
    clean_task_logs()
    clean_airflow_metadata()


warehouse_maintenance()
