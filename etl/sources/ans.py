"""Agence nationale du sport (ANS, formerly CNDS): the annual subsidy lines and the sport licences per QPV.

This module owns what the platform knows about the ANS files and nothing about where they come from:

- `ANS_SUBVENTIONS_<YYYY>.csv`: one line per subsidy granted in the year (3,000 to 6,000 lines), Windows-1252,
  `;`-separated, `\\n`, standard CSV quoting (a beneficiary's name may hold `;` and doubled `"` inside quotes).
  Columns `annee;numero_dossier;beneficiaire;siret;code_commune;code_qpv;montant;type_subvention`:
  `numero_dossier` (`2024-000123`) is unique; `code_commune` is the INSEE code of the beneficiary's commune and
  loses its leading zero when the export went through a spreadsheet (`1053` for `01053`); `code_qpv` is the QPV
  where the action takes place, empty for most lines; `montant` is in euros in the French format (`12 500,00`,
  `850,5`, thousands separated by a space or a no-break space); `type_subvention` is `Équipement` or
  `Fonctionnement`, with the producer's inconsistencies (`EQUIPEMENT`, `fonctionnement `, `Equipement`).
  `read_subventions` reads it as text, `normalise_subventions` types it into `{"lignes": frame}` for
  `staging.ans_subvention` (not an indicator-value source: the warehouse aggregates the lines itself), and
  `subventions_partition` names the year;
- `ANS_LICENCES_QPV_<YYYY>.csv`: sport licences per QPV in force and sex, UTF-8, `;`, columns
  `annee;code_qpv;libelle_qpv;sexe;licences`; `sexe` is `F`/`H` or, in some deliveries, `Femmes`/`Hommes`;
  `licences` is a count, possibly with a thousands separator (`1 204`), never masked. `normalise_licences` gives
  the long frame of `staging.indicator_value`: indicator `IND20` (catalogue: "Nb de licenciés sportifs résidant
  dans les ZUS/QPV"), level `qpv`, breakdowns `sexe=F` and `sexe=H` (the total and IND21, the women, are computed
  in the warehouse).

Nothing is repaired beyond zero-padding all-digit commune codes and the spelling of the subsidy type and of the
sex: an amount or a count that breaks the producer's format is status `invalid` (value NaN), an unknown type or
sex stays as read (lower-cased for the type), so that the rows gate rejects them with their file line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etl.referentiels.codes import pad_digits
from etl.sources import layouts
from etl.sources.values import counts, decimals, latest_period, text, values_frame

_GROUP_SPACES = r"[ \u00a0\u202f]"  # thousands separators of a count
FALLBACK_ENCODING = "cp1252"  # the subsidy export is Windows-1252; UTF-8 files are read as such

# --- subsidies -----------------------------------------------------------------------------------------------------

SUBVENTION_COLUMNS = (
    "annee",
    "numero_dossier",
    "beneficiaire",
    "siret",
    "code_commune",
    "code_qpv",
    "montant",
    "type_subvention",
)
SUBVENTION_TYPES = ("equipement", "fonctionnement")
# The normalised frame loaded into staging.ans_subvention, in this order.
LIGNE_COLUMNS = (
    "line_no",
    "annee",
    "numero_dossier",
    "beneficiaire",
    "siret",
    "code_commune",
    "departement_code",
    "code_qpv",
    "montant",
    "type_subvention",
    "status",
)

# --- licences ------------------------------------------------------------------------------------------------------

LICENCE_COLUMNS = ("annee", "code_qpv", "libelle_qpv", "sexe", "licences")
LICENCE_INDICATOR = "IND20"
# `sexe` as the producer writes it -> the sex of the breakdown.
SEXES = {"F": "F", "H": "H", "Femmes": "F", "Hommes": "H"}
LICENCE_BREAKDOWNS = ("sexe=F", "sexe=H")

# --- reading -------------------------------------------------------------------------------------------------------


def read_subventions(path: Path) -> pd.DataFrame:
    """Read a subsidy file (Windows-1252, UTF-8 accepted) as text with `line_no`, through its declared layout
    (etl/sources/layouts.py)."""
    return layouts.read("ans_subventions", path, fallback_encoding=FALLBACK_ENCODING)


def read_licences(path: Path, *, name: str | None = None) -> pd.DataFrame:
    """Read a licence file, INJEP's lic-data-<YYYY>.csv or the platform's layout, into `LICENCE_COLUMNS` (text, with
    `line_no`) through the layout its header matches (etl/sources/layouts.py, registry `layouts`)."""
    return layouts.read("ans_licences", path, name=name, fallback_encoding=FALLBACK_ENCODING)


def licences_from_injep(frame: pd.DataFrame) -> pd.DataFrame:
    """INJEP's rows (commune x QPV x federation, a column per sex and age band) -> `LICENCE_COLUMNS`, one row per QPV
    and sex: the `f - ...` columns summed for `F`, the `h - ...` ones for `H`, over every row of the QPV (the line of
    its first row). Licences whose sex is not filled in (`nr - nr`) have no sex to go to. A row outside any QPV
    (`Code QPV` empty or `NR...`, e.g. `NR - Non réparti`) is left out. An empty cell counts 0; a cell that is not a
    count makes its QPV's figure that text, for the rows gate to reject with its line."""
    code = text(frame["code_qpv"])
    frame = frame.loc[(code != "") & ~code.str.upper().str.startswith("NR")].copy()
    frame["code_qpv"] = text(frame["code_qpv"])
    parts = []
    for sexe, prefix in (("F", "f - "), ("H", "h - ")):
        cells = frame[[column for column in frame.columns if column.startswith(prefix)]].fillna("").astype("str")
        cells = cells.apply(lambda column: column.str.replace(_GROUP_SPACES, "", regex=True))
        numbers = cells.apply(lambda column: pd.to_numeric(column.mask(column == "", "0"), errors="coerce"))
        bad = pd.Series("", index=frame.index)
        for column in cells.columns[::-1]:  # the first cell of the row that is not a count
            bad = bad.mask(numbers[column].isna(), cells[column])
        parts.append(
            pd.DataFrame(
                {
                    "line_no": frame["line_no"].to_numpy(dtype="int64"),
                    "annee": text(frame["annee"]).to_numpy(),
                    "code_qpv": frame["code_qpv"].to_numpy(),
                    "libelle_qpv": text(frame["libelle_qpv"]).to_numpy(),
                    "sexe": sexe,
                    "_count": numbers.sum(axis=1).to_numpy(),
                    "_bad": bad.to_numpy(),
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    grouped = rows.groupby(["code_qpv", "sexe"], sort=False).agg(
        line_no=("line_no", "min"),
        annee=("annee", "first"),
        libelle_qpv=("libelle_qpv", "first"),
        _count=("_count", "sum"),
        _bad=("_bad", "max"),
    )
    grouped = grouped.reset_index().sort_values(["line_no", "sexe"], kind="stable")
    count_text = grouped["_count"].round().astype("int64").astype("str")
    grouped["licences"] = count_text.where(grouped["_bad"] == "", grouped["_bad"])
    return grouped[["line_no", *LICENCE_COLUMNS]].reset_index(drop=True)


# --- normalising ---------------------------------------------------------------------------------------------------


def _subvention_type(cells) -> pd.Series:
    """`Équipement`, `EQUIPEMENT`, ` equipement ` -> `equipement` (same for `fonctionnement`); anything else is
    kept lower-cased as read (stripped), so that the rows gate rejects it."""
    lowered = text(cells).str.lower()
    folded = lowered.str.normalize("NFKD").str.replace(r"[\u0300-\u036f\s]", "", regex=True)
    known = folded.isin(SUBVENTION_TYPES)
    return lowered.where(~known, folded)


def departement_of(communes: pd.Series) -> pd.Series:
    """The département of (padded) commune codes: the first 3 characters overseas (`97411` -> `974`), else the
    first 2 (`01053` -> `01`, `2A004` -> `2A`)."""
    overseas = communes.str.startswith("97").fillna(False).astype(bool)
    return communes.str[:2].where(~overseas, communes.str[:3])


def normalise_subventions(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The subsidy lines as read -> `{"lignes": frame}`, one row per file line, in file order.

    Columns `LIGNE_COLUMNS`: text cells stripped; `code_commune` zero-padded to 5 characters when all digits and
    `departement_code` derived from it; `code_qpv` empty when the line has no QPV; `montant` a float (French
    format, NaN when it is not an amount); `type_subvention` `equipement` / `fonctionnement` whatever the case,
    accents and spaces, anything else lower-cased as read; `status` `ok`, or `invalid` when `montant` is not an
    amount.
    """
    commune = pad_digits(text(raw["code_commune"]), 5)
    montant, status = decimals(raw["montant"], mask=None)
    lignes = pd.DataFrame(
        {
            "line_no": raw["line_no"].to_numpy(dtype="int64"),
            "annee": text(raw["annee"]).to_numpy(),
            "numero_dossier": text(raw["numero_dossier"]).to_numpy(),
            "beneficiaire": text(raw["beneficiaire"]).to_numpy(),
            "siret": text(raw["siret"]).to_numpy(),
            "code_commune": commune.to_numpy(),
            "departement_code": departement_of(commune).to_numpy(),
            "code_qpv": text(raw["code_qpv"]).to_numpy(),
            "montant": montant,
            "type_subvention": _subvention_type(raw["type_subvention"]).to_numpy(),
            "status": status,
        },
        columns=list(LIGNE_COLUMNS),
    )
    for name in LIGNE_COLUMNS:
        if name == "line_no":
            lignes[name] = lignes[name].astype("int64")
        elif name == "montant":
            lignes[name] = lignes[name].astype("float64")
        else:
            lignes[name] = lignes[name].astype("str")
    return {"lignes": lignes}


def normalise_licences(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The licence rows as read -> `{"values": frame}`: one `IND20` figure per QPV and sex, in file order.

    `breakdown` is `sexe=F` or `sexe=H` (`Femmes` / `Hommes` accepted); any other sex is kept as read
    (`sexe=X`) for the gate. `licences` is a count, thousands separator accepted; anything else, `s` and an
    empty cell included (the ANS does not mask), is `invalid`."""
    sexe = text(raw["sexe"])
    value, status = counts(raw["licences"], mask=None, thousands=True)
    count = len(raw)
    values = values_frame(
        {
            "line_no": raw["line_no"].to_numpy(dtype="int64"),
            "indicator_code": np.full(count, LICENCE_INDICATOR, dtype=object),
            "territory_level": np.full(count, "qpv", dtype=object),
            "territory_code": text(raw["code_qpv"]).to_numpy(),
            "period_code": text(raw["annee"]).to_numpy(),
            "breakdown": ("sexe=" + sexe.map(SEXES).fillna(sexe)).to_numpy(),
            "value": value,
            "status": status,
        }
    )
    return {"values": values}


# --- partitions ----------------------------------------------------------------------------------------------------


def subventions_partition(staged: dict[str, pd.DataFrame]) -> str:
    """The partition of a subsidy file: its year, the latest non-empty `annee` of its lines (`unknown` if none)."""
    years = staged["lignes"]["annee"]
    years = years[years.str.len() > 0]
    return str(years.max()) if len(years) else "unknown"


def licences_partition(staged: dict[str, pd.DataFrame]) -> str:
    """The partition of a licence file: its year (`2024`)."""
    return latest_period(staged)
