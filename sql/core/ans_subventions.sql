-- Subsidies of the Agence nationale du sport (ex-CNDS), partition = the year: the grant lines, and IND22 computed
-- from them ("Part des crédits du CNDS affectés dans les ZUS/QPV"): euros granted to actions located in a QPV over
-- all euros, in %, by département, région and France, in total and per type (equipement, fonctionnement).
DELETE FROM core.indicator_value_vintage WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
DELETE FROM core.ans_subvention WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));

INSERT INTO core.ans_subvention (
    annee, numero_dossier, beneficiaire, siret, code_commune, departement_code, code_qpv, montant, type_subvention,
    batch_id, line_no)
SELECT CAST(annee AS int), numero_dossier, beneficiaire, siret, code_commune, departement_code,
       nullif(code_qpv, ''), montant, type_subvention, batch_id, line_no
FROM staging.ans_subvention
WHERE batch_id = :batch_id;

INSERT INTO core.indicator_value_vintage (
    indicator_code, territory_level, territory_code, period_code, breakdown, value, status, vintage, source_id,
    batch_id, line_no)
SELECT 'IND22',
       CASE WHEN GROUPING(s.departement_code) = 0 THEN 'departement'
            WHEN GROUPING(d.region_code) = 0 THEN 'region' ELSE 'france' END,
       coalesce(s.departement_code, d.region_code, 'FR'),
       CAST(s.annee AS text),
       CASE WHEN GROUPING(s.type_subvention) = 0 THEN 'type=' || s.type_subvention ELSE 'total' END,
       round(100 * coalesce(sum(s.montant) FILTER (WHERE s.code_qpv IS NOT NULL), 0) / sum(s.montant), 2),
       'ok', :partition_key, (SELECT source_id FROM audit.batch WHERE batch_id = :batch_id), :batch_id, 0
FROM core.ans_subvention s
JOIN core.departement d ON d.code = s.departement_code
WHERE s.batch_id = :batch_id
GROUP BY GROUPING SETS (
    (s.annee, s.departement_code), (s.annee, d.region_code), (s.annee),
    (s.annee, s.type_subvention, s.departement_code), (s.annee, s.type_subvention, d.region_code),
    (s.annee, s.type_subvention));
