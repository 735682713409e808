"""Faults: killed loads, a warehouse restarted under a DAG, concurrent runs, retries after success.

Every test starts from a copy (`CREATE DATABASE ... TEMPLATE`) of one warehouse holding the reference data, the
sample QPV of both geographies and France Travail's job seekers of February 2024 (`DEFM_QPV_202402.csv`), and its
fault concerns March 2024 (`DEFM_QPV_202403.csv`: 8,500 lines, about 100,000 typed values, which also revises
January and February). "A clean load" is the same copy with March ingested once, untroubled. Faults are real:

- a child process (tests/reliability/_fault_child.py, the plain pipeline call an Airflow task makes) is SIGKILLed
  while `pg_stat_activity` shows its backend running the `COPY`, or while it is inside its load transaction (advisory
  lock held, batch copied) and blocked by a lock the test holds on the core table its core SQL writes;
- the warehouse is a separate embedded PostgreSQL of the test's own, stopped and started (`pg_ctl -m fast`) while the
  DAG's ingest task is inside its load; Airflow (`dag.test()`, which retries a task once its retry delay is over,
  here shortened to 2 s) retries it;
- two processes load the same partition at once, the second one seen waiting on the partition's advisory lock; and
  the rarer interleaving where a run lists the inbox and the other run lands the file before it opens it;
- the DAG run for a period is run again after it succeeded (`dag.test()` again for the same logical date: the tasks
  run again, as after a clear), with the same file dropped again.

The separate server of the restart test is always an embedded PostgreSQL (the server of WAREHOUSE_URL, and the
session's embedded one, are shared with other tests and are never restarted); the other tests run on the session's
server, embedded or WAREHOUSE_URL's.

After each, the warehouse equals the state it had before the fault, then, once re-run, the state of a clean load
(raw, staging, core and publication row for row; audit's batches, registry and quality results by content, not by
timestamps). Last, every file dropped is in the archive, read-only, with the sha256 the registry holds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import psycopg2
import pytest
import sqlalchemy as sa

from etl import landing, pipeline, warehouse
from etl.config import DAGS_FOLDER, PARIS
from etl.sources.registry import source
from etl.warehouse import admin_execute
from etl.warehouse.fingerprint import fingerprint
from etl.warehouse.urls import airflow_connection, with_database

pytestmark = [pytest.mark.warehouse]

SOURCE = "france_travail_defm"
BEFORE, MONTH = "2024-02", "2024-03"  # the month already loaded, the month each fault is about
MARCH = "DEFM_QPV_202403.csv"
CHILD = Path(__file__).with_name("_fault_child.py")
VINTAGES = "core.indicator_value_vintage"  # the table France Travail's core SQL writes first
TIMEOUT = 120  # seconds any awaited condition may take before the test fails (a child spends ~10 s importing GX)

_DATABASES: dict[str, SimpleNamespace] = {}  # every warehouse of this module, for the archive check at the end
_DROPPED: list[tuple[str, str, str]] = []  # (source, file name, sha256) of every file dropped by this module


# --- helpers -------------------------------------------------------------------------------------------------------


def _clone(server_url: str, template: SimpleNamespace, label: str) -> SimpleNamespace:
    """A new database copied from `template` (no session may be open on it: its engine's pool is emptied first)."""
    name = f"obs_fault_{label}_{uuid.uuid4().hex[:8]}"
    template.engine.dispose()
    deadline = time.monotonic() + 30
    while True:
        try:
            admin_execute(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template.name}"')
            break
        except psycopg2.errors.ObjectInUse:  # an autovacuum worker on the template: it leaves within moments
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    url = with_database(server_url, name)
    db = SimpleNamespace(name=name, url=url, engine=warehouse.engine(url), home=template.home)
    _DATABASES[name] = db
    return db


def _drop(home, name: str, content: bytes, source_id: str = SOURCE) -> None:
    inbox = home.folder("inbox") / source_id
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_bytes(content)
    _DROPPED.append((source_id, name, hashlib.sha256(content).hexdigest()))


def _state(engine) -> dict:
    """The warehouse's content: the fingerprint of raw, staging, core, publication and audit, with audit's batches and
    file registry compared on what they say (not when a file came or a batch ran)."""
    state = {k: v for k, v in fingerprint(engine).items() if k not in ("audit.batch", "audit.file_registry")}
    with engine.connect() as conn:
        state["audit.batch"] = conn.execute(
            sa.text(
                "SELECT batch_id, source_id, sha256, original_name, partition_key, status, rows_read, rows_loaded, "
                "message FROM audit.batch ORDER BY batch_id"
            )
        ).all()
        state["audit.file_registry"] = conn.execute(
            sa.text(
                "SELECT source_id, sha256, size_bytes, original_name, archive_path FROM audit.file_registry "
                "ORDER BY source_id, sha256"
            )
        ).all()
    return state


def _assert_registry_intact(db) -> None:
    """Every file the warehouse was ever handed (receipt journal) is registered, and every registered file is in the
    archive, read-only, with its size and sha256 recomputed."""
    with db.engine.connect() as conn:
        registry = conn.execute(sa.text("SELECT source_id, sha256, size_bytes, archive_path FROM audit.file_registry"))
        registry = registry.all()
        received = set(conn.execute(sa.text("SELECT source_id, sha256 FROM audit.receipt_log")).tuples().all())
    assert received and received <= {(s, h) for s, h, _, _ in registry}, db.name
    for source_id, sha, size, archive in registry:
        path = Path(archive)
        assert path.is_file() and path.stat().st_size == size, (db.name, source_id, archive)
        assert landing.sha256_of(path) == sha, (db.name, archive)
        assert path.stat().st_mode & 0o222 == 0, f"{archive} is writable"


def _differences(expected: dict, actual: dict) -> list[str]:
    return sorted(k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k))


