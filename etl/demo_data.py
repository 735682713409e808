"""Sample files for `make demo`: the generators' output dropped in the inboxes of the sources they imitate.

Three years of monthly France Travail files (each revising the two months before it, Latin-1 before 2024,
UTF-8 after), yearly contact points, the QPV referential of both geographies, and one deliberately broken
France Travail file, which the demo expects to see quarantined. Generators are deterministic, so a second
demo drops byte-identical files, which landing recognises and skips: the warehouse state does not change.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from etl.config import Home

DEMO_MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024, 2025, 2026) for m in range(1, 13)][9:45]  # 2023-10 .. 2026-09
DEMO_YEARS = [2023, 2024, 2025]


@dataclass
class SampleDrop:
    dropped: list[str] = field(default_factory=list)  # "source/file"
    expected_quarantine: set[tuple[str, str]] = field(default_factory=set)  # (source, file) broken on purpose


def _drop(path: Path, home: Home, source_id: str, drop: SampleDrop) -> None:
    inbox = home.folder("inbox") / source_id
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, inbox / path.name)
    drop.dropped.append(f"{source_id}/{path.name}")
    if "_broken" in path.name:
        drop.expected_quarantine.add((source_id, path.name))


def drop_sample_files(
    home: Home, seed: int = 2024, *, months: list[str] | None = None, france_travail: bool = True
) -> SampleDrop:
    """Generate the sample files and move them into their inboxes."""
    from etl.generators import france_travail as ft
    from etl.generators import territories

    drop = SampleDrop()
    with tempfile.TemporaryDirectory(prefix="obs-samples-") as tmp:
        territory_dir = Path(tmp) / "territories"
        for path in territories.generate(territory_dir, seed=seed):  # France Travail's generator reads them too
            source_id = "anct_qpv_correspondance" if "correspondance" in path.name else "anct_qpv"
            _drop(path, home, source_id, drop)
        if not france_travail:
            return drop
        for path in ft.generate_defm(Path(tmp) / "ft", territory_dir, months or DEMO_MONTHS, seed=seed, broken=True):
            _drop(path, home, "france_travail_defm", drop)
        for path in ft.generate_contacts(Path(tmp) / "ftc", territory_dir, DEMO_YEARS, seed=seed):
            _drop(path, home, "france_travail_contacts", drop)
    return drop
