"""Sample files of the other national producers: one `INDICATEURS_NATIONAUX_<PRODUCTEUR>_<YYYY>.csv` per year.

Each producer sends its catalogue indicators (etl.sources.national) for France and the 18 régions, DGEFP also for
the 101 départements: DGEFP / ASP (IND01, IND02, IND03, IND04, IND06), CIPDR (IND17), France Active (IND19),
Agence du service civique (IND23), DGITM (IND24), CMA France (IND29), DGE (IND31), ministère de la Culture (IND32).
UTF-8, `;`, `\\n`, header `etl.sources.national.COLUMNS`; lines per indicator: France, the régions in code order,
then (DGEFP) the départements in code order.

Figures are consistent the way a producer's extraction is: counts are drawn for the finest territory delivered and
summed upwards (France = sum of its régions, région = sum of its départements). A share is drawn as a numerator and
a denominator per territory, both summed upwards, and the written value is their ratio in %, one decimal (France is
never an average of percentages). Sizes follow the QPV population of each région (Île-de-France about a quarter)
and each indicator's national level; shares sit around the catalogue target where there is one (IND01 ~30 %,
IND02 ~12 %, IND03 ~13.2 %, IND32 ~30 %). Counts of people below 11 (and a share whose numerator or denominator is
below 11) are written `s` (secret statistique); when a count is masked alone in its group (the régions of France,
the départements of a région), the smallest other one is masked too, or the total would give it away. One or two
cells per file are `nd` (or left empty, for the producers who do so).

Each producer keeps its own spelling: `France`/`Région`/`Département` or capitals, `pourcentage`/`Pourcentage` or
`%`, `Nombre` or `nombre`, thousands written `1 204`, leading zeros dropped (`1` for Ain) by the spreadsheet
exports of DGEFP and France Active, quoted comments holding `;`. Every draw comes from `random.Random` seeded with the
seed and what is drawn, so a file does not depend on the other years asked: same inputs, same bytes.

`generate(..., broken=True)` also writes `INDICATEURS_NATIONAUX_DGEFP_<YYYY>_broken.csv` for the last year: DGEFP's
file with four defects, each on its own line: an IND02 région line relabelled with the unknown code `IND99` (rows
gate: `indicator_code` and `indicator_unit`); an IND01 région line whose unit says `nombre` (rows gate:
`indicator_unit`); an IND06 département line whose level says `QPV` (file gate: `niveau`; rows gate:
`territory_level`); an IND03 région share above 100, `1xx,x` (rows gate: `value` between 0 and 100 for a `%`).
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from etl.referentiels.territories import load_departements, load_regions
from etl.samples.generators.files import seeded_rng, write_csv
from etl.sources.national import COLUMNS, FRANCE_CODE, MASK, catalogue_units

FILE_PATTERN = "INDICATEURS_NATIONAUX_{producer}_{year}{suffix}.csv"
SECRET_BELOW = 11  # counts of people under 11 are masked (secret statistique)
REFERENCE_YEAR = 2020  # the year the national levels below are given for

_YEAR = re.compile(r"^20[0-9]{2}$")

# Share of the QPV population in each région (about 5.4 million people): what every national count is split by.
REGION_WEIGHT = {
    "01": 0.012, "02": 0.010, "03": 0.012, "04": 0.030, "06": 0.020, "11": 0.270, "24": 0.035, "27": 0.035,
    "28": 0.035, "32": 0.100, "44": 0.080, "52": 0.030, "53": 0.015, "75": 0.050, "76": 0.070, "84": 0.090,
    "93": 0.100, "94": 0.003,
}  # fmt: skip


@dataclass(frozen=True)
class Model:
    """How one indicator is drawn. A count: `level` people (or projects) in France in REFERENCE_YEAR. A share: the
    denominator is `level` in France, the share `centre` % with territories straying by about `spread` points."""

    kind: str  # count | share
    level: float
    centre: float = 0.0
    spread: float = 0.0
    growth: float = 0.0  # per year
    persons: bool = True  # counts of people: secret statistique below 11


MODELS = {
    "IND01": Model("share", 80_000, centre=30.0, spread=5.0, growth=-0.02),  # emplois d'avenir entrants
    "IND02": Model("share", 50_000, centre=12.0, spread=3.0, growth=-0.01),  # CUI-CIE (secteur marchand)
    "IND03": Model("share", 200_000, centre=13.2, spread=3.0, growth=-0.01),  # CUI-CAE (secteur non marchand)
    "IND04": Model("count", 5_000, growth=0.05),  # emplois francs beneficiaries
    "IND06": Model("count", 30_000, growth=0.03),  # QPV residents entering an SIAE
    "IND17": Model("count", 90, growth=0.05, persons=False),  # marches exploratoires de femmes
    "IND19": Model("count", 700, growth=0.02),  # women of the QPV backed by the FGIF
    "IND23": Model("share", 120_000, centre=14.0, spread=3.5, growth=0.03),  # service civique volunteers
    "IND24": Model("count", 80, growth=0.04, persons=False),  # TCSP projects in service for a QPV
    "IND29": Model("share", 80_000, centre=8.0, spread=2.5),  # young craft apprentices
    "IND31": Model("count", 100, growth=-0.01, persons=False),  # FISAC projects financed
    "IND32": Model("share", 30_000_000, centre=30.0, spread=5.0, growth=0.02, persons=False),  # EAC credits (€)
}


@dataclass(frozen=True)
class Producer:
    """One producer's file: its indicators, whether it goes down to départements, and its spelling."""

    slug: str
    name: str  # the `producteur` column
    indicators: tuple[str, ...]
    levels: tuple[str, str, str]  # its words for France, région, département
    units: dict[str, str] = field(default_factory=lambda: {"%": "%", "nombre": "nombre"})
    departements: bool = False
    thousands: str = ""  # separator between digit groups of a count, "" for none
    short_codes: bool = False  # its spreadsheet drops the leading zero of codes (`1` for Ain, `4` for La Réunion)
    missing: str = "nd"  # what it writes for a figure it does not have


