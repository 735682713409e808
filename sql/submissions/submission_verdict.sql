-- The verdict on one received workbook, recorded (or updated on a new check) by etl.submissions.intake.
INSERT INTO audit.submission_verdict (batch_id, source_id, original_name, region_code, campaign, departement_code,
    semester, template_version, verdict, errors, warnings, findings, report_path)
VALUES (:batch_id, :source_id, :original_name, :region_code, :campaign, :departement_code, :semester,
    :template_version, :verdict, :errors, :warnings, CAST(:findings AS jsonb), :report_path)
ON CONFLICT (batch_id) DO UPDATE SET region_code = EXCLUDED.region_code, campaign = EXCLUDED.campaign,
    departement_code = EXCLUDED.departement_code, semester = EXCLUDED.semester,
    template_version = EXCLUDED.template_version, verdict = EXCLUDED.verdict, errors = EXCLUDED.errors,
    warnings = EXCLUDED.warnings, findings = EXCLUDED.findings, checked_at = now(),
    report_path = EXCLUDED.report_path
