"""Filled regional workbooks (samples/generators/submissions.py): determinism, coherent figures, typed texts, mistakes.

Figures are read back from the saved .xlsx with openpyxl; codes, units, labels and régions come from the catalogue
CSV files, not from the module under test.
"""

from __future__ import annotations

import csv
import functools
import io
import re

import openpyxl
import pytest

from etl.config import PROJECT_ROOT
from etl.samples.generators import submissions as generator
from etl.submissions import kit
from etl.submissions import template as tpl

CATALOGUE = PROJECT_ROOT / "catalogue"
REGIONS = ("84", "04")  # Auvergne-Rhône-Alpes (12 départements), La Réunion (one: 974)
CAMPAIGN = 2024
NBSP = "\u00a0"
MISSING = "donnée non disponible pour ce département"


def _csv(name: str) -> list[dict[str, str]]:
    with (CATALOGUE / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


INDICATORS = _csv("indicateurs_2014.csv")
LOCAL = [row["code"] for row in INDICATORS if row["mode"] == "local"]
NATIONAL = {row["code"]: row["libelle"] for row in INDICATORS if row["mode"] == "national"}
SHARES = ["IND07", "IND08", "IND13"]  # the local indicators in % (targets in %, a `Taux` label)
COUNTS = [code for code in LOCAL if code not in SHARES]
DEPARTEMENTS = _csv("departements.csv")
REGION_OF = {row["code"]: row["code_region"] for row in DEPARTEMENTS}
NAME_OF = {row["code"]: row["nom"] for row in DEPARTEMENTS}
REGION_CODES = {row["code"] for row in _csv("regions.csv")}


def _load(filled: generator.Filled, **options) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(filled.content), **options)


def _number(value):
    """The meaning of a value cell: a number, or None when empty or written as not available."""
    if value is None or value in ("n.d.", "NC"):
        return None
    if isinstance(value, int | float):
        return value
    text = value.replace(NBSP, " ").strip().removesuffix("%").replace(" ", "").replace(",", ".")
    return float(text)


def _column(ws, header: str) -> int:
    return next(cell.column for cell in ws[1] if cell.value == header)


def _regional(wb) -> dict[str, tuple[str, object, object]]:
    """code -> (unit, result, observations) of the Indicateurs rows of local indicators (first row of a code)."""
    ws = wb["Indicateurs"]
    result, notes = _column(ws, "Résultat régional"), _column(ws, "Observations")
    rows = {}
    for row in range(2, ws.max_row + 1):
        code = ws.cell(row, 1).value
        if code in LOCAL and code not in rows:
            rows[code] = (ws.cell(row, 6).value, ws.cell(row, result).value, ws.cell(row, notes).value)
    return rows


def _departemental(wb, sheet: str = "Départements") -> dict[tuple[str, str], tuple[object, object]]:
    """(département, indicator) -> (value, observations)."""
    return {
        (row[0], row[2]): (row[5], row[6])
        for row in wb[sheet].iter_rows(min_row=2, values_only=True)
        if row[0] is not None
    }


@functools.cache
def _made(region: str, typed: bool) -> tuple[str, generator.Filled, openpyxl.Workbook]:
    """(région, the filled workbook without mistakes, its file read back); seed 3."""
    filled = generator.filled_workbook(region, CAMPAIGN, seed=3, typed=typed)
    return region, filled, _load(filled)


@pytest.fixture(params=REGIONS)
def clean(request):
    return _made(request.param, False)


@pytest.fixture(params=REGIONS)
def typed(request):
    return _made(request.param, True)


# --- file name and determinism -------------------------------------------------------------------------------------


def test_submission_file_name():
    assert generator.submission_file_name("84", 2024) == "indicateurs_locaux_R84_2024.xlsx"
    assert generator.submission_file_name("04", 2023, "v2") == "indicateurs_locaux_R04_2023_v2.xlsx"
    assert generator.submission_file_name("04", 2023, "_v2") == "indicateurs_locaux_R04_2023_v2.xlsx"
    with pytest.raises(ValueError):
        generator.submission_file_name("99", 2024)


