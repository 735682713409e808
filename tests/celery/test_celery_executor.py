"""The CeleryExecutor path, end to end on the machine's Redis and PostgreSQL (marker `celery`, run by `.ci/run`).

One test starts Airflow the way a scaled-out deployment runs it: api-server, scheduler, dag-processor and one
Celery worker on loopback, Redis as the broker (db 7, flushed before and after), a fresh PostgreSQL database as
both the metadata database and Celery's result backend. It triggers the project's `warehouse_maintenance` DAG
through the REST API and checks that the run succeeded, that its heartbeat reached the warehouse under test, and
that every task went through Celery and ran in the worker started here: the Celery task id the scheduler gave
each task instance has a SUCCESS row in the result backend written by that worker (its own Celery hostname), on
the queue only that worker consumes, and the worker's log names each task. Under LocalExecutor none of that
exists. The worker preloaded the libraries its tasks import before forking them (`etl.orchestration.worker_preload`).
Every process is stopped (process group, SIGTERM then SIGKILL) and the database dropped, even on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from etl.config import Home
from etl.orchestration.environment import CELERY_EXTRA_CONFIG, airflow_environment

pytestmark = pytest.mark.celery

POSTGRES_URL = os.environ.get("SYSTEM_WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = "redis://127.0.0.1:6379/7"
DAG_ID = "warehouse_maintenance"
START_TIMEOUT = 120  # api-server answering, then the DAG parsed
RUN_TIMEOUT = 240  # the triggered run ending
STOP_TIMEOUT = 30  # SIGTERM to SIGKILL
BAD_TASK_STATES = {"failed", "upstream_failed", "up_for_retry", "removed"}


def _admin_exec(sql: str) -> None:
    from etl.warehouse import admin_execute

    admin_execute(POSTGRES_URL, sql, connect_timeout=5)


def _redis():
    import redis

    return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5, socket_timeout=10)


def _unreachable_service() -> str | None:
    """One sentence naming the service that does not answer, or None when both do."""
    for name, url, probe in (
        ("PostgreSQL", POSTGRES_URL, lambda: _admin_exec("SELECT 1")),
        ("Redis", REDIS_URL, lambda: _redis().ping()),
    ):
        try:
            probe()
        except Exception as exc:  # noqa: BLE001 - reported as one sentence, not a driver traceback
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return f"{name} is not reachable at {url} ({reason}): start it and run `make test-celery` again."
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40, label: str | None = None) -> str:
    label = label or path.name
    if not path.exists():
        return f"--- {label}: (no file)"
    text = [line[:400] for line in path.read_text(errors="replace").splitlines()[-lines:]]
    return f"--- {label} (last {len(text)} lines)\n" + "\n".join(text)


@pytest.fixture
def metadata_db():
    """Redis db 7 and the PostgreSQL server reachable; a fresh metadata database; both cleaned up afterwards."""
    problem = _unreachable_service()
    if problem:
        pytest.fail(problem, pytrace=False)
    database = f"airflow_celery_{secrets.token_hex(5)}"
    _admin_exec(f'CREATE DATABASE "{database}"')
    _redis().flushdb()
    try:
        # psycopg 3, Airflow's default PostgreSQL driver, for the metadata and the result backend alike
        yield make_url(POSTGRES_URL).set(drivername="postgresql+psycopg", database=database).render_as_string(False)
    finally:
        try:
            _admin_exec(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            _redis().flushdb()


@dataclass
class Stack:
    """The Airflow processes of one test, their environment and their logs."""

    env: dict[str, str]
    log_dir: Path
    port: int
    worker_name: str
    queue: str
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str, *args: str) -> None:
        with self.log(name).open("wb") as out:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "airflow", *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so that teardown reaches its children
            )

    def tails(self) -> str:
        """The end of every log: the service logs, then the task logs of the worker."""
        parts = [_tail(self.log(name)) for name in ("db-migrate", *self.procs)]
        log_folder = Path(self.env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"])
        for path in sorted(log_folder.glob(f"dag_id={DAG_ID}/**/*.log")):
            parts.append(_tail(path, 8, str(path.relative_to(log_folder))))
        return "\n".join(parts)

    def assert_running(self) -> None:
        for name, proc in self.procs.items():
            assert proc.poll() is None, f"airflow {name} exited with code {proc.returncode}\n{self.tails()}"

    def stop(self) -> None:
        """SIGTERM every process group, SIGKILL what is left after STOP_TIMEOUT, and any task process that left
        its group (the task supervisor gives each task a group of its own)."""
        descendants: dict[int, psutil.Process] = {}
        for proc in self.procs.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                descendants.update({p.pid: p for p in psutil.Process(proc.pid).children(recursive=True)})
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for name, proc in self.procs.items():
            if proc.poll() is None:
                print(f"airflow {name} still running {STOP_TIMEOUT} s after SIGTERM: SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        for process in descendants.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()


@pytest.fixture
def stack(metadata_db, warehouse_url, tmp_path):
    """Airflow on CeleryExecutor: metadata migrated, then api-server, scheduler, dag-processor and one worker."""
    port = _free_port()
    tag = secrets.token_hex(4)
    env = {
        **os.environ,
        **airflow_environment(Home(tmp_path / "home").ensure(), warehouse_url),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
        "AIRFLOW__CELERY__BROKER_URL": REDIS_URL,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata_db}",
        # as docker-compose does: the workers' tasks cannot see the metadata database, the deployment grants it to
        # warehouse_maintenance's clean_airflow_metadata through this connection
        "AIRFLOW_CONN_AIRFLOW_METADATA": make_url(metadata_db).set(drivername="postgresql").render_as_string(False),
        # the project's own (the worker preload) and: the result backend records which worker ran each Celery task
        # (column `worker`)
        "AIRFLOW__CELERY__EXTRA_CELERY_CONFIG": json.dumps({**CELERY_EXTRA_CONFIG, "result_extended": True}),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        # only the run triggered below: unpausing must not add a scheduled run ahead of it (max_active_runs=1)
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        # a queue of this test's own: only the worker started here consumes it
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"obs_celery_{tag}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
    }
    stack = Stack(env, tmp_path, port, f"obs-celery-{tag}", f"obs_celery_{tag}")
    try:
        with stack.log("db-migrate").open("wb") as out:
            migrated = subprocess.run(
                [sys.executable, "-m", "airflow", "db", "migrate"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=300,
            )
        assert migrated.returncode == 0, f"airflow db migrate failed\n{stack.tails()}"
        stack.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1")
        stack.start("scheduler", "scheduler")
        stack.start("dag-processor", "dag-processor")
        stack.start(
            "celery-worker",
            "celery",
            "worker",
            "--concurrency",
            "1",
            "--queues",
            stack.queue,
            "--celery-hostname",
            f"{stack.worker_name}@%h",
        )
        yield stack
    finally:
        stack.stop()


def _wait(stack: Stack, what: str, timeout: float, probe):
    """Call `probe` every second until it returns something truthy; fail (with the logs) after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        stack.assert_running()
        with contextlib.suppress(Exception):
            if result := probe():
                return result
        assert time.monotonic() < deadline, f"{what}: not done after {timeout:.0f} s\n{stack.tails()}"
        time.sleep(1)


