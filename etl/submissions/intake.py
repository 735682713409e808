"""Intake of the workbooks the State's services send: inbox -> archive + audit -> verdict -> quarantine or load.

Two kinds (`KINDS`): the regional workbooks (partition `<région>/<campagne>`) and the PAQTE reports
(`<département>/<semestre>`). Every file is landed (`etl.landing`), checked from its archive copy, its verdict
stored in audit.submission_verdict. A rejected file is quarantined with its French report (`.rapport.html`) and
`.verdict.json`; an accepted one replaces its partition's previous file in one transaction (raw cells, staging
values, then the kind's sql/core file).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl import landing
from etl.config import Home
from etl.sources.registry import source
from etl.submissions import submission_sql
from etl.submissions.check import check_file
from etl.submissions.paqte_check import check_paqte_file
from etl.submissions.verdict import Verdict

SOURCE_ID = "regional"
PAQTE_SOURCE_ID = "paqte"


def _check_paqte(path, engine=None, **options) -> Verdict:
    """The PAQTE check (its rules need no warehouse)."""
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


def normalise(cells: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{"values": the checked cells}: the staging frame is the checked cells (COPY keeps the table's columns)."""
    return {"values": cells}


# --- the intake ------------------------------------------------------------------------------------------------------


def intake(engine, source_id: str = SOURCE_ID, *, home: Home | None = None, run_id: str | None = None) -> IntakeReport:
    """Receive what waits in the source's inbox and give every received batch its verdict (see the module doc)."""
    from etl.pipeline import process_received, receive_pending

    home = home or Home.from_env()
    kind = KINDS[source_id]
    entry = source(source_id)
    report = IntakeReport(source_id=source_id)
    report.received = receive_pending(engine, entry, home)
    # each workbook checked here, not in a worker process: a workbook's check (0.3-0.5 s) is short beside a worker's
    # start (etl.ahead), even for a campaign's 18 workbooks
    report.outcomes = process_received(
        engine,
        source_id,
        home,
        lambda _batch_id, name, archive: kind.check(archive, name=name, home=home, engine=engine),
        lambda batch_id, name, archive, verdict: commit(
            engine, kind, batch_id, name, archive, verdict, home=home, run_id=run_id
        ),
    )
    return report


def commit(
    engine, kind: Kind, batch_id: int, original_name: str, archive: Path, verdict: Verdict, *, home: Home, run_id
) -> SubmissionOutcome:
    """Record a checked workbook's verdict, and quarantine or load it."""
    from etl import loading
    from etl.quality import gates

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
            sa.text(submission_sql("submission_verdict")),
            {
                "batch_id": batch_id,
                "source_id": source_id,
                "original_name": verdict.file_name,
                "region_code": verdict.region_code,
                "campaign": verdict.campaign,
                "departement_code": verdict.departement_code,
                "semester": verdict.semester,
                "template_version": verdict.template_version,
                "verdict": verdict.status,
                "errors": len(verdict.errors),
                "warnings": len(verdict.warnings),
                "findings": json.dumps(verdict.to_dict()["constats"], ensure_ascii=False),
                "report_path": None if report is None else str(report),
            },
        )


def _quarantine(
    engine, home: Home, source_id: str, batch_id: int, archive: Path, verdict: Verdict, run_id: str | None
) -> Path:
    """Quarantine the file (etl.pipeline.quarantine) with its verdict beside it: the HTML report and the JSON."""
    from etl.pipeline import quarantine
    from etl.submissions.report import write_html

    def reports(folder: Path, stem: str) -> Path:
        (folder / f"{stem}.verdict.json").write_text(verdict.to_json() + "\n", encoding="utf-8")
        return write_html(verdict, folder / f"{stem}.rapport.html", workbook=archive)

    first = verdict.errors[0]
    message = f"[{first.rule}] {first.where} {first.message}"
    return quarantine(engine, home, source_id, batch_id, verdict.file_name, archive, message, run_id, reports)
