-- The regional campaign's completeness in the annual edition (etl/publication/annual.py:completeness).

CREATE TABLE publication.completude_campagne (
    edition_id text NOT NULL REFERENCES publication.edition (edition_id),
    code_region text,
    region text,
    campagne text,
    etat text,
    erreurs int,
    version int,
    date_acceptation text,
    date_limite text,
    PRIMARY KEY (edition_id, code_region)
);
COMMENT ON TABLE publication.completude_campagne IS 'Complétude de la campagne annuelle des indicateurs locaux : état du classeur de chaque région.';
COMMENT ON COLUMN publication.completude_campagne.edition_id IS 'Édition (publication.edition).';
COMMENT ON COLUMN publication.completude_campagne.code_region IS 'Code région : Code INSEE de la région.';
COMMENT ON COLUMN publication.completude_campagne.region IS 'Région : Nom de la région.';
COMMENT ON COLUMN publication.completude_campagne.campagne IS 'Campagne : Année de la campagne des indicateurs locaux.';
COMMENT ON COLUMN publication.completude_campagne.etat IS 'État : acceptée, rejetée ou non reçue.';
COMMENT ON COLUMN publication.completude_campagne.erreurs IS 'Erreurs du dernier envoi : Erreurs du dernier classeur reçu s''il a été rejeté. Unité : nombre.';
COMMENT ON COLUMN publication.completude_campagne.version IS 'Version acceptée : 1 pour le premier classeur accepté, 2 pour le suivant... Unité : nombre.';
COMMENT ON COLUMN publication.completude_campagne.date_acceptation IS 'Date d''acceptation : Date d''acceptation du classeur en vigueur.';
COMMENT ON COLUMN publication.completude_campagne.date_limite IS 'Date limite : Date limite de la campagne (30 avril de l''année suivante).';
CREATE VIEW publication.completude_campagne_courant AS
    SELECT t.* FROM publication.completude_campagne t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'annuelle';
COMMENT ON VIEW publication.completude_campagne_courant IS 'La complétude de la campagne de la dernière édition annuelle.';
