-- What dashboards and analysts ask publication.emploi_qpv (make bench, BENCHMARKS.md): without these, a question
-- about one month or one département reads every edition's rows. Each index starts with the column a query pins.

-- a territory (or a handful picked on a map) over time
CREATE INDEX emploi_qpv_territoire_idx ON publication.emploi_qpv (code_territoire, categorie, ventilation, mois);
-- one month across the territories of a level (top lists, maps, a région's départements)
CREATE INDEX emploi_qpv_mois_idx ON publication.emploi_qpv (mois, niveau, categorie, ventilation, code_region);
-- a département's QPV over time
CREATE INDEX emploi_qpv_departement_idx ON publication.emploi_qpv (code_departement, niveau, categorie, ventilation, mois);
-- counts per région in a semester (masked cells): answered from the index alone once vacuumed
CREATE INDEX emploi_qpv_semestre_region_idx ON publication.emploi_qpv (semestre, niveau, code_region) INCLUDE (statut);
