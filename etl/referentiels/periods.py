"""The period dimension: months, quarters, semesters and years, each month rolled up to the three others.

Codes: month `2024-03`, quarter `2024-Q1`, semester `2024-S1` (January-June) / `2024-S2`, year `2024`.
`load()` replaces `core.period` for the span in one transaction; running it again changes nothing.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

_SEMESTER = re.compile(r"(\d{4})-S([12])")

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
    "décembre",
)  # fmt: skip
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


# --- semesters: the one place where their arithmetic is written ------------------------------------------------------


def semester_parts(semester: str) -> tuple[int, int]:
    """(year, half) of a semester code `YYYY-S1` / `YYYY-S2`; ValueError otherwise."""
    match = _SEMESTER.fullmatch(semester) if isinstance(semester, str) else None
    if match is None:
        raise ValueError(f"a semester is written YYYY-S1 or YYYY-S2, not {semester!r}")
    return int(match[1]), int(match[2])


def semester_bounds(semester: str) -> tuple[date, date]:
    """First and last day of a semester (`2024-S1` -> 1 January and 30 June 2024)."""
    year, half = semester_parts(semester)
    return (date(year, 1, 1), date(year, 6, 30)) if half == 1 else (date(year, 7, 1), date(year, 12, 31))


def months_of_semester(semester: str) -> list[str]:
    """The six month codes of a semester, in order (`2024-S2` -> `2024-07` ... `2024-12`)."""
    year, half = semester_parts(semester)
    return [f"{year}-{month:02d}" for month in range(6 * half - 5, 6 * half + 1)]


def semester_end_months(semester: str) -> tuple[str, str, str]:
    """The last month of a semester and the months 6 and 12 months before it, the months a semestrial edition
    compares: `2024-S1` -> 2024-06, 2023-12, 2023-06."""
    year, half = semester_parts(semester)
    before = f"{year - 1}-12" if half == 1 else f"{year}-06"
    return f"{year}-{6 * half:02d}", before, f"{year - 1}-{6 * half:02d}"


def semesters_ending_with(semester: str, count: int) -> list[str]:
    """`count` semesters ending with `semester`, oldest first: 2024-S2, 3 -> 2023-S2, 2024-S1, 2024-S2."""
    year, half = semester_parts(semester)
    out = []
    for _ in range(count):
        out.append(f"{year}-S{half}")
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return out[::-1]


def last_complete_semester(moment) -> str:
    """The latest semester whose last month is over at `moment` (`2025-02-15` -> `2024-S2`, `2025-08-15` ->
    `2025-S1`)."""
    month = period_before("month", moment)
    candidates = semesters_ending_with(f"{month[:4]}-S2", 3)  # the year before's S2, this year's S1 and S2
    return next(semester for semester in reversed(candidates) if semester_end_months(semester)[0] <= month)


def semester_short_label(code: str) -> str:
    """`2024-S1` -> `S1 2024`; any other code unchanged."""
    match = _SEMESTER.fullmatch(str(code))
    return f"S{match[2]} {match[1]}" if match else str(code)


def month_label(month: str) -> str:
    """`2024-03` -> `mars 2024`."""
    return f"{MONTHS[int(month[5:7]) - 1]} {month[:4]}"


def french_date(iso: str) -> str:
    """`2019-01-22` -> `22 janvier 2019` (`1er` for the first day of a month)."""
    day = int(iso[8:10])
    return f"{'1er' if day == 1 else day} {MONTHS[int(iso[5:7]) - 1]} {iso[:4]}"


def period_label(code: str) -> str:
    """`2024-S1` -> `1er semestre 2024`; any other code (a year) unchanged."""
    match = _SEMESTER.fullmatch(str(code))
    if match:
        return f"{'1er' if match[2] == '1' else '2e'} semestre {match[1]}"
    return str(code)


def run_period(kind: str | None, logical_date, params: dict | None) -> str | None:
    """The period an Airflow run is for: the `period` param when given (a re-run of one period from the UI or CLI),
    else, for a source whose deliveries cover a period (`kind`), the last complete one before the logical date."""
    if params and params.get("period"):
        return str(params["period"])
    if kind is None or logical_date is None:
        return None
    return period_before(kind, logical_date)
