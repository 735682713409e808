-- The QPV in "veille active" (etl/publication/veille.py): the 2015 QPV that left the priority geography
-- (core.qpv_veille_active: 1 January 2024, overseas 1 January 2025) and had left by 31 December of the edition's
-- year, each with its région, département, communes, its 2024 successor(s) when the ANCT's correspondence gives
-- one (a part of it taken into a 2024 QPV), and per indicator, breakdown and year (:annees) the figure a source that
-- still reports it gives (:sources, the registry's `veille_active` sources), read at territory level qpv under its
-- 2015 code. A yearly figure is the year's (31 December); a monthly one (France Travail's individual extract) is the
-- last month of the year the extract covers. A QPV absent from the year's files has no row in core: status missing,
-- no value (never 0). `situation` says whether the QPV was already out of the geography that year. :qpv_veille holds
-- the codes the `veille` CTE selects, read first by the caller: as a parameter it reaches the latest-vintage view.
WITH veille AS (
    SELECT q.code, q.nom, q.region_code, r.nom AS region, q.departement_code, d.nom AS departement, q.valid_to
    FROM core.qpv_veille_active q
    JOIN core.departement d ON d.code = q.departement_code
    JOIN core.region r ON r.code = q.region_code
    WHERE q.valid_to <= make_date(:annee, 12, 31)
), communes AS (
    SELECT c.qpv_code, string_agg(c.commune_code, ', ' ORDER BY c.commune_code) AS codes,
           string_agg(coalesce(c.commune_nom, c.commune_code), ', ' ORDER BY c.commune_code) AS noms
    FROM core.qpv_commune c
    JOIN veille v ON v.code = c.qpv_code
    GROUP BY c.qpv_code
), successeurs AS (
    SELECT c.qpv_2015, string_agg(c.qpv_2024, ', ' ORDER BY c.qpv_2024) AS codes,
           string_agg(q.nom, ', ' ORDER BY c.qpv_2024) AS noms
    FROM core.qpv_correspondance c
    JOIN core.qpv q ON q.code = c.qpv_2024
    WHERE c.qpv_2024 IS NOT NULL
    GROUP BY c.qpv_2015
), grille AS (
    SELECT g.code, g.ventilation, g.rang, g.mensuel, a.annee
    FROM unnest(CAST(:codes AS text[]), CAST(:ventilations AS text[]), CAST(:mensuels AS boolean[]))
        WITH ORDINALITY AS g (code, ventilation, mensuel, rang)
    CROSS JOIN unnest(CAST(:annees AS int[])) AS a (annee)
), mois AS (  -- per monthly indicator and year, the last month its source delivered
    SELECT indicator_code, left(period_code, 4)::int AS annee, max(period_code) AS periode
    FROM core.indicator_value
    WHERE indicator_code = ANY(CAST(:codes AS text[])) AND period_code ~ '^[0-9]{4}-[0-9]{2}$'
      AND territory_level = 'france' AND breakdown = 'total' AND source_id = ANY(CAST(:sources AS text[]))
    GROUP BY indicator_code, left(period_code, 4)
), cases AS (
    SELECT v.*, g.code AS code_indicateur, g.ventilation, g.rang, g.annee,
           CASE WHEN g.mensuel THEN m.periode ELSE g.annee::text END AS periode
    FROM veille v
    CROSS JOIN grille g
    LEFT JOIN mois m ON g.mensuel AND m.indicator_code = g.code AND m.annee = g.annee
), valeurs AS MATERIALIZED (  -- the veille QPV's figures only: read once, then joined by hash (not per case)
    SELECT f.indicator_code, f.territory_code, f.period_code, f.breakdown, f.value, f.status, f.batch_id
    FROM core.indicator_value f
    WHERE f.territory_level = 'qpv' AND f.territory_code = ANY(CAST(:qpv_veille AS text[]))
      AND f.territory_code IN (SELECT code FROM veille)
      AND f.indicator_code = ANY(CAST(:codes AS text[])) AND f.source_id = ANY(CAST(:sources AS text[]))
)
SELECT c.annee, c.code AS code_qpv_2015, c.nom AS qpv, c.region_code AS code_region, c.region,
       c.departement_code AS code_departement, c.departement, co.codes AS codes_communes, co.noms AS communes,
       to_char(c.valid_to, 'YYYY-MM-DD') AS sortie_geographie, s.codes AS codes_qpv_2024_successeurs,
       s.noms AS qpv_2024_successeurs,
       CASE WHEN make_date(c.annee, 12, 31) >= c.valid_to THEN 'en veille active'
            ELSE 'quartier prioritaire (géographie 2015)' END AS situation,
       c.code_indicateur, i.libelle AS indicateur, coalesce(i.producteur_donnee, i.producteur) AS producteur,
       c.ventilation, c.periode, i.unite_statistique,
       CASE WHEN f.status = 'ok' THEN f.value END AS valeur, coalesce(f.status, 'missing') AS statut, f.batch_id
FROM cases c
JOIN core.indicator i ON i.code = c.code_indicateur
LEFT JOIN communes co ON co.qpv_code = c.code
LEFT JOIN successeurs s ON s.qpv_2015 = c.code
LEFT JOIN valeurs f
    ON f.indicator_code = c.code_indicateur AND f.territory_code = c.code AND f.period_code = c.periode
   AND f.breakdown = c.ventilation
ORDER BY c.departement_code, c.code, c.rang, c.annee DESC;
