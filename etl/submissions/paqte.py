"""The Excel workbook of the semestrial PAQTE report a département sends in (letter of 22 January 2019, annex 2).

One workbook per département and semester, built with the kit's conventions (`etl.submissions.kit`). Sheets
(`PAQTE_SHEET_NAMES`): `Métadonnées` (locked), `Contexte` (read-only figures of the warehouse, `PaqteContext`),
`Bilan` (the suggested format's items), `Entreprises` (one numbered row per signatory company), `Résultats` (one row
per key indicator of the four axes: `KEY_INDICATORS`, our choice, the letter's press kit being unavailable) and
`Exemples d'actions`. Every input cell is declared once (`InputField`): the template draws its Excel validation from
it and the checker (`etl.submissions.paqte_check`) its rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils.cell import column_index_from_string
from openpyxl.worksheet.worksheet import Worksheet

from etl import xlsx
from etl.referentiels.periods import semester_bounds, semester_parts
from etl.referentiels.territories import departement_names
from etl.submissions import kit
from etl.submissions.kit import (
    AVAILABLE,
    CHECKSUM_CELL,
    FIRST_DATA_ROW,
    METADATA_SHEET,
    NOT_AVAILABLE,
    NUMBER_FORMATS,
    OBSERVATIONS_MAX_LENGTH,
    TEXT_FORMAT,
    add_validation,
    input_cell,
    locked,
    protect,
    write_header,
)

PAQTE_TEMPLATE_VERSION = "paqte.1"
FIRST_YEAR = 2018  # the PAQTE was launched in July 2018
LAST_YEAR = 2099

PAQTE_METADATA_SHEET = METADATA_SHEET
CONTEXTE_SHEET = "Contexte"
BILAN_SHEET = "Bilan"
ENTREPRISES_SHEET = "Entreprises"
RESULTATS_SHEET = "Résultats"
EXEMPLES_SHEET = "Exemples d'actions"
PAQTE_SHEET_NAMES = (
    PAQTE_METADATA_SHEET,
    CONTEXTE_SHEET,
    BILAN_SHEET,
    ENTREPRISES_SHEET,
    RESULTATS_SHEET,
    EXEMPLES_SHEET,
)

# Métadonnées: key -> (label in column A, cell of the value in column B). The empreinte must be B8 (see above).
PAQTE_METADATA_FIELDS = {
    "departement_code": ("Code département", "B2"),
    "departement_name": ("Département", "B3"),
    "region_name": ("Région", "B4"),
    "semester": ("Semestre", "B5"),
    "template_version": ("Version du modèle", "B6"),
    "note": ("Note", "B7"),
    "empreinte": ("Empreinte", CHECKSUM_CELL),
    "conventions": ("Conventions de saisie", "B9"),
}
PAQTE_METADATA_CELLS = {key: cell for key, (_, cell) in PAQTE_METADATA_FIELDS.items()}

COUNT_FORMAT = NUMBER_FORMATS["nombre"]
EUROS_FORMAT = NUMBER_FORMATS["euros"]
DATE_FORMAT = "dd/mm/yyyy"
SHORT_TEXT_MAX_LENGTH = 200
PHONE_MAX_LENGTH = 30
EMAIL_MAX_LENGTH = 254
SIREN_LENGTH = 9
PARTIAL = "partielle"

# --- Contexte ------------------------------------------------------------------------------------------------------

CONTEXTE_HEADERS = ("Élément", "Valeur", "Période", "Source", "Disponibilité", "Précisions")
# key (a field of PaqteContext) -> (label, source shown when the context gives none).
CONTEXT_LINES = {
    "qpv_count": ("Nombre de QPV du département", "Référentiel des QPV (ANCT)"),
    "qpv_population": ("Population des QPV du département", "Insee (absent de l'entrepôt)"),
    "pru_national": (
        "Projets de renouvellement urbain (PRU) d'intérêt national",
        "ANRU, NPNRU (absent de l'entrepôt)",
    ),
    "defm_a": ("Demandeurs d'emploi en fin de mois (DEFM) dans les QPV, catégorie A", "France Travail"),
    "defm_abc": ("Demandeurs d'emploi en fin de mois (DEFM) dans les QPV, catégories A, B et C", "France Travail"),
}
CONTEXTE_VALUE_INDEX = CONTEXTE_HEADERS.index("Valeur") + 1
CONTEXT_ROWS = {key: row for row, key in enumerate(CONTEXT_LINES, start=FIRST_DATA_ROW)}
NO_CONTEXT = "Classeur généré sans consulter l'entrepôt de l'Observatoire QPV."
NOT_IN_WAREHOUSE = "Donnée absente de l'entrepôt de l'Observatoire QPV : à compléter par vos soins si besoin."

# --- input cells -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputField:
    """One input cell kind: its `name` in the checked frame, its kind (count, euros, text, email, phone, siren, size,
    date, axis), a text's length limit, and the Excel prompt (title, text). The template draws each cell's validation
    from it (`field_validation`), the checker its rule."""

    name: str
    kind: str
    max_length: int | None = None
    title: str = ""
    prompt: str = ""


def _short(name: str, title: str = "Texte court", prompt: str = "200 caractères au plus.") -> InputField:
    return InputField(name, "text", SHORT_TEXT_MAX_LENGTH, title, prompt)


def _long(
    name: str, title: str = "Texte libre", prompt: str = "Texte libre de 2 000 caractères au plus."
) -> InputField:
    return InputField(name, "text", OBSERVATIONS_MAX_LENGTH, title, prompt)


BILAN_HEADERS = ("Rubrique", "Réponse")
# label in column A -> its input in column B; one row each from FIRST_DATA_ROW.
BILAN_FIELDS = {
    "Référent PAQTE : nom et prénom": _short("referent_nom"),
    "Référent PAQTE : fonction et service": _short("referent_fonction"),
    "Référent PAQTE : courriel": InputField(
        "referent_courriel", "email", EMAIL_MAX_LENGTH, "Courriel", "Adresse électronique du référent PAQTE."
    ),
    "Référent PAQTE : téléphone": InputField(
        "referent_telephone", "phone", PHONE_MAX_LENGTH, "Téléphone", "Numéro de téléphone (01 23 45 67 89)."
    ),
    "Organisation retenue de suivi et d'animation du PAQTE (chargé de mission en préfecture, délégué du préfet "
    "référent, subventions à des partenaires chargés de l'animation, comité de pilotage...)": _long("organisation"),
    "Nombre d'entreprises signataires au niveau départemental": InputField(
        "entreprises_signataires",
        "count",
        title="Nombre",
        prompt="Nombre d'entreprises ayant signé une convention PAQTE dans le département ; les lister dans la "
        "feuille « Entreprises ».",
    ),
    "Associations et autres acteurs partenaires du déploiement du PAQTE": _long("partenaires"),
    "Stratégie définie et obstacles rencontrés dans la mise en place du PAQTE": _long("strategie_obstacles"),
}
BILAN_INPUTS = {f"B{row}": field for row, field in enumerate(BILAN_FIELDS.values(), start=FIRST_DATA_ROW)}
BILAN_CELLS = {field.name: cell for cell, field in BILAN_INPUTS.items()}

ENTREPRISES_HEADERS = ("N°", "Entreprise", "SIREN", "Taille", "Date de signature", "Axes retenus")
ENTREPRISES_ROWS = 200
ENTREPRISE_SIZES = ("GE", "ETI", "PME", "TPE")
ENTREPRISES_INPUTS = {
    "B": _short("entreprise.nom", "Entreprise", "Raison sociale de l'entreprise signataire."),
    "C": InputField(
        "entreprise.siren", "siren", None, "SIREN", "Les 9 chiffres du SIREN de l'entreprise, sans espace."
    ),
    "D": InputField(
        "entreprise.taille",
        "size",
        None,
        "Taille de l'entreprise",
        "GE (grande entreprise), ETI (entreprise de taille intermédiaire), PME ou TPE.",
    ),
    "E": InputField(
        "entreprise.date_signature",
        "date",
        None,
        "Date de signature",
        "Date de signature de la convention PAQTE (JJ/MM/AAAA).",
    ),
    "F": _short(
        "entreprise.axes",
        "Axes retenus",
        "Axes retenus dans la convention, séparés par des virgules : Sensibiliser, Former, Recruter, Acheter (une PME "
        "ou TPE peut n'en retenir qu'une partie ou valoriser d'autres engagements).",
    ),
}
ENTREPRISES_INPUT_COLUMNS = tuple(ENTREPRISES_INPUTS)

# --- Résultats -----------------------------------------------------------------------------------------------------

PAQTE_AXES = ("Sensibiliser", "Former", "Recruter", "Acheter")


@dataclass(frozen=True)
class KeyIndicator:
    """One key indicator of a PAQTE axis, as the `Résultats` sheet shows it (unit `nombre` or `euros`), and the
    plausible range of its figure (a key of `etl.referentiels.catalogue.PLAUSIBLE_RANGES`)."""

    code: str
    axis: str
    label: str
    unit: str
    plausible: str


# One key indicator in two lines, in the order of the sheet: code | axis | unit | plausible range, then its label. The
# first indicator of each axis is the number of signatories engaged on it.
_KEY_INDICATORS = """
SENS_ENTREPRISES | Sensibiliser | nombre | paqte_entreprises
    Entreprises signataires engagées sur cet axe, en fin de semestre
