"""What people read shows French words, codes stay for machines: statuses as words in every file of an edition and
in the report, label columns beside the level and breakdown codes, the licence everywhere, and what each count column
counts (etl/publication/tables.py, exports.py, editions.py, report.py, semestrial.py, annual.py)."""

from __future__ import annotations

import csv
import io
import json
import math

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from etl.publication import annual, editions, exports, parquet_export, report, semestrial
from etl.publication.tables import (
    LICENCE,
    PER_ROW_UNIT,
    SECRET_UNITS,
    Column,
    Table,
    breakdown_label,
    labelled,
    level_label,
    table_from_spec,
)

NAN = math.nan
CODES = ("masked", "missing", "not_applicable", "break")  # what the frames hold and the files never show
WORDS = {"ok": "publiée", "masked": "secret statistique", "missing": "non disponible", "not_applicable": "sans objet"}
LICENCE_NAME = "Licence Ouverte / Open Licence 2.0 (Etalab)"
LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"


def status_table() -> Table:
    """Job seekers by territory with every status, a row status and a change with its own status (`break`)."""
    columns = (
        Column("niveau", "Code niveau", "code"),
        Column("code_territoire", "Code territoire", "code"),
        Column("territoire", "Territoire", "label"),
        Column("categorie", "Catégorie", "code"),
        Column("semestre", "Semestre", "period"),
        Column("de_qpv", "Demandeurs d'emploi en QPV", "count", "nombre", "En QPV.", "personnes"),
        Column("de_hors_qpv", "Demandeurs d'emploi hors QPV", "count", "nombre", "Hors QPV.", "personnes"),
        Column("evolution", "Évolution", "rate", "%", "Évolution sur 6 mois."),
        Column("evolution_statut", "Statut (évolution)", "status"),
        Column("statut", "Statut", "status"),
    )
    frame = pd.DataFrame(
        [
            ("france", "FR", "France", "A", "2024-S1", 120_000, 900_000, 1.5, "ok", "ok"),
            ("region", "84", "Auvergne-Rhône-Alpes", "A", "2024-S1", NAN, NAN, NAN, "masked", "masked"),
            ("region", "94", "Corse", "A", "2024-S1", NAN, NAN, NAN, "missing", "missing"),
            ("region", "11", "Île-de-France", "A", "2024-S1", 0, 5000, NAN, "not_applicable", "not_applicable"),
            ("region", "93", "Provence-Alpes-Côte d'Azur", "A", "2024-S1", 8000, 70_000, NAN, "break", "ok"),
        ],
        columns=[column.name for column in columns],
    )
    return Table("emploi_qpv_serie", "Demandeurs d'emploi", "Série.", columns, frame)


def _cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_csv_writes_statuses_as_french_words():
    rows = _cells(exports.csv_bytes(status_table()))
    values = {cell for row in rows for cell in row}
    assert not values & set(CODES)
    assert [row[-2:] for row in rows[1:]] == [
        ["publiée", "publiée"],
        ["secret statistique", "secret statistique"],
        ["non disponible", "non disponible"],
        ["sans objet", "sans objet"],
        ["rupture de série", "publiée"],
    ]
    assert rows[2][5:8] == ["s", "s", "s"]  # masked number cells stay `s`
    assert rows[3][5:8] == ["", "", ""] and rows[5][7] == ""  # missing and break: empty


def test_xlsx_and_parquet_write_statuses_as_french_words(tmp_path):
    sheet = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes([status_table()])))["emploi_qpv_serie"]
    values = {cell.value for row in sheet.iter_rows() for cell in row}
    assert not values & set(CODES)
    assert [cell.value for cell in sheet["J"][1:]] == [*WORDS.values(), "publiée"]
    assert [cell.value for cell in sheet["I"][1:]] == [*WORDS.values(), "rupture de série"]
    assert sheet["F3"].value == "s" and sheet["G3"].value == "s"
    data = pq.read_table(parquet_export.write_parquet(status_table(), tmp_path / "t.parquet")).to_pydict()
    assert data["statut"] == [*WORDS.values(), "publiée"]
    assert data["de_qpv"][1] is None


def test_the_report_shows_statuses_as_french_words(tmp_path):
    table = status_table()
    table.frame.loc[4, "statut"] = "break"  # every status of STATUSES has its word, this one too
    report.render_report([table], tmp_path, edition_id="e-1", kind="semestrielle", period="2024-S1")
    for page in ("index.html", "region-84.html", "region-93.html"):
        text = (tmp_path / page).read_text(encoding="utf-8")
        for code in ("ok", *CODES):
            assert f">{code}<" not in text, (page, code)
    assert '<td class="statut">secret statistique</td>' in (tmp_path / "region-84.html").read_text(encoding="utf-8")
    assert '<td class="statut">rupture de série</td>' in (tmp_path / "region-93.html").read_text(encoding="utf-8")


