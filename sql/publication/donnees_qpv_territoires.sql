-- The territories of the données QPV tables for each year of :annees, one row per territory and QPV it holds: every
-- QPV in force on 31 December of the year (the 2015 list until 2023, the 2024 list from 2024 on, both where the
-- overseas transition keeps a 2015 QPV in force), itself at level qpv, and the commune(s), EPCI, département, région
-- and France it lies in. A QPV on several communes (or EPCI) belongs to each of them.
WITH in_force AS (
    SELECT y.annee, q.code, q.nom, q.geography, q.departement_code, q.region_code
    FROM unnest(CAST(:annees AS int[])) AS y(annee)
    JOIN core.qpv q ON q.valid_from <= make_date(y.annee, 12, 31)
         AND (q.valid_to IS NULL OR q.valid_to > make_date(y.annee, 12, 31))
)
SELECT annee, 'qpv' AS niveau, code AS code_territoire, nom AS territoire, code AS code_qpv, geography,
       departement_code AS code_departement, region_code AS code_region
FROM in_force
UNION ALL
SELECT f.annee, 'commune', c.code, c.nom, f.code, f.geography, f.departement_code, f.region_code
FROM in_force f
JOIN core.qpv_commune qc ON qc.qpv_code = f.code
JOIN core.commune c ON c.code = qc.commune_code
UNION ALL
SELECT f.annee, 'epci', e.siren, e.nom, f.code, f.geography, NULL, NULL
FROM in_force f
JOIN core.qpv_epci qe ON qe.qpv_code = f.code
JOIN core.epci e ON e.siren = qe.epci_siren
UNION ALL
SELECT f.annee, 'departement', d.code, d.nom, f.code, f.geography, d.code, f.region_code
FROM in_force f
JOIN core.departement d ON d.code = f.departement_code
UNION ALL
SELECT f.annee, 'region', r.code, r.nom, f.code, f.geography, NULL, r.code
FROM in_force f
JOIN core.region r ON r.code = f.region_code
UNION ALL
SELECT annee, 'france', 'FR', 'France', code, geography, NULL, NULL
FROM in_force
ORDER BY annee, niveau, code_territoire, code_qpv;
