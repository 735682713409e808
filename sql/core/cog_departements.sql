DELETE FROM core.departement WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
INSERT INTO core.departement (code, nom, region_code, batch_id)
SELECT code, nom, code_region, batch_id FROM staging.cog_departement WHERE batch_id = :batch_id;
