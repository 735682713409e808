"""Filled regional workbooks: the campaign template (etl.submissions.template) as regional staff send it back.

`filled_workbook(region, campaign)` builds the région's template, reads it back with openpyxl from its .xlsx bytes
(the workbook a région receives), fills the input cells and saves it with `template.workbook_bytes` (same inputs,
same bytes). It serves the demo and the tests of the submission checker.

Values, for each local indicator of the catalogue and each département of the région (`Départements`, column F):
counts are integers from 0 to 500 (each indicator has its own order of size, some zeros), except those with a
smaller ceiling, so that the figures stay plausible (etl.submissions.plausibility): a count of QPV (`unite_statistique`
`qpv`) lies between 0 and the département's QPV in force on the campaign's reference day in the sample referential
(`sample_qpv_in_force`, from etl.samples.generators.territories with `territories_seed`: the referential the warehouse
holds), ZSP, structures and projects follow `UNIT_SCALES`; shares (`%`) have one decimal between 0 and 100. The
regional result (`Indicateurs`, column H) of a count is the sum of the départements' values, that of a share lies
between their minimum and maximum. About one département cell in 20 is left empty with an observation saying the
figure is not available (`NOT_AVAILABLE_OBSERVATION`); a regional result whose départements are all empty is empty
too, with an observation. A few rows carry observations in French: short, some with `;`, quotes, accents or line
breaks, and one of about 1,500 characters (the template allows 2,000). Numbers are written as Python int / float.
The first département's value of the first count indicator is never empty nor typed as text (the
`ventilation_incoherente` mistake needs a valid figure there, in every région, La Réunion included).

`typed=True` writes some values as text, the way staff type them, with the same meaning: shares as `12,5` and
`12,5 %`, regional counts with a space or a no-break space between digit groups (`1 234`, when the région's totals
reach 1,000; they stay plain digits below), and two département cells as `n.d.` and `NC` (not available: they count
as empty cells in the regional results). Indicators that a mistake rewrites are never typed.

`mistakes` names defects from `MISTAKES`, applied on top of the valid filled workbook; any may be combined. The ones
that move cells (`ligne_deplacee`, `colonne_supprimee`, `feuille_renommee`) are applied first, the others then in
`MISTAKES` order at the cells where the template's cells now are, so `Filled.cells` always names the cell of the file
as saved ("Sheet!H5"). `Filled.regional` and `Filled.departemental` hold what the file's value cells of the template
rows say in the end (mistaken values included), keyed by the template's indicator and département codes; rows that
mistakes append are only in `cells`. The empreinte (`Métadonnées`!B8) is left as the template had it.

Every draw comes from `random.Random` seeded with a text made of the seed, the région, the campaign and what is drawn
(values, regional results, typed texts, observations, each mistake), so the base values do not depend on the mistakes
asked for, nor a mistake's choices on the other mistakes.
"""

from __future__ import annotations

import functools
import io
import random
import tempfile
from collections.abc import Iterable, Mapping
from copy import copy
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from etl import xlsx
from etl.referentiels.catalogue import QPV_UNIT, Indicator, catalogue_indicators
from etl.referentiels.territories import load_departements, load_regions, region_name
from etl.samples.generators.files import chosen_mistakes
from etl.submissions import template as tpl

MISTAKES: tuple[str, ...] = (
    "texte_dans_nombre",
    "part_superieure_100",
    "nombre_negatif",
    "indicateur_national",
    "region_metadonnees",
    "campagne_metadonnees",
    "autre_version",
    "ligne_deplacee",
    "colonne_supprimee",
    "feuille_renommee",
    "ligne_dupliquee",
    "departement_hors_region",
    "ventilation_incoherente",
    "formule_sans_valeur",
    "cellules_fusionnees",
    "feuille_masquee",
)
STRUCTURAL_MISTAKES = ("ligne_deplacee", "colonne_supprimee", "feuille_renommee")  # applied first: they move cells

FILE_PATTERN = "indicateurs_locaux_R{region}_{campaign}{suffix}.xlsx"

