-- One fact table for every indicator value, whatever its source. Producers revise recent periods: every
-- delivery (vintage) is kept; core.indicator_value shows the latest vintage of each figure.

CREATE TABLE staging.indicator_value (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    indicator_code text NOT NULL, territory_level text NOT NULL, territory_code text NOT NULL,
    period_code text NOT NULL, breakdown text NOT NULL, value numeric, status text NOT NULL
);
CREATE INDEX staging_indicator_value_batch_idx ON staging.indicator_value (batch_id);

CREATE TABLE core.indicator_value_vintage (
    indicator_code  text    NOT NULL REFERENCES core.indicator (code) DEFERRABLE INITIALLY DEFERRED,
    territory_level text    NOT NULL CHECK (territory_level IN ('qpv', 'commune', 'epci', 'departement', 'region', 'france')),
    territory_code  text    NOT NULL,
    period_code     text    NOT NULL REFERENCES core.period (code) DEFERRABLE INITIALLY DEFERRED,
    breakdown       text    NOT NULL DEFAULT 'total',
    value           numeric,
    status          text    NOT NULL CHECK (status IN ('ok', 'masked', 'missing')),
    vintage         text    NOT NULL,
    source_id       text    NOT NULL,
    batch_id        bigint  NOT NULL,
    line_no         int     NOT NULL,
    PRIMARY KEY (indicator_code, territory_level, territory_code, period_code, breakdown, vintage),
    CHECK ((status = 'ok') = (value IS NOT NULL))
);
CREATE INDEX indicator_value_vintage_batch_idx ON core.indicator_value_vintage (batch_id);
COMMENT ON TABLE core.indicator_value_vintage IS 'Every value of every delivery (vintage: which file said what). A masked cell has status masked and no value, never 0.';
COMMENT ON COLUMN core.indicator_value_vintage.breakdown IS 'total, or dimension=value pairs joined by | (sexe=F, age=<26, sexe=F|age=<26).';

CREATE VIEW core.indicator_value AS
    SELECT DISTINCT ON (indicator_code, territory_level, territory_code, period_code, breakdown)
           indicator_code, territory_level, territory_code, period_code, breakdown, value, status,
           vintage, source_id, batch_id, line_no
    FROM core.indicator_value_vintage
    ORDER BY indicator_code, territory_level, territory_code, period_code, breakdown, vintage DESC;
COMMENT ON VIEW core.indicator_value IS 'The latest vintage of each figure; earlier vintages stay in core.indicator_value_vintage.';

-- Operator statistics join the catalogue (family operator), from catalogue/indicateurs_operateurs.csv.
CREATE TABLE raw.catalogue_operateur (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    code text, libelle text, unite text, producteur text, periodicite text, definition text, regle_diffusion text
);
CREATE TABLE staging.catalogue_operateur (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    code text NOT NULL, libelle text NOT NULL, unite text NOT NULL, producteur text NOT NULL, periodicite text NOT NULL,
    definition text NOT NULL, regle_diffusion text NOT NULL
);
