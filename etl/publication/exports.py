"""The export files of published tables: CSV, dictionary CSV, XLSX and Parquet, the same bytes for the same tables.

Conventions (also described, in French, in the dictionary file each edition carries):

- **CSV** (`write_csv`): UTF-8 with a BOM (so that Excel detects the encoding), `;` as separator, CRLF line ends
  (RFC 4180), `"` quoting only where a field needs it, a header row of the French headers (`Column.header`). Numbers
  use the **decimal comma** (`12,5`) because the files are meant to be opened by French Excel users, and no thousands
  separator (`12345`); a whole-number value of a count is written without decimals. Dates are ISO 8601
  (`2024-06-30`, `2024-06-30T10:15:00`). Text is written as it is, except that text starting like a formula (`=`,
  `+`, `-`, `@`, a tab or a carriage return) gets an apostrophe in front (`'=HYPERLINK(...)`), so that a spreadsheet
  opening the file never runs it (CSV injection); numbers, negative ones included, are written as numbers.
- **Special values** of a number column (count, amount, share, rate): a **masked** cell (no value, and its status is
  `masked`) is `s` (*secret statistique*); a cell without a value whose status is `missing`, `not_applicable`,
  `break`, `ok` or absent is **empty** (we do not use `-`, which in French official statistics means a zero result).
  The status column itself holds the French word of each status (`tables.STATUS_LABELS`: `publiée`, `secret
  statistique`, `non disponible`, `sans objet`, `rupture de série`), in the CSV, XLSX and Parquet files alike, so the
  reason for an empty cell stays in the file; the frames and the warehouse keep the codes.
- **Which status governs a number column**: a status column named after it (`<col>_statut`, `statut_<col>`,
  `<col>_status` or `status_<col>`) when there is one; otherwise the table's single other status column (the row's
  status). A row whose status is `masked` shows `s` in each of its governed number cells that holds no value; a
  masked cell that holds a value is refused (ValueError), so is a status outside `tables.STATUSES`.
- **Dictionary** (`write_dictionary`, same dialect): first the licence (`tables.LICENCE`) and the secrecy rule
  (`Rôle` = `licence`, `secret statistique`), then for each table one row describing the table (column `Colonne`
  empty, `Rôle` = `table`, `En-tête` = the title), then one row per column: table, technical name, header, role, unit,
  what it counts (`Column.counts`), description and its special values (the markers above, or the statuses' words
  for a status column); then the rows the caller adds (`extra_rows`, same eight fields): one per indicator of the
  edition, `Rôle` = `fiche` (etl.publication.fiches).
- **XLSX** (`write_xlsx`): one sheet per table (`sheet_names`: the table name cut to 31 characters, made unique), a
  bold, frozen header row with an autofilter, column widths fitted to the content (8 to 60 characters), number
  formats per role and unit (`number_format`), masked cells as the text `s` (right-aligned), missing ones empty.
  Every text cell is stored as a string, never as a formula, and a text starting with `=`, `+`, `-`, `@`, a tab or a
  carriage return also gets Excel's quote prefix (the apostrophe) so that editing the cell does not turn it into a
  formula either.
  Dates and datetimes are Excel dates (`yyyy-mm-dd`, `yyyy-mm-dd hh:mm:ss`), a datetime with a time zone is its ISO
  text (Excel has no time zones), an integer outside a number column has the format `0`. Characters XML cannot hold
  (control characters but tab, line feed and carriage return) are removed; a text longer than Excel's 32,767
  characters is cut there (the CSV and Parquet files keep it whole). The file is written by XlsxWriter in its
  `constant_memory` mode (row after row, no cell kept in memory), with the document dates (`DOCUMENT_DATE`), creator
  and title fixed, so the same tables give the same bytes.
- **Parquet** (`etl.publication.parquet_export.write_parquet`): counts as int64 (float64 if one is not a whole
  number), amounts, shares and rates as float64, masked and missing cells null; other columns as strings (ISO dates,
  decimal point), except integer, boolean and datetime frame columns which keep their type. Each field carries its
  header, role, unit, what it counts and description as field metadata, and the schema metadata key
  `observatoire_qpv` holds the same for the whole table (JSON), with the statuses' meanings and the licence.
  Zstandard compression; the writer stamps no time, so the bytes only depend on the table (and the pyarrow version,
  which is named in the file).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import functools
import io
import math
import numbers
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell, xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellBooleanTuple, CellDatetimeTuple, CellNumberTuple, CellStringTuple, Worksheet

from etl.publication.tables import (
    LICENCE,
    NUMERIC_ROLES,
    PER_ROW_UNIT,
    SECRECY_RULE,
    SECRET_UNITS,
    STATUS_LABELS,
    STATUS_MASKED,
    STATUSES,
    UNIT_COLUMN,
    Column,
    Table,
)

CSV_DELIMITER = ";"
CSV_LINE_END = "\r\n"
MASKED_MARK = "s"
DOCUMENT_DATE = dt.datetime(1980, 1, 1)  # the XLSX documents' created and modified dates (the zip format's epoch)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

COUNT_FORMAT = "#,##0"
EURO_FORMAT = '#,##0" €"'
PERCENT_FORMAT = '0.0" %"'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

_EURO_UNITS = {"euro", "euros", "€", "eur"}
_SUFFIX_UNITS = {"%": PERCENT_FORMAT, "‰": '0.0" ‰"', "points": '0.0" pts"', "pts": '0.0" pts"'}
_STATUS_SUFFIXES = ("{}_statut", "statut_{}", "{}_status", "status_{}")
_MIN_WIDTH, _MAX_WIDTH = 8, 60

STATUS_MEANINGS = {  # by status code; the files show STATUS_LABELS[code]
    "ok": "valeur publiée",
    "masked": f"valeur masquée par le secret statistique (« {MASKED_MARK} » dans les fichiers CSV et XLSX, "
    "nulle dans le fichier Parquet)",
    "missing": "donnée manquante (cellule vide)",
    "not_applicable": "sans objet (cellule vide)",
    "break": "évolution non calculée, ses deux dates portant sur des listes de QPV différentes (cellule vide)",
}
DICTIONARY_HEADERS = (
    "Table",
    "Colonne",
    "En-tête",
    "Rôle",
    "Unité",
    "Unité statistique",
    "Description",
    "Valeurs particulières",
)


class _Masked:
    """The marker of a masked cell in a prepared column."""

    def __repr__(self) -> str:
        return "MASKED"


MASKED = _Masked()


# --- preparing the cells --------------------------------------------------------------------------------------------


def governing_status(table: Table) -> dict[str, str | None]:
    """For each number column of `table`, the name of the status column that says whether its cells are masked (None
    when the table has none); see the module docstring for the rule."""
    statuses = [column.name for column in table.columns if column.role == "status"]
    numeric = [column.name for column in table.columns if column.role in NUMERIC_ROLES]
    own = {}
    for name in numeric:
        for pattern in _STATUS_SUFFIXES:
            if pattern.format(name) in statuses:
                own[name] = pattern.format(name)
                break
    row_level = [name for name in statuses if name not in own.values()]
    governed: dict[str, str | None] = {}
    for name in numeric:
        if name in own:
            governed[name] = own[name]
        elif len(row_level) > 1:
            raise ValueError(
                f"Table {table.name}: column {name} has no status column of its own ({name}_statut) and the table has "
                f"several row statuses ({', '.join(row_level)}), so its masked cells cannot be told apart."
            )
        else:
            governed[name] = row_level[0] if row_level else None
    return governed


def _is_null(value: Any) -> bool:
    kind = value.__class__
    if kind is str or kind is int:  # the most frequent cells first (same answers as pd.isna, much cheaper)
        return False
    if kind is float:
        return value != value
    return value is None or (not isinstance(value, str | bytes | list | tuple | dict) and bool(pd.isna(value)))


def _number(value: Any, table: Table, column: Column, row: int) -> int | float | None:
    """A number cell as a Python int or float (None when empty); anything else is refused."""
    if value.__class__ is float and math.isfinite(value):  # the most frequent cell: what the general path gives
        return int(value) if column.role == "count" and value.is_integer() else value + 0.0
    if value.__class__ is int:
        return value
    if _is_null(value):
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Number | decimal.Decimal):
        raise ValueError(
            f"Table {table.name}: column {column.name} (role {column.role}) holds {value!r} in row {row}, which is not "
            "a number (a masked or missing cell must hold no value)."
        )
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"Table {table.name}: column {column.name} holds {number} in row {row}, which is not finite.")
    if column.role == "count" and number.is_integer():
        return int(number)
    return number + 0.0  # -0.0 -> 0.0


def _other(value: Any) -> Any:
    """A cell of a non-number column: None, str, int, float, bool, date or datetime (numpy and pandas scalars made
    plain Python)."""
    if value.__class__ is str:  # the most frequent cell (codes, names, labels): as it is
        return value
    if _is_null(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def prepared_columns(table: Table) -> list[list[Any]]:
    """The cells of `table` as the files show them, column by column: None for an empty cell, `MASKED` for a masked
    one, a status as its French word, else a plain Python value (numbers as int or float). Checks the statuses (see
    the module docstring). Prepared once per table (the CSV, the XLSX, the Parquet file and every page of the report
    read the same cells): kept on the table, which is frozen (a changed table is a new one, `dataclasses.replace`);
    the lists are shared, read them only."""
    if "_prepared_columns" not in table.__dict__:
        object.__setattr__(table, "_prepared_columns", _prepare_columns(table))
    return table.__dict__["_prepared_columns"]


def _prepare_columns(table: Table) -> list[list[Any]]:
    frame = table.frame
    statuses: dict[str, list[Any]] = {}
    for position, column in enumerate(table.columns):
        if column.role == "status":
            values = [_other(value) for value in frame.iloc[:, position].tolist()]
            for row, value in enumerate(values):
                if value is not None and value not in STATUSES:
                    raise ValueError(
                        f"Table {table.name}: status column {column.name} holds {value!r} in row {row} "
                        f"(expected one of {', '.join(STATUSES)})."
                    )
            statuses[column.name] = values
    governed = governing_status(table)
    out: list[list[Any]] = []
    masked_cells: dict[str, set[int]] = {}  # status column -> rows with at least one masked cell
    for position, column in enumerate(table.columns):
        raw = frame.iloc[:, position].tolist()
        if column.role == "status":
            out.append([None if value is None else STATUS_LABELS[value] for value in statuses[column.name]])
            continue
        if column.role not in NUMERIC_ROLES:
            out.append([_other(value) for value in raw])
            continue
        status_name = governed[column.name]
        status = statuses[status_name] if status_name else [None] * len(raw)
        own_status = status_name is not None and _owns(column.name, status_name)
        cells: list[Any] = []
        for row, value in enumerate(raw):
            number = _number(value, table, column, row)
            if status[row] == STATUS_MASKED and number is None:
                cells.append(MASKED)
                masked_cells.setdefault(status_name, set()).add(row)
                continue
            if status[row] == STATUS_MASKED and own_status:
                raise ValueError(
                    f"Table {table.name}: column {column.name} holds {number} in row {row} although "
                    f"{status_name} says masked (a masked cell must hold no value)."
                )
            cells.append(number)
        out.append(cells)
    for status_name in {name for name in governed.values() if name is not None}:
        masked = {row for row, value in enumerate(statuses[status_name]) if value == STATUS_MASKED}
        without_cell = masked - masked_cells.get(status_name, set())
        if without_cell:
            raise ValueError(
                f"Table {table.name}: row {min(without_cell)} says masked in {status_name} but every number cell it "
                "governs holds a value (a masked cell must hold no value)."
            )
    return out


def _owns(column_name: str, status_name: str) -> bool:
    return any(pattern.format(column_name) == status_name for pattern in _STATUS_SUFFIXES)


# --- text renderings ------------------------------------------------------------------------------------------------


def _plain_number(value: int | float, decimal_mark: str) -> str:
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return np.format_float_positional(value, trim="-").replace(".", decimal_mark)


def _iso(value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return value.isoformat()


def cell_text(value: Any, decimal_mark: str = ",") -> str:
    """The CSV text of a prepared cell."""
    if value is None:
        return ""
    if value is MASKED:
        return MASKED_MARK
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _plain_number(value, decimal_mark)
    if isinstance(value, dt.date):
        return _iso(value)
    return str(value)


def write_bytes(path: str | Path, content: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _csv(rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator=CSV_LINE_END, quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


# --- CSV ------------------------------------------------------------------------------------------------------------


def neutralised(text: str) -> str:
    """`text` as a CSV field a spreadsheet will not run: an apostrophe in front of text that starts like a formula
    (`FORMULA_TRIGGERS`: `=`, `+`, `-`, `@`, tab, carriage return), the usual defence against CSV injection."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_bytes(table: Table) -> bytes:
    """The CSV file of `table` (see the module docstring for the dialect)."""
    header = [neutralised(column.header) for column in table.columns]
    return _csv([header, *zip(*map(_column_texts, prepared_columns(table)), strict=True)])


