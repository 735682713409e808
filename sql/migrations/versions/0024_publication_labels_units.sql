-- Plain French beside the codes, and what each row counts: the label columns of the level and breakdown codes
-- (etl/publication/tables.py LABEL_COLUMNS) and the statistical unit of the tables whose value column holds
-- several indicators (tables.UNIT_COLUMN). The status columns keep their codes here; the edition files show words.
ALTER TABLE publication.emploi_qpv ADD COLUMN libelle_niveau text, ADD COLUMN libelle_ventilation text;
COMMENT ON COLUMN publication.emploi_qpv.libelle_niveau IS 'Niveau : France, Région, Département ou QPV.';
COMMENT ON COLUMN publication.emploi_qpv.libelle_ventilation IS 'Ventilation : Ensemble, Femmes, Hommes, Moins de 26 ans, 26 à 49 ans, 50 ans ou plus.';
ALTER TABLE publication.emploi_qpv_serie ADD COLUMN libelle_niveau text;
COMMENT ON COLUMN publication.emploi_qpv_serie.libelle_niveau IS 'Niveau : France ou Région.';
ALTER TABLE publication.bilan_conventions ADD COLUMN libelle_niveau text, ADD COLUMN unite_statistique text;
COMMENT ON COLUMN publication.bilan_conventions.libelle_niveau IS 'Niveau : France ou Région.';
COMMENT ON COLUMN publication.bilan_conventions.unite_statistique IS 'Unité statistique : ce que compte l''indicateur (pour une part, son numérateur) : personnes, foyers, agents, structures, places, actes, actions, projets, zones, qpv, postes ou euros. Le secret statistique ne porte que sur les personnes et les foyers. Vide quand le catalogue ne le dit pas encore.';
ALTER TABLE publication.paqte_departements ADD COLUMN unite_statistique text;
COMMENT ON COLUMN publication.paqte_departements.unite_statistique IS 'Unité statistique : ce que compte l''indicateur : personnes (élèves, alternants, recrutés : secret statistique sous 11), structures (entreprises), places (stages proposés) ou euros.';
ALTER TABLE publication.mesures_indicateurs ADD COLUMN unite_statistique text;
COMMENT ON COLUMN publication.mesures_indicateurs.unite_statistique IS 'Unité statistique : ce que compte l''indicateur (pour une part, son numérateur) : personnes, foyers, agents, structures, places, actes, actions, projets, zones, qpv, postes ou euros. Le secret statistique ne porte que sur les personnes et les foyers. Vide quand le catalogue ne le dit pas encore.';
-- the views of the current edition select t.*: recreated so that they show the new columns
CREATE OR REPLACE VIEW publication.emploi_qpv_courant AS
    SELECT t.* FROM publication.emploi_qpv t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'semestrielle';
CREATE OR REPLACE VIEW publication.emploi_qpv_serie_courant AS
    SELECT t.* FROM publication.emploi_qpv_serie t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'semestrielle';
CREATE OR REPLACE VIEW publication.bilan_conventions_courant AS
    SELECT b.* FROM publication.bilan_conventions b
    JOIN publication.edition_courante e ON e.edition_id = b.edition_id AND e.kind = 'annuelle';
CREATE OR REPLACE VIEW publication.paqte_departements_courant AS
    SELECT t.* FROM publication.paqte_departements t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'semestrielle';
CREATE OR REPLACE VIEW publication.mesures_indicateurs_courant AS
    SELECT t.* FROM publication.mesures_indicateurs t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'annuelle';