NOT_AVAILABLE_OBSERVATION = "donnée non disponible pour ce département"
EMPTY_SHARE = 0.05  # about one département cell in 20 left empty
ZERO_SHARE = 0.08  # counts drawn as 0
COUNT_SCALES = (500, 500, 400, 300, 250, 200, 150, 100, 60, 40, 20, 10, 5)  # largest value of a count, shuffled
# Largest value of a département's count by what it counts (`unite_statistique`), below the plausible range of a région
# of 13 départements: a handful of ZSP per région, some dozens of structures or projects.
UNIT_SCALES = {"zones": 1, "structures": 6, "projets": 6}
TERRITORIES_SEED = 2024  # the seed of the sample QPV referential that the demo and the tests load
TYPED_NOT_AVAILABLE = ("n.d.", "NC")
NBSP = "\u00a0"

# What the mistakes write.
TEXT_IN_NUMBER = "environ 40"
SHARE_ABOVE_100 = 112.5
NEGATIVE_COUNT = -3
OTHER_VERSION = "2013.1"
FORMULA = "=SUM(F2:F5)"
SWAPPED_ROWS = (3, 4)  # Indicateurs rows swapped by ligne_deplacee
DELETED_COLUMN = "G"  # Indicateurs column deleted by colonne_supprimee (Cible nationale)
RENAMED_DEPARTEMENTS = "Departements"
MERGED_RANGE = ("H", "I", 5)  # Indicateurs H5:I5, merged by cellules_fusionnees
HIDDEN_SHEET = "Feuil1"
VENTILATION_GAP = 1000

_SHORT_OBSERVATIONS = (
    "Cible régionale : maintien du niveau de l'an dernier ; l'écart s'explique par la fusion de deux dispositifs.",
    "Chiffre transmis par la DDETS le 12 mars, « provisoire » selon le service.",
    "Données issues de l'enquête annuelle ; deux quartiers n'ont pas répondu.\nRelance prévue au printemps.",
    'Le "référent QPV" du département a changé en cours d\'année : chiffre à confirmer.',
    "Hausse liée à l'ouverture d'un nouvel équipement ; voir le bilan du contrat de ville.",
    "Écart à la cible : recrutements différés (postes vacants).\nÀ consolider l'an prochain.",
    "Périmètre : quartiers prioritaires de 2015 ; les quartiers « en veille active » ne sont pas comptés.",
    "Valeur identique à celle de l'an dernier, faute de mise à jour par l'opérateur.",
)
_NOT_AVAILABLE_REASONS = (
    "Remontée manquante : {missing}.",
    "La DDETS n'a pas transmis de chiffre ; {missing}.",
    "Dispositif non déployé dans le département cette année : {missing}.",
    "Source « en cours de consolidation » : {missing}.",
)
_LONG_OBSERVATION_SENTENCES = (
    "Précision de la cible régionale : la cible nationale a été déclinée au prorata du nombre de quartiers "
    "prioritaires de chaque département, après échange avec les délégués du préfet.",
    "Analyse des écarts : le résultat régional reste en deçà de la cible, principalement en raison des délais de "
    "recrutement observés dans les départements ruraux ; la dynamique est en revanche conforme dans les métropoles.",
    "Éléments de contexte : la réorganisation des services déconcentrés au 1er janvier a retardé la désignation des "
    "référents ; plusieurs conventions d'application n'ont été signées qu'au second semestre.",
    "Difficultés de collecte : les données ont été rassemblées à partir de trois sources (tableaux de bord des "
    "DDETS, bilans des contrats de ville, « remontées » des sous-préfectures), dont les périmètres ne coïncident "
    "pas toujours ; les doublons ont été retirés à la main.",
    "Deux départements n'ont transmis qu'une estimation ; elle sera remplacée par la valeur définitive lors de la "
    "prochaine campagne.",
    "Le comité régional de suivi du 14 novembre a validé ces chiffres ; le compte rendu est disponible sur demande "
    'auprès du "pôle politique de la ville" du SGAR.',
    "Perspectives : un outil de saisie partagé est à l'étude pour fiabiliser les remontées départementales et "
    "réduire les délais ; il devrait être déployé avant la prochaine campagne.",
    "Points d'attention : les quartiers sortis de la géographie prioritaire ne sont plus comptés, ce qui explique "
    "une partie de la baisse apparente ; à périmètre constant, l'indicateur progresse légèrement.",
    "Les services signalent enfin que certaines actions financées sur plusieurs exercices n'ont été comptées qu'une "
    "fois, l'année de leur engagement.",
)
LONG_OBSERVATION_LENGTH = (1400, 1600)


