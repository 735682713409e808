-- An accepted PAQTE report replaces its département's report for the semester (partition `<département>/<semestre>`);
-- the earlier one stays in core.paqte_submission(_value), marked superseded_by. Re-running a batch replaces its rows.
DELETE FROM core.paqte_submission_value WHERE batch_id = :batch_id;
UPDATE core.paqte_submission SET superseded_by = NULL WHERE superseded_by = :batch_id;
DELETE FROM core.paqte_submission WHERE batch_id = :batch_id;

UPDATE core.paqte_submission s SET superseded_by = :batch_id
FROM (SELECT DISTINCT departement_code, semester FROM staging.paqte_submission_value WHERE batch_id = :batch_id) n
WHERE s.departement_code = n.departement_code AND s.semester = n.semester AND s.superseded_by IS NULL;

INSERT INTO core.paqte_submission (batch_id, departement_code, semester, template_version, version, accepted_at)
SELECT v.batch_id, v.departement_code, v.semester, v.template_version,
       1 + (SELECT count(*) FROM core.paqte_submission s
            WHERE s.departement_code = v.departement_code AND s.semester = v.semester),
       now()
FROM staging.paqte_submission_value v
WHERE v.batch_id = :batch_id
GROUP BY v.batch_id, v.departement_code, v.semester, v.template_version;

INSERT INTO core.paqte_submission_value (batch_id, line_no, sheet, cell, field, row_no, raw_value, value, text, status)
SELECT batch_id, line_no, sheet, cell, field, row_no, raw_value, value, text, status
FROM staging.paqte_submission_value
WHERE batch_id = :batch_id;
