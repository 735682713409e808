"""The verdict on a returned regional workbook: every problem named by file, sheet, cell, indicator and rule.

`check_file(path)` never loads anything: it opens the file safely (etl.submissions.workbook), then checks, in
order,

1. the sheets (names, order, none hidden or added) and the metadata (template version, région code and name,
   campaign against the file name, the template's title and what the caller expects);
2. the locked structure, cell by cell, against the template regenerated for that région and campaign (a header
   changed = columns deleted, inserted or moved; a data row changed = rows moved, deleted or inserted), merged
   cells, and the empreinte (`template.structure_checksum`) for what the comparison cannot see;
3. every input cell, parsed the way regional staff type (`12,5`, `12,5 %`, `0,125`, `1 234`, `n.d.`, `NC`, empty,
   a formula's cached value), then validated by the Great Expectations suite `regional_submission.values`, whose
   expectations carry the rule code and the expected value in their `meta`: text in a number cell, a share outside
   0-100 %, a negative or fractional count, a national or unknown indicator, a duplicated row, a département of
   another région, a departmental breakdown inconsistent with the regional total (an error for counts, which add
   up; a warning for shares, whose weights the template does not hold), observations too long, an empty result
   left unexplained;
4. the plausibility of the figures (etl.submissions.plausibility): a count of QPV above the QPV in force in the
   région or département (read from the warehouse through `engine`; without one the rule is skipped with a
   warning), a count of ZSP, structures or projects outside its plausible range (a warning).

Messages are in French, for the submitter; each carries its rule code (`CELLULE-PART`, ...) so the national team
can count them. A verdict is `acceptée` when no problem is an error (warnings allowed), else `rejetée`.

Shares are percentages between 0 and 100 (the template's convention). A number in a cell formatted as an Excel
percentage (`0.0%`, which stores 12,5 % as 0.125) is multiplied by 100; text ending in `%` is read as a
percentage; a share strictly between 0 and 1 typed without the sign is kept as typed with a warning, since
`0,125` may mean 0,125 % or 12,5 %.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from etl.referentiels.periods import FIRST_YEAR as FIRST_CAMPAIGN
from etl.referentiels.periods import LAST_YEAR as LAST_CAMPAIGN
from etl.submissions import template as tpl
from etl.submissions.workbook import Unreadable, file_name_problem, open_workbook

FILE_SUITE = "regional_submission.file"
SUITE = "regional_submission.values"
ERROR = "erreur"
WARNING = "avertissement"
ACCEPTED = "acceptée"
REJECTED = "rejetée"

# A file name that says which région and campaign it is for: indicateurs_locaux_R84_2024.xlsx.
_NAME_IDENTITY = re.compile(r"(?:^|[^0-9A-Za-z])R(0[1-6]|[1-9][0-9])_((?:19|20)[0-9]{2})(?![0-9])")
_TITLE_CAMPAIGN = re.compile(r"Indicateurs locaux ((?:19|20)[0-9]{2}) - ")
_NOT_AVAILABLE = {
    "nd": "nd",
    "n.d.": "nd",
    "n.d": "nd",
    "n/d": "nd",
    "non disponible": "nd",
    "nc": "nc",
    "n.c.": "nc",
    "n.c": "nc",
    "non communiqué": "nc",
    "non communique": "nc",
    "s": "nc",
    "secret": "nc",
}
_NUMBER = re.compile(r"[+-]?[0-9]+(?:[,.][0-9]+)?")
_GROUP_SPACE = re.compile(r"(?<=[0-9])[ \u00a0\u202f](?=[0-9]{3}(?:[^0-9]|$))")
_PERCENT_SIGN = re.compile(r"[ \u00a0\u202f]*%$")
_QUOTED = re.compile(r'"[^"]*"')


@dataclass(frozen=True)
class Finding:
    """One problem of a workbook. `cell` is `A12` on `sheet`; `found` is the value as typed."""

    rule: str
    severity: str  # erreur | avertissement
    message: str
    sheet: str | None = None
    cell: str | None = None
    indicator: str | None = None
    territory: str | None = None
    found: str | None = None
    expected: str | None = None

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def line(self, file_name: str) -> str:
        """`[ERREUR CELLULE-PART] f.xlsx, Indicateurs!H4, IND07 : <message>`."""
        parts = [file_name, self.where, self.indicator or ""]
        if self.territory:
            parts.append(f"département {self.territory}")
        head = ", ".join(p for p in parts if p)
        return f"[{self.severity.upper()} {self.rule}] {head} : {self.message}"


@dataclass
class Verdict:
    """What a check found. `values` is the frame to load (None when the cells could not be read)."""

    file_name: str
    sha256: str | None = None
    size_bytes: int | None = None
    region_code: str | None = None
    campaign: int | None = None
    template_version: str | None = None
    departement_code: str | None = None  # PAQTE reports: the département and semester instead of région and campaign
    semester: str | None = None
    kind: str = "regional"  # regional | paqte
    findings: list[Finding] = field(default_factory=list)
    values: pd.DataFrame | None = None
    cells: pd.DataFrame | None = None
    gate_results: list = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def accepted(self) -> bool:
        return not self.errors

    @property
    def status(self) -> str:
        return ACCEPTED if self.accepted else REJECTED

    def summary(self) -> str:
        if self.kind == "paqte":
            who = f"département {self.departement_code or 'inconnu'}"
            when = f"semestre {self.semester or 'inconnu'}"
        else:
            who = f"région {self.region_code}" if self.region_code else "région inconnue"
            when = f"campagne {self.campaign}" if self.campaign else "campagne inconnue"
        return (
            f"{self.file_name} ({who}, {when}) : {self.status}, {len(self.errors)} erreur(s), "
            f"{len(self.warnings)} avertissement(s)"
        )

    def text(self) -> str:
        lines = [self.summary()]
        lines += [f"  {f.line(self.file_name)}" for f in self.findings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fichier": self.file_name,
            "sha256": self.sha256,
            "taille_octets": self.size_bytes,
            "region": self.region_code,
            "campagne": self.campaign,
            "version_modele": self.template_version,
            "departement": self.departement_code,
            "semestre": self.semester,
            "verdict": self.status,
            "erreurs": len(self.errors),
            "avertissements": len(self.warnings),
            "constats": [asdict(f) | {"ou": f.where} for f in self.findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


# --- the catalogue and the territories -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reference:
    units: dict[str, str]  # every catalogue indicator -> unit
    statistical_units: dict[str, str]  # every catalogue indicator -> unite_statistique
    local: tuple[str, ...]
    national: tuple[str, ...]
    regions: dict[str, str]  # code -> nom
    departements: dict[str, tuple[str, str]]  # code -> (nom, région)

    def departements_of(self, region: str | None) -> list[str]:
        return [code for code, (_, reg) in self.departements.items() if reg == region]


def _reference() -> _Reference:
    from etl.referentiels.territories import load_departements, load_regions

    indicators = tpl.catalogue_indicators()
    regions = load_regions()
    departements = load_departements()
    return _Reference(
        units={i.code: i.unit for i in indicators},
        statistical_units={i.code: i.statistical_unit for i in indicators},
        local=tuple(i.code for i in indicators if i.mode == "local"),
        national=tuple(i.code for i in indicators if i.mode == "national"),
        regions=dict(zip(regions["code"], regions["nom"], strict=True)),
        departements={row.code: (row.nom, row.code_region) for row in departements.itertuples(index=False)},
    )


# --- parsing what staff type ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    value: float | None
    status: str  # ok | nd | nc | vide | invalide
    percent_sign: bool = False  # typed with % (text) or stored by an Excel percentage format


def _percent_format(number_format: str | None) -> bool:
    """An Excel percentage format (`0.0%`), not a `%` shown as literal text (`0.0" %"`)."""
    return bool(number_format) and "%" in _QUOTED.sub("", number_format).replace("\\%", "")


def parse_cell(raw: Any, number_format: str | None = None) -> Parsed:
    """Read one input cell: a number, a French decimal text (`12,5`, `1 234`, `12,5 %`), `n.d.`/`NC`, or empty."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Parsed(None, "vide")
    if isinstance(raw, bool):
        return Parsed(None, "invalide")
    if isinstance(raw, int | float):
        if isinstance(raw, float) and not math.isfinite(raw):
            return Parsed(None, "invalide")
        if _percent_format(number_format):
            return Parsed(float(raw) * 100, "ok", percent_sign=True)
        return Parsed(float(raw), "ok")
    if not isinstance(raw, str):
        return Parsed(None, "invalide")
    text = raw.strip()
    marker = _NOT_AVAILABLE.get(text.lower())
    if marker:
        return Parsed(None, marker)
    percent = bool(_PERCENT_SIGN.search(text))
    text = _PERCENT_SIGN.sub("", text)
    text = _GROUP_SPACE.sub("", text)
    if not _NUMBER.fullmatch(text):
        return Parsed(None, "invalide")
    return Parsed(float(text.replace(",", ".")), "ok", percent_sign=percent)


