-- The latest vintage of what a semestrial edition reads for its months, read once into a temporary table dropped at
-- the end of the transaction (etl/publication/semestrial.py, read_counts_with_batches): the job seekers of France
-- Travail's monthly files and of its individual extract, which emploi_qpv.sql counts, and every figure of France
-- Travail's files, whose load batches are the edition's sources. One read of core.indicator_value (which keeps the
-- newest vintage of each figure of the months, whatever its source) instead of one for the counts and one for the
-- batches.
CREATE TEMP TABLE emploi_base ON COMMIT DROP AS
SELECT indicator_code, territory_level, territory_code, period_code, breakdown, value, status, source_id, batch_id
FROM core.indicator_value
WHERE period_code = ANY(CAST(:months AS text[]))
  AND (source_id = 'france_travail_defm'
       OR indicator_code IN ('FT_DEFM_A', 'FT_DEFM_ABC', 'FT_DEFM_QPV_A', 'FT_DEFM_QPV_ABC', 'FT_DEFM_INDIV_A',
                             'FT_DEFM_INDIV_ABC'));
