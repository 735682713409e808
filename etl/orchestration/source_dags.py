"""The DAG of a declared source, built from its registry entry: wait for its file, run the path, emit its Assets.

`source_dag(source_id)` builds: a sensor that waits (rescheduling, not holding a worker slot) until a file
matching the source's patterns is in its inbox, or the run's period (the last complete one before its logical
date, or the `period` param) is already in the archive, failing when the producer is later than `wait`; the
ingest task (etl.orchestration.source_tasks); and the watcher that marks the run failed if a file was
quarantined. A DeadlineAlert mails that the file is late when the run has not finished `tolerance` (the
registry's `tolerance_days`) after it was queued and no file of the source came meanwhile
(etl.orchestration.notifiers.late_file). Schedule (`cadence`), tags and `doc_md` come from the entry
(etl.orchestration.source_docs). `source_dags()` builds one per entry that has its own DAG (dags/sources.py): an
entry the registry cannot validate gets a stand-in DAG of the same id whose only task fails with the registry's
error, so that a broken entry fails its own DAG and no other.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, DeadlineAlert, DeadlineReference, Param, SyncCallback, task

from etl.orchestration.defaults import DEFAULT_ARGS, START_DATE
from etl.orchestration.notifiers import late_file
from etl.orchestration.source_docs import SENSOR_POKE_MINUTES, SENSOR_WAIT, dag_doc
from etl.orchestration.source_tasks import ingest_task, watcher_task
from etl.sources.registry import RegistryError, own_dag_ids, source

SOURCE_TAG = "source"  # every DAG generated from a registry entry carries it


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
    wait: timedelta = SENSOR_WAIT,
    tolerance: timedelta | None = None,
) -> DAG:
    """The DAG of one entry; `schedule`, `wait` and `tolerance` override the registry's (tests)."""
    entry = source(source_id)
    with DAG(
        dag_id=source_id,
        schedule=schedule or entry.cadence,
        start_date=START_DATE,
        catchup=False,
        default_args=DEFAULT_ARGS,
        tags=[SOURCE_TAG, *entry.tags],
        doc_md=dag_doc(entry, schedule=schedule, wait=wait, tolerance=tolerance),
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

        @task.sensor(
            task_id="wait_for_file",
            poke_interval=SENSOR_POKE_MINUTES * 60,
            timeout=wait.total_seconds(),
            mode="reschedule",
        )
        def wait_for_file(params=None, logical_date=None) -> bool:
            from etl.referentiels.periods import run_period

            return ready(source_id, run_period(source(source_id).period, logical_date, params))

        waited = wait_for_file()
        ingest = ingest_task(source_id)()
        waited >> ingest
        [waited, ingest] >> watcher_task()()
    return dag


def stand_in_dag(source_id: str, error: str) -> DAG:
    """A DAG in place of the one an invalid entry cannot give: unscheduled, its only task fails with `error`."""
    with DAG(
        dag_id=source_id,
        schedule=None,
        start_date=START_DATE,
        catchup=False,
        default_args=DEFAULT_ARGS,
        tags=[SOURCE_TAG],
        doc_md=f"### {source_id}\n\nThis DAG cannot be built from `etl/sources/registry.yaml`: {error}\n",
    ) as dag:

        @task(task_id="registry_error")
        def registry_error() -> None:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(error)

        registry_error()
    return dag


def source_dags() -> dict[str, DAG]:
    """dag_id -> DAG, one per registry entry that has its own DAG (a stand-in for an invalid entry)."""
    dags = {}
    for source_id in own_dag_ids():
        try:
            dags[source_id] = source_dag(source_id)
        except RegistryError as exc:
            dags[source_id] = stand_in_dag(source_id, str(exc))
    return dags