def _shown(raw: Any) -> str:
    """A cell value as the submitter sees it: French decimals, text as typed."""
    if raw is None:
        return "(vide)"
    if isinstance(raw, float):
        return format(raw, ".15g").replace(".", ",")
    return str(raw)


# --- the checks ----------------------------------------------------------------------------------------------------


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
    path = Path(path)
    name = name or path.name
    verdict = Verdict(file_name=name)
    problem = file_name_problem(name)
    if problem:
        verdict.findings.append(Finding("FICHIER-NOM", WARNING, problem))
    try:
        opened = open_workbook(path, name=name)
    except Unreadable as exc:
        verdict.findings.append(Finding(exc.rule, ERROR, exc.message))
        verdict.region_code, verdict.campaign = identity_from_name(name)
        return verdict
    verdict.sha256, verdict.size_bytes = opened.sha256, opened.size_bytes
    named_region, named_campaign = identity_from_name(name)
    expected_region = region or named_region
    expected_campaign = campaign or named_campaign
    _Checker(verdict, opened, _reference(), expected_region, expected_campaign, home, engine).run()
    # a workbook too broken to say which région it is for still counts for the one its name gives
    verdict.region_code = verdict.region_code or named_region
    verdict.campaign = verdict.campaign or named_campaign
    return verdict


