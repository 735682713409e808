"""Sample France Travail individual extracts: one pseudonymised line per job seeker registered at month end.

`DE_INDIVIDUS_<YYYYMM>.csv` (or `.csv.gz`), UTF-8, `;`, one header line (`etl.sources.france_travail_individus.
COLUMNS`), lines in pseudonymised-id order (as the producer's extraction sorts them, unrelated to territory). Each
job seeker has a 16-hex-digit id (a bijection of their index, so ids are unique within a file), the month, the
commune of residence (INSEE code, 5 characters), the QPV of residence or an empty cell (the producer geocodes
addresses), the category (A, B, C), sex (F, H), age band and registration duration band.

Job seekers live in the communes of the sample QPV referential (generators.territories): each QPV's job seekers
are split over its communes (main commune first) and each commune also has residents outside any QPV, about 1.4 to
2.6 times the QPV part. QPV residents are younger and more often long-term registered. The month's QPV geography
follows France Travail's files (2015 before 2024, the 2024 geography in metropolitan France in 2024, everywhere
from 2025). Addresses in a QPV in veille active (a 2015 QPV that left the geography, read from the correspondence)
keep that QPV's 2015 code once it left: the producer geocodes them in its old perimeter, with the same number of
job seekers as before. Generation is vectorised (numpy) and written in chunks with Arrow's CSV writer, so 6 million
lines take seconds and little memory; same seed, month and size, same bytes.

`generate(..., broken=True)` also writes `DE_INDIVIDUS_<YYYYMM>_broken.csv`, a small extract with mistakes the file
gate must catch (an unknown category, an age band the producer does not use).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from etl.referentiels.territories import normalise_qpv, read_anct
from etl.samples.generators.france_travail import FIRST_2024_MONTH, FIRST_OVERSEAS_2024_MONTH, check_month
from etl.samples.generators.territories import QPV_2015_FILE, QPV_2024_FILE, read_veille
from etl.sources.france_travail_individus import (
    AGE_BANDS,
    CATEGORIES,
    COLUMNS,
    DURATION_BANDS,
    SEXES,
)

CHUNK = 1_000_000  # lines generated and written at a time
DEFAULT_ROWS = 6_000_000  # about the number of job seekers registered in categories A, B and C
# category, sex, age band and duration band shares: (in a QPV, elsewhere)
CATEGORY_SHARES = ((0.62, 0.15, 0.23), (0.57, 0.16, 0.27))
SEX_SHARES = ((0.5, 0.5), (0.52, 0.48))
AGE_SHARES = ((0.2, 0.6, 0.2), (0.15, 0.58, 0.27))
DURATION_SHARES = ((0.45, 0.22, 0.33), (0.52, 0.22, 0.26))


def file_name(month: str, gzip: bool = False) -> str:
    return f"DE_INDIVIDUS_{month.replace('-', '')}.csv" + (".gz" if gzip else "")


def _stable(seed: int, *what: object) -> np.random.Generator:
    """A generator for one thing (a territory, a chunk), independent of everything else drawn."""
    return np.random.default_rng([seed, zlib.crc32(":".join(str(part) for part in what).encode())])


def _geography(month: str) -> tuple[str, str]:
    """(metropolitan, overseas) QPV geography of a month."""
    if month < FIRST_2024_MONTH:
        return "2015", "2015"
    return "2024", "2024" if month >= FIRST_OVERSEAS_2024_MONTH else "2015"


def units(territories_dir: Path, month: str, seed: int = 2024) -> tuple[list[str], list[str], np.ndarray]:
    """The places job seekers live in for `month`: (commune codes, QPV codes or "", relative weights), one entry per
    (commune, QPV) pair of the month's geography or of a veille-active QPV that has left it, and one per commune for
    its residents outside any QPV."""
    metropolitan, overseas = _geography(month)
    weights: dict[tuple[str, str], float] = {}
    in_qpv: dict[str, float] = {}
    veille = read_veille(territories_dir)
    for geography, path in (("2015", QPV_2015_FILE), ("2024", QPV_2024_FILE)):
        frames = normalise_qpv(read_anct(Path(territories_dir) / path))
        overseas_qpv = set(frames["qpv"].loc[frames["qpv"]["insee_dep"].str.startswith("97"), "code_qp"])
        communes: dict[str, list[str]] = {}
        for code, commune in frames["qpv_commune"][["code_qp", "insee_com"]].itertuples(index=False):
            communes.setdefault(code, []).append(commune)
        for code in sorted(communes):
            in_force = (metropolitan if code not in overseas_qpv else overseas) == geography
            if not in_force and not (geography == "2015" and code in veille):
                continue
            rng = _stable(seed, "qpv", code)
            base = 15 * 10 ** rng.random() if rng.random() < 0.08 else 200 * 12.5 ** (rng.random() ** 1.7)
            split = {1: (1.0,), 2: (0.6, 0.4)}.get(len(communes[code]), (0.5, 0.3, 0.2, *(0.0,) * 10))
            for commune, share in zip(communes[code], split, strict=False):
                if share:
                    weights[commune, code] = base * share
                    in_qpv[commune] = in_qpv.get(commune, 0.0) + base * share
    for commune in sorted(in_qpv):
        rng = _stable(seed, "commune", commune)
        weights[commune, ""] = in_qpv[commune] * rng.uniform(1.4, 2.6) + rng.uniform(150, 2000)
    keys = sorted(weights)
    return [c for c, _ in keys], [q for _, q in keys], np.array([weights[k] for k in keys], dtype="float64")


def _ids(start: int, count: int, seed: int) -> np.ndarray:
    """16-hex-digit pseudonymised ids of job seekers start .. start+count-1: splitmix64 of the index, a bijection
    of 64-bit integers, so no two job seekers of a file share an id."""
    with np.errstate(over="ignore"):
        z = np.arange(start, start + count, dtype=np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return np.frombuffer(z.astype(">u8").tobytes().hex().encode("ascii"), dtype="S16").astype(str)


def _pick(rng: np.random.Generator, in_qpv: np.ndarray, values: tuple[str, ...], shares) -> np.ndarray:
    """One of `values` per line, with the QPV or the elsewhere shares."""
    out = np.empty(len(in_qpv), dtype=object)
    for mask, probabilities in ((in_qpv, shares[0]), (~in_qpv, shares[1])):
        out[mask] = np.asarray(values, dtype=object)[rng.choice(len(values), size=int(mask.sum()), p=probabilities)]
    return out


def _chunk_table(month: str, communes, qpvs, weights, start: int, count: int, seed: int):
    import pyarrow as pa

    rng = _stable(seed, "lines", month, start)
    place = rng.choice(len(weights), size=count, p=weights / weights.sum())
    qpv = np.asarray(qpvs, dtype=object)[place]
    in_qpv = qpv != ""
    columns = {
        "id_anonyme": _ids(start, count, seed + zlib.crc32(month.encode())),
        "mois": np.full(count, month, dtype=object),
        "code_commune": np.asarray(communes, dtype=object)[place],
        "code_qpv": qpv,
        "categorie": _pick(rng, in_qpv, CATEGORIES, CATEGORY_SHARES),
        "sexe": _pick(rng, in_qpv, SEXES, SEX_SHARES),
        "tranche_age": _pick(rng, in_qpv, AGE_BANDS, AGE_SHARES),
        "anciennete": _pick(rng, in_qpv, DURATION_BANDS, DURATION_SHARES),
    }
    table = pa.table({name: pa.array(columns[name], type=pa.string()) for name in COLUMNS})
    return table.sort_by("id_anonyme")


def write_extract(
    path: Path, territories_dir: Path, month: str, rows: int = DEFAULT_ROWS, seed: int = 2024, gzip: bool = False
) -> Path:
    """Write one month's extract of `rows` job seekers to `path` (gzip-compressed with `gzip`); returns `path`.
    Lines are sorted by id within each million (the producer's extraction runs by blocks)."""
    import gzip as gz

    import pyarrow as pa
    import pyarrow.csv as pacsv

    check_month(month)
    communes, qpvs, weights = units(territories_dir, month, seed)
    options = pacsv.WriteOptions(include_header=False, delimiter=";", quoting_style="none")
    # gzip level 1: the producer's choice is not known; any level reads the same, and 1 writes 6 M lines in seconds
    with gz.GzipFile(path, "wb", compresslevel=1, mtime=0) if gzip else open(path, "wb") as out:
        out.write((";".join(COLUMNS) + "\n").encode("ascii"))
        for start in range(0, rows, CHUNK):
            table = _chunk_table(month, communes, qpvs, weights, start, min(CHUNK, rows - start), seed)
            buffer = pa.BufferOutputStream()
            pacsv.write_csv(table, buffer, write_options=options)
            out.write(buffer.getvalue().to_pybytes())
    return path


def write_broken(path: Path, territories_dir: Path, month: str, seed: int = 2024) -> Path:
    """A 2,000-line extract with two mistakes the file gate catches: line 11 has category `X`, line 21 the age band
    `60_plus`, which the producer does not use."""
    write_extract(path, territories_dir, month, rows=2_000, seed=seed)
    lines = path.read_text(encoding="utf-8").splitlines()
    fields = [line.split(";") for line in lines]
    fields[10][COLUMNS.index("categorie")] = "X"
    fields[20][COLUMNS.index("tranche_age")] = "60_plus"
    path.write_text("".join(";".join(row) + "\n" for row in fields), encoding="utf-8")
    return path


def generate(
    out_dir: Path,
    territories_dir: Path,
    months: list[str],
    rows: int = DEFAULT_ROWS,
    seed: int = 2024,
    gzip: bool = False,
    broken: bool = False,
) -> list[Path]:
    """One extract per month (and a broken one for the last month with `broken`) in `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [write_extract(out_dir / file_name(m, gzip), territories_dir, m, rows, seed, gzip) for m in months]
    if broken:
        name = file_name(months[-1]).replace(".csv", "_broken.csv")
        files.append(write_broken(out_dir / name, territories_dir, months[-1], seed))
    return files
