"""A deposit through the portal, and the workbook it hands out: the intake's own pieces, never copies of them.

`template_bytes` builds the same workbook as `observatoire template` (the template builders of etl/submissions,
with what the warehouse tells a template, `etl.warehouse.template_context`, read by the command too). `deposit`
checks the uploaded file at once with the checker the intake runs (`etl.submissions.intake.KINDS`), bound to the
officer's territory and period; the verdict page embeds the intake's cell-by-cell HTML report
(`etl.submissions.report.render_html`). An accepted file is landed as an inbox file is (`etl.landing.receive`:
archived by sha256, registered, a batch `received`), which the intake task of the `regional_submissions` DAG
loads; the DAG is triggered through Airflow's REST API when `OBSERVATOIRE_PORTAL_AIRFLOW_URL` is set and answers,
else the file waits for its next scheduled run.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from etl import landing
from etl.config import Home
from etl.portal import store
from etl.portal.accounts import Account

INTAKE_DAG = "regional_submissions"


def current_period(account: Account, today: date) -> str:
    """The campaign (regional: the year before `today`, collected until 30 April) or the PAQTE semester (the last
    complete one) the account deposits for."""
    from etl.referentiels.periods import last_complete_semester

    if account.kind == "paqte":
        return last_complete_semester(today)
    return str(today.year - 1)


def deadline(account: Account, period: str) -> date:
    """When the period's workbook is due (the same dates as `submissions status`)."""
    from etl.ops.campaigns import campaign_deadline
    from etl.referentiels.periods import semester_bounds

    if account.kind == "paqte":  # the last day of the month after the semester's
        end = semester_bounds(period)[1]
        year, month = divmod(end.month + 1, 12)
        return date(end.year + year, month + 1, 1) - timedelta(days=1)
    return campaign_deadline(int(period))


def template_bytes(engine, account: Account, period: str) -> tuple[str, bytes]:
    """(file name, bytes) of the account's workbook for `period`: what `observatoire template` writes."""
    from etl import xlsx

    if account.kind == "paqte":
        from etl.submissions import paqte
        from etl.warehouse.template_context import paqte_context

        context = paqte_context(engine, account.departement_code, period)
        book = paqte.build_paqte_template(account.departement_code, period, context=context)
        return f"paqte_D{account.departement_code}_{period}.xlsx", xlsx.workbook_bytes(book)
    from etl.submissions import template
    from etl.warehouse.template_context import national_values

    book = template.build_template(
        account.region_code, int(period), national_values=national_values(engine, account.region_code)
    )
    return f"indicateurs_locaux_R{account.region_code}_{period}.xlsx", xlsx.workbook_bytes(book)


@dataclass
class Deposit:
    """What a deposit gave: its id, the verdict, the report page, whether it was landed and how it goes on."""

    deposit_id: int
    verdict: object
    report_html: str
    batch_id: int | None = None
    triggered: bool | None = None  # None: rejected, nothing to trigger


def deposit(
    engine, home: Home, account: Account, period: str, name: str, upload: Path, *, address: str | None
) -> Deposit:
    """Check `upload` (sent as `name`) for the account's territory and `period`; record it, land it if accepted."""
    from etl.submissions.intake import KINDS
    from etl.submissions.report import render_html

    kind = KINDS[account.kind]
    bounds = (
        {"departement": account.departement_code, "semester": period}
        if account.kind == "paqte"
        else {"region": account.region_code, "campaign": int(period)}
    )
    verdict = kind.check(upload, name=name, engine=engine, **bounds)
    report = render_html(verdict, upload)
    batch_id = None
    if verdict.accepted:
        batch_id = _land(engine, home, kind.source_id, name, upload)
    deposit_id = store.record_deposit(
        engine,
        account,
        {
            "kind": account.kind,
            "departement_code": account.departement_code,
            "period": period,
            "original_name": name,
            "sha256": verdict.sha256,
            "size_bytes": verdict.size_bytes,
            "verdict": verdict.status,
            "errors": len(verdict.errors),
            "warnings": len(verdict.warnings),
            "report_html": report,
            "batch_id": batch_id,
        },
    )
    store.journal(engine, "depot", account.login, address, f"dépôt {deposit_id} : {verdict.status}")
    triggered = trigger_intake(deposit_id) if verdict.accepted else None
    return Deposit(deposit_id, verdict, report, batch_id, triggered)


def _land(engine, home: Home, source_id: str, name: str, upload: Path) -> int | None:
    """Land the accepted file as an inbox file is landed (under its name as sent, made safe); its batch id, or the
    existing one's None when the same bytes were received before."""
    with tempfile.TemporaryDirectory(prefix="portail-") as folder:
        path = Path(folder) / landing.safe_file_name(name)
        path.write_bytes(upload.read_bytes())
        return landing.receive(engine, home, source_id, path).batch_id


def trigger_intake(deposit_id: int, *, timeout: float = 5.0) -> bool:
    """Ask Airflow's REST API for a run of the intake DAG; False when no Airflow is configured or it does not
    answer (the deposit then waits for the DAG's next scheduled run). `OBSERVATOIRE_PORTAL_AIRFLOW_URL` is the
    api-server's address; `OBSERVATOIRE_PORTAL_AIRFLOW_TOKEN` a token, or `..._USER` and `..._PASSWORD` an account
    whose token is asked from `POST /auth/token`."""
    base = os.environ.get("OBSERVATOIRE_PORTAL_AIRFLOW_URL", "").rstrip("/")
    if not base:
        return False
    try:
        token = os.environ.get("OBSERVATOIRE_PORTAL_AIRFLOW_TOKEN") or _token(base, timeout)
        from datetime import UTC, datetime

        body = {"logical_date": datetime.now(UTC).isoformat(), "note": f"dépôt {deposit_id} du portail régional"}
        request = urllib.request.Request(
            f"{base}/api/v2/dags/{INTAKE_DAG}/dagRuns",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the configured Airflow
            return 200 <= answer.status < 300
    except (OSError, ValueError, KeyError, urllib.error.URLError):
        return False


def _token(base: str, timeout: float) -> str:
    credentials = {
        "username": os.environ.get("OBSERVATOIRE_PORTAL_AIRFLOW_USER", ""),
        "password": os.environ.get("OBSERVATOIRE_PORTAL_AIRFLOW_PASSWORD", ""),
    }
    request = urllib.request.Request(
        f"{base}/auth/token",
        data=json.dumps(credentials).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the configured Airflow
        return json.loads(answer.read())["access_token"]