class _Checker:
    def __init__(self, verdict: Verdict, opened, reference: _Reference, region, campaign, home, engine=None):
        self.verdict = verdict
        self.values_wb = opened.values
        self.formulas_wb = opened.formulas
        self.ref = reference
        self.expected_region = region
        self.expected_campaign = campaign
        self.home = home
        self.engine = engine
        self.unusable_sheets: set[str] = set()

    def add(self, rule: str, severity: str, message: str, **where) -> None:
        self.verdict.findings.append(Finding(rule, severity, message, **where))

    def run(self) -> None:
        if not self._sheets():
            return
        if not self._metadata():
            return
        self._structure()
        self._cells()
        if not self.verdict.errors:
            self._empreinte()

    # sheets ---------------------------------------------------------------------------------------------------------

    def _sheets(self) -> bool:
        names = self.formulas_wb.sheetnames
        findings, missing = sheet_findings(self.formulas_wb, tpl.SHEET_NAMES, "le modèle")
        self.verdict.findings += findings
        self.unusable_sheets |= missing
        return tpl.METADATA_SHEET in names

    # metadata -------------------------------------------------------------------------------------------------------

    def _meta(self, key: str) -> Any:
        return self.values_wb[tpl.METADATA_SHEET][tpl.METADATA_CELLS[key]].value

    def _metadata(self) -> bool:
        sheet = tpl.METADATA_SHEET
        version = self._meta("template_version")
        self.verdict.template_version = None if version is None else str(version).strip()
        if self.verdict.template_version != tpl.TEMPLATE_VERSION:
            self.add(
                "META-VERSION",
                ERROR,
                f"version du modèle « {_shown(version)} » : ce classeur n'est pas le modèle de la campagne en cours ; "
                f"télécharger le modèle {tpl.TEMPLATE_VERSION} et y reporter les valeurs.",
                sheet=sheet,
                cell=tpl.METADATA_CELLS["template_version"],
                found=_shown(version),
                expected=tpl.TEMPLATE_VERSION,
            )
            return False

        raw_region = self._meta("region_code")
        region = None if raw_region is None else str(raw_region).strip()
        name = self._meta("region_name")
        name = None if name is None else str(name).strip()
        cell = tpl.METADATA_CELLS["region_code"]
        if region not in self.ref.regions:
            self.add(
                "META-REGION",
                ERROR,
                f"code région « {_shown(raw_region)} » inconnu ; attendu un des 18 codes INSEE des régions.",
                sheet=sheet,
                cell=cell,
                found=_shown(raw_region),
            )
        elif self.ref.regions[region] != name:
            self.add(
                "META-REGION",
                ERROR,
                f"le code région « {region} » ne correspond pas à la région « {_shown(name)} » de la cellule "
                f"{tpl.METADATA_CELLS['region_name']} (le code {region} est {self.ref.regions[region]}).",
                sheet=sheet,
                cell=cell,
                found=region,
                expected=next((c for c, n in self.ref.regions.items() if n == name), None),
            )
        elif self.expected_region and region != self.expected_region:
            self.add(
                "META-REGION",
                ERROR,
                f"le classeur est celui de la région {region} ({self.ref.regions[region]}) alors que la région "
                f"{self.expected_region} était attendue (nom du fichier ou dépôt).",
                sheet=sheet,
                cell=cell,
                found=region,
                expected=self.expected_region,
            )
        self.verdict.region_code = region if region in self.ref.regions else None

        raw_campaign = self._meta("campaign")
        cell = tpl.METADATA_CELLS["campaign"]
        campaign = _year(raw_campaign)
        title = self.values_wb.properties.title or ""
        titled = _TITLE_CAMPAIGN.match(title)
        if campaign is None:
            self.add(
                "META-CAMPAGNE",
                ERROR,
                f"campagne « {_shown(raw_campaign)} » : attendu une année (2024).",
                sheet=sheet,
                cell=cell,
                found=_shown(raw_campaign),
            )
        elif not FIRST_CAMPAIGN <= campaign <= LAST_CAMPAIGN:
            self.add(
                "META-CAMPAGNE",
                ERROR,
                f"campagne {campaign} hors du champ de l'observatoire ({FIRST_CAMPAIGN} à {LAST_CAMPAIGN}).",
                sheet=sheet,
                cell=cell,
                found=str(campaign),
            )
            campaign = None
        elif self.expected_campaign and campaign != self.expected_campaign:
            self.add(
                "META-CAMPAGNE",
                ERROR,
                f"le classeur est celui de la campagne {campaign} alors que la campagne {self.expected_campaign} "
                "était attendue (nom du fichier ou dépôt).",
                sheet=sheet,
                cell=cell,
                found=str(campaign),
                expected=str(self.expected_campaign),
            )
        elif titled and int(titled.group(1)) != campaign:
            self.add(
                "META-CAMPAGNE",
                ERROR,
                f"la campagne a été modifiée : le modèle a été distribué pour la campagne {titled.group(1)}, la "
                f"cellule indique {campaign}.",
                sheet=sheet,
                cell=cell,
                found=str(campaign),
                expected=titled.group(1),
            )
        self.verdict.campaign = campaign
        return True

    # structure ------------------------------------------------------------------------------------------------------

    def _region_for_checks(self) -> str | None:
        """The région whose template the workbook is compared with: the metadata's when its code and name agree
        (even if another région was expected: the workbook is then coherent, only misdirected), else the one whose
        name is in the metadata, else the expected one."""
        code = self.verdict.region_code
        name = str(self._meta("region_name") or "").strip()
        if code and self.ref.regions.get(code) == name:
            return code
        by_name = next((c for c, n in self.ref.regions.items() if n == name), None)
        return by_name or self.expected_region or code

    def _structure(self) -> None:
        region = self._region_for_checks()
        self.region = region
        if region is None or self.verdict.campaign is None:
            return
        reference = tpl.build_template(region, self.verdict.campaign)
        for sheet in (tpl.METADATA_SHEET, tpl.INDICATEURS_SHEET, tpl.DEPARTEMENTS_SHEET):
            if sheet in self.unusable_sheets:
                continue
            self._compare(reference[sheet], self.formulas_wb[sheet])
        for sheet in (tpl.INDICATEURS_SHEET, tpl.DEPARTEMENTS_SHEET):
            if sheet in self.formulas_wb.sheetnames:
                for merged in self.formulas_wb[sheet].merged_cells.ranges:
                    self.add(
                        "STRUCTURE-FUSION",
                        ERROR,
                        f"cellules fusionnées {merged.coord} : le modèle n'en a pas ; annuler la fusion et saisir "
                        "une valeur par cellule.",
                        sheet=sheet,
                        cell=merged.coord.split(":")[0],
                        found=merged.coord,
                    )

    def _compare(self, expected_ws, actual_ws) -> None:
        """Locked cells of the reference against the same cells of the workbook: the header row first (columns),
        then each data row (one finding per row, at its first differing cell)."""
        sheet = actual_ws.title
        locked = [(r, c, v) for r, c, v in tpl._locked_cells(expected_ws)]
        by_row: dict[int, list[tuple[int, Any]]] = {}
        for row, column, value in locked:
            if sheet == tpl.METADATA_SHEET and column != 1 and (row, column) != (6, 2) and (row, column) != (7, 2):
                continue  # the metadata values are checked by _metadata; the labels, note and conventions here
            by_row.setdefault(row, []).append((column, value))
        header = by_row.pop(tpl.HEADER_ROW, [])
        for column, value in header:
            found = actual_ws.cell(row=tpl.HEADER_ROW, column=column).value
            if found is None or tpl._canonical(found) != tpl._canonical(value):
                coordinate = actual_ws.cell(row=tpl.HEADER_ROW, column=column).coordinate
                self.add(
                    "STRUCTURE-COLONNES",
                    ERROR,
                    f"en-tête « {_shown(found)} » au lieu de « {value} » : une colonne a été supprimée, insérée ou "
                    "déplacée ; repartir du modèle.",
                    sheet=sheet,
                    cell=coordinate,
                    found=_shown(found),
                    expected=str(value),
                )
                self.unusable_sheets.add(sheet)
                return
        for row, cells in sorted(by_row.items()):
            for column, value in cells:
                found = actual_ws.cell(row=row, column=column).value
                if found is not None and tpl._canonical(found) == tpl._canonical(value):
                    continue
                coordinate = actual_ws.cell(row=row, column=column).coordinate
                code = actual_ws.cell(row=row, column=1).value
                self.add(
                    "STRUCTURE-LIGNE",
                    ERROR,
                    f"cellule protégée modifiée : « {_shown(found)} » au lieu de « {value} » (ligne déplacée, "
                    "supprimée ou insérée, ou libellé modifié) ; repartir du modèle.",
                    sheet=sheet,
                    cell=coordinate,
                    indicator=str(code) if sheet == tpl.INDICATEURS_SHEET and code else None,
                    found=_shown(found),
                    expected=str(value),
                )
                break

    def _empreinte(self) -> None:
        stored = self._meta("empreinte")
        actual = tpl.structure_checksum(self.formulas_wb)
        if stored != actual:
            self.add(
                "STRUCTURE-EMPREINTE",
                ERROR,
                "la structure protégée du classeur a été modifiée (empreinte différente de celle du modèle) ; "
                "repartir du modèle et y reporter les valeurs.",
                sheet=tpl.METADATA_SHEET,
                cell=tpl.METADATA_CELLS["empreinte"],
            )

    # cells ----------------------------------------------------------------------------------------------------------

    def _cells(self) -> None:
        rows: list[dict[str, Any]] = []
        layouts = (
            (tpl.INDICATEURS_SHEET, "A", None, "H", "I"),
            (tpl.DEPARTEMENTS_SHEET, "C", "A", "F", "G"),
        )
        for sheet, code_column, territory_column, value_column, obs_column in layouts:
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
        self._validate(frame)
        self._plausibility(frame)
        self.verdict.values = frame

    def _sheet_cells(self, sheet, code_column, territory_column, value_column, obs_column) -> list[dict[str, Any]]:
        values_ws, formulas_ws = self.values_wb[sheet], self.formulas_wb[sheet]
        out = []
        for row in range(tpl.FIRST_DATA_ROW, formulas_ws.max_row + 1):
            code = formulas_ws[f"{code_column}{row}"].value
            territory = formulas_ws[f"{territory_column}{row}"].value if territory_column else None
            formula = formulas_ws[f"{value_column}{row}"].value
            cached = values_ws[f"{value_column}{row}"].value
            observations = values_ws[f"{obs_column}{row}"].value
            if observations is None:  # a formula typed as an observation, with no value Excel computed: kept as typed
                observations = formulas_ws[f"{obs_column}{row}"].value
            if code is None and territory is None and formula is None and observations is None:
                continue
            is_formula = isinstance(formula, str) and formula.startswith("=")
            raw = cached if is_formula else formula
            parsed = parse_cell(raw, formulas_ws[f"{value_column}{row}"].number_format)
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
                    "unit": self.ref.units.get(code, "nombre"),
                    "raw_value": None if raw is None else _shown(raw),
                    "parsed": parsed.value,
                    "parse_status": parsed.status,
                    "percent_sign": parsed.percent_sign,
                    "formula": formula if is_formula else None,
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
            & frame["departement"].isin(self.ref.departements_of(self.verdict.region_code))
        ]
        expected_count = len(self.ref.departements_of(self.verdict.region_code))
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
                frame.at[index, "fourchette_departements"] = f"{_shown(low)} à {_shown(high)}"
                if not low - 1e-9 <= row["value"] <= high + 1e-9:
                    frame.at[index, "hors_fourchette"] = row["value"]
        return frame

    def _validate(self, frame: pd.DataFrame) -> None:
        """Run the file suite (the cells' shape) then the cell rules on `frame`; each unexpected row is a finding."""
        from etl.quality import gates

        parameters = {
            "indicateurs_nationaux": list(self.ref.national),
            "indicateurs_catalogue": list(self.ref.units),
            "departements_region": self.ref.departements_of(self.region or self.verdict.region_code),
        }
        by_line = frame.set_index("line_no")
        for suite, gate in ((FILE_SUITE, "file"), (SUITE, "rows")):
            result = gates.run_suite(suite, frame, gate=gate, parameters=parameters, home=self.home, complete=True)
            self.verdict.gate_results.append(result)
            for outcome in result.outcomes:
                if not outcome.success:
                    self.verdict.findings += gate_findings(outcome, by_line)
            if not result.passed:
                break
        self.verdict.findings.sort(key=_order)

    def _plausibility(self, frame: pd.DataFrame) -> None:
        """The plausibility rules on the cells read as numbers: counts of ZSP, structures and projects against their
        plausible range, counts of QPV against the QPV in force in their territory."""
        from etl.referentiels.catalogue import PLAUSIBLE_RANGES, QPV_UNIT
        from etl.submissions import plausibility

        numbers = frame[(frame["parse_status"] == "ok") & (frame["unit"] != "%")]  # counts (a share has CELLULE-PART)
        units = numbers["indicator_code"].map(self.ref.statistical_units)
        findings = []
        for _, row in numbers[units.isin(list(PLAUSIBLE_RANGES))].iterrows():
            departement = row["territory_code"] if row["territory_level"] == "departement" else None
            unit = self.ref.statistical_units[row["indicator_code"]]
            findings.append(plausibility.out_of_range(row, unit, departement=departement))
        findings += self._qpv_counts(numbers[units == QPV_UNIT])
        self.verdict.findings += [finding for finding in findings if finding is not None]
        self.verdict.findings.sort(key=_order)

    def _qpv_counts(self, rows: pd.DataFrame) -> list[Finding | None]:
        """Each count of QPV against the QPV in force on the campaign's reference day in the région (Indicateurs) or
        the département (Départements); a warning when the warehouse cannot tell."""
        from etl.submissions import plausibility

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
                    f"la région {self.ref.regions[region]}",
                    None,
                )
            elif code in self.ref.departements_of(region):
                name = self.ref.departements[code][0]
                count, territory, departement = (
                    in_force.departements.get(code, 0),
                    f"le département {name} ({code})",
                    code,
                )
            else:  # a département of another région: CELLULE-DEPARTEMENT says so
                continue
            findings.append(plausibility.too_many_qpv(row, count, territory, day, departement=departement))
        return findings


