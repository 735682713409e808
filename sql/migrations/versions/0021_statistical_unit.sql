-- What an indicator counts (for a share: what its numerator counts), from catalogue/indicateurs_2014.csv. Statistical
-- secrecy applies to `personnes` and `foyers` only (etl/referentiels/catalogue.py SECRET_UNITS). The operator
-- statistics (catalogue/indicateurs_operateurs.csv) say it too; null for the 2018 measures' indicators (their
-- catalogue does not say it yet).
ALTER TABLE raw.catalogue_indicateur ADD COLUMN unite_statistique text;
ALTER TABLE staging.catalogue_indicateur ADD COLUMN unite_statistique text;
ALTER TABLE raw.catalogue_operateur ADD COLUMN unite_statistique text;
ALTER TABLE staging.catalogue_operateur ADD COLUMN unite_statistique text;
ALTER TABLE core.indicator ADD COLUMN unite_statistique text CHECK (unite_statistique IN (
    'personnes', 'foyers', 'agents', 'structures', 'places', 'actes', 'actions', 'projets', 'zones', 'qpv', 'postes',
    'euros'));
COMMENT ON COLUMN core.indicator.unite_statistique IS 'What the indicator counts (for a share, its numerator): personnes, foyers, agents, structures, places, actes, actions, projets, zones, qpv, postes, euros. Statistical secrecy covers personnes and foyers only. Null where the catalogue does not say it yet.';
