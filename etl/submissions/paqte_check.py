"""The verdict on a returned PAQTE semestrial report (etl/submissions/paqte.py): every problem named by cell and rule.

`check_paqte_file(path)` loads nothing: it opens the file safely (etl.submissions.workbook), then checks, in order,

1. the sheets (names and order of `paqte.PAQTE_SHEET_NAMES`, none hidden or added) and the metadata: the template
   version (`paqte.PAQTE_TEMPLATE_VERSION`, else the check stops), the département code and its name, the semester
   (`YYYY-S1` / `YYYY-S2`), against what the caller expects or, failing that, the file name (`paqte_D69_2024-S1.xlsx`);
2. the locked structure, cell by cell, against the workbook regenerated for that département and semester without
   warehouse context (header rows: columns deleted, inserted or moved; data rows: rows moved, deleted or inserted;
   labels edited), for every sheet but `Contexte`; merged cells; then, when nothing is wrong so far, the empreinte
   (`template.structure_checksum` against `Métadonnées`!B8), which also covers the `Contexte` sheet's locked values;
3. every input cell, read into one long frame (`values`: one row per filled input cell, plus every value cell of
   `Résultats`, even empty), then validated by the Great Expectations suites `paqte_submission.file` (the frame's
   shape) and `paqte_submission.values` (the cell rules, each expectation's `meta` holding its rule code, French
   message and expected value, turned into findings by `check.gate_findings`).

Cell rules (rule codes of the suite): PAQTE-NOMBRE (a count is a whole number >= 0), PAQTE-MONTANT (euros >= 0),
PAQTE-SIREN (9 digits; a failed Luhn key is a warning), PAQTE-DOUBLON (one SIREN listed twice), PAQTE-TAILLE (GE,
ETI, PME, TPE), PAQTE-DATE (a date from 1 January 2018 to the end of the semester), PAQTE-AXE (one of the four
axes), PAQTE-COURRIEL (shape of an e-mail address, warning), PAQTE-TEXTE-LONGUEUR (the template's length limits),
PAQTE-ENTREPRISES (the number of signatories of `Bilan` against the companies listed, warning), PAQTE-VIDE (nothing
filled: error; `Résultats` all empty: warning), PAQTE-FORMULE (a formula without a value Excel computed: error; with
one: that value is used, warning). Then the plausibility rules (etl.submissions.plausibility): a figure outside its
plausible range (`PLAUSIBLE`, warning), a part above its whole (`PARTS`: the signatories engaged on an axis above the
signatories, permanent contracts above recruitments; error).

Reading, as départements type: numbers as in the regional workbook (`check.parse_cell`: `12`, `1 234`, `12,5`,
`n.d.`, `NC`), plus a trailing `€` or `euros` on amounts; a `%` in a count or an amount is refused. SIREN: digits,
group spaces removed (`552 100 554`). Size and axis: any case (`pme`, `recruter`). Dates: an Excel date, or text
`15/03/2024`, `15.03.2024`, `15-03-2024`, `2024-03-15`, or an Excel serial number.

The frame's columns for the warehouse are `VALUE_COLUMNS` (dtypes in `VALUE_DTYPES`); `text` holds what a text cell
says (free texts as typed, codes normalised: the SIREN's 9 digits, `PME`, `Recruter`, an ISO date), `value` the
number of a count or an amount, `raw_value` the cell as the submitter sees it. The other columns serve the rules.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import from_excel

from etl.referentiels import periods
from etl.submissions import paqte
from etl.submissions import template as tpl
from etl.submissions.check import ERROR, WARNING, Finding, Verdict, _shown, gate_findings, parse_cell, sheet_findings
from etl.submissions.workbook import Unreadable, file_name_problem, open_workbook

FILE_SUITE = "paqte_submission.file"
SUITE = "paqte_submission.values"

# The columns of the values frame the warehouse keeps (staging.paqte_submission_value, batch_id aside).
VALUE_COLUMNS = (
    "line_no",
    "departement_code",
    "semester",
    "template_version",
    "sheet",
    "cell",
    "field",
    "row_no",
    "raw_value",
    "value",
    "text",
    "status",
)
# Their pandas dtypes (`str`: pandas' string dtype, NaN when empty; `Int64`: nullable integer, NA outside tables).
VALUE_DTYPES = {
    column: {"line_no": "int64", "row_no": "Int64", "value": "float64"}.get(column, "str") for column in VALUE_COLUMNS
}
_TEXT_COLUMNS = ("departement_code", "semester", "template_version", "sheet", "cell", "field", "raw_value", "text")

FIRST_SIGNATURE = dt.date(paqte.FIRST_YEAR, 1, 1)
MAX_ROW_FINDINGS = 10  # STRUCTURE-LIGNE findings per sheet, then one finding at the next row counting the rest

# A file name that says which département and semester it is for: paqte_D69_2024-S1.xlsx, bilan_D2A_2023-S2_v2.xlsx.
_NAME_IDENTITY = re.compile(
    r"(?:^|[^0-9A-Za-z])D(2[AB]|97[0-9]|[0-9]{2})_([0-9]{4}-S[12])(?![0-9])", flags=re.IGNORECASE
)
_TITLE_SEMESTER = re.compile(r"Bilan PAQTE ([0-9]{4}-S[12]) - ")
_GROUP_SPACES = re.compile(r"[ \u00a0\u202f]")
_EUROS_SUFFIX = re.compile(r"[ \u00a0\u202f]*(?:€|euros?)$", flags=re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_TEXT_DATE = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


# --- the layout of the input cells ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputField:
    """One input cell kind: its `field` name, kind (count, euros, text, email, phone, siren, size, date, axis) and,
    for texts, the template's length limit."""

    name: str
    kind: str
    max_length: int | None = None


