"""INSEE: the population of each QPV (the denominator of the rates per inhabitant).

This module owns what the platform knows about INSEE's QPV population files and nothing about where they come from.
INSEE publishes them in two shapes, both accepted:

- a workbook, `pop_qpv_<YYYY>.xlsx`: the table on its first sheet, below a title block of several rows (title,
  source, notes, blank rows: 7 rows in `pop_qpv_2018.xlsx`). The header row is not at a fixed place: it is the
  first of the first rows that names the QPV code (`codeQPV`, `codeqpv`, `code_qp`...; `etl.sources.layouts.
  read_sheet`). The workbook is opened through `etl/xlsx.py` (size, zip bomb and sheet-size limits before openpyxl
  builds any cell);
- its CSV derivative, `POP_QPV_<YYYY>.csv` (`;`-separated, UTF-8, header on line 1, decimal commas), read by
  `etl.readers.read_delimited`, e.g. `codeqpv;libqpv;codereg;codeuu2020;popmuniqpv;partPop15_24;listedepcom;
  listelibdepcom;listeepci2022;listedep`, the list columns holding values joined by commas.

Column names are matched whatever their case (`codeQPV` = `codeqpv`), year suffixes of zonings are dropped
(`codeuu2020` -> `codeuu`, `listeepci2022` -> `listeepci`) and a few spellings are folded: the spellings are those of
the source's layout in etl/sources/registry.yaml; the QPV code and the population (`popmuniqpv`, the population
municipale of the census) are required. `read_population`
returns every `COLUMNS` column as text (an optional column the file lacks is empty), then any other column as read,
with `line_no` the physical row of the sheet or line of the file (header row included in the count).

The reference year of the population is not in the table: it is read from the file name, the four digits after
`pop_qpv_` (any case: `pop_qpv_2020.xlsx`, `POP_QPV_2020.csv`; the layout's `from_name`), which the registry's
patterns require. The reader puts it in the `annee` column (empty when the name holds no year, which the file gate
refuses).
The population of the 2024 QPV is that of the 2020 census: its period is 2020, before the QPV existed, which is
why this source has no cross-check of the QPV in force.

`normalise_population` gives the long frame of `staging.indicator_value`: indicator `INSEE_POP_QPV`, level `qpv`,
period the reference year, breakdown `total`; and `age=15-64` when the file gives the population aged 15 to 64,
as a count (`pop15_64`) or as a share of the population in % (`partpop15_64`, then rounded to the unit). The share
of the 15-24 year-olds (`partPop15_24`) alone says nothing of the 15-64 year-olds: it stays in raw. A population
of 0 or an empty cell is status `missing` (no value): INSEE publishes no QPV without inhabitants. Anything else
that is not a whole number is `invalid`, for the rows gate. The extra column `geography` is the file's QPV
geography, read from its codes (most are `QN...`: 2024, `QP...`: 2015), so that the rows gate checks every code
against the QPV of that geography; `population_partition` is `qpv<geography>/<year>` (`qpv2024/2020`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etl.sources import layouts
from etl.sources.values import counts, decimals, text, values_frame

INDICATOR = "INSEE_POP_QPV"
# The columns of the raw frame, in this order after line_no and annee (their spellings: the registry's layout).
COLUMNS = (
    "codeqpv", "libqpv", "codereg", "codeuu", "popmuniqpv", "partpop15_24", "pop15_64", "partpop15_64",
    "listedepcom", "listelibdepcom", "listeepci", "listedep",
)  # fmt: skip
GEOGRAPHIES = {"QP": "2015", "QN": "2024"}
AGE_15_64 = "age=15-64"


# --- reading -------------------------------------------------------------------------------------------------------


def reference_year(name: str) -> str:
    """The population's reference year in a file name (`pop_qpv_2020.xlsx` -> `2020`), "" when there is none."""
    from etl.sources.registry import source

    return layouts.taken_from_name(source("insee_population").layouts[0], "annee", name)


