"""Safe opening of a workbook returned by a région: every bad file becomes one French verdict.

A région sends back the .xlsx template of `etl/submissions/template.py`, filled in. Before any cell is checked
(`etl/submissions/check.py`), `open_workbook` reads the file once, with bounded memory and time, and either returns
both openpyxl views of it (cached values and formulas) or raises `Unreadable` with a rule code and one French
sentence for the submitter. The rules, in the order they are checked:

- `FICHIER-EXTENSION`: the name sent does not end in `.xlsx`.
- `FICHIER-VIDE`: the file has no bytes.
- `FICHIER-TAILLE`: the file is larger than `Limits.max_file_bytes` (only that many bytes plus one are read).
- From the first bytes: an OLE2 compound file is a password-protected workbook (`FICHIER-MOT-DE-PASSE`, when it
  holds the `EncryptionInfo` or `EncryptedPackage` stream) or an old .xls renamed (`FICHIER-XLS`); a text file
  (CSV, HTML...) is `FICHIER-TEXTE`; anything else that is not a zip is `FICHIER-CORROMPU`.
- The zip: unreadable, truncated, CRC errors, no `[Content_Types].xml` or `xl/workbook.xml`: `FICHIER-CORROMPU`;
  too many entries or too many declared uncompressed bytes (zip bomb, checked before anything is decompressed):
  `FICHIER-TAILLE`; a VBA project or a macro-enabled content type: `FICHIER-MACROS`.
- Before openpyxl builds any cell, every worksheet part is scanned as a stream (`_scan_sheets`): a cell beyond
  `max_rows` or `max_columns`, more `row` elements than `max_rows`, more `c` elements than a full sheet within the
  limits, or merged-cell and hyperlink ranges covering more cells than a full sheet (openpyxl creates one object
  per covered cell, which a file of a few bytes could turn into billions) is `FICHIER-TAILLE`, so that loading
  itself stays bounded in memory and time.
- openpyxl fails to load the workbook: `FICHIER-CORROMPU` (the exception's first line at the end, never a traceback).
- After loading, a sheet whose `max_row` or `max_column` exceeds the limits: `FICHIER-TAILLE`.

`file_name_problem` says when the name a submitter gave had to change to be safe to use in `quarantine/` and in
reports (`etl.landing.safe_file_name`).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import posixpath
import re
import stat
import unicodedata
import warnings
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from etl.landing import SAFE_NAME_MAX_LENGTH, safe_char, safe_file_name


class Unreadable(Exception):
    """The file cannot be used as a workbook. `rule` is a code, `message` one French sentence for the submitter."""

    def __init__(self, rule: str, message: str):
        super().__init__(rule, message)
        self.rule = rule
        self.message = message

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass(frozen=True)
class Limits:
    """Bounds on a returned workbook; a file beyond any of them is refused with `FICHIER-TAILLE`."""

    max_file_bytes: int = 5 * 1024 * 1024  # the file itself
    max_uncompressed_bytes: int = 50 * 1024 * 1024  # sum of the zip entries' declared sizes (zip bomb)
    max_entries: int = 500  # zip entries
    max_rows: int = 5000  # per sheet (max_row after loading)
    max_columns: int = 60  # per sheet


@dataclass(frozen=True)
class Opened:
    """A workbook opened by `open_workbook`: both openpyxl views of the same bytes, their sha256 and size."""

    values: openpyxl.Workbook  # load_workbook(data_only=True): cached values of formulas
    formulas: openpyxl.Workbook  # load_workbook(data_only=False): formulas as "=..." strings
    sha256: str  # of the bytes
    size_bytes: int


EXPECTED_EXTENSION = ".xlsx"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTION_STREAMS = tuple(name.encode("utf-16-le") for name in ("EncryptionInfo", "EncryptedPackage"))
CONTENT_TYPES_PART = "[Content_Types].xml"
WORKBOOK_PART = "xl/workbook.xml"
VBA_PART = "xl/vbaProject.bin"
TEXT_SNIFF_BYTES = 4096
TEXT_MIN_PRINTABLE = 0.95  # share of printable characters for "mostly printable text"

_RESUBMIT = "envoyez à nouveau le modèle .xlsx de la campagne, rempli"
_TRIM = "supprimez ce qui a été ajouté au modèle (images, feuilles, lignes ou colonnes) puis envoyez-le à nouveau"
_EXTENSION_KINDS = {
    "xlsm": "un classeur avec macros",
    "xltm": "un modèle de classeur avec macros",
    "xls": "l'ancien format Excel 97-2003",
    "xlsb": "un classeur Excel binaire",
    "xltx": "un modèle Excel",
    "ods": "un classeur OpenDocument (LibreOffice)",
    "csv": "un fichier texte",
    "txt": "un fichier texte",
    "pdf": "un document PDF",
}
_SHEET_RELATIONSHIP = re.compile(r"/(worksheet|chartsheet|dialogsheet|macrosheet)$")
_COORDINATE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]+)$")


# --- names ---------------------------------------------------------------------------------------------------------


def _quoted(text: str, limit: int = 150) -> str:
    """`text` fit to quote in a message: control characters written as `\\xNN`, at most `limit` characters."""
    shown = "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def file_name_problem(name: str) -> str | None:
    """None when `name` is already safe (safe_file_name(name) == name), else a French sentence saying the name
    contained path separators or unusual characters and under which name the file is kept."""
    safe = safe_file_name(name)
    if safe == name:
        return None
    if not name:
        return f"Le fichier a été envoyé sans nom : il est conservé sous le nom « {safe} »."
    reasons = []
    if "/" in name or "\\" in name:
        reasons.append("des séparateurs de chemin (/ ou \\)")
    if any(unicodedata.category(char) == "Cc" for char in name):
        reasons.append("des caractères de contrôle")
    if any(not safe_char(char) and char not in "/\\" and unicodedata.category(char) != "Cc" for char in name):
        reasons.append("des espaces ou des caractères inhabituels")
    what = ""
    if reasons:
        what = "contient " + (", ".join(reasons[:-1]) + " et " if len(reasons) > 1 else "") + reasons[-1]
    if len(name) > SAFE_NAME_MAX_LENGTH:
        what += (", " if what else "") + f"dépasse {SAFE_NAME_MAX_LENGTH} caractères"
    if name[:1] in "._" and not what:
        what = "commence par un point ou un tiret bas"
    if not what:
        what = "contient des caractères à écrire autrement"
    return f"Le nom de fichier « {_quoted(name)} » {what} : le fichier est conservé sous le nom « {safe} »."


# --- messages ------------------------------------------------------------------------------------------------------


def _integer(value: int) -> str:
    """`5 000`: French thousands separator."""
    return f"{value:,}".replace(",", " ")


def _megabytes(size: int, limit: int) -> tuple[str, str]:
    """`size` and `limit` in Mo (French decimal comma), with as few decimals as tell them apart (at most 6)."""

    def shown(value: int, decimals: int) -> str:
        text = f"{value / (1024 * 1024):.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.replace(".", ",")

    for decimals in range(1, 7):
        if shown(size, decimals) != shown(limit, decimals) and shown(limit, decimals) != "0":
            break
    return shown(size, decimals), shown(limit, decimals)


def _extension(name: str) -> str:
    """The extension of the last path component of `name`, without the dot; "" when there is none."""
    base = re.split(r"[/\\]", name)[-1]
    stem, dot, extension = base.rpartition(".")
    return extension if dot and stem.strip(".") else ""


def _check_extension(name: str) -> None:
    if name.lower().endswith(EXPECTED_EXTENSION):
        return
    extension = _extension(name)
    if not extension:
        found = "Le fichier n'a pas d'extension"
    else:
        kind = _EXTENSION_KINDS.get(extension.lower())
        found = f"Le fichier porte l'extension .{_quoted(extension, 20)}" + (f" ({kind})" if kind else "")
    advice = (
        "enregistrez-le au format « Classeur Excel (.xlsx) », sans macros, puis envoyez-le à nouveau"
        if extension.lower() in ("xlsm", "xltm")
        else "remplissez ce modèle et envoyez-le sans changer son format"
    )
    raise Unreadable(
        "FICHIER-EXTENSION",
        f"{found} alors que le format attendu est le modèle Excel .xlsx de la campagne : {advice}.",
    )


def _too_big(size: int, limit: int, what: str) -> Unreadable:
    shown_size, shown_limit = _megabytes(size, limit)
    return Unreadable(
        "FICHIER-TAILLE",
        f"{what} {shown_size} Mo, au-delà de la limite de {shown_limit} Mo : {_TRIM}.",
    )


def _corrupted(detail: str) -> Unreadable:
    return Unreadable("FICHIER-CORROMPU", f"{detail} : {_RESUBMIT}.")


# --- sniffing ------------------------------------------------------------------------------------------------------


def _printable_share(text: str) -> float:
    if not text:
        return 0.0
    printable = sum(1 for char in text if char.isprintable() or char in "\t\r\n\f\v")
    return printable / len(text)


def _looks_like_text(data: bytes) -> bool:
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


def _sniff(data: bytes) -> None:
    """Raises Unreadable for anything that is not a zip, saying what it looks like."""
    if data.startswith(ZIP_MAGIC):
        return
    if data.startswith(OLE2_MAGIC):
        if any(stream in data for stream in ENCRYPTION_STREAMS):
            raise Unreadable(
                "FICHIER-MOT-DE-PASSE",
                "Le classeur est protégé par un mot de passe à l'ouverture et ne peut pas être lu : retirez le mot "
                "de passe (Fichier > Informations > Protéger le classeur) puis envoyez-le à nouveau.",
            )
        raise Unreadable(
            "FICHIER-XLS",
            "Le fichier est un classeur à l'ancien format Excel 97-2003 (.xls) renommé en .xlsx : repartez du modèle "
            "de la campagne et enregistrez-le au format « Classeur Excel (.xlsx) » avant de l'envoyer.",
        )
    if data.startswith(b"%PDF-"):
        raise _corrupted("Le fichier est un document PDF renommé en .xlsx, pas un classeur Excel")
    if _looks_like_text(data):
        raise Unreadable(
            "FICHIER-TEXTE",
            "Le fichier est un fichier texte (CSV, HTML ou autre) renommé en .xlsx, pas un classeur Excel : "
            "remplissez le modèle .xlsx de la campagne et envoyez-le sans changer son format.",
        )
    raise _corrupted("Le fichier n'est pas un classeur Excel (format non reconnu, ou fichier endommagé)")


# --- zip -----------------------------------------------------------------------------------------------------------


def _open_zip(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """The zip of `data`, its size checked from the central directory before anything is decompressed, then
    every entry read once (`testzip`: CRC and compressed data)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:  # BadZipFile, truncated central directory, bad offsets...
        raise _corrupted(
            "Le fichier est endommagé (archive .xlsx illisible, peut-être tronquée pendant l'envoi)"
        ) from None
    try:
        _check_zip(archive, infos, limits)
    except Unreadable:
        archive.close()
        raise
    return archive


