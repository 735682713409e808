"""Tests of the national producers' sample generator: files, determinism, territories, sums, shares, secrecy, quirks."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from etl.referentiels.territories import load_departements, load_regions
from etl.samples.generators import national as generator
from etl.sources.national import COLUMNS, catalogue_units

YEARS = [2023, 2024]
INDICATORS = {
    "DGEFP": ["IND01", "IND02", "IND03", "IND04", "IND06"],
    "CIPDR": ["IND17"],
    "FRANCE_ACTIVE": ["IND19"],
    "ASC": ["IND23"],
    "DGITM": ["IND24"],
    "CMA": ["IND29"],
    "DGE": ["IND31"],
    "CULTURE": ["IND32"],
}
PERSONS = {"IND04", "IND06", "IND19"}  # counts of people, under statistical secrecy
REGIONS = load_regions()["code"].tolist()
DEPARTEMENTS = load_departements()
REGION_OF = dict(zip(DEPARTEMENTS["code"], DEPARTEMENTS["code_region"], strict=True))


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("national")
    generator.generate(folder, YEARS, broken=True)
    return folder


def _frame(path: Path) -> pd.DataFrame:
    """A generated file as text, codes padded back, with a `level` (0 France, 1 région, 2 département) and a
    `number` (the value as a float, NaN for `s`, `nd` and empty cells)."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline=""), delimiter=";"))
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype="str")
    frame["level"] = (
        frame["niveau"].str.upper().map({"FRANCE": 0, "REGION": 1, "RÉGION": 1, "DEPARTEMENT": 2, "DÉPARTEMENT": 2})
    )
    frame["code"] = frame["code_territoire"].where(~frame["code_territoire"].str.fullmatch(r"\d"),
                                                    frame["code_territoire"].str.zfill(2))  # fmt: skip
    cells = frame["valeur"].str.replace(" ", "", regex=False).str.replace(",", ".", regex=False)
    frame["number"] = pd.to_numeric(cells.where(~cells.isin(["s", "nd", ""])), errors="raise")
    return frame


def _file(out_dir: Path, producer: str, year: int) -> pd.DataFrame:
    return _frame(out_dir / generator.file_name(producer, year))


# --- files and determinism -----------------------------------------------------------------------------------------


def test_file_names_headers_and_encoding(out_dir):
    names = sorted(path.name for path in out_dir.iterdir())
    expected = [f"INDICATEURS_NATIONAUX_{p}_{y}.csv" for p in INDICATORS for y in YEARS]
    assert names == sorted([*expected, "INDICATEURS_NATIONAUX_DGEFP_2024_broken.csv"])
    for name in names:
        data = (out_dir / name).read_bytes()
        assert data.split(b"\n", 1)[0] == ";".join(COLUMNS).encode() and not data.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in data and data.endswith(b"\n")
        data.decode("utf-8")


def test_same_inputs_give_the_same_bytes(out_dir, tmp_path):
    paths = generator.generate(tmp_path, YEARS, broken=True)
    assert len(paths) == 2 * len(INDICATORS) + 1 and paths[-1].name.endswith("_2024_broken.csv")
    for path in paths:
        assert path.read_bytes() == (out_dir / path.name).read_bytes(), path.name


def test_a_file_does_not_depend_on_the_other_years_asked(out_dir, tmp_path):
    paths = generator.generate(tmp_path, ["2024"])
    assert [p.name for p in paths] == [generator.file_name(p, 2024) for p in INDICATORS]
    for path in paths:
        assert path.read_bytes() == (out_dir / path.name).read_bytes(), path.name
    assert not list(tmp_path.glob("*_broken*"))


def test_another_seed_gives_other_figures(out_dir, tmp_path):
    paths = generator.generate(tmp_path, [2024], seed=7)
    assert all(path.read_bytes() != (out_dir / path.name).read_bytes() for path in paths)


def test_a_year_that_is_not_yyyy_is_refused(tmp_path):
    with pytest.raises(ValueError, match="YYYY"):
        generator.generate(tmp_path, ["24"])
    assert not list(tmp_path.iterdir())


# --- content -------------------------------------------------------------------------------------------------------


