-- The publication contract: what BI tools and exports read. Every table keeps every released edition
-- (edition_id); the *_courant views show the latest released edition of each kind. Only this schema is readable by
-- the bi_reader role.

CREATE TABLE publication.edition (
    edition_id      text        PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('annuelle', 'semestrielle')),
    period_code     text        NOT NULL,
    released_at     timestamptz NOT NULL,
    inputs_digest   text        NOT NULL,
    folder          text        NOT NULL,
    manifest        jsonb       NOT NULL,
    latency_seconds bigint
);
CREATE INDEX edition_kind_period_idx ON publication.edition (kind, period_code, released_at);
COMMENT ON TABLE publication.edition IS 'Every released edition: kind (annuelle, semestrielle), period, release time, digest of its inputs, folder of its files and its manifest (tables, columns, sha256, source vintages and batches, DQ runs, disclosure rules), latency from the newest input file to release. Editions are immutable.';
COMMENT ON COLUMN publication.edition.edition_id IS 'Identifiant de l''édition : <type>-<période>-<horodatage de publication>.';
COMMENT ON COLUMN publication.edition.kind IS 'annuelle ou semestrielle.';
COMMENT ON COLUMN publication.edition.period_code IS 'Période publiée : 2024 (annuelle), 2024-S1 (semestrielle).';
COMMENT ON COLUMN publication.edition.released_at IS 'Date et heure de publication.';
COMMENT ON COLUMN publication.edition.folder IS 'Dossier des fichiers de l''édition (CSV, XLSX, Parquet, dictionnaire, manifeste), en lecture seule.';
COMMENT ON COLUMN publication.edition.manifest IS 'Le manifeste de l''édition (manifest.json).';
COMMENT ON COLUMN publication.edition.inputs_digest IS 'sha256 of the data the edition was computed from: a run whose inputs did not change makes no new edition unless forced.';
COMMENT ON COLUMN publication.edition.latency_seconds IS 'Seconds from the arrival of the newest input file used to the release.';

CREATE TABLE publication.bilan_conventions (
    edition_id          text    NOT NULL REFERENCES publication.edition (edition_id),
    annee               int     NOT NULL,
    niveau              text    NOT NULL CHECK (niveau IN ('france', 'region')),
    code_territoire     text    NOT NULL,
    territoire          text    NOT NULL,
    code_indicateur     text    NOT NULL,
    convention          text,
    libelle             text    NOT NULL,
    mode_renseignement  text,
    producteur          text,
    unite               text    NOT NULL,
    valeur              numeric,
    statut              text    NOT NULL CHECK (statut IN ('ok', 'masked', 'missing', 'not_applicable')),
    cible_texte         text,
    cible_valeur        numeric,
    ecart_cible         numeric,
    valeur_n1           numeric,
    evolution_n1        numeric,
    valeur_n3           numeric,
    evolution_n3        numeric,
    observations        text,
    PRIMARY KEY (edition_id, niveau, code_territoire, code_indicateur)
);
CREATE INDEX bilan_conventions_filter_idx ON publication.bilan_conventions (annee, code_territoire, code_indicateur);
COMMENT ON COLUMN publication.bilan_conventions.edition_id IS 'Édition (publication.edition).';
COMMENT ON TABLE publication.bilan_conventions IS 'Bilan annuel des conventions interministérielles (instruction du 26 mars 2014, annexe 2) : pour la France et chaque région, les 32 indicateurs avec valeur, cible nationale, écart à la cible, évolutions N-1 et N-3 et observations de la région. Cases soumises au secret statistique : statut masked, valeur vide.';
COMMENT ON COLUMN publication.bilan_conventions.annee IS 'Année de la campagne (résultats au 31 décembre).';
COMMENT ON COLUMN publication.bilan_conventions.niveau IS 'france ou region.';
COMMENT ON COLUMN publication.bilan_conventions.code_territoire IS 'FR, ou le code INSEE de la région.';
COMMENT ON COLUMN publication.bilan_conventions.territoire IS 'Nom du territoire.';
COMMENT ON COLUMN publication.bilan_conventions.code_indicateur IS 'Code de l''indicateur du catalogue 2014 (IND01 à IND32).';
COMMENT ON COLUMN publication.bilan_conventions.convention IS 'Convention interministérielle de l''indicateur.';
COMMENT ON COLUMN publication.bilan_conventions.libelle IS 'Libellé de l''indicateur.';
COMMENT ON COLUMN publication.bilan_conventions.mode_renseignement IS 'national (producteur national) ou local (préfecture de région).';
COMMENT ON COLUMN publication.bilan_conventions.producteur IS 'Producteur de la donnée.';
COMMENT ON COLUMN publication.bilan_conventions.unite IS 'Unité de la valeur : nombre, %, euros.';
COMMENT ON COLUMN publication.bilan_conventions.valeur IS 'Valeur de l''année ; vide si masquée, manquante ou sans objet (voir statut).';
COMMENT ON COLUMN publication.bilan_conventions.statut IS 'ok (fournie), masked (secret statistique), missing (non fournie), not_applicable (sans objet, par exemple une part nationale qui ne peut pas être recalculée sans dénominateurs).';
COMMENT ON COLUMN publication.bilan_conventions.cible_texte IS 'Cible nationale telle qu''écrite dans l''annexe 2.';
COMMENT ON COLUMN publication.bilan_conventions.cible_valeur IS 'Cible nationale chiffrée, dans l''unité de l''indicateur.';
COMMENT ON COLUMN publication.bilan_conventions.ecart_cible IS 'Valeur moins cible, dans l''unité de l''indicateur (points de pourcentage pour une part).';
COMMENT ON COLUMN publication.bilan_conventions.valeur_n1 IS 'Valeur de l''année précédente (si publiable).';
COMMENT ON COLUMN publication.bilan_conventions.evolution_n1 IS 'Valeur moins valeur N-1 (points pour une part).';
COMMENT ON COLUMN publication.bilan_conventions.valeur_n3 IS 'Valeur trois ans plus tôt (si publiable).';
COMMENT ON COLUMN publication.bilan_conventions.evolution_n3 IS 'Valeur moins valeur N-3 (points pour une part).';
COMMENT ON COLUMN publication.bilan_conventions.observations IS 'Observations de la région, telles que saisies dans son classeur.';

