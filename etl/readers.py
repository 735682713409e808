"""Reading delimited files as text, exactly as they are, with the file line of every row.

`read_delimited()` is the one CSV entry point of the readers: every cell stays text (no float ever eats a
leading zero or a "2A"), column names are lower-cased and stripped, and `line_no` is the physical line in
the file (header = line 1), right even when a quoted field holds a line break. Structural problems that no
expectation can see (bytes that are not UTF-8, an empty file, missing columns, a row with more fields than
the header) raise `FileShapeError` naming the line, the column and the rule; the pipeline turns it into a
gate-1 failure and quarantines the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd


class FileShapeError(ValueError):
    """A file that cannot be read as a table: the message says which line and what to do.

    `rule` is a short identifier (`encoding`, `empty_file`, `missing_columns`, `field_count`) that reports and
    tests rely on; `line` is the physical line (header = 1) and `column` the column concerned, when they apply.
    """

    def __init__(self, message: str, *, rule: str, line: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.rule, self.line, self.column = rule, line, column


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
    declares one; bytes valid in neither raise `FileShapeError` naming the line (and column) of the first bad byte."""
    offset = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[offset:].decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if fallback:
            try:
                return data.decode(fallback), fallback
            except UnicodeDecodeError:
                pass
        bad = offset + exc.start
        line = data.count(b"\n", 0, bad) + 1
        line_start = data.rfind(b"\n", 0, bad) + 1
        column = None
        if line > 1:
            header_bytes = data[offset : data.find(b"\n")]
            header = next(csv.reader([header_bytes.decode("utf-8", "replace").rstrip("\r")], delimiter=";"), [])
            index = _field_index(data[line_start:bad].decode("utf-8", "replace"))
            if index < len(header):
                column = header[index].strip().lower()
        where = f", column {column}" if column else ""
        raise FileShapeError(
            f"{name}: line {line} is not valid UTF-8 (byte 0x{data[bad]:02x}{where}); the file looks like Latin-1 "
            "or Windows-1252: save it as UTF-8 and drop it again.",
            rule="encoding",
            line=line,
            column=column,
        ) from None


def _first_overlong_line(text: str) -> tuple[int | None, int, int]:
    """Physical line where the first row with more fields than the header starts, the header width and that count."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    width = len(next(reader, []))
    previous_end = reader.line_num
    for record in reader:
        if len(record) > width:
            return previous_end + 1, width, len(record)
        previous_end = reader.line_num
    return None, width, 0


def read_delimited(
    path: Path, required_columns: Sequence[str], *, fallback_encoding: str | None = None
) -> pd.DataFrame:
    """Read a UTF-8 (BOM accepted), `;`-separated file as text, with `line_no`, the row's physical line number.

    `fallback_encoding` (e.g. "cp1252") is tried when the bytes are not UTF-8, for producers whose older files
    are Latin-1; the encoding used is left in `frame.attrs["encoding"]`.

    Every column is text (no value goes through a number); column names are stripped and lower-cased. Rows whose
    fields are all empty (blank lines, `;;;` lines left by spreadsheets) are dropped, and line numbers still refer
    to the file as it is. Raises `FileShapeError` for undecodable bytes, an empty file or one without data rows,
    missing required columns, and a row with more fields than the header.
    """
    path = Path(path)
    data = path.read_bytes()
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
        line, width, seen = _first_overlong_line(text)
        if line is None:  # pragma: no cover - pandas found a problem the csv module does not see
            match = re.search(r"line (\d+)", str(exc))
            line = int(match.group(1)) if match else None
        raise FileShapeError(
            f"{path.name}: line {line} has {seen or 'more'} fields where the header has {width}; "
            "check the separators and quotes on that line.",
            rule="field_count",
            line=line,
        ) from None

    header_lines = 1 + sum(str(name).count("\n") for name in frame.columns)
    frame.columns = [str(name).strip().lower() for name in frame.columns]
    missing = [name for name in required_columns if name not in frame.columns]
    if missing:
        raise FileShapeError(
            f"{path.name}: line 1 (header) lacks the required column(s) {', '.join(missing)}; "
            f"expected {';'.join(required_columns)}.",
            rule="missing_columns",
            line=1,
            column=", ".join(missing),
        )

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
    return frame
