-- France Travail's monthly individual extract (one pseudonymised line per job seeker) is read in the warehouse
-- (etl.readers.group_in_warehouse) and kept as its distinct lines without the id: `lignes` says how many file lines
-- each one stands for, `line_no` is the first of them. Lossless for every breakdown the file allows, and bounded by
-- the territories and bands, not by the number of job seekers.
CREATE TABLE raw.france_travail_individus (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    mois text, code_commune text, code_qpv text, categorie text, sexe text, tranche_age text, anciennete text,
    lignes int NOT NULL
);
CREATE INDEX raw_france_travail_individus_batch_idx ON raw.france_travail_individus (batch_id);
COMMENT ON TABLE raw.france_travail_individus IS 'The distinct lines of each France Travail individual extract, without the pseudonymised id, as read: lignes = number of file lines (job seekers), line_no = the first of them.';

CREATE TABLE staging.france_travail_individus (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    period_code text NOT NULL, commune_code text NOT NULL, departement_code text NOT NULL, qpv_code text,
    categorie text NOT NULL, sexe text NOT NULL, age text NOT NULL, anciennete text NOT NULL,
    lignes int NOT NULL CHECK (lignes > 0)
);
CREATE INDEX staging_france_travail_individus_batch_idx ON staging.france_travail_individus (batch_id);
COMMENT ON TABLE staging.france_travail_individus IS 'Job seekers of an individual extract per commune, QPV (NULL outside any), category, sex, age band and registration duration band: the typed distinct lines of raw.france_travail_individus.';

-- A commune's EPCI, where the QPV referential says it without ambiguity: the communes of the QPV that lie in one
-- EPCI belong to it; a commune those QPV give two EPCI is left out (no EPCI figure for it).
CREATE VIEW core.commune_epci AS
    SELECT c.commune_code, min(e.epci_siren) AS epci_siren
    FROM core.qpv_commune c
    JOIN core.qpv_epci e USING (qpv_code)
    WHERE c.qpv_code IN (SELECT qpv_code FROM core.qpv_epci GROUP BY qpv_code HAVING count(*) = 1)
    GROUP BY c.commune_code
    HAVING count(DISTINCT e.epci_siren) = 1;
COMMENT ON VIEW core.commune_epci IS 'The EPCI of each commune that the QPV referential places in one EPCI without ambiguity (from its single-EPCI QPV).';