SENS_STAGES_3E | Sensibiliser | nombre | paqte_eleves
    Stages de 3e proposés à des élèves de collèges REP+ au semestre
SENS_ELEVES_3E | Sensibiliser | nombre | paqte_eleves
    Élèves de collèges REP+ accueillis en stage de 3e au semestre
FORM_ENTREPRISES | Former | nombre | paqte_entreprises
    Entreprises signataires engagées sur cet axe, en fin de semestre
FORM_ALTERNANCE | Former | nombre | paqte_contrats
    Contrats en alternance (apprentissage, professionnalisation) signés par des habitants des QPV au semestre
RECR_ENTREPRISES | Recruter | nombre | paqte_entreprises
    Entreprises signataires engagées sur cet axe, en fin de semestre
RECR_RESIDENTS | Recruter | nombre | paqte_contrats
    Recrutements de résidents des QPV au semestre (tous contrats)
RECR_CDI | Recruter | nombre | paqte_contrats
    dont recrutements en contrat à durée indéterminée (CDI)
ACHA_ENTREPRISES | Acheter | nombre | paqte_entreprises
    Entreprises signataires engagées sur cet axe, en fin de semestre
ACHA_QPV | Acheter | euros | paqte_euros
    Montant des achats auprès d'entreprises implantées dans les QPV au semestre
