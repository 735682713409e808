-- The 2014 catalogue says the scope of each national target (cible_portee, beside its year cible_horizon) and who
-- produces each indicator's figure (producteur_donnee); the 2018 measures say the date of their status (date_statut:
-- 2019-01-22 for the letter's table, a later date when a new version of catalogue/mesures_2018.csv updates a status).
ALTER TABLE raw.catalogue_indicateur ADD COLUMN cible_portee text, ADD COLUMN producteur_donnee text;
ALTER TABLE staging.catalogue_indicateur ADD COLUMN cible_portee text, ADD COLUMN producteur_donnee text;
ALTER TABLE core.indicator ADD COLUMN cible_portee text, ADD COLUMN producteur_donnee text;
COMMENT ON COLUMN core.indicator.cible_portee IS 'What the national target covers and when it is due, in French (objective for 2015, total over the 3-year experiment...); null without a target.';
COMMENT ON COLUMN core.indicator.producteur_donnee IS 'Who produces the figure the platform publishes (DGEFP / ASP, France Travail, CAF (Cnaf), a regional service via the préfecture de région...).';
ALTER TABLE raw.catalogue_mesure ADD COLUMN date_statut text;
ALTER TABLE staging.catalogue_mesure ADD COLUMN date_statut date;
ALTER TABLE core.measure ADD COLUMN date_statut date;
COMMENT ON COLUMN core.measure.date_statut IS 'Date of the status (2019-01-22: the follow-up table of the letter of 22 January 2019).';

-- The bilan: one line per indicator, or per component for an indicator that asks for several figures (IND16).
ALTER TABLE publication.bilan_conventions
    ADD COLUMN ventilation text NOT NULL DEFAULT 'total',
    ADD COLUMN libelle_ventilation text,
    ADD COLUMN echeance_cible text,
    ADD COLUMN portee_cible text,
    ADD COLUMN note_valeur text;
ALTER TABLE publication.bilan_conventions DROP CONSTRAINT bilan_conventions_pkey;
ALTER TABLE publication.bilan_conventions ADD PRIMARY KEY (edition_id, niveau, code_territoire, code_indicateur, ventilation);
COMMENT ON COLUMN publication.bilan_conventions.ventilation IS 'Code ventilation : total, ou la composante de l''indicateur (IND16 : type=creation pour les places créées, type=renovation pour les places rénovées).';
COMMENT ON COLUMN publication.bilan_conventions.libelle_ventilation IS 'Ventilation : la ventilation en clair (Ensemble, ou pour IND16 Places créées, Places rénovées).';
COMMENT ON COLUMN publication.bilan_conventions.echeance_cible IS 'Échéance de la cible : année pour laquelle la cible nationale est fixée (2015 pour IND01 à IND03) ; vide si l''instruction n''en fixe pas.';
COMMENT ON COLUMN publication.bilan_conventions.portee_cible IS 'Portée de la cible : ce que couvre la cible nationale (objectif 2015, total sur la durée d''une expérimentation...).';
COMMENT ON COLUMN publication.bilan_conventions.note_valeur IS 'Note sur la valeur : comment la valeur de l''année est obtenue quand elle somme des trimestres, ou pourquoi elle manque (trimestres non chargés).';
COMMENT ON COLUMN publication.bilan_conventions.producteur IS 'Producteur de la donnée (DGEFP / ASP, France Travail, CAF (Cnaf)...; pour un indicateur local, le service qui la produit, via la préfecture de région).';
CREATE OR REPLACE VIEW publication.bilan_conventions_courant AS
    SELECT b.* FROM publication.bilan_conventions b
    JOIN publication.edition_courante e ON e.edition_id = b.edition_id AND e.kind = 'annuelle';

ALTER TABLE publication.mesures_feuille_de_route ADD COLUMN date_statut text;
COMMENT ON COLUMN publication.mesures_feuille_de_route.date_statut IS 'Date de l''état : date à laquelle l''état d''avancement est constaté (2019-01-22 : tableau de suivi de la lettre du 22 janvier 2019).';
CREATE OR REPLACE VIEW publication.mesures_feuille_de_route_courant AS
    SELECT m.* FROM publication.mesures_feuille_de_route m
    JOIN publication.edition_courante e ON e.edition_id = m.edition_id AND e.kind = 'annuelle';
