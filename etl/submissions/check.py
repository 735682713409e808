"""The verdict on a returned regional workbook: the base checker (`etl.submissions.checker`) with the regional kind.

The kind supplies the template's sheets, the région (`R84` in the file name) and campaign (`_2024`), and its input
cells, parsed as staff type them (`verdict.parse_cell`) and validated by the suites `regional_submission.file` and
`regional_submission.values` (text in a number cell, a share outside 0-100, a negative or fractional count, an
unknown or national indicator, a département of another région, a breakdown inconsistent with the regional total,
an empty result unexplained...), then the plausibility rules (counts of QPV against the QPV in force, ranges). A
share between 0 and 1 typed without the sign is kept as typed, with a warning.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from etl.referentiels.catalogue import catalogue_indicators
from etl.referentiels.periods import FIRST_YEAR as FIRST_CAMPAIGN
from etl.referentiels.periods import LAST_YEAR as LAST_CAMPAIGN
from etl.referentiels.territories import load_departements, load_regions
from etl.submissions import plausibility
from etl.submissions import template as tpl
from etl.submissions.checker import WorkbookChecker, check_workbook
from etl.submissions.verdict import ERROR, REGIONAL, Finding, Verdict, parse_cell, shown

FILE_SUITE = "regional_submission.file"
SUITE = "regional_submission.values"
# The metadata cells the structure check compares besides the labels of column A (the values are checked apart).
COMPARED_METADATA = (tpl.METADATA_CELLS["note"], tpl.METADATA_CELLS["conventions"])
# The input cells of each sheet: (sheet, code column, territory column, value column, observations column).
LAYOUTS = (
    (tpl.INDICATEURS_SHEET, "A", None, tpl.INDICATEURS_RESULT_COLUMN, tpl.INDICATEURS_OBSERVATIONS_COLUMN),
    (tpl.DEPARTEMENTS_SHEET, "C", "A", tpl.DEPARTEMENTS_VALUE_COLUMN, tpl.DEPARTEMENTS_OBSERVATIONS_COLUMN),
)

# A file name that says which région and campaign it is for: indicateurs_locaux_R84_2024.xlsx.
_NAME_IDENTITY = re.compile(r"(?:^|[^0-9A-Za-z])R(0[1-6]|[1-9][0-9])_((?:19|20)[0-9]{2})(?![0-9])")


# --- the checks ---------------------------------------------------------------------------------------------------


def identity_from_name(name: str) -> tuple[str | None, int | None]:
    """(région, campaign) named by a file name such as `indicateurs_locaux_R84_2024.xlsx`, else (None, None)."""
    match = _NAME_IDENTITY.search(name)
    return (match.group(1), int(match.group(2))) if match else (None, None)


def check_file(
    path: str | Path,
    *,
    name: str | None = None,
    region: str | None = None,
    campaign: int | None = None,
    home=None,
    engine=None,
) -> Verdict:
    """The verdict on one returned workbook. `name` is the file name as sent (default: the path's); `region` and
    `campaign`, when given, are what the workbook must be for (else the file name's `R84_2024`, when present);
    `engine` is the warehouse that holds the QPV in force (None: their rule is skipped, with a warning)."""
    return check_workbook(RegionalChecker, path, name=name, code=region, period=campaign, home=home, engine=engine)


class RegionalChecker(WorkbookChecker):
    """The regional kind: the template's sheets, the région and campaign, the indicators' cells."""

    KIND = REGIONAL
    SHEETS = tpl.SHEET_NAMES
    METADATA_CELLS = tpl.METADATA_CELLS
    TEMPLATE_VERSION = tpl.TEMPLATE_VERSION
    CODE, NAME, PERIOD = "region_code", "region_name", "campaign"
    COMPARED_SHEETS = (tpl.METADATA_SHEET, tpl.INDICATEURS_SHEET, tpl.DEPARTEMENTS_SHEET)
    MERGE_SHEETS = (tpl.INDICATEURS_SHEET, tpl.DEPARTEMENTS_SHEET)
    TITLE_PERIOD = re.compile(r"Indicateurs locaux ((?:19|20)[0-9]{2}) - ")
    FILE_SUITE, SUITE = FILE_SUITE, SUITE
    COLUMNS = {
        "observations": {
            tpl.INDICATEURS_SHEET: tpl.INDICATEURS_OBSERVATIONS_COLUMN,
            tpl.DEPARTEMENTS_SHEET: tpl.DEPARTEMENTS_OBSERVATIONS_COLUMN,
        },
        "departement": {tpl.DEPARTEMENTS_SHEET: "A"},
    }
    KEEP_INCOHERENT_CODE = True
    TEXTS = {
        "model": "le modèle",
        "version": "version du modèle « {found} » : ce classeur n'est pas le modèle de la campagne en cours ; "
        "télécharger le modèle {version} et y reporter les valeurs.",
        "identity_rule": "META-REGION",
        "unknown": "code région « {found} » inconnu ; attendu un des 18 codes INSEE des régions.",
        "mismatch": "le code région « {code} » ne correspond pas à la région « {name} » de la cellule {cell} (le code "
        "{code} est {known}).",
        "elsewhere": "le classeur est celui de la région {code} ({known}) alors que la région {expected} était "
        "attendue (nom du fichier ou dépôt).",
        "period_rule": "META-CAMPAGNE",
        "other_period": "le classeur est celui de la campagne {found} alors que la campagne {expected} était attendue "
        "(nom du fichier ou dépôt).",
        "retitled": "la campagne a été modifiée : le modèle a été distribué pour la campagne {expected}, la cellule "
        "indique {found}.",
        "restart": "repartir du modèle",
        "answer": "une valeur",
        "checksum": "la structure protégée du classeur a été modifiée (empreinte différente de celle du modèle) ; "
        "repartir du modèle et y reporter les valeurs.",
    }
    identity_from_name = staticmethod(identity_from_name)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        indicators = catalogue_indicators()
        self.units = {i.code: i.unit for i in indicators}
        self.statistical_units = {i.code: i.statistical_unit for i in indicators}
        self.national = [i.code for i in indicators if i.mode == "national"]
        self.names = dict(zip(*(load_regions()[column] for column in ("code", "nom")), strict=True))
        departements = load_departements()
        self.departements = {row.code: (row.nom, row.code_region) for row in departements.itertuples(index=False)}

    def departements_of(self, region: str | None) -> list[str]:
        return [code for code, (_, reg) in self.departements.items() if reg == region]

    def parse_period(self, raw: Any) -> tuple[int | None, dict | None]:
        campaign = _year(raw)
        if campaign is None:
            return None, {"message": f"campagne « {shown(raw)} » : attendu une année (2024).", "found": shown(raw)}
        if not FIRST_CAMPAIGN <= campaign <= LAST_CAMPAIGN:
            message = f"campagne {campaign} hors du champ de l'observatoire ({FIRST_CAMPAIGN} à {LAST_CAMPAIGN})."
            return None, {"message": message, "found": str(campaign)}
        return campaign, None

    def reference(self, code: str, period: int):
        return tpl.build_template(code, period)

    def compares_metadata(self, coordinate: str) -> bool:
        return coordinate.startswith("A") or coordinate in COMPARED_METADATA

    def row_indicator(self, sheet: str, actual_ws, row: int) -> str | None:
        code = actual_ws.cell(row=row, column=1).value
        return str(code) if sheet == tpl.INDICATEURS_SHEET and code else None

    def cells(self) -> None:
        rows: list[dict[str, Any]] = []
        for sheet, code_column, territory_column, value_column, obs_column in LAYOUTS:
            if sheet in self.unusable_sheets:
                continue
            rows += self._sheet_cells(sheet, code_column, territory_column, value_column, obs_column)
        if not rows:
            if self.verdict.errors:  # the sheets could not be read: already said
                return
            self.add("CELLULE-AUCUNE", ERROR, "aucune ligne d'indicateur n'a été trouvée dans le classeur.")
            return
        cells = pd.DataFrame(rows)
        cells.insert(0, "line_no", range(1, len(cells) + 1))
        self.verdict.cells = cells
        frame = self._frame(cells)
        parameters = {
            "indicateurs_nationaux": self.national,
            "indicateurs_catalogue": list(self.units),
            "departements_region": self.departements_of(self.code_for_checks or self.verdict.region_code),
        }
        self.validate(frame, parameters)
        self._plausibility(frame)
        self.verdict.values = frame

    def _sheet_cells(self, sheet, code_column, territory_column, value_column, obs_column) -> list[dict[str, Any]]:
        values_ws, formulas_ws = self.values_wb[sheet], self.formulas_wb[sheet]
        out = []
        for row in range(tpl.FIRST_DATA_ROW, formulas_ws.max_row + 1):
            code = formulas_ws[f"{code_column}{row}"].value
            territory = formulas_ws[f"{territory_column}{row}"].value if territory_column else None
            raw, formula, number_format = self.typed(sheet, f"{value_column}{row}")
            observations = values_ws[f"{obs_column}{row}"].value
            if observations is None:  # a formula typed as an observation, with no value Excel computed: kept as typed
                observations = formulas_ws[f"{obs_column}{row}"].value
            if code is None and territory is None and raw is None and formula is None and observations is None:
                continue
            parsed = parse_cell(raw, number_format)
            code = "" if code is None else str(code).strip()
            out.append(
                {
                    "sheet": sheet,
                    "cell": f"{value_column}{row}",
                    "indicator_code": code,
                    "territory_level": "departement" if territory_column else "region",
                    "territory_code": (str(territory).strip() if territory is not None else "")
                    if territory_column
                    else (self.verdict.region_code or ""),
                    "unit": self.units.get(code, "nombre"),
                    "raw_value": None if raw is None else shown(raw),
                    "parsed": parsed.value,
                    "parse_status": parsed.status,
                    "percent_sign": parsed.percent_sign,
                    "formula": formula,
                    "observations": None if observations is None else str(observations),
                }
            )
        return out

    def _frame(self, cells: pd.DataFrame) -> pd.DataFrame:
        """The cells with the columns the suite checks: one helper column per rule, set only where it applies."""
        frame = cells.copy()
        value = frame["parsed"].astype("float64")
        ok = frame["parse_status"] == "ok"
        unit = frame["unit"]
        frame["value"] = value
        frame["status"] = frame["parse_status"].map({"ok": "ok"}).fillna("missing")
        frame["region_code"] = self.verdict.region_code or ""
        frame["campaign"] = self.verdict.campaign
        frame["template_version"] = self.verdict.template_version
        frame["texte_invalide"] = frame["raw_value"].where(
            (frame["parse_status"] == "invalide") & frame["formula"].isna()
        )
        frame["formule_sans_valeur"] = frame["formula"].where(
            frame["formula"].notna() & (frame["parse_status"] == "vide")
        )
        frame["formule_valeur"] = frame["formula"].where(frame["formula"].notna() & ok)
        frame["part"] = value.where(ok & (unit == "%"))
        frame["part_ambigue"] = value.where(
            ok & (unit == "%") & ~frame["percent_sign"].astype(bool) & (value > 0) & (value < 1)
        )
        counted = ok & unit.isin(["nombre", "euros"])
        frame["effectif"] = value.where(counted)
        frame["fraction_effectif"] = (value - np.floor(value)).where(ok & (unit == "nombre"))
        frame["departement"] = frame["territory_code"].where(frame["territory_level"] == "departement")
        frame["vide_sans_observation"] = frame["cell"].where(
            (frame["territory_level"] == "region")
            & (frame["parse_status"] == "vide")
            & frame["formula"].isna()
            & frame["observations"].fillna("").str.strip().eq("")
        )
        frame["ecart_ventilation"] = float("nan")
        frame["hors_fourchette"] = float("nan")
        frame["somme_departements"] = float("nan")
        frame["fourchette_departements"] = None
        departemental = frame[
            (frame["territory_level"] == "departement")
            & frame["departement"].isin(self.departements_of(self.verdict.region_code))
        ]
        expected_count = len(self.departements_of(self.verdict.region_code))
        for index, row in frame[(frame["territory_level"] == "region") & ok].iterrows():
            parts = departemental[departemental["indicator_code"] == row["indicator_code"]]
            filled = parts[parts["parse_status"] == "ok"]
            if filled.empty:
                continue
            if row["unit"] in ("nombre", "euros"):
                total = float(filled["value"].sum())
                complete = len(filled) == expected_count == len(parts)
                if complete or total > row["value"] + 1e-9:
                    frame.at[index, "ecart_ventilation"] = round(row["value"] - total, 6)
                    frame.at[index, "somme_departements"] = total
            elif row["unit"] == "%":
                low, high = float(filled["value"].min()), float(filled["value"].max())
                frame.at[index, "fourchette_departements"] = f"{shown(low)} à {shown(high)}"
                if not low - 1e-9 <= row["value"] <= high + 1e-9:
                    frame.at[index, "hors_fourchette"] = row["value"]
        return frame

    def _plausibility(self, frame: pd.DataFrame) -> None:
        """The plausibility rules on the cells read as numbers: counts of ZSP, structures and projects against their
        plausible range, counts of QPV against the QPV in force in their territory."""
        from etl.referentiels.catalogue import PLAUSIBLE_RANGES, QPV_UNIT

        numbers = frame[(frame["parse_status"] == "ok") & (frame["unit"] != "%")]  # counts (a share has CELLULE-PART)
        units = numbers["indicator_code"].map(self.statistical_units)
        findings = []
        for _, row in numbers[units.isin(list(PLAUSIBLE_RANGES))].iterrows():
            departement = row["territory_code"] if row["territory_level"] == "departement" else None
            unit = self.statistical_units[row["indicator_code"]]
            findings.append(plausibility.out_of_range(row, unit, departement=departement))
        findings += self._qpv_counts(numbers[units == QPV_UNIT])
        self.verdict.findings += [finding for finding in findings if finding is not None]

    def _qpv_counts(self, rows: pd.DataFrame) -> list[Finding | None]:
        """Each count of QPV against the QPV in force on the campaign's reference day in the région (Indicateurs) or
        the département (Départements); a warning when the warehouse cannot tell."""
        region, campaign = self.verdict.region_code, self.verdict.campaign
        if rows.empty or region is None or campaign is None:
            return []
        day = plausibility.reference_day(campaign)
        in_force, reason = plausibility.qpv_in_force(self.engine, day)
        if in_force is None:
            return [plausibility.skipped(reason, [f"{row.sheet}!{row.cell}" for row in rows.itertuples()])]
        findings = []
        for _, row in rows.iterrows():
            code = row["territory_code"]
            if row["territory_level"] == "region":
                count, territory, departement = (
                    in_force.regions.get(region, 0),
                    f"la région {self.names[region]}",
                    None,
                )
            elif code in self.departements_of(region):
                name = self.departements[code][0]
                count, territory, departement = (
                    in_force.departements.get(code, 0),
                    f"le département {name} ({code})",
                    code,
                )
            else:  # a département of another région: CELLULE-DEPARTEMENT says so
                continue
            findings.append(plausibility.too_many_qpv(row, count, territory, day, departement=departement))
        return findings


def _year(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float) and float(raw).is_integer() and 1980 <= raw <= 2099:
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"\s*(19[89][0-9]|20[0-9]{2})\s*", raw):
        return int(raw)
    return None