def _data(state: dict) -> dict:
    return {k: v for k, v in state.items() if k.split(".")[0] in ("raw", "staging", "core", "publication")}


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _batch_of(engine, name: str) -> tuple[int, str]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                sa.text("SELECT batch_id, status FROM audit.batch WHERE source_id = :s AND original_name = :n"),
                {"s": SOURCE, "n": name},
            ).one()
        )


def _rows_of_batch(engine, batch_id: int) -> dict[str, int]:
    tables = ("raw.france_travail_defm", "staging.indicator_value", VINTAGES)
    return {t: _scalar(engine, f"SELECT count(*) FROM {t} WHERE batch_id = :b", b=batch_id) for t in tables}


class Child:
    """A pipeline call in its own process, its backends named `application_name = tag`."""

    def __init__(self, db, tag: str, mode: str, log_dir: Path, period: str | None = None):
        self.tag = tag
        self.log = log_dir / f"{tag}.log"
        self.out = log_dir / f"{tag}.out"
        args = [sys.executable, str(CHILD), db.url, str(db.home.root), SOURCE, mode, *([period] if period else [])]
        with self.log.open("wb") as err, self.out.open("wb") as out:
            self.process = subprocess.Popen(
                args, env={**os.environ, "PGAPPNAME": tag}, stdout=out, stderr=err, stdin=subprocess.DEVNULL
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=30) == -signal.SIGKILL

    def result(self) -> dict:
        code = self.process.wait(timeout=TIMEOUT)
        assert code == 0, f"{self.tag} exited {code}:\n{self.tail()}"
        return json.loads(self.out.read_text().strip().splitlines()[-1])

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=30)


