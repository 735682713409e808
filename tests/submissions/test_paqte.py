"""The semestrial PAQTE report workbook (etl/submissions/paqte.py) and the context it reads from the warehouse.

Expected names come from the catalogue CSV files and from the letter of 22 January 2019 (annexe 2), written out here;
the warehouse test inserts a handful of core rows and checks sums computed by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa
from openpyxl.styles import Protection

from etl import xlsx
from etl.config import PROJECT_ROOT
from etl.referentiels import periods
from etl.submissions import kit, paqte
from etl.submissions import template as tpl
from etl.warehouse.template_context import paqte_context

SHEETS = ["Métadonnées", "Contexte", "Bilan", "Entreprises", "Résultats", "Exemples d'actions"]
AXES = ["Sensibiliser", "Former", "Recruter", "Acheter"]
COUNT_FORMAT = "#,##0"
EUROS_FORMAT = '#,##0.00" €"'
# Input cells of each sheet: (columns, first row, last row).
INPUTS = {
    "Bilan": ("B", 2, 9),
    "Entreprises": ("BCDEF", 2, 201),
    "Exemples d'actions": ("BCD", 2, 21),
}


def _csv(name: str) -> list[dict[str, str]]:
    with (PROJECT_ROOT / "catalogue" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _reload(workbook: openpyxl.Workbook, **options) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(xlsx.workbook_bytes(workbook)), **options)


def _validations(ws, coordinate: str) -> list:
    return [dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref]


def _data_rows(ws) -> list[tuple]:
    return list(ws.iter_rows(min_row=2, values_only=True))


@pytest.fixture(scope="module")
def rhone():
    return _reload(paqte.build_paqte_template("69", "2024-S1"))


def _input_cells(wb) -> dict[str, set[str]]:
    cells = {
        name: {f"{c}{r}" for c in columns for r in range(first, last + 1)}
        for name, (columns, first, last) in INPUTS.items()
    }
    last = 1 + len(_data_rows(wb["Résultats"]))
    cells["Résultats"] = {f"{c}{r}" for c in "EF" for r in range(2, last + 1)}
    return cells


# --- layout --------------------------------------------------------------------------------------------------------


def test_sheets_and_metadata(rhone):
    wb = rhone
    assert wb.sheetnames == SHEETS == list(paqte.PAQTE_SHEET_NAMES)
    meta = wb["Métadonnées"]
    region = {row["code"]: row["nom"] for row in _csv("regions.csv")}["84"]
    assert [meta[f"B{row}"].value for row in range(2, 7)] == ["69", "Rhône", region, "2024-S1", "paqte.1"]
    assert paqte.PAQTE_TEMPLATE_VERSION == "paqte.1"
    assert "22 janvier 2019" in meta["B7"].value and "PAQTE" in meta["B7"].value
    assert re.fullmatch(r"[0-9a-f]{64}", meta["B8"].value)
    assert "SIREN" in meta["B9"].value and "GE" in meta["B9"].value
    labels = [meta[f"A{row}"].value for row in range(2, 10)]
    assert labels == [
        "Code département",
        "Département",
        "Région",
        "Semestre",
        "Version du modèle",
        "Note",
        "Empreinte",
        "Conventions de saisie",
    ]
    # the regional template's checker reads the empreinte at the same cell
    assert paqte.PAQTE_METADATA_CELLS["empreinte"] == tpl.METADATA_CELLS["empreinte"] == "B8"
    assert wb.properties.title.startswith("Bilan PAQTE 2024-S1 - Rhône")


def test_only_the_input_cells_are_unlocked_and_every_sheet_is_protected(rhone):
    wb = rhone
    assert wb.security.lockStructure
    expected = _input_cells(wb)
    for ws in wb.worksheets:
        assert ws.protection.sheet and not ws.protection.password, ws.title
        unlocked = {
            cell.coordinate
            for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column)
            for cell in row
            if not cell.protection.locked
        }
        assert unlocked == expected.get(ws.title, set()), ws.title
        for coordinate in unlocked:
            assert ws[coordinate].fill.fgColor.rgb.endswith("FFF2CC"), (ws.title, coordinate)


def test_contexte_without_a_context_says_non_disponible(rhone):
    ws = rhone["Contexte"]
    assert [cell.value for cell in ws[1]] == ["Élément", "Valeur", "Période", "Source", "Disponibilité", "Précisions"]
    rows = _data_rows(ws)
    assert len(rows) == 5
    labels = [row[0] for row in rows]
    for words in (("Nombre de QPV",), ("Population", "QPV"), ("PRU", "intérêt national"), ("DEFM", "catégorie A")):
        assert sum(all(word in label for word in words) for label in labels) == 1, words
    assert sum("DEFM" in label for label in labels) == 2  # category A, and A, B, C
    for _, value, period, source, availability, _ in rows:
        assert value is None and period is None and availability == "non disponible"
        assert source
    assert any("France Travail" in row[3] for row in rows)


def test_bilan_follows_the_format_of_the_letter(rhone):
    ws = rhone["Bilan"]
    rows = _data_rows(ws)
    labels = [row[0] for row in rows]
    assert len(labels) == 8 and all(row[1] is None for row in rows)
    assert [label for label in labels if label.startswith("Référent PAQTE")] == labels[:4]
    for word, label in zip(("nom", "fonction", "courriel", "téléphone"), labels[:4], strict=True):
        assert word in label
    assert labels[4].startswith("Organisation retenue de suivi et d'animation")
    assert labels[5] == "Nombre d'entreprises signataires au niveau départemental"
    assert labels[6].startswith("Associations et autres acteurs partenaires")
    assert "obstacles" in labels[7] and "Stratégie" in labels[7]
    (count,) = _validations(ws, "B7")
    assert (count.type, count.operator, count.formula1) == ("whole", "greaterThanOrEqual", "0")
    assert ws["B7"].number_format == COUNT_FORMAT
    (email,) = _validations(ws, "B4")
    assert email.type == "custom" and "@" in email.formula1 and "B4" in email.formula1
    for coordinate in ("B2", "B3", "B5", "B6", "B8", "B9"):
        (rule,) = _validations(ws, coordinate)
        assert (rule.type, rule.operator) == ("textLength", "lessThanOrEqual")
        assert ws[coordinate].number_format == "@"
    assert {int(_validations(ws, c)[0].formula1) for c in ("B6", "B8", "B9")} == {2000}


@pytest.mark.parametrize(("semester", "last_day"), [("2024-S1", "DATE(2024,6,30)"), ("2019-S2", "DATE(2019,12,31)")])
def test_entreprises_table(semester, last_day):
    ws = _reload(paqte.build_paqte_template("69", semester))["Entreprises"]
    assert [cell.value for cell in ws[1]] == [
        "N°",
        "Entreprise",
        "SIREN",
        "Taille",
        "Date de signature",
        "Axes retenus",
    ]
    rows = _data_rows(ws)
    assert [row[0] for row in rows] == list(range(1, 201))
    assert all(value is None for row in rows for value in row[1:])
    for row in (2, 100, 201):
        (siren,) = _validations(ws, f"C{row}")
        assert (siren.type, siren.operator, siren.formula1) == ("textLength", "equal", "9")
        assert ws[f"C{row}"].number_format == "@"  # leading zeros kept
        (size,) = _validations(ws, f"D{row}")
        assert size.type == "list" and size.formula1 == '"GE,ETI,PME,TPE"'
        (date,) = _validations(ws, f"E{row}")
        assert (date.type, date.operator, date.formula1, date.formula2) == (
            "date",
            "between",
            "DATE(2018,1,1)",
            last_day,
        )
        assert ws[f"E{row}"].number_format == "dd/mm/yyyy"
        assert len(_validations(ws, f"B{row}")) == len(_validations(ws, f"F{row}")) == 1
    assert not _validations(ws, "C202") and ws.freeze_panes == "A2"


def test_resultats_has_key_indicators_for_the_four_axes(rhone):
    ws = rhone["Résultats"]
    assert [cell.value for cell in ws[1]] == ["Code", "Axe", "Indicateur", "Unité", "Valeur", "Observations"]
    rows = _data_rows(ws)
    axes = [row[1] for row in rows]
    assert list(dict.fromkeys(axes)) == AXES
    assert axes == sorted(axes, key=AXES.index)  # grouped by axis, in the letter's order
    assert all(axes.count(axis) >= 2 for axis in AXES)
    codes = [row[0] for row in rows]
    assert len(set(codes)) == len(codes) and all(codes)
    by_axis = {axis: [row[2] for row in rows if row[1] == axis] for axis in AXES}
    assert any("stage" in label and "3e" in label and "REP+" in label for label in by_axis["Sensibiliser"])
    assert any("alternance" in label and "QPV" in label for label in by_axis["Former"])
    assert any("Recrutements" in label and "QPV" in label for label in by_axis["Recruter"])
    purchases = [row for row in rows if row[1] == "Acheter" and row[3] == "euros"]
    assert any("QPV" in row[2] for row in purchases) and any("ESS" in row[2] for row in purchases)
    assert {row[3] for row in rows} == {"nombre", "euros"}
    assert {row[1] for row in rows if row[3] == "euros"} == {"Acheter"}
    for row_number, row in enumerate(rows, start=2):
        assert row[4] is None and row[5] is None
        (value,) = _validations(ws, f"E{row_number}")
        (observations,) = _validations(ws, f"F{row_number}")
        assert (observations.type, observations.formula1) == ("textLength", "2000")
        if row[3] == "euros":
            assert ws[f"E{row_number}"].number_format == EUROS_FORMAT
            assert (value.type, value.operator, value.formula1) == ("decimal", "greaterThanOrEqual", "0")
        else:
            assert ws[f"E{row_number}"].number_format == COUNT_FORMAT
            assert (value.type, value.operator, value.formula1) == ("whole", "greaterThanOrEqual", "0")
        for column in "ABCD":
            assert not _validations(ws, f"{column}{row_number}")


def test_exemples_d_actions(rhone):
    ws = rhone["Exemples d'actions"]
    assert [cell.value for cell in ws[1]] == ["N°", "Entreprise", "Axe", "Description de l'action"]
    assert [row[0] for row in _data_rows(ws)] == list(range(1, 21))
    for row in range(2, 22):
        (axis,) = _validations(ws, f"C{row}")
        assert axis.type == "list" and axis.formula1 == '"' + ",".join(AXES) + '"'
        (description,) = _validations(ws, f"D{row}")
        assert (description.type, description.formula1) == ("textLength", "2000")


def test_every_input_cell_has_one_complete_validation_and_no_locked_cell_has_one(rhone):
    wb = rhone
    for name, cells in _input_cells(wb).items():
        ws = wb[name]
        for coordinate in cells:
            assert len(_validations(ws, coordinate)) == 1, (name, coordinate)
        for rule in ws.data_validations.dataValidation:
            assert rule.showErrorMessage and rule.showInputMessage and rule.allow_blank and rule.errorStyle == "stop"
            assert rule.error and rule.errorTitle and rule.prompt and rule.promptTitle
            assert len(rule.prompt) <= 255 and len(rule.error) <= 255
            assert len(rule.promptTitle) <= 32 and len(rule.errorTitle) <= 32
            for cell_range in rule.sqref.ranges:
                for row in ws.iter_rows(
                    min_row=cell_range.min_row,
                    max_row=cell_range.max_row,
                    min_col=cell_range.min_col,
                    max_col=cell_range.max_col,
                ):
                    assert all(cell.coordinate in cells for cell in row), (name, str(cell_range))
    for name in ("Métadonnées", "Contexte"):
        assert not wb[name].data_validations.dataValidation


# --- context -------------------------------------------------------------------------------------------------------


def _hand_made_context() -> paqte.PaqteContext:
    return paqte.PaqteContext(
        departement_code="69",
        semester="2024-S1",
        qpv_count=paqte.ContextValue(42, "2024-S1", "Référentiel des QPV (ANCT), géographie prioritaire 2024"),
        defm_a=paqte.ContextValue(12345, "2024-06", "France Travail (DEFM par QPV, livraison 2024-07)", "complet"),
        defm_abc=paqte.ContextValue(20000, "2024-05", "France Travail", "2 QPV masqués", partial=True),
    )


def test_contexte_renders_a_hand_made_context():
    ws = _reload(paqte.build_paqte_template("69", "2024-S1", context=_hand_made_context()))["Contexte"]
    rows = {row[0]: row for row in _data_rows(ws)}
    qpv = next(row for label, row in rows.items() if label.startswith("Nombre de QPV"))
    assert qpv[1:5] == (42, "2024-S1", "Référentiel des QPV (ANCT), géographie prioritaire 2024", "disponible")
    defm_a = next(row for label, row in rows.items() if label.endswith("catégorie A"))
    assert defm_a[1:] == (12345, "2024-06", "France Travail (DEFM par QPV, livraison 2024-07)", "disponible", "complet")
    defm_abc = next(row for label, row in rows.items() if "A, B et C" in label)
    assert defm_abc[1:] == (20000, "2024-05", "France Travail", "partielle", "2 QPV masqués")
    population = next(row for label, row in rows.items() if label.startswith("Population"))
    assert population[1] is None and population[4] == "non disponible" and population[3]
    value_rows = [cell.row for cell in ws["B"] if isinstance(cell.value, int)]
    assert len(value_rows) == 3 and all(ws[f"B{row}"].number_format == COUNT_FORMAT for row in value_rows)


def test_a_context_of_another_departement_or_semester_is_refused():
    context = _hand_made_context()
    for departement, semester in (("38", "2024-S1"), ("69", "2024-S2")):
        with pytest.raises(ValueError, match="The context is for département 69 and semester 2024-S1"):
            paqte.build_paqte_template(departement, semester, context=context)


# --- determinism ---------------------------------------------------------------------------------------------------


def test_two_writes_are_byte_identical(tmp_path):
    first = paqte.write_paqte_template(tmp_path / "a" / "p.xlsx", "69", "2024-S2")
    second = paqte.write_paqte_template(tmp_path / "b.xlsx", "69", "2024-S2")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {info.date_time for info in archive.infolist()} == {(2024, 7, 1, 0, 0, 0)}
    context = _hand_made_context()
    with_context = [xlsx.workbook_bytes(paqte.build_paqte_template("69", "2024-S1", context=context)) for _ in range(2)]
    assert with_context[0] == with_context[1]
    assert paqte.write_paqte_template(tmp_path / "c.xlsx", "69", "2024-S1").read_bytes() != first.read_bytes()
    assert paqte.write_paqte_template(tmp_path / "d.xlsx", "38", "2024-S2").read_bytes() != first.read_bytes()


# --- errors --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "semester", ["2017-S2", "2100-S1", "2024-S3", "2024-S0", "2024S1", "2024-s1", "2024", "", 2024]
)
def test_a_bad_semester_is_refused(semester, tmp_path):
    with pytest.raises(ValueError, match=r"^The semester must be written YYYY-S1 or YYYY-S2 .*2018.*\.$"):
        paqte.build_paqte_template("69", semester)
    with pytest.raises(ValueError, match="semester"):
        paqte.write_paqte_template(tmp_path / "p.xlsx", "69", semester)
    assert not (tmp_path / "p.xlsx").exists()


@pytest.mark.parametrize("code", ["20", "975", "6", "069", "2a", "", 69])
def test_an_unknown_departement_is_refused(code, tmp_path):
    with pytest.raises(ValueError, match=rf"^Unknown département code {re.escape(repr(code))}: .*departements\.csv"):
        paqte.build_paqte_template(code, "2024-S1")
    with pytest.raises(ValueError, match="Unknown département code"):
        paqte.write_paqte_template(tmp_path / "p.xlsx", code, "2024-S1")
    assert not (tmp_path / "p.xlsx").exists()


@pytest.mark.parametrize(("code", "name"), [("2A", "Corse-du-Sud"), ("974", "La Réunion"), ("01", "Ain")])
def test_every_kind_of_departement_code_is_accepted(code, name):
    assert paqte.build_paqte_template(code, "2018-S2")["Métadonnées"]["B3"].value == name


# --- empreinte -----------------------------------------------------------------------------------------------------


@pytest.fixture()
def fresh():
    return _reload(paqte.build_paqte_template("69", "2024-S1", context=_hand_made_context()))


def _stored(wb) -> str:
    return wb["Métadonnées"]["B8"].value


def test_checksum_is_stored_and_survives_filling_every_input_cell(fresh):
    wb = fresh
    assert kit.structure_checksum(wb) == _stored(wb)
    bilan = wb["Bilan"]
    for row in range(2, 10):
        bilan[f"B{row}"] = "Texte"
    bilan["B4"], bilan["B7"] = "paqte@rhone.gouv.fr", 37
    ent = wb["Entreprises"]
    for row in range(2, 202):
        ent[f"B{row}"], ent[f"C{row}"], ent[f"D{row}"] = f"Entreprise {row}", "012345678", "PME"
        ent[f"E{row}"], ent[f"F{row}"] = dt.datetime(2023, 5, 17), "Former, Recruter"
    res = wb["Résultats"]
    for row in range(2, res.max_row + 1):
        res[f"E{row}"], res[f"F{row}"] = 1250.5, "Données des entreprises"
    ex = wb["Exemples d'actions"]
    for row in range(2, 22):
        ex[f"B{row}"], ex[f"C{row}"], ex[f"D{row}"] = "Entreprise", "Acheter", "Marché réservé"
    assert kit.structure_checksum(wb) == _stored(wb)
    filled = _reload(wb)
    assert filled["Entreprises"]["C2"].value == "012345678"
    assert kit.structure_checksum(filled) == _stored(filled)
    read_only = openpyxl.load_workbook(io.BytesIO(xlsx.workbook_bytes(wb)), read_only=True)
    assert kit.structure_checksum(read_only) == _stored(filled)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda wb: wb["Entreprises"].delete_rows(10), id="delete-company-row"),
        pytest.param(lambda wb: wb["Exemples d'actions"].delete_rows(21), id="delete-last-example-row"),
        pytest.param(lambda wb: wb["Résultats"].move_range("A3:F3", rows=30), id="move-indicator"),
        pytest.param(lambda wb: wb["Résultats"].cell(row=2, column=3, value="Autre indicateur"), id="indicator"),
        pytest.param(lambda wb: wb["Bilan"].delete_cols(1), id="delete-labels"),
        pytest.param(lambda wb: wb["Contexte"].cell(row=2, column=2, value=43), id="context-value"),
        pytest.param(lambda wb: wb["Métadonnées"].cell(row=5, column=2, value="2024-S2"), id="semester"),
        pytest.param(lambda wb: wb["Métadonnées"].cell(row=9, column=2, value="Autres règles"), id="conventions"),
        pytest.param(lambda wb: setattr(wb["Bilan"], "title", "Bilan qualitatif"), id="rename"),
        pytest.param(lambda wb: wb.create_sheet("Notes"), id="new-sheet"),
        pytest.param(lambda wb: wb["Entreprises"].cell(row=205, column=2, value="En dehors"), id="value-outside"),
    ],
)
def test_checksum_changes_when_the_structure_is_edited(fresh, edit):
    wb = fresh
    before = kit.structure_checksum(wb)
    edit(wb)
    assert kit.structure_checksum(wb) != before
    assert kit.structure_checksum(_reload(wb)) != _stored(wb)


def test_checksum_changes_when_a_label_is_unlocked(fresh):
    before = kit.structure_checksum(fresh)
    fresh["Résultats"]["C2"].protection = Protection(locked=False)
    assert kit.structure_checksum(fresh) != before


# --- warehouse -----------------------------------------------------------------------------------------------------

REFERENCES = """
INSERT INTO core.region (code, nom, batch_id) VALUES ('84', 'Auvergne-Rhône-Alpes', 1), ('04', 'La Réunion', 1);
INSERT INTO core.departement (code, nom, region_code, batch_id)
    VALUES ('69', 'Rhône', '84', 1), ('38', 'Isère', '84', 1), ('974', 'La Réunion', '04', 1);
