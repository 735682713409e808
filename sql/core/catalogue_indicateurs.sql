-- The 32 indicators of 2014, each with its fiche méthodologique. Periodicity: the 2014 instruction asks
-- for an annual collection. Disclosure: counts of people or households under 11 are masked (secret statistique),
-- and a share is masked when its numerator or denominator is; what counts anything else (structures, places, QPV,
-- euros..., `unite_statistique`) is published as it is.
DELETE FROM core.indicator WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));
INSERT INTO core.indicator (
    code, family, libelle, convention, objectif_strategique, objectif_operationnel, bop,
    cible_texte, cible_valeur, cible_unite, cible_comparateur, cible_horizon, cible_portee, mode, producteur,
    mode_resolu, producteur_donnee, definition, unite, source, periodicite, regle_diffusion, unite_statistique,
    batch_id)
SELECT s.code, 'convention_2014', s.libelle, s.convention, s.objectif_strategique, s.objectif_operationnel, s.bop,
       s.cible_texte, s.cible_valeur, s.cible_unite, s.cible_comparateur, s.cible_horizon, s.cible_portee, s.mode,
       s.producteur, s.mode_resolu, s.producteur_donnee,
       s.libelle || coalesce('. Objectif opérationnel : ' || s.objectif_operationnel, ''),
       u.unite,
       CASE s.mode WHEN 'national' THEN 'National (' || coalesce(s.producteur, 'opérateur ou administration centrale') || ')'
                   ELSE 'Local (' || coalesce(s.producteur, 'préfecture de région') || ')' END
       || CASE WHEN s.mode_resolu THEN ' ; mode non renseigné dans la source, résolu (voir catalogue/README.md)' ELSE '' END,
       'annuelle',
       CASE WHEN s.unite_statistique NOT IN ('personnes', 'foyers')
                 THEN 'diffusé sans secret statistique (compte des ' || s.unite_statistique || ', pas des personnes)'
            WHEN u.unite = '%' THEN 'part masquée si son numérateur ou son dénominateur compte moins de 11 personnes'
            ELSE 'effectif masqué sous 11 (secret statistique), avec secret secondaire' END,
       s.unite_statistique,
       s.batch_id
FROM staging.catalogue_indicateur s
CROSS JOIN LATERAL (
    SELECT coalesce(s.cible_unite,
                    CASE WHEN s.libelle ~* '^(part|taux|pourcentage|proportion)' THEN '%' ELSE 'nombre' END) AS unite
) u
WHERE s.batch_id = :batch_id;
