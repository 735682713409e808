"""ANCT: the perimeters of the 2024 QPV (their polygons), for the maps of the editions' reports.

This module owns what the platform knows about the ANCT's perimeters file and nothing about where it comes from. The
ANCT publishes them as a zip holding `GEOJSON/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson` (`GEOJSON_MEMBER`):
a GeoJSON FeatureCollection in WGS84 longitude/latitude, one feature per QPV (mainland and overseas), whose properties
are `fid, code_qp, lib_qp, insee_reg, lib_reg, insee_dep, lib_dep, insee_com, lib_com, siren_epci` (`PROPERTIES`; no
`lib_epci`), multi-commune values joined by `, ` and commune codes not always padded (`2691`). A zip is searched for
that member (or, failing it, its only `.geojson`); a bare `.geojson` file is read as well.

`read_perimetres(path)` gives the file as read: one row per feature (`line_no` = the feature's rank in the file, from
1), every property as text (property names in any case: `CODE_QP` = `code_qp`; other properties ignored), the
geometry's `type` as written (`geometry_type`, empty for a feature without geometry) and the geometry itself as
compact GeoJSON text (`geometry`). The zip and the GeoJSON are bounded before anything is decompressed or parsed
(`MAX_FILE_BYTES`, `MAX_GEOJSON_BYTES`, `MAX_FEATURES`); a file that is not a FeatureCollection, or lacks a required
property in every feature, raises `FileShapeError`.

`normalise_perimetres(raw)` gives `{"perimetres": frame}`, one row per QPV: its code, name and département (padded),
its communes (padded, joined by `; ` as in the QPV list), the geometry checked with shapely (GEOS): a valid polygon is
kept as it is; an invalid one (a self-intersecting ring, a hole outside its shell...) is repaired by
`shapely.make_valid`, keeping its polygonal parts, and `reparation` says which QPV, why and that it was repaired (a
warning of the rows gate); a geometry that cannot be read, is empty, has coordinates outside WGS84's bounds or leaves
no surface once repaired is not loaded: `probleme` names the QPV's code and what is wrong, and the rows gate
quarantines the file. Beside the geometry (GeoJSON text, as repaired), the simplified one the report draws
(`geometrie_simplifiee`: `SIMPLIFY_DEGREES`, topology preserved, coordinates on a `PRECISION_DEGREES` grid), and the
bounding box. No PostGIS: the warehouse stores GeoJSON text.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from etl.readers import FileShapeError
from etl.referentiels.codes import pad_departement, pad_digits
from etl.sources.values import text

GEOJSON_MEMBER = "GEOJSON/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson"
PROPERTIES = (
    "fid", "code_qp", "lib_qp", "insee_reg", "lib_reg", "insee_dep", "lib_dep", "insee_com", "lib_com", "siren_epci",
)  # fmt: skip
REQUIRED_PROPERTIES = ("code_qp",)
POLYGONAL = ("Polygon", "MultiPolygon")
MAX_FILE_BYTES = 256 << 20  # the zip or the GeoJSON as received (the real zip: a few tens of MB)
MAX_GEOJSON_BYTES = 1 << 30  # the GeoJSON once decompressed
MAX_FEATURES = 20_000  # about 1,600 QPV
# Display: about 15 m of tolerance at French latitudes, and coordinates kept to about a metre.
SIMPLIFY_DEGREES = 0.00015
PRECISION_DEGREES = 0.00001
PERIMETRE_COLUMNS = (
    "line_no", "code_qpv", "libelle", "departement", "communes", "geometrie_type", "geometrie",
    "geometrie_simplifiee", "lon_min", "lat_min", "lon_max", "lat_max", "repare", "reparation", "probleme",
)  # fmt: skip


# --- reading -------------------------------------------------------------------------------------------------------


def _refused(name: str, message: str, *, rule: str, line: int | None = None, column: str | None = None):
    return FileShapeError(f"{name}: {message}", rule=rule, line=line, column=column)


def _zip_member(path: Path, name: str) -> bytes:
    """The GeoJSON inside the ANCT's zip, read within MAX_GEOJSON_BYTES whatever the zip's headers claim."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise _refused(
            name, "the file is not a readable zip archive; drop the ANCT's zip again.", rule="not_zip"
        ) from None
    with archive:
        members = [m for m in archive.infolist() if m.filename.lower().endswith(".geojson") and not m.is_dir()]
        exact = [m for m in members if m.filename == GEOJSON_MEMBER]
        if exact:
            member = exact[0]
        elif len(members) == 1:
            member = members[0]
        else:
            found = ", ".join(m.filename for m in members) or "none"
            raise _refused(
                name,
                f"the zip must hold {GEOJSON_MEMBER} (or exactly one .geojson file); .geojson files found: {found}.",
                rule="missing_member",
            )
        if member.file_size > MAX_GEOJSON_BYTES:
            raise _too_large(name, member.file_size, MAX_GEOJSON_BYTES)
        with archive.open(member) as stream:
            data = stream.read(MAX_GEOJSON_BYTES + 1)
        if len(data) > MAX_GEOJSON_BYTES:
            raise _too_large(name, len(data), MAX_GEOJSON_BYTES)
        return data


