"""Tests of the CAF sample generator: determinism, encodings, geographies, rounding, rectificatifs, crèches, defects."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from etl.referentiels.territories import QP2015_PATTERN, QP2024_PATTERN, normalise_qpv, read_anct
from etl.samples.generators import caf as generator
from etl.samples.generators.territories import read_veille
from etl.sources.caf import ALLOCATAIRES_COLUMNS, ALLOCATAIRES_COUNT_COLUMNS, COMPOSITION_COLUMNS, CRECHES_COLUMNS

YEARS = [2022, 2023, 2024, 2025]
QUARTERS = ["2023-Q4", "2024-Q1", "2024-Q2"]
PARTS = ("nb_alloc_rsa", "nb_alloc_aah", "nb_alloc_logement", *COMPOSITION_COLUMNS)


@pytest.fixture(scope="module")
def qpv(territories_dir) -> dict[str, pd.DataFrame]:
    return {geo: normalise_qpv(read_anct(territories_dir / f"qpv_{geo}.csv")) for geo in ("2015", "2024")}


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory, territories_dir) -> Path:
    folder = tmp_path_factory.mktemp("caf")
    generator.generate_allocataires(folder, territories_dir, YEARS, broken=True, revised=[2024])
    generator.generate_creches(folder, territories_dir, QUARTERS, broken=True)
    return folder


def _frame(path: Path, encoding: str) -> pd.DataFrame:
    """A generated file as text, with `line_no`."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=";"))
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype="str")
    frame.insert(0, "line_no", range(2, len(rows) + 1))
    return frame


def _allocataires(out_dir: Path, name: str) -> pd.DataFrame:
    return _frame(out_dir / name, "utf-8-sig")


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[list(ALLOCATAIRES_COUNT_COLUMNS)].apply(lambda column: column.str.replace(" ", "").astype(int))


def _in_force(qpv, period: str) -> set[str]:
    """The QPV codes in force in a period placed by its first day (`2023`, `2024`, `2025`)."""
    old, new = qpv["2015"]["qpv"], qpv["2024"]["qpv"]
    if period < "2024":
        return set(old["code_qp"])
    if period < "2025":
        return set(new.loc[~new["insee_dep"].str.startswith("97"), "code_qp"]) | set(
            old.loc[old["insee_dep"].str.startswith("97"), "code_qp"]
        )
    return set(new["code_qp"])


# --- files and determinism -----------------------------------------------------------------------------------------


def test_file_names_headers_and_line_ends(out_dir):
    assert sorted(path.name for path in out_dir.iterdir()) == [
        "CAF_EAJE_QPV_2023T4.csv",
        "CAF_EAJE_QPV_2024T1.csv",
        "CAF_EAJE_QPV_2024T2.csv",
        "CAF_EAJE_QPV_2024T2_broken.csv",
        "CAF_QPV_2022.csv",
        "CAF_QPV_2023.csv",
        "CAF_QPV_2024.csv",
        "CAF_QPV_2024_rectificatif.csv",
        "CAF_QPV_2025.csv",
        "CAF_QPV_2025_broken.csv",
    ]
    for year in YEARS:
        data = (out_dir / f"CAF_QPV_{year}.csv").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf" + ";".join(ALLOCATAIRES_COLUMNS).encode() + b"\r\n")
        assert data.count(b"\n") == data.count(b"\r\n") and data.endswith(b"\r\n")
        assert "é" in data.decode("utf-8-sig")
    for quarter in ("2023T4", "2024T1", "2024T2"):
        data = (out_dir / f"CAF_EAJE_QPV_{quarter}.csv").read_bytes()
        assert data.startswith(";".join(CRECHES_COLUMNS).encode() + b"\r\n")
        assert data.count(b"\n") == data.count(b"\r\n")
        with pytest.raises(UnicodeDecodeError):  # Windows-1252, not UTF-8
            data.decode("utf-8")
        assert "é" in data.decode("cp1252")


def test_same_inputs_give_the_same_bytes(out_dir, territories_dir, tmp_path):
    paths = generator.generate_allocataires(tmp_path, territories_dir, YEARS, broken=True, revised=[2024])
    paths += generator.generate_creches(tmp_path, territories_dir, QUARTERS, broken=True)
    assert len(paths) == 10
    for path in paths:
        assert path.read_bytes() == (out_dir / path.name).read_bytes(), path.name


def test_a_file_does_not_depend_on_the_other_periods_asked(out_dir, territories_dir, tmp_path):
    paths = generator.generate_allocataires(tmp_path, territories_dir, [2024])
    paths += generator.generate_creches(tmp_path, territories_dir, ["2024-Q2"])
    assert [path.name for path in paths] == ["CAF_QPV_2024.csv", "CAF_EAJE_QPV_2024T2.csv"]
    for path in paths:
        assert path.read_bytes() == (out_dir / path.name).read_bytes(), path.name


