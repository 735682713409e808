-- Job seekers of France Travail's individual extract, counted by the platform at every territory level: QPV,
-- commune, EPCI (core.commune_epci), département, région and France; category A and categories A+B+C; in total and
-- by sex, age band and registration duration band. One pass over the batch's distinct lines
-- (staging.france_travail_individus), unpivoted into (indicator, breakdown) pairs and summed with GROUPING SETS.
-- Every breakdown value of a territory with job seekers gets a figure, 0 included (0 is published; small counts are
-- masked at publication). Derived rows carry the batch's id and vintage; line_no is the first file line counted.
DELETE FROM core.indicator_value_vintage WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));

WITH lines AS (
    SELECT s.period_code, s.qpv_code, s.commune_code, ce.epci_siren, d.code AS departement_code, d.region_code,
           i.indicator_code, b.breakdown, s.lignes, s.line_no
    FROM staging.france_travail_individus s
    JOIN core.departement d ON d.code = s.departement_code
    LEFT JOIN core.commune_epci ce ON ce.commune_code = s.commune_code
    JOIN (VALUES ('A', 'FT_DEFM_INDIV_A'), ('A', 'FT_DEFM_INDIV_ABC'), ('B', 'FT_DEFM_INDIV_ABC'),
                 ('C', 'FT_DEFM_INDIV_ABC')) AS i (categorie, indicator_code) ON i.categorie = s.categorie
    CROSS JOIN LATERAL (VALUES ('total'), ('sexe=' || s.sexe), ('age=' || s.age), ('anciennete=' || s.anciennete))
        AS b (breakdown)
    WHERE s.batch_id = :batch_id
),
sums AS (
    SELECT indicator_code, period_code, breakdown,
           CASE WHEN GROUPING(qpv_code) = 0 THEN 'qpv' WHEN GROUPING(commune_code) = 0 THEN 'commune'
                WHEN GROUPING(epci_siren) = 0 THEN 'epci' WHEN GROUPING(departement_code) = 0 THEN 'departement'
                WHEN GROUPING(region_code) = 0 THEN 'region' ELSE 'france' END AS territory_level,
           CASE WHEN GROUPING(qpv_code) = 0 THEN qpv_code WHEN GROUPING(commune_code) = 0 THEN commune_code
                WHEN GROUPING(epci_siren) = 0 THEN epci_siren WHEN GROUPING(departement_code) = 0 THEN departement_code
                WHEN GROUPING(region_code) = 0 THEN region_code ELSE 'FR' END AS territory_code,
           sum(lignes) AS value, min(line_no) AS line_no
    FROM lines
    GROUP BY indicator_code, period_code, breakdown,
             GROUPING SETS ((qpv_code), (commune_code), (epci_siren), (departement_code), (region_code), ())
),
units AS (  -- the territories with job seekers, per indicator: each gets every breakdown value
    SELECT indicator_code, period_code, territory_level, territory_code, line_no
    FROM sums WHERE breakdown = 'total' AND territory_code IS NOT NULL
)
INSERT INTO core.indicator_value_vintage (
    indicator_code, territory_level, territory_code, period_code, breakdown, value, status, vintage, source_id,
    batch_id, line_no)
SELECT u.indicator_code, u.territory_level, u.territory_code, u.period_code, k.breakdown, coalesce(s.value, 0), 'ok',
       :partition_key, 'france_travail_individus', :batch_id, coalesce(s.line_no, u.line_no)
FROM units u
CROSS JOIN (VALUES ('total'), ('sexe=F'), ('sexe=H'), ('age=<26'), ('age=26-49'), ('age=50+'), ('anciennete=<1an'),
                   ('anciennete=1-2ans'), ('anciennete=2ans+')) AS k (breakdown)
LEFT JOIN sums s ON s.indicator_code = u.indicator_code AND s.period_code = u.period_code
    AND s.territory_level = u.territory_level AND s.territory_code = u.territory_code AND s.breakdown = k.breakdown;
