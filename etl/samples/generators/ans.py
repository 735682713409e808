"""Sample Agence nationale du sport (ANS) files: the annual subsidy lines and the sport licences per QPV and sex.

Built on the sample QPV referential (`qpv_2015.csv`, `qpv_2024.csv` from generators.territories), this module
writes files in the ANS delivery shape (columns from etl.sources.ans):

- `ANS_SUBVENTIONS_<YYYY>.csv`, one per year: Windows-1252, `;`, `\\n`, standard CSV quoting; 3,600 to 5,400
  lines, one per subsidy granted, in the order of their `numero_dossier` (`2024-000123`, unique, with gaps).
  Beneficiaries are clubs, sports committees, communes and EPCI with a 14-digit SIRET (Luhn-valid), the same
  from one year to the next; a few names hold `;` or `"` (quoted), many hold accents. `code_commune` lost its
  leading zero in the producer's spreadsheet (`1053`). Communes are those of the QPV referential and, for lines
  outside QPV, a few other codes of the same département (`01234`, `2A117`, `97409`). About a quarter of the lines
  take place in a QPV in force in the year (`code_qpv`, the line's commune being the QPV's); the others have an
  empty `code_qpv`. In every région and year the QPV lines hold 20-28 % of the euros. Equipment subsidies are few
  (about 5 % of lines) and large (20,000 to 800,000 EUR), operating ones many and small (500 to 30,000 EUR).
  Amounts are written the French way, `12 500,00` (no-break space or space), and sometimes without the trailing
  zeros (`850,5`, `1500`); `type_subvention` is mostly `Équipement` / `Fonctionnement`, with some `EQUIPEMENT`,
  `Equipement`, `fonctionnement ` and the like;
- licences, one file per year: INJEP's real layout `lic-data-<YYYY>.csv` (one row per commune x QPV x federation, a
  column per sex and age band, `NR - Non réparti` rows; `generate_licences`' default), or the platform's own
  `ANS_LICENCES_QPV_<YYYY>.csv`, UTF-8, `;`, one line per QPV in force and sex. Until 2021 (CNDS-era
  extraction) the sex is written `Femmes` / `Hommes` and counts of 1,000 or more take a space as thousands
  separator (`1 204`); from 2022 the sex is `F` / `H` and the separator a no-break space. Between 4 and 15 % of a
  QPV's residents hold a licence, women about 35-40 % of them; the national level dips in 2020-2021 (Covid).

QPV in force: 2015 geography before 2024, 2024 geography from 2025, and during 2024 the 2024 QPV in metropolitan
France and the 2015 ones overseas (generators.france_travail). A neighbourhood keeps its size and licence rate
across years and geographies (same main commune and name, `qpv_key`). Every draw comes from `random.Random`
seeded with the seed and what is drawn (`seeded_rng`), so a file does not depend on the other years asked for: same
inputs, same bytes. With `broken=True`, defective copies of the last year's files are written too (see
`generate_subventions` and `generate_licences`).

The licence census still places licence holders in part of the QPV in veille active (the 2015 QPV that left the
geography, read from the correspondence): from the year a neighbourhood left, about half of them
(`VEILLE_REPORTED_SHARE`) keep their two lines under their 2015 code, after the QPV in force, with the neighbourhood's
usual size; in about one in five of them (`VEILLE_SMALL_SHARE`) the census places only 6 to 30 licences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from etl.referentiels.territories import load_departements
from etl.samples.generators.files import seeded_rng, write_csv
from etl.samples.generators.france_travail import TRANSITION, geography_of_month, is_overseas, qpv_key, read_geography
from etl.samples.generators.territories import (
    OVERSEAS_COMMUNES,
    QPV_2015_FILE,
    QPV_2024_FILE,
    allocate,
    commune_name,
    de_place,
    luhn_key,
    read_veille,
)
from etl.sources.ans import LICENCE_COLUMNS, SUBVENTION_COLUMNS

SUBVENTIONS_ENCODING = "cp1252"
LICENCES_ENCODING = "utf-8"
FIRST_YEAR, LAST_YEAR = 2014, 2030
FIRST_SHORT_SEX_YEAR = 2022  # from 2022 the licence files write F / H, before Femmes / Hommes
# INJEP's layout: two federations per QPV row, the age bands of lic-data-<YYYY>.csv (REAL-FORMATS: 1 à 4 ans ...).
INJEP_FEDERATIONS = (("111", "FF de football"), ("117", "FF de judo-jujitsu"))
INJEP_AGES = (
    "1 à 4 ans",
    "5 à 9 ans",
    "10 à 14 ans",
    "15 à 19 ans",
    "20 à 29 ans",
    "30 à 44 ans",
    "45 à 59 ans",
    "60 à 74 ans",
    "75 à 79 ans",
    "80 à 99 ans",
)
SEX_WORDS = {"F": "Femmes", "H": "Hommes"}
VEILLE_REPORTED_SHARE = 0.5  # veille-active QPV the licence census still reports under their 2015 code
VEILLE_SMALL_SHARE = 0.2  # of those, neighbourhoods where it places only a few licences (6 to 30)

SUBSIDY_LINES = (3600, 5400)  # lines per year
EQUIPMENT_SHARE = 0.05  # share of lines that are equipment subsidies
EQUIPMENT_RANGE = (20_000, 800_000)
OPERATING_RANGE = (500, 30_000)
QPV_EURO_SHARE = (0.20, 0.28)  # share of a région's euros in QPV lines, drawn per région and year
QPV_SIZE_BIAS = 0.3  # larger lines are likelier to be in a QPV
EXTRA_COMMUNES = (3, 8)  # other communes of a département, with no QPV, whose clubs get subsidies

TYPE_SPELLINGS = {
    "equipement": (("Équipement", 88), ("EQUIPEMENT", 5), ("Equipement", 5), ("équipement", 2)),
    "fonctionnement": (("Fonctionnement", 88), ("FONCTIONNEMENT", 5), ("fonctionnement ", 4), ("Fonctionnement ", 3)),
}

# National level of licences (season starting in the year), 2019 = 1: the Covid dip and the rebound.
LICENCE_INDEX = {
    2014: 0.97, 2015: 0.975, 2016: 0.98, 2017: 0.985, 2018: 0.995, 2019: 1.0, 2020: 0.93, 2021: 0.87,
    2022: 0.98, 2023: 1.02, 2024: 1.04, 2025: 1.05,
}  # fmt: skip

_SPORTS = (
    "Football", "Basket", "Handball", "Judo", "Tennis", "Rugby", "Boxe", "Athlétisme", "Natation", "Escrime",
    "Gymnastique", "Karaté", "Taekwondo", "Badminton", "Tennis de table", "Volley-ball", "Cyclisme", "Lutte",
    "Aïkido", "Escalade", "Pétanque", "Danse", "Haltérophilie", "Roller",
)  # fmt: skip
_CLUB_FORMS = (
    "Association sportive {de}", "Union sportive {de}", "Étoile sportive {de}", "Olympique {de}",
    "{sport} club {de}", "{sport} club {de}", "{sport} club {de}", "Club omnisports {de}", "Amicale laïque {de}",
    "Cercle sportif {de}", "Entente sportive {de}", "Jeunesse sportive {de}", "Office municipal des sports {de}",
    "Stade {lieu}", "Association Gymnastique volontaire {de}", "{sport} {lieu}",
)  # fmt: skip
# Names with a quote or a `;`, which the producer's export puts inside quotes.
_QUOTED_FORMS = (
    'Association "Sport pour tous" {de}', 'Club "Les Aiglons" {de}', "Boxe & citoyenneté ; {lieu}",
    'Association "Bouge ton quartier" ; {lieu}', "{sport} ; section jeunes {de}", 'Les "Léopards" {de}',
)  # fmt: skip
_COMMITTEE_FORMS = (
    "Comité départemental {de_sport} - {departement}",
    "Comité départemental olympique et sportif - {departement}",
)


@dataclass(frozen=True)
class Beneficiaire:
    nom: str
    siret: str
    kind: str  # club, comite, commune, epci


@dataclass
class Ligne:
    departement: str
    region: str
    equipement: bool
    montant: float
    qpv: dict | None = None


# --- years and geographies -----------------------------------------------------------------------------------------


def _check_year(year: int | str) -> int:
    text = str(year)
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise ValueError(f"year {year!r} is not a year YYYY between {FIRST_YEAR} and {LAST_YEAR}")
    return int(text)


def _lists(territories_dir: Path) -> dict[str, list[dict]]:
    """The QPV of each geography in force (2015, 2024 and the 2024 transition), sorted by code."""
    lists = {
        "2015": read_geography(Path(territories_dir) / QPV_2015_FILE),
        "2024": read_geography(Path(territories_dir) / QPV_2024_FILE),
    }
    lists[TRANSITION] = [q for q in lists["2024"] if not is_overseas(q)] + [q for q in lists["2015"] if is_overseas(q)]
    return {name: sorted(qpvs, key=lambda q: q["code"]) for name, qpvs in lists.items()}


def _in_force(lists: dict[str, list[dict]], year: int) -> list[dict]:
    """The QPV in force in the year, placed by its first day."""
    return lists[geography_of_month(f"{year}-01")]


@dataclass(frozen=True)
class Profile:
    population: float
    rate: float  # share of residents holding a licence, before the national level
    women: float  # women's share of the licences


def _profile(seed: int, qpv: dict) -> Profile:
    """A neighbourhood's size and sport habits: the same in both geographies (same main commune and name)."""
    rng = seeded_rng(seed, "ans-qpv", qpv_key(qpv))
    population = 1000 * 30 ** (rng.random() ** 1.5)  # 1,000 to 30,000 residents, median about 3,300
    if qpv["code"].startswith("QN") and qpv["code"].endswith("M"):  # perimeter modified in 2024
        population *= seeded_rng(seed, "ans-perimeter", qpv["code"]).uniform(0.85, 1.2)
    return Profile(population, rng.uniform(0.048, 0.135), rng.uniform(0.355, 0.395))


