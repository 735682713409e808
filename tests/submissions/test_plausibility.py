"""Impossible and implausible figures in returned workbooks (etl/submissions/plausibility.py and the two checkers).

One warehouse for the module: the reference data and the sample QPV referential (both geographies) loaded through
the pipeline. The QPV in force on 31 December 2024 (2024 geography in metropolitan France, 2015 overseas) are counted
here from the referential's files with the csv module, not with the checker's SQL. Workbooks come from the
generators, edited with openpyxl where a test needs a figure.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys

import openpyxl
import pytest

from etl.config import PROJECT_ROOT
from etl.samples.generators import paqte as paqte_gen
from etl.samples.generators import submissions as gen
from etl.submissions import check, intake, paqte_check
from etl.submissions import template as tpl

pytestmark = pytest.mark.warehouse

CAMPAIGN = 2024
SEMESTER = "2024-S2"
REGIONS = [row["code"] for row in csv.DictReader((PROJECT_ROOT / "catalogue" / "regions.csv").open(), delimiter=";")]
QPV_IN_FORCE_IN_2024 = (("qpv_2024.csv", False), ("qpv_2015.csv", True))  # (file, for the overseas départements)


@pytest.fixture(scope="module")
def wh(reference_warehouse, territories_dir):
    from etl import pipeline
    from etl.sources.registry import source

    inbox = reference_warehouse.home.folder("inbox") / "anct_qpv"
    inbox.mkdir(parents=True, exist_ok=True)
    for name, _ in QPV_IN_FORCE_IN_2024:
        shutil.copyfile(territories_dir / name, inbox / name)
    report = pipeline.ingest(reference_warehouse.engine, source("anct_qpv"), home=reference_warehouse.home)
    assert {b.status for b in report.batches} == {"loaded"}
    return reference_warehouse


@pytest.fixture(scope="module")
def qpv(territories_dir) -> dict[str, int]:
    """QPV in force on 31 December 2024, per région and per département (keys `R11`, `D93`)."""
    counts: dict[str, int] = {}
    for name, overseas in QPV_IN_FORCE_IN_2024:
        with (territories_dir / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                if row["insee_dep"].startswith("97") == overseas:
                    for key in (f"R{row['insee_reg'].zfill(2)}", f"D{row['insee_dep'].zfill(2)}"):
                        counts[key] = counts.get(key, 0) + 1
    return counts


def _row(ws, code: str, departement: str | None = None) -> int:
    """The row of `code` on Indicateurs, or of (département, code) on Départements."""
    for row in range(tpl.FIRST_DATA_ROW, ws.max_row + 1):
        if departement is None and ws[f"A{row}"].value == code:
            return row
        if departement is not None and (ws[f"A{row}"].value, ws[f"C{row}"].value) == (departement, code):
            return row
    raise AssertionError(code)


def _declare(tmp_path, region: str, code: str, regional, departemental: dict | None = None, seed: int = 3):
    """The région's filled workbook with `regional` as the result of `code`; its départements' cells of `code` get
    `departemental` (département -> value) or, by default, `n.d.` (so that no breakdown rule applies)."""
    workbook = openpyxl.load_workbook(io.BytesIO(gen.filled_workbook(region, CAMPAIGN, seed=seed).content))
    indicateurs, departements = workbook[tpl.INDICATEURS_SHEET], workbook[tpl.DEPARTEMENTS_SHEET]
    row = _row(indicateurs, code)
    indicateurs[f"H{row}"] = regional
    for line in range(tpl.FIRST_DATA_ROW, departements.max_row + 1):
        if departements[f"C{line}"].value == code:
            departements[f"F{line}"] = (departemental or {}).get(departements[f"A{line}"].value, "n.d.")
            departements[f"G{line}"] = "donnée non disponible"
    path = tmp_path / gen.submission_file_name(region, CAMPAIGN)
    workbook.save(path)
    return path, f"{tpl.INDICATEURS_SHEET}!H{row}"


def _places(findings) -> set[tuple[str, str | None]]:
    return {(f.rule, f.where) for f in findings}


# --- counts of QPV -------------------------------------------------------------------------------------------------


def test_more_qpv_than_the_region_has_is_an_error_naming_the_cell_the_value_and_the_regions_qpv(tmp_path, wh, qpv):
    path, where = _declare(tmp_path, "11", "IND15", 2215)
    verdict = check.check_file(path, engine=wh.engine)
    assert not verdict.accepted
    assert _places(verdict.errors) == {("PLAUSIBILITE-QPV", where)}, verdict.text()
    [error] = verdict.errors
    assert (error.indicator, error.found, error.expected) == ("IND15", "2215", f"au plus {qpv['R11']}")
    assert where in error.message and "déclare 2215 QPV" in error.message
    assert f"la région Île-de-France en compte {qpv['R11']} au 31/12/2024" in error.message
    assert f"IND15 : la cellule {where}" in error.line(verdict.file_name)
    # the same count, within the région's QPV, is accepted
    assert check.check_file(_declare(tmp_path, "11", "IND15", qpv["R11"])[0], engine=wh.engine).accepted


def test_a_departement_is_held_to_its_own_qpv(tmp_path, wh, qpv):
    """Seine-Saint-Denis declares more QPV than it has; the région's total (the sum) stays within the région's."""
    too_many = qpv["D93"] + 3
    others = {"75": 0, "77": 0, "78": 0, "91": 0, "92": 0, "94": 0, "95": 0}
    path, _ = _declare(tmp_path, "11", "IND18", too_many, {"93": too_many, **others})
    verdict = check.check_file(path, engine=wh.engine)
    [error] = verdict.errors
    assert (error.rule, error.sheet, error.indicator, error.territory) == (
        "PLAUSIBILITE-QPV",
        "Départements",
        "IND18",
        "93",
    )
    assert f"déclare {too_many} QPV, or le département Seine-Saint-Denis (93) en compte {qpv['D93']}" in error.message


def test_without_a_warehouse_the_qpv_rule_says_it_was_skipped(tmp_path, wh):
    path, where = _declare(tmp_path, "11", "IND15", 2215)
    verdict = check.check_file(path)
    assert verdict.accepted, verdict.text()
    [warning] = [f for f in verdict.warnings if f.rule == "PLAUSIBILITE-QPV"]
    assert where in warning.message and "sans accès à l'entrepôt" in warning.message


def test_the_cli_exits_1_naming_the_cell_the_value_and_the_regions_qpv(tmp_path, wh, qpv):
    path, where = _declare(tmp_path, "11", "IND15", 2215)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "etl.cli", "submissions", "check", str(path), *args],
            capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
            env={**os.environ, "WAREHOUSE_URL": wh.url},
        )  # fmt: skip

    rejected = run()
    assert rejected.returncode == 1, rejected.stdout + rejected.stderr
    assert "rejetée" in rejected.stdout and "[ERREUR PLAUSIBILITE-QPV]" in rejected.stdout
    assert f"{where}, IND15 : la cellule {where} déclare 2215 QPV" in rejected.stdout
    assert f"la région Île-de-France en compte {qpv['R11']}" in rejected.stdout
    unchecked = run("--no-warehouse")
    assert unchecked.returncode == 0, unchecked.stdout + unchecked.stderr
    assert "[AVERTISSEMENT PLAUSIBILITE-QPV]" in unchecked.stdout


def test_intake_refuses_too_many_qpv_with_the_warehouse_it_loads_into(tmp_path, wh):
    path, where = _declare(tmp_path, "11", "IND15", 2215)
    inbox = wh.home.folder("inbox") / intake.SOURCE_ID
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, inbox / path.name)
    [outcome] = intake.intake(wh.engine, home=wh.home, run_id="plausibility").outcomes
    assert not outcome.verdict.accepted and outcome.report is not None
    assert _places(outcome.verdict.errors) == {("PLAUSIBILITE-QPV", where)}


# --- ranges and shares ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", [True, False], ids=["warehouse", "no-warehouse"])
def test_zsp_far_above_the_range_is_a_warning_naming_it_and_the_workbook_is_accepted(tmp_path, wh, engine):
    path, where = _declare(tmp_path, "44", "IND12", 2576)
    verdict = check.check_file(path, engine=wh.engine if engine else None)
    assert verdict.accepted, verdict.text()
    [warning] = [f for f in verdict.warnings if f.rule == "PLAUSIBILITE-FOURCHETTE"]
    assert (warning.where, warning.indicator, warning.found) == (where, "IND12", "2576")
    assert "déclare 2576 ZSP" in warning.message and "fourchette plausible de 0 à 30 ZSP par région" in warning.message
    assert verdict.values.set_index("cell").loc[where.split("!")[1], "value"] == 2576  # the figure is kept


def test_structures_above_the_range_in_a_departement_are_a_warning(tmp_path):
    path, _ = _declare(tmp_path, "84", "IND14", 900, {"69": 900})
    verdict = check.check_file(path)
    assert verdict.accepted, verdict.text()
    flagged = {(f.sheet, f.territory) for f in verdict.warnings if f.rule == "PLAUSIBILITE-FOURCHETTE"}
    assert flagged == {("Indicateurs", None), ("Départements", "69")}
    ranged = [f.message for f in verdict.warnings if f.rule == "PLAUSIBILITE-FOURCHETTE"]
    assert all("de 0 à 500 structures par région" in message for message in ranged)


@pytest.mark.parametrize(("regional", "departemental"), [(150, None), ("112,5 %", None), (40.0, {"69": -5})])
def test_a_share_outside_0_to_100_is_an_error(tmp_path, regional, departemental):
    path, where = _declare(tmp_path, "84", "IND07", regional, departemental)
    verdict = check.check_file(path)
    assert not verdict.accepted
    assert {f.rule for f in verdict.errors} == {"CELLULE-PART"}, verdict.text()
    if departemental is None:
        assert [f.where for f in verdict.errors] == [where]


# --- generated workbooks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_generated_workbooks_pass_the_plausibility_rules(tmp_path, wh, region):
    for seed, typed in ((3, False), (2024, True)):
        filled = gen.filled_workbook(region, CAMPAIGN, seed=seed, typed=typed)
        path = tmp_path / gen.submission_file_name(region, CAMPAIGN)
        path.write_bytes(filled.content)
        verdict = check.check_file(path, engine=wh.engine)
        assert verdict.accepted, verdict.text()
        assert not [f for f in verdict.findings if f.rule.startswith("PLAUSIBILITE")], verdict.text()


def test_generated_paqte_reports_pass_the_plausibility_rules(tmp_path):
    for departement in ("69", "93", "974", "2A"):
        filled = paqte_gen.filled_paqte(departement, SEMESTER, seed=5)
        path = tmp_path / paqte_gen.paqte_file_name(departement, SEMESTER)
        path.write_bytes(filled.content)
        verdict = paqte_check.check_paqte_file(path)
        assert verdict.accepted, verdict.text()
        assert not [f for f in verdict.findings if f.rule.startswith("PLAUSIBILITE")], verdict.text()


# --- PAQTE ---------------------------------------------------------------------------------------------------------


def _paqte(tmp_path, edits: dict[str, object]):
    filled = paqte_gen.filled_paqte("69", SEMESTER, seed=5)
    workbook = openpyxl.load_workbook(io.BytesIO(filled.content))
    for where, value in edits.items():
        sheet, cell = where.split("!")
        workbook[sheet][cell] = value
    path = tmp_path / paqte_gen.paqte_file_name("69", SEMESTER)
    workbook.save(path)
    return filled, paqte_check.check_paqte_file(path)


def test_paqte_parts_above_their_whole_are_errors(tmp_path):
    filled, _ = _paqte(tmp_path, {})
    signatories = filled.values["Bilan!B7"]
    recruitments = filled.values["Résultats!E8"]
    _, verdict = _paqte(tmp_path, {"Résultats!E5": signatories + 40, "Résultats!E9": recruitments + 1})
    assert _places(verdict.errors) == {
        ("PLAUSIBILITE-PARTIE", "Résultats!E5"),
        ("PLAUSIBILITE-PARTIE", "Résultats!E9"),
    }, verdict.text()
    engaged = next(f for f in verdict.errors if f.cell == "E5")
    assert f"déclare {signatories + 40}, plus que les entreprises signataires du département ({signatories}" in (
        engaged.message
    )
    assert "Bilan!B7" in engaged.message
    cdi = next(f for f in verdict.errors if f.cell == "E9")
    assert f"les recrutements de résidents des QPV ({recruitments}, cellule Résultats!E8)" in cdi.message


def test_paqte_figures_far_above_their_range_are_warnings(tmp_path):
    _, verdict = _paqte(tmp_path, {"Résultats!E3": 2_000_000, "Résultats!E11": 4_500_000_000})
    assert verdict.accepted, verdict.text()
    warned = {f.cell: f.message for f in verdict.warnings if f.rule == "PLAUSIBILITE-FOURCHETTE"}
    assert set(warned) == {"E3", "E11"}
    assert "de 0 à 5000 stages ou élèves par département et par semestre" in warned["E3"]
    assert "déclare 4\u00a0500\u00a0000\u00a0000 euros" in warned["E11"]
    assert "de 0 à 100\u00a0000\u00a0000 euros par département et par semestre" in warned["E11"]


def test_paqte_negative_counts_stay_the_count_rule_not_a_part_rule(tmp_path):
    _, verdict = _paqte(tmp_path, {"Résultats!E8": -3})  # recruitments below the CDI among them
    assert {f.rule for f in verdict.errors} == {"PAQTE-NOMBRE"}, verdict.text()
