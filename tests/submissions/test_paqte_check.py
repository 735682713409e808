"""The verdict on returned PAQTE reports (etl/submissions/paqte_check.py), without a warehouse: GX validates the cells.

Reports come from etl.samples.generators.paqte (the workbook filled through openpyxl, with the mistakes a département
makes), or are edited here with openpyxl; the expected cell of each mistake is the generator's, the expected readings
are written out here (dates, SIRENs, French numbers).
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from etl import xlsx
from etl.referentiels import codes
from etl.samples.generators import paqte as gen
from etl.submissions import paqte, paqte_check

RULES = {
    "siren_invalide": "PAQTE-SIREN",
    "nombre_negatif": "PAQTE-NOMBRE",
    "texte_dans_nombre": "PAQTE-NOMBRE",
    "axe_inconnu": "PAQTE-AXE",
    "date_hors_semestre": "PAQTE-DATE",
    "colonne_supprimee": "STRUCTURE-COLONNES",
    "autre_version": "META-VERSION",
    "departement_metadonnees": "META-DEPARTEMENT",
}
VALUE_COLUMNS = [
    "line_no",
    "departement_code",
    "semester",
    "template_version",
    "sheet",
    "cell",
    "field",
    "row_no",
    "raw_value",
    "value",
    "text",
    "status",
]


def _write(tmp_path, filled: gen.FilledPaqte, name: str | None = None):
    path = tmp_path / (name or gen.paqte_file_name(filled.departement_code, filled.semester))
    path.write_bytes(filled.content)
    return path


def _edited(tmp_path, filled: gen.FilledPaqte, edits: dict[str, object], name: str | None = None):
    """The filled report with `edits` ("Sheet!B2" -> value) saved under its usual name."""
    workbook = openpyxl.load_workbook(io.BytesIO(filled.content))
    for where, value in edits.items():
        sheet, cell = where.split("!")
        workbook[sheet][cell] = value
    path = tmp_path / (name or gen.paqte_file_name(filled.departement_code, filled.semester))
    workbook.save(path)
    return path


def _places(findings) -> set[tuple[str, str, str]]:
    return {(f.rule, f.sheet, f.cell) for f in findings}


@pytest.mark.parametrize(
    ("departement", "semester", "with_context"), [("69", "2024-S1", False), ("2A", "2023-S2", True)]
)
def test_a_filled_report_is_accepted_with_every_value_read_back(tmp_path, departement, semester, with_context):
    context = None
    if with_context:  # the Contexte sheet pre-filled from the warehouse: covered by the empreinte, not compared
        qpv = paqte.ContextValue(value=4, period=semester, source="Référentiel des QPV (ANCT)")
        context = paqte.PaqteContext(departement, semester, qpv_count=qpv)
    filled = gen.filled_paqte(departement, semester, seed=2, context=context)
    verdict = paqte_check.check_paqte_file(_write(tmp_path, filled))
    assert verdict.accepted, verdict.text()
    identity = (verdict.departement_code, verdict.semester, verdict.template_version)
    assert identity == (departement, semester, "paqte.1")
    assert (verdict.region_code, verdict.campaign) == (None, None)
    values = verdict.values
    assert list(values.columns[: len(VALUE_COLUMNS)]) == VALUE_COLUMNS
    dtypes = {"line_no": "int64", "row_no": "Int64", "value": "float64"}
    assert {column: str(values[column].dtype) for column in VALUE_COLUMNS} == {
        column: dtypes.get(column, "str") for column in VALUE_COLUMNS
    }
    assert list(values["line_no"]) == list(range(1, len(values) + 1))
    assert set(values["departement_code"]) == {departement} and set(values["semester"]) == {semester}
    by_cell = values.assign(where=values["sheet"] + "!" + values["cell"]).set_index("where")
    # one row per filled cell, plus every Résultats value cell (11 key indicators), even empty
    result_cells = {f"Résultats!E{row}" for row in range(2, 13)}
    assert set(by_cell.index) == set(filled.values) | result_cells
    for where in result_cells - set(filled.values):
        assert by_cell.loc[where, "status"] == "missing" and pd.isna(by_cell.loc[where, "raw_value"])
    for where, written in filled.values.items():
        row = by_cell.loc[where]
        assert row["status"] == "ok", where
        if isinstance(written, dt.datetime):
            assert row["text"] == written.date().isoformat() and row["raw_value"] == f"{written:%d/%m/%Y}"
        elif isinstance(written, int | float):
            assert row["value"] == pytest.approx(written)
        elif row["field"] == "entreprise.date_signature":  # typed as text JJ/MM/AAAA
            assert row["text"] == dt.datetime.strptime(written, "%d/%m/%Y").date().isoformat()
        else:
            assert (row["text"], row["raw_value"]) == (written, written)
    companies = values[values["sheet"] == "Entreprises"]
    assert companies["row_no"].notna().all() and values[values["sheet"] == "Bilan"]["row_no"].isna().all()
    assert set(companies["field"]) == {
        f"entreprise.{name}" for name in ("nom", "siren", "taille", "date_signature", "axes")
    }


@pytest.mark.parametrize("mistake", gen.MISTAKES)
def test_each_mistake_is_rejected_with_its_rule_at_its_cell(tmp_path, mistake):
    filled = gen.filled_paqte("69", "2024-S1", seed=2, mistakes=[mistake])
    verdict = paqte_check.check_paqte_file(_write(tmp_path, filled))
    assert not verdict.accepted
    sheet, cell = filled.cells[mistake].split("!")
    assert (RULES[mistake], sheet, cell) in _places(verdict.errors), verdict.text()
    assert {f.rule for f in verdict.errors} == {RULES[mistake]}, verdict.text()
    for finding in verdict.findings:  # every message names file, place and rule, in French
        line = finding.line(verdict.file_name)
        assert verdict.file_name in line and finding.rule in line and finding.message.strip()


def test_what_departements_type_is_read_and_warnings_keep_the_report_accepted(tmp_path):
    filled = gen.filled_paqte("69", "2024-S1", seed=2)
    siren = filled.values["Entreprises!C2"]
    wrong_key = siren[:8] + str((int(siren[8]) + 1) % 10)
    companies = sum(1 for where in filled.values if where.startswith("Entreprises!B"))
    path = _edited(
        tmp_path,
        filled,
        {
            "Entreprises!C2": wrong_key,
            "Entreprises!C3": " ".join(
                (
                    filled.values["Entreprises!C3"][:3],
                    filled.values["Entreprises!C3"][3:6],
                    filled.values["Entreprises!C3"][6:],
                )
            ),  # fmt: skip
            "Entreprises!D2": "pme",
            "Entreprises!E2": "2024-03-15",
            "Exemples d'actions!C2": " recruter ",
            "Bilan!B4": "referent.paqte-prefecture",
            "Bilan!B7": companies + 2,
            "Résultats!E3": "1\u00a0234",
            "Résultats!E4": "n.d.",
            "Résultats!E11": "12 500,50 €",
        },
    )
    verdict = paqte_check.check_paqte_file(path)
    assert verdict.accepted, verdict.text()
    assert _places(verdict.warnings) == {
        ("PAQTE-SIREN", "Entreprises", "C2"),
        ("PAQTE-COURRIEL", "Bilan", "B4"),
        ("PAQTE-ENTREPRISES", "Bilan", "B7"),
    }
    announced = next(f for f in verdict.warnings if f.rule == "PAQTE-ENTREPRISES")
    assert f"annonce {companies + 2} " in announced.message and f"en liste {companies} " in announced.message
    by_cell = verdict.values.set_index(["sheet", "cell"])
    assert by_cell.loc[("Entreprises", "C3"), "text"] == filled.values["Entreprises!C3"]
    assert by_cell.loc[("Entreprises", "D2"), ["text", "raw_value"]].tolist() == ["PME", "pme"]
    assert by_cell.loc[("Entreprises", "E2"), "text"] == "2024-03-15"
    assert by_cell.loc[("Exemples d'actions", "C2"), "text"] == "Recruter"
    assert by_cell.loc[("Résultats", "E3"), "value"] == 1234
    assert by_cell.loc[("Résultats", "E4"), "status"] == "missing"
    assert by_cell.loc[("Résultats", "E11"), "value"] == pytest.approx(12500.5)


def test_cell_errors_are_named_at_their_cells(tmp_path):
    filled = gen.filled_paqte("69", "2024-S1", seed=2)
    path = _edited(
        tmp_path,
        filled,
        {
            "Entreprises!C3": filled.values["Entreprises!C2"],  # the same company twice
            "Entreprises!D4": "Grande",
            "Entreprises!E5": "31/02/2024",
            "Bilan!B2": "N" * 201,
            "Résultats!E2": 2.5,
            "Résultats!E5": "12 %",
            "Résultats!E6": "=1+1",  # a formula saved without its value (never computed by Excel)
            "Résultats!E12": -10.5,
        },
    )
    verdict = paqte_check.check_paqte_file(path)
    assert _places(verdict.errors) == {
        ("PAQTE-DOUBLON", "Entreprises", "C2"),
        ("PAQTE-DOUBLON", "Entreprises", "C3"),
        ("PAQTE-TAILLE", "Entreprises", "D4"),
        ("PAQTE-DATE", "Entreprises", "E5"),
        ("PAQTE-TEXTE-LONGUEUR", "Bilan", "B2"),
        ("PAQTE-NOMBRE", "Résultats", "E2"),
        ("PAQTE-NOMBRE", "Résultats", "E5"),
        ("PAQTE-FORMULE", "Résultats", "E6"),
        ("PAQTE-MONTANT", "Résultats", "E12"),
    }, verdict.text()
    long_text = next(f for f in verdict.errors if f.rule == "PAQTE-TEXTE-LONGUEUR")
    assert "201 caractères" in long_text.message and "200" in long_text.message


def test_an_empty_report_is_rejected_and_empty_results_are_a_warning(tmp_path):
    empty = paqte.write_paqte_template(tmp_path / "paqte_D974_2024-S2.xlsx", "974", "2024-S2")
    verdict = paqte_check.check_paqte_file(empty)
    assert _places(verdict.errors) == {("PAQTE-VIDE", "Résultats", "E2")} and not verdict.warnings
    filled = gen.filled_paqte("974", "2024-S2", seed=2)
    no_results = {where: None for where in filled.values if where.startswith("Résultats!")}
    verdict = paqte_check.check_paqte_file(_edited(tmp_path, filled, no_results))
    assert verdict.accepted, verdict.text()
    assert _places(verdict.warnings) == {("PAQTE-VIDE", "Résultats", "E2")}


def test_the_locked_structure_is_compared_and_the_context_covered_by_the_empreinte(tmp_path):
    filled = gen.filled_paqte("69", "2024-S1", seed=2)
    verdict = paqte_check.check_paqte_file(_edited(tmp_path, filled, {"Contexte!B2": 12}))
    assert _places(verdict.errors) == {("STRUCTURE-EMPREINTE", "Métadonnées", "B8")}

    workbook = openpyxl.load_workbook(io.BytesIO(filled.content))
    workbook["Bilan"]["A3"] = "Fonction"
    workbook["Exemples d'actions"].merge_cells("C3:D3")
    workbook.create_sheet("Feuil1").sheet_state = "hidden"
    path = tmp_path / "paqte_D69_2024-S1.xlsx"
    workbook.save(path)
    verdict = paqte_check.check_paqte_file(path)
    assert _places(verdict.errors) == {
        ("STRUCTURE-FEUILLE-MASQUEE", "Feuil1", None),
        ("STRUCTURE-LIGNE", "Bilan", "A3"),
        ("STRUCTURE-FUSION", "Exemples d'actions", "C3"),
    }, verdict.text()


def test_a_deleted_row_is_named_row_by_row_up_to_ten_then_counted(tmp_path):
    workbook = openpyxl.load_workbook(io.BytesIO(gen.filled_paqte("69", "2024-S1", seed=2).content))
    workbook["Entreprises"].delete_rows(5)  # rows 5 to 201 (the 200th row now empty) no longer hold their number
    path = tmp_path / "paqte_D69_2024-S1.xlsx"
    workbook.save(path)
    verdict = paqte_check.check_paqte_file(path)
    lines = [f for f in verdict.errors if f.rule == "STRUCTURE-LIGNE"]
    assert [f.cell for f in lines] == [f"A{row}" for row in range(5, 16)], verdict.text()
    assert "« 5 » au lieu de « 4 »" in lines[0].message
    assert "cette ligne et 186 autre(s)" in lines[-1].message  # 197 rows differ: 10 named, the 11th and 186 more


def test_the_regional_workbook_sent_as_a_paqte_report_is_named_as_such(tmp_path):
    from etl.samples.generators import submissions

    path = tmp_path / "paqte_D69_2024-S1.xlsx"
    path.write_bytes(submissions.filled_workbook("84", 2024, seed=2).content)
    verdict = paqte_check.check_paqte_file(path)
    assert [f.rule for f in verdict.findings] == ["STRUCTURE-FEUILLES"]
    assert "indicateurs locaux" in verdict.errors[0].message and "PAQTE" in verdict.errors[0].message


def test_the_departement_and_semester_expected_must_match(tmp_path):
    path = _write(tmp_path, gen.filled_paqte("69", "2024-S1", seed=2), name="bilan.xlsx")
    assert paqte_check.check_paqte_file(path).accepted
    wrong = paqte_check.check_paqte_file(path, departement="13", semester="2024-S2")
    assert _places(wrong.errors) == {
        ("META-DEPARTEMENT", "Métadonnées", "B2"),
        ("META-SEMESTRE", "Métadonnées", "B5"),
    }, wrong.text()
    renamed = tmp_path / "paqte_D13_2024-S1.xlsx"
    renamed.write_bytes(path.read_bytes())
    assert {f.rule for f in paqte_check.check_paqte_file(renamed).errors} == {"META-DEPARTEMENT"}


def test_an_unreadable_file_is_one_error_and_keeps_the_identity_of_its_name(tmp_path):
    path = tmp_path / "paqte_D2B_2024-S1.xlsx"
    path.write_text("departement;entreprises\n2B;4\n", encoding="utf-8")
    verdict = paqte_check.check_paqte_file(path)
    assert [f.rule for f in verdict.errors] == ["FICHIER-TEXTE"]
    assert (verdict.departement_code, verdict.semester, verdict.values) == ("2B", "2024-S1", None)
    assert "département 2B" in verdict.summary() and "semestre 2024-S1" in verdict.summary()


@pytest.mark.parametrize(
    ("name", "identity"),
    [
        ("paqte_D69_2024-S1.xlsx", ("69", "2024-S1")),
        ("bilan_paqte_D2A_2023-S2_v2.xlsx", ("2A", "2023-S2")),
        ("paqte_d974_2025-s1.xlsx", ("974", "2025-S1")),
        ("D01_2019-S2.xlsx", ("01", "2019-S2")),
        ("paqte_69_2024-S1.xlsx", (None, None)),
        ("paqte_D69_2024.xlsx", (None, None)),
        ("XD69_2024-S1.xlsx", (None, None)),
    ],
)
def test_identity_from_the_file_name(name, identity):
    assert paqte_check.identity_from_name(name) == identity


@pytest.mark.parametrize(
    ("raw", "day"),
    [
        (dt.datetime(2024, 3, 15, 0, 0), dt.date(2024, 3, 15)),
        (dt.date(2024, 3, 15), dt.date(2024, 3, 15)),
        ("15/03/2024", dt.date(2024, 3, 15)),
        (" 5/3/2024 ", dt.date(2024, 3, 5)),
        ("15.03.2024", dt.date(2024, 3, 15)),
        ("15-03-2024", dt.date(2024, 3, 15)),
        ("2024-03-15", dt.date(2024, 3, 15)),
        (45366, dt.date(2024, 3, 15)),  # an Excel serial number (days since 30/12/1899)
        ("31/02/2024", None),
        ("mars 2024", None),
        ("15/03/24", None),
        (True, None),
        (None, None),
    ],
)
def test_signature_dates_are_read_as_typed(raw, day):
    assert xlsx.cell_date(raw) == day


@pytest.mark.parametrize(
    ("raw", "siren", "key_ok"),
    [
        ("552100554", "552100554", True),
        ("552 100 554", "552100554", True),
        ("552\u00a0100\u00a0554", "552100554", True),
        (552100554, "552100554", True),
        ("732829320", "732829320", True),
        ("552100555", "552100555", False),
        ("55210055", None, None),
        ("5521005540", None, None),
        ("55210055A", None, None),
    ],
)
def test_sirens_are_read_and_their_key_checked(raw, siren, key_ok):
    assert codes.normalise_siren(raw) == siren
    if siren:
        assert codes.siren_key_ok(siren) is key_ok
