"""What an alert says and the promise that it is said once: messages built from `audit`, and the alert journal.

Four kinds of alert, each with a key that makes it unique in `audit.alert_log` (migration 0017):
- `batch:<id>`: a file was quarantined. One message per failed batch, whichever tasks then fail and however often
  the run is retried or cleared; it names the DAG, task, period (the batch's partition), file, the first failed
  check and the quarantine report, with a link to the task's log.
- `task:<dag>/<run>/<task>/<try>`: a task failed with no quarantined file to blame (a sensor timed out, the
  warehouse was unreachable, a disclosure gate refused an edition...).
- `late:<dag>/<period>`: a source's file for that period had not arrived by its expected date plus the tolerance
  (DeadlineAlert); once per period, however many runs wait for it (`late:<dag>/<run>` for a source without periods).
- `campaign:<year>`: the regional campaign's deadline passed with régions not accepted (DeadlineAlert).

`claim(engine, alert, recipients)` inserts the key and says whether this caller won it; the notifier mails only
then, and `release` gives the key back if the mail could not leave, so the next failure can try again.
Messages are in French, like the reports regional staff read; values are HTML-escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, datetime

from etl.warehouse.urls import redact_text

SUBJECT_PREFIX = "[Observatoire QPV]"

RUN_BATCHES_SQL = """
SELECT b.batch_id, b.source_id, b.original_name, b.partition_key, b.message, b.report_path, b.sha256,
       (SELECT count(*) FROM audit.dq_result d WHERE d.batch_id = b.batch_id AND d.blocking AND NOT d.success)
           AS blocking_failures,
       v.errors AS verdict_errors
FROM audit.batch b LEFT JOIN audit.submission_verdict v USING (batch_id)
WHERE b.run_id = :run_id AND b.source_id = ANY(:sources) AND b.status = 'quarantined'
ORDER BY b.batch_id
"""
ARRIVED_SQL = """
SELECT count(*) FROM audit.receipt_log WHERE source_id = :source AND received_at >= :since
"""
LAST_RECEIPT_SQL = "SELECT max(received_at) FROM audit.receipt_log WHERE source_id = :source"
MISSING_REGIONS_SQL = """
SELECT region_code, region_name, state, latest_file, latest_errors, deadline
FROM core.regional_submission_status WHERE campaign = :campaign AND state <> 'acceptée' ORDER BY region_code
"""


@dataclass
class Alert:
    key: str
    kind: str
    subject: str
    html: str
    dag_id: str | None = None
    run_id: str | None = None
    task_id: str | None = None
    batch_id: int | None = None
    facts: dict[str, str] = field(default_factory=dict)  # what the body lists, for tests and logs


def _body(title: str, facts: dict[str, str], link: str | None, note: str | None = None) -> str:
    rows = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in facts.items()
        if v not in (None, "")
    )
    parts = [f"<h3>{html.escape(title)}</h3>", f"<table>{rows}</table>"]
    if note:
        parts.append(f"<p>{html.escape(note)}</p>")
    if link:
        parts.append(f"<p><a href='{html.escape(link, quote=True)}'>Journal de la tâche dans Airflow</a></p>")
    return "".join(parts)


def failed_batches(engine, run_id: str, sources: list[str]) -> list[dict]:
    """The batches of this run, for these sources, that ended in quarantine (oldest first)."""
    import sqlalchemy as sa

    if not sources or not run_id:
        return []
    with engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(sa.text(RUN_BATCHES_SQL), {"run_id": run_id, "sources": sources}).mappings()
        ]


def batch_alert(
    batch: dict, *, dag_id: str, run_id: str, task_id: str, period: str | None, log_url: str | None
) -> Alert:
    """The file's partition is the period when it could be read that far; else the period the run was for."""
    checks = batch["verdict_errors"] if batch["verdict_errors"] is not None else batch["blocking_failures"]
    facts = {
        "DAG": dag_id,
        "Tâche": task_id,
        "Exécution": run_id,
        "Période": batch["partition_key"] or period or "inconnue",
        "Fichier": f"{batch['original_name']} (sha256 {batch['sha256'][:12]}…, lot {batch['batch_id']})",
        "Premier contrôle en échec": batch["message"] or "",
        "Contrôles bloquants en échec": str(checks or 1),
        "Rapport": batch["report_path"] or "",
    }
    subject = f"{SUBJECT_PREFIX} {batch['source_id']} : fichier rejeté {batch['original_name']}"
    note = "Le fichier est en quarantaine ; l'entrepôt n'a pas changé. Corriger le fichier et le déposer à nouveau."
    return Alert(
        key=f"batch:{batch['batch_id']}",
        kind="batch",
        subject=subject,
        html=_body(f"Fichier rejeté : {batch['original_name']}", facts, log_url, note),
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        batch_id=batch["batch_id"],
        facts=facts,
    )


