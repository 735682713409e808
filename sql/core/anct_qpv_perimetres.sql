-- The perimeters of the 2024 QPV, partition = the 2024 geography: a delivery replaces the previous one whole.
DELETE FROM core.qpv_perimetre WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));

INSERT INTO core.qpv_perimetre (
    code_qpv, geometrie_type, geometrie, geometrie_simplifiee, lon_min, lat_min, lon_max, lat_max, repare, batch_id,
    line_no)
SELECT code_qpv, geometrie_type, geometrie, geometrie_simplifiee, lon_min, lat_min, lon_max, lat_max, repare,
       batch_id, line_no
FROM staging.qpv_perimetre
WHERE batch_id = :batch_id;
