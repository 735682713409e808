"""Sample France Travail files: monthly job seekers (DEFM) by QPV and containing territories, and contact points.

Built on the sample QPV referential (`qpv_2015.csv`, `qpv_2024.csv` from generators.territories), this module
writes files in France Travail's delivery shape:

- `DEFM_QPV_<YYYYMM>.csv`, one per month M: `;`-separated, one header line, wide layout (columns
  `etl.sources.france_travail.DEFM_COLUMNS`), one line per month and territory: first the producer's "Ensemble des
  quartiers prioritaires" lines (niveau `ENSEMBLE_QPV_FRANCE`, `_REGION`, `_DEPARTEMENT`: the exact sums of the QPV of
  France, of each région and of each département, masked only below 5 like any line), then the QPV and, for comparison,
  the communes, EPCI and départements that contain QPV. Each file holds M and revises M-1 and M-2 (a few percent of
  lines move by 1-3 %, mostly upwards: late registrations). Months before 2024-01 use the 2015 QPV geography (QP codes),
  later ones the 2024 geography (QN codes); files for months before 2024-01 are Windows-1252, later ones UTF-8. Any
  count below 5 is written `s`, with a complementary cell masked too when a sex or age breakdown would otherwise give
  the masked one away; `part_femmes_a` is a decimal with a comma (`48,2`) or `s`;
- `POINTS_CONTACT_QPV_<YYYY>.csv`, one per year (UTF-8): France Travail sites and partner relays per QPV.

Figures are realistic in size and shape: a QPV has about 200 to 2,500 job seekers in category ABC (a few small
ones fewer), category A is 55-65 % of ABC; communes, EPCI and départements have their own, larger series, always
well above the sum of the QPV they contain. Series are smooth: a national trend, seasonality, a slow local cycle and
a little noise. A QPV keeps its level across the 2015 -> 2024 change when its name and main commune are unchanged.
Every draw comes from `random.Random` seeded with the seed and what is drawn (territory, month), so a file does not
depend on which other months are asked for: same inputs, same bytes. `generate_defm(..., broken=True)` also writes
`DEFM_QPV_<YYYYMM>_broken.csv` for the last month, with defects the quality gates must catch.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from pathlib import Path

from etl.referentiels.territories import normalise_qpv, read_anct
from etl.samples.generators.files import seeded_rng, write_csv
from etl.samples.generators.territories import QPV_2015_FILE, QPV_2024_FILE
from etl.sources.france_travail import CONTACT_COLUMNS, DEFM_COLUMNS, MASK
from etl.sources.registry import source

FIRST_2024_MONTH = "2024-01"  # first month in the 2024 QPV geography (decree 2023-1314)
FIRST_2024_YEAR = 2024
FIRST_OVERSEAS_2024_MONTH = "2025-01"  # overseas QPV switch to the 2024 geography a year later
TRANSITION = "2024-metropole"  # 2024 QPV in metropolitan France, 2015 QPV overseas
MASK_BELOW = source("france_travail_defm").ensembles.masked_below  # France Travail masks any count below 5
REVISED_MONTHS = 2  # a file revises the two months before its own
REVISION_SHARE = 0.05  # share of lines revised at each delivery
LEVEL_ORDER = ("QPV", "COMMUNE", "EPCI", "DEPARTEMENT")
# The producer's totals over the QPV of a territory, computed on exact data, written first in each month's lines.
ENSEMBLE_LEVELS = ("ENSEMBLE_QPV_FRANCE", "ENSEMBLE_QPV_REGION", "ENSEMBLE_QPV_DEPARTEMENT")
ENSEMBLE_LABEL = "Ensemble des quartiers prioritaires"

# The 12 cells every count is a sum of: category (A, then B+C) x sex (F, H) x age band (<26, 26-49, 50+).
CELLS = 12

# National index of job seekers (ABC), mid-year, 2015 = 1: slow fall, the 2020 rise, the 2021-2023 fall.
NATIONAL_INDEX = {
    2014: 0.985, 2015: 1.0, 2016: 0.995, 2017: 0.99, 2018: 0.975, 2019: 0.955, 2020: 0.985, 2021: 0.945,
    2022: 0.895, 2023: 0.875, 2024: 0.88, 2025: 0.895, 2026: 0.9,
}  # fmt: skip
# Month-of-year factor: peaks in January and September, low point in early summer.
SEASON = (1.018, 1.012, 1.004, 0.996, 0.99, 0.984, 0.99, 1.0, 1.02, 1.012, 1.0, 0.998)

_MONTH = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")


@dataclass
class Territory:
    """One line of a DEFM file for a month: a territory, its level of ABC job seekers and how it moves."""

    level: str  # QPV, COMMUNE, EPCI, DEPARTEMENT
    code: str
    label: str
    base: float  # category ABC job seekers, around 2024
    shares: tuple[float, ...]  # the 12 cells' shares of ABC
    amplitude: float  # of the slow local cycle
    cycle: float  # its period, in months
    phase: float
    slope: float  # local trend per year, relative


@dataclass
class Geography:
    """The territories of one QPV geography, in file order, and its QPV for the contact-point files."""

    name: str  # 2015 or 2024
    territories: list[Territory]
    qpv: list[tuple[str, str, str, float]]  # (code, label, key, base)
    # the "ensemble des QPV" lines: (niveau, code, label, indexes in `territories` of the QPV it sums)
    ensembles: list[tuple[str, str, str, list[int]]]


# --- draws ---------------------------------------------------------------------------------------------------------


def _profile(rng: random.Random, spread: float) -> tuple[float, ...]:
    """Shares of the 12 cells: A is 55-65 % of ABC, women are fewer in A than in B and C, young people more."""

    def around(centre: float, width: float) -> float:
        return centre + spread * rng.uniform(-width, width)

    category = around(0.60, 0.05)
    shares = []
    for cat_share, women, young, senior in (
        (category, around(0.485, 0.035), around(0.17, 0.05), around(0.23, 0.05)),
        (1 - category, around(0.56, 0.035), around(0.13, 0.04), around(0.21, 0.04)),
    ):
        for sex_share in (women, 1 - women):
            for age_share in (young, 1 - young - senior, senior):
                shares.append(cat_share * sex_share * age_share)
    return tuple(shares)


def _territory(rng: random.Random, level: str, code: str, label: str, base: float, spread: float) -> Territory:
    return Territory(
        level=level,
        code=code,
        label=label,
        base=base,
        shares=_profile(rng, spread),
        amplitude=rng.uniform(0.008, 0.025),
        cycle=rng.uniform(20, 60),
        phase=rng.uniform(0, 2 * math.pi),
        slope=rng.uniform(-0.015, 0.015),
    )


def _qpv_base(rng: random.Random) -> float:
    """Category ABC job seekers in a QPV: 200 to 2,500, median about 400; a few small ones (15 to 150)."""
    if rng.random() < 0.08:
        return 15 * 10 ** rng.random()
    return 200 * (2500 / 200) ** (rng.random() ** 1.7)


# --- the territory referential ------------------------------------------------------------------------------------


def read_geography(path: Path) -> list[dict]:
    """The QPV of one ANCT list: code, label, département and its label, communes (main first) and EPCI."""
    frames = normalise_qpv(read_anct(path))
    communes: dict[str, list[tuple[str, str]]] = {}
    for code, commune, label in frames["qpv_commune"][["code_qp", "insee_com", "lib_com"]].itertuples(index=False):
        communes.setdefault(code, []).append((commune, label))
    epcis: dict[str, list[tuple[str, str]]] = {}
    for code, siren, label in frames["qpv_epci"][["code_qp", "siren_epci", "lib_epci"]].itertuples(index=False):
        epcis.setdefault(code, []).append((siren, label))
    return [
        {
            "code": code,
            "label": label,
            "departement": departement,
            "departement_label": departement_label,
            "region": region,
            "region_label": region_label,
            "communes": communes[code],
            "epcis": epcis[code],
        }
        for code, label, departement, departement_label, region, region_label in frames["qpv"][
            ["code_qp", "lib_qp", "insee_dep", "lib_dep", "insee_reg", "lib_reg"]
        ].itertuples(index=False)
    ]


def _commune_weights(count: int) -> tuple[float, ...]:
    """How a QPV's job seekers split over its communes, the main one first."""
    return {1: (1.0,), 2: (0.6, 0.4)}.get(count, (0.5, 0.3, 0.2, *(0.0,) * (count - 3)))


