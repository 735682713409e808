"""A content fingerprint of the warehouse state, to prove that re-running a job changes nothing.

State is every base table of raw, staging, core, publication and audit, except audit's append-only
journals (tables named `*_log`), which grow with each run by design, and, in audit, the columns that only
record when and by which run a batch was processed (`VOLATILE`). Each table is summarised by its row count and
an order-independent digest of its rows: the sums of two 64-bit hashes of each row's text (PostgreSQL's
`hashtextextended` with two seeds, the portable hash that hash partitioning relies on), so no sort of millions of
rows is needed (a 4-million-row table: 3.6 s instead of 10.7 s with an ordered md5 of the rows' md5s). A row
added, removed, duplicated or changed changes the sums.

`portable=True` compares two warehouses built apart (two clean `make demo` runs, before and after a refactor, in
two folders): a reference to a batch reads as the sha256 of the batch's file (batch ids follow the order files
arrived in, which parallel tasks do not fix), an edition id without its release time, and the columns that say
when or where something happened (every timestamp, `*_path`, `folder`, `run_id`, an edition's manifest and latency)
are left out.
"""

from __future__ import annotations

STATE_SCHEMAS = ("raw", "staging", "core", "publication", "audit")
# Audit columns that say when and by which run something was done, not what: a re-run changes them by design.
VOLATILE = ("finished_at", "run_id", "validated_at")
_VOLATILE = "{" + ",".join(VOLATILE) + "}"

_TABLES = """
SELECT table_schema, table_name
FROM information_schema.tables
WHERE table_type = 'BASE TABLE'
  AND table_schema = ANY(:schemas)
  AND NOT (table_schema = 'audit' AND table_name LIKE '%\\_log')
ORDER BY 1, 2
"""


def fingerprint(engine, *, portable: bool = False) -> dict[str, tuple[int, str]]:
    """{"schema.table": (row_count, md5)} for every state table (`portable`: see the module docstring)."""
    import sqlalchemy as sa

    out: dict[str, tuple[int, str]] = {}
    with engine.connect() as conn:
        tables = conn.execute(sa.text(_TABLES), {"schemas": list(STATE_SCHEMAS)}).all()
        columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
        if portable:
            for schema, table, column, kind in conn.execute(sa.text(_COLUMNS), {"schemas": list(STATE_SCHEMAS)}):
                columns.setdefault((schema, table), []).append((column, kind))
        for schema, table in tables:
            ident = f'"{schema}"."{table}"'
            if portable:
                source = _portable_rows(ident, columns[(schema, table)])
            elif schema == "audit":
                source = f"(SELECT (to_jsonb(t) - CAST('{_VOLATILE}' AS text[]))::text AS r FROM {ident} t) rows"
            else:
                source = f"(SELECT t::text AS r FROM {ident} t) rows"
            count, digest = conn.execute(
                sa.text(
                    # sum(bigint) is exact (a numeric result) and adds in 128-bit integers, not in numeric
                    "SELECT count(*), md5(coalesce(sum(hashtextextended(r, 0)), 0) || ':' "
                    f"|| coalesce(sum(hashtextextended(r, 1)), 0)) FROM {source}"
                )
            ).one()
            out[f"{schema}.{table}"] = (int(count), digest)
    return out


_COLUMNS = """
SELECT table_schema, table_name, column_name, data_type
FROM information_schema.columns
WHERE table_schema = ANY(:schemas)
ORDER BY table_schema, table_name, ordinal_position
"""
BATCH_REFERENCES = ("batch_id", "superseded_by", "accepted_batch_id", "latest_batch_id")
PLACE_OR_RUN = ("folder", "run_id", "manifest", "latency_seconds")


def _portable_rows(ident: str, columns: list[tuple[str, str]]) -> str:
    """The rows of table `ident` as `portable` reads them (one text `r` each): batch references as file digests
    (joined to audit.batch), edition ids without their release time, no time, path or run columns."""
    parts, joins = [], []
    for column, kind in columns:
        value = f't."{column}"'
        if kind.startswith("timestamp") or column.endswith("_path") or column in PLACE_OR_RUN:
            continue
        if column in BATCH_REFERENCES:
            alias = f"b_{column}"
            joins.append(f'LEFT JOIN audit.batch {alias} ON {alias}.batch_id = t."{column}"')
            value = f"{alias}.sha256"
        elif column == "edition_id":
            value = f"regexp_replace({value}, '-[0-9]{{8}}T[0-9]{{6}}Z$', '')"
        parts.append(f"coalesce(({value})::text, '<null>')")
    row = "concat_ws('|', " + ", ".join(parts) + ")" if parts else "''"
    return f"(SELECT {row} AS r FROM {ident} t {' '.join(joins)}) rows"


def differences(before: dict, after: dict) -> list[str]:
    """Tables whose content differs (or that appeared / disappeared) between two fingerprints."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
