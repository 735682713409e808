"""The BI queries of make bench (etl/samples/bench_bi.py BI_QUERIES) are answered from one covering index each
(migration 0032): an index-only scan of the expected index, no read of the table; and the masked-cells counts kept
by the triggers of publication.emploi_qpv_cellules are those of emploi_qpv after inserts, updates and deletes."""

import re

import pytest
import sqlalchemy as sa

from etl.samples import bench_bi

pytestmark = pytest.mark.warehouse

# 2 years of monthly editions, each issued twice, for France, 18 régions, 54 départements and 270 QPV: 197,568 rows
EDITIONS = """
INSERT INTO publication.edition (edition_id, kind, period_code, released_at, inputs_digest, folder, manifest)
SELECT 'bench-' || r || '-' || to_char(m, 'YYYY-MM'), 'semestrielle',
       to_char(m, 'YYYY') || '-S' || CASE WHEN extract(month FROM m) <= 6 THEN '1' ELSE '2' END,
       m + interval '45 days' - r * interval '1 day', 'bench', '/nonexistent', '{}'::jsonb
FROM generate_series(DATE '2024-01-01', DATE '2025-12-01', interval '1 month') m CROSS JOIN generate_series(0, 1) r
"""
ROWS = """
WITH territories AS (
    SELECT 'france' AS niveau, 'FR' AS code, NULL AS region, NULL AS departement
    UNION ALL SELECT 'region', lpad(r::text, 2, '0'), lpad(r::text, 2, '0'), NULL FROM generate_series(11, 28) r
    UNION ALL SELECT 'departement', lpad(d::text, 2, '0'), lpad((11 + d % 18)::text, 2, '0'), lpad(d::text, 2, '0')
        FROM generate_series(10, 63) d
    UNION ALL SELECT 'qpv', 'QN' || lpad(d::text, 3, '0') || lpad(q::text, 2, '0') || 'M',
        lpad((11 + d % 18)::text, 2, '0'), lpad(d::text, 2, '0')
        FROM generate_series(10, 63) d CROSS JOIN generate_series(1, 5) q
)
INSERT INTO publication.emploi_qpv (edition_id, semestre, mois, niveau, code_territoire, territoire, code_region,
    code_departement, categorie, ventilation, de_qpv, de_qpv_statut, de_unite, de_hors_qpv, part_qpv,
    evolution_12_mois_qpv, statut)
SELECT e.edition_id, e.period_code, right(e.edition_id, 7), t.niveau, t.code, 'Territoire ' || t.code, t.region,
       t.departement, c.categorie, v.ventilation, n.qpv, CASE WHEN n.qpv < 11 THEN 'masked' ELSE 'ok' END, 50000,
       50000 - n.qpv, round(n.qpv / 500, 1), 1.5, CASE WHEN n.qpv < 11 THEN 'masked' ELSE 'ok' END
FROM publication.edition e CROSS JOIN territories t
CROSS JOIN (VALUES ('A'), ('ABC')) c (categorie)
CROSS JOIN (VALUES ('total'), ('sexe=F'), ('sexe=H'), ('age=<26'), ('age=26-49'), ('age=50+')) v (ventilation)
CROSS JOIN LATERAL (SELECT (hashtext(e.edition_id || t.code || c.categorie || v.ventilation) & 4095)::numeric AS qpv) n
"""
PARAMS = {
    "qpv": "QN03505M", "qpvs": [f"QN0{d}0{q}M" for d in range(20, 45) for q in (1, 2)], "semester": "2024-S1",
    "departement": "35", "region": "12", "month": "2024-06", "since": "2024-07", "year_start": "2024-01",
    "year_end": "2024-12",
}  # fmt: skip
# the index(es) each query may read (the current edition's view selects every column: its primary key, not index-only);
# the 50 QPV of a map: either the territory index (50 descents) or the level-month one (the month's QPV, on
# PostgreSQL 18 by a skip scan of the level), as the planner weighs them at the table's size
EXPECTED = {
    "one QPV's monthly series (10 years)": "emploi_qpv_territoire_idx",
    "a département's QPV in one semester": "emploi_qpv_departement_semestre_idx",
    "France, QPV and rest over 10 years": "emploi_qpv_niveau_mois_idx",
    "the 20 largest QPV in one month": "emploi_qpv_niveau_mois_idx",
    "masked cells per région in one semester": "emploi_qpv_cellules_semestre_idx",
    "a région's départements by sex in one month": "emploi_qpv_mois_idx",
    "12-month change of a département's QPV": "emploi_qpv_departement_idx",
    "yearly mean share in QPV per région": "emploi_qpv_niveau_mois_idx",
    "50 QPV picked on a map, one month": ("emploi_qpv_territoire_idx", "emploi_qpv_niveau_mois_idx"),
}
COUNTS = """
SELECT edition_id, semestre, niveau, code_region, count(*), count(*) FILTER (WHERE statut = 'masked')
FROM publication.emploi_qpv GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
"""
KEPT = "SELECT edition_id, semestre, niveau, code_region, cellules, masquees FROM publication.emploi_qpv_cellules "
KEPT += "ORDER BY 1, 2, 3, 4"


