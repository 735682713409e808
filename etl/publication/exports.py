"""The export files of published tables: CSV, dictionary CSV, XLSX and Parquet, the same bytes for the same tables.

Conventions (also described, in French, in the dictionary file each edition carries):

- **CSV** (`write_csv`): UTF-8 with a BOM (so that Excel detects the encoding), `;` as separator, CRLF line ends
  (RFC 4180), `"` quoting only where a field needs it, a header row of the French headers (`Column.header`). Numbers
  use the **decimal comma** (`12,5`) because the files are meant to be opened by French Excel users, and no thousands
  separator (`12345`); a whole-number value of a count is written without decimals. Dates are ISO 8601
  (`2024-06-30`, `2024-06-30T10:15:00`). Text is written verbatim (this includes text starting with `=`: only the
  XLSX neutralises formula-like text).
- **Special values** of a number column (count, amount, share, rate): a **masked** cell (no value, and its status is
  `masked`) is `s` (*secret statistique*); a cell without a value whose status is `missing`, `not_applicable`, `ok` or
  absent is **empty** (we do not use `-`, which in French official statistics means a zero result). The status
  column itself holds the status codes (`ok`, `masked`, `missing`, `not_applicable`), so the reason for an empty
  cell stays in the file.
- **Which status governs a number column**: a status column named after it (`<col>_statut`, `statut_<col>`,
  `<col>_status` or `status_<col>`) when there is one; otherwise the table's single other status column (the row's
  status). A row whose status is `masked` shows `s` in each of its governed number cells that holds no value; a
  masked cell that holds a value is refused (ValueError), so is a status outside `tables.STATUSES`.
- **Dictionary** (`write_dictionary`, same dialect): for each table one row describing the table (column `Colonne`
  empty, `Rôle` = `table`, `En-tête` = the title), then one row per column: table, technical name, header, role, unit,
  description and its special values (the markers above, or the list of statuses for a status column).
- **XLSX** (`write_xlsx`): one sheet per table (`sheet_names`: the table name cut to 31 characters, made unique), a
  bold, frozen header row with an autofilter, column widths fitted to the content (8 to 60 characters), number
  formats per role and unit (`number_format`), masked cells as the text `s`, missing ones empty. Every text cell is
  stored as a string, never as a formula, and a text starting with `=`, `+`, `-`, `@`, a tab or a carriage return
  also gets Excel's quote prefix (the apostrophe) so that editing the cell does not turn it into a formula either.
  The sheets are written row by row in openpyxl's write-only mode (no cell is kept in memory); the document dates
  are fixed (`DOCUMENT_DATE`) and the package is written by `template.workbook_bytes`.
- **Parquet** (`write_parquet`): counts as int64 (float64 if one is not a whole number), amounts, shares and rates as
  float64, masked and missing cells null; other columns as strings (ISO dates, decimal point), except integer,
  boolean and datetime frame columns which keep their type. Each field carries its header, role, unit and
  description as field metadata, and the schema metadata key `observatoire_qpv` holds the same for the whole table
  (JSON). Zstandard compression; the writer stamps no time, so the bytes only depend on the table (and the pyarrow
  version, which is named in the file).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import itertools
import json
import math
import numbers
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils.cell import get_column_letter

from etl.publication.tables import NUMERIC_ROLES, STATUS_MASKED, STATUSES, Column, Table
from etl.submissions.template import workbook_bytes

CSV_DELIMITER = ";"
CSV_LINE_END = "\r\n"
MASKED_MARK = "s"
DOCUMENT_DATE = dt.datetime(1980, 1, 1)  # the XLSX documents' created and modified dates (the zip format's epoch)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PARQUET_METADATA_KEY = "observatoire_qpv"
PARQUET_COMPRESSION = "zstd"

COUNT_FORMAT = "#,##0"
EURO_FORMAT = '#,##0" €"'
PERCENT_FORMAT = '0.0" %"'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

_EURO_UNITS = {"euro", "euros", "€", "eur"}
_SUFFIX_UNITS = {"%": PERCENT_FORMAT, "‰": '0.0" ‰"', "points": '0.0" pts"', "pts": '0.0" pts"'}
_STATUS_SUFFIXES = ("{}_statut", "statut_{}", "{}_status", "status_{}")
_MIN_WIDTH, _MAX_WIDTH = 8, 60

STATUS_MEANINGS = {
    "ok": "valeur publiée",
    "masked": f"valeur masquée par le secret statistique (« {MASKED_MARK} » dans les fichiers CSV et XLSX, "
    "nulle dans le fichier Parquet)",
    "missing": "donnée manquante (cellule vide)",
    "not_applicable": "sans objet (cellule vide)",
}
DICTIONARY_HEADERS = ("Table", "Colonne", "En-tête", "Rôle", "Unité", "Description", "Valeurs particulières")


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
    return value is None or (not isinstance(value, str | bytes | list | tuple | dict) and bool(pd.isna(value)))


def _number(value: Any, table: Table, column: Column, row: int) -> int | float | None:
    """A number cell as a Python int or float (None when empty); anything else is refused."""
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
    """The cells of `table`, column by column: None for an empty cell, `MASKED` for a masked one, else a plain
    Python value (numbers as int or float). Checks the statuses (see the module docstring)."""
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


def _text(value: Any, decimal_mark: str = ",") -> str:
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


def _write(path: str | Path, content: bytes) -> Path:
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


def csv_bytes(table: Table) -> bytes:
    """The CSV file of `table` (see the module docstring for the dialect)."""
    columns = prepared_columns(table)
    header = [column.header for column in table.columns]
    rows = ([_text(value) for value in row] for row in zip(*columns, strict=True))
    return _csv([header, *rows])


def write_csv(table: Table, path: str | Path) -> Path:
    """Write `csv_bytes(table)` to `path` (parent folders created); returns the path."""
    return _write(path, csv_bytes(table))


# --- dictionary -----------------------------------------------------------------------------------------------------


def _special_values(table: Table, column: Column, governed: dict[str, str | None]) -> str:
    if column.role == "status":
        return " ; ".join(f"{status} : {STATUS_MEANINGS[status]}" for status in STATUSES)
    if column.role in NUMERIC_ROLES:
        status = governed[column.name]
        if status is None:
            return "vide : donnée non disponible"
        return (
            f"{MASKED_MARK} : secret statistique (statut masked dans la colonne {table.column(status).header}) ; "
            "vide : donnée manquante ou sans objet (statut missing ou not_applicable)"
        )
    return ""


def dictionary_bytes(tables: Sequence[Table]) -> bytes:
    """The dictionary CSV of `tables` (see the module docstring)."""
    rows: list[list[str]] = [list(DICTIONARY_HEADERS)]
    for table in tables:
        governed = governing_status(table)
        rows.append([table.name, "", table.title, "table", "", table.description, ""])
        for column in table.columns:
            special = _special_values(table, column, governed)
            rows.append([table.name, column.name, column.header, column.role, column.unit, column.description, special])
    return _csv(rows)


def write_dictionary(tables: Sequence[Table], path: str | Path) -> Path:
    """Write `dictionary_bytes(tables)` to `path` (parent folders created); returns the path."""
    return _write(path, dictionary_bytes(tables))


# --- XLSX -----------------------------------------------------------------------------------------------------------


def sheet_names(tables: Sequence[Table]) -> list[str]:
    """The XLSX sheet name of each table: its name without the characters Excel refuses, cut to 31 characters, with
    `~2`, `~3`... when that name is taken (Excel compares sheet names without case)."""
    used = {"history"}  # reserved by Excel
    names = []
    for table in tables:
        base = re.sub(r"[\[\]:*?/\\]", "_", table.name).strip("'")[:31] or "table"
        name, number = base, 2
        while name.lower() in used:
            suffix = f"~{number}"
            name, number = base[: 31 - len(suffix)] + suffix, number + 1
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


class _SheetCells:
    """The cells of one write-only sheet. A cell that needs a style or a forced type is made here (`Cell` with one of
    the sheet's shared style arrays, each made once on a template cell); a value openpyxl stores as it is (None, a
    float or boolean outside a number column, a text that cannot be read as a formula or an error code) is appended
    as it is, which is much cheaper. Every cell made here is checked not to be a formula (`_checked`)."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet
        self._styles: dict[tuple[str, bool, bool, bool], StyleArray] = {}

    def style(self, fmt: str = "General", bold: bool = False, right: bool = False, quote: bool = False) -> StyleArray:
        key = (fmt, bold, right, quote)
        if key not in self._styles:
            # value first, then the format, as cells were set up one by one: the workbook registers the same number
            # formats (with a date, openpyxl's default date format first), so styles.xml is unchanged
            template = WriteOnlyCell(self.sheet, _FORMAT_SAMPLES.get(fmt))
            template.number_format = fmt
            if bold:
                template.font = Font(bold=True)
            if right:
                template.alignment = Alignment(horizontal="right")
            if quote:
                template.quotePrefix = True
            self._styles[key] = StyleArray(template._style)
        return self._styles[key]

    def register(self, table: Table, columns: list[list[Any]]) -> None:
        """Make the styles with a number format of its own that `table`'s cells use, column by column and in each
        column in order of first use, before the rows: the workbook numbers the formats in the order they are made
        (as they were when the cells were made column by column), and lists every format made in styles.xml, so a
        format no cell uses is not made."""
        for column, values in zip(table.columns, columns, strict=True):
            if column.role in NUMERIC_ROLES:
                if any(value is not None and value is not MASKED for value in values):
                    self.style(number_format(column))
            elif any(issubclass(kind, dt.date) for kind in set(map(type, values))):
                for value in values:
                    if isinstance(value, dt.datetime):
                        if value.tzinfo is None:
                            self.style(DATETIME_FORMAT)
                    elif isinstance(value, dt.date):
                        self.style(DATE_FORMAT)

    def cell(self, value: Any, style: StyleArray) -> Cell:
        return _checked(Cell(self.sheet, row=1, column=1, value=value, style_array=style))

    def text(self, text: str, bold: bool = False, right: bool = False) -> Cell | str:
        """`text` stored as a string, never a formula or an error code (illegal characters removed); formula-like
        text gets the quote prefix."""
        if not bold and not right and not text.startswith(_NOT_PLAIN) and not ILLEGAL_CHARACTERS_RE.search(text):
            return text  # openpyxl stores it as a string: it cannot start with "=" (formula) or "#" (error code)
        style = self.style(bold=bold, right=right, quote=text.startswith(FORMULA_TRIGGERS))
        cell = Cell(self.sheet, row=1, column=1, value=ILLEGAL_CHARACTERS_RE.sub("", text), style_array=style)
        cell.data_type = "s"
        return _checked(cell)

    def number_column(self, column: Column) -> Any:
        """The converter of a number column's prepared cells (after `register`)."""
        fmt = number_format(column)

        def convert(value: Any) -> Any:
            if value is None:
                return None
            if value is MASKED:
                return self.text(MASKED_MARK, right=True)
            if fmt == "General":
                return value
            return self.cell(value, self.style(fmt))

        return convert

    def other(self, value: Any) -> Any:
        """A prepared cell of a column that is not a number column."""
        if value is None:
            return None
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool | float):
            return value
        if isinstance(value, int):
            return self.cell(value, self.style("0"))
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:  # Excel has no time zones: keep the offset in text
                return self.text(_iso(value))
            return self.cell(value, self.style(DATETIME_FORMAT))
        if isinstance(value, dt.date):
            return self.cell(value, self.style(DATE_FORMAT))
        return self.text(str(value))


