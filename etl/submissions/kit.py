"""The workbook kit both templates are built with: styles, locked and input cells, validations, protection, empreinte.

A header on `HEADER_ROW` (frozen), data from `FIRST_DATA_ROW`; locked cells hold the structure, yellow unlocked cells
are the only input, each with an Excel validation and a French prompt; every sheet is protected without a password
and the workbook structure locked. The empreinte (`structure_checksum`) is the sha256 of the sheet names and of every
non-empty locked cell, `CHECKSUM_CELL` of `Métadonnées` excepted: filling input cells leaves it unchanged, moving
rows, renaming sheets or editing a locked cell changes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

METADATA_SHEET = "Métadonnées"
CHECKSUM_CELL = "B8"  # the empreinte, in METADATA_SHEET, left out of the checksum
HEADER_ROW = 1
FIRST_DATA_ROW = 2

NUMBER_FORMATS = {"nombre": "#,##0", "%": '0.0" %"', "euros": '#,##0.00" €"'}
TEXT_FORMAT = "@"
OBSERVATIONS_MAX_LENGTH = 2000
AVAILABLE = "disponible"
NOT_AVAILABLE = "non disponible"
CREATOR = "Observatoire QPV"

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center")
CELL_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)


# --- cells ---------------------------------------------------------------------------------------------------------


def write_header(ws: Worksheet, headers: Iterable[str], widths: Iterable[float]) -> None:
    """The header row (bold, filled, wrapped) with the columns' widths; the panes frozen under it."""
    for column, (header, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(row=HEADER_ROW, column=column, value=header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGNMENT
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=1).coordinate


def locked(ws: Worksheet, row: int, column: int, value: Any, number_format: str | None = None) -> None:
    """A locked cell holding `value` (an empty text is left empty)."""
    cell = ws.cell(row=row, column=column, value=value if value != "" else None)
    cell.alignment = CELL_ALIGNMENT
    if number_format:
        cell.number_format = number_format


def label(ws: Worksheet, row: int, text: str) -> None:
    """A locked bold label in column A."""
    locked(ws, row, 1, text)
    ws.cell(row=row, column=1).font = HEADER_FONT


def input_cell(ws: Worksheet, row: int, column: int, number_format: str) -> None:
    """An empty unlocked yellow cell to fill in."""
    cell = ws.cell(row=row, column=column)
    cell.protection = UNLOCKED
    cell.fill = INPUT_FILL
    cell.alignment = CELL_ALIGNMENT
    cell.number_format = number_format


def protect(ws: Worksheet, *, allow_filter: bool = False) -> None:
    """Protect the sheet without a password; columns and rows may still be resized (and filtered if allowed)."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # resizing is allowed
    ws.protection.formatRows = False
    if allow_filter:
        ws.protection.autoFilter = False


def metadata_sheet(ws: Worksheet, fields: dict[str, tuple[str, str]], values: dict[str, Any], formats=None) -> None:
    """The locked `Métadonnées` sheet: each field's label in column A, its value at its cell (text format unless
    `formats` names another for the field); the empreinte is written once the workbook is complete (`finish`)."""
    write_header(ws, ("Champ", "Valeur"), (26, 100))
    for key, (text, coordinate) in fields.items():
        row, column = coordinate_to_tuple(coordinate)
        label(ws, row, text)
        locked(ws, row, column, values.get(key), (formats or {}).get(key, TEXT_FORMAT))
    protect(ws)


def ranges(column: str, rows: Iterable[int]) -> list[str]:
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


# --- validations ---------------------------------------------------------------------------------------------------


def validation(**options: Any) -> DataValidation:
    """A data validation that allows a blank cell, shows its prompt and stops on an error."""
    rule = DataValidation(**options)
    rule.allow_blank = True
    rule.showErrorMessage = True
    rule.showInputMessage = True
    rule.errorStyle = "stop"
    return rule


def text_validation(max_length: int, title: str, prompt: str, *, error_title: str = "", error: str = ""):
    """At most `max_length` characters."""
    return validation(
        type="textLength",
        operator="lessThanOrEqual",
        formula1=str(max_length),
        errorTitle=error_title or "Texte trop long",
        error=error or f"Ce texte est limité à {grouped(max_length)} caractères.",
        promptTitle=title,
        prompt=prompt,
    )


# A number cell's rule: kind -> (Excel type, operator, bounds, error title, error message).
NUMBER_RULES = {
    "share": ("decimal", "between", ("0", "100"), "Pourcentage non valide",
              "Saisir un pourcentage entre 0 et 100, sans le signe % : 12,5 pour 12,5 %."),
    "decimal": ("decimal", "greaterThanOrEqual", ("0",), "Nombre non valide",
                "Saisir un nombre supérieur ou égal à 0 (par exemple 12 ou 1250), sans unité ni texte."),
    "count": ("whole", "greaterThanOrEqual", ("0",), "Nombre non valide",
              "Saisir un nombre entier supérieur ou égal à 0 (par exemple 12), sans unité ni texte."),
    "euros": ("decimal", "greaterThanOrEqual", ("0",), "Montant non valide",
              "Saisir un montant en euros supérieur ou égal à 0, sans le signe €."),
}  # fmt: skip


def number_validation(kind: str, title: str, prompt: str) -> DataValidation:
    """A number of `kind` (a key of NUMBER_RULES), with its prompt."""
    kind_type, operator, bounds, error_title, error = NUMBER_RULES[kind]
    formulas = dict(zip(("formula1", "formula2"), bounds, strict=False))
    return validation(type=kind_type, operator=operator, errorTitle=error_title, error=error, promptTitle=title,
                      prompt=prompt, **formulas)  # fmt: skip


def add_validation(ws: Worksheet, rule: DataValidation, column: str, rows: Iterable[int]) -> None:
    """`rule` on the cells of `column` at `rows`."""
    for cells in ranges(column, rows):
        rule.add(cells)
    ws.add_data_validation(rule)


def grouped(number: int | float) -> str:
    """A count written the French way: `12 345` (no-break space)."""
    return f"{number:,}".replace(",", "\u00a0")


# --- workbook ------------------------------------------------------------------------------------------------------


def new_workbook(stamp: dt.datetime, title: str) -> Workbook:
    """An empty workbook dated `stamp` (created and modified) and titled `title`."""
    workbook = Workbook()
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.properties.creator = CREATOR
    workbook.properties.lastModifiedBy = None
    workbook.properties.title = title
    return workbook


def finish(workbook: Workbook) -> Workbook:
    """Lock the workbook structure, then write its empreinte."""
    workbook.security = WorkbookProtection(lockStructure=True)
    workbook[METADATA_SHEET][CHECKSUM_CELL] = structure_checksum(workbook)
    return workbook


# --- empreinte -----------------------------------------------------------------------------------------------------


def canonical(value: Any) -> str:
    """A cell value as text, stable through Excel: numbers to 15 significant digits (`5000`, `12.5`)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return format(float(value), ".15g")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def locked_cells(ws: Any) -> Iterator[tuple[int, int, Any]]:
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
    """The empreinte of a workbook: sha256 (hex) of its sheet names and of every non-empty locked cell of every
    sheet (sheet, row, column, value), the empreinte cell (`Métadonnées`!B8) excepted."""
    digest = hashlib.sha256()
    digest.update(json.dumps(["sheets", list(workbook.sheetnames)], ensure_ascii=False).encode("utf-8") + b"\n")
    empreinte = coordinate_to_tuple(CHECKSUM_CELL)
    for ws in workbook.worksheets:
        for row, column, value in locked_cells(ws):
            if ws.title == METADATA_SHEET and (row, column) == empreinte:
                continue
            record = [ws.title, row, column, canonical(value)]
            digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()
