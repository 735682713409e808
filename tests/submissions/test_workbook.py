"""Safe opening of a returned regional workbook (etl/submissions/workbook.py).

Every bad file is built for real in tmp_path, mostly from the template's own bytes rewritten with zipfile; each
case asserts the rule code and that the French message names the problem.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import random
import struct
import warnings
import zipfile

import openpyxl
import pytest
from openpyxl.comments import Comment

from etl import xlsx
from etl.landing import file_name_problem, safe_file_name
from etl.submissions import kit
from etl.submissions import template as tpl
from etl.submissions.workbook import (
    Limits,
    Opened,
    Unreadable,
    open_workbook,
)

OLE2_HEADER = bytes.fromhex("D0CF11E0A1B11AE1")
SHEET_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@pytest.fixture(scope="module")
def template_bytes() -> bytes:
    return xlsx.workbook_bytes(tpl.build_template("84", 2024))


def _write(tmp_path, content: bytes, name: str = "modele.xlsx"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _refused(path, **kwargs) -> Unreadable:
    with pytest.raises(Unreadable) as info:
        open_workbook(path, **kwargs)
    error = info.value
    # one French sentence for the submitter, never a traceback
    assert "\n" not in error.message and "Traceback" not in error.message
    assert error.message.endswith(".")
    return error


def _rezip(content: bytes, *, replace: dict[str, bytes | None] | None = None, add: dict[str, bytes] | None = None):
    """`content` (a zip) with entries replaced (None: removed) and added, deflated."""
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            if name in replace:
                if replace[name] is not None:
                    target.writestr(name, replace[name])
            else:
                target.writestr(name, source.read(name))
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def _small_workbook(title: str = "Données", **cells) -> openpyxl.Workbook:
    workbook = openpyxl.Workbook()
    workbook.active.title = title
    for coordinate, value in cells.items():
        workbook.active[coordinate] = value
    return workbook


def _saved(workbook: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _with_sheet_xml(content: bytes, edit) -> bytes:
    """`content` with xl/worksheets/sheet1.xml passed through `edit` (text in, text out)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    return _rezip(content, replace={"xl/worksheets/sheet1.xml": edit(sheet).encode("utf-8")})


# --- a good file ---------------------------------------------------------------------------------------------------


def test_the_template_opens_with_both_views(tmp_path, template_bytes):
    path = _write(tmp_path, template_bytes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opened = open_workbook(path)
    assert isinstance(opened, Opened)
    assert opened.values.sheetnames == list(tpl.SHEET_NAMES)
    assert opened.formulas.sheetnames == list(tpl.SHEET_NAMES)
    assert opened.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert opened.size_bytes == len(template_bytes)
    metadata = opened.values[tpl.METADATA_SHEET]
    assert metadata[tpl.METADATA_CELLS["region_code"]].value == "84"
    assert metadata[tpl.METADATA_CELLS["template_version"]].value == tpl.TEMPLATE_VERSION
    # nothing lost on the way: the empreinte recomputed on the opened workbook is the one written in it
    assert kit.structure_checksum(opened.values) == metadata[tpl.METADATA_CELLS["empreinte"]].value


def test_the_name_sent_decides_the_extension_not_the_stored_path(tmp_path, template_bytes):
    stored = _write(tmp_path, template_bytes, "0a1b2c.bin")
    assert open_workbook(stored, name="Région 84 (v2).XLSX").values.sheetnames == list(tpl.SHEET_NAMES)
    assert _refused(stored).rule == "FICHIER-EXTENSION"
    assert _refused(_write(tmp_path, template_bytes), name="modele.xlsx.pdf").rule == "FICHIER-EXTENSION"


def test_formulas_and_cached_values_are_both_kept(tmp_path):
    path = _write(tmp_path, _saved(_small_workbook(A1="=1+1", A2=3)))
    opened = open_workbook(path)
    assert opened.formulas["Données"]["A1"].value == "=1+1"
    assert opened.values["Données"]["A1"].value is None  # openpyxl writes no cached value
    assert opened.values["Données"]["A2"].value == 3


def test_openpyxl_warnings_are_silenced(tmp_path):
    extension = (
        '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"/></extLst></worksheet>'
    )
    content = _with_sheet_xml(_saved(_small_workbook(A1=1)), lambda xml: xml.replace("</worksheet>", extension))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opened = open_workbook(_write(tmp_path, content))
    assert opened.values["Données"]["A1"].value == 1


# --- name and size -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("modele.xlsm", ("xlsm", "macros")),
        ("modele.XLS", ("XLS", "ancien format")),
        ("modele.csv", ("csv", "texte")),
        ("modele.ods", ("ods", "OpenDocument")),
        ("modele", ("pas d'extension",)),
    ],
)
def test_a_name_not_ending_in_xlsx_is_refused_whatever_the_content(tmp_path, template_bytes, name, words):
    error = _refused(_write(tmp_path, template_bytes, name))
    assert error.rule == "FICHIER-EXTENSION"
    assert ".xlsx" in error.message
    for word in words:
        assert word in error.message


