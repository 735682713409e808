"""Sample QPV referential in the ANCT list format: the 2015 and 2024 geographies and their correspondence.

This module owns the synthetic territory referential that every other sample generator builds on. From the
régions and départements of `catalogue/`, it draws communes (real-shaped INSEE codes, French-looking names), EPCI
(9-digit SIREN with a valid Luhn key) and QPV, and writes four files (`;`, one header line, `\\n`):

- `qpv_2015.csv`: the 1,514 QPV of the 2015-2023 geography (QP075001, QP02A001, QP971001), in the layout of ANCT's
  2024 list (the 2015 list's own layout, the perimeters' attribute table with commune names, is not read here);
- `qpv_2024.csv`: the 1,584 QPV of the 2024 geography (QN07501M, QN02A01I, QN97450N) in ANCT's real layout of
  listeqp2024-cog2024.csv: BOM, 13 empty trailing columns, an all-empty last line, unpadded one-digit codes, and
  some commune cells as Excel text literals (`="01053"`, `="13055;13070"`);
- `liste-correspondance-qp2024-qp2015.csv`: ANCT's real correspondence, one row per 2024 QPV with its 2015
  predecessors (the ones that left the geography, veille active, are in no row): the file the demo loads;
- `qpv_correspondance_2015_2024.csv`: the same in the platform's long layout, for each 2015 QPV its 2024 successor
  and the type of change (`identique`, `modifie`, or `sortant`), which the other generators and the tests read.

QPV counts per département follow a realistic urban weight (Nord, Bouches-du-Rhône, Seine-Saint-Denis and La
Réunion have many; rural départements one to three; every département at least one). About 150 QPV span two or
three communes (and then one or two EPCI): their `insee_com`, `lib_com` and, across two EPCI, `siren_epci` and
`lib_epci` cells hold the values joined by `"; "`. As in the real export, single-commune rows lose the leading zero
of their commune code (`01053` is written `1053`). Output depends only on the seed: same seed, same bytes.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from etl.referentiels.territories import (
    CORRESPONDANCE_COLUMNS,
    EVOLUTION_LETTER,
    MULTI_VALUE_SEPARATOR,
    QPV_COLUMNS,
    departement_code3,
    load_departements,
    load_regions,
)
from etl.samples.generators.files import write_csv

QPV_2015_COUNT = 1514
SORTANT_COUNT = 190
NOUVEAU_COUNT = 260  # 1,514 - 190 + 260 = 1,584 QPV in the 2024 geography
MULTI_COMMUNE_2015_COUNT = 150
IDENTIQUE_SHARE = 0.35  # share of continuing QPV whose perimeter did not change (letter I); the others are M

QPV_2015_FILE = "qpv_2015.csv"
QPV_2024_FILE = "qpv_2024.csv"
CORRESPONDANCE_FILE = "qpv_correspondance_2015_2024.csv"  # the platform's long layout (the generator's own record)
CORRESPONDANCE_WIDE_FILE = "liste-correspondance-qp2024-qp2015.csv"  # ANCT's real layout, the one the demo loads
CORRESPONDANCE_WIDE_COLUMNS = (
    "QP2024", "Label_QP2024", "Statut", "QP2015_1", "Label_QP2015_1", "QP2015_2", "Label_QP2015_2", "QP2015_3",
    "Label_QP2015_3",
)  # fmt: skip
ANCT_EMPTY_COLUMNS = 13  # empty columns after lib_epci in ANCT's listeqp2024-cog2024.csv
LITERAL_EVERY = 7  # one QPV in seven has its commune codes as an Excel text literal ="01053" in the 2024 list

# Urban weight of each département: close to its number of QPV in the 2015 geography. The counts are scaled to
# QPV_2015_COUNT, every département keeping at least one QPV.
URBAN_WEIGHT = {
    "01": 10, "02": 21, "03": 10, "04": 3, "05": 2, "06": 16, "07": 5, "08": 14, "09": 2, "10": 12,
    "11": 14, "12": 3, "13": 62, "14": 14, "15": 2, "16": 10, "17": 12, "18": 10, "19": 5, "2A": 3,
    "2B": 3, "21": 10, "22": 6, "23": 1, "24": 6, "25": 15, "26": 16, "27": 14, "28": 10, "29": 10,
    "30": 34, "31": 25, "32": 2, "33": 28, "34": 26, "35": 10, "36": 6, "37": 10, "38": 20, "39": 4,
    "40": 4, "41": 8, "42": 20, "43": 3, "44": 23, "45": 17, "46": 2, "47": 10, "48": 1, "49": 16,
    "50": 7, "51": 19, "52": 6, "53": 4, "54": 21, "55": 3, "56": 8, "57": 37, "58": 7, "59": 70,
    "60": 26, "61": 7, "62": 44, "63": 11, "64": 8, "65": 4, "66": 13, "67": 19, "68": 18, "69": 38,
    "70": 5, "71": 12, "72": 13, "73": 5, "74": 7, "75": 20, "76": 35, "77": 28, "78": 27, "79": 5,
    "80": 16, "81": 10, "82": 6, "83": 21, "84": 23, "85": 4, "86": 9, "87": 9, "88": 10, "89": 10,
    "90": 6, "91": 39, "92": 27, "93": 64, "94": 42, "95": 41, "971": 30, "972": 30, "973": 32, "974": 50,
    "976": 36,
}  # fmt: skip

# Overseas départements: commune numbers run from 01 to this bound (97401-97424 in La Réunion), and the number of
# communes is capped by the real count.
OVERSEAS_COMMUNES = {"971": (34, 32), "972": (34, 34), "973": (62, 22), "974": (24, 24), "976": (17, 17)}

# Paris and the petite couronne all belong to the Métropole du Grand Paris (its real SIREN).
GRAND_PARIS = ("200054781", "Métropole du Grand Paris")
GRAND_PARIS_DEPARTEMENTS = ("75", "92", "93", "94")

# --- words --------------------------------------------------------------------------------------------------------

_STEM_STARTS = (
    "Beau", "Bel", "Mont", "Ville", "Roche", "Fonte", "Cler", "Char", "Mar", "Ver", "Sau", "Bri", "Cham", "Gour",
    "Lan", "Mor", "Pon", "Ro", "Sar", "Tor", "Vil", "Au", "Bra", "Cour", "Dam", "Es", "Fla", "Gri", "La", "Mé",
    "Nan", "Or", "Per", "Quin", "Ri", "Tré", "Val", "Bon", "Cha", "Fon", "Gen", "Lor", "Mau", "Sen", "Vau",
)  # fmt: skip
_STEM_ENDS = (
    "mont", "ville", "court", "fort", "lieu", "bourg", "champ", "nay", "igny", "euil", "ans", "ac", "on", "ières",
    "ay", "eux", "ange", "elles", "ois", "ard", "ennes", "ouse", "in", "val", "ry", "anges", "ac", "ecourt",
)  # fmt: skip
_RIVERS = (
    "Seine", "Loire", "Marne", "Oise", "Orge", "Saône", "Rhône", "Garonne", "Meuse", "Moselle", "Aisne", "Vienne",
    "Sambre", "Lot", "Tarn", "Yonne", "Cher", "Allier", "Dordogne", "Isère", "Durance", "Sarthe", "Mayenne", "Eure",
    "Somme", "Escaut", "Lys", "Scarpe", "Ill", "Doubs", "Vilaine", "Charente", "Dore", "Aude", "Hérault", "Deûle",
)  # fmt: skip
_PAYS = ("Brie", "Bresse", "Vexin", "Auge", "Caux", "Forez", "Artois", "Velay", "Argonne", "Beauce", "Gâtinais")
_SAINTS = (
    "Martin", "Denis", "Étienne", "Priest", "Germain", "Laurent", "Pierre", "Jean", "Ouen", "Maur", "Quentin",
    "Nazaire", "Médard", "Herblain", "Brieuc", "Dizier", "Avold", "Chamond", "Fons", "Gratien", "Michel", "André",
    "Paul", "Louis", "Benoît", "Joseph", "Pol", "Omer", "Amand", "Cyr", "Genis", "Rambert", "Jacques",
)  # fmt: skip
_SAINTES = ("Geneviève", "Marie", "Anne", "Foy", "Luce", "Suzanne", "Rose", "Savine", "Marguerite", "Clotilde")
_QUALIFIERS = (
    "-le-Grand", "-le-Château", "-la-Forêt", "-la-Garenne", "-la-Rivière", "-les-Bains", "-les-Mines",
    "-les-Vignes", "-le-Vieux", "-la-Vallée",
)  # fmt: skip
_MAYOTTE_STARTS = ("Ma", "Kou", "Ban", "Chi", "Tsi", "Dem", "Bou", "Dzaou", "Pa", "Sa", "Ou", "Acou", "M'Tsa")
_MAYOTTE_ENDS = ("moudzou", "ngou", "dzi", "coni", "rongo", "ani", "ngui", "ela", "mboro", "nzi", "tsingoni")

_QUARTIERS = (
    "Les Tilleuls", "Les Peupliers", "Les Acacias", "Les Marronniers", "Les Cèdres", "Les Érables", "Les Platanes",
    "Les Bleuets", "Les Coquelicots", "Les Glycines", "Les Lilas", "Les Mimosas", "La Source", "La Fontaine",
    "Le Moulin", "Les Moulins", "La Roseraie", "La Garenne", "La Pépinière", "Le Bois Joli", "Les Hauts de Ville",
    "Le Plateau", "La Colline", "Les Coteaux", "Le Vallon", "Les Terrasses", "Les Jardins", "Le Parc", "Les Prés",
    "La Prairie", "Les Sablons", "La Butte", "Les Bruyères", "Les Genêts", "Les Châtaigniers", "La Chênaie",
    "Les Pins", "Beauregard", "Bellevue", "Belle Épine", "Bel Air", "Champ Fleuri", "Mon Repos", "Bon Secours",
    "Centre Ancien", "Centre-Ville", "Cœur de Ville", "Vieille Ville", "Quartier de la Gare", "Le Faubourg",
    "Les Remparts", "La Citadelle", "La Croix Blanche", "La Croix Rouge", "Le Chemin Vert", "Le Port", "Les Quais",
    "Les Forges", "La Cité Jardin", "Les Corons", "Le Grand Ensemble", "Les Tours", "Grand Quartier", "Le Village",
    "La Plaine", "Le Grand Pré", "Les Hautes Rives", "L'Étang", "Saint-Exupéry", "Jean Moulin", "Victor Hugo",
    "Pablo Picasso", "Jules Ferry", "Louis Pasteur", "Paul Éluard", "Jean Jaurès", "Voltaire", "Molière",
    "Jean Macé", "Pierre Curie", "Les Aubépines", "Le Clos", "Les Vergers", "La Ferme", "Les Champs", "Le Mail",
    "Les Hauts", "La Vigne", "Les Cités", "La Madeleine", "Le Bourg", "Les Sorbiers", "Le Pont", "Les Épis",
)  # fmt: skip
_QUARTIERS_OUTRE_MER = (
    "Ravine Blanche", "Rivière des Pluies", "Bas de la Rivière", "Chemin Grenier", "Bois de Nèfles", "Trou d'Eau",
    "Morne Pavillon", "Cité Bergevin", "Boissard", "Anse Figuier", "Terre Sainte", "Ravine des Cabris", "Kawéni",
    "Cavani", "Zone Artisanale", "Mont Baduel", "Village Chinois", "Pointe Jarry", "Carénage", "Volga Plage",
)  # fmt: skip
_DIRECTIONS = ("Nord", "Sud", "Est", "Ouest", "Nord-Est", "Nord-Ouest", "Sud-Est", "Sud-Ouest", "Haut", "Bas")
_PERSONNES = ("Jean Moulin", "Pasteur", "Lamartine", "Descartes", "Rabelais", "Zola", "Condorcet", "Renoir")


# --- model ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Epci:
    siren: str
    nom: str


@dataclass
class Commune:
    code: str
    nom: str
    epci: Epci | None = None


@dataclass
class Departement:
    code: str
    nom: str
    region: str
    region_nom: str
    communes: list[Commune] = field(default_factory=list)


@dataclass
class Qpv:
    departement: Departement
    communes: list[Commune]
    nom: str
    code: str = ""
    letter: str = ""  # 2024 geography: N, M or I


# --- helpers -------------------------------------------------------------------------------------------------------


def luhn_key(digits: str) -> str:
    """The Luhn check digit that makes `digits` + key valid (SIREN numbers carry one)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def _siren(rng: random.Random, used: set[str]) -> str:
    while True:
        # EPCI created since 2010 have SIREN 2000xxxxx; older ones 24xxxxxxx.
        body = f"2000{rng.randrange(10_000):04d}" if rng.random() < 0.6 else f"24{rng.randrange(10**6):06d}"
        siren = body + luhn_key(body)
        if siren not in used and siren != GRAND_PARIS[0]:
            used.add(siren)
            return siren


