"""CAF readers, normalisers and gates: BOM/CRLF, thousands spaces, Windows-1252, the long and wide frames, suites."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.quality import gates
from etl.readers import FileShapeError
from etl.referentiels import periods
from etl.samples.generators import caf as generator
from etl.sources import caf
from etl.sources.values import VALUE_COLUMNS

YEARS = [2023, 2024]
QUARTERS = ["2023-Q4", "2024-Q1"]
ALLOCATAIRES_HEADER = ";".join(caf.ALLOCATAIRES_COLUMNS)
CRECHES_HEADER = ";".join(caf.CRECHES_COLUMNS)
KEY = ["indicator_code", "territory_level", "territory_code", "period_code", "breakdown"]
GOOD_COUNTS = ["1 245", "2 870", "310", "95", "820", "600", "80", "260", "305"]


@pytest.fixture(scope="module")
def files(tmp_path_factory, territories) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("caf")
    paths = generator.generate_allocataires(folder, territories["folder"], YEARS, broken=True, revised=[2024])
    paths += generator.generate_creches(folder, territories["folder"], QUARTERS, broken=True)
    return {path.name: path for path in paths}


@pytest.fixture(scope="module")
def parameters(territories) -> dict[str, list[str]]:
    """What the warehouse would answer: the QPV codes of both geographies, the years and quarters of core.period."""
    codes = set(territories["2015"]["qpv"]["code_qp"]) | set(territories["2024"]["qpv"]["code_qp"])
    return {
        "qpv_codes": sorted(codes),
        "years": [row["code"] for row in periods.rows() if row["kind"] == "year"],
        "quarters": [row["code"] for row in periods.rows() if row["kind"] == "quarter"],
    }


def _allocataires(path: Path, lines: list[str]) -> Path:
    """A hand-made allocataire file in the CAF's shape: UTF-8 with a BOM, CRLF."""
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join([ALLOCATAIRES_HEADER, *lines]) + "\r\n").encode("utf-8"))
    return path


def _creches(path: Path, lines: list[str], encoding: str = "cp1252") -> Path:
    path.write_bytes(("\r\n".join([CRECHES_HEADER, *lines]) + "\r\n").encode(encoding))
    return path


def _line(date: str, code: str, label: str, counts: list[str]) -> str:
    return ";".join([date, code, label, *counts])


# --- reading -------------------------------------------------------------------------------------------------------


def test_the_bom_and_crlf_do_not_reach_the_cells(files):
    path = files["CAF_QPV_2024.csv"]
    assert path.read_bytes().startswith(b"\xef\xbb\xbfdtreffile;") and b"\r\n" in path.read_bytes()
    raw = caf.read_allocataires(path)
    assert list(raw.columns) == ["line_no", *caf.ALLOCATAIRES_COLUMNS]
    assert raw["line_no"].tolist() == list(range(2, len(raw) + 2))
    assert not raw["nb_alloc_monoparents"].str.contains("\r").any()
    assert (raw["dtreffile"] == "31/12/2024").all()
    spaced = raw["nb_personnes_couvertes"].str.fullmatch(r"[0-9]{1,3}(?: [0-9]{3})+")
    assert spaced.sum() > 500  # people covered: thousands are common


def test_thousands_are_read_as_numbers(tmp_path):
    path = _allocataires(tmp_path / "CAF_QPV_2024.csv", [_line("31/12/2024", "QN07501M", "Les Côteaux", GOOD_COUNTS)])
    raw = caf.read_allocataires(path)
    assert raw.loc[0, "libelle_qp"] == "Les Côteaux" and raw.loc[0, "nb_allocataires"] == "1 245"
    values = caf.normalise_allocataires(raw)["values"]
    assert values["value"].tolist() == [1245.0, 2870.0, 310.0, 95.0, 820.0, 600.0, 80.0, 260.0, 305.0]
    assert (values["status"] == "ok").all()


def test_creche_files_are_windows_1252_with_their_accents(files, territories):
    labels = dict(zip(territories["2015"]["qpv"]["code_qp"], territories["2015"]["qpv"]["lib_qp"], strict=True))
    labels |= dict(zip(territories["2024"]["qpv"]["code_qp"], territories["2024"]["qpv"]["lib_qp"], strict=True))
    raw = caf.read_creches(files["CAF_EAJE_QPV_2024T1.csv"])
    assert raw.attrs["encoding"] == "cp1252"
    assert list(raw.columns) == ["line_no", *caf.CRECHES_COLUMNS]
    accented = raw[raw["libelle_qp"].str.contains("[éèêôÉ]")]
    assert len(accented) > 50 and (accented["libelle_qp"] == accented["code_qp"].map(labels)).all()