_FORMAT_SAMPLES = {DATETIME_FORMAT: DOCUMENT_DATE, DATE_FORMAT: DOCUMENT_DATE.date()}
_NOT_PLAIN = (*FORMULA_TRIGGERS, "#")  # text that needs a cell of its own (quote prefix, or forced string type)


def _checked(cell: Cell) -> Cell:
    """`cell`, refused if it would hold a formula (the exports never write one; a guard for later edits)."""
    if cell.data_type == "f":
        raise RuntimeError(f"Sheet {cell.parent.title} would contain a formula ({cell.value!r}).")
    return cell


def _last_row(columns: list[list[Any]]) -> int:
    """The number of the last data row (1 for the first one after the header) holding a cell, 0 when none does:
    the sheet's used range (`<dimension>`) ends there, as openpyxl writes it for a normal sheet."""
    last = 0
    for values in columns:
        for row in range(len(values), last, -1):
            if values[row - 1] is not None:
                last = row
                break
    return last


def _column_width(column: Column, values: list[Any]) -> int:
    if column.role in NUMERIC_ROLES:  # room for the thousands separators and the unit; equal values, equal texts
        return _width([column.header, *(_text(value) + " " * 4 for value in set(values))])
    return _width([column.header, *(_text(value) for value in values)])


def xlsx_workbook(tables: Sequence[Table]) -> Workbook:
    """The workbook of `tables` (see the module docstring), in openpyxl's write-only mode: the rows are already
    written (to temporary files, row by row) and the workbook can be saved once, as `xlsx_bytes` does."""
    prepared = [prepared_columns(table) for table in tables]  # every table checked before a row is written
    workbook = Workbook(write_only=True)
    for table, title, columns in zip(tables, sheet_names(tables), prepared, strict=True):
        sheet = workbook.create_sheet(title)
        # what precedes the rows in the sheet's XML is set before the first row is appended
        for index, (column, values) in enumerate(zip(table.columns, columns, strict=True), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = _column_width(column, values)
        sheet.freeze_panes = "A2"
        last = _last_row(columns)
        used = f"A1:{get_column_letter(len(columns))}{last + 1}" if columns else "A1:A1"
        sheet.calculate_dimension = lambda used=used: used  # what openpyxl's writer writes as <dimension>
        if not table.columns:
            continue
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.frame) + 1}"
        cells = _SheetCells(sheet)
        sheet.append([cells.text(column.header, bold=True) for column in table.columns])
        cells.register(table, columns)
        converters = [
            cells.number_column(column) if column.role in NUMERIC_ROLES else cells.other for column in table.columns
        ]
        rows = zip(*(map(convert, values) for convert, values in zip(converters, columns, strict=True)), strict=True)
        for row in itertools.islice(rows, last):  # not the empty rows at the end: no cell, no <row>
            sheet.append(row)
    if not tables:
        workbook.create_sheet("vide").calculate_dimension = lambda: "A1:A1"
    workbook.properties.created = DOCUMENT_DATE
    workbook.properties.modified = DOCUMENT_DATE
    workbook.properties.creator = "Observatoire QPV"
    workbook.properties.lastModifiedBy = None
    workbook.properties.title = "Observatoire QPV - tables publiées"
    return workbook


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """The XLSX file of `tables`, the same bytes for the same tables."""
    return workbook_bytes(xlsx_workbook(tables))