def de_place(name: str) -> str:
    """French 'of' before a place name: de Sarcelles, d'Orville, du Mée (Le Mée), des Ulis (Les Ulis)."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[0] in "AEIOUYÉÈÊÎÔH":
        return "d'" + name
    return "de " + name


def _stem(rng: random.Random) -> str:
    while True:
        start, end = rng.choice(_STEM_STARTS), rng.choice(_STEM_ENDS)
        if not start.lower().endswith(end) and not end.startswith(start[-1].lower()):
            return start + end


def commune_name(rng: random.Random, departement: str) -> str:
    if departement == "976":
        return rng.choice(_MAYOTTE_STARTS) + rng.choice(_MAYOTTE_ENDS)
    draw = rng.random()
    if draw < 0.38:
        return _stem(rng)
    if draw < 0.53:
        return f"{_stem(rng)}-sur-{rng.choice(_RIVERS)}"
    if draw < 0.64:
        return f"Saint-{rng.choice(_SAINTS)}"
    if draw < 0.68:
        return f"Sainte-{rng.choice(_SAINTES)}"
    if draw < 0.74:
        return f"Saint-{rng.choice(_SAINTS)}-{de_place(_stem(rng)).replace(' ', '-')}"
    if draw < 0.80:
        return f"{_stem(rng)}-en-{rng.choice(_PAYS)}"
    if draw < 0.90:
        return _stem(rng) + rng.choice(_QUALIFIERS)
    if draw < 0.95:
        return f"{rng.choice(('Le', 'La', 'Les'))} {_stem(rng)}"
    return f"Villeneuve-{rng.choice(('sur', 'lès', 'la'))}-{_stem(rng)}"


def _quartier_name(rng: random.Random, overseas: bool) -> str:
    pool = _QUARTIERS_OUTRE_MER if overseas and rng.random() < 0.5 else _QUARTIERS
    draw = rng.random()
    if draw < 0.55:
        return rng.choice(pool)
    if draw < 0.75:
        first, second = rng.sample(pool, 2)
        return f"{first} - {second}"
    if draw < 0.85:
        return f"{rng.choice(pool)} {rng.choice(_DIRECTIONS)}"
    if draw < 0.93:
        return f"Quartier {rng.choice(_DIRECTIONS)}"
    return f"Cité {rng.choice(_PERSONNES)}"


def _unique_quartier(rng: random.Random, communes: list[Commune], used: dict[str, set[str]], overseas: bool) -> str:
    """A QPV name not yet used in any of the QPV's communes (in this geography); records it as used."""
    for attempt in range(200):
        name = _quartier_name(rng, overseas)
        if attempt >= 100:
            name = f"{name} {attempt - 99}"
        if all(name not in used.setdefault(commune.code, set()) for commune in communes):
            for commune in communes:
                used[commune.code].add(name)
            return name
    raise RuntimeError("no free QPV name")  # pragma: no cover - 200 draws always find one


