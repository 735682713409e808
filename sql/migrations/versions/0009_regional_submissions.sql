-- The annual workbooks of the 18 régions: see etl/submissions/. Every file is archived and has a
-- verdict; an accepted one replaces its région's submission for the campaign, the earlier one stays queryable.

CREATE TABLE raw.regional_submission_cell (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    sheet text, cell text, indicator_code text, territory_code text, raw_value text, formula text, observations text
);
COMMENT ON TABLE raw.regional_submission_cell IS 'Every input cell of an accepted workbook as typed (value as text, formula if any, observations verbatim).';

CREATE TABLE staging.regional_submission_value (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    region_code text NOT NULL, campaign int NOT NULL, template_version text NOT NULL,
    indicator_code text NOT NULL, territory_level text NOT NULL, territory_code text NOT NULL,
    sheet text NOT NULL, cell text NOT NULL, raw_value text, value numeric, status text NOT NULL, observations text
);
CREATE INDEX staging_regional_submission_value_batch_idx ON staging.regional_submission_value (batch_id);

CREATE TABLE core.regional_submission (
    batch_id         bigint      PRIMARY KEY REFERENCES audit.batch (batch_id),
    region_code      text        NOT NULL REFERENCES core.region (code) DEFERRABLE INITIALLY DEFERRED,
    campaign         int         NOT NULL,
    template_version text        NOT NULL,
    version          int         NOT NULL,  -- 1 for the région's first accepted file of the campaign, 2 for the next...
    accepted_at      timestamptz NOT NULL,
    superseded_by    bigint      REFERENCES audit.batch (batch_id),
    UNIQUE (region_code, campaign, version)
);
CREATE UNIQUE INDEX regional_submission_current_idx ON core.regional_submission (region_code, campaign)
    WHERE superseded_by IS NULL;
COMMENT ON TABLE core.regional_submission IS 'Every accepted regional workbook; superseded_by names the later file of the same région and campaign that replaced it.';

CREATE TABLE core.regional_submission_value (
    batch_id         bigint  NOT NULL REFERENCES core.regional_submission (batch_id),
    line_no          int     NOT NULL,
    region_code      text    NOT NULL,
    campaign         int     NOT NULL,
    indicator_code   text    NOT NULL REFERENCES core.indicator (code) DEFERRABLE INITIALLY DEFERRED,
    territory_level  text    NOT NULL CHECK (territory_level IN ('region', 'departement')),
    territory_code   text    NOT NULL,
    sheet            text    NOT NULL,
    cell             text    NOT NULL,
    raw_value        text,
    value            numeric,
    status           text    NOT NULL CHECK (status IN ('ok', 'missing')),
    observations     text,
    PRIMARY KEY (batch_id, line_no),
    CHECK ((status = 'ok') = (value IS NOT NULL))
);
COMMENT ON TABLE core.regional_submission_value IS 'The values and observations (verbatim) of every accepted workbook, superseded ones included; the current ones also feed core.indicator_value_vintage.';

CREATE TABLE audit.submission_verdict (
    batch_id         bigint      PRIMARY KEY REFERENCES audit.batch (batch_id),
    source_id        text        NOT NULL,
    original_name    text        NOT NULL,
    region_code      text,
    campaign         int,
    template_version text,
    verdict          text        NOT NULL CHECK (verdict IN ('acceptée', 'rejetée')),
    errors           int         NOT NULL,
    warnings         int         NOT NULL,
    findings         jsonb       NOT NULL,
    checked_at       timestamptz NOT NULL DEFAULT now(),
    report_path      text
);
CREATE INDEX submission_verdict_campaign_idx ON audit.submission_verdict (campaign, region_code);
COMMENT ON TABLE audit.submission_verdict IS 'The verdict of every regional workbook received (accepted or rejected), with each finding: rule, sheet, cell, indicator, found, expected.';

-- The completeness of each campaign, for the 18 régions: the current accepted file (if any) and the latest verdict.
-- Campaign N covers the year N; its workbooks are due by 30 April of N + 1 (instruction of 26 March 2014: the first
-- bilan before 30 April 2014, then "à un rythme annuel").
CREATE VIEW core.regional_submission_status AS
WITH latest AS (
    SELECT DISTINCT ON (v.region_code, v.campaign) v.region_code, v.campaign, v.batch_id, v.verdict, v.errors,
           v.warnings, v.original_name, b.received_at
    FROM audit.submission_verdict v JOIN audit.batch b USING (batch_id)
    WHERE v.region_code IS NOT NULL AND v.campaign IS NOT NULL
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
COMMENT ON VIEW core.regional_submission_status IS 'Per région and campaign: acceptée (current accepted file, its version and date), rejetée (latest file rejected, with its number of errors) or non reçue; the deadline; the latest file received.';
