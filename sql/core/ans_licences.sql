-- Sport licences (ANS): the file gives IND20 per QPV and sex. Computed here, per QPV: IND20 total (women + men;
-- missing unless both are ok) and IND21 (licences held by women: the catalogue's own indicator). The département,
-- région and France figures follow in aggregate_qpv_counts.sql.
INSERT INTO core.indicator_value_vintage (
    indicator_code, territory_level, territory_code, period_code, breakdown, value, status, vintage, source_id,
    batch_id, line_no)
SELECT 'IND20', 'qpv', territory_code, period_code, 'total',
       CASE WHEN count(*) = 2 AND bool_and(status = 'ok') THEN sum(value) END,
       CASE WHEN count(*) = 2 AND bool_and(status = 'ok') THEN 'ok' ELSE 'missing' END,
       :partition_key, min(source_id), :batch_id, 0
FROM core.indicator_value_vintage
WHERE batch_id = :batch_id AND indicator_code = 'IND20' AND territory_level = 'qpv'
  AND breakdown IN ('sexe=F', 'sexe=H')
GROUP BY territory_code, period_code;

INSERT INTO core.indicator_value_vintage (
    indicator_code, territory_level, territory_code, period_code, breakdown, value, status, vintage, source_id,
    batch_id, line_no)
SELECT 'IND21', territory_level, territory_code, period_code, 'total', value, status, vintage, source_id, batch_id,
       line_no
FROM core.indicator_value_vintage
WHERE batch_id = :batch_id AND indicator_code = 'IND20' AND territory_level = 'qpv' AND breakdown = 'sexe=F';
