-- Least privilege. Three kinds of login, besides the owner that runs these migrations (and the
-- platform's own loads, `make demo`: it owns every table, so row-level security does not apply to it):
--   bi_reader         (0011) reads publication, nothing else;
--   etl_writer        loads: reads and writes the rows of raw, staging, core, audit, publication (every région's:
--                     BYPASSRLS); no DDL (no CREATE on any schema, owns nothing, so it can neither create, alter nor
--                     drop a table): the schema changes only through these migrations, run by the owner;
--   region_<code>     one per région (the 18 INSEE codes of catalogue/regions.csv, as core.region.code), members of the
--                     group role region_submitter which holds the grants: each reads and submits (SELECT, INSERT) only
--                     its own région's rows of the regional and PAQTE submission tables, enforced by row-level security.
-- Roles are cluster-wide and outlive a database (the tests make many databases on one server): they are created when
-- missing, and every grant below is per database. Logins have no password: a server that authenticates by password
-- refuses them until an administrator gives one (ALTER ROLE etl_writer PASSWORD '...'), so no secret lives here.

DO $$
DECLARE
    code text;
    member text;
BEGIN
    -- A concurrent migration of another database on the same server may create a role (or a membership) between
    -- the check and the statement: its duplicate is harmless. Comments are written by whoever creates the role.
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'etl_writer') THEN
        BEGIN
            CREATE ROLE etl_writer LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE;
            COMMENT ON ROLE etl_writer IS 'Loads: SELECT, INSERT, UPDATE, DELETE on the rows of raw, staging, core, audit, publication; no DDL (the migrations, run by the owner, change the schema).';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    -- The loader reads and writes every région's rows, and COPY (the load's bulk path) refuses a table whose
    -- row-level security applies to the caller: etl_writer bypasses it. Only a superuser may grant that; a migration
    -- run by a non-superuser owner leaves it to the administrator (the etl_writer_all policies below still let its
    -- INSERT, UPDATE, DELETE through, not its COPY into the submission tables).
    IF NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = 'etl_writer') THEN
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            ALTER ROLE etl_writer BYPASSRLS;
        ELSE
            RAISE WARNING 'etl_writer needs BYPASSRLS to COPY into the submission tables: ALTER ROLE etl_writer BYPASSRLS as a superuser';
        END IF;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'region_submitter') THEN
        BEGIN
            CREATE ROLE region_submitter NOLOGIN NOINHERIT;
            COMMENT ON ROLE region_submitter IS 'Group of the région roles (region_<code>): SELECT and INSERT on the regional and PAQTE submission tables, rows of the member''s own région only (row-level security).';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    FOREACH code IN ARRAY ARRAY['01', '02', '03', '04', '06', '11', '24', '27', '28', '32', '44', '52', '53', '75', '76',
                                '84', '93', '94'] LOOP
        member := 'region_' || code;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = member) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', member);
                EXECUTE format('COMMENT ON ROLE %I IS %L', member,
                               'Région ' || code || ': reads and submits only its own rows of the submission tables '
                               || '(row-level security, see region_submitter).');
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END;
        END IF;
        IF NOT pg_has_role(member, 'region_submitter', 'MEMBER') THEN
            BEGIN
                EXECUTE format('GRANT region_submitter TO %I', member);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END;
        END IF;
    END LOOP;
END
$$;

-- Nobody but the owner creates objects in public (the default since PostgreSQL 15, explicit for databases made from
-- an older template).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- etl_writer ----------------------------------------------------------------------------------------------------------
REVOKE CREATE ON SCHEMA public, raw, staging, core, audit, publication FROM etl_writer;
GRANT USAGE ON SCHEMA raw, staging, core, audit, publication TO etl_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA raw, staging, core, audit, publication TO etl_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA raw, staging, core, audit, publication TO etl_writer;
-- tables and sequences the owner creates in later migrations get the same grants
ALTER DEFAULT PRIVILEGES IN SCHEMA raw, staging, core, audit, publication
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO etl_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA raw, staging, core, audit, publication
    GRANT USAGE, SELECT ON SEQUENCES TO etl_writer;
-- the applied version is the migrations' business: readable (an up-to-date `migrate` only reads it), not writable
REVOKE INSERT, UPDATE, DELETE ON audit.alembic_version FROM etl_writer;
-- The load analyses the staging tables it just filled (etl/loading.py) and maintenance vacuums what changed: from
-- PostgreSQL 17 the MAINTAIN privilege allows that to a non-owner (VACUUM, ANALYZE, REINDEX, CLUSTER, LOCK: no change
-- of the schema). Before 17 only the owner may, and a non-owner's ANALYZE is skipped with a warning.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 170000 THEN
        EXECUTE 'GRANT MAINTAIN ON ALL TABLES IN SCHEMA raw, staging, core, audit, publication TO etl_writer';
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA raw, staging, core, audit, publication '
                'GRANT MAINTAIN ON TABLES TO etl_writer';
    END IF;
