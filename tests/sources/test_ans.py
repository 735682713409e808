"""ANS reader, normalisers and gates: Windows-1252 subsidy lines with quoted names and French amounts, licences per
QPV and sex, partitions, and the suites on generated, hand-written and broken files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.quality import gates
from etl.readers import FileShapeError
from etl.referentiels import periods
from etl.referentiels.territories import load_departements
from etl.samples.generators import ans as generator
from etl.sources import ans
from etl.sources.values import VALUE_COLUMNS

SUBVENTION_HEADER = ";".join(ans.SUBVENTION_COLUMNS)
LICENCE_HEADER = ";".join(ans.LICENCE_COLUMNS)


@pytest.fixture(scope="module")
def files(tmp_path_factory, territories) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ans")
    paths = generator.generate_subventions(folder, territories["folder"], [2023, 2024], broken=True)
    paths += generator.generate_licences(folder, territories["folder"], [2021, 2024], broken=True, layout="plateforme")
    return {path.name: path for path in paths}


@pytest.fixture(scope="module")
def parameters(territories) -> dict[str, list[str]]:
    """What the warehouse would answer: the départements, the years of core.period, the QPV of both geographies."""
    qpv = set(territories["2015"]["qpv"]["code_qp"]) | set(territories["2024"]["qpv"]["code_qp"])
    return {
        "departements": sorted(load_departements()["code"]),
        "years": [row["code"] for row in periods.rows() if row["kind"] == "year"],
        "qpv_codes": sorted(qpv),
    }


def _write(path: Path, header: str, lines: list[str], encoding: str) -> Path:
    path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding))
    return path


def _csv_rows(path: Path, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=";"))


# --- subsidies: reading --------------------------------------------------------------------------------------------


def test_a_generated_subsidy_file_is_read_as_windows_1252_with_quoted_names(files):
    path = files["ANS_SUBVENTIONS_2024.csv"]
    raw = ans.read_subventions(path)
    assert raw.attrs["encoding"] == "cp1252"
    assert list(raw.columns) == ["line_no", *ans.SUBVENTION_COLUMNS]
    rows = _csv_rows(path, "cp1252")
    assert len(raw) == len(rows) - 1 and raw["line_no"].tolist() == list(range(2, len(rows) + 1))
    assert raw["beneficiaire"].tolist() == [row[2] for row in rows[1:]]
    names = raw["beneficiaire"]
    assert names.str.contains(";").sum() > 5 and names.str.contains('"').sum() > 5
    assert names.str.contains("[éèêÉ]").sum() > 500


def test_a_hand_made_subsidy_file_keeps_its_quotes_accents_and_cells(tmp_path):
    path = _write(
        tmp_path / "ANS_SUBVENTIONS_2024.csv",
        SUBVENTION_HEADER,
        [
            '2024;2024-000001;"Club ""Les Aigles"" ; section Nord";12345678901234;1053;;12\u00a0500,00;Équipement',
            "2024;2024-000002;Œuvre sportive d'Évry;12345678901234;2A004;QN02A01M;850,5;fonctionnement ",
        ],
        "cp1252",
    )
    raw = ans.read_subventions(path)
    assert raw.attrs["encoding"] == "cp1252"
    assert raw["beneficiaire"].tolist() == ['Club "Les Aigles" ; section Nord', "Œuvre sportive d'Évry"]
    assert raw["code_commune"].tolist() == ["1053", "2A004"] and raw["code_qpv"].tolist() == ["", "QN02A01M"]
    assert raw["montant"].tolist() == ["12\u00a0500,00", "850,5"]
    assert raw["type_subvention"].tolist() == ["Équipement", "fonctionnement "]


def test_a_name_with_an_unquoted_separator_is_a_file_shape_error(tmp_path):
    path = _write(
        tmp_path / "ANS_SUBVENTIONS_2024.csv",
        SUBVENTION_HEADER,
        [
            "2024;2024-000001;Judo club;12345678901234;1053;;1500;Fonctionnement",
            "2024;2024-000002;Boxe ; section jeunes;12345678901234;1053;;1500;Fonctionnement",
        ],
        "cp1252",
    )
    with pytest.raises(FileShapeError) as error:
        ans.read_subventions(path)
    assert error.value.rule == "field_count" and error.value.line == 3


def test_a_missing_subsidy_column_is_a_file_shape_error(tmp_path):
    path = tmp_path / "ANS_SUBVENTIONS_2024.csv"
    path.write_text("annee;numero_dossier;beneficiaire\n2024;2024-000001;Judo club\n", encoding="cp1252")
    with pytest.raises(FileShapeError) as error:
        ans.read_subventions(path)
    assert error.value.rule == "missing_columns" and "montant" in error.value.column


# --- subsidies: normalising ----------------------------------------------------------------------------------------


def test_the_subsidy_lines_are_typed_padded_and_normalised(tmp_path):
    lines = [
        "2024;2024-000001;Judo club;12345678901234;1053;;12 500,00;EQUIPEMENT",
        "2024;2024-000002;Tennis club;12345678901234;2A004;QN02A01M;850,5;fonctionnement ",
        "2024;2024-000003;Boxe club;12345678901234;97411;QP974001;1\u00a0250\u00a0000;Equipement",
        "2024;2024-000004;Rugby club;12345678901234;75056;;12,500.00;Fonctionnement",
        "2024;2024-000005;Escrime club;12345678901234;1053.0;;s;Investissement",
        " 2024 ;2024-000006; Lutte club ;12345678901234; 6088 ;;;FONCTIONNEMENT",
        "2024;2024-000007;Danse club;12345678901234;59350; QN05901N ;-300;équipement",
    ]
    raw = ans.read_subventions(_write(tmp_path / "ANS_SUBVENTIONS_2024.csv", SUBVENTION_HEADER, lines, "cp1252"))
    staged = ans.normalise_subventions(raw)
    assert list(staged) == ["lignes"]
    lignes = staged["lignes"]
    assert list(lignes.columns) == list(ans.LIGNE_COLUMNS)
    assert lignes["line_no"].dtype == "int64" and lignes["montant"].dtype == "float64"
    for name in set(ans.LIGNE_COLUMNS) - {"line_no", "montant"}:
        assert pd.api.types.is_string_dtype(lignes[name]), name
    assert lignes["line_no"].tolist() == list(range(2, 9))
    assert lignes["code_commune"].tolist() == ["01053", "2A004", "97411", "75056", "1053.0", "06088", "59350"]
    assert lignes["departement_code"].tolist() == ["01", "2A", "974", "75", "10", "06", "59"]
    assert lignes["code_qpv"].tolist() == ["", "QN02A01M", "QP974001", "", "", "", "QN05901N"]
    assert lignes["type_subvention"].tolist() == [
        "equipement",
        "fonctionnement",
        "equipement",
        "fonctionnement",
        "investissement",
        "fonctionnement",
        "equipement",
    ]
    assert lignes["status"].tolist() == ["ok", "ok", "ok", "invalid", "invalid", "invalid", "ok"]
    montant = lignes["montant"].tolist()
    assert montant[:3] == [12500.0, 850.5, 1250000.0] and montant[6] == -300.0
    assert lignes["montant"].iloc[3:6].isna().all()
    assert lignes.loc[5, "annee"] == "2024" and lignes.loc[5, "beneficiaire"] == "Lutte club"
    assert ans.subventions_partition(staged) == "2024"


def test_the_subsidy_partition_is_the_year(files):
    for year in ("2023", "2024"):
        staged = ans.normalise_subventions(ans.read_subventions(files[f"ANS_SUBVENTIONS_{year}.csv"]))
        assert ans.subventions_partition(staged) == year
        assert set(staged["lignes"]["annee"]) == {year}
    empty = pd.DataFrame({"annee": pd.Series(["", ""], dtype="str")})
    assert ans.subventions_partition({"lignes": empty}) == "unknown"


def test_generated_subsidy_lines_are_all_ok_and_padded(files):
    lignes = ans.normalise_subventions(ans.read_subventions(files["ANS_SUBVENTIONS_2024.csv"]))["lignes"]
    assert (lignes["status"] == "ok").all() and lignes["montant"].notna().all()
    assert lignes["code_commune"].str.fullmatch(r"[0-9]{5}|2[AB][0-9]{3}").all()
    raw = ans.read_subventions(files["ANS_SUBVENTIONS_2024.csv"])
    assert (raw["code_commune"].str.len() == 4).sum() > 50  # leading zero lost in the producer's spreadsheet
    assert set(lignes["type_subvention"]) == set(ans.SUBVENTION_TYPES)
    assert raw["type_subvention"].nunique() > 4


# --- licences ------------------------------------------------------------------------------------------------------


def test_licence_files_are_one_figure_per_qpv_and_sex(files, territories, in_force_2024):
    from etl.samples.generators.territories import read_veille

    veille = read_veille(territories["folder"])
    for name, year, in_force in (
        ("ANS_LICENCES_QPV_2021.csv", "2021", len(territories["2015"]["qpv"])),
        ("ANS_LICENCES_QPV_2024.csv", "2024", in_force_2024),
    ):
        raw = ans.read_licences(files[name])
        # after 2024, some QPV in veille active keep their lines under their 2015 code (the overseas ones are in force)
        left = raw["code_qpv"].isin(veille) & ~raw["code_qpv"].str.startswith("QP97") & (year >= "2024")
        followed = raw.loc[left, "code_qpv"].nunique()
        assert (followed > 0) == (year == "2024")
        count = in_force + followed
        assert raw.attrs["encoding"] == "utf-8"
        staged = ans.normalise_licences(raw)
        values = staged["values"]
        assert list(values.columns) == list(VALUE_COLUMNS) and len(values) == len(raw) == 2 * count
        assert values["line_no"].dtype == "int64" and values["value"].dtype == "float64"
        for column in ("indicator_code", "territory_level", "territory_code", "period_code", "breakdown", "status"):
            assert pd.api.types.is_string_dtype(values[column]), column
        assert set(values["indicator_code"]) == {"IND20"} and set(values["territory_level"]) == {"qpv"}
        assert set(values["period_code"]) == {year} and (values["status"] == "ok").all()
        assert values["breakdown"].tolist() == ["sexe=F", "sexe=H"] * count
        assert values["territory_code"].nunique() == count
        plain = raw["licences"].str.replace(r"[ \u00a0]", "", regex=True).astype(float).to_numpy()
        assert np.array_equal(values["value"].to_numpy(), plain)
        assert ans.licences_partition(staged) == year
    old = ans.read_licences(files["ANS_LICENCES_QPV_2021.csv"])
    assert set(old["sexe"]) == {"Femmes", "Hommes"}


def test_licence_cells_sexes_and_separators(tmp_path):
    lines = [
        "2023;QP093001;Cœur de Ville;Femmes;1 204",
        "2023;QP093001;Cœur de Ville;Hommes;1\u00a0987",
        "2023;QP093002;Les Tilleuls;F;87",
        "2023;QP093002;Les Tilleuls;H;s",
        "2023;QP093003;La Source;F;",
        "2023;QP093003;La Source;X;12.0",
        "2023;QP093004;Le Mail;H;0",
    ]
    raw = ans.read_licences(_write(tmp_path / "ANS_LICENCES_QPV_2023.csv", LICENCE_HEADER, lines, "utf-8"))
    assert raw.loc[0, "libelle_qpv"] == "Cœur de Ville"
    values = ans.normalise_licences(raw)["values"]
    assert values["breakdown"].tolist() == ["sexe=F", "sexe=H", "sexe=F", "sexe=H", "sexe=F", "sexe=X", "sexe=H"]
    assert values["status"].tolist() == ["ok", "ok", "ok", "invalid", "invalid", "invalid", "ok"]
    assert values["value"].tolist()[:3] == [1204.0, 1987.0, 87.0] and values["value"].iloc[6] == 0.0
    assert values["value"].iloc[3:6].isna().all()


def test_a_windows_1252_licence_file_is_read_too(tmp_path):
    path = _write(tmp_path / "ANS_LICENCES_QPV_2019.csv", LICENCE_HEADER, ["2019;QP093001;Cité Éluard;F;40"], "cp1252")
    raw = ans.read_licences(path)
    assert raw.attrs["encoding"] == "cp1252" and raw.loc[0, "libelle_qpv"] == "Cité Éluard"


def test_a_missing_licence_column_is_a_file_shape_error(tmp_path):
    path = tmp_path / "ANS_LICENCES_QPV_2024.csv"
    path.write_text("annee;code_qpv;sexe\n2024;QN07501M;F\n", encoding="utf-8")
    with pytest.raises(FileShapeError) as error:
        ans.read_licences(path)
    assert error.value.rule == "missing_columns" and "licences" in error.value.column


# --- gates ---------------------------------------------------------------------------------------------------------


def _run(path: Path, kind: str, parameters) -> tuple[gates.GateResult, gates.GateResult, pd.DataFrame]:
    if kind == "subventions":
        raw, frame = ans.read_subventions(path), "lignes"
        staged = ans.normalise_subventions(raw)
    else:
        raw, frame = ans.read_licences(path), "values"
        staged = ans.normalise_licences(raw)
    file_result = gates.run_suite(f"ans_{kind}.file", raw, gate="file")
    rows_result = gates.run_suite(f"ans_{kind}.rows", staged[frame], gate="rows", parameters=parameters)
    return file_result, rows_result, raw


def test_generated_files_pass_their_gates(files, parameters):
    for name, kind in (
        ("ANS_SUBVENTIONS_2023.csv", "subventions"),
        ("ANS_SUBVENTIONS_2024.csv", "subventions"),
        ("ANS_LICENCES_QPV_2021.csv", "licences"),
        ("ANS_LICENCES_QPV_2024.csv", "licences"),
    ):
        file_result, rows_result, _ = _run(files[name], kind, parameters)
        for result in (file_result, rows_result):
            assert result.passed and result.warnings == [], (
                name,
                [o.describe() for o in result.outcomes if not o.success],
            )


def test_the_broken_subsidy_file_is_blocked_by_the_rows_gate_on_four_lines(files, parameters):
    file_result, rows_result, raw = _run(files["ANS_SUBVENTIONS_2024_broken.csv"], "subventions", parameters)
    assert file_result.passed, [o.describe() for o in file_result.blocking_failures]
    known = set(parameters["qpv_codes"])
    negative = raw.loc[raw["montant"].str.startswith("-"), "line_no"].tolist()
    investment = raw.loc[raw["type_subvention"] == "investissement", "line_no"].tolist()
    unknown = raw.loc[(raw["code_qpv"] != "") & ~raw["code_qpv"].isin(known), "line_no"].tolist()
    repeated = raw.loc[raw["numero_dossier"].duplicated(keep=False), "line_no"].tolist()
    assert len(negative) == len(investment) == len(unknown) == 1 and len(repeated) == 2
    assert len({*negative, *investment, *unknown, *repeated}) == 5

    failures = {o.column: o for o in rows_result.blocking_failures}
    assert set(failures) == {"montant", "type_subvention", "code_qpv", "numero_dossier"}
    assert failures["montant"].expectation_type == "expect_column_values_to_be_between"
    for column, lines in (("montant", negative), ("type_subvention", investment), ("code_qpv", unknown)):
        assert failures[column].unexpected_count == 1 and failures[column].sample[0]["line_no"] == lines[0], column
    assert failures["type_subvention"].sample[0]["value"] == "investissement"
    assert failures["numero_dossier"].unexpected_count == 2
    assert sorted(s["line_no"] for s in failures["numero_dossier"].sample) == repeated


def test_the_broken_licence_file_fails_both_gates_with_its_lines(files, parameters):
    file_result, rows_result, raw = _run(files["ANS_LICENCES_QPV_2024_broken.csv"], "licences", parameters)
    masked = raw.loc[raw["licences"] == "s", "line_no"].tolist()
    repeated = raw.loc[raw.duplicated(["code_qpv", "sexe"], keep=False), "line_no"].tolist()
    assert len(masked) == 1 and len(repeated) == 2 and repeated[1] == repeated[0] + 1

    [failure] = file_result.blocking_failures
    assert failure.column == "licences" and failure.unexpected_count == 1
    assert failure.sample == [{"line_no": masked[0], "value": "s"}]

    failures = {o.column: o for o in rows_result.blocking_failures}
    key = "indicator_code,territory_level,territory_code,period_code,breakdown"
    assert set(failures) == {"status", key}
    assert failures["status"].unexpected_count == 1 and failures["status"].sample[0]["line_no"] == masked[0]
    assert failures[key].unexpected_count == 2
    assert sorted(s["line_no"] for s in failures[key].sample) == repeated


def test_the_subsidy_file_gate_checks_codes_and_shapes(files):
    raw = ans.read_subventions(files["ANS_SUBVENTIONS_2023.csv"]).head(300).copy()
    raw.loc[3, "siret"] = "1234567890123"
    raw.loc[5, "code_commune"] = "1053.0"
    raw.loc[7, "code_qpv"] = "QP75001"
    raw.loc[9, "annee"] = "23"
    raw.loc[11, "numero_dossier"] = "2023-12"
    result = gates.run_suite("ans_subventions.file", raw, gate="file")
    failures = {o.column: o for o in result.blocking_failures}
    assert set(failures) == {"siret", "code_commune", "code_qpv", "annee", "numero_dossier"}
    for column, row in (("siret", 3), ("code_commune", 5), ("code_qpv", 7), ("annee", 9), ("numero_dossier", 11)):
        assert failures[column].sample[0]["line_no"] == raw.loc[row, "line_no"], column
    assert all(o.unexpected_count == 1 for o in failures.values())


def test_the_subsidy_rows_gate_checks_years_departements_and_amounts(files, parameters):
    lignes = ans.normalise_subventions(ans.read_subventions(files["ANS_SUBVENTIONS_2023.csv"]))["lignes"]
    lignes = lignes.head(300).copy()
    lignes.loc[2, "annee"] = "2031"
    lignes.loc[4, "departement_code"] = "20"
    lignes.loc[6, "montant"] = 12_000_000.0
    lignes.loc[8, "status"] = "invalid"
    lignes.loc[8, "montant"] = np.nan
    result = gates.run_suite("ans_subventions.rows", lignes, gate="rows", parameters=parameters)
    failures = {(o.expectation_type, o.column): o for o in result.blocking_failures}
    assert set(failures) == {
        ("expect_column_values_to_be_in_referential", "annee"),
        ("expect_column_values_to_be_in_referential", "departement_code"),
        ("expect_column_values_to_be_between", "montant"),
        ("expect_column_values_to_be_in_set", "status"),
    }
    assert all(o.unexpected_count == 1 for o in failures.values())
    assert [w.expectation_type for w in result.warnings] == ["expect_table_row_count_to_be_between"]


def test_the_licence_rows_gate_checks_codes_years_and_sexes(files, parameters):
    values = ans.normalise_licences(ans.read_licences(files["ANS_LICENCES_QPV_2024.csv"]))["values"].copy()
    values.loc[1, "period_code"] = "2031"
    values.loc[3, "breakdown"] = "sexe=X"
    values.loc[5, "territory_code"] = "QN07599N"  # QPV-shaped, in neither geography
    values.loc[7, "value"] = -1.0
    result = gates.run_suite("ans_licences.rows", values, gate="rows", parameters=parameters)
    failures = {(o.expectation_type, o.column): o for o in result.blocking_failures}
    assert set(failures) == {
        ("expect_column_values_to_be_in_referential", "period_code"),
        ("expect_column_values_to_be_in_set", "breakdown"),
        ("expect_column_values_to_be_in_referential", "territory_code"),
        ("expect_column_values_to_be_between", "value"),
    }
    assert (
        failures[("expect_column_values_to_be_in_referential", "territory_code")].sample[0]["line_no"]
        == values.loc[5, "line_no"]
    )
