"""CAF (Caisses d'allocations familiales): the annual allocataire file and the quarterly crèche-place file per QPV.

This module owns what the platform knows about the CAF's files and nothing about where they come from:

- `CAF_QPV_<YYYY>.csv`: the situation at 31 December YYYY, one line per QPV in force (UTF-8 with a BOM, CRLF line
  ends, `;`): households receiving a CAF benefit (allocataires), the people they cover, those receiving the RSA,
  the AAH and a housing benefit, and the households by family composition. `dtreffile` is `31/12/YYYY`. The CAF
  rounds every count to the nearest 5 (its statistical protection: nothing is masked, 0 is a possible value) and
  writes numbers from 1,000 on with a space between digit groups (`1 245`). Each count being rounded on its own,
  the four composition counts do not add up to `nb_allocataires` exactly (at most 10 apart, see the
  `caf_foyers.rows` suite), but rounding is monotone, so a part never exceeds its whole. INSEE's CAF beneficiaries
  by QPV (`beneficiaires_CAF_31-12-<YYYY>_QP24.xlsx`, empty cells masked) are a second layout of the same source,
  declared in the registry and turned into these columns by `allocataires_from_insee`. `read_allocataires`
  reads it as text, `normalise_allocataires` returns the long `values` frame and the typed wide `foyers` frame
  (one row per file line) that the consistency checks run on; `allocataires_partition` is the year. A corrected
  re-delivery of a year (`CAF_QPV_<YYYY>_rectificatif.csv`) has the same shape and the same partition;
- `CAF_EAJE_QPV_<YYYY>T<q>.csv`: places in établissements d'accueil du jeune enfant (EAJE, crèches) per QPV for
  a quarter, from another CAF service (Windows-1252, CRLF, `;`): places created and renovated during the quarter
  (catalogue indicator IND16) and the stock of places. `trimestre` is written `2024-T1`. Places are not people:
  no rounding, no masking. Read by `read_creches`, normalised by `normalise_creches`, partitioned by
  `creches_partition` (the quarter).

Nothing is repaired: a cell that is not a count keeps status `invalid` (value NaN) and a period of another shape is
kept as read, so that the gates reject them with their file line. Everything is vectorised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etl.sources import layouts
from etl.sources.values import counts as _parse_counts
from etl.sources.values import latest_period, text, values_frame

FALLBACK_ENCODING = "cp1252"  # the crèche files come from a Windows-1252 chain
MASK = "s"  # an empty cell of INSEE's layout by QPV (statistical secret); the CAF's own files mask nothing
INSEE_LAYOUT = "insee_caf_qp"  # the registry's name of INSEE's layout by QPV

# --- allocataires (annual) -----------------------------------------------------------------------------------------

ALLOCATAIRES_ID_COLUMNS = ("dtreffile", "code_qp", "libelle_qp")
# Each count column: the indicator and breakdown of the figure it holds, and its name in the `foyers` frame.
ALLOCATAIRES_COUNTS = {
    "nb_allocataires": ("CAF_ALLOCATAIRES", "total", "allocataires"),
    "nb_personnes_couvertes": ("CAF_PERSONNES_COUVERTES", "total", "personnes_couvertes"),
    "nb_alloc_rsa": ("CAF_RSA", "total", "rsa"),
    "nb_alloc_aah": ("CAF_AAH", "total", "aah"),
    "nb_alloc_logement": ("CAF_AIDE_LOGEMENT", "total", "logement"),
    "nb_alloc_isoles": ("CAF_ALLOCATAIRES", "composition=isole", "isoles"),
    "nb_alloc_couples_sans_enfant": ("CAF_ALLOCATAIRES", "composition=couple_sans_enfant", "couples_sans_enfant"),
    "nb_alloc_couples_avec_enfants": ("CAF_ALLOCATAIRES", "composition=couple_avec_enfants", "couples_avec_enfants"),
    "nb_alloc_monoparents": ("CAF_ALLOCATAIRES", "composition=monoparentale", "monoparents"),
}
ALLOCATAIRES_COUNT_COLUMNS = tuple(ALLOCATAIRES_COUNTS)
ALLOCATAIRES_COLUMNS = (*ALLOCATAIRES_ID_COLUMNS, *ALLOCATAIRES_COUNT_COLUMNS)
COMPOSITION_COLUMNS = (
    "nb_alloc_isoles",
    "nb_alloc_couples_sans_enfant",
    "nb_alloc_couples_avec_enfants",
    "nb_alloc_monoparents",
)
ALLOCATAIRES_INDICATORS = ("CAF_ALLOCATAIRES", "CAF_PERSONNES_COUVERTES", "CAF_RSA", "CAF_AAH", "CAF_AIDE_LOGEMENT")
ALLOCATAIRES_BREAKDOWNS = (
    "total",
    "composition=isole",
    "composition=couple_sans_enfant",
    "composition=couple_avec_enfants",
    "composition=monoparentale",
)
ROUNDING = 5  # the CAF rounds every count to the nearest 5
# The `foyers` frame (staging.caf_foyers): one typed row per file line, for the consistency checks.
FOYERS_COUNT_COLUMNS = tuple(name for _, _, name in ALLOCATAIRES_COUNTS.values())
FOYERS_COLUMNS = ("line_no", "annee", "code_qp", *FOYERS_COUNT_COLUMNS, "ecart_composition")

# --- crèches (quarterly) -------------------------------------------------------------------------------------------

CRECHES_ID_COLUMNS = ("trimestre", "code_qp", "libelle_qp")
CRECHES_COUNTS = {
    "places_creees": ("IND16", "type=creation"),
    "places_renovees": ("IND16", "type=renovation"),
    "places_eaje": ("CAF_PLACES_EAJE", "total"),
}
CRECHES_COUNT_COLUMNS = tuple(CRECHES_COUNTS)
CRECHES_COLUMNS = (*CRECHES_ID_COLUMNS, *CRECHES_COUNT_COLUMNS)
CRECHES_INDICATORS = ("IND16", "CAF_PLACES_EAJE")
CRECHES_BREAKDOWNS = ("type=creation", "type=renovation", "total")

# --- reading -------------------------------------------------------------------------------------------------------


def read_allocataires(path: Path, *, name: str | None = None) -> pd.DataFrame:
    """Read an allocataire file, the platform's `CAF_QPV_<YYYY>.csv` (UTF-8, BOM and CRLF accepted) or INSEE's
    workbook by QPV, into `ALLOCATAIRES_COLUMNS` (text, with `line_no`) through the layout its header matches
    (etl/sources/layouts.py; `name`: the file name as sent)."""
    return layouts.read("caf_allocataires", path, name=name)


def allocataires_from_insee(frame: pd.DataFrame) -> pd.DataFrame:
    """INSEE's CAF beneficiaries by QPV (one row per QPV, `annee` the year of the file name) -> `ALLOCATAIRES_COLUMNS`.

    `dtreffile` is `31/12/<YYYY>` (empty when the name holds no year, which the file gate refuses); an empty count cell
    is masked (`MASK`); a figure the file does not give stays None (no cell), which `normalise_allocataires` does
    not load; INSEE's other variables are left out."""
    out = pd.DataFrame({"line_no": frame["line_no"].to_numpy(dtype="int64")})
    year = text(frame["annee"])
    out["dtreffile"] = year.where(year == "", "31/12/" + year).to_numpy()
    out["code_qp"] = text(frame["code_qp"]).to_numpy()
    out["libelle_qp"] = frame["libelle_qp"].where(frame["libelle_qp"].notna(), "").astype("str").to_numpy()
    for column in ALLOCATAIRES_COUNT_COLUMNS:
        cells = frame[column]
        given = cells.notna().to_numpy()
        cells = text(cells.fillna(""))
        out[column] = np.where(given, np.where(cells == "", MASK, cells), None)
    return out


