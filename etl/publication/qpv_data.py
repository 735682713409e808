"""The "données QPV" tables of the annual edition: every source loaded at QPV level, per territory, with rates.

One table per theme (`THEMES`: CAF households and people covered, sport licences, crèche places, France Travail),
one row per territory × indicator × breakdown for the edition's year, at six levels: each QPV in force on 31 December
of the year (the 2015 list until 2023, the 2024 list from 2024 on), and each commune, EPCI, département, région and
France as the sum of its QPV in force (sql/publication/donnees_qpv_territoires.sql; a QPV on several communes or EPCI
is counted in each). A sum is published only when every QPV it adds has a published value; otherwise it is `non
disponible` with a note saying why (a producer's secret, a QPV without a figure). What a year's value is (the yearly
figure, the sum of four quarters, the stock at year end) is each indicator's `mode` (sql/publication/
donnees_qpv_valeurs.sql).

Beside the year's value: N-1 and N-3 from the same computation on those years, each with its status, and the change
when both ends are published and lie on the same list of QPV (else `rupture de série`: a territory of 2024 has no
comparable figure on the 2015 list); the rate per 100 inhabitants where it makes sense (`Measure.rate`), on INSEE's
population of the QPV (its latest year up to the edition's, said in `annee_population`), `sans objet` with the reason
when the population is unknown or 0, masked when its numerator is.

Secrecy by unit: counts of people and households go through primary and secondary suppression per year, with the
additive relations of the territories (commune, EPCI, département = the sum of its QPV; région = its départements;
France = its régions) and of the breakdowns (total = women + men, the age bands, the household types); counts of
places and structures are never masked. `build(engine, year, rules)` returns the protected tables, the gate-3 frames
proving no masked cell can be recomputed, the inputs (for the edition's digest) and the batches read. `places(inputs)`
gives the communes and EPCI of each QPV of the year, for the QPV portraits of the report (etl.publication.report_qpv).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from etl.config import SQL_FOLDER
from etl.publication.memo import Memo, content_key
from etl.publication.tables import PER_ROW_UNIT, labelled, table_from_spec
from etl.referentiels.catalogue import SECRET_UNITS

TERRITORIES_SQL = SQL_FOLDER / "publication" / "donnees_qpv_territoires.sql"
VALUES_SQL = SQL_FOLDER / "publication" / "donnees_qpv_valeurs.sql"
LEVELS = ("france", "region", "departement", "epci", "commune", "qpv")  # order of the rows
POPULATION = "INSEE_POP_QPV"
AGE_15_64 = "age=15-64"
TERRITORY_KEY = ("niveau", "code_territoire")
KEY = ("niveau", "code_territoire", "code_indicateur", "ventilation")


@dataclass(frozen=True)
class Measure:
    """An indicator of a theme: its breakdowns (the first is the whole; `parts` add up to it), what its yearly value
    is, the sources read for it (rank order) and its rate per 100 inhabitants, if any (`population`: all ages,
    `population_15_64`: aged 15 to 64), computed on its first breakdown."""

    code: str
    breakdowns: tuple[str, ...] = ("total",)
    mode: str = "annee"
    parts: tuple[tuple[str, ...], ...] = ()
    read: tuple[str, ...] = ()
    rate: str | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return self.read or (self.code,)


@dataclass(frozen=True)
class Theme:
    name: str
    title: str
    description: str
    measures: tuple[Measure, ...]


SEXES = ("sexe=F", "sexe=H")
COMPOSITIONS = (
    "composition=isole", "composition=monoparentale", "composition=couple_sans_enfant",
    "composition=couple_avec_enfants",
)  # fmt: skip
THEMES = (
    Theme(
        "donnees_qpv_caf",
        "Prestations CAF",
        "Foyers allocataires des CAF (ensemble et par type de foyer), personnes couvertes, foyers allocataires du "
        "RSA, de l'AAH et d'une aide au logement ; personnes couvertes pour 100 habitants.",
        (
            Measure("CAF_ALLOCATAIRES", ("total", *COMPOSITIONS)),  # the types do not add up to the total
            Measure("CAF_PERSONNES_COUVERTES", rate="population"),
            Measure("CAF_RSA"),
            Measure("CAF_AAH"),
            Measure("CAF_AIDE_LOGEMENT"),
        ),
    ),
    Theme(
        "donnees_qpv_sport",
        "Licences sportives",
        "Licenciés sportifs résidant dans le quartier (ensemble, femmes, hommes ; les femmes sont l'indicateur "
        "IND21 du catalogue) ; licenciés pour 100 habitants.",
        (Measure("IND20", ("total", *SEXES), parts=(SEXES,), rate="population"),),
    ),
    Theme(
        "donnees_qpv_petite_enfance",
        "Accueil du jeune enfant",
        "Places en établissements d'accueil du jeune enfant au 31 décembre, places de crèche créées et rénovées "
        "dans l'année (somme des quatre trimestres).",
        (
            Measure("CAF_PLACES_EAJE", mode="fin_annee"),
            Measure("IND16", ("type=creation", "type=renovation"), mode="somme_trimestres"),
        ),
    ),
    Theme(
        "donnees_qpv_emploi",
        "Emploi",
        "Points de contact physique de France Travail dans le quartier ; demandeurs d'emploi en fin de décembre "
        "(catégorie A, catégories A, B, C ; leurs ventilations par sexe et âge sont dans l'édition "
        "semestrielle ; l'extrait individuel de France Travail "
        "quand il couvre le mois, le fichier mensuel sinon) ; demandeurs pour 100 habitants de 15 à 64 ans quand "
        "l'Insee donne cette population.",
        (
            Measure("FT_POINTS_CONTACT"),
            *(
                Measure(
                    f"FT_DEFM_{category}",
                    mode="fin_annee",
                    read=(f"FT_DEFM_INDIV_{category}", f"FT_DEFM_{category}"),
                    rate="population_15_64",
                )  # fmt: skip
                for category in ("A", "ABC")
            ),
        ),
    ),
)

COLUMNS = (
    ("annee", "Année", "period", "", "Année des données (au 31 décembre pour un stock)."),
    ("niveau", "Code niveau", "code", "", "qpv, commune, epci, departement, region ou france."),
    ("libelle_niveau", "Niveau", "label", "", "QPV, Commune, EPCI, Département, Région ou France."),
    (
        "code_territoire",
        "Code territoire",
        "code",
        "",
        "Code du QPV, code INSEE de la commune, SIREN de l'EPCI, code du département ou de la région, FR.",
    ),
    ("territoire", "Territoire", "label", "", "Nom du territoire."),
    ("code_departement", "Code département", "code", "", "Département du QPV ou de la commune (vide au-delà)."),
    ("code_region", "Code région", "code", "", "Région du QPV, de la commune ou du département (vide au-delà)."),
    (
        "geographie",
        "Géographie prioritaire",
        "code",
        "",
        "Liste des QPV en vigueur au 31 décembre de l'année dont le territoire fait la somme : 2015 (décret de 2014) "
        "ou 2024 (décret de 2023) ; un QPV à cheval sur plusieurs communes ou EPCI est compté dans chacun.",
    ),
    ("code_indicateur", "Code indicateur", "code", "", "Code de l'indicateur du catalogue."),
    ("indicateur", "Indicateur", "label", "", "Libellé de l'indicateur."),
    ("ventilation", "Code ventilation", "code", "", "total, ou la modalité de la ventilation (sexe=F...)."),
    ("libelle_ventilation", "Ventilation", "label", "", "Ensemble, ou la modalité en clair."),
    ("producteur", "Producteur", "label", "", "Producteur de la donnée."),
    (
        "unite_statistique",
        "Unité statistique",
        "code",
        "",
        "Ce que compte l'indicateur ; le secret statistique ne porte que sur les personnes et les foyers.",
    ),  # fmt: skip
    ("valeur", "Valeur", "count", "nombre", "Valeur de l'année ; s si secret statistique.", PER_ROW_UNIT),
    ("statut", "Statut", "status", "", "publiée, secret statistique ou non disponible."),
    ("note_valeur", "Note sur la valeur", "text", "", "Pourquoi une valeur n'est pas disponible."),
    ("valeur_n1", "Valeur N-1", "count", "nombre", "Valeur de l'année précédente.", PER_ROW_UNIT),
    (
        "statut_valeur_n1",
        "Statut N-1",
        "status",
        "",
        "Statut de la valeur N-1 ; rupture de série quand l'année précédente repose sur une autre liste de QPV.",
    ),  # fmt: skip
    ("evolution_n1", "Évolution sur 1 an", "rate", "nombre", "Valeur moins valeur N-1, quand les deux sont publiées."),
    ("valeur_n3", "Valeur N-3", "count", "nombre", "Valeur trois ans plus tôt.", PER_ROW_UNIT),
    (
        "statut_valeur_n3",
        "Statut N-3",
        "status",
        "",
        "Statut de la valeur N-3 ; rupture de série quand cette année repose sur une autre liste de QPV.",
    ),  # fmt: skip
    ("evolution_n3", "Évolution sur 3 ans", "rate", "nombre", "Valeur moins valeur N-3, quand les deux sont publiées."),
    (
        "population",
        "Population de référence",
        "count",
        "habitants",
        "Population municipale du territoire en QPV (Insee ; de 15 à 64 ans pour les demandeurs d'emploi), "
        "dénominateur du taux.",
        "habitants",
    ),
    ("annee_population", "Année de la population", "period", "", "Année du recensement de la population."),
    (
        "taux",
        "Taux pour 100 habitants",
        "rate",
        "pour 100 habitants",
        "Valeur pour 100 habitants de la population de référence, arrondie au dixième.",
    ),  # fmt: skip
    (
        "statut_taux",
        "Statut du taux",
        "status",
        "",
        "Vide quand l'indicateur n'a pas de taux ; sans objet quand "
        "la population est inconnue ou nulle ; secret statistique quand la valeur l'est.",
    ),  # fmt: skip
    ("note_taux", "Note sur le taux", "text", "", "Pourquoi un taux n'est pas calculé."),
)


@dataclass
class Year:
    """One theme's rows for one year, after disclosure control, with the gate-3 frame that proves it."""

    frame: pd.DataFrame
    check: pd.DataFrame | None