def test_another_seed_gives_other_figures(out_dir, territories_dir, tmp_path):
    [path] = generator.generate_allocataires(tmp_path, territories_dir, [2024], seed=7)
    assert path.read_bytes() != (out_dir / path.name).read_bytes()


def test_a_normal_run_never_writes_broken_or_corrected_files(territories_dir, tmp_path):
    generator.generate_allocataires(tmp_path, territories_dir, [2023, 2024])
    generator.generate_creches(tmp_path, territories_dir, ["2024-Q1"])
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "CAF_EAJE_QPV_2024T1.csv",
        "CAF_QPV_2023.csv",
        "CAF_QPV_2024.csv",
    ]


def test_bad_periods_are_refused(territories_dir, tmp_path):
    with pytest.raises(ValueError, match="YYYY-Qn"):
        generator.generate_creches(tmp_path, territories_dir, ["2024-T1"])
    with pytest.raises(ValueError, match="revised"):
        generator.generate_allocataires(tmp_path, territories_dir, [2023], revised=[2024])
    assert not list(tmp_path.iterdir())


# --- geographies ---------------------------------------------------------------------------------------------------


def test_every_qpv_in_force_has_its_line(out_dir, qpv, territories_dir):
    """Every QPV in force has its line; from the year it left, about 60 % of the QPV in veille active keep one under
    their 2015 code, after the QPV in force, a few of them small neighbourhoods."""
    veille = read_veille(territories_dir)
    for year in (2023, 2024, 2025):
        frame = _allocataires(out_dir, f"CAF_QPV_{year}.csv")
        in_force = frame["code_qp"].isin(_in_force(qpv, str(year)))
        assert frame["code_qp"].is_unique and set(frame.loc[in_force, "code_qp"]) == _in_force(qpv, str(year))
        assert (frame["dtreffile"] == f"31/12/{year}").all()
        followed = frame[~in_force]
        assert set(followed["code_qp"]) <= veille and (year >= 2024) == (not followed.empty)
        if year >= 2024:
            left = veille - _in_force(qpv, str(year))
            assert 0.45 * len(left) < len(followed) < 0.75 * len(left)
            assert followed.index.min() > frame[in_force].index.max()
            households = _numbers(followed)["nb_allocataires"]
            assert (households <= 40).sum() >= 5 and households.median() > 200
    frame = _allocataires(out_dir, "CAF_QPV_2024.csv")
    frame = frame[frame["code_qp"].isin(_in_force(qpv, "2024"))]
    overseas = frame["code_qp"].str.match(r"^Q[PN]97")
    assert frame.loc[overseas, "code_qp"].str.fullmatch(QP2015_PATTERN[1:-1]).all()
    assert frame.loc[~overseas, "code_qp"].str.fullmatch(QP2024_PATTERN[1:-1]).all()
    for quarter, period in (("2023T4", "2023"), ("2024T1", "2024"), ("2024T2", "2024")):
        frame = _frame(out_dir / f"CAF_EAJE_QPV_{quarter}.csv", "cp1252")
        assert frame["code_qp"].is_unique and set(frame["code_qp"]) == _in_force(qpv, period)
        assert (frame["trimestre"] == quarter.replace("T", "-T")).all()


def test_labels_are_the_referential_ones(out_dir, qpv):
    labels = dict(zip(qpv["2015"]["qpv"]["code_qp"], qpv["2015"]["qpv"]["lib_qp"], strict=True))
    labels |= dict(zip(qpv["2024"]["qpv"]["code_qp"], qpv["2024"]["qpv"]["lib_qp"], strict=True))
    for frame in (_allocataires(out_dir, "CAF_QPV_2024.csv"), _frame(out_dir / "CAF_EAJE_QPV_2024T1.csv", "cp1252")):
        assert (frame["libelle_qp"] == frame["code_qp"].map(labels)).all()


# --- allocataires --------------------------------------------------------------------------------------------------


def test_counts_are_rounded_to_5_with_thousands_spaces(out_dir):
    frame = _allocataires(out_dir, "CAF_QPV_2024.csv")
    cells = pd.Series(frame[list(ALLOCATAIRES_COUNT_COLUMNS)].to_numpy().ravel(), dtype="str")
    assert cells.str.fullmatch(r"[0-9]{1,3}(?: [0-9]{3})*").all()
    numbers = cells.str.replace(" ", "").astype(int)
    assert (numbers % 5 == 0).all()
    assert (cells.str.contains(" ") == (numbers >= 1000)).all() and (numbers >= 1000).sum() > 1000