def allocate(weights: dict[str, int], total: int) -> dict[str, int]:
    """Split `total` over the keys in proportion to their weights (largest remainders), at least 1 each."""
    weight_sum = sum(weights.values())
    exact = {key: weight * total / weight_sum for key, weight in weights.items()}
    counts = {key: max(1, int(value)) for key, value in exact.items()}
    by_remainder = sorted(weights, key=lambda key: (-(exact[key] - int(exact[key])), key))
    index = 0
    while sum(counts.values()) < total:
        counts[by_remainder[index % len(by_remainder)]] += 1
        index += 1
    by_size = sorted(weights, key=lambda key: (-counts[key], key))
    index = 0
    while sum(counts.values()) > total:
        counts[by_size[index % len(by_size)]] -= 1
        index += 1
    return counts


# --- territories ---------------------------------------------------------------------------------------------------


def _build_communes(rng: random.Random, departement: Departement, qpv_count: int, sirens: set[str]) -> None:
    """Draw the communes that can host a QPV in the département (the main town first) and group them into EPCI."""
    code = departement.code
    wanted = 1 if code == "75" else max(2, min(60, round(qpv_count * 0.75) + 2))
    if code in OVERSEAS_COMMUNES:
        bound, real_count = OVERSEAS_COMMUNES[code]
        numbers = rng.sample(range(1, bound + 1), min(wanted, real_count))
        codes = [f"{code}{number:02d}" for number in numbers]
    elif code == "75":
        codes = ["75056"]
    else:
        codes = [f"{code}{number:03d}" for number in rng.sample(range(1, 900), wanted)]

    names: list[str] = []
    for _ in codes:
        name = "Paris" if code == "75" else commune_name(rng, code)
        while name in names:
            name = commune_name(rng, code)
        names.append(name)
    departement.communes = [Commune(c, n) for c, n in zip(codes, names, strict=True)]

    if code in GRAND_PARIS_DEPARTEMENTS:
        for commune in departement.communes:
            commune.epci = Epci(*GRAND_PARIS)
        return
    epci_count = max(1, min(len(codes), round(len(codes) / 3)))
    epcis = []
    for index in range(epci_count):
        seat = departement.communes[index].nom
        if index == 0 and qpv_count >= 30:
            nom = f"Métropole {de_place(seat)}"
        elif index == 0 and qpv_count >= 10:
            nom = rng.choice(
                (f"CA {de_place(seat)}", f"Communauté urbaine {de_place(seat)}", f"CA du Pays {de_place(seat)}")
            )
        else:
            kind = rng.choice(("CA du Pays", "CC du Pays", "CC", "CA"))
            nom = f"{kind} {de_place(seat)}"
        epcis.append(Epci(_siren(rng, sirens), nom))
    for index, commune in enumerate(departement.communes):
        if index < epci_count:
            commune.epci = epcis[index]
        else:
            commune.epci = epcis[0] if rng.random() < 0.5 else rng.choice(epcis)