def test_same_arguments_same_file():
    first = generator.filled_workbook("84", CAMPAIGN, seed=3, typed=True, mistakes=["texte_dans_nombre"])
    second = generator.filled_workbook("84", CAMPAIGN, seed=3, typed=True, mistakes=["texte_dans_nombre"])
    assert first.content == second.content
    assert first == second
    other_seed = generator.filled_workbook("84", CAMPAIGN, seed=4)
    assert other_seed.regional != generator.filled_workbook("84", CAMPAIGN, seed=3).regional
    other_campaign = generator.filled_workbook("84", CAMPAIGN + 1, seed=3)
    assert other_campaign.departemental != generator.filled_workbook("84", CAMPAIGN, seed=3).departemental


def test_a_mistake_leaves_the_other_figures_alone(clean):
    region, filled, _ = clean
    hidden = generator.filled_workbook(region, CAMPAIGN, seed=3, mistakes=["feuille_masquee"])
    assert (hidden.regional, hidden.departemental) == (filled.regional, filled.departemental)
    negative = generator.filled_workbook(region, CAMPAIGN, seed=3, mistakes=["nombre_negatif"])
    assert negative.regional == {**filled.regional, COUNTS[1]: -3}
    assert negative.departemental == filled.departemental


# --- the valid workbook --------------------------------------------------------------------------------------------


def test_the_template_with_its_input_cells_filled(clean):
    region, filled, wb = clean
    assert (filled.region_code, filled.campaign, filled.cells) == (region, CAMPAIGN, {})
    assert wb.sheetnames == ["Métadonnées", "Indicateurs", "Départements", "Indicateurs nationaux"]
    meta = wb["Métadonnées"]
    assert (meta["B2"].value, meta["B4"].value, meta["B5"].value) == (region, CAMPAIGN, "2014.1")
    # only unlocked cells were written: the empreinte of the template still holds
    assert kit.structure_checksum(wb) == meta["B8"].value
    template = tpl.build_template(region, CAMPAIGN)
    assert meta["B8"].value == template[tpl.METADATA_SHEET]["B8"].value

    regional = _regional(wb)
    assert list(regional) == LOCAL
    assert {code: value for code, (_, value, _) in regional.items()} == filled.regional
    departemental = _departemental(wb)
    codes = [row["code"] for row in DEPARTEMENTS if row["code_region"] == region]
    assert set(departemental) == {(code, indicator) for code in codes for indicator in LOCAL}
    assert {key: value for key, (value, _) in departemental.items()} == filled.departemental


@pytest.mark.parametrize("typed", [False, True], ids=["plain", "typed"])
@pytest.mark.parametrize("region", REGIONS)
def test_counts_add_up_and_shares_stay_within_the_departements(region, typed):
    _, _, wb = _made(region, typed)
    departemental = _departemental(wb)
    zeros = 0
    for code, (unit, result, _) in _regional(wb).items():
        assert unit == ("%" if code in SHARES else "nombre")
        values = [_number(value) for (_, indicator), (value, _) in departemental.items() if indicator == code]
        values = [value for value in values if value is not None]
        total = _number(result)
        if not values:
            assert total is None
            continue
        if unit == "nombre":
            assert all(float(value).is_integer() and 0 <= value <= 500 for value in values)
            zeros += values.count(0)
            assert total == sum(values)
        else:
            assert all(0 <= value <= 100 and round(value, 1) == value for value in values)
            assert min(values) <= total <= max(values)
            assert round(total, 1) == total
    if region == "84":
        assert zeros > 0


def test_numbers_are_numbers_without_typed(clean):
    _, filled, wb = clean
    for _, result, _ in _regional(wb).values():
        assert result is None or type(result) in (int, float)
    for value, _ in _departemental(wb).values():
        assert value is None or type(value) in (int, float)  # a whole float is read back as an int
    for (_, code), value in filled.departemental.items():
        assert value is None or type(value) is (float if code in SHARES else int)
    for code, value in filled.regional.items():
        assert value is None or type(value) is (float if code in SHARES else int)


def test_missing_figures_are_explained(clean):
    region, _, wb = clean
    departemental = _departemental(wb)
    empty = [key for key, (value, _) in departemental.items() if value is None]
    for key in empty:
        assert MISSING in departemental[key][1].lower()
    if region == "84":  # 192 cells, about one in 20 empty
        assert 1 <= len(empty) <= 25
    for code, (_, result, notes) in _regional(wb).items():
        if result is None:
            assert notes, code


