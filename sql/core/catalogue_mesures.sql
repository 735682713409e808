-- Sub-measures (1.a, 1.b) point to their measure, so the status summary counts the 40 numbered measures. Each status
-- carries its date (date_statut): a new version of catalogue/mesures_2018.csv replaces the statuses and their dates.
DELETE FROM core.measure WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
INSERT INTO core.measure (numero, numero_parent, axe, programme, theme, libelle, statut, date_statut, batch_id)
SELECT numero,
       CASE WHEN numero ~ '^[0-9]+\.[a-z]$' THEN split_part(numero, '.', 1) END,
       axe, programme, theme, libelle, statut, date_statut, batch_id
FROM staging.catalogue_mesure WHERE batch_id = :batch_id;