CREATE TABLE publication.mesures_feuille_de_route (
    edition_id  text NOT NULL REFERENCES publication.edition (edition_id),
    numero      text NOT NULL,
    axe         text,
    programme   text,
    theme       text,
    libelle     text NOT NULL,
    statut      text NOT NULL,
    PRIMARY KEY (edition_id, numero)
);
COMMENT ON COLUMN publication.mesures_feuille_de_route.edition_id IS 'Édition (publication.edition).';
COMMENT ON TABLE publication.mesures_feuille_de_route IS 'Les 40 mesures de la feuille de route de 2018 (et sous-mesures) avec leur état d''avancement.';
COMMENT ON COLUMN publication.mesures_feuille_de_route.numero IS 'Numéro de la mesure (1.a pour une sous-mesure).';
COMMENT ON COLUMN publication.mesures_feuille_de_route.axe IS 'Axe de la feuille de route.';
COMMENT ON COLUMN publication.mesures_feuille_de_route.programme IS 'Programme.';
COMMENT ON COLUMN publication.mesures_feuille_de_route.theme IS 'Thème.';
COMMENT ON COLUMN publication.mesures_feuille_de_route.libelle IS 'Libellé de la mesure.';
COMMENT ON COLUMN publication.mesures_feuille_de_route.statut IS 'Objectif atteint, En voie de finalisation, En cours de déploiement ou En cours de lancement.';

CREATE TABLE publication.mesures_synthese (
    edition_id text NOT NULL REFERENCES publication.edition (edition_id),
    statut     text NOT NULL,
    mesures    int  NOT NULL,
    part       numeric NOT NULL,
    PRIMARY KEY (edition_id, statut)
);
COMMENT ON COLUMN publication.mesures_synthese.edition_id IS 'Édition (publication.edition).';
COMMENT ON TABLE publication.mesures_synthese IS 'Synthèse de l''état des 40 mesures numérotées (sous-mesures exclues) : nombre et part par statut.';
COMMENT ON COLUMN publication.mesures_synthese.statut IS 'État d''avancement.';
COMMENT ON COLUMN publication.mesures_synthese.mesures IS 'Nombre de mesures dans cet état.';
COMMENT ON COLUMN publication.mesures_synthese.part IS 'Part des 40 mesures, en %.';

CREATE VIEW publication.edition_courante AS
    SELECT DISTINCT ON (kind) * FROM publication.edition ORDER BY kind, released_at DESC, edition_id DESC;
COMMENT ON VIEW publication.edition_courante IS 'La dernière édition publiée de chaque type.';
CREATE VIEW publication.bilan_conventions_courant AS
    SELECT b.* FROM publication.bilan_conventions b
    JOIN publication.edition_courante e ON e.edition_id = b.edition_id AND e.kind = 'annuelle';
COMMENT ON VIEW publication.bilan_conventions_courant IS 'Le bilan des conventions de la dernière édition annuelle.';
CREATE VIEW publication.mesures_feuille_de_route_courant AS
    SELECT m.* FROM publication.mesures_feuille_de_route m
    JOIN publication.edition_courante e ON e.edition_id = m.edition_id AND e.kind = 'annuelle';
COMMENT ON VIEW publication.mesures_feuille_de_route_courant IS 'Les 40 mesures de la dernière édition annuelle.';
CREATE VIEW publication.mesures_synthese_courant AS
    SELECT s.* FROM publication.mesures_synthese s
    JOIN publication.edition_courante e ON e.edition_id = s.edition_id AND e.kind = 'annuelle';
COMMENT ON VIEW publication.mesures_synthese_courant IS 'La synthèse des mesures de la dernière édition annuelle.';

-- bi_reader: reads publication, nothing else (no usage on raw, staging, core, audit; not even on public objects).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bi_reader') THEN
        CREATE ROLE bi_reader LOGIN NOINHERIT;
    END IF;
END
$$;
COMMENT ON ROLE bi_reader IS 'Read-only access to the publication schema for BI tools (Superset, Metabase, Excel).';
GRANT USAGE ON SCHEMA publication TO bi_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA publication TO bi_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA publication GRANT SELECT ON TABLES TO bi_reader;
REVOKE ALL ON SCHEMA raw, staging, core, audit FROM bi_reader;
REVOKE CREATE ON SCHEMA public FROM bi_reader;
