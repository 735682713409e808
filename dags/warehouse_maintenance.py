"""
### warehouse_maintenance

Keeps the warehouse fit for the loads: applies pending schema migrations (`sql/migrations/`), appends a
heartbeat line to `audit.heartbeat_log` (proof that the scheduler reaches the warehouse through the
`warehouse` connection), then refreshes planner statistics.

| what | value |
|---|---|
| schedule | daily, 03:00 Europe/Paris |
| reads / writes | the `warehouse` connection: `audit.alembic_version`, `audit.heartbeat_log` |
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
    def analyze(_beat_id: int) -> None:
        from etl import maintenance
        from etl.orchestration.connections import warehouse_engine

        maintenance.analyze(warehouse_engine())

    analyze(heartbeat(migrate()))


warehouse_maintenance()