def _too_large(name: str, size: int, limit: int) -> FileShapeError:
    return _refused(
        name,
        f"the GeoJSON holds {size / (1 << 20):.1f} MB, more than the {limit / (1 << 20):.0f} MB it may hold; check "
        "that it is the ANCT's perimeters file and drop it again.",
        rule="file_size",
    )


def _property_text(value) -> str:
    """A property as text: a string as it is, a number or a boolean as JSON writes it (`1`, `2.5`), null as empty."""
    return "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def read_perimetres(path: Path, *, name: str | None = None) -> pd.DataFrame:
    """Read the perimeters (the ANCT's zip, or its GeoJSON) as text, one row per feature; see the module doc."""
    path = Path(path)
    name = path.name if name is None else name
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _too_large(name, size, MAX_FILE_BYTES)
    with path.open("rb") as fh:
        head = fh.read(4)
    data = _zip_member(path, name) if head.startswith(b"PK\x03\x04") else path.read_bytes()
    try:
        document = json.load(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _refused(name, f"the GeoJSON is not UTF-8 text ({exc.reason}).", rule="encoding") from None
    except json.JSONDecodeError as exc:
        raise _refused(name, f"line {exc.lineno}: the GeoJSON is not valid JSON ({exc.msg}).", rule="not_json",
                       line=exc.lineno) from None  # fmt: skip
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise _refused(name, "the GeoJSON must be a FeatureCollection with a list of features.", rule="not_geojson")
    if len(features) > MAX_FEATURES:
        raise _refused(name, f"{len(features)} features, more than the {MAX_FEATURES} a file may hold.", rule="size")
    if not features:
        raise _refused(name, "the FeatureCollection holds no feature.", rule="empty_file")
    rows, seen = [], set()
    for rank, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            raise _refused(name, f"feature {rank} is not a GeoJSON object.", rule="not_geojson", line=rank)
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            raise _refused(name, f"feature {rank}: its properties are not an object.", rule="not_geojson", line=rank)
        lowered = {str(key).strip().lower(): value for key, value in properties.items()}
        seen |= lowered.keys()
        geometry = feature.get("geometry")
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        rows.append(
            [rank, *(_property_text(lowered.get(column)) for column in PROPERTIES),
             "" if kind is None else str(kind),
             "" if geometry is None else json.dumps(geometry, separators=(",", ":"), ensure_ascii=False)]
        )  # fmt: skip
    missing = [column for column in REQUIRED_PROPERTIES if column not in seen]
    if missing:
        raise _refused(
            name,
            f"no feature has the propert{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)}; expected "
            f"{', '.join(PROPERTIES)}.",
            rule="missing_columns",
            column=", ".join(missing),
        )
    frame = pd.DataFrame(rows, columns=["line_no", *PROPERTIES, "geometry_type", "geometry"])
    for column in frame.columns[1:]:
        frame[column] = frame[column].astype("str")
    frame["line_no"] = frame["line_no"].astype("int64")
    return frame


# --- normalising ---------------------------------------------------------------------------------------------------


def _polygonal(geometry):
    """The polygonal parts of a geometry (a GeometryCollection from make_valid may hold lines too): a Polygon or
    MultiPolygon, or None when nothing of it has a surface."""
    import shapely

    parts = [part for part in shapely.get_parts(shapely.get_parts(geometry)) if part.geom_type in POLYGONAL]
    polygons = [p for part in parts for p in (part.geoms if part.geom_type == "MultiPolygon" else [part])]
    polygons = [p for p in polygons if not p.is_empty and p.area > 0]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def checked_geometry(code: str, geojson: str) -> tuple[object | None, str, str]:
    """(the geometry to load or None, what was repaired, the problem that stops it) of one feature, read with shapely;
    the two texts start with the QPV's code (empty when there is nothing to say)."""
    import shapely

    try:
        geometry = shapely.from_geojson(geojson)
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        return None, "", f"{code}: the geometry cannot be read ({str(exc).splitlines()[0]})"
    if geometry is None or geometry.is_empty:
        return None, "", f"{code}: the geometry is empty"
    coordinates = shapely.get_coordinates(geometry)
    if not np.isfinite(coordinates).all():
        return None, "", f"{code}: the geometry has coordinates that are not numbers"
    lon, lat = coordinates[:, 0], coordinates[:, 1]
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        return (
            None,
            "",
            (
                f"{code}: coordinates outside longitude/latitude bounds (e.g. {lon[0]:.0f}, {lat[0]:.0f}): the file "
                "must be in WGS84 degrees, not a projection such as Lambert-93"
            ),
        )
    if geometry.is_valid:
        polygonal = _polygonal(geometry)
        if polygonal is None:
            return None, "", f"{code}: the geometry has no surface ({geometry.geom_type})"
        return polygonal, "", ""
    reason = shapely.is_valid_reason(geometry)
    repaired = _polygonal(shapely.make_valid(geometry))
    if repaired is None or not repaired.is_valid:
        return None, "", f"{code}: invalid geometry ({reason}) that make_valid cannot repair into a surface"
    return repaired, f"{code}: invalid geometry ({reason}), repaired by make_valid", ""


def simplified(geometry):
    """The geometry drawn on maps: simplified (topology preserved) on a grid of about a metre; the geometry itself
    when simplifying would leave nothing."""
    import shapely

    shown = shapely.set_precision(shapely.simplify(geometry, SIMPLIFY_DEGREES, preserve_topology=True),
                                  PRECISION_DEGREES)  # fmt: skip
    shown = _polygonal(shown) if not shown.is_empty else None
    return shown if shown is not None and shown.is_valid else geometry


def _communes(values: pd.Series) -> pd.Series:
    """`2691, 2571` -> `02691; 02571`: the QPV list's padding and separator, whatever the file's."""
    exploded = values.str.replace(";", ",").str.split(",").explode().str.strip()
    padded = pad_digits(exploded.astype("str"), 5)
    return padded[padded != ""].groupby(level=0).agg("; ".join).reindex(values.index, fill_value="")


def normalise_perimetres(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The features as read -> `{"perimetres": frame}` (`PERIMETRE_COLUMNS`), one row per feature in file order;
    see the module doc."""
    import shapely

    codes = text(raw["code_qp"])
    rows = []
    for code, geojson in zip(codes, raw["geometry"].astype("str"), strict=True):
        geometry, repair, problem = checked_geometry(code, geojson)
        if geometry is None:
            rows.append(("", "", "", math.nan, math.nan, math.nan, math.nan, False, repair, problem))
            continue
        bounds = geometry.bounds
        rows.append(
            (geometry.geom_type, shapely.to_geojson(geometry), shapely.to_geojson(simplified(geometry)), *bounds,
             bool(repair), repair, problem)
        )  # fmt: skip
    checked = pd.DataFrame(rows, columns=PERIMETRE_COLUMNS[5:])
    frame = pd.DataFrame(
        {
            "line_no": raw["line_no"].astype("int64").to_numpy(),
            "code_qpv": codes.to_numpy(),
            "libelle": text(raw["lib_qp"]).to_numpy(),
            "departement": pad_departement(text(raw["insee_dep"])).to_numpy(),
            "communes": _communes(text(raw["insee_com"])).to_numpy(),
        }
    )
    for column in checked.columns:
        frame[column] = checked[column].to_numpy()
    for column in ("code_qpv", "libelle", "departement", "communes", "geometrie_type", "geometrie",
                   "geometrie_simplifiee", "reparation", "probleme"):  # fmt: skip
        frame[column] = frame[column].astype("str")
    frame["repare"] = frame["repare"].astype("bool")
    return {"perimetres": frame[list(PERIMETRE_COLUMNS)]}