@dataclass(frozen=True)
class Filled:
    """A filled workbook and what was written in it."""

    content: bytes  # the .xlsx bytes
    region_code: str
    campaign: int
    cells: dict[str, str]  # mistake name -> the cell it affects, "Sheet!H5" (sheet name as in the file)
    regional: dict[str, float | str | None]  # indicator code -> what was written in the result cell
    departemental: dict[tuple[str, str], float | str | None]  # (département, indicator) -> what was written


def submission_file_name(region_code: str, campaign: int, suffix: str = "") -> str:
    """`indicateurs_locaux_R84_2024.xlsx` (suffix: `indicateurs_locaux_R84_2024_v2.xlsx`).

    `suffix` is given with or without its leading underscore (`v2` or `_v2`). Raises ValueError for a région code
    that is not in catalogue/regions.csv or a campaign that is not a year."""
    region_name(region_code)
    tpl.check_campaign(campaign)
    suffix = suffix.strip().lstrip("_")
    return FILE_PATTERN.format(region=region_code, campaign=campaign, suffix=f"_{suffix}" if suffix else "")


# --- values --------------------------------------------------------------------------------------------------------


@functools.cache
def sample_qpv_in_force(campaign: int, territories_seed: int = TERRITORIES_SEED) -> dict[str, int]:
    """The QPV in force on the campaign's reference day (31 December) per département, in the sample referential of
    `territories_seed` (generators.territories), dated as core.qpv dates them (sql/core/anct_qpv.sql): the 2015
    geography from 2015 to 2023 (2024 overseas), the 2024 geography after."""
    from etl.referentiels.territories import normalise_qpv, read_anct
    from etl.samples.generators import territories
    from etl.submissions.plausibility import reference_day

    day = reference_day(campaign)
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="obs-territories-") as folder:
        territories.generate(Path(folder), seed=territories_seed)
        for name, geography in ((territories.QPV_2015_FILE, "2015"), (territories.QPV_2024_FILE, "2024")):
            for departement in normalise_qpv(read_anct(Path(folder) / name))["qpv"]["insee_dep"]:
                change = 2025 if departement.startswith("97") else 2024  # the year the 2024 geography starts
                start, end = (2015, change) if geography == "2015" else (change, None)
                if start <= day.year and (end is None or day.year < end):
                    counts[departement] = counts.get(departement, 0) + 1
    return counts


def _rng(seed: int, region_code: str, campaign: int, what: str) -> random.Random:
    return random.Random(f"submissions:{seed}:{region_code}:{campaign}:{what}")


def _share_text(value: float, percent_sign: bool) -> str:
    text = f"{value:.1f}".replace(".", ",")
    return f"{text} %" if percent_sign else text


def _count_text(value: int, separator: str) -> str:
    return f"{value:,}".replace(",", separator)


@dataclass
class _Plan:
    """What goes into the value and observation cells of the template's rows."""

    regional: dict[str, float | str | None]
    departemental: dict[tuple[str, str], float | str | None]
    regional_observations: dict[str, str]
    departemental_observations: dict[tuple[str, str], str]
    valid_regional: dict[str, float | None]  # the meaning of each regional result (typed texts parsed)


