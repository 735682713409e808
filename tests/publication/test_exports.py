"""The exports and editions of published tables (etl/publication/tables.py, exports.py, editions.py).

Expected file contents are written out by hand from the table below, not produced by the code under test; XLSX files
are read back with openpyxl (and their XML inspected), Parquet files with pyarrow, manifests' hashes recomputed with
hashlib.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from openpyxl.utils import get_column_letter

from etl.config import PROJECT_ROOT
from etl.publication import editions, exports, parquet_export, workbook_aside
from etl.publication.tables import Column, Table

NAN = math.nan
HYPERLINK = '=HYPERLINK("http://example.org","clic")'
FORMULA_LIKE = (HYPERLINK, "+33 1 23", "@SUM(A1)")
LONG_QPV = "tableau_de_bord_semestriel_des_demandeurs_par_qpv"
LONG_DEP = "tableau_de_bord_semestriel_des_demandeurs_par_departement"


def emploi_table(name: str = "emploi_qpv") -> Table:
    columns = (
        Column("code_territoire", "Code territoire", "code", "", "Code INSEE du territoire."),
        Column("territoire", "Territoire", "label", "", "Nom du territoire."),
        Column("periode", "Période", "period", "", "Semestre."),
        Column("demandeurs", "Demandeurs d'emploi", "count", "nombre", "Demandeurs en fin de semestre.", "personnes"),
        Column("part_qpv", "Part en QPV", "share", "%", "Part des demandeurs résidant en QPV."),
        Column("montant", "Montant", "amount", "euros", "Montant des subventions."),
        Column("statut", "Statut", "status", "", "Statut de la valeur."),
        Column("observations", "Observations", "text", "", "Observations telles que saisies."),
        Column("mise_a_jour", "Mise à jour", "text", "", "Date de mise à jour."),
    )
    frame = pd.DataFrame(
        [
            ("01", "Ain", "2024-S1", 12345, 12.5, 1234567.891, "ok", HYPERLINK, dt.date(2024, 6, 30)),
            ("02", "Aisne", "2024-S1", NAN, NAN, 250.0, "masked", "+33 1 23", dt.date(2024, 6, 30)),
            ("03", "Allier", "2024-S1", NAN, NAN, NAN, "missing", "@SUM(A1)", None),
            ("2A", "Corse-du-Sud", "2024-S1", 0, 0.0, NAN, "not_applicable", "Texte ; avec\nretour", None),
        ],
        columns=[column.name for column in columns],
    )
    return Table(name, "Demandeurs d'emploi en QPV", "Demandeurs d'emploi par territoire.", columns, frame)


def small_table(name: str) -> Table:
    columns = (Column("code", "Code", "code"), Column("valeur", "Valeur", "count", "nombre", counts="structures"))
    return Table(name, f"Table {name}", "Petite table.", columns, pd.DataFrame({"code": ["a", "b"], "valeur": [1, 2]}))


def all_tables() -> list[Table]:
    return [emploi_table(), small_table(LONG_QPV), small_table(LONG_DEP)]


EXPECTED_CSV = (
    "\ufeffCode territoire;Territoire;Période;Demandeurs d'emploi;Part en QPV;Montant;Statut;Observations;"
    "Mise à jour\r\n"
    # text that a spreadsheet would read as a formula gets an apostrophe in front (CSV injection)
    '01;Ain;2024-S1;12345;12,5;1234567,891;publiée;"\'=HYPERLINK(""http://example.org"",""clic"")";2024-06-30\r\n'
    # statuses as French words: masked, missing and not_applicable are codes of the frames, never of the files
    "02;Aisne;2024-S1;s;s;250;secret statistique;'+33 1 23;2024-06-30\r\n"
    "03;Allier;2024-S1;;;;non disponible;'@SUM(A1);\r\n"
    '2A;Corse-du-Sud;2024-S1;0;0;;sans objet;"Texte ; avec\nretour";\r\n'
)


# --- tables ---------------------------------------------------------------------------------------------------------


def test_table_validation():
    table = emploi_table()
    assert table.column("part_qpv").unit == "%"
    with pytest.raises(KeyError):
        table.column("absente")
    columns = table.columns
    with pytest.raises(ValueError, match="not the declared columns"):
        Table("t", "T", "", columns, table.frame[list(reversed(table.frame.columns))])
    with pytest.raises(ValueError, match="unknown role"):
        Table("t", "T", "", (Column("a", "A", "nombre"),), pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="more than once"):
        Table("t", "T", "", (Column("a", "A", "code"), Column("a", "A bis", "code")), pd.DataFrame([[1, 2]]))


# --- CSV and dictionary ---------------------------------------------------------------------------------------------


def test_csv_bytes(tmp_path):
    path = exports.write_csv(emploi_table(), tmp_path / "sous" / "emploi.csv")
    content = path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.decode("utf-8") == EXPECTED_CSV


class _Text(str):
    """A str subclass, as some readers hand text over."""


def test_csv_renders_column_by_column_what_each_cell_renders_alone():
    """The CSV is rendered column by column, each decimal once per column: the same bytes as each prepared cell's
    `cell_text` written row by row, for text (a str subclass and formula-like text included), whole and decimal numbers
    repeated down a column, -0.0, true/false, dates, masked and empty cells."""
    columns = (
        Column("code", "Code", "code"),
        Column("texte", "Texte", "text"),
        Column("n", "N", "count", "nombre", counts="personnes"),
        Column("part", "Part", "share", "%"),
        Column("montant", "Montant", "amount", "euros"),
        Column("statut", "Statut", "status"),
        Column("vrai", "Vrai", "text"),
        Column("jour", "Jour", "text"),
    )
    frame = pd.DataFrame(
        {
            "code": ["01", "02", "03", "04", "05", "06"],
            "texte": [_Text("-x"), "=1", "ok", None, _Text("y"), "ok"],
            "n": [1, NAN, 3, 3, 0, 12345678],
            "part": [12.5, NAN, 12.5, -0.0, 1 / 3, 1 / 3],
            "montant": [1e16, NAN, 0.1 + 0.2, 2.0, 2.5, -7.25],
            "statut": ["ok", "masked", "ok", "ok", "missing", "ok"],
            "vrai": [True, False, None, True, "x", "+1"],
            "jour": [dt.date(2024, 6, 30), dt.datetime(2024, 6, 30, 8, 5), None, dt.date(2024, 6, 30), "", "@"],
        },
        dtype=object,
    )
    table = Table("t", "T", "", columns, frame)
    prepared = exports.prepared_columns(table)
    cell_by_cell = [
        [exports.neutralised(value) if isinstance(value, str) else exports.cell_text(value) for value in row]
        for row in zip(*prepared, strict=True)
    ]
    header = [exports.neutralised(column.header) for column in columns]
    assert exports.csv_bytes(table) == exports._csv([header, *cell_by_cell])
    lines = exports.csv_bytes(table).decode("utf-8-sig").split("\r\n")
    assert lines[1] == "01;'-x;1;12,5;10000000000000000;publiée;true;2024-06-30"
    assert lines[4] == "04;;3;0;2;publiée;true;2024-06-30"


def test_csv_refuses_inconsistent_cells():
    base = emploi_table()
    frame = base.frame.copy()
    frame.loc[0, "statut"] = "provided"
    with pytest.raises(ValueError, match="provided"):
        exports.csv_bytes(Table("t", "T", "", base.columns, frame))
    frame = base.frame.copy()
    frame["demandeurs"] = frame["demandeurs"].astype(object)
    frame.loc[1, "demandeurs"] = "s"
    with pytest.raises(ValueError, match="not a number"):
        exports.csv_bytes(Table("t", "T", "", base.columns, frame))
    frame = base.frame.copy()
    frame.loc[0, "statut"] = "masked"  # row 0 has every value: nothing is actually masked
    with pytest.raises(ValueError, match="every number cell"):
        exports.csv_bytes(Table("t", "T", "", base.columns, frame))
    # a status column of its own: a masked cell holding a value is refused, an empty one becomes s
    columns = (
        Column("code", "Code", "code"),
        Column("n", "N", "count", counts="personnes"),
        Column("n_statut", "Statut N", "status"),
    )
    leaked = Table("t", "T", "", columns, pd.DataFrame({"code": ["a"], "n": [5], "n_statut": ["masked"]}))
    with pytest.raises(ValueError, match="must hold no value"):
        exports.csv_bytes(leaked)
    hidden = Table("t", "T", "", columns, pd.DataFrame({"code": ["a"], "n": [NAN], "n_statut": ["masked"]}))
    assert exports.csv_bytes(hidden).decode("utf-8-sig") == "Code;N;Statut N\r\na;s;secret statistique\r\n"


def test_dictionary(tmp_path):
    tables = all_tables()
    content = exports.write_dictionary(tables, tmp_path / "dictionnaire.csv").read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and b"\r\n" in content
    rows = list(csv_rows(content))
    assert rows[0] == [
        "Table",
        "Colonne",
        "En-tête",
        "Rôle",
        "Unité",
        "Unité statistique",
        "Description",
        "Valeurs particulières",
    ]
    assert rows[1][:4] == ["", "", "Licence", "licence"]
    assert rows[2][2:6] == ["Secret statistique", "secret statistique", "", "personnes, foyers"]
    described = {(row[0], row[1]): row for row in rows[3:]}
    assert len(rows) == 1 + 2 + 3 + 9 + 2 + 2  # header, licence and secrecy, one row per table, one per column
    assert described[("emploi_qpv", "")][2:7] == [
        "Demandeurs d'emploi en QPV",
        "table",
        "",
        "",
        "Demandeurs d'emploi par territoire.",
    ]
    assert described[("emploi_qpv", "demandeurs")][2:7] == [
        "Demandeurs d'emploi",
        "count",
        "nombre",
        "personnes",
        "Demandeurs en fin de semestre.",
    ]
    assert described[("emploi_qpv", "part_qpv")][4] == "%"
    assert described[(LONG_DEP, "valeur")][5] == "structures"
    assert described[("emploi_qpv", "demandeurs")][7].startswith("s : secret statistique")
    status_conventions = described[("emploi_qpv", "statut")][7]
    for status in ("publiée", "secret statistique", "non disponible", "sans objet", "rupture de série"):
        assert f"{status} : " in status_conventions
    assert described[(LONG_DEP, "valeur")][7] == "vide : donnée non disponible"  # no status column


def csv_rows(content: bytes):
    import csv

    return csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";")


# --- XLSX -----------------------------------------------------------------------------------------------------------


def test_xlsx_read_back(tmp_path):
    path = exports.write_xlsx(all_tables(), tmp_path / "tables.xlsx")
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["emploi_qpv", LONG_QPV[:31], LONG_DEP[:29] + "~2"]
    assert all(len(name) <= 31 for name in workbook.sheetnames)
    sheet = workbook["emploi_qpv"]
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == [column.header for column in emploi_table().columns]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet["D2"].value == 12345 and sheet["D2"].number_format == "#,##0"
    assert sheet["E2"].value == 12.5 and sheet["E2"].number_format == '0.0" %"'
    assert sheet["F2"].value == pytest.approx(1234567.891) and sheet["F2"].number_format == '#,##0" €"'
    assert sheet["D3"].value == "s" and sheet["E3"].value == "s"  # masked
    assert sheet["D4"].value is None and sheet["F4"].value is None  # missing, not applicable
    assert sheet["I2"].value == dt.datetime(2024, 6, 30) and sheet["I2"].number_format == "yyyy-mm-dd"
    assert sheet["A5"].value == "2A" and sheet["A5"].data_type == "s"
    for coordinate, text in zip(("H2", "H3", "H4"), FORMULA_LIKE, strict=True):
        cell = sheet[coordinate]
        assert (cell.value, cell.data_type) == (text, "s")
        assert cell.quotePrefix
    widths = column_widths(sheet)
    assert widths["A"] >= len("Code territoire")
    assert 8 <= widths["H"] <= 60
    for each in workbook.worksheets:
        assert not [cell.coordinate for row in each.iter_rows() for cell in row if cell.data_type == "f"]
    with zipfile.ZipFile(path) as package:
        sheets = [name for name in package.namelist() if name.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 3
        for name in sheets:
            assert b"<f>" not in package.read(name) and b"<f " not in package.read(name)
        assert b"1980-01-01" in package.read("docProps/core.xml")


def column_widths(sheet) -> dict[str, float]:
    """The width of each column of `sheet` by letter: a `<col>` element may span several columns of the same width
    (XlsxWriter writes one for C:D when they are equally wide), which openpyxl keeps under the first letter only."""
    return {
        get_column_letter(index): dimension.width
        for dimension in sheet.column_dimensions.values()
        for index in range(dimension.min, dimension.max + 1)
    }


MIXED_HEADERS = ("=Code", "Effectif", "Statut effectif", "Montant", "Part", "Écart", "Valeur", "Statut", "Texte\nlibre")


def mixed_table() -> Table:
    """Every column role and every kind of cell the XLSX writes, an empty row inside the table and one at its end."""
    columns = (
        Column("code", MIXED_HEADERS[0], "code"),
        Column("n", MIXED_HEADERS[1], "count", "nombre", counts="personnes"),
        Column("n_statut", MIXED_HEADERS[2], "status"),
        Column("montant", MIXED_HEADERS[3], "amount", "euros"),
        Column("part", MIXED_HEADERS[4], "share", "%"),
        Column("ecart", MIXED_HEADERS[5], "rate", "pts"),
        Column("valeur", MIXED_HEADERS[6], "rate", "selon l'unité"),
        Column("statut", MIXED_HEADERS[7], "status"),
        Column("texte", MIXED_HEADERS[8], "text"),
        Column("divers", "Divers", "label"),
    )
    paris = dt.timezone(dt.timedelta(hours=2))
    empty = (None, NAN, None, NAN, NAN, NAN, NAN, None, None, None)
    rows = [
        ("01", 12345, "ok", 1234567.891, 12.5, -1.5, 7, "ok", HYPERLINK, 5),
        ("02", NAN, "masked", NAN, NAN, NAN, NAN, "masked", "#N/A", 2.5),
        empty,
        ("03", 0, "ok", 250, 0.0, NAN, 3.5, "missing", "a\x01b", True),
        ("04", 7, "ok", NAN, NAN, NAN, NAN, "not_applicable", "", dt.date(2024, 6, 30)),
        ("05", 8, "ok", 1, 99.9, 0.25, NAN, "ok", "-5", dt.datetime(2024, 6, 30, 10, 15)),
        ("06", 9, "ok", NAN, NAN, NAN, NAN, "ok", "\tretrait", dt.datetime(2024, 6, 30, 10, 15, tzinfo=paris)),
        ("07", 10, "ok", NAN, NAN, NAN, NAN, "ok", "fin", dt.time(10, 15)),
        empty,
    ]
    frame = pd.DataFrame(rows, columns=[column.name for column in columns])
    return Table("mixte", "Toutes les sortes de cellules", "", columns, frame)


COUNT, EURO, PERCENT, POINTS = "#,##0", '#,##0" €"', '0.0" %"', '0.0" pts"'
# coordinate: value, data type, number format, right-aligned, quote prefix (every other cell of rows 2-10 is empty)
MIXED_CELLS = {
    "A1": ("=Code", "s", "General", False, True),
    "A2": ("01", "s", "General", False, False),
    "B2": (12345, "n", COUNT, False, False),
    "C2": ("publiée", "s", "General", False, False),
    "D2": (1234567.891, "n", EURO, False, False),
    "E2": (12.5, "n", PERCENT, False, False),
    "F2": (-1.5, "n", POINTS, False, False),
    "G2": (7, "n", "General", False, False),
    "H2": ("publiée", "s", "General", False, False),
    "I2": (HYPERLINK, "s", "General", False, True),
    "J2": (5, "n", "0", False, False),
    "A3": ("02", "s", "General", False, False),
    "B3": ("s", "s", "General", True, False),
    "C3": ("secret statistique", "s", "General", False, False),
    "D3": ("s", "s", "General", True, False),
    "E3": ("s", "s", "General", True, False),
    "F3": ("s", "s", "General", True, False),
    "G3": ("s", "s", "General", True, False),
    "H3": ("secret statistique", "s", "General", False, False),
    "I3": ("#N/A", "s", "General", False, False),  # a text, not Excel's error value
    "J3": (2.5, "n", "General", False, False),
    "A5": ("03", "s", "General", False, False),
    "B5": (0, "n", COUNT, False, False),
    "C5": ("publiée", "s", "General", False, False),
    "D5": (250, "n", EURO, False, False),
    "E5": (0, "n", PERCENT, False, False),
    "G5": (3.5, "n", "General", False, False),
    "H5": ("non disponible", "s", "General", False, False),
    "I5": ("ab", "s", "General", False, False),  # the control character removed
    "J5": (True, "b", "General", False, False),
    "A6": ("04", "s", "General", False, False),
    "B6": (7, "n", COUNT, False, False),
    "C6": ("publiée", "s", "General", False, False),
    "H6": ("sans objet", "s", "General", False, False),
    "I6": ("", "s", "General", False, False),  # an empty text: a string cell holding no character
    "J6": (dt.datetime(2024, 6, 30), "d", "yyyy-mm-dd", False, False),
    "A7": ("05", "s", "General", False, False),
    "B7": (8, "n", COUNT, False, False),
    "C7": ("publiée", "s", "General", False, False),
    "D7": (1, "n", EURO, False, False),
    "E7": (99.9, "n", PERCENT, False, False),
    "F7": (0.25, "n", POINTS, False, False),
    "H7": ("publiée", "s", "General", False, False),
    "I7": ("-5", "s", "General", False, True),
    "J7": (dt.datetime(2024, 6, 30, 10, 15), "d", "yyyy-mm-dd hh:mm:ss", False, False),
    "A8": ("06", "s", "General", False, False),
    "B8": (9, "n", COUNT, False, False),
    "C8": ("publiée", "s", "General", False, False),
    "H8": ("publiée", "s", "General", False, False),
    "I8": ("\tretrait", "s", "General", False, True),
    "J8": ("2024-06-30T10:15:00+02:00", "s", "General", False, False),  # Excel has no time zones
    "A9": ("07", "s", "General", False, False),
    "B9": (10, "n", COUNT, False, False),
    "C9": ("publiée", "s", "General", False, False),
    "H9": ("publiée", "s", "General", False, False),
    "I9": ("fin", "s", "General", False, False),
    "J9": ("10:15:00", "s", "General", False, False),
}
MIXED_WIDTHS = {"A": 8, "B": 11, "C": 20, "D": 17, "E": 10, "F": 10, "G": 9, "H": 20, "I": 41, "J": 27}


def test_xlsx_every_kind_of_cell(tmp_path):
    """Each cell of a table mixing every role, masked, empty and formula-like cells, read back: value, type, number
    format, font, alignment and quote prefix; the widths, frozen header, autofilter, used range and properties."""
    path = exports.write_xlsx([mixed_table()], tmp_path / "mixte.xlsx")
    assert path.read_bytes() == exports.xlsx_bytes([mixed_table()])
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["mixte"]
    sheet = workbook["mixte"]
    assert (sheet.max_row, sheet.max_column) == (9, 10)
    for row in sheet.iter_rows(min_row=1, max_row=10, max_col=10):
        for cell in row:
            expected = MIXED_CELLS.get(cell.coordinate)
            if cell.row == 1 and expected is None:
                expected = (([*MIXED_HEADERS, "Divers"])[cell.column - 1], "s", "General", False, False)
            if expected is None:
                expected = (None, "n", "General", False, False)
            got = (cell.value, cell.data_type, cell.number_format, cell.alignment.horizontal == "right")
            assert (*got, cell.quotePrefix) == expected, cell.coordinate
            assert cell.font.b == (cell.row == 1), cell.coordinate
    assert {letter: column_widths(sheet)[letter] for letter in MIXED_WIDTHS} == MIXED_WIDTHS
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:J10"  # the whole table, its empty last row included
    read_only = openpyxl.load_workbook(path, read_only=True)  # sized by the file's <dimension>
    assert (read_only["mixte"].max_row, read_only["mixte"].max_column) == (9, 10)
    read_only.close()
    properties = workbook.properties
    assert properties.created == properties.modified == dt.datetime(1980, 1, 1)
    assert (properties.creator, properties.lastModifiedBy) == ("Observatoire QPV", "Observatoire QPV")  # XlsxWriter
    assert properties.title == "Observatoire QPV - tables publiées"
    with zipfile.ZipFile(path) as package:
        content = package.read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in content and b"<f " not in content
        assert b'<dimension ref="A1:J9"' in content
    empty = openpyxl.load_workbook(exports.write_xlsx([], tmp_path / "vide.xlsx"))
    assert empty.sheetnames == ["vide"] and empty["vide"].max_row == 1 and empty["vide"]["A1"].value is None


def test_xlsx_formula_guard():
    """The sheets refuse a formula (the exports never write one: a guard for later edits)."""
    workbook = xlsxwriter.Workbook(io.BytesIO(), exports._WORKBOOK_OPTIONS)
    sheet = workbook.add_worksheet("x", worksheet_class=exports._Worksheet)
    with pytest.raises(RuntimeError, match="formula in A1"):
        sheet.write_formula(0, 0, "=1+1")
    with pytest.raises(RuntimeError, match="formula in B2"):
        sheet.write_array_formula(1, 1, 1, 1, "{=SUM(A1:A2)}")
    with pytest.raises(RuntimeError, match="formula in C3"):
        sheet.write_dynamic_array_formula(2, 2, 2, 2, "=LEN(A1)")
    sheet.write(3, 0, "=1+1")  # write() of a text: a string (strings_to_formulas off), not a formula
    workbook.close()


HOSTILE_TEXTS = (
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2",
    "@SUM(A1)",
    "\tx",
    "\rx",
    "=1+1\x00\x07\x1b",  # control characters: removed, the rest kept
    "<r><t>a</t></r></is><f>1+1</f><is><r><t>b</t></r>",  # what XlsxWriter's own writer takes for rich-string XML
    "Texte\r\nlibre & <b>gras</b>",
    "#DIV/0!",
    "http://example.org",
    "1e5",
    " espacé ",
)
# the text read back, and whether it has the quote prefix
HOSTILE_READ = (
    ('=HYPERLINK("http://x","y")', True),
    ("+1", True),
    ("-2", True),
    ("@SUM(A1)", True),
    ("\tx", True),
    ("\rx", True),
    ("=1+1", True),
    ("<r><t>a</t></r></is><f>1+1</f><is><r><t>b</t></r>", False),
    ("Texte\r\nlibre & <b>gras</b>", False),
    ("#DIV/0!", False),
    ("http://example.org", False),
    ("1e5", False),
    (" espacé ", False),
)


def hostile_tables() -> list[Table]:
    columns = (Column("texte", "=Texte", "text"), Column("libelle", "@Libellé", "label"))
    frame = pd.DataFrame({"texte": list(HOSTILE_TEXTS), "libelle": list(reversed(HOSTILE_TEXTS))})
    return [Table("hostile", "Textes hostiles", "", columns, frame), Table("autre", "Autre", "", columns, frame)]


def test_xlsx_hostile_text_is_never_a_formula(tmp_path):
    """Text that Excel, openpyxl or XlsxWriter could take for a formula (or for XML) is a string with the quote
    prefix when it starts like a formula, on every sheet, in the headers too; control characters are removed."""
    path = exports.write_xlsx(hostile_tables(), tmp_path / "hostile.xlsx")
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["hostile", "autre"]
    for sheet in workbook.worksheets:
        assert [(cell.value, cell.quotePrefix) for cell in sheet[1]] == [("=Texte", True), ("@Libellé", True)]
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type == "s", cell.coordinate
        assert [(cell.value, cell.quotePrefix) for cell in sheet["A"][1:]] == list(HOSTILE_READ)
        assert [(cell.value, cell.quotePrefix) for cell in sheet["B"][1:]] == list(reversed(HOSTILE_READ))
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            content = package.read(name)
            assert b"<f>" not in content and b"<f " not in content, name
            assert b"\x00" not in content and b"\x07" not in content and b"\x1b" not in content, name
    assert exports.xlsx_bytes(hostile_tables()) == path.read_bytes()


def test_xlsx_same_bytes_twice():
    """Two calls on the same tables give the same bytes (also across processes: test_exports_are_deterministic)."""
    first = exports.xlsx_bytes([mixed_table(), *all_tables()])
    assert first == exports.xlsx_bytes([mixed_table(), *all_tables()])
    assert exports.xlsx_bytes([]) == exports.xlsx_bytes([])
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        assert {info.date_time for info in package.infolist()} == {(1980, 1, 31, 0, 0, 0)}


def test_a_workbook_built_in_the_worker_process_is_the_same_bytes_and_its_errors_come_back():
    """`xlsx_bytes_aside` (an edition's workbook built beside its other files): the same bytes as `xlsx_bytes`, from
    the worker process when the machine has two cores; a table the workbook refuses raises the same error."""
    import os

    tables = [mixed_table(), *hostile_tables(), *all_tables()]
    for table in tables:
        exports.prepared_columns(table)  # the caller's cells already prepared: the worker prepares its own
    aside = workbook_aside.xlsx_bytes_aside(tables, min_cells=0)
    assert aside() == exports.xlsx_bytes(tables)
    assert bool(workbook_aside._pool) == ((os.cpu_count() or 1) > 1)
    base = emploi_table()
    frame = base.frame.copy()
    frame.loc[0, "statut"] = "provided"
    refused = workbook_aside.xlsx_bytes_aside([Table("t", "T", "", base.columns, frame)], min_cells=0)
    with pytest.raises(ValueError, match="provided"):
        refused()
    small = workbook_aside.xlsx_bytes_aside(all_tables())  # under the threshold: built here, when asked
    assert small() == exports.xlsx_bytes(all_tables())


def _aside_in_a_child() -> int:
    return len(workbook_aside.xlsx_bytes_aside(all_tables(), min_cells=0)())


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the worker process is used from two cores")
def test_a_process_pool_worker_that_built_a_workbook_aside_still_exits():
    """The demo's lanes run editions in process-pool workers: such a worker, at its end, joins its children before
    exiting, and a workbook worker process of its own never stopped there (the demo hung at its end): there the
    workbook is built in the calling process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    assert pool.submit(_aside_in_a_child).result(timeout=120) > 0
    (worker,) = pool._processes.values()
    pool.shutdown(wait=False)
    worker.join(timeout=60)
    stuck = worker.is_alive()
    if stuck:
        worker.kill()
    assert not stuck, "the pool's worker did not exit: the workbook's worker process was left running"


def test_xlsx_conventions():
    """A table with a masked count, a date, a datetime with a time zone, a euro amount and a percentage."""
    columns = (
        Column("code", "Code", "code"),
        Column("effectif", "Effectif", "count", "nombre", counts="personnes"),
        Column("montant", "Montant", "amount", "€"),
        Column("part", "Part", "share", "%"),
        Column("statut", "Statut", "status"),
        Column("jour", "Jour", "label"),
        Column("horodatage", "Horodatage", "label"),
        Column("rang", "Rang", "label"),
    )
    utc = dt.UTC
    frame = pd.DataFrame(
        [
            ("75", NAN, NAN, NAN, "masked", dt.date(2024, 6, 30), dt.datetime(2024, 7, 1, 8, 30, tzinfo=utc), 1),
            ("13", 1234, 0.1 + 0.2, 33.3, "ok", dt.date(2024, 12, 31), dt.datetime(2024, 7, 1, 8, 30, 15), 2),
        ],
        columns=[column.name for column in columns],
    )
    sheet = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes([Table("t", "T", "", columns, frame)])))["t"]
    cells = {
        cell.coordinate: (cell.value, cell.data_type, cell.number_format, cell.alignment.horizontal)
        for row in sheet.iter_rows(min_row=2)
        for cell in row
    }
    assert cells == {
        "A2": ("75", "s", "General", None),
        "B2": ("s", "s", "General", "right"),
        "C2": ("s", "s", "General", "right"),
        "D2": ("s", "s", "General", "right"),
        "E2": ("secret statistique", "s", "General", None),
        "F2": (dt.datetime(2024, 6, 30), "d", "yyyy-mm-dd", None),
        "G2": ("2024-07-01T08:30:00+00:00", "s", "General", None),
        "H2": (1, "n", "0", None),
        "A3": ("13", "s", "General", None),
        "B3": (1234, "n", "#,##0", None),
        "C3": (0.30000000000000004, "n", '#,##0" €"', None),  # every float given back exactly
        "D3": (33.3, "n", '0.0" %"', None),
        "E3": ("publiée", "s", "General", None),
        "F3": (dt.datetime(2024, 12, 31), "d", "yyyy-mm-dd", None),
        "G3": (dt.datetime(2024, 7, 1, 8, 30, 15), "d", "yyyy-mm-dd hh:mm:ss", None),
        "H3": (2, "n", "0", None),
    }
    assert all(cell.font.b for cell in sheet[1]) and not any(cell.font.b for cell in sheet[2])
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:H3"
    # the longest text + 2 (+ 4 in a number column), 8 at least: C holds "0,30000000000000004", D "33,3"
    assert column_widths(sheet) == {"A": 8, "B": 10, "C": 25, "D": 10, "E": 20, "F": 12, "G": 27, "H": 8}


