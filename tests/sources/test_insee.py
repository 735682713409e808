"""INSEE's QPV population: the workbook below its title block and the CSV derivative, the figures, the gates, hostile
workbooks refused through etl/xlsx.py, and files through the pipeline on a real warehouse."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import sqlalchemy as sa

from etl.quality import gates
from etl.readers import FileShapeError
from etl.referentiels import periods
from etl.samples.generators import insee as generator
from etl.sources import insee
from tests.sources.inbox import ingest

TITLE_2018 = (
    "Population des quartiers prioritaires de la politique de la ville en 2018",
    "Géographie des quartiers prioritaires 2015",
    None,
    "Source : Insee, recensement de la population 2018.",
    None,
    "Note : population municipale.",
    None,
)


@pytest.fixture(scope="module")
def files(tmp_path_factory, territories) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("insee")
    paths = generator.generate(folder, territories["folder"], [2020], csv=True, broken=True)
    return {path.name: path for path in paths}


@pytest.fixture(scope="module")
def parameters(territories) -> dict[str, list[str]]:
    """What the warehouse would answer: the QPV of each geography and the years of core.period."""
    return {
        "qpv_2015": sorted(territories["2015"]["qpv"]["code_qp"]),
        "qpv_2024": sorted(territories["2024"]["qpv"]["code_qp"]),
        "years": [row["code"] for row in periods.rows() if row["kind"] == "year"],
    }


def _workbook(path: Path, title: tuple, header: list, rows: list[list], *, sheet: str = "Données") -> Path:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    for line in title:
        ws.append([line] if line else [])
    ws.append(header)
    for row in rows:
        ws.append(row)
    workbook.save(path)
    return path


def _refused(path: Path, **kwargs) -> FileShapeError:
    with pytest.raises(FileShapeError) as caught:
        insee.read_population(path, **kwargs)
    message = str(caught.value)
    assert message.startswith(f"{kwargs.get('name', path.name)}: ") and message.endswith(".") and "\n" not in message
    return caught.value


# --- reading -------------------------------------------------------------------------------------------------------


def test_the_header_is_found_below_the_title_block_and_line_no_is_the_sheet_row(files, territories):
    path = files["pop_qpv_2020.xlsx"]
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet["A1"].value.startswith("Population municipale") and sheet["A8"].value == "codeqpv"
    raw = insee.read_population(path)
    assert list(raw.columns) == ["line_no", "annee", *insee.COLUMNS]
    assert raw["line_no"].tolist() == list(range(9, 9 + len(territories["2024"]["qpv"])))
    assert (raw["annee"] == "2020").all()
    first = raw.iloc[0]
    assert first["codeqpv"] == sheet["A9"].value and first["popmuniqpv"] == str(sheet["E9"].value)
    assert first["partpop15_24"] == str(sheet["F9"].value)  # a float cell, as Python writes it
    assert first["codeuu"] == sheet["D9"].value  # codeuu2020 without its zoning year
    multi = raw.loc[raw["listedepcom"].str.contains(","), "listedepcom"]
    assert len(multi) > 10  # QPV over several communes: codes joined by commas, kept as written


def test_a_workbook_in_the_2018_layout_with_camel_case_names_and_blank_rows(tmp_path, territories):
    codes = sorted(territories["2015"]["qpv"]["code_qp"])[:4]
    rows = [[codes[0], "Les Tilleuls", "84", 3120], [None, None, None, None], [codes[1], "Le Centre", "84", 0]]
    rows += [[codes[2], "La Gare", "84", None], [codes[3], "Bellevue", "84", 1234.0]]
    path = _workbook(tmp_path / "pop_qpv_2018.xlsx", TITLE_2018, ["codeQPV", "libQPV", "codeReg", "popMuniQPV"], rows)
    raw = insee.read_population(path)
    assert raw["line_no"].tolist() == [9, 11, 12, 13]  # the blank row 10 is no record, but is counted
    assert raw["codeqpv"].tolist() == [codes[0], codes[1], codes[2], codes[3]]
    assert raw["popmuniqpv"].tolist() == ["3120", "0", "", "1234"]
    assert (raw["annee"] == "2018").all() and (raw["listedepcom"] == "").all()
    values = insee.normalise_population(raw)["values"]
    assert (values["geography"] == "2015").all() and (values["period_code"] == "2018").all()
    assert values["status"].tolist() == ["ok", "missing", "missing", "ok"]
    assert values["value"].tolist()[0] == 3120.0 and np.isnan(values["value"].tolist()[1:3]).all()
    assert insee.population_partition({"values": values}) == "qpv2015/2018"


def test_the_csv_derivative_is_read_as_text_with_its_decimal_commas(files):
    raw = insee.read_population(files["POP_QPV_2020.csv"])
    assert raw["line_no"].tolist()[:3] == [2, 3, 4] and (raw["annee"] == "2020").all()
    assert raw["partpop15_24"].str.fullmatch(r"[0-9]+,[0-9]|").all()
    workbook = insee.read_population(files["pop_qpv_2020.xlsx"])
    assert raw["codeqpv"].tolist() == workbook["codeqpv"].tolist()
    assert raw["popmuniqpv"].tolist() == workbook["popmuniqpv"].tolist()
    csv_values = insee.normalise_population(raw)["values"]
    xlsx_values = insee.normalise_population(workbook)["values"]
    assert csv_values.drop(columns="line_no").equals(xlsx_values.drop(columns="line_no"))


def test_the_reference_year_comes_from_the_name_sent(files, tmp_path):
    assert insee.reference_year("pop_qpv_2020.xlsx") == "2020"
    assert insee.reference_year("POP_QPV_2021_rectificatif.csv") == "2021"
    assert insee.reference_year("pop_qpv_20201.xlsx") == insee.reference_year("population.xlsx") == ""
    archive = tmp_path / "0a1b2c3d.csv"
    archive.write_bytes(files["POP_QPV_2020.csv"].read_bytes())
    raw = insee.read_population(archive, name="POP_QPV_2019.csv")
    assert (raw["annee"] == "2019").all()
    nameless = insee.read_population(archive)
    assert (nameless["annee"] == "").all()
    result = gates.run_suite("insee_population.file", nameless, gate="file")
    assert [o.column for o in result.blocking_failures] == ["annee"]


def test_a_missing_header_or_column_and_a_stray_value_are_file_shape_errors(tmp_path):
    no_header = _workbook(tmp_path / "pop_qpv_2020.xlsx", TITLE_2018, ["code", "population"], [["QN07501M", 1]])
    error = _refused(no_header)
    assert error.rule == "missing_columns" and "sheet 'Données'" in str(error) and "codeQPV" in str(error)
    no_population = _workbook(tmp_path / "pop_qpv_2021.xlsx", TITLE_2018, ["codeqpv", "libqpv"], [["QN07501M", "A"]])
    error = _refused(no_population)
    assert (error.rule, error.line, error.column) == ("missing_columns", 8, "popmuniqpv")
    stray = _workbook(tmp_path / "pop_qpv_2022.xlsx", (), ["codeqpv", "popmuniqpv"], [["QN07501M", 10, None, "x"]])
    error = _refused(stray)
    assert (error.rule, error.line, error.column) == ("field_count", 2, "D") and "line 2, column D" in str(error)
    twice = tmp_path / "POP_QPV_2020.csv"
    twice.write_text("codeqpv;popmuniqpv;codeQPV\nQN07501M;10;QN07501M\n", encoding="utf-8")
    assert _refused(twice).rule == "duplicate_columns"
    short = tmp_path / "POP_QPV_2023.csv"
    short.write_text("codeqpv;libqpv\nQN07501M;A\n", encoding="utf-8")
    error = _refused(short, name="POP_QPV_2023 (envoi).csv")
    assert (error.rule, error.line) == ("missing_columns", 1)


def test_populations_zero_empty_odd_and_the_15_64_figures(tmp_path):
    lines = [
        "codeqpv;popmuniqpv;partPop15_64;pop_15_64",
        "QN07501M;4 210;65,5;",
        "QN07502M;0;60;",
        "QN07503M;;61,2;",
        "QN07504M;12.5;63;",
        "QN07505M;2000;;",
        "QN07506M;1000;140;",
    ]
    path = tmp_path / "POP_QPV_2021.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    values = insee.normalise_population(insee.read_population(path))["values"]
    total = values[values["breakdown"] == "total"]
    assert total["status"].tolist() == ["ok", "missing", "missing", "invalid", "ok", "ok"]
    assert total["value"].tolist()[0] == 4210.0 and total["value"].isna().tolist()[1:4] == [True, True, True]
    aged = values[values["breakdown"] == insee.AGE_15_64]
    assert aged["line_no"].tolist() == [2, 3, 4, 5, 6, 7]
    assert aged["status"].tolist() == ["ok", "missing", "missing", "invalid", "missing", "invalid"]
    assert aged["value"].tolist()[0] == round(4210 * 0.655)
    # in file order, each line's total first
    assert values["line_no"].tolist()[:4] == [2, 2, 3, 3]

    counted = tmp_path / "POP_QPV_2022.csv"
    counted.write_text("codeqpv;popmuniqpv;pop15_64\nQN07501M;4210;2750\nQN07502M;3000;\n", encoding="utf-8")
    aged = insee.normalise_population(insee.read_population(counted))["values"].query("breakdown == 'age=15-64'")
    assert aged["value"].tolist()[0] == 2750.0 and aged["status"].tolist() == ["ok", "missing"]


def test_without_a_15_64_column_no_15_64_figure_is_invented(files):
    values = insee.normalise_population(insee.read_population(files["POP_QPV_2020.csv"]))["values"]
    assert set(values["breakdown"]) == {"total"}  # partPop15_24 alone says nothing of the 15-64 year-olds


# --- hostile workbooks, refused through etl/xlsx.py ----------------------------------------------------------------


def test_a_zip_bomb_is_refused_before_anything_is_decompressed(tmp_path, files):
    source = files["pop_qpv_2020.xlsx"].read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in original.namelist():
            target.writestr(name, original.read(name))
        target.writestr("xl/media/zeros.bin", bytes(300 << 20))
    path = tmp_path / "pop_qpv_2020.xlsx"
    path.write_bytes(out.getvalue())
    assert path.stat().st_size < 1 << 20
    error = _refused(path)
    assert error.rule == "uncompressed_size" and "zip bomb" in str(error)


def test_an_oversized_sheet_is_refused_before_openpyxl_builds_it(tmp_path, monkeypatch):
    path = _workbook(tmp_path / "pop_qpv_2020.xlsx", (), ["codeqpv", "popmuniqpv"], [["QN07501M", 10]])
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        "</sheetData>", '</sheetData><mergeCells count="1"><mergeCell ref="A1:GR1000000"/></mergeCells>'
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    error = _refused(path)
    assert error.rule == "row_beyond" and "1,000,000" in str(error)


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"codeqpv;popmuniqpv\nQN07501M;10\n", "text"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "xls"),
        (b"", "empty"),
    ],
)
def test_a_file_that_is_no_workbook_is_refused(tmp_path, content, rule):
    path = tmp_path / "pop_qpv_2020.xlsx"
    path.write_bytes(content)
    assert _refused(path).rule == rule


# --- gates ---------------------------------------------------------------------------------------------------------


def _gates(path: Path, parameters):
    raw = insee.read_population(path)
    staged = insee.normalise_population(raw)
    return (
        gates.run_suite("insee_population.file", raw, gate="file"),
        gates.run_suite("insee_population.rows", staged["values"], gate="rows", parameters=parameters),
        raw,
    )


@pytest.mark.parametrize("name", ["pop_qpv_2020.xlsx", "POP_QPV_2020.csv"])
def test_generated_files_pass_their_gates(files, parameters, name):
    for result in _gates(files[name], parameters)[:2]:
        assert result.passed and result.warnings == [], [o.describe() for o in result.outcomes if not o.success]


def test_an_unknown_qpv_code_fails_the_rows_gate_with_its_line(files, parameters):
    file_result, rows_result, raw = _gates(files["pop_qpv_2020_broken.xlsx"], parameters)
    assert file_result.passed
    unknown = raw.loc[~raw["codeqpv"].isin(parameters["qpv_2024"]), ["line_no", "codeqpv"]]
    assert len(unknown) == 1
    [failure] = rows_result.blocking_failures
    assert failure.column == "territory_code" and failure.unexpected_count == 1
    assert failure.sample == [{"line_no": int(unknown["line_no"].iloc[0]), "value": unknown["codeqpv"].iloc[0]}]


def test_a_2015_code_in_a_2024_file_and_a_bad_year_fail_the_rows_gate(files, parameters):
    values = insee.normalise_population(insee.read_population(files["POP_QPV_2020.csv"]))["values"].copy()
    values.loc[3, "territory_code"] = parameters["qpv_2015"][0]  # a real QPV, of the other geography
    values.loc[5, "period_code"] = "2013"
    values.loc[7, "value"] = 250_000.0
    result = gates.run_suite("insee_population.rows", values, gate="rows", parameters=parameters)
    failures = {(o.column, o.expectation_type) for o in result.blocking_failures}
    assert failures == {
        ("territory_code", "expect_column_values_to_be_in_referential"),
        ("period_code", "expect_column_values_to_be_in_referential"),
        ("value", "expect_column_values_to_be_between"),
    }


# --- through the pipeline, on a real warehouse ---------------------------------------------------------------------


@pytest.mark.warehouse
def test_files_through_the_pipeline_load_quarantine_and_replace(reference_warehouse, territories, files, tmp_path):
    wh = reference_warehouse
    folder = territories["folder"]
    assert [b.status for b in ingest(wh, "anct_qpv", folder / "qpv_2015.csv", folder / "qpv_2024.csv").batches] == [
        "loaded",
        "loaded",
    ]
    report = ingest(wh, "insee_population", files["pop_qpv_2020.xlsx"], files["pop_qpv_2020_broken.xlsx"])
    outcomes = {b.original_name: b for b in report.batches}
    assert outcomes["pop_qpv_2020.xlsx"].status == "loaded"
    assert outcomes["pop_qpv_2020.xlsx"].partition == "qpv2024/2020"
    broken = outcomes["pop_qpv_2020_broken.xlsx"]
    assert broken.status == "quarantined"
    raw = insee.read_population(files["pop_qpv_2020_broken.xlsx"])
    line, code = raw.loc[~raw["codeqpv"].isin(territories["2024"]["qpv"]["code_qp"]), ["line_no", "codeqpv"]].iloc[0]
    text = broken.report.read_text(encoding="utf-8")
    assert "Quarantined file: pop_qpv_2020_broken.xlsx" in text
    assert "column territory_code" in text and f"line {line} ('{code}')" in text

    with wh.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT territory_code, value, status, line_no FROM core.indicator_value "
                "WHERE indicator_code = 'INSEE_POP_QPV' AND period_code = '2020' AND breakdown = 'total'"
            )
        ).all()
        raw_rows = conn.execute(sa.text("SELECT count(*), min(line_no), min(annee) FROM raw.insee_population")).one()
    assert len(rows) == len(territories["2024"]["qpv"])
    assert tuple(raw_rows) == (len(rows), 9, "2020")
    missing = [r for r in rows if r.status == "missing"]
    assert missing and all(r.value is None and r.territory_code.startswith("QN976") for r in missing)
    assert all(1000 <= r.value <= 40_000 for r in rows if r.status == "ok")

    # the CSV derivative of the same year and geography replaces the workbook's figures
    corrected = tmp_path / "POP_QPV_2020.csv"
    corrected.write_bytes(files["POP_QPV_2020.csv"].read_bytes())
    [batch] = ingest(wh, "insee_population", corrected).batches
    assert (batch.status, batch.partition) == ("loaded", "qpv2024/2020")
    with wh.engine.connect() as conn:
        statuses = dict(
            conn.execute(
                sa.text("SELECT original_name, status FROM audit.batch WHERE source_id = 'insee_population'")
            ).all()
        )
        lines = conn.execute(
            sa.text("SELECT DISTINCT min(line_no) FROM core.indicator_value WHERE indicator_code = 'INSEE_POP_QPV'")
        ).scalar()
    assert statuses == {
        "pop_qpv_2020.xlsx": "superseded",
        "pop_qpv_2020_broken.xlsx": "quarantined",
        "POP_QPV_2020.csv": "loaded",
    }
    assert lines == 2


@pytest.mark.warehouse
def test_a_workbook_written_by_hand_in_the_2018_layout_goes_through_the_pipeline(
    reference_warehouse, territories, tmp_path
):
    """REAL-FORMATS §6: `pop_qpv_2018.xlsx`, first sheet, 7 title rows skipped, camel-case `codeQPV`, `codeReg`."""
    wh = reference_warehouse
    ingest(wh, "anct_qpv", territories["folder"] / "qpv_2015.csv")  # the referential (already there when run after)
    codes = sorted(territories["2015"]["qpv"]["code_qp"])
    figures = {code: 1500 + 37 * index for index, code in enumerate(codes)}
    rows = [[code, f"Quartier {index}", "84", figures[code]] for index, code in enumerate(codes)]
    path = _workbook(tmp_path / "pop_qpv_2018.xlsx", TITLE_2018, ["codeQPV", "libQPV", "codeReg", "popMuniQPV"], rows)
    [batch] = ingest(wh, "insee_population", path).batches
    assert (batch.status, batch.layout, batch.partition) == ("loaded", "insee_pop_qpv", "qpv2015/2018"), batch.reason
    with wh.engine.connect() as conn:
        got = dict(
            conn.execute(
                sa.text(
                    "SELECT territory_code, value FROM core.indicator_value WHERE indicator_code = 'INSEE_POP_QPV' "
                    "AND period_code = '2018' AND breakdown = 'total' AND status = 'ok'"
                )
            ).all()
        )
    assert got == figures
