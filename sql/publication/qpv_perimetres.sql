-- The simplified perimeters of the QPV an annual edition publishes (:codes), for the maps of its report
-- (etl/publication/report_maps.py), with the batch each comes from (the edition's inputs).
SELECT code_qpv, geometrie_simplifiee, batch_id
FROM core.qpv_perimetre
WHERE code_qpv = ANY(CAST(:codes AS text[]))
ORDER BY code_qpv
