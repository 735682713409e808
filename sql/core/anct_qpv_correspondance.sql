DELETE FROM core.qpv_correspondance WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
INSERT INTO core.qpv_correspondance (qpv_2015, qpv_2024, type_evolution, batch_id)
SELECT code_qp_2015, code_qp_2024, type_evolution, batch_id
FROM staging.qpv_correspondance WHERE batch_id = :batch_id;

-- ANCT's wide layout names the 2015 QPV that have a 2024 successor only: a 2015 QPV of the referential that this
-- correspondence names nowhere left the priority geography (veille active) and is recorded as `sortant`. A file that
-- names every 2015 QPV (the platform's long layout, `sortant` rows included) adds nothing here.
INSERT INTO core.qpv_correspondance (qpv_2015, qpv_2024, type_evolution, batch_id)
SELECT q.code, NULL, 'sortant', :batch_id
FROM core.qpv q
WHERE q.geography = '2015'
  AND NOT EXISTS (SELECT 1 FROM staging.qpv_correspondance s
                  WHERE s.batch_id = :batch_id AND s.code_qp_2015 = q.code);