def write_xlsx(tables: Sequence[Table], path: str | Path) -> Path:
    """Write `xlsx_bytes(tables)` to `path` (parent folders created); returns the path."""
    return _write(path, xlsx_bytes(tables))


# --- Parquet --------------------------------------------------------------------------------------------------------


def _column_metadata(column: Column) -> dict[str, str]:
    return {
        "name": column.name,
        "header": column.header,
        "role": column.role,
        "unit": column.unit,
        "description": column.description,
    }


def _parquet_array(table: Table, position: int, column: Column, values: list[Any]) -> pa.Array:
    if column.role in NUMERIC_ROLES:
        numbers_ = [None if value is None or value is MASKED else value for value in values]
        if column.role == "count" and all(isinstance(value, int) for value in numbers_ if value is not None):
            return pa.array(numbers_, type=pa.int64())
        return pa.array([None if value is None else float(value) for value in numbers_], type=pa.float64())
    dtype = table.frame.iloc[:, position].dtype
    if pd.api.types.is_bool_dtype(dtype):
        return pa.array(values, type=pa.bool_())
    if pd.api.types.is_integer_dtype(dtype):
        return pa.array(values, type=pa.int64())
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return pa.array(table.frame.iloc[:, position], from_pandas=True)
    return pa.array([None if value is None else _text(value, ".") for value in values], type=pa.string())


