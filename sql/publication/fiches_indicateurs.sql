-- The catalogue entries behind the fiches méthodologiques of an edition (etl/publication/fiches.py): for each code
-- of :codes, its core.indicator row, the roadmap measure it belongs to (indicators of 2018), and what the warehouse
-- received for it over the edition's years (periods from :first_year to before :after_year; a period code starts
-- with its year): the figures (territory, period, breakdown), how many of them a later delivery revised (more than
-- one vintage), the vintages and the sources that delivered them (core.indicator_value_vintage keeps every delivery;
-- the editions publish the latest). The figures are counted per code on the primary key's index, the deliveries in
-- one pass over the table for all the codes (a pass per code would read the whole table each time).
WITH deliveries AS (
    SELECT d.indicator_code, count(DISTINCT d.vintage) AS millesimes,
           string_agg(DISTINCT d.source_id, ',' ORDER BY d.source_id) AS sources
    FROM (
        SELECT DISTINCT v.indicator_code, v.vintage, v.source_id
        FROM core.indicator_value_vintage v
        WHERE v.indicator_code = ANY(CAST(:codes AS text[]))
          AND v.period_code >= :first_year AND v.period_code < :after_year
    ) d
    GROUP BY d.indicator_code
)
SELECT i.code, i.family, i.libelle, i.definition, i.convention, i.objectif_strategique, i.objectif_operationnel,
       i.bop, i.measure_numero, m.libelle AS mesure_libelle, m.axe AS mesure_axe, m.programme AS mesure_programme,
       m.theme AS mesure_theme, i.cible_texte, i.cible_valeur, i.cible_unite, i.cible_comparateur,
       i.cible_horizon::text AS cible_horizon, i.cible_portee, i.mode, i.producteur, i.producteur_donnee,
       i.mode_resolu, i.unite, i.unite_statistique, i.source, i.periodicite, i.regle_diffusion,
       coalesce(f.valeurs, 0) AS valeurs, coalesce(f.valeurs_revisees, 0) AS valeurs_revisees,
       coalesce(d.millesimes, 0) AS millesimes, coalesce(d.sources, '') AS sources_livrees
FROM core.indicator i
LEFT JOIN core.measure m ON m.numero = i.measure_numero
LEFT JOIN LATERAL (
    SELECT count(*) AS valeurs, count(*) FILTER (WHERE g.livraisons > 1) AS valeurs_revisees
    FROM (
        SELECT count(*) AS livraisons
        FROM core.indicator_value_vintage v
        WHERE v.indicator_code = i.code AND v.period_code >= :first_year AND v.period_code < :after_year
        GROUP BY v.territory_level, v.territory_code, v.period_code, v.breakdown
    ) g
) f ON true
LEFT JOIN deliveries d ON d.indicator_code = i.code
WHERE i.code = ANY(CAST(:codes AS text[]))
ORDER BY i.code;
