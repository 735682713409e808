-- INSEE's population of each QPV (etl/sources/insee.py): the rows of a workbook below its title block, or of its CSV
-- derivative, as read. `annee` is the population's reference year, read from the file name (pop_qpv_2020.xlsx);
-- line_no is the row of the sheet or the line of the file. The typed figures go to staging.indicator_value
-- (INSEE_POP_QPV).
CREATE TABLE raw.insee_population (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    annee text, codeqpv text, libqpv text, codereg text, codeuu text, popmuniqpv text, partpop15_24 text,
    pop15_64 text, partpop15_64 text, listedepcom text, listelibdepcom text, listeepci text, listedep text
);
CREATE INDEX raw_insee_population_batch_idx ON raw.insee_population (batch_id);
COMMENT ON TABLE raw.insee_population IS 'INSEE''s population of the QPV as read, one row per QPV: annee = the reference year of the file name, codeuu and listeepci without their zoning year (codeuu2020, listeepci2022), list columns as written (comma-separated).';

-- The population of a QPV counts its inhabitants, which INSEE publishes: a unit of its own, outside statistical
-- secrecy (etl/referentiels/catalogue.py STATISTICAL_UNITS, SECRET_UNITS).
ALTER TABLE core.indicator DROP CONSTRAINT indicator_unite_statistique_check;
ALTER TABLE core.indicator ADD CONSTRAINT indicator_unite_statistique_check CHECK (unite_statistique IN (
    'personnes', 'foyers', 'agents', 'structures', 'places', 'actes', 'actions', 'projets', 'zones', 'qpv', 'postes',
    'euros', 'habitants'));
COMMENT ON COLUMN core.indicator.unite_statistique IS 'What the indicator counts (for a share, its numerator): personnes, foyers, agents, structures, places, actes, actions, projets, zones, qpv, postes, euros, habitants (a population published by INSEE). Statistical secrecy covers personnes and foyers only. Null where the catalogue does not say it yet.';
COMMENT ON COLUMN publication.bilan_conventions.unite_statistique IS 'Unité statistique : ce que compte l''indicateur (pour une part, son numérateur) : personnes, foyers, agents, structures, places, actes, actions, projets, zones, qpv, postes, euros ou habitants. Le secret statistique ne porte que sur les personnes et les foyers. Vide quand le catalogue ne le dit pas encore.';
COMMENT ON COLUMN publication.mesures_indicateurs.unite_statistique IS 'Unité statistique : ce que compte l''indicateur (pour une part, son numérateur) : personnes, foyers, agents, structures, places, actes, actions, projets, zones, qpv, postes, euros ou habitants. Le secret statistique ne porte que sur les personnes et les foyers. Vide quand le catalogue ne le dit pas encore.';