def parquet_bytes(table: Table) -> bytes:
    """The Parquet file of `table` (see the module docstring), the same bytes for the same table."""
    columns = prepared_columns(table)
    arrays, fields = [], []
    for position, (column, values) in enumerate(zip(table.columns, columns, strict=True)):
        array = _parquet_array(table, position, column, values)
        metadata = {key: value for key, value in _column_metadata(column).items() if key != "name"}
        arrays.append(array)
        fields.append(pa.field(column.name, array.type, nullable=True, metadata=metadata))
    described = {
        "table": table.name,
        "title": table.title,
        "description": table.description,
        "columns": [_column_metadata(column) for column in table.columns],
        "statuses": STATUS_MEANINGS,
        "masked": "les cellules masquées (secret statistique) sont nulles ; la colonne de statut indique masked",
    }
    schema = pa.schema(
        fields, metadata={PARQUET_METADATA_KEY: json.dumps(described, ensure_ascii=False, sort_keys=True)}
    )
    arrow_table = pa.Table.from_arrays(arrays, schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(arrow_table, sink, compression=PARQUET_COMPRESSION)
    return sink.getvalue().to_pybytes()


def write_parquet(table: Table, path: str | Path) -> Path:
    """Write `parquet_bytes(table)` to `path` (parent folders created); returns the path."""
    return _write(path, parquet_bytes(table))
