-- The yearly value of each indicator of the données QPV tables in each QPV, for the years :annees (their periods
-- :periodes: etl/publication/qpv_data.py, year_periods). What a year's
-- value is depends on the indicator (:modes, beside :codes):
--   annee             the producer's yearly figure (period `AAAA`);
--   somme_trimestres  a flow given per quarter: the sum of the year's four quarters when all four are there and
--                     published, else no value and a note saying how many quarters are loaded;
--   fin_annee         a stock given per quarter or per month: its value at the end of the year (`AAAA-Q4`, `AAAA-12`);
--   derniere          a yearly figure that is not renewed every year (INSEE's population): the latest one up to the
--                     year, its own year in `note_valeur`.
-- :codes may name a second source for the same published indicator (:publies, with :rangs): France Travail's
-- individual extract (FT_DEFM_INDIV_*, exact) before its monthly file (FT_DEFM_*, with the producer's masked cells);
-- the lowest rank that has the QPV's figure wins. `batches` are the load batches a value was computed from.
WITH wanted AS (
    SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:publies AS text[]), CAST(:modes AS text[]),
                         CAST(:rangs AS int[])) AS w(indicator_code, code_publie, mode, rang)
), years AS (
    SELECT unnest(CAST(:annees AS int[])) AS annee
), periods AS (  -- the periods a year's value may be read from (:periodes): AAAA, AAAA-Q1..Q4, AAAA-12
    SELECT left(code, 4)::int AS annee, code FROM unnest(CAST(:periodes AS text[])) AS code
), base AS MATERIALIZED (
    -- one read through the primary key (indicator, level, territory, period); the periods as a parameter, not the
    -- CTE above: a condition on a subquery is not pushed into the latest-vintage view, which then deduplicated every
    -- period of the indicators (all the months of France Travail's files) before keeping those of the years
    SELECT v.indicator_code, v.territory_code, v.period_code, v.breakdown, v.value, v.status, v.batch_id
    FROM core.indicator_value v
    WHERE v.indicator_code = ANY(CAST(:codes AS text[])) AND v.territory_level = 'qpv'
      AND v.period_code = ANY(CAST(:periodes AS text[]))
), figures AS (
    SELECT w.code_publie, w.rang, v.breakdown, v.territory_code, v.period_code::int AS annee, v.value, v.status,
           NULL::text AS note, v.batch_id::text AS batches
    FROM base v
    JOIN wanted w ON w.indicator_code = v.indicator_code AND w.mode = 'annee'
    WHERE v.period_code ~ '^[0-9]{4}$'
    UNION ALL
    SELECT w.code_publie, w.rang, v.breakdown, v.territory_code, p.annee,
           CASE WHEN count(*) = 4 AND bool_and(v.status = 'ok') THEN sum(v.value) END,
           CASE WHEN count(*) < 4 THEN 'missing' WHEN bool_and(v.status = 'ok') THEN 'ok'
                WHEN bool_or(v.status = 'masked') THEN 'masked' ELSE 'missing' END,
           CASE WHEN count(*) < 4 THEN count(*) || ' trimestre(s) sur 4 chargé(s) : pas de total annuel'
                WHEN NOT bool_and(v.status = 'ok') THEN 'un trimestre au moins non disponible : pas de total annuel'
                END,
           string_agg(DISTINCT v.batch_id::text, ',')
    FROM base v
    JOIN wanted w ON w.indicator_code = v.indicator_code AND w.mode = 'somme_trimestres'
    JOIN periods p ON p.code = v.period_code AND v.period_code LIKE '%-Q_'
    GROUP BY w.code_publie, w.rang, v.breakdown, v.territory_code, p.annee
    UNION ALL
    SELECT w.code_publie, w.rang, v.breakdown, v.territory_code, left(v.period_code, 4)::int, v.value, v.status,
           NULL, v.batch_id::text
    FROM base v
    JOIN wanted w ON w.indicator_code = v.indicator_code AND w.mode = 'fin_annee'
    WHERE v.period_code LIKE '%-Q4' OR v.period_code LIKE '%-12'
    UNION ALL
    (SELECT DISTINCT ON (w.code_publie, v.breakdown, v.territory_code, y.annee)
            w.code_publie, w.rang, v.breakdown, v.territory_code, y.annee, v.value, v.status, v.period_code,
            v.batch_id::text
     FROM core.indicator_value v
     JOIN wanted w ON w.indicator_code = v.indicator_code AND w.mode = 'derniere'
     JOIN years y ON v.period_code ~ '^[0-9]{4}$' AND v.period_code::int <= y.annee
     WHERE v.indicator_code = ANY(CAST(:codes_derniers AS text[])) AND v.territory_level = 'qpv'
     ORDER BY w.code_publie, v.breakdown, v.territory_code, y.annee, v.period_code DESC)
)
SELECT DISTINCT ON (code_publie, breakdown, territory_code, annee)
       code_publie AS code_indicateur, breakdown AS ventilation, territory_code AS code_qpv, annee, value AS valeur,
       status AS statut, note AS note_valeur, batches
FROM figures
ORDER BY code_publie, breakdown, territory_code, annee, rang;
