"""The warehouse fingerprint sees every change of state and ignores the run journals (audit.*_log)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from etl.warehouse.fingerprint import differences, fingerprint

pytestmark = pytest.mark.warehouse


@pytest.fixture
def engine(isolated):
    """A warehouse of its own: the session's holds the DAG tests' data, slow to fingerprint for nothing."""
    return isolated.engine


def test_fingerprint_detects_a_changed_row_and_ignores_journals(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS core.fp_probe (k int PRIMARY KEY, v text)"))
        conn.execute(sa.text("TRUNCATE core.fp_probe"))
        conn.execute(sa.text("INSERT INTO core.fp_probe VALUES (1, 'a'), (2, 'b')"))
    before = fingerprint(engine)
    assert before["core.fp_probe"][0] == 2
    assert not any(name.endswith("_log") for name in before)

    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO audit.heartbeat_log (dag_id, run_id, schema_version, server_version) "
                "VALUES ('t', 't', 'x', 'y')"
            )
        )
    assert differences(before, fingerprint(engine)) == []

    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE core.fp_probe SET v = 'c' WHERE k = 2"))
    assert differences(before, fingerprint(engine)) == ["core.fp_probe"]

    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE core.fp_probe"))
    assert "core.fp_probe" not in fingerprint(engine)


def test_row_order_does_not_change_the_fingerprint(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE core.fp_order (k int, v text)"))
        conn.execute(sa.text("INSERT INTO core.fp_order VALUES (1, 'a'), (2, 'b')"))
    first = fingerprint(engine)["core.fp_order"]
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE core.fp_order"))
        conn.execute(sa.text("INSERT INTO core.fp_order VALUES (2, 'b'), (1, 'a')"))
    assert fingerprint(engine)["core.fp_order"] == first
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE core.fp_order"))


def test_audit_columns_saying_when_and_which_run_are_ignored_but_status_is_not(engine):
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO audit.file_registry VALUES ('fp_probe', repeat('a', 64), 1, 'f.csv', '/x', now()) "
                "ON CONFLICT DO NOTHING"
            )
        )
        batch = conn.execute(
            sa.text(
                "INSERT INTO audit.batch (source_id, sha256, original_name, status, received_at) "
                "VALUES ('fp_probe', repeat('a', 64), 'f.csv', 'loaded', now()) RETURNING batch_id"
            )
        ).scalar()
    before = fingerprint(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE audit.batch SET finished_at = now(), run_id = 'again' WHERE batch_id = :b"), {"b": batch}
        )
    assert differences(before, fingerprint(engine)) == []
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit.batch SET status = 'superseded' WHERE batch_id = :b"), {"b": batch})
    assert differences(before, fingerprint(engine)) == ["audit.batch"]
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit.batch WHERE batch_id = :b"), {"b": batch})
        conn.execute(sa.text("DELETE FROM audit.file_registry WHERE source_id = 'fp_probe'"))


def test_values_moved_between_rows_or_a_row_replaced_by_a_duplicate_change_the_fingerprint(engine):
    """The digest sums a hash per row: the same values in other rows, or the same row count with one row twice,
    is another state."""
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE core.fp_sum (k int, v text)"))
        conn.execute(sa.text("INSERT INTO core.fp_sum VALUES (1, 'a'), (2, 'b')"))
    first = fingerprint(engine)["core.fp_sum"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE core.fp_sum SET v = CASE v WHEN 'a' THEN 'b' ELSE 'a' END"))
    swapped = fingerprint(engine)["core.fp_sum"]
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE core.fp_sum"))
        conn.execute(sa.text("INSERT INTO core.fp_sum VALUES (1, 'a'), (1, 'a')"))
    doubled = fingerprint(engine)["core.fp_sum"]
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE core.fp_sum"))
    assert first[0] == swapped[0] == doubled[0] == 2
    assert len({first[1], swapped[1], doubled[1]}) == 3


def test_the_portable_fingerprint_reads_batches_as_files_editions_without_release_time_and_no_times(engine):
    def batch(source_id: str) -> int:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO audit.file_registry VALUES (:s, repeat('b', 64), 1, 'f.csv', '/x', now()) "
                    "ON CONFLICT DO NOTHING"
                ),
                {"s": source_id},
            )
            return conn.execute(
                sa.text(
                    "INSERT INTO audit.batch (source_id, sha256, original_name, status, received_at) "
                    "VALUES (:s, repeat('b', 64), 'f.csv', 'loaded', now()) RETURNING batch_id"
                ),
                {"s": source_id},
            ).scalar()

    def table(batch_id: int, edition: str, value: str) -> None:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS core.fp_portable"))
            conn.execute(
                sa.text("CREATE TABLE core.fp_portable (batch_id bigint, edition_id text, at timestamptz, v text)")
            )
            conn.execute(
                sa.text("INSERT INTO core.fp_portable VALUES (:b, :e, now(), :v)"),
                {"b": batch_id, "e": edition, "v": value},
            )

    first, second = batch("fp_portable_a"), batch("fp_portable_b")  # the same file, two batch ids
    table(first, "annuelle-2025-20261206T061608Z", "x")
    plain, portable = fingerprint(engine)["core.fp_portable"], fingerprint(engine, portable=True)["core.fp_portable"]
    table(second, "annuelle-2025-20261207T090000Z", "x")
    assert fingerprint(engine)["core.fp_portable"] != plain
    assert fingerprint(engine, portable=True)["core.fp_portable"] == portable
    table(second, "annuelle-2025-20261207T090000Z", "y")
    assert fingerprint(engine, portable=True)["core.fp_portable"] != portable
    table(second, "annuelle-2024-20261207T090000Z", "x")
    assert fingerprint(engine, portable=True)["core.fp_portable"] != portable
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE core.fp_portable"))