END
$$;

-- région roles ----------------------------------------------------------------------------------------------------------
-- The régions of the current role: region_84 (or a login granted region_84) gets {84}. Read from the role names, so
-- it needs no table; not SECURITY DEFINER (that would make current_user the function's owner).
CREATE FUNCTION core.submitter_regions() RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(array_agg(substr(rolname, 8) ORDER BY rolname), '{}')
    FROM pg_roles
    WHERE rolname ~ '^region_[0-9]{2}$' AND pg_has_role(current_user, oid, 'USAGE')
$$;
COMMENT ON FUNCTION core.submitter_regions() IS 'The région codes of the current role (region_<code> roles it is or uses): what the row-level security policies of the submission tables let it read and submit.';

REVOKE CREATE ON SCHEMA public, raw, staging, core, audit, publication FROM region_submitter;
GRANT USAGE ON SCHEMA raw, staging, core, audit TO region_submitter;
-- what filling a submission needs to know: the territories and the indicators
GRANT SELECT ON core.region, core.departement, core.indicator TO region_submitter;
-- the submissions themselves: read and add, never change nor delete (a correction is a new version)
GRANT SELECT, INSERT ON raw.regional_submission_cell, staging.regional_submission_value, core.regional_submission,
    core.regional_submission_value, raw.paqte_submission_cell, staging.paqte_submission_value, core.paqte_submission,
    core.paqte_submission_value TO region_submitter;
-- the verdicts on the région's own files (what was rejected and why), read only
GRANT SELECT ON audit.submission_verdict TO region_submitter;

-- Row-level security: ENABLE (not FORCE), so the owner (migrations, the platform's loads, the publication) is not
-- affected. With it on, a role without a policy sees no row: etl_writer bypasses it (and, where it could not be given
-- BYPASSRLS, has a policy that lets every row through), the région roles have one per table that keeps their own
-- région's rows, bi_reader has no grant here at all.
-- A row's région: region_code where the table has it; the département's région for PAQTE rows; for rows that only
-- carry a batch_id, the région of that batch's submission header (core.regional_submission / core.paqte_submission,
-- itself filtered by its policy, so a région can only hang rows on its own submissions).
DO $$
DECLARE
    own_region   constant text := 'region_code IN (SELECT unnest(core.submitter_regions()))';
    own_dept     constant text := 'departement_code IN (SELECT d.code FROM core.departement d '
                                  'WHERE d.region_code IN (SELECT unnest(core.submitter_regions())))';
    own_regional constant text := 'batch_id IN (SELECT s.batch_id FROM core.regional_submission s)';
    own_paqte    constant text := 'batch_id IN (SELECT s.batch_id FROM core.paqte_submission s)';
    rule record;
BEGIN
    FOR rule IN
        SELECT * FROM (VALUES
            ('core.regional_submission', own_region, own_region),
            ('core.regional_submission_value', own_region, own_region || ' AND ' || own_regional),
            ('staging.regional_submission_value', own_region, own_region),
            ('raw.regional_submission_cell', own_regional, own_regional),
            ('core.paqte_submission', own_dept, own_dept),
            ('core.paqte_submission_value', own_paqte, own_paqte),
            ('staging.paqte_submission_value', own_dept, own_dept),
            ('raw.paqte_submission_cell', own_paqte, own_paqte),
            ('audit.submission_verdict',
             '(source_id = ''regional'' AND ' || own_region || ') OR (source_id = ''paqte'' AND ' || own_dept || ')',
             NULL)
        ) AS t (tbl, read_rule, insert_rule)
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', rule.tbl);
        EXECUTE format('CREATE POLICY etl_writer_all ON %s FOR ALL TO etl_writer USING (true) WITH CHECK (true)',
                       rule.tbl);
        EXECUTE format('CREATE POLICY region_read ON %s FOR SELECT TO region_submitter USING (%s)',
                       rule.tbl, rule.read_rule);
        IF rule.insert_rule IS NOT NULL THEN
            EXECUTE format('CREATE POLICY region_submit ON %s FOR INSERT TO region_submitter WITH CHECK (%s)',
                           rule.tbl, rule.insert_rule);
        END IF;
    END LOOP;
END
$$;
