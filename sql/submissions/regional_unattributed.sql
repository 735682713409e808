-- The regional files whose région or campaign could not be told (etl.ops.campaigns.campaign_status).
SELECT v.original_name, v.errors, b.received_at FROM audit.submission_verdict v JOIN audit.batch b USING (batch_id)
WHERE v.source_id = 'regional' AND (v.region_code IS NULL OR v.campaign IS NULL) ORDER BY b.received_at
