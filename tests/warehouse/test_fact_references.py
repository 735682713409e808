"""The fact table's references to indicators and periods hold without row-level foreign keys (migration 0008):
an unknown indicator or period is refused per statement, a referenced one cannot be removed, and the catalogue
and periods can still be replaced by delete + insert in one transaction."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from etl.referentiels import periods

pytestmark = pytest.mark.warehouse

INDICATOR = (
    "INSERT INTO core.indicator (code, family, libelle, definition, unite, source, periodicite, regle_diffusion, "
    "batch_id) VALUES ('T_REF', 'operator', 'test', 'test', 'nombre', 'test', 'annuelle', 'test', 1)"
)
VALUE = (
    "INSERT INTO core.indicator_value_vintage (indicator_code, territory_level, territory_code, period_code, "
    "breakdown, value, status, vintage, source_id, batch_id, line_no) "
    "VALUES (:i, 'france', 'FR', :p, 'total', 1, 'ok', 'v', 'test', 1, 2)"
)


@pytest.fixture
def referenced(isolated):
    periods.load(isolated.engine, 2024, 2024)
    with isolated.engine.begin() as conn:
        conn.execute(sa.text(INDICATOR))
        conn.execute(sa.text(VALUE), {"i": "T_REF", "p": "2024"})
    return isolated.engine


def test_a_value_naming_an_unknown_indicator_or_period_is_refused(referenced):
    for indicator, period in (("NOPE", "2024"), ("T_REF", "2099")):
        with (
            pytest.raises(sa.exc.IntegrityError, match="batch 1 line 2 names an unknown indicator"),
            referenced.begin() as conn,
        ):
            conn.execute(sa.text(VALUE), {"i": indicator, "p": period})


def test_a_referenced_indicator_or_period_cannot_be_removed(referenced):
    for statement, what in (
        ("DELETE FROM core.indicator WHERE code = 'T_REF'", "indicator T_REF"),
        ("DELETE FROM core.period WHERE code = '2024'", "period 2024"),
    ):
        with pytest.raises(sa.exc.IntegrityError, match=f"{what} cannot be removed"), referenced.begin() as conn:
            conn.execute(sa.text(statement))


def test_replacing_the_catalogue_and_the_periods_in_one_transaction_is_allowed(referenced):
    with referenced.begin() as conn:
        conn.execute(sa.text("DELETE FROM core.indicator WHERE code = 'T_REF'"))
        conn.execute(sa.text(INDICATOR))
    assert periods.load(referenced, 2024, 2024) == 19  # delete + COPY again
    with referenced.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM core.indicator_value_vintage")).scalar() == 1
