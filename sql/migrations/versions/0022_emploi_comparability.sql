-- The semestrial dashboard's QPV list per row, the origin of its QPV totals, and the status of each change (a
-- change across two QPV lists is not published: `break`, rupture de série). Columns appended, views recreated.
ALTER TABLE publication.emploi_qpv
    ADD COLUMN geographie text,
    ADD COLUMN origine_de_qpv text,
    ADD COLUMN evolution_6_mois_qpv_statut text,
    ADD COLUMN evolution_6_mois_hors_qpv_statut text,
    ADD COLUMN evolution_12_mois_qpv_statut text,
    ADD COLUMN evolution_12_mois_hors_qpv_statut text,
    ADD COLUMN rupture_serie text;
COMMENT ON COLUMN publication.emploi_qpv.geographie IS 'Liste des QPV : Liste des QPV en vigueur dans le territoire à la fin du mois : 2015 (décret 2014-1750), 2024 (décret 2023-1314, au 1er janvier 2024 en métropole), 2015+2024 (en 2024 : métropole sur la liste 2024, outre-mer encore sur la liste 2015 jusqu''au 1er janvier 2025).';
COMMENT ON COLUMN publication.emploi_qpv.origine_de_qpv IS 'Origine de l''effectif en QPV : D''où vient l''effectif en QPV d''un territoire : extrait individuel (compté exactement par la plateforme), ensemble des QPV (producteur) (ligne « Ensemble des quartiers prioritaires » de France Travail, calculée sur données exactes) ou somme des QPV (aucun QPV masqué). Vide pour un QPV.';
COMMENT ON COLUMN publication.emploi_qpv.evolution_6_mois_qpv_statut IS 'Statut (évolution 6 mois, QPV) : ok ; break (rupture de série : la liste des QPV diffère aux deux dates, l''évolution n''est pas publiée, voir la colonne Rupture de série) ; masked (un effectif masqué) ; missing (mois antérieur non livré ou effectif inconnu) ; not_applicable (effectif antérieur nul, ou hors QPV d''un QPV).';
COMMENT ON COLUMN publication.emploi_qpv.evolution_6_mois_hors_qpv_statut IS 'Statut (évolution 6 mois, hors QPV) : ok ; break (rupture de série : la liste des QPV diffère aux deux dates, l''évolution n''est pas publiée, voir la colonne Rupture de série) ; masked (un effectif masqué) ; missing (mois antérieur non livré ou effectif inconnu) ; not_applicable (effectif antérieur nul, ou hors QPV d''un QPV).';
COMMENT ON COLUMN publication.emploi_qpv.evolution_12_mois_qpv_statut IS 'Statut (évolution 12 mois, QPV) : ok ; break (rupture de série : la liste des QPV diffère aux deux dates, l''évolution n''est pas publiée, voir la colonne Rupture de série) ; masked (un effectif masqué) ; missing (mois antérieur non livré ou effectif inconnu) ; not_applicable (effectif antérieur nul, ou hors QPV d''un QPV).';
COMMENT ON COLUMN publication.emploi_qpv.evolution_12_mois_hors_qpv_statut IS 'Statut (évolution 12 mois, hors QPV) : ok ; break (rupture de série : la liste des QPV diffère aux deux dates, l''évolution n''est pas publiée, voir la colonne Rupture de série) ; masked (un effectif masqué) ; missing (mois antérieur non livré ou effectif inconnu) ; not_applicable (effectif antérieur nul, ou hors QPV d''un QPV).';
COMMENT ON COLUMN publication.emploi_qpv.rupture_serie IS 'Rupture de série : Pour chaque évolution non publiée pour rupture de série : les listes de QPV aux deux dates. Une évolution n''est calculée que sur une géographie constante : les deux mois sur la même liste de QPV.';
ALTER TABLE publication.emploi_qpv_serie
    ADD COLUMN geographie text,
    ADD COLUMN rupture_serie text;
COMMENT ON COLUMN publication.emploi_qpv_serie.geographie IS 'Liste des QPV : Liste des QPV en vigueur dans le territoire à la fin du mois : 2015 (décret 2014-1750), 2024 (décret 2023-1314, au 1er janvier 2024 en métropole), 2015+2024 (en 2024 : métropole sur la liste 2024, outre-mer encore sur la liste 2015 jusqu''au 1er janvier 2025).';
COMMENT ON COLUMN publication.emploi_qpv_serie.rupture_serie IS 'Rupture de série : Renseignée au premier semestre sur une autre liste de QPV que le précédent : les effectifs avant et après ne portent pas sur les mêmes quartiers.';
CREATE OR REPLACE VIEW publication.emploi_qpv_courant AS
    SELECT t.* FROM publication.emploi_qpv t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'semestrielle';
CREATE OR REPLACE VIEW publication.emploi_qpv_serie_courant AS
    SELECT t.* FROM publication.emploi_qpv_serie t
    JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'semestrielle';
