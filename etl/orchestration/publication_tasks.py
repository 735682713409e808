"""Bodies of the publication DAGs' tasks: which edition a run publishes (its params, else the period before its
logical date), on the warehouse connection Airflow gives the task, and what the task's log and XCom say."""

from __future__ import annotations

from datetime import UTC, datetime

from etl.orchestration.connections import warehouse_engine
from etl.publication.publish import Published, publish_annual, publish_semestrial
from etl.referentiels.periods import last_complete_semester


def run_annual(params: dict, logical_date) -> dict:
    """Body of the publication_annuelle task: the `year` param, else the year before the run's logical date."""
    year = int(params.get("year") or (logical_date.year - 1 if logical_date else datetime.now(UTC).year - 1))
    return _announce("annual", year, publish_annual(warehouse_engine(), year, force=bool(params.get("force"))))


def run_semestrial(params: dict, logical_date) -> dict:
    """Body of the publication_semestrielle task: the `semester` param, else the last complete semester before the
    run's logical date (a run in August publishes S1, one in February the previous S2)."""
    semester = params.get("semester") or last_complete_semester(logical_date or datetime.now(UTC))
    released = publish_semestrial(warehouse_engine(), semester, force=bool(params.get("force")))
    return _announce("semestrial", semester, released)


def _announce(kind: str, period, released: Published) -> dict:
    """Print what a publication task did (the task's log in the Airflow UI) and return it (its XCom)."""
    state = "released" if released.new else "unchanged inputs: kept"
    print(f"{kind} edition {period}: {state} {released.edition_id} in {released.folder}")
    for column, count in released.masked.items():
        print(f"  {column}: {count} cell(s) masked by statistical secrecy")
    return {"edition_id": released.edition_id, "new": released.new, "folder": str(released.folder)}