# --- subsidies -----------------------------------------------------------------------------------------------------


def _siret(siren_body: str, rng) -> str:
    """A Luhn-valid SIREN from its first 8 digits, then a Luhn-valid 14-digit SIRET (establishment number)."""
    siren = siren_body + luhn_key(siren_body)
    nic = f"{rng.randrange(1, 100) * 10 if rng.random() < 0.7 else rng.randrange(1, 3000):04d}"
    return siren + nic + luhn_key(siren + nic)


def _commune_siren_body(commune: str) -> str:
    """The first 8 digits of a commune's SIREN: 21, the département on 3 characters, the commune on 3 digits."""
    if commune.startswith("97"):
        return f"21{commune[:3]}{int(commune[3:]):03d}"
    departement = commune[:2].replace("2A", "20").replace("2B", "20")
    return f"21{departement}0{commune[2:]}"


def _club_name(rng, commune_label: str, sport: str) -> str:
    forms = _QUOTED_FORMS if rng.random() < 0.04 else _CLUB_FORMS
    return rng.choice(forms).format(de=de_place(commune_label), lieu=commune_label, sport=sport)


def _beneficiaires(seed: int, commune: str, label: str, epcis: list[tuple[str, str]]) -> list[Beneficiaire]:
    """The beneficiaries of a commune, the same every year: clubs, the commune itself and its EPCI."""
    rng = seeded_rng(seed, "ans-beneficiaires", commune)
    town = f"{rng.choice(('Commune', 'Ville', 'Mairie'))} {de_place(label)}"
    out = [Beneficiaire(town, _siret(_commune_siren_body(commune), rng), "commune")]
    for siren, name in epcis:
        nic = f"{rng.randrange(1, 50) * 10:04d}"
        out.append(Beneficiaire(name, siren + nic + luhn_key(siren + nic), "epci"))
    names = {b.nom for b in out}
    for _ in range(rng.randrange(4, 15)):
        name = _club_name(rng, label, rng.choice(_SPORTS))
        while name in names:
            name = _club_name(rng, label, rng.choice(_SPORTS))
        names.add(name)
        body = rng.choice("34578") + f"{rng.randrange(10**7):07d}"
        out.append(Beneficiaire(name, _siret(body, rng), "club"))
    return out


