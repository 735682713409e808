"""Intake of the workbooks the State's services send: inbox -> archive + audit -> verdict -> quarantine or load.

Two kinds (`KINDS`): the annual regional workbooks (source `regional`, inbox/regional/, etl.submissions.check,
partition `<région>/<campagne>`) and the départements' PAQTE semestrial reports (source `paqte`, inbox/paqte/,
etl.submissions.paqte_check, partition `<département>/<semestre>`).

`intake(engine, source_id)` receives every file waiting in the inbox (etl.landing: sha256, immutable archive copy,
audit.batch), whatever its name or format, then checks each batch still `received` from its archive copy (the cell
rules run as the kind's GX suites, their results stored in audit.dq_result like every gate's). Every verdict goes to
audit.submission_verdict. A rejected file is quarantined: `quarantine/<source>/<batch>-<safe name>` with
`.rapport.html` (the findings, in French, cell by cell, the faulty cells highlighted) and `.verdict.json` beside it,
and nothing of it reaches the warehouse tables. An accepted file replaces, in one transaction
(etl.loading.replace_partition), the previous accepted file of its partition: the cells as typed in raw, the values
in staging, then the kind's sql/core/ file (the earlier file stays, marked superseded). Text is stored verbatim.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl import landing
from etl.config import Home
from etl.sources.registry import source
from etl.submissions.check import check_file
from etl.submissions.verdict import Verdict
from etl.submissions.workbook import safe_file_name

SOURCE_ID = "regional"
PAQTE_SOURCE_ID = "paqte"


def _check_paqte(path, engine=None, **options) -> Verdict:
    """The PAQTE check (its rules need no warehouse)."""
    from etl.submissions.paqte_check import check_paqte_file

    return check_paqte_file(path, **options)


@dataclass(frozen=True)
class Kind:
    """What differs between the regional workbooks and the PAQTE reports."""

    source_id: str
    check: Callable[..., Verdict]  # (path, name=, home=, engine=) -> Verdict
    partition_of: Callable[[Verdict], str]


KINDS = {
    SOURCE_ID: Kind(SOURCE_ID, check_file, lambda v: f"{v.region_code}/{v.campaign}"),
    PAQTE_SOURCE_ID: Kind(PAQTE_SOURCE_ID, _check_paqte, lambda v: f"{v.departement_code}/{v.semester}"),
}


@dataclass
class SubmissionOutcome:
    batch_id: int
    original_name: str
    verdict: Verdict
    partition: str | None = None
    report: Path | None = None


@dataclass
class IntakeReport:
    received: list[landing.Receipt] = field(default_factory=list)
    outcomes: list[SubmissionOutcome] = field(default_factory=list)

    @property
    def rejected(self) -> list[SubmissionOutcome]:
        return [o for o in self.outcomes if not o.verdict.accepted]

    source_id: str = SOURCE_ID

    def summary(self) -> str:
        accepted = len(self.outcomes) - len(self.rejected)
        duplicates = sum(1 for r in self.received if not r.is_new)
        parts = [f"{self.source_id}: {accepted} accepted", f"{len(self.rejected)} rejected"]
        if duplicates:
            parts.append(f"{duplicates} already received (skipped)")
        return ", ".join(parts)


# --- the registry entry's functions (the workbook seen as the path's reader / normaliser / partition) ---------------


def read_cells(path: Path) -> pd.DataFrame:
    """The checked cells of a workbook (one row per input cell, as typed and as read); raises FileShapeError with the
    first error when the workbook is rejected. The intake below calls the checker itself, to keep every finding."""
    from etl.readers import FileShapeError

    verdict = check_file(path)
    if not verdict.accepted:
        first = verdict.errors[0]
        raise FileShapeError(f"{first.where} {first.message}".strip(), rule=first.rule)
    return verdict.values


def normalise(cells: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{"values": the checked cells}: the staging frame is the checked cells (COPY keeps the table's columns)."""
    return {"values": cells}


def partition(staged: dict[str, pd.DataFrame]) -> str:
    """`<région>/<campagne>`: a later accepted file of the same région and campaign replaces the earlier one."""
    values = staged["values"]
    return f"{values['region_code'].iloc[0]}/{int(values['campaign'].iloc[0])}"


def read_paqte_cells(path: Path) -> pd.DataFrame:
    """The checked cells of a PAQTE report; raises FileShapeError with the first error when it is rejected."""
    from etl.readers import FileShapeError

    verdict = _check_paqte(path)
    if not verdict.accepted:
        first = verdict.errors[0]
        raise FileShapeError(f"{first.where} {first.message}".strip(), rule=first.rule)
    return verdict.values


def paqte_partition(staged: dict[str, pd.DataFrame]) -> str:
    """`<département>/<semestre>`: a later accepted report replaces the earlier one."""
    values = staged["values"]
    return f"{values['departement_code'].iloc[0]}/{values['semester'].iloc[0]}"


# --- the intake ------------------------------------------------------------------------------------------------------


def intake(engine, source_id: str = SOURCE_ID, *, home: Home | None = None, run_id: str | None = None) -> IntakeReport:
    """Receive what waits in the source's inbox and give every received batch its verdict (see the module doc)."""
    from etl.pipeline import process_received, receive_pending

    home = home or Home.from_env()
    kind = KINDS[source_id]
    entry = source(source_id)
    report = IntakeReport(source_id=source_id)
    report.received = receive_pending(engine, entry, home)
    report.outcomes = process_received(
        engine,
        source_id,
        home,
        lambda batch_id, name, archive: process(engine, kind, batch_id, name, archive, home=home, run_id=run_id),
    )
    return report


