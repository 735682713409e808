"""Sample files for `make demo`: the generators' output dropped in the inboxes of the sources they imitate.

Generators are deterministic, so a second demo drops byte-identical files, which landing recognises and
skips: the warehouse state does not change.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from etl.config import Home

# generated file name -> source whose inbox receives it
TERRITORY_FILES = {
    "qpv_2015.csv": "anct_qpv",
    "qpv_2024.csv": "anct_qpv",
    "qpv_correspondance_2015_2024.csv": "anct_qpv_correspondance",
}


def drop_sample_files(home: Home, seed: int = 2024) -> list[str]:
    """Generate the sample files and move them into their inboxes; returns 'source/file' names."""
    from etl.generators import territories

    dropped = []
    with tempfile.TemporaryDirectory(prefix="obs-samples-") as tmp:
        for path in territories.generate(Path(tmp), seed=seed):
            source_id = TERRITORY_FILES[path.name]
            inbox = home.folder("inbox") / source_id
            inbox.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), inbox / path.name)
            dropped.append(f"{source_id}/{path.name}")
    return dropped