@dataclass
class Departement:
    code: str
    nom: str
    region: str
    communes: list[str]  # communes with a QPV in either geography, then the others, each once
    weights: list[float]  # how often a line outside QPV goes to each commune
    beneficiaires: dict[str, list[Beneficiaire]]
    comites: list[Beneficiaire]


def _extra_communes(seed: int, departement: str, taken: set[str]) -> list[str]:
    """A few commune codes of the département with no QPV: DDxxx, 2Axxx, and 97Xxx overseas."""
    rng = seeded_rng(seed, "ans-communes", departement)
    if departement in OVERSEAS_COMMUNES:
        codes = [f"{departement}{n:02d}" for n in range(1, OVERSEAS_COMMUNES[departement][0] + 1)]
    else:
        codes = [f"{departement}{n:03d}" for n in range(1, 900)]
    free = [code for code in codes if code not in taken]
    return sorted(rng.sample(free, min(rng.randrange(*EXTRA_COMMUNES), len(free))))


def _departements(seed: int, lists: dict[str, list[dict]]) -> dict[str, Departement]:
    """Every département with its communes and their beneficiaries (stable across years)."""
    labels: dict[str, dict[str, str]] = {}
    epcis: dict[str, list[tuple[str, str]]] = {}
    for name in ("2015", "2024"):
        for qpv in lists[name]:
            for rank, (commune, label) in enumerate(qpv["communes"]):
                labels.setdefault(qpv["departement"], {}).setdefault(commune, label)
                epci = qpv["epcis"][min(rank, len(qpv["epcis"]) - 1)]
                epcis.setdefault(commune, [epci])
    out = {}
    for row in load_departements().to_dict("records"):
        code = row["code"]
        qpv_communes = sorted(labels.get(code, {}))
        extra = _extra_communes(seed, code, set(qpv_communes))
        rng = seeded_rng(seed, "ans-commune-names", code)
        names = dict(labels.get(code, {})) | {commune: commune_name(rng, code) for commune in extra}
        beneficiaires = {
            commune: _beneficiaires(seed, commune, names[commune], epcis.get(commune, []))
            for commune in [*qpv_communes, *extra]
        }
        comites = []
        for rank, sport in enumerate(rng.sample(_SPORTS, 6)):
            form = _COMMITTEE_FORMS[1] if rank == 0 else _COMMITTEE_FORMS[0]
            de_sport = ("d'" if sport[0] in "AEIOUYÉ" else "de ") + sport.lower()
            nom = form.format(de_sport=de_sport, departement=row["nom"])
            comites.append(
                Beneficiaire(nom, _siret(rng.choice("34578") + f"{rng.randrange(10**7):07d}", rng), "comite")
            )
        out[code] = Departement(
            code,
            row["nom"],
            row["code_region"],
            [*qpv_communes, *extra],
            [3.0] * len(qpv_communes) + [1.0] * len(extra),
            beneficiaires,
            comites,
        )
    return out


