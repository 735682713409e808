"""The other national producers: one long file per producer and year with their catalogue indicators.

Eight central producers send the observatory the national indicators of the 2014 catalogue
(`catalogue/indicateurs_2014.csv`, `mode = national`) that the platform does not compute itself: DGEFP / ASP
(IND01-IND04, IND06), the CIPDR (IND17), France Active for the FGIF (IND19), the Agence du service civique (IND23),
the DGITM (IND24), CMA France (IND29), the DGE (IND31) and the ministère de la Culture (IND32). IND05 comes from the
France Travail contact points and IND20-IND22 from the ANS (`COMPUTED_ELSEWHERE`): they are not accepted here.

`INDICATEURS_NATIONAUX_<PRODUCTEUR>_<YYYY>.csv` (`DGEFP`, `ASC`, `FRANCE_ACTIVE`, `CIPDR`, `DGITM`, `CMA`, `DGE`,
`CULTURE`): UTF-8, `;`, `\\n`, one header line `indicateur;niveau;code_territoire;periode;valeur;unite;producteur;
commentaire`, one line per indicator, territory and year:

- `niveau` is `FRANCE`, `REGION` or `DEPARTEMENT`, in the producer's spelling (`France`, `Région`, `Département`):
  case and accents are folded; any other word (`QPV`, `COMMUNE`) is kept lower-cased as read, so that the rows gate
  rejects it as a territory level this source does not deliver;
- `code_territoire` is `FR` for France, the INSEE région code (`11`, `84`, `01`..`06`) or the département code
  (`01`, `2A`, `971`); all-digit codes that lost their leading zero (`1`) are zero-padded, nothing else is touched;
- `valeur` is a French decimal (`30,5`, `1 204`), `s` when the producer masks it (status `masked`), `nd` or empty
  when it is not available (status `missing`); both have no value, never 0. Anything else is `invalid`;
- `unite` is `%` or `nombre` (also `pourcentage`, `Nombre`: case-insensitive, `pourcentage` -> `%`). The normalised
  unit is kept as the extra column `unit`, and `indicator_unit` (`IND01|%`) lets the rows gate check it against the
  catalogue's unit of the indicator;
- `producteur` and `commentaire` are free text (a comment may hold a quoted `;`); they are not loaded.

`read_indicateurs` reads the file as text, `normalise_indicateurs` gives `{"values": long}` (breakdown `total`),
`indicateurs_partition` names the partition. `catalogue_units` gives the unit of each indicator this source
carries, by the warehouse's rule (sql/core/catalogue_indicateurs.sql), for the generator and the tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etl.referentiels.catalogue import CATALOGUE_FILE, catalogue_indicators
from etl.referentiels.codes import pad_departement, pad_digits
from etl.sources import layouts
from etl.sources.values import decimals, latest_period, text, values_frame

COLUMNS = ("indicateur", "niveau", "code_territoire", "periode", "valeur", "unite", "producteur", "commentaire")
MASK = "s"
MISSING = ("nd", "")  # non disponible, or an empty cell
# National indicators of the catalogue that the platform computes from another source, not accepted here.
COMPUTED_ELSEWHERE = ("IND05", "IND20", "IND21", "IND22")
# `niveau` with case and accents folded -> `territory_level`.
LEVELS = {"FRANCE": "france", "REGION": "region", "DEPARTEMENT": "departement"}
# `unite` lower-cased -> unit.
UNITS = {"%": "%", "pourcentage": "%", "nombre": "nombre"}
FRANCE_CODE = "FR"


def catalogue_units(path: Path = CATALOGUE_FILE) -> dict[str, str]:
    """{code: unit} of the national indicators this source carries (national, not in `COMPUTED_ELSEWHERE`), by the
    warehouse's unit rule (`etl.referentiels.catalogue.indicator_unit`), in catalogue order."""
    return {i.code: i.unit for i in catalogue_indicators("national", path) if i.code not in COMPUTED_ELSEWHERE}


# --- reading -------------------------------------------------------------------------------------------------------


def read_indicateurs(path: Path) -> pd.DataFrame:
    """Read an `INDICATEURS_NATIONAUX_*` file (UTF-8, BOM accepted) as text with `line_no`, through its declared
    layout (etl/sources/layouts.py)."""
    return layouts.read("national_indicateurs", path)


# --- normalising ---------------------------------------------------------------------------------------------------


def _levels(cells: pd.Series) -> pd.Series:
    """`FRANCE`/`France`, `REGION`/`Région`, `DEPARTEMENT`/`Département` -> france/region/departement; any other
    word lower-cased as read (`QPV` -> `qpv`), for the rows gate to reject."""
    raw = text(cells)
    folded = raw.str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True).str.upper()
    return folded.map(LEVELS).fillna(raw.str.lower()).astype("str")


def normalise_indicateurs(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows as read -> `{"values": frame}`, one figure per file line, in file order, breakdown `total`.

    Codes: région codes zero-padded to 2 characters, département codes to 2 (all-digit only), France as read.
    Status: `ok` for a French decimal, `masked` for `s`, `missing` for `nd` or an empty cell, `invalid` otherwise
    (value NaN unless `ok`). Extra columns: `unit` (`%` or `nombre`, or the word as read, lower-cased) and
    `indicator_unit` (`IND01|%`) for the rows gate."""
    level = _levels(raw["niveau"])
    code = text(raw["code_territoire"])
    code = code.where(level != "region", pad_digits(code, 2))
    code = code.where(level != "departement", pad_departement(code))
    cells = text(raw["valeur"])
    value, status = decimals(cells, mask=MASK)
    missing = cells.isin(MISSING).to_numpy()
    status = np.where(missing, "missing", status)
    unit_read = text(raw["unite"]).str.lower()
    unit = unit_read.map(UNITS).fillna(unit_read).astype("str")
    indicator = text(raw["indicateur"])
    values = values_frame(
        {
            "line_no": raw["line_no"].to_numpy(dtype="int64"),
            "indicator_code": indicator.to_numpy(),
            "territory_level": level.to_numpy(),
            "territory_code": code.to_numpy(),
            "period_code": text(raw["periode"]).to_numpy(),
            "breakdown": np.full(len(raw), "total", dtype=object),
            "value": value,
            "status": status,
            "unit": unit.to_numpy(),
            "indicator_unit": (indicator + "|" + unit).to_numpy(),
        }
    )
    return {"values": values}


# --- partition -----------------------------------------------------------------------------------------------------


def indicateurs_partition(staged: dict[str, pd.DataFrame]) -> str:
    """The partition of a file: its indicator codes, sorted and joined by `+`, then `/` and its year.

    `IND01+IND02+IND03+IND04+IND06/2024` for DGEFP's 2024 file, `IND23/2024` for the Agence du service civique's.
    Each producer carries its own indicators, so two producers' files of the same year are two partitions and never
    replace each other, while a producer's corrected file for a year replaces its earlier delivery. The year is the
    latest `period_code` of the file (`unknown` if none)."""
    codes = staged["values"]["indicator_code"]
    codes = sorted({code for code in codes if code})
    return f"{'+'.join(codes) or 'unknown'}/{latest_period(staged)}"