def test_a_hand_made_windows_1252_creche_file(tmp_path):
    path = _creches(
        tmp_path / "CAF_EAJE_QPV_2024T1.csv",
        ["2024-T1;QN07501M;Les Côteaux;0;0;45", "2024-T1;QN07502M;Quartier de l'Église;12;0;60"],
    )
    raw = caf.read_creches(path)
    assert raw.attrs["encoding"] == "cp1252"
    assert raw["libelle_qp"].tolist() == ["Les Côteaux", "Quartier de l'Église"]
    assert raw["places_eaje"].tolist() == ["45", "60"]  # no \r left by the CRLF


def test_a_missing_column_is_a_file_shape_error(tmp_path):
    path = tmp_path / "CAF_QPV_2024.csv"
    path.write_bytes(b"\xef\xbb\xbfdtreffile;code_qp;nb_allocataires\r\n31/12/2024;QN07501M;1 245\r\n")
    with pytest.raises(FileShapeError) as error:
        caf.read_allocataires(path)
    assert error.value.rule == "missing_columns" and "nb_alloc_rsa" in error.value.column
    creches = tmp_path / "CAF_EAJE_QPV_2024T1.csv"
    creches.write_bytes(b"trimestre;code_qp;libelle_qp;places_creees\r\n2024-T1;QN07501M;X;0\r\n")
    with pytest.raises(FileShapeError) as error:
        caf.read_creches(creches)
    assert error.value.rule == "missing_columns" and "places_eaje" in error.value.column


# --- normalising ---------------------------------------------------------------------------------------------------


def test_the_long_frame_has_one_row_per_figure(files, territories, in_force_2024):
    raw = caf.read_allocataires(files["CAF_QPV_2024.csv"])
    values = caf.normalise_allocataires(raw)["values"]
    assert list(values.columns) == list(VALUE_COLUMNS)
    assert values["line_no"].dtype == "int64" and values["value"].dtype == "float64"
    for name in ("indicator_code", "territory_level", "territory_code", "period_code", "breakdown", "status"):
        assert pd.api.types.is_string_dtype(values[name]), name
    from etl.samples.generators.territories import read_veille

    # some QPV in veille active keep a line under their 2015 code after they left (the overseas ones are in force)
    veille = read_veille(territories["folder"])
    followed = (raw["code_qp"].isin(veille) & ~raw["code_qp"].str.startswith("QP97")).sum()
    assert followed > 0 and len(raw) == in_force_2024 + followed and len(values) == 9 * len(raw)
    assert set(values["indicator_code"]) == set(caf.ALLOCATAIRES_INDICATORS)
    assert set(values["breakdown"]) == set(caf.ALLOCATAIRES_BREAKDOWNS)
    assert set(values["territory_level"]) == {"qpv"} and set(values["period_code"]) == {"2024"}
    assert (values["status"] == "ok").all() and values["territory_code"].nunique() == len(raw)
    by_figure = values.groupby(["indicator_code", "breakdown"]).size()
    assert (by_figure == len(raw)).all() and len(by_figure) == 9
    first = values.head(9)  # file order: the 9 figures of a line follow each other, in header order
    assert (first["line_no"] == 2).all()
    expected = [(indicator, breakdown) for indicator, breakdown, _ in caf.ALLOCATAIRES_COUNTS.values()]
    assert list(zip(first["indicator_code"], first["breakdown"], strict=True)) == expected
    cells = raw.loc[0, list(caf.ALLOCATAIRES_COUNT_COLUMNS)].str.replace(" ", "")
    assert first["value"].tolist() == cells.astype(float).tolist()


