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


# --- extracts too large for memory: streamed into the warehouse, read back grouped ----------------------------------

GZIP_MAGIC = b"\x1f\x8b"
COPY_CHUNK = 1 << 20  # bytes handed to COPY at a time


class _LineCountingReader:
    """The file object COPY reads: passes the bytes through, counting the line breaks and remembering the last byte
    (a last line without a line break is a line too)."""

    def __init__(self, stream) -> None:
        self.stream, self.line_breaks, self.last, self.size = stream, 0, b"\n", 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(max(size, COPY_CHUNK))
        if chunk:
            self.line_breaks += chunk.count(b"\n")
            self.last, self.size = chunk[-1:], self.size + len(chunk)
        return chunk

    @property
    def lines(self) -> int:
        return self.line_breaks + (self.size > 0 and self.last != b"\n")


def open_maybe_gzip(path: Path):
    """A binary stream of the file's bytes, gunzipped on the fly when the file is gzip (by its magic bytes, whatever
    its name)."""
    import gzip

    with open(path, "rb") as probe:
        compressed = probe.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def _copy_error(exc, name: str, columns: Sequence[str]) -> FileShapeError:
    """FileShapeError from PostgreSQL's COPY error: its CONTEXT names the input line (the header was consumed
    before, so the file line is one more) and, for a field, the column."""
    diag = getattr(exc, "diag", None)
    context = (getattr(diag, "context", None) or "").splitlines()
    primary = getattr(diag, "message_primary", None) or str(exc).splitlines()[0]
    match = next((m for line in context if (m := re.search(r"line (\d+)(?:, column (\w+))?", line))), None)
    line = int(match.group(1)) + 1 if match else None
    column = match.group(2) if match and match.group(2) in columns else None
    rule = "encoding" if "encoding" in primary.lower() or "utf8" in primary.lower() else "field_count"
    where = f"line {line}" + (f", column {column}" if column else "") if line else "the file"
    return FileShapeError(
        f"{name}: {where}: {primary}; fix that line and drop the file again.", rule=rule, line=line, column=column
    )


def group_in_warehouse(path: Path, engine, columns: Sequence[str], key_column: str, key_pattern: str) -> pd.DataFrame:
    """Read a `;`-separated UTF-8 extract (plain or gzip) too large for memory: the bytes are streamed through COPY
    into a temporary table of the warehouse (each line numbered as in the file), and what comes back is the distinct
    lines without `key_column`, as text, with `lignes` (how many file lines are that line) and `line_no` (the first
    of them). Memory holds one COPY chunk and the distinct lines, whatever the file's size; the temporary table is
    gone at the end of the transaction.

    `key_column` (a pseudonymised id) must match `key_pattern` and be unique in the file. Raises FileShapeError for
    an empty file or header, missing or unexpected columns, a line with more or fewer fields than the header, bytes
    that are not UTF-8 (PostgreSQL's message, with the line and column), a quoted field holding a line break (line
    numbers would drift), and a malformed or repeated key (the first lines concerned)."""
    import sqlalchemy as sa

    path = Path(path)
    with open_maybe_gzip(path) as stream:
        header_bytes = stream.readline()
        header = header_bytes.removeprefix(codecs.BOM_UTF8).decode("utf-8", "replace").rstrip("\r\n")
        if not header.strip():
            raise FileShapeError(
                f"{path.name}: line 1 is empty; the file must start with a header line ({';'.join(columns)}).",
                rule="empty_file",
                line=1,
            )
        names = [name.strip().lower() for name in header.split(";")]
        missing = [c for c in columns if c not in names]
        if missing:
            raise FileShapeError(
                f"{path.name}: line 1 (header) lacks the required column(s) {', '.join(missing)}; expected "
                f"{';'.join(columns)}.",
                rule="missing_columns",
                line=1,
                column=", ".join(missing),
            )
        extra = [n for n in names if n not in columns] or sorted({n for n in names if names.count(n) > 1})
        if extra:
            raise FileShapeError(
                f"{path.name}: line 1 (header) has unexpected or repeated column(s) {', '.join(extra)}; expected "
                f"{';'.join(columns)}.",
                rule="unexpected_columns",
                line=1,
                column=", ".join(extra),
            )
        grouped = [c for c in columns if c != key_column]
        quoted = ", ".join(f'"{c}"' for c in names)
        body = _LineCountingReader(stream)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TEMPORARY TABLE extract_lines (line_no bigint GENERATED ALWAYS AS IDENTITY (START WITH 2), "
                + ", ".join(f'"{c}" text' for c in columns)
                + ") ON COMMIT DROP"
            )
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                cursor.copy_expert(
                    f"COPY extract_lines ({quoted}) FROM STDIN WITH (FORMAT csv, DELIMITER ';', ENCODING 'UTF8')",
                    body,
                    size=COPY_CHUNK,
                )
            except Exception as exc:
                if getattr(exc, "pgcode", None) is None:  # not PostgreSQL's verdict on the data
                    raise
                raise _copy_error(exc, path.name, columns) from None
            records = cursor.rowcount
            if records <= 0:
                raise FileShapeError(
                    f"{path.name}: the file has a header but no data row (line 2 onwards is empty).",
                    rule="empty_file",
                    line=2,
                )
            if records != body.lines:
                any_break = " OR ".join(f"strpos(\"{c}\", E'\\n') > 0" for c in columns)
                first = conn.exec_driver_sql(f"SELECT min(line_no) FROM extract_lines WHERE {any_break}").scalar()
                raise FileShapeError(
                    f"{path.name}: line {first} holds a quoted field with a line break ({body.lines} lines for "
                    f"{records} records); an extract must have one line per record.",
                    rule="multiline_field",
                    line=first,
                )
            key = f'"{key_column}"'
            bad = conn.execute(
                sa.text(f"SELECT min(line_no), count(*) FROM extract_lines WHERE {key} IS NULL OR {key} !~ :pattern"),
                {"pattern": key_pattern},
            ).one()
            if bad[1]:
                raise FileShapeError(
                    f"{path.name}: line {bad[0]}, column {key_column}: {bad[1]} line(s) with an empty or malformed "
                    f"identifier (expected {key_pattern}).",
                    rule="key_format",
                    line=bad[0],
                    column=key_column,
                )
            conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
            repeated = conn.exec_driver_sql(
                f"SELECT {key}, count(*), min(line_no), max(line_no) FROM extract_lines GROUP BY {key} "
                "HAVING count(*) > 1 ORDER BY min(line_no) LIMIT 3"
            ).all()
            if repeated:
                lines = ", ".join(
                    f"{r[0]} on lines {r[2]} and {r[3]}" + (f" (x{r[1]})" if r[1] > 2 else "") for r in repeated
                )
                raise FileShapeError(
                    f"{path.name}: line {repeated[0][3]}, column {key_column}: identifiers repeated ({lines}); each "
                    "record must have its own.",
                    rule="key_repeated",
                    line=repeated[0][3],
                    column=key_column,
                )
            keys = ", ".join(f'"{c}"' for c in grouped)
            sink = io.BytesIO()
            cursor.copy_expert(
                f"COPY (SELECT {keys}, count(*) AS lignes, min(line_no) AS line_no FROM extract_lines GROUP BY {keys} "
                "ORDER BY line_no) TO STDOUT WITH (FORMAT csv, HEADER true)",
                sink,
            )
    sink.seek(0)
    frame = pd.read_csv(sink, dtype=str, keep_default_na=False)
    frame["lignes"] = frame["lignes"].astype("int64")
    frame.insert(0, "line_no", frame.pop("line_no").astype("int64"))
    frame.attrs["records"] = records
    return frame