def _column_texts(values: list[Any]) -> list[str]:
    """Each prepared cell's `cell_text`, text neutralised (only text: a negative gap, -1,5, is written as a number); the
    most frequent cells first, and each decimal rendered once per column (equal floats have the same text)."""
    rendered: dict[float, str] = {}
    out: list[str] = []
    for value in values:
        if value.__class__ is float:
            if value not in rendered:
                rendered[value] = cell_text(value)
            out.append(rendered[value])
        elif value is None or value.__class__ is int:
            out.append("" if value is None else str(value))
        else:
            out.append(neutralised(value) if isinstance(value, str) else cell_text(value))
    return out


def write_csv(table: Table, path: str | Path) -> Path:
    """Write `csv_bytes(table)` to `path` (parent folders created); returns the path."""
    return write_bytes(path, csv_bytes(table))


# --- dictionary -----------------------------------------------------------------------------------------------------


def _special_values(table: Table, column: Column, governed: dict[str, str | None]) -> str:
    if column.role == "status":
        return " ; ".join(f"{STATUS_LABELS[status]} : {STATUS_MEANINGS[status]}" for status in STATUSES)
    if column.role in NUMERIC_ROLES:
        status = governed[column.name]
        if status is None:
            return "vide : donnée non disponible"
        return (
            f"{MASKED_MARK} : secret statistique (statut « {STATUS_LABELS[STATUS_MASKED]} » dans la colonne "
            f"{table.column(status).header}) ; vide : donnée non disponible, sans objet ou rupture de série (voir la "
            "colonne de statut)"
        )
    return ""