def process(
    engine, kind: Kind, batch_id: int, original_name: str, archive: Path, *, home: Home, run_id: str | None
) -> SubmissionOutcome:
    """Check one received workbook and quarantine or load it."""
    from etl import loading
    from etl.quality import gates

    verdict = kind.check(archive, name=original_name, home=home, engine=engine)
    gates.record(engine, verdict.gate_results, batch_id, run_id)
    outcome = SubmissionOutcome(batch_id, original_name, verdict)
    if not verdict.accepted:
        outcome.report = _quarantine(engine, home, kind.source_id, batch_id, archive, verdict, run_id)
        _record_verdict(engine, kind.source_id, batch_id, verdict, outcome.report)
        return outcome
    staged = normalise(verdict.values)
    outcome.partition = kind.partition_of(verdict)
    _record_verdict(engine, kind.source_id, batch_id, verdict, None)
    entry = source(kind.source_id)
    loading.replace_partition(engine, entry, batch_id, outcome.partition, verdict.values, staged, run_id)
    return outcome


def _record_verdict(engine, source_id: str, batch_id: int, verdict: Verdict, report: Path | None) -> None:
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO audit.submission_verdict (batch_id, source_id, original_name, region_code, campaign, "
                "departement_code, semester, template_version, verdict, errors, warnings, findings, report_path) "
                "VALUES (:b, :s, :o, :r, :c, :d, :sem, :v, :verdict, :e, :w, CAST(:f AS jsonb), :p) "
                "ON CONFLICT (batch_id) DO UPDATE SET region_code = EXCLUDED.region_code, campaign = "
                "EXCLUDED.campaign, departement_code = EXCLUDED.departement_code, semester = EXCLUDED.semester, "
                "template_version = EXCLUDED.template_version, verdict = EXCLUDED.verdict, errors = EXCLUDED.errors, "
                "warnings = EXCLUDED.warnings, findings = EXCLUDED.findings, checked_at = now(), "
                "report_path = EXCLUDED.report_path"
            ),
            {
                "b": batch_id,
                "s": source_id,
                "o": verdict.file_name,
                "r": verdict.region_code,
                "c": verdict.campaign,
                "d": verdict.departement_code,
                "sem": verdict.semester,
                "v": verdict.template_version,
                "verdict": verdict.status,
                "e": len(verdict.errors),
                "w": len(verdict.warnings),
                "f": json.dumps(verdict.to_dict()["constats"], ensure_ascii=False),
                "p": None if report is None else str(report),
            },
        )


def _quarantine(
    engine, home: Home, source_id: str, batch_id: int, archive: Path, verdict: Verdict, run_id: str | None
) -> Path:
    """Copy the file to quarantine/<source>/ with its verdict beside it (HTML report, JSON); mark the batch."""
    from etl.pipeline import mark_quarantined
    from etl.submissions.report import write_html

    folder = home.folder("quarantine") / source_id
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{batch_id:06d}-{safe_file_name(verdict.file_name)}"
    copy = folder / stem
    if not copy.exists():
        shutil.copyfile(archive, copy)
    (folder / f"{stem}.verdict.json").write_text(verdict.to_json() + "\n", encoding="utf-8")
    report = write_html(verdict, folder / f"{stem}.rapport.html", workbook=archive)
    first = verdict.errors[0]
    mark_quarantined(engine, batch_id, f"[{first.rule}] {first.where} {first.message}", report, run_id)
    return report


def run_intake(run_id: str | None, source_id: str = SOURCE_ID) -> dict:
    """Body of the DAG's intake tasks: print each file's verdict; fail (no retry) if a file was rejected, after all
    were processed, so that the run shows red and its log names the reports."""
    from airflow.sdk.exceptions import AirflowFailException

    from etl.orchestration.connections import warehouse_engine

    report = intake(warehouse_engine(), source_id, run_id=run_id)
    print(report.summary())
    for outcome in report.outcomes:
        print(f"  batch {outcome.batch_id}: {outcome.verdict.summary()}")
        if outcome.partition:
            print(f"    loaded as {outcome.partition}")
        for finding in outcome.verdict.findings[:50]:
            print(f"    {finding.line(outcome.verdict.file_name)}")
        if outcome.report:
            print(f"    report: {outcome.report}")
    if report.rejected:
        names = ", ".join(o.original_name for o in report.rejected)
        raise AirflowFailException(
            f"{len(report.rejected)} {source_id} workbook(s) rejected ({names}): the reports are in "
            f"quarantine/{source_id}/."
        )
    return {"accepted": [o.batch_id for o in report.outcomes if o.verdict.accepted]}


def print_completeness() -> list[str]:
    """Body of the DAG's completeness task: the state of every campaign and PAQTE semester that received files."""
    import datetime as dt

    import sqlalchemy as sa

    from etl.orchestration.connections import warehouse_engine
    from etl.submissions import status

    engine = warehouse_engine()
    with engine.connect() as conn:
        campaigns = conn.execute(
            sa.text("SELECT DISTINCT campaign FROM audit.submission_verdict WHERE campaign IS NOT NULL ORDER BY 1")
        ).scalars()
        campaigns = list(campaigns)
        semesters = conn.execute(
            sa.text("SELECT DISTINCT semester FROM audit.submission_verdict WHERE semester IS NOT NULL ORDER BY 1")
        ).scalars()
        semesters = list(semesters)
    today = dt.date.today()
    printed = []
    for campaign in campaigns:
        regions, unattributed = status.campaign_status(engine, campaign)
        if not regions.empty:
            printed.append(status.format_status(regions, unattributed, campaign, today))
    for semester in semesters:
        departements = status.paqte_status(engine, semester)
        if not departements.empty:
            printed.append(status.format_paqte_status(departements, semester, today))
    for text in printed:
        print(text)
    return printed
