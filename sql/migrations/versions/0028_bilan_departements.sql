-- The annual bilan of the 2014 conventions has rows for France, every région and every département
-- (sql/publication/bilan_conventions.sql): the level check admits `departement`, and the comments say so.
ALTER TABLE publication.bilan_conventions DROP CONSTRAINT bilan_conventions_niveau_check;
ALTER TABLE publication.bilan_conventions ADD CONSTRAINT bilan_conventions_niveau_check
    CHECK (niveau IN ('france', 'region', 'departement'));
COMMENT ON TABLE publication.bilan_conventions IS 'Bilan annuel des conventions interministérielles (instruction du 26 mars 2014, annexe 2) : pour la France, chaque région et chaque département, les 32 indicateurs avec valeur, cible nationale, écart à la cible, évolutions N-1 et N-3 et observations du classeur de la région. Un territoire sans valeur a le statut missing (non disponible), jamais 0. Cases soumises au secret statistique : statut masked, valeur vide.';
COMMENT ON COLUMN publication.bilan_conventions.niveau IS 'france, region ou departement.';
COMMENT ON COLUMN publication.bilan_conventions.libelle_niveau IS 'Niveau : France, Région ou Département.';
COMMENT ON COLUMN publication.bilan_conventions.code_territoire IS 'FR, ou le code INSEE de la région ou du département (2A, 2B, 971...).';
COMMENT ON COLUMN publication.bilan_conventions.observations IS 'Observations du classeur de la région, telles que saisies (feuille Départements pour un département).';