def sheet_findings(workbook, expected: tuple[str, ...], model: str) -> tuple[list[Finding], set[str]]:
    """(findings, the expected sheets that are missing) of a workbook's sheets against a template's: a hidden sheet,
    a missing (renamed, deleted) or extra sheet, sheets moved. `model` names the template in the messages."""
    names = workbook.sheetnames
    findings = [
        Finding(
            "STRUCTURE-FEUILLE-MASQUEE",
            ERROR,
            f"la feuille « {ws.title} » est masquée : {model} n'a pas de feuille masquée ; supprimer cette feuille ou "
            "repartir du modèle.",
            sheet=ws.title,
            found=ws.title,
        )
        for ws in workbook.worksheets
        if ws.sheet_state != "visible"
    ]
    missing = [sheet for sheet in expected if sheet not in names]
    found = ", ".join(f"« {s} »" for s in names)
    findings += [
        Finding(
            "STRUCTURE-FEUILLES",
            ERROR,
            f"la feuille « {sheet} » est absente (renommée ou supprimée ?) ; feuilles trouvées : {found}.",
            sheet=sheet,
            expected=sheet,
        )
        for sheet in missing
    ]
    findings += [
        Finding(
            "STRUCTURE-FEUILLES",
            ERROR,
            f"la feuille « {sheet} » ne fait pas partie de {model} (feuilles attendues : {', '.join(expected)}).",
            sheet=sheet,
            found=sheet,
        )
        for sheet in names
        if sheet not in expected and workbook[sheet].sheet_state == "visible"
    ]
    present = [s for s in names if s in expected]
    if not missing and present != list(expected):
        findings.append(
            Finding(
                "STRUCTURE-FEUILLES",
                ERROR,
                f"les feuilles ont été déplacées : ordre trouvé {', '.join(present)}, attendu {', '.join(expected)}.",
            )
        )
    return findings, set(missing)


