"""Tests of the ANS sample generator: determinism, encodings, QPV in force, shares and sizes, quirks, broken files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from etl.referentiels.territories import QP2015_PATTERN, QP2024_PATTERN, load_departements, normalise_qpv, read_anct
from etl.samples.generators import ans as generator
from etl.samples.generators.france_travail import qpv_key, read_geography
from etl.samples.generators.territories import read_veille
from etl.sources.ans import LICENCE_COLUMNS, SUBVENTION_COLUMNS

SUBSIDY_YEARS = [2023, 2024, 2025]
LICENCE_YEARS = [2021, 2023, 2024, 2025]
QP = QP2015_PATTERN[1:-1]
QN = QP2024_PATTERN[1:-1]


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory, territories_dir) -> Path:
    folder = tmp_path_factory.mktemp("ans")
    generator.generate_subventions(folder, territories_dir, SUBSIDY_YEARS, broken=True)
    generator.generate_licences(folder, territories_dir, LICENCE_YEARS, broken=True, layout="plateforme")
    return folder


@pytest.fixture(scope="module")
def qpv(territories_dir) -> dict[str, pd.DataFrame]:
    """The QPV of each geography (code, département) and their communes."""
    out = {}
    for geo in ("2015", "2024"):
        frames = normalise_qpv(read_anct(territories_dir / f"qpv_{geo}.csv"))
        out[geo] = frames["qpv"]
        out[f"{geo}_communes"] = frames["qpv_commune"]
    return out


def _frame(path: Path, encoding: str) -> pd.DataFrame:
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=";"))
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype="str")
    frame.insert(0, "line_no", range(2, len(rows) + 1))
    return frame


def _subsidies(out_dir: Path, year: int) -> pd.DataFrame:
    frame = _frame(out_dir / f"ANS_SUBVENTIONS_{year}.csv", "cp1252")
    compact = frame["montant"].str.replace(r"[ \u00a0]", "", regex=True).str.replace(",", ".")
    frame["euros"] = compact.astype(float)
    frame["commune"] = frame["code_commune"].str.zfill(5)
    frame["dep"] = frame["commune"].str[:2].where(~frame["commune"].str.startswith("97"), frame["commune"].str[:3])
    regions = dict(zip(load_departements()["code"], load_departements()["code_region"], strict=True))
    frame["region"] = frame["dep"].map(regions)
    frame["kind"] = frame["type_subvention"].str.strip().str.lower().str.replace("é", "e")
    return frame


def _licences(out_dir: Path, year: int) -> pd.DataFrame:
    frame = _frame(out_dir / f"ANS_LICENCES_QPV_{year}.csv", "utf-8")
    frame["count"] = frame["licences"].str.replace(r"[ \u00a0]", "", regex=True).astype(int)
    return frame


def _in_force(qpv, year: int) -> set[str]:
    if year < 2024:
        return set(qpv["2015"]["code_qp"])
    if year > 2024:
        return set(qpv["2024"]["code_qp"])
    metropole = qpv["2024"][~qpv["2024"]["insee_dep"].str.startswith("97")]["code_qp"]
    return set(metropole) | set(qpv["2015"][qpv["2015"]["insee_dep"].str.startswith("97")]["code_qp"])


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


# --- files and determinism -----------------------------------------------------------------------------------------


def test_file_names_headers_and_encodings(out_dir):
    names = sorted(path.name for path in out_dir.iterdir())
    assert names == sorted(
        [f"ANS_SUBVENTIONS_{year}.csv" for year in SUBSIDY_YEARS]
        + ["ANS_SUBVENTIONS_2025_broken.csv"]
        + [f"ANS_LICENCES_QPV_{year}.csv" for year in LICENCE_YEARS]
        + ["ANS_LICENCES_QPV_2025_broken.csv"]
    )
    for year in SUBSIDY_YEARS:
        data = (out_dir / f"ANS_SUBVENTIONS_{year}.csv").read_bytes()
        assert data.split(b"\n", 1)[0] == ";".join(SUBVENTION_COLUMNS).encode() and b"\r" not in data
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert "é" in data.decode("cp1252")
    for year in LICENCE_YEARS:
        data = (out_dir / f"ANS_LICENCES_QPV_{year}.csv").read_bytes()
        assert data.split(b"\n", 1)[0] == ";".join(LICENCE_COLUMNS).encode() and b"\r" not in data
        assert "é" in data.decode("utf-8")


def test_same_inputs_give_the_same_bytes(out_dir, territories_dir, tmp_path):
    paths = generator.generate_subventions(tmp_path, territories_dir, SUBSIDY_YEARS, broken=True)
    paths += generator.generate_licences(tmp_path, territories_dir, LICENCE_YEARS, broken=True, layout="plateforme")
    assert len(paths) == 9
    for path in paths:
        assert path.read_bytes() == (out_dir / path.name).read_bytes(), path.name


def test_a_file_does_not_depend_on_the_other_years_asked(out_dir, territories_dir, tmp_path):
    paths = generator.generate_subventions(tmp_path, territories_dir, [2024])
    paths += generator.generate_licences(tmp_path, territories_dir, [2024], layout="plateforme")
    assert [path.name for path in paths] == ["ANS_SUBVENTIONS_2024.csv", "ANS_LICENCES_QPV_2024.csv"]
    for path in paths:
        assert path.read_bytes() == (out_dir / path.name).read_bytes(), path.name
    assert not list(tmp_path.glob("*_broken*"))


def test_another_seed_gives_other_files(out_dir, territories_dir, tmp_path):
    [subsidies] = generator.generate_subventions(tmp_path, territories_dir, [2024], seed=7)
    [licences] = generator.generate_licences(tmp_path, territories_dir, [2024], seed=7, layout="plateforme")
    assert subsidies.read_bytes() != (out_dir / subsidies.name).read_bytes()
    assert licences.read_bytes() != (out_dir / licences.name).read_bytes()


def test_a_year_that_is_not_yyyy_is_refused(territories_dir, tmp_path):
    with pytest.raises(ValueError, match="YYYY"):
        generator.generate_subventions(tmp_path, territories_dir, ["24"])
    with pytest.raises(ValueError, match="YYYY"):
        generator.generate_licences(tmp_path, territories_dir, [1999])


# --- subsidies -----------------------------------------------------------------------------------------------------


def test_subsidy_lines_have_realistic_counts_types_and_amounts(out_dir):
    for year in SUBSIDY_YEARS:
        frame = _subsidies(out_dir, year)
        assert 3000 <= len(frame) <= 6000 and (frame["annee"] == str(year)).all()
        assert frame["numero_dossier"].is_unique and frame["numero_dossier"].str.fullmatch(rf"{year}-\d{{6}}").all()
        assert frame["numero_dossier"].is_monotonic_increasing
        assert set(frame["kind"]) == {"equipement", "fonctionnement"}
        equipment = frame[frame["kind"] == "equipement"]["euros"]
        operating = frame[frame["kind"] == "fonctionnement"]["euros"]
        assert 0.02 < len(equipment) / len(frame) < 0.10
        assert equipment.between(20_000, 800_000).all() and operating.between(500, 30_000).all()
        assert equipment.median() > 40_000 and operating.median() < 5_000
        assert frame["siret"].str.fullmatch(r"\d{14}").all() and frame["siret"].map(_luhn).all()
        assert frame["siret"].str[:9].map(_luhn).all()


def test_qpv_lines_hold_a_fifth_to_a_quarter_of_each_regions_euros(out_dir):
    for year in SUBSIDY_YEARS:
        frame = _subsidies(out_dir, year)
        assert frame["region"].notna().all() and frame["region"].nunique() == 18
        in_qpv = frame["code_qpv"] != ""
        assert 0.08 < in_qpv.mean() < 0.4  # most lines have no QPV
        share = frame[in_qpv].groupby("region")["euros"].sum() / frame.groupby("region")["euros"].sum()
        assert len(share) == 18 and share.between(0.18, 0.30).all(), share.to_dict()
        assert (frame[in_qpv]["kind"] == "equipement").sum() >= 10  # equipment in QPV too


def test_qpv_lines_use_the_qpv_in_force_and_its_commune(out_dir, qpv):
    communes = pd.concat([qpv["2015_communes"], qpv["2024_communes"]])
    communes_of = communes.groupby("code_qp")["insee_com"].apply(set).to_dict()
    for year in SUBSIDY_YEARS:
        frame = _subsidies(out_dir, year)
        lines = frame[frame["code_qpv"] != ""]
        assert set(lines["code_qpv"]) <= _in_force(qpv, year)
        assert all(c in communes_of[q] for q, c in zip(lines["code_qpv"], lines["commune"], strict=True))
        codes = lines["code_qpv"]
        if year == 2023:
            assert codes.str.fullmatch(QP).all()
        elif year == 2024:
            overseas = codes.str.match("^Q[PN]97")
            assert codes[overseas].str.fullmatch(QP).all() and codes[~overseas].str.fullmatch(QN).all()
            assert overseas.sum() > 10
        else:
            assert codes.str.fullmatch(QN).all()


def test_communes_are_those_of_the_referential_and_a_few_others_of_the_departement(out_dir, qpv):
    referential = set(qpv["2015_communes"]["insee_com"]) | set(qpv["2024_communes"]["insee_com"])
    frame = _subsidies(out_dir, 2024)
    assert frame["commune"].str.fullmatch(r"(?:0[1-9]|[1-8]\d|9[0-5]|2[AB])\d{3}|97[1-46]\d{2}").all()
    others = frame[~frame["commune"].isin(referential)]
    assert 0.03 < len(others) / len(frame) < 0.4 and (others["code_qpv"] == "").all()
    assert others["commune"].nunique() > 200 and frame["dep"].nunique() == 101
    assert {"2A", "2B", "976"} <= set(others["dep"])
    # the producer's spreadsheet dropped the leading zero: never a 5-digit code starting with 0
    assert not frame["code_commune"].str.match(r"0").any() and (frame["code_commune"].str.len() == 4).sum() > 50


def test_the_producer_quirks_are_there(out_dir):
    raw = (out_dir / "ANS_SUBVENTIONS_2024.csv").read_bytes().decode("cp1252")
    frame = _subsidies(out_dir, 2024)
    montant = frame["montant"]
    assert montant.str.contains("\u00a0").sum() > 100 and montant.str.contains(" ").sum() > 100
    assert montant.str.fullmatch(r"\d+,\d").any() and montant.str.fullmatch(r"\d+").any()
    assert montant.str.fullmatch(r"\d{1,3}(?:[ \u00a0]\d{3})*,\d{2}|\d+(?:,\d{1,2})?").all()
    spellings = set(frame["type_subvention"])
    assert {"Équipement", "Fonctionnement", "EQUIPEMENT", "fonctionnement "} <= spellings
    assert (frame["type_subvention"].isin(["Équipement", "Fonctionnement"])).mean() > 0.8
    names = frame["beneficiaire"]
    assert names.str.contains(";").sum() > 5 and names.str.contains('"').sum() > 5
    assert '""' in raw  # quotes doubled inside a quoted field
    assert names.str.contains("[éèÉ]").sum() > 300


def test_beneficiaries_come_back_from_one_year_to_the_next(out_dir):
    first, second = _subsidies(out_dir, 2023), _subsidies(out_dir, 2024)
    pairs = set(zip(first["siret"], first["beneficiaire"], strict=True))
    again = [pair in pairs for pair in zip(second["siret"], second["beneficiaire"], strict=True)]
    assert sum(again) / len(again) > 0.3
    assert first.groupby("siret")["beneficiaire"].nunique().max() == 1


# --- licences ------------------------------------------------------------------------------------------------------


def test_every_qpv_in_force_has_two_licence_lines(out_dir, qpv):
    for year in LICENCE_YEARS:
        frame = _licences(out_dir, year)
        assert (frame["annee"] == str(year)).all()
        in_force = frame[frame["code_qpv"].isin(_in_force(qpv, year))]
        assert set(in_force["code_qpv"]) == _in_force(qpv, year)
        assert len(in_force) == 2 * len(_in_force(qpv, year))
        assert not frame.duplicated(["code_qpv", "sexe"]).any()
        expected = ["Femmes", "Hommes"] if year < 2022 else ["F", "H"]
        assert frame["sexe"].tolist() == expected * (len(frame) // 2)
    labels = dict(zip(qpv["2015"]["code_qp"], qpv["2015"]["lib_qp"], strict=True))
    frame = _licences(out_dir, 2021)
    assert (frame["libelle_qpv"] == frame["code_qpv"].map(labels)).all()


def test_some_qpv_in_veille_active_keep_their_lines_after_they_left(out_dir, qpv, territories_dir):
    """From the year a QPV left the geography, about half of the QPV in veille active keep their two lines under their
    2015 code, after the QPV in force; a few of them hold only a handful of licences."""
    veille = read_veille(territories_dir)
    for year in LICENCE_YEARS:
        frame = _licences(out_dir, year)
        followed = frame[~frame["code_qpv"].isin(_in_force(qpv, year))]
        assert set(followed["code_qpv"]) <= veille
        if year < 2024:
            assert followed.empty
            continue
        left = veille - _in_force(qpv, year)
        assert 0.35 * len(left) < followed["code_qpv"].nunique() < 0.65 * len(left)
        assert followed.index.min() > frame[frame["code_qpv"].isin(_in_force(qpv, year))].index.max()
        totals = followed.groupby("code_qpv")["count"].sum()
        assert (totals < 40).sum() >= 3 and totals.median() > 100


def test_licence_counts_are_realistic(out_dir, qpv):
    for year in LICENCE_YEARS:
        frame = _licences(out_dir, year)
        frame = frame[frame["code_qpv"].isin(_in_force(qpv, year))]
        totals = frame.groupby("code_qpv")["count"].sum()
        assert totals.min() >= 30 and totals.max() < 5000 and 150 < totals.median() < 450
        women = frame[frame["sexe"].isin(["F", "Femmes"])].set_index("code_qpv")["count"]
        share = women / totals
        assert 0.35 <= women.sum() / totals.sum() <= 0.40
        assert share[totals >= 300].between(0.34, 0.41).all()
    separator = {2021: " ", 2025: "\u00a0"}
    for year, character in separator.items():
        cells = _licences(out_dir, year)["licences"]
        grouped = cells[cells.str.len() > 3]
        assert len(grouped) > 0 and grouped.str.fullmatch(rf"\d{{1,3}}{character}\d{{3}}").all()
        assert cells[cells.str.len() <= 3].str.fullmatch(r"\d+").all()


def test_a_neighbourhood_keeps_its_level_across_years_and_geographies(out_dir, territories_dir):
    totals = {year: _licences(out_dir, year).groupby("code_qpv")["count"].sum() for year in (2023, 2025)}
    old = {qpv_key(q): q["code"] for q in read_geography(territories_dir / "qpv_2015.csv")}
    pairs = [
        (old[qpv_key(q)], q["code"])
        for q in read_geography(territories_dir / "qpv_2024.csv")
        if qpv_key(q) in old and q["code"].endswith("I")
    ]
    assert len(pairs) > 300
    ratio = pd.Series([totals[2025][new] / totals[2023][before] for before, new in pairs])
    expected = generator.LICENCE_INDEX[2025] / generator.LICENCE_INDEX[2023]
    assert ((ratio / expected - 1).abs() < 0.1).mean() > 0.95
    # the Covid dip
    assert _licences(out_dir, 2021)["count"].sum() < 0.9 * _licences(out_dir, 2023)["count"].sum()


# --- broken files --------------------------------------------------------------------------------------------------


def test_the_broken_subsidy_file_differs_on_four_lines(out_dir, qpv):
    normal = _frame(out_dir / "ANS_SUBVENTIONS_2025.csv", "cp1252")
    broken = _frame(out_dir / "ANS_SUBVENTIONS_2025_broken.csv", "cp1252")
    assert len(normal) == len(broken)
    changed = (normal != broken).any(axis=1)
    assert changed.sum() == 4
    diff = broken[changed]
    assert diff["montant"].str.startswith("-").sum() == 1
    assert (diff["type_subvention"] == "investissement").sum() == 1
    known = set(qpv["2015"]["code_qp"]) | set(qpv["2024"]["code_qp"])
    unknown = diff[(diff["code_qpv"] != "") & ~diff["code_qpv"].isin(known)]["code_qpv"]
    assert len(unknown) == 1 and unknown.str.fullmatch(QN).all()
    assert broken["numero_dossier"].duplicated().sum() == 1 and normal["numero_dossier"].is_unique


def test_the_broken_licence_file_has_a_masked_cell_and_a_repeated_line(out_dir):
    normal = _frame(out_dir / "ANS_LICENCES_QPV_2025.csv", "utf-8")
    broken = _frame(out_dir / "ANS_LICENCES_QPV_2025_broken.csv", "utf-8")
    assert len(broken) == len(normal) + 1
    assert (broken["licences"] == "s").sum() == 1 and (normal["licences"] == "s").sum() == 0
    repeated = broken[broken.duplicated(["code_qpv", "sexe"], keep=False)]
    assert len(repeated) == 2 and repeated["licences"].nunique() == 2
    deduplicated = broken.drop_duplicates(["code_qpv", "sexe"]).reset_index(drop=True)
    assert (deduplicated[["code_qpv", "sexe"]] == normal[["code_qpv", "sexe"]]).all().all()


def test_injep_licence_files_give_the_same_figures_per_qpv_and_sex_as_the_platform_layout(territories_dir, tmp_path):
    from etl.sources import ans

    injep, injep_broken = generator.generate_licences(tmp_path / "injep", territories_dir, [2024], broken=True)
    [platform] = generator.generate_licences(tmp_path / "own", territories_dir, [2024], layout="plateforme")
    assert (injep.name, injep_broken.name) == ("lic-data-2024.csv", "lic-data-2024_broken.csv")
    header = injep.read_text(encoding="utf-8").split("\n", 1)[0].split(";")
    assert header[:4] == ["Code Commune", "Commune", "Code QPV", "Nom QPV"] and header[-2:] == ["NR - NR", "Total"]
    assert "F - 1 à 4 ans" in header and "H - NR" in header
    assert "NR - Non réparti" in injep.read_text(encoding="utf-8")
    read, own = ans.read_licences(injep), ans.read_licences(platform)
    assert read.attrs["layout"] == "injep_licences_qpv" and own.attrs["layout"] == "plateforme_licences_qpv"
    merged = read.merge(own, on=["code_qpv", "sexe"], suffixes=("_injep", "_own"))
    assert len(merged) == len(read) == len(own)
    plain = merged["licences_own"].str.replace(r"[ \u00a0]", "", regex=True)
    assert (merged["licences_injep"] == plain).all()