ACHA_ESS | Acheter | euros | paqte_euros
    Montant des achats auprès de structures de l'économie sociale et solidaire (ESS) au semestre
"""
_KEY_LINES = _KEY_INDICATORS.strip().splitlines()
KEY_INDICATORS = tuple(
    KeyIndicator(code, axis, label.strip(), unit, plausible)
    for (code, axis, unit, plausible), label in zip(
        (line.split(" | ") for line in _KEY_LINES[::2]), _KEY_LINES[1::2], strict=True
    )
)
RESULTATS_HEADERS = ("Code", "Axe", "Indicateur", "Unité", "Valeur", "Observations")
RESULTATS_VALUE_COLUMN = "E"
RESULTATS_OBSERVATIONS_COLUMN = "F"
RESULTATS_VALUE_INDEX = column_index_from_string(RESULTATS_VALUE_COLUMN)
RESULTATS_OBSERVATIONS_INDEX = column_index_from_string(RESULTATS_OBSERVATIONS_COLUMN)
RESULTATS_OBSERVATIONS = InputField(
    "",
    "text",
    OBSERVATIONS_MAX_LENGTH,
    "Observations",
    "Précisions sur le résultat : entreprises prises en compte, mode de calcul, difficultés de collecte (2 000 "
    "caractères au plus).",
)

# --- Exemples d'actions --------------------------------------------------------------------------------------------

EXEMPLES_HEADERS = ("N°", "Entreprise", "Axe", "Description de l'action")
EXEMPLES_ROWS = 20
EXEMPLES_INPUTS = {
    "B": _short("exemple.entreprise", "Entreprise", "Entreprise signataire qui a mené l'action."),
    "C": InputField("exemple.axe", "axis", None, "Axe du PAQTE", "Sensibiliser, Former, Recruter ou Acheter."),
    "D": _long(
        "exemple.description",
        "Description de l'action",
        "Action concrète réalisée : public, nombre de bénéficiaires, partenaires, résultats (2 000 caractères au "
        "plus).",
    ),
}
EXEMPLES_INPUT_COLUMNS = tuple(EXEMPLES_INPUTS)

# --- texts ---------------------------------------------------------------------------------------------------------

GENERATION_NOTE = (
    "Modèle du bilan semestriel du pacte avec les quartiers pour toutes les entreprises (PAQTE), établi par "
    "l'Observatoire QPV d'après le format proposé par la lettre du Premier ministre du 22 janvier 2019 (annexe 2) : "
    "bilan quantitatif et qualitatif de la montée en charge du PAQTE, à transmettre tous les six mois. À compléter : "
    "cellules sur fond jaune des feuilles « Bilan », « Entreprises », « Résultats » et « Exemples d'actions ». La "
    "feuille « Contexte » est pré-remplie à partir de l'entrepôt de l'Observatoire QPV, pour information. Les "
    "indicateurs clés de la feuille « Résultats » sont une proposition de l'Observatoire. La structure du classeur "
    "est protégée et son empreinte est vérifiée à la réception."
)
INPUT_CONVENTIONS = (
    "Nombres (entreprises, stages, contrats, recrutements) : nombre entier supérieur ou égal à 0. Montants : en "
    "euros, supérieur ou égal à 0, sans le signe €. SIREN : les 9 chiffres, sans espace. Taille : GE (grande "
    "entreprise), ETI, PME ou TPE. Date de signature : JJ/MM/AAAA, entre le 01/01/2018 et la fin du semestre. Axes : "
    "Sensibiliser, Former, Recruter, Acheter. Les résultats portent sur les entreprises signataires du département. "
    "Laisser vide une donnée non disponible et l'expliquer dans les observations (2 000 caractères au plus)."
)

# --- arguments -----------------------------------------------------------------------------------------------------


def parse_semester(semester: str) -> tuple[int, int]:
    """(year, half) of a semester code `YYYY-S1` / `YYYY-S2` with a year from 2018 to 2099; ValueError otherwise."""
    try:
        year, half = semester_parts(semester)
    except ValueError:
        year, half = 0, 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(
            f"The semester must be written YYYY-S1 or YYYY-S2 with a year between {FIRST_YEAR} and {LAST_YEAR} "
            f"(the PAQTE started in {FIRST_YEAR}), not {semester!r}."
        )
    return year, half


# --- context -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextValue:
    """One figure of the `Contexte` sheet: value (None when unknown), period code, source label, remark, and whether
    the value is a partial sum (some of its parts unknown)."""

    value: int | float | None = None
    period: str = ""
    source: str = ""
    note: str = ""
    partial: bool = False

    @property
    def availability(self) -> str:
        if self.value is None:
            return NOT_AVAILABLE
        return PARTIAL if self.partial else AVAILABLE


@dataclass(frozen=True)
class PaqteContext:
    """What the warehouse knows of a département for a semester (one `ContextValue` per line of `CONTEXT_LINES`)."""

    departement_code: str
    semester: str
    qpv_count: ContextValue = ContextValue()
    qpv_population: ContextValue = ContextValue()
    pru_national: ContextValue = ContextValue()
    defm_a: ContextValue = ContextValue()
    defm_abc: ContextValue = ContextValue()


# --- validations ---------------------------------------------------------------------------------------------------

# kind -> (error title, error message) of the validations whose message does not depend on the cell.
_ERRORS = {
    "email": ("Courriel non valide", "Saisir une adresse électronique de la forme prenom.nom@departement.gouv.fr."),
    "siren": ("SIREN non valide", "Le SIREN compte exactement 9 chiffres, sans espace (par exemple 552100554)."),
    "size": ("Taille non valide", "Choisir la taille dans la liste : GE, ETI, PME ou TPE."),
    "axis": ("Axe non valide", "Choisir un axe du PAQTE dans la liste : Sensibiliser, Former, Recruter ou Acheter."),
}
_CHOICES = {"size": ENTREPRISE_SIZES, "axis": PAQTE_AXES}


def field_validation(field: InputField, cell: str, last_day: dt.date):
    """The Excel validation of the input cells of `field` (`cell`: the first one, which a formula names)."""
    if field.kind in ("text", "phone"):
        return kit.text_validation(field.max_length, field.title, field.prompt)
    if field.kind in ("euros", "count"):
        return kit.number_validation(field.kind, field.title, field.prompt)
    prompt = {"promptTitle": field.title, "prompt": field.prompt}
    if field.kind == "date":
        return kit.validation(
            type="date",
            operator="between",
            formula1=f"DATE({FIRST_YEAR},1,1)",
            formula2=f"DATE({last_day.year},{last_day.month},{last_day.day})",
            errorTitle="Date non valide",
            error=f"Saisir une date JJ/MM/AAAA entre le 01/01/{FIRST_YEAR} et le {last_day:%d/%m/%Y} (fin du "
            "semestre).",
            **prompt,
        )
    title, error = _ERRORS[field.kind]
    options = {
        "email": {
            "type": "custom",
            "formula1": f'AND(LEN({cell})<={field.max_length},ISNUMBER(SEARCH("?@?*.?*",{cell})))',
        },
        "siren": {"type": "textLength", "operator": "equal", "formula1": str(SIREN_LENGTH)},
    }.get(field.kind) or {"type": "list", "formula1": '"' + ",".join(_CHOICES[field.kind]) + '"'}
    return kit.validation(errorTitle=title, error=error, **(prompt | options))


def _add_validations(ws: Worksheet, column: str, rows_by_field: dict[InputField, list[int]], last_day) -> None:
    for field, rows in rows_by_field.items():
        add_validation(ws, field_validation(field, f"{column}{rows[0]}", last_day), column, rows)


# --- sheets --------------------------------------------------------------------------------------------------------


def _metadata_sheet(ws: Worksheet, values: dict[str, Any]) -> None:
    kit.metadata_sheet(ws, PAQTE_METADATA_FIELDS, values)


def _contexte_sheet(ws: Worksheet, context: PaqteContext | None) -> None:
    write_header(ws, CONTEXTE_HEADERS, (50, 14, 10, 40, 15, 80))
    for key, row in CONTEXT_ROWS.items():
        label, default_source = CONTEXT_LINES[key]
        value: ContextValue = getattr(context, key) if context is not None else ContextValue(note=NO_CONTEXT)
        cells = (label, value.value, value.period, value.source or default_source, value.availability, value.note)
        for column, cell in enumerate(cells, start=1):
            locked(ws, row, column, cell, COUNT_FORMAT if column == CONTEXTE_VALUE_INDEX else TEXT_FORMAT)
    protect(ws)


def _bilan_sheet(ws: Worksheet, last_day: dt.date) -> None:
    write_header(ws, BILAN_HEADERS, (60, 90))
    rows: dict[InputField, list[int]] = {}
    for row, (label, field) in enumerate(BILAN_FIELDS.items(), start=FIRST_DATA_ROW):
        kit.label(ws, row, label)
        input_cell(ws, row, 2, COUNT_FORMAT if field.kind == "count" else TEXT_FORMAT)
        rows.setdefault(replace(field, name=""), []).append(row)
    _add_validations(ws, "B", rows, last_day)
    protect(ws)


def _numbered_table(ws: Worksheet, headers, widths, count: int, inputs: dict[str, InputField], last_day) -> None:
    """A table of `count` numbered rows (the numbers locked in A), then on every row one input cell per field of
    `inputs` (column letter -> field)."""
    write_header(ws, headers, widths)
    rows = list(range(FIRST_DATA_ROW, FIRST_DATA_ROW + count))
    for number, row in enumerate(rows, start=1):
        locked(ws, row, 1, number, "0")
        for column, field in enumerate(inputs.values(), start=2):
            input_cell(ws, row, column, DATE_FORMAT if field.kind == "date" else TEXT_FORMAT)
    for letter, field in inputs.items():
        _add_validations(ws, letter, {field: rows}, last_day)
    protect(ws)


def _resultats_sheet(ws: Worksheet, last_day: dt.date) -> None:
    write_header(ws, RESULTATS_HEADERS, (18, 13, 70, 9, 16, 60))
    values: dict[InputField, list[int]] = {}
    prompt = "Résultat agrégé des entreprises signataires du département. Laisser vide si inconnu et l'expliquer."
    for row, indicator in enumerate(KEY_INDICATORS, start=FIRST_DATA_ROW):
        for column, value in enumerate((indicator.code, indicator.axis, indicator.label, indicator.unit), start=1):
            locked(ws, row, column, value, TEXT_FORMAT)
        input_cell(ws, row, RESULTATS_VALUE_INDEX, NUMBER_FORMATS[indicator.unit])
        input_cell(ws, row, RESULTATS_OBSERVATIONS_INDEX, TEXT_FORMAT)
        kind = "euros" if indicator.unit == "euros" else "count"
        title = "Montant en euros" if kind == "euros" else "Nombre"
        values.setdefault(InputField("", kind, title=title, prompt=prompt), []).append(row)
    _add_validations(ws, RESULTATS_VALUE_COLUMN, values, last_day)
    rows = list(range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(KEY_INDICATORS)))
    _add_validations(ws, RESULTATS_OBSERVATIONS_COLUMN, {RESULTATS_OBSERVATIONS: rows}, last_day)
    protect(ws)


# --- workbook ------------------------------------------------------------------------------------------------------


def build_paqte_template(departement_code: str, semester: str, *, context: PaqteContext | None = None) -> Workbook:
    """The PAQTE report workbook of `departement_code` (`69`, `2A`, `974`) for `semester` (`2024-S1`).

    Raises ValueError for a département code not in catalogue/departements.csv, a semester that is not `YYYY-S1` /
    `YYYY-S2` from 2018 to 2099, or a context of another département or semester."""
    departement_name, region_name = departement_names(departement_code)
    parse_semester(semester)
    first_day, last_day = semester_bounds(semester)
    if context is not None and (context.departement_code, context.semester) != (departement_code, semester):
        raise ValueError(
            f"The context is for département {context.departement_code} and semester {context.semester}, not for "
            f"département {departement_code} and semester {semester}."
        )
    title = f"Bilan PAQTE {semester} - {departement_name} (modèle {PAQTE_TEMPLATE_VERSION})"
    workbook = kit.new_workbook(dt.datetime(first_day.year, first_day.month, first_day.day), title)
    metadata = workbook.active
    metadata.title = PAQTE_METADATA_SHEET
    _metadata_sheet(
        metadata,
        {
            "departement_code": departement_code,
            "departement_name": departement_name,
            "region_name": region_name,
            "semester": semester,
            "template_version": PAQTE_TEMPLATE_VERSION,
            "note": GENERATION_NOTE,
            "conventions": INPUT_CONVENTIONS,
        },
    )
    _contexte_sheet(workbook.create_sheet(CONTEXTE_SHEET), context)
    _bilan_sheet(workbook.create_sheet(BILAN_SHEET), last_day)
    entreprises = workbook.create_sheet(ENTREPRISES_SHEET)
    _numbered_table(
        entreprises, ENTREPRISES_HEADERS, (6, 40, 12, 9, 14, 40), ENTREPRISES_ROWS, ENTREPRISES_INPUTS, last_day
    )
    _resultats_sheet(workbook.create_sheet(RESULTATS_SHEET), last_day)
    exemples = workbook.create_sheet(EXEMPLES_SHEET)
    _numbered_table(exemples, EXEMPLES_HEADERS, (6, 40, 14, 90), EXEMPLES_ROWS, EXEMPLES_INPUTS, last_day)
    return kit.finish(workbook)


def write_paqte_template(
    path: str | Path, departement_code: str, semester: str, context: PaqteContext | None = None
) -> Path:
    """Build the workbook (`build_paqte_template`) and write it to `path` (parent folders created); returns the path.

    Nothing is written when the arguments are refused."""
    return xlsx.write_workbook(path, build_paqte_template(departement_code, semester, context=context))
