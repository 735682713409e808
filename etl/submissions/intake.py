"""Intake of the regional workbooks: inbox/regional/ -> archive + audit -> verdict -> quarantine or load.

`intake(engine)` receives every file waiting in `inbox/regional/` (etl.landing: sha256, immutable archive copy,
audit.batch), whatever its name or format, then checks each batch still `received` from its archive copy
(etl.submissions.check, its cell rules run as the GX suite `regional_submission.values`, their results stored in
audit.dq_result like every gate's). Every verdict goes to audit.submission_verdict. A rejected file is quarantined:
`quarantine/regional/<batch>-<safe name>` with `.rapport.html` (the findings, in French, cell by cell) and
`.verdict.json` beside it, and nothing of it reaches the warehouse tables. An accepted file replaces, in one
transaction (etl.loading.replace_partition), its région's submission for the campaign (partition
`<région>/<campagne>`): the cells as typed in raw, the values in staging, then sql/core/regional_submission.sql
(the earlier file stays, marked superseded). Observations are stored verbatim.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl import landing
from etl.config import Home
from etl.sources.registry import source
from etl.submissions.check import Verdict, check_file
from etl.submissions.workbook import safe_file_name

SOURCE_ID = "regional"


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

    def summary(self) -> str:
        accepted = len(self.outcomes) - len(self.rejected)
        duplicates = sum(1 for r in self.received if not r.is_new)
        parts = [f"regional: {accepted} accepted", f"{len(self.rejected)} rejected"]
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


# --- the intake ------------------------------------------------------------------------------------------------------


def intake(engine, *, home: Home | None = None, run_id: str | None = None) -> IntakeReport:
    """Receive what waits in inbox/regional/ and give every received batch its verdict (see the module doc)."""
    from etl.pipeline import _received_batches
    from etl.quality import gates

    home = home or Home.from_env()
    entry = source(SOURCE_ID)
    report = IntakeReport()
    for path in landing.pending(home, SOURCE_ID, entry.patterns):
        report.received.append(landing.receive(engine, home, SOURCE_ID, path))
    batches = _received_batches(engine, SOURCE_ID)
    known = gates.validation_keys(home) if batches else set()
    for batch_id, name, archive in batches:
        report.outcomes.append(process(engine, batch_id, name, Path(archive), home=home, run_id=run_id))
    if batches:
        gates.build_data_docs(home, only=gates.validation_keys(home) - known)
    return report


def process(engine, batch_id: int, original_name: str, archive: Path, *, home: Home, run_id: str | None):
    """Check one received workbook and quarantine or load it."""
    from etl import loading
    from etl.quality import gates

    verdict = check_file(archive, name=original_name, home=home)
    gates.record(engine, verdict.gate_results, batch_id, run_id)
    outcome = SubmissionOutcome(batch_id, original_name, verdict)
    if not verdict.accepted:
        outcome.report = _quarantine(engine, home, batch_id, archive, verdict)
        _record_verdict(engine, batch_id, verdict, outcome.report)
        return outcome
    staged = normalise(verdict.values)
    outcome.partition = partition(staged)
    _record_verdict(engine, batch_id, verdict, None)
    loading.replace_partition(engine, source(SOURCE_ID), batch_id, outcome.partition, verdict.values, staged, run_id)
    return outcome


def _record_verdict(engine, batch_id: int, verdict: Verdict, report: Path | None) -> None:
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO audit.submission_verdict (batch_id, source_id, original_name, region_code, campaign, "
                "template_version, verdict, errors, warnings, findings, report_path) VALUES (:b, :s, :o, :r, :c, :v, "
                ":verdict, :e, :w, CAST(:f AS jsonb), :p) ON CONFLICT (batch_id) DO UPDATE SET region_code = "
                "EXCLUDED.region_code, campaign = EXCLUDED.campaign, template_version = EXCLUDED.template_version, "
                "verdict = EXCLUDED.verdict, errors = EXCLUDED.errors, warnings = EXCLUDED.warnings, findings = "
                "EXCLUDED.findings, checked_at = now(), report_path = EXCLUDED.report_path"
            ),
            {
                "b": batch_id,
                "s": SOURCE_ID,
                "o": verdict.file_name,
                "r": verdict.region_code,
                "c": verdict.campaign,
                "v": verdict.template_version,
                "verdict": verdict.status,
                "e": len(verdict.errors),
                "w": len(verdict.warnings),
                "f": json.dumps(verdict.to_dict()["constats"], ensure_ascii=False),
                "p": None if report is None else str(report),
            },
        )


def _quarantine(engine, home: Home, batch_id: int, archive: Path, verdict: Verdict) -> Path:
    """Copy the file to quarantine/regional/ with its verdict beside it (HTML report, JSON); mark the batch."""
    import sqlalchemy as sa

    from etl.submissions.report import write_html

    folder = home.folder("quarantine") / SOURCE_ID
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{batch_id:06d}-{safe_file_name(verdict.file_name)}"
    copy = folder / stem
    if not copy.exists():
        shutil.copyfile(archive, copy)
    (folder / f"{stem}.verdict.json").write_text(verdict.to_json() + "\n", encoding="utf-8")
    report = write_html(verdict, folder / f"{stem}.rapport.html", workbook=archive)
    first = verdict.errors[0]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE audit.batch SET status = 'quarantined', finished_at = now(), message = :m, report_path = :r "
                "WHERE batch_id = :b"
            ),
            {"m": f"[{first.rule}] {first.where} {first.message}"[:2000], "r": str(report), "b": batch_id},
        )
    return report


def run_intake(run_id: str | None) -> dict:
    """Body of the DAG's intake task: print each file's verdict; fail (no retry) if a file was rejected, after all
    were processed, so that the run shows red and its log names the reports."""
    from airflow.sdk.exceptions import AirflowFailException

    from etl.orchestration.connections import warehouse_engine

    report = intake(warehouse_engine(), run_id=run_id)
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
            f"{len(report.rejected)} regional workbook(s) rejected ({names}): the reports are in quarantine/regional/."
        )
    return {"accepted": [o.batch_id for o in report.outcomes if o.verdict.accepted]}


def print_completeness(campaigns: list[int] | None = None) -> list[str]:
    """Body of the DAG's completeness task: the state of the campaigns that received files (or `campaigns`)."""
    import datetime as dt

    import sqlalchemy as sa

    from etl.orchestration.connections import warehouse_engine
    from etl.submissions.status import campaign_status, format_status

    engine = warehouse_engine()
    if not campaigns:
        with engine.connect() as conn:
            campaigns = list(
                conn.execute(
                    sa.text(
                        "SELECT DISTINCT campaign FROM audit.submission_verdict WHERE campaign IS NOT NULL "
                        "ORDER BY campaign"
                    )
                ).scalars()
            )
    printed = []
    for campaign in campaigns:
        status, unattributed = campaign_status(engine, campaign)
        if not status.empty:
            text = format_status(status, unattributed, campaign, dt.date.today())
            print(text)
            printed.append(text)
    return printed