@pytest.fixture
def api(stack):
    """The api-server's REST API (every caller is admin: SIMPLE_AUTH_MANAGER_ALL_ADMINS)."""
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{stack.port}/api/v2", timeout=10) as client:
        yield client


def test_warehouse_maintenance_runs_on_the_celery_worker(stack, api, engine):
    _wait(stack, "the api-server answering", START_TIMEOUT, lambda: api.get("/version").status_code == 200)
    _wait(stack, f"the DAG {DAG_ID} parsed", START_TIMEOUT, lambda: api.get(f"/dags/{DAG_ID}").status_code == 200)
    tasks = {task["task_id"] for task in api.get(f"/dags/{DAG_ID}/tasks").json()["tasks"]}
    assert {"migrate", "heartbeat"} <= tasks, tasks
    assert api.patch(f"/dags/{DAG_ID}", json={"is_paused": False}).status_code == 200, stack.tails()
    run_id = f"celery_test_{secrets.token_hex(4)}"
    created = api.post(f"/dags/{DAG_ID}/dagRuns", json={"dag_run_id": run_id, "logical_date": None})
    assert created.status_code == 200, f"{created.status_code} {created.text}\n{stack.tails()}"

    def run_ended():
        tis = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
        stuck = {ti["task_id"]: ti["state"] for ti in tis if ti["state"] in BAD_TASK_STATES}
        state = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]
        return (state, tis) if state in ("success", "failed") or stuck else None

    state, tis = _wait(stack, f"the run {run_id}", RUN_TIMEOUT, run_ended)
    states = {ti["task_id"]: ti["state"] for ti in tis}
    assert (state, states) == ("success", dict.fromkeys(tasks, "success")), stack.tails()

    # every task instance went through Celery: the id the scheduler gave it is a Celery task that the worker
    # started here (its own hostname) ran to SUCCESS, on the queue only that worker consumes
    metadata = sa.create_engine(stack.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], poolclass=sa.pool.NullPool)

    def celery_results():
        with metadata.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT ti.task_id, ti.queue, ti.external_executor_id, m.status, m.worker, m.queue "
                    "FROM task_instance ti LEFT JOIN celery_taskmeta m ON m.task_id = ti.external_executor_id "
                    "WHERE ti.dag_id = :dag_id AND ti.run_id = :run_id ORDER BY ti.task_id"
                ),
                {"dag_id": DAG_ID, "run_id": run_id},
            ).all()
        # a task instance is marked success by the task itself, a moment before its Celery task returns
        pending = [row for row in rows if row.external_executor_id and row.status in (None, "PENDING", "STARTED")]
        return None if pending else rows

    try:
        rows = _wait(stack, "the Celery results stored", 60, celery_results)
    finally:
        metadata.dispose()
    assert {row.task_id for row in rows} == tasks
    for task_id, ti_queue, celery_id, status, worker, celery_queue in rows:
        assert celery_id, f"{task_id} has no Celery task id: it did not go through the CeleryExecutor"
        assert (ti_queue, celery_queue) == (stack.queue, stack.queue), task_id
        assert status == "SUCCESS", f"{task_id}: Celery task {celery_id} is {status}\n{stack.tails()}"
        assert worker and worker.startswith(f"{stack.worker_name}@"), f"{task_id} ran on {worker!r}"

    received = [
        line
        for line in stack.log("celery-worker").read_text(errors="replace").splitlines()
        if "Executing workload in Celery" in line and f"run_id='{run_id}'" in line
    ]
    for task_id in tasks:
        assert any(f"task_id='{task_id}'" in line for line in received), f"{task_id} not in the worker log"

    # the worker preloaded what the tasks import before forking them (etl/orchestration/worker_preload.py): its log
    # says so, and its main process has Arrow's library mapped
    assert "observatoire: preloaded pandas, Arrow" in stack.log("celery-worker").read_text(errors="replace")
    maps = Path(f"/proc/{stack.procs['celery-worker'].pid}/maps").read_text()
    assert "libarrow" in maps, "the Celery worker's main process did not import pyarrow"

    # and the tasks reached the warehouse under test
    with engine.connect() as conn:
        beats = conn.execute(
            sa.text("SELECT count(*) FROM audit.heartbeat_log WHERE dag_id = :dag_id AND run_id = :run_id"),
            {"dag_id": DAG_ID, "run_id": run_id},
        ).scalar_one()
    assert beats == 1
