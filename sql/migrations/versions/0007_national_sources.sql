-- CAF, Agence nationale du sport and the other national producers. Raw tables hold the rows exactly as read;
-- typed figures go to staging.indicator_value like every indicator-value source, plus two typed staging tables:
-- the CAF households (consistency checks of rounded counts) and the ANS subsidy lines (IND22 is computed from them).

CREATE TABLE raw.caf_allocataires (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    dtreffile text, code_qp text, libelle_qp text, nb_allocataires text, nb_personnes_couvertes text,
    nb_alloc_rsa text, nb_alloc_aah text, nb_alloc_logement text, nb_alloc_isoles text,
    nb_alloc_couples_sans_enfant text, nb_alloc_couples_avec_enfants text, nb_alloc_monoparents text
);
CREATE TABLE staging.caf_foyers (
    batch_id bigint NOT NULL, line_no int NOT NULL, annee text NOT NULL, code_qp text NOT NULL,
    allocataires numeric, personnes_couvertes numeric, rsa numeric, aah numeric, logement numeric,
    isoles numeric, couples_sans_enfant numeric, couples_avec_enfants numeric, monoparents numeric,
    ecart_composition numeric
);
COMMENT ON COLUMN staging.caf_foyers.ecart_composition IS 'Sum of the four household types minus the total: not 0 because the CAF rounds every count to 5 (|gap| <= 10 accepted).';

CREATE TABLE raw.caf_creches (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    trimestre text, code_qp text, libelle_qp text, places_creees text, places_renovees text, places_eaje text
);

CREATE TABLE raw.ans_subventions (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    annee text, numero_dossier text, beneficiaire text, siret text, code_commune text, code_qpv text, montant text,
    type_subvention text
);
CREATE TABLE staging.ans_subvention (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    annee text NOT NULL, numero_dossier text NOT NULL, beneficiaire text NOT NULL, siret text NOT NULL,
    code_commune text NOT NULL, departement_code text NOT NULL, code_qpv text NOT NULL, montant numeric,
    type_subvention text NOT NULL, status text NOT NULL
);
CREATE TABLE core.ans_subvention (
    annee int NOT NULL,
    numero_dossier text NOT NULL,
    beneficiaire text NOT NULL,
    siret text NOT NULL,
    code_commune text NOT NULL,
    departement_code text NOT NULL REFERENCES core.departement (code) DEFERRABLE INITIALLY DEFERRED,
    code_qpv text REFERENCES core.qpv (code) DEFERRABLE INITIALLY DEFERRED,
    montant numeric(14, 2) NOT NULL CHECK (montant > 0),
    type_subvention text NOT NULL CHECK (type_subvention IN ('equipement', 'fonctionnement')),
    batch_id bigint NOT NULL,
    line_no int NOT NULL,
    PRIMARY KEY (annee, numero_dossier)
);
COMMENT ON TABLE core.ans_subvention IS 'Subsidies of the Agence nationale du sport (ex-CNDS), one row per grant; code_qpv NULL when the action is outside the QPV. Basis of IND22.';

CREATE TABLE raw.ans_licences (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    annee text, code_qpv text, libelle_qpv text, sexe text, licences text
);

CREATE TABLE raw.national_indicateurs (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    indicateur text, niveau text, code_territoire text, periode text, valeur text, unite text, producteur text,
    commentaire text
);

CREATE INDEX raw_caf_allocataires_batch_idx ON raw.caf_allocataires (batch_id);
CREATE INDEX raw_ans_subventions_batch_idx ON raw.ans_subventions (batch_id);
