DELETE FROM core.indicator WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
INSERT INTO core.indicator (code, family, libelle, mode, producteur, definition, unite, source, periodicite,
                            regle_diffusion, unite_statistique, batch_id)
SELECT code, 'operator', libelle, 'national', producteur, definition, unite, producteur, periodicite,
       regle_diffusion, unite_statistique, batch_id
FROM staging.catalogue_operateur WHERE batch_id = :batch_id;
