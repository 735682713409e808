"""Intake of regional workbooks into a real warehouse (etl/submissions/intake.py), GX gates included.

One warehouse for the module (régions, départements, catalogue, periods loaded through the pipeline); the tests run
in order on it: a valid workbook loads, a corrected one supersedes it (both stay queryable), every bad file is
archived and quarantined with its reports and leaves the warehouse unchanged, the campaign status says who sent
what.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import zipfile
from decimal import Decimal

import pytest
import sqlalchemy as sa

from etl.config import PROJECT_ROOT, Home
from etl.samples.generators import submissions as gen
from etl.submissions import intake
from etl.submissions import template as tpl
from etl.warehouse.fingerprint import differences, fingerprint

pytestmark = pytest.mark.warehouse

CAMPAIGN = 2024
DATA_SCHEMAS = ("raw.", "staging.", "core.")


@pytest.fixture(scope="module")
def wh(reference_warehouse):
    return reference_warehouse


def _drop(home: Home, name: str, content: bytes) -> None:
    inbox = home.folder("inbox") / intake.SOURCE_ID
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_bytes(content)


def _rows(engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def _data(engine) -> dict:
    return {k: v for k, v in fingerprint(engine).items() if k.startswith(DATA_SCHEMAS)}


def test_a_valid_workbook_is_loaded_with_its_observations_verbatim(wh):
    filled = gen.filled_workbook("84", CAMPAIGN, seed=5)
    _drop(wh.home, gen.submission_file_name("84", CAMPAIGN), filled.content)
    report = intake.intake(wh.engine, home=wh.home, run_id="t1")
    assert [(o.verdict.status, o.partition) for o in report.outcomes] == [("acceptée", f"84/{CAMPAIGN}")]
    batch = report.outcomes[0].batch_id
    values = {
        (level, code, indicator): (value, status)
        for level, code, indicator, value, status in _rows(
            wh.engine,
            "SELECT territory_level, territory_code, indicator_code, value, status FROM core.indicator_value "
            "WHERE source_id = 'regional' AND period_code = :p",
            p=str(CAMPAIGN),
        )
    }
    for code, written in filled.regional.items():
        value, status = values[("region", "84", code)]
        assert (float(value), status) == (float(written), "ok") if written is not None else status == "missing"
    for (departement, code), written in filled.departemental.items():
        value, status = values[("departement", departement, code)]
        assert (float(value) if value is not None else None, status) == (
            (float(written), "ok") if written is not None else (None, "missing")
        )
    observations = dict(
        _rows(
            wh.engine,
            "SELECT cell, observations FROM core.regional_submission_value WHERE batch_id = :b AND sheet = :s",
            b=batch,
            s=tpl.INDICATEURS_SHEET,
        )
    )
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(filled.content))[tpl.INDICATEURS_SHEET]
    written = {f"H{r}": sheet[f"I{r}"].value for r in range(2, sheet.max_row + 1)}
    assert observations == written  # newlines, quotes, ; and accents kept as typed
    assert _rows(wh.engine, "SELECT verdict, errors FROM audit.submission_verdict WHERE batch_id = :b", b=batch) == [
        ("acceptée", 0)
    ]
    gates = _rows(wh.engine, "SELECT DISTINCT suite FROM audit.dq_result WHERE batch_id = :b ORDER BY 1", b=batch)
    assert gates == [("regional_submission.file",), ("regional_submission.values",)]


def test_a_corrected_resubmission_supersedes_the_first_and_both_stay(wh):
    first = _rows(wh.engine, "SELECT batch_id FROM core.regional_submission WHERE region_code = '84'")
    corrected = gen.filled_workbook("84", CAMPAIGN, seed=6)
    _drop(wh.home, gen.submission_file_name("84", CAMPAIGN, "v2"), corrected.content)
    report = intake.intake(wh.engine, home=wh.home, run_id="t2")
    second = report.outcomes[0].batch_id
    assert report.outcomes[0].verdict.accepted
    assert _rows(
        wh.engine, "SELECT batch_id, version, superseded_by FROM core.regional_submission ORDER BY version"
    ) == [(first[0][0], 1, second), (second, 2, None)]
    both = _rows(wh.engine, "SELECT DISTINCT batch_id FROM core.regional_submission_value ORDER BY 1")
    assert both == [(first[0][0],), (second,)]
    code, written = next((c, v) for c, v in corrected.regional.items() if isinstance(v, int | float))
    assert _rows(
        wh.engine,
        "SELECT value, batch_id FROM core.indicator_value WHERE indicator_code = :i AND territory_level = 'region' "
        "AND territory_code = '84' AND period_code = :p",
        i=code,
        p=str(CAMPAIGN),
    ) == [(pytest.approx(Decimal(str(written))), second)]
    assert _rows(wh.engine, "SELECT status FROM audit.batch WHERE batch_id = :b", b=first[0][0]) == [("superseded",)]


def _bad_files() -> dict[str, bytes]:
    good = gen.filled_workbook("11", CAMPAIGN, seed=7).content
    with_macros = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(with_macros, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/vbaProject.bin", b"\x00" * 64)
    files = {
        "indicateurs_locaux_R11_2024_tronque.xlsx": good[: len(good) // 2],
        "indicateurs_locaux_R11_2024.xlsm": good,  # a valid workbook, but saved with macros enabled
        "indicateurs_locaux_R11_2024_macros.xlsx": with_macros.getvalue(),
        "ancien_format_R11_2024.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096,
        "protege_R11_2024.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 512
        + "EncryptionInfo".encode("utf-16-le")
        + b"\x00" * 512,  # fmt: skip
        "export_R11_2024.xlsx": b"code;valeur\nIND07;12,5\n",
        "copie\\..\\R11_2024 (copie) é.xlsx": good[:100],  # a backslash path and odd characters
    }
    import openpyxl

    enormous = openpyxl.load_workbook(io.BytesIO(good))
    enormous[tpl.INDICATEURS_SHEET]["A6000"] = "ligne perdue"  # beyond the 5 000 rows a sheet may have
    big = io.BytesIO()
    enormous.save(big)
    files["indicateurs_locaux_R11_2024_enorme.xlsx"] = big.getvalue()
    for mistake in (
        "part_superieure_100",
        "colonne_supprimee",
        "formule_sans_valeur",
        "cellules_fusionnees",
        "feuille_masquee",
    ):
        files[f"indicateurs_locaux_R11_2024_{mistake}.xlsx"] = gen.filled_workbook(
            "11", CAMPAIGN, seed=7, mistakes=[mistake]
        ).content
    return files


def test_every_bad_file_is_archived_quarantined_with_its_reports_and_changes_nothing(wh):
    before = _data(wh.engine)
    files = _bad_files()
    for name, content in files.items():
        _drop(wh.home, name, content)
    report = intake.intake(wh.engine, home=wh.home, run_id="t3")
    assert len(report.outcomes) == len(files)
    assert all(not o.verdict.accepted for o in report.outcomes), [o.verdict.summary() for o in report.outcomes]
    assert differences(before, _data(wh.engine)) == []
    for outcome in report.outcomes:
        archived = _rows(
            wh.engine,
            "SELECT f.archive_path, b.status FROM audit.batch b JOIN audit.file_registry f USING (source_id, sha256) "
            "WHERE b.batch_id = :b",
            b=outcome.batch_id,
        )
        assert archived and archived[0][1] == "quarantined"
        report_path = outcome.report
        assert report_path.is_file() and report_path.parent == wh.home.folder("quarantine") / "regional"
        page = report_path.read_text(encoding="utf-8")
        first = outcome.verdict.errors[0]
        assert first.rule in page and "rejetée" in page
        verdict = json.loads(
            report_path.with_name(report_path.name.replace(".rapport.html", ".verdict.json")).read_text()
        )
        assert verdict["verdict"] == "rejetée" and verdict["constats"][0]["rule"]
        assert "\\" not in report_path.name and " " not in report_path.name
    rules = {o.original_name: {f.rule for f in o.verdict.errors} for o in report.outcomes}
    assert rules["indicateurs_locaux_R11_2024_tronque.xlsx"] == {"FICHIER-CORROMPU"}
    assert rules["indicateurs_locaux_R11_2024.xlsm"] == {"FICHIER-EXTENSION"}
    assert rules["indicateurs_locaux_R11_2024_macros.xlsx"] == {"FICHIER-MACROS"}
    assert rules["ancien_format_R11_2024.xlsx"] == {"FICHIER-XLS"}
    assert rules["protege_R11_2024.xlsx"] == {"FICHIER-MOT-DE-PASSE"}
    assert rules["export_R11_2024.xlsx"] == {"FICHIER-TEXTE"}
    assert rules["indicateurs_locaux_R11_2024_enorme.xlsx"] == {"FICHIER-TAILLE"}
    assert "STRUCTURE-FEUILLE-MASQUEE" in rules["indicateurs_locaux_R11_2024_feuille_masquee.xlsx"]
    assert "CELLULE-FORMULE" in rules["indicateurs_locaux_R11_2024_formule_sans_valeur.xlsx"]
    assert "STRUCTURE-FUSION" in rules["indicateurs_locaux_R11_2024_cellules_fusionnees.xlsx"]
    odd = next(o for o in report.outcomes if o.original_name.startswith("copie"))
    assert {f.rule for f in odd.verdict.findings} == {"FICHIER-NOM", "FICHIER-CORROMPU"}
    assert "CELLULE-PART" in rules["indicateurs_locaux_R11_2024_part_superieure_100.xlsx"]
    highlighted = next(o for o in report.outcomes if o.original_name.endswith("part_superieure_100.xlsx"))
    assert 'class="erreur"' in highlighted.report.read_text(encoding="utf-8")  # the faulty cell, in the sheet grid


def test_the_campaign_status_lists_the_18_regions(wh):
    from etl.ops.campaigns import campaign_status, format_status

    status, _ = campaign_status(wh.engine, CAMPAIGN)
    states = dict(zip(status["region_code"], status["state"], strict=True))
    assert len(states) == 18
    assert states["84"] == "acceptée" and states["11"] == "rejetée"
    assert sum(1 for s in states.values() if s == "non reçue") == 16
    assert set(status["deadline"]) == {dt.date(CAMPAIGN + 1, 4, 30)}
    text = format_status(status, CAMPAIGN, dt.date(CAMPAIGN + 1, 5, 2), unattributed=_)
    assert "version 2" in text and "(dépassée)" in text and "non reçue (en retard)" in text


def test_the_status_command(wh, monkeypatch):
    url = wh.engine.url.render_as_string(hide_password=False)
    env = {**__import__("os").environ, "WAREHOUSE_URL": url, "OBSERVATOIRE_HOME": str(wh.home.root)}
    result = subprocess.run(
        [sys.executable, "-m", "etl.cli", "submissions", "status", "--campaign", str(CAMPAIGN)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "1 acceptée(s), 1 rejetée(s), 16 non reçue(s) sur 18 régions" in result.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "etl.cli", "submissions", "status", "--campaign", "1999"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, check=False,
    )  # fmt: skip
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr


def test_paqte_reports_are_loaded_superseded_rejected_and_counted(wh):
    from etl.ops.campaigns import format_status, paqte_status
    from etl.samples.generators import paqte as paqte_gen

    semester = "2024-S1"
    inbox = wh.home.folder("inbox") / intake.PAQTE_SOURCE_ID
    inbox.mkdir(parents=True, exist_ok=True)
    first = paqte_gen.filled_paqte("69", semester, seed=1)
    (inbox / paqte_gen.paqte_file_name("69", semester)).write_bytes(first.content)
    bad = paqte_gen.filled_paqte("2A", semester, seed=1, mistakes=["siren_invalide"])
    (inbox / paqte_gen.paqte_file_name("2A", semester)).write_bytes(bad.content)
    report = intake.intake(wh.engine, intake.PAQTE_SOURCE_ID, home=wh.home, run_id="p1")
    verdicts = {o.original_name: o for o in report.outcomes}
    assert verdicts[paqte_gen.paqte_file_name("69", semester)].partition == f"69/{semester}"
    rejected = verdicts[paqte_gen.paqte_file_name("2A", semester)]
    sheet, cell = bad.cells["siren_invalide"].split("!")
    assert any(f.rule == "PAQTE-SIREN" and (f.sheet, f.cell) == (sheet, cell) for f in rejected.verdict.errors)
    assert rejected.report.parent == wh.home.folder("quarantine") / "paqte" and rejected.report.is_file()

    stored = dict(
        _rows(
            wh.engine, "SELECT cell, text FROM core.paqte_submission_value WHERE sheet = 'Bilan' AND text IS NOT NULL"
        )
    )
    written = {key.split("!")[1]: value for key, value in first.values.items() if key.startswith("Bilan!")}
    assert {c: v for c, v in written.items() if isinstance(v, str)}.items() <= stored.items()  # text verbatim

    second = paqte_gen.filled_paqte("69", semester, seed=2)
    (inbox / paqte_gen.paqte_file_name("69", semester, "v2")).write_bytes(second.content)
    assert [o.verdict.accepted for o in intake.intake(wh.engine, "paqte", home=wh.home).outcomes] == [True]
    assert _rows(wh.engine, "SELECT version, superseded_by IS NULL FROM core.paqte_submission ORDER BY version") == [
        (1, False),
        (2, True),
    ]

    status = paqte_status(wh.engine, semester)
    states = dict(zip(status["departement_code"], status["state"], strict=True))
    assert (states["69"], states["2A"], states["75"]) == ("acceptée", "rejetée", "non reçue") and len(states) == 101
    text = format_status(status, semester, dt.date(2024, 8, 1), kind="paqte")
    assert "1 accepté(s), 1 rejeté(s), 99 non reçu(s) sur 101 départements" in text and "(dépassée)" in text
    # the regional completeness is not disturbed by the PAQTE verdicts
    from etl.ops.campaigns import campaign_status

    assert campaign_status(wh.engine, CAMPAIGN)[1].empty