_BILAN_KINDS = {
    "short": ("text", paqte.SHORT_TEXT_MAX_LENGTH),
    "text": ("text", tpl.OBSERVATIONS_MAX_LENGTH),
    "email": ("email", paqte.EMAIL_MAX_LENGTH),
    "phone": ("phone", paqte.PHONE_MAX_LENGTH),
    "count": ("count", None),
}
BILAN_INPUTS = {
    paqte.BILAN_CELLS[key]: InputField(key, *_BILAN_KINDS[kind]) for key, (_, kind) in paqte.BILAN_FIELDS.items()
}
ENTREPRISES_INPUTS = dict(
    zip(
        paqte.ENTREPRISES_INPUT_COLUMNS,
        (
            InputField("entreprise.nom", "text", paqte.SHORT_TEXT_MAX_LENGTH),
            InputField("entreprise.siren", "siren"),
            InputField("entreprise.taille", "size"),
            InputField("entreprise.date_signature", "date"),
            InputField("entreprise.axes", "text", paqte.SHORT_TEXT_MAX_LENGTH),
        ),
        strict=True,
    )
)
EXEMPLES_INPUTS = dict(
    zip(
        paqte.EXEMPLES_INPUT_COLUMNS,
        (
            InputField("exemple.entreprise", "text", paqte.SHORT_TEXT_MAX_LENGTH),
            InputField("exemple.axe", "axis"),
            InputField("exemple.description", "text", tpl.OBSERVATIONS_MAX_LENGTH),
        ),
        strict=True,
    )
)
_UNITS = {indicator.code: indicator.unit for indicator in paqte.KEY_INDICATORS}
# The plausible range of each figure (a key of etl.referentiels.catalogue.PLAUSIBLE_RANGES), by field.
PLAUSIBLE = {"entreprises_signataires": "paqte_entreprises"} | {
    f"resultat.{indicator.code}": indicator.plausible for indicator in paqte.KEY_INDICATORS
}
# Figures that are part of another, by field: (the whole's field, the whole as the message names it).
_SIGNATORIES = ("entreprises_signataires", "les entreprises signataires du département")
PARTS = {
    "resultat.SENS_ENTREPRISES": _SIGNATORIES,
    "resultat.FORM_ENTREPRISES": _SIGNATORIES,
    "resultat.RECR_ENTREPRISES": _SIGNATORIES,
    "resultat.ACHA_ENTREPRISES": _SIGNATORIES,
    "resultat.RECR_CDI": ("resultat.RECR_RESIDENTS", "les recrutements de résidents des QPV"),
}
_NUMERIC_KINDS = ("count", "euros")
_INPUT_SHEETS = (paqte.BILAN_SHEET, paqte.ENTREPRISES_SHEET, paqte.RESULTATS_SHEET, paqte.EXEMPLES_SHEET)


def resultat_field(code: str, observations: bool = False) -> str:
    """`resultat.RECR_CDI`, `resultat.RECR_CDI.observations`."""
    return f"resultat.{code}.observations" if observations else f"resultat.{code}"


# --- reading what départements type --------------------------------------------------------------------------------