def test_the_foyers_frame_is_one_typed_row_per_line(files):
    raw = caf.read_allocataires(files["CAF_QPV_2023.csv"])
    foyers = caf.normalise_allocataires(raw)["foyers"]
    assert list(foyers.columns) == list(caf.FOYERS_COLUMNS) == [
        "line_no", "annee", "code_qp", "allocataires", "personnes_couvertes", "rsa", "aah", "logement", "isoles",
        "couples_sans_enfant", "couples_avec_enfants", "monoparents", "ecart_composition",
    ]  # fmt: skip
    assert foyers["line_no"].dtype == "int64" and foyers["line_no"].tolist() == raw["line_no"].tolist()
    assert pd.api.types.is_string_dtype(foyers["annee"]) and pd.api.types.is_string_dtype(foyers["code_qp"])
    for name in (*caf.FOYERS_COUNT_COLUMNS, "ecart_composition"):
        assert foyers[name].dtype == "float64", name
    assert set(foyers["annee"]) == {"2023"} and foyers["code_qp"].tolist() == raw["code_qp"].tolist()
    composition = foyers[["isoles", "couples_sans_enfant", "couples_avec_enfants", "monoparents"]].sum(axis=1)
    assert np.array_equal(foyers["ecart_composition"].to_numpy(), (composition - foyers["allocataires"]).to_numpy())
    assert set(foyers["ecart_composition"]) <= {-10.0, -5.0, 0.0, 5.0, 10.0}
    assert (foyers["ecart_composition"] != 0).mean() > 0.2  # rounding each count on its own leaves gaps


def test_odd_cells_are_kept_for_the_gates(tmp_path):
    odd = ["1 245", "n.d.", "12.5", "-5", "820", "", "80", "260", "1245"]
    path = _allocataires(
        tmp_path / "CAF_QPV_2024.csv",
        [
            _line("31/12/2024", "QN07501M", "Les Côteaux", GOOD_COUNTS),
            _line("2024", " QN07502M ", "Le Parc", odd),
            _line("30/06/2024", "QN07503M", "Les Tours", GOOD_COUNTS),
        ],
    )
    staged = caf.normalise_allocataires(caf.read_allocataires(path))
    values, foyers = staged["values"], staged["foyers"]
    assert values.groupby("line_no")["period_code"].first().tolist() == ["2024", "2024", "30/06/2024"]
    assert foyers["annee"].tolist() == ["2024", "2024", "30/06/2024"]
    assert foyers["code_qp"].tolist() == ["QN07501M", "QN07502M", "QN07503M"]
    line = values[values["line_no"] == 3]
    assert line["status"].tolist() == ["ok", "invalid", "invalid", "invalid", "ok", "invalid", "ok", "ok", "ok"]
    assert line["value"].isna().tolist() == [False, True, True, True, False, True, False, False, False]
    assert line["value"].iloc[8] == 1245.0  # a number without its thousands space is still a number
    row = foyers[foyers["line_no"] == 3].iloc[0]
    assert row["allocataires"] == 1245.0 and np.isnan(row["personnes_couvertes"]) and np.isnan(row["isoles"])
    assert np.isnan(row["ecart_composition"])  # a part that is not a count: no gap
    assert foyers.loc[0, "ecart_composition"] == 600 + 80 + 260 + 305 - 1245


def test_the_partition_is_the_year(files):
    for name, year in (
        ("CAF_QPV_2023.csv", "2023"),
        ("CAF_QPV_2024.csv", "2024"),
        ("CAF_QPV_2024_rectificatif.csv", "2024"),
    ):
        assert caf.allocataires_partition(caf.normalise_allocataires(caf.read_allocataires(files[name]))) == year


def test_creches_are_three_figures_per_qpv(files, territories, in_force_2024):
    raw = caf.read_creches(files["CAF_EAJE_QPV_2024T1.csv"])
    staged = caf.normalise_creches(raw)
    assert list(staged) == ["values"]
    values = staged["values"]
    assert list(values.columns) == list(VALUE_COLUMNS) and values["value"].dtype == "float64"
    assert len(raw) == in_force_2024 and len(values) == 3 * len(raw)
    first = values.head(3)
    assert list(zip(first["indicator_code"], first["breakdown"], strict=True)) == [
        ("IND16", "type=creation"),
        ("IND16", "type=renovation"),
        ("CAF_PLACES_EAJE", "total"),
    ]
    assert first["value"].tolist() == raw.loc[0, list(caf.CRECHES_COUNT_COLUMNS)].astype(float).tolist()
    assert set(values["period_code"]) == {"2024-Q1"} and set(values["territory_level"]) == {"qpv"}
    assert (values["status"] == "ok").all()
    assert caf.creches_partition(staged) == "2024-Q1"
    assert caf.creches_partition(caf.normalise_creches(caf.read_creches(files["CAF_EAJE_QPV_2023T4.csv"]))) == "2023-Q4"


