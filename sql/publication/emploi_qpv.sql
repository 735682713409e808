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
-- It reads the temporary table emploi_base (emploi_qpv_base.sql, the latest vintage of the months' figures), made
-- before it in the same transaction.
WITH base AS MATERIALIZED (
    SELECT indicator_code, territory_level, territory_code, period_code, breakdown, value, status
    FROM emploi_base
    WHERE indicator_code IN ('FT_DEFM_A', 'FT_DEFM_ABC', 'FT_DEFM_QPV_A', 'FT_DEFM_QPV_ABC', 'FT_DEFM_INDIV_A',
                             'FT_DEFM_INDIV_ABC')
      AND period_code = ANY(CAST(:months AS text[]))
      AND breakdown IN ('total', 'sexe=F', 'sexe=H', 'age=<26', 'age=26-49', 'age=50+')
), extract_months AS (
    SELECT DISTINCT period_code FROM base WHERE indicator_code LIKE 'FT_DEFM_INDIV_%'
), figures AS MATERIALIZED (
    SELECT CASE WHEN indicator_code LIKE 'FT_DEFM_QPV_%' THEN 'ensemble' ELSE 'territoire' END AS mesure,
           replace(replace(replace(indicator_code, 'FT_DEFM_INDIV_', ''), 'FT_DEFM_QPV_', ''), 'FT_DEFM_', '')
               AS categorie,
           territory_level, territory_code, period_code, breakdown, value, status,
           CASE WHEN indicator_code LIKE 'FT_DEFM_INDIV_%' THEN 'extrait' ELSE 'fichier' END AS origine
    FROM base
    WHERE (indicator_code LIKE 'FT_DEFM_INDIV_%') = (period_code IN (SELECT period_code FROM extract_months))
), in_force AS MATERIALIZED (
    SELECT p.code AS period_code, q.code, q.nom, q.geography, q.departement_code, q.region_code
    FROM core.period p
    JOIN core.qpv q ON q.valid_from <= p.end_date AND (q.valid_to IS NULL OR q.valid_to > p.end_date)
    WHERE p.code = ANY(CAST(:months AS text[]))
), qpv AS MATERIALIZED (
    SELECT f.*, q.nom, q.departement_code, q.region_code, q.geography
    FROM figures f
    JOIN in_force q ON q.code = f.territory_code AND q.period_code = f.period_code
    WHERE f.territory_level = 'qpv' AND f.mesure = 'territoire'
), keyed AS (
    -- everything known of a unit (France, région, département) and month, one arm per origin, gathered below by
    -- GROUP BY rather than joined (no join order for the planner to get wrong on these estimates)
    SELECT categorie, period_code, breakdown,
           CASE WHEN GROUPING(region_code) = 1 THEN 'france'
                WHEN GROUPING(departement_code) = 1 THEN 'region' ELSE 'departement' END AS niveau,
           CASE WHEN GROUPING(region_code) = 1 THEN 'FR'
                WHEN GROUPING(departement_code) = 1 THEN region_code ELSE departement_code END AS code,
           min(origine) AS origine, sum(value) AS somme, bool_and(status = 'ok') AS complete,
           NULL::numeric AS ensemble, NULL AS ensemble_statut, NULL::numeric AS unite, NULL AS unite_statut,
           NULL AS geographie
    FROM qpv
    GROUP BY categorie, period_code, breakdown, GROUPING SETS ((region_code, departement_code), (region_code), ())
    UNION ALL
    SELECT categorie, period_code, breakdown, territory_level, territory_code, NULL, NULL, NULL,
           CASE WHEN mesure = 'ensemble' THEN value END, CASE WHEN mesure = 'ensemble' THEN status END,
           CASE WHEN mesure = 'territoire' THEN value END, CASE WHEN mesure = 'territoire' THEN status END, NULL
    FROM figures
    WHERE territory_level IN ('france', 'region', 'departement')
    UNION ALL
    SELECT c.categorie, g.period_code, b.breakdown, g.niveau, g.code, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           g.geographie
    FROM (
        SELECT period_code,
               CASE WHEN GROUPING(region_code) = 1 THEN 'france'
                    WHEN GROUPING(departement_code) = 1 THEN 'region' ELSE 'departement' END AS niveau,
               CASE WHEN GROUPING(region_code) = 1 THEN 'FR'
                    WHEN GROUPING(departement_code) = 1 THEN region_code ELSE departement_code END AS code,
               string_agg(DISTINCT geography, '+' ORDER BY geography) AS geographie
        FROM in_force
        GROUP BY period_code, GROUPING SETS ((region_code, departement_code), (region_code), ())
    ) g
    CROSS JOIN (VALUES ('A'), ('ABC')) AS c (categorie)
    CROSS JOIN (VALUES ('total'), ('sexe=F'), ('sexe=H'), ('age=<26'), ('age=26-49'), ('age=50+')) AS b (breakdown)
), units AS (
    SELECT categorie, period_code, breakdown, niveau, code, max(origine) AS origine, max(somme) AS somme,
           bool_or(complete) AS complete, max(ensemble) AS ensemble, max(ensemble_statut) AS ensemble_statut,
           max(unite) AS unite, max(unite_statut) AS unite_statut, max(geographie) AS geographie
    FROM keyed
    GROUP BY categorie, period_code, breakdown, niveau, code
    HAVING count(complete) > 0 AND count(geographie) > 0  -- a unit with QPV in force and figures for them
), names AS (
    SELECT 'france' AS niveau, 'FR' AS code, 'France' AS nom, NULL AS code_region, NULL AS code_departement
    UNION ALL SELECT 'region', code, nom, code, NULL FROM core.region
    UNION ALL SELECT 'departement', code, nom, region_code, code FROM core.departement
)
SELECT u.period_code AS mois, u.niveau, u.code AS code_territoire, n.nom AS territoire, n.code_region,
       n.code_departement, u.categorie, u.breakdown AS ventilation,
       CASE WHEN u.origine = 'extrait' AND u.complete THEN u.somme
            WHEN u.ensemble_statut = 'ok' THEN u.ensemble
            WHEN u.ensemble_statut IS NULL AND u.complete THEN u.somme END AS de_qpv,
       CASE WHEN u.origine = 'extrait' AND u.complete THEN 'ok'
            WHEN u.ensemble_statut IS NOT NULL THEN u.ensemble_statut
            WHEN u.complete THEN 'ok' ELSE 'masked' END AS de_qpv_statut,
       CASE WHEN u.origine = 'extrait' THEN 'extrait individuel'
            WHEN u.ensemble_statut IS NOT NULL THEN 'ensemble des QPV (producteur)'
            ELSE 'somme des QPV' END AS origine_de_qpv,
       CASE WHEN u.unite_statut = 'ok' THEN u.unite END AS de_unite,
       coalesce(u.unite_statut, 'missing') AS de_unite_statut, u.geographie
FROM units u
JOIN names n ON n.niveau = u.niveau AND n.code = u.code
UNION ALL
SELECT period_code, 'qpv', territory_code, nom, region_code, departement_code, categorie, breakdown,
       CASE WHEN status = 'ok' THEN value END, status, NULL, NULL, 'not_applicable', geography
FROM qpv
ORDER BY 1, 2, 3, 7, 8;
