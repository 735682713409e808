-- One row per département for a PAQTE semester (etl.ops.campaigns.paqte_status).
SELECT departement_code, departement_name, region_code, semester, deadline, state, accepted_version, accepted_at,
       accepted_template_version, latest_verdict, latest_errors, latest_warnings, latest_file, latest_received_at
FROM core.paqte_submission_status WHERE semester = :semester ORDER BY departement_code
