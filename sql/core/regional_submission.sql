-- An accepted regional workbook replaces its région's submission for the campaign (partition `<région>/<campagne>`).
-- The earlier submission stays in core.regional_submission(_value), marked superseded_by; only the current one
-- feeds core.indicator_value_vintage (vintage = the partition, so a resubmission replaces the figures).
-- Re-running the same batch (reload from the archive) replaces its own rows.
DELETE FROM core.regional_submission_value WHERE batch_id = :batch_id;
UPDATE core.regional_submission SET superseded_by = NULL WHERE superseded_by = :batch_id;
DELETE FROM core.regional_submission WHERE batch_id = :batch_id;

UPDATE core.regional_submission s SET superseded_by = :batch_id
FROM (SELECT DISTINCT region_code, campaign FROM staging.regional_submission_value WHERE batch_id = :batch_id) n
WHERE s.region_code = n.region_code AND s.campaign = n.campaign AND s.superseded_by IS NULL;

INSERT INTO core.regional_submission (batch_id, region_code, campaign, template_version, version, accepted_at)
SELECT v.batch_id, v.region_code, v.campaign, v.template_version,
       1 + (SELECT count(*) FROM core.regional_submission s
            WHERE s.region_code = v.region_code AND s.campaign = v.campaign),
       now()
FROM staging.regional_submission_value v
WHERE v.batch_id = :batch_id
GROUP BY v.batch_id, v.region_code, v.campaign, v.template_version;

INSERT INTO core.regional_submission_value (
    batch_id, line_no, region_code, campaign, indicator_code, territory_level, territory_code, sheet, cell,
    raw_value, value, status, observations)
SELECT batch_id, line_no, region_code, campaign, indicator_code, territory_level, territory_code, sheet, cell,
       raw_value, value, status, observations
FROM staging.regional_submission_value
WHERE batch_id = :batch_id;

DELETE FROM core.indicator_value_vintage WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
INSERT INTO core.indicator_value_vintage (
    indicator_code, territory_level, territory_code, period_code, breakdown, value, status, vintage, source_id,
    batch_id, line_no)
SELECT v.indicator_code, v.territory_level, v.territory_code, v.campaign::text, 'total', v.value, v.status,
       :partition_key, b.source_id, v.batch_id, v.line_no
FROM staging.regional_submission_value v
JOIN audit.batch b ON b.batch_id = v.batch_id
WHERE v.batch_id = :batch_id;
