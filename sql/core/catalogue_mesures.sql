-- Sub-measures (1.a, 1.b) point to their measure, so the status summary counts the 40 numbered measures.
DELETE FROM core.measure WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
INSERT INTO core.measure (numero, numero_parent, axe, programme, theme, libelle, statut, batch_id)
SELECT numero,
       CASE WHEN numero ~ '^[0-9]+\.[a-z]$' THEN split_part(numero, '.', 1) END,
       axe, programme, theme, libelle, statut, batch_id
FROM staging.catalogue_mesure WHERE batch_id = :batch_id;
