"""The annual publication's tables: the bilan of the 2014 conventions and the 40 measures of the 2018 roadmap.

`bilan_conventions(engine, year)` reads sql/publication/bilan_conventions.sql (France, every région and every
département × the 32 indicators, IND16 on two lines, places created and places renovated: value, target with its
date and scope, gap, N-1 and N-3, producer, the observations of the région's workbook verbatim, its départemental
sheet's for a département; rows France, then régions, then départements, each by code) and returns the table with
the additive relations disclosure control needs, per indicator and breakdown, for counts of people and households
(a count of structures, places, acts, projects, zones, QPV, posts or agents is never secret, see
catalogue/README.md): France = the sum of the 18 régions when all of them are known (a value or masked), and each
région = the sum of its départements when the région is known and so is one of its départements at least (a
département without a value stays in the relation: a workbook's regional total is the sum of the départements it
fills, so a missing one does not protect the others); and the input batches its rows were computed from.
`measures(engine)` returns the 40 measures with their status and its date (22 January 2019 in the seed's table)
and the status summary (3 / 1 / 22 / 14).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from etl.config import SQL_FOLDER
from etl.publication.tables import PER_ROW_UNIT, labelled
from etl.referentiels.catalogue import SECRET_UNITS, STATISTICAL_UNITS
from etl.referentiels.periods import french_date

BILAN_SQL = SQL_FOLDER / "publication" / "bilan_conventions.sql"


@dataclass
class Built:
    """A table before disclosure control, with what disclosure control and the manifest need."""

    table: object  # etl.publication.tables.Table
    value_column: str | None = None
    status_column: str | None = None
    relations: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    count_rows: list[int] = field(default_factory=list)  # rows whose value is a count of people or households
    batches: set[int] = field(default_factory=set)


UNITE_STATISTIQUE = (
    "Ce que compte l'indicateur (pour une part, son numérateur) : personnes, foyers, agents, structures, places, "
    "actes, actions, projets, zones, qpv, postes, euros ou habitants. Le secret statistique ne porte que sur les "
    "personnes et les foyers. Vide quand le catalogue ne le dit pas encore."
)
BILAN_COLUMNS = (
    ("annee", "Année", "period", "", "Année de la campagne (résultats au 31 décembre)."),
    ("niveau", "Code niveau", "code", "", "france, region ou departement (en clair dans la colonne Niveau)."),
    ("libelle_niveau", "Niveau", "label", "", "France, Région ou Département."),
    ("code_territoire", "Code territoire", "code", "", "FR, ou le code INSEE de la région ou du département."),
    ("territoire", "Territoire", "label", "", "Nom du territoire."),
    ("code_indicateur", "Code indicateur", "code", "", "Code de l'indicateur du catalogue 2014."),
    ("ventilation", "Code ventilation", "code", "", "total, ou type=creation / type=renovation pour IND16."),
    ("convention", "Convention", "label", "", "Convention interministérielle."),
    ("libelle", "Indicateur", "label", "", "Libellé de l'indicateur."),
    ("libelle_ventilation", "Ventilation", "label", "", "Ensemble, ou Places créées / Places rénovées pour IND16."),
    ("mode_renseignement", "Mode de renseignement", "label", "", "national ou local."),
    ("producteur", "Producteur", "label", "", "Producteur de la donnée (indicateur local : le service source)."),
    ("unite", "Unité", "label", "", "nombre, % ou euros."),
    ("unite_statistique", "Unité statistique", "code", "", UNITE_STATISTIQUE),
    ("valeur", "Valeur", "rate", "selon l'unité", "Valeur de l'année ; s si secret statistique.", PER_ROW_UNIT),
    (
        "statut",
        "Statut",
        "status",
        "",
        "publiée, secret statistique, non disponible, sans objet (par exemple une part nationale qui ne peut pas "
        "être recalculée sans dénominateurs).",
    ),
    ("note_valeur", "Note sur la valeur", "text", "", "Somme de trimestres, ou trimestres manquants pour l'année."),
    ("cible_texte", "Cible nationale", "text", "", "Cible nationale telle qu'écrite dans l'annexe 2."),
    ("cible_valeur", "Cible (valeur)", "rate", "selon l'unité", "Cible nationale chiffrée.", PER_ROW_UNIT),
    ("echeance_cible", "Échéance de la cible", "period", "", "Année de la cible (2015) ; vide si non fixée."),
    ("portee_cible", "Portée de la cible", "text", "", "Ce que couvre la cible nationale, et pour quand."),
    (
        "ecart_cible",
        "Écart à la cible",
        "rate",
        "selon l'unité",
        "Valeur de l'année moins cible (points pour une part), quelles que soient l'échéance et la portée de la cible.",
    ),
    ("valeur_n1", "Valeur N-1", "rate", "selon l'unité", "Valeur de l'année précédente.", PER_ROW_UNIT),
    ("evolution_n1", "Évolution sur 1 an", "rate", "selon l'unité", "Valeur moins valeur N-1."),
    ("valeur_n3", "Valeur N-3", "rate", "selon l'unité", "Valeur trois ans plus tôt.", PER_ROW_UNIT),
    ("evolution_n3", "Évolution sur 3 ans", "rate", "selon l'unité", "Valeur moins valeur N-3."),
    (
        "observations",
        "Observations",
        "text",
        "",
        "Observations du classeur de la région, telles que saisies (feuille Départements pour un département).",
    ),
)

BILAN_KEY = ("niveau", "code_territoire", "code_indicateur", "ventilation")  # one edition's rows; IND16 on two lines


def bilan_conventions(engine, year: int) -> Built:
    import sqlalchemy as sa

    from etl.publication.tables import table_from_spec
    from etl.warehouse.frames import result_frame

    with engine.connect() as conn:
        # the indicators' codes as a parameter: PostgreSQL then reads their latest vintages by the vintages' key
        # rather than deduplicating every vintage of the years (a join to the catalogue is not pushed into the view)
        codes = list(
            conn.execute(sa.text("SELECT code FROM core.indicator WHERE family = 'convention_2014'")).scalars()
        )
        frame = result_frame(
            conn.execute(sa.text(BILAN_SQL.read_text(encoding="utf-8")), {"annee": year, "codes": codes})
        )
    batches = {int(b) for cell in frame.pop("batches") for b in str(cell or "").split(",") if b}
    parent = frame.pop("region_parent").reset_index(drop=True)  # the région of a département row
    numeric = ["valeur", "cible_valeur", "ecart_cible", "valeur_n1", "evolution_n1", "valeur_n3", "evolution_n3"]
    for column in numeric:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["annee"] = frame["annee"].astype("int64")
    # what each row counts (core.indicator.unite_statistique): secrecy covers counts of people and households only;
    # a count whose catalogue row does not say what it counts is treated as one of people
    frame = labelled(frame)[[name for name, *_ in BILAN_COLUMNS]].reset_index(drop=True)
    counted = frame["unite_statistique"]
    counts = (frame["unite"] == "nombre") & ~counted.isin(set(STATISTICAL_UNITS) - set(SECRET_UNITS))
    table = table_from_spec(
        "bilan_conventions",
        f"Bilan {year} des conventions interministérielles",
        "Pour la France, chaque région et chaque département, les 32 indicateurs des conventions "
        "interministérielles (annexe 2 de l'instruction du 26 mars 2014) : valeur, cible nationale avec son "
        "échéance et sa portée, écart à la cible, évolutions, producteur et observations ; IND16 sur deux lignes "
        "(places créées, places rénovées). Un territoire sans valeur est non disponible.",
        BILAN_COLUMNS,
        frame,
        key=BILAN_KEY,
    )
    return Built(table, "valeur", "statut", bilan_relations(frame, counts, parent), list(frame.index[counts]), batches)


def bilan_relations(frame: pd.DataFrame, counts: pd.Series, parent: pd.Series) -> list[tuple[int, tuple[int, ...]]]:
    """The additive relations of the bilan's counts (see the module doc), per indicator and breakdown: France = the
    régions, when all of them are known; each région = its départements (`parent`: the région of a département row),
    when the région and one of its départements at least are known. Rows are positional; sorted, deterministic."""
    known = frame["statut"].isin(["ok", "masked"])
    relations = []
    for _, group in frame[counts].groupby(["code_indicateur", "ventilation"], sort=True):
        france = group.index[group["niveau"] == "france"]
        regions = group.index[group["niveau"] == "region"]
        if len(france) and len(regions) and known[[*france, *regions]].all():
            relations.append((int(france[0]), tuple(int(r) for r in regions)))
        departements = group[group["niveau"] == "departement"]
        for region in regions:
            parts = departements.index[parent[departements.index] == frame.at[region, "code_territoire"]]
            if known[region] and known[parts].any():
                relations.append((int(region), tuple(int(d) for d in parts)))
    return relations


MEASURE_COLUMNS = (
    ("numero", "Numéro", "code", "", "Numéro de la mesure (1.a pour une sous-mesure)."),
    ("axe", "Axe", "label", "", "Axe de la feuille de route."),
    ("programme", "Programme", "label", "", "Programme."),
    ("theme", "Thème", "label", "", "Thème."),
    ("libelle", "Mesure", "label", "", "Libellé de la mesure."),
    ("statut", "État d'avancement", "label", "", "Objectif atteint, En voie de finalisation, ..."),
    ("date_statut", "Date de l'état", "period", "", "Date à laquelle l'état d'avancement est constaté (AAAA-MM-JJ)."),
)
SUMMARY_COLUMNS = (
    ("statut", "État d'avancement", "label", "", "État d'avancement."),
    ("mesures", "Mesures", "count", "nombre", "Nombre de mesures numérotées dans cet état.", "mesures"),
    ("part", "Part", "share", "%", "Part des mesures numérotées, en %."),
)


def status_dates_text(dates) -> str:
    """`état au 22 janvier 2019` (or `états au …, au …`) for the ISO dates of the measures' statuses."""
    days = sorted({str(d) for d in dates if d is not None and not pd.isna(d)})
    if not days:
        return "date de l'état non renseignée"
    return ("état au " if len(days) == 1 else "états au ") + ", au ".join(french_date(d) for d in days)


