"""France Travail DAGs through Airflow: vintages kept, the latest exposed, a broken delivery quarantined."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from etl.config import DAGS_FOLDER, Home
from etl.orchestration import runner

pytestmark = [pytest.mark.airflow, pytest.mark.warehouse]

MONTHS = ["2023-12", "2024-01", "2024-02"]


@pytest.fixture(scope="module")
def dags(tmp_path_factory):
    runner.prepare_metadata_db(tmp_path_factory.mktemp("airflow-logs"))
    return runner.load_dags(DAGS_FOLDER)


def _scalar(engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


def test_defm_files_load_as_vintages_and_the_broken_one_is_quarantined(dags, engine, tmp_path):
    from etl.samples.demo_data import drop_sample_files

    home = Home.from_env()
    for folder in ("inbox", "quarantine"):
        shutil.rmtree(home.folder(folder), ignore_errors=True)
    home.ensure()
    drop = drop_sample_files(home, months=MONTHS, sources={"france_travail_defm", "france_travail_contacts"})
    assert runner.run_dag(dags["referentiels"], tmp_path).state == "success"

    outcome = runner.run_dag(dags["france_travail_defm"], tmp_path)
    assert outcome.state == "failed"  # the broken delivery, and only it
    assert outcome.failed_tasks == ["fail_if_any_task_failed", "ingest_france_travail_defm"]
    [(source_id, broken)] = drop.expected_quarantine
    assert _scalar(engine, f"SELECT status FROM audit.batch WHERE original_name = '{broken}'") == "quarantined"

    vintages = _scalar(
        engine,
        "SELECT count(DISTINCT vintage) FROM core.indicator_value_vintage WHERE source_id = 'france_travail_defm'",
    )
    assert vintages == len(MONTHS)
    # 2023-12 is said by three deliveries (its own and the two that revise it); the view shows the latest
    assert (
        _scalar(
            engine,
            "SELECT count(DISTINCT vintage) FROM core.indicator_value_vintage WHERE period_code = '2023-12'",
        )
        == 3
    )
    assert (
        _scalar(engine, "SELECT DISTINCT vintage FROM core.indicator_value WHERE period_code = '2023-12'") == MONTHS[-1]
    )
    revised = _scalar(
        engine,
        "SELECT count(*) FROM core.indicator_value_vintage a JOIN core.indicator_value_vintage b "
        "USING (indicator_code, territory_level, territory_code, period_code, breakdown) "
        "WHERE a.period_code = '2023-12' AND a.vintage = '2023-12' AND b.vintage = '2024-02' "
        "AND a.value IS DISTINCT FROM b.value",
    )
    assert revised > 0
    masked = _scalar(engine, "SELECT count(*) FROM core.indicator_value WHERE status = 'masked' AND value IS NULL")
    assert (
        masked > 0
        and _scalar(engine, "SELECT count(*) FROM core.indicator_value WHERE status = 'masked' AND value = 0") == 0
    )

    # a delivery processed after a newer one (a late file, or a re-run of its month) never overrides the newer
    # vintage of the months they share
    from etl import pipeline
    from etl.sources.registry import source

    [late] = pipeline.reload(engine, source("france_travail_defm"), MONTHS[1], home=home).batches
    assert late.status == "loaded" and late.partition == MONTHS[1]
    for month in MONTHS[:2]:
        assert (
            _scalar(engine, f"SELECT DISTINCT vintage FROM core.indicator_value WHERE period_code = '{month}'")
            == (MONTHS[-1])
        )

    # région and France are the sums of the départements of the same delivery, breakdown by breakdown
    france, departements = (
        _scalar(
            engine,
            "SELECT sum(value) FROM core.indicator_value WHERE indicator_code = 'FT_DEFM_ABC' "
            f"AND territory_level = '{level}' AND period_code = '2024-01' AND breakdown = 'sexe=F'",
        )
        for level in ("france", "departement")
    )
    assert france == departements and france > 0
    regions = _scalar(
        engine,
        "SELECT count(*) FROM core.indicator_value WHERE indicator_code = 'FT_DEFM_A' AND territory_level = 'region' "
        "AND period_code = '2024-01' AND breakdown = 'total' AND status = 'ok'",
    )
    assert regions == 18

    # a source DAG carries its late-file DeadlineAlert; a run that succeeds through dag.test() must not trip on it
    # (Airflow 3.3.2's dag.test() bug, see runner._without_deadline_alerts), and the DAG keeps its alert afterwards
    assert [alert.name for alert in dags["france_travail_contacts"].deadline] == ["late_file"]
    contacts = runner.run_dag(dags["france_travail_contacts"], tmp_path)
    assert contacts.state == "success", contacts.log_file.read_text()[-3000:]
    assert [alert.name for alert in dags["france_travail_contacts"].deadline] == ["late_file"]
    assert (
        _scalar(engine, "SELECT count(*) FROM core.indicator_value WHERE indicator_code = 'FT_POINTS_CONTACT'") > 1500
    )
