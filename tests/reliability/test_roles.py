"""Least privilege, proven by logging in as each role of migration 0020 (and 0011's bi_reader).

One warehouse for the module (reference data, periods) holds, loaded through the real intake as the owner: the
annual workbooks of régions 84 and 11 (one rejected file of région 84 too) and the PAQTE reports of the Rhône (69,
région 84) and of Paris (75, région 11). Each test then connects with a libpq URL naming the role (no SET ROLE: the
LOGIN itself is part of what is proven) and checks what it may and may not do; every write made to probe a right
is rolled back. `etl_writer` also runs a real load (a third région's workbook) through the platform's own intake.
"""

from __future__ import annotations

import csv
import io
import warnings
from contextlib import contextmanager

import psycopg2
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from etl.config import PROJECT_ROOT
from etl.samples.generators import paqte as paqte_gen
from etl.samples.generators import submissions as gen
from etl.submissions import intake

pytestmark = pytest.mark.warehouse

CAMPAIGN = 2024
SEMESTER = "2024-S1"
SCHEMAS = ("raw", "staging", "core", "audit", "publication")
WRITES = ("SELECT", "INSERT", "UPDATE", "DELETE")
# what a région role may read (and, except the verdicts, submit), its own région's rows only
REGION_TABLES = {
    "raw.regional_submission_cell",
    "staging.regional_submission_value",
    "core.regional_submission",
    "core.regional_submission_value",
    "raw.paqte_submission_cell",
    "staging.paqte_submission_value",
    "core.paqte_submission",
    "core.paqte_submission_value",
    "audit.submission_verdict",
}
REFERENCE_TABLES = {"core.region", "core.departement", "core.indicator"}
# each RLS table's rows of one région, as the owner computes them (:r = the région code)
OWN_ROWS = {
    "core.regional_submission": "region_code = :r",
    "core.regional_submission_value": "region_code = :r",
    "staging.regional_submission_value": "region_code = :r",
    "raw.regional_submission_cell": "batch_id IN (SELECT batch_id FROM core.regional_submission "
    "WHERE region_code = :r)",
    "core.paqte_submission": "departement_code IN (SELECT code FROM core.departement WHERE region_code = :r)",
    "staging.paqte_submission_value": "departement_code IN (SELECT code FROM core.departement WHERE region_code = :r)",
    "core.paqte_submission_value": "batch_id IN (SELECT p.batch_id FROM core.paqte_submission p "
    "JOIN core.departement d ON d.code = p.departement_code WHERE d.region_code = :r)",
    "raw.paqte_submission_cell": "batch_id IN (SELECT p.batch_id FROM core.paqte_submission p "
    "JOIN core.departement d ON d.code = p.departement_code WHERE d.region_code = :r)",
    "audit.submission_verdict": "coalesce(region_code, (SELECT region_code FROM core.departement "
    "WHERE code = departement_code)) = :r",
}


def _as(url: str, role: str) -> str:
    """The same database, logged in as `role` (no password: the test servers trust local connections)."""
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def wh(reference_warehouse):
    """The module's warehouse with two régions' workbooks and PAQTE reports loaded by the owner."""
    home = reference_warehouse.home
    regional = home.folder("inbox") / intake.SOURCE_ID
    paqte = home.folder("inbox") / intake.PAQTE_SOURCE_ID
    for folder in (regional, paqte):
        folder.mkdir(parents=True, exist_ok=True)
    for region, seed in (("84", 1), ("11", 2)):
        (regional / gen.submission_file_name(region, CAMPAIGN)).write_bytes(
            gen.filled_workbook(region, CAMPAIGN, seed=seed).content
        )
    rejected = gen.filled_workbook("84", CAMPAIGN, seed=3, mistakes=["part_superieure_100"])
    (regional / gen.submission_file_name("84", CAMPAIGN, "faux")).write_bytes(rejected.content)
    for departement in ("69", "75"):
        (paqte / paqte_gen.paqte_file_name(departement, SEMESTER)).write_bytes(
            paqte_gen.filled_paqte(departement, SEMESTER, seed=1).content
        )
    verdicts = [o.verdict.accepted for o in intake.intake(reference_warehouse.engine, home=home).outcomes]
    assert sorted(verdicts) == [False, True, True]
    report = intake.intake(reference_warehouse.engine, intake.PAQTE_SOURCE_ID, home=home)
    assert [o.verdict.accepted for o in report.outcomes] == [True, True]
    with reference_warehouse.engine.begin() as conn:  # an edition, so that bi_reader has a row to read
        conn.execute(
            sa.text(
                "INSERT INTO publication.edition (edition_id, kind, period_code, released_at, inputs_digest, folder, "
                "manifest) VALUES ('annuelle-2024-test', 'annuelle', '2024', now(), 'x', '/nowhere', '{}')"
            )
        )
    return reference_warehouse


