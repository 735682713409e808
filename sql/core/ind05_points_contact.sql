-- IND05 "Part des ZUS/QPV couverts par des points de contact physique" (target 100 %), computed from the contact
-- points per QPV of this batch: the share of the QPV of each département, région and France (those of the file:
-- the coverage check makes them every QPV in force) with at least one France Travail site or partner relay. Missing
-- when a QPV's count is not ok (masked or absent figures cannot be placed on either side of the share).
INSERT INTO core.indicator_value_vintage (
    indicator_code, territory_level, territory_code, period_code, breakdown, value, status, vintage, source_id,
    batch_id, line_no)
SELECT 'IND05',
       CASE WHEN GROUPING(q.departement_code) = 0 THEN 'departement'
            WHEN GROUPING(q.region_code) = 0 THEN 'region' ELSE 'france' END,
       coalesce(q.departement_code, q.region_code, 'FR'),
       v.period_code, 'total',
       CASE WHEN bool_and(v.status = 'ok') THEN round(100.0 * count(*) FILTER (WHERE v.value > 0) / count(*), 2) END,
       CASE WHEN bool_and(v.status = 'ok') THEN 'ok' ELSE 'missing' END,
       :partition_key, min(v.source_id), :batch_id, 0
FROM core.indicator_value_vintage v
JOIN core.qpv q ON q.code = v.territory_code
WHERE v.batch_id = :batch_id AND v.indicator_code = 'FT_POINTS_CONTACT' AND v.territory_level = 'qpv'
  AND v.breakdown = 'total'
GROUP BY GROUPING SETS ((v.period_code, q.departement_code), (v.period_code, q.region_code), (v.period_code));
