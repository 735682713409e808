-- Catalogue counts "in the QPV of" a territory: every 2014 catalogue indicator counted per QPV in this batch
-- (unit nombre: IND16 crèche places, IND20/IND21 sport licences) summed to the département, région and France of
-- its QPV, per period and breakdown. A territory with a QPV figure that is not ok gets status missing, no value:
-- the sum of what is known would understate it. Runs after the batch's QPV rows are in core (same vintage and
-- batch, line_no 0 = computed), so the rows of superseded batches have already been deleted with theirs.
-- Only the QPV in force on the period's first day are summed (as etl/quality/cross_checks.py places a period): a
-- veille-active QPV that a producer still reports under its 2015 code after it left is not one of them.
INSERT INTO core.indicator_value_vintage (
    indicator_code, territory_level, territory_code, period_code, breakdown, value, status, vintage, source_id,
    batch_id, line_no)
SELECT v.indicator_code,
       CASE WHEN GROUPING(q.departement_code) = 0 THEN 'departement'
            WHEN GROUPING(q.region_code) = 0 THEN 'region' ELSE 'france' END,
       coalesce(q.departement_code, q.region_code, 'FR'),
       v.period_code, v.breakdown,
       CASE WHEN bool_and(v.status = 'ok') THEN sum(v.value) END,
       CASE WHEN bool_and(v.status = 'ok') THEN 'ok' ELSE 'missing' END,
       :partition_key, min(v.source_id), :batch_id, 0
FROM core.indicator_value_vintage v
JOIN core.qpv q ON q.code = v.territory_code
CROSS JOIN LATERAL (
    SELECT CASE WHEN v.period_code ~ '^[0-9]{4}$' THEN make_date(left(v.period_code, 4)::int, 1, 1)
                WHEN v.period_code ~ '^[0-9]{4}-Q[1-4]$'
                    THEN make_date(left(v.period_code, 4)::int, 3 * right(v.period_code, 1)::int - 2, 1)
                WHEN v.period_code ~ '^[0-9]{4}-[0-9]{2}$' THEN to_date(v.period_code, 'YYYY-MM') END AS first_day
) p
JOIN core.indicator i ON i.code = v.indicator_code AND i.family = 'convention_2014' AND i.unite = 'nombre'
WHERE v.batch_id = :batch_id AND v.territory_level = 'qpv'
  AND q.valid_from <= p.first_day AND (q.valid_to IS NULL OR q.valid_to > p.first_day)
GROUP BY GROUPING SETS (
    (v.indicator_code, v.period_code, v.breakdown, q.departement_code),
    (v.indicator_code, v.period_code, v.breakdown, q.region_code),
    (v.indicator_code, v.period_code, v.breakdown));