def qpv_key(qpv: dict) -> str:
    """What identifies a neighbourhood across geographies: its main commune and its name."""
    return f"{qpv['communes'][0][0]}:{qpv['label']}"


def _load_geographies(territories_dir: Path, seed: int) -> dict[str, Geography]:
    """Both QPV geographies with every territory's level and profile; containing territories are shared."""
    lists = {
        "2015": read_geography(Path(territories_dir) / QPV_2015_FILE),
        "2024": read_geography(Path(territories_dir) / QPV_2024_FILE),
    }
    # In 2024 the new geography applies in metropolitan France only; overseas keeps its 2015 QPV until 2025.
    lists[TRANSITION] = [q for q in lists["2024"] if not is_overseas(q)] + [q for q in lists["2015"] if is_overseas(q)]
    qpv_bases: dict[str, float] = {}
    for qpvs in lists.values():
        for qpv in qpvs:
            rng = seeded_rng(seed, "qpv", qpv_key(qpv))
            base = _qpv_base(rng)
            if qpv["code"].startswith("QN") and qpv["code"].endswith("M"):  # perimeter modified in 2024
                base *= seeded_rng(seed, "perimeter", qpv["code"]).uniform(0.85, 1.2)
            qpv_bases[qpv["code"]] = base

    # Communes, EPCI and départements: one series whatever the geography, above the QPV of both geographies.
    in_qpv: dict[str, dict[str, float]] = {name: {} for name in lists}
    commune_label: dict[str, str] = {}
    commune_epci: dict[str, str] = {}
    commune_departement: dict[str, str] = {}
    epci_label: dict[str, str] = {}
    departement_label: dict[str, str] = {}
    for name, qpvs in lists.items():
        for qpv in qpvs:
            weights = _commune_weights(len(qpv["communes"]))
            for (commune, label), weight in zip(qpv["communes"], weights, strict=True):
                in_qpv[name][commune] = in_qpv[name].get(commune, 0.0) + weight * qpv_bases[qpv["code"]]
                commune_label.setdefault(commune, label)
                commune_departement.setdefault(commune, qpv["departement"])
                if len(qpv["epcis"]) == 1:
                    commune_epci[commune] = qpv["epcis"][0][0]
            for siren, label in qpv["epcis"]:
                epci_label.setdefault(siren, label)
            departement_label.setdefault(qpv["departement"], qpv["departement_label"])
    for qpvs in lists.values():  # communes seen only in QPV spanning two EPCI: the EPCI listed at their rank
        for qpv in qpvs:
            for rank, (commune, _) in enumerate(qpv["communes"]):
                commune_epci.setdefault(commune, qpv["epcis"][min(rank, len(qpv["epcis"]) - 1)][0])

    territories: dict[tuple[str, str], Territory] = {}
    commune_base = {}
    for commune in sorted(commune_label):
        rng = seeded_rng(seed, "commune", commune)
        largest = max(sums.get(commune, 0.0) for sums in in_qpv.values())
        commune_base[commune] = largest * rng.uniform(1.4, 2.6) + rng.uniform(150, 2000)
        territories["COMMUNE", commune] = _territory(
            rng, "COMMUNE", commune, commune_label[commune], commune_base[commune], 0.5
        )
    for siren in sorted(epci_label):
        rng = seeded_rng(seed, "epci", siren)
        members = sum(base for commune, base in commune_base.items() if commune_epci[commune] == siren)
        base = members * rng.uniform(1.1, 1.6) + rng.uniform(400, 4000)
        territories["EPCI", siren] = _territory(rng, "EPCI", siren, epci_label[siren], base, 0.4)
    for departement in sorted(departement_label):
        rng = seeded_rng(seed, "departement", departement)
        members = sum(base for commune, base in commune_base.items() if commune_departement[commune] == departement)
        base = members * rng.uniform(1.15, 1.6) + rng.uniform(2000, 15000)
        territories["DEPARTEMENT", departement] = _territory(
            rng, "DEPARTEMENT", departement, departement_label[departement], base, 0.3
        )

    geographies = {}
    for name, qpvs in lists.items():
        members: list[Territory] = []
        for qpv in sorted(qpvs, key=lambda q: q["code"]):
            rng = seeded_rng(seed, "qpv-profile", qpv_key(qpv))
            members.append(_territory(rng, "QPV", qpv["code"], qpv["label"], qpv_bases[qpv["code"]], 1.0))
        communes = sorted({commune for qpv in qpvs for commune, _ in qpv["communes"]})
        members += [territories["COMMUNE", commune] for commune in communes]
        members += [territories["EPCI", siren] for siren in sorted({s for qpv in qpvs for s, _ in qpv["epcis"]})]
        members += [territories["DEPARTEMENT", d] for d in sorted({qpv["departement"] for qpv in qpvs})]
        qpv_list = [
            (qpv["code"], qpv["label"], qpv_key(qpv), qpv_bases[qpv["code"]])
            for qpv in sorted(qpvs, key=lambda q: q["code"])
        ]
        geographies[name] = Geography(name, members, qpv_list, _ensembles(sorted(qpvs, key=lambda q: q["code"])))
    return geographies