def _roles(indicators: list[Indicator]) -> dict[str, str]:
    """The indicators the mistakes aim at: first, second and last count, first share, third local indicator."""
    counts = [indicator.code for indicator in indicators if indicator.unit != "%"]
    shares = [indicator.code for indicator in indicators if indicator.unit == "%"]
    return {
        "first_count": counts[0],
        "second_count": counts[1],
        "last_count": counts[-1],
        "first_share": shares[0],
        "third": indicators[2].code,
    }


def _ceiling(indicator: Indicator, departement: str, scale: int, qpv: Mapping[str, int]) -> int:
    """The largest value of an indicator's count in a département (see the module docstring)."""
    if indicator.statistical_unit == QPV_UNIT:
        return qpv.get(departement, 0)
    return UNIT_SCALES.get(indicator.statistical_unit, scale)


def _plan(
    region_code: str,
    campaign: int,
    seed: int,
    departements: list[str],
    indicators: list[Indicator],
    typed: bool,
    qpv: Mapping[str, int],
) -> _Plan:
    roles = _roles(indicators)
    protected = (departements[0], roles["first_count"])  # ventilation_incoherente needs a valid figure there

    # départemental figures (None: not available)
    draw = _rng(seed, region_code, campaign, "values")
    scales = list(COUNT_SCALES)
    draw.shuffle(scales)
    count_scale = {}
    values: dict[tuple[str, str], float | None] = {}
    for indicator in indicators:
        if indicator.unit == "%":
            centre, spread = draw.uniform(8.0, 75.0), draw.uniform(2.0, 12.0)
        else:
            count_scale[indicator.code] = scales[len(count_scale) % len(scales)]
        for departement in departements:
            if indicator.unit == "%":
                value: float | None = round(min(100.0, max(0.0, draw.gauss(centre, spread))), 1)
            else:
                zero = draw.random() < ZERO_SHARE
                value = (
                    0 if zero else draw.randint(0, _ceiling(indicator, departement, count_scale[indicator.code], qpv))
                )
            if draw.random() < EMPTY_SHARE and (departement, indicator.code) != protected:
                value = None
            values[(departement, indicator.code)] = value
    written: dict[tuple[str, str], float | str | None] = dict(values)

    typing = _rng(seed, region_code, campaign, "typed")
    not_available_typed: list[tuple[str, str]] = []
    if typed:
        candidates = [key for key, value in values.items() if value is not None and key != protected]
        not_available_typed = typing.sample(candidates, min(len(TYPED_NOT_AVAILABLE), len(candidates)))
        for key, text in zip(not_available_typed, TYPED_NOT_AVAILABLE, strict=False):
            values[key] = None
            written[key] = text

    # regional results, from the départements' figures that are available
    regional_draw = _rng(seed, region_code, campaign, "regional")
    valid_regional: dict[str, float | None] = {}
    for indicator in indicators:
        available = [values[(departement, indicator.code)] for departement in departements]
        available = [value for value in available if value is not None]
        position = regional_draw.random()  # drawn for every indicator: the stream does not depend on the blanks
        if not available:
            valid_regional[indicator.code] = None
        elif indicator.unit == "%":
            low, high = min(available), max(available)
            valid_regional[indicator.code] = min(high, max(low, round(low + position * (high - low), 1)))
        else:
            valid_regional[indicator.code] = sum(available)
    regional: dict[str, float | str | None] = dict(valid_regional)

    if typed:
        rewritten = {roles["first_count"], roles["second_count"], roles["last_count"], roles["first_share"]}
        shares = [
            indicator.code
            for indicator in indicators
            if indicator.unit == "%" and indicator.code not in rewritten and valid_regional[indicator.code] is not None
        ]
        for code, percent_sign in zip(shares, (False, True), strict=False):
            regional[code] = _share_text(valid_regional[code], percent_sign)
        counts = [
            indicator.code
            for indicator in indicators
            if indicator.unit != "%" and indicator.code not in rewritten and valid_regional[indicator.code] is not None
        ]
        counts.sort(key=lambda code: (-valid_regional[code], code))
        for code, separator in zip(counts, (" ", NBSP), strict=False):
            regional[code] = _count_text(valid_regional[code], separator)
        share_cells = [
            (departement, indicator.code)
            for indicator in indicators
            if indicator.unit == "%"
            for departement in departements
            if values[(departement, indicator.code)] is not None
        ]
        for key, percent_sign in zip(typing.sample(share_cells, min(2, len(share_cells))), (False, True), strict=False):
            written[key] = _share_text(values[key], percent_sign)

    # observations
    notes = _rng(seed, region_code, campaign, "observations")
    departemental_observations = {}
    for key in written:
        if values[key] is None:
            reason = notes.choice(_NOT_AVAILABLE_REASONS).format(missing=NOT_AVAILABLE_OBSERVATION)
            departemental_observations[key] = reason[0].upper() + reason[1:]
    filled_keys = [key for key in written if key not in departemental_observations]
    for key in notes.sample(filled_keys, min(5, len(filled_keys))):
        departemental_observations[key] = notes.choice(_SHORT_OBSERVATIONS)
    regional_observations = {}
    for code, value in valid_regional.items():
        if value is None:
            regional_observations[code] = "Résultat non calculé : aucune valeur départementale n'est disponible."
    codes = [indicator.code for indicator in indicators if indicator.code not in regional_observations]
    chosen = notes.sample(codes, min(4, len(codes)))
    for code in chosen[1:]:
        regional_observations[code] = notes.choice(_SHORT_OBSERVATIONS)
    if chosen:
        regional_observations[chosen[0]] = _long_observation(notes)
    return _Plan(regional, written, regional_observations, departemental_observations, valid_regional)