INSERT INTO core.qpv (code, geography, nom, departement_code, region_code, valid_from, valid_to, batch_id) VALUES
    ('QP069001', '2015', 'Ancien A', '69', '84', DATE '2015-01-01', DATE '2024-01-01', 1),
    ('QP069002', '2015', 'Ancien B', '69', '84', DATE '2015-01-01', DATE '2024-01-01', 1),
    ('QN06901I', '2024', 'Quartier A', '69', '84', DATE '2024-01-01', NULL, 1),
    ('QN06902M', '2024', 'Quartier B', '69', '84', DATE '2024-01-01', NULL, 1),
    ('QN06903N', '2024', 'Quartier C', '69', '84', DATE '2024-01-01', NULL, 1),
    ('QN03801I', '2024', 'Voisin', '38', '84', DATE '2024-01-01', NULL, 1),
    ('QP974001', '2015', 'Outre-mer A', '974', '04', DATE '2015-01-01', DATE '2025-01-01', 1),
    ('QP974002', '2015', 'Outre-mer B', '974', '04', DATE '2015-01-01', DATE '2025-01-01', 1);
INSERT INTO core.indicator (code, family, libelle, definition, unite, source, periodicite, regle_diffusion, batch_id)
VALUES ('FT_DEFM_A', 'operator', 'DEFM A', 'test', 'nombre', 'France Travail', 'mensuelle', 'test', 1),
       ('FT_DEFM_ABC', 'operator', 'DEFM ABC', 'test', 'nombre', 'France Travail', 'mensuelle', 'test', 1);
