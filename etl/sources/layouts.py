"""File layouts: which of the layouts a source declares a file has, and the file read into the source's own columns.

A source of `etl/sources/registry.yaml` lists the layouts it accepts (`layouts:`, the producers' real ones first):
each a header signature and a column map onto the columns its normaliser reads, with per-column cell options (Excel
text literals, multi-value separators, zero padding, decimal commas; `registry.Column`). `read(source_id, path)` is
the reader of such a source:

1. the table is read as text: a `;` CSV through `etl.readers.read_delimited` (BOM, encodings, field counts, limits),
   or a workbook through `etl/xlsx.py` (`read_sheet`: the declared sheet, in any spelling, or the first; the header
   row found below a title block by searching for the first column's header; a second header row and blank rows
   skipped, a header named twice or a value under no header refused; the producer's national total row, "Ensemble
   des quartiers prioritaires...", kept apart in `frame.attrs["totals"]`);
2. its header is matched against every layout (`detect`): headers compared ignoring case, accents, surrounding
   spaces and a BOM, empty trailing columns ignored. One layout must match: a header matching two is refused
   naming both (`ambiguous_layout`), a header matching none is refused (`unknown_layout`; `missing_columns` when it
   only lacks columns of the closest layout) with a report (the
   exception's `details`, written into the quarantine report by etl/pipeline.py) listing each layout's expected
   headers, the headers found, and the closest layout with what it lacks and what it does not expect;
3. the columns are renamed, their cells read with the options, columns taken from the file name filled, and the
   layout's `transform` run when it declares one. The frame has `line_no` first; `frame.attrs["layout"]` names the
   layout, which the pipeline records in `audit.batch.layout`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from etl import xlsx
from etl.readers import FileShapeError, read_delimited
from etl.sources.registry import Column, Layout, source

HEADER_SEARCH_ROWS = 30  # a workbook's header row lies within its first rows, below the title block
# Bounds on a producer's workbook: a few thousand QPV rows, a few hundred columns at most.
WORKBOOK_LIMITS = xlsx.Limits(
    max_file_bytes=20 << 20, max_uncompressed_bytes=200 << 20, max_rows=20_000, max_columns=400
)
MULTI_VALUE_JOIN = "; "
NO_HEADER = "(sans en-tête, colonne "  # how a column with values but no header is named in reports
_YEAR = "<yyyy>"
_LITERAL = re.compile(r'^\s*="(.*)"\s*$', re.DOTALL)
_LITERAL_CONTENT = re.compile(r"^(?:[0-9]|2[AB]|[;, ])*$")  # digits (Corsica: 2A, 2B), separators
_DECIMAL = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_GROUP_SPACES = re.compile(r"[ \u00a0\u202f]")
_TOTAL_ROW = re.compile(r"^(ensemble des (quartiers|qpv)|total (france|national))")


# --- headers -------------------------------------------------------------------------------------------------------


def header_key(cell) -> str:
    """A header as compared: no BOM, accents removed, lower case, inner spaces collapsed, stripped."""
    text = "" if cell is None else str(cell).replace("\ufeff", "")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.lower().split())


def _spelling(spelling: str) -> re.Pattern:
    """The regular expression of a declared header spelling (`<YYYY>` standing for a year)."""
    parts = [re.escape(part) for part in header_key(spelling).split(_YEAR)]
    return re.compile("(?:19|20)[0-9]{2}".join(parts))


def _shown(headers: list[str]) -> str:
    return ";".join(headers) if headers else "(none)"


@dataclass
class LayoutMatch:
    """How a header matches one layout: the file position of each column found, what is missing, what is extra."""

    layout: Layout
    positions: dict[str, int] = field(default_factory=dict)
    others: dict[str, int] = field(default_factory=dict)  # headers admitted by `others` (header key -> position)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.missing and not self.unexpected

    @property
    def score(self) -> int:
        return len(self.positions) - len(self.missing) - len(self.unexpected)


def significant(headers: list[str], empty_columns: set[int]) -> dict[int, str]:
    """{position: header} of the columns to match: an empty header over empty cells (the trailing `;;;` of a
    spreadsheet export) is ignored; an empty header over values is kept (as `(sans en-tête, colonne N)`)."""
    out = {}
    for position, header in enumerate(headers):
        if header_key(header):
            out[position] = header
        elif position not in empty_columns:
            out[position] = f"{NO_HEADER}{position + 1})"
    return out


def match(layout: Layout, headers: dict[int, str]) -> LayoutMatch:
    """How the file's headers ({position: header}) match `layout`."""
    result = LayoutMatch(layout)
    keys = {position: header_key(header) for position, header in headers.items()}
    used: set[int] = set()
    for name, column in layout.columns.items():
        patterns = [_spelling(spelling) for spelling in column.headers]
        found = next((p for p, key in keys.items() if p not in used and any(x.fullmatch(key) for x in patterns)), None)
        if found is None:
            if column.required:
                result.missing.append(column.headers[0])
            continue
        used.add(found)
        result.positions[name] = found
    others = re.compile(layout.others) if layout.others else None
    for position, key in keys.items():
        if position in used:
            continue
        if others is not None and key and not headers[position].startswith(NO_HEADER) and others.search(key):
            result.others[key] = position
        else:
            result.unexpected.append(headers[position])
    return result