def _counts(table: Table, column: Column) -> str:
    """The dictionary's word on what a column counts."""
    if column.counts == PER_ROW_UNIT:
        return f"{PER_ROW_UNIT} (colonne {table.column(UNIT_COLUMN).header})"
    return column.counts


def dictionary_bytes(tables: Sequence[Table], extra_rows: Sequence[Sequence[str]] = ()) -> bytes:
    """The dictionary CSV of `tables`, then `extra_rows` (see the module docstring)."""
    rows: list[list[str]] = [
        list(DICTIONARY_HEADERS),
        ["", "", "Licence", "licence", "", "", f"{LICENCE['name']} : {LICENCE['url']}", ""],
        ["", "", "Secret statistique", "secret statistique", "", ", ".join(SECRET_UNITS), SECRECY_RULE, ""],
    ]
    for table in tables:
        governed = governing_status(table)
        rows.append([table.name, "", table.title, "table", "", "", table.description, ""])
        for column in table.columns:
            special = _special_values(table, column, governed)
            counts = _counts(table, column)
            rows.append(
                [table.name, column.name, column.header, column.role, column.unit, counts, column.description, special]
            )
    for row in extra_rows:
        if len(row) != len(DICTIONARY_HEADERS) or not all(isinstance(field, str) for field in row):
            raise ValueError(f"A row added to the dictionary must be {len(DICTIONARY_HEADERS)} texts: {row!r}.")
        rows.append(list(row))
    return _csv([[neutralised(field) for field in row] for row in rows])


