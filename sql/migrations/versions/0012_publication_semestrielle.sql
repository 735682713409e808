-- The semestrial employment dashboard (seed 001): etl/publication/semestrial.py builds it, each edition keeps its rows.

CREATE TABLE publication.emploi_qpv (
    edition_id text NOT NULL REFERENCES publication.edition (edition_id),
    semestre text,
    mois text,
    niveau text,
    code_territoire text,
    territoire text,
    code_region text,
    code_departement text,
    categorie text,
    ventilation text,
    de_qpv numeric,
    de_qpv_statut text,
    de_unite numeric,
    de_unite_statut text,
    de_hors_qpv numeric,
    de_hors_qpv_statut text,
    part_ventilation_qpv numeric,
    part_ventilation_hors_qpv numeric,
    part_qpv numeric,
    ecart_ventilation_points numeric,
    evolution_6_mois_qpv numeric,
    evolution_6_mois_hors_qpv numeric,
    evolution_12_mois_qpv numeric,
    evolution_12_mois_hors_qpv numeric,
    statut text,
    PRIMARY KEY (edition_id, niveau, code_territoire, categorie, ventilation)
);
COMMENT ON TABLE publication.emploi_qpv IS 'Tableau de bord semestriel de l''emploi dans les QPV : demandeurs d''emploi en fin de semestre (France Travail, catégories A et ABC, total, sexe, âge) en QPV et hors QPV pour la France, les régions, les départements et chaque QPV, parts, écarts et évolutions sur 6 et 12 mois. Secret statistique : effectifs masqués (statut masked), jamais 0.';
COMMENT ON COLUMN publication.emploi_qpv.edition_id IS 'Édition (publication.edition).';
COMMENT ON COLUMN publication.emploi_qpv.semestre IS 'Semestre : Semestre publié (2024-S1 : fin juin 2024).';
COMMENT ON COLUMN publication.emploi_qpv.mois IS 'Mois : Mois de fin de semestre des données (demandeurs d''emploi en fin de mois).';
COMMENT ON COLUMN publication.emploi_qpv.niveau IS 'Niveau : france, region, departement ou qpv.';
COMMENT ON COLUMN publication.emploi_qpv.code_territoire IS 'Code territoire : FR, code INSEE de la région ou du département, code du QPV.';
COMMENT ON COLUMN publication.emploi_qpv.territoire IS 'Territoire : Nom du territoire.';
COMMENT ON COLUMN publication.emploi_qpv.code_region IS 'Code région : Région du territoire.';
COMMENT ON COLUMN publication.emploi_qpv.code_departement IS 'Code département : Département du territoire (départements et QPV).';
COMMENT ON COLUMN publication.emploi_qpv.categorie IS 'Catégorie : A ou ABC (demandeurs d''emploi inscrits à France Travail).';
COMMENT ON COLUMN publication.emploi_qpv.ventilation IS 'Ventilation : total, sexe=F, sexe=H, age=<26, age=26-49, age=50+.';
COMMENT ON COLUMN publication.emploi_qpv.de_qpv IS 'Demandeurs d''emploi en QPV : Résidant dans les QPV du territoire (le QPV lui-même). Unité : nombre.';
COMMENT ON COLUMN publication.emploi_qpv.de_qpv_statut IS 'Statut (QPV) : ok, masked (secret statistique ou QPV masqué par le producteur).';
COMMENT ON COLUMN publication.emploi_qpv.de_unite IS 'Demandeurs d''emploi du territoire : Ensemble du territoire (sans objet pour un QPV). Unité : nombre.';
COMMENT ON COLUMN publication.emploi_qpv.de_unite_statut IS 'Statut (territoire) : ok, masked, not_applicable (QPV).';
COMMENT ON COLUMN publication.emploi_qpv.de_hors_qpv IS 'Demandeurs d''emploi hors QPV : Reste du territoire : territoire moins QPV. Unité : nombre.';
COMMENT ON COLUMN publication.emploi_qpv.de_hors_qpv_statut IS 'Statut (hors QPV) : ok, masked, not_applicable (QPV).';
COMMENT ON COLUMN publication.emploi_qpv.part_ventilation_qpv IS 'Part dans les QPV : Part de la ventilation parmi les demandeurs en QPV. Unité : %.';
COMMENT ON COLUMN publication.emploi_qpv.part_ventilation_hors_qpv IS 'Part hors QPV : Part de la ventilation parmi ceux hors QPV. Unité : %.';
COMMENT ON COLUMN publication.emploi_qpv.part_qpv IS 'Part résidant en QPV : Demandeurs en QPV sur ceux du territoire. Unité : %.';
COMMENT ON COLUMN publication.emploi_qpv.ecart_ventilation_points IS 'Écart QPV - hors QPV : Part en QPV moins part hors QPV, en points. Unité : pts.';
COMMENT ON COLUMN publication.emploi_qpv.evolution_6_mois_qpv IS 'Évolution sur 6 mois (QPV) : Évolution en % des demandeurs en QPV. Unité : %.';
COMMENT ON COLUMN publication.emploi_qpv.evolution_6_mois_hors_qpv IS 'Évolution sur 6 mois (hors QPV) : Évolution en % hors QPV. Unité : %.';
COMMENT ON COLUMN publication.emploi_qpv.evolution_12_mois_qpv IS 'Évolution sur 12 mois (QPV) : Évolution en % des demandeurs en QPV. Unité : %.';
COMMENT ON COLUMN publication.emploi_qpv.evolution_12_mois_hors_qpv IS 'Évolution sur 12 mois (hors QPV) : Évolution en % hors QPV. Unité : %.';
COMMENT ON COLUMN publication.emploi_qpv.statut IS 'Statut de la ligne : masked si un effectif de la ligne est masqué, sinon ok.';
CREATE INDEX emploi_qpv_filter_idx ON publication.emploi_qpv (semestre, niveau, code_territoire, categorie);