def test_parts_never_exceed_their_whole_and_the_composition_gap_is_rounding(out_dir):
    for year in YEARS:
        n = _numbers(_allocataires(out_dir, f"CAF_QPV_{year}.csv"))
        for part in PARTS:
            assert (n[part] <= n["nb_allocataires"]).all(), (year, part)
        assert (n["nb_personnes_couvertes"] >= n["nb_allocataires"]).all()
        gap = n[list(COMPOSITION_COLUMNS)].sum(axis=1) - n["nb_allocataires"]
        assert set(gap) <= {-10, -5, 0, 5, 10} and (gap != 0).mean() > 0.2, year


def test_magnitudes_are_realistic(out_dir):
    n = _numbers(_allocataires(out_dir, "CAF_QPV_2023.csv"))
    total = n["nb_allocataires"]
    assert 400 < total.median() < 1200 and total.quantile(0.05) >= 250 and total.max() <= 3600
    large = n[total >= 300]  # shares are meaningful once rounding is small
    shares = {
        "nb_personnes_couvertes": (1.9, 2.7),
        "nb_alloc_rsa": (0.17, 0.38),
        "nb_alloc_aah": (0.03, 0.12),
        "nb_alloc_logement": (0.52, 0.78),
        "nb_alloc_monoparents": (0.13, 0.27),
    }
    for column, (low, high) in shares.items():
        share = large[column] / large["nb_allocataires"]
        assert share.between(low, high).all(), column


def test_series_are_smooth_from_year_to_year_and_across_the_geography_change(out_dir, qpv):
    frames = {year: _allocataires(out_dir, f"CAF_QPV_{year}.csv").set_index("code_qp") for year in YEARS}
    totals = {year: _numbers(frame)["nb_allocataires"] for year, frame in frames.items()}
    change = (totals[2023] / totals[2022].reindex(totals[2023].index) - 1).abs()
    assert change.notna().all() and change.median() < 0.03 and change.max() < 0.15

    def keys(geo: str) -> pd.Series:
        """QPV code -> its neighbourhood: main commune and name."""
        frames = qpv[geo]
        main = frames["qpv_commune"].drop_duplicates("code_qp").set_index("code_qp")["insee_com"]
        return main.reindex(frames["qpv"]["code_qp"]) + ":" + frames["qpv"].set_index("code_qp")["lib_qp"]

    old = totals[2023].rename(keys("2015"))
    new = totals[2024].rename(keys("2024")).loc[lambda s: s.index.notna()]
    identical = qpv["2024"]["qpv"]["code_qp"].str.endswith("I") & ~qpv["2024"]["qpv"]["insee_dep"].str.startswith("97")
    same = keys("2024")[identical.to_numpy()]
    ratio = new.reindex(same).to_numpy() / old.reindex(same).to_numpy()
    ratio = pd.Series(ratio).dropna()
    assert len(ratio) > 300
    assert (ratio - 1).abs().median() < 0.03 and (ratio - 1).abs().max() < 0.15


def test_the_rectificatif_corrects_a_few_lines_consistently(out_dir):
    original = _allocataires(out_dir, "CAF_QPV_2024.csv")
    corrected = _allocataires(out_dir, "CAF_QPV_2024_rectificatif.csv")
    assert corrected[["dtreffile", "code_qp", "libelle_qp"]].equals(original[["dtreffile", "code_qp", "libelle_qp"]])
    before, after = _numbers(original), _numbers(corrected)
    changed = (before != after).any(axis=1)
    assert 0.01 < changed.mean() < 0.06, changed.mean()
    moves = (after - before)[changed].to_numpy().ravel()
    moves = moves[moves != 0]
    assert ((abs(moves) >= 5) & (abs(moves) <= 20) & (moves % 5 == 0)).all()
    for part in PARTS:
        assert (after[part] <= after["nb_allocataires"]).all()
    assert (after["nb_personnes_couvertes"] >= after["nb_allocataires"]).all()
    gap = after[list(COMPOSITION_COLUMNS)].sum(axis=1) - after["nb_allocataires"]
    assert gap.abs().max() <= 10


def test_the_broken_allocataire_file_has_three_defects(out_dir):
    normal = _allocataires(out_dir, "CAF_QPV_2025.csv")
    broken = _allocataires(out_dir, "CAF_QPV_2025_broken.csv")
    assert len(normal) == len(broken)
    differs = (normal != broken).any(axis=1)
    assert differs.sum() == 3
    cells = broken[differs].set_index("line_no")[list(ALLOCATAIRES_COUNT_COLUMNS)]
    unknown = cells[cells["nb_alloc_aah"] == "n.d."]
    assert len(unknown) == 1
    n = _numbers(cells.drop(unknown.index))
    gap = n[list(COMPOSITION_COLUMNS)].sum(axis=1) - n["nb_allocataires"]
    off = gap[gap.abs() > 10]
    assert len(off) == 1 and 30 <= off.iloc[0] <= 50
    above = n[n["nb_alloc_rsa"] > n["nb_allocataires"]]
    assert len(above) == 1 and above.index[0] != off.index[0]


