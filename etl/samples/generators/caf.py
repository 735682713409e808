"""Sample CAF files: allocataires per QPV at 31 December, and crèche (EAJE) places per QPV and quarter.

Built on the sample QPV referential (`qpv_2015.csv`, `qpv_2024.csv` from generators.territories), this module
writes files in the CAF's delivery shape:

- `CAF_QPV_<YYYY>.csv`, one per year: UTF-8 with a BOM, CRLF line ends, `;`, one header line (columns
  `etl.sources.caf.ALLOCATAIRES_COLUMNS`), one line per QPV in force on 1 January of the year (2015 geography
  before 2024; in 2024 the 2024 QPV in metropolitan France and the 2015 ones overseas; the 2024 geography from
  2025). `dtreffile` is `31/12/YYYY`. Every count is the true count rounded to the nearest 5 (nothing masked, 0
  possible) and from 1,000 on is written with a space between digit groups (`1 245`). The true household
  compositions add up to the true number of allocataires; once each is rounded, the published ones are at most
  10 apart from it. `generate_allocataires(..., revised=[2024])` also writes `CAF_QPV_2024_rectificatif.csv`: the
  same year re-delivered with about 3 % of the lines corrected (a few counts moved by 5 to 20, still consistent);
- `beneficiaires_CAF_31-12-<YYYY>_QP<15|24>.xlsx` (`generate_allocataires_insee`): the same households as INSEE
  publishes them by QPV (REAL-FORMATS §5, inferred variable names): a presentation sheet, then `Données quartier`
  with a title block, two header rows (labels, then `codgeo`, `a`, `percou` ...), the national total first, counts
  as numbers rounded to 5 and left empty under 5 (statistical secret), the QPV of the year's geography only;
- `CAF_EAJE_QPV_<YYYY>T<q>.csv`, one per quarter: Windows-1252, CRLF, `;` (columns
  `etl.sources.caf.CRECHES_COLUMNS`), `trimestre` written `2024-T1`, places created and renovated in the
  quarter and the stock of places in crèches (EAJE); whole numbers, never rounded nor masked. The stock of a
  neighbourhood is its initial stock plus every place created since 2014-Q1.

Figures are realistic in size: a QPV has about 300 to 3,000 allocataire households (a few small ones fewer), 2.0
to 2.6 people covered per household, RSA for 20-35 % of households, AAH 5-10 %, a housing benefit 55-75 %, single
parents 15-25 %; new crèche places are rare (0 most quarters, 10 to 40 when a crèche opens), renovations 5-30, the
stock 0-300. Series are smooth: a QPV keeps its level and profile from one year to the next, and across the
2015 -> 2024 change when its name and main commune are unchanged (`qpv_key` of etl.samples.generators.france_travail).
Every draw comes from `random.Random` seeded with the seed and what is drawn (neighbourhood, year or quarter), so a
file does not depend on which other periods are asked for: same inputs, same bytes.

The CAF still counts the households of part of the QPV in veille active (the 2015 QPV that left the geography, read
from the correspondence): from the year a neighbourhood left, about 60 % of them (`VEILLE_REPORTED_SHARE`) keep a
line under their 2015 code, after the QPV in force, with the same profile as before they left; about one in six of
them is a small neighbourhood of 8 to 40 households (`VEILLE_SMALL_SHARE`), so that some of its counts are small.

`broken=True` also writes a defective copy of the last period's file, for the quality gates to catch:

- `CAF_QPV_<YYYY>_broken.csv`: one line whose `nb_alloc_isoles` is 40 too high (composition gap beyond 10: suite
  `caf_foyers.rows`, `ecart_composition`), one line where `nb_alloc_rsa` exceeds `nb_allocataires` (`caf_foyers.rows`,
  allocataires >= rsa), one `nb_alloc_aah` cell written `n.d.` (gate 1 `caf_allocataires.file`, column
  `nb_alloc_aah`; status `invalid` in `caf_allocataires.rows`; NaN in `caf_foyers.rows`);
- `CAF_EAJE_QPV_<YYYY>T<q>_broken.csv`: one line with a well-shaped QPV code that does not exist
  (`caf_creches.rows`, territory_code in `qpv_codes`), one `places_renovees` cell written `-5` (gate 1
  `caf_creches.file`, column `places_renovees`; status `invalid` in `caf_creches.rows`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from etl.samples.generators.files import seeded_rng, write_csv
from etl.samples.generators.france_travail import TRANSITION, geography_of_month, is_overseas, qpv_key, read_geography
from etl.samples.generators.territories import QPV_2015_FILE, QPV_2024_FILE, read_veille
from etl.sources.caf import ALLOCATAIRES_COLUMNS, CRECHES_COLUMNS, ROUNDING

FIRST_QUARTER = (2014, 1)  # crèche histories start with the 2014 conventions
LAST_QUARTER = (2030, 4)
RECTIFICATIF_SHARE = 0.03  # share of lines a rectificatif corrects
MAX_EAJE_PLACES = 300
VEILLE_REPORTED_SHARE = 0.6  # veille-active QPV the CAF still reports under their 2015 code
VEILLE_SMALL_SHARE = 0.17  # of those, small neighbourhoods (8 to 40 households)

# Allocataire households in QPV, national index (2024 = 1): slow rise, the 2020 rise of the RSA and the AAH.
ALLOCATAIRES_INDEX = {
    2014: 0.955, 2015: 0.96, 2016: 0.965, 2017: 0.97, 2018: 0.975, 2019: 0.98, 2020: 1.0, 2021: 0.995,
    2022: 0.99, 2023: 0.995, 2024: 1.0, 2025: 1.005, 2026: 1.01,
}  # fmt: skip
# RSA share of households, relative to 2024: the 2020-2021 peak, then a fall with the job market.
RSA_INDEX = {
    2014: 1.02, 2015: 1.04, 2016: 1.05, 2017: 1.05, 2018: 1.04, 2019: 1.03, 2020: 1.1, 2021: 1.08,
    2022: 1.02, 2023: 1.0, 2024: 1.0, 2025: 1.01, 2026: 1.01,
}  # fmt: skip

_QUARTER = re.compile(r"^(20[0-9]{2})-Q([1-4])$")


@dataclass(frozen=True)
class Qpv:
    """One line of a file: a QPV in force and what identifies its neighbourhood across geographies."""

    code: str
    label: str
    key: str  # main commune and name (etl.samples.generators.france_travail.qpv_key)


@dataclass(frozen=True)
class Profile:
    """A neighbourhood's allocataires around 2024 and the shares that describe them."""

    base: float  # allocataire households
    coverage: float  # people covered per household
    rsa: float
    aah: float
    logement: float
    composition: tuple[float, float, float, float]  # isolés, couples sans enfant, couples avec enfants, monoparents
    slope: float  # local trend per year, relative


