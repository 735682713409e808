"""The indicator catalogue: the 32 indicators of 2014 and the 2018 roadmap's measures and indicators.

The data are the CSV files of `catalogue/` (see its README for how they were read from the policy texts);
this module reads them as text and types them for staging. The fiche méthodologique of each indicator is
derived in `sql/core/catalogue_indicateurs.sql`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from etl.config import PROJECT_ROOT
from etl.sources import layouts

CATALOGUE_FILE = PROJECT_ROOT / "catalogue" / "indicateurs_2014.csv"
# The warehouse's unit rule (sql/core/catalogue_indicateurs.sql): a label starting with one of these words is a share.
SHARE_LABEL = re.compile(r"^(part|taux|pourcentage|proportion)", re.IGNORECASE)

INDICATEURS_COLUMNS = [
    "code", "convention", "objectif_strategique", "objectif_operationnel", "bop", "libelle", "cible_texte",
    "cible_valeur", "cible_unite", "cible_comparateur", "cible_horizon", "cible_portee", "mode", "producteur",
    "mode_resolu", "mode_texte", "producteur_donnee", "unite_statistique",
]  # fmt: skip
# What an indicator counts (for a share: what its numerator counts), `unite_statistique` of the catalogue. Statistical
# secrecy covers counts of people and households only, and shares built on them; never agents in post, structures,
# places, acts, actions, projects, zones, QPV, posts, euros or the inhabitants of a territory that INSEE publishes
# (`habitants`: a census population, catalogue/README.md).
STATISTICAL_UNITS = (
    "personnes", "foyers", "agents", "structures", "places", "actes", "actions", "projets", "zones", "qpv", "postes",
    "euros", "habitants",
)  # fmt: skip
SECRET_UNITS = ("personnes", "foyers")
# The `unite_statistique` of a count of QPV: it cannot exceed the QPV in force in its territory.
QPV_UNIT = "qpv"


@dataclass(frozen=True)
class PlausibleRange:
    """The values a submitted count may plausibly take for one territory: beyond, the figure is accepted with a
    warning that names this range (an extra zero, a figure in cents or for all of France are the usual causes)."""

    low: float
    high: float
    what: str  # what is counted, in French, as the message says it
    scope: str  # per which territory and period
    basis: str  # why this ceiling, in French


# The plausible ranges of submitted counts, our choice: generous orders of magnitude, so that only a figure far off
# (a typo, a unit mistaken) is flagged. Regional workbook: by `unite_statistique`, for one région (a département's
# cell is held to the same range). PAQTE report: per key indicator (etl.submissions.paqte.KEY_INDICATORS), for one
# département and one semester.
PLAUSIBLE_RANGES = {
    "zones": PlausibleRange(0, 30, "ZSP", "par région", "environ 80 ZSP ont existé dans toute la France"),
    "structures": PlausibleRange(
        0, 500, "structures", "par région", "les structures d'une région se comptent par dizaines, pas par milliers"
    ),
    "projets": PlausibleRange(0, 200, "projets", "par région", "quelques dizaines de projets par région"),
    "paqte_entreprises": PlausibleRange(
        0, 500, "entreprises", "par département", "les signataires du PAQTE d'un département se comptent par dizaines"
    ),
    "paqte_eleves": PlausibleRange(
        0, 5000, "stages ou élèves", "par département et par semestre",
        "un département compte au plus quelques milliers d'élèves de 3e en collège REP+",
    ),
    "paqte_contrats": PlausibleRange(
        0, 10000, "contrats ou recrutements", "par département et par semestre",
        "les contrats des signataires d'un département se comptent par centaines",
    ),
    "paqte_euros": PlausibleRange(
        0, 100_000_000, "euros", "par département et par semestre",
        "au-delà, un montant en centimes ou pour toute la France est probable",
    ),
}  # fmt: skip
MESURES_COLUMNS = ["numero", "axe", "programme", "theme", "libelle", "statut", "date_statut"]
MESURE_INDICATEURS_COLUMNS = [
    "numero_mesure", "rang", "libelle", "cible_texte", "cible_valeur", "cible_unite", "cible_horizon",
]  # fmt: skip


def _blank_to_none(frame, columns):
    for column in columns:
        frame[column] = frame[column].str.strip().replace("", None)
    return frame


def _numbers(series, kind: str):
    import pandas as pd

    cleaned = series.str.strip().replace("", None)
    if kind == "int":
        return pd.to_numeric(cleaned, errors="coerce").astype("Int64")
    return pd.to_numeric(cleaned, errors="coerce")


def read_indicateurs(path: Path):
    return layouts.read("catalogue_indicateurs", path)


def normalise_indicateurs(raw) -> dict:
    out = raw[["line_no", *INDICATEURS_COLUMNS]].copy()
    text = [c for c in INDICATEURS_COLUMNS if c not in ("cible_valeur", "cible_horizon", "mode_resolu")]
    out = _blank_to_none(out, text)
    out["cible_valeur"] = _numbers(raw["cible_valeur"], "float")
    out["cible_horizon"] = _numbers(raw["cible_horizon"], "int")
    out["mode_resolu"] = raw["mode_resolu"].str.strip().str.lower().eq("oui")
    out["unite_statistique"] = out["unite_statistique"].str.lower()
    return {"indicateurs": out}


OPERATEURS_COLUMNS = [
    "code", "libelle", "unite", "producteur", "periodicite", "definition", "regle_diffusion", "unite_statistique",
]  # fmt: skip


def read_operateurs(path: Path):
    return layouts.read("catalogue_operateurs", path)


def normalise_operateurs(raw) -> dict:
    out = _blank_to_none(raw[["line_no", *OPERATEURS_COLUMNS]].copy(), OPERATEURS_COLUMNS)
    out["unite_statistique"] = out["unite_statistique"].str.lower()
    return {"operateurs": out}


def read_mesures(path: Path):
    return layouts.read("catalogue_mesures", path)


def normalise_mesures(raw) -> dict:
    """Typed measures; `date_statut` (the date of the status, `2019-01-22`) becomes a date, None when unreadable."""
    import pandas as pd

    out = _blank_to_none(raw[["line_no", *MESURES_COLUMNS]].copy(), MESURES_COLUMNS)
    dates = pd.to_datetime(out["date_statut"], format="%Y-%m-%d", errors="coerce")
    out["date_statut"] = pd.Series([d.date() if pd.notna(d) else None for d in dates], index=out.index, dtype=object)
    return {"mesures": out}


def read_mesure_indicateurs(path: Path):
    return layouts.read("catalogue_mesure_indicateurs", path)


def normalise_mesure_indicateurs(raw) -> dict:
    out = raw[["line_no", *MESURE_INDICATEURS_COLUMNS]].copy()
    out = _blank_to_none(out, ["numero_mesure", "rang", "libelle", "cible_texte", "cible_unite"])
    out["cible_valeur"] = _numbers(raw["cible_valeur"], "float")
    out["cible_horizon"] = _numbers(raw["cible_horizon"], "int")
    return {"mesure_indicateurs": out}


@dataclass(frozen=True)
class Indicator:
    """One indicator of the 2014 catalogue, as the workbooks show it (`cible`: `cible_texte` as written)."""

    code: str
    convention: str
    objectif_operationnel: str
    bop: str
    libelle: str
    cible: str
    unit: str
    mode: str
    statistical_unit: str = ""  # `unite_statistique`: what the indicator counts (personnes, qpv, zones...)


def indicator_unit(libelle: str, cible_unite: str = "") -> str:
    """The warehouse's unit of an indicator: `cible_unite` when set, else `%` for a share's label, else `nombre`."""
    return cible_unite.strip() or ("%" if SHARE_LABEL.match(libelle.strip()) else "nombre")


def catalogue_indicators(mode: str | None = None, path: Path = CATALOGUE_FILE) -> list[Indicator]:
    """The indicators of `catalogue/indicateurs_2014.csv` in catalogue order, only those of `mode` when given. The
    file is read once per process and version of it (its size and modification time): every workbook checked and
    every template built reads the catalogue three times (0.15 s a workbook when each read the file again)."""
    path = Path(path).resolve()
    stat = path.stat()
    return [i for i in _catalogue(str(path), stat.st_size, stat.st_mtime_ns) if mode in (None, i.mode)]


@functools.lru_cache(maxsize=4)
def _catalogue(path: str, _size: int, _mtime_ns: int) -> tuple[Indicator, ...]:
    """Every indicator of the catalogue file `path` (the version of the size and time given: a changed file is a
    new key)."""
    rows = read_indicateurs(Path(path)).fillna("").astype(str).to_dict("records")
    rows = [{key: value.strip() for key, value in row.items()} for row in rows]
    return tuple(
        Indicator(
            code=row["code"],
            convention=row["convention"],
            objectif_operationnel=row["objectif_operationnel"],
            bop=row["bop"],
            libelle=row["libelle"],
            cible=row["cible_texte"],
            unit=indicator_unit(row["libelle"], row["cible_unite"]),
            mode=row["mode"],
            statistical_unit=row["unite_statistique"].lower(),
        )
        for row in rows
    )
