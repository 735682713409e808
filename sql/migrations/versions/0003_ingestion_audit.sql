-- The path every file takes leaves its trace here (see etl/landing.py and etl/pipeline.py).

CREATE TABLE audit.file_registry (
    source_id        text        NOT NULL,
    sha256           text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes       bigint      NOT NULL,
    original_name    text        NOT NULL,
    archive_path     text        NOT NULL,
    first_received_at timestamptz NOT NULL,
    PRIMARY KEY (source_id, sha256)
);
COMMENT ON TABLE audit.file_registry IS 'Every distinct file (by sha256) received per source, with its immutable archive copy. Never deleted.';

CREATE TABLE audit.batch (
    batch_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id      text        NOT NULL,
    sha256         text        NOT NULL,
    original_name  text        NOT NULL,
    partition_key  text,
    status         text        NOT NULL CHECK (status IN ('received', 'loaded', 'quarantined', 'superseded')),
    received_at    timestamptz NOT NULL,
    finished_at    timestamptz,
    run_id         text,
    rows_read      bigint,
    rows_loaded    bigint,
    message        text,
    report_path    text,
    FOREIGN KEY (source_id, sha256) REFERENCES audit.file_registry (source_id, sha256),
    UNIQUE (source_id, sha256)
);
CREATE INDEX batch_partition_idx ON audit.batch (source_id, partition_key, status);
COMMENT ON TABLE audit.batch IS 'One load attempt per distinct file: its partition, outcome (loaded, quarantined, superseded by a later file of the same partition) and why.';

CREATE TABLE audit.receipt_log (
    receipt_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at    timestamptz NOT NULL DEFAULT now(),
    source_id      text        NOT NULL,
    original_name  text        NOT NULL,
    sha256         text        NOT NULL,
    size_bytes     bigint      NOT NULL,
    outcome        text        NOT NULL CHECK (outcome IN ('new', 'duplicate')),
    batch_id       bigint      REFERENCES audit.batch (batch_id)
);
COMMENT ON TABLE audit.receipt_log IS 'Journal of every file drop, duplicates included (append-only).';

CREATE TABLE audit.dq_result (
    batch_id          bigint      NOT NULL REFERENCES audit.batch (batch_id),
    run_id            text,
    suite             text        NOT NULL,
    gate              text        NOT NULL,
    expectation_type  text        NOT NULL,
    column_name       text,
    blocking          boolean     NOT NULL,
    success           boolean     NOT NULL,
    unexpected_count  bigint,
    unexpected_sample jsonb,
    kwargs            jsonb,
    validated_at      timestamptz NOT NULL
);
CREATE INDEX dq_result_batch_idx ON audit.dq_result (batch_id);
COMMENT ON TABLE audit.dq_result IS 'Great Expectations results per batch and expectation: blocking or warning, success, unexpected count and a sample with file line numbers.';
