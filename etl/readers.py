"""Reading delimited files as text, exactly as they are, with the file line of every row.

`read_delimited()` is the one CSV entry point of the readers: every cell stays text (no float ever eats a
leading zero or a "2A"), column names are lower-cased and stripped, and `line_no` is the physical line in
the file (header = line 1). Structural problems that no expectation can see (bytes that are not in the
declared encoding, an empty file, missing columns, a row with too many fields) raise `FileShapeError`
naming the line, the column and the rule; the pipeline turns it into a gate-1 failure and quarantines the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class FileShapeError(ValueError):
    """The file cannot be read as the source declares it."""

    message: str
    rule: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        return self.message


def _first_bad_line(data: bytes, encoding: str) -> tuple[int, int]:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1, exc.start
    return 0, -1


def read_delimited(
    path: Path,
    *,
    required: list[str],
    sep: str = ";",
    encodings: tuple[str, ...] = ("utf-8",),
):
    """DataFrame of text cells + int `line_no`; raises FileShapeError on structural problems."""
    import io

    import pandas as pd

    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = None
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        line, offset = _first_bad_line(data, encodings[0])
        raise FileShapeError(
            f"line {line}: byte {data[offset]:#04x} is not valid {' or '.join(encodings)} "
            f"(the file must be encoded in {encodings[0]})",
            rule="encoding",
            line=line,
        )
    if not text.strip():
        raise FileShapeError("the file is empty (no header line)", rule="empty_file", line=1)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        raise FileShapeError(f"the file cannot be parsed as '{sep}'-separated text: {exc}", rule="parse") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise FileShapeError(
            f"line 1: missing column(s) {', '.join(missing)} (found: {', '.join(frame.columns)})",
            rule="missing_columns",
            line=1,
            column=missing[0],
        )
    if frame.empty:
        raise FileShapeError("the file has a header but no data line", rule="empty_file", line=2)
    frame.insert(0, "line_no", _line_numbers(text, len(frame)))
    return frame


def _line_numbers(text: str, rows: int):
    """Physical line of each data row, skipping blank lines like the parser does (quoted newlines aside)."""
    import numpy as np

    lines = text.splitlines()
    numbers = [i + 1 for i, line in enumerate(lines) if i > 0 and line.strip()]
    if len(numbers) != rows:  # quoted fields spanning lines: fall back to row order
        return np.arange(2, rows + 2, dtype="int64")
    return np.asarray(numbers, dtype="int64")
