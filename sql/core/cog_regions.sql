DELETE FROM core.region WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
INSERT INTO core.region (code, nom, batch_id)
SELECT code, nom, batch_id FROM staging.cog_region WHERE batch_id = :batch_id;
