"""Territories: the région and département catalogue, the code shapes, and the reader of the ANCT QPV lists.

This module owns everything the platform knows about territory codes before they reach the warehouse:

- the shapes of the codes (région, département, commune, EPCI SIREN, QPV codes of the 2015 and 2024 geographies)
  as regular expressions, exported for the quality gates;
- the catalogue of the 18 régions and 101 départements kept in `catalogue/regions.csv` and
  `catalogue/departements.csv`;
- reading an ANCT QPV list (`code_qp;lib_qp;insee_reg;...;siren_epci;lib_epci`) or the 2015 → 2024
  correspondence (ANCT's wide layout, one row per 2024 QPV, or the platform's long one) as text through the layout
  its header matches (etl/sources/layouts.py; each row carrying its physical line number; `FileShapeError` when
  the file itself cannot be used);
- normalising those rows into typed frames: the codes that lost their leading zeros are zero-padded, multi-commune
  and multi-EPCI cells are split into one row each. Nothing else is repaired: a value that went through a float
  (`1053.0`) or has the wrong shape stays as read, so that the quality gate rejects it with its line number;
- the hooks that `etl/sources/registry.yaml` names for the `anct_qpv` and `anct_qpv_correspondance` sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from etl.config import PROJECT_ROOT
from etl.readers import FileShapeError
from etl.referentiels.codes import pad_digits
from etl.sources import layouts

CATALOGUE_DIR = PROJECT_ROOT / "catalogue"

# --- code shapes ---------------------------------------------------------------------------------------------------

# A département: 01-19, 2A, 2B, 21-95 (no 20 since 1976), and the overseas 971-974 and 976 (975 is not one).
_DEP = r"(?:0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|97[1-46])"
# The same département on the 3 characters that QPV codes use: 075, 02A, 971.
_DEP3 = r"(?:0(?:0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5])|97[1-46])"

REGION_PATTERN = r"^\d{2}$"
DEPARTEMENT_PATTERN = rf"^{_DEP}$"
# A commune: metropolitan département (2 characters) + 3 digits (75056, 2A004); overseas: 97x + 2 digits (97411).
COMMUNE_PATTERN = r"^(?:(?:0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5])\d{3}|97[1-46]\d{2})$"
SIREN_PATTERN = r"^\d{9}$"
# QPV of the 2015-2023 geography: QP + 3-character département + 3 digits (QP075001, QP02A001, QP971001).
QP2015_PATTERN = rf"^QP{_DEP3}\d{{3}}$"
# QPV of the 2024 geography: QN + 3-character département + 2 digits + N (new) / M (modified) / I (unchanged).
QP2024_PATTERN = rf"^QN{_DEP3}\d{{2}}[NMI]$"

# --- file layouts --------------------------------------------------------------------------------------------------

QPV_COLUMNS = (
    "code_qp",
    "lib_qp",
    "insee_reg",
    "lib_reg",
    "insee_dep",
    "lib_dep",
    "insee_com",
    "lib_com",
    "siren_epci",
    "lib_epci",
)
CORRESPONDANCE_COLUMNS = ("code_qp_2015", "code_qp_2024", "type_evolution")
TYPES_EVOLUTION = ("identique", "modifie", "sortant")
# The letter that ends a 2024 code, for the 2024 QPV that succeed a 2015 one.
EVOLUTION_LETTER = {"identique": "I", "modifie": "M"}
# Separator of the multi-valued cells (communes and EPCI of a QPV that spans several of them).
MULTI_VALUE_SEPARATOR = "; "
ATTRIBUTES_LAYOUT = "anct_qp2015_attributs"  # the registry's name of the 2015 list as the perimeters' attribute table


def departement_code3(departement: str) -> str:
    """The département on the 3 characters of QPV codes: `75` → `075`, `2A` → `02A`, `971` → `971`."""
    return departement if len(departement) == 3 else "0" + departement


# --- catalogue -----------------------------------------------------------------------------------------------------


def _read_catalogue(name: str, catalogue_dir: Path | None) -> pd.DataFrame:
    path = (catalogue_dir or CATALOGUE_DIR) / name
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8")


def load_regions(catalogue_dir: Path | None = None) -> pd.DataFrame:
    """The 18 régions (`code`, `nom`), codes as text (`01`, `84`)."""
    return _read_catalogue("regions.csv", catalogue_dir)


def load_departements(catalogue_dir: Path | None = None) -> pd.DataFrame:
    """The 101 départements (`code`, `nom`, `code_region`), codes as text (`01`, `2A`, `974`)."""
    return _read_catalogue("departements.csv", catalogue_dir)


def region_name(code: str) -> str:
    """The name of a région code of catalogue/regions.csv; ValueError naming the known codes otherwise."""
    regions = load_regions()
    names = dict(zip(regions["code"], regions["nom"], strict=True))
    if not isinstance(code, str) or code not in names:
        known = ", ".join(regions["code"])
        raise ValueError(f"Unknown région code {code!r}: expected one of the codes of catalogue/regions.csv ({known}).")
    return names[code]


def departement_names(code: str) -> tuple[str, str]:
    """(département name, région name) of a département code of catalogue/departements.csv; ValueError otherwise."""
    departements = load_departements()
    if not isinstance(code, str) or code not in set(departements["code"]):
        raise ValueError(
            f"Unknown département code {code!r}: expected a code of catalogue/departements.csv such as 01, 2A or 974."
        )
    row = departements[departements["code"] == code].iloc[0]
    regions = load_regions()
    return str(row["nom"]), str(regions.loc[regions["code"] == row["code_region"], "nom"].iloc[0])


# --- reading -------------------------------------------------------------------------------------------------------


def read_anct(path: Path, *, name: str | None = None) -> pd.DataFrame:
    """Read an ANCT QPV list (the real export, or a sample in its layout) into `QPV_COLUMNS` as text with `line_no`,
    through the layout its header matches (etl/sources/layouts.py: Excel literals `="01053"` unwrapped, the
    producer's multi-value separator read)."""
    return layouts.read("anct_qpv", path, name=name)


def read_correspondance(path: Path, *, name: str | None = None) -> pd.DataFrame:
    """Read the 2015 → 2024 QPV correspondence, ANCT's wide CSV, its workbook or the platform's long layout, into
    `CORRESPONDANCE_COLUMNS` as text with `line_no` (etl/sources/layouts.py)."""
    return layouts.read("anct_qpv_correspondance", path, name=name)


def correspondance_from_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """ANCT's wide correspondence (one row per 2024 QPV, its 2015 predecessors in `qp2015_1` to `qp2015_3`, a cell
    possibly holding several codes) -> one row per (2015 QPV, 2024 QPV), in `CORRESPONDANCE_COLUMNS`.

    `type_evolution` is `identique` when the 2024 code ends in I (perimeter unchanged), else `modifie`. A 2024 QPV
    without predecessor gives no row; the 2015 QPV named in no row left the geography (veille active): the load adds
    them as `sortant` (sql/core/anct_qpv_correspondance.sql), since only the 2015 list knows them."""
    columns = [name for name in ("qp2015_1", "qp2015_2", "qp2015_3") if name in frame.columns]
    long = frame.melt(id_vars=["line_no", "code_qp_2024"], value_vars=columns, ignore_index=False)
    long = long.sort_index(kind="stable")
    long["value"] = long["value"].fillna("").astype("str").str.split(r"[;,\s]+", regex=True)
    long = long.explode("value")
    long["value"] = long["value"].fillna("").str.strip()
    long = long.loc[long["value"] != ""]
    code_2024 = _text(long["code_qp_2024"].fillna("").astype("str"))
    result = pd.DataFrame(
        {
            "line_no": long["line_no"].to_numpy(dtype="int64"),
            "code_qp_2015": long["value"].to_numpy(),
            "code_qp_2024": code_2024.to_numpy(),
            "type_evolution": np.where(code_2024.str.endswith("I"), "identique", "modifie"),
        }
    )
    for name in CORRESPONDANCE_COLUMNS:
        result[name] = result[name].astype("str")
    return result


def qpv_from_attributes(frame: pd.DataFrame) -> pd.DataFrame:
    """The 2015 list as the perimeters' attribute table (`CODE_QP;NOM_QP;COMMUNE_QP`, commune names joined by
    commas, read as `lib_com` joined by "; ") -> `QPV_COLUMNS`.

    The département is the code's (`QP075001` -> 75, `QP02A001` -> 2A, `QP971001` -> 971), its name, région and
    région name the catalogue's (empty for a code of no known département, which the rows gate refuses). The commune
    codes are not in the file: `insee_com` is None (no cell), and `normalise_qpv` matches the names to the communes
    the warehouse knows. No EPCI either."""
    out = pd.DataFrame({"line_no": frame["line_no"].to_numpy(dtype="int64")})
    out["code_qp"] = _text(frame["code_qp"]).to_numpy()
    out["lib_qp"] = _text(frame["lib_qp"]).to_numpy()
    departement = out["code_qp"].str.extract(r"^Q[PN](0[0-9][0-9AB]|97[0-9])", expand=False).fillna("")
    departement = departement.where(~departement.str.startswith("0"), departement.str[1:])
    departements = load_departements().set_index("code")
    regions = load_regions().set_index("code")["nom"]
    out["insee_reg"] = departement.map(departements["code_region"]).fillna("").to_numpy()
    out["lib_reg"] = out["insee_reg"].map(regions).fillna("").to_numpy()
    out["insee_dep"] = departement.to_numpy()
    out["lib_dep"] = departement.map(departements["nom"]).fillna("").to_numpy()
    out["insee_com"] = None
    out["lib_com"] = _text(frame["lib_com"]).to_numpy()
    out["siren_epci"] = ""
    out["lib_epci"] = ""
    return out


def commune_key(departement: pd.Series, name: pd.Series) -> pd.Series:
    """`département|name` as compared: the name without case, accents, hyphens or apostrophes (`Saint-Étienne-du-
    Rouvray` = `SAINT ETIENNE DU ROUVRAY`)."""
    plain = name.astype("str").str.replace(r"[-'’]", " ", regex=True).map(layouts.header_key)
    return departement.astype("str") + "|" + plain


def commune_codes(departement: pd.Series, names: pd.Series, known: Sequence[str]) -> pd.Series:
    """The code of each commune name within its département among `known` (`code|name`, the parameter
    communes_noms); a name that matches no commune of the département, or two, is kept as written."""
    codes = pd.Series([item.partition("|")[0] for item in known], dtype="str")
    labels = pd.Series([item.partition("|")[2] for item in known], dtype="str")
    known_departement = codes.str[:3].where(codes.str.startswith("97"), codes.str[:2])
    keys = pd.Series(commune_key(known_departement, labels).to_numpy(), index=codes.to_numpy())
    unique = keys[~keys.duplicated(keep=False)]
    lookup = pd.Series(unique.index, index=unique.to_numpy())
    found = commune_key(departement.reset_index(drop=True), names.reset_index(drop=True)).map(lookup)
    return found.where(found.notna(), names.reset_index(drop=True)).astype("str")


# --- normalising ---------------------------------------------------------------------------------------------------


def _require(raw: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [name for name in ("line_no", *columns) if name not in raw.columns]
    if missing:
        raise FileShapeError(
            f"the rows lack the column(s) {', '.join(missing)}.", rule="missing_columns", column=", ".join(missing)
        )


def _text(series: pd.Series) -> pd.Series:
    """Stripped text. An empty cell stays an empty string, so that the gates' regex checks see (and reject) it."""
    return series.astype("str").str.strip()


def _split(series: pd.Series, name: str) -> pd.DataFrame:
    """One row per `;`-separated value: `_row` (the source row), `_pos` (rank in the cell) and the value."""
    exploded = series.str.split(";").explode()
    values = _text(exploded)
    return pd.DataFrame(
        {
            "_row": exploded.index.to_numpy(),
            "_pos": exploded.groupby(level=0).cumcount().to_numpy(),
            name: values.to_numpy(),
        }
    )


def _split_pairs(frame: pd.DataFrame, code: str, label: str) -> pd.DataFrame:
    """Split two parallel multi-valued columns and pair their values by rank; a missing partner is empty text."""
    pairs = _split(frame[code], code).merge(_split(frame[label], label), on=["_row", "_pos"], how="outer")
    pairs[[code, label]] = pairs[[code, label]].fillna("")
    pairs = pairs.sort_values(["_row", "_pos"], kind="stable")
    pairs["line_no"] = frame["line_no"].to_numpy()[pairs["_row"].to_numpy()]
    pairs["code_qp"] = frame["code_qp"].to_numpy()[pairs["_row"].to_numpy()]
    result = pairs[["line_no", "code_qp", code, label]].reset_index(drop=True)
    for name in ("code_qp", code, label):
        result[name] = result[name].astype("str")
    result["line_no"] = result["line_no"].astype("int64")
    return result


def normalise_qpv(raw: pd.DataFrame, parameters: dict[str, list[str]] | None = None) -> dict[str, pd.DataFrame]:
    """Typed frames from the rows of an ANCT QPV list: `qpv`, `qpv_commune` (one row per commune), `qpv_epci`.

    `qpv` has line_no, code_qp, lib_qp, geography (`2015` for a `QP` code, `2024` for `QN`, else NA), insee_reg,
    lib_reg, insee_dep, lib_dep. Commune codes are zero-padded to 5 characters (`1053` → `01053`), région codes to 2,
    one-digit département codes to 2. Values of any other shape (`1053.0`, `QP75001`) are kept as read, and an
    empty cell stays an empty string. A list that names its communes without their codes (the 2015 attribute
    table, `qpv_from_attributes`) has them matched within the QPV's département to `parameters["communes_noms"]`
    (`commune_codes`: a name matching no commune stays as written, for the rows gate); it has no EPCI rows.
    """
    _require(raw, QPV_COLUMNS)
    frame = pd.DataFrame({"line_no": raw["line_no"].astype("int64").to_numpy()})
    for name in QPV_COLUMNS:
        frame[name] = raw[name].fillna("").astype("str").to_numpy()
    for name in ("code_qp", "lib_qp", "insee_reg", "lib_reg", "insee_dep", "lib_dep"):
        frame[name] = _text(frame[name])
    frame["insee_reg"] = pad_digits(frame["insee_reg"], 2)
    frame["insee_dep"] = pad_digits(frame["insee_dep"], 2)

    code = frame["code_qp"]
    geography = np.select(
        [code.str.startswith("QP").fillna(False).astype(bool), code.str.startswith("QN").fillna(False).astype(bool)],
        ["2015", "2024"],
        default=None,
    )
    qpv = frame[["line_no", "code_qp", "lib_qp"]].copy()
    qpv["geography"] = pd.Series(geography, dtype="str")
    for name in ("insee_reg", "lib_reg", "insee_dep", "lib_dep"):
        qpv[name] = frame[name]

    communes = _split_pairs(frame, "insee_com", "lib_com")
    communes["insee_com"] = pad_digits(communes["insee_com"], 5)

    epci = _split_pairs(frame, "siren_epci", "lib_epci")
    epci = epci.drop_duplicates(subset=["line_no", "siren_epci", "lib_epci"]).reset_index(drop=True)
    if raw.attrs.get("layout") == ATTRIBUTES_LAYOUT:  # communes named, not coded
        departement = communes["code_qp"].map(dict(zip(frame["code_qp"], frame["insee_dep"], strict=False)))
        known = (parameters or {}).get("communes_noms", [])
        communes["insee_com"] = commune_codes(departement, communes["lib_com"], known).to_numpy()
        epci = epci.iloc[0:0]
    return {"qpv": qpv, "qpv_commune": communes, "qpv_epci": epci}


def normalise_correspondance(raw: pd.DataFrame) -> pd.DataFrame:
    """Typed rows of the 2015 → 2024 correspondence: line_no, code_qp_2015, code_qp_2024 (NA when empty: a
    sortant QPV), type_evolution (`identique`, `modifie`, `sortant`; any other value is kept for the gate)."""
    _require(raw, CORRESPONDANCE_COLUMNS)
    result = pd.DataFrame({"line_no": raw["line_no"].astype("int64").to_numpy()})
    for name in CORRESPONDANCE_COLUMNS:
        result[name] = _text(raw[name]).to_numpy()
        result[name] = result[name].astype("str")
    result["code_qp_2024"] = result["code_qp_2024"].mask(result["code_qp_2024"] == "")
    return result


def normalise_correspondance_frames(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """`normalise_correspondance` as the pipeline's normalisers return it: `{"correspondance": frame}`."""
    return {"correspondance": normalise_correspondance(raw)}


def geography_partition(staged: dict[str, pd.DataFrame]) -> str:
    """The partition of a loaded QPV list: its geography (`2015` or `2024`), read from the codes.

    The rows gate admits one geography per file; should several reach here, they are joined with `+`.
    """
    geographies = sorted(staged["qpv"]["geography"].dropna().unique().tolist())
    return "+".join(geographies) or "unknown"