def test_observations(clean):
    _, _, wb = clean
    notes = [notes for _, _, notes in _regional(wb).values() if notes]
    notes += [notes for _, notes in _departemental(wb).values() if notes]
    assert len(notes) >= 5
    assert all(len(note) <= 2000 for note in notes)
    assert any(1400 <= len(note) <= 1600 for note in notes)
    assert any(";" in note for note in notes)
    assert any("\n" in note for note in notes)
    assert any('"' in note or "«" in note for note in notes)
    assert any(re.search("[éèàçÉ]", note) for note in notes)


def test_typed_values(typed):
    region, filled, wb = typed
    texts = [result for _, result, _ in _regional(wb).values() if isinstance(result, str)]
    assert any(re.fullmatch(r"\d+,\d", text) for text in texts)
    assert any(re.fullmatch(r"\d+,\d %", text) for text in texts)
    if region == "84":  # totals above 1 000: digit groups
        assert any(re.fullmatch(r"\d{1,3} \d{3}", text) for text in texts)
        assert any(re.fullmatch(rf"\d{{1,3}}{NBSP}\d{{3}}", text) for text in texts)
    cells = [value for value, _ in _departemental(wb).values() if isinstance(value, str)]
    assert "n.d." in cells and "NC" in cells
    assert any(re.fullmatch(r"\d+,\d( %)?", text) for text in cells)
    departemental = _departemental(wb)
    for value, notes in departemental.values():
        if value in ("n.d.", "NC"):
            assert MISSING in notes.lower()
    # a typed text means the number written in the workbook without typed
    _, plain, _ = _made(region, False)
    for key, value in filled.departemental.items():
        if isinstance(value, str) and value not in ("n.d.", "NC"):
            assert _number(value) == plain.departemental[key]


# --- mistakes ------------------------------------------------------------------------------------------------------


def _cell(wb, where: str):
    sheet, coordinate = where.rsplit("!", 1)
    return wb[sheet][coordinate]


def _code_of(cell) -> str:
    return cell.parent.cell(cell.row, 1).value


