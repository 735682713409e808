-- The fact table's references to the catalogue and the periods, checked once per statement instead of once per row.
-- Row-level foreign keys cost two index probes per inserted figure, queued until commit: about a third of a
-- France Travail delivery's load time. The same guarantees, set-based:
--   * an INSERT into core.indicator_value_vintage fails (foreign_key_violation) if any inserted row names an
--     indicator or a period that does not exist (one anti-join over the statement's rows);
--   * deleting an indicator or a period that figures still use fails at commit, unless the same transaction
--     inserts it again (the catalogue and the periods are replaced by delete + insert).

ALTER TABLE core.indicator_value_vintage
    DROP CONSTRAINT indicator_value_vintage_indicator_code_fkey,
    DROP CONSTRAINT indicator_value_vintage_period_code_fkey;

CREATE FUNCTION core.check_inserted_indicator_values() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.indicator_code, n.period_code, n.batch_id, n.line_no INTO bad
    FROM inserted n
    WHERE NOT EXISTS (SELECT 1 FROM core.indicator i WHERE i.code = n.indicator_code)
       OR NOT EXISTS (SELECT 1 FROM core.period p WHERE p.code = n.period_code)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'indicator value of batch % line % names an unknown indicator (%) or period (%)',
            bad.batch_id, bad.line_no, bad.indicator_code, bad.period_code
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER indicator_value_vintage_references
    AFTER INSERT ON core.indicator_value_vintage
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION core.check_inserted_indicator_values();

CREATE FUNCTION core.check_removed_indicator() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM core.indicator WHERE code = OLD.code)
       AND EXISTS (SELECT 1 FROM core.indicator_value_vintage WHERE indicator_code = OLD.code) THEN
        RAISE EXCEPTION 'indicator % cannot be removed: indicator values use it', OLD.code
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER indicator_still_referenced
    AFTER DELETE ON core.indicator DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION core.check_removed_indicator();

CREATE FUNCTION core.check_removed_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the periods are replaced by delete + insert: a period inserted again returns at once; only one really
    -- removed looks for figures (a scan, acceptable for an event that never happens in normal operation)
    IF NOT EXISTS (SELECT 1 FROM core.period WHERE code = OLD.code)
       AND EXISTS (SELECT 1 FROM core.indicator_value_vintage WHERE period_code = OLD.code) THEN
        RAISE EXCEPTION 'period % cannot be removed: indicator values use it', OLD.code
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER period_still_referenced
    AFTER DELETE ON core.period DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION core.check_removed_period();
