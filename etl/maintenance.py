"""Routine care run by the `warehouse_maintenance` DAG: migrate, record a heartbeat, vacuum and analyze the tables
that changed, report the archive's size per source (and fail if a registered file lost its archive copy), delete
Airflow's task logs older than the retention, and purge Airflow's metadata database of rows older than its retention
(`airflow db clean`, run as a subprocess: Airflow 3 tasks have no ORM access)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

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


SCHEMAS = ("raw", "staging", "core", "publication", "audit")
CHANGED_TABLES = """
SELECT quote_ident(schemaname) || '.' || quote_ident(relname)
FROM pg_stat_user_tables
WHERE schemaname = ANY(:schemas) AND (n_mod_since_analyze > 0 OR n_dead_tup > 0)
ORDER BY 1
"""


def vacuum_analyze(engine) -> list[str]:
    """`VACUUM (ANALYZE)` the warehouse tables changed since they were last analyzed (rows written or dead rows
    left by the loads' partition replacements): the next loads reuse the space, queries get fresh statistics.
    Returns the tables done."""
    import sqlalchemy as sa

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = list(conn.execute(sa.text(CHANGED_TABLES), {"schemas": list(SCHEMAS)}).scalars())
        for table in tables:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
    return tables


class ArchiveDamaged(Exception):
    """A registered file has lost its archive copy: something deleted part of the archive."""


def archive_report(engine, home, run_id: str | None = None) -> list[dict]:
    """Per source: files and bytes in `archive/<source>/`, files registered in audit.file_registry with their copy in
    this archive, those whose copy is missing, and those registered with a copy outside this archive (another
    runtime folder: a warehouse shared by several homes, as in tests, or a moved OBSERVATOIRE_HOME; reported, not
    checked). Appended to audit.archive_size_log; raises ArchiveDamaged when a copy is missing (after the report is
    written), since the archive is the platform's only proof of what was received."""
    from pathlib import Path

    import sqlalchemy as sa

    with engine.connect() as conn:
        registry = conn.execute(sa.text("SELECT source_id, archive_path FROM audit.file_registry")).all()
    root = home.folder("archive")
    on_disk = {p.name for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()
    sources = sorted({source for source, _ in registry} | on_disk)
    rows = []
    for source in sources:
        files = [p for p in (root / source).rglob("*") if p.is_file()] if (root / source).is_dir() else []
        paths = [Path(path) for s, path in registry if s == source]
        registered = [p for p in paths if p.is_relative_to(root)]
        rows.append(
            {
                "source_id": source,
                "files": len(files),
                "bytes": sum(p.stat().st_size for p in files),
                "registered": len(registered),
                "missing": sum(1 for p in registered if not p.is_file()),
                "outside": len(paths) - len(registered),
            }
        )
    with engine.begin() as conn:
        if rows:
            conn.execute(
                sa.text(
                    "INSERT INTO audit.archive_size_log (run_id, source_id, files, bytes, registered, missing, "
                    "outside) "
                    "VALUES (:run_id, :source_id, :files, :bytes, :registered, :missing, :outside)"
                ),
                [{"run_id": run_id, **row} for row in rows],
            )
    damaged = [f"{r['source_id']} ({r['missing']})" for r in rows if r["missing"]]
    if damaged:
        raise ArchiveDamaged(
            f"registered files whose archive copy is missing, per source: {', '.join(damaged)}; restore them from "
            "a backup of the archive (see audit.file_registry.archive_path)."
        )
    return rows


def clean_task_logs(logs_folder, retention_days: int, now=None) -> int:
    """Delete Airflow task log files older than `retention_days` under `logs_folder` (and the folders left empty);
    returns the number of files deleted. The warehouse's journals and the archive are not touched."""
    import time
    from pathlib import Path

    folder = Path(logs_folder)
    if not folder.is_dir():
        return 0
    limit = (now or time.time()) - retention_days * 86400
    deleted = 0
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink()
            deleted += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return deleted


METADATA_RETENTION_DAYS = 90
# The Airflow connection a deployment defines to let this task reach Airflow's metadata database (see
# airflow_cli_environment): e.g. AIRFLOW_CONN_AIRFLOW_METADATA='postgresql://airflow:...@postgres:5432/airflow'.
METADATA_CONN_ID = "airflow_metadata"
# What Airflow's task supervisor puts in a task process's environment instead of the metadata database URL
# (airflow.sdk.execution_time.supervisor.block_orm_access), so that task code cannot reach that database.
BLOCKED_DB_URL_PREFIX = "airflow-db-not-allowed"
DB_URL_VARIABLES = ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CORE__SQL_ALCHEMY_CONN")


class MetadataCleanFailed(Exception):
    """`airflow db clean` did not finish, or did not reach Airflow's metadata database: the message says why."""


def metadata_clean_argv(clean_before) -> list[str]:
    """The `airflow db clean` command line purging every table Airflow knows how to clean (dag runs, task
    instances and their history, XComs, jobs, the audit `log`, asset events, import errors, ...) of rows older than
    `clean_before` (an aware datetime), without confirmation prompt, without keeping `_airflow_deleted__*` archive
    tables, and failing (exit 1) when a table could not be cleaned instead of Airflow's default of only logging it.
    Airflow keeps the latest scheduled run of every DAG whatever its age."""
    return [
        sys.executable,
        "-m",
        "airflow",
        "db",
        "clean",
        "--clean-before-timestamp",
        clean_before.isoformat(),
        "--yes",
        "--skip-archive",
        "--error-on-cleanup-failure",
    ]


def connection_sqlalchemy_url(conn) -> str:
    """The SQLAlchemy URL of an Airflow connection to a database (`postgres` is SQLAlchemy's `postgresql`; a
    `sqlite` connection names its file in schema or host)."""
    from sqlalchemy.engine import URL

    conn_type = (conn.conn_type or "").replace("-", "_")
    if conn_type == "sqlite":
        return f"sqlite:///{conn.schema or conn.host}"
    return URL.create(
        "postgresql" if conn_type == "postgres" else conn_type,
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
        query={key: str(value) for key, value in (conn.extra_dejson or {}).items()},
    ).render_as_string(hide_password=False)


def granted_metadata_url(conn_id: str = METADATA_CONN_ID) -> str | None:
    """The metadata database URL the deployment granted this task through the connection `conn_id`, or None when
    the connection is not defined."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return connection_sqlalchemy_url(Connection.get(conn_id))
    except AirflowNotFoundException:
        return None


def airflow_cli_environment(environ=None, granted: str | None = None) -> dict[str, str]:
    """The environment for an `airflow` CLI subprocess started from a task. Airflow 3's task supervisor replaces the
    metadata database URL by an `airflow-db-not-allowed:///` marker in every real worker's task process (a forked
    child whose /proc environ is also wiped by setproctitle, so the original cannot be read back); `dag.test()` runs
    tasks in-process and keeps it. When the URL is hidden, the CLI gets the URL `granted` through the connection
    `airflow_metadata` if the deployment defines it; otherwise the marker is removed and the CLI reads `airflow.cfg`
    (or a `_CMD` / `_SECRET` variant), which on the local `make airflow` setup names the same SQLite file."""
    env = dict(os.environ if environ is None else environ)
    hidden = [key for key in DB_URL_VARIABLES if env.get(key, "").startswith(BLOCKED_DB_URL_PREFIX)]
    for key in hidden:
        del env[key]
    if hidden and granted:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = granted
    return env


_CHECKING = re.compile(r"^Checking table (\S+)\s*$")
_FOUND = re.compile(r"^Found (\d+) rows meeting deletion criteria\.\s*$")


def parse_metadata_clean_output(output: str) -> dict[str, int]:
    """Rows purged per table, from `airflow db clean`'s own lines ("Checking table x" then "Found n rows meeting
    deletion criteria."); tables absent from the database it reached are not listed."""
    purged: dict[str, int] = {}
    table = None
    for line in output.splitlines():
        if match := _CHECKING.match(line.strip()):
            table = match.group(1)
        elif (match := _FOUND.match(line.strip())) and table is not None:
            purged[table] = int(match.group(1))
            table = None
    return purged


def _last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]*(Error|Exception|Exit)\b", line)]
    return (errors or lines or ["no output"])[-1][:400]


