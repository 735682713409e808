"""Reading delimited files as text, exactly as they are, with the file line of every row.

`read_delimited()` is the one CSV entry point of the readers: every cell stays text (no float ever eats a
leading zero or a "2A"), column names are lower-cased and stripped, and `line_no` is the physical line in
the file (header = line 1), right even when a quoted field holds a line break. Structural problems that no
expectation can see (bytes that are not UTF-8, or UTF-8 and another encoding mixed, a binary file, a NUL byte, an
empty file, missing columns, a row with more or fewer fields than the header, a file or a line too long) raise
`FileShapeError` naming the line, the column and the rule; the pipeline turns it into a gate-1 failure and
quarantines the file.

Limits (module constants, read at each call so that a deployment or a test can change them; every reader takes the
default): `MAX_FILE_BYTES` (256 MiB) for a file read whole by `read_delimited`, `MAX_EXTRACT_BYTES` (2 GiB on disk)
and `MAX_EXTRACT_RECORDS` (20 million lines, which also bounds what a gzip file may inflate to) for an extract
streamed by `group_extract`, and `MAX_LINE_BYTES` (1 MiB) for any physical line. The largest real deliveries are a
few MB (aggregated files) and about 330 MB / 6 million lines (France Travail's individual extract).
"""

from __future__ import annotations

import codecs
import collections
import concurrent.futures
import csv
import functools
import io
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import numpy as np


