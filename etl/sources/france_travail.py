"""France Travail (formerly Pôle emploi): the monthly job-seeker files (DEFM) and the annual contact-point files.

This module owns what the platform knows about France Travail's files and nothing about where they come from:

- `DEFM_QPV_<YYYYMM>.csv`: job seekers at month end, `;`-separated, one line per month and territory (QPV and, for
  comparison, the communes, EPCI and départements that contain QPV; and the producer's own "Ensemble des quartiers
  prioritaires" lines for France, each région and each département, exact sums of their QPV), categories A and ABC with
  their breakdowns by sex and age band. Each file holds its month and revises the two before it. Older files are
  Windows-1252, recent ones UTF-8; small counts are masked `s`. `read_defm` reads it as text, `normalise_defm` melts it
  into the long frame of `staging.indicator_value` (one row per figure) and `vintage` names the delivery (its latest
  month); INSEE's job seekers by QPV (`DEFM<YYYY>_QP24...`, `CODGEO` and INSEE's variables `A`, `A_H`, `ABC_25`...,
  empty cells masked) are a second layout of the same source, declared in the registry and turned into these columns
  by `defm_from_insee`;
- `POINTS_CONTACT_QPV_<YYYY>.csv`: the physical contact points per QPV for a year (France Travail sites and
  partner relays), read by `read_contacts`, normalised by `normalise_contacts`, partitioned by `contacts_vintage`.

Nothing is repaired beyond zero-padding all-digit commune and département codes: a cell that is neither a count
nor `s` keeps status `invalid` (value NaN) and an odd code stays as read, so that the rows gate rejects them with
their file line. A masked cell is status `masked` with no value, never 0. Everything is vectorised: a file can hold
hundreds of thousands of lines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etl.referentiels.codes import pad_departement, pad_digits
from etl.sources import layouts
from etl.sources.values import counts as _parse_counts
from etl.sources.values import latest_period, text, values_frame

MASK = "s"
FALLBACK_ENCODING = "cp1252"  # files before the 2024 geography are Windows-1252

# --- job seekers at month end (DEFM) -----------------------------------------------------------------------------

DEFM_ID_COLUMNS = ("mois", "niveau", "code_territoire", "libelle_territoire")
# Each count column: the indicator and the breakdown of the figure it holds.
DEFM_COUNTS = {
    "defm_a": ("FT_DEFM_A", "total"),
    "defm_abc": ("FT_DEFM_ABC", "total"),
    "defm_a_femmes": ("FT_DEFM_A", "sexe=F"),
    "defm_a_hommes": ("FT_DEFM_A", "sexe=H"),
    "defm_a_moins_26": ("FT_DEFM_A", "age=<26"),
    "defm_a_26_49": ("FT_DEFM_A", "age=26-49"),
    "defm_a_50_plus": ("FT_DEFM_A", "age=50+"),
    "defm_abc_femmes": ("FT_DEFM_ABC", "sexe=F"),
    "defm_abc_hommes": ("FT_DEFM_ABC", "sexe=H"),
    "defm_abc_moins_26": ("FT_DEFM_ABC", "age=<26"),
    "defm_abc_26_49": ("FT_DEFM_ABC", "age=26-49"),
    "defm_abc_50_plus": ("FT_DEFM_ABC", "age=50+"),
}
DEFM_COUNT_COLUMNS = tuple(DEFM_COUNTS)
# The share of women in category A (`48,2`): derivable from the counts, checked in gate 1 but not loaded.
DEFM_SHARE_COLUMN = "part_femmes_a"
DEFM_COLUMNS = (*DEFM_ID_COLUMNS, *DEFM_COUNT_COLUMNS, DEFM_SHARE_COLUMN)

DEFM_INDICATORS = ("FT_DEFM_A", "FT_DEFM_ABC")
INSEE_DEFM_LAYOUT = "insee_defm_qp"  # the registry's name of INSEE's layout by QPV (a partition of its own)
BREAKDOWNS = ("total", "sexe=F", "sexe=H", "age=<26", "age=26-49", "age=50+")
# `niveau` as written by the producer -> `territory_level` in the warehouse.
LEVELS = {"QPV": "qpv", "COMMUNE": "commune", "EPCI": "epci", "DEPARTEMENT": "departement"}
# The producer's "Ensemble des quartiers prioritaires" lines: job seekers living in the QPV of France, of a région or
# of a département, computed by France Travail on exact data. `niveau` -> `territory_level`; their figures are loaded
# under their own indicators (ENSEMBLES: QPV indicator -> its "ensemble des QPV" indicator).
ENSEMBLE_LEVELS = {
    "ENSEMBLE_QPV_FRANCE": "france",
    "ENSEMBLE_QPV_REGION": "region",
    "ENSEMBLE_QPV_DEPARTEMENT": "departement",
}
ENSEMBLES = {"FT_DEFM_A": "FT_DEFM_QPV_A", "FT_DEFM_ABC": "FT_DEFM_QPV_ABC"}

# --- contact points ----------------------------------------------------------------------------------------------

CONTACT_COUNT_COLUMNS = ("sites_france_travail", "relais_partenaires")
CONTACT_COLUMNS = ("annee", "code_qp", "libelle_qp", *CONTACT_COUNT_COLUMNS)
CONTACT_INDICATOR = "FT_POINTS_CONTACT"

# --- reading -------------------------------------------------------------------------------------------------------


def read_defm(path: Path, *, name: str | None = None) -> pd.DataFrame:
    """Read a DEFM file (UTF-8, or Windows-1252 for the older ones), France Travail's or INSEE's by QPV, into
    `DEFM_COLUMNS` (text, with `line_no`) through the layout its header matches (etl/sources/layouts.py)."""
    return layouts.read("france_travail_defm", path, name=name, fallback_encoding=FALLBACK_ENCODING)


def defm_from_insee(frame: pd.DataFrame) -> pd.DataFrame:
    """INSEE's job seekers by QPV (one row per QPV, `mois` the year of the file name) -> `DEFM_COLUMNS`.

    Stocks at 31 December: `mois` is `<YYYY>-12`; `niveau` is `QPV`. An empty cell is masked (`s`); a figure INSEE
    does not give (category A by age, the share of women) is None, which `normalise_defm` does not load. A whole
    number written as a float (`12.0`) is read as its digits."""
    out = pd.DataFrame({"line_no": frame["line_no"].to_numpy(dtype="int64")})
    year = text(frame["mois"])
    out["mois"] = year.where(year == "", year + "-12").to_numpy()
    out["niveau"] = "QPV"
    out["code_territoire"] = text(frame["code_territoire"]).to_numpy()
    label = frame["libelle_territoire"]
    out["libelle_territoire"] = label.where(label.notna(), "").astype("str").to_numpy()
    for column in (*DEFM_COUNT_COLUMNS, DEFM_SHARE_COLUMN):
        if column not in frame.columns:
            out[column] = None
            continue
        cells = frame[column]
        given = cells.notna().to_numpy()
        cells = cells.fillna("").astype("str").str.strip().str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
        out[column] = np.where(given, np.where(cells == "", MASK, cells), None)
    return out


def read_contacts(path: Path) -> pd.DataFrame:
    """Read a contact-point file (UTF-8, Windows-1252 accepted) as text with `line_no`, through its declared layout
    (etl/sources/layouts.py)."""
    return layouts.read("france_travail_contacts", path, fallback_encoding=FALLBACK_ENCODING)


# --- normalising ---------------------------------------------------------------------------------------------------


def normalise_defm(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The DEFM rows as read -> `{"values": frame}`, one row per figure (12 per file line), in file order.

    `territory_level` is `niveau` lower-cased, or for an "ensemble des QPV" line its territory's level (`france`,
    `region`, `departement`), its figures under the indicators of `ENSEMBLES` (FT_DEFM_QPV_A, FT_DEFM_QPV_ABC);
    commune codes are zero-padded to 5 characters, département and région codes to 2 (all-digit codes only);
    `period_code` is `mois` stripped; `breakdown` is `total`, `sexe=F`, `sexe=H`, `age=<26`, `age=26-49` or
    `age=50+`. `part_femmes_a` is not loaded: it is derivable from the counts.
    """
    niveau = text(raw["niveau"])
    ensemble = niveau.isin(list(ENSEMBLE_LEVELS)).to_numpy()
    level = niveau.map(ENSEMBLE_LEVELS).fillna(niveau.str.lower())
    code = text(raw["code_territoire"])
    code = code.where(level != "commune", pad_digits(code, 5))
    code = code.where(level != "departement", pad_departement(code))
    code = code.where(level != "region", pad_digits(code, 2))
    # one figure per cell, row after row and in each row the columns in header order (file order); a figure the
    # file's layout does not give (no cell at all: None) is not a figure
    width = len(DEFM_COUNT_COLUMNS)
    cells = np.column_stack([raw[column].to_numpy(dtype=object) for column in DEFM_COUNT_COLUMNS]).ravel()
    given = pd.notna(cells)
    row = np.repeat(np.arange(len(raw)), width)[given]
    column = np.tile(np.arange(width), len(raw))[given]
    value, status = _parse_counts(pd.Series(cells[given], dtype=object))
    indicator = np.array([DEFM_COUNTS[name][0] for name in DEFM_COUNT_COLUMNS], dtype=object)
    ensemble_indicator = np.array([ENSEMBLES.get(code, code) for code in indicator], dtype=object)
    values = values_frame(
        {
            "line_no": raw["line_no"].to_numpy(dtype="int64")[row],
            "indicator_code": np.where(ensemble[row], ensemble_indicator[column], indicator[column]),
            "territory_level": level.to_numpy()[row],
            "territory_code": code.to_numpy()[row],
            "period_code": text(raw["mois"]).to_numpy()[row],
            "breakdown": np.array([DEFM_COUNTS[name][1] for name in DEFM_COUNT_COLUMNS], dtype=object)[column],
            "value": value,
            "status": status,
        }
    )
    if raw.attrs.get("layout") == INSEE_DEFM_LAYOUT:
        values["delivery"] = "insee"  # not loaded: tells `vintage` the delivery is INSEE's
    return {"values": values}