def _check_zip(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """The zip rules, in order: size (declared, nothing decompressed yet), integrity, workbook parts, macros."""
    if len(infos) > limits.max_entries:
        raise Unreadable(
            "FICHIER-TAILLE",
            f"Le classeur contient {_integer(len(infos))} éléments internes, au-delà de la limite de "
            f"{_integer(limits.max_entries)} : {_TRIM}.",
        )
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_uncompressed_bytes:
        raise _too_big(declared, limits.max_uncompressed_bytes, "Une fois décompressé, le classeur occuperait")
    try:
        damaged = archive.testzip()
    except Exception:  # zlib errors, encrypted or unsupported entries, bad local headers
        damaged = ""
    if damaged is not None:
        where = f" (l'élément « {_quoted(damaged)} » est altéré)" if damaged else ""
        raise _corrupted(f"Le fichier est endommagé{where}")
    names = {info.filename.lower(): info.filename for info in infos}
    if CONTENT_TYPES_PART.lower() not in names or WORKBOOK_PART not in names:
        if "mimetype" in names and "content.xml" in names:
            detail = "Le fichier est un classeur OpenDocument (LibreOffice .ods) renommé en .xlsx"
        elif "xl/workbook.bin" in names:
            detail = "Le fichier est un classeur Excel binaire (.xlsb) renommé en .xlsx"
        else:
            missing = CONTENT_TYPES_PART if CONTENT_TYPES_PART.lower() not in names else WORKBOOK_PART
            detail = f"Le fichier est une archive ZIP mais pas un classeur Excel (élément « {missing} » absent)"
        raise _corrupted(detail)
    content_types = archive.read(names[CONTENT_TYPES_PART.lower()])
    if VBA_PART.lower() in names or b"macroenabled" in content_types.lower():
        raise Unreadable(
            "FICHIER-MACROS",
            "Le classeur contient des macros (VBA), ce qui n'est pas accepté : enregistrez-le au format « Classeur "
            "Excel (.xlsx) », sans macros, puis envoyez-le à nouveau.",
        )


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


def _too_many(sheet: str, what: str) -> Unreadable:
    return Unreadable("FICHIER-TAILLE", f"La feuille « {_quoted(sheet)} » {what} : {_TRIM}.")


def _scan_part(stream, sheet: str, limits: Limits) -> None:
    """Reads one worksheet part as a stream, as openpyxl would place its cells, and raises FICHIER-TAILLE as soon
    as a cell lies beyond the limits, the part holds more `row` elements than `max_rows` or more `c` elements than
    a full sheet, or its merged-cell and hyperlink ranges cover more cells than a full sheet. Elements are dropped
    once read, so memory stays flat whatever the part holds."""
    full_sheet = limits.max_rows * limits.max_columns
    rows = cells = covered = 0
    row = column = 0
    stack: list[ET.Element] = []
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
                raise _too_many(
                    sheet, f"compte plus de {_integer(limits.max_rows)} lignes, au-delà de la limite par feuille"
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
                raise _too_many(
                    sheet, f"compte plus de {_integer(full_sheet)} cellules, au-delà de la limite par feuille"
                )
        elif tag in ("mergeCell", "hyperlink"):
            bounds = _range_bounds(element.get("ref") or "", limits)
            if bounds is None:
                continue
            last_row, last_column, area = bounds
            _check_place(sheet, last_row, last_column, limits)
            covered += area
            if covered > full_sheet:
                raise _too_many(
                    sheet,
                    f"contient des cellules fusionnées ou des liens hypertextes qui couvrent plus de "
                    f"{_integer(full_sheet)} cellules",
                )


def _check_place(sheet: str, row: int, column: int, limits: Limits) -> None:
    if row > limits.max_rows:
        raise _too_many(
            sheet,
            f"va jusqu'à la ligne {_integer(row)}, au-delà de la limite de {_integer(limits.max_rows)} lignes par "
            "feuille",
        )
    if column > limits.max_columns:
        raise _too_many(
            sheet,
            f"va jusqu'à la colonne {_integer(column)}, au-delà de la limite de {_integer(limits.max_columns)} "
            "colonnes par feuille",
        )


def _scan_sheets(archive: zipfile.ZipFile, limits: Limits) -> None:
    """FICHIER-TAILLE for a worksheet part that would make openpyxl build more cells than the limits allow."""
    for sheet, part in _sheet_parts(archive):
        try:
            with archive.open(part) as stream:
                _scan_part(stream, sheet, limits)
        except Unreadable:
            raise
        except Exception:  # missing or malformed part: openpyxl reports it when loading
            continue


# --- loading -------------------------------------------------------------------------------------------------------


def _load(data: bytes, *, data_only: bool) -> openpyxl.Workbook:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only, keep_vba=False, keep_links=False)
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0].strip()
        detail = _quoted(f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__, 200)
        raise Unreadable(
            "FICHIER-CORROMPU",
            "Le classeur ne peut pas être lu, il est endommagé ou n'a pas été produit à partir du modèle : ouvrez-le "
            f"dans Excel, enregistrez-le au format .xlsx et envoyez-le à nouveau ({detail}).",
        ) from None


