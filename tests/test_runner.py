"""The demo runner orders DAGs so that an Asset's producer runs before its consumers, and runs the sources side by
side in its lanes."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest

from etl.orchestration import runner
from etl.orchestration.runner import run_order


def _dag(outlets=(), consumes=()):
    task = SimpleNamespace(outlets=[SimpleNamespace(uri=u) for u in outlets])
    condition = (
        SimpleNamespace(iter_assets=lambda: [(u, SimpleNamespace(uri=u)) for u in consumes]) if consumes else None
    )
    return SimpleNamespace(tasks=[task], timetable=SimpleNamespace(asset_condition=condition))


def test_producers_run_before_consumers_whatever_their_names():
    dags = {
        "a_publication": _dag(consumes=["x://core"]),
        "m_core": _dag(outlets=["x://core"], consumes=["x://ref"]),
        "z_referentiels": _dag(outlets=["x://ref"]),
        "b_independent": _dag(),
    }
    assert run_order(dags) == ["b_independent", "z_referentiels", "m_core", "a_publication"]


def test_a_cycle_still_runs_every_dag_once():
    dags = {
        "p": _dag(outlets=["x://1"], consumes=["x://2"]),
        "q": _dag(outlets=["x://2"], consumes=["x://1"]),
    }
    assert sorted(run_order(dags)) == ["p", "q"]


def test_schedules_written_with_airflow_sdk_classes_are_ordered_too():
    """airflow.sdk's AssetOrTimeSchedule keeps sdk assets (no `iter_assets`): a single Asset or AssetAny/AssetAll of
    them, nested (the demo failed on publication_semestrielle's schedule before this was read)."""
    from airflow.sdk import Asset, AssetAll, AssetAny, AssetOrTimeSchedule, CronTriggerTimetable

    def consumer(assets):
        schedule = AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 6 15 2,8 *", timezone="UTC"), assets=assets)
        return SimpleNamespace(tasks=[SimpleNamespace(outlets=[])], timetable=schedule)

    one, two = Asset(name="one", uri="x://one"), Asset(name="two", uri="x://two")
    dags = {
        "a_single": consumer(one),
        "b_nested": consumer(AssetAny(AssetAll(one), two)),
        "y_one": _dag(outlets=[one.uri]),  # Asset normalises its URI (x://one/)
        "z_two": _dag(outlets=[two.uri]),
    }
    order = run_order(dags)
    assert order.index("y_one") < order.index("a_single")
    assert order.index("y_one") < order.index("b_nested") and order.index("z_two") < order.index("b_nested")


LANE_DAG = """
import time
from pathlib import Path

from airflow.sdk import dag, task

FOLDER = Path({folder!r})


@dag(dag_id={dag_id!r}, schedule=None, tags={tags!r})
def lane():
    @task
    def meet():
        (FOLDER / "started-{dag_id}").touch()
        if {waits_for!r}:  # a source waits until the other source's run has started too: both ran side by side
            deadline = time.monotonic() + 120
            while not (FOLDER / "started-{waits_for}").exists():
                if time.monotonic() > deadline:
                    raise RuntimeError("the other run never started while this one ran")
                time.sleep(0.05)
        seen = sorted(p.name for p in FOLDER.iterdir())
        (FOLDER / "ended-{dag_id}").write_text(",".join(seen))

    meet()


lane()
"""


@pytest.mark.airflow
def test_lanes_run_sources_side_by_side_and_any_other_dag_alone_after_them(tmp_path, monkeypatch):
    """Two lanes (worker processes, each with its DagBag) run the two sources at the same time: each one's task
    waits until the other has started. The DAG that is not a source starts only once both have ended, and the
    outcomes come back in the order of the run, the later source's too."""
    dags_folder, folder, logs = tmp_path / "dags", tmp_path / "marks", tmp_path / "logs"
    for path in (dags_folder, folder, logs):
        path.mkdir()
    for dag_id, tags, waits_for in (
        ("a_source", ["source"], "b_source"),
        ("b_source", ["source"], "a_source"),
        ("c_after", ["maintenance"], ""),
    ):
        text = LANE_DAG.format(folder=str(folder), dag_id=dag_id, tags=tags, waits_for=waits_for)
        (dags_folder / f"{dag_id}.py").write_text(text)

    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(dags_folder))  # the bundle the lanes' Airflow syncs
    with runner.Lanes(dags_folder, logs, 2) as lanes:
        outcomes = runner.run_all(lanes)

    assert [(o.dag_id, o.state) for o in outcomes] == [
        ("a_source", "success"),
        ("b_source", "success"),
        ("c_after", "success"),
    ]
    assert {"ended-a_source", "ended-b_source"} <= set((folder / "ended-c_after").read_text().split(","))
    assert all(o.log_file.parent == logs and o.log_file.stat().st_size > 0 for o in outcomes)