def expected_headers(layout: Layout) -> str:
    """The headers a layout expects, as the report shows them."""
    names = [c.headers[0] + ("" if c.required else " (facultatif)") for c in layout.columns.values()]
    if layout.others:
        names.append(f"[autres colonnes : {layout.others}]")
    return ";".join(names)


def detect(source_id: str, layouts: list[Layout], headers: dict[int, str], name: str, line: int = 1) -> LayoutMatch:
    """The one layout `headers` (the file's line `line`) match; FileShapeError `ambiguous_layout` (two or more match)
    or `unknown_layout` (none does, with the report in `details`)."""
    matches = [match(layout, headers) for layout in layouts]
    found = [m for m in matches if m.matches]
    if len(found) == 1:
        return found[0]
    if found:
        names = " and ".join(m.layout.name for m in found)
        error = FileShapeError(
            f"{name}: line {line} (header) matches more than one layout of source {source_id}, {names}, so the file "
            "cannot be read without guessing; rename or remove the columns that make it ambiguous and drop it again.",
            rule="ambiguous_layout",
            line=line,
        )
        error.details = [f"Headers found: {_shown(list(headers.values()))}"] + [
            f"Matches layout {m.layout.name}: {expected_headers(m.layout)}" for m in found
        ]
        raise error
    closest = max(matches, key=lambda m: (len(m.positions), m.score))
    differs = []
    if closest.missing:
        differs.append(f"lacks {', '.join(closest.missing)}")
    if closest.unexpected:
        differs.append(f"does not expect {', '.join(closest.unexpected)}")
    # a header that only lacks columns of its closest layout is a file missing columns; anything else, a layout unknown
    lacking = bool(closest.missing) and not closest.unexpected
    error = FileShapeError(
        f"{name}: line {line} (header) matches none of the {len(layouts)} layouts source {source_id} accepts; the "
        f"closest, {closest.layout.name}, {' and '.join(differs)} (the report lists each layout's expected headers).",
        rule="missing_columns" if lacking else "unknown_layout",
        line=line,
        column=", ".join(closest.missing) if lacking else None,
    )
    error.details = [
        f"Headers found: {_shown(list(headers.values()))}",
        f"Layouts accepted by {source_id}:",
        *[
            f"    {layout.name} ({'réel' if layout.real else 'plateforme'}): {expected_headers(layout)}"
            for layout in layouts
        ],
        f"Closest layout: {closest.layout.name}",
        f"    missing columns: {', '.join(closest.missing) or 'none'}",
        f"    unexpected columns: {', '.join(closest.unexpected) or 'none'}",
    ]
    raise error


# --- cells ---------------------------------------------------------------------------------------------------------


def unwrap_literals(cells: pd.Series) -> pd.Series:
    """`="01053"` -> `01053` (an Excel text literal) when it holds digits (and Corsica's 2A, 2B) and separators only;
    anything else as written, so that the gates see it."""
    inner = cells.str.extract(_LITERAL, expand=False)
    plain = inner.notna() & inner.fillna("").str.match(_LITERAL_CONTENT)
    return cells.where(~plain, inner)


def _per_value(cells: pd.Series, separator: str | None, function) -> pd.Series:
    if separator is None:
        return function(cells)
    parts = cells.str.split(re.escape(separator.strip()), regex=True).explode().str.strip()
    done = function(parts.fillna(""))
    return done.groupby(level=0).agg(MULTI_VALUE_JOIN.join).reindex(cells.index).fillna("")


def _pad(width: int):
    def pad(values: pd.Series) -> pd.Series:
        digits = values.str.fullmatch(r"\d+").fillna(False).astype(bool)
        return values.where(~digits, values.str.zfill(width))

    return pad


def decimal_points(cells: pd.Series) -> pd.Series:
    """`12 500,5` -> `12500.5`; a cell that is not a number stays as written."""
    compact = cells.str.replace(_GROUP_SPACES, "", regex=True).str.replace(",", ".", regex=False)
    return cells.where(~compact.str.match(_DECIMAL).fillna(False).astype(bool), compact)


