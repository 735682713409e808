-- Reference data every fact joins to. Layers: raw (text as read) -> staging (typed) -> core (conformed).
-- Every raw/staging/core row carries the batch_id of the file it came from (audit.batch), and raw/staging
-- rows the line_no of the file line, so any figure can be traced back to a file and a line.

-- ---------------------------------------------------------------- raw: rows exactly as read (text)
CREATE TABLE raw.cog_region (batch_id bigint NOT NULL, line_no int NOT NULL, code text, nom text);
CREATE TABLE raw.cog_departement (batch_id bigint NOT NULL, line_no int NOT NULL, code text, nom text, code_region text);
CREATE TABLE raw.anct_qpv (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    code_qp text, lib_qp text, insee_reg text, lib_reg text, insee_dep text, lib_dep text,
    insee_com text, lib_com text, siren_epci text, lib_epci text
);
CREATE TABLE raw.anct_qpv_correspondance (
    batch_id bigint NOT NULL, line_no int NOT NULL, code_qp_2015 text, code_qp_2024 text, type_evolution text
);
CREATE TABLE raw.catalogue_indicateur (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    code text, convention text, objectif_strategique text, objectif_operationnel text, bop text, libelle text,
    cible_texte text, cible_valeur text, cible_unite text, cible_comparateur text, cible_horizon text,
    mode text, producteur text, mode_resolu text, mode_texte text
);
CREATE TABLE raw.catalogue_mesure (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    numero text, axe text, programme text, theme text, libelle text, statut text
);
CREATE TABLE raw.catalogue_mesure_indicateur (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    numero_mesure text, rang text, libelle text, cible_texte text, cible_valeur text, cible_unite text, cible_horizon text
);

-- ---------------------------------------------------------------- staging: typed, normalised
CREATE TABLE staging.cog_region (batch_id bigint NOT NULL, line_no int NOT NULL, code text NOT NULL, nom text NOT NULL);
CREATE TABLE staging.cog_departement (
    batch_id bigint NOT NULL, line_no int NOT NULL, code text NOT NULL, nom text NOT NULL, code_region text NOT NULL
);
CREATE TABLE staging.qpv (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    code_qp text NOT NULL, lib_qp text NOT NULL, geography text NOT NULL,
    insee_reg text NOT NULL, lib_reg text, insee_dep text NOT NULL, lib_dep text
);
CREATE TABLE staging.qpv_commune (
    batch_id bigint NOT NULL, line_no int NOT NULL, code_qp text NOT NULL, insee_com text NOT NULL, lib_com text
);
CREATE TABLE staging.qpv_epci (
    batch_id bigint NOT NULL, line_no int NOT NULL, code_qp text NOT NULL, siren_epci text NOT NULL, lib_epci text
);
CREATE TABLE staging.qpv_correspondance (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    code_qp_2015 text NOT NULL, code_qp_2024 text, type_evolution text NOT NULL
);
CREATE TABLE staging.catalogue_indicateur (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    code text NOT NULL, convention text NOT NULL, objectif_strategique text, objectif_operationnel text, bop text,
    libelle text NOT NULL, cible_texte text, cible_valeur numeric, cible_unite text, cible_comparateur text,
    cible_horizon int, mode text NOT NULL, producteur text, mode_resolu boolean NOT NULL, mode_texte text
);
CREATE TABLE staging.catalogue_mesure (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    numero text NOT NULL, axe text, programme text, theme text, libelle text NOT NULL, statut text NOT NULL
);
CREATE TABLE staging.catalogue_mesure_indicateur (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    numero_mesure text NOT NULL, rang text NOT NULL, libelle text NOT NULL, cible_texte text, cible_valeur numeric,
    cible_unite text, cible_horizon int
);

-- ---------------------------------------------------------------- core: conformed dimensions
CREATE TABLE core.region (
    code text PRIMARY KEY CHECK (code ~ '^[0-9]{2}$'),
    nom text NOT NULL,
    batch_id bigint NOT NULL
);
CREATE TABLE core.departement (
    code text PRIMARY KEY CHECK (code ~ '^([0-9]{2}|2[AB]|97[1-6])$'),
    nom text NOT NULL,
    region_code text NOT NULL REFERENCES core.region (code) DEFERRABLE INITIALLY DEFERRED,
    batch_id bigint NOT NULL
);
CREATE TABLE core.geography (
    code text PRIMARY KEY,
    label text NOT NULL,
    legal_basis text NOT NULL
);
INSERT INTO core.geography VALUES
    ('2015', 'Géographie prioritaire 2015-2023 (QP + 6 caractères)', 'Décrets n° 2014-1750 et 2014-1751 du 30 décembre 2014'),
    ('2024', 'Géographie prioritaire 2024 (QN + 6 caractères)', 'Décret n° 2023-1314 du 28 décembre 2023 (outre-mer à partir de 2025)');