def _check_dimensions(workbook: openpyxl.Workbook, limits: Limits) -> None:
    for ws in workbook.worksheets:
        if ws.max_row > limits.max_rows or ws.max_column > limits.max_columns:
            raise Unreadable(
                "FICHIER-TAILLE",
                f"La feuille « {_quoted(ws.title)} » compte {_integer(ws.max_row)} lignes et "
                f"{_integer(ws.max_column)} colonnes, au-delà des limites de {_integer(limits.max_rows)} lignes et "
                f"{_integer(limits.max_columns)} colonnes par feuille : {_TRIM}.",
            )


def _read(path: Path, limits: Limits) -> bytes:
    """The bytes of `path`, at most `max_file_bytes` of them (FICHIER-VIDE, FICHIER-TAILLE otherwise)."""
    with path.open("rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise ValueError(f"{path} is not a regular file")
        data = handle.read(limits.max_file_bytes + 1)
        size = max(status.st_size, len(data))
    if not data:
        raise Unreadable("FICHIER-VIDE", "Le fichier est vide (0 octet) : envoyez à nouveau le classeur rempli.")
    if len(data) > limits.max_file_bytes:
        raise _too_big(size, limits.max_file_bytes, "Le fichier pèse")
    return data


def open_workbook(path: Path, *, name: str | None = None, limits: Limits = Limits()) -> Opened:
    """`name` is the file name as the submitter sent it (default path.name): the extension rule uses it.

    Raises Unreadable (the first rule that fails, in the order of the module's docstring); a `path` that does not
    exist or is not a regular file raises OSError or ValueError (a caller's mistake, not the submitter's)."""
    path = Path(path)
    _check_extension(path.name if name is None else name)
    data = _read(path, limits)
    _sniff(data)
    with _open_zip(data, limits) as archive:
        _scan_sheets(archive, limits)
    values = _load(data, data_only=True)
    _check_dimensions(values, limits)
    formulas = _load(data, data_only=False)
    _check_dimensions(formulas, limits)
    return Opened(values=values, formulas=formulas, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
