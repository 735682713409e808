"""Writing a generated table as a producer's CSV: `;`, minimal quoting, the producer's encoding and line ends."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path


def write_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], encoding: str = "utf-8", line_end: str = "\n"
) -> Path:
    """Write `header` then `rows` to `path` in one go (same inputs, same bytes); returns `path`.

    `encoding` `utf-8-sig` writes a BOM, `cp1252` the Windows chain's bytes (a character it cannot encode raises:
    a generator never writes a file its producer could not)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator=line_end, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path
