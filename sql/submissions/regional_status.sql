-- One row per région for a regional campaign (etl.ops.campaigns.campaign_status).
SELECT region_code, region_name, campaign, deadline, state, accepted_version, accepted_at,
       accepted_template_version, latest_verdict, latest_errors, latest_warnings, latest_file, latest_received_at
FROM core.regional_submission_status WHERE campaign = :campaign ORDER BY region_code