def test_the_number_of_lanes_comes_from_the_environment_or_the_cores(monkeypatch):
    from etl.errors import ObservatoireError
    from etl.orchestration import environment

    monkeypatch.setenv("OBSERVATOIRE_DEMO_LANES", "3")
    assert environment.lanes() == 3
    monkeypatch.delenv("OBSERVATOIRE_DEMO_LANES")
    monkeypatch.setattr(environment.os, "cpu_count", lambda: 1)
    assert environment.lanes() == 1
    monkeypatch.setattr(environment.os, "cpu_count", lambda: 8)
    assert environment.lanes() == 2
    monkeypatch.setenv("OBSERVATOIRE_DEMO_LANES", "zero")
    with pytest.raises(ObservatoireError, match="OBSERVATOIRE_DEMO_LANES"):
        environment.lanes()


class _RecordingLanes:
    """Lanes that run nothing: they record the chains in the order they were started."""

    def __init__(self, dags):
        self.dags, self.started = dags, []

    def each(self, chains):
        self.started.append([chain[0].dag_id for chain in chains])
        return [[runner.DagOutcome(run.dag_id, "success", 0.0, None) for run in chain] for chain in chains]

    def run(self, chains):
        return [outcome for outcomes in self.each(chains) for outcome in outcomes]


def test_the_sources_with_most_work_start_first_and_the_outcomes_keep_the_dependency_order():
    def tagged(*tags):
        dag = _dag()
        dag.tags = list(tags)
        return dag

    dags = {
        "a_source": tagged("source"),
        "b_source": tagged("source"),
        "c_source": tagged("source"),
        "m_alone": tagged("maintenance"),
        "z_source": tagged("source"),
    }
    lanes = _RecordingLanes(dags)
    outcomes = runner.run_all(lanes, work={"a_source": 1, "b_source": 5, "c_source": 1, "z_source": 0}.get)
    assert lanes.started == [["b_source", "a_source", "c_source"], ["m_alone"], ["z_source"]]
    assert [o.dag_id for o in outcomes] == ["a_source", "b_source", "c_source", "m_alone", "z_source"]


def test_a_maintenance_dag_runs_beside_the_dag_run_alone_before_it_unless_it_waits_for_an_asset():
    def tagged(*tags, outlets=(), consumes=()):
        dag = _dag(outlets=outlets, consumes=consumes)
        dag.tags = list(tags)
        return dag

    dags = {
        "a_source": tagged("source", outlets=["x://a"]),
        "r_alone": tagged("submissions"),
        "w_maintenance": tagged("maintenance"),
        "x_maintenance": tagged("maintenance"),
        "y_after_a": tagged("maintenance", consumes=["x://a"]),
        "z_source": tagged("source"),
    }
    lanes = _RecordingLanes(dags)
    outcomes = runner.run_all(lanes)
    assert [chains for chains in lanes.started if chains] == [
        ["a_source"],
        ["r_alone", "w_maintenance", "x_maintenance"],  # side by side: two chains started together
        ["y_after_a"],  # it waits for a source's Asset: alone, in its place
        ["z_source"],
    ]
    assert [o.dag_id for o in outcomes] == [
        "a_source",
        "r_alone",
        "w_maintenance",
        "x_maintenance",
        "y_after_a",
        "z_source",
    ]


def test_a_sqlite_metadata_database_left_as_its_last_migration_left_it_is_not_migrated_again(tmp_path, monkeypatch):
    import sqlite3

    database = tmp_path / "airflow.db"
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
        conn.execute("INSERT INTO alembic_version VALUES ('rev1')")
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{database}")
    migrations = []
    monkeypatch.setattr(
        runner.subprocess, "Popen", lambda *a, **k: migrations.append(a) or SimpleNamespace(wait=lambda: 0)
    )

    def prepare() -> int:
        monkeypatch.setattr(runner, "_MIGRATED", set())  # as a new process would
        runner.prepare_metadata_db(tmp_path / "logs")
        return len(migrations)

    assert prepare() == 1  # never migrated: migrated, and its state noted beside it
    assert prepare() == 1  # as the migration left it: not again
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = 'rev2'")  # another Airflow migrated it meanwhile
    assert prepare() == 2
    assert prepare() == 2
    monkeypatch.setenv("AIRFLOW__CORE__DAG_FILE_PROCESSOR_TIMEOUT", "123")  # a setting changed
    assert prepare() == 3
    database.unlink()  # a fresh runtime folder
    assert prepare() == 4
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql://airflow@db/airflow")  # a server: always
    assert prepare() == 5
