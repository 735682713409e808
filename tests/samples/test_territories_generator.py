"""Tests of the sample QPV referential generator: determinism, counts, code shapes, spread and correspondence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from etl.config import PROJECT_ROOT
from etl.referentiels.territories import (
    COMMUNE_PATTERN,
    CORRESPONDANCE_COLUMNS,
    QP2015_PATTERN,
    QP2024_PATTERN,
    QPV_COLUMNS,
    SIREN_PATTERN,
    load_departements,
    normalise_correspondance,
    normalise_qpv,
    read_anct,
    read_correspondance,
)
from etl.samples.generators import territories as generator

FILES = sorted(
    [
        generator.QPV_2015_FILE,
        generator.QPV_2024_FILE,
        generator.CORRESPONDANCE_FILE,
        generator.CORRESPONDANCE_WIDE_FILE,
    ]
)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("territories")
    generator.generate(folder)
    return folder


@pytest.fixture(scope="module")
def geographies(out_dir) -> dict[str, dict[str, pd.DataFrame]]:
    return {
        "2015": normalise_qpv(read_anct(out_dir / generator.QPV_2015_FILE)),
        "2024": normalise_qpv(read_anct(out_dir / generator.QPV_2024_FILE)),
    }


@pytest.fixture(scope="module")
def correspondance(out_dir) -> pd.DataFrame:
    return normalise_correspondance(read_correspondance(out_dir / generator.CORRESPONDANCE_FILE))


def _luhn_ok(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


# --- files and determinism -----------------------------------------------------------------------------------------


def test_generate_returns_the_three_files_sorted(tmp_path):
    paths = generator.generate(tmp_path / "out")
    assert paths == sorted(paths)
    assert [path.name for path in paths] == FILES
    assert all(path.parent == tmp_path / "out" for path in paths)


def test_same_seed_gives_identical_bytes(tmp_path, out_dir):
    generator.generate(tmp_path / "again")
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (out_dir / name).read_bytes(), name


def test_same_bytes_in_another_process_with_another_hash_seed(tmp_path, out_dir):
    """Set or hash ordering must never leak into the output: a new interpreter gives the same bytes."""
    code = (
        "import sys, pathlib; from etl.samples.generators.territories import generate; "
        "generate(pathlib.Path(sys.argv[1]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "proc")], check=True, env=env, cwd=PROJECT_ROOT)
    for name in FILES:
        assert (tmp_path / "proc" / name).read_bytes() == (out_dir / name).read_bytes(), name


def test_another_seed_gives_another_referential(tmp_path, out_dir):
    generator.generate(tmp_path / "other", seed=7)
    assert (tmp_path / "other" / generator.QPV_2015_FILE).read_bytes() != (
        out_dir / generator.QPV_2015_FILE
    ).read_bytes()


def test_files_are_utf8_semicolon_with_exact_headers_and_lf(out_dir):
    for name, header in (
        (generator.QPV_2015_FILE, QPV_COLUMNS),
        (generator.CORRESPONDANCE_FILE, CORRESPONDANCE_COLUMNS),
    ):
        data = (out_dir / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in data
        text = data.decode("utf-8")
        assert text.endswith("\n")
        assert text.split("\n", 1)[0] == ";".join(header)


def test_the_2024_list_and_the_correspondence_are_in_ancts_real_layouts(out_dir):
    data = (out_dir / generator.QPV_2024_FILE).read_bytes()
    lines = data.decode("utf-8-sig").split("\n")
    assert data.startswith(b"\xef\xbb\xbf") and lines[0] == ";".join(QPV_COLUMNS) + ";" * 13
    assert lines[-2] == ";" * 22 and lines[-1] == ""  # an all-empty last row
    assert all(line.endswith(";" * 13) for line in lines[1:-1])
    assert sum('"=""' in line for line in lines) > 100  # Excel text literals
    wide = (out_dir / generator.CORRESPONDANCE_WIDE_FILE).read_bytes().decode("utf-8-sig").split("\n")
    assert wide[0] == ";".join(generator.CORRESPONDANCE_WIDE_COLUMNS)
    veille = generator.read_veille(out_dir)
    assert len(veille) == generator.SORTANT_COUNT and not any(code in "\n".join(wide) for code in veille)


# --- counts and shapes ---------------------------------------------------------------------------------------------


def test_counts(geographies):
    assert len(geographies["2015"]["qpv"]) == 1514
    assert 1550 <= len(geographies["2024"]["qpv"]) <= 1620
    for frames in geographies.values():
        assert frames["qpv"]["code_qp"].is_unique


def test_code_shapes(geographies):
    for geography, pattern in (("2015", QP2015_PATTERN), ("2024", QP2024_PATTERN)):
        frames = geographies[geography]
        assert frames["qpv"]["code_qp"].str.fullmatch(pattern).all()
        assert (frames["qpv"]["geography"] == geography).all()
        assert frames["qpv_commune"]["insee_com"].str.fullmatch(COMMUNE_PATTERN).all()
        assert frames["qpv_epci"]["siren_epci"].str.fullmatch(SIREN_PATTERN).all()
        assert frames["qpv_epci"]["siren_epci"].str.startswith("2").all()
        assert frames["qpv_epci"]["siren_epci"].map(_luhn_ok).all()
        assert frames["qpv"]["lib_qp"].notna().all()
        assert frames["qpv_commune"]["lib_com"].notna().all()
        assert frames["qpv_epci"]["lib_epci"].notna().all()


def test_qpv_code_carries_its_departement_and_communes_belong_to_it(geographies):
    for frames in geographies.values():
        qpv = frames["qpv"]
        dep3 = qpv["insee_dep"].where(qpv["insee_dep"].str.len() == 3, "0" + qpv["insee_dep"])
        assert (qpv["code_qp"].str[2:5] == dep3).all()
        communes = frames["qpv_commune"].merge(qpv[["code_qp", "insee_dep"]], on="code_qp")
        assert communes.apply(lambda row: row["insee_com"].startswith(row["insee_dep"]), axis=1).all()


def test_regions_and_departements_come_from_the_catalogue(geographies):
    departements = load_departements().rename(columns={"code": "insee_dep", "nom": "lib_dep", "code_region": "reg"})
    for frames in geographies.values():
        joined = frames["qpv"].merge(departements, on=["insee_dep", "lib_dep"], how="left")
        assert joined["reg"].notna().all()
        assert (joined["reg"] == joined["insee_reg"]).all()


# --- multi-commune QPV and EPCI ------------------------------------------------------------------------------------


def test_about_150_qpv_span_several_communes(geographies):
    for frames in geographies.values():
        per_qpv = frames["qpv_commune"].groupby("code_qp").size()
        assert 120 <= (per_qpv > 1).sum() <= 180
        assert per_qpv.max() <= 3


def test_every_qpv_is_in_one_or_two_epci(geographies):
    for frames in geographies.values():
        per_qpv = frames["qpv_epci"].groupby("code_qp").size()
        assert set(per_qpv.index) == set(frames["qpv"]["code_qp"])
        assert per_qpv.between(1, 2).all()
        assert (per_qpv == 2).sum() > 10
        communes = frames["qpv_commune"].groupby("code_qp").size()
        assert (communes[per_qpv[per_qpv == 2].index] > 1).all()


def test_single_commune_rows_drop_the_leading_zero_and_multi_commune_rows_keep_it(out_dir):
    raw = pd.read_csv(out_dir / generator.QPV_2015_FILE, sep=";", dtype=str, keep_default_na=False)  # as written
    multi = raw["insee_com"].str.contains(";")
    assert not raw.loc[~multi, "insee_com"].str.startswith("0").any()
    assert raw.loc[~multi & (raw["insee_dep"] == "01"), "insee_com"].str.fullmatch(r"1\d{3}").all()
    assert raw.loc[multi & raw["insee_dep"].str.startswith("0"), "insee_com"].str.startswith("0").any()
    assert raw["insee_dep"].isin(["01", "2A", "2B", "971", "976"]).any()
    text = (out_dir / generator.QPV_2015_FILE).read_text(encoding="utf-8")
    assert '"' in text  # multi-valued cells are quoted because they contain the separator


# --- spread over départements --------------------------------------------------------------------------------------


def test_spread_follows_the_urban_weight(geographies):
    all_departements = set(load_departements()["code"])
    for geography, frames in geographies.items():
        counts = frames["qpv"]["insee_dep"].value_counts()
        assert set(counts.index) == all_departements, geography  # every département has a QPV
        for big in ("59", "13", "93", "974"):
            assert counts[big] >= 40, (geography, big)
        assert 55 <= counts["59"] <= 75
        assert (counts <= 3).sum() >= 8  # small rural départements have one to three
        assert counts[["971", "972", "973", "974", "976"]].min() >= 10
    assert geographies["2015"]["qpv"]["insee_dep"].value_counts()["59"] >= 60


def test_names_are_unique_within_a_commune(geographies):
    for frames in geographies.values():
        names = frames["qpv_commune"].merge(frames["qpv"][["code_qp", "lib_qp"]], on="code_qp")
        assert not names.duplicated(["insee_com", "lib_qp"]).any()


# --- correspondence ------------------------------------------------------------------------------------------------


def test_every_2015_qpv_appears_once(correspondance, geographies):
    assert correspondance["code_qp_2015"].is_unique
    assert set(correspondance["code_qp_2015"]) == set(geographies["2015"]["qpv"]["code_qp"])
    assert set(correspondance["type_evolution"]) == {"identique", "modifie", "sortant"}


def test_sortants_have_no_successor(correspondance):
    sortant = correspondance["type_evolution"] == "sortant"
    assert correspondance.loc[sortant, "code_qp_2024"].isna().all()
    assert correspondance.loc[~sortant, "code_qp_2024"].notna().all()
    assert 150 <= sortant.sum() <= 250


def test_successors_exist_with_the_right_letter_and_departement(correspondance, geographies):
    qpv_2015 = geographies["2015"]["qpv"].set_index("code_qp")
    qpv_2024 = geographies["2024"]["qpv"].set_index("code_qp")
    kept = correspondance.dropna(subset=["code_qp_2024"])
    assert kept["code_qp_2024"].is_unique
    assert kept["code_qp_2024"].isin(qpv_2024.index).all()
    letters = kept["code_qp_2024"].str[-1]
    assert (letters == kept["type_evolution"].map({"identique": "I", "modifie": "M"})).all()
    before = qpv_2015.loc[kept["code_qp_2015"], "insee_dep"].to_numpy()
    after = qpv_2024.loc[kept["code_qp_2024"], "insee_dep"].to_numpy()
    assert (before == after).all()
    identique = kept[kept["type_evolution"] == "identique"]
    assert (
        qpv_2015.loc[identique["code_qp_2015"], "lib_qp"].to_numpy()
        == qpv_2024.loc[identique["code_qp_2024"], "lib_qp"].to_numpy()
    ).all()


def test_new_qpv_have_no_predecessor(correspondance, geographies):
    codes_2024 = geographies["2024"]["qpv"]["code_qp"]
    new = codes_2024[codes_2024.str.endswith("N")]
    assert 200 <= len(new) <= 300
    assert not new.isin(correspondance["code_qp_2024"]).any()
    continuing = codes_2024[~codes_2024.str.endswith("N")]
    assert continuing.isin(correspondance["code_qp_2024"]).all()
    assert (codes_2024.str[-1].value_counts() > 100).all()  # N, M and I all present in number