# --- the territory referential ------------------------------------------------------------------------------------


def _load_geographies(territories_dir: Path) -> dict[str, list[Qpv]]:
    """The QPV in force in each geography (2015, 2024, and the 2024 transition), sorted by code."""
    lists = {
        "2015": read_geography(Path(territories_dir) / QPV_2015_FILE),
        "2024": read_geography(Path(territories_dir) / QPV_2024_FILE),
    }
    # In 2024 the new geography applies in metropolitan France only; overseas keeps its 2015 QPV until 2025.
    lists[TRANSITION] = [q for q in lists["2024"] if not is_overseas(q)] + [q for q in lists["2015"] if is_overseas(q)]
    return {
        name: sorted((Qpv(q["code"], q["label"], qpv_key(q)) for q in qpvs), key=lambda q: q.code)
        for name, qpvs in lists.items()
    }


def _year_geography(year: int) -> str:
    """The geography of a year: the one in force on its first day."""
    return geography_of_month(f"{year}-01")


def _quarter_geography(year: int, number: int) -> str:
    return geography_of_month(f"{year}-{3 * number - 2:02d}")


# --- allocataires --------------------------------------------------------------------------------------------------


def _profile(seed: int, qpv: Qpv) -> Profile:
    rng = seeded_rng(seed, "caf-qpv", qpv.key)
    small = rng.random() < 0.03  # a few small neighbourhoods
    base = 60 * 5 ** rng.random() if small else 300 * (3000 / 300) ** (rng.random() ** 1.6)
    if qpv.code.startswith("QN") and qpv.code.endswith("M"):  # perimeter modified in 2024
        base *= seeded_rng(seed, "caf-perimeter", qpv.code).uniform(0.85, 1.2)
    monoparents = rng.uniform(0.155, 0.245)
    avec = rng.uniform(0.14, 0.26)
    sans = rng.uniform(0.04, 0.09)
    return Profile(
        base=base,
        coverage=rng.uniform(2.0, 2.6),
        rsa=rng.uniform(0.21, 0.33),
        aah=rng.uniform(0.055, 0.095),
        logement=rng.uniform(0.57, 0.73),
        composition=(1 - monoparents - avec - sans, sans, avec, monoparents),
        slope=rng.uniform(-0.01, 0.015),
    )


