"""The Excel template a région fills in each annual campaign of the 2014 indicators.

The 2014 instruction (n° 5706/SG of 26 March 2014, Annex 2 and its methodological note) asks each préfet de région
to fill, once a year, the indicators whose *mode de renseignement* is `local` (16 of the 32 of
`catalogue/indicateurs_2014.csv`), with an *Observations* column next to each figure; the 16 `national` ones are
produced centrally and sent back to the régions. The first collection was asked "sous format excel": this module
builds that workbook, one per région and campaign, with openpyxl. Four sheets, in this order:

- `Métadonnées` (locked): column A holds the labels, column B the values, at fixed cells (`METADATA_CELLS`):
  B2 code région, B3 région, B4 campagne (the year, an integer), B5 version du modèle (`TEMPLATE_VERSION`), B6 a
  generation note, B7 the input conventions, B8 `empreinte` (the structure checksum, see below).
- `Indicateurs`: header on row 1 (frozen), then one row per local indicator from row 2 (16 rows, catalogue
  order). Columns A-G are locked: code, convention, objectif opérationnel, BOP, libellé, unité, cible nationale
  (`cible_texte` as written in the source). Columns H (`Résultat régional`) and I (`Observations`) are the only
  input cells (unlocked, yellow).
- `Départements`: header on row 1 (frozen), then one row per département of the région × local indicator
  (départements in catalogue order, indicators in catalogue order within each). Columns A-E are locked: code
  département, département, code indicateur, libellé, unité; F (`Valeur`) and G (`Observations`) are input.
- `Indicateurs nationaux` (locked, read-only context): one row per national indicator of the catalogue with its
  convention, label, unit and target and, when `national_values` is given, the latest known value for the région
  (its period and `disponible`), else empty cells and `non disponible`.

Units follow the warehouse's rule (`cible_unite` when set, else `%` for a label starting with Part, Taux,
Pourcentage or Proportion, else `nombre`; see sql/core/catalogue_indicateurs.sql). Input conventions, also written
in B7 of `Métadonnées` and in the cells' input prompts: a share is typed **as a percentage between 0 and 100,
without the sign** (`12,5` for 12.5 %; the cell shows `12,5 %` through the number format `0.0" %"`, the stored
value is 12.5); a count is a number >= 0 (format `#,##0`); an amount in euros (no such unit in the 2014 catalogue,
supported for later catalogues) is a number >= 0 (format `#,##0.00" €"`); observations are text of at most 2 000
characters. Excel data validations enforce these on every input cell, with a French error message and prompt.

Protection: every sheet is protected **without a password** (columns and rows may be resized; the département
sheet may be filtered), and the workbook structure is locked (no sheet can be added, renamed, moved or deleted).
The protection guards against mistakes, not against intent: the empreinte detects the rest.

Empreinte: `structure_checksum(workbook)` is the sha256 of the sheet names (in order) and of every non-empty
*locked* cell of every sheet (sheet, row, column, value; numbers to 15 significant digits, as Excel keeps them),
except the empreinte cell itself. Input cells are unlocked, so filling them leaves it unchanged; moving or deleting
rows or columns, renaming a sheet, editing a label, a code or a target, unlocking a cell, or writing into a locked
cell changes it. The checker of a returned file recomputes it and compares it with B8 of `Métadonnées`.

Determinism: the same inputs give the same bytes. `build_template` sets the document's created and modified dates
to 1 January of the campaign, and `workbook_bytes` writes the package without openpyxl's `save` (which stamps the
current time), then rewrites the zip with its entries sorted by name and a fixed date (that same day).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from etl.referentiels.catalogue import read_indicateurs
from etl.referentiels.territories import load_departements, load_regions
from etl.sources.national import _SHARE_LABEL, CATALOGUE_FILE

TEMPLATE_VERSION = "2014.1"  # the catalogue of 2014, layout 1

METADATA_SHEET = "Métadonnées"
INDICATEURS_SHEET = "Indicateurs"
DEPARTEMENTS_SHEET = "Départements"
NATIONAUX_SHEET = "Indicateurs nationaux"
SHEET_NAMES = (METADATA_SHEET, INDICATEURS_SHEET, DEPARTEMENTS_SHEET, NATIONAUX_SHEET)

HEADER_ROW = 1
FIRST_DATA_ROW = 2

# Métadonnées: key -> (label in column A, cell of the value in column B).
METADATA_FIELDS = {
    "region_code": ("Code région", "B2"),
    "region_name": ("Région", "B3"),
    "campaign": ("Campagne", "B4"),
    "template_version": ("Version du modèle", "B5"),
    "note": ("Note", "B6"),
    "conventions": ("Conventions de saisie", "B7"),
    "empreinte": ("Empreinte", "B8"),
}
METADATA_CELLS = {key: cell for key, (_, cell) in METADATA_FIELDS.items()}

INDICATEURS_HEADERS = (
    "Code indicateur",
    "Convention",
    "Objectif opérationnel",
    "BOP",
    "Libellé",
    "Unité",
    "Cible nationale",
    "Résultat régional",
    "Observations",
)
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
    "Code indicateur",
    "Convention",
    "Libellé",
    "Unité",
    "Cible nationale",
    "Période",
    "Valeur",
    "Disponibilité",
)
AVAILABLE = "disponible"
NOT_AVAILABLE = "non disponible"

NUMBER_FORMATS = {"nombre": "#,##0", "%": '0.0" %"', "euros": '#,##0.00" €"'}
TEXT_FORMAT = "@"
OBSERVATIONS_MAX_LENGTH = 2000
NATIONAL_VALUES_COLUMNS = ("indicator_code", "period_code", "value", "status")

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

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center")
_CELL_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
_UNLOCKED = Protection(locked=False)


# --- catalogue -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    """One indicator of the 2014 catalogue, as the template shows it."""

    code: str
    convention: str
    objectif_operationnel: str
    bop: str
    libelle: str
    cible: str  # cible_texte, as written in the source
    unit: str
    mode: str
    statistical_unit: str = ""  # `unite_statistique`: what the indicator counts (personnes, qpv, zones...)


def indicator_unit(libelle: str, cible_unite: str = "") -> str:
    """The warehouse's unit of an indicator: `cible_unite` when set, else `%` when the label starts with Part, Taux,
    Pourcentage or Proportion (any case), else `nombre` (the rule of `etl.sources.national.catalogue_units`)."""
    return cible_unite.strip() or ("%" if _SHARE_LABEL.match(libelle.strip()) else "nombre")


def catalogue_indicators(mode: str | None = None, path: Path = CATALOGUE_FILE) -> list[Indicator]:
    """The indicators of `catalogue/indicateurs_2014.csv` in catalogue order, only those of `mode` when given."""
    rows = read_indicateurs(Path(path))
    indicators = []
    for row in rows.fillna("").astype(str).to_dict("records"):
        row = {key: value.strip() for key, value in row.items()}
        if mode is not None and row["mode"] != mode:
            continue
        indicators.append(
            Indicator(
                code=row["code"],
                convention=row["convention"],
                objectif_operationnel=row["objectif_operationnel"],
                bop=row["bop"],
                libelle=row["libelle"],
                cible=row["cible_texte"],
                unit=indicator_unit(row["libelle"], row["cible_unite"]),
                mode=row["mode"],
                statistical_unit=row["unite_statistique"].lower(),
            )
        )
    return indicators


def _region_name(region_code: str) -> str:
    regions = load_regions()
    names = dict(zip(regions["code"], regions["nom"], strict=True))
    if not isinstance(region_code, str) or region_code not in names:
        known = ", ".join(regions["code"])
        raise ValueError(
            f"Unknown région code {region_code!r}: expected one of the codes of catalogue/regions.csv ({known})."
        )
    return names[region_code]


def _check_campaign(campaign: int) -> None:
    if isinstance(campaign, bool) or not isinstance(campaign, int) or not 1980 <= campaign <= 2099:
        raise ValueError(f"The campaign must be a year between 1980 and 2099 given as an integer, not {campaign!r}.")


# --- styling helpers -----------------------------------------------------------------------------------------------


def _write_header(ws: Worksheet, headers: Iterable[str], widths: Iterable[float]) -> None:
    for column, (header, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(row=HEADER_ROW, column=column, value=header)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = _HEADER_ALIGNMENT
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=1).coordinate


def _locked(ws: Worksheet, row: int, column: int, value: Any, number_format: str | None = None) -> None:
    cell = ws.cell(row=row, column=column, value=value if value != "" else None)
    cell.alignment = _CELL_ALIGNMENT
    if number_format:
        cell.number_format = number_format


def _input(ws: Worksheet, row: int, column: int, number_format: str) -> None:
    cell = ws.cell(row=row, column=column)
    cell.protection = _UNLOCKED
    cell.fill = _INPUT_FILL
    cell.alignment = _CELL_ALIGNMENT
    cell.number_format = number_format


def _protect(ws: Worksheet, *, allow_filter: bool = False) -> None:
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # resizing is allowed
    ws.protection.formatRows = False
    if allow_filter:
        ws.protection.autoFilter = False


def _ranges(column: str, rows: Iterable[int]) -> list[str]:
    """`["F2:F3", "F9"]` for rows 2, 3 and 9 of column F: each run of consecutive rows as one range."""
    parts: list[str] = []
    ordered = sorted(rows)
    start = 0
    for index in range(1, len(ordered) + 1):
        if index == len(ordered) or ordered[index] != ordered[index - 1] + 1:
            first, last = ordered[start], ordered[index - 1]
            parts.append(f"{column}{first}" if first == last else f"{column}{first}:{column}{last}")
            start = index
    return parts


def _value_validation(unit: str) -> DataValidation:
    if unit == "%":
        return DataValidation(
            type="decimal",
            operator="between",
            formula1="0",
            formula2="100",
            errorTitle="Pourcentage non valide",
            error="Saisir un pourcentage entre 0 et 100, sans le signe % : 12,5 pour 12,5 %.",
            promptTitle="Pourcentage (0 à 100)",
            prompt="Part en pourcentage entre 0 et 100, sans le signe % (12,5 pour 12,5 %). Laisser vide si la "
            "donnée n'est pas disponible et l'expliquer dans les observations.",
        )
    if unit == "euros":
        return DataValidation(
            type="decimal",
            operator="greaterThanOrEqual",
            formula1="0",
            errorTitle="Montant non valide",
            error="Saisir un montant en euros supérieur ou égal à 0, sans le signe €.",
            promptTitle="Montant en euros",
            prompt="Montant en euros, supérieur ou égal à 0, sans le signe €. Laisser vide si la donnée n'est pas "
            "disponible et l'expliquer dans les observations.",
        )
    return DataValidation(
        type="decimal",
        operator="greaterThanOrEqual",
        formula1="0",
        errorTitle="Nombre non valide",
        error="Saisir un nombre supérieur ou égal à 0 (par exemple 12 ou 1250), sans unité ni texte.",
        promptTitle="Nombre",
        prompt="Effectif constaté, supérieur ou égal à 0. Laisser vide si la donnée n'est pas disponible et "
        "l'expliquer dans les observations.",
    )


def _observations_validation() -> DataValidation:
    return DataValidation(
        type="textLength",
        operator="lessThanOrEqual",
        formula1=str(OBSERVATIONS_MAX_LENGTH),
        errorTitle="Observations trop longues",
        error="Les observations sont limitées à 2 000 caractères.",
        promptTitle="Observations",
        prompt="Précision de la cible régionale, analyse des écarts entre la cible et les résultats, éléments de "
        "contexte, difficultés de collecte des données (2 000 caractères au plus).",
    )


def _add_validations(ws: Worksheet, value_column: str, observations_column: str, units: dict[int, str]) -> None:
    """Validations of the input cells: one per unit on the value cells, one on all the observation cells."""
    for unit in sorted(set(units.values())):
        validation = _value_validation(unit)
        for cells in _ranges(value_column, [row for row, row_unit in units.items() if row_unit == unit]):
            validation.add(cells)
        ws.add_data_validation(validation)
    if units:
        validation = _observations_validation()
        for cells in _ranges(observations_column, units):
            validation.add(cells)
        ws.add_data_validation(validation)
    for validation in ws.data_validations.dataValidation:
        validation.allow_blank = True
        validation.showErrorMessage = True
        validation.showInputMessage = True
        validation.errorStyle = "stop"


def _number_format(unit: str) -> str:
    return NUMBER_FORMATS.get(unit, "General")


# --- sheets --------------------------------------------------------------------------------------------------------


def _metadata_sheet(ws: Worksheet, region_code: str, region_name: str, campaign: int) -> None:
    _write_header(ws, ("Champ", "Valeur"), (26, 100))
    values = {
        "region_code": region_code,
        "region_name": region_name,
        "campaign": campaign,
        "template_version": TEMPLATE_VERSION,
        "note": GENERATION_NOTE,
        "conventions": INPUT_CONVENTIONS,
        "empreinte": None,  # set once the structure is complete
    }
    for key, (label, coordinate) in METADATA_FIELDS.items():
        row, column = coordinate_to_tuple(coordinate)
        _locked(ws, row, column - 1, label)
        ws.cell(row=row, column=column - 1).font = _HEADER_FONT
        _locked(ws, row, column, values[key], "0" if key == "campaign" else TEXT_FORMAT)
    _protect(ws)


def _indicateurs_sheet(ws: Worksheet, indicators: list[Indicator]) -> None:
    _write_header(ws, INDICATEURS_HEADERS, (11, 22, 50, 10, 60, 9, 22, 16, 60))
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
        for column, value in enumerate(cells, start=1):
            _locked(ws, row, column, value, TEXT_FORMAT)
        _input(ws, row, coordinate_to_tuple(f"{INDICATEURS_RESULT_COLUMN}1")[1], _number_format(indicator.unit))
        _input(ws, row, coordinate_to_tuple(f"{INDICATEURS_OBSERVATIONS_COLUMN}1")[1], TEXT_FORMAT)
        units[row] = indicator.unit
    _add_validations(ws, INDICATEURS_RESULT_COLUMN, INDICATEURS_OBSERVATIONS_COLUMN, units)
    _protect(ws)


def _departements_sheet(ws: Worksheet, departements: pd.DataFrame, indicators: list[Indicator]) -> None:
    _write_header(ws, DEPARTEMENTS_HEADERS, (13, 24, 11, 60, 9, 16, 60))
    value_column = coordinate_to_tuple(f"{DEPARTEMENTS_VALUE_COLUMN}1")[1]
    observations_column = coordinate_to_tuple(f"{DEPARTEMENTS_OBSERVATIONS_COLUMN}1")[1]
    units = {}
    row = FIRST_DATA_ROW
    for departement in departements.itertuples(index=False):
        for indicator in indicators:
            for column, value in enumerate(
                (departement.code, departement.nom, indicator.code, indicator.libelle, indicator.unit), start=1
            ):
                _locked(ws, row, column, value, TEXT_FORMAT)
            _input(ws, row, value_column, _number_format(indicator.unit))
            _input(ws, row, observations_column, TEXT_FORMAT)
            units[row] = indicator.unit
            row += 1
    _add_validations(ws, DEPARTEMENTS_VALUE_COLUMN, DEPARTEMENTS_OBSERVATIONS_COLUMN, units)
    if units:
        ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(DEPARTEMENTS_HEADERS))}{row - 1}"
    _protect(ws, allow_filter=True)


def latest_national_values(national_values: pd.DataFrame, region_code: str) -> dict[str, tuple[str, float]]:
    """{indicator_code: (period_code, value)}: the latest period with a known value (status `ok`) of each indicator.

    `national_values` has the columns indicator_code, period_code, value and status (the warehouse's long values).
    When it also has `territory_code` (and `territory_level`), only the rows of the région are kept; without them,
    the rows are taken as the région's. When it has `breakdown`, only `total` rows are kept. Periods compare as text
    (`2023` < `2024`); equal periods keep the largest value, so that the result does not depend on row order."""
    missing = [name for name in NATIONAL_VALUES_COLUMNS if name not in national_values.columns]
    if missing:
        raise ValueError(f"national_values lacks the column(s) {', '.join(missing)}.")
    frame = national_values
    if "territory_code" in frame.columns:
        keep = frame["territory_code"].astype(str) == region_code
        if "territory_level" in frame.columns:
            keep &= frame["territory_level"].astype(str) == "region"
        frame = frame[keep]
    if "breakdown" in frame.columns:
        frame = frame[frame["breakdown"].fillna("total").astype(str) == "total"]
    known = pd.DataFrame(
        {
            "indicator_code": frame["indicator_code"].astype(str).str.strip(),
            "period_code": frame["period_code"].astype(str).str.strip(),
            "value": pd.to_numeric(frame["value"], errors="coerce"),
            "status": frame["status"].astype(str).str.strip(),
        }
    )
    known = known[(known["status"] == "ok") & known["value"].notna() & (known["period_code"] != "")]
    known = known.sort_values(["indicator_code", "period_code", "value"], kind="stable")
    latest = known.drop_duplicates("indicator_code", keep="last")
    return {row.indicator_code: (row.period_code, float(row.value)) for row in latest.itertuples(index=False)}


def _nationaux_sheet(ws: Worksheet, indicators: list[Indicator], latest: dict[str, tuple[str, float]]) -> None:
    _write_header(ws, NATIONAUX_HEADERS, (11, 22, 60, 9, 22, 10, 14, 16))
    for row, indicator in enumerate(indicators, start=FIRST_DATA_ROW):
        for column, value in enumerate(
            (indicator.code, indicator.convention, indicator.libelle, indicator.unit, indicator.cible), start=1
        ):
            _locked(ws, row, column, value, TEXT_FORMAT)
        if indicator.code in latest:
            period, value = latest[indicator.code]
            _locked(ws, row, 6, period, TEXT_FORMAT)
            _locked(ws, row, 7, int(value) if value.is_integer() else value, _number_format(indicator.unit))
            _locked(ws, row, 8, AVAILABLE)
        else:
            _locked(ws, row, 8, NOT_AVAILABLE)
    _protect(ws)


# --- workbook ------------------------------------------------------------------------------------------------------


def build_template(region_code: str, campaign: int, *, national_values: pd.DataFrame | None = None) -> Workbook:
    """The template of `region_code` (INSEE code, `84`, `04`) for the campaign `campaign` (a year).

    Raises ValueError for a région code that is not in catalogue/regions.csv or a campaign that is not a year."""
    region_name = _region_name(region_code)
    _check_campaign(campaign)
    departements = load_departements()
    departements = departements[departements["code_region"] == region_code]
    local = catalogue_indicators("local")
    national = catalogue_indicators("national")
    latest = latest_national_values(national_values, region_code) if national_values is not None else {}

    workbook = Workbook()
    stamp = dt.datetime(campaign, 1, 1)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.properties.creator = "Observatoire QPV"
    workbook.properties.lastModifiedBy = None
    workbook.properties.title = f"Indicateurs locaux {campaign} - {region_name} (modèle {TEMPLATE_VERSION})"

    metadata = workbook.active
    metadata.title = METADATA_SHEET
    _metadata_sheet(metadata, region_code, region_name, campaign)
    _indicateurs_sheet(workbook.create_sheet(INDICATEURS_SHEET), local)
    _departements_sheet(workbook.create_sheet(DEPARTEMENTS_SHEET), departements, local)
    _nationaux_sheet(workbook.create_sheet(NATIONAUX_SHEET), national, latest)
    workbook.security = WorkbookProtection(lockStructure=True)

    metadata[METADATA_CELLS["empreinte"]] = structure_checksum(workbook)
    return workbook


def workbook_bytes(workbook: Workbook) -> bytes:
    """The .xlsx bytes of `workbook`, the same for the same workbook: the document dates are left as set (openpyxl's
    `save` would stamp the current time) and the zip entries are sorted by name and dated with the document's
    modified date (1 January 1980 when it has none)."""
    raw = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    stamp = workbook.properties.modified or dt.datetime(1980, 1, 1)
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source, zipfile.ZipFile(out, "w") as target:
        for name in sorted(source.namelist()):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(name))
    return out.getvalue()


def write_template(
    path: str | Path, region_code: str, campaign: int, national_values: pd.DataFrame | None = None
) -> Path:
    """Build the template (`build_template`) and write it to `path` (parent folders created); returns the path."""
    content = workbook_bytes(build_template(region_code, campaign, national_values=national_values))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


# --- empreinte -----------------------------------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    """A cell value as text, stable through Excel: numbers to 15 significant digits (`5000`, `12.5`)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return format(float(value), ".15g")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _locked_cells(ws: Any) -> Iterator[tuple[int, int, Any]]:
    """(row, column, value) of the non-empty locked cells of a worksheet, row by row."""
    if isinstance(ws, Worksheet):
        # the stored cells only: iter_rows would create the missing ones of the sheet's rectangle
        cells = (cell for _, cell in sorted(ws._cells.items()))
    else:  # read-only worksheet (load_workbook(read_only=True))
        cells = (cell for row in ws.iter_rows() for cell in row if hasattr(cell, "protection"))
    for cell in cells:
        if cell.value is None or cell.value == "" or not cell.protection.locked:
            continue
        yield cell.row, cell.column, cell.value


def structure_checksum(workbook: Workbook) -> str:
    """The empreinte of a template: sha256 (hex) of its sheet names and of every non-empty locked cell of every
    sheet (sheet, row, column, value), the empreinte cell (`Métadonnées`!B8) excepted.

    Filling the input cells (unlocked) does not change it; moving, inserting or deleting rows or columns, renaming,
    adding or removing a sheet, editing a locked cell or unlocking a filled one does."""
    digest = hashlib.sha256()
    digest.update(json.dumps(["sheets", list(workbook.sheetnames)], ensure_ascii=False).encode("utf-8") + b"\n")
    empreinte = coordinate_to_tuple(METADATA_CELLS["empreinte"])
    for ws in workbook.worksheets:
        for row, column, value in _locked_cells(ws):
            if ws.title == METADATA_SHEET and (row, column) == empreinte:
                continue
            record = [ws.title, row, column, _canonical(value)]
            digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()
