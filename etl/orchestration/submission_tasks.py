"""Airflow task bodies of the submissions' intake: the workbooks received, then the completeness of the campaigns.

`run_intake` receives and checks the files of one kind (`regional`, `paqte`) and fails the task when one was
rejected; `print_completeness` prints the state of every campaign and PAQTE semester that received files.
"""

from __future__ import annotations

from etl.ops.campaigns import campaign_status, format_status, paqte_status
from etl.orchestration.connections import warehouse_engine
from etl.submissions.intake import PAQTE_SOURCE_ID, SOURCE_ID, intake


def run_intake(run_id: str | None, source_id: str = SOURCE_ID) -> dict:
    """Body of the DAG's intake tasks: print each file's verdict; fail (no retry) if a file was rejected, after all
    were processed, so that the run shows red and its log names the reports."""
    from airflow.sdk.exceptions import AirflowFailException

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
        regions, unattributed = campaign_status(engine, campaign)
        if not regions.empty:
            printed.append(format_status(regions, campaign, today, unattributed=unattributed))
    for semester in semesters:
        departements = paqte_status(engine, semester)
        if not departements.empty:
            printed.append(format_status(departements, semester, today, kind=PAQTE_SOURCE_ID))
    for text in printed:
        print(text)
    return printed
