"""Bounded, hostile-input-proof opening of an .xlsx workbook, for any reader of the platform.

`open_xlsx(path, limits)` reads the file once, with bounded memory and time, and either returns the openpyxl
workbook(s) or raises `XlsxError`: a generic rule code, the facts a caller needs to word its own message
(`facts`), and one English sentence (`str(error)`). The checks, in order:

- `empty`, `file_size`: no bytes, or more than `Limits.max_file_bytes` (only that many bytes plus one are read).
- From the first bytes: an OLE2 compound file is a password-protected workbook (`encrypted`, when it holds the
  `EncryptionInfo` or `EncryptedPackage` stream) or an old .xls (`xls`); `pdf`; mostly printable text (CSV, HTML...)
  is `text`; anything else that is not a zip is `unknown_format`.
- The zip: unreadable or truncated (`zip_unreadable`); too many entries (`zip_entries`) or too many declared
  uncompressed bytes (`uncompressed_size`, a zip bomb: checked before anything is decompressed); CRC or compressed
  data errors (`damaged`, `facts["entry"]` the altered part or ""); no `[Content_Types].xml` or `xl/workbook.xml`
  (`ods`, `xlsb` or `missing_part`); a VBA project or a macro-enabled content type (`macros`).
- Before openpyxl builds any cell, every worksheet part is scanned as a stream: a cell beyond `max_rows` or
  `max_columns` (`row_beyond`, `column_beyond`), more `row` elements than `max_rows` (`too_many_rows`), more `c`
  elements than a full sheet within the limits (`too_many_cells`), or merged-cell and hyperlink ranges covering
  more cells than a full sheet (`ranges_too_large`: openpyxl creates one object per covered cell, which a file of a
  few bytes could turn into billions).
- openpyxl fails to load the workbook: `load_failed` (`facts["detail"]`: the exception's first line, never a
  traceback); after loading, a sheet whose `max_row` or `max_column` exceeds the limits: `dimensions`.

Sheet facts carry the sheet's name (`facts["sheet"]`). `etl/submissions/workbook.py` turns these rules into French
sentences for the regional staff; a source reader turns them into `etl.readers.FileShapeError`. Also here:
`workbook_bytes` / `write_workbook` (the same bytes for the same workbook the platform writes) and `cell_date` (a
date cell as staff type it).
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
import math
import os
import posixpath
import re
import stat
import warnings
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.landing import printable

if TYPE_CHECKING:
    import openpyxl


class XlsxError(Exception):
    """A file that cannot be opened as an .xlsx workbook within the limits: `rule` (a code of the module's list),
    `facts` (what the rule found, for a caller's own wording) and one English sentence."""

    def __init__(self, rule: str, message: str, **facts: Any):
        super().__init__(message)
        self.rule, self.message, self.facts = rule, message, facts

    def __reduce__(self):
        return (_rebuilt, (self.rule, self.message, self.facts))


def _rebuilt(rule: str, message: str, facts: dict) -> XlsxError:
    return XlsxError(rule, message, **facts)


@dataclass(frozen=True)
class Limits:
    """Bounds on a workbook; a file beyond any of them is refused. The defaults fit a filled form or a statistical
    table of a few thousand lines."""

    max_file_bytes: int = 5 * 1024 * 1024  # the file itself
    max_uncompressed_bytes: int = 50 * 1024 * 1024  # sum of the zip entries' declared sizes (zip bomb)
    max_entries: int = 500  # zip entries
    max_rows: int = 5000  # per sheet (max_row after loading)
    max_columns: int = 60  # per sheet


@dataclass(frozen=True)
class Opened:
    """A workbook opened by `open_xlsx`: its openpyxl view(s), the sha256 and size of its bytes."""

    values: openpyxl.Workbook  # load_workbook(data_only=True): cached values of formulas
    formulas: openpyxl.Workbook | None  # load_workbook(data_only=False), when asked for
    sha256: str
    size_bytes: int


OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTION_STREAMS = tuple(name.encode("utf-16-le") for name in ("EncryptionInfo", "EncryptedPackage"))
CONTENT_TYPES_PART = "[Content_Types].xml"
WORKBOOK_PART = "xl/workbook.xml"
VBA_PART = "xl/vbaProject.bin"
TEXT_SNIFF_BYTES = 4096
TEXT_MIN_PRINTABLE = 0.95  # share of printable characters for "mostly printable text"

_SHEET_RELATIONSHIP = re.compile(r"/(worksheet|chartsheet|dialogsheet|macrosheet)$")
_COORDINATE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]+)$")