def clean_airflow_metadata(
    retention_days: int = METADATA_RETENTION_DAYS, now=None, timeout: float = 1800, granted: str | None = None
):
    """Purge Airflow's metadata database of the rows older than `retention_days` with `airflow db clean`, run as a
    subprocess (the CLI reaches the metadata database; task code may not; `granted`: see airflow_cli_environment).
    Returns (the cut-off timestamp, rows purged per table, the CLI's output). Raises MetadataCleanFailed on a
    non-zero exit, after `timeout` seconds, or when the CLI found none of Airflow's tables (it reached another
    database than Airflow's: without that check the purge would succeed every day doing nothing)."""
    if retention_days < 1:
        raise MetadataCleanFailed(f"the metadata retention must be at least 1 day, not {retention_days}.")
    clean_before = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    try:
        result = subprocess.run(
            metadata_clean_argv(clean_before),
            env=airflow_cli_environment(granted=granted),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise MetadataCleanFailed(
            f"airflow db clean did not finish within {timeout:.0f} s (is another process holding a lock on Airflow's "
            "metadata database?); nothing is lost, the next run tries again."
        ) from exc
    if result.returncode != 0:
        print(result.stdout)  # the task log keeps the CLI's full output
        raise MetadataCleanFailed(
            f"airflow db clean exited with code {result.returncode} ({_last_error_line(result.stdout)}); read the "
            "task log for its full output, fix the cause and run the task again."
        )
    purged = parse_metadata_clean_output(result.stdout)
    if not purged:
        print(result.stdout)
        raise MetadataCleanFailed(
            "airflow db clean found none of Airflow's tables in the database it reached, so this worker does not see "
            f"Airflow's metadata database (Airflow 3 hides it from tasks): define the connection {METADATA_CONN_ID} "
            f"(AIRFLOW_CONN_{METADATA_CONN_ID.upper()}) with that database's URL for the workers, then run the task "
            "again."
        )
    return clean_before, purged, result.stdout


def metadata_clean_summary(clean_before, purged: dict[str, int], retention_days: int) -> str:
    """Two lines for the task log: the cut-off, then the tables that lost rows with their counts."""
    found = ", ".join(f"{table} {rows}" for table, rows in sorted(purged.items()) if rows)
    return (
        f"Airflow metadata older than {retention_days} days (before {clean_before.isoformat()}) purged "
        f"from {len(purged)} table(s) checked:\n  {found or 'no row was old enough'}"
    )