def normalise_contacts(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The contact-point rows as read -> `{"values": frame}`: one `FT_POINTS_CONTACT` figure per QPV and year.

    The value is sites + partner relays. If either cell is invalid the figure is `invalid` (value NaN), else if
    either is masked it is `masked` (value NaN), else `ok`. `period_code` is the year as read, stripped.
    """
    sites, sites_status = _parse_counts(raw["sites_france_travail"])
    relais, relais_status = _parse_counts(raw["relais_partenaires"])
    status = np.where(
        (sites_status == "invalid") | (relais_status == "invalid"),
        "invalid",
        np.where((sites_status == "masked") | (relais_status == "masked"), "masked", "ok"),
    )
    count = len(raw)
    values = values_frame(
        {
            "line_no": raw["line_no"].to_numpy(dtype="int64"),
            "indicator_code": np.full(count, CONTACT_INDICATOR, dtype=object),
            "territory_level": np.full(count, "qpv", dtype=object),
            "territory_code": text(raw["code_qp"]).to_numpy(),
            "period_code": text(raw["annee"]).to_numpy(),
            "breakdown": np.full(count, "total", dtype=object),
            "value": sites + relais,  # NaN as soon as one of the two is not a count
            "status": status,
        }
    )
    return {"values": values}


# --- partitions ----------------------------------------------------------------------------------------------------


def vintage(staged: dict[str, pd.DataFrame]) -> str:
    """The partition of a DEFM file: its delivery month, the latest `period_code` it holds (`2024-03`); for INSEE's
    file by QPV, that month followed by `/insee` (`2024-12/insee`), so that it neither replaces nor is replaced by
    France Travail's delivery of the month, and sorts after it among the vintages of its figures.

    Each delivery is its own partition, so the revisions of the earlier months are kept as vintages."""
    month = latest_period(staged)
    values = staged["values"]
    insee = "delivery" in values.columns and (values["delivery"] == "insee").any()
    return f"{month}/insee" if insee else month


def contacts_vintage(staged: dict[str, pd.DataFrame]) -> str:
    """The partition of a contact-point file: its year (`2024`)."""
    return latest_period(staged)