class FileShapeError(ValueError):
    """A file that cannot be read as a table: the message says which line and what to do.

    `rule` is a short identifier (`encoding`, `empty_file`, `missing_columns`, `field_count`) that reports and
    tests rely on; `line` is the physical line (header = 1) and `column` the column concerned, when they apply;
    `details` are further lines for the quarantine report (e.g. the layouts a header was compared with).
    """

    def __init__(self, message: str, *, rule: str, line: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.rule, self.line, self.column = rule, line, column
        self.details: list[str] = []


MAX_FILE_BYTES = 256 << 20  # a file read whole (read_delimited)
MAX_LINE_BYTES = 1 << 20  # one physical line, in any reader
MAX_EXTRACT_BYTES = 2 << 30  # an extract streamed by group_extract, as stored (plain or gzip)
MAX_EXTRACT_RECORDS = 20_000_000  # lines of an extract (France Travail: about 6 million job seekers a month)

# Leading bytes of files that are not text, and what to call them in a message.
_BINARY_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook or a compressed folder)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls workbook or another Office document"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
)
_UTF16_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _megabytes(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB"


def _too_large(name: str, size: int, limit: int) -> FileShapeError:
    return FileShapeError(
        f"{name}: the file holds {_megabytes(size)}, more than the {_megabytes(limit)} a file of this source may "
        "hold; check that it is the expected export (not another file renamed) and drop it again.",
        rule="file_size",
        line=None,
    )


def _line_too_long(name: str, line: int, length: int | None, limit: int) -> FileShapeError:
    size = f"is {_megabytes(length)} long, more than" if length else "is longer than"
    return FileShapeError(
        f"{name}: line {line} {size} the {_megabytes(limit)} a line may hold; the file has probably lost its line "
        "breaks or holds a runaway value: export it again and drop it again.",
        rule="line_length",
        line=line,
    )


def _not_text(name: str, head: bytes, *, gzip_allowed: bool = False) -> FileShapeError | None:
    """The refusal of a file that is not `;`-separated UTF-8 text, judged by its first bytes (a known binary
    format, or a UTF-16/32 byte order mark); None when they look like text."""
    for magic, kind in _BINARY_MAGIC:
        if head.startswith(magic) and not (gzip_allowed and magic == b"\x1f\x8b"):
            return FileShapeError(
                f"{name}: line 1: the file is {kind}, not `;`-separated text; export the data as CSV (UTF-8, `;`) and "
                "drop that file instead.",
                rule="not_text",
                line=1,
            )
    if head.startswith(_UTF16_BOMS):
        return FileShapeError(
            f'{name}: line 1: the file is UTF-16 (or UTF-32) text, not UTF-8; save it as "CSV UTF-8" and drop it '
            "again.",
            rule="encoding",
            line=1,
        )
    return None


def _position(data: bytes, offset: int, start: int = 0) -> tuple[int, str | None]:
    """(line, column) of the byte at `offset` of `data` (text from `start`, after a BOM): the physical line (header =
    1) and, below the header, the name of the `;`-separated field it falls in (None when beyond the header)."""
    line = data.count(b"\n", start, offset) + 1
    if line == 1:
        return line, None
    line_start = data.rfind(b"\n", 0, offset) + 1
    header_bytes = data[start : data.find(b"\n", start)]
    header = next(csv.reader([header_bytes.decode("utf-8", "replace").rstrip("\r")], delimiter=";"), [])
    index = _field_index(data[line_start:offset].decode("utf-8", "replace"))
    return line, header[index].strip().lower() if index < len(header) else None


def _nul_byte(name: str, line: int, column: str | None) -> FileShapeError:
    where = f", column {column}" if column else ""
    return FileShapeError(
        f"{name}: line {line}{where} holds a NUL byte (0x00), which no text file contains; the file is binary, UTF-16 "
        "or damaged: export it again as CSV UTF-8 and drop it again.",
        rule="nul_byte",
        line=line,
        column=column,
    )


def _longest_line(data: bytes) -> tuple[int, int, int]:
    """(length, line, start offset) of the longest physical line (ended by LF, CR or CRLF; line numbers count LFs)."""
    import numpy as np

    if len(data) <= MAX_LINE_BYTES:  # no line can be too long: skip the scan
        return len(data), 1, 0
    array = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero((array == 0x0A) | (array == 0x0D))
    starts = np.concatenate(([0], ends + 1))
    lengths = np.concatenate((ends, [len(data)])) - starts
    longest = int(np.argmax(lengths))
    start = int(starts[longest])
    return int(lengths[longest]), data.count(b"\n", 0, start) + 1, start


def _not_utf8(name: str, line: int, byte: int, column: str | None) -> FileShapeError:
    where = f", column {column}" if column else ""
    return FileShapeError(
        f"{name}: line {line} is not valid UTF-8 (byte 0x{byte:02x}{where}); the file looks like Latin-1 or "
        "Windows-1252: save it as UTF-8 and drop it again.",
        rule="encoding",
        line=line,
        column=column,
    )


def _missing_columns(name: str, missing: Sequence[str], expected: Sequence[str]) -> FileShapeError:
    return FileShapeError(
        f"{name}: line 1 (header) lacks the required column(s) {', '.join(missing)}; expected {';'.join(expected)}.",
        rule="missing_columns",
        line=1,
        column=", ".join(missing),
    )


def _field_index(line_prefix: str) -> int:
    """Index of the `;`-separated field in which a line prefix ends (separators inside quotes do not count)."""
    index, quoted = 0, False
    for char in line_prefix:
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            index += 1
    return index


def _decode(data: bytes, name: str, fallback: str | None = None) -> tuple[str, str]:
    """(text, encoding). UTF-8 first; then `fallback` (e.g. cp1252 for a producer's older files) if the source
    declares one, unless some lines are UTF-8 and others not (a mixed file would be read half garbled); bytes valid in
    neither raise `FileShapeError` naming the line (and column) of the first bad byte."""
    offset = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[offset:].decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        bad = offset + exc.start
        line, column = _position(data, bad, offset)
        if fallback:
            utf8_line = _first_utf8_line(data, offset)
            if utf8_line is not None:
                where = f", column {column}" if column else ""
                raise FileShapeError(
                    f"{name}: the file mixes encodings: line {utf8_line} is UTF-8 but line {line} is not (byte "
                    f"0x{data[bad]:02x}{where}); save the whole file in one encoding (UTF-8) and drop it again.",
                    rule="encoding",
                    line=line,
                    column=column,
                ) from None
            try:
                return data.decode(fallback), fallback
            except UnicodeDecodeError:
                pass
        raise _not_utf8(name, line, data[bad], column) from None


def _first_utf8_line(data: bytes, start: int) -> int | None:
    """The first physical line holding non-ASCII characters that are valid UTF-8 (None when there is none)."""
    for number, line in enumerate(data[start:].split(b"\n"), start=1):
        if not line.isascii():
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                continue
            return number
    return None


def _csv_records(text: str):
    """csv.reader over `text` (`;`, any line end), its field size limit raised to the text's length (the default,
    128 KiB, would fail on a long value of an otherwise readable file)."""
    if csv.field_size_limit() < len(text):
        csv.field_size_limit(len(text))
    return csv.reader(io.StringIO(text, newline=""), delimiter=";")


def _first_misshapen_line(text: str) -> tuple[int | None, int, int]:
    """Physical line where the first row with more fields than the header, or fewer without being blank, starts; the
    header width and that row's number of fields."""
    reader = _csv_records(text)
    width = len(next(reader, []))
    previous_end = reader.line_num
    for record in reader:
        if len(record) > width or (len(record) < width and any(field.strip() for field in record)):
            return previous_end + 1, width, len(record)
        previous_end = reader.line_num
    return None, width, 0


def _field_count_error(name: str, line: int | None, width: int, seen: int) -> FileShapeError:
    return FileShapeError(
        f"{name}: line {line} has {seen or 'more'} fields where the header has {width}; "
        "check the separators and quotes on that line.",
        rule="field_count",
        line=line,
    )


def read_delimited(
    path: Path,
    required_columns: Sequence[str],
    *,
    fallback_encoding: str | None = None,
    check_header: Callable[[list[str], set[int]], None] | None = None,
) -> pd.DataFrame:
    """Read a UTF-8 (BOM accepted), `;`-separated file as text, with `line_no`, the row's physical line number.

    `fallback_encoding` (e.g. "cp1252") is tried when the bytes are not UTF-8, for producers whose older files
    are Latin-1; the encoding used is left in `frame.attrs["encoding"]`. `check_header(header, empty)`, when given,
    judges the header as written (and the positions of its empty columns) where the required columns are checked,
    before the rows' field counts: a reader matching declared layouts raises its own `FileShapeError` there.

    Every column is text (no value goes through a number); column names are stripped and lower-cased. Rows whose
    fields are all empty (blank lines, `;;;` lines left by spreadsheets) are dropped, and line numbers still refer
    to the file as it is. Raises `FileShapeError` for a file over `MAX_FILE_BYTES` (only that much is read), a binary
    file (ZIP/xlsx, xls, PDF, gzip, UTF-16), a NUL byte, a line over `MAX_LINE_BYTES`, undecodable or mixed bytes, an
    empty file or one without data rows, missing required columns, and a non-blank row with more or fewer fields than
    the header.
    """
    path = Path(path)
    limit = MAX_FILE_BYTES
    with path.open("rb") as handle:
        data = handle.read(limit + 1)  # never more than the limit in memory
        if len(data) > limit:
            raise _too_large(path.name, max(os.fstat(handle.fileno()).st_size, len(data)), limit)
    refusal = _not_text(path.name, data[:8])
    if refusal:
        raise refusal
    nul = data.find(b"\x00")
    if nul >= 0:
        bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        raise _nul_byte(path.name, *_position(data, nul, bom))
    length, line, _ = _longest_line(data)
    if length > MAX_LINE_BYTES:
        raise _line_too_long(path.name, line, length, MAX_LINE_BYTES)
    text, encoding = _decode(data, path.name, fallback_encoding)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise FileShapeError(
            f"{path.name}: line 1 is empty; the file must start with a header line ({';'.join(required_columns)}).",
            rule="empty_file",
            line=1,
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text.removeprefix("\ufeff")),
            sep=";",
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        raise FileShapeError(f"{path.name}: the file is empty.", rule="empty_file", line=1) from None
    except pd.errors.ParserError as exc:
        line, width, seen = _first_misshapen_line(text)
        if line is None:  # pragma: no cover - pandas found a problem the csv module does not see
            match = re.search(r"line (\d+)", str(exc))
            line = int(match.group(1)) if match else None
        raise _field_count_error(path.name, line, width, seen) from None

    header_lines = 1 + sum(str(name).count("\n") for name in frame.columns)
    frame.columns = [str(name).strip().lower() for name in frame.columns]
    repeated = sorted({name for name in frame.columns if list(frame.columns).count(name) > 1})
    if repeated:
        raise FileShapeError(
            f"{path.name}: line 1 (header) names the column(s) {', '.join(repeated)} more than once (whatever the "
            "case); keep one of each.",
            rule="duplicate_columns",
            line=1,
            column=", ".join(repeated),
        )
    missing = [name for name in required_columns if name not in frame.columns]
    if missing:
        raise _missing_columns(path.name, missing, required_columns)
    header = next(csv.reader([first_line.removeprefix("\ufeff").rstrip("\r")], delimiter=";"), [])
    if check_header is not None:
        empty = {i for i, name in enumerate(frame.columns) if not (frame[name].str.strip() != "").any()}
        check_header(header, empty)
    # pandas pads a row with fewer fields than the header with empty values: find it (only when the separators do not
    # add up to one full row per record, so that well-formed files skip the second reading)
    if text.count(";") != (len(frame.columns) - 1) * (len(frame) + 1):
        line, width, seen = _first_misshapen_line(text)
        if line is not None:
            raise _field_count_error(path.name, line, width, seen)

    values = list(frame.columns)
    # A quoted field can hold line breaks: a row then spans several physical lines.
    spans = pd.Series(1, index=frame.index, dtype="int64")
    blank = pd.Series(True, index=frame.index)
    for name in values:
        column = frame[name]
        spans += column.str.count("\n").astype("int64")
        blank &= column.str.strip() == ""
    line_no = header_lines + 1 + spans.cumsum() - spans
    frame.insert(0, "line_no", line_no.astype("int64"))
    frame = frame.loc[~blank].reset_index(drop=True)
    if frame.empty:
        raise FileShapeError(
            f"{path.name}: the file has a header but no data row (line 2 onwards is empty).",
            rule="empty_file",
            line=2,
        )
    frame.attrs["encoding"] = encoding
    frame.attrs["header"] = header  # as written (case, accents, empty cells)
    return frame


# --- extracts too large for memory: streamed block by block, kept as their distinct lines ------------------------

GZIP_MAGIC = b"\x1f\x8b"
# bytes of the file parsed at a time: a larger block holds more repeats of each distinct line, so less is left to fold
# (6 million lines read in 2.5 s with 4 MB, 2.3 s with 8 MB, 2.2 s with 16 MB; peak memory 580, 705 and 730-800 MiB)
BLOCK_BYTES = 8 << 20
MERGE_ROWS = 500_000  # partial counts held before they are folded into the running total
COUNTING_THREADS = 2  # blocks counted at once, beside the parsing of the next ones


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as probe:
        return probe.read(2) == GZIP_MAGIC


def open_maybe_gzip(path: Path):
    """A binary stream of the file's bytes, gunzipped on the fly when the file is gzip (by its magic bytes, whatever
    its name)."""
    import gzip

    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def _extract_header(path: Path, columns: Sequence[str]) -> list[str]:
    """The header's column names (BOM dropped, stripped, lower-cased), checked against `columns`; the file's size
    and its first bytes (decompressed) are checked first."""
    size = path.stat().st_size
    if size > MAX_EXTRACT_BYTES:
        raise _too_large(path.name, size, MAX_EXTRACT_BYTES)
    with open_maybe_gzip(path) as stream:
        first = stream.readline(MAX_LINE_BYTES + 1)  # bounded: a line without end would otherwise be read whole
    refusal = _not_text(path.name, first[:8])
    if refusal:
        raise refusal
    if len(first.rstrip(b"\r\n")) > MAX_LINE_BYTES:
        raise _line_too_long(path.name, 1, None, MAX_LINE_BYTES)
    if b"\x00" in first:
        raise _nul_byte(path.name, 1, None)
    header = first.removeprefix(codecs.BOM_UTF8).decode("utf-8", "replace").rstrip("\r\n")
    if not header.strip():
        raise FileShapeError(
            f"{path.name}: line 1 is empty; the file must start with a header line ({';'.join(columns)}).",
            rule="empty_file",
            line=1,
        )
    names = [name.strip().lower() for name in header.split(";")]
    missing = [c for c in columns if c not in names]
    if missing:
        raise _missing_columns(path.name, missing, columns)
    extra = [n for n in names if n not in columns] or sorted({n for n in names if names.count(n) > 1})
    if extra:
        raise FileShapeError(
            f"{path.name}: line 1 (header) has unexpected or repeated column(s) {', '.join(extra)}; expected "
            f"{';'.join(columns)}.",
            rule="unexpected_columns",
            line=1,
            column=", ".join(extra),
        )
    return names


def _first_bad_line(path: Path, names: Sequence[str]) -> FileShapeError:
    """The precise refusal of an extract that Arrow's fast parser did not accept: a second, line by line pass names
    the first line that is longer than MAX_LINE_BYTES (never read whole), is not UTF-8 or holds a NUL byte (and its
    column), holds an unterminated quote (a quoted line break: one record per line is required), or has another number
    of fields than the header. Only refused files pay for it."""
    with open_maybe_gzip(path) as stream:
        stream.readline(MAX_LINE_BYTES + 1)
        line_no = 1
        while raw := stream.readline(MAX_LINE_BYTES + 1):
            line_no += 1
            if len(raw.rstrip(b"\r\n")) > MAX_LINE_BYTES:
                return _line_too_long(path.name, line_no, None, MAX_LINE_BYTES)
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                index = _field_index(raw[: exc.start].decode("utf-8", "replace"))
                column = names[index] if index < len(names) else None
                return _not_utf8(path.name, line_no, raw[exc.start], column)
            if "\x00" in text:
                index = _field_index(text[: text.index("\x00")])
                return _nul_byte(path.name, line_no, names[index] if index < len(names) else None)
            if text.count('"') % 2:
                return FileShapeError(
                    f"{path.name}: line {line_no} holds a quoted field that goes on to the next line; an extract must "
                    "have one line per record.",
                    rule="multiline_field",
                    line=line_no,
                )
            fields = next(_csv_records(text), [])
            if len(fields) != len(names):
                return FileShapeError(
                    f"{path.name}: line {line_no} has {len(fields)} field(s) where the header has {len(names)}; check "
                    "the separators and quotes on that line.",
                    rule="field_count",
                    line=line_no,
                )
    return FileShapeError(  # pragma: no cover - Arrow refused what a line by line reading accepts
        f"{path.name}: the file could not be parsed as `;`-separated UTF-8 text; check its separators and quotes.",
        rule="field_count",
    )


def _hex_keys(keys) -> tuple[np.ndarray | None, int | None]:
    """16-hex-digit identifiers as unsigned 64-bit integers, without a Python loop, and the index of the first that is
    not 16 lower-case hexadecimal digits (None when all are). Each pair of digits makes a byte, and the 8
    bytes of a key read as one big-endian integer (11 times faster than shifting the 64-bit values digit by digit);
    the same byte table that gives the digits' values marks the other bytes, so checking costs no regular
    expression (a third of a block's counting time)."""
    import numpy as np

    offsets = np.frombuffer(keys.buffers()[1], dtype=np.int32)[keys.offset : keys.offset + len(keys) + 1]
    wrong_size = np.flatnonzero(np.diff(offsets) != 16)
    if len(wrong_size):
        return None, int(wrong_size[0])
    digits = np.frombuffer(keys.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(len(keys), 16)
    nibbles = _hex_values()[digits]
    not_hex = np.flatnonzero((nibbles > 15).any(axis=1))
    if len(not_hex):
        return None, int(not_hex[0])
    packed = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    return np.ascontiguousarray(packed).view(">u8").ravel().astype(np.uint64), None


@functools.cache
def _hex_values() -> np.ndarray:
    """The value of each byte as a lower-case hexadecimal digit, 255 for every other byte."""
    import numpy as np

    table = np.full(256, 255, dtype=np.uint8)
    for value, digit in enumerate(b"0123456789abcdef"):
        table[digit] = value
    return table


def _repeated_keys(path: Path, key_column: str, chunks: list) -> FileShapeError | None:
    """The refusal naming the first repeated identifiers (by their first line), or None when all are distinct."""
    import numpy as np

    keys = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.uint64)
    ordered = np.sort(keys)
    if not (ordered[1:] == ordered[:-1]).any():
        return None
    order = np.argsort(keys, kind="stable")  # only a refused file pays for the positions
    ordered = keys[order]
    same = ordered[1:] == ordered[:-1]
    starts = np.flatnonzero(same & ~np.concatenate(([False], same[:-1])))
    groups = []
    for start in starts:
        end = start + 1
        while end < len(ordered) and ordered[end] == ordered[start]:
            end += 1
        lines = order[start:end] + 2
        groups.append((int(lines.min()), int(lines.max()), end - start, f"{int(ordered[start]):016x}"))
    groups.sort()
    first = groups[:3]
    described = ", ".join(
        f"{key} on lines {low} and {high}" + (f" (x{count})" if count > 2 else "") for low, high, count, key in first
    )
    return FileShapeError(
        f"{path.name}: line {first[0][1]}, column {key_column}: identifiers repeated ({described}); each record must "
        "have its own.",
        rule="key_repeated",
        line=first[0][1],
        column=key_column,
    )


def _not_one_line(table) -> bool:
    """Whether a value of an Arrow batch or table holds a line break (a quoted one: it shifts every later line
    number) or a NUL byte (no text holds one): the file then gets the line by line pass."""
    import pyarrow.compute as pc

    return any(pc.any(pc.match_substring(column, needle)).as_py() for needle in "\n\x00" for column in table.columns)


def _longest(table) -> int:
    """The largest sum, over a table's rows, of the UTF-8 byte lengths of its text cells (0 for no row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return 0
    lengths = [pc.binary_length(column).cast(pa.int64()) for column in table.columns]
    total = lengths[0]
    for length in lengths[1:]:
        total = pc.add(total, length)
    return int(pc.max(total).as_py() or 0)


def group_extract(path: Path, columns: Sequence[str], key_column: str) -> pd.DataFrame:
    """Read a `;`-separated UTF-8 extract (plain or gzip) too large for memory, one line per record, and keep its
    distinct lines without `key_column`, as text, with `lignes` (how many file lines are that line) and `line_no` (the
    first of them): a lossless summary of every count the file allows.

    Arrow's CSV parser reads the file in blocks of BLOCK_BYTES; each block is grouped at once and the partial counts
    are folded into a running total, so memory holds a few blocks and the distinct lines, not the file. Blocks are
    counted COUNTING_THREADS at a time in worker threads while the next are parsed, and taken back in file order
    (6 million lines: 3.6 s to 2.3 s on 2 cores, the same summary and the same first bad line). The only thing
    that grows with the file is the identifiers, 8 bytes a line (16 while they are sorted at the end: about 90 MB for
    6 million lines), kept to check that `key_column` (16 lower-case hex digits) is unique.

    Raises FileShapeError for an empty file or header, missing or unexpected columns, a malformed or repeated key (the
    first lines concerned), and, found by a second line by line pass only when Arrow refuses the file, a value holds
    a line break or a distinct line is longer than MAX_LINE_BYTES, a line over MAX_LINE_BYTES, bytes that are not UTF-8
    (line and column), a quoted line break, or a line with another number of fields than the header."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    names = _extract_header(path, columns)
    grouped = [c for c in columns if c != key_column]
    options = {
        "read_options": pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=BLOCK_BYTES, use_threads=True),
        "parse_options": pacsv.ParseOptions(delimiter=";", newlines_in_values=False, ignore_empty_lines=False),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    }

    def fold(tables: list) -> pa.Table:
        total = pa.concat_tables(tables).group_by(grouped, use_threads=False)
        return total.aggregate([("lignes", "sum"), ("line_no", "min")]).rename_columns([*grouped, "lignes", "line_no"])

    def counted(batch, first: int):
        """One block's counts and identifiers as integers, or the index of its first malformed identifier. Runs in
        a worker thread: Arrow and NumPy release the GIL, so two blocks are counted while the next is parsed."""
        block_keys, bad = _hex_keys(batch.column(names.index(key_column)))
        if bad is not None:
            return None, None, bad
        block = pa.table({c: batch.column(names.index(c)) for c in grouped})
        block = block.append_column("line_no", pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64)))
        counts = block.group_by(grouped, use_threads=False).aggregate([("line_no", "count"), ("line_no", "min")])
        return counts.rename_columns([*grouped, "lignes", "line_no"]), block_keys, None

    summary, partial, partial_rows, keys, first_line = None, [], 0, [], 2
    pending: collections.deque = collections.deque()

    def settle() -> None:
        """Take the oldest block's counts, in file order (so the first bad line found is the file's first)."""
        nonlocal summary, partial, partial_rows
        batch, first, future = pending.popleft()
        counts, block_keys, bad = future.result()
        if bad is not None:
            if _not_one_line(batch):  # a shifted or binary line comes first: the line by line pass names it
                raise _first_bad_line(path, names)
            key = batch.column(names.index(key_column))
            raise FileShapeError(
                f"{path.name}: line {first + bad}, column {key_column}: an empty or malformed identifier "
                f"({key[bad].as_py()!r}; expected 16 lower-case hexadecimal digits).",
                rule="key_format",
                line=first + bad,
                column=key_column,
            )
        keys.append(block_keys)
        partial.append(counts)
        partial_rows += counts.num_rows
        if partial_rows > max(MERGE_ROWS, 2 * (summary.num_rows if summary is not None else 0)):
            summary = fold(([summary] if summary is not None else []) + partial)
            partial, partial_rows = [], 0

    try:  # Arrow parses the first block on opening
        source = pa.input_stream(str(path), compression="gzip" if is_gzip(path) else None)
        reader = pacsv.open_csv(source, **options)
        with concurrent.futures.ThreadPoolExecutor(max_workers=COUNTING_THREADS) as pool:
            for batch in reader:
                rows = batch.num_rows
                if first_line - 2 + rows > MAX_EXTRACT_RECORDS:
                    raise FileShapeError(
                        f"{path.name}: the extract holds more than {MAX_EXTRACT_RECORDS:,} lines (line "
                        f"{first_line + rows - 1:,} reached); check that it is the expected extract (a gzip file may "
                        "inflate far beyond its size) and drop it again.",
                        rule="file_size",
                        line=MAX_EXTRACT_RECORDS + 2,
                    )
                pending.append((batch, first_line, pool.submit(counted, batch, first_line)))
                first_line += rows
                while len(pending) > COUNTING_THREADS:
                    settle()
            while pending:
                settle()
    except (pa.ArrowInvalid, UnicodeDecodeError):
        raise _first_bad_line(path, names) from None
    records = first_line - 2
    if records == 0:
        raise FileShapeError(
            f"{path.name}: the file has a header but no data row (line 2 onwards is empty).", rule="empty_file", line=2
        )
    summary = fold(([summary] if summary is not None else []) + partial).sort_by("line_no")
    # a quoted line break parses as one value but shifts every later line number; a NUL byte is no text: the distinct
    # lines hold every value of the file, so they are looked at there, once, rather than in every block
    # and a line over MAX_LINE_BYTES: Arrow takes a line longer than a block (it refused one only up to 8 MB blocks),
    # so the longest distinct line is measured: its key (16 bytes), separators and fields, unquoted
    if _not_one_line(summary.select(grouped)) or 16 + len(grouped) + _longest(summary.select(grouped)) > MAX_LINE_BYTES:
        raise _first_bad_line(path, names)
    repeated = _repeated_keys(path, key_column, keys)
    if repeated:
        raise repeated
    frame = summary.to_pandas()
    frame = frame[[*grouped, "lignes", "line_no"]]
    frame["lignes"] = frame["lignes"].astype("int64")
    frame.insert(0, "line_no", frame.pop("line_no").astype("int64"))
    frame.attrs["records"] = records
    return frame
