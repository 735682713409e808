"""Run the project's DAGs through Airflow, in dependency order, and report how each run ended.

This is the engine of `make demo`: it prepares Airflow's metadata database, loads the DagBag from `dags/`
(any import error stops everything with the file and the reason), orders the DAGs so that an Asset's
producer runs before its consumers, runs each with `dag.test()` and reads the DagRun's final state (a
failed task does not raise there). `Lanes` runs independent runs side by side in worker processes (the
registry's sources, which write only their own partitions; the two kinds of editions). Airflow's own log lines go
to a file per DAG; the caller prints the summary.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from etl.errors import ObservatoireError


@dataclass
class DagOutcome:
    dag_id: str
    state: str
    seconds: float
    log_file: Path
    failed_tasks: list[str] = field(default_factory=list)  # the tasks that failed (not upstream_failed)

    @property
    def ok(self) -> bool:
        return self.state == "success"


_MIGRATED: set[str] = set()  # metadata databases this process already migrated


def prepare_metadata_db(log_dir: Path) -> None:
    """`airflow db migrate` on the configured metadata database (idempotent; once per database and process: the
    command takes 3-4 s of a core even when there is nothing to do, and more beside other work)."""
    start_metadata_migration(log_dir)()


def start_metadata_migration(log_dir: Path) -> Callable[[], None]:
    """`prepare_metadata_db` started in a subprocess; returns the function that waits for its end (and raises if it
    failed), so that the caller does something else meanwhile. A SQLite database this Airflow migrated before with
    the same settings, still at the revision it left it at (`_migration_stamp`), is not migrated again."""
    target = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    if target and target in _MIGRATED:
        return lambda: None
    stamp = _migration_stamp(target)
    if stamp is not None and stamp.exists() and stamp.read_text() == _stamp_text(target):
        _MIGRATED.add(target)
        return lambda: None
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "airflow-db-migrate.log"
    with log_file.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", "db", "migrate"], stdout=out, stderr=subprocess.STDOUT
        )

    def wait() -> None:
        if process.wait() != 0:
            raise ObservatoireError(f"Airflow's metadata database could not be migrated: read {log_file}.")
        if target:
            _MIGRATED.add(target)
        if stamp is not None:
            stamp.write_text(_stamp_text(target))

    return wait


def _migration_stamp(target: str) -> Path | None:
    """Where the state of a SQLite metadata database after its last `airflow db migrate` is noted (beside it); None
    for a server database, migrated at every first use in a process."""
    prefix = "sqlite:///"
    if not target.startswith(prefix) or "?" in target:
        return None
    return Path(target.removeprefix(prefix) + ".migrated")


def _stamp_text(target: str) -> str:
    """What a migration leaves a SQLite metadata database as: its Alembic revision (read from the file, "" if it has
    none yet), the Airflow release and every Airflow setting of the environment (a migration also writes settings,
    such as the log file template). A stamp equal to this one means there is nothing to migrate."""
    import hashlib
    import sqlite3
    from importlib.metadata import version

    revision = ""
    database = target.removeprefix("sqlite:///")
    if Path(database).is_file():
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        with contextlib.closing(connection) as conn, contextlib.suppress(sqlite3.Error):
            revision = ",".join(sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version")))
    settings = sorted((k, v) for k, v in os.environ.items() if k.startswith("AIRFLOW__"))
    digest = hashlib.sha256(repr(settings).encode()).hexdigest()
    return f"revision {revision}\nairflow {version('apache-airflow')}\nsettings {digest}\n"


def load_dags(dags_folder: Path) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder))
    if bag.import_errors:
        path, error = next(iter(sorted(bag.import_errors.items())))
        last = str(error).strip().splitlines()[-1]
        raise ObservatoireError(f"the DAG file {path} does not import ({last}): fix it and run again.")
    return bag.dags


def _asset_uris(objs) -> set[str]:
    return {uri for obj in objs if (uri := getattr(obj, "uri", None))}


def _condition_uris(condition) -> set[str]:
    """The URIs of the assets a schedule waits for: an Asset, or AssetAny / AssetAll of them (airflow.sdk's classes
    nest their members in `objects`; the scheduler's serialised ones iterate with `iter_assets`)."""
    if condition is None:
        return set()
    if hasattr(condition, "iter_assets"):
        return {asset.uri for _, asset in condition.iter_assets()}
    if uri := getattr(condition, "uri", None):
        return {uri}
    return set().union(*(_condition_uris(member) for member in getattr(condition, "objects", ())))


REFERENCE_TAG = "referentiels"


def reference_dags(dags: dict) -> set[str]:
    """The DAGs of reference data (tag `referentiels`), which `run_order` puts first."""
    return {dag_id for dag_id, dag in dags.items() if REFERENCE_TAG in (getattr(dag, "tags", None) or ())}


def run_order(dags: dict) -> list[str]:
    """DAG ids with reference data first (tag `referentiels`: every source is checked against it), then every
    Asset producer before its consumers; ties in alphabetical order."""
    produced = {dag_id: _asset_uris(o for t in dag.tasks for o in t.outlets) for dag_id, dag in dags.items()}
    consumed: dict[str, set[str]] = {}
    for dag_id, dag in dags.items():
        consumed[dag_id] = _condition_uris(getattr(dag.timetable, "asset_condition", None))
    reference = reference_dags(dags)
    needs = {
        d: {p for p in dags if p != d and (produced[p] & consumed[d] or (p in reference and d not in reference))}
        for d in dags
    }
    order: list[str] = []
    while needs:
        ready = sorted(d for d, deps in needs.items() if not deps - set(order))
        if not ready:  # a cycle: run the rest alphabetically rather than not at all
            ready = sorted(needs)
        order.append(ready[0])
        needs.pop(ready[0])
    return order


@contextlib.contextmanager
def _output_to(log_file: Path):
    """Send this process's stdout/stderr (Airflow logs straight to the file descriptors) to a file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_file.open("ab") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


@contextlib.contextmanager
def _without_deadline_alerts(dag):
    """`dag.test()` without the DAG's DeadlineAlerts, put back afterwards. Airflow 3.3.2's `dag.test()` builds its
    scheduler DAG by serialising the DAG object, so its `deadline` holds the encoded alerts, where the scheduler's
    holds the ids of their `deadline_alert` rows: a test run that succeeds then fails in `DagRun.update_state`
    (`DeadlineAlertModel.get_by_id(<dict>)`: "'dict' object has no attribute 'hex'"). Deadlines are a scheduler's
    business (a run that waits past its expected date): they are proven on a real scheduler in
    tests/ops/test_deadline_alert.py, and a `dag.test()` run, which never waits, needs none."""
    saved = dag.deadline
    dag.deadline = None
    try:
        yield
    finally:
        dag.deadline = saved


def run_dag(
    dag, log_dir: Path, log_name: str | None = None, *, logical_date=None, conf: dict | None = None
) -> DagOutcome:
    """Run one DAG through Airflow (`dag.test`), its output in `<log_dir>/<log_name or dag_id>.log`; a
    `logical_date` runs it for that date (a backfill of one period), `conf` sets its params."""
    log_file = log_dir / f"{log_name or dag.dag_id}.log"
    log_file.write_text("")
    started = time.monotonic()
    kwargs = {"logical_date": logical_date} if logical_date is not None else {}
    with _output_to(log_file), _without_deadline_alerts(dag):
        dagrun = dag.test(run_conf=conf, **kwargs)
    seconds = time.monotonic() - started
    state = str(getattr(dagrun.state, "value", dagrun.state))
    failed = sorted(
        ti.task_id for ti in dagrun.get_task_instances() if str(getattr(ti.state, "value", ti.state)) == "failed"
    )
    return DagOutcome(dag.dag_id, state, seconds, log_file, failed)


@dataclass(frozen=True)
class Run:
    """One DAG run asked of `Lanes.run`: the DAG, the name of its log (default: the DAG id), its params and how the
    progress line names it (default: the DAG id)."""

    dag_id: str
    log_name: str | None = None
    conf: dict | None = None
    title: str | None = None


_LANE_DAGS: dict = {}  # a lane process's DagBag, loaded once by _lane_start


def _lane_start(dags_folder: str, log_dir: str, environment: dict[str, str]) -> None:
    # the forkserver may have started before the caller set Airflow's environment (the demo's sample files)
    os.environ.update(environment)
    with _output_to(Path(log_dir) / "dagbag.log"):
        _LANE_DAGS.update(load_dags(Path(dags_folder)))
        _start_first_task()


def _start_first_task() -> None:
    """What the first task run in a process pays for, paid by a lane while the caller prepares its files, so that no
    run waits for it: the Execution API that `dag.test()` runs in this process (its first request builds the
    application's versioned routes: 3.5-4 s on a 2-core machine) and Great Expectations' context (its import and
    the context: about 1.5 s), each built once per process and kept."""
    import httpx
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    from etl.config import Home
    from etl.quality import gates

    api = in_process_api_server()  # the one instance (cached) that dag.test()'s task runs use
    httpx.Client(transport=api.transport, base_url="http://in-process.invalid./").get("health")
    gates.gx_context(str(Home.from_env().root))  # the one context (cached) of this process's gates


def _sync_dags(log_dir: str) -> None:
    """Write the DAG bundles to the metadata database, as `dag.test()` does first. Two lanes whose runs start at
    once would both insert the DAGs the database does not hold yet (a UNIQUE constraint error for one of them); once
    they are there, each run's own sync finds them (the same code as Airflow 3.3's `DAG.test`)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.utils.session import create_session

    with _output_to(Path(log_dir) / "dagbag.log"):
        manager = DagBundlesManager()
        with create_session() as session:
            manager.sync_bundles_to_db(session=session)
        for bundle in manager.get_all_dag_bundles():
            if not bundle.is_initialized:
                bundle.initialize()
            bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
            sync_bag_to_db(bag, bundle.name, bundle.version)


def _run_chain(chain: list[Run], log_dir: str, dags: dict | None = None) -> list[DagOutcome]:
    outcomes = []
    for run in chain:
        # one write per line: two lanes print to the same terminal
        sys.stdout.write(f"  running {run.title or run.dag_id + ' through Airflow'} ...\n")
        sys.stdout.flush()
        outcomes.append(run_dag((dags or _LANE_DAGS)[run.dag_id], Path(log_dir), run.log_name, conf=run.conf))
    return outcomes


class Lanes:
    """Where DAG runs happen: `count` worker processes (a fresh interpreter each, forkserver, in the environment
    this process had when the lanes opened, each loading the DagBag once) that run independent chains of runs side
    by side, or this process when `count` is 1. A chain's runs go one after the other; `run` returns every outcome
    in the order of the chains given, whichever ended first. Use as a context manager: the workers stop at its
    end."""

    def __init__(self, dags_folder: Path, log_dir: Path, count: int = 1) -> None:
        self.dags_folder, self.log_dir, self.count = dags_folder, log_dir, max(1, count)
        self._pool = None
        self._dags: dict | None = None
        self._migrated: Callable[[], None] = lambda: None
        self._synced = False

    def __enter__(self) -> Lanes:
        self._migrated = start_metadata_migration(self.log_dir)
        if self.count > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                self.count,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_lane_start,
                initargs=(str(self.dags_folder), str(self.log_dir), dict(os.environ)),
            )
            for _ in range(self.count):  # every worker starts now (Airflow's import, the DagBag), while the caller
                self._pool.submit(int)  # goes on and the metadata database migrates
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        with contextlib.suppress(ObservatoireError):  # never left running; its failure was raised by a run, if any
            self._migrated()

    @property
    def dags(self) -> dict:
        if self._dags is None:
            with _output_to(self.log_dir / "dagbag.log"):
                self._dags = load_dags(self.dags_folder)
        return self._dags

    def run(self, chains: list[list[Run]]) -> list[DagOutcome]:
        return [outcome for outcomes in self.each(chains) for outcome in outcomes]

    def each(self, chains: list[list[Run]]) -> list[list[DagOutcome]]:
        """The outcomes of each chain, the chains started in the order given."""
        if not chains:
            return []
        self._migrated()
        if self._pool is None:
            return [_run_chain(chain, str(self.log_dir), self.dags) for chain in chains]
        from concurrent.futures.process import BrokenProcessPool

        try:
            if not self._synced:
                self._pool.submit(_sync_dags, str(self.log_dir)).result()
                self._synced = True
            futures = [self._pool.submit(_run_chain, chain, str(self.log_dir)) for chain in chains]
            return [future.result() for future in futures]
        except BrokenProcessPool as exc:
            raise ObservatoireError(
                f"a process running DAGs stopped abruptly ({exc}): read the logs in {self.log_dir}."
            ) from exc