def test_creche_cells_that_are_not_counts(tmp_path):
    path = _creches(
        tmp_path / "CAF_EAJE_QPV_2024T1.csv",
        ["2024-T1;QN07501M;Les Côteaux;-5;0;45", "2024-Q1;QN07502M;Le Parc;0;n.d.;1 200", " 2024-T4 ;QN07503M;X;0;0;0"],
    )
    values = caf.normalise_creches(caf.read_creches(path))["values"]
    assert values["period_code"].tolist() == ["2024-Q1"] * 3 + ["2024-Q1"] * 3 + ["2024-Q4"] * 3
    assert values["status"].tolist() == ["invalid", "ok", "ok", "ok", "invalid", "invalid", "ok", "ok", "ok"]
    assert values["value"].iloc[[1, 2, 3, 8]].tolist() == [0.0, 45.0, 0.0, 0.0]
    odd = _creches(tmp_path / "odd.csv", ["T1 2024;QN07501M;X;0;0;45"])
    assert set(caf.normalise_creches(caf.read_creches(odd))["values"]["period_code"]) == {"T1 2024"}


# --- gates ---------------------------------------------------------------------------------------------------------


def _run_allocataires(path: Path, parameters) -> tuple[gates.GateResult, gates.GateResult, gates.GateResult]:
    raw = caf.read_allocataires(path)
    staged = caf.normalise_allocataires(raw)
    return (
        gates.run_suite("caf_allocataires.file", raw, gate="file"),
        gates.run_suite("caf_allocataires.rows", staged["values"], gate="rows", parameters=parameters),
        gates.run_suite("caf_foyers.rows", staged["foyers"], gate="rows", parameters=parameters),
    )


def _run_creches(path: Path, parameters) -> tuple[gates.GateResult, gates.GateResult]:
    raw = caf.read_creches(path)
    return (
        gates.run_suite("caf_creches.file", raw, gate="file"),
        gates.run_suite("caf_creches.rows", caf.normalise_creches(raw)["values"], gate="rows", parameters=parameters),
    )


def test_generated_files_pass_their_gates(files, parameters):
    # one file per geography: 2015 QPV (2023), 2024 transition (the 2024 rectificatif, same QPV as its original)
    for name in ("CAF_QPV_2023.csv", "CAF_QPV_2024_rectificatif.csv"):
        for result in _run_allocataires(files[name], parameters):
            assert result.passed and result.warnings == [], [o.describe() for o in result.outcomes if not o.success]
    for name in ("CAF_EAJE_QPV_2024T1.csv",):
        for result in _run_creches(files[name], parameters):
            assert result.passed and result.warnings == [], [o.describe() for o in result.outcomes if not o.success]


def test_the_broken_allocataire_file_is_blocked_with_its_columns_and_lines(files, parameters):
    path = files["CAF_QPV_2024_broken.csv"]
    raw = caf.read_allocataires(path)
    unknown = raw.loc[raw["nb_alloc_aah"] == "n.d.", "line_no"].tolist()
    foyers = caf.normalise_allocataires(raw)["foyers"]
    off = foyers.loc[foyers["ecart_composition"].abs() > 10, "line_no"].tolist()
    above = foyers.loc[foyers["rsa"] > foyers["allocataires"], "line_no"].tolist()
    assert len(unknown) == len(off) == len(above) == 1 and len({*unknown, *off, *above}) == 3

    file_result, values_result, foyers_result = _run_allocataires(path, parameters)
    [failure] = file_result.blocking_failures
    assert failure.column == "nb_alloc_aah" and failure.unexpected_count == 1
    assert failure.sample == [{"line_no": unknown[0], "value": "n.d."}]
    assert file_result.warnings == []

    [status] = values_result.blocking_failures
    assert status.column == "status" and status.sample == [{"line_no": unknown[0], "value": "invalid"}]

    failures = {(o.expectation_type, o.column or o.kwargs["column_B"]): o for o in foyers_result.blocking_failures}
    assert set(failures) == {
        ("expect_column_values_to_be_between", "ecart_composition"),
        ("expect_column_pair_values_a_to_be_greater_than_b", "rsa"),
    }
    assert [s["line_no"] for s in failures["expect_column_values_to_be_between", "ecart_composition"].sample] == off
    pair = failures["expect_column_pair_values_a_to_be_greater_than_b", "rsa"]
    assert pair.kwargs["column_A"] == "allocataires" and [s["line_no"] for s in pair.sample] == above