def _long_observation(notes: random.Random) -> str:
    """About 1,500 characters of sentences, in paragraphs."""
    sentences = list(_LONG_OBSERVATION_SENTENCES)
    notes.shuffle(sentences)
    low, high = LONG_OBSERVATION_LENGTH
    text = ""
    for sentence in sentences:
        candidate = f"{text}\n{sentence}" if text else sentence
        if len(candidate) > high:
            continue
        text = candidate
        if len(text) >= low:
            break
    return text


# --- the workbook ----------------------------------------------------------------------------------------------------


class _Book:
    """The filled workbook and where the template's cells are after the structural mistakes."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self.indicateurs = workbook[tpl.INDICATEURS_SHEET]
        self.departements = workbook[tpl.DEPARTEMENTS_SHEET]
        self.metadata = workbook[tpl.METADATA_SHEET]
        self.deleted_column: int | None = None
        self.indicator_rows = self._rows(self.indicateurs, 1)
        self.departement_rows = self._rows(self.departements, 1, 3)

    @staticmethod
    def _rows(ws: Worksheet, *columns: int) -> dict:
        rows = {}
        for row in range(tpl.FIRST_DATA_ROW, ws.max_row + 1):
            key = tuple(ws.cell(row=row, column=column).value for column in columns)
            if key[0] is not None:
                rows[key if len(key) > 1 else key[0]] = row
        return rows

    def column(self, letter: str) -> int:
        """The index of the template's Indicateurs column `letter` now."""
        index = column_index_from_string(letter)
        if self.deleted_column is not None and index > self.deleted_column:
            index -= 1
        return index

    def result_cell(self, code: str):
        return self.indicateurs.cell(row=self.indicator_rows[code], column=self.column(tpl.INDICATEURS_RESULT_COLUMN))

    def value_cell(self, departement: str, code: str):
        row = self.departement_rows[(departement, code)]
        return self.departements.cell(row=row, column=column_index_from_string(tpl.DEPARTEMENTS_VALUE_COLUMN))

    def last_indicator_row(self) -> int:
        return max(
            row for row in range(1, self.indicateurs.max_row + 1) if self.indicateurs.cell(row, 1).value is not None
        )


def _where(cell) -> str:
    return f"{cell.parent.title}!{cell.coordinate}"