def test_each_producer_sends_its_indicators_for_france_every_region_and_dgefp_every_departement(out_dir):
    units = catalogue_units()
    assert sorted(code for codes in INDICATORS.values() for code in codes) == sorted(units)
    for producer, indicators in INDICATORS.items():
        for year in YEARS:
            frame = _file(out_dir, producer, year)
            assert frame["indicateur"].unique().tolist() == indicators and (frame["periode"] == str(year)).all()
            for code in indicators:
                rows = frame[frame["indicateur"] == code]
                assert rows["level"].notna().all()
                assert rows["code"].tolist()[:19] == ["FR", *REGIONS]
                assert rows["level"].tolist()[:19] == [0] + [1] * 18
                departements = rows["code"].tolist()[19:]
                assert departements == (DEPARTEMENTS["code"].tolist() if producer == "DGEFP" else [])
                words = set(rows["unite"].str.lower().replace("pourcentage", "%"))
                assert words == {units[code]}, (producer, code)
            assert (frame["producteur"] != "").all() and frame["producteur"].nunique() == 1


def test_counts_add_up_from_departements_to_regions_to_france(out_dir):
    checked = 0
    for producer, indicators in INDICATORS.items():
        frames = [_file(out_dir, producer, year) for year in YEARS]
        for frame, code in ((frame, code) for frame in frames for code in indicators):
            if catalogue_units()[code] != "nombre":
                continue
            rows = frame[frame["indicateur"] == code]
            france = rows[rows["level"] == 0]["number"].item()
            regions = rows[rows["level"] == 1].set_index("code")["number"]
            assert france >= regions.sum()
            if regions.notna().all():
                assert france == regions.sum()
                checked += 1
            departements = rows[rows["level"] == 2]
            for region, members in departements.groupby(departements["code"].map(REGION_OF))["number"]:
                if members.notna().all() and pd.notna(regions[region]):
                    assert regions[region] == members.sum(), (code, region)
                    checked += 1
    assert checked > 50


def test_shares_are_ratios_of_summed_numerators_and_denominators(out_dir):
    geography = generator._geography(2024)
    producers = {code: generator.PRODUCERS[p] for p, codes in INDICATORS.items() for code in codes}
    for code in ("IND01", "IND23", "IND32"):
        cells = generator._cells(code, producers[code], geography, 2024, 2024)
        france, regions = cells[0], [cell for cell in cells if cell.level == 1]
        assert france.figure == (sum(c.figure[0] for c in regions), sum(c.figure[1] for c in regions))
        frame = _file(out_dir, producers[code].slug, 2024)
        written = frame[(frame["indicateur"] == code) & (frame["level"] == 0)]["valeur"].item()
        assert written == f"{100 * france.figure[0] / france.figure[1]:.1f}".replace(".", ",")
        plain_mean = sum(100 * c.figure[0] / c.figure[1] for c in regions) / len(regions)
        assert abs(float(written.replace(",", ".")) - plain_mean) > 0.01  # not an average of percentages
    dgefp = generator._cells("IND01", generator.PRODUCERS["DGEFP"], geography, 2024, 2024)
    ile_de_france = next(c for c in dgefp if c.level == 1 and c.code == "11")
    members = [c for c in dgefp if c.level == 2 and REGION_OF[c.code] == "11"]
    assert ile_de_france.figure == tuple(sum(c.figure[i] for c in members) for i in (0, 1))


@pytest.mark.parametrize(
    ("code", "low", "high"),
    [
        ("IND01", 25, 35), ("IND02", 9, 15), ("IND03", 10, 16.5), ("IND04", 3_000, 8_000), ("IND06", 20_000, 45_000),
        ("IND17", 40, 200), ("IND19", 400, 1_200), ("IND23", 10, 20), ("IND24", 40, 160), ("IND29", 5, 11),
        ("IND31", 50, 160), ("IND32", 25, 35),
    ],
)  # fmt: skip
def test_national_figures_are_realistic(out_dir, code, low, high):
    producer = next(p for p, codes in INDICATORS.items() if code in codes)
    for year in YEARS:
        frame = _file(out_dir, producer, year)
        rows = frame[frame["indicateur"] == code]
        assert low <= rows[rows["level"] == 0]["number"].item() <= high, (code, year)
        if catalogue_units()[code] == "%":
            shares = rows["number"].dropna()
            assert shares.between(0, 100).all() and shares.std() > 1
            assert rows["valeur"].isin(["s", "nd", ""]).sum() < len(rows) / 4
    ile_de_france = rows[(rows["level"] == 1) & (rows["code"] == "11")]["number"].item()
    if catalogue_units()[code] == "nombre" and pd.notna(ile_de_france):
        assert ile_de_france > rows[(rows["level"] == 1) & (rows["code"] == "53")]["number"].fillna(0).item()