def _veille(seed: int, territories_dir: Path, geographies: dict[str, list[Qpv]], year: int) -> list[Qpv]:
    """The veille-active QPV that the CAF reports in `year` under their 2015 code: those no longer in force."""
    in_force = {qpv.code for qpv in geographies[_year_geography(year)]}
    veille = read_veille(territories_dir) - in_force
    return [
        qpv
        for qpv in geographies["2015"]
        if qpv.code in veille and seeded_rng(seed, "caf-veille", qpv.code).random() < VEILLE_REPORTED_SHARE
    ]


def _veille_profile(seed: int, qpv: Qpv) -> Profile:
    """A reported veille-active QPV's profile: its own, or a small neighbourhood's (8 to 40 households)."""
    profile = _profile(seed, qpv)
    rng = seeded_rng(seed, "caf-veille-small", qpv.code)
    return dataclasses.replace(profile, base=rng.uniform(8, 40)) if rng.random() < VEILLE_SMALL_SHARE else profile


def _index(table: dict[int, float], year: int) -> float:
    return table[min(max(year, min(table)), max(table))]


def _split(total: int, shares: tuple[float, ...]) -> list[int]:
    """Whole parts of `total` in proportion to `shares` (largest remainders), adding up exactly to `total`."""
    scale = sum(shares)
    exact = [total * share / scale for share in shares]
    parts = [int(value) for value in exact]
    order = sorted(range(len(shares)), key=lambda i: (parts[i] - exact[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _true_counts(seed: int, qpv: Qpv, profile: Profile, year: int) -> list[int]:
    """The 9 true counts of a QPV at 31 December, in ALLOCATAIRES_COLUMNS order."""
    rng = seeded_rng(seed, "caf-year", qpv.key, year)
    trend = max(0.6, 1 + profile.slope * (year - 2024))
    total = max(1, round(profile.base * _index(ALLOCATAIRES_INDEX, year) * trend * (1 + rng.gauss(0, 0.012))))

    def part(share: float) -> int:
        return min(total, max(0, round(total * share * (1 + rng.gauss(0, 0.02)))))

    people = max(total, round(total * profile.coverage * (1 + rng.gauss(0, 0.01))))
    composition = _split(total, tuple(share * (1 + rng.gauss(0, 0.02)) for share in profile.composition))
    rsa = part(profile.rsa * _index(RSA_INDEX, year))
    return [total, people, rsa, part(profile.aah), part(profile.logement), *composition]


def _rounded(value: int) -> int:
    """The CAF's rounding: to the nearest multiple of 5 (a whole count is never halfway)."""
    return ROUNDING * ((value + ROUNDING // 2) // ROUNDING)


def _number(value: int) -> str:
    """`1245` -> `1 245`: digit groups separated by a space from 1,000 on."""
    return f"{value:,}".replace(",", " ")


def _allocataires_line(year: int, qpv: Qpv, counts: list[int]) -> list[str]:
    return [f"31/12/{year}", qpv.code, qpv.label, *(_number(_rounded(value)) for value in counts)]


def _correct(seed: int, year: int, rows: list[tuple[Qpv, list[int]]]) -> list[tuple[Qpv, list[int]]]:
    """The rows of a rectificatif: about 3 % of the QPV (at least one) have a few counts moved by 5 to 20.

    Moves are multiples of 5 on the true counts, so the published counts move by exactly as much: allocataires and
    single people together (the composition still adds up), the people covered by 5-20 the same way, and sometimes
    the housing benefit by at most as much as the total."""
    rng = seeded_rng(seed, "caf-rectificatif", year)
    eligible = [i for i, (_, counts) in enumerate(rows) if counts[0] >= 300]
    chosen = {i for i in eligible if rng.random() < RECTIFICATIF_SHARE} or {rng.choice(eligible)}
    corrected = []
    for i, (qpv, counts) in enumerate(rows):
        counts = list(counts)
        if i in chosen:
            sign = rng.choice((-1, 1))
            steps = rng.randint(1, 4)
            delta = sign * ROUNDING * steps
            counts[0] += delta  # allocataires
            counts[5] += delta  # isolés: the composition still adds up
            counts[1] += sign * ROUNDING * rng.randint(steps, 4)  # people covered
            if rng.random() < 0.5:
                counts[4] += sign * ROUNDING * rng.randint(1, steps)  # housing benefit
        corrected.append((qpv, counts))
    return corrected


def _break_allocataires(seed: int, year: int, lines: list[list[str]]) -> list[list[str]]:
    """Copy of the lines with three defects on three lines: isolés 40 too high, RSA above the allocataires, `n.d.`."""
    rng = seeded_rng(seed, "caf-broken", year)
    lines = [list(line) for line in lines]
    total = ALLOCATAIRES_COLUMNS.index("nb_allocataires")
    isoles = ALLOCATAIRES_COLUMNS.index("nb_alloc_isoles")
    rsa = ALLOCATAIRES_COLUMNS.index("nb_alloc_rsa")
    aah = ALLOCATAIRES_COLUMNS.index("nb_alloc_aah")

    def number(cell: str) -> int:
        return int(cell.replace(" ", ""))

    large = [line for line in lines if number(line[total]) >= 300]
    off, above, unknown = rng.sample(large, 3)
    off[isoles] = _number(number(off[isoles]) + 40)
    above[rsa] = _number(number(above[total]) + ROUNDING * rng.randint(1, 6))
    unknown[aah] = "n.d."
    return lines


ALLOCATAIRES_FORMAT = ("utf-8-sig", "\r\n")  # UTF-8 with BOM, CRLF: an Excel export
CRECHES_FORMAT = ("cp1252", "\r\n")  # another CAF service, Windows-1252


def allocataires_file_name(year: int, suffix: str = "") -> str:
    return f"CAF_QPV_{year}{suffix}.csv"


def generate_allocataires(
    out_dir: Path,
    territories_dir: Path,
    years: list[int],
    seed: int = 2024,
    broken: bool = False,
    revised: list[int] = (),
) -> list[Path]:
    """Write one `CAF_QPV_<YYYY>.csv` per year into `out_dir` (UTF-8 with BOM, CRLF); with `revised`, a corrected
    re-delivery `CAF_QPV_<YYYY>_rectificatif.csv` of each of those years (which must be among `years`); with
    `broken`, a defective copy of the last year's file, `CAF_QPV_<YYYY>_broken.csv`. Returns the paths, sorted."""
    years = sorted({int(year) for year in years})
    unknown = sorted(set(revised) - set(years))
    if unknown:
        raise ValueError(f"revised year(s) {unknown} are not among the years generated {years}")
    geographies = _load_geographies(territories_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    profiles: dict[str, Profile] = {}
    paths = []
    for year in years:
        rows = []
        for qpv in geographies[_year_geography(year)]:
            if qpv.code not in profiles:
                profiles[qpv.code] = _profile(seed, qpv)
            rows.append((qpv, _true_counts(seed, qpv, profiles[qpv.code], year)))
        lines = [_allocataires_line(year, qpv, counts) for qpv, counts in rows]
        veille = [
            _allocataires_line(year, qpv, _true_counts(seed, qpv, _veille_profile(seed, qpv), year))
            for qpv in _veille(seed, territories_dir, geographies, year)
        ]
        paths.append(
            write_csv(
                out_dir / allocataires_file_name(year), ALLOCATAIRES_COLUMNS, lines + veille, *ALLOCATAIRES_FORMAT
            )
        )
        if year in revised:
            corrected = [_allocataires_line(year, qpv, counts) for qpv, counts in _correct(seed, year, rows)]
            corrected += veille
            path = out_dir / allocataires_file_name(year, "_rectificatif")
            paths.append(write_csv(path, ALLOCATAIRES_COLUMNS, corrected, *ALLOCATAIRES_FORMAT))
        if broken and year == years[-1]:
            path = out_dir / allocataires_file_name(year, "_broken")
            paths.append(
                write_csv(
                    path, ALLOCATAIRES_COLUMNS, _break_allocataires(seed, year, lines) + veille, *ALLOCATAIRES_FORMAT
                )
            )
    return sorted(paths)


# --- INSEE's workbook by QPV ---------------------------------------------------------------------------------------

# INSEE's technical names of the allocataire counts (REAL-FORMATS §5, inferred: `a` and `percou` seen, the rest in
# the same family), in ALLOCATAIRES_COUNT_COLUMNS order, then a variable the platform does not load.
INSEE_VARIABLES = ("a", "percou", "a_rsa", "a_aah", "a_al", "a_isol", "a_csenf", "a_caenf", "a_mono")
INSEE_LABELS = (
    "Foyers allocataires", "Personnes couvertes", "Allocataires du RSA", "Allocataires de l'AAH",
    "Allocataires d'une aide au logement", "Allocataires isolés", "Couples sans enfant", "Couples avec enfant(s)",
    "Familles monoparentales",
)  # fmt: skip
INSEE_SHEET = "Données quartier"
INSEE_TOTAL_LABEL = "Ensemble des quartiers prioritaires"
INSEE_SECRET = 5  # a count under 5 households or people is left empty (INSEE's statistical secret; threshold inferred)
_INSEE_DATE = dt.datetime(2025, 6, 30, 9, 0)


def insee_allocataires_file_name(year: int) -> str:
    """`beneficiaires_CAF_31-12-<YYYY>_QP<15|24>.xlsx`: the year's situation, counted on the geography it is in."""
    return f"beneficiaires_CAF_31-12-{year}_QP{_year_geography(year)[2:4]}.xlsx"


def _insee_workbook(year: int, rows: list[tuple[Qpv, list[int]]]) -> bytes:
    import openpyxl

    from etl.xlsx import workbook_bytes

    book = openpyxl.Workbook()
    book.properties.created = book.properties.modified = _INSEE_DATE
    book.properties.creator = "Insee"
    book.active.title = "Présentation"
    book.active.append([f"Bénéficiaires des prestations des CAF par quartier prioritaire, au 31 décembre {year}"])
    book.active.append(["Source : Cnaf, fichier des allocataires (FILEAS) ; Insee, géographie des quartiers"])
    sheet = book.create_sheet(INSEE_SHEET)
    sheet.append([f"Allocataires des CAF par quartier prioritaire de la politique de la ville au 31/12/{year}"])
    sheet.append(["Source : Cnaf - Insee. Effectifs arrondis à 5 par la Cnaf ; case vide : secret statistique."])
    sheet.append([])
    sheet.append(["Code du quartier", "Libellé du quartier", *INSEE_LABELS])
    sheet.append(["codgeo", "libgeo", *INSEE_VARIABLES])
    rounded = [(qpv, [_rounded(value) for value in counts]) for qpv, counts in rows]
    sheet.append([INSEE_TOTAL_LABEL, None, *(sum(column) for column in zip(*(c for _, c in rounded), strict=True))])
    for (qpv, counts), (_, published) in zip(rows, rounded, strict=True):
        cells = [None if true < INSEE_SECRET else value for true, value in zip(counts, published, strict=True)]
        sheet.append([qpv.code, qpv.label, *cells])
    return workbook_bytes(book)


def generate_allocataires_insee(out_dir: Path, territories_dir: Path, years: list[int], seed: int = 2024) -> list[Path]:
    """Write INSEE's CAF beneficiaries by QPV, one workbook per year (`insee_allocataires_file_name`); returns the
    paths, sorted.

    The same QPV and the same true counts as `generate_allocataires` (so both layouts give the same figures), as
    INSEE publishes them: a first sheet presenting the file, then `Données quartier` with a three-row title block,
    the readable labels, INSEE's technical names (`codgeo`, `a`, `percou` ...), the national total
    (`Ensemble des quartiers prioritaires`, the sum of the published counts) and one row per QPV in force on 1
    January, by code; counts are numbers rounded to 5, a count under `INSEE_SECRET` is an empty cell. INSEE's file
    counts the QPV of its geography only: the veille-active QPV the CAF's own file keeps are not in it."""
    geographies = _load_geographies(territories_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for year in sorted({int(year) for year in years}):
        rows = [(qpv, _true_counts(seed, qpv, _profile(seed, qpv), year)) for qpv in geographies[_year_geography(year)]]
        path = out_dir / insee_allocataires_file_name(year)
        path.write_bytes(_insee_workbook(year, rows))
        paths.append(path)
    return paths


# --- crèches -------------------------------------------------------------------------------------------------------


def _check_quarter(quarter: str) -> tuple[int, int]:
    match = _QUARTER.match(quarter)
    if not match:
        raise ValueError(f"quarter {quarter!r} is not YYYY-Qn")
    year, number = int(match.group(1)), int(match.group(2))
    if not FIRST_QUARTER <= (year, number) <= LAST_QUARTER:
        raise ValueError(f"quarter {quarter!r} is outside {FIRST_QUARTER[0]}-Q1..{LAST_QUARTER[0]}-Q4")
    return year, number


def _quarters() -> list[tuple[int, int]]:
    first, last = FIRST_QUARTER[0] * 4 + FIRST_QUARTER[1] - 1, LAST_QUARTER[0] * 4 + LAST_QUARTER[1] - 1
    return [(index // 4, index % 4 + 1) for index in range(first, last + 1)]


def _eaje_history(seed: int, key: str) -> dict[tuple[int, int], tuple[int, int, int]]:
    """A neighbourhood's (created, renovated, stock) in every quarter from 2014-Q1: crèches open now and then
    (a micro-crèche of 10-12 places, a crèche of 20-40), existing ones are sometimes renovated."""
    rng = seeded_rng(seed, "caf-eaje", key)
    stock = round(10 + 190 * rng.random() ** 1.5) if rng.random() < 0.75 else 0
    history = {}
    for quarter in _quarters():
        created = 0
        if rng.random() < 0.025:
            created = rng.randint(10, 12) if rng.random() < 0.4 else rng.randint(20, 40)
            if stock + created > MAX_EAJE_PLACES:
                created = 0
        renovated = rng.randint(5, min(30, stock)) if stock >= 5 and rng.random() < 0.04 else 0
        stock += created
        history[quarter] = (created, renovated, stock)
    return history


def creches_file_name(quarter: str) -> str:
    year, number = _check_quarter(quarter)
    return f"CAF_EAJE_QPV_{year}T{number}.csv"


def _unknown_code(code: str, known: set[str]) -> str:
    """A code shaped like `code` (same geography and département) that no QPV has."""
    for number in range(99, 0, -1):
        candidate = f"{code[:5]}{number:02d}{code[-1]}" if code.startswith("QN") else f"{code[:5]}{number:03d}"
        if candidate not in known:
            return candidate
    raise ValueError(f"no free code next to {code}")  # pragma: no cover - départements have far fewer QPV


def _break_creches(seed: int, quarter: str, lines: list[list[str]], known: set[str]) -> list[list[str]]:
    """Copy of the lines with two defects on two lines: a QPV code that does not exist, a place count of -5."""
    rng = seeded_rng(seed, "caf-eaje-broken", quarter)
    lines = [list(line) for line in lines]
    unknown, negative = rng.sample(lines, 2)
    unknown[1] = _unknown_code(unknown[1], known)
    negative[CRECHES_COLUMNS.index("places_renovees")] = "-5"
    return lines


def generate_creches(
    out_dir: Path, territories_dir: Path, quarters: list[str], seed: int = 2024, broken: bool = False
) -> list[Path]:
    """Write one `CAF_EAJE_QPV_<YYYY>T<q>.csv` per quarter (`2024-Q1`) into `out_dir` (Windows-1252, CRLF); with
    `broken`, a defective copy of the last quarter's file, `CAF_EAJE_QPV_<YYYY>T<q>_broken.csv`. Returns the paths,
    sorted."""
    quarters = sorted(set(quarters))
    for quarter in quarters:
        _check_quarter(quarter)
    geographies = _load_geographies(territories_dir)
    known = {qpv.code for qpvs in geographies.values() for qpv in qpvs}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    histories: dict[str, dict[tuple[int, int], tuple[int, int, int]]] = {}
    paths = []
    for quarter in quarters:
        year, number = _check_quarter(quarter)
        lines = []
        for qpv in geographies[_quarter_geography(year, number)]:
            if qpv.key not in histories:
                histories[qpv.key] = _eaje_history(seed, qpv.key)
            created, renovated, stock = histories[qpv.key][year, number]
            lines.append([f"{year}-T{number}", qpv.code, qpv.label, str(created), str(renovated), str(stock)])
        paths.append(write_csv(out_dir / creches_file_name(quarter), CRECHES_COLUMNS, lines, *CRECHES_FORMAT))
        if broken and quarter == quarters[-1]:
            path = out_dir / creches_file_name(quarter).replace(".csv", "_broken.csv")
            paths.append(write_csv(path, CRECHES_COLUMNS, _break_creches(seed, quarter, lines, known), *CRECHES_FORMAT))
    return sorted(paths)
