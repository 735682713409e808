"""Fixtures shared by the source tests: the sample QPV referential, built once per session (it is read-only)."""

from __future__ import annotations

import pytest

from etl.referentiels.territories import normalise_qpv, read_anct


@pytest.fixture(scope="session")
def territories(territories_dir) -> dict:
    """{"2015": frames, "2024": frames, "folder": where the ANCT-format files are} (frames as normalise_qpv)."""
    folder = territories_dir
    frames: dict = {geo: normalise_qpv(read_anct(folder / f"qpv_{geo}.csv")) for geo in ("2015", "2024")}
    frames["folder"] = folder
    return frames


@pytest.fixture(scope="session")
def in_force_2024(territories) -> int:
    """QPV in force during 2024: the 2024 geography in metropolitan France, the 2015 one overseas."""
    metropole = (~territories["2024"]["qpv"]["insee_dep"].str.startswith("97")).sum()
    return int(metropole + territories["2015"]["qpv"]["insee_dep"].str.startswith("97").sum())
