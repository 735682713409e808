"""CAF, ANS, the other national producers and the France Travail contact points, each through its Airflow DAG.

Every broken-on-purpose file is quarantined and only it; the computed catalogue indicators (IND05, IND16, IND20,
IND21, IND22) equal what a plain reading of the delivered files gives (recomputed here with the csv module, not
with the platform's readers or SQL); a backfill run for a loaded period leaves the tables identical; a corrected
delivery replaces its year and a late one is kept as an earlier vintage.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.config import DAGS_FOLDER, Home
from etl.orchestration import runner
from etl.warehouse.fingerprint import differences, fingerprint

pytestmark = [pytest.mark.airflow, pytest.mark.warehouse]

SOURCES = ("france_travail_contacts", "caf_allocataires", "caf_creches", "ans_subventions", "ans_licences",
           "national_indicateurs")  # fmt: skip
DATA_SCHEMAS = ("raw.", "staging.", "core.")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, engine):
    """Sample files of every source dropped, referentiels then each source DAG run once through Airflow."""
    from etl.samples.demo_data import drop_sample_files

    logs = tmp_path_factory.mktemp("airflow-logs")
    runner.prepare_metadata_db(logs)
    dags = runner.load_dags(DAGS_FOLDER)
    home = Home.from_env()
    for folder in ("inbox", "quarantine"):
        shutil.rmtree(home.folder(folder), ignore_errors=True)
    home.ensure()
    drop = drop_sample_files(home, years=[2023, 2024], quarters=["2024-Q1", "2024-Q3", "2024-Q4"], sources=set(SOURCES))
    assert runner.run_dag(dags["referentiels"], logs).state == "success"
    outcomes = {source_id: runner.run_dag(dags[source_id], logs) for source_id in SOURCES}
    return dags, drop, outcomes, logs


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _archived(engine, source_id: str, name: str) -> Path:
    return Path(
        _scalar(
            engine,
            "SELECT f.archive_path FROM audit.batch b JOIN audit.file_registry f USING (source_id, sha256) "
            "WHERE b.source_id = :s AND b.original_name = :n",
            s=source_id,
            n=name,
        )
    )


def _rows(path: Path, encoding: str = "utf-8-sig") -> list[dict]:
    text = path.read_bytes().decode(encoding)
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def _number(cell: str) -> float:
    return float(cell.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", "."))


def _value(engine, indicator: str, level: str, code: str, period: str, breakdown: str = "total") -> float | None:
    value = _scalar(
        engine,
        "SELECT value FROM core.indicator_value WHERE indicator_code = :i AND territory_level = :l "
        "AND territory_code = :c AND period_code = :p AND breakdown = :b",
        i=indicator,
        l=level,
        c=code,
        p=period,
        b=breakdown,
    )
    return None if value is None else float(value)


def test_each_source_dag_loads_its_files_and_quarantines_only_the_broken_one(loaded, engine):
    _, drop, outcomes, _ = loaded
    broken = {source_id: name for source_id, name in drop.expected_quarantine}
    for source_id in SOURCES:
        outcome = outcomes[source_id]
        if source_id in broken:
            assert outcome.state == "failed", source_id
            assert outcome.failed_tasks == ["fail_if_any_task_failed", f"ingest_{source_id}"], source_id
            status = _scalar(engine, "SELECT status FROM audit.batch WHERE original_name = :n", n=broken[source_id])
            assert status == "quarantined", source_id
            report = _scalar(
                engine, "SELECT report_path FROM audit.batch WHERE original_name = :n", n=broken[source_id]
            )
            assert Path(report).is_file() and broken[source_id] in Path(report).read_text(encoding="utf-8")
        else:
            assert outcome.state == "success", source_id
        statuses = _scalar(
            engine,
            "SELECT string_agg(DISTINCT status, ',') FROM audit.batch WHERE source_id = :s AND original_name NOT LIKE "
            "'%\\_broken%'",
            s=source_id,
        )
        assert statuses == "loaded", (source_id, statuses)
    assert set(broken) == set(SOURCES) - {"france_travail_contacts"}


def test_ind20_and_ind21_are_the_licences_of_the_files_summed(loaded, engine):
    # INJEP's layout: one row per commune x QPV x federation, a column per sex and age band (`F - ...`, `H - ...`)
    every_row = _rows(_archived(engine, "ans_licences", "lic-data-2024.csv"))
    with engine.connect() as conn:
        in_force = set(
            conn.execute(
                sa.text(
                    "SELECT code FROM core.qpv WHERE valid_from <= '2024-01-01' AND coalesce(valid_to, 'infinity') > "
                    "'2024-01-01'"
                )  # fmt: skip
            ).scalars()
        )

    def licences(row: dict, *sexes: str) -> float:
        return sum(_number(value) for key, value in row.items() if key[:4] in {f"{sex} - " for sex in sexes})

    # the lines of QPV in veille active (2015 codes after they left) are not summed with the QPV in force, nor are
    # the rows outside any QPV (`NR - Non réparti`)
    rows = [r for r in every_row if r["Code QPV"] in in_force]
    assert len(rows) < len(every_row)
    women = sum(licences(r, "F") for r in rows)
    everyone = sum(licences(r, "F", "H") for r in rows)
    assert _value(engine, "IND20", "france", "FR", "2024") == everyone
    assert _value(engine, "IND21", "france", "FR", "2024") == women
    one = rows[0]["Code QPV"]
    per_qpv = sum(licences(r, "F", "H") for r in rows if r["Code QPV"] == one)
    assert _value(engine, "IND20", "qpv", one, "2024") == per_qpv
    regions = _scalar(
        engine,
        "SELECT sum(value) FROM core.indicator_value WHERE indicator_code = 'IND20' AND territory_level = 'region' "
        "AND period_code = '2024' AND breakdown = 'total'",
    )
    assert float(regions) == everyone


def test_ind22_is_the_share_of_euros_granted_in_qpv(loaded, engine):
    rows = _rows(_archived(engine, "ans_subventions", "ANS_SUBVENTIONS_2024.csv"), encoding="cp1252")
    in_qpv = sum(_number(r["montant"]) for r in rows if r["code_qpv"].strip())
    total = sum(_number(r["montant"]) for r in rows)
    assert _value(engine, "IND22", "france", "FR", "2024") == pytest.approx(100 * in_qpv / total, abs=0.005)
    equipment = [r for r in rows if r["type_subvention"].strip().lower().startswith(("equip", "équip"))]
    share = (
        100
        * sum(_number(r["montant"]) for r in equipment if r["code_qpv"].strip())
        / sum(_number(r["montant"]) for r in equipment)
    )
    assert _value(engine, "IND22", "france", "FR", "2024", "type=equipement") == pytest.approx(share, abs=0.005)
    lines = _scalar(engine, "SELECT count(*) FROM core.ans_subvention WHERE annee = 2024")
    assert lines == len(rows)


def test_ind05_is_the_share_of_qpv_with_a_contact_point(loaded, engine):
    rows = _rows(_archived(engine, "france_travail_contacts", "POINTS_CONTACT_QPV_2024.csv"))
    covered = sum(1 for r in rows if int(r["sites_france_travail"]) + int(r["relais_partenaires"]) > 0)
    assert _value(engine, "IND05", "france", "FR", "2024") == pytest.approx(100 * covered / len(rows), abs=0.005)


def test_ind16_places_are_the_quarter_s_new_and_renovated_places(loaded, engine):
    rows = _rows(_archived(engine, "caf_creches", "CAF_EAJE_QPV_2024T1.csv"), encoding="cp1252")
    created = sum(_number(r["places_creees"]) for r in rows)
    renovated = sum(_number(r["places_renovees"]) for r in rows)
    assert _value(engine, "IND16", "france", "FR", "2024-Q1", "type=creation") == created
    assert _value(engine, "IND16", "france", "FR", "2024-Q1", "type=renovation") == renovated


def test_national_indicators_load_by_producer_without_replacing_each_other(loaded, engine):
    producers = _scalar(
        engine,
        "SELECT count(DISTINCT partition_key) FROM audit.batch WHERE source_id = 'national_indicateurs' "
        "AND status = 'loaded' AND partition_key LIKE '%/2024'",
    )
    assert producers >= 8
    codes = _scalar(
        engine,
        "SELECT count(DISTINCT indicator_code) FROM core.indicator_value WHERE source_id = 'national_indicateurs'",
    )
    assert codes == 12
    report = _scalar(
        engine,
        "SELECT report_path FROM audit.batch WHERE source_id = 'national_indicateurs' AND status = 'quarantined'",
    )
    text = Path(report).read_text(encoding="utf-8")
    for column in ("indicator_code", "indicator_unit", "territory_level"):
        assert column in text


def test_a_backfill_run_of_a_loaded_year_leaves_the_tables_identical(loaded, engine):
    dags, _, _, logs = loaded
    before = fingerprint(engine)
    finished = "SELECT finished_at FROM audit.batch WHERE original_name = 'CAF_QPV_2024.csv'"
    first_load = _scalar(engine, finished)
    # the run of 15 June 2025 is the one for year 2024: nothing in the inbox, so it reloads 2024 from the archive
    outcome = runner.run_dag(
        dags["caf_allocataires"], logs, "backfill", logical_date=datetime(2025, 6, 15, 6, tzinfo=UTC)
    )
    assert outcome.state == "success"
    assert _scalar(engine, finished) > first_load  # really processed again, by that run
    insee_2023 = "SELECT finished_at FROM audit.batch WHERE original_name = 'beneficiaires_CAF_31-12-2023_QP15.xlsx'"
    assert _scalar(engine, insee_2023) < first_load  # the year in INSEE's layout is not touched
    after = fingerprint(engine)
    assert [t for t in differences(before, after) if t.startswith(DATA_SCHEMAS)] == []


def test_a_corrected_year_replaces_the_first_delivery_and_a_late_quarter_is_loaded(loaded, engine):
    from etl.samples.demo_data import drop_late_files

    dags, drop, _, logs = loaded
    moved = drop_late_files(Home.from_env(), drop)
    assert "caf_allocataires/CAF_QPV_2024_rectificatif.csv" in moved
    before = {
        r[0]: float(r[1])
        for r in engine.connect().execute(
            sa.text(
                "SELECT territory_code, value FROM core.indicator_value WHERE indicator_code = 'CAF_ALLOCATAIRES' "
                "AND period_code = '2024' AND breakdown = 'total'"
            )
        )
    }
    for source_id in drop.late_sources:
        if source_id in SOURCES:
            assert runner.run_dag(dags[source_id], logs, f"{source_id}-late").state == "success", source_id
    statuses = dict(
        engine.connect()
        .execute(
            sa.text(
                "SELECT original_name, status FROM audit.batch WHERE original_name LIKE 'CAF_QPV_2024%' "
                "AND status <> 'quarantined'"
            )
        )
        .all()
    )
    assert statuses == {"CAF_QPV_2024.csv": "superseded", "CAF_QPV_2024_rectificatif.csv": "loaded"}
    after = {
        r[0]: float(r[1])
        for r in engine.connect().execute(
            sa.text(
                "SELECT territory_code, value FROM core.indicator_value WHERE indicator_code = 'CAF_ALLOCATAIRES' "
                "AND period_code = '2024' AND breakdown = 'total'"
            )
        )
    }
    assert after.keys() == before.keys() and after != before
    assert _scalar(engine, "SELECT status FROM audit.batch WHERE original_name = 'CAF_EAJE_QPV_2024T3.csv'") == "loaded"
    assert _value(engine, "IND16", "france", "FR", "2024-Q3", "type=creation") is not None
