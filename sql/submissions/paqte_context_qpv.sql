-- The QPV of a département in force on a day, per geography.
SELECT q.geography, count(*) AS qpv
FROM core.qpv q
WHERE q.valid_from <= :day AND (q.valid_to IS NULL OR q.valid_to > :day) AND q.departement_code = :departement
GROUP BY q.geography ORDER BY q.geography
