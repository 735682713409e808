"""The verdict on a returned PAQTE report: the base checker (`etl.submissions.checker`) with the PAQTE kind.

The kind supplies the report's sheets, the département (`D69` in the file name) and semester (`_2024-S1`), the
structure of every sheet but `Contexte` (covered by the empreinte only) and its input cells, read into one long frame
(one row per filled input cell, plus every value cell of `Résultats`) that the suites `paqte_submission.file` and
`paqte_submission.values` validate (rule codes PAQTE-*), then the plausibility rules. Cells are read as départements
type them: numbers as `verdict.parse_cell` (plus a trailing `€`), SIREN with group spaces, size and axis in any case,
dates as Excel dates, serials or `15/03/2024`-like text. `VALUE_COLUMNS` are what the warehouse keeps.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from etl.referentiels import periods
from etl.referentiels.codes import normalise_siren, siren_key_ok
from etl.submissions import kit, paqte, plausibility
from etl.submissions import template as tpl
from etl.submissions.checker import WorkbookChecker, check_workbook
from etl.submissions.kit import FIRST_DATA_ROW, OBSERVATIONS_MAX_LENGTH
from etl.submissions.paqte import InputField
from etl.submissions.verdict import ERROR, PAQTE, Verdict, parse_cell, shown
from etl.xlsx import cell_date

FILE_SUITE = "paqte_submission.file"
SUITE = "paqte_submission.values"

# The columns of the values frame the warehouse keeps (staging.paqte_submission_value, batch_id aside).
VALUE_COLUMNS = (
    "line_no", "departement_code", "semester", "template_version", "sheet", "cell", "field", "row_no", "raw_value",
    "value", "text", "status",
)  # fmt: skip
# Their pandas dtypes (`str`: pandas' string dtype, NaN when empty; `Int64`: nullable integer, NA outside tables).
VALUE_DTYPES = {
    column: {"line_no": "int64", "row_no": "Int64", "value": "float64"}.get(column, "str") for column in VALUE_COLUMNS
}
_TEXT_COLUMNS = ("departement_code", "semester", "template_version", "sheet", "cell", "field", "raw_value", "text")

FIRST_SIGNATURE = dt.date(paqte.FIRST_YEAR, 1, 1)

# A file name that says which département and semester it is for: paqte_D69_2024-S1.xlsx, bilan_D2A_2023-S2_v2.xlsx.
_NAME_IDENTITY = re.compile(
    r"(?:^|[^0-9A-Za-z])D(2[AB]|97[0-9]|[0-9]{2})_([0-9]{4}-S[12])(?![0-9])", flags=re.IGNORECASE
)
_EUROS_SUFFIX = re.compile(r"[ \u00a0\u202f]*(?:€|euros?)$", flags=re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


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


def _canonical_choice(raw: Any, choices: tuple[str, ...]) -> str | None:
    text = str(raw).strip().casefold() if raw is not None else ""
    return next((choice for choice in choices if choice.casefold() == text), None)


def _raw_shown(raw: Any) -> str | None:
    """The cell as the submitter sees it (None when empty): dates as `15/03/2024`, else as `verdict.shown` does."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime | dt.date):
        return f"{raw:%d/%m/%Y}"
    return shown(raw)


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
    return check_workbook(PaqteChecker, path, name=name, code=departement, period=semester, home=home)