def gate_findings(outcome, by_line: pd.DataFrame) -> list[Finding]:
    """The findings of a failed expectation: one per unexpected row of `by_line` (the validated frame indexed by
    `line_no`, with the columns sheet, cell, raw_value and, when they apply, indicator_code, territory_level,
    territory_code). The rule code, French message (its `{column}` placeholders filled from the row), expected
    value and the column to name (`colonne`) come from the expectation's `meta`."""
    rule = outcome.meta.get("rule", outcome.expectation_type)
    severity = ERROR if outcome.blocking else WARNING
    rows = [item["line_no"] for item in outcome.sample if item.get("line_no") in by_line.index]
    if not rows:  # a table-level expectation: no cell to name
        return [Finding(rule, severity, f"{outcome.describe()} ({outcome.meta.get('notes', '')})".strip())]
    findings = []
    for line in rows:
        row = by_line.loc[line]
        departemental = row.get("territory_level") == "departement"
        findings.append(
            Finding(
                rule,
                severity,
                _message(outcome.meta, row),
                sheet=row["sheet"],
                cell=_cell_of(row, outcome.meta.get("colonne")),
                indicator=row.get("indicator_code") or None,
                territory=row.get("territory_code") if departemental else None,
                found=_found(row),
                expected=outcome.meta.get("attendu"),
            )
        )
    return findings


