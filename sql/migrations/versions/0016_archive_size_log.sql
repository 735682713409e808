-- The archive is never deleted: warehouse_maintenance reports its size per source and checks that every registered
-- file is still there (append-only journal, like audit.heartbeat_log).
CREATE TABLE audit.archive_size_log (
    log_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at     timestamptz NOT NULL DEFAULT now(),
    run_id        text,
    source_id     text        NOT NULL,
    files         int         NOT NULL,
    bytes         bigint      NOT NULL,
    registered    int         NOT NULL,
    missing       int         NOT NULL,
    outside       int         NOT NULL
);
COMMENT ON TABLE audit.archive_size_log IS 'One line per source and warehouse_maintenance run: files and bytes in archive/<source>/, files registered in audit.file_registry, registered files whose archive copy is missing (must be 0), and registered files whose copy is outside this runtime folder archive (another home sharing the warehouse, or a moved OBSERVATOIRE_HOME: reported, not checked).';
