-- Job seekers at the end of a month (France Travail, categories A and ABC, total / by sex / by age band) living in
-- the QPV of each unit (France, région, département) and in the whole unit, and in each QPV; used by the semestrial
-- dashboard for the semester's last month and 6 and 12 months before.
--
-- Exact counts first. A month covered by France Travail's individual extract is read from it whole (every level
-- counted by the platform, nothing masked). Otherwise the monthly file: a unit's job seekers in QPV are the
-- producer's "ensemble des QPV" figure (FT_DEFM_QPV_*, computed by France Travail on exact data) when it gives one,
-- else the sum of the unit's QPV when none of them is masked; a unit whose QPV sum holds a masked QPV and that has
-- no producer figure is masked (its value is not known). `origine_de_qpv` says which.
-- `geographie` is the list(s) of QPV in force in the unit at month end (`2015`, `2024`, or `2015+2024` during the
-- overseas transition of 2024): two months are comparable only on the same list.
WITH extract_months AS (
    SELECT DISTINCT period_code FROM core.indicator_value
    WHERE source_id = 'france_travail_individus' AND period_code = ANY(CAST(:months AS text[]))
), figures AS (
    SELECT CASE WHEN indicator_code LIKE 'FT_DEFM_QPV_%' THEN 'ensemble' ELSE 'territoire' END AS mesure,
           replace(replace(indicator_code, 'FT_DEFM_QPV_', ''), 'FT_DEFM_', '') AS categorie,
           territory_level, territory_code, period_code, breakdown, value, status, 'fichier' AS origine
    FROM core.indicator_value
    WHERE source_id = 'france_travail_defm'
      AND indicator_code IN ('FT_DEFM_A', 'FT_DEFM_ABC', 'FT_DEFM_QPV_A', 'FT_DEFM_QPV_ABC')
      AND period_code = ANY(CAST(:months AS text[]))
      AND period_code NOT IN (SELECT period_code FROM extract_months)
    UNION ALL
    SELECT 'territoire', replace(indicator_code, 'FT_DEFM_INDIV_', ''), territory_level, territory_code, period_code,
           breakdown, value, status, 'extrait'
    FROM core.indicator_value
    WHERE source_id = 'france_travail_individus' AND indicator_code IN ('FT_DEFM_INDIV_A', 'FT_DEFM_INDIV_ABC')
      AND period_code IN (SELECT period_code FROM extract_months)
      AND breakdown IN ('total', 'sexe=F', 'sexe=H', 'age=<26', 'age=26-49', 'age=50+')
), in_force AS (
    SELECT p.code AS period_code, q.code, q.nom, q.geography, q.departement_code, q.region_code
    FROM core.period p
    JOIN core.qpv q ON q.valid_from <= p.end_date AND (q.valid_to IS NULL OR q.valid_to > p.end_date)
    WHERE p.code = ANY(CAST(:months AS text[]))
), geographies AS (
    SELECT period_code,
           CASE WHEN GROUPING(region_code) = 1 THEN 'france'
                WHEN GROUPING(departement_code) = 1 THEN 'region' ELSE 'departement' END AS niveau,
           CASE WHEN GROUPING(region_code) = 1 THEN 'FR'
                WHEN GROUPING(departement_code) = 1 THEN region_code ELSE departement_code END AS code,
           string_agg(DISTINCT geography, '+' ORDER BY geography) AS geographie
    FROM in_force
    GROUP BY period_code, GROUPING SETS ((region_code, departement_code), (region_code), ())
), qpv AS (
    SELECT f.*, q.nom, q.departement_code, q.region_code, q.geography
    FROM figures f
    JOIN in_force q ON q.code = f.territory_code AND q.period_code = f.period_code
    WHERE f.territory_level = 'qpv' AND f.mesure = 'territoire'
), sums AS (
    SELECT categorie, period_code, breakdown, min(origine) AS origine,
           CASE WHEN GROUPING(region_code) = 1 THEN 'france'
                WHEN GROUPING(departement_code) = 1 THEN 'region' ELSE 'departement' END AS niveau,
           CASE WHEN GROUPING(region_code) = 1 THEN 'FR'
                WHEN GROUPING(departement_code) = 1 THEN region_code ELSE departement_code END AS code,
           sum(value) AS somme, bool_and(status = 'ok') AS complete
    FROM qpv
    GROUP BY categorie, period_code, breakdown, GROUPING SETS ((region_code, departement_code), (region_code), ())
), units AS (
    SELECT s.categorie, s.period_code, s.breakdown, s.niveau, s.code,
           CASE WHEN s.origine = 'extrait' AND s.complete THEN s.somme
                WHEN e.status = 'ok' THEN e.value
                WHEN e.status IS NULL AND s.complete THEN s.somme END AS de_qpv,
           CASE WHEN s.origine = 'extrait' AND s.complete THEN 'ok'
                WHEN e.status IS NOT NULL THEN e.status
                WHEN s.complete THEN 'ok' ELSE 'masked' END AS de_qpv_statut,
           CASE WHEN s.origine = 'extrait' THEN 'extrait individuel'
                WHEN e.status IS NOT NULL THEN 'ensemble des QPV (producteur)'
                ELSE 'somme des QPV' END AS origine_de_qpv,
           u.value AS de_unite, coalesce(u.status, 'missing') AS de_unite_statut
    FROM sums s
    LEFT JOIN figures e ON e.mesure = 'ensemble' AND e.categorie = s.categorie AND e.period_code = s.period_code
         AND e.breakdown = s.breakdown AND e.territory_level = s.niveau AND e.territory_code = s.code
    LEFT JOIN figures u ON u.mesure = 'territoire' AND u.categorie = s.categorie AND u.period_code = s.period_code
         AND u.breakdown = s.breakdown AND u.territory_level = s.niveau AND u.territory_code = s.code
), names AS (
    SELECT 'france' AS niveau, 'FR' AS code, 'France' AS nom, NULL AS code_region, NULL AS code_departement
    UNION ALL SELECT 'region', code, nom, code, NULL FROM core.region
    UNION ALL SELECT 'departement', code, nom, region_code, code FROM core.departement
)
SELECT u.period_code AS mois, u.niveau, u.code AS code_territoire, n.nom AS territoire, n.code_region,
       n.code_departement, u.categorie, u.breakdown AS ventilation,
       CASE WHEN u.de_qpv_statut = 'ok' THEN u.de_qpv END AS de_qpv, u.de_qpv_statut, u.origine_de_qpv,
       CASE WHEN u.de_unite_statut = 'ok' THEN u.de_unite END AS de_unite, u.de_unite_statut, g.geographie
FROM units u
JOIN names n ON n.niveau = u.niveau AND n.code = u.code
JOIN geographies g ON g.period_code = u.period_code AND g.niveau = u.niveau AND g.code = u.code
UNION ALL
SELECT period_code, 'qpv', territory_code, nom, region_code, departement_code, categorie, breakdown,
       CASE WHEN status = 'ok' THEN value END, status, NULL, NULL, 'not_applicable', geography
FROM qpv
ORDER BY 1, 2, 3, 7, 8;
