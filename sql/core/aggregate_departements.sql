-- Région and France figures of an operator's counts delivered by département (France Travail's job seekers): the
-- sum of the batch's départements, per indicator, period and breakdown. Missing (no value) unless every
-- département of the région, or of France, is in the batch with an ok figure: a partial sum would understate it.
-- Derived rows carry the batch's id and vintage (line_no 0), so superseding the batch removes them too. A figure
-- the producer gives itself for the région or France (its "ensemble des QPV" lines) is kept, not summed again: the
-- partition's rows are this batch's (the older batches of the partition were removed first).
INSERT INTO core.indicator_value_vintage (
    indicator_code, territory_level, territory_code, period_code, breakdown, value, status, vintage, source_id,
    batch_id, line_no)
SELECT indicator_code, territory_level, territory_code, period_code, breakdown,
       CASE WHEN complete THEN total END, CASE WHEN complete THEN 'ok' ELSE 'missing' END,
       :partition_key, source_id, :batch_id, 0
FROM (
    SELECT v.indicator_code,
           CASE WHEN GROUPING(d.region_code) = 0 THEN 'region' ELSE 'france' END AS territory_level,
           coalesce(d.region_code, 'FR') AS territory_code,
           v.period_code, v.breakdown, sum(v.value) AS total, min(v.source_id) AS source_id,
           bool_and(v.status = 'ok') AND count(DISTINCT v.territory_code) = CASE
               WHEN GROUPING(d.region_code) = 0
               THEN (SELECT count(*) FROM core.departement x WHERE x.region_code = d.region_code)
               ELSE (SELECT count(*) FROM core.departement) END AS complete
    FROM core.indicator_value_vintage v
    JOIN core.departement d ON d.code = v.territory_code
    WHERE v.batch_id = :batch_id AND v.territory_level = 'departement'
    GROUP BY GROUPING SETS ((v.indicator_code, v.period_code, v.breakdown, d.region_code),
                            (v.indicator_code, v.period_code, v.breakdown))
) sums
WHERE NOT EXISTS (  -- one probe of the primary key per sum: the batch's rows are not in the statistics yet, and a
                   -- probe by batch_id was planned as a scan of the whole batch per sum (minutes for 36 months)
    SELECT 1 FROM core.indicator_value_vintage given
    WHERE given.indicator_code = sums.indicator_code AND given.territory_level = sums.territory_level
      AND given.territory_code = sums.territory_code AND given.period_code = sums.period_code
      AND given.breakdown = sums.breakdown AND given.vintage = :partition_key);