def _draw_commune(rng: random.Random, departement: Departement, flatness: float) -> Commune:
    """A commune of the département, the main town being the likeliest (less so when flatness is high)."""
    weights = [1 / (rank + 1) ** (1.1 - flatness) for rank in range(len(departement.communes))]
    return rng.choices(departement.communes, weights=weights)[0]


def _extend(rng: random.Random, qpv: Qpv, target: int) -> None:
    """Add communes of the same département to a QPV, up to `target` communes and never beyond two EPCI."""
    while len(qpv.communes) < target:
        taken = [commune.code for commune in qpv.communes]
        sirens = list(dict.fromkeys(commune.epci.siren for commune in qpv.communes))
        free = [commune for commune in qpv.departement.communes if commune.code not in taken]
        same = [commune for commune in free if commune.epci.siren in sirens]
        if len(sirens) >= 2 or (same and rng.random() < 0.7):
            free = same
        if not free:
            return
        qpv.communes.append(rng.choice(free))


def _number(qpvs: list[Qpv], geography: str) -> None:
    """Give each QPV its code, numbered within its département in the order of its main commune and name."""
    by_departement: dict[str, list[Qpv]] = {}
    for qpv in qpvs:
        by_departement.setdefault(qpv.departement.code, []).append(qpv)
    for code, members in by_departement.items():
        members.sort(key=lambda qpv: (qpv.communes[0].code, qpv.nom))
        prefix = departement_code3(code)
        for rank, qpv in enumerate(members, start=1):
            if geography == "2015":
                qpv.code = f"QP{prefix}{rank:03d}"
            else:
                if rank > 99:
                    raise ValueError(f"département {code} has more than 99 QPV in the 2024 geography")
                qpv.code = f"QN{prefix}{rank:02d}{qpv.letter}"


