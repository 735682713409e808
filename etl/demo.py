"""`make demo`: the platform's main job, end to end, on the embedded warehouse unless WAREHOUSE_URL is set.

Starts (or reuses) the warehouse, migrates it, runs every DAG in `dags/` through Airflow, and prints what
happened: each DAG's final state and duration, where the outputs and logs are, and whether the warehouse
state (fingerprint of every table but the run journals) is identical to the previous demo's.
"""

from __future__ import annotations

import json
import time

from etl import warehouse
from etl.config import DAGS_FOLDER, DATA_FOLDERS, Home
from etl.errors import ObservatoireError
from etl.orchestration import environment
from etl.warehouse import fingerprint, migrations
from etl.warehouse.urls import redact


def main() -> int:
    started = time.monotonic()
    home = Home.from_env().ensure()
    url = warehouse.url()
    engine = warehouse.engine(url)
    result = migrations.migrate(engine)
    print(f"Observatoire QPV demo: warehouse {redact(url)}")
    print(
        f"  schema version {result.after}" + (f" (migrated from {result.before or 'empty'})" if result.changed else "")
    )

    from etl.demo_data import drop_sample_files

    dropped = drop_sample_files(home)
    print(f"  sample files dropped in the inbox: {', '.join(dropped)}")

    environment.apply(home, url)
    from etl.orchestration import runner

    log_dir = home.root / "demo" / "logs"
    outcomes = runner.run_all(DAGS_FOLDER, log_dir)

    state = fingerprint.fingerprint(engine)
    state_file = home.root / "demo" / "last_state.json"
    previous = json.loads(state_file.read_text()) if state_file.exists() else None
    state_file.write_text(json.dumps(state, indent=1, sort_keys=True))

    print("\nDAG runs (through Airflow):")
    width = max(len(o.dag_id) for o in outcomes) if outcomes else 10
    for o in outcomes:
        extra = f"  failed tasks: {', '.join(o.failed_tasks)}" if o.failed_tasks else ""
        print(f"  {o.dag_id:<{width}}  {o.state:<8} {o.seconds:6.1f} s  log: {o.log_file}{extra}")

    _print_batches(engine)
    rows = sum(count for count, _ in state.values())
    print(f"\nWarehouse: {len(state)} tables, {rows} rows (run journals audit.*_log excluded)")
    if previous is None:
        print("  first demo on this warehouse: state recorded in " + str(state_file))
    else:
        changed = fingerprint.differences({k: tuple(v) for k, v in previous.items()}, state)
        print(
            "  identical to the previous demo run"
            if not changed
            else f"  changed since the previous demo run: {', '.join(changed)}"
        )
    print("\nWhere things are:")
    print(f"  runtime folder   {home.root}  ({', '.join(DATA_FOLDERS)})")
    print(f"  Data Docs        {home.folder('datadocs') / 'index.html'}")
    print(f"  Airflow home     {home.airflow_home}  (UI: make airflow)")
    print('  warehouse URL    observatoire warehouse url  (psql "$(.venv/bin/observatoire warehouse url)")')
    print(f"\nDone in {time.monotonic() - started:.0f} s.")

    failed = [o for o in outcomes if not o.ok]
    if failed:
        names = ", ".join(f"{o.dag_id} ({o.state})" for o in failed)
        raise ObservatoireError(f"{len(failed)} of {len(outcomes)} DAG runs did not succeed: {names}; see their logs.")
    return 0


def _print_batches(engine) -> None:
    """What was loaded, and what was rejected and why, from the audit tables."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        files = conn.execute(
            sa.text(
                "SELECT source_id, original_name, status, partition_key, rows_read, message, report_path "
                "FROM audit.batch ORDER BY source_id, batch_id"
            )
        ).all()
        received = conn.execute(
            sa.text("SELECT count(*) FILTER (WHERE outcome = 'duplicate'), count(*) FROM audit.receipt_log")
        ).one()
        counts = conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM core.region), (SELECT count(*) FROM core.departement), "
                "(SELECT count(*) FROM core.qpv WHERE geography = '2015'), "
                "(SELECT count(*) FROM core.qpv WHERE geography = '2024'), "
                "(SELECT count(*) FROM core.qpv_correspondance), (SELECT count(*) FROM core.qpv_veille_active), "
                "(SELECT count(*) FROM core.indicator WHERE family = 'convention_2014'), "
                "(SELECT count(*) FILTER (WHERE mode = 'national') FROM core.indicator), "
                "(SELECT count(*) FROM core.measure WHERE numero_parent IS NULL), "
                "(SELECT count(*) FROM core.period)"
            )
        ).one()
        summary = conn.execute(
            sa.text("SELECT statut, measures, percent FROM core.measure_status_summary ORDER BY measures")
        ).all()
        dq = conn.execute(sa.text("SELECT count(*), count(*) FILTER (WHERE NOT success) FROM audit.dq_result")).one()
    print("\nFiles (audit.batch):")
    for source_id, name, status, partition, rows, message, report in files:
        detail = f"partition {partition}, {rows} lines" if status == "loaded" else (message or "")
        print(f"  {source_id:<30} {name:<38} {status:<11} {detail}")
        if report:
            print(f"  {'':<30} report: {report}")
    print(f"  {received[1]} drops received in total, {received[0]} recognised as already received")
    regions, deps, q15, q24, corr, veille, ind, national, measures, periods = counts
    print("\nReference data (core):")
    print(
        f"  {regions} régions, {deps} départements, {q15} QPV 2015 + {q24} QPV 2024, {corr} correspondences "
        f"({veille} in veille active), {periods} periods"
    )
    print(
        f"  {ind} catalogue indicators of 2014 ({national} national, {ind - national} local), {measures} measures: "
        + ", ".join(f"{n} {s} ({p:.0f} %)" for s, n, p in summary)
    )
    print(f"  data-quality results: {dq[0]} expectations checked, {dq[1]} not met (audit.dq_result)")
