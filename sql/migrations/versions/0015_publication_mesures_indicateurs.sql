-- The indicators of the 2018 measures in the annual edition (etl/publication/annual.py:measure_indicators).

CREATE TABLE publication.mesures_indicateurs (
    edition_id text NOT NULL REFERENCES publication.edition (edition_id),
    numero_mesure text,
    code_indicateur text,
    indicateur text,
    cible_texte text,
    unite text,
    periode text,
    valeur numeric,
    statut text,
    PRIMARY KEY (edition_id, code_indicateur)
);
COMMENT ON TABLE publication.mesures_indicateurs IS 'Indicateurs de suivi des mesures de la feuille de route de 2018, leur cible et la dernière valeur nationale connue (missing quand aucune source ne la fournit).';
COMMENT ON COLUMN publication.mesures_indicateurs.edition_id IS 'Édition (publication.edition).';
COMMENT ON COLUMN publication.mesures_indicateurs.numero_mesure IS 'Mesure : Numéro de la mesure de la feuille de route de 2018.';
COMMENT ON COLUMN publication.mesures_indicateurs.code_indicateur IS 'Code indicateur : Code de l''indicateur de la mesure (FDR<mesure>-<rang>).';
COMMENT ON COLUMN publication.mesures_indicateurs.indicateur IS 'Indicateur : Libellé de l''indicateur tel qu''écrit dans le tableau de suivi.';
COMMENT ON COLUMN publication.mesures_indicateurs.cible_texte IS 'Cible : Cible de l''indicateur quand le tableau de suivi en donne une.';
COMMENT ON COLUMN publication.mesures_indicateurs.unite IS 'Unité : Unité de l''indicateur.';
COMMENT ON COLUMN publication.mesures_indicateurs.periode IS 'Période : Période de la dernière valeur nationale connue.';
COMMENT ON COLUMN publication.mesures_indicateurs.valeur IS 'Valeur : Dernière valeur nationale connue de l''entrepôt. Unité : selon l''unité.';
COMMENT ON COLUMN publication.mesures_indicateurs.statut IS 'Statut : ok, masked, ou missing (aucune source ne la fournit encore).';
CREATE VIEW publication.mesures_indicateurs_courant AS
    SELECT t.* FROM publication.mesures_indicateurs t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'annuelle';
COMMENT ON VIEW publication.mesures_indicateurs_courant IS 'Les indicateurs des mesures de la dernière édition annuelle.';
