"""A late file really triggers its DeadlineAlert: Airflow's scheduler, api-server and LocalExecutor, on loopback.

A DAG folder of the test's own holds the project's CAF DAG built by `source_dag` with a 5-second tolerance (the
registry says 3 days). The scheduler runs it with nothing in the inbox: the sensor waits, the deadline passes, the
scheduler hands the DeadlineAlert's callback to the executor, and `late_file` mails the local SMTP server one
message naming the source, the period, the file pattern and the deadline; the journal holds it. Two runs wait for
the same period's file (the one the scheduler creates when the DAG is unpaused, and one triggered by hand): still
one mail. Every process started is stopped (process group, SIGTERM then SIGKILL), even on failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from etl.config import Home
from etl.orchestration.environment import airflow_environment

from .test_alerts import Inbox

pytestmark = [pytest.mark.airflow, pytest.mark.warehouse]

DAG_FILE = '''"""The CAF DAG with a 5-second tolerance: the airflow dag the deadline test runs."""

from datetime import timedelta

from etl.orchestration.source_dags import source_dag

caf_allocataires = source_dag("caf_allocataires", tolerance=timedelta(seconds=5))
'''
WAIT_FOR_MAIL = 180


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _airflow(env, *args, log: Path, timeout=120) -> None:
    with log.open("ab") as out:
        subprocess.run(
            [sys.executable, "-m", "airflow", *args], env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
            check=True,
        )  # fmt: skip


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _tails(folder: Path) -> str:
    logs = sorted(folder.glob("*.log"))
    return "\n".join(f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-25:]) for p in logs)


def test_a_file_not_arrived_by_its_deadline_sends_one_late_file_mail(tmp_path, warehouse_url, engine):
    inbox = Inbox()
    dags, logs = tmp_path / "dags", tmp_path / "logs"
    dags.mkdir()
    logs.mkdir()
    (dags / "caf_late.py").write_text(DAG_FILE)
    home = Home(tmp_path / "home").ensure()  # an empty inbox: the file is late
    port = _free_port()
    env = {
        **os.environ,
        **airflow_environment(home, warehouse_url),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": "deadline-test-secret",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": inbox.port,
                "extra": {"disable_tls": True, "disable_ssl": True, "timeout": 10},
            }
        ),  # fmt: skip
        "OBSERVATOIRE_ALERT_TO": "astreinte@observatoire.test",
    }
    procs: list[subprocess.Popen] = []
    try:
        _airflow(env, "db", "migrate", log=logs / "setup.log", timeout=300)
        _airflow(env, "dags", "reserialize", log=logs / "setup.log")
        _airflow(env, "dags", "unpause", "caf_allocataires", log=logs / "setup.log")
        for name in ("api-server", "scheduler"):
            with (logs / f"{name}.log").open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "airflow", name], env=env, stdout=out, stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL, start_new_session=True,
                    )
                )  # fmt: skip
        _airflow(env, "dags", "trigger", "caf_allocataires", log=logs / "setup.log")
        waited = time.monotonic()
        while not inbox.messages and time.monotonic() - waited < WAIT_FOR_MAIL:
            assert all(p.poll() is None for p in procs), "an Airflow process stopped\n" + _tails(logs)
            time.sleep(1)
        assert inbox.messages, f"no late-file mail within {WAIT_FOR_MAIL} s\n" + _tails(logs)
        time.sleep(8)  # a few more scheduler loops: the deadline is handled once
        assert len(inbox.messages) == 1, [m["Subject"] for m in inbox.messages]
        # the executor's workers (forked from the scheduler, which preloaded what the tasks import) have Arrow mapped
        workers = [p for p in psutil.Process(procs[1].pid).children(recursive=True)
                   if "LocalExecutor" in " ".join(p.cmdline())]  # fmt: skip
        assert workers, "no LocalExecutor worker under the scheduler"
        assert all("libarrow" in Path(f"/proc/{p.pid}/maps").read_text() for p in workers)
    finally:
        _stop(procs)
        inbox.controller.stop()

    # the scheduler's LocalExecutor preloaded what the tasks import before forking its workers
    assert "observatoire: preloaded pandas, Arrow" in (logs / "scheduler.log").read_text(errors="replace")
    mail, body = inbox.messages[0], inbox.bodies()[0]
    period = str(datetime.now(UTC).year - 1)  # a yearly source's run is for the year before
    assert mail["Subject"] == f"[Observatoire QPV] caf_allocataires : fichier en retard ({period})"
    for fact in ("caf_allocataires", "CAF_QPV_*.csv", "Échéance dépassée", "/dags/caf_allocataires/runs/"):
        assert fact in body, fact
    with engine.connect() as conn:
        key = f"late:caf_allocataires/{period}"
        kinds = conn.execute(sa.text("SELECT kind FROM audit.alert_log WHERE alert_key = :k"), {"k": key}).scalars()
        assert kinds.all() == ["late_file"]