def _found(row: pd.Series) -> str:
    """The value cell as typed, `(vide)` when empty (a missing text is None or NaN in the frame)."""
    raw = row["raw_value"]
    return "(vide)" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw)


# The column of a row a rule's `meta.colonne` names, per sheet (default: the value cell).
_COLUMNS = {
    "observations": {
        tpl.INDICATEURS_SHEET: tpl.INDICATEURS_OBSERVATIONS_COLUMN,
        tpl.DEPARTEMENTS_SHEET: tpl.DEPARTEMENTS_OBSERVATIONS_COLUMN,
    },
    "departement": {tpl.DEPARTEMENTS_SHEET: "A"},
}


def _cell_of(row: pd.Series, column: str | None) -> str:
    letter = _COLUMNS.get(column or "", {}).get(row["sheet"])
    return f"{letter}{row['cell'].lstrip('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}" if letter else row["cell"]


def _message(meta: dict[str, Any], row: pd.Series) -> str:
    """The suite's French message of a rule, its `{placeholders}` filled from the row."""
    fields = {key: ("" if value is None or (isinstance(value, float) and math.isnan(value)) else value)
              for key, value in row.items()}  # fmt: skip
    fields["found"] = _found(row)
    for key in ("somme_departements", "ecart_ventilation", "value"):
        number = row.get(key)
        fields[key] = _shown(float(number)) if number is not None and not pd.isna(number) else ""
    template = meta.get("message", "valeur « {found} » non conforme.")
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError):
        return template


_SHEET_ORDER = {name: index for index, name in enumerate(tpl.SHEET_NAMES)}


def _order(finding: Finding) -> tuple:
    cell = finding.cell or ""
    match = re.fullmatch(r"([A-Z]+)([0-9]+)", cell.split(":")[0])
    row, column = (int(match.group(2)), match.group(1)) if match else (0, "")
    return (finding.sheet is not None, _SHEET_ORDER.get(finding.sheet or "", 99), row, column, finding.rule)


def _year(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float) and float(raw).is_integer() and 1980 <= raw <= 2099:
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"\s*(19[89][0-9]|20[0-9]{2})\s*", raw):
        return int(raw)
    return None