CREATE TABLE core.qpv (
    code text PRIMARY KEY CHECK (code ~ '^Q[PN](0[0-9][0-9]|02[AB]|97[1-6])[0-9]{2}[0-9NMI]$'),
    geography text NOT NULL REFERENCES core.geography (code),
    nom text NOT NULL,
    departement_code text NOT NULL REFERENCES core.departement (code) DEFERRABLE INITIALLY DEFERRED,
    region_code text NOT NULL REFERENCES core.region (code) DEFERRABLE INITIALLY DEFERRED,
    valid_from date NOT NULL,
    valid_to date,
    batch_id bigint NOT NULL,
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX qpv_departement_idx ON core.qpv (departement_code, geography);
CREATE TABLE core.qpv_commune (
    qpv_code text NOT NULL REFERENCES core.qpv (code) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    commune_code text NOT NULL CHECK (commune_code ~ '^([0-9]{5}|2[AB][0-9]{3})$'),
    commune_nom text,
    batch_id bigint NOT NULL,
    PRIMARY KEY (qpv_code, commune_code)
);
CREATE TABLE core.qpv_epci (
    qpv_code text NOT NULL REFERENCES core.qpv (code) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    epci_siren text NOT NULL CHECK (epci_siren ~ '^[0-9]{9}$'),
    epci_nom text,
    batch_id bigint NOT NULL,
    PRIMARY KEY (qpv_code, epci_siren)
);
CREATE TABLE core.qpv_correspondance (
    qpv_2015 text NOT NULL,
    qpv_2024 text,
    type_evolution text NOT NULL CHECK (type_evolution IN ('identique', 'modifie', 'sortant')),
    batch_id bigint NOT NULL,
    UNIQUE (qpv_2015, qpv_2024)
);

CREATE VIEW core.commune AS
    SELECT commune_code AS code, min(commune_nom) AS nom FROM core.qpv_commune GROUP BY commune_code;
CREATE VIEW core.epci AS
    SELECT epci_siren AS siren, min(epci_nom) AS nom FROM core.qpv_epci GROUP BY epci_siren;
CREATE VIEW core.qpv_veille_active AS
    SELECT q.* FROM core.qpv q
    JOIN core.qpv_correspondance c ON c.qpv_2015 = q.code AND c.type_evolution = 'sortant';
COMMENT ON VIEW core.qpv_veille_active IS 'QPV of the 2015 geography that left the priority geography in 2024: kept under "veille active" monitoring.';

CREATE TABLE core.period (
    code text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('month', 'quarter', 'semester', 'year')),
    start_date date NOT NULL,
    end_date date NOT NULL,
    year int NOT NULL,
    semester_code text,
    quarter_code text,
    label text NOT NULL,
    CHECK (end_date >= start_date)
);
COMMENT ON TABLE core.period IS 'Periods and their roll-ups: month 2024-03 -> quarter 2024-Q1 -> semester 2024-S1 -> year 2024.';

CREATE TABLE core.indicator (
    code text PRIMARY KEY,
    family text NOT NULL CHECK (family IN ('convention_2014', 'feuille_de_route_2018', 'operator')),
    libelle text NOT NULL,
    convention text,
    objectif_strategique text,
    objectif_operationnel text,
    bop text,
    measure_numero text,
    cible_texte text,
    cible_valeur numeric,
    cible_unite text,
    cible_comparateur text,
    cible_horizon int,
    mode text CHECK (mode IN ('national', 'local')),
    producteur text,
    mode_resolu boolean NOT NULL DEFAULT false,
    definition text NOT NULL,
    unite text NOT NULL,
    source text NOT NULL,
    periodicite text NOT NULL,
    regle_diffusion text NOT NULL,
    batch_id bigint NOT NULL
);
COMMENT ON TABLE core.indicator IS 'The indicator catalogue with each indicator''s fiche méthodologique (definition, unit, source, periodicity, disclosure rule).';

CREATE TABLE core.measure (
    numero text PRIMARY KEY,
    numero_parent text,
    axe text,
    programme text,
    theme text,
    libelle text NOT NULL,
    statut text NOT NULL CHECK (statut IN ('Objectif atteint', 'En voie de finalisation', 'En cours de déploiement', 'En cours de lancement')),
    batch_id bigint NOT NULL
);
COMMENT ON TABLE core.measure IS 'The measures of the 2018 roadmap (40 numbered measures, plus sub-measures 1.a and 1.b) with their status.';

CREATE VIEW core.measure_status_summary AS
    SELECT statut,
           count(*) AS measures,
           sum(count(*)) OVER () AS total,
           round(100.0 * count(*) / sum(count(*)) OVER ()) AS percent
    FROM core.measure
    WHERE numero_parent IS NULL
    GROUP BY statut;
COMMENT ON VIEW core.measure_status_summary IS 'Status summary over the numbered measures (sub-measures such as 1.a excluded), as in the roadmap follow-up table.';
