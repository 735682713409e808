-- Every alert mailed, once: the key is claimed before the mail leaves, so a failed batch, a late file or a missed
-- campaign deadline gives one message however many tasks fail, retries run or schedulers look (etl/ops/alerts.py).
CREATE TABLE audit.alert_log (
    alert_key   text        PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('batch', 'task', 'late_file', 'campaign')),
    dag_id      text,
    run_id      text,
    task_id     text,
    batch_id    bigint      REFERENCES audit.batch (batch_id),
    subject     text        NOT NULL,
    recipients  text        NOT NULL,
    sent_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE audit.alert_log IS 'One line per alert mailed: batch (a file quarantined), task (a task failed for another reason), late_file (a source file not arrived by its deadline), campaign (a regional campaign deadline passed with régions missing). The key makes each alert unique.';
