"""Tests of the INSEE population sample generator: determinism, INSEE's layout (title block, header below it), the
populations' sizes, Mayotte's empty cells, the CSV derivative and the broken copy (read with openpyxl and csv, not with
the platform's reader)."""

from __future__ import annotations

import csv
import io
import statistics

import openpyxl
import pytest

from etl.samples.generators import insee as generator


@pytest.fixture(scope="module")
def files(tmp_path_factory, territories_dir):
    folder = tmp_path_factory.mktemp("insee-gen")
    return {p.name: p for p in generator.generate(folder, territories_dir, [2020, 2021], csv=True, broken=True)}


def _sheet_rows(path):
    return list(openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True))


def test_same_inputs_same_bytes(files, territories_dir, tmp_path):
    again = {p.name: p for p in generator.generate(tmp_path, territories_dir, [2020, 2021], csv=True, broken=True)}
    assert sorted(again) == sorted(files) == [
        "POP_QPV_2020.csv", "POP_QPV_2021.csv", "pop_qpv_2020.xlsx", "pop_qpv_2021.xlsx", "pop_qpv_2021_broken.xlsx",
    ]  # fmt: skip
    assert all(again[name].read_bytes() == files[name].read_bytes() for name in files)


def test_the_workbook_has_a_title_block_of_seven_rows_then_the_header(files):
    rows = _sheet_rows(files["pop_qpv_2020.xlsx"])
    assert "2020" in rows[0][0] and rows[2][0].startswith("Source : Insee") and rows[3][0] is None
    assert list(rows[7]) == list(generator.HEADER)
    assert all(row[0].startswith("QN") for row in rows[8:])


def test_populations_are_plausible_and_mayotte_has_none(files, territories_dir):
    rows = _sheet_rows(files["pop_qpv_2020.xlsx"])[8:]
    populations = [row[4] for row in rows if row[4] is not None]
    assert all(1000 <= value <= 40_000 and isinstance(value, int) for value in populations)
    assert 3000 < statistics.median(populations) < 6000
    assert sum(2000 <= value <= 10_000 for value in populations) > 0.6 * len(populations)
    empty = [row[0] for row in rows if row[4] is None]
    assert empty and all(code.startswith("QN976") for code in empty)
    later = {row[0]: row[4] for row in _sheet_rows(files["pop_qpv_2021.xlsx"])[8:]}
    assert all(abs(later[row[0]] - row[4]) <= 0.04 * row[4] for row in rows if row[4] is not None)


def test_the_csv_derivative_has_the_same_figures_with_decimal_commas(files):
    text = files["POP_QPV_2020.csv"].read_text(encoding="utf-8")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert records[0] == list(generator.HEADER)
    sheet = _sheet_rows(files["pop_qpv_2020.xlsx"])[8:]
    assert [r[4] for r in records[1:]] == ["" if row[4] is None else str(row[4]) for row in sheet]
    assert all("," in r[5] for r in records[1:] if r[5])


def test_the_broken_copy_differs_by_one_unknown_code(files):
    good, broken = _sheet_rows(files["pop_qpv_2021.xlsx"]), _sheet_rows(files["pop_qpv_2021_broken.xlsx"])
    changed = [(a, b) for a, b in zip(good, broken, strict=True) if a != b]
    assert len(changed) == 1 and changed[0][0][1:] == changed[0][1][1:]
    assert changed[0][1][0] not in {row[0] for row in good[8:]}