def read_population(path: Path, *, name: str | None = None) -> pd.DataFrame:
    """Read an INSEE QPV population file (.xlsx below its title block, or the `;` CSV derivative) as text, through
    the layout of the registry (etl/sources/layouts.py: the workbook's header row found, names in any spelling).

    `name` is the file name as the producer sent it (default `path.name`): it gives the reference year (`annee`) and
    names the file in messages; a name ending in `.xlsx` (else `path`'s suffix) selects the workbook reader. The
    frame has line_no, annee, `COLUMNS` (an optional column the file lacks is empty), then any other column as read.
    Structural problems raise `FileShapeError` naming the file, the sheet and line, the column and the rule."""
    frame = layouts.read("insee_population", path, name=name)
    for column in COLUMNS:
        frame[column] = frame[column].fillna("")
    others = [column for column in frame.columns if column not in ("line_no", "annee", *COLUMNS)]
    return frame[["line_no", "annee", *COLUMNS, *others]].reset_index(drop=True)


# --- normalising ---------------------------------------------------------------------------------------------------


def _geography(codes: pd.Series) -> str:
    """The QPV geography most of the codes belong to (`2024` for QN..., `2015` for QP...), `unknown` if none."""
    prefixes = codes.str[:2].map(GEOGRAPHIES).dropna()
    return str(prefixes.mode().sort_values().iloc[0]) if len(prefixes) else "unknown"


def _population_15_64(raw: pd.DataFrame, total: np.ndarray, total_status: np.ndarray):
    """(value, status) of the population aged 15-64, or None when the file gives neither its count nor its share.

    A count stands on its own; a share needs the total: it is `missing` or `invalid` when the total is."""
    counted, share_cells = text(raw["pop15_64"]), text(raw["partpop15_64"])
    if (counted != "").any():
        value, status = counts(counted, mask=None, thousands=True)
        status = np.where((counted == "").to_numpy(), "missing", status)
    elif (share_cells != "").any():
        share, status = decimals(share_cells, mask=None)
        status = np.where((status == "ok") & ((share < 0) | (share > 100)), "invalid", status)
        status = np.where((share_cells == "").to_numpy(), "missing", status)
        status = np.where(total_status == "ok", status, total_status)
        value = np.floor(total * share / 100 + 0.5)
    else:
        return None
    return np.where(status == "ok", value, np.nan), status


def normalise_population(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The population rows as read -> `{"values": frame}`, one `INSEE_POP_QPV` figure per QPV (and its 15-64
    figure when the file gives it), in file order; see the module's docstring."""
    cells = text(raw["popmuniqpv"])
    value, status = counts(cells, mask=None, thousands=True)
    missing = (cells == "").to_numpy() | ((status == "ok") & (value == 0))
    status = np.where(missing, "missing", status)
    value = np.where(status == "ok", value, np.nan)
    codes = text(raw["codeqpv"])
    parts = [(value, status, "total")]
    if (age := _population_15_64(raw, value, status)) is not None:
        parts.append((*age, AGE_15_64))
    count = len(raw)
    frames = [
        values_frame(
            {
                "line_no": raw["line_no"].to_numpy(dtype="int64"),
                "indicator_code": np.full(count, INDICATOR, dtype=object),
                "territory_level": np.full(count, "qpv", dtype=object),
                "territory_code": codes.to_numpy(),
                "period_code": text(raw["annee"]).to_numpy(),
                "breakdown": np.full(count, breakdown, dtype=object),
                "value": figures,
                "status": statuses,
                "geography": np.full(count, _geography(codes), dtype=object),
            }
        )
        for figures, statuses, breakdown in parts
    ]
    values = pd.concat(frames, ignore_index=True).sort_values(["line_no", "breakdown"], kind="stable")
    return {"values": values.reset_index(drop=True)}


def population_partition(staged: dict[str, pd.DataFrame]) -> str:
    """What a delivery replaces: the population of one year on one QPV geography, `qpv2024/2020`."""
    values = staged["values"]
    periods = values["period_code"][values["period_code"].str.len() > 0]
    year = str(periods.max()) if len(periods) else "unknown"
    geography = str(values["geography"].iloc[0]) if len(values) else "unknown"
    return f"qpv{geography}/{year}"
