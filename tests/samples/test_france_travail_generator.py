"""Tests of the France Travail sample generator: determinism, encodings, geographies, revisions, masking, sizes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from etl.referentiels.territories import QP2015_PATTERN, QP2024_PATTERN, normalise_qpv, read_anct
from etl.samples.generators import france_travail as generator
from etl.samples.generators.france_travail import ENSEMBLE_LEVELS
from etl.sources.france_travail import CONTACT_COLUMNS, DEFM_COLUMNS, DEFM_COUNT_COLUMNS

MONTHS = ["2023-11", "2023-12", "2024-01", "2024-02"]
YEARS = [2023, 2024]


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory, territories_dir) -> Path:
    folder = tmp_path_factory.mktemp("france_travail")
    generator.generate_defm(folder, territories_dir, MONTHS, broken=True)
    generator.generate_contacts(folder, territories_dir, YEARS)
    return folder


def _frame(path: Path) -> pd.DataFrame:
    """A generated file as text, decoded the way its month requires, with `line_no`."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype="str")
    frame.insert(0, "line_no", range(2, len(rows) + 1))
    return frame


def _file(out_dir: Path, month: str) -> pd.DataFrame:
    return _frame(out_dir / generator.defm_file_name(month))


def _departement_of(territories_dir: Path) -> dict[str, str]:
    out = {}
    for name in ("qpv_2015.csv", "qpv_2024.csv"):
        qpv = normalise_qpv(read_anct(territories_dir / name))["qpv"]
        out.update(zip(qpv["code_qp"], qpv["insee_dep"], strict=True))
    return out


# --- files and determinism -----------------------------------------------------------------------------------------


def test_file_names_and_headers(out_dir):
    names = sorted(path.name for path in out_dir.iterdir())
    assert names == [
        "DEFM_QPV_202311.csv",
        "DEFM_QPV_202312.csv",
        "DEFM_QPV_202401.csv",
        "DEFM_QPV_202402.csv",
        "DEFM_QPV_202402_broken.csv",
        "POINTS_CONTACT_QPV_2023.csv",
        "POINTS_CONTACT_QPV_2024.csv",
    ]
    for month in MONTHS:
        assert (out_dir / generator.defm_file_name(month)).read_bytes().split(b"\n", 1)[0] == ";".join(
            DEFM_COLUMNS
        ).encode()
    for year in YEARS:
        header = (out_dir / f"POINTS_CONTACT_QPV_{year}.csv").read_bytes().split(b"\n", 1)[0]
        assert header == ";".join(CONTACT_COLUMNS).encode()


def test_same_inputs_give_the_same_bytes(out_dir, territories_dir, tmp_path):
    paths = generator.generate_defm(tmp_path, territories_dir, MONTHS, broken=True)
    paths += generator.generate_contacts(tmp_path, territories_dir, YEARS)
    assert len(paths) == 7
    for path in paths:
        assert path.read_bytes() == (out_dir / path.name).read_bytes(), path.name


def test_a_file_does_not_depend_on_the_other_months_asked(out_dir, territories_dir, tmp_path):
    [path] = generator.generate_defm(tmp_path, territories_dir, ["2024-01"])
    assert path.read_bytes() == (out_dir / path.name).read_bytes()


def test_another_seed_gives_other_figures(out_dir, territories_dir, tmp_path):
    [path] = generator.generate_defm(tmp_path, territories_dir, ["2024-01"], seed=7)
    assert path.read_bytes() != (out_dir / path.name).read_bytes()


def test_a_normal_run_never_writes_the_broken_file(territories_dir, tmp_path):
    paths = generator.generate_defm(tmp_path, territories_dir, ["2023-12", "2024-01"])
    assert [path.name for path in paths] == ["DEFM_QPV_202312.csv", "DEFM_QPV_202401.csv"]
    assert not list(tmp_path.glob("*_broken*"))


def test_a_month_that_is_not_yyyy_mm_is_refused(territories_dir, tmp_path):
    with pytest.raises(ValueError, match="YYYY-MM"):
        generator.generate_defm(tmp_path, territories_dir, ["2024-1"])


# --- encodings and geographies -------------------------------------------------------------------------------------