def test_no_csv_of_an_edition_holds_a_status_code(tmp_path):
    folder = editions.write_edition(tmp_path, "semestrielle-2024-S1-1", [status_table()], metadata={})
    written = sorted(folder.glob("*.csv"))
    assert [path.name for path in written] == ["dictionnaire.csv", "emploi_qpv_serie.csv"]
    for path in written:
        cells = {cell for row in _cells(path.read_bytes()) for cell in row}
        assert not cells & set(CODES), path.name
        text = path.read_text(encoding="utf-8-sig")
        assert "masked" not in text and "missing" not in text and "not_applicable" not in text, path.name
    dictionary = _cells((folder / "dictionnaire.csv").read_bytes())
    statuses = next(row for row in dictionary if row[1] == "statut")[-1]
    for word in [*WORDS.values(), "rupture de série"]:
        assert f"{word} : " in statuses


# --- labels of the codes --------------------------------------------------------------------------------------------


def test_level_and_breakdown_labels():
    assert [level_label(code) for code in ("france", "region", "departement", "qpv")] == [
        "France",
        "Région",
        "Département",
        "QPV",
    ]
    codes = ("total", "sexe=F", "sexe=H", "age=<26", "age=26-49", "age=50+")
    assert [breakdown_label(code) for code in codes] == [
        "Ensemble",
        "Femmes",
        "Hommes",
        "Moins de 26 ans",
        "26 à 49 ans",
        "50 ans ou plus",
    ]
    assert breakdown_label("anciennete=<12m") == "Ancienneté d'inscription : moins de 12 mois"
    assert breakdown_label("anciennete=1-2ans") == "Ancienneté d'inscription : 1 à 2 ans"
    assert breakdown_label("anciennete=24+m") == "Ancienneté d'inscription : 24 mois ou plus"
    with pytest.raises(ValueError, match="no French label"):
        breakdown_label("sexe=X")
    with pytest.raises(ValueError, match="no French label"):
        level_label("iris")


def _frame(spec, rows: int, **values) -> pd.DataFrame:
    """A frame with the columns of `spec` (label columns and PAQTE's unit left out: the table building adds them)."""
    added = {"libelle_niveau", "libelle_ventilation", "unite_statistique"}
    defaults = {"count": 1.0, "amount": 1.0, "share": 1.0, "rate": 1.0, "status": "ok"}
    frame = pd.DataFrame({name: [defaults.get(role, "x")] * rows for name, _, role, *_ in spec if name not in added})
    for name, column in values.items():
        frame[name] = column
    return frame


def test_semestrial_tables_have_label_columns_beside_their_codes():
    levels = ["france", "region", "departement", "qpv", "qpv", "qpv"]
    breakdowns = ["total", "sexe=F", "sexe=H", "age=<26", "age=26-49", "age=50+"]
    frame = _frame(semestrial.EMPLOI_COLUMNS, 6, niveau=levels, ventilation=breakdowns, semestre="2024-S1")
    serie = _frame(semestrial.SERIE_COLUMNS, 2, niveau=["france", "region"])
    codes = ["ENTREPRISES", "SENS_STAGES_3E", "SENS_ELEVES_3E", "ACHA_ENTREPRISES", "ACHA_QPV"]
    units = ["nombre", "nombre", "nombre", "nombre", "euros"]
    paqte = _frame(semestrial.PAQTE_COLUMNS, 5, code_indicateur=codes, unite=units)
    emploi, series, paqte_table = semestrial.tables(frame, serie, paqte)

    names = [column.name for column in emploi.columns]
    assert names.index("libelle_niveau") == names.index("niveau") + 1
    assert names.index("libelle_ventilation") == names.index("ventilation") + 1
    assert emploi.column("libelle_niveau").header == "Niveau" and emploi.column("niveau").header == "Code niveau"
    assert emploi.frame["libelle_niveau"].tolist() == ["France", "Région", "Département", "QPV", "QPV", "QPV"]
    assert emploi.frame["libelle_ventilation"].tolist() == [
        "Ensemble",
        "Femmes",
        "Hommes",
        "Moins de 26 ans",
        "26 à 49 ans",
        "50 ans ou plus",
    ]
    assert series.frame["libelle_niveau"].tolist() == ["France", "Région"]
    header = _cells(exports.csv_bytes(emploi))[0]
    assert header[header.index("Code niveau") + 1] == "Niveau"
    assert header[header.index("Code ventilation") + 1] == "Ventilation"
    # PAQTE: what each row counts
    assert paqte_table.frame["unite_statistique"].tolist() == [
        "structures",
        "places",
        "personnes",
        "structures",
        "euros",
    ]
    assert paqte_table.column("valeur").counts == PER_ROW_UNIT