PRODUCERS = {
    producer.slug: producer
    for producer in (
        Producer(
            "DGEFP",
            "DGEFP / ASP",
            ("IND01", "IND02", "IND03", "IND04", "IND06"),
            ("France", "Région", "Département"),
            departements=True,
            thousands=" ",
            short_codes=True,
        ),
        Producer("CIPDR", "CIPDR", ("IND17",), ("France", "Région", "Département"), {"nombre": "Nombre"}),
        Producer(
            "FRANCE_ACTIVE",
            "France Active (FGIF)",
            ("IND19",),
            ("FRANCE", "REGION", "DEPARTEMENT"),
            {"nombre": "Nombre"},
            short_codes=True,
            missing="",
        ),
        Producer(
            "ASC", "Agence du service civique", ("IND23",), ("FRANCE", "REGION", "DEPARTEMENT"), {"%": "pourcentage"}
        ),
        Producer("DGITM", "DGITM", ("IND24",), ("FRANCE", "REGION", "DEPARTEMENT")),
        Producer(
            "CMA", "CMA France", ("IND29",), ("France", "Région", "Département"), {"%": "Pourcentage"}, missing=""
        ),
        Producer("DGE", "DGE", ("IND31",), ("FRANCE", "REGION", "DEPARTEMENT"), thousands=" "),
        Producer(
            "CULTURE", "Ministère de la Culture", ("IND32",), ("FRANCE", "Région", "Département"), {"%": "pourcentage"}
        ),
    )
}

FRANCE_COMMENT = "France entière (métropole et DROM)"
MASKED_COMMENT = "secret statistique"
MISSING_COMMENT = "non disponible ; remontée incomplète"  # a `;` inside a comment: the field is quoted


def file_name(producer: str, year: int | str, *, broken: bool = False) -> str:
    """`INDICATEURS_NATIONAUX_DGEFP_2024.csv` (`..._2024_broken.csv` for the broken one)."""
    return FILE_PATTERN.format(producer=producer, year=year, suffix="_broken" if broken else "")


# --- draws ---------------------------------------------------------------------------------------------------------


def _draw_count(rng: random.Random, expected: float) -> int:
    """An integer around `expected`: Poisson-like noise for small counts, 2 % noise for large ones."""
    if expected < 50:
        return max(0, round(rng.gauss(expected, math.sqrt(expected))))
    return round(expected * (1 + rng.gauss(0, 0.02)))