"""
# (indicator, QPV, month, value or None when masked, vintage)
FIGURES = [
    # the June 2024 delivery, then July's, which revises June (and adds July, outside the first semester)
    ("FT_DEFM_A", "QN06901I", "2024-06", 100, "2024-06"),
    ("FT_DEFM_A", "QN06902M", "2024-06", 80, "2024-06"),
    ("FT_DEFM_A", "QN06903N", "2024-06", 40, "2024-06"),
    ("FT_DEFM_A", "QN06901I", "2024-06", 120, "2024-07"),
    ("FT_DEFM_A", "QN06902M", "2024-06", 80, "2024-07"),
    ("FT_DEFM_A", "QN06903N", "2024-06", 45, "2024-07"),
    ("FT_DEFM_A", "QN06901I", "2024-07", 999, "2024-07"),
    ("FT_DEFM_A", "QN06901I", "2024-05", 90, "2024-06"),
    ("FT_DEFM_ABC", "QN06901I", "2024-06", 200, "2024-06"),
    ("FT_DEFM_ABC", "QN06902M", "2024-06", 150, "2024-06"),
    ("FT_DEFM_ABC", "QN06903N", "2024-06", None, "2024-06"),
    ("FT_DEFM_A", "QN03801I", "2024-06", 500, "2024-06"),  # another département
    ("FT_DEFM_A", "QP069001", "2024-06", 777, "2024-06"),  # a QPV no longer in force
    # the second semester of 2023, in the 2015 geography: December is the latest month with data
    ("FT_DEFM_A", "QP069001", "2023-11", 1, "2023-12"),
    ("FT_DEFM_A", "QP069001", "2023-12", 300, "2023-12"),
    ("FT_DEFM_A", "QP069002", "2023-12", 310, "2023-12"),
    ("FT_DEFM_A", "QP974001", "2024-06", 60, "2024-06"),
]
FIGURE = (
    "INSERT INTO core.indicator_value_vintage (indicator_code, territory_level, territory_code, period_code, "
    "breakdown, value, status, vintage, source_id, batch_id, line_no) "
    "VALUES (:indicator, 'qpv', :qpv, :month, 'total', :value, :status, :vintage, 'france_travail_defm', 1, :line)"
)


@pytest.fixture()
def warehouse(isolated):
    periods.load(isolated.engine, 2023, 2025)
    with isolated.engine.begin() as conn:
        conn.execute(sa.text(REFERENCES))
        for line, (indicator, qpv, month, value, vintage) in enumerate(FIGURES, start=2):
            status = "ok" if value is not None else "masked"
            params = {"indicator": indicator, "qpv": qpv, "month": month, "value": value, "vintage": vintage}
            conn.execute(sa.text(FIGURE), {**params, "status": status, "line": line})
        # a département-level row (the whole département, not its QPV) must not be used
        conn.execute(
            sa.text(FIGURE.replace("'qpv'", "'departement'")),
            {"indicator": "FT_DEFM_A", "qpv": "69", "month": "2024-06", "value": 54321, "status": "ok"}
            | {"vintage": "2024-07", "line": 99},
        )
    return isolated.engine


@pytest.mark.warehouse
def test_paqte_context_reads_the_warehouse(warehouse):
    context = paqte_context(warehouse, "69", "2024-S1")
    assert (context.departement_code, context.semester) == ("69", "2024-S1")
    assert (context.qpv_count.value, context.qpv_count.period) == (3, "2024-S1")
    assert "2024" in context.qpv_count.source and context.qpv_count.availability == "disponible"
    # June, latest vintage (120 + 80 + 45), not July (other semester), another département or a 2015 QPV
    assert (context.defm_a.value, context.defm_a.period, context.defm_a.availability) == (245, "2024-06", "disponible")
    assert "2024-07" in context.defm_a.source and "juin 2024" in context.defm_a.note
    # one QPV masked: the known sum, partial, with the bounds of the real total (each masked count is under 5)
    assert (context.defm_abc.value, context.defm_abc.period, context.defm_abc.availability) == (
        350,
        "2024-06",
        "partielle",
    )
    assert "1 QPV" in context.defm_abc.note and "masqué" in context.defm_abc.note
    assert "350 et 354" in context.defm_abc.note
    for absent in (context.qpv_population, context.pru_national):
        assert absent.value is None and absent.availability == "non disponible" and absent.note

    earlier = paqte_context(warehouse, "69", "2023-S2")  # the 2015 geography
    assert earlier.qpv_count.value == 2 and "2015" in earlier.qpv_count.source
    assert (earlier.defm_a.value, earlier.defm_a.period) == (610, "2023-12")
    assert earlier.defm_abc.value is None and earlier.defm_abc.availability == "non disponible"

    overseas = paqte_context(warehouse, "974", "2024-S1")  # overseas keeps the 2015 QPV through 2024
    assert overseas.qpv_count.value == 2 and "2015" in overseas.qpv_count.source
    assert (overseas.defm_a.value, overseas.defm_a.availability) == (60, "partielle")  # one of 2 QPV has no row
    assert "1 QPV sans donnée" in overseas.defm_a.note

    later = paqte_context(warehouse, "69", "2025-S1")
    assert later.qpv_count.value == 3 and later.defm_a.value is None

    wb = _reload(paqte.build_paqte_template("69", "2024-S1", context=context))
    rows = _data_rows(wb["Contexte"])
    assert [row[1] for row in rows] == [3, None, None, 245, 350]
    assert [row[4] for row in rows] == ["disponible", "non disponible", "non disponible", "disponible", "partielle"]
    assert kit.structure_checksum(wb) == _stored(wb)


@pytest.mark.warehouse
def test_paqte_context_without_qpv_says_non_disponible(isolated):
    context = paqte_context(isolated.engine, "69", "2024-S1")
    for key in paqte.CONTEXT_LINES:
        assert getattr(context, key).availability == "non disponible", key
    with pytest.raises(ValueError, match="Unknown département code '975'"):
        paqte_context(isolated.engine, "975", "2024-S1")
    with pytest.raises(ValueError, match="semester"):
        paqte_context(isolated.engine, "69", "2024-S3")
