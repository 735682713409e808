"""The regional_submissions DAG through Airflow: a rejected workbook fails the run after the others were loaded, its
reports sit in quarantine/regional/; a corrected resubmission and a PAQTE report then load and the run succeeds."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from etl.config import DAGS_FOLDER, Home
from etl.orchestration import runner
from etl.samples.generators import submissions as gen

pytestmark = [pytest.mark.airflow, pytest.mark.warehouse]

CAMPAIGN = 2024


def _drop(home: Home, name: str, content: bytes) -> None:
    inbox = home.folder("inbox") / "regional"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_bytes(content)


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def test_rejected_then_corrected_workbooks_through_airflow(tmp_path_factory, engine):
    logs = tmp_path_factory.mktemp("airflow-logs")
    runner.prepare_metadata_db(logs)
    dags = runner.load_dags(DAGS_FOLDER)
    home = Home.from_env()
    shutil.rmtree(home.folder("inbox") / "regional", ignore_errors=True)
    shutil.rmtree(home.folder("quarantine") / "regional", ignore_errors=True)
    assert runner.run_dag(dags["referentiels"], logs).state == "success"

    bad = gen.filled_workbook("52", CAMPAIGN, seed=11, mistakes=["part_superieure_100"])
    _drop(home, gen.submission_file_name("44", CAMPAIGN), gen.filled_workbook("44", CAMPAIGN, seed=11).content)
    _drop(home, gen.submission_file_name("52", CAMPAIGN), bad.content)
    first = runner.run_dag(dags["regional_submissions"], logs, "regional-first")
    assert (
        first.state == "failed" and "intake_regional" in first.failed_tasks and "completeness" not in first.failed_tasks
    )
    assert _rows(engine, "SELECT region_code, version FROM core.regional_submission WHERE superseded_by IS NULL "
                         "AND region_code IN ('44', '52') ORDER BY 1") == [("44", 1)]  # fmt: skip
    reports = sorted(p.name for p in (home.folder("quarantine") / "regional").iterdir())
    stem = [n for n in reports if n.endswith("indicateurs_locaux_R52_2024.xlsx")]
    assert stem and f"{stem[0]}.rapport.html" in reports and f"{stem[0]}.verdict.json" in reports
    page = (home.folder("quarantine") / "regional" / f"{stem[0]}.rapport.html").read_text(encoding="utf-8")
    assert "CELLULE-PART" in page and bad.cells["part_superieure_100"].split("!")[1] in page

    _drop(home, gen.submission_file_name("52", CAMPAIGN, "v2"), gen.filled_workbook("52", CAMPAIGN, seed=11).content)
    from etl.samples.generators import paqte

    paqte_inbox = home.folder("inbox") / "paqte"
    paqte_inbox.mkdir(parents=True, exist_ok=True)
    (paqte_inbox / paqte.paqte_file_name("44", "2024-S2")).write_bytes(paqte.filled_paqte("44", "2024-S2").content)
    second = runner.run_dag(dags["regional_submissions"], logs, "regional-second")
    assert second.state == "success", second.failed_tasks
    states = dict(
        _rows(
            engine,
            f"SELECT region_code, state FROM core.regional_submission_status WHERE campaign = {CAMPAIGN} "
            "AND region_code IN ('44', '52', '06')",
        )  # fmt: skip
    )
    assert states == {"44": "acceptée", "52": "acceptée", "06": "non reçue"}
    assert _rows(engine, "SELECT state FROM core.paqte_submission_status WHERE departement_code = '44' "
                         "AND semester = '2024-S2'") == [("acceptée",)]  # fmt: skip
