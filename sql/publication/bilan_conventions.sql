-- The annual bilan of the 2014 conventions for :annee (instruction of 26 March 2014, annex 2): France, every région
-- and every département × the 32 indicators: value (N, N-1, N-3), target with its date and scope, producer,
-- observations of the current workbook of the région (its départemental sheet for a département), and what the
-- value is made of (its batches, for the manifest). Disclosure control runs afterwards, in Python, which also needs
-- each département's région (`region_parent`).
--
-- One line per indicator (breakdown `total`), except IND16, which asks for two numbers: places created and places
-- renovated, one line each (the CAF's breakdowns type=creation and type=renovation). A yearly value is the
-- indicator's value for the year; a quarterly count (IND16) is the sum of the year's four quarters when all four are
-- there and ok, else no value and a note saying which quarters are loaded. Régions and départements: the value of
-- core.indicator_value at that level (a national producer's figure or the platform's computed one; for a local
-- indicator, the current accepted workbook of the région, whose départemental sheet gives the départements), never
-- derived from another level: a territory without a value is missing. France: the producer's (or the platform's
-- computed) France value when there is one; else, for a count, the sum of the 18 régions when all 18 are there; a
-- share is never averaged over régions: without a France value it is not_applicable.
--
-- Rows come France first, then the régions, then the départements, each level by code (byte order: 2A and 2B
-- between 29 and 30, the overseas 971-976 last), then indicator and line.
WITH years AS (
    SELECT unnest(ARRAY[:annee, :annee - 1, :annee - 3]) AS annee
), components (indicator_code, breakdown, libelle_ventilation, rang) AS (
    VALUES ('IND16', 'type=creation', 'Places créées', 1), ('IND16', 'type=renovation', 'Places rénovées', 2)
), lines AS (
    SELECT i.code AS indicator_code, coalesce(c.breakdown, 'total') AS breakdown,
           coalesce(c.libelle_ventilation, 'Ensemble') AS libelle_ventilation,
           coalesce(c.rang, 0) AS rang
    FROM core.indicator i
    LEFT JOIN components c ON c.indicator_code = i.code
    WHERE i.family = 'convention_2014'
), yearly AS (
    SELECT v.indicator_code, v.breakdown, v.territory_level, v.territory_code, v.period_code::int AS annee, v.value,
           v.status, NULL::text AS note, v.batch_id::text AS batches
    FROM core.indicator_value v
    JOIN lines l ON l.indicator_code = v.indicator_code AND l.breakdown = v.breakdown
    WHERE v.indicator_code = ANY(CAST(:codes AS text[]))
      AND v.territory_level IN ('france', 'region', 'departement') AND v.period_code ~ '^[0-9]{4}$'
      AND v.period_code::int IN (SELECT annee FROM years)
    UNION ALL
    SELECT v.indicator_code, v.breakdown, v.territory_level, v.territory_code, p.year,
           CASE WHEN count(*) = 4 AND bool_and(v.status = 'ok') THEN sum(v.value) END,
           CASE WHEN count(*) < 4 THEN 'missing' WHEN bool_and(v.status = 'ok') THEN 'ok'
                WHEN bool_or(v.status = 'masked') THEN 'masked' ELSE 'missing' END,
           CASE WHEN count(*) < 4
                THEN count(*) || ' trimestre(s) sur 4 chargé(s) ('
                     || string_agg(replace(v.period_code, '-Q', '-T'), ', ' ORDER BY v.period_code)
                     || ') : pas de total annuel'
                WHEN bool_and(v.status = 'ok') THEN 'somme des 4 trimestres de ' || p.year
                ELSE 'somme des 4 trimestres impossible : un trimestre au moins non disponible' END,
           string_agg(DISTINCT v.batch_id::text, ',')
    FROM core.indicator_value v
    JOIN lines l ON l.indicator_code = v.indicator_code AND l.breakdown = v.breakdown
    JOIN core.period p ON p.code = v.period_code AND p.kind = 'quarter'
    JOIN core.indicator i ON i.code = v.indicator_code AND i.unite = 'nombre'
    WHERE v.indicator_code = ANY(CAST(:codes AS text[]))
      AND v.territory_level IN ('france', 'region', 'departement') AND v.period_code ~ '^[0-9]{4}-Q[1-4]$'
      AND p.year IN (SELECT annee FROM years)
      AND NOT EXISTS (SELECT 1 FROM core.indicator_value_vintage y WHERE y.indicator_code = v.indicator_code
                      AND y.territory_level = v.territory_level AND y.territory_code = v.territory_code
                      AND y.breakdown = v.breakdown AND y.period_code = p.year::text)
    GROUP BY v.indicator_code, v.breakdown, v.territory_level, v.territory_code, p.year
), regions_summed AS (
    SELECT y.indicator_code, y.breakdown, 'france' AS territory_level, 'FR' AS territory_code, y.annee,
           sum(y.value) AS value, 'ok' AS status, NULL::text AS note, string_agg(y.batches, ',') AS batches
    FROM yearly y
    JOIN core.indicator i ON i.code = y.indicator_code AND i.unite = 'nombre'
    WHERE y.territory_level = 'region'
    GROUP BY y.indicator_code, y.breakdown, y.annee
    HAVING count(DISTINCT y.territory_code) = (SELECT count(*) FROM core.region) AND bool_and(y.status = 'ok')
), valued AS (
    SELECT * FROM yearly
    UNION ALL
    SELECT s.* FROM regions_summed s
    WHERE NOT EXISTS (SELECT 1 FROM yearly y WHERE y.indicator_code = s.indicator_code AND y.breakdown = s.breakdown
                      AND y.territory_level = 'france' AND y.annee = s.annee)
), territories AS (
    SELECT 'france' AS niveau, 'FR' AS code_territoire, 'France' AS territoire, NULL::text AS region_parent, 0 AS ordre
    UNION ALL
    SELECT 'region', code, nom, NULL, 1 FROM core.region
    UNION ALL
    SELECT 'departement', code, nom, region_code, 2 FROM core.departement
)
SELECT :annee AS annee, t.niveau, t.code_territoire, t.territoire, i.code AS code_indicateur,
       l.breakdown AS ventilation, i.convention, i.libelle, l.libelle_ventilation, i.mode AS mode_renseignement,
       coalesce(i.producteur_donnee, i.producteur) AS producteur, i.unite, i.unite_statistique,
       n.value AS valeur,
       CASE WHEN n.status IS NOT NULL THEN n.status
            WHEN t.niveau = 'france' AND i.unite <> 'nombre' THEN 'not_applicable'
            ELSE 'missing' END AS statut,
       n.note AS note_valeur,
       i.cible_texte, i.cible_valeur, i.cible_horizon::text AS echeance_cible, i.cible_portee AS portee_cible,
       CASE WHEN n.status = 'ok' AND i.cible_valeur IS NOT NULL AND i.cible_comparateur IN ('>=', '<=', '=', '>', '<')
            THEN n.value - i.cible_valeur END AS ecart_cible,
       CASE WHEN n1.status = 'ok' THEN n1.value END AS valeur_n1,
       CASE WHEN n.status = 'ok' AND n1.status = 'ok' THEN n.value - n1.value END AS evolution_n1,
       CASE WHEN n3.status = 'ok' THEN n3.value END AS valeur_n3,
       CASE WHEN n.status = 'ok' AND n3.status = 'ok' THEN n.value - n3.value END AS evolution_n3,
       o.observations, t.region_parent,
       concat_ws(',', n.batches, n1.batches, n3.batches) AS batches  -- the batches the row was computed from
