-- Indicators of the 2018 roadmap measures join the catalogue as family feuille_de_route_2018, coded
-- FDR<measure>-<rank> (FDR13-1: first indicator of measure 13).
DELETE FROM core.indicator WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
INSERT INTO core.indicator (
    code, family, libelle, measure_numero, cible_texte, cible_valeur, cible_unite, cible_horizon,
    definition, unite, source, periodicite, regle_diffusion, batch_id)
SELECT 'FDR' || s.numero_mesure || '-' || s.rang, 'feuille_de_route_2018', s.libelle, s.numero_mesure,
       s.cible_texte, s.cible_valeur, s.cible_unite, s.cible_horizon,
       s.libelle || ' (mesure ' || s.numero_mesure || ' de la feuille de route 2018 : ' || m.libelle || ')',
       u.unite,
       'Suivi interministériel de la feuille de route (comité de pilotage, annexe 3 de la lettre du 22 janvier 2019)',
       'semestrielle',
       CASE WHEN u.unite = '%' THEN 'part masquée si son numérateur ou son dénominateur compte moins de 11 personnes'
            ELSE 'effectif masqué sous 11 (secret statistique), avec secret secondaire' END,
       s.batch_id
FROM staging.catalogue_mesure_indicateur s
JOIN core.measure m ON m.numero = s.numero_mesure
CROSS JOIN LATERAL (
    SELECT coalesce(s.cible_unite,
                    CASE WHEN s.libelle ~* '^(part|taux|pourcentage|proportion)' THEN '%' ELSE 'nombre' END) AS unite
) u
WHERE s.batch_id = :batch_id;