def _fill(engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(EDITIONS))
        conn.execute(sa.text(ROWS))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(
            "VACUUM (ANALYZE) publication.edition, publication.emploi_qpv, publication.emploi_qpv_cellules"
        )


def test_each_bi_query_reads_its_covering_index_alone(isolated):
    _fill(isolated.engine)
    labels = {label for label, _ in bench_bi.BI_QUERIES}
    assert set(EXPECTED) <= labels
    unexpected = {}
    with isolated.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM publication.emploi_qpv")).scalar() == 197_568
        for label, sql in bench_bi.BI_QUERIES:
            if label not in EXPECTED:
                continue
            wanted = {k: v for k, v in PARAMS.items() if re.search(rf":{k}\b", sql)}
            plan = "\n".join(row[0] for row in conn.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + sql), wanted))
            scans = re.findall(r"(Seq Scan|Bitmap Heap Scan|Index Scan|Index Only Scan) (?:using (\w+) )?on", plan)
            # the visibility map spares every heap read: the answer came from the index
            fetches = [int(n) for n in re.findall(r"Heap Fetches: (\d+)", plan)]
            allowed = EXPECTED[label] if isinstance(EXPECTED[label], tuple) else (EXPECTED[label],)
            if len(scans) != 1 or scans[0][0] != "Index Only Scan" or scans[0][1] not in allowed or fetches != [0]:
                unexpected[label] = plan
            assert conn.execute(sa.text(sql), wanted).all(), label  # the parameters find rows
        # the current edition's view: the latest edition is the first entry of its index, not a sort of them all
        # (PostgreSQL 18 reads one entry; 15 prefers sorting 48 editions, and walks the index without a sort from
        # about a thousand, as on the bench's table)
        current = next(sql for label, sql in bench_bi.BI_QUERIES if label == "the current edition, régions")
        plan = "\n".join(row[0] for row in conn.execute(sa.text("EXPLAIN " + current)))
        version = int(conn.execute(sa.text("SELECT current_setting('server_version_num')")).scalar())
        if version >= 180000 and ("Index Only Scan using edition_kind_released_idx" not in plan or "Sort" in plan):
            unexpected["the current edition, régions"] = plan
    assert unexpected == {}


def test_the_masked_cells_table_keeps_the_counts_of_emploi_qpv(isolated):
    engine = isolated.engine
    _fill(engine)
    with engine.begin() as conn:
        assert conn.execute(sa.text(KEPT)).all() == conn.execute(sa.text(COUNTS)).all()
        conn.execute(sa.text("UPDATE publication.emploi_qpv SET statut = 'masked' WHERE code_departement = '35'"))
        conn.execute(sa.text("UPDATE publication.emploi_qpv SET code_region = '11' WHERE code_region = '12'"))
        conn.execute(sa.text("DELETE FROM publication.emploi_qpv WHERE mois = '2024-03' OR niveau = 'france'"))
        conn.execute(sa.text("DELETE FROM publication.emploi_qpv WHERE edition_id LIKE 'bench-1-%'"))
        kept = conn.execute(sa.text(KEPT)).all()
        assert kept == conn.execute(sa.text(COUNTS)).all()
        assert not any(edition.startswith("bench-1-") or level == "france" for edition, _, level, *_ in kept)
        # the masked-cells question gives the same answer on either table
        question = next(sql for label, sql in bench_bi.BI_QUERIES if label == "masked cells per région in one semester")
        direct = (
            "SELECT code_region, count(*) FILTER (WHERE statut = 'masked') AS masquees, count(*) "
            "FROM publication.emploi_qpv WHERE semestre = :semester AND niveau = 'qpv' GROUP BY code_region "
            "ORDER BY code_region"
        )
        answer = conn.execute(sa.text(question), {"semester": "2024-S1"}).all()
        assert answer and answer == conn.execute(sa.text(direct), {"semester": "2024-S1"}).all()
        conn.execute(sa.text("DELETE FROM publication.emploi_qpv"))
        assert conn.execute(sa.text("SELECT count(*) FROM publication.emploi_qpv_cellules")).scalar() == 0