def write_dictionary(tables: Sequence[Table], path: str | Path) -> Path:
    """Write `dictionary_bytes(tables)` to `path` (parent folders created); returns the path."""
    return write_bytes(path, dictionary_bytes(tables))


# --- XLSX -----------------------------------------------------------------------------------------------------------


def _cut(text: str, units: int) -> str:
    """`text` cut to `units` UTF-16 code units (how Excel counts the 31 characters of a sheet name)."""
    text = text[:units]
    while len(text) > units // 2 and len(text.encode("utf-16-le")) > 2 * units:
        text = text[:-1]
    return text


def sheet_names(tables: Sequence[Table]) -> list[str]:
    """The XLSX sheet name of each table: its name without the characters Excel refuses (and without apostrophes at
    its ends), cut to 31 characters, with `~2`, `~3`... when that name is taken (Excel compares sheet names without
    case)."""
    used = {"history"}  # reserved by Excel
    names = []
    for table in tables:
        base = _cut(re.sub(r"[\[\]:*?/\\]", "_", table.name).strip("'"), 31).rstrip("'") or "table"
        name, number = base, 2
        while name.lower() in used:
            suffix = f"~{number}"
            name, number = _cut(base, 31 - len(suffix)) + suffix, number + 1
        used.add(name.lower())
        names.append(name)
    return names