def test_a_count_off_the_rounding_rule_is_a_warning_only(tmp_path, parameters):
    counts = ["1 247", "2 870", "310", "95", "820", "600", "80", "260", "305"]
    path = _allocataires(tmp_path / "CAF_QPV_2024.csv", [_line("31/12/2024", "QN00101N", "La Plaine", counts)])
    file_result, values_result, foyers_result = _run_allocataires(path, parameters)
    assert file_result.passed and values_result.passed and foyers_result.passed
    [warning] = file_result.warnings
    assert warning.column == "nb_allocataires" and warning.sample == [{"line_no": 2, "value": "1 247"}]


def test_the_gates_check_periods_codes_and_the_people_covered(tmp_path, parameters):
    fewer_people = ["1 245", "1 240", "310", "95", "820", "600", "80", "260", "305"]
    path = _allocataires(
        tmp_path / "CAF_QPV_2024.csv",
        [
            _line("31/12/2024", "QN00101N", "La Plaine", GOOD_COUNTS),
            _line("31/12/2024", "QN00101N", "La Plaine", GOOD_COUNTS),  # the same QPV twice
            _line("31/12/2024", "QN00102N", "Le Pont", fewer_people),
            _line("31/12/24", "QN00103I", "Le Pont", GOOD_COUNTS),
            _line("31/12/2024", "QN999", "Nulle part", GOOD_COUNTS),
        ],
    )
    file_result, values_result, foyers_result = _run_allocataires(path, parameters)
    assert {o.column for o in file_result.blocking_failures} == {"dtreffile", "code_qp"}
    failures = {o.column: o for o in values_result.blocking_failures}
    assert set(failures) == {"period_code", "territory_code", ",".join(KEY)}
    assert {s["line_no"] for s in failures["period_code"].sample} == {5}
    assert {s["line_no"] for s in failures[",".join(KEY)].sample} == {2, 3}
    assert {s["line_no"] for s in failures["territory_code"].sample} == {6}
    [pair] = foyers_result.blocking_failures
    assert pair.kwargs["column_A"] == "personnes_couvertes" and [s["line_no"] for s in pair.sample] == [4]


def test_the_broken_creche_file_is_blocked_with_its_columns_and_lines(files, parameters):
    path = files["CAF_EAJE_QPV_2024T1_broken.csv"]
    raw = caf.read_creches(path)
    negative = raw.loc[raw["places_renovees"] == "-5", "line_no"].tolist()
    unknown = raw.loc[~raw["code_qp"].isin(parameters["qpv_codes"]), "line_no"].tolist()
    assert len(negative) == len(unknown) == 1 and negative != unknown

    file_result, rows_result = _run_creches(path, parameters)
    [failure] = file_result.blocking_failures
    assert failure.column == "places_renovees" and failure.sample == [{"line_no": negative[0], "value": "-5"}]
    failures = {o.column: o for o in rows_result.blocking_failures}
    assert set(failures) == {"status", "territory_code"}
    assert failures["status"].sample == [{"line_no": negative[0], "value": "invalid"}]
    assert failures["territory_code"].unexpected_count == 3  # the three figures of the line
    assert {s["line_no"] for s in failures["territory_code"].sample} == set(unknown)


def test_the_creche_rows_gate_checks_quarters_and_values(files, parameters):
    values = caf.normalise_creches(caf.read_creches(files["CAF_EAJE_QPV_2024T1.csv"]))["values"].copy()
    values.loc[5, "period_code"] = "2024-T1"
    values.loc[7, "value"] = -1.0
    values.loc[9, "value"] = np.nan  # status ok without a value
    result = gates.run_suite("caf_creches.rows", values, gate="rows", parameters=parameters)
    failures = {(o.expectation_type, o.column): o for o in result.blocking_failures}
    assert set(failures) == {
        ("expect_column_values_to_be_in_referential", "period_code"),
        ("expect_column_values_to_be_between", "value"),
        ("expect_column_values_to_not_be_null", "value"),
    }
    assert all(o.unexpected_count == 1 for o in failures.values())