@dataclass
class Geography:
    """The régions and départements in file order, and the weight of each finest territory a file can hold."""

    regions: list[str]
    departements: list[str]
    region_of: dict[str, str]
    region_weight: dict[str, float]  # share of France's QPV population
    departement_weight: dict[str, float]


def _geography(seed: int) -> Geography:
    regions = load_regions()["code"].tolist()
    departements = load_departements()
    region_of = dict(zip(departements["code"], departements["code_region"], strict=True))
    raw = {code: math.exp(seeded_rng(seed, "departement-weight", code).gauss(0, 0.6)) for code in departements["code"]}
    totals: dict[str, float] = {}
    for code, weight in raw.items():
        totals[region_of[code]] = totals.get(region_of[code], 0.0) + weight
    total_weight = sum(REGION_WEIGHT.values())
    weights = {
        code: REGION_WEIGHT[region_of[code]] / total_weight * weight / totals[region_of[code]]
        for code, weight in raw.items()
    }
    region_weight = {code: REGION_WEIGHT[code] / total_weight for code in regions}
    return Geography(regions, departements["code"].tolist(), region_of, region_weight, weights)


def _base_figures(
    code: str, model: Model, territories: dict[str, float], year: int, seed: int
) -> dict[str, tuple[int, int]]:
    """(numerator, denominator) of each finest territory for a share; (count, 0) for a count."""
    national = seeded_rng(seed, code, "year", year)
    trend = (1 + model.growth) ** (year - REFERENCE_YEAR) * math.exp(national.gauss(0, 0.03))
    figures = {}
    for territory, weight in territories.items():
        fixed = seeded_rng(seed, code, "territory", territory)  # what a territory keeps from year to year
        level, offset = math.exp(fixed.gauss(0, 0.15)), fixed.gauss(0, model.spread)
        noise = seeded_rng(seed, code, territory, year)
        expected = model.level * weight * trend * level * math.exp(noise.gauss(0, 0.05))
        amount = _draw_count(noise, expected)
        if model.kind == "count":
            figures[territory] = (amount, 0)
        else:
            share = min(90.0, max(0.5, model.centre + offset + noise.gauss(0, model.spread * 0.2)))
            figures[territory] = (round(amount * share / 100), amount)
    return figures


def _add(figures: dict[str, tuple[int, int]], members: list[str]) -> tuple[int, int]:
    return sum(figures[m][0] for m in members), sum(figures[m][1] for m in members)


# --- lines ---------------------------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One line of a file before it is written: where, the figure and whether it is published."""

    level: int  # 0 France, 1 région, 2 département
    code: str
    figure: tuple[int, int]
    masked: bool = False
    missing: bool = False


def _primary(model: Model, figure: tuple[int, int]) -> bool:
    if not model.persons:
        return False
    numerator, denominator = figure
    if model.kind == "count":
        return numerator < SECRET_BELOW
    return numerator < SECRET_BELOW or denominator < SECRET_BELOW


def _secondary(cells: list[Cell]) -> None:
    """When one cell of an additive group is masked alone, mask the smallest other one: the total would give it."""
    hidden = [cell for cell in cells if cell.masked]
    shown = [cell for cell in cells if not cell.masked]
    if len(hidden) == 1 and shown:
        min(shown, key=lambda cell: (cell.figure[0], cell.code)).masked = True


def _cells(code: str, producer: Producer, geography: Geography, year: int, seed: int) -> list[Cell]:
    """France, then the régions, then (DGEFP) the départements of one indicator, figures summed upwards."""
    model = MODELS[code]
    if producer.departements:
        base = _base_figures(code, model, geography.departement_weight, year, seed)
        members = {r: [d for d in geography.departements if geography.region_of[d] == r] for r in geography.regions}
        regions = {region: _add(base, members[region]) for region in geography.regions}
    else:
        regions = _base_figures(code, model, geography.region_weight, year, seed)
        base = {}
    france = Cell(0, FRANCE_CODE, _add(regions, geography.regions))
    region_cells = [Cell(1, region, regions[region]) for region in geography.regions]
    departement_cells = [Cell(2, d, base[d]) for d in geography.departements] if producer.departements else []
    for cell in region_cells + departement_cells:
        cell.masked = _primary(model, cell.figure)
    if model.kind == "count":  # a share cannot be worked out from the others; a count can
        _secondary(region_cells)
        for region in geography.regions:
            _secondary([cell for cell in departement_cells if geography.region_of[cell.code] == region])
    return [france, *region_cells, *departement_cells]


