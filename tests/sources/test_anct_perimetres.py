"""The ANCT's perimeters of the 2024 QPV: the zip and its GeoJSON read as written, geometries checked, repaired or
refused naming the QPV, hostile archives bounded, the gates, and the files through the pipeline on a real warehouse.
The fixtures are written here from the layout the ANCT publishes, not by the sample generator (tested apart)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa

from etl.publication import report_maps
from etl.quality import gates
from etl.readers import FileShapeError
from etl.sources import anct_perimetres as perimetres
from tests.sources.inbox import ingest

SQUARE = [[[2.30, 48.80], [2.31, 48.80], [2.31, 48.81], [2.30, 48.81], [2.30, 48.80]]]
BOW_TIE = [[[5.0, 46.0], [5.01, 46.01], [5.01, 46.0], [5.0, 46.01], [5.0, 46.0]]]  # its two edges cross
CORE_ROWS = (
    "SELECT code_qpv, geometrie_type, geometrie, geometrie_simplifiee, repare, line_no FROM core.qpv_perimetre "
    "ORDER BY code_qpv"
)
FLAT = [[[5.0, 46.0], [5.01, 46.0], [5.02, 46.0], [5.03, 46.0], [5.0, 46.0]]]  # all on one parallel: no surface


def _feature(fid: int, code: str, geometry: dict | None, **properties) -> dict:
    base = {
        "fid": fid, "code_qp": code, "lib_qp": f"Quartier {fid}", "insee_reg": "11", "lib_reg": "Île-de-France",
        "insee_dep": code[3:5] if code[2] == "0" else code[2:5], "lib_dep": "Département", "insee_com": "75056",
        "lib_com": "Paris", "siren_epci": "200054781",
    }  # fmt: skip
    return {"type": "Feature", "properties": {**base, **properties}, "geometry": geometry}


def _polygon(coordinates) -> dict:
    return {"type": "Polygon", "coordinates": coordinates}


def _zip(path: Path, feature_list: list[dict], member: str = perimetres.GEOJSON_MEMBER, *, bom: bool = False) -> Path:
    document = json.dumps({"type": "FeatureCollection", "name": "QP2024", "features": feature_list})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, ("\ufeff" if bom else "") + document)
    return path


@pytest.fixture(scope="module")
def qpv_2024(territories) -> list[str]:
    return sorted(territories["2024"]["qpv"]["code_qp"])


@pytest.fixture
def codes(qpv_2024) -> list[str]:
    return qpv_2024[:4]


def test_the_ancts_zip_is_read_as_text_one_row_per_feature_in_any_case(tmp_path, codes):
    first = _feature(1, codes[0], _polygon(SQUARE), insee_com="2691, 2571", lib_com="Saint-Quentin, Omissy")
    first["properties"] = {key.upper(): value for key, value in first["properties"].items()}  # CODE_QP, LIB_QP...
    path = _zip(tmp_path / "QP2024.zip", [first, _feature(2, codes[1], _polygon(SQUARE), insee_dep=1)], bom=True)
    raw = perimetres.read_perimetres(path)
    assert list(raw.columns) == ["line_no", *perimetres.PROPERTIES, "geometry_type", "geometry"]
    assert raw["line_no"].tolist() == [1, 2]
    assert raw["code_qp"].tolist() == codes[:2]
    assert raw.loc[0, "insee_com"] == "2691, 2571" and raw.loc[1, "insee_dep"] == "1" and raw.loc[0, "fid"] == "1"
    assert raw["geometry_type"].tolist() == ["Polygon", "Polygon"]
    assert json.loads(raw.loc[0, "geometry"]) == _polygon(SQUARE)

    staged = perimetres.normalise_perimetres(raw)["perimetres"]
    assert staged.loc[0, "communes"] == "02691; 02571"  # padded, joined as in the QPV list
    assert staged.loc[1, "departement"] == "01"
    assert not staged["repare"].any() and (staged["probleme"] == "").all()
    shape = shapely.from_geojson(staged.loc[0, "geometrie"])
    assert shape.equals(shapely.from_geojson(json.dumps(_polygon(SQUARE))))
    assert tuple(staged.loc[0, ["lon_min", "lat_min", "lon_max", "lat_max"]]) == pytest.approx(
        (2.30, 48.80, 2.31, 48.81)
    )
    assert shapely.from_geojson(staged.loc[0, "geometrie_simplifiee"]).geom_type == "Polygon"


def test_a_bare_geojson_and_a_zip_with_one_geojson_elsewhere_are_read(tmp_path, codes):
    feature_list = [_feature(1, codes[0], _polygon(SQUARE))]
    bare = tmp_path / "perimetres.geojson"
    bare.write_text(json.dumps({"type": "FeatureCollection", "features": feature_list}), encoding="utf-8")
    other = _zip(tmp_path / "autre.zip", feature_list, member="donnees/qp.geojson")
    for path in (bare, other):
        assert perimetres.read_perimetres(path)["code_qp"].tolist() == [codes[0]]


def test_a_self_intersecting_polygon_is_repaired_by_make_valid_and_named_in_a_warning(tmp_path, codes, qpv_2024):
    path = _zip(
        tmp_path / "QP2024.zip", [_feature(1, codes[0], _polygon(SQUARE)), _feature(2, codes[1], _polygon(BOW_TIE))]
    )
    raw = perimetres.read_perimetres(path)
    staged = perimetres.normalise_perimetres(raw)["perimetres"]
    repaired = staged.iloc[1]
    assert bool(repaired["repare"]) and repaired["probleme"] == ""
    assert repaired["reparation"].startswith(f"{codes[1]}: invalid geometry (Self-intersection")
    shape = shapely.from_geojson(repaired["geometrie"])
    assert shape.is_valid and shape.geom_type == "MultiPolygon" and shape.area > 0  # the two triangles of the bow tie

    file_gate = gates.run_suite("anct_qpv_perimetres.file", raw, gate="file")
    rows_gate = gates.run_suite("qpv_perimetres.rows", staged, gate="rows", parameters={"qpv_2024": qpv_2024})
    assert file_gate.passed and rows_gate.passed
    [warning] = rows_gate.warnings
    assert codes[1] in warning.describe()


@pytest.mark.parametrize(
    ("geometry", "problem"),
    [
        (_polygon(FLAT), "make_valid cannot repair into a surface"),
        (_polygon([[[2.3, 48.8], [2.31, 48.8], [2.3, 48.8]]]), "Too few points"),  # a ring of three points
        (_polygon([[["2,3", "48,8"], [2.31, 48.8], [2.31, 48.81], [2.3, 48.8]]]), "cannot be read"),
        (_polygon([[[650000, 6860000], [650100, 6860000], [650100, 6860100], [650000, 6860000]]]), "WGS84"),
        (_polygon([]), "empty"),
    ],
    ids=["flat", "short_ring", "text_coordinates", "lambert93", "empty"],
)
def test_a_geometry_that_cannot_be_repaired_fails_the_rows_gate_naming_the_qpv(
    tmp_path, codes, qpv_2024, geometry, problem
):
    path = _zip(tmp_path / "QP2024.zip", [_feature(1, codes[0], _polygon(SQUARE)), _feature(2, codes[1], geometry)])
    raw = perimetres.read_perimetres(path)
    assert gates.run_suite("anct_qpv_perimetres.file", raw, gate="file").passed
    staged = perimetres.normalise_perimetres(raw)["perimetres"]
    assert staged.loc[1, "probleme"].startswith(f"{codes[1]}: ") and problem in staged.loc[1, "probleme"]
    result = gates.run_suite("qpv_perimetres.rows", staged, gate="rows", parameters={"qpv_2024": qpv_2024})
    [failure] = result.blocking_failures
    assert failure.column == "probleme" and "line 2" in failure.describe() and codes[1] in failure.describe()


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [(None, ""), ({"type": "Point", "coordinates": [2.3, 48.8]}, "Point"),
     ({"type": "LineString", "coordinates": [[2.3, 48.8], [2.4, 48.9]]}, "LineString")],
    ids=["no_geometry", "point", "line"],
)  # fmt: skip
def test_a_feature_that_is_no_polygon_fails_the_file_gate(tmp_path, codes, geometry, expected):
    raw = perimetres.read_perimetres(_zip(tmp_path / "QP2024.zip", [_feature(1, codes[0], geometry)]))
    assert raw.loc[0, "geometry_type"] == expected
    result = gates.run_suite("anct_qpv_perimetres.file", raw, gate="file")
    assert [f.column for f in result.blocking_failures] == ["geometry_type"]


def test_a_code_outside_the_2024_referential_fails_the_gates(tmp_path, codes, qpv_2024):
    unknown = "QN07599N"
    assert unknown not in qpv_2024
    squares = [_feature(1, codes[0], _polygon(SQUARE)), _feature(2, unknown, _polygon(SQUARE))]
    path = _zip(tmp_path / "QP2024.zip", [*squares, _feature(3, "QP075001", _polygon(SQUARE))])
    raw = perimetres.read_perimetres(path)
    file_gate = gates.run_suite("anct_qpv_perimetres.file", raw, gate="file")
    assert [f.column for f in file_gate.blocking_failures] == ["code_qp"]  # a 2015 code
    staged = perimetres.normalise_perimetres(raw.iloc[:2])["perimetres"]
    rows_gate = gates.run_suite("qpv_perimetres.rows", staged, gate="rows", parameters={"qpv_2024": qpv_2024})
    [failure] = rows_gate.blocking_failures
    assert failure.column == "code_qpv" and f"line 2 ('{unknown}')" in failure.describe()


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"code_qp;lib_qp\nQN07501M;x\n", "not_json"),
        (json.dumps({"type": "Feature", "geometry": None}).encode(), "not_geojson"),
        (json.dumps({"type": "FeatureCollection", "features": []}).encode(), "empty_file"),
        (json.dumps({"type": "FeatureCollection", "features": [{"properties": {"nom": "x"}}]}).encode(),
         "missing_columns"),
        ("é".encode("latin-1") + b"{}", "encoding"),
    ],
    ids=["csv", "not_a_collection", "no_feature", "no_code", "latin1"],
)  # fmt: skip
def test_a_file_that_is_no_feature_collection_is_refused_in_one_sentence(tmp_path, content, rule):
    path = tmp_path / "perimetres.geojson"
    path.write_bytes(content)
    with pytest.raises(FileShapeError) as caught:
        perimetres.read_perimetres(path)
    assert caught.value.rule == rule
    assert str(caught.value).startswith("perimetres.geojson: ") and "\n" not in str(caught.value)


def test_a_zip_without_the_geojson_or_with_several_is_refused(tmp_path):
    empty = tmp_path / "vide.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("SHP/QP2024.shp", b"\0")
    several = tmp_path / "plusieurs.zip"
    with zipfile.ZipFile(several, "w") as archive:
        archive.writestr("a.geojson", b"{}")
        archive.writestr("b.geojson", b"{}")
    broken = tmp_path / "casse.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 50)
    for path, rule in ((empty, "missing_member"), (several, "missing_member"), (broken, "not_zip")):
        with pytest.raises(FileShapeError) as caught:
            perimetres.read_perimetres(path)
        assert caught.value.rule == rule, str(caught.value)


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, monkeypatch):
    """A member that inflates beyond MAX_GEOJSON_BYTES is refused, whatever size its header claims."""
    monkeypatch.setattr(perimetres, "MAX_GEOJSON_BYTES", 1 << 20)
    bomb = tmp_path / "bombe.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(perimetres.GEOJSON_MEMBER, b" " * (4 << 20))
    assert bomb.stat().st_size < 64 << 10
    with pytest.raises(FileShapeError) as caught:
        perimetres.read_perimetres(bomb)
    assert caught.value.rule == "file_size"
    # the header lies (claims 10 bytes): the read itself stops at the limit
    data = bytearray(bomb.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset : at + offset + 4] = (10).to_bytes(4, "little")
    liar = tmp_path / "menteuse.zip"
    liar.write_bytes(bytes(data))
    with pytest.raises((FileShapeError, zipfile.BadZipFile)) as caught:
        perimetres.read_perimetres(liar)
    assert not isinstance(caught.value, FileShapeError) or caught.value.rule == "file_size"


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, codes, monkeypatch):
    path = _zip(tmp_path / "QP2024.zip", [_feature(1, codes[0], _polygon(SQUARE))])
    monkeypatch.setattr(perimetres, "MAX_FILE_BYTES", path.stat().st_size - 1)
    with pytest.raises(FileShapeError) as caught:
        perimetres.read_perimetres(path)
    assert caught.value.rule == "file_size"


# --- through the pipeline, on a real warehouse ---------------------------------------------------------------------


@pytest.mark.warehouse
def test_perimeters_through_the_pipeline_load_repair_quarantine_and_replace(reference_warehouse, territories, tmp_path):
    wh = reference_warehouse
    assert [b.status for b in ingest(wh, "anct_qpv", territories["folder"] / "qpv_2024.csv").batches] == ["loaded"]
    codes = sorted(territories["2024"]["qpv"]["code_qp"])[:3]
    good = _zip(tmp_path / "QP2024_France_Hexagonale_Outre_Mer_WGS84.zip",
                [_feature(1, codes[0], _polygon(SQUARE)), _feature(2, codes[1], _polygon(BOW_TIE))])  # fmt: skip
    broken = _zip(tmp_path / "QP2024_broken.zip",
                  [_feature(1, codes[0], _polygon(SQUARE)), _feature(2, codes[2], _polygon(FLAT))])  # fmt: skip
    outcomes = {b.original_name: b for b in ingest(wh, "anct_qpv_perimetres", good, broken).batches}
    assert (outcomes[good.name].status, outcomes[good.name].partition) == ("loaded", "qpv2024")
    assert any(codes[1] in warning for warning in outcomes[good.name].warnings)
    quarantined = outcomes[broken.name]
    assert quarantined.status == "quarantined"
    report = quarantined.report.read_text(encoding="utf-8")
    assert "Quarantined file: QP2024_broken.zip" in report and f"line 2 ('{codes[2]}: invalid geometry" in report

    with wh.engine.connect() as conn:
        rows = conn.execute(sa.text(CORE_ROWS)).all()
        raw_rows = conn.execute(sa.text("SELECT count(*), max(geometry_type) FROM raw.anct_qpv_perimetre")).one()
    assert [(r.code_qpv, r.geometrie_type, r.repare, r.line_no) for r in rows] == [
        (codes[0], "Polygon", False, 1),
        (codes[1], "MultiPolygon", True, 2),
    ]
    assert all(shapely.from_geojson(r.geometrie).is_valid and shapely.from_geojson(r.geometrie_simplifiee).is_valid
               for r in rows)  # fmt: skip
    assert tuple(raw_rows) == (2, "Polygon")
    # what an annual edition reads for its maps: the simplified perimeters of the QPV it publishes, with their batch
    shown = report_maps.read_perimeters(wh.engine, [codes[1], codes[2], codes[0]])
    assert shown["code_qpv"].tolist() == codes[:2] and set(shown["batch_id"]) == {outcomes[good.name].batch_id}
    assert report_maps.read_perimeters(wh.engine, []).empty

    # a new delivery replaces the previous one whole
    again = _zip(tmp_path / "QP2024_v2.zip", [_feature(1, codes[2], _polygon(SQUARE))])
    [batch] = ingest(wh, "anct_qpv_perimetres", again).batches
    assert batch.status == "loaded"
    with wh.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT array_agg(code_qpv) FROM core.qpv_perimetre")).scalar() == [codes[2]]