# --- crèches -------------------------------------------------------------------------------------------------------


def test_creche_places_are_realistic_and_the_stock_adds_up(out_dir):
    frames = {
        quarter: _frame(out_dir / f"CAF_EAJE_QPV_{quarter}.csv", "cp1252").set_index("code_qp")
        for quarter in ("2024T1", "2024T2")
    }
    for frame in frames.values():
        places = frame[["places_creees", "places_renovees", "places_eaje"]]
        assert places.apply(lambda column: column.str.fullmatch(r"[0-9]+")).all().all()
        places = places.astype(int)
        assert places["places_creees"].max() <= 40 and places["places_renovees"].max() <= 30
        assert places["places_eaje"].max() <= 300
        assert 0.9 < (places["places_creees"] == 0).mean() < 0.995  # a crèche opens now and then
        assert 0.9 < (places["places_renovees"] == 0).mean() < 0.995
        assert 0.03 < (places["places_eaje"] == 0).mean() < 0.3
        assert 50 < places["places_eaje"].median() < 160
        assert (places["places_renovees"] <= places["places_eaje"]).all()
    first, second = (frames[q][["places_creees", "places_eaje"]].astype(int) for q in ("2024T1", "2024T2"))
    assert first.index.equals(second.index)  # same geography
    assert (second["places_eaje"] == first["places_eaje"] + second["places_creees"]).all()


def test_the_broken_creche_file_has_two_defects(out_dir, qpv):
    normal = _frame(out_dir / "CAF_EAJE_QPV_2024T2.csv", "cp1252")
    broken = _frame(out_dir / "CAF_EAJE_QPV_2024T2_broken.csv", "cp1252")
    differs = (normal != broken).any(axis=1)
    assert differs.sum() == 2
    rows = broken[differs]
    known = set(qpv["2015"]["qpv"]["code_qp"]) | set(qpv["2024"]["qpv"]["code_qp"])
    unknown = rows[~rows["code_qp"].isin(known)]
    shaped = f"{QP2015_PATTERN[1:-1]}|{QP2024_PATTERN[1:-1]}"
    assert len(unknown) == 1 and unknown["code_qp"].str.fullmatch(shaped).all()  # passes gate 1, not gate 2
    negative = rows[rows["places_renovees"] == "-5"]
    assert len(negative) == 1 and negative.index[0] != unknown.index[0]


@pytest.mark.parametrize("year", [2023, 2025])
def test_insee_workbook_gives_the_cafs_figures_in_inseess_layout(tmp_path, territories_dir, qpv, year):
    """INSEE's workbook of a year, read by the platform's reader, gives the figures of the CAF's own file for the QPV
    of its geography (its veille-active lines aside), a count under 5 as an empty cell, and the national total apart."""
    from etl.sources import caf

    [insee] = generator.generate_allocataires_insee(tmp_path / "insee", territories_dir, [year])
    [own] = generator.generate_allocataires(tmp_path / "own", territories_dir, [year])
    assert insee.name == f"beneficiaires_CAF_31-12-{year}_QP{'15' if year < 2024 else '24'}.xlsx"
    raw = caf.read_allocataires(insee, name=insee.name)
    assert raw.attrs["layout"] == "insee_caf_qp"
    assert set(raw["code_qp"]) == _in_force(qpv, str(year))
    [(total_line, total)] = raw.attrs["totals"].items()
    assert total_line < raw["line_no"].min() and total[0] == "Ensemble des quartiers prioritaires"
    got = caf.normalise_allocataires(raw)["values"]
    want = caf.normalise_allocataires(caf.read_allocataires(own))["values"]
    keys = ["indicator_code", "territory_code", "breakdown", "period_code"]
    both = got.merge(want, on=keys, suffixes=("", "_own"), validate="one_to_one")
    assert len(both) == len(got)
    veille = len(want) - len(got)  # the CAF's own file keeps veille-active QPV from 2024 on
    assert veille > 0 if year >= 2024 else veille == 0
    shown = both["status"] == "ok"
    assert (both.loc[shown, "value"] == both.loc[shown, "value_own"]).all()
    hidden = both[~shown]
    assert set(hidden["status"]) <= {"masked"} and (hidden["value_own"] <= 5).all()
    assert set(hidden["status"]) == {"masked"}  # the small neighbourhoods do have counts under 5
    assert int(total[2].replace(" ", "")) == int(want.loc[want["breakdown"].eq("total")
                                                           & want["indicator_code"].eq("CAF_ALLOCATAIRES")
                                                           & want["territory_code"].isin(raw["code_qp"]),
                                                           "value"].sum())  # fmt: skip
    [again] = generator.generate_allocataires_insee(tmp_path / "again", territories_dir, [year])
    assert again.read_bytes() == insee.read_bytes()
