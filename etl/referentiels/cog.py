"""Régions and départements (Code officiel géographique), read from the files versioned in `catalogue/`."""

from __future__ import annotations

from pathlib import Path

from etl.referentiels.codes import pad_departement, pad_digits
from etl.sources import layouts


def read_regions(path: Path):
    """catalogue/regions.csv through its declared layout (etl/sources/layouts.py)."""
    return layouts.read("cog_regions", path)


def normalise_regions(raw) -> dict:
    out = raw[["line_no", "code", "nom"]].copy()
    out["code"] = pad_digits(out["code"].str.strip(), 2)
    out["nom"] = out["nom"].str.strip()
    return {"regions": out}


def read_departements(path: Path):
    """catalogue/departements.csv through its declared layout (etl/sources/layouts.py)."""
    return layouts.read("cog_departements", path)


def normalise_departements(raw) -> dict:
    out = raw[["line_no", "code", "nom", "code_region"]].copy()
    out["code"] = pad_departement(out["code"].str.strip())
    out["code_region"] = pad_digits(out["code_region"].str.strip(), 2)
    out["nom"] = out["nom"].str.strip()
    return {"departements": out}
