"""Tests of the territory referential: catalogue, code patterns, the ANCT reader and its normaliser."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from etl import readers
from etl.referentiels.territories import (
    COMMUNE_PATTERN,
    DEPARTEMENT_PATTERN,
    QP2015_PATTERN,
    QP2024_PATTERN,
    QPV_COLUMNS,
    REGION_PATTERN,
    FileShapeError,
    departement_code3,
    geography_partition,
    load_departements,
    load_regions,
    normalise_correspondance,
    normalise_correspondance_frames,
    normalise_qpv,
    read_anct,
    read_correspondance,
)
from etl.samples.generators import territories as generator

HEADER = ";".join(QPV_COLUMNS)

# The real ANCT export: every field quoted, a multi-commune QPV across two EPCI, single-commune rows whose commune
# code lost its leading zero, one-digit région and département codes, a blank line, a name over two lines.
REAL_SAMPLE = (
    '"code_qp";"lib_qp";"insee_reg";"lib_reg";"insee_dep";"lib_dep";"insee_com";"lib_com";"siren_epci";"lib_epci"\n'
    '"QP001001";"Grande Reyssouze";"84";"Auvergne-Rhône-Alpes";"01";"Ain";"1053; 1283";"Bourg-en-Bresse; Oyonnax";'
    '"200071751; 200042935";"CA du Bassin de Bourg-en-Bresse; CC Haut-Bugey"\n'
    '"QP001002";"Croix Blanche";"84";"Auvergne-Rhône-Alpes";"1";"Ain";"1053";"Bourg-en-Bresse";"200071751";'
    '"CA du Bassin de Bourg-en-Bresse"\n'
    "\n"
    '"QN97450N";"Ravine\nBlanche";"4";"La Réunion";"974";"La Réunion";"97416";"Saint-Pierre";"249740077";'
    '"CA CIVIS"\n'
    '"QP02A001";"Les Jardins de l\'Empereur";"94";"Corse";"2A";"Corse-du-Sud";"2A004";"Ajaccio";"242010056";'
    '"CA du Pays Ajaccien"\n'
)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- catalogue and code shapes -------------------------------------------------------------------------------------


def test_catalogue_has_18_regions_and_101_departements():
    regions = load_regions()
    assert list(regions.columns) == ["code", "nom"]
    assert regions["code"].tolist() == [
        "01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94",
    ]  # fmt: skip
    assert regions.set_index("code")["nom"]["11"] == "Île-de-France"
    departements = load_departements()
    assert list(departements.columns) == ["code", "nom", "code_region"]
    assert len(departements) == 101 and departements["code"].is_unique
    assert departements["code"].str.fullmatch(DEPARTEMENT_PATTERN).all()
    assert departements["code_region"].isin(regions["code"]).all()
    assert regions["code"].str.fullmatch(REGION_PATTERN).all()
    by_code = departements.set_index("code")
    assert by_code.loc["2A", "nom"] == "Corse-du-Sud" and by_code.loc["2B", "code_region"] == "94"
    assert by_code.loc["93", "nom"] == "Seine-Saint-Denis" and by_code.loc["59", "code_region"] == "32"
    assert by_code.loc["976", "code_region"] == "06" and "20" not in by_code.index and "975" not in by_code.index
    assert departements.groupby("code_region").size()["11"] == 8


@pytest.mark.parametrize("code", ["QP075001", "QP031007", "QP02A001", "QP02B012", "QP971001", "QP976036"])
def test_qp2015_pattern_accepts(code):
    assert re.fullmatch(QP2015_PATTERN, code)


@pytest.mark.parametrize("code", ["QP75001", "QP020001", "QP096001", "QP2A0001", "QN075001", "QP07500A", "qp075001"])
def test_qp2015_pattern_rejects(code):
    assert not re.fullmatch(QP2015_PATTERN, code)


@pytest.mark.parametrize("code", ["QN07501M", "QN02A01M", "QN97450N", "QN05912I"])
def test_qp2024_pattern_accepts(code):
    assert re.fullmatch(QP2024_PATTERN, code)


@pytest.mark.parametrize("code", ["QN07501X", "QN7501M", "QN075001M", "QP07501M", "QN02001N"])
def test_qp2024_pattern_rejects(code):
    assert not re.fullmatch(QP2024_PATTERN, code)


def test_commune_pattern():
    for good in ("75056", "01053", "2A004", "2B033", "97411", "97601"):
        assert re.fullmatch(COMMUNE_PATTERN, good), good
    for bad in ("1053", "1053.0", "20004", "2C004", "9741", "974111", "96001"):
        assert not re.fullmatch(COMMUNE_PATTERN, bad), bad


def test_departement_code3():
    assert [departement_code3(code) for code in ("75", "01", "2A", "971")] == ["075", "001", "02A", "971"]


# --- reading ---------------------------------------------------------------------------------------------------------


def test_read_generated_file(tmp_path):
    generator.generate(tmp_path)
    raw = read_anct(tmp_path / generator.QPV_2015_FILE)
    assert list(raw.columns) == ["line_no", *QPV_COLUMNS]
    assert raw["line_no"].dtype == "int64"
    assert raw["line_no"].tolist() == list(range(2, 2 + 1514))
    assert all(pd.api.types.is_string_dtype(raw[name]) for name in QPV_COLUMNS)
    frames = normalise_qpv(raw)
    communes = frames["qpv_commune"]
    assert communes["insee_com"].str.len().eq(5).all()
    ain = communes[communes["code_qp"].str.startswith("QP001")]
    assert len(ain) and ain["insee_com"].str.startswith("01").all()


def test_read_real_anct_sample(tmp_path):
    path = _write(tmp_path / "qpv.csv", "\ufeff" + REAL_SAMPLE)
    raw = read_anct(path)
    assert raw["line_no"].tolist() == [2, 3, 5, 7]  # line 4 is blank; the name on lines 5-6 holds a line break
    assert raw.loc[0, "insee_com"] == "01053; 01283"  # the layout pads the commune codes (registry: pad 5)
    assert raw.loc[1, "insee_dep"] == "1"  # the reader keeps the text as read

    frames = normalise_qpv(raw)
    qpv = frames["qpv"]
    assert list(qpv.columns) == [
        "line_no", "code_qp", "lib_qp", "geography", "insee_reg", "lib_reg", "insee_dep", "lib_dep",
    ]  # fmt: skip
    assert qpv["geography"].tolist() == ["2015", "2015", "2024", "2015"]
    assert qpv["insee_dep"].tolist() == ["01", "01", "974", "2A"]
    assert qpv["insee_reg"].tolist() == ["84", "84", "04", "94"]
    assert qpv.loc[2, "lib_qp"] == "Ravine\nBlanche"

    communes = frames["qpv_commune"]
    assert list(communes.columns) == ["line_no", "code_qp", "insee_com", "lib_com"]
    assert communes.values.tolist() == [
        [2, "QP001001", "01053", "Bourg-en-Bresse"],
        [2, "QP001001", "01283", "Oyonnax"],
        [3, "QP001002", "01053", "Bourg-en-Bresse"],
        [5, "QN97450N", "97416", "Saint-Pierre"],
        [7, "QP02A001", "2A004", "Ajaccio"],
    ]
    epci = frames["qpv_epci"]
    assert list(epci.columns) == ["line_no", "code_qp", "siren_epci", "lib_epci"]
    assert epci[epci["code_qp"] == "QP001001"][["siren_epci", "lib_epci"]].values.tolist() == [
        ["200071751", "CA du Bassin de Bourg-en-Bresse"],
        ["200042935", "CC Haut-Bugey"],
    ]
    assert epci.groupby("code_qp", sort=False).size().tolist() == [2, 1, 1, 1]

    for frame in frames.values():
        assert frame["line_no"].dtype == "int64"
        assert all(pd.api.types.is_string_dtype(frame[name]) for name in frame.columns if name != "line_no")


def test_uppercase_header_crlf_and_trailing_empty_rows(tmp_path):
    text = HEADER.upper().replace(";", " ; ") + "\r\n"
    text += "QP059001;Lille Sud;32;Hauts-de-France;59;Nord;59350;Lille;200093201;Métropole Européenne de Lille\r\n"
    text += ";;;;;;;;;\r\n\r\n"
    raw = read_anct(_write(tmp_path / "qpv.csv", text))
    assert list(raw.columns) == ["line_no", *QPV_COLUMNS]
    assert raw["line_no"].tolist() == [2]
    assert raw.loc[0, "lib_epci"] == "Métropole Européenne de Lille"


def test_values_of_the_wrong_shape_are_not_repaired(tmp_path):
    text = HEADER + "\n"
    text += "QP001003;Bad float;84.0;ARA;1.0;Ain;1053.0;Bourg;200071751.0;CA\n"
    text += "QP75001;Short code;11;IDF;075;Paris;75056; ;200054781;MGP\n"
    text += "XX001001;Two communes, one name;84;ARA;01;Ain;1053; 1283;Bourg;200071751;CA\n"
    path = _write(tmp_path / "qpv.csv", text.replace("1053; 1283", '"1053; 1283"'))
    frames = normalise_qpv(read_anct(path))
    qpv = frames["qpv"]
    assert qpv["insee_reg"].tolist() == ["84.0", "11", "84"]
    assert qpv["insee_dep"].tolist() == ["1.0", "075", "01"]
    assert qpv["code_qp"].tolist() == ["QP001003", "QP75001", "XX001001"]
    assert qpv["geography"].tolist()[:2] == ["2015", "2015"] and pd.isna(qpv["geography"].iloc[2])
    communes = frames["qpv_commune"]
    assert communes["insee_com"].tolist() == ["1053.0", "75056", "01053", "01283"]
    assert communes["line_no"].tolist() == [2, 3, 4, 4]
    assert communes["lib_com"].iloc[1] == ""  # a blank name stays empty text, for the gate's regex to reject
    assert communes["lib_com"].tolist()[2:] == ["Bourg", ""]  # a commune code without a name: empty, not invented
    assert frames["qpv_epci"]["siren_epci"].iloc[0] == "200071751.0"


# --- file shape errors -----------------------------------------------------------------------------------------------


def test_latin1_file_is_rejected_with_its_line(tmp_path):
    text = HEADER + "\n"
    text += "QP059001;Lille Sud;32;Hauts-de-France;59;Nord;59350;Lille;200093201;MEL\n"
    text += "QP059002;Les Près;32;Hauts-de-France;59;Nord;59512;Roubaix;200093201;MEL\n"
    path = _write(tmp_path / "latin1.csv", text, encoding="latin-1")
    with pytest.raises(FileShapeError) as caught:
        read_anct(path)
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, readers.FileShapeError)  # what the pipeline catches to quarantine the file
    assert error.rule == "encoding"
    assert error.line == 3
    assert error.column == "lib_qp"
    assert "line 3" in str(error) and "UTF-8" in str(error)


def test_latin1_in_a_later_column(tmp_path):
    text = HEADER + "\n" + 'QP059001;"Lille; Sud";32;Hauts-de-France;59;Nord;59350;Lille;200093201;Métropole\n'
    with pytest.raises(FileShapeError) as caught:
        read_anct(_write(tmp_path / "latin1.csv", text, encoding="latin-1"))
    assert (caught.value.line, caught.value.column) == (2, "lib_epci")


@pytest.mark.parametrize(
    ("content", "line"),
    [(b"", 1), (b"\xef\xbb\xbf", 1), (b"\n\n", 1), (HEADER.encode() + b"\n", 2), (HEADER.encode() + b"\n;;;;\n\n", 2)],
)
def test_empty_file(tmp_path, content, line):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(FileShapeError) as caught:
        read_anct(path)
    assert caught.value.rule == "empty_file"
    assert caught.value.line == line


def test_missing_columns_are_listed(tmp_path):
    header = HEADER.replace(";siren_epci", "").replace(";lib_com", "")
    path = _write(tmp_path / "qpv.csv", header + "\nQP059001;Lille Sud;32;HdF;59;Nord;59350;MEL\n")
    with pytest.raises(FileShapeError) as caught:
        read_anct(path)
    assert caught.value.rule == "missing_columns"
    assert caught.value.line == 1
    assert "lib_com" in str(caught.value) and "siren_epci" in str(caught.value)
    assert caught.value.column == "lib_com, siren_epci"


def test_row_with_too_many_fields(tmp_path):
    text = HEADER + "\n"
    text += 'QP059001;"Lille\nSud";32;HdF;59;Nord;59350;Lille;200093201;MEL\n'
    text += "QP059002;Roubaix;32;HdF;59;Nord;59512;Roubaix;200093201;MEL;extra\n"
    with pytest.raises(FileShapeError) as caught:
        read_anct(_write(tmp_path / "qpv.csv", text))
    assert caught.value.rule == "field_count"
    assert caught.value.line == 4


# --- correspondence --------------------------------------------------------------------------------------------------


def test_read_and_normalise_correspondance(tmp_path):
    text = "code_qp_2015;code_qp_2024;type_evolution\n"
    text += "QP001001;QN00101M;modifie\nQP001002;;sortant\nQP001003; QN00102I ;identique\nQP001004;;vanished\n"
    raw = read_correspondance(_write(tmp_path / "corr.csv", text))
    assert raw["line_no"].tolist() == [2, 3, 4, 5]
    table = normalise_correspondance(raw)
    assert list(table.columns) == ["line_no", "code_qp_2015", "code_qp_2024", "type_evolution"]
    assert table["code_qp_2024"].iloc[0] == "QN00101M" and table["code_qp_2024"].iloc[2] == "QN00102I"
    assert table["code_qp_2024"].isna().tolist() == [False, True, False, True]
    assert table["type_evolution"].tolist() == ["modifie", "sortant", "identique", "vanished"]
    assert table["line_no"].dtype == "int64"
    assert pd.api.types.is_string_dtype(table["code_qp_2024"])


def test_correspondance_shape_errors(tmp_path):
    with pytest.raises(FileShapeError) as caught:
        read_correspondance(_write(tmp_path / "a.csv", "code_qp_2015;type_evolution\nQP001001;sortant\n"))
    assert caught.value.rule == "missing_columns" and caught.value.column == "code_qp_2024"
    with pytest.raises(FileShapeError) as caught:
        read_correspondance(_write(tmp_path / "b.csv", "code_qp_2015;code_qp_2024;type_evolution\n"))
    assert caught.value.rule == "empty_file"


def test_pipeline_hooks(tmp_path):
    frames = normalise_qpv(read_anct(_write(tmp_path / "qpv.csv", REAL_SAMPLE)))
    assert geography_partition({"qpv": frames["qpv"][frames["qpv"]["geography"] == "2015"]}) == "2015"
    assert geography_partition(frames) == "2015+2024"
    text = "code_qp_2015;code_qp_2024;type_evolution\nQP001002;;sortant\n"
    staged = normalise_correspondance_frames(read_correspondance(_write(tmp_path / "corr.csv", text)))
    assert list(staged) == ["correspondance"]
    assert staged["correspondance"]["type_evolution"].tolist() == ["sortant"]