class PaqteChecker(WorkbookChecker):
    """The PAQTE kind: the report's sheets, the département and semester, the report's input cells."""

    KIND = PAQTE
    SHEETS = paqte.PAQTE_SHEET_NAMES
    METADATA_CELLS = paqte.PAQTE_METADATA_CELLS
    TEMPLATE_VERSION = paqte.PAQTE_TEMPLATE_VERSION
    CODE, NAME, PERIOD = "departement_code", "departement_name", "semester"
    COMPARED_SHEETS = (paqte.PAQTE_METADATA_SHEET, *_INPUT_SHEETS)
    MERGE_SHEETS = paqte.PAQTE_SHEET_NAMES
    TITLE_PERIOD = re.compile(r"Bilan PAQTE ([0-9]{4}-S[12]) - ")
    FILE_SUITE, SUITE = FILE_SUITE, SUITE
    TEXTS = {
        "model": "le modèle du bilan PAQTE",
        "version": "version du modèle « {found} » : ce classeur n'est pas le modèle du bilan PAQTE en vigueur ; "
        "télécharger le modèle {version} et y reporter les réponses.",
        "identity_rule": "META-DEPARTEMENT",
        "unknown": "code département « {found} » inconnu ; attendu un code officiel de département (01, 2A, 974...).",
        "mismatch": "le code département « {code} » ne correspond pas au département « {name} » de la cellule {cell} "
        "(le code {code} est {known}).",
        "elsewhere": "le bilan est celui du département {code} ({known}) alors que le département {expected} était "
        "attendu (nom du fichier ou dépôt).",
        "period_rule": "META-SEMESTRE",
        "other_period": "le bilan est celui du semestre {found} alors que le semestre {expected} était attendu (nom "
        "du fichier ou dépôt).",
        "retitled": "le semestre a été modifié : le modèle a été distribué pour le semestre {expected}, la cellule "
        "indique {found}.",
        "restart": "repartir du modèle et y reporter les réponses",
        "answer": "une réponse",
        "checksum": "la structure protégée du classeur a été modifiée (empreinte différente de celle du modèle : "
        "libellé, contexte ou cellule protégée modifiés, feuille renommée...) ; repartir du modèle et y reporter les "
        "réponses.",
    }
    # The metadata values the structure check leaves to the metadata check.
    METADATA_VALUES = frozenset(
        paqte.PAQTE_METADATA_CELLS[key]
        for key in ("departement_code", "departement_name", "semester", "template_version", "empreinte")
    )

    def __init__(self, *args, **kwargs):
        from etl.referentiels.territories import load_departements

        super().__init__(*args, **kwargs)
        departements = load_departements()
        self.names = dict(zip(departements["code"], departements["nom"], strict=True))

    @staticmethod
    def identity_from_name(name: str) -> tuple[str | None, str | None]:
        return identity_from_name(name)

    def normalise_code(self, raw: Any) -> str | None:
        if isinstance(raw, int | float) and not isinstance(raw, bool) and float(raw).is_integer():
            return f"{int(raw):02d}"
        return None if raw is None else str(raw).strip().upper()

    def parse_period(self, raw: Any) -> tuple[str | None, dict | None]:
        semester = None if raw is None else str(raw).strip().upper()
        if _valid_semester(semester) is None:
            message = (
                f"semestre « {shown(raw)} » : attendu AAAA-S1 ou AAAA-S2 (2024-S1 pour le premier semestre 2024), "
                f"à partir de {paqte.FIRST_YEAR}."
            )
            return None, {"message": message, "found": shown(raw), "expected": "AAAA-S1 ou AAAA-S2"}
        return semester, None

    def period_fallback(self, expected: str | None) -> str | None:
        return _valid_semester(expected)

    def reference(self, code: str, period: str):
        return paqte.build_paqte_template(code, period)

    def compares_metadata(self, coordinate: str) -> bool:
        return coordinate not in self.METADATA_VALUES

    # sheets ---------------------------------------------------------------------------------------------------------

    def sheets(self) -> bool:
        names = self.formulas_wb.sheetnames
        if names == list(tpl.SHEET_NAMES):
            self.add(
                "STRUCTURE-FEUILLES",
                ERROR,
                "ce classeur est le modèle des indicateurs locaux de la campagne annuelle régionale, pas le bilan "
                "semestriel du PAQTE : l'envoyer avec les classeurs régionaux, et envoyer ici le bilan PAQTE du "
                "département.",
                found=", ".join(names),
                expected=", ".join(self.SHEETS),
            )
            return False
        return super().sheets()

    # cells ----------------------------------------------------------------------------------------------------------

    def cells(self) -> None:
        rows: list[dict[str, Any]] = []
        first = FIRST_DATA_ROW
        if paqte.BILAN_SHEET not in self.unusable_sheets:
            for coordinate, spec in paqte.BILAN_INPUTS.items():
                rows += self._cell(paqte.BILAN_SHEET, coordinate, spec, None)
        if paqte.ENTREPRISES_SHEET not in self.unusable_sheets:
            for number in range(1, paqte.ENTREPRISES_ROWS + 1):
                for letter, spec in paqte.ENTREPRISES_INPUTS.items():
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
                observations = InputField(resultat_field(code, True), "text", OBSERVATIONS_MAX_LENGTH)
                rows += self._cell(paqte.RESULTATS_SHEET, value_cell, value, None, code=code, keep_empty=True)
                rows += self._cell(paqte.RESULTATS_SHEET, observations_cell, observations, None, code=code)
        if paqte.EXEMPLES_SHEET not in self.unusable_sheets:
            for number in range(1, paqte.EXEMPLES_ROWS + 1):
                for letter, spec in paqte.EXEMPLES_INPUTS.items():
                    rows += self._cell(paqte.EXEMPLES_SHEET, f"{letter}{first + number - 1}", spec, number)
        if not rows:
            if not self.verdict.errors:  # every input sheet unreadable is already said
                self.add("PAQTE-VIDE", ERROR, "aucune cellule de saisie n'a pu être lue dans le classeur.")
            return
        frame = self._frame(rows)
        self.verdict.cells = frame[list(VALUE_COLUMNS)].copy()
        self.validate(frame, {"tailles": list(paqte.ENTREPRISE_SIZES), "axes": list(paqte.PAQTE_AXES)})
        self._plausibility(frame)
        self.verdict.values = frame

    def _cell(
        self,
        sheet: str,
        coordinate: str,
        spec: InputField,
        row_no: int | None,
        *,
        code: str = "",
        keep_empty=False,
    ) -> list[dict[str, Any]]:
        """The frame row of one input cell ([] when it is empty and not kept), with the helper columns of its kind."""
        raw, formula, number_format = self.typed(sheet, coordinate)
        is_formula = formula is not None
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
            "formula": formula,
            "formule_sans_valeur": formula if is_formula and _empty(raw) else None,
            "formule_valeur": formula if is_formula and not _empty(raw) else None,
        }
        if spec.kind in _NUMERIC_KINDS:
            self._number(out, raw, spec.kind, number_format)
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
            out["longueur"] = kit.canonical(len(text))
            out["longueur_max"] = kit.grouped(spec.max_length)
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
        day = cell_date(raw)
        end = periods.semester_bounds(self.period_for_checks)[1] if self.period_for_checks else None
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
            "nombre_texte", "montant_texte", "siren_invalide", "siren_cle", "siren", "taille", "date_texte",
            "date_hors_periode", "fin_semestre", "axe", "courriel_invalide", "texte_trop_long", "longueur",
            "longueur_max", "entreprises_listees", "classeur_vide", "resultats_vides",
        )  # fmt: skip
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

    def _plausibility(self, frame: pd.DataFrame) -> None:
        """The plausibility rules on the counts and amounts read as valid numbers (whole counts >= 0, amounts >= 0):
        each against its plausible range, a part against its whole."""
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