def test_small_counts_of_people_are_masked_and_never_alone(out_dir):
    masked_total = 0
    for producer, indicators in INDICATORS.items():
        frame = _file(out_dir, producer, 2024)
        for code in indicators:
            rows = frame[frame["indicateur"] == code]
            masked = rows["valeur"] == "s"
            assert (rows.loc[masked, "commentaire"] == "secret statistique").all()
            assert not masked[rows["level"] == 0].any()
            if code not in PERSONS:
                if code in ("IND17", "IND24", "IND31"):
                    assert not masked.any() and (rows["number"] < 11).any()  # projects, not people: not masked
                continue
            masked_total += masked.sum()
            assert (rows.loc[~masked, "number"].dropna() >= 11).all()
            groups = [rows[rows["level"] == 1]]
            departements = rows[rows["level"] == 2]
            groups += [group for _, group in departements.groupby(departements["code"].map(REGION_OF))]
            for group in groups:
                assert (group["valeur"] == "s").sum() != 1, (code, group["code"].tolist())
    assert masked_total > 5


def test_a_few_figures_are_not_available(out_dir):
    for producer in INDICATORS:
        for year in YEARS:
            frame = _file(out_dir, producer, year)
            missing = frame[frame["valeur"].isin(["nd", ""])]
            assert 1 <= len(missing) <= 2 and (missing["level"] > 0).all()
            assert (missing["commentaire"] == generator.MISSING_COMMENT).all()
            word = generator.PRODUCERS[producer].missing
            assert (missing["valeur"] == word).all()
            quoted = f'"{generator.MISSING_COMMENT}"'.encode()
            assert quoted in (out_dir / generator.file_name(producer, year)).read_bytes()


def test_producers_keep_their_own_spelling(out_dir):
    dgefp = _file(out_dir, "DGEFP", 2024)
    assert set(dgefp["niveau"]) == {"France", "Région", "Département"} and set(dgefp["unite"]) == {"%", "nombre"}
    assert {"1", "9", "2A", "971"} <= set(dgefp["code_territoire"]) and "01" not in set(dgefp["code_territoire"])
    assert dgefp["valeur"].str.fullmatch(r"\d{1,3}(?: \d{3})+").any()
    assert dgefp.loc[dgefp["unite"] == "%", "valeur"].str.fullmatch(r"\d+,\d|s|nd").all()
    asc = _file(out_dir, "ASC", 2024)
    assert set(asc["niveau"]) == {"FRANCE", "REGION"} and set(asc["unite"]) == {"pourcentage"}
    active = _file(out_dir, "FRANCE_ACTIVE", 2024)
    assert set(active["code_territoire"]) >= {"1", "6", "11"} and set(active["unite"]) == {"Nombre"}
    assert set(_file(out_dir, "CMA", 2024)["unite"]) == {"Pourcentage"}
    assert set(_file(out_dir, "CULTURE", 2024)["niveau"]) == {"FRANCE", "Région"}
    assert set(_file(out_dir, "CIPDR", 2024)["code_territoire"]) >= {"01", "06"}


# --- broken file ---------------------------------------------------------------------------------------------------


def test_the_broken_file_has_four_defects_on_four_lines(out_dir):
    normal = (out_dir / "INDICATEURS_NATIONAUX_DGEFP_2024.csv").read_text(encoding="utf-8").split("\n")
    broken = (out_dir / "INDICATEURS_NATIONAUX_DGEFP_2024_broken.csv").read_text(encoding="utf-8").split("\n")
    assert len(normal) == len(broken)
    changed = [(old.split(";"), new.split(";")) for old, new in zip(normal, broken, strict=True) if old != new]
    assert len(changed) == 4
    by_change = {}
    for old, new in changed:
        [column] = [COLUMNS[i] for i in range(len(COLUMNS)) if old[i] != new[i]]
        by_change[column] = (old, new)
    assert set(by_change) == {"indicateur", "unite", "niveau", "valeur"}
    assert by_change["indicateur"][0][0] == "IND02" and by_change["indicateur"][1][0] == "IND99"
    assert by_change["unite"][1][0] == "IND01" and by_change["unite"][1][5] == "nombre"
    assert by_change["niveau"][0][1] == "Département" and by_change["niveau"][1][1] == "QPV"
    assert by_change["valeur"][1][0] == "IND03" and float(by_change["valeur"][1][4].replace(",", ".")) > 100
