-- Rows exactly as read from France Travail's files; typed figures go to staging.indicator_value.
CREATE TABLE raw.france_travail_defm (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    mois text, niveau text, code_territoire text, libelle_territoire text,
    defm_a text, defm_abc text, defm_a_femmes text, defm_a_hommes text, defm_a_moins_26 text, defm_a_26_49 text,
    defm_a_50_plus text, defm_abc_femmes text, defm_abc_hommes text, defm_abc_moins_26 text, defm_abc_26_49 text,
    defm_abc_50_plus text, part_femmes_a text
);
CREATE INDEX raw_france_travail_defm_batch_idx ON raw.france_travail_defm (batch_id);
CREATE TABLE raw.france_travail_contacts (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    annee text, code_qp text, libelle_qp text, sites_france_travail text, relais_partenaires text
);