def identity_from_name(name: str) -> tuple[str | None, str | None]:
    """(département, semester) named by a file name such as `paqte_D69_2024-S1.xlsx` (`D2A`, `D974`), else
    (None, None). The semester is only checked for its shape here."""
    match = _NAME_IDENTITY.search(name or "")
    return (match.group(1).upper(), match.group(2).upper()) if match else (None, None)


def parse_date(raw: Any) -> dt.date | None:
    """A signature date: an Excel date, a text `15/03/2024` (also `.` or `-`, one-digit day or month) or
    `2024-03-15`, or an Excel serial number; None when it is none of these (or not a real day)."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        if not math.isfinite(raw) or not 1 <= raw <= 2958465:
            return None
        return from_excel(raw).date()
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    match = _TEXT_DATE.fullmatch(text)
    parts = (match.group(3), match.group(2), match.group(1)) if match else None
    if parts is None:
        match = _ISO_DATE.fullmatch(text)
        parts = match.groups() if match else None
    if parts is None:
        return None
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def normalise_siren(raw: Any) -> str | None:
    """The 9 digits of a SIREN (group spaces removed; a whole number kept as its digits), None when it is not 9
    digits."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = _GROUP_SPACES.sub("", str(raw).strip()) if raw is not None else ""
    return text if re.fullmatch(r"[0-9]{9}", text) else None