def task_alert(
    *, dag_id: str, run_id: str, task_id: str, try_number: int, period: str | None, error: str, log_url: str | None
) -> Alert:
    facts = {
        "DAG": dag_id,
        "Tâche": task_id,
        "Exécution": run_id,
        "Période": period or "",
        "Tentative": str(try_number),
        "Erreur": redact_text(error),  # an exception may quote a connection string: its password never goes out
    }
    return Alert(
        key=f"task:{dag_id}/{run_id}/{task_id}/{try_number}",
        kind="task",
        subject=f"{SUBJECT_PREFIX} {dag_id} : la tâche {task_id} a échoué",
        html=_body(f"Échec de {dag_id}.{task_id}", facts, log_url),
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        facts=facts,
    )


def file_arrived(engine, source_id: str, since: datetime) -> bool:
    """Whether a file of this source was dropped (new or duplicate) since that moment."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        return bool(conn.execute(sa.text(ARRIVED_SQL), {"source": source_id, "since": since}).scalar())


def late_file_alert(
    engine, *, source_id: str, producer: str, patterns: list[str], dag_id: str, run_id: str, expected: datetime,
    deadline: datetime, period: str | None, link: str | None,
) -> Alert:  # fmt: skip
    import sqlalchemy as sa

    with engine.connect() as conn:
        last = conn.execute(sa.text(LAST_RECEIPT_SQL), {"source": source_id}).scalar()
    facts = {
        "Source": f"{source_id} ({producer})",
        "DAG": dag_id,
        "Exécution": run_id,
        "Période attendue": period or "",
        "Fichier attendu": ", ".join(patterns),
        "Attendu le": f"{expected:%d/%m/%Y %H:%M}",
        "Échéance dépassée": f"{deadline:%d/%m/%Y %H:%M}",
        "Dernier fichier reçu": f"{last:%d/%m/%Y %H:%M}" if last else "aucun",
    }
    note = "Le DAG attend toujours le fichier dans inbox/ ; il échouera si le fichier n'arrive pas avant son délai."
    return Alert(
        key=f"late:{dag_id}/{period}" if period else f"late:{dag_id}/{run_id}",
        kind="late_file",
        subject=f"{SUBJECT_PREFIX} {source_id} : fichier en retard ({period or 'période courante'})",
        html=_body(f"Fichier de {producer} non reçu", facts, link, note),
        dag_id=dag_id,
        run_id=run_id,
        facts=facts,
    )


def missing_regions(engine, campaign: int) -> list[dict]:
    """The régions whose workbook for this campaign is not accepted (not received, or rejected)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(MISSING_REGIONS_SQL), {"campaign": campaign}).mappings()]


def campaign_alert(campaign: int, deadline: date, missing: list[dict], *, dag_id: str, run_id: str, link: str | None):
    facts = {"Campagne": str(campaign), "Échéance": f"{deadline:%d/%m/%Y}", "Régions manquantes": str(len(missing))}
    for row in missing:
        detail = row["state"]
        if row["state"] == "rejetée":
            detail += f" ({row['latest_errors']} erreur(s), {row['latest_file']})"
        facts[f"{row['region_code']} {row['region_name']}"] = detail
    return Alert(
        key=f"campaign:{campaign}",
        kind="campaign",
        subject=f"{SUBJECT_PREFIX} campagne {campaign} : {len(missing)} région(s) sans bilan accepté à l'échéance",
        html=_body(f"Campagne régionale {campaign} : échéance du {deadline:%d/%m/%Y} dépassée", facts, link),
        dag_id=dag_id,
        run_id=run_id,
        facts=facts,
    )


def claim(engine, alert: Alert, recipients: list[str]) -> bool:
    """Record the alert; True when this call recorded it (mail it), False when it was already sent."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        inserted = conn.execute(
            sa.text(
                "INSERT INTO audit.alert_log (alert_key, kind, dag_id, run_id, task_id, batch_id, subject, recipients) "
                "VALUES (:alert_key, :kind, :dag_id, :run_id, :task_id, :batch_id, :subject, :recipients) "
                "ON CONFLICT (alert_key) DO NOTHING RETURNING alert_key"
            ),
            {
                "alert_key": alert.key,
                "kind": alert.kind,
                "dag_id": alert.dag_id,
                "run_id": alert.run_id,
                "task_id": alert.task_id,
                "batch_id": alert.batch_id,
                "subject": alert.subject,
                "recipients": ", ".join(recipients),
            },
        ).first()
    return inserted is not None


def release(engine, alert: Alert) -> None:
    """Forget a claimed alert whose mail could not be sent."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit.alert_log WHERE alert_key = :alert_key"), {"alert_key": alert.key})
