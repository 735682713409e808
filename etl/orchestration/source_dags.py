"""The DAG of a declared source: wait for its file, run the path, emit its Assets. DAG files are one call.

`source_dag(source_id, schedule=..., wait=...)` builds: a sensor that waits (rescheduling, not holding a
worker slot) until a file matching the source's patterns is in its inbox, failing when the producer is
later than `wait` (a late file is an alert, not a silence); the ingest task (etl.orchestration.source_tasks);
and the watcher that marks the run failed if a file was quarantined. The schedule defaults to the
registry's `cadence`; a broken registry entry fails only the DAG file that asks for it.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, task

from etl.orchestration.defaults import DEFAULT_ARGS, START_DATE
from etl.orchestration.source_tasks import ingest_task, watcher_task
from etl.sources.registry import source


def inbox_has_files(source_id: str) -> bool:
    from etl import landing
    from etl.config import Home

    return bool(landing.pending(Home.from_env(), source_id, source(source_id).patterns))


def source_dag(
    source_id: str,
    *,
    schedule: str | None = None,
    wait: timedelta = timedelta(days=3),
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
    ) as dag:

        @task.sensor(task_id="wait_for_file", poke_interval=600, timeout=wait.total_seconds(), mode="reschedule")
        def wait_for_file() -> bool:
            return inbox_has_files(source_id)

        waited = wait_for_file()
        ingest = ingest_task(source_id)()
        waited >> ingest
        [waited, ingest] >> watcher_task()()
    return dag