def _fill(book: _Book, plan: _Plan, departements: list[str], indicators: list[Indicator]) -> None:
    observations_column = column_index_from_string(tpl.INDICATEURS_OBSERVATIONS_COLUMN)
    departement_observations_column = column_index_from_string(tpl.DEPARTEMENTS_OBSERVATIONS_COLUMN)
    for indicator in indicators:
        book.result_cell(indicator.code).value = plan.regional[indicator.code]
        if indicator.code in plan.regional_observations:
            row = book.indicator_rows[indicator.code]
            book.indicateurs.cell(row, observations_column).value = plan.regional_observations[indicator.code]
        for departement in departements:
            key = (departement, indicator.code)
            book.value_cell(*key).value = plan.departemental[key]
            if key in plan.departemental_observations:
                row = book.departement_rows[key]
                book.departements.cell(row, departement_observations_column).value = plan.departemental_observations[
                    key
                ]


def _copy_row(ws: Worksheet, source: int, target: int) -> None:
    for column in range(1, ws.max_column + 1):
        origin, destination = ws.cell(source, column), ws.cell(target, column)
        destination.value = origin.value
        destination._style = copy(origin._style)


def _apply(
    name: str,
    book: _Book,
    plan: _Plan,
    roles: dict[str, str],
    region_code: str,
    campaign: int,
    departements: list[str],
    draw: random.Random,
) -> str:
    """Apply one mistake; returns the cell it affects."""
    ws = book.indicateurs
    if name == "ligne_deplacee":
        first, second = SWAPPED_ROWS
        for column in range(1, ws.max_column + 1):
            a, b = ws.cell(first, column), ws.cell(second, column)
            a.value, b.value = b.value, a.value
            a._style, b._style = copy(b._style), copy(a._style)
        swap = {first: second, second: first}
        book.indicator_rows = {code: swap.get(row, row) for code, row in book.indicator_rows.items()}
        return f"{ws.title}!A{first}"
    if name == "colonne_supprimee":
        index = book.column(DELETED_COLUMN)
        ws.delete_cols(index)
        book.deleted_column = column_index_from_string(DELETED_COLUMN)
        return f"{ws.title}!{get_column_letter(index)}{tpl.HEADER_ROW}"
    if name == "feuille_renommee":
        book.departements.title = RENAMED_DEPARTEMENTS
        return f"{RENAMED_DEPARTEMENTS}!A{tpl.HEADER_ROW}"
    if name in ("texte_dans_nombre", "part_superieure_100", "nombre_negatif", "formule_sans_valeur"):
        code, value = {
            "texte_dans_nombre": (roles["first_count"], TEXT_IN_NUMBER),
            "part_superieure_100": (roles["first_share"], SHARE_ABOVE_100),
            "nombre_negatif": (roles["second_count"], NEGATIVE_COUNT),
            "formule_sans_valeur": (roles["last_count"], FORMULA),
        }[name]
        cell = book.result_cell(code)
        cell.value = value
        plan.regional[code] = value
        return _where(cell)
    if name == "indicateur_national":
        indicator = draw.choice(catalogue_indicators("national"))
        row = book.last_indicator_row() + 1
        ws.cell(row, 1).value = indicator.code
        ws.cell(row, 5).value = indicator.libelle
        value = round(draw.uniform(5.0, 60.0), 1) if indicator.unit == "%" else draw.randint(10, 900)
        cell = ws.cell(row, book.column(tpl.INDICATEURS_RESULT_COLUMN))
        cell.value = value
        return _where(cell)
    if name == "ligne_dupliquee":
        code = roles["third"]
        source, row = book.indicator_rows[code], book.last_indicator_row() + 1
        _copy_row(ws, source, row)
        base = plan.valid_regional[code]
        if base is None:
            base = 0
        step = round(draw.uniform(0.5, 9.5), 1) if isinstance(base, float) else draw.randint(1, 25)
        cell = ws.cell(row, book.column(tpl.INDICATEURS_RESULT_COLUMN))
        cell.value = base + step
        return _where(cell)
    if name == "region_metadonnees":
        others = [code for code in load_regions()["code"] if code != region_code]
        cell = book.metadata[tpl.METADATA_CELLS["region_code"]]
        cell.value = draw.choice(others)
        return _where(cell)
    if name == "campagne_metadonnees":
        cell = book.metadata[tpl.METADATA_CELLS["campaign"]]
        cell.value = campaign - 1
        return _where(cell)
    if name == "autre_version":
        cell = book.metadata[tpl.METADATA_CELLS["template_version"]]
        cell.value = OTHER_VERSION
        return _where(cell)
    if name == "departement_hors_region":
        frame = load_departements()
        outside = frame[frame["code_region"] != region_code].sort_values("code")
        code, label = draw.choice(list(zip(outside["code"], outside["nom"], strict=True)))
        cell = book.departements.cell(tpl.FIRST_DATA_ROW, 1)
        cell.value = code
        book.departements.cell(tpl.FIRST_DATA_ROW, 2).value = label
        return _where(cell)
    if name == "ventilation_incoherente":
        code = roles["first_count"]
        departement = next(
            departement
            for departement in departements
            if isinstance(plan.departemental[(departement, code)], int | float)
        )
        cell = book.value_cell(departement, code)
        cell.value = plan.departemental[(departement, code)] + VENTILATION_GAP
        plan.departemental[(departement, code)] = cell.value
        return _where(cell)
    if name == "cellules_fusionnees":
        first, last, row = MERGED_RANGE
        start, end = book.column(first), book.column(last)
        ws.merge_cells(start_row=row, start_column=start, end_row=row, end_column=end)
        return f"{ws.title}!{get_column_letter(start)}{row}"
    if name == "feuille_masquee":
        hidden = book.workbook.create_sheet(HIDDEN_SHEET)
        hidden.sheet_state = "hidden"
        hidden["A1"] = "brouillon - calculs intermédiaires"
        hidden["A2"], hidden["B2"] = "total départements", 1234
        hidden["A3"], hidden["B3"] = "à vérifier", "oui"
        return f"{HIDDEN_SHEET}!A1"
    raise AssertionError(name)  # names are checked before


