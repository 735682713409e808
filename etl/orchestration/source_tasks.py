"""Task builders shared by the source DAGs: one `ingest_<source>` task per registry entry.

`ingest_task(source_id)` reads the registry entry at parse time (YAML only; a broken entry raises
RegistryError, failing just the DAG that asked for it) and returns a TaskFlow task that runs the whole
path for that source (etl.pipeline.ingest) and, for a run about a period already loaded (backfill, re-run),
reloads that period from the archive (etl.pipeline.reload); it emits the entry's Airflow Assets when it
succeeds, and fails without retrying when a batch was quarantined (a data problem is not fixed by trying
again), after the other batches were loaded.
"""

from __future__ import annotations

from airflow.sdk import Asset, task

from etl.orchestration.notifiers import FailureAlert
from etl.sources.registry import source


def assets_of(source_id: str) -> list[Asset]:
    entry = source(source_id)
    return [Asset(name=uri.rsplit("/", 2)[-2] + "." + uri.rsplit("/", 1)[-1], uri=uri) for uri in entry.assets]


def ingest_task(source_id: str, **task_kwargs):
    entry = source(source_id)

    @task(
        task_id=f"ingest_{source_id}",
        outlets=assets_of(source_id),
        doc_md=entry.description,
        on_failure_callback=FailureAlert(sources=[source_id]),
        **task_kwargs,
    )
    def ingest(dag_run=None, params=None, logical_date=None) -> dict:
        from etl.referentiels.periods import run_period

        period = run_period(source(source_id).period, logical_date, params)
        return run_ingest(source_id, dag_run.run_id if dag_run else None, period)

    return ingest


def run_ingest(source_id: str, run_id: str | None, period: str | None = None) -> dict:
    """Body of an ingest task (kept out of the decorator so tests and the CLI can call it).

    Receives and loads what waits in the inbox; then, when the run is for a period that no file of this run
    loaded but an earlier one did (a backfill or a re-run), reloads that period from the archive."""
    from airflow.sdk.exceptions import AirflowFailException

    from etl import pipeline
    from etl.orchestration.connections import warehouse_engine

    engine = warehouse_engine()
    report = pipeline.ingest(engine, source(source_id), run_id=run_id)
    fresh = {b.partition for b in report.batches if b.status == "loaded"}
    if period and not any(p == period or p.endswith(f"/{period}") for p in fresh):
        reloaded = pipeline.reload(engine, source(source_id), period, run_id=run_id)
        if reloaded.batches:
            print(f"{source_id}: period {period} reloaded from the archive ({len(reloaded.batches)} file(s))")
        report.batches += reloaded.batches
    print(report.summary())
    for batch in report.batches:
        line = f"  batch {batch.batch_id} {batch.original_name}: {batch.status}"
        if batch.status == "loaded":
            line += f" (partition {batch.partition}, {batch.rows} rows)"
        else:
            line += f": {batch.reason} (report: {batch.report})"
        print(line)
        for warning in batch.warnings:
            print(f"    warning: {warning}")
    if report.quarantined:
        names = ", ".join(b.original_name for b in report.quarantined)
        raise AirflowFailException(
            f"{len(report.quarantined)} file(s) of {source_id} quarantined ({names}): read the reports in quarantine/."
        )
    return {"loaded": [b.batch_id for b in report.batches], "duplicates": len(report.duplicates)}


def stage_repository_files() -> list[str]:
    """Drop the reference files versioned in the repository (the registry's `repository_files`) into their sources'
    inboxes."""
    import shutil

    from etl.config import PROJECT_ROOT, Home
    from etl.sources.registry import source_ids

    home = Home.from_env()
    dropped = []
    for source_id in [s for s in source_ids() if source(s).repository_files]:
        inbox = home.folder("inbox") / source_id
        inbox.mkdir(parents=True, exist_ok=True)
        for rel in source(source_id).repository_files:
            shutil.copyfile(PROJECT_ROOT / rel, inbox / (PROJECT_ROOT / rel).name)
            dropped.append(f"{source_id}/{(PROJECT_ROOT / rel).name}")
    return dropped


def watcher_task():
    """A last task that runs only when some task failed, and fails too, so that the DagRun shows `failed`.

    Ingest tasks run with trigger rule `all_done` (a quarantined file must not stop the next source), so a
    failure in the middle of a DAG would otherwise leave the run green. `one_failed` looks only at direct
    upstream tasks, so wire it after every other task. It mails nothing: the failure it repeats was mailed.
    """

    @task(task_id="fail_if_any_task_failed", trigger_rule="one_failed", on_failure_callback=[])
    def watcher() -> None:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("at least one task of this run failed: open the red task's log for the reason.")

    return watcher