def test_xlsx_leaves_no_temporary_file(tmp_path, monkeypatch):
    """XlsxWriter writes the rows to temporary files (and leaves the empty one of a sheet without cells behind):
    none remains, also when writing fails."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    exports.xlsx_bytes([])
    exports.xlsx_bytes([Table("sans", "Sans colonne", "", (), pd.DataFrame()), mixed_table()])
    monkeypatch.setattr(exports.SheetCellWriter, "text", lambda *args, **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        exports.xlsx_bytes([mixed_table()])
    assert list(tmp_path.iterdir()) == []


def test_xlsx_refuses_a_table_too_large_for_a_sheet():
    columns = (Column("code", "Code", "code"),)
    table = Table("grande", "Grande", "", columns, pd.DataFrame({"code": ["a"] * 1_048_576}))
    with pytest.raises(ValueError, match="do not fit in an Excel sheet"):
        exports.xlsx_bytes([table])


# --- Parquet --------------------------------------------------------------------------------------------------------


def test_parquet_read_back(tmp_path):
    path = parquet_export.write_parquet(emploi_table(), tmp_path / "emploi.parquet")
    read = pq.read_table(path)
    types = {field.name: field.type for field in read.schema}
    assert types["code_territoire"] == pa.string() and types["statut"] == pa.string()
    assert types["demandeurs"] == pa.int64()
    assert types["part_qpv"] == pa.float64() and types["montant"] == pa.float64()
    data = read.to_pydict()
    assert data["code_territoire"] == ["01", "02", "03", "2A"]
    assert data["demandeurs"] == [12345, None, None, 0]
    assert data["part_qpv"] == [12.5, None, None, 0.0]
    assert data["montant"] == [1234567.891, 250.0, None, None]
    assert data["observations"][:3] == list(FORMULA_LIKE)
    assert data["mise_a_jour"] == ["2024-06-30", "2024-06-30", None, None]
    field = read.schema.field("demandeurs")
    assert field.metadata[b"unit"] == b"nombre"
    assert field.metadata[b"description"].decode() == "Demandeurs en fin de semestre."
    described = json.loads(read.schema.metadata[parquet_export.PARQUET_METADATA_KEY.encode()])
    assert described["table"] == "emploi_qpv"
    assert {column["name"]: column["unit"] for column in described["columns"]}["part_qpv"] == "%"
    assert data["statut"] == ["publiée", "secret statistique", "non disponible", "sans objet"]
    assert field.metadata[b"counts"] == b"personnes"
    assert described["columns"][3]["description"] == "Demandeurs en fin de semestre."


# --- determinism ----------------------------------------------------------------------------------------------------

_OTHER_PROCESS = """
import runpy, sys
from pathlib import Path
from etl.publication import exports, parquet_export
module = runpy.run_path(sys.argv[1])
out = Path(sys.argv[2])
tables = module["all_tables"]()
exports.write_csv(tables[0], out / "a.csv")
parquet_export.write_parquet(tables[0], out / "a.parquet")
exports.write_xlsx(tables, out / "a.xlsx")
exports.write_dictionary(tables, out / "a.dictionnaire.csv")
"""


def test_exports_are_deterministic(tmp_path):
    first, second, third = (tmp_path / name for name in ("first", "second", "third"))
    for folder in (first, second):
        tables = all_tables()
        exports.write_csv(tables[0], folder / "a.csv")
        parquet_export.write_parquet(tables[0], folder / "a.parquet")
        exports.write_xlsx(tables, folder / "a.xlsx")
        exports.write_dictionary(tables, folder / "a.dictionnaire.csv")
    third.mkdir()
    subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, __file__, str(third)], check=True, cwd=PROJECT_ROOT, timeout=120
    )
    for name in ("a.csv", "a.parquet", "a.xlsx", "a.dictionnaire.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes() == (third / name).read_bytes(), name


# --- editions -------------------------------------------------------------------------------------------------------

METADATA = {
    "sources": {"france_travail_defm": {"vintage": "2024-07-05", "batches": [12, 13]}},
    "dq_runs": [41, 42],
    "disclosure": {"threshold": 11},
    "latency_seconds": 3600,
}


def test_edition_id():
    created = dt.datetime(2026, 11, 22, 10, 15, tzinfo=dt.UTC)
    assert editions.edition_id("annuelle", "2024", created) == "annuelle-2024-20261122T101500Z"
    paris = dt.timezone(dt.timedelta(hours=1))
    assert editions.edition_id("semestrielle", "2024-S1", dt.datetime(2024, 9, 1, 8, 0, 5, tzinfo=paris)) == (
        "semestrielle-2024-S1-20240901T070005Z"
    )
    with pytest.raises(ValueError, match="time zone"):
        editions.edition_id("annuelle", "2024", dt.datetime(2026, 11, 22))
    with pytest.raises(ValueError):
        editions.edition_id("annuelle/..", "2024", created)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_edition(tmp_path):
    home = tmp_path / "publication"
    tables = all_tables()
    folder = editions.write_edition(home, "annuelle-2024-20261122T101500Z", tables, metadata=METADATA)
    assert folder == home / "annuelle-2024-20261122T101500Z"
    names = sorted(path.name for path in folder.iterdir())
    expected = sorted(
        [f"{table.name}.{ext}" for table in tables for ext in ("csv", "parquet")]
        + ["tables.xlsx", "dictionnaire.csv", "datapackage.json", "manifest.json"]
    )
    assert names == expected
    assert [path.name for path in home.iterdir()] == [folder.name]  # no temporary folder left
    assert (folder / "emploi_qpv.csv").read_bytes().decode("utf-8") == EXPECTED_CSV

    manifest_text = (folder / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(manifest_text)
    assert manifest_text == json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert manifest["edition_id"] == folder.name
    assert manifest["metadata"] == METADATA
    assert [table["name"] for table in manifest["tables"]] == [table.name for table in tables]
    emploi = manifest["tables"][0]
    assert emploi["row_count"] == 4 and emploi["title"] == "Demandeurs d'emploi en QPV"
    assert emploi["columns"][3] == {
        "name": "demandeurs",
        "header": "Demandeurs d'emploi",
        "role": "count",
        "unit": "nombre",
        "counts": "personnes",
        "description": "Demandeurs en fin de semestre.",
    }
    assert [entry["file"] for entry in emploi["files"]] == ["emploi_qpv.csv", "emploi_qpv.parquet"]
    listed = {entry["file"]: entry for entry in manifest["files"]}
    assert sorted(listed) == sorted(set(expected) - {"manifest.json", "datapackage.json"})
    package = (folder / "datapackage.json").read_bytes()
    assert manifest["datapackage"] == {
        "file": "datapackage.json",
        "sha256": hashlib.sha256(package).hexdigest(),
        "size": len(package),
    }
    for entry in [*listed.values(), *(entry for table in manifest["tables"] for entry in table["files"])]:
        content = (folder / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["size"] == len(content)

    assert _mode(folder) == 0o555
    assert all(_mode(path) == 0o444 for path in folder.iterdir())

    before = editions.data_files_digest(folder)
    assert sorted(before) == sorted(listed)
    with pytest.raises(editions.EditionExists, match="already exists"):
        editions.write_edition(home, folder.name, [small_table("autre")], metadata={})
    assert editions.data_files_digest(folder) == before
    assert [path.name for path in home.iterdir()] == [folder.name]

    other = editions.write_edition(home, "annuelle-2024-20261123T090000Z", all_tables(), metadata=METADATA)
    assert editions.data_files_digest(other) == before
    for name in ("manifest.json", "datapackage.json"):  # they name their edition: not data files
        assert (other / name).read_bytes() != (folder / name).read_bytes()


def test_edition_failing_export_leaves_nothing(tmp_path):
    home = tmp_path / "publication"
    base = emploi_table()
    frame = base.frame.copy()
    frame.loc[0, "statut"] = "fourni"
    with pytest.raises(ValueError, match="fourni"):
        editions.write_edition(home, "x-1", [Table("t", "T", "", base.columns, frame)], metadata={})
    with pytest.raises(ValueError, match="two tables"):
        editions.write_edition(home, "x-2", [small_table("a"), small_table("a")], metadata={})
    with pytest.raises(ValueError, match="cannot name its files"):
        editions.write_edition(home, "x-3", [small_table("dictionnaire")], metadata={})
    assert not home.exists() or not list(home.iterdir())


def test_csv_neutralises_formula_like_text_but_not_negative_numbers():
    columns = (Column("texte", "-Texte", "label"), Column("ecart", "Écart", "share", "pts"))
    frame = pd.DataFrame({"texte": ["=1+1", "-5 %", "\tx", "\rx", "@A1", "+33", "ok"], "ecart": [-1.5] * 7})
    lines = exports.csv_bytes(Table("t", "T", "", columns, frame)).decode("utf-8-sig").split("\r\n")
    assert lines[0] == "'-Texte;Écart"
    assert lines[1:-1] == ["'=1+1;-1,5", "'-5 %;-1,5", "'\tx;-1,5", '"\'\rx";-1,5', "'@A1;-1,5", "'+33;-1,5", "ok;-1,5"]