def test_an_empty_file(tmp_path):
    error = _refused(_write(tmp_path, b""))
    assert error.rule == "FICHIER-VIDE"
    assert "vide" in error.message


def test_a_file_over_the_size_limit(tmp_path, template_bytes):
    error = _refused(_write(tmp_path, template_bytes), limits=Limits(max_file_bytes=len(template_bytes) - 1))
    assert error.rule == "FICHIER-TAILLE"
    assert "Mo" in error.message and "limite" in error.message
    big = _write(tmp_path, template_bytes + bytes(6 * 1024 * 1024), "gros.xlsx")
    error = _refused(big)
    assert error.rule == "FICHIER-TAILLE"
    assert "6 Mo" in error.message or "6,0" in error.message
    assert "5 Mo" in error.message


# --- not a zip -----------------------------------------------------------------------------------------------------


def test_a_truncated_file(tmp_path, template_bytes):
    error = _refused(_write(tmp_path, template_bytes[: len(template_bytes) // 2]))
    assert error.rule == "FICHIER-CORROMPU"
    assert "endommagé" in error.message


def test_random_bytes(tmp_path):
    content = random.Random(5706).randbytes(3000)
    assert not content.startswith((b"PK\x03\x04", OLE2_HEADER))
    error = _refused(_write(tmp_path, content))
    assert error.rule == "FICHIER-CORROMPU"
    assert "pas un classeur Excel" in error.message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_a_csv_renamed_xlsx(tmp_path, encoding):
    text = "code_indicateur;libellé;valeur\r\nIND01;Nombre de contrats aidés;1 250\r\nIND07;Part des élèves;12,5\r\n"
    error = _refused(_write(tmp_path, text.encode(encoding)))
    assert error.rule == "FICHIER-TEXTE"
    assert "texte" in error.message and "CSV" in error.message


def test_an_old_xls_renamed_xlsx(tmp_path):
    error = _refused(_write(tmp_path, OLE2_HEADER + bytes(4096)))
    assert error.rule == "FICHIER-XLS"
    assert "97-2003" in error.message and ".xls" in error.message


@pytest.mark.parametrize("stream", ["EncryptionInfo", "EncryptedPackage"])
def test_a_password_protected_workbook(tmp_path, stream):
    content = OLE2_HEADER + bytes(1024) + stream.encode("utf-16-le") + bytes(1024)
    error = _refused(_write(tmp_path, content))
    assert error.rule == "FICHIER-MOT-DE-PASSE"
    assert "mot de passe" in error.message


# --- the zip -------------------------------------------------------------------------------------------------------


def test_a_workbook_with_a_vba_project(tmp_path, template_bytes):
    content = _rezip(template_bytes, add={"xl/vbaProject.bin": OLE2_HEADER + bytes(512)})
    error = _refused(_write(tmp_path, content))
    assert error.rule == "FICHIER-MACROS"
    assert "macros" in error.message


def test_a_macro_enabled_content_type(tmp_path, template_bytes):
    with zipfile.ZipFile(io.BytesIO(template_bytes)) as archive:
        content_types = archive.read("[Content_Types].xml").decode("utf-8")
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    assert main in content_types
    macro = content_types.replace(main, "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    error = _refused(_write(tmp_path, _rezip(template_bytes, replace={"[Content_Types].xml": macro.encode()})))
    assert error.rule == "FICHIER-MACROS"


@pytest.fixture(scope="module")
def zip_bomb(template_bytes) -> bytes:
    """The template with a 60 MB entry of zeros: about 60 KB on disk."""
    return _rezip(template_bytes, add={"xl/media/zeros.bin": bytes(60 * 1024 * 1024)})


def test_a_zip_bomb_is_refused_from_its_declared_sizes(tmp_path, zip_bomb):
    assert len(zip_bomb) < 200 * 1024
    error = _refused(_write(tmp_path, zip_bomb))
    assert error.rule == "FICHIER-TAILLE"
    assert "décompressé" in error.message and "50 Mo" in error.message


def test_the_declared_sizes_are_checked_before_anything_is_decompressed(tmp_path, zip_bomb):
    # the bomb's compressed data damaged: reading it would say CORROMPU; the size rule answers first
    damaged = _flip_inside(zip_bomb, "xl/media/zeros.bin")
    assert _refused(_write(tmp_path, damaged)).rule == "FICHIER-TAILLE"


def test_too_many_entries(tmp_path, template_bytes):
    error = _refused(_write(tmp_path, template_bytes), limits=Limits(max_entries=5))
    assert error.rule == "FICHIER-TAILLE"
    assert "12 éléments" in error.message


def _flip_inside(content: bytes, name: str) -> bytes:
    """`content` with one byte flipped in the middle of the compressed data of the entry `name`."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        info = archive.getinfo(name)
    name_length, extra_length = struct.unpack("<HH", content[info.header_offset + 26 : info.header_offset + 30])
    position = info.header_offset + 30 + name_length + extra_length + info.compress_size // 2
    return content[:position] + bytes([content[position] ^ 0xFF]) + content[position + 1 :]


def test_damaged_compressed_data(tmp_path, template_bytes):
    error = _refused(_write(tmp_path, _flip_inside(template_bytes, "xl/worksheets/sheet3.xml")))
    assert error.rule == "FICHIER-CORROMPU"
    assert "endommagé" in error.message


def test_a_crc_error_names_the_entry(tmp_path, template_bytes):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template_bytes)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, source.read(name), compress_type=zipfile.ZIP_STORED)
    error = _refused(_write(tmp_path, _flip_inside(out.getvalue(), "xl/styles.xml")))
    assert error.rule == "FICHIER-CORROMPU"
    assert "xl/styles.xml" in error.message


@pytest.mark.parametrize("missing", ["xl/workbook.xml", "[Content_Types].xml"])
def test_a_zip_without_the_workbook_parts(tmp_path, template_bytes, missing):
    error = _refused(_write(tmp_path, _rezip(template_bytes, replace={missing: None})))
    assert error.rule == "FICHIER-CORROMPU"
    assert missing in error.message


def test_a_zip_that_openpyxl_cannot_load(tmp_path, template_bytes):
    content = _rezip(template_bytes, replace={"xl/workbook.xml": b"<workbook>pas du XML"})
    error = _refused(_write(tmp_path, content))
    assert error.rule == "FICHIER-CORROMPU"
    assert "ne peut pas être lu" in error.message
    assert error.message.endswith(").")  # the exception's first line, in parentheses


# --- sheet dimensions ----------------------------------------------------------------------------------------------


def test_an_enormous_sheet(tmp_path):
    limits = Limits(max_rows=40, max_columns=10)
    rows = _write(tmp_path, _saved(_small_workbook(A1="code", A41=1)), "lignes.xlsx")
    error = _refused(rows, limits=limits)
    assert error.rule == "FICHIER-TAILLE"
    assert "« Données »" in error.message and "41" in error.message and "40 lignes" in error.message
    columns = _write(tmp_path, _saved(_small_workbook(K1=1)), "colonnes.xlsx")
    error = _refused(columns, limits=limits)
    assert error.rule == "FICHIER-TAILLE"
    assert "« Données »" in error.message and "11" in error.message and "10 colonnes" in error.message
    assert open_workbook(columns, limits=Limits(max_columns=11)).values.sheetnames == ["Données"]


def test_a_sheet_at_the_limits_opens(tmp_path):
    path = _write(tmp_path, _saved(_small_workbook(A40=1, J1=2)))
    assert open_workbook(path, limits=Limits(max_rows=40, max_columns=10)).values["Données"].max_row == 40


def test_cells_placed_after_the_scan_are_still_counted(tmp_path):
    # a comment creates its cell when openpyxl loads it; moved to row 9999 in the comments part, it is not in the
    # sheet part: only the check after loading sees the sheet's real size
    workbook = _small_workbook(A1=1)
    workbook.active["A1"].comment = Comment("note", "région")
    content = _saved(workbook)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        comments = next(name for name in archive.namelist() if "comments" in name and name.endswith(".xml"))
        xml = archive.read(comments).decode("utf-8")
    assert 'ref="A1"' in xml
    content = _rezip(content, replace={comments: xml.replace('ref="A1"', 'ref="A9999"').encode("utf-8")})
    error = _refused(_write(tmp_path, content))
    assert error.rule == "FICHIER-TAILLE"
    assert "« Données » compte 9 999 lignes" in error.message


def test_a_huge_merged_range_is_refused_before_openpyxl_builds_it(tmp_path):
    # openpyxl would create one object per merged cell: 78 million here
    merge = '</sheetData><mergeCells count="1"><mergeCell ref="A1:BZ1000000"/></mergeCells>'
    content = _with_sheet_xml(_saved(_small_workbook(A1=1)), lambda xml: xml.replace("</sheetData>", merge))
    error = _refused(_write(tmp_path, content))
    assert error.rule == "FICHIER-TAILLE"
    assert "« Données »" in error.message and "1 000 000" in error.message


def test_many_hyperlink_ranges_within_the_limits_are_refused_together(tmp_path):
    links = "".join(f'<hyperlink ref="A1:J{row}" display="x"/>' for row in range(30, 40))
    content = _with_sheet_xml(
        _saved(_small_workbook(A1=1)),
        lambda xml: xml.replace("</sheetData>", f"</sheetData><hyperlinks>{links}</hyperlinks>"),
    )
    error = _refused(_write(tmp_path, content), limits=Limits(max_rows=40, max_columns=10))
    assert error.rule == "FICHIER-TAILLE"
    assert "liens hypertextes" in error.message and "400 cellules" in error.message


def test_repeated_cells_are_counted(tmp_path):
    # the same cell written 500 times: within the rows and columns, but openpyxl would parse each one
    content = _with_sheet_xml(
        _saved(_small_workbook(A1=1)),
        lambda xml: xml.replace("<sheetData>", '<sheetData><row r="1">' + '<c r="A1"/>' * 500 + "</row>"),
    )
    error = _refused(_write(tmp_path, content), limits=Limits(max_rows=20, max_columns=20))
    assert error.rule == "FICHIER-TAILLE"
    assert "400 cellules" in error.message


def test_cells_without_a_reference_are_placed_as_openpyxl_does(tmp_path):
    row = '<row r="2">' + "<c><v>1</v></c>" * 11 + "</row>"
    content = _with_sheet_xml(
        _saved(_small_workbook(A1=1)), lambda xml: xml.replace("</sheetData>", row + "</sheetData>")
    )
    error = _refused(_write(tmp_path, content), limits=Limits(max_columns=10))
    assert error.rule == "FICHIER-TAILLE"
    assert "colonne 11" in error.message


def test_too_many_row_elements(tmp_path):
    rows = "".join(f'<row r="{index}" ht="20" customHeight="1"/>' for index in range(2, 60))
    content = _with_sheet_xml(
        _saved(_small_workbook(A1=1)), lambda xml: xml.replace("</sheetData>", rows + "</sheetData>")
    )
    error = _refused(_write(tmp_path, content), limits=Limits(max_rows=50))
    assert error.rule == "FICHIER-TAILLE"
    assert "plus de 50 lignes" in error.message


# --- file names ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.xlsx", "etc_passwd.xlsx"),
        ("a\\b.xlsx", "a_b.xlsx"),
        ("Région 84 (v2).xlsx", "Région_84_v2_.xlsx"),
        ("\x00x.xlsx", "x.xlsx"),
        (".hidden.xlsx", "hidden.xlsx"),
        ("Re\u0301gion.xlsx", "Région.xlsx"),  # accent as a combining character (macOS)
        ("a" * 300 + ".xlsx", "a" * 115 + ".xlsx"),
        ("x" * 300, "x" * 120),
        ("", "fichier"),
        ("/.//", "fichier"),
        ("modele_84-2024.xlsx", "modele_84-2024.xlsx"),
    ],
)
def test_safe_file_name(name, safe):
    assert safe_file_name(name) == safe
    assert len(safe_file_name(name)) <= 120
    assert safe_file_name(safe) == safe  # a safe name stays as it is
    assert file_name_problem(safe) is None


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../../etc/passwd.xlsx", ("séparateurs de chemin", "« etc_passwd.xlsx »")),
        ("a\\b.xlsx", ("séparateurs de chemin", "« a_b.xlsx »")),
        ("Région 84 (v2).xlsx", ("caractères inhabituels", "« Région 84 (v2).xlsx »", "« Région_84_v2_.xlsx »")),
        ("\x00x.xlsx", ("caractères de contrôle", "\\x00x.xlsx", "« x.xlsx »")),
        (".hidden.xlsx", ("point", "« hidden.xlsx »")),
        ("a" * 300 + ".xlsx", ("120 caractères",)),
    ],
)
def test_file_name_problem(name, words):
    message = file_name_problem(name)
    assert message is not None
    assert "\x00" not in message and "\n" not in message and message.endswith(".")
    for word in words:
        assert word in message


def test_a_safe_name_has_no_problem():
    assert file_name_problem("modele_84-2024.xlsx") is None
    assert file_name_problem("Région_84.xlsx") is None


def test_unreadable_carries_its_rule_and_survives_pickling():
    error = Unreadable("FICHIER-VIDE", "Le fichier est vide.")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.rule, copy.message) == ("FICHIER-VIDE", "Le fichier est vide.")
    assert str(copy) == "FICHIER-VIDE: Le fichier est vide."