_TEXT_DATE = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def cell_date(raw: Any) -> dt.date | None:
    """A date as a cell holds it or staff type it: an Excel date, a text `15/03/2024` (also `.` or `-`, one-digit day
    or month) or `2024-03-15`, or an Excel serial number; None when it is none of these (or not a real day)."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        if not math.isfinite(raw) or not 1 <= raw <= 2958465:
            return None
        from openpyxl.utils.datetime import from_excel

        return from_excel(raw).date()
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    match = _TEXT_DATE.fullmatch(text)
    parts = (match.group(3), match.group(2), match.group(1)) if match else None
    if parts is None:
        match = _ISO_DATE.fullmatch(text)
        parts = match.groups() if match else None
    if parts is None:
        return None
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def _mb(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB"


# --- reading and sniffing ------------------------------------------------------------------------------------------


def read_bounded(path: Path, limits: Limits) -> bytes:
    """The bytes of `path`, at most `max_file_bytes` of them (`empty`, `file_size` otherwise); a path that is not a
    regular file raises ValueError (a caller's mistake)."""
    with Path(path).open("rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise ValueError(f"{path} is not a regular file")
        data = handle.read(limits.max_file_bytes + 1)
        size = max(status.st_size, len(data))
    if not data:
        raise XlsxError("empty", "the file is empty (0 bytes)")
    if len(data) > limits.max_file_bytes:
        raise XlsxError(
            "file_size",
            f"the file holds {_mb(size)}, more than the {_mb(limits.max_file_bytes)} a workbook may hold",
            size=size,
            limit=limits.max_file_bytes,
        )
    return data


def _printable_share(text: str) -> float:
    if not text:
        return 0.0
    return sum(1 for char in text if char.isprintable() or char in "\t\r\n\f\v") / len(text)


def looks_like_text(data: bytes) -> bool:
    """Mostly printable text in the first 4 KiB: UTF-8 or cp1252 without NUL, or UTF-16 with its byte order mark."""
    head = data[:TEXT_SNIFF_BYTES]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif b"\x00" in head:
        return False
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            # incremental, not final: the 4 KiB may cut a multi-byte character
            text = codecs.getincrementaldecoder(encoding)(errors="strict").decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return _printable_share(text.lstrip("\ufeff")) >= TEXT_MIN_PRINTABLE
    return False


def sniff(data: bytes) -> None:
    """XlsxError for anything that is not a zip, saying what it looks like."""
    if data.startswith(ZIP_MAGIC):
        return
    if data.startswith(OLE2_MAGIC):
        if any(stream in data for stream in ENCRYPTION_STREAMS):
            raise XlsxError("encrypted", "the workbook is protected by a password to open and cannot be read")
        raise XlsxError("xls", "the file is an old Excel 97-2003 (.xls) workbook or another Office document")
    if data.startswith(b"%PDF-"):
        raise XlsxError("pdf", "the file is a PDF document, not an Excel workbook")
    if looks_like_text(data):
        raise XlsxError("text", "the file is text (CSV, HTML or other), not an Excel workbook")
    raise XlsxError("unknown_format", "the file is not an Excel workbook (unknown format, or a damaged file)")


# --- zip -----------------------------------------------------------------------------------------------------------


def open_zip(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """The zip of `data`, its size checked from the central directory before anything is decompressed, then every
    entry read once (`testzip`: CRC and compressed data), then the workbook parts and macros."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:  # BadZipFile, truncated central directory, bad offsets...
        raise XlsxError("zip_unreadable", "the file is damaged (unreadable .xlsx archive, perhaps truncated)") from None
    try:
        _check_zip(archive, infos, limits)
    except XlsxError:
        archive.close()
        raise
    return archive


def _check_zip(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.max_entries:
        raise XlsxError(
            "zip_entries",
            f"the workbook holds {len(infos):,} internal parts, more than the limit of {limits.max_entries:,}",
            count=len(infos),
            limit=limits.max_entries,
        )
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_uncompressed_bytes:
        raise XlsxError(
            "uncompressed_size",
            f"uncompressed, the workbook would take {_mb(declared)}, more than the limit of "
            f"{_mb(limits.max_uncompressed_bytes)} (a zip bomb?)",
            size=declared,
            limit=limits.max_uncompressed_bytes,
        )
    try:
        damaged = archive.testzip()
    except Exception:  # zlib errors, encrypted or unsupported entries, bad local headers
        damaged = ""
    if damaged is not None:
        where = f" (part {printable(damaged)!r} is altered)" if damaged else ""
        raise XlsxError("damaged", f"the file is damaged{where}", entry=damaged)
    names = {info.filename.lower(): info.filename for info in infos}
    if CONTENT_TYPES_PART.lower() not in names or WORKBOOK_PART not in names:
        if "mimetype" in names and "content.xml" in names:
            raise XlsxError("ods", "the file is an OpenDocument spreadsheet (.ods), not an .xlsx workbook")
        if "xl/workbook.bin" in names:
            raise XlsxError("xlsb", "the file is a binary Excel workbook (.xlsb), not an .xlsx workbook")
        missing = CONTENT_TYPES_PART if CONTENT_TYPES_PART.lower() not in names else WORKBOOK_PART
        raise XlsxError(
            "missing_part", f"the file is a ZIP archive but not an Excel workbook (no {missing})", part=missing
        )
    content_types = archive.read(names[CONTENT_TYPES_PART.lower()])
    if VBA_PART.lower() in names or b"macroenabled" in content_types.lower():
        raise XlsxError("macros", "the workbook holds macros (VBA), which are not accepted")


# --- worksheet scan ------------------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attribute(element: ET.Element, local_name: str) -> str | None:
    for key, value in element.attrib.items():
        if _local(key) == local_name:
            return value
    return None


def _sheet_parts(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, part) of every worksheet part openpyxl may read: the sheets of xl/workbook.xml through its
    relationships (resolved as openpyxl does), then any other part under xl/worksheets/, named by its path."""
    parts: list[tuple[str, str]] = []
    try:
        workbook = ET.fromstring(archive.read(WORKBOOK_PART))
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except Exception:  # missing or malformed: openpyxl will say so when loading
        workbook = rels = None
    if workbook is not None and rels is not None:
        targets = {}
        for rel in rels.iter():
            if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target") or ""
            if _SHEET_RELATIONSHIP.search(rel.get("Type") or ""):
                resolved = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
                targets[rel.get("Id")] = resolved
        for sheet in workbook.iter():
            if _local(sheet.tag) == "sheet" and _attribute(sheet, "id") in targets:
                parts.append((sheet.get("name") or "", targets[_attribute(sheet, "id")]))
    known = {part for _, part in parts}
    for name in archive.namelist():
        if re.fullmatch(r"xl/worksheets/[^/]+\.xml", name, flags=re.IGNORECASE) and name not in known:
            parts.append((name, name))
    return parts


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - ord("A") + 1
    return index


def _number(text: str | None) -> int | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return int(value) if value is not None and value.is_integer() else None


def _range_bounds(ref: str, limits: Limits) -> tuple[int, int, int] | None:
    """(last row, last column, cell count) a merged-cell or hyperlink range makes openpyxl touch, an open bound
    (`A:A`, `1:3`) counted as reaching the limit; None when the range cannot be read (openpyxl decides then)."""
    bounds = []
    for part in ref.split(":")[:2]:
        match = re.fullmatch(r"\$?([A-Za-z]{0,3})\$?([0-9]*)", part.strip())
        if not match or not (match.group(1) or match.group(2)):
            return None
        column = _column_index(match.group(1)) if match.group(1) else None
        row = int(match.group(2)) if match.group(2) else None
        bounds.append((row, column))
    (first_row, first_column), (last_row, last_column) = bounds[0], bounds[-1]
    first_row, last_row = first_row or 1, last_row or limits.max_rows
    first_column, last_column = first_column or 1, last_column or limits.max_columns
    rows = max(last_row - first_row, 0) + 1
    columns = max(last_column - first_column, 0) + 1
    return max(first_row, last_row), max(first_column, last_column), rows * columns


def _check_place(sheet: str, row: int, column: int, limits: Limits) -> None:
    if row > limits.max_rows:
        raise XlsxError(
            "row_beyond",
            f"sheet {printable(sheet)!r} reaches row {row:,}, beyond the limit of {limits.max_rows:,} rows a sheet",
            sheet=sheet,
            row=row,
            limit=limits.max_rows,
        )
    if column > limits.max_columns:
        raise XlsxError(
            "column_beyond",
            f"sheet {printable(sheet)!r} reaches column {column:,}, beyond the limit of {limits.max_columns:,} "
            "columns a sheet",
            sheet=sheet,
            column=column,
            limit=limits.max_columns,
        )


def _scan_part(stream, sheet: str, limits: Limits) -> None:
    """Reads one worksheet part as a stream, as openpyxl would place its cells, and raises as soon as a cell lies
    beyond the limits, the part holds more `row` elements than `max_rows` or more `c` elements than a full sheet, or
    its merged-cell and hyperlink ranges cover more cells than a full sheet. Elements are dropped once read, so
    memory stays flat whatever the part holds."""
    full_sheet = limits.max_rows * limits.max_columns
    rows = cells = covered = 0
    row = column = 0
    stack: list[ET.Element] = []
    quoted = printable(sheet)
    for event, element in ET.iterparse(stream, events=("start", "end")):
        tag = _local(element.tag)
        if event == "end":
            stack.pop()
            if stack and tag in ("row", "c", "mergeCell", "hyperlink"):
                element.clear()
                stack[-1].remove(element)
            continue
        stack.append(element)
        if tag == "row":
            rows += 1
            row = _number(element.get("r")) or row + 1
            column = 0
            if rows > limits.max_rows:
                raise XlsxError(
                    "too_many_rows",
                    f"sheet {quoted!r} holds more than {limits.max_rows:,} rows",
                    sheet=sheet,
                    limit=limits.max_rows,
                )
            continue
        if tag == "c":
            cells += 1
            match = _COORDINATE.match(element.get("r") or "")
            cell_row = row  # as openpyxl: a cell's own reference moves the column counter, not the row's
            if match:
                cell_row, column = int(match.group(2)), _column_index(match.group(1))
            else:
                column += 1
            _check_place(sheet, cell_row, column, limits)
            if cells > full_sheet:
                raise XlsxError(
                    "too_many_cells",
                    f"sheet {quoted!r} holds more than {full_sheet:,} cells",
                    sheet=sheet,
                    limit=full_sheet,
                )
        elif tag in ("mergeCell", "hyperlink"):
            bounds = _range_bounds(element.get("ref") or "", limits)
            if bounds is None:
                continue
            last_row, last_column, area = bounds
            _check_place(sheet, last_row, last_column, limits)
            covered += area
            if covered > full_sheet:
                raise XlsxError(
                    "ranges_too_large",
                    f"sheet {quoted!r} has merged cells or hyperlinks covering more than {full_sheet:,} cells",
                    sheet=sheet,
                    limit=full_sheet,
                )


def scan_sheets(archive: zipfile.ZipFile, limits: Limits) -> None:
    """XlsxError for a worksheet part that would make openpyxl build more cells than the limits allow."""
    for sheet, part in _sheet_parts(archive):
        try:
            with archive.open(part) as stream:
                _scan_part(stream, sheet, limits)
        except XlsxError:
            raise
        except Exception:  # missing or malformed part: openpyxl reports it when loading
            continue


# --- loading -------------------------------------------------------------------------------------------------------


def load(data: bytes, limits: Limits, *, data_only: bool) -> openpyxl.Workbook:
    """openpyxl's workbook of bytes already checked (`sniff`, `open_zip`, `scan_sheets`), its sheets' dimensions
    checked after loading (`dimensions`); `load_failed` when openpyxl cannot load it."""
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=data_only, keep_vba=False, keep_links=False)
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0].strip()
        detail = printable(f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__, 200)
        raise XlsxError(
            "load_failed", f"the workbook cannot be read, it is damaged ({detail})", detail=detail
        ) from None
    for ws in workbook.worksheets:
        if ws.max_row > limits.max_rows or ws.max_column > limits.max_columns:
            raise XlsxError(
                "dimensions",
                f"sheet {printable(ws.title)!r} has {ws.max_row:,} rows and {ws.max_column:,} columns, beyond the "
                f"limits of {limits.max_rows:,} rows and {limits.max_columns:,} columns a sheet",
                sheet=ws.title,
                rows=ws.max_row,
                columns=ws.max_column,
                max_rows=limits.max_rows,
                max_columns=limits.max_columns,
            )
    return workbook


def open_xlsx(path: Path, *, limits: Limits = Limits(), formulas: bool = False) -> Opened:
    """The workbook at `path`, opened within `limits`: its cached values and, with `formulas`, a second view with
    formulas as `=...` strings. Raises XlsxError (the first rule that fails, in the order of the module's docstring);
    a path that does not exist or is not a regular file raises OSError or ValueError."""
    data = read_bounded(path, limits)
    sniff(data)
    with open_zip(data, limits) as archive:
        scan_sheets(archive, limits)
    values = load(data, limits, data_only=True)
    both = load(data, limits, data_only=False) if formulas else None
    return Opened(values=values, formulas=both, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))


def workbook_bytes(workbook: openpyxl.Workbook) -> bytes:
    """The .xlsx bytes of `workbook`, the same for the same workbook: the document dates are left as set (openpyxl's
    `save` would stamp the current time) and the zip entries are sorted by name and dated with the document's
    modified date (1 January 1980 when it has none)."""
    from openpyxl.writer.excel import ExcelWriter

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


def write_workbook(path: str | Path, workbook: openpyxl.Workbook) -> Path:
    """Write `workbook` (`workbook_bytes`) to `path`, parent folders created; returns the path."""
    content = workbook_bytes(workbook)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path
