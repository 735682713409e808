"""The DAG of a declared source: wait for its file, run the path, emit its Assets. DAG files are one call.

`source_dag(source_id, schedule=..., wait=...)` builds: a sensor that waits (rescheduling, not holding a
worker slot) until a file matching the source's patterns is in its inbox, or the run's period (the last complete
one before its logical date, or the `period` param) is already in the archive, failing when the producer is
later than `wait`; the ingest task (etl.orchestration.source_tasks); and the watcher that marks the run failed if a
file was quarantined. A DeadlineAlert mails that the file is late when the run has not finished `tolerance` (the
registry's `tolerance_days`) after it was queued and no file of the source came meanwhile
(etl.orchestration.notifiers.late_file). The schedule defaults to the registry's `cadence`; a broken registry
entry fails only the DAG file that asks for it.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, DeadlineAlert, DeadlineReference, Param, SyncCallback, task

from etl.orchestration.defaults import DEFAULT_ARGS, START_DATE
from etl.orchestration.notifiers import late_file
from etl.orchestration.source_tasks import ingest_task, watcher_task
from etl.sources.registry import source


def ready(source_id: str, period: str | None) -> bool:
    """A file waits in the inbox, or the run's period is already in the archive (backfill / re-run)."""
    from etl import landing
    from etl.config import Home

    if landing.pending(Home.from_env(), source_id, source(source_id).patterns):
        return True
    if period is None:
        return False
    from etl import pipeline
    from etl.orchestration.connections import warehouse_engine

    loaded = pipeline.loaded_partitions(warehouse_engine(), source_id)
    return any(p == period or p.endswith(f"/{period}") for p in loaded)


def source_dag(
    source_id: str,
    *,
    schedule: str | None = None,
    wait: timedelta = timedelta(days=3),
    tolerance: timedelta | None = None,
    tags: tuple[str, ...] = (),
    doc_md: str | None = None,
) -> DAG:
    entry = source(source_id)
    with DAG(
        dag_id=source_id,
        schedule=schedule or entry.cadence,
        start_date=START_DATE,
        catchup=False,
        default_args=DEFAULT_ARGS,
        tags=["source", *tags],
        doc_md=doc_md
        or f"### {source_id}\n\n{entry.description}\n\nProducer: {entry.producer}. "
        f"Cadence: `{schedule or entry.cadence}`. Patterns: {', '.join(entry.patterns)}.",
        max_active_runs=1,
        deadline=DeadlineAlert(
            reference=DeadlineReference.DAGRUN_QUEUED_AT,
            interval=tolerance if tolerance is not None else timedelta(days=entry.tolerance_days),
            callback=SyncCallback(late_file, kwargs={"source_id": source_id}),
            name="late_file",
        ),
        params={
            "period": Param(
                None,
                type=["null", "string"],
                description="Re-run one period (2024-03, 2024-Q1, 2024) from the archive; empty: the run's period.",
            )
        },
    ) as dag:

        @task.sensor(task_id="wait_for_file", poke_interval=600, timeout=wait.total_seconds(), mode="reschedule")
        def wait_for_file(params=None, logical_date=None) -> bool:
            from etl.referentiels.periods import run_period

            return ready(source_id, run_period(source(source_id).period, logical_date, params))

        waited = wait_for_file()
        ingest = ingest_task(source_id)()
        waited >> ingest
        [waited, ingest] >> watcher_task()()
    return dag