def _ensembles(qpvs: list[dict]) -> list[tuple[str, str, str, list[int]]]:
    """The producer's "ensemble des quartiers prioritaires" lines of a geography, France first, then each région and
    each département: the QPV (by their index among the geography's territories, QPV first) that each one sums."""
    groups: dict[tuple[str, str], tuple[str, list[int]]] = {("ENSEMBLE_QPV_FRANCE", "FR"): ("France", [])}
    for index, qpv in enumerate(qpvs):
        groups["ENSEMBLE_QPV_FRANCE", "FR"][1].append(index)
        for level, code, label in (
            ("ENSEMBLE_QPV_REGION", qpv["region"], qpv["region_label"]),
            ("ENSEMBLE_QPV_DEPARTEMENT", qpv["departement"], qpv["departement_label"]),
        ):
            groups.setdefault((level, code), (label, []))[1].append(index)
    order = {level: rank for rank, level in enumerate(ENSEMBLE_LEVELS)}
    return [
        (level, code, f"{ENSEMBLE_LABEL} - {label}", members)
        for (level, code), (label, members) in sorted(groups.items(), key=lambda item: (order[item[0][0]], item[0][1]))
    ]


# --- months and series ---------------------------------------------------------------------------------------------


def check_month(month: str) -> tuple[int, int]:
    match = _MONTH.match(month)
    if not match:
        raise ValueError(f"month {month!r} is not YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def _shift(month: str, months: int) -> str:
    year, number = check_month(month)
    index = year * 12 + number - 1 + months
    return f"{index // 12}-{index % 12 + 1:02d}"


def is_overseas(qpv: dict) -> bool:
    return qpv["departement"].startswith("97")


def geography_of_month(month: str) -> str:
    if month < FIRST_2024_MONTH:
        return "2015"
    return TRANSITION if month < FIRST_OVERSEAS_2024_MONTH else "2024"


def _national(year: int, number: int) -> float:
    """The national index, interpolated between mid-years."""
    position = year + (number - 7) / 12
    low = math.floor(position)
    first, last = min(NATIONAL_INDEX), max(NATIONAL_INDEX)
    if low < first:
        return NATIONAL_INDEX[first]
    if low >= last:
        return NATIONAL_INDEX[last]
    weight = position - low
    return NATIONAL_INDEX[low] * (1 - weight) + NATIONAL_INDEX[low + 1] * weight


def _cells(geography: Geography, month: str, seed: int) -> list[list[int]]:
    """The 12 cells of every territory of the geography at month end, as first published."""
    year, number = check_month(month)
    elapsed = (year - 2024) * 12 + number - 1  # months since January 2024
    common = _national(year, number) / NATIONAL_INDEX[2024] * SEASON[number - 1]
    noise = seeded_rng(seed, "noise", geography.name, month)
    out = []
    for territory in geography.territories:
        local = 1 + territory.amplitude * math.sin(2 * math.pi * elapsed / territory.cycle + territory.phase)
        trend = max(0.6, 1 + territory.slope * elapsed / 12)
        level = territory.base * common * local * trend * (1 + noise.gauss(0, 0.006))
        out.append([round(level * share) for share in territory.shares])
    return out


def _revised(cells: list[list[int]], month: str, age: int, seed: int) -> list[list[int]]:
    """The cells of `month` as published `age` months later: each delivery revises a few percent of the lines."""
    for delivery in range(1, age + 1):
        rng = seeded_rng(seed, "revision", month, delivery)
        revised = []
        for row in cells:
            if rng.random() < REVISION_SHARE:
                sign = 1 if rng.random() < 0.7 else -1
                factor = 1 + sign * rng.uniform(0.01, 0.03)
                row = [round(cell * factor) for cell in row]
            revised.append(row)
        cells = revised
    return cells


# --- DEFM lines ----------------------------------------------------------------------------------------------------


def _figures(cells: list[int]) -> list[int]:
    """The 12 published counts, in DEFM_COLUMNS order, from the 12 cells."""
    a_sex = [sum(cells[0:3]), sum(cells[3:6])]
    bc_sex = [sum(cells[6:9]), sum(cells[9:12])]
    a_age = [cells[g] + cells[3 + g] for g in range(3)]
    bc_age = [cells[6 + g] + cells[9 + g] for g in range(3)]
    a, bc = sum(a_sex), sum(bc_sex)
    abc_sex = [a_sex[0] + bc_sex[0], a_sex[1] + bc_sex[1]]
    abc_age = [a_age[g] + bc_age[g] for g in range(3)]
    return [a, a + bc, *a_sex, *a_age, *abc_sex, *abc_age]


def _masked(figures: list[int]) -> list[bool]:
    """Cells written `s`: any count below 5, and a complement that would give a masked cell away from its total."""
    masked = [value < MASK_BELOW for value in figures]
    for group in ((2, 3), (7, 8)):  # women / men: either masked, both masked
        if any(masked[i] for i in group):
            for i in group:
                masked[i] = True
    for group in ((4, 5, 6), (9, 10, 11)):  # age bands: one masked alone, mask the smallest other one too
        hidden = [i for i in group if masked[i]]
        if len(hidden) == 1:
            masked[min((i for i in group if not masked[i]), key=lambda i: (figures[i], i))] = True
    return masked


def _line(month: str, level: str, code: str, label: str, cells: list[int]) -> list[str]:
    figures = _figures(cells)
    masked = _masked(figures)
    counts = [MASK if hide else str(value) for value, hide in zip(figures, masked, strict=True)]
    a, women = figures[0], figures[2]
    share = MASK if masked[0] or masked[2] else f"{100 * women / a:.1f}".replace(".", ",")
    return [month, level, code, label, *counts, share]


def _ensemble_lines(geography: Geography, period: str, cells: list[list[int]]) -> list[list[str]]:
    """The "ensemble des QPV" lines of a month: the exact sums of the QPV's cells (masked below 5 like any line)."""
    return [
        _line(period, level, code, label, [sum(cells[i][k] for i in members) for k in range(CELLS)])
        for level, code, label, members in geography.ensembles
    ]


def _defm_lines(geographies: dict[str, Geography], month: str, seed: int) -> list[list[str]]:
    """The lines of the file delivered for `month`: M-2, M-1 (revised) and M, levels in order, codes sorted."""
    lines = []
    for age in range(REVISED_MONTHS, -1, -1):
        period = _shift(month, -age)
        geography = geographies[geography_of_month(period)]
        cells = _revised(_cells(geography, period, seed), period, age, seed)
        lines += _ensemble_lines(geography, period, cells)
        lines += [_line(period, t.level, t.code, t.label, c) for t, c in zip(geography.territories, cells, strict=True)]
    return lines


def _encoding(month: str) -> str:
    """Files before the 2024 geography come from the old Windows-1252 chain; later ones are UTF-8."""
    return "cp1252" if month < FIRST_2024_MONTH else "utf-8"


def _break(lines: list[list[str]], month: str, seed: int) -> list[list[str]]:
    """Copy of the lines with three defects on month M: a QPV code that lost a letter, a count written with a
    thousands space, a département 20 (split into 2A and 2B in 1976)."""
    rng = seeded_rng(seed, "broken", month)
    lines = [list(line) for line in lines]
    current = [line for line in lines if line[0] == month]
    qpv = rng.choice([line for line in current if line[1] == "QPV"])
    qpv[2] = qpv[2][:-1] if qpv[2].startswith("QN") else qpv[2][1:]  # QN07501M -> QN07501, QP075001 -> P075001
    column = DEFM_COLUMNS.index("defm_abc")
    large = [line for line in current if line[1] in ("COMMUNE", "EPCI") and line[column].isdigit()]
    large = [line for line in large if int(line[column]) >= 1000]
    count = rng.choice(large)
    count[column] = f"{int(count[column]):,}".replace(",", " ")
    corsica = [line for line in current if line[1] == "DEPARTEMENT" and line[2] in ("2A", "2B")]
    departement = corsica[0] if corsica else next(line for line in current if line[1] == "DEPARTEMENT")
    departement[2] = "20"
    return lines


def defm_file_name(month: str) -> str:
    year, number = check_month(month)
    return f"DEFM_QPV_{year}{number:02d}.csv"


def generate_defm(
    out_dir: Path, territories_dir: Path, months: list[str], seed: int = 2024, broken: bool = False
) -> list[Path]:
    """Write one `DEFM_QPV_<YYYYMM>.csv` per month into `out_dir` (and, with `broken`, a defective copy of the last
    month's file, `DEFM_QPV_<YYYYMM>_broken.csv`); returns the paths, sorted."""
    months = sorted(set(months))
    for month in months:
        check_month(month)
    geographies = _load_geographies(territories_dir, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for month in months:
        lines = _defm_lines(geographies, month, seed)
        paths.append(write_csv(out_dir / defm_file_name(month), DEFM_COLUMNS, lines, _encoding(month)))
        if broken and month == months[-1]:
            broken_path = out_dir / defm_file_name(month).replace(".csv", "_broken.csv")
            paths.append(write_csv(broken_path, DEFM_COLUMNS, _break(lines, month, seed), _encoding(month)))
    return sorted(paths)


# --- INSEE's job seekers by QPV -----------------------------------------------------------------------------------

# INSEE's DEFM<YYYY>_QP24 (REAL-FORMATS §4; the variables of its IRIS file): CODGEO, NOTE, then the variables.
INSEE_DEFM_HEADER = (
    "CODGEO",
    "NOTE",
    "ABCDE",
    "ABC",
    "ABC_H",
    "ABC_F",
    "A",
    "A_H",
    "A_F",
    "ABC_25",
    "ABC_2649",
    "ABC_50",
)
# Each variable after ABCDE: its index among `_figures` (a, abc, a_F, a_H, a_ages x 3, abc_F, abc_H, abc_ages x 3).
_INSEE_FIGURES = (1, 8, 7, 0, 3, 2, 9, 10, 11)


def insee_defm_file_name(year: int) -> str:
    return f"DEFM{year}_QP24.csv"


def generate_defm_insee(out_dir: Path, territories_dir: Path, years: list[int], seed: int = 2024) -> list[Path]:
    """Write INSEE's job seekers by QPV, `DEFM<YYYY>_QP24.csv` (UTF-8, `;`), one per year into `out_dir`; returns the
    paths, sorted.

    One line per QPV in force at 31 December, as France Travail's file of that month has them (in 2024 the overseas
    QPV keep their 2015 codes until 2025: the cross-checks want every QPV in force of the period): CODGEO and INSEE's
    variables (`INSEE_DEFM_HEADER`), the stocks at 31 December as France Travail's last revision of that month gives
    them (its file of M+2), so that the platform reads the same figures through both layouts; masked as France
    Travail masks (`_masked`), written as an empty cell; ABCDE adds categories D and E (8 to 15 % more), empty when ABC
    is masked; NOTE empty."""
    early = [year for year in years if f"{year}-12" < FIRST_2024_MONTH]
    if early:
        raise ValueError(f"INSEE's QP24 files count the 2024 QPV: no file for {', '.join(map(str, sorted(early)))}.")
    geographies = _load_geographies(territories_dir, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for year in sorted(set(years)):
        month = f"{year}-12"
        geography = geographies[geography_of_month(month)]
        cells = _revised(_cells(geography, month, seed), month, REVISED_MONTHS, seed)
        lines = []
        for territory, row in zip(geography.territories, cells, strict=True):
            if territory.level != "QPV":
                continue
            figures = _figures(row)
            masked = _masked(figures)
            values = ["" if masked[i] else str(figures[i]) for i in _INSEE_FIGURES]
            rng = seeded_rng(seed, "insee-de", territory.code, year)
            abcde = "" if masked[1] else str(figures[1] + round(figures[1] * rng.uniform(0.08, 0.15)))
            lines.append([territory.code, "", abcde, *values])
        paths.append(write_csv(out_dir / insee_defm_file_name(year), INSEE_DEFM_HEADER, lines, "utf-8"))
    return sorted(paths)


# --- contact points ------------------------------------------------------------------------------------------------


def _contacts(seed: int, key: str, base: float) -> tuple[int, int]:
    """A QPV's usual contact points: France Travail sites (0 to 3) and partner relays; a few QPV have none."""
    rng = seeded_rng(seed, "contacts", key)
    if rng.random() < 0.04:
        return 0, 0
    sites = rng.choices((0, 1, 2, 3), weights=(50, 40, 8, 2))[0]
    relais = round(rng.gauss(1.5 + base / 700, 1.2))
    return sites, max(relais, 0 if sites else 1)


def generate_contacts(out_dir: Path, territories_dir: Path, years: list[int], seed: int = 2024) -> list[Path]:
    """Write one `POINTS_CONTACT_QPV_<YYYY>.csv` per year into `out_dir` (UTF-8); returns the paths, sorted."""
    geographies = _load_geographies(territories_dir, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for year in sorted(set(years)):
        geography = geographies[geography_of_month(f"{year}-01")]
        rng = seeded_rng(seed, "contacts-year", geography.name, year)
        lines = []
        for code, label, key, base in geography.qpv:
            sites, relais = _contacts(seed, key, base)
            change = rng.random()
            if sites + relais and change < 0.15:  # partner relays open and close from one year to the next
                relais = max(relais + rng.choice((-1, 1)), 0 if sites else 1)
            lines.append([str(year), code, label, str(sites), str(relais)])
        paths.append(write_csv(out_dir / f"POINTS_CONTACT_QPV_{year}.csv", CONTACT_COLUMNS, lines, "utf-8"))
    return sorted(paths)
