-- Per indicator and month of the semester: the département's QPV in force with a figure, by status (latest vintage).
SELECT v.indicator_code, v.period_code,
       count(*) FILTER (WHERE v.status = 'ok') AS known,
       sum(v.value) FILTER (WHERE v.status = 'ok') AS total,
       count(*) FILTER (WHERE v.status = 'masked') AS masked,
       count(*) FILTER (WHERE v.status = 'missing') AS missing,
       max(v.vintage) AS vintage
FROM core.indicator_value v
JOIN core.qpv q ON q.code = v.territory_code
WHERE v.indicator_code = ANY(:indicators) AND v.territory_level = 'qpv' AND v.breakdown = 'total'
  AND v.period_code = ANY(:months)
  AND q.departement_code = :departement AND q.valid_from <= :day AND (q.valid_to IS NULL OR q.valid_to > :day)
GROUP BY v.indicator_code, v.period_code
