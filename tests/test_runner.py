"""The demo runner orders DAGs so that an Asset's producer runs before its consumers."""

from __future__ import annotations

from types import SimpleNamespace

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
