-- The layers of the warehouse (see DESIGN.md, "Data flow").
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS publication;
CREATE SCHEMA IF NOT EXISTS audit;

COMMENT ON SCHEMA raw IS 'Rows exactly as read from received files (text), with batch id and line number.';
COMMENT ON SCHEMA staging IS 'Typed, normalised rows: codes as zero-padded text, decimals parsed, masked cells as a status.';
COMMENT ON SCHEMA core IS 'Conformed dimensions (territory, period, indicator, source) and facts with vintages.';
COMMENT ON SCHEMA publication IS 'Stable contract read by BI tools and exports; every object is documented with COMMENT ON.';
COMMENT ON SCHEMA audit IS 'File registry, load batches, data-quality results, publication editions, run journals.';
