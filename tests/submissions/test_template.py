"""The Excel template of the regional campaign (etl/submissions/template.py).

Expected values are read from the catalogue CSV files directly, not through the module under test.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import openpyxl
import pandas as pd
import pytest
from openpyxl.styles import Protection

from etl import xlsx
from etl.config import PROJECT_ROOT
from etl.submissions import kit
from etl.submissions import template as tpl

CATALOGUE = PROJECT_ROOT / "catalogue"
REGIONS = ("84", "04")  # Auvergne-Rhône-Alpes (12 départements), La Réunion (one: 974)
PERCENT_FORMAT = '0.0" %"'
COUNT_FORMAT = "#,##0"


def _csv(name: str) -> list[dict[str, str]]:
    with (CATALOGUE / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


INDICATORS = _csv("indicateurs_2014.csv")
LOCAL = [row for row in INDICATORS if row["mode"] == "local"]
NATIONAL = [row for row in INDICATORS if row["mode"] == "national"]
# Units of the local indicators, written out: targets in % (IND07, IND08), a `Taux` label (IND13), counts otherwise.
LOCAL_UNITS = {row["code"]: "nombre" for row in LOCAL} | {"IND07": "%", "IND08": "%", "IND13": "%"}


def _departements(region: str) -> list[tuple[str, str]]:
    return [(row["code"], row["nom"]) for row in _csv("departements.csv") if row["code_region"] == region]


def _reload(workbook: openpyxl.Workbook, **options) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(xlsx.workbook_bytes(workbook)), **options)


@pytest.fixture(scope="module", params=REGIONS)
def built(request):
    """(région code, the template as saved and read back)."""
    return request.param, _reload(tpl.build_template(request.param, 2024))


def _rows(ws) -> list[tuple]:
    return list(ws.iter_rows(min_row=tpl.FIRST_DATA_ROW, values_only=True))


def _validations(ws, coordinate: str) -> list:
    return [dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref]


# --- layout --------------------------------------------------------------------------------------------------------


def test_sheets_and_metadata(built):
    region, wb = built
    assert wb.sheetnames == ["Métadonnées", "Indicateurs", "Départements", "Indicateurs nationaux"]
    assert tuple(wb.sheetnames) == tpl.SHEET_NAMES
    meta = wb[tpl.METADATA_SHEET]
    name = {row["code"]: row["nom"] for row in _csv("regions.csv")}[region]
    assert meta["B2"].value == region
    assert meta["B3"].value == name
    assert meta["B4"].value == 2024
    assert meta["B5"].value == tpl.TEMPLATE_VERSION == "2014.1"
    assert "5706/SG" in meta["B6"].value
    assert "12,5 pour 12,5 %" in meta["B7"].value
    assert re.fullmatch(r"[0-9a-f]{64}", meta["B8"].value)
    assert [meta[f"A{row}"].value for row in range(2, 9)] == [label for label, _ in tpl.METADATA_FIELDS.values()]


def test_indicateurs_sheet_has_the_16_local_indicators(built):
    _, wb = built
    ws = wb[tpl.INDICATEURS_SHEET]
    assert [cell.value for cell in ws[1]] == list(tpl.INDICATEURS_HEADERS)
    assert ws["H1"].value == "Résultat régional" and ws["I1"].value == "Observations"
    rows = _rows(ws)
    assert len(rows) == 16
    assert [row[0] for row in rows] == [row["code"] for row in LOCAL]
    for row, source in zip(rows, LOCAL, strict=True):
        code, convention, objectif, bop, libelle, unit, cible, result, observations = row
        assert (convention, objectif, libelle) == (
            source["convention"],
            source["objectif_operationnel"],
            source["libelle"],
        )
        assert (bop or "") == source["bop"] and (cible or "") == source["cible_texte"]
        assert unit == LOCAL_UNITS[code]
        assert result is None and observations is None
    assert ws.freeze_panes == "A2"
    assert ws["G2"].value == "25%"  # IND07, as written in the source


def test_departements_sheet_crosses_departements_and_local_indicators(built):
    region, wb = built
    ws = wb[tpl.DEPARTEMENTS_SHEET]
    assert [cell.value for cell in ws[1]] == list(tpl.DEPARTEMENTS_HEADERS)
    departements = _departements(region)
    assert len(departements) == (12 if region == "84" else 1)
    rows = _rows(ws)
    assert len(rows) == len(departements) * 16
    expected = [
        (code, nom, ind["code"], ind["libelle"], LOCAL_UNITS[ind["code"]])
        for code, nom in departements
        for ind in LOCAL
    ]
    assert [row[:5] for row in rows] == expected
    assert all(row[5] is None and row[6] is None for row in rows)
    if region == "04":
        assert {row[0] for row in rows} == {"974"}
    assert ws.freeze_panes == "A2"


# --- protection ----------------------------------------------------------------------------------------------------


def test_only_the_input_columns_are_unlocked(built):
    _, wb = built
    assert wb.security.lockStructure
    inputs = {tpl.INDICATEURS_SHEET: {"H", "I"}, tpl.DEPARTEMENTS_SHEET: {"F", "G"}}
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
        assert not ws.protection.password, ws.title
        unlocked = set()
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column):
            for cell in row:
                if not cell.protection.locked:
                    unlocked.add((cell.column_letter, cell.row))
        expected = {(column, row) for column in inputs.get(ws.title, ()) for row in range(2, ws.max_row + 1)}
        assert unlocked == expected, ws.title
    assert wb[tpl.INDICATEURS_SHEET].max_row == 17


def test_validations_cover_the_input_cells_with_the_right_bounds(built):
    _, wb = built
    sheets = ((tpl.INDICATEURS_SHEET, "H", "I", 0), (tpl.DEPARTEMENTS_SHEET, "F", "G", 2))
    for name, value_column, observations_column, code_index in sheets:
        ws = wb[name]
        for row in range(2, ws.max_row + 1):
            unit = LOCAL_UNITS[ws.cell(row=row, column=code_index + 1).value]
            (value_rule,) = _validations(ws, f"{value_column}{row}")
            assert value_rule.type == "decimal"
            if unit == "%":
                assert (value_rule.operator, value_rule.formula1, value_rule.formula2) == ("between", "0", "100")
                assert "12,5" in value_rule.error
            else:
                assert (value_rule.operator, value_rule.formula1) == ("greaterThanOrEqual", "0")
                assert value_rule.formula2 is None
            (text_rule,) = _validations(ws, f"{observations_column}{row}")
            assert (text_rule.type, text_rule.operator, text_rule.formula1) == ("textLength", "lessThanOrEqual", "2000")
            for rule in (value_rule, text_rule):
                assert rule.showErrorMessage and rule.showInputMessage and rule.allow_blank
                assert rule.error and rule.errorTitle and rule.prompt and rule.promptTitle
                assert len(rule.prompt) <= 255 and len(rule.error) <= 255 and len(rule.promptTitle) <= 32
            for column in "ABCDE":
                assert not _validations(ws, f"{column}{row}")


def test_number_formats(built):
    _, wb = built
    ind = wb[tpl.INDICATEURS_SHEET]
    for row in range(2, 18):
        unit = LOCAL_UNITS[ind[f"A{row}"].value]
        assert ind[f"H{row}"].number_format == (PERCENT_FORMAT if unit == "%" else COUNT_FORMAT)
        assert ind[f"I{row}"].number_format == "@"
        assert ind[f"I{row}"].alignment.wrap_text
    dep = wb[tpl.DEPARTEMENTS_SHEET]
    for row in range(2, dep.max_row + 1):
        unit = LOCAL_UNITS[dep[f"C{row}"].value]
        assert dep[f"F{row}"].number_format == (PERCENT_FORMAT if unit == "%" else COUNT_FORMAT)
    assert tpl.NUMBER_FORMATS["euros"] == '#,##0.00" €"'
    assert ind.column_dimensions["E"].width >= 40


# --- national context ----------------------------------------------------------------------------------------------


def test_national_sheet_without_values_says_non_disponible(built):
    _, wb = built
    ws = wb[tpl.NATIONAUX_SHEET]
    rows = _rows(ws)
    assert [row[0] for row in rows] == [row["code"] for row in NATIONAL]
    assert all(row[6] is None and row[7] == "non disponible" for row in rows)
    assert rows[0][3] == "%" and rows[3][3] == "nombre"  # IND01 share, IND04 count


def test_national_sheet_shows_the_latest_known_value_of_the_region():
    values = pd.DataFrame(
        [
            ("IND01", "region", "84", "2022", 27.5, "ok"),
            ("IND01", "region", "84", "2023", 31.25, "ok"),
            ("IND01", "region", "84", "2024", None, "masked"),  # not known: 2023 stays the latest known
            ("IND01", "region", "11", "2024", 99.0, "ok"),  # another région
            ("IND04", "region", "84", "2023", 1250.0, "ok"),
            ("IND04", "france", "FR", "2024", 5000.0, "ok"),
        ],
        columns=["indicator_code", "territory_level", "territory_code", "period_code", "value", "status"],
    )
    ws = _reload(tpl.build_template("84", 2024, national_values=values))[tpl.NATIONAUX_SHEET]
    by_code = {row[0]: row for row in _rows(ws)}
    assert by_code["IND01"][5:] == ("2023", 31.25, "disponible")
    assert by_code["IND04"][5:] == ("2023", 1250, "disponible")
    assert by_code["IND17"][5:] == (None, None, "non disponible")
    row = next(cell.row for cell in ws["A"] if cell.value == "IND01")
    assert ws[f"G{row}"].number_format == PERCENT_FORMAT
    assert ws[f"G{row + 3}"].number_format == COUNT_FORMAT  # IND04


def test_national_values_without_the_expected_columns_are_refused():
    with pytest.raises(ValueError, match="period_code"):
        tpl.build_template("84", 2024, national_values=pd.DataFrame({"indicator_code": ["IND01"], "value": [1.0]}))


# --- determinism ---------------------------------------------------------------------------------------------------


def test_two_writes_are_byte_identical(tmp_path):
    first = tpl.write_template(tmp_path / "a" / "t.xlsx", "84", 2024)
    second = tpl.write_template(tmp_path / "b.xlsx", "84", 2024)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {info.date_time for info in archive.infolist()} == {(2024, 1, 1, 0, 0, 0)}
        assert b"2024-01-01T00:00:00Z" in archive.read("docProps/core.xml")
    assert tpl.write_template(tmp_path / "c.xlsx", "84", 2025).read_bytes() != first.read_bytes()


# --- empreinte -----------------------------------------------------------------------------------------------------


@pytest.fixture()
def template_84():
    return _reload(tpl.build_template("84", 2024))


def _stored(wb) -> str:
    return wb[tpl.METADATA_SHEET][tpl.METADATA_CELLS["empreinte"]].value


def test_checksum_is_stored_and_survives_filling_the_input_cells(template_84):
    wb = template_84
    assert kit.structure_checksum(wb) == _stored(wb)
    ind, dep = wb[tpl.INDICATEURS_SHEET], wb[tpl.DEPARTEMENTS_SHEET]
    for row in range(2, 18):
        ind[f"H{row}"] = 12.5
        ind[f"I{row}"] = "Données du rectorat ; cible régionale de 20 %."
    for row in range(2, dep.max_row + 1):
        dep[f"F{row}"] = row
        dep[f"G{row}"] = "RAS"
    assert kit.structure_checksum(wb) == _stored(wb)
    filled = _reload(wb)
    assert filled[tpl.INDICATEURS_SHEET]["H2"].value == 12.5
    assert kit.structure_checksum(filled) == _stored(filled)
    read_only = openpyxl.load_workbook(io.BytesIO(xlsx.workbook_bytes(wb)), read_only=True)
    assert kit.structure_checksum(read_only) == _stored(filled)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda wb: wb[tpl.DEPARTEMENTS_SHEET].delete_rows(5), id="delete-row"),
        pytest.param(lambda wb: wb[tpl.INDICATEURS_SHEET].delete_rows(17), id="delete-last-row"),
        pytest.param(lambda wb: wb[tpl.INDICATEURS_SHEET].move_range("A3:I3", rows=20), id="move-row"),
        pytest.param(lambda wb: wb[tpl.INDICATEURS_SHEET].delete_cols(4), id="delete-column"),
        pytest.param(lambda wb: wb[tpl.DEPARTEMENTS_SHEET].delete_cols(7), id="delete-input-column"),
        pytest.param(lambda wb: setattr(wb[tpl.INDICATEURS_SHEET], "title", "Indicateurs locaux"), id="rename"),
        pytest.param(lambda wb: wb[tpl.INDICATEURS_SHEET].cell(row=2, column=5, value="Autre libellé"), id="label"),
        pytest.param(lambda wb: wb[tpl.INDICATEURS_SHEET].cell(row=2, column=7, value="10%"), id="target"),
        pytest.param(lambda wb: wb[tpl.DEPARTEMENTS_SHEET].cell(row=2, column=1, value="03"), id="departement"),
        pytest.param(lambda wb: wb[tpl.METADATA_SHEET].cell(row=2, column=2, value="11"), id="region-code"),
        pytest.param(lambda wb: wb.create_sheet("Notes"), id="new-sheet"),
        pytest.param(lambda wb: wb[tpl.INDICATEURS_SHEET].cell(row=30, column=8, value=5), id="value-outside"),
    ],
)
def test_checksum_changes_when_the_structure_is_edited(template_84, edit):
    wb = template_84
    before = kit.structure_checksum(wb)
    edit(wb)
    assert kit.structure_checksum(wb) != before
    assert kit.structure_checksum(_reload(wb)) != _stored(wb)


def test_checksum_changes_when_a_label_is_unlocked(template_84):
    wb = template_84
    before = kit.structure_checksum(wb)
    wb[tpl.INDICATEURS_SHEET]["E2"].protection = Protection(locked=False)
    assert kit.structure_checksum(wb) != before


# --- errors --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["99", "4", "", "FR", 84])
def test_unknown_region_is_refused(code, tmp_path):
    with pytest.raises(ValueError, match=r"^Unknown région code .*catalogue/regions\.csv"):
        tpl.build_template(code, 2024)
    with pytest.raises(ValueError, match="Unknown région code"):
        tpl.write_template(tmp_path / "t.xlsx", code, 2024)
    assert not (tmp_path / "t.xlsx").exists()


def test_campaign_must_be_a_year():
    with pytest.raises(ValueError, match="campaign"):
        tpl.build_template("84", "2024")