def year_periods(years: list[int]) -> list[str]:
    """The periods a year's value may be read from (sql/publication/donnees_qpv_valeurs.sql): the year, its quarters
    and its December (`2024`, `2024-Q1` .. `2024-Q4`, `2024-12`)."""
    return [code for year in years for code in (str(year), *(f"{year}-Q{q}" for q in range(1, 5)), f"{year}-12")]


def read(engine, years: list[int]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(territories per year and the QPV each holds, the yearly QPV values of every theme and the population,
    the catalogue rows of the indicators) for `years`."""
    import sqlalchemy as sa

    from etl.warehouse.frames import result_frame

    rows = [
        (code, measure.code, measure.mode, rank)
        for theme in THEMES
        for measure in theme.measures
        for rank, code in enumerate(measure.codes)
    ]
    rows.append((POPULATION, POPULATION, "derniere", 0))
    codes, published, modes, ranks = (list(column) for column in zip(*rows, strict=True))
    with engine.connect() as conn:
        territories = result_frame(
            conn.execute(sa.text(TERRITORIES_SQL.read_text(encoding="utf-8")), {"annees": years}),
            columns=["annee", "niveau", "code_territoire", "territoire", "code_qpv", "geography", "code_departement",
                     "code_region"],
        )  # fmt: skip
        values = result_frame(
            conn.execute(
                sa.text(VALUES_SQL.read_text(encoding="utf-8")),
                {"annees": years, "periodes": year_periods(years), "codes": codes, "publies": published,
                 "modes": modes, "rangs": ranks,
                 "codes_derniers": [c for c, m in zip(codes, modes, strict=True) if m == "derniere"]},
            ),
            columns=["code_indicateur", "ventilation", "code_qpv", "annee", "valeur", "statut", "note_valeur",
                     "batches"],
        )  # fmt: skip
        catalogue = pd.DataFrame(
            conn.execute(
                sa.text(
                    "SELECT code AS code_indicateur, libelle AS indicateur, "
                    "coalesce(producteur_donnee, producteur) AS producteur, unite_statistique "
                    "FROM core.indicator WHERE code = ANY(CAST(:codes AS text[]))"
                ),
                {"codes": sorted(set(published))},
            )
            .mappings()
            .all(),
            columns=["code_indicateur", "indicateur", "producteur", "unite_statistique"],
        )
    values["valeur"] = pd.to_numeric(values["valeur"], errors="coerce").astype("float64")
    values["annee"] = values["annee"].astype("int64")
    territories["annee"] = territories["annee"].astype("int64")
    return territories, values, catalogue


def _geographies(territories: pd.DataFrame) -> pd.DataFrame:
    """Per year and territory: its name, département, région and the list(s) of QPV it sums (`2015`, `2024`)."""
    lists = (
        territories[["annee", *TERRITORY_KEY, "geography"]]
        .drop_duplicates()
        .sort_values("geography")
        .groupby(["annee", *TERRITORY_KEY], sort=False)["geography"]
        .agg("+".join)
        .rename("geographie")
    )
    first = territories.drop_duplicates(["annee", *TERRITORY_KEY])
    columns = ["annee", *TERRITORY_KEY, "territoire", "code_departement", "code_region"]
    return first[columns].merge(lists.reset_index(), on=["annee", *TERRITORY_KEY])


def _aggregate(qpv_rows: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """The rows of a level above the QPV: the sum of its QPV's values when every one is published, else non
    disponible with the reason."""
    joined = members.merge(qpv_rows, on="code_qpv", how="inner")
    ok = (joined["statut"] == "ok").to_numpy()
    joined["_ok_value"] = joined["valeur"].where(ok, 0.0)
    joined["_ok"] = ok.astype("int64")
    joined["_masked"] = (joined["statut"] == "masked").to_numpy().astype("int64")
    grouped = joined.groupby(["code_territoire", "code_indicateur", "ventilation"], sort=False)
    out = grouped.agg(
        valeur=("_ok_value", "sum"), qpv=("_ok", "size"), publies=("_ok", "sum"), secrets=("_masked", "sum")
    ).reset_index()
    complete = out["publies"] == out["qpv"]
    out["statut"] = np.where(complete, "ok", "missing")
    out["valeur"] = out["valeur"].where(complete)
    missing = out["qpv"] - out["publies"] - out["secrets"]
    notes = np.where(
        out["secrets"] > 0,
        "somme impossible : " + out["secrets"].astype(str) + " QPV sous secret chez le producteur",
        "somme impossible : " + missing.astype(str) + " QPV sans valeur sur " + out["qpv"].astype(str),
    )
    out["note_valeur"] = np.where(complete, None, notes)
    return out.drop(columns=["qpv", "publies", "secrets"])


def _year_rows(theme: Theme, year: int, territories: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Every row of `theme` for `year` before disclosure control (territories of the year × indicators ×
    breakdowns), with the population of each territory."""
    lines = pd.DataFrame(
        [(m.code, b) for m in theme.measures for b in m.breakdowns], columns=["code_indicateur", "ventilation"]
    )
    members = territories.loc[territories["annee"] == year, ["niveau", "code_territoire", "code_qpv"]]
    qpv = members.loc[members["niveau"] == "qpv", ["code_qpv"]].drop_duplicates()
    year_values = values.loc[values["annee"] == year]
    qpv_rows = qpv.merge(lines, how="cross").merge(
        year_values[["code_qpv", "code_indicateur", "ventilation", "valeur", "statut", "note_valeur"]],
        on=["code_qpv", "code_indicateur", "ventilation"],
        how="left",
    )
    qpv_rows["statut"] = qpv_rows["statut"].fillna("missing")
    qpv_rows["note_valeur"] = qpv_rows["note_valeur"].where(
        qpv_rows["note_valeur"].notna() | (qpv_rows["statut"] != "missing"), "absent du fichier du producteur"
    )
    frames = []
    for level in LEVELS:
        level_members = members.loc[members["niveau"] == level, ["code_territoire", "code_qpv"]]
        if level == "qpv":
            rows = qpv_rows.rename(columns={"code_qpv": "code_territoire"})
        else:
            rows = _aggregate(qpv_rows, level_members)
        frames.append(rows.assign(niveau=level))
    rows = pd.concat(frames, ignore_index=True)
    population = values.loc[(values["annee"] == year) & (values["code_indicateur"] == POPULATION)]
    for name, breakdown in (("_population", "total"), ("_population_15_64", AGE_15_64)):
        pop = population.loc[population["ventilation"] == breakdown, ["code_qpv", "valeur", "statut", "note_valeur"]]
        pop = pop.rename(columns={"note_valeur": "annee_population"})
        per_qpv = qpv.merge(pop, on="code_qpv", how="left")
        per_qpv["statut"] = per_qpv["statut"].fillna("missing")
        joined = members.merge(per_qpv, on="code_qpv")
        known = (joined["statut"] == "ok") & joined["valeur"].notna()
        grouped = joined.assign(_known=known).groupby(list(TERRITORY_KEY), sort=False)
        summed = grouped.agg(
            **{name: ("valeur", "sum"), "_all": ("_known", "all"), f"annee_{name}": ("annee_population", "max")}
        ).reset_index()
        summed[name] = summed[name].where(summed.pop("_all"))
        rows = rows.merge(summed, on=list(TERRITORY_KEY), how="left")
    return rows


def _relations(frame: pd.DataFrame, theme: Theme, members: pd.DataFrame, secret: np.ndarray):
    """The additive relations `(total_row, (part_row, ...))` between the rows of one year, among counts of people
    and households whose cells are all known (published or masked): territories and breakdowns."""
    index = {key: i for i, key in enumerate(zip(*(frame[c].tolist() for c in KEY), strict=True))}
    known = frame["statut"].isin(["ok", "masked"]).to_numpy() & secret
    relations: list[tuple[int, tuple[int, ...]]] = []

    def add(total, parts) -> None:
        rows = [index.get(k) for k in (total, *parts)]
        if len(parts) and all(r is not None and known[r] for r in rows):
            relations.append((rows[0], tuple(rows[1:])))

    lines = [(m.code, b) for m in theme.measures for b in m.breakdowns]
    departements = members.loc[members["niveau"] == "departement"].drop_duplicates("code_territoire")
    regions = members.loc[members["niveau"] == "region", ["code_territoire", "code_qpv"]]
    region_of_dept = departements[["code_territoire", "code_qpv"]].merge(
        regions.rename(columns={"code_territoire": "region"}), on="code_qpv"
    )
    tree = [
        (("france", "FR"), [("region", r) for r in sorted(set(regions["code_territoire"]))]),
        *(
            (("region", region), [("departement", d) for d in sorted(group["code_territoire"])])
            for region, group in region_of_dept.groupby("region")
        ),
    ]
    by_qpv = members.loc[members["niveau"].isin(["commune", "epci", "departement"])]
    for (level, code), group in by_qpv.groupby(["niveau", "code_territoire"], sort=False):
        tree.append(((level, code), [("qpv", q) for q in group["code_qpv"]]))
    for code, breakdown in lines:
        for (level, territory), parts in tree:
            add((level, territory, code, breakdown), [(lv, t, code, breakdown) for lv, t in parts])
    territories = frame[list(TERRITORY_KEY)].drop_duplicates().itertuples(index=False)
    for level, territory in list(territories):
        for measure in theme.measures:
            for parts in measure.parts:
                add((level, territory, measure.code, measure.breakdowns[0]),
                    [(level, territory, measure.code, p) for p in parts])  # fmt: skip
    return relations


# A theme's year after disclosure control depends only on its rows, the territories of that year and the rules: the
# annual editions published in one process (a backfill, `make demo`'s chain) share years (N-1 of one is N of the next,
# N-3 of one is N-1 of another), each protected and checked once (etl/publication/memo.py).
_MEMO = Memo(16)


def _protect(theme: Theme, year: int, territories, geographies, values, catalogue, rules) -> Year:
    """One theme's rows for `year`, ordered, with the secret cells masked (primary and secondary suppression on
    the counts of people and households) and the gate-3 frame of its value column; a year already protected in this
    process with the same rows, territories and rules is not protected again."""
    frame = _year_rows(theme, year, territories, values).merge(catalogue, on="code_indicateur", how="left")
    here = geographies.loc[geographies["annee"] == year].drop(columns=["annee"])
    frame = frame.merge(here, on=list(TERRITORY_KEY), how="left")
    order = {level: i for i, level in enumerate(LEVELS)}
    lines = {(m.code, b): i for i, (m, b) in enumerate((m, b) for m in theme.measures for b in m.breakdowns)}
    frame["_level"] = frame["niveau"].map(order)
    pairs = zip(frame["code_indicateur"].tolist(), frame["ventilation"].tolist(), strict=True)
    frame["_line"] = [lines[k] for k in pairs]
    frame = frame.sort_values(["_level", "code_territoire", "_line"], kind="stable").reset_index(drop=True)
    frame = frame.drop(columns=["_level", "_line"])
    secret = frame["unite_statistique"].isin(SECRET_UNITS).to_numpy()
    members = territories.loc[territories["annee"] == year]
    key = content_key(theme.name, rules, frame, members.reset_index(drop=True))
    known = _MEMO.get(key)
    if known is None:
        known = _protected(theme, frame, members, secret, rules)
        _MEMO.put(key, known)
    return Year(known.frame.copy(), None if known.check is None else known.check.copy())


def _protected(theme: Theme, frame: pd.DataFrame, members: pd.DataFrame, secret: np.ndarray, rules) -> Year:
    """Primary and secondary suppression on one theme's year (`frame`, ordered; `secret`: its counts of people and
    households) and the gate-3 frame of its value column."""
    from etl.publication import disclosure
    from etl.quality.disclosure_check import gate3_frame

    relations = _relations(frame, theme, members, secret)
    # An EPCI overlaps communes and départements: searching complements through its relations as well makes
    # secondary suppression explode on real geographies. An EPCI that holds a masked QPV is masked instead (it
    # appears in no other relation, so it then hides that QPV), unless the other published cells give its value
    # anyway (then publishing it tells nothing new); gate 3 checks every relation, the EPCI's included.
    epci = frame["niveau"].to_numpy() == "epci"
    searched = [(total, parts) for total, parts in relations if not epci[total]]
    values_ = frame["valeur"].to_numpy(dtype="float64")
    source = (frame["statut"] == "masked").to_numpy()
    result = disclosure.suppress(np.where(secret, values_, np.nan), "count", searched, rules, already_masked=source)
    masked = result.masked & (secret | source)
    as_cover = np.zeros(len(frame), dtype=bool)
    for total, parts in relations:
        if epci[total] and not masked[total] and masked[list(parts)].any():
            as_cover[total] = True
    masked |= as_cover
    check = None
    for _ in range(2):
        statuses = np.where(masked, "masked", frame["statut"].to_numpy())
        shown = np.where(masked, np.nan, values_)
        if not secret.any():
            break
        view = pd.DataFrame({"valeur": pd.Series(shown).where(secret), "statut": statuses})
        check = gate3_frame(view, "valeur", "statut", "count", relations, rules.count_threshold)
        found = check.drop(columns="line_no").notna().any(axis=1).to_numpy()
        if not (found & as_cover).any():
            break
        masked &= ~(found & as_cover)  # determined by the published cells: shown
    frame["valeur"] = np.where(masked, np.nan, values_)
    frame["statut"] = np.where(masked, "masked", frame["statut"].to_numpy())
    return Year(frame, check)


def _earlier(now: pd.DataFrame, before: Year | None, suffix: str, lists_differ: bool) -> pd.DataFrame:
    """`now` with the value and status of an earlier year (`valeur_<suffix>`, `statut_valeur_<suffix>`) and the
    change: `rupture de série` when the earlier year sums another list of QPV, `non disponible` when there is no
    earlier row."""
    value, status, change = f"valeur_{suffix}", f"statut_valeur_{suffix}", f"evolution_{suffix}"
    if before is None:
        now[value], now[change] = np.nan, np.nan
        now[status] = "break" if lists_differ else "missing"
        return now
    earlier = before.frame[[*KEY, "valeur", "statut", "geographie"]].rename(
        columns={"valeur": value, "statut": status, "geographie": "_geographie"}
    )
    out = now.merge(earlier, on=list(KEY), how="left")
    broken = out["_geographie"].notna() & (out["_geographie"] != out["geographie"])
    absent = out[status].isna()
    out[status] = out[status].where(~absent, "break" if lists_differ else "missing")
    out.loc[broken, status] = "break"
    out.loc[broken, value] = np.nan
    both = (out["statut"] == "ok") & (out[status] == "ok")
    out[change] = (out["valeur"] - out[value]).where(both)
    return out.drop(columns=["_geographie"])


def _rates(frame: pd.DataFrame, theme: Theme) -> pd.DataFrame:
    """The rate per 100 inhabitants of the measures that have one (on their first breakdown)."""
    frame["population"], frame["annee_population"] = np.nan, None
    frame["taux"], frame["statut_taux"], frame["note_taux"] = np.nan, None, None
    for measure in theme.measures:
        if measure.rate is None:
            continue
        rows = (frame["code_indicateur"] == measure.code) & (frame["ventilation"] == measure.breakdowns[0])
        population = frame[f"_{measure.rate}"].where(rows)
        frame.loc[rows, "population"] = population[rows]
        frame.loc[rows, "annee_population"] = frame.loc[rows, f"annee__{measure.rate}"]
        unknown = rows & population.isna()
        empty = rows & (population == 0)
        ok = rows & (frame["statut"] == "ok") & ~unknown & ~empty
        frame.loc[ok, "taux"] = (100 * frame.loc[ok, "valeur"] / population[ok]).round(1)
        frame.loc[rows, "statut_taux"] = "ok"
        frame.loc[unknown | empty, "statut_taux"] = "not_applicable"
        frame.loc[rows & (frame["statut"] == "masked"), "statut_taux"] = "masked"
        frame.loc[rows & (frame["statut"] == "missing"), "statut_taux"] = "missing"
        what = "de 15 à 64 ans " if measure.rate == "population_15_64" else ""
        frame.loc[unknown & (frame["statut_taux"] == "not_applicable"), "note_taux"] = (
            f"population {what}inconnue (l'Insee ne la donne pas pour ce territoire et cette liste de QPV)"
        )
        frame.loc[empty & (frame["statut_taux"] == "not_applicable"), "note_taux"] = f"population {what}nulle"
    return frame


def _years_with_data(values: pd.DataFrame, theme: Theme) -> set[int]:
    codes = {m.code for m in theme.measures}
    return set(values.loc[values["code_indicateur"].isin(codes), "annee"].astype(int))


def _lists(territories: pd.DataFrame, year: int) -> str:
    return "+".join(sorted(set(territories.loc[territories["annee"] == year, "geography"])))


@dataclass
class Inputs:
    """What the données QPV tables of one edition are computed from (read once, before the digest is compared)."""

    year: int
    territories: pd.DataFrame
    values: pd.DataFrame
    catalogue: pd.DataFrame

    @property
    def frames(self) -> list[SimpleNamespace]:
        """The inputs as named frames, for the edition's inputs digest."""
        return [
            SimpleNamespace(name="donnees_qpv_territoires", frame=self.territories),
            SimpleNamespace(name="donnees_qpv_valeurs", frame=self.values.drop(columns=["batches"])),
        ]

    @property
    def batches(self) -> set[int]:
        return {int(b) for cell in self.values["batches"].dropna() for b in str(cell).split(",") if b}


def places(given: Inputs) -> pd.DataFrame:
    """The communes and EPCI each QPV in force in the edition's year lies in (`code_qpv`, `niveau`, `code_territoire`,
    `territoire`; sorted), which the tables do not say and the QPV portraits of the report show."""
    territories = given.territories
    rows = territories.loc[
        (territories["annee"] == given.year) & territories["niveau"].isin(["commune", "epci"]),
        ["code_qpv", "niveau", "code_territoire", "territoire"],
    ]
    return rows.drop_duplicates().sort_values(["code_qpv", "niveau", "code_territoire"]).reset_index(drop=True)


def inputs(engine, year: int) -> Inputs:
    """The inputs of the edition of `year`: its year, N-1 and N-3."""
    return Inputs(year, *read(engine, [year, year - 1, year - 3]))


def build(given: Inputs, rules):
    """(the protected tables, their gate-3 frames as (table, column, frame)) of the edition of `given.year`."""
    year, territories, values, catalogue = given.year, given.territories, given.values, given.catalogue
    years = [year, year - 1, year - 3]
    geographies = _geographies(territories)
    tables, checks = [], []
    for theme in THEMES:
        present = _years_with_data(values, theme)
        protected = {
            y: _protect(theme, y, territories, geographies, values, catalogue, rules)
            for y in years
            if y in present or y == year
        }
        for y, built in protected.items():
            if built.check is not None:
                column = "valeur" if y == year else f"valeur_{'n1' if y == year - 1 else 'n3'}"
                checks.append((theme.name, column, built.check))
        frame = protected[year].frame
        for suffix, earlier in (("n1", year - 1), ("n3", year - 3)):
            lists_differ = _lists(territories, earlier) != _lists(territories, year)
            frame = _earlier(frame, protected.get(earlier), suffix, lists_differ)
        frame = _rates(frame, theme)
        frame["annee"] = year
        table = table_from_spec(
            theme.name,
            f"Données QPV {year} : {theme.title.lower()}",
            f"{theme.description} Pour chaque QPV en vigueur au 31 décembre {year} et pour chaque commune, EPCI, "
            "département, région et la France, somme de leurs QPV ; valeurs N-1 et N-3 et évolutions.",
            COLUMNS,
            labelled(frame),
            key=KEY,
        )
        tables.append(table)
    return tables, checks
