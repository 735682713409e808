"""The annual publication's tables: the bilan of the 2014 conventions and the 40 measures of the 2018 roadmap.

`bilan_conventions(engine, year)` reads sql/publication/bilan_conventions.sql (France and every région × the 32
indicators: value, target and gap, N-1 and N-3, the région's observations verbatim) and returns the table with the
additive relations disclosure control needs (France = the sum of the 18 régions, for counts of people and
households: a count of structures, places, acts, projects, zones, QPV, posts or agents is never secret, see
catalogue/README.md) and the input batches its rows were computed from. `measures(engine)` returns the 40 measures
with their status and the status summary (3 / 1 / 22 / 14 in the seed's 2019 table).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from etl.config import SQL_FOLDER
from etl.referentiels.catalogue import SECRET_UNITS, STATISTICAL_UNITS

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


BILAN_COLUMNS = (
    ("annee", "Année", "period", "", "Année de la campagne (résultats au 31 décembre)."),
    ("niveau", "Niveau", "code", "", "france ou region."),
    ("code_territoire", "Code territoire", "code", "", "FR, ou le code INSEE de la région."),
    ("territoire", "Territoire", "label", "", "Nom du territoire."),
    ("code_indicateur", "Code indicateur", "code", "", "Code de l'indicateur du catalogue 2014."),
    ("convention", "Convention", "label", "", "Convention interministérielle."),
    ("libelle", "Indicateur", "label", "", "Libellé de l'indicateur."),
    ("mode_renseignement", "Mode de renseignement", "label", "", "national ou local."),
    ("producteur", "Producteur", "label", "", "Producteur de la donnée."),
    ("unite", "Unité", "label", "", "nombre, % ou euros."),
    ("valeur", "Valeur", "rate", "selon l'unité", "Valeur de l'année ; s si secret statistique."),
    ("statut", "Statut", "status", "", "ok, masked (secret statistique), missing, not_applicable."),
    ("cible_texte", "Cible nationale", "text", "", "Cible nationale telle qu'écrite dans l'annexe 2."),
    ("cible_valeur", "Cible (valeur)", "rate", "selon l'unité", "Cible nationale chiffrée."),
    ("ecart_cible", "Écart à la cible", "rate", "selon l'unité", "Valeur moins cible (points pour une part)."),
    ("valeur_n1", "Valeur N-1", "rate", "selon l'unité", "Valeur de l'année précédente."),
    ("evolution_n1", "Évolution sur 1 an", "rate", "selon l'unité", "Valeur moins valeur N-1."),
    ("valeur_n3", "Valeur N-3", "rate", "selon l'unité", "Valeur trois ans plus tôt."),
    ("evolution_n3", "Évolution sur 3 ans", "rate", "selon l'unité", "Valeur moins valeur N-3."),
    ("observations", "Observations", "text", "", "Observations de la région, telles que saisies."),
)


def bilan_conventions(engine, year: int) -> Built:
    import sqlalchemy as sa

    from etl.publication.tables import table_from_spec

    with engine.connect() as conn:
        frame = pd.DataFrame(
            conn.execute(sa.text(BILAN_SQL.read_text(encoding="utf-8")), {"annee": year}).mappings().all()
        )
    batches = {int(b) for cell in frame.pop("batches") for b in str(cell or "").split(",") if b}
    numeric = ["valeur", "cible_valeur", "ecart_cible", "valeur_n1", "evolution_n1", "valeur_n3", "evolution_n3"]
    for column in numeric:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["annee"] = frame["annee"].astype("int64")
    # what each row counts (core.indicator.unite_statistique): secrecy covers counts of people and households only;
    # a count whose catalogue row does not say what it counts is treated as one of people
    counted = frame.pop("unite_statistique").reset_index(drop=True)
    frame = frame[[name for name, *_ in BILAN_COLUMNS]].reset_index(drop=True)
    counts = (frame["unite"] == "nombre") & ~counted.isin(set(STATISTICAL_UNITS) - set(SECRET_UNITS))
    relations = []
    for code in frame.loc[counts, "code_indicateur"].unique():
        rows = frame.index[frame["code_indicateur"] == code]
        france = [r for r in rows if frame.at[r, "niveau"] == "france"]
        regions = tuple(r for r in rows if frame.at[r, "niveau"] == "region")
        known = frame.loc[[*france, *regions], "statut"].isin(["ok", "masked"]).all()
        if france and regions and known:
            relations.append((france[0], regions))
    table = table_from_spec(
        "bilan_conventions",
        f"Bilan {year} des conventions interministérielles",
        "Pour la France et chaque région, les 32 indicateurs des conventions interministérielles (annexe 2 "
        "de l'instruction du 26 mars 2014) : valeur, cible nationale, écart à la cible, évolutions et observations.",
        BILAN_COLUMNS,
        frame,
    )
    return Built(table, "valeur", "statut", relations, list(frame.index[counts]), batches)


MEASURE_COLUMNS = (
    ("numero", "Numéro", "code", "", "Numéro de la mesure (1.a pour une sous-mesure)."),
    ("axe", "Axe", "label", "", "Axe de la feuille de route."),
    ("programme", "Programme", "label", "", "Programme."),
    ("theme", "Thème", "label", "", "Thème."),
    ("libelle", "Mesure", "label", "", "Libellé de la mesure."),
    ("statut", "État d'avancement", "label", "", "Objectif atteint, En voie de finalisation, ..."),
)
SUMMARY_COLUMNS = (
    ("statut", "État d'avancement", "label", "", "État d'avancement."),
    ("mesures", "Mesures", "count", "nombre", "Nombre de mesures numérotées dans cet état."),
    ("part", "Part", "share", "%", "Part des mesures numérotées, en %."),
)


def measures(engine) -> tuple[Built, Built]:
    """(the measures with their status, the status summary over the numbered measures)."""
    import sqlalchemy as sa

    from etl.publication.tables import table_from_spec

    with engine.connect() as conn:
        rows = pd.DataFrame(
            conn.execute(
                sa.text(
                    "SELECT numero, axe, programme, theme, libelle, statut FROM core.measure "
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
    listing = table_from_spec(
        "mesures_feuille_de_route",
        "Les 40 mesures de la feuille de route de 2018",
        "Mesures de la feuille de route gouvernementale pour les quartiers (2018) et leur état d'avancement.",
        MEASURE_COLUMNS,
        rows,
    )
    synthese = table_from_spec(
        "mesures_synthese",
        "Synthèse de l'état des mesures",
        "Nombre et part des 40 mesures numérotées par état d'avancement.",
        SUMMARY_COLUMNS,
        summary,
    )
    return Built(listing), Built(synthese)


COMPLETENESS_COLUMNS = (
    ("code_region", "Code région", "code", "", "Code INSEE de la région."),
    ("region", "Région", "label", "", "Nom de la région."),
    ("campagne", "Campagne", "period", "", "Année de la campagne des indicateurs locaux."),
    ("etat", "État", "label", "", "acceptée, rejetée ou non reçue."),
    ("erreurs", "Erreurs du dernier envoi", "count", "nombre", "Erreurs du dernier classeur reçu s'il a été rejeté."),
    ("version", "Version acceptée", "count", "nombre", "1 pour le premier classeur accepté, 2 pour le suivant..."),
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
                    "FROM core.regional_submission_status WHERE campaign = :y ORDER BY region_code"
                ),
                {"y": year},
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
    )
    return Built(table)


MEASURE_INDICATOR_COLUMNS = (
    ("numero_mesure", "Mesure", "code", "", "Numéro de la mesure de la feuille de route de 2018."),
    ("code_indicateur", "Code indicateur", "code", "", "Code de l'indicateur de la mesure (FDR<mesure>-<rang>)."),
    ("indicateur", "Indicateur", "label", "", "Libellé de l'indicateur tel qu'écrit dans le tableau de suivi."),
    ("cible_texte", "Cible", "text", "", "Cible de l'indicateur quand le tableau de suivi en donne une."),
    ("unite", "Unité", "label", "", "Unité de l'indicateur."),
    ("periode", "Période", "period", "", "Période de la dernière valeur nationale connue."),
    ("valeur", "Valeur", "rate", "selon l'unité", "Dernière valeur nationale connue de l'entrepôt."),
    ("statut", "Statut", "status", "", "ok, masked, ou missing (aucune source ne la fournit encore)."),
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
                    "i.cible_texte, i.unite, v.period_code AS periode, v.value AS valeur, "
                    "coalesce(v.status, 'missing') AS statut "
                    "FROM core.indicator i LEFT JOIN LATERAL (SELECT period_code, value, status "
                    "  FROM core.indicator_value WHERE indicator_code = i.code AND territory_level = 'france' "
                    "  AND breakdown = 'total' AND left(period_code, 4)::int <= :y "
                    "  ORDER BY period_code DESC LIMIT 1) v ON true "
                    "WHERE i.family = 'feuille_de_route_2018' "
                    "ORDER BY substring(i.measure_numero from '^[0-9]+')::int, i.measure_numero, i.code"
                ),
                {"y": year},
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
    )
    return Built(table)
