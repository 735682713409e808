-- The données QPV tables of the annual edition (etl/publication/qpv_data.py THEMES): the same columns for each theme
-- (CAF, sport, petite enfance, emploi), one row per territory (QPV, commune, EPCI, département, région, France),
-- indicator and breakdown, with N-1, N-3 and the rate per 100 inhabitants; and the view of each on the current
-- annual edition. Statuses keep their codes here (ok, masked, missing, not_applicable, break); the files show words.
DO $$
DECLARE
    theme text;
    comment record;
BEGIN
    FOREACH theme IN ARRAY ARRAY['caf', 'sport', 'petite_enfance', 'emploi'] LOOP
        EXECUTE format($ddl$
            CREATE TABLE publication.donnees_qpv_%1$s (
                edition_id          text    NOT NULL REFERENCES publication.edition (edition_id),
                annee               int     NOT NULL,
                niveau              text    NOT NULL
                                            CHECK (niveau IN ('qpv', 'commune', 'epci', 'departement', 'region', 'france')),
                libelle_niveau      text    NOT NULL,
                code_territoire     text    NOT NULL,
                territoire          text,
                code_departement    text,
                code_region         text,
                geographie          text,
                code_indicateur     text    NOT NULL,
                indicateur          text,
                ventilation         text    NOT NULL,
                libelle_ventilation text,
                producteur          text,
                unite_statistique   text,
                valeur              numeric,
                statut              text    NOT NULL CHECK (statut IN ('ok', 'masked', 'missing')),
                note_valeur         text,
                valeur_n1           numeric,
                statut_valeur_n1    text    CHECK (statut_valeur_n1 IN ('ok', 'masked', 'missing', 'break')),
                evolution_n1        numeric,
                valeur_n3           numeric,
                statut_valeur_n3    text    CHECK (statut_valeur_n3 IN ('ok', 'masked', 'missing', 'break')),
                evolution_n3        numeric,
                population          numeric,
                annee_population    text,
                taux                numeric,
                statut_taux         text    CHECK (statut_taux IN ('ok', 'masked', 'missing', 'not_applicable')),
                note_taux           text,
                PRIMARY KEY (edition_id, niveau, code_territoire, code_indicateur, ventilation)
            );
            CREATE INDEX donnees_qpv_%1$s_territoire_idx ON publication.donnees_qpv_%1$s (code_territoire, edition_id);
            CREATE VIEW publication.donnees_qpv_%1$s_courant AS
                SELECT t.* FROM publication.donnees_qpv_%1$s t
                JOIN publication.edition_courante e ON e.edition_id = t.edition_id AND e.kind = 'annuelle';
        $ddl$, theme);
        EXECUTE format(
            'COMMENT ON TABLE publication.donnees_qpv_%s IS %L', theme,
            'Données QPV de l''édition annuelle (' || replace(theme, '_', ' ') || ') : pour chaque QPV en vigueur au '
            '31 décembre et chaque commune, EPCI, département, région et la France (somme de leurs QPV), la valeur de '
            'chaque indicateur et ventilation, N-1, N-3, évolutions et taux pour 100 habitants. Secret statistique : '
            'statut masked, valeur vide.');
        EXECUTE format('COMMENT ON VIEW publication.donnees_qpv_%1$s_courant IS %2$L', theme,
                       'Les lignes de publication.donnees_qpv_' || theme || ' de l''édition annuelle courante.');
        FOR comment IN SELECT * FROM (VALUES
            ('edition_id', 'Édition (publication.edition).'),
            ('annee', 'Année des données (au 31 décembre pour un stock).'),
            ('niveau', 'qpv, commune, epci, departement, region ou france.'),
            ('libelle_niveau', 'Niveau : QPV, Commune, EPCI, Département, Région ou France.'),
            ('code_territoire', 'Code du QPV, code INSEE de la commune, SIREN de l''EPCI, code du département ou de la région, FR.'),
            ('territoire', 'Nom du territoire.'),
            ('code_departement', 'Département du QPV ou de la commune (vide au-delà).'),
            ('code_region', 'Région du QPV, de la commune ou du département (vide au-delà).'),
            ('geographie', 'Liste(s) des QPV en vigueur au 31 décembre dont le territoire fait la somme : 2015 ou 2024.'),
            ('code_indicateur', 'Code de l''indicateur du catalogue.'),
            ('indicateur', 'Libellé de l''indicateur.'),
            ('ventilation', 'total, ou la modalité de la ventilation (sexe=F, age=<26, composition=isole, type=creation...).'),
            ('libelle_ventilation', 'Ventilation en clair.'),
            ('producteur', 'Producteur de la donnée.'),
            ('unite_statistique', 'Ce que compte l''indicateur : personnes, foyers, places, structures ; le secret statistique ne porte que sur les personnes et les foyers.'),
            ('valeur', 'Valeur de l''année ; vide si masquée ou non disponible (voir statut).'),
            ('statut', 'ok (publiée), masked (secret statistique), missing (non disponible, voir note_valeur).'),
            ('note_valeur', 'Pourquoi une valeur n''est pas disponible.'),
            ('valeur_n1', 'Valeur de l''année précédente.'),
            ('statut_valeur_n1', 'Statut de la valeur N-1 : ok, masked, missing, break (rupture de série : autre liste de QPV).'),
            ('evolution_n1', 'Valeur moins valeur N-1, quand les deux sont publiées.'),
            ('valeur_n3', 'Valeur trois ans plus tôt.'),
            ('statut_valeur_n3', 'Statut de la valeur N-3 : ok, masked, missing, break (rupture de série : autre liste de QPV).'),
            ('evolution_n3', 'Valeur moins valeur N-3, quand les deux sont publiées.'),
            ('population', 'Population municipale du territoire en QPV (Insee ; de 15 à 64 ans pour les demandeurs d''emploi), dénominateur du taux.'),
            ('annee_population', 'Année du recensement de la population.'),
            ('taux', 'Valeur pour 100 habitants de la population de référence, arrondie au dixième.'),
            ('statut_taux', 'Vide sans taux pour l''indicateur ; ok, masked (valeur masquée), missing, not_applicable (population inconnue ou nulle).'),
            ('note_taux', 'Pourquoi un taux n''est pas calculé.')
        ) AS c(name, text) LOOP
            EXECUTE format('COMMENT ON COLUMN publication.donnees_qpv_%s.%I IS %L', theme, comment.name, comment.text);
            EXECUTE format('COMMENT ON COLUMN publication.donnees_qpv_%s_courant.%I IS %L', theme, comment.name,
                           comment.text);
        END LOOP;
    END LOOP;
END
$$;
