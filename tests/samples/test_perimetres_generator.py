"""The sample perimeters of the 2024 QPV: the ANCT's zip layout, plausible polygons, one repaired, the broken file, and
the same bytes for the same seed."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from etl.quality import gates
from etl.referentiels.territories import read_anct
from etl.samples.generators import perimetres as generator
from etl.sources import anct_perimetres as perimetres


@pytest.fixture(scope="module")
def qpv_2024(territories_dir) -> list[str]:
    return sorted(read_anct(territories_dir / "qpv_2024.csv")["code_qp"])


def test_the_generated_zip_is_in_the_ancts_layout_and_passes_its_gates(tmp_path, territories_dir, qpv_2024):
    good, broken = generator.generate(tmp_path, territories_dir, broken=True)
    assert good.name == "QP2024_France_Hexagonale_Outre_Mer_WGS84.zip"
    with zipfile.ZipFile(good) as archive:
        assert archive.namelist() == [perimetres.GEOJSON_MEMBER]
        document = json.load(io.TextIOWrapper(archive.open(perimetres.GEOJSON_MEMBER), encoding="utf-8"))
    assert list(document["features"][0]["properties"]) == list(perimetres.PROPERTIES)
    assert len(document["features"]) == len(qpv_2024)
    raw = perimetres.read_perimetres(good)
    staged = perimetres.normalise_perimetres(raw)["perimetres"]
    assert gates.run_suite("anct_qpv_perimetres.file", raw, gate="file").passed
    rows_gate = gates.run_suite("qpv_perimetres.rows", staged, gate="rows", parameters={"qpv_2024": qpv_2024})
    assert rows_gate.passed and len(rows_gate.warnings) == 1  # the one bow tie, repaired
    assert int(staged["repare"].sum()) == 1
    # plausible: small polygons (300 m to 1.2 km) near their département, in France's longitudes and latitudes
    width = staged["lon_max"] - staged["lon_min"]
    assert width.between(0.002, 0.06).all()
    mainland = ~staged["departement"].str.startswith("97")
    assert staged.loc[mainland, "lon_min"].between(-5.5, 10).all()
    assert staged.loc[mainland, "lat_min"].between(41, 51.5).all()
    # multi-commune values joined by ", ", a lone commune code unpadded as the ANCT writes some
    assert raw["insee_com"].str.contains(", ").any() and (raw["insee_com"].str.len() == 4).any()
    # same seed, same bytes; the broken file is quarantined naming its QPV
    again = generator.generate(tmp_path / "again", territories_dir)
    assert again[0].read_bytes() == good.read_bytes()
    problems = perimetres.normalise_perimetres(perimetres.read_perimetres(broken))["perimetres"]["probleme"]
    assert (problems != "").sum() == 1 and problems[problems != ""].iloc[0].startswith("QN")