def read_cells(cells: pd.Series, column: Column) -> pd.Series:
    """The cells of a column with its options applied (see `registry.Column`)."""
    cells = cells.astype("str")
    if column.literal:
        cells = unwrap_literals(cells)
    if column.separator is not None or column.pad:
        padding = _pad(column.pad) if column.pad else (lambda values: values)
        cells = _per_value(cells, column.separator, padding)
    if column.decimal_comma:
        cells = decimal_points(cells)
    return cells


# --- tables --------------------------------------------------------------------------------------------------------


@dataclass
class Table:
    """A file's table as read: `cells` (line_no, then the columns by position), the header as written, and the
    rows set apart (a workbook's national total rows, {line: cells})."""

    cells: pd.DataFrame
    headers: list[str]
    totals: dict[int, list[str]] = field(default_factory=dict)
    encoding: str | None = None  # a CSV file's (etl.readers.read_delimited)
    header_line: int = 1

    def empty_columns(self) -> set[int]:
        return {p for p in range(len(self.headers)) if not (self.cells[p].str.strip() != "").any()}


def _cell_text(value) -> str:
    """A workbook cell as text: whole numbers without a decimal part, other floats as Python writes them."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _refused(name: str, where: str, message: str, *, rule: str, line=None, column=None) -> FileShapeError:
    return FileShapeError(f"{name}: {where}{message}.", rule=rule, line=line, column=column)


def _open_sheet(path: Path, name: str, sheets: list[str], limits: xlsx.Limits):
    try:
        opened = xlsx.open_xlsx(path, limits=limits)
    except xlsx.XlsxError as error:
        raise FileShapeError(
            f"{name}: {error.message}; export the table again as an .xlsx workbook (or as CSV) and drop it again.",
            rule=error.rule,
        ) from None
    books = opened.values.worksheets
    wanted = {sheet_key(sheet) for sheet in sheets}
    return next((sheet for sheet in books if sheet_key(sheet.title) in wanted), books[0])


def sheet_key(title: str) -> str:
    """A sheet name as compared: as a header (`header_key`), each word without a plural `s` (`Données quartiers` =
    `Donnees quartier`)."""
    return " ".join(re.sub(r"(?<=[a-z])s$", "", word) for word in header_key(title).split())


def read_sheet(
    path: Path, name: str, keys: list[str], *, sheets: list[str] = (), limits: xlsx.Limits = WORKBOOK_LIMITS
) -> Table:
    """The table of a workbook: on the first of `sheets` found (else the first sheet), below its title block.

    The header row is the first of the first `HEADER_SEARCH_ROWS` rows naming one of `keys` (header spellings of
    the code column); the rows after it whose code cell holds no digit before the first data row (a second header
    row, technical names or labels) are skipped, blank rows are not records, and a row whose first cells say
    "Ensemble des quartiers prioritaires" (the producer's national total) is kept apart in `totals`. Line numbers
    are the sheet's rows."""
    sheet = _open_sheet(path, name, list(sheets), limits)
    where = f"sheet '{xlsx.printable(sheet.title)}', "
    width = max(sheet.max_column, 1)
    rows = list(sheet.iter_rows(min_row=1, max_row=sheet.max_row, min_col=1, max_col=width, values_only=True))
    patterns = [_spelling(key) for key in keys]
    header_at, key_at = None, None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        key_at = next((i for i, c in enumerate(row) if any(p.fullmatch(header_key(c)) for p in patterns)), None)
        if key_at is not None:
            header_at = index
            break
    if header_at is None:
        raise _refused(
            name,
            where,
            f"no header row naming the code column ({' or '.join(keys)}) in the first {HEADER_SEARCH_ROWS} rows",
            rule="missing_columns",
            column=keys[0] if keys else None,
        )
    headers = [_cell_text(cell).strip() for cell in rows[header_at]]
    keys_seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = header_key(header)
        if key and key in keys_seen:
            raise _refused(
                name,
                where,
                f"line {header_at + 1} (header), column {_letter(index)}: the column {header} appears twice; keep one",
                rule="duplicate_columns",
                line=header_at + 1,
                column=key,
            )
        keys_seen[key] = index
    records, lines, totals, started = [], [], {}, False
    for index in range(header_at + 1, len(rows)):
        cells = [_cell_text(value) for value in rows[index]]
        if not any(cell.strip() for cell in cells):
            continue
        stray = next((i for i, cell in enumerate(cells) if cell.strip() and not headers[i]), None)
        if stray is not None:
            raise _refused(
                name,
                where,
                f"line {index + 1}, column {_letter(stray)} holds a value under no column name of the header (line "
                f"{header_at + 1}); remove it or name its column",
                rule="field_count",
                line=index + 1,
                column=_letter(stray),
            )
        if any(_TOTAL_ROW.match(header_key(cell)) for cell in cells[: key_at + 2]):
            totals[index + 1] = cells
            continue
        if not started and not re.search(r"\d", cells[key_at]):
            continue  # a second header row (labels or technical names)
        started = True
        records.append(cells)
        lines.append(index + 1)
    if not records:
        raise _refused(
            name, where, f"the table has a header (line {header_at + 1}) but no data row", rule="empty_file", line=None
        )
    frame = pd.DataFrame(records, columns=range(len(headers)), dtype="str")
    frame.insert(0, "line_no", np.asarray(lines, dtype="int64"))
    return Table(frame, headers, totals, header_line=header_at + 1)


def read_csv_table(path: Path, name: str, check_header=None, *, fallback_encoding: str | None = None) -> Table:
    """The table of a `;` CSV file (etl.readers.read_delimited: every check of a CSV file), columns by position;
    `check_header(header, empty columns)` judges the header before the rows' field counts are."""
    try:
        frame = read_delimited(path, (), fallback_encoding=fallback_encoding, check_header=check_header)
    except FileShapeError as error:
        if path.name != name:
            error.args = (str(error).replace(path.name, name),)
        raise
    headers = list(frame.attrs["header"])
    cells = frame.iloc[:, 1:].copy()
    cells.columns = range(cells.shape[1])
    cells.insert(0, "line_no", frame["line_no"].to_numpy())
    return Table(cells, headers, encoding=frame.attrs.get("encoding"))


def is_workbook(path: Path, name: str) -> bool:
    return (name if "." in name else path.name).lower().endswith(".xlsx")


def read_table(path: Path, name: str, layouts: list[Layout], check_header=None, **options) -> Table:
    """The file's table, from a workbook (a name ending in .xlsx) or a `;` CSV file (`check_header`: as
    `read_csv_table`); `options`: `fallback_encoding` of a CSV file, `limits` of a workbook."""
    if not is_workbook(path, name):
        return read_csv_table(path, name, check_header, fallback_encoding=options.get("fallback_encoding"))
    keys = [spelling for layout in layouts for spelling in next(iter(layout.columns.values())).headers]
    sheets = [sheet for layout in layouts for sheet in layout.sheets]
    return read_sheet(path, name, keys, sheets=sheets, limits=options.get("limits", WORKBOOK_LIMITS))


# --- reading a source's file ---------------------------------------------------------------------------------------


def taken_from_name(layout: Layout, column: str, name: str) -> str:
    """The value of `column` in a file name, by the layout's `from_name` (any case); "" when the name holds none."""
    taken = re.search(layout.from_name[column], name, flags=re.IGNORECASE)
    return taken.group(1) if taken else ""


def apply(found: LayoutMatch, table: Table, name: str) -> pd.DataFrame:
    """The source's own frame from a table whose header matched `found.layout`."""
    layout = found.layout
    frame = pd.DataFrame({"line_no": table.cells["line_no"].to_numpy(dtype="int64")})
    for column_name, column in layout.columns.items():
        position = found.positions.get(column_name)
        if position is None:  # an optional column the file lacks: no cell at all (None), not an empty one
            frame[column_name] = pd.Series([None] * len(frame), dtype="object")
            continue
        frame[column_name] = read_cells(table.cells[position].reset_index(drop=True), column).to_numpy()
    for key, position in found.others.items():
        frame[key] = table.cells[position].astype("str").to_numpy()
    for column_name in layout.from_name:
        frame[column_name] = taken_from_name(layout, column_name, name)
    if layout.transform:
        module, _, function = layout.transform.partition(":")
        import importlib

        frame = getattr(importlib.import_module(module), function)(frame)
    frame.attrs["layout"] = layout.name
    frame.attrs["totals"] = table.totals
    if table.encoding:
        frame.attrs["encoding"] = table.encoding
    return frame.reset_index(drop=True)


def read_layout(
    source_id: str,
    layouts: list[Layout],
    path: Path,
    name: str,
    *,
    fallback_encoding: str | None = None,
    limits: xlsx.Limits = WORKBOOK_LIMITS,
) -> pd.DataFrame:
    """Read a file into the source's own columns through the one layout of `layouts` its header matches."""
    found: list[LayoutMatch] = []

    def check(header: list[str], empty: set[int]) -> None:
        found.append(detect(source_id, layouts, significant(header, empty), name))

    table = read_table(path, name, layouts, check, fallback_encoding=fallback_encoding, limits=limits)
    if not found:  # a workbook: its header is known once its table is found
        found.append(
            detect(source_id, layouts, significant(table.headers, table.empty_columns()), name, table.header_line)
        )
    return apply(found[0], table, name)


def read(source_id: str, path: Path, *, name: str | None = None, fallback_encoding: str | None = None) -> pd.DataFrame:
    """A file of a registry source that declares `layouts`, read through the one its header matches (module doc)."""
    path = Path(path)
    return read_layout(
        source_id, source(source_id).layouts, path, path.name if name is None else name,
        fallback_encoding=fallback_encoding,
    )  # fmt: skip
