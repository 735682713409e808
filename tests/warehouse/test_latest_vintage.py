"""core.indicator_value, the latest vintage of each figure, is a table kept by triggers on the vintages (migration
0033): after any sequence of inserts (in one statement or several, late deliveries of older vintages included),
COPY, deletes of batches, updates and a truncate, it holds exactly what the newest vintage of each figure says,
computed here again from core.indicator_value_vintage with a plain sort."""

from __future__ import annotations

import io
import random

import pytest
import sqlalchemy as sa

from etl.referentiels import periods

pytestmark = pytest.mark.warehouse

COLUMNS = ("indicator_code, territory_level, territory_code, period_code, breakdown, value, status, vintage, "
           "source_id, batch_id, line_no")  # fmt: skip
INDICATORS = ("T_A", "T_B")
PERIODS = ("2024-01", "2024-02", "2024-03")
TERRITORIES = (("qpv", "QN0010001"), ("qpv", "QN0010002"), ("france", "FR"))
BREAKDOWNS = ("total", "sexe=F")
VINTAGES = ("2024-02", "2024-03", "2024-04", "2024-05")
# what the view of migration 0005 computed at each read
EXPECTED = (
    f"SELECT DISTINCT ON (indicator_code, territory_level, territory_code, period_code, breakdown) {COLUMNS} "
    "FROM core.indicator_value_vintage "
    "ORDER BY indicator_code, territory_level, territory_code, period_code, breakdown, vintage DESC"
)
LATEST = f"SELECT {COLUMNS} FROM core.indicator_value ORDER BY 1, 2, 3, 4, 5"


@pytest.fixture
def engine(isolated):
    periods.load(isolated.engine, 2024, 2024)
    with isolated.engine.begin() as conn:
        for code in INDICATORS:
            conn.execute(
                sa.text(
                    "INSERT INTO core.indicator (code, family, libelle, definition, unite, source, periodicite, "
                    "regle_diffusion, batch_id) VALUES (:c, 'operator', 'test', 'test', 'nombre', 'test', "
                    "'mensuelle', 'test', 1)"
                ),
                {"c": code},
            )
    return isolated.engine


def _rows(draw: random.Random, batch_id: int, vintage: str, share: float) -> list[tuple]:
    """Some of the figures (each with probability `share`) as delivered by batch `batch_id` in `vintage`."""
    rows = []
    for indicator in INDICATORS:
        for level, code in TERRITORIES:
            for period in PERIODS:
                for breakdown in BREAKDOWNS:
                    if draw.random() < share:
                        masked = draw.random() < 0.2
                        value = None if masked else draw.randint(0, 500)
                        status = "masked" if masked else "ok"
                        rows.append((indicator, level, code, period, breakdown, value, status, vintage, "test",
                                     batch_id, len(rows) + 2))  # fmt: skip
    return rows


def _insert(conn, rows) -> None:
    if not rows:
        return
    names = [c.strip() for c in COLUMNS.split(",")]
    conn.execute(
        sa.text(f"INSERT INTO core.indicator_value_vintage ({COLUMNS}) VALUES ({', '.join(':' + n for n in names)})"),
        [dict(zip(names, row, strict=True)) for row in rows],
    )


def _copy(conn, rows) -> None:
    text = "".join("\t".join(r"\N" if v is None else str(v) for v in row) + "\n" for row in rows)
    with conn.connection.driver_connection.cursor() as cursor:
        cursor.copy_expert(f"COPY core.indicator_value_vintage ({COLUMNS}) FROM STDIN", io.StringIO(text))


def _new(conn, rows) -> list[tuple]:
    """`rows` but those whose figure already has their vintage (the vintages' primary key)."""
    taken = set(conn.execute(sa.text(
        "SELECT indicator_code, territory_level, territory_code, period_code, breakdown, vintage "
        "FROM core.indicator_value_vintage"
    )).all())  # fmt: skip
    return [r for r in rows if (*r[:5], r[7]) not in taken]


def _same(conn) -> int:
    expected = conn.execute(sa.text(EXPECTED)).all()
    assert conn.execute(sa.text(LATEST)).all() == expected
    return len(expected)


def test_the_table_holds_the_newest_vintage_of_each_figure_whatever_the_writes(engine):
    draw = random.Random(2024)
    batches: dict[int, str] = {}
    with engine.begin() as conn:
        assert _same(conn) == 0
    for step in range(40):
        with engine.begin() as conn:
            action = draw.choice(("insert", "insert", "copy", "two", "delete", "update"))
            if action in ("insert", "copy") or not batches:
                batch, vintage = step + 10, draw.choice(VINTAGES)  # an older vintage may come late
                (_copy if action == "copy" else _insert)(conn, _new(conn, _rows(draw, batch, vintage, 0.5)))
                batches[batch] = vintage
            elif action == "two":  # a batch replaced within one transaction: its rows deleted, then others inserted
                batch = draw.choice(sorted(batches))
                conn.execute(sa.text("DELETE FROM core.indicator_value_vintage WHERE batch_id = :b"), {"b": batch})
                _insert(conn, _new(conn, _rows(draw, batch, batches[batch], 0.3)))
            elif action == "delete":
                batch = draw.choice(sorted(batches))
                conn.execute(sa.text("DELETE FROM core.indicator_value_vintage WHERE batch_id = :b"), {"b": batch})
                del batches[batch]
            else:  # a correction in place: the values, and the batch's vintage moved back (before every other one)
                batch = draw.choice(sorted(batches))
                batches[batch] = f"2024-01-{step:02d}"
                conn.execute(
                    sa.text(
                        "UPDATE core.indicator_value_vintage SET value = value + 1, vintage = :v "
                        "WHERE batch_id = :b AND status = 'ok'"
                    ),
                    {"b": batch, "v": batches[batch]},
                )
            _same(conn)
    with engine.begin() as conn:
        assert _same(conn) > 20
        conn.execute(sa.text("TRUNCATE core.indicator_value_vintage"))
        assert _same(conn) == 0


def test_a_failed_load_leaves_the_latest_vintage_as_it_was(engine):
    draw = random.Random(7)
    with engine.begin() as conn:
        _insert(conn, _rows(draw, 1, "2024-02", 1.0))
    with engine.connect() as conn:
        before = conn.execute(sa.text(LATEST)).all()
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        _insert(conn, _rows(draw, 2, "2024-03", 1.0))
        _insert(conn, _rows(draw, 2, "2024-03", 1.0))  # the same figures and vintage again: the primary key refuses
    with engine.connect() as conn:
        assert conn.execute(sa.text(LATEST)).all() == before
        assert {r.batch_id for r in conn.execute(sa.text(LATEST))} == {1}