@contextmanager
def _login(wh, role: str):
    """A psycopg2 connection logged in as `role`; whatever it wrote is rolled back."""
    conn = psycopg2.connect(_as(wh.url, role))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user, session_user")
            assert cur.fetchone() == (role, role)
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _one(conn, sql: str, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def _run(conn, sql: str, params=None) -> int:
    """Execute a statement that must be allowed; returns its row count (the transaction stays open)."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def _denied(conn, sql: str, params=None, reason: str = "permission denied") -> str:
    """Execute a statement that must be refused for lack of privilege (SQLSTATE 42501); returns the message."""
    with conn.cursor() as cur, pytest.raises(psycopg2.Error) as err:
        cur.execute(sql, params)
    conn.rollback()
    message = str(err.value).splitlines()[0]
    assert err.value.pgcode == "42501", f"{sql!r} failed otherwise: {message}"
    assert reason in message, message
    return message


def _owner(wh, sql: str, **params):
    with wh.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def _relations(wh, *schemas: str, kinds: str = "rvpm") -> list[str]:
    return [
        name
        for (name,) in _owner(
            wh,
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY(:s) AND c.relkind = ANY(:k) ORDER BY 1",
            s=list(schemas),
            k=list(kinds),
        )
    ]


def _batch(wh, table: str, where: str) -> int:
    return _owner(wh, f"SELECT batch_id FROM {table} WHERE {where} AND superseded_by IS NULL")[0][0]


# --- the roles themselves --------------------------------------------------------------------------------------------


def test_each_role_exists_with_no_more_than_it_needs(wh):
    codes = [row["code"] for row in csv.DictReader((PROJECT_ROOT / "catalogue" / "regions.csv").open(), delimiter=";")]
    assert len(codes) == 18
    regions = [f"region_{code}" for code in codes]
    roles = {
        name: (login, attributes)
        for name, login, *attributes in _owner(
            wh,
            "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication "
            "FROM pg_roles WHERE rolname = ANY(:n)",
            n=["etl_writer", "bi_reader", "region_submitter", *regions],
        )
    }
    assert set(roles) == {"etl_writer", "bi_reader", "region_submitter", *regions}
    # etl_writer bypasses row-level security (it loads every région's rows, and COPY refuses a table whose policies
    # apply to the caller); nobody is superuser, creates databases or roles, or replicates
    assert {name: attributes for name, (_, attributes) in roles.items() if attributes != [False] * 5} == {
        "etl_writer": [False, False, False, True, False]
    }
    assert {name for name, (login, _) in roles.items() if not login} == {"region_submitter"}
    members = {
        name
        for (name,) in _owner(
            wh,
            "SELECT r.rolname FROM pg_roles r WHERE pg_has_role(r.oid, 'region_submitter', 'USAGE') AND NOT r.rolsuper",
        )
    }
    assert members == {"region_submitter", *regions}
    owned = _owner(
        wh,
        "SELECT count(*) FROM pg_class WHERE relowner = 'etl_writer'::regrole UNION ALL "
        "SELECT count(*) FROM pg_namespace WHERE nspowner = 'etl_writer'::regrole UNION ALL "
        "SELECT count(*) FROM pg_proc WHERE proowner = 'etl_writer'::regrole",
    )
    assert owned == [(0,), (0,), (0,)]  # etl_writer owns nothing, so it can alter or drop nothing
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        psycopg2.connect(_as(wh.url, "region_submitter")).close()


# --- bi_reader -------------------------------------------------------------------------------------------------------


def test_bi_reader_reads_publication_and_nothing_else(wh):
    published = _relations(wh, "publication")
    assert "publication.edition" in published and "publication.bilan_conventions_courant" in published
    hidden = _relations(wh, "raw", "staging", "core", "audit")
    with _login(wh, "bi_reader") as conn:
        for relation in published:
            _run(conn, f"SELECT count(*) FROM {relation}")
        assert _one(conn, "SELECT edition_id FROM publication.edition") == "annuelle-2024-test"
        for relation in hidden:
            _denied(conn, f"SELECT 1 FROM {relation} LIMIT 1", reason="permission denied for schema")
        _denied(conn, "INSERT INTO publication.edition SELECT * FROM publication.edition")
        _denied(conn, "UPDATE publication.edition SET folder = 'x'")
        _denied(conn, "DELETE FROM publication.edition")
        _denied(conn, "CREATE TABLE publication.bi_probe (x int)")
        _denied(conn, "CREATE TABLE public.bi_probe (x int)")


# --- etl_writer ------------------------------------------------------------------------------------------------------


def test_etl_writer_has_row_rights_on_every_table_and_nothing_more(wh):
    rows = _owner(
        wh,
        "SELECT n.nspname || '.' || c.relname, "
        + " AND ".join(f"has_table_privilege('etl_writer', c.oid, '{right}')" for right in WRITES)
        + ", has_table_privilege('etl_writer', c.oid, 'TRUNCATE, REFERENCES, TRIGGER') "  # a list means any of them
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY(:s) AND c.relkind IN ('r', 'p')",
        s=list(SCHEMAS),
    )
    assert len(rows) > 60
    assert [name for name, writes, _ in rows if not writes] == ["audit.alembic_version"]
    assert [name for name, _, more in rows if more] == []
    schemas = _owner(
        wh,
        "SELECT nspname, has_schema_privilege('etl_writer', oid, 'USAGE'), has_schema_privilege('etl_writer', oid, "
        "'CREATE') FROM pg_namespace WHERE nspname = ANY(:s) ORDER BY 1",
        s=[*SCHEMAS, "public"],
    )
    assert schemas == sorted((s, True, False) for s in [*SCHEMAS, "public"])  # public: USAGE to PUBLIC, no CREATE
    # from PostgreSQL 17, MAINTAIN lets the load ANALYZE the staging tables it filled (before, that is skipped)
    if int(_owner(wh, "SELECT current_setting('server_version_num')")[0][0]) >= 170000:
        unmaintained = _owner(
            wh,
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY(:s) AND c.relkind = 'r' "
            "AND NOT has_table_privilege('etl_writer', c.oid, 'MAINTAIN')",
            s=list(SCHEMAS),
        )
        assert unmaintained == []


def test_etl_writer_writes_rows_in_every_layer(wh):
    batch = _batch(wh, "core.regional_submission", "region_code = '84'")
    with _login(wh, "etl_writer") as conn:
        assert _run(conn, "INSERT INTO raw.regional_submission_cell (batch_id, line_no) VALUES (%s, 99001)", (batch,))
        buffer = io.StringIO(f"{batch},99002,Indicateurs,A1\n")
        with conn.cursor() as cur:
            cur.copy_expert(
                "COPY raw.regional_submission_cell (batch_id, line_no, sheet, cell) FROM STDIN (FORMAT csv)", buffer
            )
        assert (
            _run(conn, "UPDATE staging.regional_submission_value SET observations = 'x' WHERE region_code = '11'") > 0
        )
        assert _run(conn, "DELETE FROM core.regional_submission_value WHERE region_code = '84'") > 0
        assert _run(conn, "UPDATE core.region SET nom = nom WHERE code = '84'") == 1
        assert (
            _run(
                conn,
                "INSERT INTO audit.heartbeat_log (dag_id, run_id, schema_version, server_version) "
                "VALUES ('t', 't', '0', '0')",
            )
            == 1
        )
        assert _run(conn, "DELETE FROM publication.edition WHERE edition_id = 'annuelle-2024-test'") == 1
        # row-level security lets the loader see and write every région's rows
        assert _one(
            conn, "SELECT array_agg(DISTINCT region_code ORDER BY region_code) FROM core.regional_submission"
        ) == [
            "11",
            "84",
        ]
        assert _one(conn, "SELECT count(*) FROM raw.regional_submission_cell WHERE line_no > 99000") == 2


def test_etl_writer_cannot_change_the_schema(wh):
    with _login(wh, "etl_writer") as conn:
        for schema in ("public", *SCHEMAS):
            _denied(conn, f"CREATE TABLE {schema}.etl_probe (x int)", reason="permission denied for schema")
        _denied(conn, "CREATE VIEW core.etl_probe AS SELECT 1", reason="permission denied for schema")
        _denied(conn, "CREATE SCHEMA etl_probe", reason="permission denied for database")
        _denied(conn, "DROP TABLE raw.regional_submission_cell", reason="must be owner")
        _denied(conn, "ALTER TABLE core.region ADD COLUMN probe int", reason="must be owner")
        _denied(conn, "ALTER TABLE core.regional_submission DISABLE ROW LEVEL SECURITY", reason="must be owner")
        _denied(conn, "CREATE INDEX etl_probe ON staging.regional_submission_value (cell)", reason="must be owner")
        _denied(conn, "TRUNCATE audit.batch")
        _denied(conn, "UPDATE audit.alembic_version SET version_num = '9999'")
        from etl.warehouse.migrations import head

        assert _one(conn, "SELECT version_num FROM audit.alembic_version") == head()  # unchanged by the update
    # nor run the migrations: they are the owner's
    from etl import warehouse
    from etl.errors import ObservatoireError
    from etl.warehouse import migrations

    engine = warehouse.engine(_as(wh.url, "etl_writer"))
    try:
        with pytest.raises(ObservatoireError, match="permission denied"):
            migrations.migrate(engine)
    finally:
        engine.dispose()


def test_tables_of_later_migrations_are_granted_to_etl_writer_by_default(wh):
    with wh.engine.begin() as conn:  # the owner, as a later migration would
        conn.execute(sa.text("CREATE TABLE core.roles_probe (id bigint GENERATED ALWAYS AS IDENTITY, x int)"))
    try:
        with _login(wh, "etl_writer") as conn:
            assert _run(conn, "INSERT INTO core.roles_probe (x) VALUES (1)") == 1
            assert _run(conn, "UPDATE core.roles_probe SET x = 2") == 1
            assert _run(conn, "DELETE FROM core.roles_probe") == 1
            _denied(conn, "DROP TABLE core.roles_probe", reason="must be owner")
        with _login(wh, "region_84") as conn:  # région roles get no default grant
            _denied(conn, "SELECT * FROM core.roles_probe")
    finally:
        with wh.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE core.roles_probe"))


def test_etl_writer_runs_a_real_load(wh):
    """The platform's intake (landing, gates, verdict, replace_partition with its ANALYZE, the core SQL) logged in as
    etl_writer. Before PostgreSQL 17 a non-owner's ANALYZE is skipped with a warning; from 17 MAINTAIN allows it."""
    from etl import warehouse

    engine = warehouse.engine(_as(wh.url, "etl_writer"))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_user")).scalar() == "etl_writer"
        inbox = wh.home.folder("inbox") / intake.SOURCE_ID
        (inbox / gen.submission_file_name("53", CAMPAIGN)).write_bytes(
            gen.filled_workbook("53", CAMPAIGN, seed=4).content
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = intake.intake(engine, home=wh.home, run_id="etl_writer")
        assert [(o.verdict.accepted, o.partition) for o in report.outcomes] == [(True, f"53/{CAMPAIGN}")]
        batch = report.outcomes[0].batch_id
    finally:
        engine.dispose()
    assert _owner(wh, "SELECT region_code, version FROM core.regional_submission WHERE batch_id = :b", b=batch) == [
        ("53", 1)
    ]
    assert _owner(wh, "SELECT status FROM audit.batch WHERE batch_id = :b", b=batch) == [("loaded",)]
    counts = _owner(
        wh,
        "SELECT (SELECT count(*) FROM staging.regional_submission_value WHERE batch_id = :b), "
        "(SELECT count(*) FROM core.indicator_value_vintage WHERE batch_id = :b)",
        b=batch,
    )[0]
    assert counts[0] > 0 and counts[1] == counts[0]


# --- région roles ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["84", "11"])
def test_a_region_reads_only_its_own_rows(wh, region):
    expected = {}
    for table, own in OWN_ROWS.items():
        mine, total = _owner(wh, f"SELECT count(*) FILTER (WHERE {own}), count(*) FROM {table}", r=region)[0]
        assert 0 < mine < total, (table, mine, total)  # both régions have rows: the filter has something to hide
        expected[table] = mine
    with _login(wh, f"region_{region}") as conn:
        assert _one(conn, "SELECT core.submitter_regions()") == [region]
        seen = {table: _one(conn, f"SELECT count(*) FROM {table}") for table in OWN_ROWS}
        assert seen == expected
        assert _one(conn, "SELECT array_agg(DISTINCT region_code) FROM core.regional_submission_value") == [region]
        assert (
            _one(conn, "SELECT count(*) FROM staging.regional_submission_value WHERE region_code <> %s", (region,)) == 0
        )
        other = "75" if region == "84" else "69"
        assert _one(conn, "SELECT count(*) FROM core.paqte_submission WHERE departement_code = %s", (other,)) == 0
        # the verdicts of the région's files, rejected ones included
        verdicts = _one(
            conn,
            "SELECT array_agg(verdict ORDER BY verdict) FROM audit.submission_verdict WHERE source_id = 'regional'",
        )
        assert verdicts == (["acceptée", "rejetée"] if region == "84" else ["acceptée"])


def test_set_role_to_a_region_applies_the_same_policies(wh):
    """The owner's (superuser's) session switched to region_11 is held to région 11's rows too."""
    with wh.engine.connect() as conn:
        conn.execute(sa.text("SET ROLE region_11"))
        regions = conn.execute(sa.text("SELECT array_agg(DISTINCT region_code) FROM core.regional_submission")).scalar()
        conn.execute(sa.text("RESET ROLE"))
        conn.rollback()
    assert regions == ["11"]


def test_a_region_submits_only_for_itself(wh):
    own = _batch(wh, "core.regional_submission", "region_code = '84'")
    other = _batch(wh, "core.regional_submission", "region_code = '11'")
    own_paqte = _batch(wh, "core.paqte_submission", "departement_code = '69'")
    other_paqte = _batch(wh, "core.paqte_submission", "departement_code = '75'")
    staging = (
        "INSERT INTO staging.regional_submission_value (batch_id, line_no, region_code, campaign, template_version, "
        "indicator_code, territory_level, territory_code, sheet, cell, status) "
        "VALUES (%s, 99001, %s, 2024, '1', 'IND07', 'region', %s, 'Indicateurs', 'C2', 'missing')"
    )
    value = (
        "INSERT INTO core.regional_submission_value (batch_id, line_no, region_code, campaign, indicator_code, "
        "territory_level, territory_code, sheet, cell, status) "
        "VALUES (%s, 99001, %s, 2024, 'IND07', 'region', %s, 'Indicateurs', 'C2', 'missing')"
    )
    paqte = (
        "INSERT INTO staging.paqte_submission_value (batch_id, line_no, departement_code, semester, template_version, "
        "sheet, cell, field, status) VALUES (%s, 99001, %s, '2024-S1', 'paqte.1', 'Bilan', 'B2', 'probe', 'missing')"
    )
    rls = "new row violates row-level security policy"
    with _login(wh, "region_84") as conn:
        assert _run(conn, staging, (own, "84", "84")) == 1
        assert _run(conn, value, (own, "84", "84")) == 1
        assert (
            _run(conn, "INSERT INTO raw.regional_submission_cell (batch_id, line_no) VALUES (%s, 99001)", (own,)) == 1
        )
        assert _run(conn, paqte, (own_paqte, "69")) == 1
        assert (
            _run(conn, "INSERT INTO raw.paqte_submission_cell (batch_id, line_no) VALUES (%s, 99001)", (own_paqte,))
            == 1
        )
        conn.rollback()
        _denied(conn, staging, (other, "11", "11"), reason=rls)
        _denied(conn, value, (other, "11", "11"), reason=rls)
        _denied(conn, value, (other, "84", "84"), reason=rls)  # its own code on another région's submission
        _denied(
            conn,
            "INSERT INTO raw.regional_submission_cell (batch_id, line_no) VALUES (%s, 99001)",
            (other,),
            reason=rls,
        )
        _denied(conn, paqte, (other_paqte, "75"), reason=rls)
        _denied(
            conn,
            "INSERT INTO raw.paqte_submission_cell (batch_id, line_no) VALUES (%s, 99001)",
            (other_paqte,),
            reason=rls,
        )
        _denied(
            conn,
            "INSERT INTO core.regional_submission (batch_id, region_code, campaign, template_version, version, "
            "accepted_at) VALUES (%s, '11', 2024, '1', 9, now())",
            (other,),
            reason=rls,
        )


def test_a_region_changes_nothing_and_reads_nothing_else(wh):
    allowed = REGION_TABLES | REFERENCE_TABLES
    others = [r for r in _relations(wh, *SCHEMAS) if r not in allowed]
    assert "audit.file_registry" in others and "core.regional_submission_status" in others
    with _login(wh, "region_84") as conn:
        for relation in others:
            _denied(conn, f"SELECT 1 FROM {relation} LIMIT 1")
        assert _one(conn, "SELECT count(*) FROM core.region") == 18  # reference data, whole
        _denied(conn, "UPDATE core.regional_submission SET version = version")
        _denied(conn, "DELETE FROM staging.regional_submission_value")
        _denied(conn, "INSERT INTO audit.submission_verdict SELECT * FROM audit.submission_verdict")
        _denied(conn, "UPDATE core.region SET nom = nom")
        _denied(conn, "CREATE TABLE core.region_probe (x int)", reason="permission denied for schema")
        _denied(conn, "ALTER TABLE core.regional_submission DISABLE ROW LEVEL SECURITY", reason="must be owner")
