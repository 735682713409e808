-- BI under load (make bench, BENCHMARKS.md "BI under load"): 16 clients on 2 cores leave each query a few
-- milliseconds of CPU at most. On publication.emploi_qpv scaled to 25 million rows the indexes of 0019 found the rows
-- but every row was then read from the table (a heap page each, scattered over the re-issues), and a question on one
-- semester or one month went through rows of every month or every category before its filter. Each index below is
-- one exact range for the questions it serves (equality on its leading columns, then the range or the order asked)
-- and carries the columns they return (INCLUDE), so that the answer is read from the index alone once the table is
-- vacuumed (VACUUM sets the visibility map; autovacuum does it after inserts). They replace three of 0019's four
-- indexes (its semester-région index stays, for the masked-cells SQL on this table) and are designed for PostgreSQL
-- 15 (the production warehouse): no reliance on 18's skip scan.

DROP INDEX publication.emploi_qpv_territoire_idx;
DROP INDEX publication.emploi_qpv_mois_idx;
DROP INDEX publication.emploi_qpv_departement_idx;

-- a territory over time (ordered by month), or a handful of QPV picked on a map in one month
CREATE INDEX emploi_qpv_territoire_idx ON publication.emploi_qpv (code_territoire, categorie, ventilation, mois)
    INCLUDE (de_qpv, de_qpv_statut, part_qpv);
-- a level's series (France over the years, régions' yearly means) and a level's top list in one month: within one
-- month the largest counts come first, so a top 20 reads 20 entries
CREATE INDEX emploi_qpv_niveau_mois_idx ON publication.emploi_qpv
    (niveau, categorie, ventilation, mois, de_qpv DESC NULLS LAST)
    INCLUDE (code_territoire, territoire, de_hors_qpv, part_qpv);
-- one month across a région's territories of a level (its départements by sex, either category)
CREATE INDEX emploi_qpv_mois_idx ON publication.emploi_qpv (mois, niveau, code_region, categorie, ventilation)
    INCLUDE (code_territoire, de_qpv, de_unite);
-- a département's QPV over time (since a month) ...
CREATE INDEX emploi_qpv_departement_idx ON publication.emploi_qpv
    (code_departement, niveau, categorie, ventilation, mois) INCLUDE (code_territoire, evolution_12_mois_qpv);
-- ... and in one semester
CREATE INDEX emploi_qpv_departement_semestre_idx ON publication.emploi_qpv
    (code_departement, niveau, categorie, ventilation, semestre) INCLUDE (mois, code_territoire, territoire, de_qpv);

-- the current edition of each kind (publication.edition_courante, behind every *_courant view: DISTINCT ON (kind)
-- ORDER BY kind, released_at DESC, edition_id DESC): its first entry, instead of a sort of every edition
CREATE INDEX edition_kind_released_idx ON publication.edition (kind, released_at DESC, edition_id DESC);

-- Cells and masked cells per edition, semester, level and région. Counting the masked cells of a semester's QPV in
-- emploi_qpv reads every cell of the semester (1.1 million index entries at the bench's scale, 100 ms or more of CPU
-- whatever the index): this table holds the same counts, a few rows per edition, kept exact by the triggers below on
-- every insert, update, delete or truncate of emploi_qpv (COPY included).
CREATE TABLE publication.emploi_qpv_cellules (
    edition_id  text   NOT NULL REFERENCES publication.edition (edition_id),
    semestre    text,
    niveau      text,
    code_region text,
    cellules    bigint NOT NULL CHECK (cellules >= 0),
    masquees    bigint NOT NULL CHECK (masquees BETWEEN 0 AND cellules),
    UNIQUE NULLS NOT DISTINCT (edition_id, semestre, niveau, code_region)
);
CREATE INDEX emploi_qpv_cellules_semestre_idx ON publication.emploi_qpv_cellules (semestre, niveau, code_region)
    INCLUDE (cellules, masquees);
