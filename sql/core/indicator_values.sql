-- Shared by every source that delivers indicator values: the partition key is the vintage (the delivery).
DELETE FROM core.indicator_value_vintage WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
INSERT INTO core.indicator_value_vintage (
    indicator_code, territory_level, territory_code, period_code, breakdown, value, status, vintage, source_id,
    batch_id, line_no)
SELECT s.indicator_code, s.territory_level, s.territory_code, s.period_code, s.breakdown, s.value, s.status,
       :partition_key, b.source_id, s.batch_id, s.line_no
FROM staging.indicator_value s
JOIN audit.batch b ON b.batch_id = s.batch_id
WHERE s.batch_id = :batch_id;