def read_creches(path: Path) -> pd.DataFrame:
    """Read a crèche file (Windows-1252, UTF-8 accepted) as text with `line_no`, through its declared layout
    (etl/sources/layouts.py)."""
    return layouts.read("caf_creches", path, fallback_encoding=FALLBACK_ENCODING)


# --- periods -------------------------------------------------------------------------------------------------------


def _year(cells: pd.Series) -> pd.Series:
    """`31/12/2024` -> `2024`; any other cell is kept as read (stripped), for the `years` set to reject."""
    cells = text(cells)
    year = cells.str.extract(r"^31/12/([0-9]{4})$", expand=False)
    return year.where(year.notna(), cells).astype("str")


def _quarter(cells: pd.Series) -> pd.Series:
    """`2024-T1` -> `2024-Q1`; any other cell is kept as read (stripped), for the `quarters` set to reject."""
    cells = text(cells)
    shaped = cells.str.fullmatch(r"[0-9]{4}-T[1-4]").fillna(False).astype(bool)
    return cells.where(~shaped, cells.str.replace("-T", "-Q", regex=False))


# --- normalising ---------------------------------------------------------------------------------------------------


def _long(
    raw: pd.DataFrame,
    period: pd.Series,
    mapping: dict[str, tuple[str, ...]],
    *,
    thousands: bool,
    mask: str | None = None,
) -> pd.DataFrame:
    """One `qpv` figure per count cell, in file order (the cells of a line in header order)."""
    columns = list(mapping)
    wide = pd.DataFrame(
        {
            "line_no": raw["line_no"].to_numpy(dtype="int64"),
            "territory_code": text(raw["code_qp"]).to_numpy(),
            "period_code": period.to_numpy(),
        }
    )
    for column in columns:
        wide[column] = raw[column].to_numpy()
    long = wide.melt(
        id_vars=["line_no", "territory_code", "period_code"],
        value_vars=columns,
        var_name="_column",
        value_name="_cell",
        ignore_index=False,
    )
    # melt stacks column after column; a stable sort on the source row gives file order, columns in header order.
    # A figure the file's layout does not give (no cell at all: None) is not a figure.
    long = long.sort_index(kind="stable")
    long = long.loc[long["_cell"].notna()].reset_index(drop=True)
    value, status = _parse_counts(long["_cell"], mask=mask, thousands=thousands)
    return values_frame(
        {
            "line_no": long["line_no"].to_numpy(),
            "indicator_code": long["_column"].map({c: spec[0] for c, spec in mapping.items()}).to_numpy(),
            "territory_level": np.full(len(long), "qpv", dtype=object),
            "territory_code": long["territory_code"].to_numpy(),
            "period_code": long["period_code"].to_numpy(),
            "breakdown": long["_column"].map({c: spec[1] for c, spec in mapping.items()}).to_numpy(),
            "value": value,
            "status": status,
        }
    )