def measure_status_dates(tables) -> list[str]:
    """The status dates (ISO) of the measures an edition publishes, for its manifest."""
    listing = next((t for t in tables if t.name == "mesures_feuille_de_route"), None)
    if listing is None or "date_statut" not in listing.frame.columns:
        return []
    return sorted({str(d) for d in listing.frame["date_statut"].dropna()})


def measures(engine) -> tuple[Built, Built]:
    """(the measures with their status and its date, the status summary over the numbered measures); both titles
    say the status date (`état au 22 janvier 2019`)."""
    import sqlalchemy as sa

    from etl.publication.tables import table_from_spec

    with engine.connect() as conn:
        rows = pd.DataFrame(
            conn.execute(
                sa.text(
                    "SELECT numero, axe, programme, theme, libelle, statut, "
                    "to_char(date_statut, 'YYYY-MM-DD') AS date_statut FROM core.measure "
                    "ORDER BY substring(numero from '^[0-9]+')::int, numero"
                )
            )
            .mappings()
            .all()
        )
        summary = pd.DataFrame(
            conn.execute(
                sa.text(
                    "SELECT statut, measures AS mesures, percent AS part FROM core.measure_status_summary "
                    "ORDER BY measures DESC, statut"
                )  # fmt: skip
            )
            .mappings()
            .all()
        )
    summary["mesures"] = summary["mesures"].astype("int64")
    summary["part"] = summary["part"].astype("float64")
    when = status_dates_text(rows.get("date_statut", []))
    listing = table_from_spec(
        "mesures_feuille_de_route",
        f"Les 40 mesures de la feuille de route de 2018 ({when})",
        "Mesures de la feuille de route gouvernementale pour les quartiers (2018), leur état d'avancement et la date "
        f"de cet état ({when}).",
        MEASURE_COLUMNS,
        rows,
        key=("numero",),
    )
    synthese = table_from_spec(
        "mesures_synthese",
        f"Synthèse de l'état des mesures ({when})",
        f"Nombre et part des 40 mesures numérotées par état d'avancement ({when}).",
        SUMMARY_COLUMNS,
        summary,
        key=("statut",),
    )
    return Built(listing), Built(synthese)