class Monitor:
    """An autocommit session on a warehouse that watches other sessions and holds locks for the test."""

    def __init__(self, url: str):
        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True
        self.locker = None

    def backends(self, tag: str) -> list[dict]:
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT a.pid, a.state, a.wait_event_type, a.wait_event, a.query, "
                "  EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted), "
                "  ARRAY(SELECT l.relation::regclass::text FROM pg_locks l WHERE l.pid = a.pid AND l.granted "
                "        AND l.locktype = 'relation' AND l.mode = 'RowExclusiveLock') "
                "FROM pg_stat_activity a WHERE a.application_name = %s AND a.datname = current_database()",
                (tag,),
            )
            # written: the tables its open transaction changes (held in ROW EXCLUSIVE mode until it ends)
            keys = ("pid", "state", "wait_event_type", "wait_event", "query", "holds_advisory", "written")
            return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]

    def lock(self, table: str, url: str) -> None:
        """Hold `table` in EXCLUSIVE mode (readers pass, any writer waits) in an open transaction of its own."""
        self.locker = psycopg2.connect(url)
        with self.locker.cursor() as cur:
            cur.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")

    def release(self) -> None:
        if self.locker is not None:
            with contextlib.suppress(psycopg2.Error):
                self.locker.rollback()
                self.locker.close()
            self.locker = None

    def close(self) -> None:
        self.release()
        with contextlib.suppress(psycopg2.Error):
            self.conn.close()


def _wait_for(condition, what: str, *children: Child, timeout: float = TIMEOUT, interval: float = 0.05):
    """Poll `condition()` until it returns something truthy (returned), failing if a child exits first or on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        for child in children:
            assert child.alive(), f"{child.tag} exited ({child.process.returncode}) before {what}:\n{child.tail()}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        if interval:
            time.sleep(interval)


def _frozen_in_load(monitor: Monitor, tag: str):
    """The child's backend inside its load transaction: partition lock held, batch copied into staging, waiting for
    the lock the test holds on the core table."""
    for b in monitor.backends(tag):
        if b["wait_event_type"] == "Lock" and b["holds_advisory"] and VINTAGES in b["query"] and _copied(b):
            return b
    return None


def _copied(backend: dict) -> bool:
    """The backend's transaction changed the raw and staging tables (its deletes and COPYs)."""
    return {"raw.france_travail_defm", "staging.indicator_value"} <= set(backend["written"])


def _waiting_on_partition_lock(monitor: Monitor, tag: str):
    for b in monitor.backends(tag):
        if b["wait_event_type"] == "Lock" and b["wait_event"] == "advisory" and not b["holds_advisory"]:
            return b
    return None


def _gone(monitor: Monitor, tag: str) -> bool:
    return not monitor.backends(tag)


# --- fixtures ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def defm_files(tmp_path_factory, territories_dir) -> dict[str, bytes]:
    from etl.samples.generators.france_travail import generate_defm

    folder = tmp_path_factory.mktemp("defm")
    return {p.name: p.read_bytes() for p in generate_defm(folder, territories_dir, [BEFORE, MONTH])}


# What France Travail's DEFM needs before it loads: régions, départements, its indicators, periods, QPV.
REFERENCE_FILES = (
    ("cog_regions", "regions.csv"),
    ("cog_departements", "departements.csv"),
    ("catalogue_operateurs", "indicateurs_operateurs.csv"),
)


def _build(engine, home, territories_dir: Path, defm_files: dict[str, bytes]) -> None:
    """Migrate, then load the reference data, QPV of both geographies and February's DEFM through the pipeline: the
    same steps give the same rows and batch ids on any server."""
    from etl.config import PROJECT_ROOT
    from etl.referentiels import periods
    from etl.warehouse import migrations

    migrations.migrate(engine)

    def ingest(source_id: str, files: list[tuple[str, bytes]]) -> None:
        for name, content in files:
            _drop(home, name, content, source_id)
        report = pipeline.ingest(engine, source(source_id), home=home, run_id="test")
        assert [b.status for b in report.batches] == ["loaded"] * len(files), [b.reason for b in report.batches]

    for source_id, name in REFERENCE_FILES:
        ingest(source_id, [(name, (PROJECT_ROOT / "catalogue" / name).read_bytes())])
    ingest("anct_qpv", [(f"qpv_{g}.csv", (territories_dir / f"qpv_{g}.csv").read_bytes()) for g in ("2015", "2024")])
    periods.load(engine)
    ingest(SOURCE, [("DEFM_QPV_202402.csv", defm_files["DEFM_QPV_202402.csv"])])