def test_files_before_2024_are_windows_1252_and_later_ones_utf8(out_dir):
    old = (out_dir / "DEFM_QPV_202312.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        old.decode("utf-8")
    text = old.decode("cp1252")
    assert "é" in text and not text.isascii()
    recent = (out_dir / "DEFM_QPV_202401.csv").read_bytes().decode("utf-8")
    assert "é" in recent
    for year in YEARS:
        (out_dir / f"POINTS_CONTACT_QPV_{year}.csv").read_bytes().decode("utf-8")


def _in_force_2024(territories_dir: Path) -> int:
    """QPV in force during 2024: the 2024 geography in metropolitan France, the 2015 one overseas."""
    qpv = {geo: normalise_qpv(read_anct(territories_dir / f"qpv_{geo}.csv"))["qpv"] for geo in ("2015", "2024")}
    return int(
        (~qpv["2024"]["insee_dep"].str.startswith("97")).sum() + qpv["2015"]["insee_dep"].str.startswith("97").sum()
    )


def test_months_before_2024_use_the_2015_codes(out_dir, territories_dir):
    frame = _file(out_dir, "2024-01")
    assert sorted(frame["mois"].unique()) == ["2023-11", "2023-12", "2024-01"]
    qpv = frame[frame["niveau"] == "QPV"]
    old = qpv[qpv["mois"] < "2024-01"]["code_territoire"]
    new = qpv[qpv["mois"] == "2024-01"]["code_territoire"]
    assert old.str.fullmatch(QP2015_PATTERN[1:-1]).all() and len(old) == 2 * 1514
    overseas = new.str.match(r"^Q[PN]97")
    assert new[~overseas].str.fullmatch(QP2024_PATTERN[1:-1]).all()
    assert new[overseas].str.fullmatch(QP2015_PATTERN[1:-1]).all(), "overseas keeps its 2015 QPV during 2024"
    assert len(new) == _in_force_2024(territories_dir)
    assert list(frame["niveau"].unique()) == [*ENSEMBLE_LEVELS, "QPV", "COMMUNE", "EPCI", "DEPARTEMENT"]
    departements = frame[frame["niveau"] == "DEPARTEMENT"]
    assert departements.groupby("mois").size().tolist() == [101, 101, 101]
    assert {"2A", "2B", "976"} <= set(departements["code_territoire"])
    assert frame[frame["niveau"] == "EPCI"]["code_territoire"].str.fullmatch(r"\d{9}").all()
    assert frame[frame["niveau"] == "COMMUNE"]["code_territoire"].str.fullmatch(r"[0-9AB]{5}").all()


# --- revisions, masking, values ------------------------------------------------------------------------------------


def test_each_file_revises_the_two_previous_months(out_dir):
    for month, previous in (("2023-12", "2023-11"), ("2024-01", "2023-12"), ("2024-02", "2024-01")):
        frame = _file(out_dir, month)
        assert sorted(frame["mois"].unique())[-1] == month and frame["mois"].nunique() == 3
        key = ["niveau", "code_territoire"]
        first = _file(out_dir, previous)
        first = first[first["mois"] == previous].set_index(key)
        revised = frame[frame["mois"] == previous].set_index(key)
        assert first.index.equals(revised.index)
        changed = (first[list(DEFM_COUNT_COLUMNS)] != revised[list(DEFM_COUNT_COLUMNS)]).any(axis=1)
        assert 0.01 < changed.mean() < 0.10, (month, changed.mean())
        both = first.loc[changed, "defm_abc"].str.isdigit() & revised.loc[changed, "defm_abc"].str.isdigit()
        before = first.loc[changed, "defm_abc"][both].astype(int)
        after = revised.loc[changed, "defm_abc"][both].astype(int)
        assert ((after - before).abs() <= 0.035 * before + 2).all()


def test_small_counts_are_masked(out_dir):
    frame = _file(out_dir, "2024-02")
    qpv = frame[frame["niveau"] == "QPV"][list(DEFM_COUNT_COLUMNS)]
    share = (qpv == "s").to_numpy().mean()
    assert 0.01 <= share <= 0.03, share
    cells = pd.Series(frame[list(DEFM_COUNT_COLUMNS)].to_numpy().ravel(), dtype="str")
    numbers = cells[cells != "s"]
    assert numbers.str.fullmatch(r"\d+").all() and (numbers.astype(int) >= 5).all()
    assert frame["part_femmes_a"].str.fullmatch(r"\d+,\d|s").all()
    assert (frame["part_femmes_a"] == "s").any()


def test_breakdowns_add_up_and_magnitudes_are_realistic(out_dir):
    frame = _file(out_dir, "2023-12")
    full = frame[(frame[list(DEFM_COUNT_COLUMNS)] != "s").all(axis=1)]
    n = full[list(DEFM_COUNT_COLUMNS)].astype(int)
    for category in ("a", "abc"):
        total = n[f"defm_{category}"]
        assert (n[f"defm_{category}_femmes"] + n[f"defm_{category}_hommes"] == total).all()
        assert (
            n[f"defm_{category}_moins_26"] + n[f"defm_{category}_26_49"] + n[f"defm_{category}_50_plus"] == total
        ).all()
    share_a = n["defm_a"] / n["defm_abc"]
    assert share_a.between(0.5, 0.7).all()
    share = full["part_femmes_a"].str.replace(",", ".").astype(float)
    assert ((share - 100 * n["defm_a_femmes"] / n["defm_a"]).abs() <= 0.051).all()
    qpv_abc = n[full["niveau"] == "QPV"]["defm_abc"]
    assert 300 < qpv_abc.median() < 900 and qpv_abc.quantile(0.1) > 100 and qpv_abc.max() < 3500


def test_qpv_figures_never_exceed_their_departement(out_dir, territories_dir):
    departement_of = _departement_of(territories_dir)
    for month in ("2023-12", "2024-02"):
        frame = _file(out_dir, month)
        qpv = frame[frame["niveau"] == "QPV"].copy()
        qpv["dep"] = qpv["code_territoire"].map(departement_of)
        assert qpv["dep"].notna().all()
        departements = frame[frame["niveau"] == "DEPARTEMENT"].set_index(["mois", "code_territoire"])
        for column in DEFM_COUNT_COLUMNS:
            sums = pd.to_numeric(qpv[column], errors="coerce").groupby([qpv["mois"], qpv["dep"]]).sum()
            totals = departements[column].astype(int).reindex(sums.index)
            assert (sums <= totals).all(), column
            assert (sums / totals).max() < 0.8


def test_series_are_smooth_from_month_to_month(out_dir):
    frame = _file(out_dir, "2024-02")
    communes = frame[frame["niveau"] == "COMMUNE"].pivot(index="code_territoire", columns="mois", values="defm_abc")
    values = communes.dropna().astype(int)  # communes with a QPV in both geographies
    assert len(values) > 700
    change = (values["2024-02"] / values["2024-01"] - 1).abs()
    assert change.median() < 0.03 and change.max() < 0.15


# --- broken file ---------------------------------------------------------------------------------------------------


def test_the_broken_file_differs_on_three_lines_of_the_last_month(out_dir):
    normal = (out_dir / "DEFM_QPV_202402.csv").read_text(encoding="utf-8").split("\n")
    broken = (out_dir / "DEFM_QPV_202402_broken.csv").read_text(encoding="utf-8").split("\n")
    assert len(normal) == len(broken)
    changed = [(old, new) for old, new in zip(normal, broken, strict=True) if old != new]
    assert len(changed) == 3 and all(new.startswith("2024-02;") for _, new in changed)
    levels = {new.split(";")[1] for _, new in changed}
    assert levels in ({"QPV", "COMMUNE", "DEPARTEMENT"}, {"QPV", "EPCI", "DEPARTEMENT"})
    joined = "\n".join(new for _, new in changed)
    assert ";DEPARTEMENT;20;" in joined
    qpv = next(new for _, new in changed if ";QPV;" in new).split(";")[2]
    assert len(qpv) == 7 and qpv.startswith("QN")
    count = next(new for _, new in changed if ";COMMUNE;" in new or ";EPCI;" in new).split(";")
    assert " " in count[DEFM_COLUMNS.index("defm_abc")]


# --- contact points ------------------------------------------------------------------------------------------------


def test_contact_points_per_qpv_and_year(out_dir, territories_dir):
    for year, count in ((2023, 1514), (2024, _in_force_2024(territories_dir))):
        frame = _frame(out_dir / f"POINTS_CONTACT_QPV_{year}.csv")
        assert len(frame) == count and (frame["annee"] == str(year)).all()
        pattern = f"{QP2015_PATTERN[1:-1]}|{QP2024_PATTERN[1:-1]}" if year == 2024 else QP2015_PATTERN[1:-1]
        assert frame["code_qp"].str.fullmatch(pattern).all() and frame["code_qp"].is_unique
        sites = frame["sites_france_travail"].astype(int)
        relais = frame["relais_partenaires"].astype(int)
        assert (sites >= 0).all() and (relais >= 0).all()
        none = ((sites == 0) & (relais == 0)).mean()
        assert 0.01 < none < 0.08, none
        assert sites.max() <= 3 and relais.max() < 15


def test_ensemble_lines_are_the_exact_sums_of_their_qpv(out_dir, territories_dir):
    """France Travail's "Ensemble des quartiers prioritaires" lines: computed on exact data, so a sum the masked QPV
    do not hide equals the QPV lines' sum, and every other one is above the published QPV by less than 5 per
    masked QPV."""
    frame = _file(out_dir, "2024-02")
    frame = frame[frame["mois"] == "2024-02"]
    departement = _departement_of(territories_dir)
    qpv = frame[frame["niveau"] == "QPV"].copy()
    qpv["departement"] = qpv["code_territoire"].map(departement)
    ensembles = frame[frame["niveau"] == "ENSEMBLE_QPV_DEPARTEMENT"].set_index("code_territoire")
    assert set(ensembles.index) == set(qpv["departement"])
    assert frame.iloc[0]["niveau"] == "ENSEMBLE_QPV_FRANCE" and frame.iloc[0]["code_territoire"] == "FR"
    exact = bounded = 0
    for column in DEFM_COUNT_COLUMNS:
        for code, lines in qpv.groupby("departement"):
            cells = lines[column]
            published = cells[cells != "s"].astype(int).sum()
            if ensembles.loc[code, column] == "s":  # the département's own sum is below 5
                assert published < 5, (column, code)
                continue
            total = int(ensembles.loc[code, column])
            masked = int((cells == "s").sum())
            # a masked total is below 5; a masked sex or age cell may be a larger complement
            most = published + 4 * masked if column in ("defm_a", "defm_abc") else float("inf")
            assert published <= total <= most, (column, code)
            if masked == 0:
                assert total == published, (column, code)
            exact += masked == 0
            bounded += masked > 0
    assert exact and bounded  # both cases are exercised
    france = int(frame.iloc[0]["defm_abc"])
    assert france == sum(int(ensembles.loc[code, "defm_abc"]) for code in ensembles.index)


# --- INSEE's job seekers by QPV ------------------------------------------------------------------------------------


def test_insee_defm_gives_france_travails_last_revision_of_december_through_its_own_layout(territories_dir, tmp_path):
    from etl.sources import france_travail as source

    [insee] = generator.generate_defm_insee(tmp_path / "insee", territories_dir, [2024])
    assert insee.name == "DEFM2024_QP24.csv"
    assert insee.read_bytes().startswith(b"CODGEO;NOTE;ABCDE;ABC;ABC_H;ABC_F;A;A_H;A_F;ABC_25;ABC_2649;ABC_50\n")
    raw = source.read_defm(insee)
    assert raw.attrs["layout"] == "insee_defm_qp"
    insee_values = source.normalise_defm(raw)["values"]
    assert set(insee_values["period_code"]) == {"2024-12"}
    assert (insee_values["status"] == "masked").any() and (insee_values["status"] == "ok").any()
    # France Travail's file of February 2025 holds its last revision of December 2024
    files = generator.generate_defm(tmp_path / "ft", territories_dir, ["2025-02"])
    ft_values = source.normalise_defm(source.read_defm(files[0]))["values"]
    key = ["indicator_code", "territory_level", "territory_code", "period_code", "breakdown"]
    both = insee_values.merge(ft_values, on=key, how="left", suffixes=("_insee", "_ft"), validate="one_to_one")
    assert len(both) == len(insee_values) and both["status_ft"].notna().all()
    assert both["status_insee"].tolist() == both["status_ft"].tolist()
    assert both["value_insee"].fillna(-1).tolist() == both["value_ft"].fillna(-1).tolist()
    in_force = {
        code
        for name, prefix in (("qpv_2024.csv", "QN"), ("qpv_2015.csv", "QP"))
        for code in normalise_qpv(read_anct(territories_dir / name))["qpv"]["code_qp"]
        if code.startswith(f"{prefix}97") == (prefix == "QP")
    }
    assert set(insee_values["territory_code"]) == in_force  # in 2024 overseas QPV keep their 2015 codes


def test_insee_defm_refuses_a_year_before_the_2024_qpv(territories_dir, tmp_path):
    with pytest.raises(ValueError, match="no file for 2023"):
        generator.generate_defm_insee(tmp_path, territories_dir, [2023, 2024])
    assert not list(tmp_path.iterdir())


def test_the_demo_drops_insee_defm_for_the_decembers_france_travail_has_revised_for_the_last_time():
    from etl.samples.demo_data import DEMO_MONTHS, insee_defm_years

    assert insee_defm_years(DEMO_MONTHS) == [2024, 2025]
    assert insee_defm_years(["2023-12", "2024-01", "2024-02"]) == []  # the 2015 QPV: no QP24 file
    assert insee_defm_years(["2024-11", "2024-12", "2025-01"]) == []  # December not revised for the last time yet
