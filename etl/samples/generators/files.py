"""What generators share: a random generator per drawn thing, writing a table as a producer's CSV (`;`, minimal
quoting, the producer's encoding and line ends), and choosing the mistakes a generated workbook is made with."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Sequence
from pathlib import Path


def seeded_rng(seed: int, *what: object) -> random.Random:
    """A generator for one thing (a territory, a month, an indicator...), so that its draws depend on nothing else."""
    return random.Random(":".join(str(part) for part in (seed, *what)))


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


def chosen_mistakes(mistakes: Iterable[str] | str, known: Sequence[str]) -> list[str]:
    """The mistakes asked for (one name or several), in the order of `known`; ValueError naming an unknown one."""
    names = [mistakes] if isinstance(mistakes, str) else list(mistakes)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"Unknown mistake(s) {', '.join(map(repr, unknown))}: expected names among {', '.join(known)}."
        )
    return [name for name in known if name in names]
