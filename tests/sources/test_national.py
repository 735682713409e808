"""Other national producers: catalogue units, reader, normaliser (levels, codes, values, units), partition, gates."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.quality import gates
from etl.readers import FileShapeError
from etl.referentiels import periods
from etl.referentiels.catalogue import INDICATEURS_COLUMNS
from etl.referentiels.territories import DEPARTEMENT_PATTERN, load_departements, load_regions
from etl.samples.generators import national as generator
from etl.sources import national as nat
from etl.sources.values import VALUE_COLUMNS

YEARS = [2023, 2024]
HEADER = ";".join(nat.COLUMNS)
NATIONAL_UNITS = {
    "IND01": "%", "IND02": "%", "IND03": "%", "IND04": "nombre", "IND06": "nombre", "IND17": "nombre",
    "IND19": "nombre", "IND23": "%", "IND24": "nombre", "IND29": "%", "IND31": "nombre", "IND32": "%",
}  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("national")
    return {path.name: path for path in generator.generate(folder, YEARS, broken=True)}


@pytest.fixture(scope="module")
def parameters() -> dict[str, list[str]]:
    """What the warehouse would answer: the indicators this source carries with their unit, every territory code it
    knows at the levels of this source and France (it also knows QPV, communes and EPCI), the years of core.period."""
    units = nat.catalogue_units()
    regions = load_regions()["code"].tolist()
    departements = load_departements()["code"].tolist()
    return {
        "national_indicators": sorted(units),
        "national_indicator_units": sorted(f"{code}|{unit}" for code, unit in units.items()),
        "territory_codes": sorted({*regions, *departements, "FR"}),
        "years": [row["code"] for row in periods.rows() if row["kind"] == "year"],
    }


def _write(path: Path, lines: list[str], *, bom: bool = False, newline: str = "\n") -> Path:
    data = newline.join([HEADER, *lines]) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return path


def _run(path: Path, parameters: dict[str, list[str]]) -> tuple[gates.GateResult, gates.GateResult]:
    raw = nat.read_indicateurs(path)
    file_result = gates.run_suite("national_indicateurs.file", raw, gate="file")
    values = nat.normalise_indicateurs(raw)["values"]
    return file_result, gates.run_suite("national_indicateurs.rows", values, gate="rows", parameters=parameters)


# --- the catalogue -------------------------------------------------------------------------------------------------


def test_catalogue_units_are_the_national_indicators_not_computed_elsewhere():
    units = nat.catalogue_units()
    assert units == NATIONAL_UNITS
    assert list(units) == sorted(units)  # catalogue order
    assert not set(units) & set(nat.COMPUTED_ELSEWHERE)
    catalogue = pd.read_csv(nat.CATALOGUE_FILE, sep=";", dtype=str, keep_default_na=False)
    national = set(catalogue.loc[catalogue["mode"] == "national", "code"])
    assert set(units) | set(nat.COMPUTED_ELSEWHERE) == national and len(national) == 16


def test_catalogue_units_follow_the_warehouse_rule(tmp_path):
    columns = INDICATEURS_COLUMNS

    def row(code: str, label: str, unit: str, mode: str) -> str:
        cells = dict.fromkeys(columns, "")
        cells.update(code=code, libelle=label, cible_unite=unit, mode=mode)
        return ";".join(cells[c] for c in columns)

    path = tmp_path / "indicateurs.csv"
    path.write_text(
        "\n".join(
            [
                ";".join(columns),
                row("IND01", "taux de quelque chose", "", "national"),
                row("IND02", "PROPORTION des jeunes", "", "national"),
                row("IND03", "Nombre de bénéficiaires", "", "national"),
                row("IND04", "Part des crédits", "nombre", "national"),  # the target's unit wins
                row("IND05", "Part des QPV couverts", "%", "national"),  # computed from France Travail's files
                row("IND07", "Part des postes", "%", "local"),
                row("IND08", "Mesure de l'avancement (taux)", "", "national"),  # Taux not at the start
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    assert nat.catalogue_units(path) == {"IND01": "%", "IND02": "%", "IND03": "nombre", "IND04": "nombre",
                                         "IND08": "nombre"}  # fmt: skip


# --- reading -------------------------------------------------------------------------------------------------------


def test_generated_files_are_read_as_text_with_their_lines(files):
    raw = nat.read_indicateurs(files["INDICATEURS_NATIONAUX_DGEFP_2024.csv"])
    assert list(raw.columns) == ["line_no", *nat.COLUMNS] and raw.attrs["encoding"] == "utf-8"
    assert len(raw) == 5 * (1 + 18 + 101) and raw["line_no"].tolist() == list(range(2, len(raw) + 2))
    assert set(raw["niveau"]) == {"France", "Région", "Département"}
    assert (raw["valeur"].str.contains(r"^\d{1,3} \d{3}$")).any()  # thousands written 1 204
    assert raw["commentaire"].str.contains(";").any()  # quoted comments keep their `;`


def test_a_bom_crlf_and_a_quoted_semicolon_are_read(tmp_path):
    path = _write(
        tmp_path / "INDICATEURS_NATIONAUX_ASC_2024.csv",
        [
            'IND23;France;FR;2024;14,2;pourcentage;Agence du service civique;"provisoire ; hors Mayotte"',
            "IND23;Région;84;2024;12,9;pourcentage;Agence du service civique;",
        ],
        bom=True,
        newline="\r\n",
    )
    raw = nat.read_indicateurs(path)
    assert raw["indicateur"].tolist() == ["IND23", "IND23"] and raw["line_no"].tolist() == [2, 3]
    assert raw.loc[0, "commentaire"] == "provisoire ; hors Mayotte"
    values = nat.normalise_indicateurs(raw)["values"]
    assert values["value"].tolist() == [14.2, 12.9] and values["unit"].tolist() == ["%", "%"]


def test_a_missing_column_is_a_file_shape_error(tmp_path):
    path = tmp_path / "INDICATEURS_NATIONAUX_DGE_2024.csv"
    path.write_text("indicateur;niveau;code_territoire;periode;valeur\nIND31;FRANCE;FR;2024;95\n", encoding="utf-8")
    with pytest.raises(FileShapeError) as error:
        nat.read_indicateurs(path)
    assert error.value.rule == "missing_columns" and "unite" in error.value.column


# --- normalising ---------------------------------------------------------------------------------------------------


def test_the_long_frame_has_one_figure_per_line(files):
    raw = nat.read_indicateurs(files["INDICATEURS_NATIONAUX_DGEFP_2024.csv"])
    values = nat.normalise_indicateurs(raw)["values"]
    assert list(values.columns) == [*VALUE_COLUMNS, "unit", "indicator_unit"]
    assert values["line_no"].dtype == "int64" and values["value"].dtype == "float64"
    for name in ("indicator_code", "territory_level", "territory_code", "period_code", "breakdown", "status"):
        assert pd.api.types.is_string_dtype(values[name]), name
    assert len(values) == len(raw) and values["line_no"].tolist() == raw["line_no"].tolist()
    assert set(values["breakdown"]) == {"total"} and set(values["period_code"]) == {"2024"}
    assert values.groupby("territory_level").size().to_dict() == {"france": 5, "region": 90, "departement": 505}
    assert set(values["territory_code"][values["territory_level"] == "departement"]) == set(load_departements()["code"])
    assert set(values["territory_code"][values["territory_level"] == "region"]) == set(load_regions()["code"])
    assert set(values["indicator_unit"]) == {"IND01|%", "IND02|%", "IND03|%", "IND04|nombre", "IND06|nombre"}
    masked = values[values["status"] == "masked"]
    assert len(masked) == (raw["valeur"] == "s").sum() > 0 and masked["value"].isna().all()
    missing = values[values["status"] == "missing"]
    assert len(missing) == (raw["valeur"] == "nd").sum() >= 1 and missing["value"].isna().all()
    assert values.loc[values["status"] == "ok", "value"].notna().all()
    assert set(values["status"]) == {"ok", "masked", "missing"}


def test_levels_codes_values_and_units_as_the_producers_write_them(tmp_path):
    path = _write(
        tmp_path / "INDICATEURS_NATIONAUX_DGEFP_2024.csv",
        [
            "IND04;France;FR;2024;5 204;nombre;DGEFP;",  # line 2
            "IND04;RÉGION;1;2024;1\u00a0204;Nombre;DGEFP;",
            "IND04;Region;84;2024;s;NOMBRE;DGEFP;secret",
            "IND04;département;1;2024;nd;nombre;DGEFP;",  # line 5
            "IND04;DEPARTEMENT;2A;2024;;nombre;DGEFP;",
            "IND01;Département;971;2024;30,5;pourcentage;DGEFP;",
            "IND01;FRANCE;FR;2024;29.8;PourCentage;DGEFP;",
            "IND01;QPV;QN07501M;2024;41,0;%;DGEFP;",  # line 9
            "IND01;COMMUNE;1053;2024;12,0;%;DGEFP;",
            " IND02 ;Région;11; 2024 ;douze;euros;DGEFP;",
            "IND02;Région;1.0;2024;-3,5;%;DGEFP;",
        ],
    )
    values = nat.normalise_indicateurs(nat.read_indicateurs(path))["values"]
    assert values["line_no"].tolist() == list(range(2, 13))
    assert values["territory_level"].tolist() == [
        "france", "region", "region", "departement", "departement", "departement", "france", "qpv", "commune",
        "region", "region",
    ]  # fmt: skip
    assert values["territory_code"].tolist() == [
        "FR", "01", "84", "01", "2A", "971", "FR", "QN07501M", "1053", "11", "1.0",
    ]  # fmt: skip
    assert values["status"].tolist() == [
        "ok", "ok", "masked", "missing", "missing", "ok", "ok", "ok", "ok", "invalid", "ok",
    ]  # fmt: skip
    expected = [5204.0, 1204.0, np.nan, np.nan, np.nan, 30.5, 29.8, 41.0, 12.0, np.nan, -3.5]
    assert np.allclose(values["value"].to_numpy(), expected, equal_nan=True)
    assert values["unit"].tolist() == ["nombre"] * 5 + ["%"] * 4 + ["euros", "%"]
    assert values["indicator_unit"].tolist()[5] == "IND01|%" and values["indicator_unit"].tolist()[9] == "IND02|euros"
    assert values["indicator_code"].tolist()[9] == "IND02" and values["period_code"].tolist()[9] == "2024"


# --- partition -----------------------------------------------------------------------------------------------------


def test_the_partition_is_the_indicators_and_the_year(files):
    def partition(name: str) -> str:
        return nat.indicateurs_partition(nat.normalise_indicateurs(nat.read_indicateurs(files[name])))

    assert partition("INDICATEURS_NATIONAUX_DGEFP_2024.csv") == "IND01+IND02+IND03+IND04+IND06/2024"
    assert partition("INDICATEURS_NATIONAUX_DGEFP_2023.csv") == "IND01+IND02+IND03+IND04+IND06/2023"
    assert partition("INDICATEURS_NATIONAUX_ASC_2024.csv") == "IND23/2024"
    keys = {partition(generator.file_name(slug, year)) for slug in generator.PRODUCERS for year in YEARS}
    assert len(keys) == len(generator.PRODUCERS) * len(YEARS)  # no two producers' files replace each other


# --- gates ---------------------------------------------------------------------------------------------------------


def test_generated_files_pass_their_gates(files, parameters):
    # Every producer's file of the last year (a gate run costs about a second; the 2023 files are built the same way).
    for name, path in files.items():
        if not name.endswith(f"_{YEARS[-1]}.csv"):
            continue
        for result in _run(path, parameters):
            assert result.passed and result.warnings == [], (
                name,
                [o.describe() for o in result.outcomes if not o.success],
            )


def test_the_broken_file_is_blocked_with_its_columns_and_lines(files, parameters):
    path = files["INDICATEURS_NATIONAUX_DGEFP_2024_broken.csv"]
    rows = [line.split(";") for line in path.read_text(encoding="utf-8").split("\n")]

    def line_of(predicate) -> int:
        [number] = [n for n, row in enumerate(rows[1:], start=2) if len(row) > 5 and predicate(row)]
        return number

    unknown = line_of(lambda row: row[0] == "IND99")
    wrong_unit = line_of(lambda row: row[0] == "IND01" and row[5] == "nombre")
    qpv = line_of(lambda row: row[1] == "QPV")
    above = line_of(
        lambda row: row[0] == "IND03" and row[4] not in ("s", "nd") and float(row[4].replace(",", ".")) > 100
    )

    file_result, rows_result = _run(path, parameters)
    # an unknown level word is reported by gate 1 and rejected by gate 2, so that one report lists every problem
    assert file_result.passed
    [warning] = file_result.warnings
    assert warning.column == "niveau" and warning.sample == [{"line_no": qpv, "value": "QPV"}]

    failures = {o.column: o for o in rows_result.blocking_failures}
    assert set(failures) == {"indicator_code", "indicator_unit", "territory_level", "value"}
    assert failures["indicator_code"].sample == [{"line_no": unknown, "value": "IND99"}]
    assert {s["line_no"] for s in failures["indicator_unit"].sample} == {unknown, wrong_unit}
    assert {"line_no": wrong_unit, "value": "IND01|nombre"} in failures["indicator_unit"].sample
    assert failures["territory_level"].sample == [{"line_no": qpv, "value": "qpv"}]
    assert failures["value"].kwargs["max_value"] == 100 and [s["line_no"] for s in failures["value"].sample] == [above]
    assert all(f"line {failures[c].sample[0]['line_no']}" in failures[c].describe() for c in failures)


def test_the_level_patterns_of_the_rows_suite_are_the_referential():
    suite = gates.load_suite("national_indicateurs.rows")
    patterns = {
        e["kwargs"]["row_condition"]: e["kwargs"]["regex"] for e in suite["expectations"] if "regex" in e["kwargs"]
    }
    assert patterns['territory_level == "departement"'] == DEPARTEMENT_PATTERN
    two_characters = [f"{a}{b}" for a in "0123456789" for b in "0123456789AB"]
    region = re.compile(patterns['territory_level == "region"'])
    assert [code for code in two_characters if region.match(code)] == sorted(load_regions()["code"])
    parameters = {e["kwargs"]["referential"] for e in suite["expectations"] if "referential" in e["kwargs"]}
    assert parameters == {"national_indicators", "national_indicator_units", "territory_codes", "years"}


def test_the_rows_gate_rejects_indicators_this_source_does_not_carry(tmp_path, parameters):
    path = _write(
        tmp_path / "INDICATEURS_NATIONAUX_X_2024.csv",
        [
            "IND23;FRANCE;FR;2024;14,2;%;ASC;",
            "IND05;FRANCE;FR;2024;97,0;%;France Travail;",  # computed from the contact points
            "IND07;FRANCE;FR;2024;25,0;%;rectorat;",  # a local indicator
            "IND21;FRANCE;FR;2024;1 200;nombre;ANS;",  # computed from the ANS files
            "ind23;FRANCE;FR;2023;14,0;%;ASC;",
        ],
    )
    _, result = _run(path, parameters)
    failures = {o.column: o for o in result.blocking_failures}
    assert set(failures) == {"indicator_code", "indicator_unit"}
    assert {s["line_no"] for s in failures["indicator_code"].sample} == {3, 4, 5, 6}
    assert "IND99" in next(
        e["meta"]["notes"]
        for e in gates.load_suite("national_indicateurs.rows")["expectations"]
        if e["kwargs"].get("column") == "indicator_code"
    )


def test_the_rows_gate_checks_territories_periods_statuses_values_and_keys(tmp_path, parameters):
    path = _write(
        tmp_path / "INDICATEURS_NATIONAUX_X_2024.csv",
        [
            "IND04;France;FR;2024;5 204;nombre;DGEFP;",  # 2 fine
            "IND04;Région;75;2024;300;nombre;DGEFP;",  # 3 fine: Nouvelle-Aquitaine
            "IND04;Région;2A;2024;12;nombre;DGEFP;",  # 4 a département on a région line
            "IND04;Département;84;2024;20;nombre;DGEFP;",  # 5 fine: Vaucluse
            "IND04;Département;20;2024;20;nombre;DGEFP;",  # 6 no longer a département
            "IND04;France;FRA;2023;5 000;nombre;DGEFP;",  # 7 France is FR
            "IND04;Région;75;2013;300;nombre;DGEFP;",  # 8 before the catalogue's years
            "IND04;Région;84;2024;douze;nombre;DGEFP;",  # 9 invalid cell
            "IND04;Région;75;2024;310;nombre;DGEFP;",  # 10 same figure as line 3
            "IND04;Région;93;2024;-4;nombre;DGEFP;",  # 11 negative count
            "IND01;Région;93;2024;100,0;%;DGEFP;",  # 12 fine: a share can be 100
        ],
    )
    _, result = _run(path, parameters)
    lines = {}
    for outcome in result.blocking_failures:
        condition = outcome.kwargs.get("row_condition") or {}  # GX keeps it as {"pass_through_filter": ...}
        key = (outcome.column, condition.get("pass_through_filter") if isinstance(condition, dict) else condition)
        lines[key] = sorted(s["line_no"] for s in outcome.sample)
    assert lines == {
        ("territory_code", 'territory_level == "region"'): [4],
        ("territory_code", 'territory_level == "departement"'): [6],
        ("territory_code", 'territory_level == "france"'): [7],
        ("territory_code", None): [6, 7],
        ("period_code", None): [8],
        ("status", None): [9],
        ("indicator_code,territory_level,territory_code,period_code,breakdown", None): [3, 10],
        ("value", None): [11],
    }
