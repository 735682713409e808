-- The PAQTE reports of a semester per département (letter of 22 January 2019, annex 2): the state of each
-- département's report (acceptée, rejetée, non reçue) and, for the current accepted report, the number of signatory
-- companies and the aggregated results per axis (etl.submissions.paqte.KEY_INDICATORS, fields `resultat.<code>`).
SELECT s.departement_code AS code_departement, s.departement_name AS departement, s.region_code AS code_region,
       s.semester AS semestre, s.state AS etat, s.accepted_batch_id,
       v.field, v.value, v.status
FROM core.paqte_submission_status s
LEFT JOIN core.paqte_submission_value v
       ON v.batch_id = s.accepted_batch_id
      AND (v.field = 'entreprises_signataires' OR (v.field LIKE 'resultat.%' AND v.field NOT LIKE '%.observations'))
WHERE s.semester = :semester
ORDER BY s.departement_code, v.field;
