"""The Excel workbook of the semestrial PAQTE report a département sends in.

The Prime Minister's letter of 22 January 2019 on the national mobilisation for the neighbourhoods (annexe 2,
seed 003) asks the préfets to deploy the *pacte avec les quartiers pour toutes les entreprises* (PAQTE) and to send,
every six months, a quantitative and qualitative report on its build-up, in a suggested format: the PAQTE referent,
the organisation chosen to follow and lead it, the number and list of signatory companies in the département, the
associations and other partners, the aggregated results of the signatories with concrete examples of actions, and
the département's context (number of QPV, of PRU of national interest, QPV population, job seekers at month end in
the QPV). This module builds that workbook, one per département and semester, with the conventions of the regional
template (`etl.submissions.template`): locked structure, yellow unlocked input cells with Excel data validations and
French prompts, a structure checksum (`empreinte`) in the metadata sheet, the same bytes for the same inputs.

Sheets, in this order (names in `PAQTE_SHEET_NAMES`):

- `Métadonnées` (locked): labels in A, values in B at the cells of `PAQTE_METADATA_CELLS`. The empreinte sits in B8
  because `template.structure_checksum` leaves out exactly that cell of that sheet, so that one checker serves both
  workbooks; the input conventions therefore come after it, in B9.
- `Contexte` (locked, read-only): what the warehouse knows of the département for the semester (`PaqteContext`,
  from `paqte_context`): its QPV in force at the end of the semester, the job seekers (DEFM, categories A and ABC)
  living in them at the latest month of the semester that France Travail delivered, with period, source,
  availability and remarks. The QPV population and the PRU of national interest are not in the warehouse: always
  `non disponible`. Without a context every value is `non disponible`.
- `Bilan` (input): one row per item of the suggested format (referent's name, function, e-mail and telephone;
  organisation; number of signatory companies; partners; strategy and obstacles): label in A, input cell in B.
- `Entreprises` (input table): `ENTREPRISES_ROWS` numbered rows, one per signatory company: name, SIREN (9
  characters), size (GE / ETI / PME / TPE), signature date (from 2018 to the end of the semester), axes chosen.
- `Résultats` (input): one row per key indicator of each PAQTE axis (`KEY_INDICATORS`): code, axis, label and unit
  locked; value (count or euros, >= 0) and observations to fill. The four axes (sensibiliser, former, recruter,
  acheter) are those of the letter; **the key indicators are our choice**: the letter points to the PAQTE press kit
  for them and we do not have it. Each axis has the number of signatories engaged on it at the end of the semester,
  then figures achieved during the semester (3e internships offered to pupils of REP+ collèges, work-study contracts
  signed by QPV residents, QPV residents recruited, purchases from companies located in the QPV or from the social
  and solidarity economy).
- `Exemples d'actions` (input): `EXEMPLES_ROWS` numbered rows: company, axis (list of the four), description.

The row numbers of the two input tables are locked cells, so deleting or moving a row of them changes the empreinte.
Formats: counts `#,##0`, euros `#,##0.00" €"` (`template.NUMBER_FORMATS`), dates `dd/mm/yyyy`, text `@`. The
workbook's created and modified dates are the first day of the semester, which `template.workbook_bytes` also uses
for the zip entries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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

# --- Bilan ---------------------------------------------------------------------------------------------------------

BILAN_HEADERS = ("Rubrique", "Réponse")
# key -> (label in column A, kind of input in column B); one row each from FIRST_DATA_ROW.
BILAN_FIELDS = {
    "referent_nom": ("Référent PAQTE : nom et prénom", "short"),
    "referent_fonction": ("Référent PAQTE : fonction et service", "short"),
    "referent_courriel": ("Référent PAQTE : courriel", "email"),
    "referent_telephone": ("Référent PAQTE : téléphone", "phone"),
    "organisation": (
        "Organisation retenue de suivi et d'animation du PAQTE (chargé de mission en préfecture, délégué du préfet "
        "référent, subventions à des partenaires chargés de l'animation, comité de pilotage...)",
        "text",
    ),
    "entreprises_signataires": ("Nombre d'entreprises signataires au niveau départemental", "count"),
    "partenaires": ("Associations et autres acteurs partenaires du déploiement du PAQTE", "text"),
    "strategie_obstacles": ("Stratégie définie et obstacles rencontrés dans la mise en place du PAQTE", "text"),
}
BILAN_CELLS = {key: f"B{row}" for row, key in enumerate(BILAN_FIELDS, start=FIRST_DATA_ROW)}

# --- Entreprises ---------------------------------------------------------------------------------------------------

ENTREPRISES_HEADERS = ("N°", "Entreprise", "SIREN", "Taille", "Date de signature", "Axes retenus")
ENTREPRISES_ROWS = 200
ENTREPRISE_SIZES = ("GE", "ETI", "PME", "TPE")
ENTREPRISES_INPUT_COLUMNS = ("B", "C", "D", "E", "F")

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

# --- Exemples d'actions --------------------------------------------------------------------------------------------

EXEMPLES_HEADERS = ("N°", "Entreprise", "Axe", "Description de l'action")
EXEMPLES_ROWS = 20
EXEMPLES_INPUT_COLUMNS = ("B", "C", "D")

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


def _count_validation(prompt: str):
    return kit.validation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        errorTitle="Nombre non valide",
        error="Saisir un nombre entier supérieur ou égal à 0 (par exemple 12), sans unité ni texte.",
        promptTitle="Nombre",
        prompt=prompt,
    )


def _axis_validation():
    return kit.validation(
        type="list",
        formula1='"' + ",".join(PAQTE_AXES) + '"',
        errorTitle="Axe non valide",
        error="Choisir un axe du PAQTE dans la liste : Sensibiliser, Former, Recruter ou Acheter.",
        promptTitle="Axe du PAQTE",
        prompt="Sensibiliser, Former, Recruter ou Acheter.",
    )


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


def _bilan_sheet(ws: Worksheet) -> None:
    write_header(ws, BILAN_HEADERS, (60, 90))
    rows: dict[str, list[int]] = {}
    for row, (_, (label, kind)) in enumerate(BILAN_FIELDS.items(), start=FIRST_DATA_ROW):
        kit.label(ws, row, label)
        input_cell(ws, row, 2, COUNT_FORMAT if kind == "count" else TEXT_FORMAT)
        rows.setdefault(kind, []).append(row)
    for kind, kind_rows in rows.items():
        if kind == "short":
            validation = kit.text_validation(SHORT_TEXT_MAX_LENGTH, "Texte court", "200 caractères au plus.")
        elif kind == "text":
            validation = kit.text_validation(
                OBSERVATIONS_MAX_LENGTH, "Texte libre", "Texte libre de 2 000 caractères au plus."
            )
        elif kind == "phone":
            validation = kit.text_validation(PHONE_MAX_LENGTH, "Téléphone", "Numéro de téléphone (01 23 45 67 89).")
        elif kind == "count":
            validation = _count_validation(
                "Nombre d'entreprises ayant signé une convention PAQTE dans le département ; les lister dans la "
                "feuille « Entreprises »."
            )
        else:  # email: one cell, a formula relative to it
            (row,) = kind_rows
            validation = kit.validation(
                type="custom",
                formula1=f'AND(LEN(B{row})<={EMAIL_MAX_LENGTH},ISNUMBER(SEARCH("?@?*.?*",B{row})))',
                errorTitle="Courriel non valide",
                error="Saisir une adresse électronique de la forme prenom.nom@departement.gouv.fr.",
                promptTitle="Courriel",
                prompt="Adresse électronique du référent PAQTE.",
            )
        add_validation(ws, validation, "B", kind_rows)
    protect(ws)


def _numbered_table(ws: Worksheet, headers, widths, count: int, validations: dict[str, Any], dates=()) -> None:
    """A table of `count` numbered rows (the numbers locked in A), then on every row one input cell a column of
    `validations` (letter -> its validation), dates in the columns of `dates`, text in the others."""
    write_header(ws, headers, widths)
    rows = range(FIRST_DATA_ROW, FIRST_DATA_ROW + count)
    for number, row in enumerate(rows, start=1):
        locked(ws, row, 1, number, "0")
        for column, letter in enumerate(validations, start=2):
            input_cell(ws, row, column, DATE_FORMAT if letter in dates else TEXT_FORMAT)
    for letter, validation in validations.items():
        add_validation(ws, validation, letter, rows)
    protect(ws)


def _entreprises_sheet(ws: Worksheet, last_day: dt.date) -> None:
    name = kit.text_validation(SHORT_TEXT_MAX_LENGTH, "Entreprise", "Raison sociale de l'entreprise signataire.")
    siren = kit.validation(
        type="textLength",
        operator="equal",
        formula1=str(SIREN_LENGTH),
        errorTitle="SIREN non valide",
        error="Le SIREN compte exactement 9 chiffres, sans espace (par exemple 552100554).",
        promptTitle="SIREN",
        prompt="Les 9 chiffres du SIREN de l'entreprise, sans espace.",
    )
    size = kit.validation(
        type="list",
        formula1='"' + ",".join(ENTREPRISE_SIZES) + '"',
        errorTitle="Taille non valide",
        error="Choisir la taille dans la liste : GE, ETI, PME ou TPE.",
        promptTitle="Taille de l'entreprise",
        prompt="GE (grande entreprise), ETI (entreprise de taille intermédiaire), PME ou TPE.",
    )
    date = kit.validation(
        type="date",
        operator="between",
        formula1=f"DATE({FIRST_YEAR},1,1)",
        formula2=f"DATE({last_day.year},{last_day.month},{last_day.day})",
        errorTitle="Date non valide",
        error=f"Saisir une date JJ/MM/AAAA entre le 01/01/{FIRST_YEAR} et le {last_day:%d/%m/%Y} (fin du semestre).",
        promptTitle="Date de signature",
        prompt="Date de signature de la convention PAQTE (JJ/MM/AAAA).",
    )
    axes = kit.text_validation(
        SHORT_TEXT_MAX_LENGTH,
        "Axes retenus",
        "Axes retenus dans la convention, séparés par des virgules : Sensibiliser, Former, Recruter, Acheter (une PME "
        "ou TPE peut n'en retenir qu'une partie ou valoriser d'autres engagements).",
    )
    validations = dict(zip(ENTREPRISES_INPUT_COLUMNS, (name, siren, size, date, axes), strict=True))
    _numbered_table(ws, ENTREPRISES_HEADERS, (6, 40, 12, 9, 14, 40), ENTREPRISES_ROWS, validations, dates=("E",))


def _resultats_sheet(ws: Worksheet) -> None:
    write_header(ws, RESULTATS_HEADERS, (18, 13, 70, 9, 16, 60))
    units: dict[str, list[int]] = {}
    for row, indicator in enumerate(KEY_INDICATORS, start=FIRST_DATA_ROW):
        for column, value in enumerate((indicator.code, indicator.axis, indicator.label, indicator.unit), start=1):
            locked(ws, row, column, value, TEXT_FORMAT)
        input_cell(ws, row, RESULTATS_VALUE_INDEX, NUMBER_FORMATS[indicator.unit])
        input_cell(ws, row, RESULTATS_OBSERVATIONS_INDEX, TEXT_FORMAT)
        units.setdefault(indicator.unit, []).append(row)
    for unit, unit_rows in units.items():
        prompt = "Résultat agrégé des entreprises signataires du département. Laisser vide si inconnu et l'expliquer."
        validation = kit.euros_validation(prompt) if unit == "euros" else _count_validation(prompt)
        add_validation(ws, validation, RESULTATS_VALUE_COLUMN, unit_rows)
    observations = kit.text_validation(
        OBSERVATIONS_MAX_LENGTH,
        "Observations",
        "Précisions sur le résultat : entreprises prises en compte, mode de calcul, difficultés de collecte (2 000 "
        "caractères au plus).",
    )
    add_validation(
        ws, observations, RESULTATS_OBSERVATIONS_COLUMN, range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(KEY_INDICATORS))
    )
    protect(ws)


def _exemples_sheet(ws: Worksheet) -> None:
    company = kit.text_validation(SHORT_TEXT_MAX_LENGTH, "Entreprise", "Entreprise signataire qui a mené l'action.")
    description = kit.text_validation(
        OBSERVATIONS_MAX_LENGTH,
        "Description de l'action",
        "Action concrète réalisée : public, nombre de bénéficiaires, partenaires, résultats (2 000 caractères au "
        "plus).",
    )
    validations = dict(zip(EXEMPLES_INPUT_COLUMNS, (company, _axis_validation(), description), strict=True))
    _numbered_table(ws, EXEMPLES_HEADERS, (6, 40, 14, 90), EXEMPLES_ROWS, validations)


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
    _bilan_sheet(workbook.create_sheet(BILAN_SHEET))
    _entreprises_sheet(workbook.create_sheet(ENTREPRISES_SHEET), last_day)
    _resultats_sheet(workbook.create_sheet(RESULTATS_SHEET))
    _exemples_sheet(workbook.create_sheet(EXEMPLES_SHEET))
    return kit.finish(workbook)


def write_paqte_template(
    path: str | Path, departement_code: str, semester: str, context: PaqteContext | None = None
) -> Path:
    """Build the workbook (`build_paqte_template`) and write it to `path` (parent folders created); returns the path.

    Nothing is written when the arguments are refused."""
    return xlsx.write_workbook(path, build_paqte_template(departement_code, semester, context=context))
