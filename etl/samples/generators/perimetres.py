"""Sample perimeters of the 2024 QPV, in the ANCT's layout: a zip holding one GeoJSON of every QPV's polygon.

Built on the sample QPV referential (`qpv_2024.csv` from generators.territories), `generate` writes
`QP2024_France_Hexagonale_Outre_Mer_WGS84.zip` holding `GEOJSON/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson`
(etl.sources.anct_perimetres.GEOJSON_MEMBER): a FeatureCollection in WGS84, one feature per QPV in code order, with
the ANCT's properties `fid, code_qp, lib_qp, insee_reg, lib_reg, insee_dep, lib_dep, insee_com, lib_com, siren_epci`
(no `lib_epci`), the communes and EPCI of a multi-commune QPV joined by `, `, and commune codes unpadded as the ANCT
writes some of them (`2691`).

The sample referential's communes have no coordinates, so positions are laid out by département: each commune is
placed at a fixed random offset from its département's approximate centre (`CENTRES`, longitude and latitude in
degrees; the spread follows the département's size, `SPREAD`), and each QPV a little way from its first commune: a
small irregular polygon (8 to 13 vertices, 300 m to 1.2 km from its centre, at evenly spread angles with some
jitter, so that its ring never crosses itself). One QPV (the `REPAIRED_QPV`-th of the file) has a self-intersecting
ring (a bow tie), as real files may, which the platform repairs with make_valid and records as a warning. With
`broken=True`, `QP2024_France_Hexagonale_Outre_Mer_WGS84_broken.zip` also holds a QPV whose ring is a flat line (all
its vertices in a row, along a parallel): nothing to repair it into, so the file is quarantined naming that QPV.
Every draw comes from `seeded_rng`, the zip entries have a fixed date: same seed, same bytes.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

from etl.samples.generators.files import seeded_rng
from etl.samples.generators.france_travail import read_geography
from etl.samples.generators.territories import QPV_2024_FILE
from etl.sources.anct_perimetres import GEOJSON_MEMBER

ZIP_NAME = "QP2024_France_Hexagonale_Outre_Mer_WGS84.zip"
BROKEN_ZIP_NAME = "QP2024_France_Hexagonale_Outre_Mer_WGS84_broken.zip"
REPAIRED_QPV = 7  # the rank (from 0) of the QPV whose ring crosses itself, in every file
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)
# Approximate centre (longitude, latitude) of each département.
CENTRES = {
    "01": (5.35, 46.10), "02": (3.56, 49.56), "03": (3.19, 46.39), "04": (6.24, 44.10), "05": (6.26, 44.66),
    "06": (7.12, 43.94), "07": (4.42, 44.75), "08": (4.64, 49.62), "09": (1.50, 42.92), "10": (4.16, 48.30),
    "11": (2.41, 43.10), "12": (2.68, 44.28), "13": (5.09, 43.54), "14": (-0.36, 49.10), "15": (2.67, 45.05),
    "16": (0.20, 45.72), "17": (-0.67, 45.78), "18": (2.49, 47.07), "19": (1.88, 45.36), "2A": (8.99, 41.86),
    "2B": (9.21, 42.39), "21": (4.77, 47.42), "22": (-2.86, 48.44), "23": (2.02, 46.09), "24": (0.74, 45.10),
    "25": (6.36, 47.17), "26": (5.17, 44.68), "27": (1.00, 49.11), "28": (1.37, 48.39), "29": (-4.10, 48.25),
    "30": (4.18, 43.99), "31": (1.17, 43.36), "32": (0.45, 43.69), "33": (-0.58, 44.83), "34": (3.37, 43.58),
    "35": (-1.64, 48.15), "36": (1.58, 46.78), "37": (0.69, 47.26), "38": (5.58, 45.26), "39": (5.70, 46.73),
    "40": (-0.78, 43.97), "41": (1.43, 47.62), "42": (4.17, 45.73), "43": (3.81, 45.13), "44": (-1.69, 47.36),
    "45": (2.34, 47.91), "46": (1.61, 44.62), "47": (0.46, 44.37), "48": (3.50, 44.52), "49": (-0.56, 47.39),
    "50": (-1.33, 49.08), "51": (4.24, 48.95), "52": (5.23, 48.11), "53": (-0.66, 48.15), "54": (6.16, 48.79),
    "55": (5.38, 48.99), "56": (-2.81, 47.85), "57": (6.66, 49.04), "58": (3.50, 47.12), "59": (3.22, 50.45),
    "60": (2.42, 49.41), "61": (0.13, 48.62), "62": (2.29, 50.49), "63": (3.14, 45.73), "64": (-0.76, 43.26),
    "65": (0.16, 43.05), "66": (2.52, 42.60), "67": (7.55, 48.67), "68": (7.27, 47.86), "69": (4.64, 45.88),
    "70": (6.09, 47.64), "71": (4.54, 46.64), "72": (0.22, 47.99), "73": (6.44, 45.48), "74": (6.43, 46.03),
    "75": (2.34, 48.86), "76": (1.03, 49.66), "77": (2.93, 48.63), "78": (1.84, 48.82), "79": (-0.32, 46.56),
    "80": (2.28, 49.96), "81": (2.17, 43.79), "82": (1.28, 44.08), "83": (6.22, 43.46), "84": (5.19, 44.01),
    "85": (-1.30, 46.67), "86": (0.46, 46.56), "87": (1.24, 45.89), "88": (6.38, 48.20), "89": (3.56, 47.84),
    "90": (6.93, 47.63), "91": (2.24, 48.52), "92": (2.24, 48.85), "93": (2.48, 48.91), "94": (2.47, 48.78),
    "95": (2.13, 49.08), "971": (-61.55, 16.20), "972": (-61.02, 14.64), "973": (-52.60, 4.70),
    "974": (55.53, -21.13), "976": (45.14, -12.82),
}  # fmt: skip
# Half the spread of a département's communes around its centre, in degrees of latitude (default `SPREAD_DEFAULT`).
SPREAD = {"75": 0.03, "92": 0.05, "93": 0.05, "94": 0.05, "90": 0.08, "971": 0.12, "972": 0.1, "973": 0.15,
          "974": 0.12, "976": 0.06, "2A": 0.2, "2B": 0.2, "91": 0.15, "95": 0.15, "78": 0.18}  # fmt: skip
SPREAD_DEFAULT = 0.3


def _commune_position(seed: int, departement: str, commune: str) -> tuple[float, float]:
    rng = seeded_rng(seed, "perimetre-commune", commune)
    lon, lat = CENTRES[departement]
    spread = SPREAD.get(departement, SPREAD_DEFAULT)
    dlat = rng.uniform(-spread, spread)
    dlon = rng.uniform(-spread, spread) / math.cos(math.radians(lat))
    return lon + dlon, lat + dlat


def _ring(seed: int, code: str, centre: tuple[float, float]) -> list[list[float]]:
    """A closed irregular ring around `centre`, its vertices ordered by angle (a ring that never crosses itself)."""
    rng = seeded_rng(seed, "perimetre", code)
    lon, lat = centre
    lon += rng.uniform(-0.02, 0.02) / math.cos(math.radians(lat))
    lat += rng.uniform(-0.02, 0.02)
    size = rng.uniform(0.003, 0.011)  # degrees of latitude: about 300 m to 1.2 km
    count = rng.randint(8, 13)
    step = 2 * math.pi / count  # evenly spread angles, jittered: the centre stays inside, seen from every vertex
    angles = [step * (i + rng.uniform(-0.3, 0.3)) for i in range(count)]
    stretch = 1 / math.cos(math.radians(lat))
    ring = [
        [round(lon + size * r * math.cos(a) * stretch, 6), round(lat + size * r * math.sin(a), 6)]
        for a, r in ((angle, rng.uniform(0.55, 1.0)) for angle in angles)
    ]
    return [*ring, ring[0]]


def _bow_tie(ring: list[list[float]]) -> list[list[float]]:
    """The ring with two of its vertices swapped: its edges cross (a self-intersection make_valid repairs)."""
    crossed = [list(point) for point in ring[:-1]]
    half = len(crossed) // 2
    crossed[1], crossed[half] = crossed[half], crossed[1]
    return [*crossed, crossed[0]]


def _flat(ring: list[list[float]]) -> list[list[float]]:
    """A ring whose vertices all lie on one parallel: no surface at all."""
    lon, lat = ring[0]
    line = [[round(lon + i * 0.001, 6), lat] for i in range(4)]
    return [*line, line[0]]


def _unpadded(code: str) -> str:
    return code.lstrip("0") if code.isdigit() else code


def features(territories_dir: Path, *, seed: int = 2024, flat: bool = False) -> list[dict]:
    """The GeoJSON features of the 2024 QPV of the sample referential; `flat`: the QPV after the repaired one has a
    ring without surface."""
    out = []
    qpvs = sorted(read_geography(territories_dir / QPV_2024_FILE), key=lambda qpv: qpv["code"])
    for rank, qpv in enumerate(qpvs):
        communes, epcis = qpv["communes"], qpv["epcis"]
        ring = _ring(seed, qpv["code"], _commune_position(seed, qpv["departement"], communes[0][0]))
        if rank == REPAIRED_QPV:
            ring = _bow_tie(ring)
        elif flat and rank == REPAIRED_QPV + 1:
            ring = _flat(ring)
        properties = {
            "fid": rank + 1,
            "code_qp": qpv["code"],
            "lib_qp": qpv["label"],
            "insee_reg": qpv["region"],
            "lib_reg": qpv["region_label"],
            "insee_dep": qpv["departement"],
            "lib_dep": qpv["departement_label"],
            # the ANCT drops the leading zero of a lone commune code (`2691`), not of a list's
            "insee_com": _unpadded(communes[0][0]) if len(communes) == 1 else ", ".join(c for c, _ in communes),
            "lib_com": ", ".join(label for _, label in communes),
            "siren_epci": ", ".join(siren for siren, _ in epcis),
        }
        out.append({"type": "Feature", "properties": properties,
                    "geometry": {"type": "Polygon", "coordinates": [ring]}})  # fmt: skip
    return out


def zip_bytes(feature_list: list[dict], member: str = GEOJSON_MEMBER) -> bytes:
    """The ANCT's zip holding the FeatureCollection of `feature_list` (fixed dates: same features, same bytes)."""
    document = {
        "type": "FeatureCollection",
        "name": Path(member).stem,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": feature_list,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, json.dumps(document, ensure_ascii=False, separators=(",", ":")))
    return buffer.getvalue()


def generate(folder: Path, territories_dir: Path, *, seed: int = 2024, broken: bool = False) -> list[Path]:
    """Write the perimeters zip (and, with `broken`, the broken one) into `folder`; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / ZIP_NAME]
    paths[0].write_bytes(zip_bytes(features(territories_dir, seed=seed)))
    if broken:
        paths.append(folder / BROKEN_ZIP_NAME)
        paths[1].write_bytes(zip_bytes(features(territories_dir, seed=seed, flat=True)))
    return paths
