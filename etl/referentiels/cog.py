"""Régions and départements (Code officiel géographique), read from the files versioned in `catalogue/`."""

from __future__ import annotations

from pathlib import Path

from etl.readers import read_delimited
from etl.referentiels.codes import pad_departement, pad_digits


def read_regions(path: Path):
    return read_delimited(path, ["code", "nom"])


def normalise_regions(raw) -> dict:
    out = raw[["line_no", "code", "nom"]].copy()
    out["code"] = pad_digits(out["code"].str.strip(), 2)
    out["nom"] = out["nom"].str.strip()
    return {"regions": out}


def read_departements(path: Path):
    return read_delimited(path, ["code", "nom", "code_region"])


def normalise_departements(raw) -> dict:
    out = raw[["line_no", "code", "nom", "code_region"]].copy()
    out["code"] = pad_departement(out["code"].str.strip())
    out["code_region"] = pad_digits(out["code_region"].str.strip(), 2)
    out["nom"] = out["nom"].str.strip()
    return {"departements": out}
