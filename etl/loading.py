"""Bulk loading with PostgreSQL COPY, and the atomic replacement of a (source, partition).

`copy_frame()` streams a DataFrame into a table with `COPY ... FROM STDIN (FORMAT csv)` on the caller's
transaction (text quoted, so an empty text cell stays an empty string and only a missing value is NULL).
`replace_partition()` does, inside one transaction: take an advisory lock on the partition, delete the
raw/staging rows of the batches it supersedes (and its own, when a batch is reloaded), COPY the new raw and
staging rows, run the source's core SQL files in order (which swap the core rows and derive the computed
figures), and mark the batches. A crash anywhere rolls everything back: the previous data stays.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from etl.sources.registry import CORE_SQL_FOLDER, Source

NULL = r"\N"
LOAD_WORK_MEM = "64MB"  # per sort or hash of a load transaction (loads run one per source and partition)


def _table_columns(cursor, table: str) -> list[str]:
    schema, name = table.split(".")
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position",
        (schema, name),
    )
    return [r[0] for r in cursor.fetchall()]


def copy_frame(dbapi_conn, table: str, frame, *, batch_id: int | None = None) -> int:
    """COPY the frame's columns that exist in `table` (plus batch_id) into it; returns the row count.

    The CSV is written by Arrow (C++, several times faster than pandas' writer): every text value is quoted, so an
    empty text cell is `""` (an empty string) and only a missing value (None, NaN) is the unquoted empty field
    that COPY reads as NULL. A frame Arrow cannot type (mixed objects) goes through pandas with `\\N` as NULL."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with dbapi_conn.cursor() as cur:
        columns = _table_columns(cur, table)
        present = [c for c in columns if c in frame.columns or (c == "batch_id" and batch_id is not None)]
        data = frame.assign(batch_id=batch_id) if batch_id is not None and "batch_id" in columns else frame
        cols = ", ".join(f'"{c}"' for c in present)
        try:
            arrow = pa.Table.from_pandas(data[present], preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            buffer = io.StringIO()
            data[present].to_csv(buffer, index=False, header=False, na_rep=NULL, lineterminator="\n")
            buffer.seek(0)
            cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')", buffer)
            return len(data)
        sink = io.BytesIO()
        pacsv.write_csv(arrow, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        sink.seek(0)
        cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)", sink)
        return len(data)


def stale_statistics(rows_added: int, reltuples: float) -> bool:
    """Whether a table's planner statistics no longer describe it once `rows_added` rows are in: never analysed
    (`reltuples` -1), or the rows added exceed autovacuum's own analyse threshold (50 rows + 10 % of the table)."""
    return reltuples < 0 or rows_added > 50 + 0.1 * reltuples


@dataclass(frozen=True)
class LoadResult:
    batch_id: int
    partition: str
    rows_raw: int
    rows_staging: int
    superseded: list[int]


def replace_partition(
    engine, source: Source, batch_id: int, partition: str, raw, staged: dict, run_id: str | None
) -> LoadResult:
    """Swap the (source, partition) data for this batch's, atomically."""
    import sqlalchemy as sa

    core_sql = [(CORE_SQL_FOLDER / name).read_text(encoding="utf-8") for name in source.core_sql]
    with engine.begin() as conn:
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:lock_key))"), {"lock_key": f"{source.id}/{partition}"}
        )
        # the core SQL's sorts and GROUPING SETS stay in memory (4 MB, the server's default, spilled the individual
        # extract's 700,000 unpivoted lines to disk: 2.6 s instead of 1.3 s); for this transaction only
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{LOAD_WORK_MEM}'")
        old = list(
            conn.execute(
                sa.text(
                    "SELECT batch_id FROM audit.batch WHERE source_id = :source_id AND partition_key = :partition_key "
                    "AND status = 'loaded' AND batch_id <> :batch_id"
                ),
                {"source_id": source.id, "partition_key": partition, "batch_id": batch_id},
            ).scalars()
        )
        old_literal = "{" + ",".join(str(b) for b in old) + "}"
        # the batch's own rows go too: reloading a batch (re-run, retry after success) replaces, never duplicates
        replaced = "{" + ",".join(str(b) for b in [*old, batch_id]) + "}"
        for table in [source.raw_table, *source.staging_tables.values()]:
            conn.execute(
                sa.text(f"DELETE FROM {table} WHERE batch_id = ANY(CAST(:batch_ids AS bigint[]))"),
                {"batch_ids": replaced},
            )
        dbapi = conn.connection.dbapi_connection
        rows_raw = copy_frame(dbapi, source.raw_table, raw, batch_id=batch_id)
        copied = {table: copy_frame(dbapi, table, staged[frame], batch_id=batch_id)
                  for frame, table in source.staging_tables.items()}  # fmt: skip
        rows_staging = sum(copied.values())
        # The core SQL reads the rows just copied, which the planner's statistics do not know yet: on a table that
        # held fewer rows for its last autovacuum it planned nested loops over the whole batch (40 s instead of 3 s
        # for a 300,000-line individual extract). ANALYZE in this transaction counts them, when the batch is large
        # for what the statistics know (ANALYZE of a 4-million-row table costs 0.3 s for a 100,000-row batch).
        known = dict(
            conn.execute(
                sa.text(
                    "SELECT t, (SELECT reltuples FROM pg_class WHERE oid = t::regclass) FROM unnest(:table_names) t"
                ),
                {"table_names": list(copied)},
            ).all()
        )
        for table, rows in copied.items():
            if stale_statistics(rows, known.get(table, -1)):
                conn.exec_driver_sql(f"ANALYZE {table}")
        for statement in core_sql:
            conn.execute(
                sa.text(statement), {"batch_id": batch_id, "old_batches": replaced, "partition_key": partition}
            )
        conn.execute(
            sa.text(
                "UPDATE audit.batch SET status = 'superseded' WHERE batch_id = ANY(CAST(:old_batches AS bigint[]))"
            ),
            {"old_batches": old_literal},
        )
        conn.execute(
            sa.text(
                "UPDATE audit.batch SET status = 'loaded', partition_key = :partition_key, finished_at = now(), "
                "run_id = :run_id, rows_read = :rows_read, rows_loaded = :rows_loaded, message = NULL "
                "WHERE batch_id = :batch_id"
            ),
            {
                "partition_key": partition,
                "run_id": run_id,
                "rows_read": rows_raw,
                "rows_loaded": rows_staging,
                "batch_id": batch_id,
            },
        )
    return LoadResult(batch_id, partition, rows_raw, rows_staging, old)