def filled_workbook(
    region_code: str,
    campaign: int,
    *,
    seed: int = 0,
    mistakes: Iterable[str] = (),
    typed: bool = False,
    national_values: pd.DataFrame | None = None,
    territories_seed: int = TERRITORIES_SEED,
) -> Filled:
    """The template of `region_code` for `campaign`, filled (see the module docstring), with `mistakes` applied;
    counts of QPV stay within the QPV in force of the sample referential of `territories_seed`.

    Raises ValueError for an unknown mistake (the message lists `MISTAKES`), a région code that is not in
    catalogue/regions.csv or a campaign that is not a year."""
    names = chosen_mistakes(mistakes, MISTAKES)
    template = tpl.build_template(region_code, campaign, national_values=national_values)
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.workbook_bytes(template)))
    book = _Book(workbook)
    departements = list(dict.fromkeys(departement for departement, _ in book.departement_rows))
    indicators = catalogue_indicators("local")
    qpv = sample_qpv_in_force(campaign, territories_seed)
    plan = _plan(region_code, campaign, seed, departements, indicators, typed, qpv)
    _fill(book, plan, departements, indicators)

    roles = _roles(indicators)
    cells = {}
    ordered = [name for name in STRUCTURAL_MISTAKES if name in names] + [
        name for name in names if name not in STRUCTURAL_MISTAKES
    ]
    for name in ordered:
        draw = _rng(seed, region_code, campaign, f"mistake:{name}")  # a mistake's draws do not depend on the others
        cells[name] = _apply(name, book, plan, roles, region_code, campaign, departements, draw)
    return Filled(
        content=xlsx.workbook_bytes(workbook),
        region_code=region_code,
        campaign=campaign,
        cells={name: cells[name] for name in names},
        regional=dict(plan.regional),
        departemental=dict(plan.departemental),
    )
