-- The QPV in veille active in the annual edition (etl/publication/veille.py, sql/publication/veille_active.sql): the
-- 2015 QPV that left the priority geography, with the figures the producers still give for them. Read by bi_reader
-- and written by etl_writer through the default privileges of the publication schema (migrations 0011 and 0020).

CREATE TABLE publication.veille_active (
    edition_id                 text    NOT NULL REFERENCES publication.edition (edition_id),
    annee                      int     NOT NULL,
    code_qpv_2015              text    NOT NULL,
    qpv                        text    NOT NULL,
    code_region                text    NOT NULL,
    region                     text    NOT NULL,
    code_departement           text    NOT NULL,
    departement                text    NOT NULL,
    codes_communes             text,
    communes                   text,
    sortie_geographie          text    NOT NULL,
    codes_qpv_2024_successeurs text,
    qpv_2024_successeurs       text,
    situation                  text    NOT NULL,
    code_indicateur            text    NOT NULL,
    indicateur                 text    NOT NULL,
    producteur                 text,
    ventilation                text    NOT NULL,
    libelle_ventilation        text    NOT NULL,
    periode                    text,
    unite_statistique          text,
    valeur                     numeric,
    statut                     text    NOT NULL CHECK (statut IN ('ok', 'masked', 'missing')),
    CHECK ((statut = 'ok') = (valeur IS NOT NULL)),
    PRIMARY KEY (edition_id, code_qpv_2015, code_indicateur, ventilation, annee)
);
CREATE INDEX veille_active_departement_idx ON publication.veille_active (code_departement, code_indicateur, annee);
COMMENT ON TABLE publication.veille_active IS 'Quartiers en veille active : les QPV de 2015 sortis de la géographie prioritaire en 2024 (2025 outre-mer), avec leur code et leur nom de 2015, leur département, leurs communes, le ou les QPV de 2024 qui en reprennent une partie, et par indicateur, ventilation et année (N, N-1, N-3) les chiffres que les producteurs donnent encore pour eux (demandeurs d''emploi de l''extrait individuel de France Travail, foyers allocataires de la CAF, licences sportives). Absent des fichiers d''une année : statut missing, jamais 0. Cases soumises au secret statistique : statut masked, valeur vide. Ces chiffres n''entrent dans aucune somme des QPV en vigueur.';
COMMENT ON COLUMN publication.veille_active.edition_id IS 'Édition (publication.edition).';
COMMENT ON COLUMN publication.veille_active.annee IS 'Année : année de la donnée (l''année de l''édition, N-1 ou N-3).';
COMMENT ON COLUMN publication.veille_active.code_qpv_2015 IS 'Code QPV 2015 : code du quartier dans la géographie prioritaire de 2015.';
COMMENT ON COLUMN publication.veille_active.qpv IS 'Quartier : nom du quartier (liste de 2015).';
COMMENT ON COLUMN publication.veille_active.code_region IS 'Code région : code INSEE de la région.';
COMMENT ON COLUMN publication.veille_active.region IS 'Région : nom de la région.';
COMMENT ON COLUMN publication.veille_active.code_departement IS 'Code département : code INSEE du département.';
COMMENT ON COLUMN publication.veille_active.departement IS 'Département : nom du département.';
COMMENT ON COLUMN publication.veille_active.codes_communes IS 'Code(s) commune : code INSEE de la commune du quartier, ou des communes séparés par une virgule.';
COMMENT ON COLUMN publication.veille_active.communes IS 'Commune(s) : nom de la ou des communes du quartier, dans l''ordre des codes.';
COMMENT ON COLUMN publication.veille_active.sortie_geographie IS 'Sortie de la géographie prioritaire : date à laquelle le quartier a quitté la géographie prioritaire (2024-01-01 ; 2025-01-01 outre-mer).';
COMMENT ON COLUMN publication.veille_active.codes_qpv_2024_successeurs IS 'Code(s) QPV 2024 successeur(s) : QPV de 2024 qui reprennent une partie du quartier selon la table de passage de l''ANCT, séparés par une virgule ; vide quand aucun.';
COMMENT ON COLUMN publication.veille_active.qpv_2024_successeurs IS 'QPV 2024 successeur(s) : nom du ou des QPV de 2024 successeurs.';
COMMENT ON COLUMN publication.veille_active.situation IS 'Situation du quartier cette année-là : en veille active (sorti de la géographie prioritaire), ou encore quartier prioritaire (géographie 2015).';
COMMENT ON COLUMN publication.veille_active.code_indicateur IS 'Code indicateur : code de l''indicateur (catalogue de l''observatoire).';
COMMENT ON COLUMN publication.veille_active.indicateur IS 'Indicateur : libellé de l''indicateur.';
COMMENT ON COLUMN publication.veille_active.producteur IS 'Producteur : producteur de la donnée.';
COMMENT ON COLUMN publication.veille_active.ventilation IS 'Code ventilation : total, sexe=F, sexe=H ou tranche d''âge (age=<26, age=26-49, age=50+).';
COMMENT ON COLUMN publication.veille_active.libelle_ventilation IS 'Ventilation : Ensemble, Femmes, Hommes ou tranche d''âge.';
COMMENT ON COLUMN publication.veille_active.periode IS 'Période de la donnée : année (au 31 décembre) pour la CAF et les licences ; pour les demandeurs d''emploi, dernier mois de l''année couvert par l''extrait individuel de France Travail (AAAA-MM) ; vide si aucun.';
COMMENT ON COLUMN publication.veille_active.unite_statistique IS 'Unité statistique : ce que compte l''indicateur, personnes ou foyers (le secret statistique s''applique).';
COMMENT ON COLUMN publication.veille_active.valeur IS 'Valeur : effectif du quartier (périmètre de 2015) ; vide si masquée (secret statistique) ou non disponible (voir statut).';
COMMENT ON COLUMN publication.veille_active.statut IS 'ok (publiée), masked (secret statistique) ou missing (non disponible : le quartier est absent des fichiers de l''année, jamais 0).';
CREATE VIEW publication.veille_active_courant AS
    SELECT t.* FROM publication.veille_active t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'annuelle';
COMMENT ON VIEW publication.veille_active_courant IS 'Les quartiers en veille active de la dernière édition annuelle.';
