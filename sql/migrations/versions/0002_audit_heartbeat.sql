-- Journal of maintenance runs. Tables named *_log are append-only journals: they grow with every run by
-- design and are left out of the warehouse state fingerprint (etl/warehouse/fingerprint.py).
CREATE TABLE audit.heartbeat_log (
    beat_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dag_id        text        NOT NULL,
    run_id        text        NOT NULL,
    beat_at       timestamptz NOT NULL DEFAULT now(),
    schema_version text       NOT NULL,
    server_version text       NOT NULL
);
COMMENT ON TABLE audit.heartbeat_log IS 'One line per warehouse_maintenance run: which Airflow run reached the warehouse, when, at which schema version.';
