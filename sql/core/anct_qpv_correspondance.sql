DELETE FROM core.qpv_correspondance WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
INSERT INTO core.qpv_correspondance (qpv_2015, qpv_2024, type_evolution, batch_id)
SELECT code_qp_2015, code_qp_2024, type_evolution, batch_id
FROM staging.qpv_correspondance WHERE batch_id = :batch_id;
