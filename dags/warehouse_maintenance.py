"""
### warehouse_maintenance

Keeps the warehouse fit for the loads: applies pending schema migrations (`sql/migrations/`), appends a
heartbeat line to `audit.heartbeat_log` (proof that the scheduler reaches the warehouse through the
`warehouse` connection), then `VACUUM (ANALYZE)` of the tables that changed since their last analyze, a report of
the archive's size per source in `audit.archive_size_log` (the archive is never deleted; the task fails if a
registered file lost its archive copy), and the deletion of Airflow task logs older than
`OBSERVATOIRE_LOG_RETENTION_DAYS` (default 90).

| what | value |
|---|---|
| schedule | daily, 03:00 Europe/Paris |
| reads / writes | the `warehouse` connection: `audit.alembic_version`, `audit.heartbeat_log`, `audit.archive_size_log`; `archive/` (read only), Airflow's `logs/` |
| on failure | retried twice; a migration failure names the revision and PostgreSQL's reason |
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

    beat = heartbeat(migrate())
    vacuum_analyze(beat)
    archive_report(beat)
    clean_task_logs()


warehouse_maintenance()