@pytest.fixture(scope="module")
def base(server_url, tmp_path_factory, territories_dir, defm_files):
    """The module's template warehouse (reference data, QPV, DEFM of February 2024) and runtime folder."""
    from etl.config import Home

    name = f"obs_fault_base_{uuid.uuid4().hex[:8]}"
    admin_execute(server_url, f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    db = SimpleNamespace(name=name, url=url, engine=warehouse.engine(url))
    db.home = Home(tmp_path_factory.mktemp("faults") / "home").ensure()
    _DATABASES[name] = db
    try:
        _build(db.engine, db.home, territories_dir, defm_files)
        yield db
    finally:
        for name, copy in list(_DATABASES.items()):
            copy.engine.dispose()
            admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _DATABASES.pop(name)


@pytest.fixture(scope="module")
def clean(base, server_url, defm_files):
    """March ingested once, without a fault, into a copy of the template; its state is what every fault must reach."""
    db = _clone(server_url, base, "clean")
    _drop(db.home, MARCH, defm_files[MARCH])
    report = pipeline.ingest(db.engine, source(SOURCE), home=db.home, run_id="test")
    assert [(b.status, b.partition) for b in report.batches] == [("loaded", MONTH)]
    db.state = _state(db.engine)
    return db


@pytest.fixture
def monitors():
    opened: list[Monitor] = []
    yield lambda url: opened.append(Monitor(url)) or opened[-1]
    for monitor in opened:
        monitor.close()


@pytest.fixture
def children():
    started: list[Child] = []
    yield lambda *args, **kwargs: started.append(Child(*args, **kwargs)) or started[-1]
    for child in started:
        child.stop()


# --- 1. a load killed during its COPY, then during its partition swap -------------------------------------------


@pytest.mark.faults
def test_a_load_killed_during_its_copy_leaves_the_previous_data_and_the_rerun_loads_it(
    base, clean, server_url, defm_files, monitors, children, tmp_path
):
    db = _clone(server_url, base, "copy_kill")
    before = _state(db.engine)
    monitor = monitors(db.url)
    _drop(db.home, MARCH, defm_files[MARCH])
    child = children(db, "fault-copy", "ingest", tmp_path)

    def in_copy():  # the second COPY of the load (100,000 typed values, ~0.2 s), the raw lines copied before it
        for b in monitor.backends(child.tag):
            if b["state"] == "active" and b["query"].startswith("COPY staging.indicator_value ") and _copied(b):
                return b
        return None

    copying = _wait_for(in_copy, "COPY of the child's batch", child, interval=0)  # polled without pause
    child.kill()
    assert copying["holds_advisory"], copying
    _wait_for(lambda: _gone(monitor, child.tag), "end of the killed child's backend")

    batch_id, status = _batch_of(db.engine, MARCH)
    assert status == "received", "the batch must be left to process again"
    assert set(_rows_of_batch(db.engine, batch_id).values()) == {0}, "rows of the killed load remain"
    after = _state(db.engine)
    assert _differences(_data(before), _data(after)) == [], "a killed COPY changed the data"
    assert [b for b in after["audit.batch"] if b not in before["audit.batch"]] == [
        (batch_id, SOURCE, hashlib.sha256(defm_files[MARCH]).hexdigest(), MARCH, None, "received", None, None, None)
    ]

    report = pipeline.ingest(db.engine, source(SOURCE), home=db.home, run_id="rerun")
    assert [(b.batch_id, b.status, b.partition) for b in report.batches] == [(batch_id, "loaded", MONTH)]
    assert _differences(clean.state, _state(db.engine)) == []


@pytest.mark.faults
@pytest.mark.parametrize("mode", ["ingest", "reload"])
def test_a_load_killed_during_its_partition_swap_leaves_the_previous_data_and_the_rerun_loads_it(
    mode, base, clean, server_url, defm_files, monitors, children, tmp_path
):
    """`ingest`: March's first load, its rows copied, killed in the core SQL; `reload`: a re-run of loaded March (its
    own rows deleted and copied again), killed at the same point."""
    db = _clone(server_url, base if mode == "ingest" else clean, f"swap_kill_{mode}")
    before = _state(db.engine)
    monitor = monitors(db.url)
    if mode == "ingest":
        _drop(db.home, MARCH, defm_files[MARCH])
    monitor.lock(VINTAGES, db.url)  # the child's core SQL waits for it, inside the load's transaction
    child = children(db, f"fault-swap-{mode}", mode, tmp_path, MONTH if mode == "reload" else None)
    frozen = _wait_for(lambda: _frozen_in_load(monitor, child.tag), "child blocked inside its load", child)
    assert frozen["query"].lstrip().startswith("-- Shared by every source"), frozen["query"][:200]
    child.kill()
    monitor.release()
    _wait_for(lambda: _gone(monitor, child.tag), "end of the killed child's backend")

    batch_id, status = _batch_of(db.engine, MARCH)
    after = _state(db.engine)
    assert _differences(_data(before), _data(after)) == [], "a killed swap changed the data"
    if mode == "ingest":
        assert status == "received" and set(_rows_of_batch(db.engine, batch_id).values()) == {0}
        report = pipeline.ingest(db.engine, source(SOURCE), home=db.home, run_id="rerun")
    else:
        assert _differences(before, after) == [] and status == "loaded"
        report = pipeline.reload(db.engine, source(SOURCE), MONTH, home=db.home, run_id="rerun")
    assert [(b.batch_id, b.status, b.partition) for b in report.batches] == [(batch_id, "loaded", MONTH)]
    assert _differences(clean.state, _state(db.engine)) == []


# --- 3. two runs of the same partition at once -------------------------------------------------------------------


@pytest.mark.faults
def test_two_loads_of_the_same_partition_at_once_are_serialised_and_end_as_one(
    base, clean, server_url, defm_files, monitors, children, tmp_path
):
    db = _clone(server_url, base, "concurrent")
    monitor = monitors(db.url)
    _drop(db.home, MARCH, defm_files[MARCH])
    monitor.lock(VINTAGES, db.url)  # the first run stops inside its load, holding the partition's lock
    first = children(db, "fault-first", "ingest", tmp_path)
    _wait_for(lambda: _frozen_in_load(monitor, first.tag), "first run inside its load", first)
    second = children(db, "fault-second", "ingest", tmp_path)
    waiting = _wait_for(lambda: _waiting_on_partition_lock(monitor, second.tag), "second run waiting", second)
    assert waiting["query"].startswith("SELECT pg_advisory_xact_lock"), waiting
    assert _frozen_in_load(monitor, first.tag), "the first run must still hold the partition while the second waits"
    monitor.release()

    batch_id, _ = _batch_of(db.engine, MARCH)
    expected = {"batches": [{"batch_id": batch_id, "status": "loaded", "partition": MONTH}], "duplicates": 0}
    assert first.result() == expected
    assert second.result() == expected  # the batch was still `received` when it looked: it loaded it again
    assert _batch_of(db.engine, MARCH) == (batch_id, "loaded")
    assert _differences(clean.state, _state(db.engine)) == []


@pytest.mark.faults
def test_a_file_another_run_lands_between_listing_and_landing_does_not_fail_the_run(
    base, clean, server_url, defm_files, monkeypatch
):
    """Two runs at once both list the inbox; one lands the file (archive, registry, batch, then removes it from the
    inbox) before the other opens it. The interleaving, rare with real processes, is made certain here: the listing
    this run gets is landed by "the other run" (landing.receive, on the same warehouse) before it is returned."""
    db = _clone(server_url, base, "inbox_race")
    _drop(db.home, MARCH, defm_files[MARCH])
    listing = landing.pending

    def listed_then_taken(home, source_id, patterns):
        paths = listing(home, source_id, patterns)
        for path in paths:
            assert landing.receive(db.engine, home, source_id, path).is_new
        return paths

    monkeypatch.setattr(landing, "pending", listed_then_taken)
    report = pipeline.ingest(db.engine, source(SOURCE), home=db.home, run_id="second")
    assert report.received == []
    assert [(b.status, b.partition) for b in report.batches] == [("loaded", MONTH)]
    assert _differences(clean.state, _state(db.engine)) == []


# --- 2 and 4: through Airflow -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def defm_dag(tmp_path_factory):
    """france_travail_defm's DAG as Airflow loads it from dags/, with its metadata database migrated."""
    from etl.orchestration import runner

    logs = tmp_path_factory.mktemp("airflow-logs")
    runner.prepare_metadata_db(logs)
    return runner.load_dags(DAGS_FOLDER)[SOURCE], logs


def _point_airflow_at(monkeypatch, db, url: str | None = None) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", airflow_connection(url or db.url))
    monkeypatch.setenv("OBSERVATOIRE_HOME", str(db.home.root))


RUN_DATE = datetime(2024, 4, 5, 6, 0, tzinfo=PARIS)  # the scheduled run for March 2024


def _ingest_tries(dag_id: str) -> tuple[int, list[str]]:
    """The ingest task's try number in the last run of `dag_id`, and the states of its earlier tries."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.utils.session import create_session

    task_id = f"ingest_{SOURCE}"
    with create_session() as session:
        # the session's metadata database also holds the runs of other tests of the same DAG: the last one is ours
        ti = session.scalars(
            sa.select(TaskInstance)
            .where(TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id)
            .order_by(TaskInstance.start_date.desc())
            .limit(1)
        ).one()
        history = session.scalars(
            sa.select(TaskInstanceHistory)
            .where(TaskInstanceHistory.dag_id == dag_id, TaskInstanceHistory.task_id == task_id)
            .where(TaskInstanceHistory.run_id == ti.run_id)
            .order_by(TaskInstanceHistory.try_number)
        ).all()
        return ti.try_number, [str(getattr(h.state, "value", h.state)) for h in history]


@contextlib.contextmanager
def _quick_retries(dag, seconds: int = 2):
    """The DAG's retries as configured (2), after `seconds` instead of minutes."""
    saved = [(t, t.retry_delay, t.retry_exponential_backoff) for t in dag.tasks]
    for t in dag.tasks:
        t.retry_delay, t.retry_exponential_backoff = timedelta(seconds=seconds), 0
    try:
        yield
    finally:
        for t, delay, backoff in saved:
            t.retry_delay, t.retry_exponential_backoff = delay, backoff


@pytest.fixture
def own_server(base, territories_dir, defm_files):
    """A separate embedded PostgreSQL (this test restarts it) holding the template's content, built the same way.

    Its folder is not under pytest's tmp_path: as root the server runs as `embedded_postgres`, which must traverse
    the folder's parents, and pytest keeps its own root private (0700)."""
    import shutil
    import tempfile

    from etl.warehouse import embedded

    folder = Path(tempfile.mkdtemp(prefix="obsqpv-faults-"))
    pgdata = folder / "pg"
    server = embedded.start(pgdata)
    try:
        url = server.url()
        db = SimpleNamespace(name="own", url=url, engine=warehouse.engine(url), home=base.home, pgdata=pgdata)
        _build(db.engine, db.home, territories_dir, defm_files)
        yield db
        db.engine.dispose()
    finally:
        embedded.stop(pgdata)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.faults
@pytest.mark.airflow
def test_the_warehouse_restarted_during_a_dag_run_fails_the_task_and_airflow_retries_it_to_success(
    own_server, clean, defm_dag, defm_files, monkeypatch, capfd
):
    from etl.orchestration import runner
    from etl.warehouse import embedded

    dag, logs = defm_dag
    db = own_server
    task_url = f"{db.url}&application_name=fault-dag"
    _point_airflow_at(monkeypatch, db, task_url)
    _drop(db.home, MARCH, defm_files[MARCH])
    monitor = Monitor(db.url)
    monitor.lock(VINTAGES, db.url)
    seen: dict = {}

    def restart_when_inside_the_load():
        try:
            seen["frozen"] = _wait_for(lambda: _frozen_in_load(monitor, "fault-dag"), "DAG task inside its load")
            seen["before"] = embedded.status(db.pgdata).pid
            embedded.stop(db.pgdata)  # fast shutdown: every session is terminated, the open load rolled back
            seen["after"] = embedded.start(db.pgdata).pid
        except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
            seen["error"] = exc
        finally:
            monitor.close()

    restarter = threading.Thread(target=restart_when_inside_the_load, daemon=True)
    restarter.start()
    with _quick_retries(dag):
        outcome = runner.run_dag(dag, logs, "fault-restart", logical_date=RUN_DATE)
    restarter.join(timeout=TIMEOUT)
    assert "error" not in seen, seen.get("error")
    assert seen["after"] != seen["before"], "the server was not restarted"

    log = capfd.readouterr().out  # dag.test() runs the tasks in this process: their log lines are its output
    assert outcome.state == "success", f"{outcome}\n{log[-3000:]}"
    try_number, earlier = _ingest_tries(SOURCE)
    assert try_number == 2 and earlier == ["failed"], (try_number, earlier)  # the history keeps try 1 as failed
    assert "psycopg2.OperationalError" in log and "new_state=up_for_retry" in log
    assert _batch_of(db.engine, MARCH)[1] == "loaded"
    assert _differences(clean.state, _state(db.engine)) == []
    _assert_registry_intact(db)


@pytest.mark.faults
@pytest.mark.airflow
def test_a_dag_run_repeated_after_success_duplicates_nothing(
    clean, server_url, defm_dag, defm_files, monkeypatch, capfd
):
    from etl.orchestration import runner

    dag, logs = defm_dag
    db = _clone(server_url, clean, "rerun")
    _point_airflow_at(monkeypatch, db)
    first = runner.run_dag(dag, logs, "fault-again-1", logical_date=RUN_DATE, conf={"period": MONTH})
    assert first.state == "success", first
    assert "period 2024-03 reloaded from the archive" in capfd.readouterr().out  # the task did run again
    assert _differences(clean.state, _state(db.engine)) == []
    receipts = _scalar(db.engine, "SELECT count(*) FROM audit.receipt_log")

    _drop(db.home, MARCH, defm_files[MARCH])  # the producer's file comes again, byte for byte
    again = runner.run_dag(dag, logs, "fault-again-2", logical_date=RUN_DATE, conf={"period": MONTH})
    assert again.state == "success", again
    assert _differences(clean.state, _state(db.engine)) == []
    assert _scalar(db.engine, "SELECT count(*) FROM audit.batch WHERE original_name = :n", n=MARCH) == 1
    last = _scalar(db.engine, "SELECT outcome FROM audit.receipt_log ORDER BY receipt_id DESC LIMIT 1")
    assert last == "duplicate"
    assert _scalar(db.engine, "SELECT count(*) FROM audit.receipt_log") == receipts + 1
    assert "period 2024-03 reloaded from the archive" in capfd.readouterr().out


# --- 5. the archive and the registry after all of it -------------------------------------------------------------


def test_every_file_received_is_still_archived_read_only_with_its_sha256(base):
    assert _DROPPED, "no file was dropped"
    for source_id, name, sha in _DROPPED:
        path = landing.archive_path(base.home, source_id, sha, Path(name).suffix)
        assert path.is_file(), f"{name} lost from the archive"
        assert landing.sha256_of(path) == sha, f"{path} changed"
        assert path.stat().st_mode & 0o222 == 0, f"{path} is writable"
    assert len(_DATABASES) >= 2, "the faults' warehouses are gone"
    for db in _DATABASES.values():
        _assert_registry_intact(db)
