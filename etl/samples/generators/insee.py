"""Sample INSEE files: the population of each QPV of the 2024 geography, in INSEE's published layouts.

Built on the sample QPV referential (`qpv_2024.csv` from generators.territories), `generate` writes for each
reference year asked for (the demo: 2020, the census the 2024 QPV were counted on):

- `pop_qpv_<YYYY>.xlsx`: one sheet, `Données`, with INSEE's title block above the table (a title, a subtitle, the
  source, a blank row, a note on the field, a blank row, a note on the units: 7 rows), then the header on row 8
  and one row per QPV sorted by code. Columns, as in INSEE's 2024 derivative: `codeqpv`, `libqpv`, `codereg`,
  `codeuu2020`, `popmuniqpv`, `partPop15_24`, `listedepcom`, `listelibdepcom`, `listeepci2022`, `listedep` (the list
  columns join their values with commas). Populations and shares are numbers in the cells;
- with `csv=True`, its CSV derivative `POP_QPV_<YYYY>.csv` (UTF-8, `;`, header on line 1, shares with a decimal
  comma `14,2`).

Populations are plausible: 1,000 to 40,000 inhabitants, most between 2,000 and 10,000 (log-normal around 4,200),
the share of the 15-24 year-olds between 11 and 21 %. Mayotte's QPV have an empty population: the 2020 census did
not cover Mayotte (its survey cycle differs), as INSEE leaves the cell empty. A neighbourhood keeps its size from
one year to the next within 1.5 %. Every draw comes from `seeded_rng` (the seed and what is drawn): same inputs, same
bytes (the workbook's dates are fixed and its zip entries ordered: `etl.xlsx.workbook_bytes`). With
`broken=True`, `pop_qpv_<YYYY>_broken.xlsx` is the last year's workbook with one QPV code that no referential knows
(`QN07599N`-like, on its data row), which the rows gate refuses.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from etl.samples.generators.files import seeded_rng, write_csv
from etl.samples.generators.france_travail import qpv_key, read_geography
from etl.samples.generators.territories import QPV_2024_FILE

HEADER = (
    "codeqpv", "libqpv", "codereg", "codeuu2020", "popmuniqpv", "partPop15_24", "listedepcom", "listelibdepcom",
    "listeepci2022", "listedep",
)  # fmt: skip
TITLE_BLOCK = (
    "Population municipale des quartiers prioritaires de la politique de la ville (QPV) au recensement de {year}",
    "Géographie des quartiers prioritaires en vigueur au 1er janvier 2024 (décret n° 2023-1314)",
    "Source : Insee, recensement de la population {year}, exploitation principale.",
    None,
    "Champ : France hors Mayotte (le recensement de {year} ne couvre pas Mayotte, populations non disponibles).",
    None,
    "Population en nombre d'habitants ; partPop15_24 : part des 15-24 ans dans la population, en %.",
)
SHEET_TITLE = "Données"
FIRST_YEAR, LAST_YEAR = 2014, 2030
POPULATION_RANGE = (1000, 40_000)
MEDIAN_POPULATION = 4200
NOT_COUNTED = ("976",)  # départements the census of these years did not cover: empty population
_DOCUMENT_DATE = dt.datetime(2023, 11, 30, 9, 0)
_OVERSEAS_UU = {"971": "9A", "972": "9B", "973": "9C", "974": "9D", "976": "9F"}


def file_name(year: int, suffix: str = "", extension: str = "xlsx") -> str:
    stem = f"pop_qpv_{year}" if extension == "xlsx" else f"POP_QPV_{year}"
    return f"{stem}{'_' + suffix if suffix else ''}.{extension}"


def _check_year(year: int | str) -> int:
    text = str(year)
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise ValueError(f"year {year!r} is not a year YYYY between {FIRST_YEAR} and {LAST_YEAR}")
    return int(text)


def _population(seed: int, qpv: dict, year: int) -> int | None:
    if qpv["departement"] in NOT_COUNTED:
        return None
    rng = seeded_rng(seed, "insee-pop", qpv_key(qpv))
    base = math.exp(rng.gauss(math.log(MEDIAN_POPULATION), 0.62))
    drift = seeded_rng(seed, "insee-pop-year", qpv_key(qpv), year).uniform(-0.015, 0.015)
    low, high = POPULATION_RANGE
    return round(min(max(base * (1 + drift), low), high))


def _share_15_24(seed: int, qpv: dict, year: int) -> float:
    rng = seeded_rng(seed, "insee-15-24", qpv_key(qpv))
    return round(rng.uniform(11.0, 21.0) + seeded_rng(seed, "insee-15-24", qpv_key(qpv), year).uniform(-0.3, 0.3), 1)


def _urban_unit(seed: int, qpv: dict) -> str:
    departement = qpv["departement"]
    prefix = _OVERSEAS_UU.get(departement, departement[:2])
    return f"{prefix}{seeded_rng(seed, 'insee-uu', qpv['communes'][0][0]).randrange(100, 800):03d}"


def _rows(seed: int, qpvs: list[dict], year: int) -> list[list]:
    rows = []
    for qpv in sorted(qpvs, key=lambda q: q["code"]):
        communes = qpv["communes"]
        departements = sorted({_departement_of(code) for code, _ in communes})
        population = _population(seed, qpv, year)
        rows.append(
            [
                qpv["code"],
                qpv["label"],
                qpv["region"],
                _urban_unit(seed, qpv),
                population,
                _share_15_24(seed, qpv, year) if population is not None else None,
                ",".join(code for code, _ in communes),
                ",".join(label for _, label in communes),
                ",".join(siren for siren, _ in qpv["epcis"]),
                ",".join(departements),
            ]
        )
    return rows


def _departement_of(commune: str) -> str:
    return commune[:3] if commune.startswith("97") else commune[:2]


def _workbook_bytes(rows: list[list], year: int) -> bytes:
    import openpyxl

    from etl.xlsx import workbook_bytes

    workbook = openpyxl.Workbook()
    workbook.properties.created = workbook.properties.modified = _DOCUMENT_DATE
    workbook.properties.creator = "Insee"
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    for line in TITLE_BLOCK:
        sheet.append([line.format(year=year)] if line else [])
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(row)
    return workbook_bytes(workbook)


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def _broken(seed: int, rows: list[list]) -> list[list]:
    """A copy of `rows` where one QPV code is replaced by a code of the same shape that no referential holds."""
    rng = seeded_rng(seed, "insee-broken")
    copy = [list(row) for row in rows]
    index = rng.randrange(len(copy) // 4, len(copy) // 2)
    code = copy[index][0]
    copy[index][0] = f"{code[:5]}99{code[-1]}"
    return copy


def generate(
    out_dir: Path,
    territories_dir: Path,
    years: list[int] | None = None,
    seed: int = 2024,
    *,
    csv: bool = False,
    broken: bool = False,
) -> list[Path]:
    """Write the population workbooks (and CSV derivatives with `csv`) of `years` (default [2020]); returns paths."""
    years = [_check_year(year) for year in (years or [2020])]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    qpvs = read_geography(Path(territories_dir) / QPV_2024_FILE)
    paths = []
    for year in years:
        rows = _rows(seed, qpvs, year)
        path = out_dir / file_name(year)
        path.write_bytes(_workbook_bytes(rows, year))
        paths.append(path)
        if csv:
            cells = ([_csv_cell(value) for value in row] for row in rows)
            paths.append(write_csv(out_dir / file_name(year, extension="csv"), HEADER, cells))
        if broken and year == years[-1]:
            path = out_dir / file_name(year, "broken")
            path.write_bytes(_workbook_bytes(_broken(seed, rows), year))
            paths.append(path)
    return paths
