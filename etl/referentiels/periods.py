"""The period dimension: months, quarters, semesters and years, each month rolled up to the three others.

Codes: month `2024-03`, quarter `2024-Q1`, semester `2024-S1` (January-June) / `2024-S2`, year `2024`.
`load()` replaces `core.period` for the span in one transaction; running it again changes nothing.
"""

from __future__ import annotations

import calendar
from datetime import date

FIRST_YEAR = 2014  # the 2014 conventions are the first period the observatory follows
LAST_YEAR = 2030


def rows(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> list[dict]:
    out: list[dict] = []
    for year in range(first_year, last_year + 1):
        out.append(_row(str(year), "year", date(year, 1, 1), date(year, 12, 31), year, None, None, f"Année {year}"))
        for s in (1, 2):
            start, end = date(year, 6 * s - 5, 1), date(year, 6 * s, 30 if s == 1 else 31)
            out.append(
                _row(f"{year}-S{s}", "semester", start, end, year, f"{year}-S{s}", None, f"{s}e semestre {year}")
            )
        for q in range(1, 5):
            last_month = 3 * q
            start = date(year, last_month - 2, 1)
            end = date(year, last_month, calendar.monthrange(year, last_month)[1])
            sem = f"{year}-S{1 if q <= 2 else 2}"
            out.append(_row(f"{year}-Q{q}", "quarter", start, end, year, sem, f"{year}-Q{q}", f"T{q} {year}"))
        for m in range(1, 13):
            end = date(year, m, calendar.monthrange(year, m)[1])
            sem, quarter = f"{year}-S{1 if m <= 6 else 2}", f"{year}-Q{(m - 1) // 3 + 1}"
            out.append(_row(f"{year}-{m:02d}", "month", date(year, m, 1), end, year, sem, quarter, f"{m:02d}/{year}"))
    return out


def _row(code, kind, start, end, year, semester, quarter, label) -> dict:
    return {
        "code": code,
        "kind": kind,
        "start_date": start,
        "end_date": end,
        "year": year,
        "semester_code": semester,
        "quarter_code": quarter,
        "label": label,
    }


def load(engine, first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> int:
    """Replace core.period with the periods of the span; returns the number of periods."""
    import pandas as pd
    import sqlalchemy as sa

    from etl.loading import copy_frame

    frame = pd.DataFrame(rows(first_year, last_year))
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM core.period"))
        return copy_frame(conn.connection.dbapi_connection, "core.period", frame)


def period_before(kind: str, moment: date) -> str:
    """The last complete period of `kind` (`month`, `quarter`, `year`) before `moment`: what a producer's file
    delivered then is about (`period_before("month", 2024-05-05)` = `2024-04`)."""
    if kind == "month":
        year, month = (moment.year, moment.month - 1) if moment.month > 1 else (moment.year - 1, 12)
        return f"{year}-{month:02d}"
    if kind == "quarter":
        quarter = (moment.month - 1) // 3  # the current quarter's number minus one
        return f"{moment.year}-Q{quarter}" if quarter else f"{moment.year - 1}-Q4"
    if kind == "year":
        return str(moment.year - 1)
    raise ValueError(f"unknown period kind {kind!r}: expected month, quarter or year")
