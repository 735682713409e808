"""Periods and their roll-ups."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from etl.referentiels import periods


def test_codes_and_roll_ups_of_one_year():
    rows = {r["code"]: r for r in periods.rows(2024, 2024)}
    assert len(rows) == 1 + 2 + 4 + 12
    march = rows["2024-03"]
    assert (march["quarter_code"], march["semester_code"], march["year"]) == ("2024-Q1", "2024-S1", 2024)
    assert rows["2024-07"]["semester_code"] == "2024-S2" and rows["2024-07"]["quarter_code"] == "2024-Q3"
    assert rows["2024-02"]["end_date"] == date(2024, 2, 29)
    assert (rows["2024-S1"]["start_date"], rows["2024-S1"]["end_date"]) == (date(2024, 1, 1), date(2024, 6, 30))
    assert rows["2024-Q4"]["semester_code"] == "2024-S2"
    assert rows["2024"]["end_date"] == date(2024, 12, 31)


@pytest.mark.warehouse
def test_load_is_idempotent_and_months_roll_up_to_their_semester(isolated):
    assert periods.load(isolated.engine, 2023, 2024) == 2 * 19
    assert periods.load(isolated.engine, 2023, 2024) == 2 * 19
    with isolated.engine.connect() as conn:
        bad = conn.execute(
            sa.text(
                "SELECT count(*) FROM core.period m JOIN core.period s ON s.code = m.semester_code "
                "WHERE m.kind = 'month' AND NOT (m.start_date >= s.start_date AND m.end_date <= s.end_date)"
            )
        ).scalar()
        total = conn.execute(sa.text("SELECT count(*) FROM core.period")).scalar()
    assert bad == 0 and total == 38


@pytest.mark.parametrize(
    ("kind", "moment", "expected"),
    [
        ("month", date(2024, 5, 5), "2024-04"),
        ("month", date(2024, 1, 5), "2023-12"),
        ("quarter", date(2024, 4, 20), "2024-Q1"),
        ("quarter", date(2024, 1, 20), "2023-Q4"),
        ("quarter", date(2024, 12, 31), "2024-Q3"),
        ("year", date(2025, 6, 15), "2024"),
    ],
)
def test_a_run_is_for_the_last_complete_period_before_it(kind, moment, expected):
    assert periods.period_before(kind, moment) == expected
    assert expected in {row["code"] for row in periods.rows()}


def test_an_unknown_period_kind_is_refused():
    with pytest.raises(ValueError, match="unknown period kind 'week'"):
        periods.period_before("week", date(2024, 1, 1))


def test_semester_arithmetic():
    assert periods.months_of_semester("2024-S2") == [f"2024-{month:02d}" for month in range(7, 13)]
    assert periods.months_of_semester("2018-S1") == [f"2018-{month:02d}" for month in range(1, 7)]
    assert periods.semester_bounds("2024-S1") == (date(2024, 1, 1), date(2024, 6, 30))
    assert periods.semester_bounds("2023-S2") == (date(2023, 7, 1), date(2023, 12, 31))
    assert periods.semester_end_months("2024-S1") == ("2024-06", "2023-12", "2023-06")
    assert periods.semester_end_months("2024-S2") == ("2024-12", "2024-06", "2023-12")
    assert periods.semesters_ending_with("2024-S2", 3) == ["2023-S2", "2024-S1", "2024-S2"]
    assert periods.semesters_ending_with("2024-S1", 2) == ["2023-S2", "2024-S1"]
    assert (periods.semester_short_label("2024-S1"), periods.period_label("2024-S2")) == ("S1 2024", "2e semestre 2024")
    assert periods.period_label("2024") == "2024"
    for wrong in ("2024-S3", "2024S1", "24-S1", None):
        with pytest.raises(ValueError, match="YYYY-S1 or YYYY-S2"):
            periods.semester_parts(wrong)
