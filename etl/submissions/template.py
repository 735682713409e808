"""The Excel template a région fills in each annual campaign of the 2014 indicators (instruction n° 5706/SG, annex 2).

One workbook per région and campaign, four sheets: `Métadonnées` (locked; values at `METADATA_CELLS`, the empreinte
at `kit.CHECKSUM_CELL`), `Indicateurs` (one row per `local` indicator; `Résultat régional` and `Observations` to
fill), `Départements` (département × local indicator; `Valeur` and `Observations`) and `Indicateurs nationaux`
(read-only: the latest value the warehouse knows for the région). Shares are typed as percentages between 0 and 100
without the sign, counts and euros >= 0, observations up to 2,000 characters; Excel validations enforce them. Units
follow the warehouse's rule (`etl.referentiels.catalogue.indicator_unit`); layout and empreinte are the kit's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from etl import xlsx
from etl.referentiels.catalogue import Indicator, catalogue_indicators
from etl.referentiels.territories import load_departements, region_name
from etl.sources.values import latest_national_values
from etl.submissions import kit
from etl.submissions.kit import (
    AVAILABLE,
    CHECKSUM_CELL,
    FIRST_DATA_ROW,
    HEADER_ROW,
    METADATA_SHEET,
    NOT_AVAILABLE,
    NUMBER_FORMATS,
    OBSERVATIONS_MAX_LENGTH,
    TEXT_FORMAT,
    input_cell,
    locked,
    protect,
    write_header,
)

TEMPLATE_VERSION = "2014.1"  # the catalogue of 2014, layout 1

INDICATEURS_SHEET = "Indicateurs"
DEPARTEMENTS_SHEET = "Départements"
NATIONAUX_SHEET = "Indicateurs nationaux"
SHEET_NAMES = (METADATA_SHEET, INDICATEURS_SHEET, DEPARTEMENTS_SHEET, NATIONAUX_SHEET)

# Métadonnées: key -> (label in column A, cell of the value in column B).
METADATA_FIELDS = {
    "region_code": ("Code région", "B2"),
    "region_name": ("Région", "B3"),
    "campaign": ("Campagne", "B4"),
    "template_version": ("Version du modèle", "B5"),
    "note": ("Note", "B6"),
    "conventions": ("Conventions de saisie", "B7"),
    "empreinte": ("Empreinte", CHECKSUM_CELL),
}
METADATA_CELLS = {key: cell for key, (_, cell) in METADATA_FIELDS.items()}

INDICATEURS_HEADERS = (
    "Code indicateur", "Convention", "Objectif opérationnel", "BOP", "Libellé", "Unité", "Cible nationale",
    "Résultat régional", "Observations",
)  # fmt: skip
INDICATEURS_RESULT_COLUMN = "H"
INDICATEURS_OBSERVATIONS_COLUMN = "I"

DEPARTEMENTS_HEADERS = (
    "Code département",
    "Département",
    "Code indicateur",
    "Libellé",
    "Unité",
    "Valeur",
    "Observations",
)
DEPARTEMENTS_VALUE_COLUMN = "F"
DEPARTEMENTS_OBSERVATIONS_COLUMN = "G"

NATIONAUX_HEADERS = (
    "Code indicateur", "Convention", "Libellé", "Unité", "Cible nationale", "Période", "Valeur", "Disponibilité",
)  # fmt: skip
# The columns of the latest national value (1-based), after the locked description of the indicator.
NATIONAUX_PERIOD_INDEX, NATIONAUX_VALUE_INDEX, NATIONAUX_AVAILABILITY_INDEX = (
    NATIONAUX_HEADERS.index(header) + 1 for header in ("Période", "Valeur", "Disponibilité")
)

GENERATION_NOTE = (
    "Modèle généré par l'Observatoire QPV à partir du catalogue des indicateurs des conventions interministérielles "
    "(instruction du Premier ministre n° 5706/SG du 26 mars 2014, annexe 2). Seuls les indicateurs à renseignement "
    "local sont à compléter : cellules sur fond jaune des feuilles « Indicateurs » (résultat régional) et "
    "« Départements » (valeurs départementales), avec leurs observations. La feuille « Indicateurs nationaux » est "
    "fournie pour information. La structure du classeur est protégée et son empreinte est vérifiée à la réception."
)
INPUT_CONVENTIONS = (
    "Parts (unité %) : saisir le pourcentage entre 0 et 100 sans le signe % (12,5 pour 12,5 %). Nombres : saisir "
    "l'effectif, supérieur ou égal à 0. Montants (unité euros) : saisir le montant en euros, supérieur ou égal à 0. "
    "Laisser la cellule vide si la donnée n'est pas disponible et l'expliquer dans les observations (2 000 "
    "caractères au plus : précision de la cible régionale, analyse des écarts, contexte, difficultés de collecte)."
)

# --- catalogue -----------------------------------------------------------------------------------------------------


def check_campaign(campaign: int) -> None:
    if isinstance(campaign, bool) or not isinstance(campaign, int) or not 1980 <= campaign <= 2099:
        raise ValueError(f"The campaign must be a year between 1980 and 2099 given as an integer, not {campaign!r}.")


# --- styling helpers -----------------------------------------------------------------------------------------------


_LEAVE_EMPTY = "Laisser vide si la donnée n'est pas disponible et l'expliquer dans les observations."
# unit -> (kind of number, prompt title, prompt) of its value cells.
_VALUE_RULES = {
    "%": ("share", "Pourcentage (0 à 100)", "Part en pourcentage entre 0 et 100, sans le signe % (12,5 pour 12,5 %)."),
    "euros": ("euros", "Montant en euros", "Montant en euros, supérieur ou égal à 0, sans le signe €."),
    "nombre": ("decimal", "Nombre", "Effectif constaté, supérieur ou égal à 0."),
}


def _value_validation(unit: str):
    kind, title, prompt = _VALUE_RULES.get(unit, _VALUE_RULES["nombre"])
    return kit.number_validation(kind, title, f"{prompt} {_LEAVE_EMPTY}")


def _add_validations(ws: Worksheet, value_column: str, observations_column: str, units: dict[int, str]) -> None:
    """Validations of the input cells: one per unit on the value cells, one on all the observation cells."""
    for unit in sorted(set(units.values())):
        rule = _value_validation(unit)
        kit.add_validation(ws, rule, value_column, [row for row, row_unit in units.items() if row_unit == unit])
    if units:
        observations = kit.text_validation(
            OBSERVATIONS_MAX_LENGTH,
            "Observations",
            "Précision de la cible régionale, analyse des écarts entre la cible et les résultats, éléments de "
            "contexte, difficultés de collecte des données (2 000 caractères au plus).",
            error_title="Observations trop longues",
            error="Les observations sont limitées à 2 000 caractères.",
        )
        kit.add_validation(ws, observations, observations_column, units)


def _number_format(unit: str) -> str:
    return NUMBER_FORMATS.get(unit, "General")


# --- sheets --------------------------------------------------------------------------------------------------------


def _metadata_sheet(ws: Worksheet, region_code: str, region_name: str, campaign: int) -> None:
    values = {
        "region_code": region_code,
        "region_name": region_name,
        "campaign": campaign,
        "template_version": TEMPLATE_VERSION,
        "note": GENERATION_NOTE,
        "conventions": INPUT_CONVENTIONS,
    }
    kit.metadata_sheet(ws, METADATA_FIELDS, values, {"campaign": "0"})


def _input_row(ws: Worksheet, row: int, cells: tuple, value_column: str, observations_column: str, unit: str) -> None:
    """One row of an input sheet: the locked `cells` from column A, then the value and observation input cells."""
    for column, value in enumerate(cells, start=1):
        locked(ws, row, column, value, TEXT_FORMAT)
    input_cell(ws, row, column_index_from_string(value_column), _number_format(unit))
    input_cell(ws, row, column_index_from_string(observations_column), TEXT_FORMAT)


def _indicateurs_sheet(ws: Worksheet, indicators: list[Indicator]) -> None:
    write_header(ws, INDICATEURS_HEADERS, (11, 22, 50, 10, 60, 9, 22, 16, 60))
    units = {}
    for row, indicator in enumerate(indicators, start=FIRST_DATA_ROW):
        cells = (
            indicator.code,
            indicator.convention,
            indicator.objectif_operationnel,
            indicator.bop,
            indicator.libelle,
            indicator.unit,
            indicator.cible,
        )
        _input_row(ws, row, cells, INDICATEURS_RESULT_COLUMN, INDICATEURS_OBSERVATIONS_COLUMN, indicator.unit)
        units[row] = indicator.unit
    _add_validations(ws, INDICATEURS_RESULT_COLUMN, INDICATEURS_OBSERVATIONS_COLUMN, units)
    protect(ws)


def _departements_sheet(ws: Worksheet, departements: pd.DataFrame, indicators: list[Indicator]) -> None:
    write_header(ws, DEPARTEMENTS_HEADERS, (13, 24, 11, 60, 9, 16, 60))
    units = {}
    row = FIRST_DATA_ROW
    for departement in departements.itertuples(index=False):
        for indicator in indicators:
            cells = (departement.code, departement.nom, indicator.code, indicator.libelle, indicator.unit)
            _input_row(ws, row, cells, DEPARTEMENTS_VALUE_COLUMN, DEPARTEMENTS_OBSERVATIONS_COLUMN, indicator.unit)
            units[row] = indicator.unit
            row += 1
    _add_validations(ws, DEPARTEMENTS_VALUE_COLUMN, DEPARTEMENTS_OBSERVATIONS_COLUMN, units)
    if units:
        ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(DEPARTEMENTS_HEADERS))}{row - 1}"
    protect(ws, allow_filter=True)


def _nationaux_sheet(ws: Worksheet, indicators: list[Indicator], latest: dict[str, tuple[str, float]]) -> None:
    write_header(ws, NATIONAUX_HEADERS, (11, 22, 60, 9, 22, 10, 14, 16))
    for row, indicator in enumerate(indicators, start=FIRST_DATA_ROW):
        for column, value in enumerate(
            (indicator.code, indicator.convention, indicator.libelle, indicator.unit, indicator.cible), start=1
        ):
            locked(ws, row, column, value, TEXT_FORMAT)
        if indicator.code in latest:
            period, value = latest[indicator.code]
            locked(ws, row, NATIONAUX_PERIOD_INDEX, period, TEXT_FORMAT)
            shown_value = int(value) if value.is_integer() else value
            locked(ws, row, NATIONAUX_VALUE_INDEX, shown_value, _number_format(indicator.unit))
            locked(ws, row, NATIONAUX_AVAILABILITY_INDEX, AVAILABLE)
        else:
            locked(ws, row, NATIONAUX_AVAILABILITY_INDEX, NOT_AVAILABLE)
    protect(ws)


# --- workbook ------------------------------------------------------------------------------------------------------


def build_template(region_code: str, campaign: int, *, national_values: pd.DataFrame | None = None) -> Workbook:
    """The template of `region_code` (INSEE code, `84`, `04`) for the campaign `campaign` (a year).

    Raises ValueError for a région code that is not in catalogue/regions.csv or a campaign that is not a year."""
    name = region_name(region_code)
    check_campaign(campaign)
    departements = load_departements()
    departements = departements[departements["code_region"] == region_code]
    local = catalogue_indicators("local")
    national = catalogue_indicators("national")
    latest = latest_national_values(national_values, region_code) if national_values is not None else {}

    title = f"Indicateurs locaux {campaign} - {name} (modèle {TEMPLATE_VERSION})"
    workbook = kit.new_workbook(dt.datetime(campaign, 1, 1), title)
    metadata = workbook.active
    metadata.title = METADATA_SHEET
    _metadata_sheet(metadata, region_code, name, campaign)
    _indicateurs_sheet(workbook.create_sheet(INDICATEURS_SHEET), local)
    _departements_sheet(workbook.create_sheet(DEPARTEMENTS_SHEET), departements, local)
    _nationaux_sheet(workbook.create_sheet(NATIONAUX_SHEET), national, latest)
    return kit.finish(workbook)


def write_template(
    path: str | Path, region_code: str, campaign: int, national_values: pd.DataFrame | None = None
) -> Path:
    """Build the template (`build_template`) and write it to `path` (parent folders created); returns the path."""
    return xlsx.write_workbook(path, build_template(region_code, campaign, national_values=national_values))