def _amount(rng, equipement: bool) -> float:
    """An equipment subsidy (20,000 to 800,000 EUR, rounded to 100 or to the euro) or an operating one (500 to
    30,000 EUR, mostly round, a few with cents)."""
    if equipement:
        low, high = EQUIPMENT_RANGE
        value = low * (high / low) ** (rng.random() ** 1.4)
        return float(round(value, -2) if rng.random() < 0.7 else round(value))
    low, high = OPERATING_RANGE
    value = low * (high / low) ** (rng.random() ** 1.6)
    draw = rng.random()
    if draw < 0.7:
        return float(min(max(round(value / 50) * 50, low), high))
    if draw < 0.9:
        return float(round(value))
    return round(math.floor(value) + rng.choice((0.5, 0.25, 0.8, 0.33, 0.1)), 2)


def _montant(rng, amount: float) -> str:
    """The producer's French amounts: `12 500,00` (no-break space or space), or without trailing zeros."""
    euros, cents = divmod(round(amount * 100), 100)
    draw = rng.random()
    if draw < 0.15:  # a cell a spreadsheet reformatted: 1500, 850,5
        short = f"{cents:02d}".rstrip("0")
        return f"{euros}" + (f",{short}" if short else "")
    separator = "\u00a0" if draw < 0.75 else " "
    return f"{euros:,}".replace(",", separator) + f",{cents:02d}"


