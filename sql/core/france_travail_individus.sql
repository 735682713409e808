-- Job seekers of France Travail's individual extract, counted by the platform at every territory level: QPV,
-- commune, EPCI (core.commune_epci), département, région and France; category A and categories A+B+C; in total and
-- by sex, age band and registration duration band. One pass over the batch's distinct lines
-- (staging.france_travail_individus) sums them per QPV and commune, each breakdown value a column (sum and first
-- line FILTERed on it); GROUPING SETS sum those few thousand rows to every level; each territory's columns are then
-- unpivoted into its nine (breakdown, value) rows. Summing the unpivoted lines six times over (one per level) and
-- joining every territory's breakdown values back to fill the zeros took three times as long for the same rows.
-- Every breakdown value of a territory with job seekers gets a figure, 0 included (0 is published; small counts are
-- masked at publication). Derived rows carry the batch's id and vintage; line_no is the first file line counted
-- (the territory's first line for a breakdown value without any).
DELETE FROM core.indicator_value_vintage WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));

WITH fine AS (
    SELECT i.indicator_code, s.period_code, s.qpv_code, s.commune_code, s.departement_code,
           sum(s.lignes) AS v_total, min(s.line_no) AS l_total,
           sum(s.lignes) FILTER (WHERE s.sexe = 'F') AS v_f, min(s.line_no) FILTER (WHERE s.sexe = 'F') AS l_f,
           sum(s.lignes) FILTER (WHERE s.sexe = 'H') AS v_h, min(s.line_no) FILTER (WHERE s.sexe = 'H') AS l_h,
           sum(s.lignes) FILTER (WHERE s.age = '<26') AS v_a1, min(s.line_no) FILTER (WHERE s.age = '<26') AS l_a1,
           sum(s.lignes) FILTER (WHERE s.age = '26-49') AS v_a2,
           min(s.line_no) FILTER (WHERE s.age = '26-49') AS l_a2,
           sum(s.lignes) FILTER (WHERE s.age = '50+') AS v_a3, min(s.line_no) FILTER (WHERE s.age = '50+') AS l_a3,
           sum(s.lignes) FILTER (WHERE s.anciennete = '<1an') AS v_d1,
           min(s.line_no) FILTER (WHERE s.anciennete = '<1an') AS l_d1,
           sum(s.lignes) FILTER (WHERE s.anciennete = '1-2ans') AS v_d2,
           min(s.line_no) FILTER (WHERE s.anciennete = '1-2ans') AS l_d2,
           sum(s.lignes) FILTER (WHERE s.anciennete = '2ans+') AS v_d3,
           min(s.line_no) FILTER (WHERE s.anciennete = '2ans+') AS l_d3
    FROM staging.france_travail_individus s
    JOIN (VALUES ('A', 'FT_DEFM_INDIV_A'), ('A', 'FT_DEFM_INDIV_ABC'), ('B', 'FT_DEFM_INDIV_ABC'),
                 ('C', 'FT_DEFM_INDIV_ABC')) AS i (categorie, indicator_code) ON i.categorie = s.categorie
    WHERE s.batch_id = :batch_id
    GROUP BY i.indicator_code, s.period_code, s.qpv_code, s.commune_code, s.departement_code
),
sums AS (
    SELECT f.indicator_code, f.period_code,
           CASE WHEN GROUPING(f.qpv_code) = 0 THEN 'qpv' WHEN GROUPING(f.commune_code) = 0 THEN 'commune'
                WHEN GROUPING(ce.epci_siren) = 0 THEN 'epci' WHEN GROUPING(d.code) = 0 THEN 'departement'
                WHEN GROUPING(d.region_code) = 0 THEN 'region' ELSE 'france' END AS territory_level,
           CASE WHEN GROUPING(f.qpv_code) = 0 THEN f.qpv_code WHEN GROUPING(f.commune_code) = 0 THEN f.commune_code
                WHEN GROUPING(ce.epci_siren) = 0 THEN ce.epci_siren WHEN GROUPING(d.code) = 0 THEN d.code
                WHEN GROUPING(d.region_code) = 0 THEN d.region_code ELSE 'FR' END AS territory_code,
           sum(v_total) AS v_total, min(l_total) AS l_total, sum(v_f) AS v_f, min(l_f) AS l_f,
           sum(v_h) AS v_h, min(l_h) AS l_h, sum(v_a1) AS v_a1, min(l_a1) AS l_a1, sum(v_a2) AS v_a2,
           min(l_a2) AS l_a2, sum(v_a3) AS v_a3, min(l_a3) AS l_a3, sum(v_d1) AS v_d1, min(l_d1) AS l_d1,
           sum(v_d2) AS v_d2, min(l_d2) AS l_d2, sum(v_d3) AS v_d3, min(l_d3) AS l_d3
    FROM fine f
    JOIN core.departement d ON d.code = f.departement_code
    LEFT JOIN core.commune_epci ce ON ce.commune_code = f.commune_code
    GROUP BY f.indicator_code, f.period_code,
             GROUPING SETS ((f.qpv_code), (f.commune_code), (ce.epci_siren), (d.code), (d.region_code), ())
)
INSERT INTO core.indicator_value_vintage (
    indicator_code, territory_level, territory_code, period_code, breakdown, value, status, vintage, source_id,
    batch_id, line_no)
SELECT u.indicator_code, u.territory_level, u.territory_code, u.period_code, k.breakdown, coalesce(k.value, 0), 'ok',
       :partition_key, 'france_travail_individus', :batch_id, coalesce(k.line_no, u.l_total)
FROM sums u
CROSS JOIN LATERAL (VALUES ('total', u.v_total, u.l_total), ('sexe=F', u.v_f, u.l_f), ('sexe=H', u.v_h, u.l_h),
                           ('age=<26', u.v_a1, u.l_a1), ('age=26-49', u.v_a2, u.l_a2), ('age=50+', u.v_a3, u.l_a3),
                           ('anciennete=<1an', u.v_d1, u.l_d1), ('anciennete=1-2ans', u.v_d2, u.l_d2),
                           ('anciennete=2ans+', u.v_d3, u.l_d3)) AS k (breakdown, value, line_no)
WHERE u.territory_code IS NOT NULL;
