"""Alerts as Airflow sends them: a failure notifier on every task and the callbacks of the DAGs' DeadlineAlerts.

Mail leaves through the SMTP provider's `SmtpNotifier` on the connection `smtp_default` (set it with
`AIRFLOW_CONN_SMTP_DEFAULT`, e.g. `smtp://user:password@smtp.example.org:587`), from `OBSERVATOIRE_ALERT_FROM`
(default `observatoire-qpv@localhost`) to the comma-separated `OBSERVATOIRE_ALERT_TO`; without recipients, alerts
are logged and not mailed (the local demo). What each alert says, and the journal that sends each one once, are in
etl/ops/alerts.py.

- `FailureAlert(sources=...)`: `on_failure_callback` of every task (DEFAULT_ARGS; the ingest and intake tasks name
  their sources). One mail per quarantined batch of the run, or one for the task when no file is to blame. The
  watcher task that only repeats a failure sends nothing.
- `late_file(source_id, context)`: the SyncCallback of a source DAG's DeadlineAlert, missed when the run has not
  finished by its queue time plus the source's tolerance; mails only if no file of the source arrived meanwhile.
- `campaign_deadline_missed(context)`: the SyncCallback of regional_campaign_watch's DeadlineAlert: mails the
  régions without an accepted workbook when the campaign's deadline passes.

Kept light at import (DAG files import it): the warehouse and the registry are reached inside the calls.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime

from airflow.sdk import BaseNotifier

SMTP_CONN_ID = "smtp_default"
DEFAULT_FROM = "observatoire-qpv@localhost"


def recipients() -> list[str]:
    return [a.strip() for a in os.environ.get("OBSERVATOIRE_ALERT_TO", "").split(",") if a.strip()]


def _base_url() -> str:
    from airflow.configuration import conf

    return conf.get("api", "base_url", fallback="http://localhost:8080/").rstrip("/")


def _send(alert, to: list[str], context) -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    SmtpNotifier(
        to=to,
        from_email=os.environ.get("OBSERVATOIRE_ALERT_FROM", DEFAULT_FROM),
        subject=alert.subject,
        html_content=alert.html,
        smtp_conn_id=SMTP_CONN_ID,
    ).notify(context)


def send_once(engine, alert, context) -> bool:
    """Mail the alert unless the journal says it was sent; True when this call sent it.

    Without a warehouse (engine None: the failure may be the warehouse itself) the alert is mailed unjournaled."""
    from etl.ops import alerts

    to = recipients()
    if not to:
        print(f"alert not mailed (OBSERVATOIRE_ALERT_TO is not set): {alert.subject}")
        return False
    if engine is not None and not alerts.claim(engine, alert, to):
        print(f"alert already sent: {alert.key}")
        return False
    try:
        _send(alert, to, context)
    except Exception:
        if engine is not None:
            alerts.release(engine, alert)
        raise
    print(f"alert mailed to {', '.join(to)}: {alert.subject}")
    return True


def _engine_or_none():
    from etl.orchestration.connections import warehouse_engine

    try:
        engine = warehouse_engine()
        with engine.connect():
            pass
        return engine
    except Exception as exc:  # the alert must still go out when the warehouse is what failed
        print(f"the warehouse cannot be reached ({type(exc).__name__}): the alert is mailed without its journal")
        return None


def _period(context) -> str | None:
    params = context.get("params") or {}
    for name in ("period", "semester", "year"):
        if params.get(name):
            return str(params[name])
    logical = context.get("logical_date")
    return f"exécution du {logical:%d/%m/%Y}" if logical else None


class FailureAlert(BaseNotifier):
    """`on_failure_callback`: one mail per quarantined batch of the run for `sources`, else one for the task."""

    template_fields = ()

    def __init__(self, sources: Sequence[str] = ()):
        super().__init__()
        self.sources = list(sources)

    def notify(self, context) -> None:
        from etl.ops import alerts

        if not recipients():
            print("task failure not mailed: OBSERVATOIRE_ALERT_TO is not set")
            return
        ti, dag_run = context["ti"], context["dag_run"]
        log_url = getattr(ti, "log_url", None)
        engine = _engine_or_none()
        try:
            batches = alerts.failed_batches(engine, dag_run.run_id, self.sources) if engine is not None else []
        except Exception as exc:  # never lose the alert: say the task failed, without the batch details
            print(f"the run's quarantined files could not be read ({type(exc).__name__}: {exc}): task alert instead")
            batches = []
        if batches:
            found = [
                alerts.batch_alert(
                    b,
                    dag_id=ti.dag_id,
                    run_id=dag_run.run_id,
                    task_id=ti.task_id,
                    period=self._run_period(b["source_id"], context),
                    log_url=log_url,
                )
                for b in batches
            ]
        else:
            error = context.get("exception")
            found = [
                alerts.task_alert(
                    dag_id=ti.dag_id,
                    run_id=dag_run.run_id,
                    task_id=ti.task_id,
                    try_number=int(getattr(ti, "try_number", 1) or 1),
                    period=_period(context),
                    error=f"{type(error).__name__}: {error}" if error else "voir le journal de la tâche",
                    log_url=log_url,
                )
            ]
        for alert in found:
            send_once(engine, alert, context)

    @staticmethod
    def _run_period(source_id: str, context) -> str | None:
        from etl.referentiels.periods import run_period
        from etl.sources.registry import source

        return run_period(source(source_id).period, context.get("logical_date"), context.get("params"))


def _when(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def late_file(source_id: str, context: dict | None = None) -> None:
    """DeadlineAlert callback of a source DAG: the file expected when the run was queued has not come."""
    from etl import landing
    from etl.config import Home
    from etl.ops import alerts
    from etl.referentiels.periods import run_period
    from etl.sources.registry import source

    context = context or {}
    run = context.get("dag_run") or {}
    entry = source(source_id)
    expected = _when(run.get("queued_at") or run.get("run_after") or run.get("logical_date")) or datetime.now()
    deadline = _when((context.get("deadline") or {}).get("deadline_time")) or datetime.now()
    engine = _engine_or_none()
    if landing.pending(Home.from_env(), source_id, entry.patterns) or (
        engine is not None and alerts.file_arrived(engine, source_id, expected)
    ):
        print(f"{source_id}: a file arrived after all; its run is late, not the producer: no alert")
        return
    dag_id, run_id = run.get("dag_id", source_id), run.get("dag_run_id") or run.get("run_id") or "?"
    alert = alerts.late_file_alert(
        engine,
        source_id=source_id,
        producer=entry.producer,
        patterns=entry.patterns,
        dag_id=dag_id,
        run_id=run_id,
        expected=expected,
        deadline=deadline,
        period=run_period(entry.period, _when(run.get("logical_date") or run.get("run_after")), run.get("conf")),
        link=f"{_base_url()}/dags/{dag_id}/runs/{run_id}",
    )
    send_once(engine, alert, context)


def campaign_deadline_missed(context: dict | None = None) -> None:
    """DeadlineAlert callback of regional_campaign_watch: the campaign's deadline passed with régions missing."""
    from etl.ops import alerts
    from etl.ops.campaigns import campaign_deadline, watched_campaign

    context = context or {}
    run = context.get("dag_run") or {}
    campaign = watched_campaign(_when(run.get("logical_date")) or datetime.now())
    engine = _engine_or_none()
    if engine is None:
        raise RuntimeError("the warehouse cannot be reached: the campaign's missing régions cannot be listed")
    missing = alerts.missing_regions(engine, campaign)
    if not missing:
        print(f"campaign {campaign}: every région's workbook is accepted: no alert")
        return
    dag_id, run_id = run.get("dag_id", "regional_campaign_watch"), run.get("dag_run_id") or "?"
    alert = alerts.campaign_alert(
        campaign,
        campaign_deadline(campaign),
        missing,
        dag_id=dag_id,
        run_id=run_id,
        link=f"{_base_url()}/dags/{dag_id}/runs/{run_id}",
    )
    send_once(engine, alert, context)