def test_annual_specs_label_the_level_and_say_what_values_count():
    bilan = [name for name, *_ in annual.BILAN_COLUMNS]
    assert bilan.index("libelle_niveau") == bilan.index("niveau") + 1
    assert "unite_statistique" in bilan
    columns = {spec[0]: Column(*spec) for spec in annual.BILAN_COLUMNS}
    assert columns["valeur"].counts == PER_ROW_UNIT and columns["valeur_n1"].counts == PER_ROW_UNIT
    for spec in (annual.BILAN_COLUMNS, annual.MEASURE_INDICATOR_COLUMNS):
        text = " ".join(str(part) for item in spec for part in item)
        assert "masked" not in text and "missing" not in text and "not_applicable" not in text
    for spec in (annual.SUMMARY_COLUMNS, annual.COMPLETENESS_COLUMNS, semestrial.EMPLOI_COLUMNS):
        for column in (Column(*item) for item in spec):
            assert column.role != "count" or column.counts, column.name
    bilan_frame = _frame(
        annual.BILAN_COLUMNS, 2, niveau=["france", "region"], ventilation="total", unite_statistique="personnes"
    )
    table = table_from_spec("bilan_conventions", "Bilan", "", annual.BILAN_COLUMNS, labelled(bilan_frame))
    assert table.frame["libelle_niveau"].tolist() == ["France", "Région"]


# --- the licence ----------------------------------------------------------------------------------------------------


def test_the_licence_is_in_the_manifest_the_dictionary_and_the_report(tmp_path):
    assert LICENCE == {"name": LICENCE_NAME, "url": LICENCE_URL}

    def add_report(folder):
        report.render_report([status_table()], folder, edition_id="e-2", kind="semestrielle", period="2024-S1")

    folder = editions.write_edition(tmp_path, "e-2", [status_table()], metadata={}, extra=add_report)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["licence"] == {"name": LICENCE_NAME, "url": LICENCE_URL}
    dictionary = _cells((folder / "dictionnaire.csv").read_bytes())
    licence = next(row for row in dictionary if row[3] == "licence")
    assert LICENCE_NAME in licence[6] and LICENCE_URL in licence[6]
    for page in ("index.html", "region-84.html"):
        text = (folder / page).read_text(encoding="utf-8")
        footer = text.split("<footer>", 1)[1]
        assert f'<a href="{LICENCE_URL}" rel="license">{LICENCE_NAME}</a>' in footer
    parquet = json.loads(pq.read_schema(folder / "emploi_qpv_serie.parquet").metadata[b"observatoire_qpv"])
    assert parquet["licence"]["url"] == LICENCE_URL


# --- what a count column counts -------------------------------------------------------------------------------------


def test_count_columns_carry_their_unit_in_the_manifest_and_the_dictionary(tmp_path):
    folder = editions.write_edition(tmp_path, "e-3", [status_table()], metadata={})
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    columns = {column["name"]: column for column in manifest["tables"][0]["columns"]}
    assert columns["de_qpv"]["counts"] == "personnes" and columns["de_hors_qpv"]["counts"] == "personnes"
    assert columns["territoire"]["counts"] == ""
    assert manifest["statistical_secrecy"]["units"] == list(SECRET_UNITS) == ["personnes", "foyers"]
    assert manifest["statuses"]["masked"] == "secret statistique"
    dictionary = _cells((folder / "dictionnaire.csv").read_bytes())
    assert dictionary[0][5] == "Unité statistique"
    assert next(row for row in dictionary if row[1] == "de_qpv")[5] == "personnes"


def test_a_count_column_without_its_unit_is_refused():
    frame = pd.DataFrame({"code": ["a"], "n": [12]})
    with pytest.raises(ValueError, match="does not say what it counts"):
        Table("t", "T", "", (Column("code", "Code", "code"), Column("n", "N", "count", "nombre")), frame)
    with pytest.raises(ValueError, match="not one of"):
        Table("t", "T", "", (Column("code", "Code", "code"), Column("n", "N", "count", counts="gens")), frame)
    # a column holding several indicators needs the unit of each row
    per_row = (Column("code", "Code", "code"), Column("n", "Valeur", "rate", counts=PER_ROW_UNIT))
    with pytest.raises(ValueError, match="unite_statistique"):
        Table("t", "T", "", per_row, frame)
    with_units = (*per_row, Column("unite_statistique", "Unité statistique", "code"))
    Table("t", "T", "", with_units, frame.assign(unite_statistique=["personnes"]))
