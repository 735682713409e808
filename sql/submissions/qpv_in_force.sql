-- The QPV in force on a day, per région and département (the validity of sql/core/anct_qpv.sql).
SELECT region_code, departement_code, count(*) AS qpv
FROM core.qpv
WHERE valid_from <= :day AND (valid_to IS NULL OR valid_to > :day)
GROUP BY region_code, departement_code