def number_format(column: Column) -> str:
    """The Excel number format of a number column: counts `#,##0`; amounts in euros `#,##0" €"`; shares and rates
    `0.0" %"` when the unit is `%` (the value is a percentage, 12.5 for 12,5 %), `0.0" ‰"` or `0.0" pts"` for those
    units; `General` otherwise (e.g. a column whose unit depends on the row)."""
    unit = column.unit.strip()
    if column.role == "count":
        return COUNT_FORMAT
    if column.role == "amount":
        return EURO_FORMAT if unit.lower() in _EURO_UNITS else "General"
    if column.role in ("share", "rate"):
        return _SUFFIX_UNITS.get(unit.lower(), "General")
    return "General"


def _width(texts: Iterable[str]) -> int:
    longest = max((len(line) for text in texts for line in text.splitlines() or [""]), default=0)
    return min(_MAX_WIDTH, max(_MIN_WIDTH, longest + 2))


def _column_width(column: Column, values: list[Any]) -> int:
    if column.role in NUMERIC_ROLES:  # room for the thousands separators and the unit; equal values, equal texts
        return _width([column.header, *(cell_text(value) + " " * 4 for value in set(values))])
    return _width([column.header, *{value if value.__class__ is str else cell_text(value) for value in values}])


# Characters an XML 1.0 document cannot hold (the C0 controls but tab, line feed and carriage return; surrogates;
# U+FFFE and U+FFFF): removed from the texts of the XLSX.
_ILLEGAL_CHARACTERS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_ESCAPE_RE = re.compile("(_x[0-9a-fA-F]{4}_)")  # what Excel reads as an escaped character (_x000D_)
_XML_ESCAPED_RE = re.compile("[&<>\r]|_x")  # what needs escaping in a text
_EXCEL_MAX_ROWS, _EXCEL_MAX_COLUMNS = 1_048_576, 16_384
_PIXELS_PER_CHARACTER = 7  # the width of a digit of the default font (Calibri 11), in pixels
_WORKBOOK_OPTIONS = {
    "constant_memory": True,  # each row goes to a temporary file once the next one starts: no cell kept in memory
    "strings_to_formulas": False,  # belt and braces: only write_string, write_number... are called, never write()
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "nan_inf_to_errors": False,  # a non-finite number is refused, not written as an error formula
}
DOCUMENT_CREATOR = "Observatoire QPV"
DOCUMENT_TITLE = "Observatoire QPV - tables publiées"