def _row(qpv: Qpv) -> list[str]:
    departement = qpv.departement
    communes = sorted(qpv.communes, key=lambda commune: commune.code)
    epcis = list(dict.fromkeys(commune.epci for commune in communes))
    if len(communes) == 1:
        insee_com = communes[0].code.lstrip("0")  # the real export drops the leading zero of a lone commune
    else:
        insee_com = MULTI_VALUE_SEPARATOR.join(commune.code for commune in communes)
    return [
        qpv.code,
        qpv.nom,
        departement.region,
        departement.region_nom,
        departement.code,
        departement.nom,
        insee_com,
        MULTI_VALUE_SEPARATOR.join(commune.nom for commune in communes),
        MULTI_VALUE_SEPARATOR.join(epci.siren for epci in epcis),
        MULTI_VALUE_SEPARATOR.join(epci.nom for epci in epcis),
    ]


def read_veille(territories_dir: Path) -> set[str]:
    """The 2015 codes of the QPV in veille active (type `sortant`) in the correspondence written by `generate`."""
    with open(Path(territories_dir) / CORRESPONDANCE_FILE, encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter=";")
        return {row["code_qp_2015"] for row in rows if row["type_evolution"] == "sortant"}


def _write(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(sorted(rows))
    return path


def _write_anct_list(path: Path, rows: list[list[str]]) -> Path:
    """The list as ANCT publishes listeqp2024-cog2024.csv: UTF-8 with a BOM, `ANCT_EMPTY_COLUMNS` empty columns after
    lib_epci on every line, an all-empty last line, one-digit région and département codes unpadded, and the commune
    cell of every `LITERAL_EVERY`-th QPV as an Excel text literal (`="01053"`), as a file re-saved from Excel has."""
    anct_rows = []
    for index, row in enumerate(sorted(rows)):
        row = list(row)
        row[2] = row[2].lstrip("0") or row[2]
        row[4] = row[4].lstrip("0") if len(row[4]) == 2 and row[4].isdigit() else row[4]
        if index % LITERAL_EVERY == 0:
            row[6] = '="' + row[6].replace(MULTI_VALUE_SEPARATOR, ";") + '"'
        anct_rows.append(row + [""] * ANCT_EMPTY_COLUMNS)
    anct_rows.append([""] * (len(QPV_COLUMNS) + ANCT_EMPTY_COLUMNS))
    header = [*QPV_COLUMNS, *[""] * ANCT_EMPTY_COLUMNS]
    return write_csv(path, header, anct_rows, encoding="utf-8-sig")


def _write_correspondance_wide(path: Path, qpv_2015: list[Qpv], successor: dict[str, Qpv]) -> Path:
    """ANCT's liste-correspondance-qp2024-qp2015.csv: one row per 2024 QPV that succeeds 2015 ones, its 2015
    predecessors in QP2015_1 to QP2015_3 (UTF-8 with a BOM); the 2015 QPV that left the geography are in no row."""
    predecessors: dict[str, list[Qpv]] = {}
    followers = {}
    for qpv in qpv_2015:
        follower = successor.get(qpv.code)
        if follower is not None:
            predecessors.setdefault(follower.code, []).append(qpv)
            followers[follower.code] = follower
    rows = []
    for code in sorted(predecessors):
        follower = followers[code]
        cells = [code, follower.nom, "Identique" if follower.letter == "I" else "Modifié"]
        olds = predecessors[code][:3]
        for rank in range(3):
            cells += [olds[rank].code, olds[rank].nom] if rank < len(olds) else ["", ""]
        rows.append(cells)
    return write_csv(path, CORRESPONDANCE_WIDE_COLUMNS, rows, encoding="utf-8-sig")


# --- the generator -------------------------------------------------------------------------------------------------


def generate(out_dir: Path, seed: int = 2024) -> list[Path]:
    """Write the 2015 and 2024 QPV lists and their correspondence into `out_dir`; returns the paths, sorted."""
    rng = random.Random(seed)
    region_table = load_regions()
    regions = dict(zip(region_table["code"], region_table["nom"], strict=True))
    departements = [
        Departement(row["code"], row["nom"], row["code_region"], regions[row["code_region"]])
        for row in load_departements().to_dict("records")
    ]
    counts = allocate({d.code: URBAN_WEIGHT[d.code] for d in departements}, QPV_2015_COUNT)
    sirens: set[str] = set()
    for departement in departements:
        _build_communes(rng, departement, counts[departement.code], sirens)

    # 2015 geography
    used_2015: dict[str, set[str]] = {}
    qpv_2015: list[Qpv] = []
    for departement in departements:
        for _ in range(counts[departement.code]):
            main = _draw_commune(rng, departement, flatness=0.0)
            qpv_2015.append(Qpv(departement, [main], ""))
    eligible = [qpv for qpv in qpv_2015 if len(qpv.departement.communes) >= 2]
    for qpv in rng.sample(eligible, MULTI_COMMUNE_2015_COUNT):
        _extend(rng, qpv, 3 if rng.random() < 0.15 else 2)
    for qpv in qpv_2015:
        qpv.nom = _unique_quartier(rng, qpv.communes, used_2015, overseas=len(qpv.departement.code) == 3)
    _number(qpv_2015, "2015")

    # 2024 geography: sortants, continuing QPV (I or M) and new ones (N)
    remaining = dict(counts)
    sortants: list[Qpv] = []
    for qpv in rng.sample(qpv_2015, len(qpv_2015)):
        if len(sortants) == SORTANT_COUNT:
            break
        if remaining[qpv.departement.code] > 1:
            remaining[qpv.departement.code] -= 1
            sortants.append(qpv)
    sortant_codes = {qpv.code for qpv in sortants}

    used_2024: dict[str, set[str]] = {}
    successor: dict[str, Qpv] = {}
    for qpv in qpv_2015:
        if qpv.code in sortant_codes:
            continue
        letter = "I" if rng.random() < IDENTIQUE_SHARE else "M"
        communes = list(qpv.communes)
        nom = qpv.nom
        new = Qpv(qpv.departement, communes, nom, letter=letter)
        if letter == "M":
            if len(communes) > 1 and rng.random() < 0.08:
                communes.pop()
            elif rng.random() < 0.012:
                _extend(rng, new, len(communes) + 1)
        if letter == "M" and rng.random() < 0.12:
            new.nom = _unique_quartier(rng, new.communes, used_2024, overseas=len(qpv.departement.code) == 3)
        elif all(nom not in used_2024.setdefault(commune.code, set()) for commune in new.communes):
            for commune in new.communes:
                used_2024[commune.code].add(nom)
        else:  # pragma: no cover - an added commune already has a QPV of that name
            new.nom = _unique_quartier(rng, new.communes, used_2024, overseas=len(qpv.departement.code) == 3)
        successor[qpv.code] = new

    weights = [counts[d.code] ** 0.8 + 1 for d in departements]
    nouveaux: list[Qpv] = []
    for _ in range(NOUVEAU_COUNT):
        departement = rng.choices(departements, weights=weights)[0]
        new = Qpv(departement, [_draw_commune(rng, departement, flatness=0.6)], "", letter="N")
        if len(departement.communes) >= 2 and rng.random() < 0.06:
            _extend(rng, new, 2)
        new.nom = _unique_quartier(rng, new.communes, used_2024, overseas=len(departement.code) == 3)
        nouveaux.append(new)
    qpv_2024 = [*successor.values(), *nouveaux]
    _number(qpv_2024, "2024")

    letter_to_type = {letter: kind for kind, letter in EVOLUTION_LETTER.items()}
    correspondance = []
    for qpv in qpv_2015:
        follower = successor.get(qpv.code)
        if follower is None:
            correspondance.append([qpv.code, "", "sortant"])
        else:
            correspondance.append([qpv.code, follower.code, letter_to_type[follower.letter]])

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [
        _write(out_dir / QPV_2015_FILE, QPV_COLUMNS, [_row(qpv) for qpv in qpv_2015]),
        _write_anct_list(out_dir / QPV_2024_FILE, [_row(qpv) for qpv in qpv_2024]),
        _write(out_dir / CORRESPONDANCE_FILE, CORRESPONDANCE_COLUMNS, correspondance),
        _write_correspondance_wide(out_dir / CORRESPONDANCE_WIDE_FILE, qpv_2015, successor),
    ]
    return sorted(paths)