def _qpv_weight(ligne: Ligne, by_departement: dict[str, list[dict]]) -> float:
    """How likely a line is to take place in a QPV: more in départements with many QPV, and for larger amounts
    (equipment for a neighbourhood, city-wide clubs)."""
    return math.sqrt(len(by_departement[ligne.departement])) * (ligne.montant / OPERATING_RANGE[0]) ** QPV_SIZE_BIAS


def _subsidy_lines(seed: int, year: int, qpvs: list[dict], departements: dict[str, Departement]) -> list[list[str]]:
    """The lines of a year's subsidy file, in `numero_dossier` order."""
    rng = seeded_rng(seed, "ans-subventions", year)
    by_departement: dict[str, list[dict]] = {}
    for qpv in qpvs:
        by_departement.setdefault(qpv["departement"], []).append(qpv)
    total = rng.randrange(*SUBSIDY_LINES)
    counts = allocate({code: 8 + len(by_departement.get(code, [])) for code in sorted(departements)}, total)

    lignes: list[Ligne] = []
    for code in sorted(departements):
        for _ in range(counts[code]):
            equipement = rng.random() < EQUIPMENT_SHARE
            lignes.append(Ligne(code, departements[code].region, equipement, _amount(rng, equipement)))

    # Which lines take place in a QPV: in each région, lines drawn in a random order that favours the départements
    # with many QPV, as long as the QPV euros stay under the région's target share.
    population = {qpv["code"]: _profile(seed, qpv).population for qpv in qpvs}
    by_region: dict[str, list[Ligne]] = {}
    for ligne in lignes:
        by_region.setdefault(ligne.region, []).append(ligne)
    for region in sorted(by_region):
        members = by_region[region]
        order = seeded_rng(seed, "ans-qpv-order", year, region)
        target = order.uniform(*QPV_EURO_SHARE) * sum(ligne.montant for ligne in members)
        keys = [order.random() ** (1 / _qpv_weight(ligne, by_departement)) for ligne in members]
        placed = 0.0
        for _, ligne in sorted(zip(keys, range(len(members)), strict=True), reverse=True):
            ligne = members[ligne]
            if placed + ligne.montant <= target:
                pool = by_departement[ligne.departement]
                weights = [population[qpv["code"]] for qpv in pool]
                ligne.qpv = order.choices(pool, weights=weights)[0]
                placed += ligne.montant

    # numero_dossier in a shuffled order, with gaps (files withdrawn or refused)
    rng.shuffle(lignes)
    numero = rng.randrange(1, 200)
    rows = []
    for ligne in lignes:
        departement = departements[ligne.departement]
        if ligne.qpv is not None:
            commune = ligne.qpv["communes"][0][0]
        else:
            commune = rng.choices(departement.communes, weights=departement.weights)[0]
        candidates = departement.beneficiaires[commune]
        if ligne.equipement:
            public = [b for b in candidates if b.kind in ("commune", "epci")]
            clubs = [b for b in candidates if b.kind == "club"]
            beneficiaire = rng.choice(public if rng.random() < 0.7 else clubs)
        elif rng.random() < 0.06:
            beneficiaire = rng.choice(departement.comites)
        else:
            beneficiaire = rng.choice([b for b in candidates if b.kind == "club"])
        kind = "equipement" if ligne.equipement else "fonctionnement"
        spellings, weights = zip(*TYPE_SPELLINGS[kind], strict=True)
        rows.append(
            [
                str(year),
                f"{year}-{numero:06d}",
                beneficiaire.nom,
                beneficiaire.siret,
                commune.lstrip("0"),  # the export went through a spreadsheet: 01053 -> 1053
                ligne.qpv["code"] if ligne.qpv is not None else "",
                _montant(rng, ligne.montant),
                rng.choices(spellings, weights=weights)[0],
            ]
        )
        numero += rng.choice((1, 1, 1, 2, 3))
    return rows


