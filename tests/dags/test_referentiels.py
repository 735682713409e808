"""The referentiels DAG really runs through Airflow on generated territories and the repository catalogue,
and running it again leaves every table identical."""

from __future__ import annotations

import os
import shutil

import pytest
import sqlalchemy as sa

from etl.config import DAGS_FOLDER, Home
from etl.orchestration import runner
from etl.warehouse.fingerprint import fingerprint

pytestmark = [pytest.mark.airflow, pytest.mark.warehouse]


@pytest.fixture(scope="module")
def dags(tmp_path_factory):
    runner.prepare_metadata_db(tmp_path_factory.mktemp("airflow-logs"))
    return runner.load_dags(DAGS_FOLDER)


def test_referentiels_loads_everything_and_a_rerun_changes_nothing(dags, engine, tmp_path):
    from etl.samples.demo_data import drop_sample_files

    home = Home.from_env()
    for folder in ("inbox", "quarantine"):  # never the archive: other tests' registered files keep their copies
        shutil.rmtree(home.folder(folder), ignore_errors=True)
    home.ensure()
    drop_sample_files(home, sources=set())

    outcome = runner.run_dag(dags["referentiels"], tmp_path)
    assert outcome.state == "success" and outcome.failed_tasks == []
    with engine.connect() as conn:
        counts = conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM core.region), (SELECT count(*) FROM core.departement), "
                "(SELECT count(*) FROM core.qpv WHERE geography = '2015'), "
                "(SELECT count(*) FROM core.qpv WHERE geography = '2024'), "
                "(SELECT count(*) FROM core.qpv_correspondance), "
                "(SELECT count(*) FROM core.indicator WHERE family = 'convention_2014' AND mode = 'national'), "
                "(SELECT count(*) FROM core.indicator WHERE family = 'convention_2014' AND mode = 'local'), "
                "(SELECT string_agg(measures::text, '/' ORDER BY array_position(ARRAY['Objectif atteint', "
                "'En voie de finalisation', 'En cours de déploiement', 'En cours de lancement'], statut)) "
                " FROM core.measure_status_summary), "
                "(SELECT count(*) FROM audit.dq_result)"
            )
        ).one()
    regions, deps, q15, q24, corr, national, local, summary, dq = counts
    assert (regions, deps, q15, corr, national, local, summary) == (18, 101, 1514, 1514, 16, 16, "3/1/22/14")
    assert 1550 <= q24 <= 1620
    assert dq > 50
    assert (home.folder("datadocs") / "index.html").exists()

    before = fingerprint(engine)
    drop_sample_files(home, sources=set())  # the same bytes again
    again = runner.run_dag(dags["referentiels"], tmp_path)
    assert again.state == "success"
    assert fingerprint(engine) == before
    assert not any(os.scandir(home.folder("inbox") / "anct_qpv"))


def test_a_broken_file_fails_its_task_and_the_run_while_the_rest_loads(dags, engine, tmp_path):
    home = Home.from_env()
    for folder in ("inbox", "quarantine"):
        shutil.rmtree(home.folder(folder), ignore_errors=True)
    home.ensure()
    inbox = home.folder("inbox") / "anct_qpv"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "qpv_broken.csv").write_bytes(
        b"code_qp;lib_qp;insee_reg;lib_reg;insee_dep;lib_dep;insee_com;lib_com;siren_epci;lib_epci\n"
        b"QP075999;X;11;IDF;75;Paris;75056.0;Paris;200054781;MGP\n"
    )
    outcome = runner.run_dag(dags["referentiels"], tmp_path)
    assert outcome.state == "failed"
    assert outcome.failed_tasks == ["fail_if_any_task_failed", "ingest_anct_qpv"]
    reports = list((home.folder("quarantine") / "anct_qpv").glob("*.report.txt"))
    assert len(reports) == 1 and "column insee_com" in reports[0].read_text()
    with engine.connect() as conn:
        statuses = dict(
            conn.execute(
                sa.text("SELECT original_name, status FROM audit.batch WHERE original_name = 'qpv_broken.csv'")
            ).all()
        )
        assert conn.execute(sa.text("SELECT count(*) FROM core.qpv WHERE code = 'QP075999'")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM core.region")).scalar() == 18
    assert statuses == {"qpv_broken.csv": "quarantined"}
