"""Alerts really mailed: a local SMTP server (aiosmtpd) catches what Airflow's SMTP notifier sends.

A DAG run through Airflow (dag.test) with files broken on purpose sends one mail per quarantined file, naming the
DAG, task, period, file, first failed check and the log link, and nothing for the watcher that repeats the failure;
the journal sends an alert once and gives the key back when the mail could not leave; the campaign deadline's
callback lists the régions missing, once; the campaign watch's deadline falls on 30 April, 24:00 Paris, every year.
"""

from __future__ import annotations

import html
import json
import shutil
import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa

from etl.config import DAGS_FOLDER, Home
from etl.orchestration import runner

pytestmark = [pytest.mark.warehouse]


class Inbox:
    """A real SMTP server on a loopback port that keeps every message it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        inbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                inbox.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        with socket.socket() as probe:  # a free port (the controller cannot take 0: it connects to check it is up)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def bodies(self) -> list[str]:
        return [m.get_body(preferencelist=("html", "plain")).get_content() for m in self.messages]


@pytest.fixture
def smtp(monkeypatch):
    server = Inbox()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": server.port,
                "extra": {"disable_tls": True, "disable_ssl": True, "timeout": 10, "retry_limit": 1},
            }
        ),
    )
    monkeypatch.setenv("OBSERVATOIRE_ALERT_TO", "astreinte@observatoire.test, donnees@observatoire.test")
    monkeypatch.setenv("OBSERVATOIRE_ALERT_FROM", "airflow@observatoire.test")
    yield server
    server.controller.stop()


def _journal(engine, prefix: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT * FROM audit.alert_log WHERE alert_key LIKE :p ORDER BY alert_key"), {"p": prefix + "%"}
        )
        return [dict(r) for r in rows.mappings()]


@pytest.mark.airflow
def test_each_quarantined_file_of_a_run_sends_one_mail_with_what_the_engineer_needs(smtp, engine, tmp_path):
    runner.prepare_metadata_db(tmp_path / "logs")
    dag = runner.load_dags(DAGS_FOLDER / "sources.py")["caf_creches"]
    home = Home.from_env()
    inbox = home.folder("inbox") / "caf_creches"
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    names = [f"CAF_EAJE_QPV_2031T{q}.csv" for q in (1, 2)]
    for name in names:  # two files that break the file suite: columns unknown, a value that is no number
        (inbox / name).write_text(f"colonne;autre\n{stamp};{name}\n", encoding="utf-8")

    outcome = runner.run_dag(dag, tmp_path, logical_date=datetime(2031, 7, 20, 4, tzinfo=UTC))

    assert outcome.state == "failed"
    assert outcome.failed_tasks == ["fail_if_any_task_failed", "ingest_caf_creches"]
    assert len(smtp.messages) == 2, [m["Subject"] for m in smtp.messages]  # one per file, none for the watcher
    with engine.connect() as conn:
        batches = conn.execute(
            sa.text(
                "SELECT batch_id, original_name, message FROM audit.batch WHERE source_id = 'caf_creches' "
                "AND original_name = ANY(:names) AND status = 'quarantined' ORDER BY batch_id"
            ),
            {"names": names},
        ).all()
    assert [b.original_name for b in batches] == names
    for (batch_id, name, first_check), mail, body in zip(batches, smtp.messages, smtp.bodies(), strict=True):
        assert name in mail["Subject"] and "caf_creches" in mail["Subject"]
        assert mail["To"] == "astreinte@observatoire.test, donnees@observatoire.test"
        assert mail["From"] == "airflow@observatoire.test"
        for fact in ("caf_creches", "ingest_caf_creches", "2031-Q2", name, f"lot {batch_id}"):
            assert fact in body, fact
        assert first_check and html.escape(first_check) in body  # the first failed check, whole
        assert "/dags/caf_creches/runs/" in body and "/tasks/ingest_caf_creches" in body
    assert [j["batch_id"] for j in _journal(engine, "batch:") if j["dag_id"] == "caf_creches"][-2:] == [
        b.batch_id for b in batches
    ]


def test_the_journal_mails_an_alert_once_and_gives_the_key_back_when_the_mail_fails(smtp, engine, monkeypatch):
    from etl.ops import alerts
    from etl.orchestration.notifiers import send_once

    alert = alerts.task_alert(
        dag_id="publication_annuelle",
        run_id=f"manual__{datetime.now(UTC).isoformat()}",
        task_id="release",
        try_number=1,
        period="2031",
        error="DisclosureError: <cellule> révélée",
        log_url="http://127.0.0.1:8080/dags/publication_annuelle/runs/x/tasks/release",
    )
    assert send_once(engine, alert, {}) is True
    assert send_once(engine, alert, {}) is False
    assert len(smtp.messages) == 1
    assert "&lt;cellule&gt; révélée" in smtp.bodies()[0]  # escaped, never markup

    other = alerts.task_alert(**{**_args(alert), "try_number": 2})
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": 9}))
    with pytest.raises(Exception):  # noqa: B017 - whatever the SMTP client raises, the key must be released
        send_once(engine, other, {})
    assert _journal(engine, other.key) == []
    assert len(smtp.messages) == 1


def _args(alert) -> dict:
    return {
        "dag_id": alert.dag_id,
        "run_id": alert.run_id,
        "task_id": alert.task_id,
        "try_number": 1,
        "period": "2031",
        "error": "x",
        "log_url": None,
    }


def test_the_campaign_deadline_mails_the_regions_missing_once(smtp, reference_warehouse, monkeypatch):
    from etl.orchestration import notifiers

    monkeypatch.setattr("etl.orchestration.connections.warehouse_engine", lambda: reference_warehouse.engine)
    run = {"dag_id": "regional_campaign_watch", "dag_run_id": "scheduled__2025-02-28T23:00:00+00:00",
           "logical_date": "2025-02-28T23:00:00Z"}  # fmt: skip
    notifiers.campaign_deadline_missed({"dag_run": run, "deadline": {"deadline_time": "2025-04-30T22:00:00Z"}})
    notifiers.campaign_deadline_missed({"dag_run": run})

    assert len(smtp.messages) == 1
    mail, body = smtp.messages[0], smtp.bodies()[0]
    assert "campagne 2024" in mail["Subject"] and "18 région(s)" in mail["Subject"]
    assert "30/04/2025" in body and "84 Auvergne-Rhône-Alpes" in body and "non reçue" in body
    assert [j["alert_key"] for j in _journal(reference_warehouse.engine, "campaign:")] == ["campaign:2024"]


def test_the_campaign_watch_deadline_is_30_april_at_midnight_in_paris_every_year():
    import importlib.util

    from etl.config import PARIS
    from etl.ops.campaigns import campaign_deadline, watched_campaign

    spec = importlib.util.spec_from_file_location("watch", DAGS_FOLDER / "regional_campaign_watch.py")
    watch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(watch)
    for year in range(2015, 2041):
        opening = datetime(year, 3, 1, tzinfo=PARIS)  # the cron's logical date
        campaign = watched_campaign(opening)
        due = campaign_deadline(campaign) + timedelta(days=1)
        assert campaign == year - 1
        assert (opening.astimezone(UTC) + watch.DEADLINE_AFTER_OPENING) == datetime(
            due.year, due.month, due.day, tzinfo=PARIS
        ).astimezone(UTC), year


def test_the_watcher_task_and_every_source_task_carry_the_right_notifier():
    from etl.orchestration.notifiers import FailureAlert

    dags = runner.load_dags(DAGS_FOLDER)
    for dag_id, dag in dags.items():
        for task in dag.tasks:
            callbacks = task.on_failure_callback or []
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            alerts = [c for c in callbacks if isinstance(c, FailureAlert)]
            if task.task_id == "fail_if_any_task_failed":
                assert alerts == [], dag_id
            else:
                assert len(alerts) == 1, (dag_id, task.task_id)
            if task.task_id.startswith(("ingest_", "intake_")):
                assert alerts[0].sources == [task.task_id.split("_", 1)[1]], (dag_id, task.task_id)


def test_a_task_failure_mail_never_shows_a_connection_password():
    """The error of a failed task goes into the mail; one quoting a connection string keeps its password masked."""
    from etl.ops.alerts import task_alert

    alert = task_alert(
        dag_id="caf_allocataires",
        run_id="r",
        task_id="ingest",
        try_number=1,
        period="2024",
        error='OperationalError: connection to "postgresql://etl:s3cr%40t@db:5432/obs" failed; password=s3cr@t',
        log_url=None,
    )
    assert "s3cr" not in alert.html and "s3cr" not in json.dumps(alert.facts)
    assert "postgresql://etl:***@db:5432/obs" in alert.facts["Erreur"]