def _unknown_qpv(code: str, known: set[str]) -> str:
    """A QPV-shaped code in the same département that exists in neither geography."""
    prefix = code[:5]
    numbers = range(99, 0, -1)
    candidates = (
        [f"{prefix}{n:02d}N" for n in numbers] if code.startswith("QN") else [f"{prefix}{n + 900:03d}" for n in numbers]
    )
    return next(candidate for candidate in candidates if candidate not in known)


def _break_subsidies(rows: list[list[str]], year: int, seed: int, known: set[str]) -> list[list[str]]:
    """Copy of the lines with four defects on four lines: a negative amount, a type `investissement`, a QPV code
    that exists in neither geography, and a `numero_dossier` repeated from the line before."""
    rng = seeded_rng(seed, "ans-broken-subventions", year)
    rows = [list(row) for row in rows]
    montant, kind, qpv, numero = (
        SUBVENTION_COLUMNS.index(c) for c in ("montant", "type_subvention", "code_qpv", "numero_dossier")
    )
    in_qpv = [index for index, row in enumerate(rows) if row[qpv]]
    outside = [index for index, row in enumerate(rows) if not row[qpv] and index > 0]
    unknown = rng.choice(in_qpv)
    negative, investment, duplicate = rng.sample([i for i in outside if abs(i - unknown) > 1], 3)
    while {duplicate - 1, duplicate} & {unknown, negative, investment}:
        duplicate = rng.choice([i for i in outside if abs(i - unknown) > 1 and i not in (negative, investment)])
    rows[unknown][qpv] = _unknown_qpv(rows[unknown][qpv], known)
    rows[negative][montant] = "-" + rows[negative][montant]
    rows[investment][kind] = "investissement"
    rows[duplicate][numero] = rows[duplicate - 1][numero]
    return rows


def subventions_file_name(year: int) -> str:
    return f"ANS_SUBVENTIONS_{_check_year(year)}.csv"


def generate_subventions(
    out_dir: Path, territories_dir: Path, years: list[int], seed: int = 2024, broken: bool = False
) -> list[Path]:
    """Write one `ANS_SUBVENTIONS_<YYYY>.csv` per year into `out_dir` (Windows-1252); returns the paths, sorted.

    With `broken`, also `ANS_SUBVENTIONS_<YYYY>_broken.csv` for the last year: the same lines with four defects
    that pass gate 1 and that the rows gate (`ans_subventions.rows`) must block, each on its own line: a negative
    `montant` (between 0 and 10 M), a `type_subvention` `investissement` (equipement / fonctionnement), a
    QPV-shaped `code_qpv` that exists in neither geography (`qpv_codes`) and a `numero_dossier` repeated from the
    line before (unique)."""
    years = sorted({_check_year(year) for year in years})
    lists = _lists(territories_dir)
    departements = _departements(seed, lists)
    known = {qpv["code"] for name in ("2015", "2024") for qpv in lists[name]}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for year in years:
        rows = _subsidy_lines(seed, year, _in_force(lists, year), departements)
        name = subventions_file_name(year)
        paths.append(write_csv(out_dir / name, SUBVENTION_COLUMNS, rows, SUBVENTIONS_ENCODING))
        if broken and year == years[-1]:
            broken_rows = _break_subsidies(rows, year, seed, known)
            paths.append(
                write_csv(
                    out_dir / name.replace(".csv", "_broken.csv"), SUBVENTION_COLUMNS, broken_rows, SUBVENTIONS_ENCODING
                )
            )
    return sorted(paths)


# --- licences ------------------------------------------------------------------------------------------------------


def _licence_index(year: int) -> float:
    return LICENCE_INDEX[min(max(year, min(LICENCE_INDEX)), max(LICENCE_INDEX))]