COMPLETENESS_COLUMNS = (
    ("code_region", "Code région", "code", "", "Code INSEE de la région."),
    ("region", "Région", "label", "", "Nom de la région."),
    ("campagne", "Campagne", "period", "", "Année de la campagne des indicateurs locaux."),
    ("etat", "État", "label", "", "acceptée, rejetée ou non reçue."),
    (
        "erreurs",
        "Erreurs du dernier envoi",
        "count",
        "nombre",
        "Erreurs du dernier classeur reçu s'il a été rejeté.",
        "erreurs",
    ),
    (
        "version",
        "Version acceptée",
        "count",
        "nombre",
        "1 pour le premier classeur accepté, 2 pour le suivant...",
        "classeurs",
    ),
    ("date_acceptation", "Date d'acceptation", "period", "", "Date d'acceptation du classeur en vigueur."),
    ("date_limite", "Date limite", "period", "", "Date limite de la campagne (30 avril de l'année suivante)."),
)


def completeness(engine, year: int) -> Built:
    """The regional campaign's completeness (core.regional_submission_status) for the edition."""
    import sqlalchemy as sa

    from etl.publication.tables import table_from_spec

    with engine.connect() as conn:
        frame = pd.DataFrame(
            conn.execute(
                sa.text(
                    "SELECT region_code AS code_region, region_name AS region, campaign AS campagne, state AS etat, "
                    "CASE WHEN state = 'rejetée' THEN latest_errors END AS erreurs, accepted_version AS version, "
                    "to_char(accepted_at, 'YYYY-MM-DD') AS date_acceptation, "
                    "to_char(deadline, 'YYYY-MM-DD') AS date_limite "
                    "FROM core.regional_submission_status WHERE campaign = :campaign ORDER BY region_code"
                ),
                {"campaign": year},
            )
            .mappings()
            .all()
        )
    for column in ("erreurs", "version"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    frame["campagne"] = frame["campagne"].astype(str)
    table = table_from_spec(
        "completude_campagne",
        f"Complétude de la campagne {year} des indicateurs locaux",
        "Pour chaque région : classeur accepté (version, date), rejeté (nombre d'erreurs) ou non reçu.",
        COMPLETENESS_COLUMNS,
        frame,
        key=("code_region",),
    )
    return Built(table)


MEASURE_INDICATOR_COLUMNS = (
    ("numero_mesure", "Mesure", "code", "", "Numéro de la mesure de la feuille de route de 2018."),
    ("code_indicateur", "Code indicateur", "code", "", "Code de l'indicateur de la mesure (FDR<mesure>-<rang>)."),
    ("indicateur", "Indicateur", "label", "", "Libellé de l'indicateur tel qu'écrit dans le tableau de suivi."),
    ("cible_texte", "Cible", "text", "", "Cible de l'indicateur quand le tableau de suivi en donne une."),
    ("unite", "Unité", "label", "", "Unité de l'indicateur."),
    ("unite_statistique", "Unité statistique", "code", "", UNITE_STATISTIQUE),
    ("periode", "Période", "period", "", "Période de la dernière valeur nationale connue."),
    ("valeur", "Valeur", "rate", "selon l'unité", "Dernière valeur nationale connue de l'entrepôt.", PER_ROW_UNIT),
    (
        "statut",
        "Statut",
        "status",
        "",
        "publiée, secret statistique, ou non disponible (aucune source ne la fournit encore).",
    ),
)


def measure_indicators(engine, year: int) -> Built:
    """The indicators of the 2018 measures with the latest France value the warehouse holds up to `year` (none of
    them has a source yet: they are published as missing, so that the gap is visible)."""
    import sqlalchemy as sa

    from etl.publication.tables import table_from_spec

    with engine.connect() as conn:
        frame = pd.DataFrame(
            conn.execute(
                sa.text(
                    "SELECT i.measure_numero AS numero_mesure, i.code AS code_indicateur, i.libelle AS indicateur, "
                    "i.cible_texte, i.unite, i.unite_statistique, v.period_code AS periode, v.value AS valeur, "
                    "coalesce(v.status, 'missing') AS statut "
                    "FROM core.indicator i LEFT JOIN LATERAL (SELECT period_code, value, status "
                    "  FROM core.indicator_value WHERE indicator_code = i.code AND territory_level = 'france' "
                    "  AND breakdown = 'total' AND left(period_code, 4)::int <= :year "
                    "  ORDER BY period_code DESC LIMIT 1) v ON true "
                    "WHERE i.family = 'feuille_de_route_2018' "
                    "ORDER BY substring(i.measure_numero from '^[0-9]+')::int, i.measure_numero, i.code"
                ),
                {"year": year},
            )
            .mappings()
            .all()
        )
    frame["valeur"] = pd.to_numeric(frame["valeur"], errors="coerce").astype("float64")
    table = table_from_spec(
        "mesures_indicateurs",
        "Indicateurs des mesures de la feuille de route de 2018",
        "Les indicateurs de suivi des 40 mesures, leur cible et la dernière valeur nationale connue.",
        MEASURE_INDICATOR_COLUMNS,
        frame,
        key=("code_indicateur",),
    )
    return Built(table)