COMMENT ON TABLE publication.emploi_qpv_cellules IS 'Lignes et lignes masquées du tableau de bord semestriel (publication.emploi_qpv) par édition, semestre, niveau et région : les mêmes comptes que count(*) et count(*) FILTER (WHERE statut = ''masked'') sur emploi_qpv, tenus à jour à chaque écriture de emploi_qpv.';
COMMENT ON COLUMN publication.emploi_qpv_cellules.edition_id IS 'Édition (publication.edition).';
COMMENT ON COLUMN publication.emploi_qpv_cellules.semestre IS 'Semestre : Semestre publié (2024-S1 : fin juin 2024).';
COMMENT ON COLUMN publication.emploi_qpv_cellules.niveau IS 'Niveau : france, region, departement ou qpv.';
COMMENT ON COLUMN publication.emploi_qpv_cellules.code_region IS 'Code région : Région des territoires comptés (vide pour la France).';
COMMENT ON COLUMN publication.emploi_qpv_cellules.cellules IS 'Lignes : Nombre de lignes de emploi_qpv (territoire, catégorie, ventilation, mois). Unité : nombre.';
COMMENT ON COLUMN publication.emploi_qpv_cellules.masquees IS 'Lignes masquées : Nombre de ces lignes au statut masked (secret statistique). Unité : nombre.';

CREATE FUNCTION publication.emploi_qpv_cellules_maj() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM publication.emploi_qpv_cellules;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE publication.emploi_qpv_cellules c
        SET cellules = c.cellules - g.cellules, masquees = c.masquees - g.masquees
        FROM (SELECT edition_id, semestre, niveau, code_region, count(*) AS cellules,
                     count(*) FILTER (WHERE statut = 'masked') AS masquees
              FROM anciennes GROUP BY edition_id, semestre, niveau, code_region) g
        WHERE c.edition_id = g.edition_id AND c.semestre IS NOT DISTINCT FROM g.semestre
          AND c.niveau IS NOT DISTINCT FROM g.niveau AND c.code_region IS NOT DISTINCT FROM g.code_region;
        DELETE FROM publication.emploi_qpv_cellules WHERE cellules = 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO publication.emploi_qpv_cellules AS c (edition_id, semestre, niveau, code_region, cellules, masquees)
        SELECT edition_id, semestre, niveau, code_region, count(*), count(*) FILTER (WHERE statut = 'masked')
        FROM nouvelles GROUP BY edition_id, semestre, niveau, code_region
        ON CONFLICT (edition_id, semestre, niveau, code_region)
        DO UPDATE SET cellules = c.cellules + excluded.cellules, masquees = c.masquees + excluded.masquees;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION publication.emploi_qpv_cellules_maj() IS 'Tient publication.emploi_qpv_cellules à jour après chaque écriture de publication.emploi_qpv.';
CREATE TRIGGER emploi_qpv_cellules_insert AFTER INSERT ON publication.emploi_qpv
    REFERENCING NEW TABLE AS nouvelles FOR EACH STATEMENT EXECUTE FUNCTION publication.emploi_qpv_cellules_maj();
CREATE TRIGGER emploi_qpv_cellules_update AFTER UPDATE ON publication.emploi_qpv
    REFERENCING OLD TABLE AS anciennes NEW TABLE AS nouvelles
    FOR EACH STATEMENT EXECUTE FUNCTION publication.emploi_qpv_cellules_maj();
CREATE TRIGGER emploi_qpv_cellules_delete AFTER DELETE ON publication.emploi_qpv
    REFERENCING OLD TABLE AS anciennes FOR EACH STATEMENT EXECUTE FUNCTION publication.emploi_qpv_cellules_maj();
CREATE TRIGGER emploi_qpv_cellules_truncate AFTER TRUNCATE ON publication.emploi_qpv
    FOR EACH STATEMENT EXECUTE FUNCTION publication.emploi_qpv_cellules_maj();

INSERT INTO publication.emploi_qpv_cellules (edition_id, semestre, niveau, code_region, cellules, masquees)
SELECT edition_id, semestre, niveau, code_region, count(*), count(*) FILTER (WHERE statut = 'masked')
FROM publication.emploi_qpv GROUP BY edition_id, semestre, niveau, code_region;

-- BI tools read it (bi_reader), the publication writes it through the triggers (etl_writer: the triggers run as the
-- writer); the default privileges of 0011 and 0020 give the same, said here for the reader of this file
GRANT SELECT ON publication.emploi_qpv_cellules TO bi_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON publication.emploi_qpv_cellules TO etl_writer;
