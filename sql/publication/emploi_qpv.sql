-- Job seekers at the end of a month (France Travail, categories A and ABC, total / by sex / by age band) living in
-- the QPV of each unit (France, région, département: the sum of its QPV in force that month; a QPV: its own count)
-- and in the whole unit; used by the semestrial dashboard for the semester's last month and 6 and 12 months before.
-- A QPV sum holding a QPV the producer masked is itself masked (its value is not known).
WITH ft AS (
    SELECT indicator_code, territory_level, territory_code, period_code, breakdown, value, status
    FROM core.indicator_value
    WHERE source_id = 'france_travail_defm' AND indicator_code IN ('FT_DEFM_A', 'FT_DEFM_ABC')
      AND period_code = ANY(CAST(:months AS text[]))
), qpv AS (
    SELECT f.*, q.nom, q.departement_code, q.region_code
    FROM ft f
    JOIN core.qpv q ON q.code = f.territory_code
    JOIN core.period p ON p.code = f.period_code
    WHERE f.territory_level = 'qpv' AND q.valid_from <= p.end_date AND (q.valid_to IS NULL OR q.valid_to > p.end_date)
), sums AS (
    SELECT indicator_code, period_code, breakdown,
           CASE WHEN GROUPING(region_code) = 1 THEN 'france'
                WHEN GROUPING(departement_code) = 1 THEN 'region' ELSE 'departement' END AS niveau,
           CASE WHEN GROUPING(region_code) = 1 THEN 'FR'
                WHEN GROUPING(departement_code) = 1 THEN region_code ELSE departement_code END AS code,
           sum(value) AS de_qpv,
           CASE WHEN bool_and(status = 'ok') THEN 'ok' ELSE 'masked' END AS de_qpv_statut
    FROM qpv
    GROUP BY indicator_code, period_code, breakdown, GROUPING SETS ((region_code, departement_code), (region_code), ())
), units AS (
    SELECT s.*, u.value AS de_unite, coalesce(u.status, 'missing') AS de_unite_statut
    FROM sums s
    LEFT JOIN ft u ON u.indicator_code = s.indicator_code AND u.period_code = s.period_code
         AND u.breakdown = s.breakdown AND u.territory_level = s.niveau AND u.territory_code = s.code
), names AS (
    SELECT 'france' AS niveau, 'FR' AS code, 'France' AS nom, NULL AS code_region, NULL AS code_departement
    UNION ALL SELECT 'region', code, nom, code, NULL FROM core.region
    UNION ALL SELECT 'departement', code, nom, region_code, code FROM core.departement
)
SELECT u.period_code AS mois, u.niveau, u.code AS code_territoire, n.nom AS territoire, n.code_region,
       n.code_departement, replace(u.indicator_code, 'FT_DEFM_', '') AS categorie, u.breakdown AS ventilation,
       CASE WHEN u.de_qpv_statut = 'ok' THEN u.de_qpv END AS de_qpv, u.de_qpv_statut,
       CASE WHEN u.de_unite_statut = 'ok' THEN u.de_unite END AS de_unite, u.de_unite_statut
FROM units u JOIN names n ON n.niveau = u.niveau AND n.code = u.code
UNION ALL
SELECT period_code, 'qpv', territory_code, nom, region_code, departement_code, replace(indicator_code, 'FT_DEFM_', ''),
       breakdown, CASE WHEN status = 'ok' THEN value END, status, NULL, 'not_applicable'
FROM qpv
ORDER BY 1, 2, 3, 7, 8;
