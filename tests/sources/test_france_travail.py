"""France Travail reader, normalisers and gates: both encodings, masked cells, the long frame, vintages, suites."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.quality import gates
from etl.readers import FileShapeError
from etl.referentiels import periods
from etl.referentiels.territories import load_departements
from etl.samples.generators import france_travail as generator
from etl.sources import france_travail as ft
from etl.sources.values import VALUE_COLUMNS

MONTHS = ["2023-12", "2024-02"]
HEADER = ";".join(ft.DEFM_COLUMNS)


@pytest.fixture(scope="module")
def files(tmp_path_factory, territories) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("france_travail")
    paths = generator.generate_defm(folder, territories["folder"], MONTHS, broken=True)
    paths += generator.generate_contacts(folder, territories["folder"], [2023, 2024])
    return {path.name: path for path in paths}


@pytest.fixture(scope="module")
def parameters(territories) -> dict[str, list[str]]:
    """What the warehouse would answer: every territory code it knows, and the months of core.period."""
    codes = set(load_departements()["code"])
    for geo in ("2015", "2024"):
        frames = territories[geo]
        codes |= set(frames["qpv"]["code_qp"]) | set(frames["qpv_commune"]["insee_com"])
        codes |= set(frames["qpv_epci"]["siren_epci"]) | set(frames["qpv"]["insee_reg"])
    codes.add("FR")
    months = [row["code"] for row in periods.rows() if row["kind"] == "month"]
    return {"territory_codes": sorted(codes), "months": months}


def _territory_count(frames: dict[str, pd.DataFrame]) -> int:
    return (
        frames["qpv"]["code_qp"].nunique()
        + frames["qpv_commune"]["insee_com"].nunique()
        + frames["qpv_epci"]["siren_epci"].nunique()
        + frames["qpv"]["insee_dep"].nunique()
        # the producer's "ensemble des QPV" lines: France, each région and each département
        + 1
        + frames["qpv"]["insee_reg"].nunique()
        + frames["qpv"]["insee_dep"].nunique()
    )


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join([HEADER, *lines]) + "\n").encode(encoding))
    return path


def _line(month: str, level: str, code: str, label: str, counts: list[str], share: str = "48,2") -> str:
    return ";".join([month, level, code, label, *counts, share])


# --- reading -------------------------------------------------------------------------------------------------------


def test_both_encodings_are_read_with_their_accents(files, territories):
    labels = dict(zip(territories["2015"]["qpv"]["code_qp"], territories["2015"]["qpv"]["lib_qp"], strict=True))
    labels |= dict(zip(territories["2024"]["qpv"]["code_qp"], territories["2024"]["qpv"]["lib_qp"], strict=True))
    for name, encoding in (("DEFM_QPV_202312.csv", "cp1252"), ("DEFM_QPV_202402.csv", "utf-8")):
        raw = ft.read_defm(files[name])
        assert raw.attrs["encoding"] == encoding
        assert list(raw.columns) == ["line_no", *ft.DEFM_COLUMNS]
        qpv = raw[raw["niveau"] == "QPV"]
        accented = qpv[qpv["libelle_territoire"].str.contains("[éèêôœÉ]")]
        assert len(accented) > 50
        assert (accented["libelle_territoire"] == accented["code_territoire"].map(labels)).all()


def test_a_hand_made_windows_1252_file_keeps_its_accents(tmp_path):
    counts = ["120", "200", "60", "60", "20", "70", "30", "100", "100", "30", "120", "50"]
    path = _write(
        tmp_path / "DEFM_QPV_202310.csv",
        [_line("2023-10", "QPV", "QP093001", "Cœur de Ville Éluard", counts)],
        "cp1252",
    )
    raw = ft.read_defm(path)
    assert raw.attrs["encoding"] == "cp1252" and raw.loc[0, "libelle_territoire"] == "Cœur de Ville Éluard"


def test_a_missing_column_is_a_file_shape_error(tmp_path):
    path = tmp_path / "DEFM_QPV_202401.csv"
    path.write_text("mois;niveau;code_territoire\n2024-01;QPV;QN07501M\n", encoding="utf-8")
    with pytest.raises(FileShapeError) as error:
        ft.read_defm(path)
    assert error.value.rule == "missing_columns" and "defm_a" in error.value.column


# --- normalising ---------------------------------------------------------------------------------------------------


def test_the_long_frame_has_one_row_per_figure(files, territories):
    raw = ft.read_defm(files["DEFM_QPV_202312.csv"])
    values = ft.normalise_defm(raw)["values"]
    assert list(values.columns) == list(VALUE_COLUMNS)
    assert values["line_no"].dtype == "int64" and values["value"].dtype == "float64"
    for name in ("indicator_code", "territory_level", "territory_code", "period_code", "breakdown", "status"):
        assert pd.api.types.is_string_dtype(values[name]), name
    per_month = _territory_count(territories["2015"]) * 2 * 6
    assert len(values) == len(raw) * 12 == 3 * per_month
    assert values.groupby("period_code").size().to_dict() == {
        "2023-10": per_month,
        "2023-11": per_month,
        "2023-12": per_month,
    }
    assert set(values["territory_level"]) == {"qpv", "commune", "epci", "departement", "region", "france"}
    assert set(values["breakdown"]) == set(ft.BREAKDOWNS)
    assert set(values["indicator_code"]) == set(ft.DEFM_INDICATORS) | set(ft.ENSEMBLES.values())
    # file order: the 12 figures of a line follow each other, in header order; the first line is France's
    # "ensemble des QPV", whose figures are the ensemble indicators at level france
    first = values.head(12)
    assert (first["line_no"] == 2).all() and (first["territory_level"] == "france").all()
    expected = [(ft.ENSEMBLES[indicator], breakdown) for indicator, breakdown in ft.DEFM_COUNTS.values()]
    assert list(zip(first["indicator_code"], first["breakdown"], strict=True)) == expected
    assert first["value"].tolist() == raw.loc[0, list(ft.DEFM_COUNT_COLUMNS)].astype(float).tolist()
    # a QPV line keeps the QPV indicators
    qpv = values[values["territory_level"] == "qpv"]
    assert set(qpv["indicator_code"]) == set(ft.DEFM_INDICATORS)


def test_a_file_across_the_geography_change_counts_each_month_in_its_geography(files, territories, in_force_2024):
    values = ft.normalise_defm(ft.read_defm(files["DEFM_QPV_202402.csv"]))["values"]
    sizes = values.groupby("period_code").size().to_dict()
    assert sizes["2023-12"] == _territory_count(territories["2015"]) * 12
    assert sizes["2024-01"] == sizes["2024-02"]
    qpv_2024 = values[(values["period_code"] == "2024-02") & (values["territory_level"] == "qpv")]["territory_code"]
    assert qpv_2024.nunique() == in_force_2024
    assert qpv_2024[qpv_2024.str.match("^Q[PN]97")].str.startswith("QP").all()  # overseas: 2015 QPV until 2025


def test_masked_cells_are_a_status_and_never_zero(files):
    raw = ft.read_defm(files["DEFM_QPV_202402.csv"])
    values = ft.normalise_defm(raw)["values"]
    masked = values[values["status"] == "masked"]
    assert len(masked) == (raw[list(ft.DEFM_COUNT_COLUMNS)] == "s").to_numpy().sum() > 0
    assert masked["value"].isna().all()
    ok = values[values["status"] == "ok"]
    assert ok["value"].notna().all() and (ok["value"] >= 5).all()
    assert set(values["status"]) == {"ok", "masked"}


def test_codes_are_padded_and_odd_cells_kept_for_the_gate(tmp_path):
    counts = ["120", "200", "60", "60", "20", "70", "30", "100", "100", "30", "120", "50"]
    odd = ["s", "1 234", "s", "s", "4", "", "12.0", "100", "100", "30", "120", "50"]
    path = _write(
        tmp_path / "DEFM_QPV_202402.csv",
        [
            _line(" 2024-02 ", "COMMUNE", "1053", "Bourg-en-Bresse", counts),
            _line("2024-02", "DEPARTEMENT", "1", "Ain", counts),
            _line("2024-02", "DEPARTEMENT", "2A", "Corse-du-Sud", counts),
            _line("2024-02", "EPCI", "200071751", "CA du Bassin de Bourg-en-Bresse", counts),
            _line("2024-02", "QPV", "QN00101N", "La Reyssouze", odd, "s"),
            _line("2024-01", "COMMUNE", "1053.0", "Bourg-en-Bresse", counts),
        ],
    )
    values = ft.normalise_defm(ft.read_defm(path))["values"]
    by_line = values.groupby("line_no").first()
    assert by_line["territory_code"].tolist() == ["01053", "01", "2A", "200071751", "QN00101N", "1053.0"]
    assert by_line["territory_level"].tolist() == ["commune", "departement", "departement", "epci", "qpv", "commune"]
    assert by_line["period_code"].tolist() == ["2024-02"] * 5 + ["2024-01"]
    qpv = values[values["line_no"] == 6]
    assert qpv["status"].tolist() == ["masked", "invalid", "masked", "masked", "ok", "invalid", "invalid"] + ["ok"] * 5
    assert qpv["value"].iloc[:4].isna().all() and qpv["value"].iloc[4] == 4.0 and qpv["value"].iloc[5:7].isna().all()
    assert ft.vintage({"values": values}) == "2024-02"


def test_vintage_is_the_delivery_month(files):
    for name, month in (("DEFM_QPV_202312.csv", "2023-12"), ("DEFM_QPV_202402.csv", "2024-02")):
        assert ft.vintage(ft.normalise_defm(ft.read_defm(files[name]))) == month


def test_contact_points_are_one_figure_per_qpv(files, territories, in_force_2024):
    raw = ft.read_contacts(files["POINTS_CONTACT_QPV_2024.csv"])
    staged = ft.normalise_contacts(raw)
    values = staged["values"]
    assert list(values.columns) == list(VALUE_COLUMNS) and len(values) == in_force_2024
    assert set(values["indicator_code"]) == {ft.CONTACT_INDICATOR} and set(values["territory_level"]) == {"qpv"}
    assert set(values["breakdown"]) == {"total"} and set(values["period_code"]) == {"2024"}
    expected = raw["sites_france_travail"].astype(int) + raw["relais_partenaires"].astype(int)
    assert np.array_equal(values["value"].to_numpy(), expected.to_numpy(dtype="float64"))
    assert (values["status"] == "ok").all() and ft.contacts_vintage(staged) == "2024"


def test_contact_cells_that_are_not_counts(tmp_path):
    path = tmp_path / "POINTS_CONTACT_QPV_2024.csv"
    path.write_text(
        ";".join(ft.CONTACT_COLUMNS) + "\n2024;QN07501M;Les Portes;1;2\n2024;QN07502M;Le Parc;s;2\n"
        "2024;QN07503M;Les Tours;1;deux\n2024;QN07504M;Le Mail;0;0\n",
        encoding="utf-8",
    )
    values = ft.normalise_contacts(ft.read_contacts(path))["values"]
    assert values["status"].tolist() == ["ok", "masked", "invalid", "ok"]
    assert values["value"].tolist()[0] == 3.0 and values["value"].tolist()[3] == 0.0
    assert values["value"].iloc[1:3].isna().all()


# --- gates ---------------------------------------------------------------------------------------------------------


def _run(path: Path, kind: str, parameters: dict[str, list[str]]) -> tuple[gates.GateResult, gates.GateResult]:
    read, normalise = (ft.read_defm, ft.normalise_defm) if kind == "defm" else (ft.read_contacts, ft.normalise_contacts)
    raw = read(path)
    file_result = gates.run_suite(f"france_travail_{kind}.file", raw, gate="file")
    rows_result = gates.run_suite(
        f"france_travail_{kind}.rows", normalise(raw)["values"], gate="rows", parameters=parameters
    )
    return file_result, rows_result


def test_generated_files_pass_their_gates(files, parameters):
    for name in ("DEFM_QPV_202312.csv", "DEFM_QPV_202402.csv"):
        for result in _run(files[name], "defm", parameters):
            assert result.passed, [o.describe() for o in result.blocking_failures]
            assert result.warnings == []
    for name in ("POINTS_CONTACT_QPV_2023.csv", "POINTS_CONTACT_QPV_2024.csv"):
        for result in _run(files[name], "contacts", parameters):
            assert result.passed and result.warnings == [], [o.describe() for o in result.outcomes if not o.success]


def test_the_broken_file_is_blocked_with_its_columns_and_lines(files, parameters):
    path = files["DEFM_QPV_202402_broken.csv"]
    lines = path.read_text(encoding="utf-8").split("\n")
    cells = [line.split(";") for line in lines]
    abc = ft.DEFM_COLUMNS.index("defm_abc")
    spaced = [n for n, row in enumerate(cells, start=1) if len(row) > abc and " " in row[abc]]
    known = set(parameters["territory_codes"])
    unknown = [n for n, row in enumerate(cells[1:], start=2) if len(row) > 2 and row[2] not in known]
    assert len(spaced) == 1 and len(unknown) == 2

    file_result, rows_result = _run(path, "defm", parameters)
    [failure] = file_result.blocking_failures
    assert failure.column == "defm_abc" and failure.unexpected_count == 1
    assert failure.sample[0]["line_no"] == spaced[0] and " " in failure.sample[0]["value"]

    failures = {o.column: o for o in rows_result.blocking_failures}
    assert set(failures) == {"status", "territory_code"}
    assert failures["status"].unexpected_count == 1 and failures["status"].sample[0]["line_no"] == spaced[0]
    assert failures["territory_code"].unexpected_count == 24  # 12 figures on each of the two lines
    assert {s["line_no"] for s in failures["territory_code"].sample} == set(unknown)
    assert {s["value"] for s in failures["territory_code"].sample} == {cells[n - 1][2] for n in unknown} >= {"20"}


def test_the_rows_gate_checks_months_and_values(files, parameters):
    values = ft.normalise_defm(ft.read_defm(files["DEFM_QPV_202402.csv"]))["values"].head(2000).copy()
    values.loc[5, "period_code"] = "2024-13"
    values.loc[7, "value"] = -1.0
    values.loc[9, "value"] = np.nan  # status ok without a value
    result = gates.run_suite("france_travail_defm.rows", values, gate="rows", parameters=parameters)
    failures = {(o.expectation_type, o.column): o for o in result.blocking_failures}
    assert set(failures) == {
        ("expect_column_values_to_be_in_referential", "period_code"),
        ("expect_column_values_to_be_between", "value"),
        ("expect_column_values_to_not_be_null", "value"),
    }
    assert all(o.unexpected_count == 1 for o in failures.values())