def siren_key_ok(siren: str) -> bool:
    """Whether the 9 digits pass the Luhn check that SIREN numbers carry."""
    total = 0
    for position, char in enumerate(reversed(siren)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def _canonical_choice(raw: Any, choices: tuple[str, ...]) -> str | None:
    text = str(raw).strip().casefold() if raw is not None else ""
    return next((choice for choice in choices if choice.casefold() == text), None)


def _raw_shown(raw: Any) -> str | None:
    """The cell as the submitter sees it (None when empty): dates as `15/03/2024`, else as check._shown does."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime | dt.date):
        return f"{raw:%d/%m/%Y}"
    return _shown(raw)


def _empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


# --- the check -----------------------------------------------------------------------------------------------------


def check_paqte_file(
    path: str | Path,
    *,
    name: str | None = None,
    departement: str | None = None,
    semester: str | None = None,
    home=None,
) -> Verdict:
    """The verdict on one returned PAQTE report. `name` is the file name as sent (default: the path's);
    `departement` and `semester`, when given, are what the report must be for (else the file name's `D69_2024-S1`,
    when present). The verdict carries the département, semester and template version it found (région and
    campaign stay None); `values` is the long frame of the input cells when they could be read."""
    path = Path(path)
    name = name or path.name
    verdict = Verdict(file_name=name, kind="paqte")
    problem = file_name_problem(name)
    if problem:
        verdict.findings.append(Finding("FICHIER-NOM", WARNING, problem))
    named_departement, named_semester = identity_from_name(name)
    try:
        opened = open_workbook(path, name=name)
    except Unreadable as exc:
        verdict.findings.append(Finding(exc.rule, ERROR, exc.message))
        verdict.departement_code, verdict.semester = named_departement, named_semester
        return verdict
    verdict.sha256, verdict.size_bytes = opened.sha256, opened.size_bytes
    expected_departement = departement or named_departement
    expected_semester = semester or named_semester
    _PaqteChecker(verdict, opened, expected_departement, expected_semester, home).run()
    # a report too broken to say which département it is for still counts for the one its name gives
    verdict.departement_code = verdict.departement_code or named_departement
    verdict.semester = verdict.semester or named_semester
    return verdict


class _PaqteChecker:
    def __init__(self, verdict: Verdict, opened, departement: str | None, semester: str | None, home):
        from etl.referentiels.territories import load_departements

        self.verdict = verdict
        self.values_wb = opened.values
        self.formulas_wb = opened.formulas
        self.expected_departement = departement
        self.expected_semester = semester
        self.home = home
        departements = load_departements()
        self.departements = dict(zip(departements["code"], departements["nom"], strict=True))
        self.unusable_sheets: set[str] = set()
        self.semester_for_checks: str | None = None

    def add(self, rule: str, severity: str, message: str, **where) -> None:
        self.verdict.findings.append(Finding(rule, severity, message, **where))

    def run(self) -> None:
        if self._sheets() and self._metadata():
            self._structure()
            if not self.verdict.errors:
                self._empreinte()
            self._cells()
        self.verdict.findings.sort(key=_order)

    # sheets ---------------------------------------------------------------------------------------------------------

    def _sheets(self) -> bool:
        names = self.formulas_wb.sheetnames
        expected = paqte.PAQTE_SHEET_NAMES
        if names == list(tpl.SHEET_NAMES):
            self.add(
                "STRUCTURE-FEUILLES",
                ERROR,
                "ce classeur est le modèle des indicateurs locaux de la campagne annuelle régionale, pas le bilan "
                "semestriel du PAQTE : l'envoyer avec les classeurs régionaux, et envoyer ici le bilan PAQTE du "
                "département.",
                found=", ".join(names),
                expected=", ".join(expected),
            )
            return False
        findings, missing = sheet_findings(self.formulas_wb, expected, "le modèle du bilan PAQTE")
        self.verdict.findings += findings
        self.unusable_sheets |= missing
        return paqte.PAQTE_METADATA_SHEET in names

    # metadata -------------------------------------------------------------------------------------------------------

    def _meta(self, key: str) -> Any:
        return self.values_wb[paqte.PAQTE_METADATA_SHEET][paqte.PAQTE_METADATA_CELLS[key]].value

    def _metadata(self) -> bool:
        sheet = paqte.PAQTE_METADATA_SHEET
        cells = paqte.PAQTE_METADATA_CELLS
        version = self._meta("template_version")
        self.verdict.template_version = None if version is None else str(version).strip()
        if self.verdict.template_version != paqte.PAQTE_TEMPLATE_VERSION:
            shown = _shown(version)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            self.add(
                "META-VERSION",
                ERROR,
                f"version du modèle « {shown} » : ce classeur n'est pas le modèle du bilan PAQTE en vigueur ; "
                f"télécharger le modèle {paqte.PAQTE_TEMPLATE_VERSION} et y reporter les réponses.",
                sheet=sheet,
                cell=cells["template_version"],
                found=shown,
                expected=paqte.PAQTE_TEMPLATE_VERSION,
            )
            return False
        self._metadata_departement()
        self._metadata_semester()
        return True

    def _metadata_departement(self) -> None:
        sheet, cell = paqte.PAQTE_METADATA_SHEET, paqte.PAQTE_METADATA_CELLS["departement_code"]
        raw = self._meta("departement_code")
        if isinstance(raw, int | float) and not isinstance(raw, bool) and float(raw).is_integer():
            code = f"{int(raw):02d}"
        else:
            code = None if raw is None else str(raw).strip().upper()
        name = self._meta("departement_name")
        name = None if name is None else str(name).strip()
        if code not in self.departements:
            self.add(
                "META-DEPARTEMENT",
                ERROR,
                f"code département « {_shown(raw)} » inconnu ; attendu un code officiel de département (01, 2A, "
                "974...).",
                sheet=sheet,
                cell=cell,
                found=_shown(raw),
            )
        elif self.departements[code] != name:
            self.add(
                "META-DEPARTEMENT",
                ERROR,
                f"le code département « {code} » ne correspond pas au département « {_shown(name)} » de la cellule "
                f"{paqte.PAQTE_METADATA_CELLS['departement_name']} (le code {code} est {self.departements[code]}).",
                sheet=sheet,
                cell=cell,
                found=code,
                expected=next((c for c, n in self.departements.items() if n == name), None),
            )
        elif self.expected_departement and code != self.expected_departement:
            self.add(
                "META-DEPARTEMENT",
                ERROR,
                f"le bilan est celui du département {code} ({self.departements[code]}) alors que le département "
                f"{self.expected_departement} était attendu (nom du fichier ou dépôt).",
                sheet=sheet,
                cell=cell,
                found=code,
                expected=self.expected_departement,
            )
        # a code that contradicts the name says nothing sure: the file name's département is kept instead
        coherent = code in self.departements and self.departements[code] == name
        self.verdict.departement_code = code if coherent else None

    def _metadata_semester(self) -> None:
        sheet, cell = paqte.PAQTE_METADATA_SHEET, paqte.PAQTE_METADATA_CELLS["semester"]
        raw = self._meta("semester")
        semester = None if raw is None else str(raw).strip().upper()
        try:
            paqte.parse_semester(semester)
        except ValueError:
            self.add(
                "META-SEMESTRE",
                ERROR,
                f"semestre « {_shown(raw)} » : attendu AAAA-S1 ou AAAA-S2 (2024-S1 pour le premier semestre 2024), "
                f"à partir de {paqte.FIRST_YEAR}.",
                sheet=sheet,
                cell=cell,
                found=_shown(raw),
                expected="AAAA-S1 ou AAAA-S2",
            )
            semester = None
        titled = _TITLE_SEMESTER.match(self.values_wb.properties.title or "")
        if semester is None:
            pass
        elif self.expected_semester and semester != self.expected_semester:
            self.add(
                "META-SEMESTRE",
                ERROR,
                f"le bilan est celui du semestre {semester} alors que le semestre {self.expected_semester} était "
                "attendu (nom du fichier ou dépôt).",
                sheet=sheet,
                cell=cell,
                found=semester,
                expected=self.expected_semester,
            )
        elif titled and titled.group(1) != semester:
            self.add(
                "META-SEMESTRE",
                ERROR,
                f"le semestre a été modifié : le modèle a été distribué pour le semestre {titled.group(1)}, la "
                f"cellule indique {semester}.",
                sheet=sheet,
                cell=cell,
                found=semester,
                expected=titled.group(1),
            )
        self.verdict.semester = semester
        self.semester_for_checks = semester or _valid_semester(self.expected_semester)

    # structure ------------------------------------------------------------------------------------------------------

    def _departement_for_checks(self) -> str | None:
        """The département whose workbook the report is compared with: the metadata's when its code and name agree,
        else the one whose name is in the metadata, else the expected one."""
        code = self.verdict.departement_code
        name = str(self._meta("departement_name") or "").strip()
        if code and self.departements.get(code) == name:
            return code
        by_name = next((c for c, n in self.departements.items() if n == name), None)
        expected = self.expected_departement if self.expected_departement in self.departements else None
        return by_name or expected or code

    def _structure(self) -> None:
        departement = self._departement_for_checks()
        if departement is None or self.semester_for_checks is None:
            return
        reference = paqte.build_paqte_template(departement, self.semester_for_checks)
        for sheet in (paqte.PAQTE_METADATA_SHEET, *_INPUT_SHEETS):
            if sheet not in self.unusable_sheets:
                self._compare(reference[sheet], self.formulas_wb[sheet])
        for sheet in paqte.PAQTE_SHEET_NAMES:
            if sheet not in self.formulas_wb.sheetnames:
                continue
            for merged in sorted(self.formulas_wb[sheet].merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
                self.add(
                    "STRUCTURE-FUSION",
                    ERROR,
                    f"cellules fusionnées {merged.coord} : le modèle n'en a pas ; annuler la fusion et saisir une "
                    "réponse par cellule.",
                    sheet=sheet,
                    cell=merged.coord.split(":")[0],
                    found=merged.coord,
                )

    def _compare(self, expected_ws, actual_ws) -> None:
        """The locked cells of the reference against the same cells of the report: the header row first (a column
        deleted, inserted or moved makes the sheet unreadable), then each data row (one finding per row, at its
        first differing cell; at most MAX_ROW_FINDINGS per sheet, then one finding counting the others). In
        `Métadonnées`, the values the metadata check reads and the empreinte are left out."""
        sheet = actual_ws.title
        metadata_values = {
            paqte.PAQTE_METADATA_CELLS[key]
            for key in ("departement_code", "departement_name", "semester", "template_version", "empreinte")
        }
        by_row: dict[int, list[tuple[int, Any]]] = {}
        for row, column, value in tpl._locked_cells(expected_ws):
            if sheet == paqte.PAQTE_METADATA_SHEET and f"{get_column_letter(column)}{row}" in metadata_values:
                continue
            by_row.setdefault(row, []).append((column, value))
        for column, value in by_row.pop(tpl.HEADER_ROW, []):
            found = actual_ws.cell(row=tpl.HEADER_ROW, column=column).value
            if found is None or tpl._canonical(found) != tpl._canonical(value):
                self.add(
                    "STRUCTURE-COLONNES",
                    ERROR,
                    f"en-tête « {_shown(found)} » au lieu de « {value} » : une colonne a été supprimée, insérée ou "
                    "déplacée ; repartir du modèle et y reporter les réponses.",
                    sheet=sheet,
                    cell=f"{get_column_letter(column)}{tpl.HEADER_ROW}",
                    found=_shown(found),
                    expected=str(value),
                )
                self.unusable_sheets.add(sheet)
                return
        differing: list[str] = []
        for row, cells in sorted(by_row.items()):
            for column, value in cells:
                found = actual_ws.cell(row=row, column=column).value
                if found is not None and tpl._canonical(found) == tpl._canonical(value):
                    continue
                differing.append(f"{get_column_letter(column)}{row}")
                if len(differing) <= MAX_ROW_FINDINGS:
                    self.add(
                        "STRUCTURE-LIGNE",
                        ERROR,
                        f"cellule protégée modifiée : « {_shown(found)} » au lieu de « {value} » (ligne déplacée, "
                        "supprimée ou insérée, ou libellé modifié) ; repartir du modèle et y reporter les réponses.",
                        sheet=sheet,
                        cell=f"{get_column_letter(column)}{row}",
                        found=_shown(found),
                        expected=str(value),
                    )
                break
        if len(differing) > MAX_ROW_FINDINGS:
            self.add(
                "STRUCTURE-LIGNE",
                ERROR,
                f"cette ligne et {len(differing) - MAX_ROW_FINDINGS - 1} autre(s) plus bas diffèrent aussi du "
                "modèle ; repartir du modèle et y reporter les réponses.",
                sheet=sheet,
                cell=differing[MAX_ROW_FINDINGS],
            )

    def _empreinte(self) -> None:
        stored = self._meta("empreinte")
        if stored != tpl.structure_checksum(self.formulas_wb):
            self.add(
                "STRUCTURE-EMPREINTE",
                ERROR,
                "la structure protégée du classeur a été modifiée (empreinte différente de celle du modèle : "
                "libellé, contexte ou cellule protégée modifiés, feuille renommée...) ; repartir du modèle et y "
                "reporter les réponses.",
                sheet=paqte.PAQTE_METADATA_SHEET,
                cell=paqte.PAQTE_METADATA_CELLS["empreinte"],
            )

    # cells ----------------------------------------------------------------------------------------------------------

    def _cells(self) -> None:
        rows: list[dict[str, Any]] = []
        first = tpl.FIRST_DATA_ROW
        if paqte.BILAN_SHEET not in self.unusable_sheets:
            for coordinate, spec in BILAN_INPUTS.items():
                rows += self._cell(paqte.BILAN_SHEET, coordinate, spec, None)
        if paqte.ENTREPRISES_SHEET not in self.unusable_sheets:
            for number in range(1, paqte.ENTREPRISES_ROWS + 1):
                for letter, spec in ENTREPRISES_INPUTS.items():
                    rows += self._cell(paqte.ENTREPRISES_SHEET, f"{letter}{first + number - 1}", spec, number)
        if paqte.RESULTATS_SHEET not in self.unusable_sheets:
            ws = self.formulas_wb[paqte.RESULTATS_SHEET]
            for row, indicator in enumerate(paqte.KEY_INDICATORS, start=first):
                code = ws[f"A{row}"].value
                code = str(code).strip() if not _empty(code) else indicator.code
                kind = "euros" if _UNITS.get(code, indicator.unit) == "euros" else "count"
                value_cell = f"{paqte.RESULTATS_VALUE_COLUMN}{row}"
                observations_cell = f"{paqte.RESULTATS_OBSERVATIONS_COLUMN}{row}"
                value = InputField(resultat_field(code), kind)
                observations = InputField(resultat_field(code, True), "text", tpl.OBSERVATIONS_MAX_LENGTH)
                rows += self._cell(paqte.RESULTATS_SHEET, value_cell, value, None, code=code, keep_empty=True)
                rows += self._cell(paqte.RESULTATS_SHEET, observations_cell, observations, None, code=code)
        if paqte.EXEMPLES_SHEET not in self.unusable_sheets:
            for number in range(1, paqte.EXEMPLES_ROWS + 1):
                for letter, spec in EXEMPLES_INPUTS.items():
                    rows += self._cell(paqte.EXEMPLES_SHEET, f"{letter}{first + number - 1}", spec, number)
        if not rows:
            if not self.verdict.errors:  # every input sheet unreadable is already said
                self.add("PAQTE-VIDE", ERROR, "aucune cellule de saisie n'a pu être lue dans le classeur.")
            return
        frame = self._frame(rows)
        self.verdict.cells = frame[list(VALUE_COLUMNS)].copy()
        self._validate(frame)
        self._plausibility(frame)
        self.verdict.values = frame

    def _cell(
        self, sheet: str, coordinate: str, spec: InputField, row_no: int | None, *, code: str = "", keep_empty=False
    ) -> list[dict[str, Any]]:
        """The frame row of one input cell ([] when it is empty and not kept), with the helper columns of its kind."""
        formula_cell = self.formulas_wb[sheet][coordinate]
        formula = formula_cell.value
        is_formula = isinstance(formula, str) and formula.startswith("=")
        raw = self.values_wb[sheet][coordinate].value if is_formula else formula
        if _empty(raw) and not is_formula and not keep_empty:
            return []
        out: dict[str, Any] = {
            "sheet": sheet,
            "cell": coordinate,
            "field": spec.name,
            "row_no": row_no,
            "raw_value": _raw_shown(raw),
            "value": float("nan"),
            "text": None,
            "status": "missing",
            "kind": spec.kind,
            "indicator_code": code,
            "formula": formula if is_formula else None,
            "formule_sans_valeur": formula if is_formula and _empty(raw) else None,
            "formule_valeur": formula if is_formula and not _empty(raw) else None,
        }
        if spec.kind in _NUMERIC_KINDS:
            self._number(out, raw, spec.kind, formula_cell.number_format)
        elif not _empty(raw):
            self._text(out, raw, spec)
        return [out]

    @staticmethod
    def _number(out: dict[str, Any], raw: Any, kind: str, number_format: str | None) -> None:
        if kind == "euros" and isinstance(raw, str):
            raw = _EUROS_SUFFIX.sub("", raw.strip())
        parsed = parse_cell(raw, number_format)
        status = "invalide" if parsed.percent_sign else parsed.status
        prefix = "nombre" if kind == "count" else "montant"
        if status == "invalide":
            out[f"{prefix}_texte"] = out["raw_value"]
            return
        if status != "ok":  # empty, n.d., NC
            return
        out["value"] = parsed.value
        out["status"] = "ok"
        out[prefix] = parsed.value
        if kind == "count":
            out["nombre_fraction"] = parsed.value - math.floor(parsed.value)

    def _text(self, out: dict[str, Any], raw: Any, spec: InputField) -> None:
        text = raw if isinstance(raw, str) else out["raw_value"]
        out["status"] = "ok"
        out["text"] = text
        if spec.max_length is not None and len(text) > spec.max_length:
            out["texte_trop_long"] = out["raw_value"]
            out["longueur"] = tpl._canonical(len(text))
            out["longueur_max"] = f"{spec.max_length:,}".replace(",", "\u00a0")
        if spec.kind == "email" and not _EMAIL.fullmatch(text.strip()):
            out["courriel_invalide"] = out["raw_value"]
        elif spec.kind == "siren":
            siren = normalise_siren(raw)
            if siren is None:
                out["siren_invalide"] = out["raw_value"]
                out["text"] = text.strip()
            else:
                out["text"] = out["siren"] = siren
                if not siren_key_ok(siren):
                    out["siren_cle"] = out["raw_value"]
        elif spec.kind == "size":
            size = _canonical_choice(raw, paqte.ENTREPRISE_SIZES)
            out["text"] = out["taille"] = size or text.strip()
        elif spec.kind == "axis":
            axis = _canonical_choice(raw, paqte.PAQTE_AXES)
            out["text"] = out["axe"] = axis or text.strip()
        elif spec.kind == "date":
            self._date(out, raw, text)

    def _date(self, out: dict[str, Any], raw: Any, text: str) -> None:
        day = parse_date(raw)
        end = periods.semester_bounds(self.semester_for_checks)[1] if self.semester_for_checks else None
        out["fin_semestre"] = f"{end:%d/%m/%Y}" if end else "la fin du semestre"
        if day is None:
            out["date_texte"] = out["raw_value"]
            out["text"] = text.strip()
            return
        out["text"] = day.isoformat()
        if day < FIRST_SIGNATURE or (end is not None and day > end):
            out["date_hors_periode"] = out["raw_value"]

    def _frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        """The long frame: VALUE_COLUMNS, then the helper columns of the rules (set only where a rule applies)."""
        frame = pd.DataFrame(rows)
        frame.insert(0, "line_no", np.arange(1, len(frame) + 1, dtype="int64"))
        frame.insert(1, "departement_code", self.verdict.departement_code)
        frame.insert(2, "semester", self.verdict.semester)
        frame.insert(3, "template_version", self.verdict.template_version)
        numeric = ("value", "nombre", "nombre_fraction", "montant", "ecart_entreprises")
        helpers = (
            "nombre_texte",
            "montant_texte",
            "siren_invalide",
            "siren_cle",
            "siren",
            "taille",
            "date_texte",
            "date_hors_periode",
            "fin_semestre",
            "axe",
            "courriel_invalide",
            "texte_trop_long",
            "longueur",
            "longueur_max",
            "entreprises_listees",
            "classeur_vide",
            "resultats_vides",
        )
        for column in (*numeric, *helpers):
            if column not in frame.columns:
                frame[column] = np.nan if column in numeric else None
        self._table_rules(frame, paqte.ENTREPRISES_SHEET not in self.unusable_sheets)
        frame["row_no"] = frame["row_no"].astype("Int64")
        for column in numeric:
            frame[column] = frame[column].astype("float64")
        for column in (*_TEXT_COLUMNS, "status", "kind", "formula", "formule_sans_valeur", "formule_valeur", *helpers):
            frame[column] = frame[column].astype("str")
        frame["indicator_code"] = frame["indicator_code"].fillna("").astype("str")
        return frame[[*VALUE_COLUMNS, *[c for c in frame.columns if c not in VALUE_COLUMNS]]]

    @staticmethod
    def _table_rules(frame: pd.DataFrame, companies_read: bool) -> None:
        """The rules that look at several cells: signatories counted against the companies listed (when the
        `Entreprises` sheet could be read), nothing filled."""
        listed = frame.loc[frame["sheet"] == paqte.ENTREPRISES_SHEET, "row_no"].nunique()
        announced = frame[(frame["field"] == "entreprises_signataires") & (frame["status"] == "ok") & companies_read]
        for index, count in announced["value"].items():
            table_full = listed == paqte.ENTREPRISES_ROWS and count >= listed
            if not table_full:
                frame.at[index, "ecart_entreprises"] = float(count) - listed
                frame.at[index, "entreprises_listees"] = str(listed)
        typed = frame["raw_value"].notna() | frame["formula"].notna()
        results = frame[frame["field"].str.startswith("resultat.") & ~frame["field"].str.endswith(".observations")]
        if not typed.any():
            frame.at[frame.index[0], "classeur_vide"] = frame.at[frame.index[0], "cell"]
        elif not results.empty and not typed[results.index].any():
            frame.at[results.index[0], "resultats_vides"] = frame.at[results.index[0], "cell"]

    def _validate(self, frame: pd.DataFrame) -> None:
        """Run the file suite (the frame's shape), then the cell rules; each unexpected row is a finding."""
        from etl.quality import gates

        parameters = {"tailles": list(paqte.ENTREPRISE_SIZES), "axes": list(paqte.PAQTE_AXES)}
        by_line = frame.set_index("line_no")
        for suite, gate in ((FILE_SUITE, "file"), (SUITE, "rows")):
            result = gates.run_suite(suite, frame, gate=gate, parameters=parameters, home=self.home, complete=True)
            self.verdict.gate_results.append(result)
            for outcome in result.outcomes:
                if not outcome.success:
                    self.verdict.findings += gate_findings(outcome, by_line)
            if not result.passed:
                break

    def _plausibility(self, frame: pd.DataFrame) -> None:
        """The plausibility rules on the counts and amounts read as valid numbers (whole counts >= 0, amounts >= 0):
        each against its plausible range, a part against its whole."""
        from etl.submissions import plausibility

        valid = (frame["status"] == "ok") & (frame["value"] >= 0)
        valid &= (frame["kind"] != "count") | (frame["value"] % 1 == 0)
        numbers = {row["field"]: row for _, row in frame[valid & frame["field"].isin(list(PLAUSIBLE))].iterrows()}
        findings = [plausibility.out_of_range(row, PLAUSIBLE[field]) for field, row in numbers.items()]
        for field, (whole, what) in PARTS.items():
            if field in numbers and whole in numbers:
                findings.append(plausibility.part_above_whole(numbers[field], numbers[whole], what))
        self.verdict.findings += [finding for finding in findings if finding is not None]


def _valid_semester(semester: str | None) -> str | None:
    try:
        paqte.parse_semester(semester)
    except ValueError:
        return None
    return semester


_SHEET_ORDER = {name: index for index, name in enumerate(paqte.PAQTE_SHEET_NAMES)}


def _order(finding: Finding) -> tuple:
    """Findings without a sheet first, then by sheet (workbook order), row, column and rule."""
    match = re.fullmatch(r"([A-Z]+)([0-9]+)", (finding.cell or "").split(":")[0])
    row, column = (int(match.group(2)), column_index_from_string(match.group(1))) if match else (0, 0)
    return (finding.sheet is not None, _SHEET_ORDER.get(finding.sheet or "", 99), row, column, finding.rule)
