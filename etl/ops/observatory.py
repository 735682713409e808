"""The observatory's state, as the "Observatoire" page of the Airflow UI shows it (plugins/observatoire.py).

`sources(engine, now)`: per declared source (etl/sources/registry.yaml), the last file received and the layout it was
read with ("Format détecté", one of the source's declared layouts, `audit.batch.layout`), the last successful
load and its vintage (partition), the blocking and warning data-quality results of the last batch, the next file
expected from the source's cadence and whether it is late (the last delivery is older than the last expected date
plus the source's `tolerance_days`, as its DAG's deadline alert). `campaigns(engine)`: per regional campaign that
received files, the 18 régions' states against the deadline. `editions(engine)`: per released edition, release
time, latency from its newest input to release, cells masked and gate 3's verdict. Everything is read from `audit`
and `publication`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

PRESETS = {"@yearly": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0", "@daily": "0 0 * * *"}

LAST_BATCHES = """
SELECT l.*,
       (SELECT count(*) FROM audit.dq_result d WHERE d.batch_id = l.batch_id AND d.blocking AND NOT d.success)
           AS blocking_failures,
       (SELECT count(*) FROM audit.dq_result d WHERE d.batch_id = l.batch_id AND NOT d.blocking AND NOT d.success)
           AS warnings
FROM (SELECT DISTINCT ON (source_id) source_id, original_name, received_at, status, batch_id, layout
      FROM audit.batch ORDER BY source_id, received_at DESC, batch_id DESC) l
"""  # the DQ counts of each source's last batch only, not of every batch
LAST_LOADS = """
SELECT DISTINCT ON (source_id) source_id, finished_at, partition_key, original_name
FROM audit.batch WHERE status = 'loaded' ORDER BY source_id, finished_at DESC NULLS LAST, batch_id DESC
"""
EDITIONS = """
SELECT edition_id, kind, period_code, released_at, latency_seconds,
       manifest #> '{metadata,disclosure,masked_cells}' AS masked,
       manifest #> '{metadata,disclosure,gate3}' AS gate3
FROM publication.edition ORDER BY released_at DESC, edition_id DESC
"""


def _cron(cadence: str) -> str:
    return PRESETS.get(cadence, cadence)


def expected_dates(cadence: str, now: datetime) -> tuple[datetime, datetime]:
    """(the last date a file was expected, the next one) from a cron cadence."""
    from croniter import croniter

    return croniter(_cron(cadence), now).get_prev(datetime), croniter(_cron(cadence), now).get_next(datetime)


def sources(engine, now: datetime | None = None) -> list[dict]:
    import sqlalchemy as sa

    from etl.sources.registry import all_sources

    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        batches = {r["source_id"]: dict(r) for r in conn.execute(sa.text(LAST_BATCHES)).mappings()}
        loads = {r["source_id"]: dict(r) for r in conn.execute(sa.text(LAST_LOADS)).mappings()}
    out = []
    valid, _ = all_sources()
    for source_id, entry in sorted(valid.items()):
        last, nxt = expected_dates(entry.cadence, now)
        batch, load = batches.get(source_id), loads.get(source_id)
        received = batch["received_at"] if batch else None
        tolerance = timedelta(days=entry.tolerance_days)
        late = (
            (received is None or received < last - tolerance) and now > last + tolerance and not entry.repository_files
        )
        out.append(
            {
                "source_id": source_id,
                "producer": entry.producer,
                "last_file": batch["original_name"] if batch else None,
                "last_layout": batch["layout"] if batch else None,
                "last_received_at": received,
                "last_status": batch["status"] if batch else None,
                "last_blocking_failures": batch["blocking_failures"] if batch else 0,
                "last_warnings": batch["warnings"] if batch else 0,
                "last_loaded_at": load["finished_at"] if load else None,
                "vintage": load["partition_key"] if load else None,
                "expected_last": last,
                "expected_next": nxt,
                "late": bool(late),
                "failed": bool(batch and batch["status"] == "quarantined"),
            }
        )
    return out


def campaigns(engine, today=None) -> list[dict]:
    """Per regional campaign that received a file: counts per state and the régions, against the deadline."""
    import sqlalchemy as sa

    from etl.ops.campaigns import campaign_status

    today = today or datetime.now(UTC).date()
    with engine.connect() as conn:
        years = list(
            conn.execute(
                sa.text(
                    "SELECT DISTINCT campaign FROM audit.submission_verdict WHERE source_id = 'regional' "
                    "AND campaign IS NOT NULL ORDER BY 1"
                )  # fmt: skip
            ).scalars()
        )
    out = []
    for year in years:
        status, _ = campaign_status(engine, year)
        deadline = status["deadline"].iloc[0]
        regions = status[["region_code", "region_name", "state", "latest_errors", "accepted_version"]]
        out.append(
            {
                "campaign": year,
                "deadline": deadline,
                "overdue": bool(today > deadline and (status["state"] != "acceptée").any()),
                "states": status["state"].value_counts().to_dict(),
                "regions": regions.astype(object).where(regions.notna(), None).to_dict("records"),
            }
        )
    return out


ALERTS = """
SELECT sent_at, kind, subject, dag_id, run_id, task_id, batch_id, recipients
FROM audit.alert_log ORDER BY sent_at DESC, alert_key LIMIT :limit
"""


def alerts(engine, limit: int = 50) -> list[dict]:
    """The last alerts mailed (audit.alert_log, newest first)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(ALERTS), {"limit": limit}).mappings()]


def editions(engine) -> list[dict]:
    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.text(EDITIONS)).mappings()]
    for row in rows:
        gate3 = row.pop("gate3") or []
        row["gate3_passed"] = all(check.get("passed") for check in gate3) if gate3 else None
        row["gate3_checks"] = len(gate3)
    return rows
