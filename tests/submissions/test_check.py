"""The verdict on returned workbooks (etl/submissions/check.py), without a warehouse: GX really validates the cells.

Workbooks come from samples.generators.submissions (the template filled through openpyxl, with each kind of mistake a
région makes); the expected cell of each mistake is the generator's, the expected values are recomputed here.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import openpyxl
import pytest

from etl.config import PROJECT_ROOT
from etl.referentiels.catalogue import catalogue_indicators
from etl.samples.generators import submissions as gen
from etl.submissions import check
from etl.submissions import template as tpl
from etl.submissions import verdict as model

# mistake -> the rule that must name the generator's cell (as error)
RULES = {
    "texte_dans_nombre": "CELLULE-TEXTE",
    "part_superieure_100": "CELLULE-PART",
    "nombre_negatif": "CELLULE-NEGATIF",
    "indicateur_national": "CELLULE-INDICATEUR-NATIONAL",
    "region_metadonnees": "META-REGION",
    "campagne_metadonnees": "META-CAMPAGNE",
    "autre_version": "META-VERSION",
    "ligne_deplacee": "STRUCTURE-LIGNE",
    "colonne_supprimee": "STRUCTURE-COLONNES",
    "feuille_renommee": "STRUCTURE-FEUILLES",
    "ligne_dupliquee": "CELLULE-DOUBLON",
    "departement_hors_region": "CELLULE-DEPARTEMENT",
    "ventilation_incoherente": "VENTILATION-SOMME",
    "formule_sans_valeur": "CELLULE-FORMULE",
    "cellules_fusionnees": "STRUCTURE-FUSION",
    "feuille_masquee": "STRUCTURE-FEUILLE-MASQUEE",
}


def _write(tmp_path, filled: gen.Filled, name: str | None = None):
    path = tmp_path / (name or gen.submission_file_name(filled.region_code, filled.campaign))
    path.write_bytes(filled.content)
    return path


ALL_REGIONS = [row["code"] for row in __import__("csv").DictReader(
    (PROJECT_ROOT / "catalogue" / "regions.csv").open(encoding="utf-8"), delimiter=";")]  # fmt: skip


@pytest.mark.parametrize(
    ("region", "typed"), [(code, False) for code in ALL_REGIONS] + [("84", True), ("04", True), ("11", True)]
)
def test_a_filled_template_is_accepted_with_every_value_read(tmp_path, region, typed):
    filled = gen.filled_workbook(region, 2024, seed=3, typed=typed)
    verdict = check.check_file(_write(tmp_path, filled))
    assert verdict.accepted, verdict.text()
    assert (verdict.region_code, verdict.campaign, verdict.template_version) == (region, 2024, tpl.TEMPLATE_VERSION)
    values = verdict.values.set_index(["territory_level", "territory_code", "indicator_code"])
    for code, written in filled.regional.items():
        row = values.loc[("region", region, code)]
        _assert_read(written, row)
    for (departement, code), written in filled.departemental.items():
        _assert_read(written, values.loc[("departement", departement, code)])
    local = {i.code for i in catalogue_indicators("local")}
    assert set(values.reset_index()["indicator_code"]) == local


def _assert_read(written, row) -> None:
    """What the generator wrote (a number, or text as staff type it) against what the checker read."""
    if written is None or (isinstance(written, str) and written.strip().lower() in ("n.d.", "nc", "")):
        assert row["status"] == "missing" and row["value"] != row["value"]  # NaN
        return
    if isinstance(written, str):
        expected = float(written.replace("%", "").replace("\u00a0", "").replace(" ", "").replace(",", "."))
    else:
        expected = float(written)
    assert row["status"] == "ok"
    assert row["value"] == pytest.approx(expected)


@pytest.mark.parametrize("mistake", gen.MISTAKES)
def test_each_mistake_is_rejected_with_its_rule_at_its_cell(tmp_path, mistake):
    filled = gen.filled_workbook("84", 2024, seed=3, mistakes=[mistake])
    verdict = check.check_file(_write(tmp_path, filled))
    assert not verdict.accepted
    sheet, cell = filled.cells[mistake].split("!")
    at_rule = [f for f in verdict.errors if f.rule == RULES[mistake]]
    assert at_rule, verdict.text()
    if mistake == "ventilation_incoherente":  # named at the regional total of the indicator whose breakdown is off
        indicator = openpyxl.load_workbook(io.BytesIO(filled.content))[sheet][f"C{cell[1:]}"].value
        assert [(f.sheet, f.indicator) for f in at_rule] == [(tpl.INDICATEURS_SHEET, indicator)], verdict.text()
    else:
        assert any(f.sheet == sheet and (f.cell == cell or f.cell is None) for f in at_rule), verdict.text()
    for finding in verdict.errors:  # every message names file, place and rule
        line = finding.line(verdict.file_name)
        assert verdict.file_name in line and finding.rule in line
    assert not [f for f in verdict.findings if not f.message.strip()]


@pytest.mark.parametrize(
    ("raw", "number_format", "value", "status"),
    [
        (12.5, tpl.NUMBER_FORMATS["%"], 12.5, "ok"),
        ("12,5", None, 12.5, "ok"),
        ("12,5 %", None, 12.5, "ok"),
        ("12,5\u00a0%", None, 12.5, "ok"),
        (0.125, "0.0%", 12.5, "ok"),  # an Excel percentage stores the fraction
        ("0,125", None, 0.125, "ok"),
        ("1 234", None, 1234.0, "ok"),
        ("1\u00a0234", None, 1234.0, "ok"),
        ("1\u202f234,5", None, 1234.5, "ok"),
        ("-3", None, -3.0, "ok"),
        ("n.d.", None, None, "nd"),
        ("ND", None, None, "nd"),
        ("NC", None, None, "nc"),
        ("", None, None, "vide"),
        (None, None, None, "vide"),
        ("environ 40", None, None, "invalide"),
        ("12,5 €", None, None, "invalide"),
        ("1 23", None, None, "invalide"),
        (True, None, None, "invalide"),
        (float("nan"), None, None, "invalide"),
    ],
)
def test_cells_are_read_as_regional_staff_type_them(raw, number_format, value, status):
    parsed = check.parse_cell(raw, number_format)
    assert parsed.status == status
    assert parsed.value == (pytest.approx(value) if value is not None else None)


@pytest.mark.parametrize(
    ("raw", "shown"), [(19094.22, "19094,22"), (1234567.5, "1234567,5"), (12.5, "12,5"), (40, "40")]
)
def test_values_are_shown_as_typed_in_messages(raw, shown):
    assert model.shown(raw) == shown


def test_a_share_typed_as_a_fraction_is_kept_with_a_warning(tmp_path):
    workbook = openpyxl.load_workbook(io.BytesIO(gen.filled_workbook("04", 2024, seed=3).content))
    ws = workbook[tpl.INDICATEURS_SHEET]
    row = next(r for r in range(2, ws.max_row + 1) if ws[f"F{r}"].value == "%")
    ws[f"H{row}"] = "0,125"
    path = tmp_path / "indicateurs_locaux_R04_2024.xlsx"
    workbook.save(path)
    verdict = check.check_file(path)
    warned = [f for f in verdict.warnings if f.rule == "CELLULE-PART-FRACTION" and f.cell == f"H{row}"]
    assert warned and verdict.values.set_index("cell").loc[f"H{row}", "value"] == pytest.approx(0.125)


def test_the_region_and_campaign_expected_by_the_caller_must_match(tmp_path):
    path = _write(tmp_path, gen.filled_workbook("84", 2024, seed=3), name="classeur.xlsx")
    assert check.check_file(path).accepted
    wrong = check.check_file(path, region="11", campaign=2023)
    assert {f.rule for f in wrong.errors} == {"META-REGION", "META-CAMPAGNE"}  # and nothing else: the workbook is
    # coherent, only sent for another région and campaign
    assert {f.rule for f in check.check_file(path, campaign=2023).errors} == {"META-CAMPAGNE"}


def test_an_empty_template_sent_back_is_rejected(tmp_path):
    path = tmp_path / "indicateurs_locaux_R04_2024.xlsx"
    tpl.write_template(path, "04", 2024)
    verdict = check.check_file(path)
    assert [f.rule for f in verdict.errors] == ["CELLULE-AUCUNE-VALEUR"]


def test_an_edited_locked_cell_of_the_national_sheet_is_caught_by_the_empreinte(tmp_path):
    workbook = openpyxl.load_workbook(io.BytesIO(gen.filled_workbook("04", 2024, seed=3).content))
    workbook[tpl.NATIONAUX_SHEET]["C2"] = "libellé modifié"
    path = tmp_path / "indicateurs_locaux_R04_2024.xlsx"
    workbook.save(path)
    verdict = check.check_file(path)
    assert [(f.rule, f.cell) for f in verdict.errors] == [("STRUCTURE-EMPREINTE", tpl.METADATA_CELLS["empreinte"])]


def test_a_cached_formula_value_is_used_with_a_warning(tmp_path):
    """Excel saves a formula with its last value; openpyxl cannot, so the cached value is written into the XML."""
    workbook = openpyxl.load_workbook(io.BytesIO(gen.filled_workbook("04", 2024, seed=3).content))
    ws = workbook[tpl.INDICATEURS_SHEET]
    row = next(r for r in range(2, ws.max_row + 1) if ws[f"F{r}"].value == "nombre")
    expected = ws[f"H{row}"].value
    ws[f"H{row}"] = f"=0+{expected}"
    raw = io.BytesIO()
    workbook.save(raw)
    path = tmp_path / "indicateurs_locaux_R04_2024.xlsx"
    path.write_bytes(_with_cached_value(raw.getvalue(), f"=0+{expected}", expected))
    verdict = check.check_file(path)
    assert verdict.accepted, verdict.text()
    assert [f.cell for f in verdict.warnings if f.rule == "CELLULE-FORMULE-VALEUR"] == [f"H{row}"]
    assert verdict.values.set_index("cell").loc[f"H{row}", "value"] == pytest.approx(float(expected))


def _with_cached_value(content: bytes, formula: str, value) -> bytes:
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                text = data.decode("utf-8")
                needle = f"<f>{formula.lstrip('=')}</f><v></v>"
                assert needle in text or f"<f>{formula.lstrip('=')}</f>" in text
                text = text.replace(needle, f"<f>{formula.lstrip('=')}</f><v>{value}</v>", 1)
                if needle not in data.decode("utf-8"):
                    text = text.replace(
                        f"<f>{formula.lstrip('=')}</f>", f"<f>{formula.lstrip('=')}</f><v>{value}</v>", 1
                    )
                data = text.encode("utf-8")
            target.writestr(item, data)
    return out.getvalue()


def test_the_cli_prints_the_verdict_and_exits_0_1_or_2(tmp_path):
    good = _write(tmp_path, gen.filled_workbook("04", 2024, seed=3))
    bad_filled = gen.filled_workbook("04", 2024, seed=3, mistakes=["part_superieure_100"])
    bad = _write(tmp_path, bad_filled, name="indicateurs_locaux_R04_2024_v2.xlsx")

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "etl.cli", "submissions", "check", *args],
            capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
        )  # fmt: skip

    accepted = run(str(good))
    assert accepted.returncode == 0, accepted.stderr
    assert "acceptée" in accepted.stdout
    rejected = run(str(bad), "--json")
    assert rejected.returncode == 1
    payload = json.loads(rejected.stdout)
    assert payload["verdict"] == "rejetée"
    expected_place = bad_filled.cells["part_superieure_100"]
    assert any(c["rule"] == "CELLULE-PART" and c["ou"] == expected_place for c in payload["constats"])
    missing = run(str(tmp_path / "absent.xlsx"))
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    usage = run()
    assert usage.returncode == 2
