"""The bench's BI-under-load piece: the scaled table and concurrent clients as bi_reader (behaviour, not timings)."""

import pytest
import sqlalchemy as sa

from etl.samples import bench_bi

pytestmark = pytest.mark.warehouse

ROW = """
INSERT INTO publication.emploi_qpv (edition_id, semestre, mois, niveau, code_territoire, territoire, categorie,
    ventilation, de_qpv, de_qpv_statut, statut)
SELECT edition_id, period_code, substr(edition_id, 7), 'france', 'FR', 'France', c, 'total', 120, 'ok', 'ok'
FROM publication.edition CROSS JOIN (VALUES ('A'), ('ABC')) v (c) WHERE edition_id LIKE 'bench-%'
"""
QUERIES = [
    ("France over the months", "SELECT mois, de_qpv FROM publication.emploi_qpv WHERE niveau = :level ORDER BY mois"),
    ("the current edition", "SELECT count(*) FROM publication.emploi_qpv_courant"),
]


def test_binds_become_psycopg_placeholders_and_casts_stay():
    assert bench_bi._pyformat("SELECT :a::text, x FROM t WHERE y = ANY(:b) AND z LIKE '5%'") == (
        "SELECT %(a)s::text, x FROM t WHERE y = ANY(%(b)s) AND z LIKE '5%%'"
    )


def test_the_table_is_scaled_by_older_reissues_and_clients_run_as_bi_reader(isolated):
    engine = isolated.engine
    with engine.begin() as conn:
        conn.execute(sa.text(bench_bi.FILL_EDITIONS), {"months": 3})
        conn.execute(sa.text(ROW))
        current = conn.exec_driver_sql("SELECT count(*), min(edition_id) FROM publication.emploi_qpv_courant").one()
    indexes = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'emploi_qpv' ORDER BY 1"
    with engine.connect() as conn:
        before = conn.exec_driver_sql(indexes).all()
    assert bench_bi.scale_rows(engine, 4) == 4 * 6
    with engine.connect() as conn:
        editions = conn.exec_driver_sql("SELECT count(*) FROM publication.edition").scalar()
        assert conn.exec_driver_sql("SELECT count(*), min(edition_id) FROM publication.emploi_qpv_courant").one() == (
            current
        )
    assert editions == 4 * 3
    with engine.connect() as conn:  # the secondary indexes dropped for the copy are built again, the same
        assert conn.exec_driver_sql(indexes).all() == before and len(before) > 5

    load = bench_bi.concurrent(isolated.url, QUERIES, {"level": "france", "unused": 1}, clients=3, seconds=1)
    assert load["clients"] == 3 and load["queries_run"] > 0
    assert [q["query"] for q in load["queries"]] == [label for label, _ in QUERIES]
    assert load["all"]["p95_ms"] >= load["all"]["p50_ms"] > 0


def test_the_clients_really_are_the_read_only_role(isolated):
    """A client's connection cannot read outside publication: the DSN logs in as bi_reader."""
    import psycopg

    with psycopg.connect(bench_bi.bi_reader_dsn(isolated.url)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("bi_reader",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM audit.batch")