def _count(value: int, separator: str) -> str:
    return f"{value:,}".replace(",", separator)


def _veille(seed: int, territories_dir: Path, lists: dict[str, list[dict]], year: int) -> list[dict]:
    """The veille-active QPV that the licence census reports in `year` under their 2015 code: those no longer in
    force."""
    veille = read_veille(territories_dir) - {qpv["code"] for qpv in _in_force(lists, year)}
    return [
        qpv
        for qpv in lists["2015"]
        if qpv["code"] in veille and seeded_rng(seed, "ans-veille", qpv["code"]).random() < VEILLE_REPORTED_SHARE
    ]


def _licence_lines(seed: int, year: int, qpvs: list[dict], veille: bool = False) -> list[list[str]]:
    """Two lines per QPV (women, then men), in the order given; `veille`: the QPV are veille-active ones, a few of
    which hold only 6 to 30 licences."""
    separator = " " if year < FIRST_SHORT_SEX_YEAR else "\u00a0"
    rows = []
    for qpv in qpvs:
        profile = _profile(seed, qpv)
        rng = seeded_rng(seed, "ans-licences", year, qpv_key(qpv))
        total = profile.population * profile.rate * _licence_index(year) * rng.uniform(0.98, 1.02)
        small = seeded_rng(seed, "ans-veille-small", qpv["code"])
        if veille and small.random() < VEILLE_SMALL_SHARE:
            total = small.uniform(6, 30) * rng.uniform(0.9, 1.1)
        women = round(total * (profile.women + rng.uniform(-0.005, 0.005)))
        men = round(total) - women
        for sex, count in (("F", women), ("H", men)):
            written = sex if year >= FIRST_SHORT_SEX_YEAR else SEX_WORDS[sex]
            rows.append([str(year), qpv["code"], qpv["label"], written, _count(count, separator)])
    return rows


def _break_licences(rows: list[list[str]], year: int, seed: int) -> list[list[str]]:
    """Copy of the lines with a licence count written `s` and a QPV x sex line sent twice (with another count)."""
    rng = seeded_rng(seed, "ans-broken-licences", year)
    rows = [list(row) for row in rows]
    masked, repeated = rng.sample(range(len(rows)), 2)
    rows[masked][4] = "s"
    copy = list(rows[repeated])
    copy[4] = _count(int(copy[4].replace(" ", "").replace("\u00a0", "")) + rng.randrange(1, 20), " ")
    rows.insert(repeated + 1, copy)
    return rows


def licences_file_name(year: int, layout: str = "plateforme") -> str:
    """The file's name: INJEP's `lic-data-<YYYY>.csv`, or the platform's `ANS_LICENCES_QPV_<YYYY>.csv`."""
    year = _check_year(year)
    return f"lic-data-{year}.csv" if layout == "injep" else f"ANS_LICENCES_QPV_{year}.csv"


def _split(total: int, weights: list[float]) -> list[int]:
    """`total` split in whole parts proportional to `weights` (largest remainders), summing to `total` exactly."""
    shares = [total * weight / sum(weights) for weight in weights]
    parts = [math.floor(share) for share in shares]
    for index in sorted(range(len(shares)), key=lambda i: parts[i] - shares[i])[: total - sum(parts)]:
        parts[index] += 1
    return parts