MAINTENANCE_TAG = "maintenance"  # a DAG that writes only its own journals and tidies up: it runs beside another


def run_all(
    lanes: Lanes,
    *,
    only: set[str] | None = None,
    label: str = "",
    skip_tags: frozenset[str] = frozenset(),
    work: Callable[[str], int] | None = None,
) -> list[DagOutcome]:
    """Run every DAG of the lanes' folder (or those of `only`, and none tagged with one of `skip_tags`) in dependency
    order; `label` tells the runs' logs apart. Consecutive registry sources (tag `source`) run side by side, each
    writing only its own partitions, those with the most `work` (a DAG id's, such as its files waiting) started
    first; any other DAG runs alone, after everything before it in the order and before everything after it, but for
    the maintenance DAGs (tag `maintenance`: they write only their own journals, as they do at night beside whatever
    runs) that follow it in the order, which run beside it. The outcomes come in the dependency order."""
    from etl.orchestration.source_dags import SOURCE_TAG  # a registry source's DAG: it writes its own partitions

    def tags(dag_id: str) -> set[str]:
        return set(getattr(lanes.dags[dag_id], "tags", None) or ())

    wanted = [
        dag_id for dag_id in run_order(lanes.dags) if (only is None or dag_id in only) and not skip_tags & tags(dag_id)
    ]
    outcomes: list[DagOutcome] = []
    group: list[list[Run]] = []
    joined: set[str] = set()  # maintenance DAGs run beside the DAG before them
    for position, dag_id in enumerate(wanted):
        if dag_id in joined:
            continue
        group.append([_labelled(dag_id, label)])
        if SOURCE_TAG in tags(dag_id):
            continue
        later = wanted[position + 1 :] if MAINTENANCE_TAG not in tags(dag_id) else []
        beside = list(itertools.takewhile(lambda d: _runs_beside(lanes.dags[d]), later))
        joined.update(beside)
        outcomes += _side_by_side(lanes, group[:-1], work) + lanes.run(
            group[-1:] + [[_labelled(d, label)] for d in beside]
        )
        group = []
    return outcomes + _side_by_side(lanes, group, work)


def _runs_beside(dag) -> bool:
    """A maintenance DAG that is no registry source and waits for no Asset: it may run beside another DAG."""
    from etl.orchestration.source_dags import SOURCE_TAG

    tags = set(getattr(dag, "tags", None) or ())
    waits = _condition_uris(getattr(dag.timetable, "asset_condition", None))
    return MAINTENANCE_TAG in tags and SOURCE_TAG not in tags and not waits


def _labelled(dag_id: str, label: str) -> Run:
    return Run(
        dag_id,
        f"{dag_id}-{label}" if label else None,
        title=f"{dag_id} through Airflow ({label})" if label else None,
    )


def _side_by_side(lanes: Lanes, chains: list[list[Run]], work: Callable[[str], int] | None) -> list[DagOutcome]:
    """`lanes.run(chains)` with the chains of most work started first; the outcomes in the order of `chains`."""
    if work is None:
        return lanes.run(chains)
    weights = [work(chain[0].dag_id) for chain in chains]
    started = sorted(range(len(chains)), key=lambda i: -weights[i])  # stable: ties keep the dependency order
    ended = dict(zip(started, lanes.each([chains[i] for i in started]), strict=True))
    return [outcome for i in range(len(chains)) for outcome in ended[i]]
