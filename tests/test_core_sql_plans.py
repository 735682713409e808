"""The core and publication SQL's plans: loads on a batch the statistics do not know yet, editions' reads."""

import re

import pytest
import sqlalchemy as sa

from etl.config import SQL_FOLDER

pytestmark = pytest.mark.warehouse

BATCH = 987654
PARTITION = "2030-12"
DEPARTEMENT_ROWS = """
INSERT INTO core.indicator_value_vintage (indicator_code, territory_level, territory_code, period_code, breakdown,
    value, status, vintage, source_id, batch_id, line_no)
SELECT 'FT_DEFM_A', 'departement', d.code, p.code, b.breakdown, 10, 'ok', :partition_key, 'france_travail_defm',
       :batch_id, 1
FROM core.departement d CROSS JOIN core.period p
CROSS JOIN (VALUES ('total'), ('sexe=F'), ('sexe=H'), ('age=<26'), ('age=26-49'), ('age=50+')) b (breakdown)
WHERE p.kind = 'month'
"""


def test_the_departements_sums_probe_the_primary_key_not_the_whole_batch(with_territories):
    engine = with_territories.engine
    from etl.referentiels import periods

    periods.load(engine)
    statement = (SQL_FOLDER / "core" / "aggregate_departements.sql").read_text(encoding="utf-8")
    params = {"batch_id": BATCH, "partition_key": PARTITION}
    with engine.connect() as conn, conn.begin() as transaction:
        conn.execute(
            sa.text("ALTER TABLE core.indicator_value_vintage DISABLE TRIGGER indicator_value_vintage_references")
        )
        # the statistics know an earlier delivery, not this batch (ANALYZE runs on the staging tables, not here)
        conn.execute(sa.text(DEPARTEMENT_ROWS), {"batch_id": BATCH - 1, "partition_key": "2030-11"})
        conn.execute(sa.text("ANALYZE core.indicator_value_vintage"))
        conn.execute(sa.text(DEPARTEMENT_ROWS), params)
        rows = conn.execute(
            sa.text("SELECT count(*) FROM core.indicator_value_vintage WHERE batch_id = :batch_id"), params
        ).scalar()
        plan = "\n".join(row[0] for row in conn.execute(sa.text("EXPLAIN " + statement), params))
        transaction.rollback()
    assert rows > 50_000  # a batch far larger than what the statistics say (nothing)
    anti = plan[plan.index("Anti Join") :]
    assert "indicator_value_vintage_pkey" in anti, plan
    assert "Join Filter" not in plan.split("Anti Join")[1].split("->")[0], plan


QPV_TOTALS = """
INSERT INTO core.indicator_value_vintage (indicator_code, territory_level, territory_code, period_code, breakdown,
    value, status, vintage, source_id, batch_id, line_no)
SELECT i.code, 'qpv', 'QP' || lpad(q::text, 6, '0'), p.code, b.breakdown, 10, 'ok', p.code, 'france_travail_defm',
       :batch_id, 1
FROM generate_series(1, 300) q CROSS JOIN core.period p
CROSS JOIN (VALUES ('FT_DEFM_A'), ('FT_DEFM_ABC')) i (code)
CROSS JOIN (VALUES ('total'), ('sexe=F'), ('age=<26')) b (breakdown)
WHERE p.kind = 'month'
"""


def test_the_cross_checks_read_the_previous_month_through_the_index_of_the_qpv_totals(isolated):
    """The month-on-month warning's read of the stored previous month (every France Travail file) goes through the
    partial index of the QPV totals (migration 0033), not through every vintage of the table."""
    from etl.quality import cross_checks
    from etl.referentiels import periods

    engine = isolated.engine
    periods.load(engine)
    params = {"indicator_codes": ["FT_DEFM_A", "FT_DEFM_ABC"], "period_codes": ["2024-05", "2024-06"]}
    with engine.connect() as conn, conn.begin() as transaction:
        conn.execute(
            sa.text("ALTER TABLE core.indicator_value_vintage DISABLE TRIGGER indicator_value_vintage_references")
        )
        conn.execute(sa.text(QPV_TOTALS), {"batch_id": BATCH})
        conn.execute(sa.text("ANALYZE core.indicator_value_vintage"))
        # whatever the table's size: the question is whether the index can serve the query, not whether a table of
        # a test's size is worth it
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in conn.execute(sa.text("EXPLAIN " + cross_checks.PREVIOUS_VALUES_SQL), params))
        found = conn.execute(sa.text(cross_checks.PREVIOUS_VALUES_SQL), params).all()
        transaction.rollback()
    assert "indicator_value_vintage_qpv_total_idx" in plan, plan
    assert "indicator_value_vintage_pkey" not in plan, plan
    assert len(found) == 300 * 2 * 2  # the QPV totals of both indicators and both months, nothing else


def test_the_bilan_reads_the_vintages_of_the_convention_indicators_by_their_key(isolated):
    """The annual bilan's two reads of the latest vintages (yearly values, quarterly counts) carry the convention
    indicators' codes into the view, so that PostgreSQL reads their vintages by the table's key instead of
    deduplicating every vintage of the years (2.4-2.8 s a bilan on the demo's warehouse, 0.2 s with the codes)."""
    from etl.publication import annual

    engine = isolated.engine
    statement = annual.BILAN_SQL.read_text(encoding="utf-8")
    with engine.connect() as conn, conn.begin() as transaction:
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))  # the question is whether the key can serve the reads
        plan = "\n".join(
            row[0]
            for row in conn.execute(sa.text("EXPLAIN " + statement), {"annee": 2025, "codes": ["IND01", "IND16"]})
        )
        transaction.rollback()
    # the view's reads (the NOT EXISTS probe of a quarterly count's yearly figure names the table `y`)
    reads = [
        part
        for part in plan.split("->")
        if re.search(r" on indicator_value_vintage(?: indicator_value_vintage_[0-9]+)? +\(", part)
    ]
    assert len(reads) == 2, plan
    assert all("indicator_value_vintage_pkey" in read and "indicator_code = ANY" in read for read in reads), plan


def test_the_veille_active_table_reads_the_figures_of_the_veille_qpv_alone_by_their_key(isolated):
    """The veille-active QPV's figures are read with their codes given to the latest-vintage view (a condition on a
    subquery is not pushed into it): by the vintages' key, not every QPV figure of the indicators (1.0 s to 0.5 s
    for the 2025 edition on the demo's warehouse)."""
    from etl.publication import veille

    parameters = {"annee": 2025, "annees": [2025, 2024], "codes": ["CAF_RSA"], "ventilations": ["total"],
                  "mensuels": [False], "sources": ["caf_allocataires"], "qpv_veille": ["QP075001"]}  # fmt: skip
    with isolated.engine.connect() as conn, conn.begin() as transaction:
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            row[0]
            for row in conn.execute(sa.text("EXPLAIN " + veille.VEILLE_SQL.read_text(encoding="utf-8")), parameters)
        )
        transaction.rollback()
    reads = [part for part in plan.split("->") if "indicator_value_vintage_pkey" in part and "'qpv'" in part]
    assert len(reads) == 1, plan
    assert "territory_code = ANY ('{QP075001}'" in reads[0], plan