def _check(name: str, wb, filled: generator.Filled, clean_wb) -> None:
    """The mistake `name` is visible at the cell the generator reports."""
    where = filled.cells[name]
    cell = _cell(wb, where)
    sheet = cell.parent
    region = filled.region_code
    departement_sheet = wb.sheetnames[2]
    if name in ("texte_dans_nombre", "part_superieure_100", "nombre_negatif", "formule_sans_valeur"):
        code, value = {
            "texte_dans_nombre": (COUNTS[0], "environ 40"),
            "part_superieure_100": (SHARES[0], 112.5),
            "nombre_negatif": (COUNTS[1], -3),
            "formule_sans_valeur": (COUNTS[-1], "=SUM(F2:F5)"),
        }[name]
        assert sheet.title == "Indicateurs" and cell.column == _column(sheet, "Résultat régional")
        assert (_code_of(cell), cell.value) == (code, value)
        assert filled.regional[code] == value
        if name == "formule_sans_valeur":
            assert cell.data_type == "f"
            assert _cell(_load(filled, data_only=True), where).value is None
    elif name == "indicateur_national":
        code = _code_of(cell)
        assert code in NATIONAL and sheet.cell(cell.row, 5).value == NATIONAL[code]
        assert cell.column == _column(sheet, "Résultat régional") and isinstance(cell.value, int | float)
        after = {sheet.cell(row, 1).value for row in range(cell.row + 1, sheet.max_row + 1)} - {None}
        assert after <= {LOCAL[2]}  # at most the row of ligne_dupliquee, appended after it
        assert set(LOCAL) <= {sheet.cell(row, 1).value for row in range(2, cell.row)}
    elif name == "region_metadonnees":
        assert where == "Métadonnées!B2" and cell.value in REGION_CODES - {region}
    elif name == "campagne_metadonnees":
        assert where == "Métadonnées!B4" and cell.value == CAMPAIGN - 1
    elif name == "autre_version":
        assert where == "Métadonnées!B5" and cell.value == "2013.1"
    elif name == "ligne_deplacee":
        assert where == "Indicateurs!A3"
        assert (sheet["A3"].value, sheet["A4"].value) == (LOCAL[2], LOCAL[1])
        assert (sheet["F3"].value, sheet["F4"].value) == ("nombre", "%")
    elif name == "colonne_supprimee":
        assert where == "Indicateurs!G1" and cell.value == "Résultat régional"
        headers = [header.value for header in sheet[1] if header.value is not None]
        assert "Cible nationale" not in headers and len(headers) == 8
    elif name == "feuille_renommee":
        assert where == "Departements!A1" and cell.value == "Code département"
        assert wb.sheetnames[2] == "Departements" and "Départements" not in wb.sheetnames
    elif name == "ligne_dupliquee":
        result = _column(sheet, "Résultat régional")
        assert cell.column == result and _code_of(cell) == LOCAL[2]
        original = next(row for row in range(2, cell.row) if sheet.cell(row, 1).value == LOCAL[2])
        for column in range(1, sheet.max_column + 1):
            if column != result:
                assert sheet.cell(cell.row, column).value == sheet.cell(original, column).value
        assert isinstance(cell.value, int | float) and cell.value != sheet.cell(original, result).value
    elif name == "departement_hors_region":
        assert where == f"{departement_sheet}!A2"
        assert REGION_OF[cell.value] != region and sheet["B2"].value == NAME_OF[cell.value]
    elif name == "ventilation_incoherente":
        assert sheet.title == departement_sheet and cell.column_letter == "F"
        code = sheet.cell(cell.row, 3).value
        assert code == COUNTS[0]
        assert cell.value == clean_wb["Départements"][cell.coordinate].value + 1000
        total = filled.regional[code]
        if isinstance(total, int | float):  # not when texte_dans_nombre rewrote it
            values = [_number(value) for (_, indicator), (value, _) in _departemental(wb, departement_sheet).items()
                      if indicator == code]  # fmt: skip
            assert total != sum(value for value in values if value is not None)
    elif name == "cellules_fusionnees":
        merged = [str(ranged) for ranged in sheet.merged_cells.ranges]
        result, notes = _column(sheet, "Résultat régional"), _column(sheet, "Observations")
        assert sheet.title == "Indicateurs" and cell.row == 5 and cell.column == result
        expected = f"{cell.coordinate}:{openpyxl.utils.get_column_letter(notes)}5"
        assert expected in merged
    elif name == "feuille_masquee":
        assert where == "Feuil1!A1" and wb.sheetnames[-1] == "Feuil1"
        assert sheet.sheet_state == "hidden" and cell.value
    else:
        raise AssertionError(f"no check for {name}")


def test_mistake_names():
    assert generator.MISTAKES[0] == "texte_dans_nombre" and generator.MISTAKES[-1] == "feuille_masquee"
    assert len(generator.MISTAKES) == len(set(generator.MISTAKES)) == 16


@pytest.mark.parametrize("name", generator.MISTAKES)
def test_each_mistake_is_where_it_is_reported(name):
    filled = generator.filled_workbook("84", CAMPAIGN, seed=3, mistakes=[name])
    assert list(filled.cells) == [name]
    _check(name, _load(filled), filled, _made("84", False)[2])


def test_all_mistakes_together(clean):
    region, _, clean_wb = clean
    filled = generator.filled_workbook(region, CAMPAIGN, seed=3, mistakes=reversed(generator.MISTAKES), typed=True)
    assert list(filled.cells) == list(generator.MISTAKES)
    wb = _load(filled)
    for name in generator.MISTAKES:
        _check(name, wb, filled, clean_wb)


def test_a_single_name_is_one_mistake():
    filled = generator.filled_workbook("04", CAMPAIGN, mistakes="feuille_masquee")
    assert list(filled.cells) == ["feuille_masquee"]


def test_unknown_mistake():
    with pytest.raises(ValueError, match="ligne_en_trop") as raised:
        generator.filled_workbook("84", CAMPAIGN, mistakes=["texte_dans_nombre", "ligne_en_trop"])
    assert all(name in str(raised.value) for name in generator.MISTAKES)