CREATE TABLE publication.emploi_qpv_serie (
    edition_id text NOT NULL REFERENCES publication.edition (edition_id),
    niveau text,
    code_territoire text,
    territoire text,
    categorie text,
    semestre text,
    mois text,
    de_qpv numeric,
    de_hors_qpv numeric,
    statut text,
    PRIMARY KEY (edition_id, niveau, code_territoire, categorie, semestre)
);
COMMENT ON TABLE publication.emploi_qpv_serie IS 'Demandeurs d''emploi (total) en QPV et hors QPV en fin de semestre pour la France et les régions, sur les derniers semestres.';
COMMENT ON COLUMN publication.emploi_qpv_serie.edition_id IS 'Édition (publication.edition).';
COMMENT ON COLUMN publication.emploi_qpv_serie.niveau IS 'Niveau : france ou region.';
COMMENT ON COLUMN publication.emploi_qpv_serie.code_territoire IS 'Code territoire : FR ou code INSEE de la région.';
COMMENT ON COLUMN publication.emploi_qpv_serie.territoire IS 'Territoire : Nom du territoire.';
COMMENT ON COLUMN publication.emploi_qpv_serie.categorie IS 'Catégorie : A ou ABC.';
COMMENT ON COLUMN publication.emploi_qpv_serie.semestre IS 'Semestre : Semestre.';
COMMENT ON COLUMN publication.emploi_qpv_serie.mois IS 'Mois : Mois de fin de semestre.';
COMMENT ON COLUMN publication.emploi_qpv_serie.de_qpv IS 'Demandeurs d''emploi en QPV : Résidant dans les QPV du territoire. Unité : nombre.';
COMMENT ON COLUMN publication.emploi_qpv_serie.de_hors_qpv IS 'Demandeurs d''emploi hors QPV : Reste du territoire. Unité : nombre.';
COMMENT ON COLUMN publication.emploi_qpv_serie.statut IS 'Statut : ok ou masked.';

CREATE VIEW publication.emploi_qpv_courant AS
    SELECT t.* FROM publication.emploi_qpv t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'semestrielle';
COMMENT ON VIEW publication.emploi_qpv_courant IS 'Le tableau de bord de la dernière édition semestrielle.';
CREATE VIEW publication.emploi_qpv_serie_courant AS
    SELECT t.* FROM publication.emploi_qpv_serie t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'semestrielle';
COMMENT ON VIEW publication.emploi_qpv_serie_courant IS 'La série de la dernière édition semestrielle.';