def normalise_allocataires(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The allocataire rows as read -> `{"values": long, "foyers": wide}`.

    `values`: one row per figure (9 per file line in the platform's layout, in header order; in INSEE's, the figures
    it gives, an empty cell `masked`): CAF_ALLOCATAIRES (`total` and the four
    `composition=` breakdowns), CAF_PERSONNES_COUVERTES, CAF_RSA, CAF_AAH and CAF_AIDE_LOGEMENT (`total`), level
    `qpv`, `period_code` the year of `dtreffile` when it is exactly `31/12/YYYY`, else the cell as read.
    `foyers`: one row per file line with the same year (`annee`), `code_qp` and the nine counts as float64 (NaN when
    the cell is not a count, is masked or is not given), plus `ecart_composition`, the sum of the four composition
    counts minus `allocataires` (NaN when any of them is NaN).
    """
    period = _year(raw["dtreffile"])
    mask = MASK if raw.attrs.get("layout") == INSEE_LAYOUT else None
    values = _long(raw, period, ALLOCATAIRES_COUNTS, thousands=True, mask=mask)
    foyers = pd.DataFrame(
        {
            "line_no": raw["line_no"].to_numpy(dtype="int64"),
            "annee": period.to_numpy(),
            "code_qp": text(raw["code_qp"]).to_numpy(),
        }
    )
    for column, (_, _, name) in ALLOCATAIRES_COUNTS.items():
        foyers[name] = _parse_counts(raw[column].fillna(""), mask=mask, thousands=True)[0]
    composition = [ALLOCATAIRES_COUNTS[column][2] for column in COMPOSITION_COLUMNS]
    # sum(skipna=False): NaN as soon as one part is not a count
    foyers["ecart_composition"] = foyers[composition].sum(axis=1, skipna=False) - foyers["allocataires"]
    foyers = foyers.astype({"line_no": "int64", "annee": "str", "code_qp": "str"})
    foyers = foyers.astype({name: "float64" for name in (*FOYERS_COUNT_COLUMNS, "ecart_composition")})
    return {"values": values, "foyers": foyers[list(FOYERS_COLUMNS)]}


def normalise_creches(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The crèche rows as read -> `{"values": frame}`, one row per figure (3 per file line, in header order).

    IND16 `type=creation` (places created during the quarter) and `type=renovation` (places renovated), and
    CAF_PLACES_EAJE `total` (the stock of places); level `qpv`; `period_code` is `trimestre` converted from
    `2024-T1` to `2024-Q1`, or the cell as read when it has another shape. Counts are whole numbers, no thousands
    separator, no mask: anything else (`-5`, `n.d.`) is `invalid`.
    """
    return {"values": _long(raw, _quarter(raw["trimestre"]), CRECHES_COUNTS, thousands=False)}


# --- partitions ----------------------------------------------------------------------------------------------------


def allocataires_partition(staged: dict[str, pd.DataFrame]) -> str:
    """The partition of an allocataire file (or its rectificatif): its year (`2024`)."""
    return latest_period(staged)


def creches_partition(staged: dict[str, pd.DataFrame]) -> str:
    """The partition of a crèche file: its quarter (`2024-Q1`)."""
    return latest_period(staged)
