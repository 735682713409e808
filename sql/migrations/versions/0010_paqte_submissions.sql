-- The PAQTE semestrial report of each département (seed 003 annex 2): see etl/submissions/paqte*.py.
-- Same life as the regional workbooks: every file archived with a verdict (audit.submission_verdict, which now
-- also says which département and semester), an accepted report replaces the département's report for the
-- semester, the earlier one stays queryable.

ALTER TABLE audit.submission_verdict ADD COLUMN departement_code text, ADD COLUMN semester text;
CREATE INDEX submission_verdict_semester_idx ON audit.submission_verdict (semester, departement_code);

-- The regional completeness reads the regional verdicts only (PAQTE verdicts have no région nor campaign).
CREATE OR REPLACE VIEW core.regional_submission_status AS
WITH latest AS (
    SELECT DISTINCT ON (v.region_code, v.campaign) v.region_code, v.campaign, v.batch_id, v.verdict, v.errors,
           v.warnings, v.original_name, b.received_at
    FROM audit.submission_verdict v JOIN audit.batch b USING (batch_id)
    WHERE v.source_id = 'regional' AND v.region_code IS NOT NULL AND v.campaign IS NOT NULL
    ORDER BY v.region_code, v.campaign, b.received_at DESC, v.batch_id DESC
), campaigns AS (
    SELECT year AS campaign FROM core.period WHERE kind = 'year'
)
SELECT r.code AS region_code, r.nom AS region_name, c.campaign, make_date(c.campaign + 1, 4, 30) AS deadline,
       CASE WHEN s.batch_id IS NOT NULL THEN 'acceptée' WHEN l.batch_id IS NOT NULL THEN 'rejetée'
            ELSE 'non reçue' END AS state,
       s.batch_id AS accepted_batch_id, s.version AS accepted_version, s.accepted_at,
       s.template_version AS accepted_template_version,
       l.batch_id AS latest_batch_id, l.verdict AS latest_verdict, l.errors AS latest_errors,
       l.warnings AS latest_warnings, l.original_name AS latest_file, l.received_at AS latest_received_at
FROM core.region r
CROSS JOIN campaigns c
LEFT JOIN latest l ON l.region_code = r.code AND l.campaign = c.campaign
LEFT JOIN core.regional_submission s
       ON s.region_code = r.code AND s.campaign = c.campaign AND s.superseded_by IS NULL;

CREATE TABLE raw.paqte_submission_cell (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    sheet text, cell text, field text, raw_value text
);
COMMENT ON TABLE raw.paqte_submission_cell IS 'Every filled input cell of an accepted PAQTE report, as typed.';

CREATE TABLE staging.paqte_submission_value (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    departement_code text NOT NULL, semester text NOT NULL, template_version text NOT NULL,
    sheet text NOT NULL, cell text NOT NULL, field text NOT NULL, row_no int,
    raw_value text, value numeric, text text, status text NOT NULL
);
CREATE INDEX staging_paqte_submission_value_batch_idx ON staging.paqte_submission_value (batch_id);

CREATE TABLE core.paqte_submission (
    batch_id         bigint      PRIMARY KEY REFERENCES audit.batch (batch_id),
    departement_code text        NOT NULL REFERENCES core.departement (code) DEFERRABLE INITIALLY DEFERRED,
    semester         text        NOT NULL REFERENCES core.period (code) DEFERRABLE INITIALLY DEFERRED,
    template_version text        NOT NULL,
    version          int         NOT NULL,
    accepted_at      timestamptz NOT NULL,
    superseded_by    bigint      REFERENCES audit.batch (batch_id),
    UNIQUE (departement_code, semester, version)
);
CREATE UNIQUE INDEX paqte_submission_current_idx ON core.paqte_submission (departement_code, semester)
    WHERE superseded_by IS NULL;
COMMENT ON TABLE core.paqte_submission IS 'Every accepted PAQTE report; superseded_by names the later report of the same département and semester.';

CREATE TABLE core.paqte_submission_value (
    batch_id  bigint NOT NULL REFERENCES core.paqte_submission (batch_id),
    line_no   int    NOT NULL,
    sheet     text   NOT NULL,
    cell      text   NOT NULL,
    field     text   NOT NULL,
    row_no    int,
    raw_value text,
    value     numeric,
    text      text,
    status    text   NOT NULL CHECK (status IN ('ok', 'missing')),
    PRIMARY KEY (batch_id, line_no)
);
COMMENT ON TABLE core.paqte_submission_value IS 'The cells of every accepted PAQTE report, one row per cell (field = what it is: referent_nom, entreprise.siren, resultat.<code>, ...; row_no = the table row for companies and examples); text verbatim.';

-- Completeness per département and semester (from the first PAQTE semester, 2018-S2). The letter asks for a report
-- "tous les six mois" without a date: we take the end of the month after the semester (31 July, 31 January).
CREATE VIEW core.paqte_submission_status AS
WITH latest AS (
    SELECT DISTINCT ON (v.departement_code, v.semester) v.departement_code, v.semester, v.batch_id, v.verdict,
           v.errors, v.warnings, v.original_name, b.received_at
    FROM audit.submission_verdict v JOIN audit.batch b USING (batch_id)
    WHERE v.source_id = 'paqte' AND v.departement_code IS NOT NULL AND v.semester IS NOT NULL
    ORDER BY v.departement_code, v.semester, b.received_at DESC, v.batch_id DESC
), semesters AS (
    SELECT code AS semester, end_date FROM core.period WHERE kind = 'semester' AND code >= '2018-S2'
)
SELECT d.code AS departement_code, d.nom AS departement_name, d.region_code, s.semester,
       (date_trunc('month', s.end_date) + interval '2 months' - interval '1 day')::date AS deadline,
       CASE WHEN p.batch_id IS NOT NULL THEN 'acceptée' WHEN l.batch_id IS NOT NULL THEN 'rejetée'
            ELSE 'non reçue' END AS state,
       p.batch_id AS accepted_batch_id, p.version AS accepted_version, p.accepted_at,
       p.template_version AS accepted_template_version,
       l.batch_id AS latest_batch_id, l.verdict AS latest_verdict, l.errors AS latest_errors,
       l.warnings AS latest_warnings, l.original_name AS latest_file, l.received_at AS latest_received_at
FROM core.departement d
CROSS JOIN semesters s
LEFT JOIN latest l ON l.departement_code = d.code AND l.semester = s.semester
LEFT JOIN core.paqte_submission p
       ON p.departement_code = d.code AND p.semester = s.semester AND p.superseded_by IS NULL;
COMMENT ON VIEW core.paqte_submission_status IS 'Per département and PAQTE semester: acceptée / rejetée / non reçue, the deadline, the latest file.';
