"""Routine care run by the `warehouse_maintenance` DAG: migrate, record a heartbeat, vacuum and analyze the tables
that changed, report the archive's size per source (and fail if a registered file lost its archive copy), and
delete Airflow's task logs older than the retention."""

from __future__ import annotations

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
