"""The annual edition's table of the QPV in "veille active": the 2015 QPV that left the priority geography.

The 2023 decree took about 190 neighbourhoods of the 2015 list out of the priority geography (1 January 2024,
overseas 1 January 2025); the State keeps watching them ("veille active", seed 000). `veille_active(engine, year)`
reads sql/publication/veille_active.sql: one row per QPV that had left by 31 December of `year`
(core.qpv_veille_active) × indicator × breakdown × year (the edition's year, N-1 and N-3, as the bilan), with its
2015 code and name, région, département, communes, its 2024 successor(s) when the ANCT's correspondence gives one,
and the figure that the sources still reporting it give (the registry's sources with `veille_active: true`): job
seekers of France Travail's individual extract (the last month of the year it covers; total, by sex and age band),
the CAF's households and people covered at 31 December, sport licences (total and by sex). A QPV absent from a
year's files is `missing` (non disponible), never 0. Every figure counts people or households: statistical secrecy
applies (`protect`: primary below the threshold, then secondary through total = women + men = the three age bands of
the same QPV, indicator and year), and gate 3 checks the value column. No figure of this table enters a sum of the
QPV in force.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.config import SQL_FOLDER
from etl.publication.annual import Built
from etl.publication.tables import PER_ROW_UNIT, labelled

VEILLE_SQL = SQL_FOLDER / "publication" / "veille_active.sql"
TABLE_NAME = "veille_active"
YEARS_BACK = (0, 1, 3)  # the edition's year, N-1 and N-3
SEX = ("sexe=F", "sexe=H")
AGES = ("age=<26", "age=26-49", "age=50+")
# indicator -> (breakdowns published, monthly): the sources' figures at QPV level that still exist for these QPV
INDICATORS = {
    "FT_DEFM_INDIV_ABC": (("total", *SEX, *AGES), True),
    "FT_DEFM_INDIV_A": (("total", *SEX, *AGES), True),
    "CAF_ALLOCATAIRES": (("total",), False),
    "CAF_PERSONNES_COUVERTES": (("total",), False),
    "CAF_RSA": (("total",), False),
    "CAF_AAH": (("total",), False),
    "CAF_AIDE_LOGEMENT": (("total",), False),
    "IND20": (("total", *SEX), False),
}
VEILLE_COLUMNS = (
    ("annee", "Année", "period", "", "Année de la donnée : l'année de l'édition, N-1 ou N-3."),
    ("code_qpv_2015", "Code QPV 2015", "code", "", "Code du quartier dans la géographie prioritaire de 2015."),
    ("qpv", "Quartier", "label", "", "Nom du quartier (liste de 2015)."),
    ("code_region", "Code région", "code", "", "Code INSEE de la région."),
    ("region", "Région", "label", "", "Nom de la région."),
    ("code_departement", "Code département", "code", "", "Code INSEE du département."),
    ("departement", "Département", "label", "", "Nom du département."),
    (
        "codes_communes",
        "Code(s) commune",
        "code",
        "",
        "Code INSEE de la commune du quartier, ou des communes séparés par une virgule.",
    ),
    ("communes", "Commune(s)", "label", "", "Nom de la ou des communes du quartier, dans l'ordre des codes."),
    (
        "sortie_geographie",
        "Sortie de la géographie prioritaire",
        "period",
        "",
        "Date à laquelle le quartier a quitté la géographie prioritaire (2024-01-01 ; 2025-01-01 outre-mer).",
    ),
    (
        "codes_qpv_2024_successeurs",
        "Code(s) QPV 2024 successeur(s)",
        "code",
        "",
        "QPV de 2024 qui reprennent une partie du quartier selon la table de passage de l'ANCT, séparés par une "
        "virgule ; vide quand aucun.",
    ),
    ("qpv_2024_successeurs", "QPV 2024 successeur(s)", "label", "", "Nom du ou des QPV de 2024 successeurs."),
    (
        "situation",
        "Situation du quartier",
        "label",
        "",
        "Cette année-là : en veille active (sorti de la géographie prioritaire), ou encore quartier prioritaire "
        "(géographie 2015).",
    ),
    ("code_indicateur", "Code indicateur", "code", "", "Code de l'indicateur (catalogue de l'observatoire)."),
    ("indicateur", "Indicateur", "label", "", "Libellé de l'indicateur."),
    ("producteur", "Producteur", "label", "", "Producteur de la donnée."),
    ("ventilation", "Code ventilation", "code", "", "total, sexe=F, sexe=H ou tranche d'âge (age=<26...)."),
    ("libelle_ventilation", "Ventilation", "label", "", "Ensemble, Femmes, Hommes ou tranche d'âge."),
    (
        "periode",
        "Période de la donnée",
        "period",
        "",
        "Année (au 31 décembre) pour la CAF et les licences ; pour les demandeurs d'emploi, dernier mois de l'année "
        "couvert par l'extrait individuel de France Travail (AAAA-MM) ; vide si aucun.",
    ),
    (
        "unite_statistique",
        "Unité statistique",
        "code",
        "",
        "Ce que compte l'indicateur : personnes ou foyers (le secret statistique s'applique).",
    ),
    (
        "valeur",
        "Valeur",
        "count",
        "nombre",
        "Effectif du quartier (périmètre de 2015) ; s si secret statistique, vide si non disponible.",
        PER_ROW_UNIT,
    ),
    (
        "statut",
        "Statut",
        "status",
        "",
        "publiée, secret statistique, ou non disponible (le quartier est absent des fichiers de l'année : jamais 0).",
    ),
)
VEILLE_KEY = ("code_qpv_2015", "code_indicateur", "ventilation", "annee")


def reporting_sources() -> list[str]:
    """The sources of the registry that still report the veille-active QPV under their 2015 codes."""
    from etl.sources.registry import all_sources

    valid, _ = all_sources()
    return sorted(source_id for source_id, source in valid.items() if source.veille_active)


def veille_active(engine, year: int) -> Built | None:
    """The table of the veille-active QPV for the edition of `year` (before disclosure control), or None when no QPV
    had left the geography by then (editions before 2024)."""
    import sqlalchemy as sa

    from etl.publication.tables import table_from_spec
    from etl.warehouse.frames import result_frame

    codes = list(INDICATORS)
    parameters = {
        "annee": year,
        "annees": [year - back for back in YEARS_BACK],
        "codes": [code for code in codes for _ in INDICATORS[code][0]],
        "ventilations": [breakdown for code in codes for breakdown in INDICATORS[code][0]],
        "mensuels": [INDICATORS[code][1] for code in codes for _ in INDICATORS[code][0]],
        "sources": reporting_sources(),
    }
    with engine.connect() as conn:
        # the veille QPV's codes as a parameter too: PostgreSQL then reads their figures alone by the vintages' key
        # (a condition on a subquery is not pushed into the latest-vintage view)
        parameters["qpv_veille"] = list(
            conn.execute(
                sa.text("SELECT code FROM core.qpv_veille_active WHERE valid_to <= make_date(:annee, 12, 31)"),
                {"annee": year},
            ).scalars()
        )
        frame = result_frame(conn.execute(sa.text(VEILLE_SQL.read_text(encoding="utf-8")), parameters))
    if frame.empty:
        return None
    batches = {int(b) for b in frame.pop("batch_id").dropna().unique()}
    frame["valeur"] = pd.to_numeric(frame["valeur"], errors="coerce").astype("float64")
    frame["annee"] = frame["annee"].astype("int64")
    frame = labelled(frame)[[name for name, *_ in VEILLE_COLUMNS]].reset_index(drop=True)
    table = table_from_spec(
        TABLE_NAME,
        f"Quartiers en veille active ({year})",
        "Les quartiers prioritaires de 2015 sortis de la géographie prioritaire en 2024 (2025 outre-mer), suivis en "
        "veille active : leur code et leur nom de 2015, leur département et leurs communes, le ou les QPV de 2024 "
        "qui en reprennent une partie, et les chiffres que les producteurs donnent encore pour eux (demandeurs "
        "d'emploi de l'extrait individuel de France Travail, foyers allocataires de la CAF, licences sportives), "
        "pour l'année, N-1 et N-3. Un quartier absent des fichiers d'une année est non disponible, jamais 0.",
        VEILLE_COLUMNS,
        frame,
        key=VEILLE_KEY,
    )
    return Built(table, "valeur", "statut", _relations(frame), list(frame.index), batches)


def _relations(frame: pd.DataFrame) -> list[tuple[int, tuple[int, ...]]]:
    """total = women + men, total = the three age bands, within one QPV, indicator and year (both sides known)."""
    index = {key: row for row, key in enumerate(frame[["code_qpv_2015", "code_indicateur", "annee", "ventilation"]]
                                                 .itertuples(index=False, name=None))}  # fmt: skip
    known = frame["statut"].isin(["ok", "masked"]).to_numpy()
    relations = []
    for (qpv, code, year, breakdown), total in index.items():
        if breakdown != "total" or not known[total]:
            continue
        for group in (SEX, AGES):
            parts = [index.get((qpv, code, year, part)) for part in group]
            if all(part is not None and known[part] for part in parts):
                relations.append((total, tuple(parts)))
    return relations


def protect(built: Built, rules) -> tuple[pd.DataFrame, int, pd.DataFrame]:
    """The table's frame with its secret cells masked (status `masked`, no value), the number of cells masked, and
    the frame gate 3 validates (etl.quality.disclosure_check.gate3_frame) on its value column."""
    from etl.publication import disclosure
    from etl.quality.disclosure_check import gate3_frame

    frame = built.table.frame
    values = frame["valeur"].to_numpy(dtype="float64")
    source = (frame["statut"] == "masked").to_numpy()
    result = disclosure.suppress(values, "count", built.relations, rules, already_masked=source)
    protected = disclosure.apply(frame, "valeur", "statut", result)
    check = gate3_frame(
        pd.DataFrame({"valeur": protected["valeur"], "statut": protected["statut"]}),
        "valeur",
        "statut",
        "count",
        built.relations,
        rules.count_threshold,
    )
    return protected, int(np.count_nonzero(result.masked)), check
