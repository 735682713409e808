"""The base checker of a returned workbook: the steps both kinds share, in one order.

`check_workbook(kind, path)` opens the file safely (`etl.submissions.workbook`), then the kind's checker runs: the
sheets; the metadata (template version, else it stops; identity and period against what is expected, the file name
and the document's title); the locked structure against the template regenerated for that identity and period
(at most `MAX_ROW_FINDINGS` changed rows per sheet), and merged cells; the input cells (the kind's GX suites, whose
expectations' `meta` carry rule code, French message and expected value, then its plausibility rules); the empreinte
when nothing else is wrong; the findings sorted by sheet, row, column and rule.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.utils.cell import column_index_from_string, get_column_letter

from etl.landing import file_name_problem
from etl.submissions import kit
from etl.submissions.kit import HEADER_ROW, METADATA_SHEET
from etl.submissions.verdict import ERROR, WARNING, Finding, Verdict, found_in, shown
from etl.submissions.workbook import Unreadable, open_workbook

MAX_ROW_FINDINGS = 10  # STRUCTURE-LIGNE findings per sheet, then one finding at the next row counting the rest
VERSION_SHOWN_MAX = 60  # characters of a wrong template version quoted in its finding


class WorkbookChecker:
    """The shared steps; a kind supplies its sheets, texts, references, identity rules and cells."""

    KIND = ""
    SHEETS: tuple[str, ...] = ()
    METADATA_CELLS: dict[str, str] = {}
    TEMPLATE_VERSION = ""
    CODE, NAME, PERIOD = "", "", ""  # keys of METADATA_CELLS; CODE and PERIOD also name attributes of the Verdict
    COMPARED_SHEETS: tuple[str, ...] = ()
    MERGE_SHEETS: tuple[str, ...] = ()
    TITLE_PERIOD = re.compile("$^")
    FILE_SUITE = SUITE = ""
    COLUMNS: dict[str, dict[str, str]] = {}  # a rule's `meta.colonne` -> {sheet: the column to name}
    KEEP_INCOHERENT_CODE = False  # keep a known code that contradicts the name (else: the file name's)
    TEXTS: dict[str, str] = {}  # the kind's French messages (see the keys used below)

    def __init__(self, verdict: Verdict, opened, code: str | None, period: Any, home=None, engine=None):
        self.verdict = verdict
        self.values_wb = opened.values
        self.formulas_wb = opened.formulas
        self.expected_code = code
        self.expected_period = period
        self.home = home
        self.engine = engine
        self.names: dict[str, str] = {}  # code -> name of every known identity
        self.unusable_sheets: set[str] = set()
        self.code_for_checks: str | None = None
        self.period_for_checks: Any = None

    def typed(self, sheet: str, coordinate: str) -> tuple[Any, str | None, str | None]:
        """(the cell as typed, or for a formula the value Excel computed; the formula or None; its number format)."""
        cell = self.formulas_wb[sheet][coordinate]
        formula = cell.value if isinstance(cell.value, str) and cell.value.startswith("=") else None
        return (self.values_wb[sheet][coordinate].value if formula else cell.value), formula, cell.number_format

    def add(self, rule: str, severity: str, message: str, **where) -> None:
        self.verdict.findings.append(Finding(rule, severity, message, **where))

    def run(self) -> None:
        if not (self.sheets() and self.metadata()):
            return  # the sheets' and the version's findings, in the order they were found
        self.structure()
        self.cells()
        if not self.verdict.errors:
            self.checksum()
        self.verdict.findings.sort(key=self.order)

    # what a kind supplies -------------------------------------------------------------------------------------------

    @staticmethod
    def identity_from_name(name: str) -> tuple[str | None, Any]:
        raise NotImplementedError

    def normalise_code(self, raw: Any) -> str | None:
        return None if raw is None else str(raw).strip()

    def parse_period(self, raw: Any) -> tuple[Any, dict | None]:
        """(the period, None) or (None, the finding's message, found and expected)."""
        raise NotImplementedError

    def period_fallback(self, expected: Any) -> Any:
        """The period to compare the structure with when the metadata's cannot be read."""
        return None

    def reference(self, code: str, period: Any):
        """The template the workbook is compared with."""
        raise NotImplementedError

    def compares_metadata(self, coordinate: str) -> bool:
        """Whether the structure check compares this locked cell of `Métadonnées` (the metadata values are not)."""
        raise NotImplementedError

    def row_indicator(self, sheet: str, actual_ws, row: int) -> str | None:
        return None

    def cells(self) -> None:
        raise NotImplementedError

    # sheets ---------------------------------------------------------------------------------------------------------

    def sheets(self) -> bool:
        findings, missing = sheet_findings(self.formulas_wb, self.SHEETS, self.TEXTS["model"])
        self.verdict.findings += findings
        self.unusable_sheets |= missing
        return METADATA_SHEET in self.formulas_wb.sheetnames

    # metadata -------------------------------------------------------------------------------------------------------

    def meta(self, key: str) -> Any:
        return self.values_wb[METADATA_SHEET][self.METADATA_CELLS[key]].value

    def metadata(self) -> bool:
        version = self.meta("template_version")
        self.verdict.template_version = None if version is None else str(version).strip()
        if self.verdict.template_version != self.TEMPLATE_VERSION:
            found = shown(version)
            found = found if len(found) <= VERSION_SHOWN_MAX else found[: VERSION_SHOWN_MAX - 3] + "..."
            self.add(
                "META-VERSION",
                ERROR,
                self.TEXTS["version"].format(found=found, version=self.TEMPLATE_VERSION),
                sheet=METADATA_SHEET,
                cell=self.METADATA_CELLS["template_version"],
                found=found,
                expected=self.TEMPLATE_VERSION,
            )
            return False
        self.identity()
        self.period()
        return True

    def identity(self) -> None:
        rule, cell, texts = self.TEXTS["identity_rule"], self.METADATA_CELLS[self.CODE], self.TEXTS
        raw = self.meta(self.CODE)
        code = self.normalise_code(raw)
        name = self.meta(self.NAME)
        name = None if name is None else str(name).strip()
        where = {"sheet": METADATA_SHEET, "cell": cell}
        if code not in self.names:
            self.add(rule, ERROR, texts["unknown"].format(found=shown(raw)), **where, found=shown(raw))
        elif self.names[code] != name:
            message = texts["mismatch"].format(
                code=code, name=shown(name), cell=self.METADATA_CELLS[self.NAME], known=self.names[code]
            )
            by_name = next((c for c, n in self.names.items() if n == name), None)
            self.add(rule, ERROR, message, **where, found=code, expected=by_name)
        elif self.expected_code and code != self.expected_code:
            message = texts["elsewhere"].format(code=code, known=self.names[code], expected=self.expected_code)
            self.add(rule, ERROR, message, **where, found=code, expected=self.expected_code)
        kept = code in self.names and (self.KEEP_INCOHERENT_CODE or self.names[code] == name)
        setattr(self.verdict, self.CODE, code if kept else None)

    def period(self) -> None:
        rule, texts = self.TEXTS["period_rule"], self.TEXTS
        where = {"sheet": METADATA_SHEET, "cell": self.METADATA_CELLS[self.PERIOD]}
        value, problem = self.parse_period(self.meta(self.PERIOD))
        if problem:
            self.add(rule, ERROR, **where, **problem)
        titled = self.TITLE_PERIOD.match(self.values_wb.properties.title or "")
        if value is None:
            pass
        elif self.expected_period and value != self.expected_period:
            message = texts["other_period"].format(found=value, expected=self.expected_period)
            self.add(rule, ERROR, message, **where, found=str(value), expected=str(self.expected_period))
        elif titled and titled.group(1) != str(value):
            message = texts["retitled"].format(found=value, expected=titled.group(1))
            self.add(rule, ERROR, message, **where, found=str(value), expected=titled.group(1))
        setattr(self.verdict, self.PERIOD, value)
        self.period_for_checks = value if value is not None else self.period_fallback(self.expected_period)

    # structure ------------------------------------------------------------------------------------------------------

    def identity_for_checks(self) -> str | None:
        """The identity whose template the workbook is compared with: the metadata's when its code and name agree
        (even if another was expected: the workbook is then coherent, only misdirected), else the one whose name is
        in the metadata, else the expected one (when known)."""
        code = getattr(self.verdict, self.CODE)
        name = str(self.meta(self.NAME) or "").strip()
        if code and self.names.get(code) == name:
            return code
        by_name = next((c for c, n in self.names.items() if n == name), None)
        expected = self.expected_code if self.expected_code in self.names else None
        return by_name or expected or code

    def structure(self) -> None:
        self.code_for_checks = self.identity_for_checks()
        if self.code_for_checks is None or self.period_for_checks is None:
            return
        reference = self.reference(self.code_for_checks, self.period_for_checks)
        for sheet in self.COMPARED_SHEETS:
            if sheet not in self.unusable_sheets:
                self.compare(reference[sheet], self.formulas_wb[sheet])
        for sheet in self.MERGE_SHEETS:
            if sheet not in self.formulas_wb.sheetnames:
                continue
            for merged in sorted(self.formulas_wb[sheet].merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
                self.add(
                    "STRUCTURE-FUSION",
                    ERROR,
                    f"cellules fusionnées {merged.coord} : le modèle n'en a pas ; annuler la fusion et saisir "
                    f"{self.TEXTS['answer']} par cellule.",
                    sheet=sheet,
                    cell=merged.coord.split(":")[0],
                    found=merged.coord,
                )

    def compare(self, expected_ws, actual_ws) -> None:
        """The locked cells of the reference against the same cells of the workbook: the header row first (a column
        deleted, inserted or moved makes the sheet unreadable), then each data row (one finding per row, at its
        first differing cell; at most MAX_ROW_FINDINGS per sheet, then one finding counting the others)."""
        sheet = actual_ws.title
        restart = self.TEXTS["restart"]
        by_row: dict[int, list[tuple[int, Any]]] = {}
        for row, column, value in kit.locked_cells(expected_ws):
            if sheet == METADATA_SHEET and not self.compares_metadata(f"{get_column_letter(column)}{row}"):
                continue
            by_row.setdefault(row, []).append((column, value))
        for column, value in by_row.pop(HEADER_ROW, []):
            found = actual_ws.cell(row=HEADER_ROW, column=column).value
            if found is None or kit.canonical(found) != kit.canonical(value):
                self.add(
                    "STRUCTURE-COLONNES",
                    ERROR,
                    f"en-tête « {shown(found)} » au lieu de « {value} » : une colonne a été supprimée, insérée ou "
                    f"déplacée ; {restart}.",
                    sheet=sheet,
                    cell=f"{get_column_letter(column)}{HEADER_ROW}",
                    found=shown(found),
                    expected=str(value),
                )
                self.unusable_sheets.add(sheet)
                return
        differing: list[str] = []
        for row, cells in sorted(by_row.items()):
            for column, value in cells:
                found = actual_ws.cell(row=row, column=column).value
                if found is not None and kit.canonical(found) == kit.canonical(value):
                    continue
                differing.append(f"{get_column_letter(column)}{row}")
                if len(differing) <= MAX_ROW_FINDINGS:
                    self.add(
                        "STRUCTURE-LIGNE",
                        ERROR,
                        f"cellule protégée modifiée : « {shown(found)} » au lieu de « {value} » (ligne déplacée, "
                        f"supprimée ou insérée, ou libellé modifié) ; {restart}.",
                        sheet=sheet,
                        cell=differing[-1],
                        indicator=self.row_indicator(sheet, actual_ws, row),
                        found=shown(found),
                        expected=str(value),
                    )
                break
        if len(differing) > MAX_ROW_FINDINGS:
            self.add(
                "STRUCTURE-LIGNE",
                ERROR,
                f"cette ligne et {len(differing) - MAX_ROW_FINDINGS - 1} autre(s) plus bas diffèrent aussi du "
                f"modèle ; {restart}.",
                sheet=sheet,
                cell=differing[MAX_ROW_FINDINGS],
            )

    def checksum(self) -> None:
        if self.meta("empreinte") != kit.structure_checksum(self.formulas_wb):
            self.add(
                "STRUCTURE-EMPREINTE",
                ERROR,
                self.TEXTS["checksum"],
                sheet=METADATA_SHEET,
                cell=self.METADATA_CELLS["empreinte"],
            )

    # cells ----------------------------------------------------------------------------------------------------------

    def validate(self, frame: pd.DataFrame, parameters: dict[str, Any]) -> None:
        """Run the file suite (the frame's shape), then the cell rules; each unexpected row is a finding."""
        from etl.quality import gates

        by_line = frame.set_index("line_no")
        for suite, gate in ((self.FILE_SUITE, "file"), (self.SUITE, "rows")):
            result = gates.run_suite(suite, frame, gate=gate, parameters=parameters, home=self.home, complete=True)
            self.verdict.gate_results.append(result)
            for outcome in result.outcomes:
                if not outcome.success:
                    self.verdict.findings += gate_findings(outcome, by_line, self.COLUMNS)
            if not result.passed:
                break

    def order(self, finding: Finding) -> tuple:
        """Findings without a sheet first, then by sheet (workbook order), row, column and rule."""
        match = re.fullmatch(r"([A-Z]+)([0-9]+)", (finding.cell or "").split(":")[0])
        row, column = (int(match.group(2)), column_index_from_string(match.group(1))) if match else (0, 0)
        sheet = self.SHEETS.index(finding.sheet) if finding.sheet in self.SHEETS else 99
        return (finding.sheet is not None, sheet, row, column, finding.rule)


def check_workbook(kind: type[WorkbookChecker], path, *, name=None, code=None, period=None, home=None, engine=None):
    """The verdict on one returned workbook of `kind`. `name` is the file name as sent (default: the path's); `code`
    and `period`, when given, are what the workbook must be for (else the file name's, when it says)."""
    path = Path(path)
    name = name or path.name
    verdict = Verdict(file_name=name, kind=kind.KIND)
    problem = file_name_problem(name)
    if problem:
        verdict.findings.append(Finding("FICHIER-NOM", WARNING, problem))
    named_code, named_period = kind.identity_from_name(name)
    code_attribute, period_attribute = kind.CODE, kind.PERIOD
    try:
        opened = open_workbook(path, name=name)
    except Unreadable as exc:
        verdict.findings.append(Finding(exc.rule, ERROR, exc.message))
        setattr(verdict, code_attribute, named_code)
        setattr(verdict, period_attribute, named_period)
        return verdict
    verdict.sha256, verdict.size_bytes = opened.sha256, opened.size_bytes
    kind(verdict, opened, code or named_code, period or named_period, home, engine).run()
    # a workbook too broken to say what it is for still counts for what its name gives
    setattr(verdict, code_attribute, getattr(verdict, code_attribute) or named_code)
    setattr(verdict, period_attribute, getattr(verdict, period_attribute) or named_period)
    return verdict


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


def gate_findings(outcome, by_line: pd.DataFrame, columns: dict[str, dict[str, str]] | None = None) -> list[Finding]:
    """The findings of a failed expectation: one per unexpected row of `by_line` (the validated frame indexed by
    `line_no`, with the columns sheet, cell, raw_value and, when they apply, indicator_code, territory_level,
    territory_code). The rule code, French message (its `{column}` placeholders filled from the row), expected
    value and the column to name (`colonne`, a key of `columns`) come from the expectation's `meta`."""
    rule = outcome.meta.get("rule", outcome.expectation_type)
    severity = ERROR if outcome.blocking else WARNING
    rows = [item["line_no"] for item in outcome.sample if item.get("line_no") in by_line.index]
    if not rows:  # a table-level expectation: no cell to name
        return [Finding(rule, severity, f"{outcome.describe()} ({outcome.meta.get('notes', '')})".strip())]
    findings = []
    for line in rows:
        row = by_line.loc[line]
        letter = (columns or {}).get(outcome.meta.get("colonne") or "", {}).get(row["sheet"])
        findings.append(
            Finding(
                rule,
                severity,
                _message(outcome.meta, row),
                sheet=row["sheet"],
                cell=f"{letter}{row['cell'].lstrip('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}" if letter else row["cell"],
                indicator=row.get("indicator_code") or None,
                territory=row.get("territory_code") if row.get("territory_level") == "departement" else None,
                found=found_in(row),
                expected=outcome.meta.get("attendu"),
            )
        )
    return findings


def _message(meta: dict[str, Any], row: pd.Series) -> str:
    """The suite's French message of a rule, its `{placeholders}` filled from the row."""
    fields = {key: ("" if value is None or (isinstance(value, float) and math.isnan(value)) else value)
              for key, value in row.items()}  # fmt: skip
    fields["found"] = found_in(row)
    for key in ("somme_departements", "ecart_ventilation", "value"):
        number = row.get(key)
        fields[key] = shown(float(number)) if number is not None and not pd.isna(number) else ""
    template = meta.get("message", "valeur « {found} » non conforme.")
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError):
        return template
