"""Filled PAQTE reports (etl/samples/generators/paqte.py): determinism, coherent content, mistakes where they say.

Everything is read back from the saved .xlsx with openpyxl; SIREN keys are checked with a Luhn check written here,
the département names and codes come from catalogue/departements.csv.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from etl.config import PROJECT_ROOT
from etl.samples.generators import paqte as generator

AXES = ("Sensibiliser", "Former", "Recruter", "Acheter")
SIZES = {"GE", "ETI", "PME", "TPE"}
with (PROJECT_ROOT / "catalogue" / "departements.csv").open(encoding="utf-8", newline="") as _handle:
    DEPARTEMENTS = {row["code"] for row in csv.DictReader(_handle, delimiter=";")}


def _luhn_ok(number: str) -> bool:
    digits = [int(char) for char in number]
    doubled = [2 * d - 9 if 2 * d > 9 else 2 * d for d in digits[1::2]]  # 9 digits: the 2nd, 4th... from the left
    return (sum(digits[0::2]) + sum(doubled)) % 10 == 0


def _load(filled: generator.FilledPaqte) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(filled.content))


def test_same_arguments_same_bytes_and_the_file_name():
    first = generator.filled_paqte("69", "2024-S1", seed=4)
    assert generator.filled_paqte("69", "2024-S1", seed=4).content == first.content
    assert generator.filled_paqte("69", "2024-S1", seed=5).content != first.content
    assert generator.paqte_file_name("69", "2024-S1") == "paqte_D69_2024-S1.xlsx"
    assert generator.paqte_file_name("2A", "2023-S2", "_v2") == "paqte_D2A_2023-S2_v2.xlsx"
    with pytest.raises(ValueError, match="mistake"):
        generator.filled_paqte("69", "2024-S1", mistakes=["oubli"])
    with pytest.raises(ValueError):
        generator.paqte_file_name("20", "2024-S1")


@pytest.mark.parametrize(("departement", "semester"), [("69", "2024-S1"), ("974", "2018-S2")])
def test_the_content_is_coherent(departement, semester):
    filled = generator.filled_paqte(departement, semester, seed=4)
    workbook = _load(filled)
    end = dt.date(int(semester[:4]), 6, 30) if semester.endswith("S1") else dt.date(int(semester[:4]), 12, 31)
    companies = workbook["Entreprises"]
    rows = [row for row in companies.iter_rows(min_row=2, values_only=True) if any(v is not None for v in row[1:])]
    assert 6 <= len(rows) <= 12 and workbook["Bilan"]["B7"].value == len(rows)
    sirens = [row[2] for row in rows]
    assert len(set(sirens)) == len(sirens)
    for _, name, siren, size, signed, axes in rows:
        assert name and len(siren) == 9 and siren.isdigit() and _luhn_ok(siren), siren
        assert size in SIZES
        day = signed.date() if isinstance(signed, dt.datetime) else dt.datetime.strptime(signed, "%d/%m/%Y").date()
        assert dt.date(2018, 1, 1) <= day <= end
        assert axes and set(axes.split(", ")) <= set(AXES)
    assert isinstance(rows[1][4], str)  # the second date typed as text
    results = {row[0]: (row[4], row[5]) for row in workbook["Résultats"].iter_rows(min_row=2, values_only=True)}
    for prefix, axis in zip(("SENS", "FORM", "RECR", "ACHA"), AXES, strict=True):
        assert results[f"{prefix}_ENTREPRISES"][0] == sum(axis in row[5].split(", ") for row in rows)
    empty = [code for code, (value, _) in results.items() if value is None]
    assert len(empty) == 1 and results[empty[0]][1]  # left empty, with its reason
    if results["RECR_CDI"][0] is not None and results["RECR_RESIDENTS"][0] is not None:
        assert results["RECR_CDI"][0] <= results["RECR_RESIDENTS"][0]
    if results["SENS_ELEVES_3E"][0] is not None:
        assert results["SENS_ELEVES_3E"][0] <= results["SENS_STAGES_3E"][0]
    axes_of = {row[1]: row[5].split(", ") for row in rows}
    examples = [r for r in workbook["Exemples d'actions"].iter_rows(min_row=2, values_only=True) if r[1] is not None]
    assert 3 <= len(examples) <= 6
    for _, company, axis, description in examples:
        assert axis in axes_of[company] and company in description
    written = {f"{ws.title}!{c.coordinate}": c.value for ws in workbook for r in ws.iter_rows() for c in r}
    assert all(written[where] == value for where, value in filled.values.items())


def test_each_mistake_writes_what_it_says_where_it_says():
    clean = generator.filled_paqte("69", "2024-S1", seed=4)
    filled = generator.filled_paqte("69", "2024-S1", seed=4, mistakes=generator.MISTAKES)
    assert set(filled.cells) == set(generator.MISTAKES)
    workbook = _load(filled)

    def at(mistake):
        sheet, cell = filled.cells[mistake].split("!")
        return workbook[sheet][cell].value

    assert at("colonne_supprimee") == "Date de signature" and filled.cells["colonne_supprimee"] == "Entreprises!D1"
    assert at("siren_invalide") == clean.values["Entreprises!C2"][:8]
    assert at("nombre_negatif") < 0 and at("texte_dans_nombre") == "une dizaine"
    assert at("axe_inconnu") not in AXES
    assert filled.cells["date_hors_semestre"] == "Entreprises!D2"  # the date column moved left
    assert at("date_hors_semestre").date() > dt.date(2024, 6, 30)
    assert at("autre_version") != "paqte.1"
    assert at("departement_metadonnees") in DEPARTEMENTS - {"69"}
    # the mistakes do not change the other values
    untouched = {
        k: v
        for k, v in clean.values.items()
        if not k.startswith(("Entreprises!", "Résultats!E3", "Résultats!E8", "Exemples d'actions!C2"))
    }
    assert all(filled.values[k] == v for k, v in untouched.items())