FROM territories t
CROSS JOIN lines l
JOIN core.indicator i ON i.code = l.indicator_code
LEFT JOIN valued n ON n.indicator_code = l.indicator_code AND n.breakdown = l.breakdown
     AND n.territory_level = t.niveau AND n.territory_code = t.code_territoire AND n.annee = :annee
LEFT JOIN valued n1 ON n1.indicator_code = l.indicator_code AND n1.breakdown = l.breakdown
     AND n1.territory_level = t.niveau AND n1.territory_code = t.code_territoire AND n1.annee = :annee - 1
LEFT JOIN valued n3 ON n3.indicator_code = l.indicator_code AND n3.breakdown = l.breakdown
     AND n3.territory_level = t.niveau AND n3.territory_code = t.code_territoire AND n3.annee = :annee - 3
LEFT JOIN (
    -- the current workbook's observations: its regional sheet for the région, its départemental sheet for each of
    -- the région's départements
    SELECT v.territory_level, v.territory_code, v.indicator_code, v.observations
    FROM core.regional_submission_value v
    JOIN core.regional_submission s ON s.batch_id = v.batch_id AND s.superseded_by IS NULL
    LEFT JOIN core.departement d ON v.territory_level = 'departement' AND d.code = v.territory_code
    WHERE v.campaign = :annee
      AND ((v.territory_level = 'region' AND v.territory_code = v.region_code) OR d.region_code = v.region_code)
) o ON o.territory_level = t.niveau AND o.territory_code = t.code_territoire AND o.indicator_code = i.code
ORDER BY t.ordre, t.code_territoire COLLATE "C", i.code, l.rang;