def _injep_rows(seed: int, year: int, lines: list[list[str]], qpvs: dict[str, dict]) -> list[list[str]]:
    """INJEP's rows for the per-QPV counts of `lines` (women, then men, as `_licence_lines` writes them): per QPV,
    one row per federation on its main commune (unpadded code), each sex's licences spread over the age bands and
    `NR`, `NR - NR` for the licences without a sex, and `Total`; then one `NR - Non réparti` row per federation."""
    rows = []
    counts: dict[str, dict[str, int]] = {}
    for _, code, _, sex, written in lines:
        counts.setdefault(code, {})[sex[0]] = int(written.replace(" ", "").replace("\u00a0", ""))
    for code, by_sex in counts.items():
        qpv = qpvs[code]
        rng = seeded_rng(seed, "injep", year, code)
        commune = qpv["communes"][0][0]
        share = rng.uniform(0.45, 0.7)
        for rank, (federation_code, federation) in enumerate(INJEP_FEDERATIONS):
            cells = [commune.lstrip("0"), qpv["communes"][0][1], code, qpv["label"], qpv["departement_label"]]
            cells += [qpv["region_label"], "QPV", federation_code, federation]
            total = 0
            for sex in ("F", "H"):
                whole = round(by_sex[sex] * share) if rank == 0 else by_sex[sex] - round(by_sex[sex] * share)
                weights = [rng.uniform(0.5, 1.5) for _ in INJEP_AGES] + [0.05]
                parts = _split(whole, weights)
                cells += [str(part) for part in parts]
                total += whole
            unknown = rng.randrange(0, 3)
            rows.append([*cells, str(unknown), str(total + unknown)])
    for federation_code, federation in INJEP_FEDERATIONS:
        rng = seeded_rng(seed, "injep-nr", year, federation_code)
        parts = [str(rng.randrange(0, 40)) for _ in range(2 * len(INJEP_AGES) + 3)]
        total = sum(int(part) for part in parts)
        rows.append(["NR - Non réparti", "", "NR", "", "", "", "", federation_code, federation, *parts, str(total)])
    return rows


def _injep_header() -> list[str]:
    header = ["Code Commune", "Commune", "Code QPV", "Nom QPV", "Département", "Région", "Statut géo", "Code"]
    header.append("Fédération")
    for sex in ("F", "H"):
        header += [f"{sex} - {age}" for age in INJEP_AGES] + [f"{sex} - NR"]
    return [*header, "NR - NR", "Total"]


def generate_licences(
    out_dir: Path,
    territories_dir: Path,
    years: list[int],
    seed: int = 2024,
    broken: bool = False,
    layout: str = "injep",
) -> list[Path]:
    """Write one licence file per year into `out_dir` (UTF-8); returns the paths, sorted.

    `layout` `injep` (the default, INJEP's real layout): `lic-data-<YYYY>.csv`, one row per commune x QPV x federation
    with a column per sex and age band (`_injep_rows`), whose women and men per QPV are the platform layout's figures;
    `plateforme`: `ANS_LICENCES_QPV_<YYYY>.csv`, one line per QPV and sex. With `broken`, also a `_broken` copy of the
    last year: INJEP's with one age-band cell written `s` (the QPV's licences are then not a count: file gate);
    the platform's with a `licences` cell written `s` (file gate: `licences` is a count; rows gate: status `invalid`)
    and a QPV x sex line repeated right after itself with another count (rows gate: the figure key is unique)."""
    if layout not in ("injep", "plateforme"):
        raise ValueError(f"layout must be 'injep' or 'plateforme', not {layout!r}")
    years = sorted({_check_year(year) for year in years})
    lists = _lists(territories_dir)
    qpvs = {qpv["code"]: qpv for geography in ("2015", "2024") for qpv in lists[geography]}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for year in years:
        rows = _licence_lines(seed, year, _in_force(lists, year))
        veille = _licence_lines(seed, year, _veille(seed, territories_dir, lists, year), veille=True)
        name = licences_file_name(year, layout)
        last = broken and year == years[-1]
        if layout == "injep":
            injep = _injep_rows(seed, year, rows + veille, qpvs)
            paths.append(write_csv(out_dir / name, _injep_header(), injep, LICENCES_ENCODING))
            if last:
                injep[len(injep) // 2][10] = "s"
                paths.append(write_csv(out_dir / name.replace(".csv", "_broken.csv"), _injep_header(), injep))
            continue
        paths.append(write_csv(out_dir / name, LICENCE_COLUMNS, rows + veille, LICENCES_ENCODING))
        if last:
            broken_path = out_dir / name.replace(".csv", "_broken.csv")
            broken_rows = _break_licences(rows, year, seed) + veille
            paths.append(write_csv(broken_path, LICENCE_COLUMNS, broken_rows, LICENCES_ENCODING))
    return sorted(paths)
