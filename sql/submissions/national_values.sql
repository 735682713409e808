-- The région's values of the national indicators of the 2014 conventions, for the regional template's
-- `Indicateurs nationaux` sheet (etl/warehouse/template_context.py). :region is the INSEE code of the région.
SELECT v.indicator_code, v.period_code, v.value, v.status, v.territory_level, v.territory_code, v.breakdown
FROM core.indicator_value v
JOIN core.indicator i ON i.code = v.indicator_code AND i.family = 'convention_2014' AND i.mode = 'national'
WHERE v.territory_level = 'region' AND v.territory_code = :region
