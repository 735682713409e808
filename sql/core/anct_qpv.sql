-- A geography's QPV, their communes and EPCI. Validity: the 2015 geography ran 2015-2023 in metropolitan
-- France and until the end of 2024 overseas (decree 2023-1314: overseas 2024 geography from 2025).
DELETE FROM core.qpv WHERE batch_id = ANY(CAST(:old_batches AS bigint[]));  -- cascades to qpv_commune / qpv_epci

INSERT INTO core.qpv (code, geography, nom, departement_code, region_code, valid_from, valid_to, batch_id)
SELECT s.code_qp,
       s.geography,
       s.lib_qp,
       s.insee_dep,
       s.insee_reg,
       CASE WHEN s.geography = '2015' THEN DATE '2015-01-01'
            WHEN s.insee_dep LIKE '97%' THEN DATE '2025-01-01'
            ELSE DATE '2024-01-01' END,
       CASE WHEN s.geography = '2015' AND s.insee_dep LIKE '97%' THEN DATE '2025-01-01'
            WHEN s.geography = '2015' THEN DATE '2024-01-01' END,
       s.batch_id
FROM staging.qpv s
WHERE s.batch_id = :batch_id;

INSERT INTO core.qpv_commune (qpv_code, commune_code, commune_nom, batch_id)
SELECT code_qp, insee_com, min(lib_com), batch_id
FROM staging.qpv_commune WHERE batch_id = :batch_id
GROUP BY code_qp, insee_com, batch_id;

INSERT INTO core.qpv_epci (qpv_code, epci_siren, epci_nom, batch_id)
SELECT code_qp, siren_epci, min(lib_epci), batch_id
FROM staging.qpv_epci WHERE batch_id = :batch_id
GROUP BY code_qp, siren_epci, batch_id;
