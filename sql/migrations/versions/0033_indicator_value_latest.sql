-- The latest vintage of each figure as a table kept by the loads, instead of a view computing it at each read.
-- The view (0005) sorted every vintage of the figures a query asked for to keep the newest of each: the semestrial
-- edition read it three times over its months, the cross-checks of each France Travail file once, the annual
-- edition and the fiches again. core.indicator_value is now a table with the same name, columns and rows, written
-- only by the triggers below on core.indicator_value_vintage (every insert, update, delete or truncate, COPY
-- included, in the same transaction as the load, so a load that fails leaves it as it was):
--   * rows inserted: per figure, the newest of the inserted vintages replaces the table's row unless that row is
--     newer (a late delivery of an older vintage changes nothing);
--   * rows deleted (a batch replaced, a partition reloaded): a figure whose latest vintage went is recomputed from
--     the vintages left (the newest of them), or leaves the table when none is left;
--   * an update is a delete then an insert.

DROP VIEW core.indicator_value;

CREATE TABLE core.indicator_value (
    indicator_code  text    NOT NULL,
    territory_level text    NOT NULL,
    territory_code  text    NOT NULL,
    period_code     text    NOT NULL,
    breakdown       text    NOT NULL,
    value           numeric,
    status          text    NOT NULL,
    vintage         text    NOT NULL,
    source_id       text    NOT NULL,
    batch_id        bigint  NOT NULL,
    line_no         int     NOT NULL,
    PRIMARY KEY (indicator_code, territory_level, territory_code, period_code, breakdown)
);
-- the editions and the cross-checks ask for some periods of some indicators (a semester's months, a file's months)
CREATE INDEX indicator_value_period_idx ON core.indicator_value (period_code, indicator_code);
COMMENT ON TABLE core.indicator_value IS 'The latest vintage of each figure (kept by the triggers of core.indicator_value_vintage; never written directly); earlier vintages stay in core.indicator_value_vintage.';

CREATE FUNCTION core.indicator_value_latest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM core.indicator_value;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM core.indicator_value l
        USING old_vintages o
        WHERE l.indicator_code = o.indicator_code AND l.territory_level = o.territory_level
          AND l.territory_code = o.territory_code AND l.period_code = o.period_code AND l.breakdown = o.breakdown
          AND l.vintage = o.vintage;
        INSERT INTO core.indicator_value
        SELECT DISTINCT ON (v.indicator_code, v.territory_level, v.territory_code, v.period_code, v.breakdown)
               v.indicator_code, v.territory_level, v.territory_code, v.period_code, v.breakdown, v.value, v.status,
               v.vintage, v.source_id, v.batch_id, v.line_no
        FROM core.indicator_value_vintage v
        JOIN (SELECT DISTINCT indicator_code, territory_level, territory_code, period_code, breakdown
              FROM old_vintages) o
          ON v.indicator_code = o.indicator_code AND v.territory_level = o.territory_level
         AND v.territory_code = o.territory_code AND v.period_code = o.period_code AND v.breakdown = o.breakdown
        ORDER BY v.indicator_code, v.territory_level, v.territory_code, v.period_code, v.breakdown, v.vintage DESC
        ON CONFLICT (indicator_code, territory_level, territory_code, period_code, breakdown) DO NOTHING;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO core.indicator_value AS l
        SELECT DISTINCT ON (n.indicator_code, n.territory_level, n.territory_code, n.period_code, n.breakdown)
               n.indicator_code, n.territory_level, n.territory_code, n.period_code, n.breakdown, n.value, n.status,
               n.vintage, n.source_id, n.batch_id, n.line_no
        FROM new_vintages n
        ORDER BY n.indicator_code, n.territory_level, n.territory_code, n.period_code, n.breakdown, n.vintage DESC
        ON CONFLICT (indicator_code, territory_level, territory_code, period_code, breakdown) DO UPDATE
        SET value = excluded.value, status = excluded.status, vintage = excluded.vintage,
            source_id = excluded.source_id, batch_id = excluded.batch_id, line_no = excluded.line_no
        WHERE l.vintage <= excluded.vintage;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION core.indicator_value_latest() IS 'Keeps core.indicator_value (the latest vintage of each figure) after each write of core.indicator_value_vintage.';
CREATE TRIGGER indicator_value_latest_insert AFTER INSERT ON core.indicator_value_vintage
    REFERENCING NEW TABLE AS new_vintages FOR EACH STATEMENT EXECUTE FUNCTION core.indicator_value_latest();
CREATE TRIGGER indicator_value_latest_update AFTER UPDATE ON core.indicator_value_vintage
    REFERENCING OLD TABLE AS old_vintages NEW TABLE AS new_vintages
    FOR EACH STATEMENT EXECUTE FUNCTION core.indicator_value_latest();
CREATE TRIGGER indicator_value_latest_delete AFTER DELETE ON core.indicator_value_vintage
    REFERENCING OLD TABLE AS old_vintages FOR EACH STATEMENT EXECUTE FUNCTION core.indicator_value_latest();
CREATE TRIGGER indicator_value_latest_truncate AFTER TRUNCATE ON core.indicator_value_vintage
    FOR EACH STATEMENT EXECUTE FUNCTION core.indicator_value_latest();

INSERT INTO core.indicator_value
SELECT DISTINCT ON (indicator_code, territory_level, territory_code, period_code, breakdown)
       indicator_code, territory_level, territory_code, period_code, breakdown, value, status,
       vintage, source_id, batch_id, line_no
FROM core.indicator_value_vintage
ORDER BY indicator_code, territory_level, territory_code, period_code, breakdown, vintage DESC;

-- the loads write it through the triggers (etl_writer: the triggers run as the writer); the default privileges of
-- 0020 give the same, said here for the reader of this file
GRANT SELECT, INSERT, UPDATE, DELETE ON core.indicator_value TO etl_writer;
