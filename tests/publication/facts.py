"""Test helper: figures written straight into the warehouse's vintage table under a registered file and a loaded
batch, for publication tests that need facts no sample file gives."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

VINTAGE_SQL = (
    "INSERT INTO core.indicator_value_vintage (indicator_code, territory_level, territory_code, period_code, "
    "breakdown, value, status, vintage, source_id, batch_id, line_no) "
    "VALUES (:indicator, :level, :code, :period, :breakdown, :value, 'ok', 'test', :source, :batch, :line)"
)


def insert_facts(conn, source_id: str, file_name: str, sha256: str, received: datetime, facts: Iterable[dict]) -> int:
    """Register `file_name` (`sha256`) for `source_id`, open a loaded batch for it received at `received`, and write
    `facts` (dicts: indicator, level, code, period, breakdown, value, and source when not `source_id`) as its
    vintage rows, numbered from line 1; returns the batch id."""
    conn.execute(
        sa.text("INSERT INTO audit.file_registry VALUES (:source, :sha256, 1, :name, '/dev/null', :received)"),
        {"source": source_id, "sha256": sha256, "name": file_name, "received": received},
    )
    batch = conn.execute(
        sa.text(
            "INSERT INTO audit.batch (source_id, sha256, original_name, status, received_at, partition_key) "
            "VALUES (:source, :sha256, :name, 'loaded', :received, 'test') RETURNING batch_id"
        ),
        {"source": source_id, "sha256": sha256, "name": file_name, "received": received},
    ).scalar()
    rows = [{"source": source_id, **fact, "batch": batch, "line": line} for line, fact in enumerate(facts, start=1)]
    conn.execute(sa.text(VINTAGE_SQL), rows)
    return batch