def _number(value: int, separator: str) -> str:
    return f"{value:,}".replace(",", separator) if separator else str(value)


def _value(model: Model, cell: Cell, producer: Producer) -> str:
    if cell.masked:
        return MASK
    if cell.missing:
        return producer.missing
    numerator, denominator = cell.figure
    if model.kind == "count":
        return _number(numerator, producer.thousands)
    if denominator == 0:
        return producer.missing
    return f"{100 * numerator / denominator:.1f}".replace(".", ",")


def _code(cell: Cell, producer: Producer) -> str:
    if producer.short_codes and cell.code.isdigit() and cell.level > 0:
        return str(int(cell.code))
    return cell.code


def _comment(cell: Cell) -> str:
    if cell.level == 0:
        return FRANCE_COMMENT
    if cell.masked:
        return MASKED_COMMENT
    return MISSING_COMMENT if cell.missing else ""


def _lines(producer: Producer, geography: Geography, units: dict[str, str], year: int, seed: int) -> list[list[str]]:
    per_indicator = {code: _cells(code, producer, geography, year, seed) for code in producer.indicators}
    # One or two figures the producer does not have this year (never France, never a masked one).
    rng = seeded_rng(seed, "missing", producer.slug, year)
    candidates = [cell for code in producer.indicators for cell in per_indicator[code][1:] if not cell.masked]
    for cell in rng.sample(candidates, rng.choice((1, 2))):
        cell.missing = True
    lines = []
    for code in producer.indicators:
        model = MODELS[code]
        unit = producer.units.get(units[code], units[code])
        for cell in per_indicator[code]:
            lines.append(
                [
                    code,
                    producer.levels[cell.level],
                    _code(cell, producer),
                    str(year),
                    _value(model, cell, producer),
                    unit,
                    producer.name,
                    _comment(cell),
                ]
            )
    return lines


def _break(lines: list[list[str]], year: int, seed: int) -> list[list[str]]:
    """Copy of DGEFP's lines with four defects on four lines (see the module docstring)."""
    rng = seeded_rng(seed, "broken", year)
    lines = [list(line) for line in lines]
    region_word, departement_word = PRODUCERS["DGEFP"].levels[1:]
    column = {name: COLUMNS.index(name) for name in COLUMNS}

    def pick(indicator: str, level: str) -> list[str]:
        rows = [line for line in lines if line[0] == indicator and line[1] == level]
        return rng.choice([line for line in rows if line[column["valeur"]] not in (MASK, "nd", "")])

    pick("IND02", region_word)[column["indicateur"]] = "IND99"
    pick("IND01", region_word)[column["unite"]] = "nombre"
    pick("IND06", departement_word)[column["niveau"]] = "QPV"
    pick("IND03", region_word)[column["valeur"]] = f"{rng.uniform(101, 140):.1f}".replace(".", ",")
    return lines


def _year(year: int | str) -> int:
    if not _YEAR.match(str(year)):
        raise ValueError(f"year {year!r} is not YYYY")
    return int(year)


def generate(out_dir: Path, years, seed: int = 2024, broken: bool = False) -> list[Path]:
    """Write one file per producer and year into `out_dir` (created if needed); returns the paths, year by year in
    PRODUCERS order, then the broken DGEFP file of the last year when `broken`."""
    checked = [_year(year) for year in years]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    geography = _geography(seed)
    units = catalogue_units()
    paths = []
    for year in checked:
        for producer in PRODUCERS.values():
            lines = _lines(producer, geography, units, year, seed)
            paths.append(write_csv(out_dir / file_name(producer.slug, year), COLUMNS, lines))
    if broken and checked:
        last = max(checked)
        lines = _break(_lines(PRODUCERS["DGEFP"], geography, units, last, seed), last, seed)
        paths.append(write_csv(out_dir / file_name("DGEFP", last, broken=True), COLUMNS, lines))
    return paths