@functools.lru_cache(maxsize=1 << 16)  # the texts of a sheet repeat (territories, statuses, labels): escaped once
def _inline_text(text: str) -> str:
    """The `<is>` element of a text cell (see `_Worksheet`)."""
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    if _XML_ESCAPED_RE.search(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
        text = _EXCEL_ESCAPE_RE.sub(r"_x005F\1", text)
    return f"<is><t{space}>{text}</t></is>"


class _Worksheet(Worksheet):
    """XlsxWriter's worksheet with its own writer of a cell's XML (`_write_cell`, the inner loop) replaced, and no way
    to write a formula. XlsxWriter 3.3.1's writer writes a text of the form `<r>...</r>` as raw XML (it takes it for
    a rich string: a text `<r><t>a</t></r></is><f>1+1</f><is><r><t>b</t></r>` became a formula), a carriage return
    as `_x000D_` (which openpyxl and pandas do not decode) and numbers with 16 significant digits (which does not
    give back every float). Here a text is always escaped and written as an inline string (a carriage return as
    `&#13;`, a literal `_xHHHH_` escaped as Excel does, `_x005F_xHHHH_`, so that Excel does not decode it), and a
    number as Python writes it (`repr`: the shortest text giving back the same float). The texts come with the
    characters XML cannot hold already removed (`_ILLEGAL_CHARACTERS_RE`); only the cells this module writes (text,
    number, date, boolean) are known, any other is refused."""

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        reference = xl_rowcol_to_cell_fast(row, col)
        style = f' s="{cell.format._get_xf_index()}"' if cell.format else ""
        kind = cell.__class__
        if kind is CellStringTuple:
            self.fh.write(f'<c r="{reference}"{style} t="inlineStr">{_inline_text(cell.string)}</c>')
        elif kind is CellNumberTuple or kind is CellDatetimeTuple:
            self.fh.write(f'<c r="{reference}"{style}><v>{cell.number!r}</v></c>')
        elif kind is CellBooleanTuple:
            self.fh.write(f'<c r="{reference}"{style} t="b"><v>{int(cell.boolean)}</v></c>')
        else:
            raise RuntimeError(f"Sheet {self.name}: unexpected cell in {reference} ({cell!r}).")

    def _write_formula(self, row: int, col: int, *args: Any) -> Any:
        raise RuntimeError(f"Sheet {self.name} would contain a formula in {xl_rowcol_to_cell(row, col)} ({args[0]!r}).")

    def _write_array_formula(self, first_row: int, first_col: int, *args: Any) -> Any:
        raise RuntimeError(f"Sheet {self.name} would contain a formula in {xl_rowcol_to_cell(first_row, first_col)}.")


class SheetCellWriter:
    """Writes the cells of a workbook's sheets, row after row (`constant_memory`): each value through the XlsxWriter
    method of its type (`write_string`, `write_number`, `write_datetime`, `write_boolean`, never `write`, which would
    guess), with the workbook's shared formats, each made once. The undecorated methods are called (`_write_string`
    ...): the row and column are numbers already, and the decorated ones only check that, once per cell."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.workbook = workbook
        self._formats: dict[tuple[str, bool, bool, bool], Format | None] = {}
        self._texts: dict[tuple[str, bool, bool], tuple[str, Any]] = {}  # a text -> (as written, its format)

    def format(self, fmt: str = "General", bold: bool = False, right: bool = False, quote: bool = False) -> Any:
        """The shared format (None for the default one: General, not bold, not aligned, no quote prefix)."""
        key = (fmt, bold, right, quote)
        if key not in self._formats:
            properties: dict[str, Any] = {"num_format": fmt} if fmt != "General" else {}
            if bold:
                properties["bold"] = True
            if right:
                properties["align"] = "right"
            if quote:
                properties["quote_prefix"] = True
            self._formats[key] = self.workbook.add_format(properties) if properties else None
        return self._formats[key]

    def text(self, sheet: Worksheet, row: int, col: int, text: str, bold: bool = False, right: bool = False) -> None:
        """`text` as a string (illegal characters removed; each distinct text cleaned once); formula-like text gets
        the quote prefix."""
        key = (text, bold, right)
        written = self._texts.get(key)
        if written is None:
            cleaned = _ILLEGAL_CHARACTERS_RE.sub("", text)
            fmt = self.format(bold=bold, right=right, quote=cleaned.startswith(FORMULA_TRIGGERS))
            written = self._texts[key] = (cleaned, fmt)
        sheet._write_string(row, col, *written)

    def number_column(self, sheet: Worksheet, column: Column) -> Any:
        """The writer of a number column's prepared cells (not called for an empty one)."""
        fmt, masked = self.format(number_format(column)), self.format(right=True)

        def write(row: int, col: int, value: Any) -> None:
            if value is MASKED:
                sheet._write_string(row, col, MASKED_MARK, masked)
            else:
                sheet._write_number(row, col, value, fmt)

        return write

    def other_column(self, sheet: Worksheet) -> Any:
        """The writer of the prepared cells of a column that is not a number column (not called for an empty one)."""

        def write(row: int, col: int, value: Any) -> None:
            if isinstance(value, str):
                self.text(sheet, row, col, value)
            elif isinstance(value, bool):
                sheet._write_boolean(row, col, value)
            elif isinstance(value, int):
                sheet._write_number(row, col, value, self.format("0"))
            elif isinstance(value, float) and math.isfinite(value):
                sheet._write_number(row, col, value)
            elif isinstance(value, dt.datetime):
                if value.tzinfo is not None:  # Excel has no time zones: keep the offset in text
                    self.text(sheet, row, col, _iso(value))
                else:
                    sheet._write_datetime(row, col, value, self.format(DATETIME_FORMAT))
            elif isinstance(value, dt.date):
                sheet._write_datetime(row, col, value, self.format(DATE_FORMAT))
            else:  # a time, a non-finite float, any other object: its text
                self.text(sheet, row, col, str(value))

        return write

    def table(self, table: Table, title: str, columns: list[list[Any]]) -> None:
        """The sheet `title` of `table` (its prepared cells `columns`)."""
        sheet = self.workbook.add_worksheet(title, worksheet_class=_Worksheet)
        sheet.freeze_panes(1, 0)
        if not table.columns:
            return
        for index, (column, values) in enumerate(zip(table.columns, columns, strict=True)):
            # stored as this many characters (7 pixels each), the width openpyxl stored
            sheet.set_column_pixels(index, index, _PIXELS_PER_CHARACTER * _column_width(column, values))
        sheet.autofilter(0, 0, len(table.frame), len(table.columns) - 1)
        for index, column in enumerate(table.columns):
            self.text(sheet, 0, index, column.header, bold=True)
        writers = [
            self.number_column(sheet, column) if column.role in NUMERIC_ROLES else self.other_column(sheet)
            for column in table.columns
        ]
        for row, values in enumerate(zip(*columns, strict=True), start=1):
            for index, value in enumerate(values):
                if value is not None:
                    writers[index](row, index, value)


def _check_size(table: Table) -> None:
    if len(table.frame) >= _EXCEL_MAX_ROWS or len(table.columns) > _EXCEL_MAX_COLUMNS:
        raise ValueError(
            f"Table {table.name}: {len(table.frame)} rows and {len(table.columns)} columns do not fit in an Excel "
            f"sheet ({_EXCEL_MAX_ROWS - 1} rows under the header, {_EXCEL_MAX_COLUMNS} columns at most)."
        )


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """The XLSX file of `tables` (see the module docstring), the same bytes for the same tables."""
    for table in tables:
        _check_size(table)
    prepared = [prepared_columns(table) for table in tables]  # every table checked before a row is written
    output = io.BytesIO()
    # XlsxWriter's temporary files (the rows, the package's parts) in a folder of this workbook's own, removed with
    # all its content: XlsxWriter 3.3.1 leaves the (empty) rows file of a sheet without cells behind
    with tempfile.TemporaryDirectory(prefix="observatoire-xlsx-") as folder:
        workbook = xlsxwriter.Workbook(output, {**_WORKBOOK_OPTIONS, "tmpdir": folder})
        try:
            cells = SheetCellWriter(workbook)
            for table, title, columns in zip(tables, sheet_names(tables), prepared, strict=True):
                cells.table(table, title, columns)
            if not tables:
                workbook.add_worksheet("vide")
            # the document's dates, and no current time anywhere: XlsxWriter dates the zip entries 31 January 1980
            workbook.set_properties({"title": DOCUMENT_TITLE, "author": DOCUMENT_CREATOR, "created": DOCUMENT_DATE})
        except BaseException:
            with contextlib.suppress(Exception):
                workbook.close()  # closes the files of the rows written so far
            raise
        workbook.close()
    return output.getvalue()


def write_xlsx(tables: Sequence[Table], path: str | Path) -> Path:
    """Write `xlsx_bytes(tables)` to `path` (parent folders created); returns the path."""
    return write_bytes(path, xlsx_bytes(tables))
