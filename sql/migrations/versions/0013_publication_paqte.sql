-- The PAQTE results per département in the semestrial edition (etl/publication/semestrial.py:paqte_table).

CREATE TABLE publication.paqte_departements (
    edition_id text NOT NULL REFERENCES publication.edition (edition_id),
    code_departement text,
    departement text,
    code_region text,
    semestre text,
    etat text,
    code_indicateur text,
    axe text,
    indicateur text,
    unite text,
    valeur numeric,
    statut text,
    PRIMARY KEY (edition_id, code_departement, code_indicateur)
);
COMMENT ON TABLE publication.paqte_departements IS 'PAQTE : état du bilan semestriel de chaque département et résultats agrégés des entreprises signataires par axe. Effectifs de personnes sous 11 et montants de moins de 3 entreprises masqués (statut masked).';
COMMENT ON COLUMN publication.paqte_departements.edition_id IS 'Édition (publication.edition).';
COMMENT ON COLUMN publication.paqte_departements.code_departement IS 'Code département : Code INSEE du département.';
COMMENT ON COLUMN publication.paqte_departements.departement IS 'Département : Nom du département.';
COMMENT ON COLUMN publication.paqte_departements.code_region IS 'Code région : Région du département.';
COMMENT ON COLUMN publication.paqte_departements.semestre IS 'Semestre : Semestre du bilan PAQTE.';
COMMENT ON COLUMN publication.paqte_departements.etat IS 'État du bilan : acceptée, rejetée ou non reçue (bilan reçu et vérifié ou non).';
COMMENT ON COLUMN publication.paqte_departements.code_indicateur IS 'Code indicateur : Indicateur clé du PAQTE (ENTREPRISES : signataires).';
COMMENT ON COLUMN publication.paqte_departements.axe IS 'Axe : Sensibiliser, Former, Recruter, Acheter (vide pour les signataires).';
COMMENT ON COLUMN publication.paqte_departements.indicateur IS 'Indicateur : Libellé de l''indicateur clé.';
COMMENT ON COLUMN publication.paqte_departements.unite IS 'Unité : nombre ou euros.';
COMMENT ON COLUMN publication.paqte_departements.valeur IS 'Valeur : Résultat agrégé des entreprises signataires du département. Unité : selon l''unité.';
COMMENT ON COLUMN publication.paqte_departements.statut IS 'Statut : ok, masked (secret statistique), missing (bilan non reçu ou non renseigné).';
CREATE VIEW publication.paqte_departements_courant AS
    SELECT t.* FROM publication.paqte_departements t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'semestrielle';
COMMENT ON VIEW publication.paqte_departements_courant IS 'Les résultats PAQTE de la dernière édition semestrielle.';
