"""Filled PAQTE semestrial reports: the workbook of etl.submissions.paqte as a département sends it back.

`filled_paqte(departement, semester)` builds the département's workbook, reads it back with openpyxl from its .xlsx
bytes (what the département receives), fills the input cells and saves it with `template.workbook_bytes` (same
inputs, same bytes). It serves the demo and the tests of the PAQTE checker (etl/submissions/paqte_check.py).

What is written, all invented but plausible:

- `Entreprises`: 6 to 12 signatory companies (invented names), each with a SIREN whose ninth digit is the Luhn key
  of the first eight, a size (GE, ETI, PME, TPE), a signature date between July 2018 (the launch of the PAQTE; 1
  January 2018 for a report of 2018-S1) and the end of the semester, written as an Excel date except the second
  company's, typed as text `JJ/MM/AAAA`, and the axes the company chose (one to four, in the letter's order).
- `Bilan`: a référent (name, function, e-mail `prenom.nom@<département>.gouv.fr`, telephone), free texts on the
  organisation, the partners and the strategy (accents, quotes, line breaks), and the number of signatories, equal
  to the companies listed.
- `Résultats`: per axis, the signatories engaged on it are the listed companies that chose it; the other figures
  are drawn in proportion (pupils hosted <= internships offered, permanent contracts <= recruitments), amounts in
  euros with cents. One figure (alternance, pupils or ESS purchases) is left empty with an observation saying why;
  two others carry an observation.
- `Exemples d'actions`: 3 to 6 actions of listed companies, on an axis the company chose.

`mistakes` names defects from `MISTAKES`, applied on top of the valid report (any may be combined): a SIREN of 8
digits, a negative count, text in a count, an unknown axis, a signature date after the semester, the `Taille`
column deleted from `Entreprises`, another template version, another département code in the metadata. The column
deletion is applied first; the others then write where the template's cells now are, so `FilledPaqte.cells` always
names the cell of the file as saved (`"Entreprises!C2"`) and `FilledPaqte.values` holds what every filled input
cell of the file says in the end, keyed the same way (mistaken values included). The empreinte is left as the
template had it.

Every draw comes from `random.Random` seeded with a text made of the seed, the département, the semester and what is
drawn, so the report does not depend on the mistakes asked for, nor a mistake's choices on the other mistakes.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import openpyxl
from openpyxl.utils.cell import column_index_from_string, coordinate_to_tuple, get_column_letter

from etl import xlsx
from etl.referentiels import periods
from etl.referentiels.territories import departement_names, load_departements
from etl.samples.generators.files import chosen_mistakes
from etl.samples.generators.territories import luhn_key
from etl.submissions import paqte
from etl.submissions import template as tpl

MISTAKES: tuple[str, ...] = (
    "siren_invalide",
    "nombre_negatif",
    "texte_dans_nombre",
    "axe_inconnu",
    "date_hors_semestre",
    "colonne_supprimee",
    "autre_version",
    "departement_metadonnees",
)
STRUCTURAL_MISTAKES = ("colonne_supprimee",)  # applied first: it moves cells

FILE_PATTERN = "paqte_D{departement}_{semester}{suffix}.xlsx"
PAQTE_LAUNCH = dt.date(2018, 7, 1)

# What the mistakes write, and where.
NEGATIVE_COUNT = -3
NEGATIVE_INDICATOR = "RECR_RESIDENTS"
TEXT_IN_NUMBER = "une dizaine"
TEXT_INDICATOR = "SENS_STAGES_3E"
UNKNOWN_AXIS = "Insérer"
OTHER_VERSION = "paqte.0"
DELETED_COLUMN = "D"  # Entreprises: Taille
EMPTY_CANDIDATES = ("FORM_ALTERNANCE", "SENS_ELEVES_3E", "ACHA_ESS")  # never aimed at by a mistake
NOT_AVAILABLE_OBSERVATION = "Donnée non disponible"

_COMPANY_TRADES = (
    "Transports",
    "Boulangeries",
    "Bâtiment",
    "Nettoyage",
    "Logistique",
    "Restauration",
    "Informatique",
    "Énergies",
    "Imprimerie",
    "Services à la personne",
    "Sécurité",
    "Espaces verts",
)
_COMPANY_NAMES = (
    "Martin",
    "Durand & Fils",
    "Horizon",
    "Confluence",
    "des Terrasses",
    "Atelier 21",
    "Avenir",
    "Bellevue",
    "du Parc",
    "Lumière",
    "Saint-Jean",
    "L'Étoile",
)
_LEGAL_FORMS = ("SAS", "SARL", "SA", "SCOP", "")
_FIRST_NAMES = ("Camille", "Nadia", "Julien", "Sophie", "Karim", "Élodie", "Thomas", "Aïcha", "François", "Léa")
_LAST_NAMES = ("Bernard", "Moreau", "Benali", "Lefèvre", "Nguyen", "Garcia", "Roux", "Diallo", "Fontaine", "Mercier")
_FUNCTIONS = (
    "Délégué du préfet dans les quartiers, préfecture",
    "Chargée de mission politique de la ville, DDETS",
    "Sous-préfet chargé de la politique de la ville",
    "Chef du pôle cohésion sociale, DDETS",
)
_ORGANISATIONS = (
    "Un chargé de mission en préfecture anime le PAQTE avec les délégués du préfet ; un comité de pilotage réunit "
    "chaque trimestre la DDETS, France Travail, la CCI et les entreprises signataires.",
    "Animation confiée par subvention à un club d'entreprises « engagées pour les quartiers » ; suivi par le délégué "
    "du préfet référent et un comité de pilotage semestriel.\nRéunions thématiques par axe.",
)
_PARTNERS = (
    "France Travail, Mission locale, CCI, CMA, club FACE, associations de parrainage (« Nos quartiers ont des "
    "talents »), écoles de la deuxième chance.",
    "Rectorat (stages de 3e), France Travail, Mission locale, structures de l'insertion par l'activité économique, "
    "réseau des entreprises de l'ESS.",
)
_STRATEGIES = (
    "Priorité aux stages de 3e des collèges REP+ et au recrutement de résidents des QPV.\nObstacles : peu de PME "
    "signataires, suivi des achats difficile à obtenir des grands groupes.",
    "Cibler les zones d'activité proches des quartiers ; s'appuyer sur les clauses d'insertion des marchés. "
    "Obstacles : « lassitude » de certains signataires, données de recrutement rarement transmises.",
)
_OBSERVATIONS = (
    "Chiffre déclaratif des entreprises signataires, consolidé par la DDETS.",
    "Deux signataires n'ont pas encore transmis leur bilan ; chiffre provisoire.",
    'Comprend les contrats signés via le "job dating" organisé avec France Travail.',
)
_NOT_AVAILABLE_REASONS = (
    "{what} : les entreprises ne suivent pas encore cet indicateur.",
    "{what} : remontée attendue au prochain comité de pilotage.",
)
_ACTIONS = {
    "Sensibiliser": "{company} a accueilli {n} élèves de 3e de collèges REP+ pour leur stage d'observation.",
    "Former": "{company} a signé {n} contrats d'apprentissage avec des jeunes des quartiers, avec un tuteur chacun.",
    "Recruter": "Job dating organisé avec France Travail dans le quartier : {company} a recruté {n} personnes.",
    "Acheter": "{company} a confié l'entretien de ses locaux à une entreprise d'insertion du quartier ({n} salariés).",
}


@dataclass(frozen=True)
class FilledPaqte:
    """A filled PAQTE report and what was written in it."""

    content: bytes  # the .xlsx bytes
    departement_code: str
    semester: str
    cells: dict[str, str]  # mistake name -> the cell it affects, "Sheet!C2" (as in the file)
    values: dict[str, Any]  # "Sheet!C2" -> what the filled input cell holds (int, float, str or datetime)


def paqte_file_name(departement_code: str, semester: str, suffix: str = "") -> str:
    """`paqte_D69_2024-S1.xlsx` (suffix: `paqte_D69_2024-S1_v2.xlsx`; given with or without its underscore).

    Raises ValueError for a département code not in catalogue/departements.csv or a semester that is not
    `YYYY-S1` / `YYYY-S2` from 2018."""
    departement_names(departement_code)
    paqte.parse_semester(semester)
    suffix = suffix.strip().lstrip("_")
    return FILE_PATTERN.format(departement=departement_code, semester=semester, suffix=f"_{suffix}" if suffix else "")


def _rng(seed: int, departement: str, semester: str, what: str) -> random.Random:
    return random.Random(f"paqte:{seed}:{departement}:{semester}:{what}")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _day_between(draw: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return dt.date.fromordinal(draw.randint(first.toordinal(), last.toordinal()))


@dataclass
class _Company:
    name: str
    siren: str
    size: str
    signed: dt.date
    axes: tuple[str, ...]


def _companies(draw: random.Random, first_day: dt.date, last_day: dt.date) -> list[_Company]:
    count = draw.randint(6, 12)
    names = draw.sample([(trade, name) for trade in _COMPANY_TRADES for name in _COMPANY_NAMES], count)
    earliest = PAQTE_LAUNCH if last_day >= PAQTE_LAUNCH else dt.date(paqte.FIRST_YEAR, 1, 1)
    companies, sirens = [], set()
    for trade, name in names:
        siren = ""
        while not siren or siren in sirens:
            body = str(draw.randint(1, 9)) + "".join(str(draw.randint(0, 9)) for _ in range(7))
            siren = body + luhn_key(body)
        sirens.add(siren)
        form = draw.choice(_LEGAL_FORMS)
        size = draw.choices(paqte.ENTREPRISE_SIZES, weights=(2, 2, 4, 3))[0]
        axes = tuple(axis for axis in paqte.PAQTE_AXES if draw.random() < 0.55) or (draw.choice(paqte.PAQTE_AXES),)
        companies.append(
            _Company(
                f"{trade} {name}{' ' + form if form else ''}", siren, size, _day_between(draw, earliest, last_day), axes
            )
        )
    return companies


def _results(draw: random.Random, companies: list[_Company]) -> dict[str, int | float]:
    engaged = {axis: sum(axis in company.axes for company in companies) for axis in paqte.PAQTE_AXES}
    stages = draw.randint(0, 12 * engaged["Sensibiliser"])
    residents = draw.randint(0, 15 * engaged["Recruter"])
    return {
        "SENS_ENTREPRISES": engaged["Sensibiliser"],
        "SENS_STAGES_3E": stages,
        "SENS_ELEVES_3E": draw.randint(0, stages),
        "FORM_ENTREPRISES": engaged["Former"],
        "FORM_ALTERNANCE": draw.randint(0, 6 * engaged["Former"]),
        "RECR_ENTREPRISES": engaged["Recruter"],
        "RECR_RESIDENTS": residents,
        "RECR_CDI": draw.randint(0, residents),
        "ACHA_ENTREPRISES": engaged["Acheter"],
        "ACHA_QPV": round(draw.uniform(0, 60000 * engaged["Acheter"]), 2),
        "ACHA_ESS": round(draw.uniform(0, 25000 * engaged["Acheter"]), 2),
    }


def _write(ws, coordinate: str, value: Any, values: dict[str, Any]) -> None:
    ws[coordinate].value = value
    values[f"{ws.title}!{coordinate}"] = value


def _fill(workbook, departement: str, semester: str, seed: int) -> dict[str, Any]:
    """Fill the input cells; returns what each holds ("Sheet!B2" -> value)."""
    first_day, last_day = periods.semester_bounds(semester)
    name, _ = departement_names(departement)
    values: dict[str, Any] = {}

    companies = _companies(_rng(seed, departement, semester, "companies"), first_day, last_day)
    ws = workbook[paqte.ENTREPRISES_SHEET]
    for number, company in enumerate(companies, start=1):
        row = tpl.FIRST_DATA_ROW + number - 1
        signed = f"{company.signed:%d/%m/%Y}" if number == 2 else dt.datetime.combine(company.signed, dt.time())
        for letter, value in zip(
            paqte.ENTREPRISES_INPUT_COLUMNS,
            (company.name, company.siren, company.size, signed, ", ".join(company.axes)),
            strict=True,
        ):
            _write(ws, f"{letter}{row}", value, values)

    draw = _rng(seed, departement, semester, "bilan")
    first, last = draw.choice(_FIRST_NAMES), draw.choice(_LAST_NAMES)
    phone = f"0{draw.randint(1, 5)} " + " ".join(f"{draw.randint(0, 99):02d}" for _ in range(4))
    bilan = {
        "referent_nom": f"{first} {last}",
        "referent_fonction": draw.choice(_FUNCTIONS),
        "referent_courriel": f"{_slug(first)}.{_slug(last)}@{_slug(name)}.gouv.fr",
        "referent_telephone": phone,
        "organisation": draw.choice(_ORGANISATIONS),
        "entreprises_signataires": len(companies),
        "partenaires": draw.choice(_PARTNERS),
        "strategie_obstacles": draw.choice(_STRATEGIES),
    }
    ws = workbook[paqte.BILAN_SHEET]
    for key, value in bilan.items():
        _write(ws, paqte.BILAN_CELLS[key], value, values)

    draw = _rng(seed, departement, semester, "results")
    results = _results(draw, companies)
    empty = draw.choice(EMPTY_CANDIDATES)
    annotated = draw.sample([code for code in results if code != empty], 2)
    ws = workbook[paqte.RESULTATS_SHEET]
    for row, indicator in enumerate(paqte.KEY_INDICATORS, start=tpl.FIRST_DATA_ROW):
        if indicator.code == empty:
            reason = draw.choice(_NOT_AVAILABLE_REASONS).format(what=NOT_AVAILABLE_OBSERVATION)
            _write(ws, f"{paqte.RESULTATS_OBSERVATIONS_COLUMN}{row}", reason, values)
            continue
        _write(ws, f"{paqte.RESULTATS_VALUE_COLUMN}{row}", results[indicator.code], values)
        if indicator.code in annotated:
            _write(ws, f"{paqte.RESULTATS_OBSERVATIONS_COLUMN}{row}", draw.choice(_OBSERVATIONS), values)

    draw = _rng(seed, departement, semester, "examples")
    ws = workbook[paqte.EXEMPLES_SHEET]
    for number in range(1, draw.randint(3, 6) + 1):
        company = draw.choice(companies)
        axis = draw.choice(company.axes)
        description = _ACTIONS[axis].format(company=company.name, n=draw.randint(2, 12))
        row = tpl.FIRST_DATA_ROW + number - 1
        for letter, value in zip(paqte.EXEMPLES_INPUT_COLUMNS, (company.name, axis, description), strict=True):
            _write(ws, f"{letter}{row}", value, values)
    return values


def _delete_column(workbook, values: dict[str, Any]) -> str:
    ws = workbook[paqte.ENTREPRISES_SHEET]
    index = column_index_from_string(DELETED_COLUMN)
    ws.delete_cols(index)
    moved = {}
    for key, value in values.items():
        sheet, coordinate = key.split("!")
        row, column = coordinate_to_tuple(coordinate)
        if sheet != ws.title or column < index:
            moved[key] = value
        elif column > index:
            moved[f"{sheet}!{get_column_letter(column - 1)}{row}"] = value
    values.clear()
    values.update(moved)
    return f"{ws.title}!{DELETED_COLUMN}{tpl.HEADER_ROW}"


def _apply(name: str, workbook, values: dict, departement: str, semester: str, deleted: bool, draw) -> str:
    """Apply one mistake; returns the cell it affects."""
    if name == "colonne_supprimee":
        return _delete_column(workbook, values)
    row = tpl.FIRST_DATA_ROW
    entreprises = workbook[paqte.ENTREPRISES_SHEET]

    def entreprises_column(letter: str) -> str:
        index = column_index_from_string(letter)
        return get_column_letter(index - 1) if deleted and index > column_index_from_string(DELETED_COLUMN) else letter

    if name == "siren_invalide":
        coordinate = f"{entreprises_column('C')}{row}"
        _write(entreprises, coordinate, str(entreprises[coordinate].value)[:8], values)
        return f"{entreprises.title}!{coordinate}"
    if name == "date_hors_semestre":
        coordinate = f"{entreprises_column('E')}{row}"
        after = periods.semester_bounds(semester)[1] + dt.timedelta(days=draw.randint(1, 60))
        _write(entreprises, coordinate, dt.datetime.combine(after, dt.time()), values)
        return f"{entreprises.title}!{coordinate}"
    if name in ("nombre_negatif", "texte_dans_nombre"):
        code, value = {
            "nombre_negatif": (NEGATIVE_INDICATOR, NEGATIVE_COUNT),
            "texte_dans_nombre": (TEXT_INDICATOR, TEXT_IN_NUMBER),
        }[name]
        ws = workbook[paqte.RESULTATS_SHEET]
        position = next(i for i, indicator in enumerate(paqte.KEY_INDICATORS) if indicator.code == code)
        coordinate = f"{paqte.RESULTATS_VALUE_COLUMN}{tpl.FIRST_DATA_ROW + position}"
        _write(ws, coordinate, value, values)
        return f"{ws.title}!{coordinate}"
    if name == "axe_inconnu":
        ws = workbook[paqte.EXEMPLES_SHEET]
        _write(ws, f"C{row}", UNKNOWN_AXIS, values)
        return f"{ws.title}!C{row}"
    ws = workbook[paqte.PAQTE_METADATA_SHEET]
    if name == "autre_version":
        coordinate = paqte.PAQTE_METADATA_CELLS["template_version"]
        ws[coordinate].value = OTHER_VERSION
        return f"{ws.title}!{coordinate}"
    if name == "departement_metadonnees":
        coordinate = paqte.PAQTE_METADATA_CELLS["departement_code"]
        others = sorted(code for code in load_departements()["code"] if code != departement)
        ws[coordinate].value = draw.choice(others)
        return f"{ws.title}!{coordinate}"
    raise AssertionError(name)  # names are checked before


def filled_paqte(
    departement: str,
    semester: str,
    *,
    seed: int = 0,
    mistakes: Iterable[str] = (),
    context: paqte.PaqteContext | None = None,
) -> FilledPaqte:
    """The PAQTE report of `departement` for `semester`, filled (see the module docstring), with `mistakes` applied.

    Raises ValueError for an unknown mistake (the message lists `MISTAKES`), a département code not in
    catalogue/departements.csv, a semester that is not `YYYY-S1` / `YYYY-S2` from 2018, or a context of another
    département or semester."""
    names = chosen_mistakes(mistakes, MISTAKES)
    template = paqte.build_paqte_template(departement, semester, context=context)
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.workbook_bytes(template)))
    values = _fill(workbook, departement, semester, seed)
    cells = {}
    ordered = [name for name in STRUCTURAL_MISTAKES if name in names] + [
        name for name in names if name not in STRUCTURAL_MISTAKES
    ]
    for name in ordered:
        draw = _rng(seed, departement, semester, f"mistake:{name}")
        cells[name] = _apply(name, workbook, values, departement, semester, "colonne_supprimee" in names, draw)
    return FilledPaqte(
        content=xlsx.workbook_bytes(workbook),
        departement_code=departement,
        semester=semester,
        cells={name: cells[name] for name in names},
        values=dict(values),
    )
