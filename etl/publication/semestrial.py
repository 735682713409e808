"""The semestrial publication's tables: the regional and departmental employment dashboard for the QPV (seed 001).

For the last month of a semester (June, December), from France Travail's monthly job seekers (categories A and ABC,
total, by sex and by age band; sql/publication/emploi_qpv.sql): for France, each région, each département and each
QPV, the job seekers living in QPV, in the whole unit and in the rest of it, the share living in QPV, the
structure by sex or age in QPV vs the rest and its gap in points, and the change over 6 and 12 months in QPV and in
the rest (`emploi_qpv`); the series of the last semesters for France and the régions (`emploi_qpv_serie`); and the
PAQTE reports of the semester per département (`paqte_departements`).

Statistical secrecy runs on the counts as one vector (`protect`): counts of people under 11 are masked, then
secondary suppression through every additive relation of the table (unit = QPV + rest; France = the régions,
région = its départements, département = its QPV; total = women + men = the three age bands); a share, gap or change
computed from a masked count is blanked.

Totals are exact (sql/publication/emploi_qpv.sql): the individual extract where it covers the month, else France
Travail's own "ensemble des QPV" figures, else the sum of the QPV when none is masked; only a sum holding a QPV the
producer masked, with no producer figure, is unknown (masked, never estimated). A published total next to a QPV the
producer masked makes secondary suppression hide other small QPV cells, not the total.

A change over 6 or 12 months is computed on a constant geography only: when its two months lie on different lists
of QPV (2015 list until 2023, 2024 list from 2024 in metropolitan France and 2025 overseas) it is not published and
its status is `break` (rupture de série), the two lists named in `rupture_serie`; the series marks the first
semester on a new list the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.config import SQL_FOLDER
from etl.publication.memo import Memo, content_key
from etl.publication.tables import (
    PER_ROW_UNIT,
    STATUS_BREAK,
    STATUS_MASKED,
    STATUS_MISSING,
    STATUS_NOT_APPLICABLE,
    STATUS_OK,
)
from etl.referentiels.periods import semester_end_months, semesters_ending_with

EMPLOI_SQL = SQL_FOLDER / "publication" / "emploi_qpv.sql"
EMPLOI_BASE_SQL = SQL_FOLDER / "publication" / "emploi_qpv_base.sql"
COUNTS = ("de_qpv", "de_unite", "de_hors_qpv")
SEX = ("sexe=F", "sexe=H")
AGES = ("age=<26", "age=26-49", "age=50+")
LEVELS = ("france", "region", "departement", "qpv")


def read_counts(engine, months) -> pd.DataFrame:
    """The job seekers of `months` (emploi_qpv.sql), with their derived columns."""
    return read_counts_with_batches(engine, months)[0]


def read_counts_with_batches(engine, months) -> tuple[pd.DataFrame, set[int]]:
    """`read_counts`, and the load batches of France Travail's monthly files behind the latest figures of `months`
    (an edition's sources), from one read of the latest vintages (emploi_qpv_base.sql)."""
    import sqlalchemy as sa

    from etl.warehouse.frames import result_frame

    params = {"months": list(months)}
    with engine.begin() as conn:  # the temporary table lives as long as the transaction
        conn.execute(sa.text(EMPLOI_BASE_SQL.read_text(encoding="utf-8")), params)
        conn.execute(sa.text("ANALYZE emploi_base"))  # the counts' plan knows its rows
        counts = result_frame(conn.execute(sa.text(EMPLOI_SQL.read_text(encoding="utf-8")), params))
        batches = set(
            conn.execute(
                sa.text("SELECT DISTINCT batch_id FROM emploi_base WHERE source_id = 'france_travail_defm'")
            ).scalars()
        )
    return _derived(counts), batches


def _derived(frame: pd.DataFrame) -> pd.DataFrame:
    """The counts as floats and the job seekers outside the QPV (`de_hors_qpv`) where both counts are published."""
    if frame.empty:
        return frame
    for column in ("de_qpv", "de_unite"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    both = (frame["de_qpv_statut"] == "ok") & (frame["de_unite_statut"] == "ok")
    frame["de_hors_qpv"] = (frame["de_unite"] - frame["de_qpv"]).where(both)
    frame["de_hors_qpv_statut"] = np.where(
        frame["niveau"] == "qpv",
        "not_applicable",
        np.where(both, "ok", np.where(frame["de_unite_statut"] == "ok", "masked", frame["de_unite_statut"])),
    )
    return frame


@dataclass
class Protected:
    frame: pd.DataFrame  # counts masked (NaN) with their `<count>_statut` = masked
    masked: dict[str, int]
    relations: list[tuple[int, tuple[int, ...]]]
    values: np.ndarray
    statuses: np.ndarray
    key: tuple = ()  # what the protection depended on (rules and counts), for month_check


def _cells(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[int, tuple[int, ...]]]]:
    """The counts of one month as a long vector (one cell per row and count column) and their additive relations."""
    cells = pd.concat(
        [
            pd.DataFrame(
                {
                    "row": frame.index,
                    "column": column,
                    "value": frame[column].to_numpy(dtype="float64"),
                    "status": frame[f"{column}_statut"].to_numpy(),
                    "niveau": frame["niveau"].to_numpy(),
                    "code": frame["code_territoire"].to_numpy(),
                    "region": frame["code_region"].to_numpy(),
                    "departement": frame["code_departement"].to_numpy(),
                    "categorie": frame["categorie"].to_numpy(),
                    "ventilation": frame["ventilation"].to_numpy(),
                }
            )
            for column in COUNTS
        ],
        ignore_index=True,
    )
    cells = cells[cells["status"] != "not_applicable"].reset_index(drop=True)
    # each cell's key (niveau, code, categorie, ventilation, column), from plain lists: iterating the frame's rows
    # (itertuples) went through pandas' Arrow strings one value at a time
    names = ("niveau", "code", "categorie", "ventilation", "column")
    keys = list(zip(*(cells[name].tolist() for name in names), strict=True))
    index = {key: i for i, key in enumerate(keys)}
    relations: list[tuple[int, tuple[int, ...]]] = []

    def add(total_key, part_keys) -> None:
        if total_key in index and part_keys and all(k in index for k in part_keys):
            relations.append((index[total_key], tuple(index[k] for k in part_keys)))

    for niveau, code, categorie, ventilation, column in list(index):
        if column == "de_unite":
            row = (niveau, code, categorie, ventilation)
            add((*row, "de_unite"), [(*row, "de_qpv"), (*row, "de_hors_qpv")])
        if ventilation == "total":
            add((niveau, code, categorie, "total", column), [(niveau, code, categorie, v, column) for v in SEX])
            add((niveau, code, categorie, "total", column), [(niveau, code, categorie, v, column) for v in AGES])
    parent_level = {"region": "france", "departement": "region", "qpv": "departement"}
    groups: dict[tuple, list[tuple]] = {}
    for key, region, departement in zip(keys, cells["region"].tolist(), cells["departement"].tolist(), strict=True):
        niveau, _, categorie, ventilation, column = key
        if niveau in parent_level and (niveau != "qpv" or column == "de_qpv"):
            parent = {"region": "FR", "departement": region, "qpv": departement}[niveau]
            groups.setdefault((parent_level[niveau], parent, categorie, ventilation, column), []).append(key)
    for total_key, parts in groups.items():
        add(total_key, parts)
    return cells, relations


# A month's protection and its gate-3 frame depend only on its counts and the rules: the editions of several
# semesters published in one process (a backfill, `make demo`'s chain) share the months of their series, each
# protected and checked once (etl/publication/memo.py). Entries: (Protected, its gate-3 frame or None yet).
_MEMO = Memo(24)


def _copy(p: Protected) -> Protected:
    """A copy the caller may change without touching what is remembered."""
    return Protected(p.frame.copy(), dict(p.masked), list(p.relations), p.values.copy(), p.statuses.copy(), p.key)


def protect(frame: pd.DataFrame, rules) -> Protected:
    """Mask the counts of one month (see the module doc); the derived columns are computed afterwards. A month
    already protected in this process with the same counts and rules is not protected again."""
    frame = frame.reset_index(drop=True)
    key = content_key(frame, rules)
    known = _MEMO.get(key)
    if known is None:
        known = (_protect(frame, rules, key), None)
        _MEMO.put(key, known)
    return _copy(known[0])


def month_check(p: Protected, rules) -> pd.DataFrame:
    """The gate-3 frame of a protected month (its published counts, statuses and additive relations), once per
    month and rules in this process."""
    from etl.quality.disclosure_check import gate3_frame

    known = _MEMO.get(p.key)
    if known is not None and known[1] is not None:
        return known[1].copy()
    frame = pd.DataFrame({"v": p.values, "s": p.statuses})
    check = gate3_frame(frame, "v", "s", "count", p.relations, rules.count_threshold)
    if known is not None:
        _MEMO.put(p.key, (known[0], check))
    return check.copy()


def _protect(frame: pd.DataFrame, rules, key: tuple) -> Protected:
    """The protection itself: primary and secondary suppression on the month's counts as one vector."""
    from etl.publication import disclosure

    cells, relations = _cells(frame)
    values = cells["value"].to_numpy(dtype="float64")
    source = (cells["status"] == "masked").to_numpy()
    result = disclosure.suppress(values, "count", relations, rules, already_masked=source)
    out = frame.copy()
    masked = {}
    for column in COUNTS:
        rows = cells.loc[(cells["column"] == column) & result.masked, "row"].to_numpy()
        out.loc[rows, column] = np.nan
        out.loc[rows, f"{column}_statut"] = "masked"
        masked[column] = len(rows)
    statuses = np.where(result.masked, "masked", cells["status"].to_numpy())
    published = np.where(result.masked, np.nan, values)
    return Protected(out, masked, relations, published, statuses, key)


def _list_name(geography) -> str:
    """`2015`, `2024`, `2015+2024` -> the French name of the QPV list(s) in force (absent: not on the list)."""
    if not isinstance(geography, str):
        return "absent de la liste"
    return "de 2015 et de 2024 (outre-mer sur la liste 2015)" if "+" in geography else f"de la liste {geography}"


def _evolution(now: pd.DataFrame, earlier: pd.DataFrame | None, column: str) -> tuple[pd.Series, np.ndarray]:
    """The change in % of a count since an earlier month and its status: `break` (rupture de série) when the row's
    QPV list differs between the two months or the territory is absent from the earlier one (a change across the
    2015 -> 2024 geography would compare two different sets of neighbourhoods), `missing` when the earlier month was
    not delivered or a count is unknown, `masked` when a count is masked, `not_applicable` when there is no count
    (a QPV's rest) or the earlier count is 0; else `ok`. Only `ok` changes hold a value."""
    index = now.index
    if earlier is None:
        return pd.Series(np.nan, index=index), np.full(len(now), STATUS_MISSING, dtype=object)
    key = pd.MultiIndex.from_frame(now[KEYS])
    previous = pd.Series(earlier[column].reindex(key).to_numpy(), index=index)
    previous_status = earlier[f"{column}_statut"].reindex(key).to_numpy()
    geography = earlier["geographie"].reindex(key).to_numpy()
    status_now = now[f"{column}_statut"].to_numpy()
    status = np.select(
        [
            status_now == STATUS_NOT_APPLICABLE,
            pd.isna(geography) | (geography != now["geographie"].to_numpy()),
            (status_now == STATUS_MASKED) | (previous_status == STATUS_MASKED),
            now[column].isna().to_numpy() | previous.isna().to_numpy(),
            previous.to_numpy() == 0,
        ],
        [STATUS_NOT_APPLICABLE, STATUS_BREAK, STATUS_MASKED, STATUS_MISSING, STATUS_NOT_APPLICABLE],
        STATUS_OK,
    ).astype(object)
    change = _change(now[column], previous).where(status == STATUS_OK)
    return change, status


def _share(part, whole):
    return (100 * part / whole).where((whole > 0) & part.notna())


def _change(now, before):
    return (100 * (now - before) / before).where((before > 0) & now.notna())


KEYS = ["niveau", "code_territoire", "categorie", "ventilation"]


def _months_of(counts: pd.DataFrame | None, engine, months) -> pd.DataFrame:
    """The rows of `months` in `counts` (what `read_counts` of more months returned: each month's rows are computed
    on their own, so they are the same), or read from the warehouse when no counts are given."""
    if counts is None:
        return read_counts(engine, months)
    if counts.empty:
        return counts
    return counts[counts["mois"].isin(list(months))].reset_index(drop=True)


def dashboard(
    engine, semester: str, rules, counts: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, int], dict[str, Protected]]:
    """The `emploi_qpv` frame of a semester (counts protected, derived columns computed from published counts only),
    the cells masked per column, and the protected months (for gate 3 and the series). `counts`: `read_counts` of
    months including the semester's, when the caller already read them."""
    months = semester_end_months(semester)
    counts = _months_of(counts, engine, months)
    if counts.empty or not (counts["mois"] == months[0]).any():
        raise ValueError(f"no France Travail figures for {months[0]}, the last month of {semester}")
    protected = {m: protect(counts[counts["mois"] == m], rules) for m in months if (counts["mois"] == m).any()}
    now = protected[months[0]].frame.copy()
    totals = now[now["ventilation"] == "total"].set_index(["niveau", "code_territoire", "categorie"])
    key = pd.MultiIndex.from_frame(now[["niveau", "code_territoire", "categorie"]])
    for column, whole in (("part_ventilation_qpv", "de_qpv"), ("part_ventilation_hors_qpv", "de_hors_qpv")):
        base = totals[whole].reindex(key).to_numpy()
        now[column] = _share(now[whole], pd.Series(base, index=now.index)).where(now["ventilation"] != "total")
    now["part_qpv"] = _share(now["de_qpv"], now["de_unite"])
    now["ecart_ventilation_points"] = now["part_ventilation_qpv"] - now["part_ventilation_hors_qpv"]
    breaks = pd.Series("", index=now.index, dtype=object)
    for label, month in (("6_mois", months[1]), ("12_mois", months[2])):
        earlier = protected[month].frame.set_index(KEYS) if month in protected else None
        for column in ("de_qpv", "de_hors_qpv"):
            target = f"evolution_{label}_{column.removeprefix('de_')}"
            now[target], now[f"{target}_statut"] = _evolution(now, earlier, column)
        if earlier is not None:
            geography = earlier["geographie"].reindex(pd.MultiIndex.from_frame(now[KEYS])).to_numpy()
            differs = now["geographie"].to_numpy() != geography
            text = [
                f"{label.replace('_', ' ')} : QPV {_list_name(before)} en {month}, {_list_name(after)} en {months[0]}"
                for before, after in zip(geography[differs], now["geographie"][differs], strict=True)
            ]
            breaks[differs] = (breaks[differs] + np.where(breaks[differs] != "", " ; ", "") + text).to_numpy()
    now["rupture_serie"] = breaks
    statuses = now[["de_qpv_statut", "de_unite_statut", "de_hors_qpv_statut"]]
    now["statut"] = np.where(statuses.eq("masked").any(axis=1), "masked", "ok")
    now.insert(0, "semestre", semester)
    return now, protected[months[0]].masked, protected


def comparability(tables) -> dict:
    """The manifest's word on the geography change: the rule (constant geography, else `rupture de série`) and
    the changes of the dashboard not published for it, per column."""
    counts = {}
    for table in tables:
        if table.name == "emploi_qpv":
            counts = {
                column.removesuffix("_statut"): int((table.frame[column] == STATUS_BREAK).sum())
                for column in EVOLUTION_STATUS_COLUMNS
            }
    return {"method": "rupture de série", "rule": COMPARABILITY_RULE, "changes_not_published": counts}


def series(
    engine, semester: str, rules, known: dict[str, Protected], count: int = 6, counts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Job seekers in QPV and in the rest of France and of each région (total) at the end of the last `count`
    semesters that France Travail delivered, protected month by month as in the dashboard (`counts`: as for
    `dashboard`)."""
    frames = []
    for past in semesters_ending_with(semester, count):
        month = semester_end_months(past)[0]
        if month not in known:
            month_counts = _months_of(counts, engine, [month])
            if month_counts.empty:
                continue
            known[month] = protect(month_counts, rules)
        frame = known[month].frame
        frame = frame[frame["niveau"].isin(["france", "region"]) & (frame["ventilation"] == "total")]
        frames.append(frame.assign(semestre=past))
    out = pd.concat(frames, ignore_index=True)
    statuses = out[["de_qpv_statut", "de_hors_qpv_statut"]]
    out["statut"] = np.where(statuses.eq("masked").any(axis=1), "masked", "ok")
    out = out.sort_values(["niveau", "code_territoire", "categorie", "semestre"], kind="stable")
    previous = out.groupby(["niveau", "code_territoire", "categorie"])["geographie"].shift()
    changed = previous.notna() & (previous != out["geographie"])
    out["rupture_serie"] = np.where(
        changed,
        "rupture de série : QPV " + previous.map(_list_name, na_action="ignore").fillna("")
        + " au semestre précédent, " + out["geographie"].map(_list_name) + " à partir de celui-ci",
        "",
    )  # fmt: skip
    out = out.sort_index()
    return out[["niveau", "code_territoire", "territoire", "categorie", "semestre", "mois", "geographie", "de_qpv",
                "de_hors_qpv", "statut", "rupture_serie"]]  # fmt: skip


COMPARABILITY_RULE = (
    "Les évolutions sur 6 et 12 mois ne sont calculées qu'à géographie constante : les deux mois doivent porter sur "
    "la même liste de quartiers prioritaires. La liste de 2024 (décret 2023-1314) remplace celle de 2015 au 1er "
    "janvier 2024 en métropole et au 1er janvier 2025 outre-mer ; une évolution qui relierait un mois sur l'ancienne "
    "liste et un mois sur la nouvelle n'est pas publiée et porte le statut « rupture de série » (break), avec les "
    "deux listes dans la colonne Rupture de série."
)
EVOLUTION_STATUS_COLUMNS = (
    "evolution_6_mois_qpv_statut",
    "evolution_6_mois_hors_qpv_statut",
    "evolution_12_mois_qpv_statut",
    "evolution_12_mois_hors_qpv_statut",
)
GEOGRAPHIE = (
    "Liste des QPV en vigueur dans le territoire à la fin du mois : 2015 (décret 2014-1750), 2024 (décret "
    "2023-1314, au 1er janvier 2024 en métropole), 2015+2024 (en 2024 : métropole sur la liste 2024, outre-mer "
    "encore sur la liste 2015 jusqu'au 1er janvier 2025)."
)
ORIGINE = (
    "D'où vient l'effectif en QPV d'un territoire : extrait individuel (compté exactement par la plateforme), "
    "ensemble des QPV (producteur) (ligne « Ensemble des quartiers prioritaires » de France Travail, calculée sur "
    "données exactes) ou somme des QPV (aucun QPV masqué). Vide pour un QPV."
)
EVOLUTION_STATUT = (
    "publiée ; rupture de série (la liste des QPV diffère aux deux dates, l'évolution n'est pas publiée, voir la "
    "colonne Rupture de série) ; secret statistique (un effectif masqué) ; non disponible (mois antérieur non livré "
    "ou effectif inconnu) ; sans objet (effectif antérieur nul, ou hors QPV d'un QPV)."
)
RUPTURE = (
    "Pour chaque évolution non publiée pour rupture de série : les listes de QPV aux deux dates. Une évolution "
    "n'est calculée que sur une géographie constante : les deux mois sur la même liste de QPV."
)
EMPLOI_COLUMNS = (
    ("semestre", "Semestre", "period", "", "Semestre publié (2024-S1 : fin juin 2024)."),
    ("mois", "Mois", "period", "", "Mois de fin de semestre des données (demandeurs d'emploi en fin de mois)."),
    ("niveau", "Code niveau", "code", "", "france, region, departement ou qpv (en clair dans la colonne Niveau)."),
    ("libelle_niveau", "Niveau", "label", "", "France, Région, Département ou QPV."),
    ("code_territoire", "Code territoire", "code", "", "FR, code INSEE de la région ou du département, code du QPV."),
    ("territoire", "Territoire", "label", "", "Nom du territoire."),
    ("code_region", "Code région", "code", "", "Région du territoire."),
    ("code_departement", "Code département", "code", "", "Département du territoire (départements et QPV)."),
    ("categorie", "Catégorie", "code", "", "A ou ABC (demandeurs d'emploi inscrits à France Travail)."),
    (
        "ventilation",
        "Code ventilation",
        "code",
        "",
        "total, sexe=F, sexe=H, age=<26, age=26-49, age=50+ (en clair dans la colonne Ventilation).",
    ),
    (
        "libelle_ventilation",
        "Ventilation",
        "label",
        "",
        "Ensemble, Femmes, Hommes, Moins de 26 ans, 26 à 49 ans, 50 ans ou plus.",
    ),
    ("geographie", "Liste des QPV", "code", "", GEOGRAPHIE),
    (
        "de_qpv",
        "Demandeurs d'emploi en QPV",
        "count",
        "nombre",
        "Résidant dans les QPV du territoire (le QPV lui-même).",
        "personnes",
    ),
    (
        "de_qpv_statut",
        "Statut (QPV)",
        "status",
        "",
        "publiée, secret statistique (masqué par la plateforme ou QPV masqué par le producteur).",
    ),
    ("origine_de_qpv", "Origine de l'effectif en QPV", "label", "", ORIGINE),
    (
        "de_unite",
        "Demandeurs d'emploi du territoire",
        "count",
        "nombre",
        "Ensemble du territoire (sans objet pour un QPV).",
        "personnes",
    ),
    ("de_unite_statut", "Statut (territoire)", "status", "", "publiée, secret statistique, sans objet (QPV)."),
    (
        "de_hors_qpv",
        "Demandeurs d'emploi hors QPV",
        "count",
        "nombre",
        "Reste du territoire : territoire moins QPV.",
        "personnes",
    ),
    ("de_hors_qpv_statut", "Statut (hors QPV)", "status", "", "publiée, secret statistique, sans objet (QPV)."),
    ("part_ventilation_qpv", "Part dans les QPV", "share", "%", "Part de la ventilation parmi les demandeurs en QPV."),
    ("part_ventilation_hors_qpv", "Part hors QPV", "share", "%", "Part de la ventilation parmi ceux hors QPV."),
    ("part_qpv", "Part résidant en QPV", "share", "%", "Demandeurs en QPV sur ceux du territoire."),
    ("ecart_ventilation_points", "Écart QPV - hors QPV", "rate", "pts", "Part en QPV moins part hors QPV, en points."),
    ("evolution_6_mois_qpv", "Évolution sur 6 mois (QPV)", "rate", "%", "Évolution en % des demandeurs en QPV."),
    ("evolution_6_mois_qpv_statut", "Statut (évolution 6 mois, QPV)", "status", "", EVOLUTION_STATUT),
    ("evolution_6_mois_hors_qpv", "Évolution sur 6 mois (hors QPV)", "rate", "%", "Évolution en % hors QPV."),
    ("evolution_6_mois_hors_qpv_statut", "Statut (évolution 6 mois, hors QPV)", "status", "", EVOLUTION_STATUT),
    ("evolution_12_mois_qpv", "Évolution sur 12 mois (QPV)", "rate", "%", "Évolution en % des demandeurs en QPV."),
    ("evolution_12_mois_qpv_statut", "Statut (évolution 12 mois, QPV)", "status", "", EVOLUTION_STATUT),
    ("evolution_12_mois_hors_qpv", "Évolution sur 12 mois (hors QPV)", "rate", "%", "Évolution en % hors QPV."),
    ("evolution_12_mois_hors_qpv_statut", "Statut (évolution 12 mois, hors QPV)", "status", "", EVOLUTION_STATUT),
    ("rupture_serie", "Rupture de série", "text", "", RUPTURE),
    (
        "statut",
        "Statut de la ligne",
        "status",
        "",
        "secret statistique si un effectif de la ligne est masqué, sinon publiée.",
    ),
)
SERIE_COLUMNS = (
    ("niveau", "Code niveau", "code", "", "france ou region (en clair dans la colonne Niveau)."),
    ("libelle_niveau", "Niveau", "label", "", "France ou Région."),
    ("code_territoire", "Code territoire", "code", "", "FR ou code INSEE de la région."),
    ("territoire", "Territoire", "label", "", "Nom du territoire."),
    ("categorie", "Catégorie", "code", "", "A ou ABC."),
    ("semestre", "Semestre", "period", "", "Semestre."),
    ("mois", "Mois", "period", "", "Mois de fin de semestre."),
    ("geographie", "Liste des QPV", "code", "", GEOGRAPHIE),
    ("de_qpv", "Demandeurs d'emploi en QPV", "count", "nombre", "Résidant dans les QPV du territoire.", "personnes"),
    ("de_hors_qpv", "Demandeurs d'emploi hors QPV", "count", "nombre", "Reste du territoire.", "personnes"),
    ("statut", "Statut", "status", "", "publiée ou secret statistique."),
    (
        "rupture_serie",
        "Rupture de série",
        "text",
        "",
        "Renseignée au premier semestre sur une autre liste de QPV que le précédent : les effectifs avant et après "
        "ne portent pas sur les mêmes quartiers.",
    ),
)
DERIVED_COLUMNS = [name for name, _, role, *_ in EMPLOI_COLUMNS if role in ("share", "rate")]


def tables(frame: pd.DataFrame, serie: pd.DataFrame | None, paqte: pd.DataFrame | None = None) -> list:
    """The semestrial edition's tables (`emploi_qpv`, and `emploi_qpv_serie` and `paqte_departements` when given),
    shares rounded to 0.01, with the label columns of their codes (and PAQTE's unit of each row)."""
    from etl.publication.tables import labelled, table_from_spec

    frame = labelled(frame)
    frame[DERIVED_COLUMNS] = frame[DERIVED_COLUMNS].astype("float64").round(2)
    out = [
        table_from_spec(
            "emploi_qpv",
            f"Demandeurs d'emploi dans les QPV, {frame['semestre'].iloc[0]}",
            "Tableau de bord semestriel régional et départemental de l'emploi dans les quartiers "
            "prioritaires : demandeurs d'emploi en fin de semestre (catégories A et ABC, par sexe et âge) en QPV et "
            "dans le reste du territoire, parts, écarts et évolutions sur 6 et 12 mois.",
            EMPLOI_COLUMNS,
            frame,
            key=("niveau", "code_territoire", "categorie", "ventilation"),
        )
    ]
    if serie is not None:
        out.append(
            table_from_spec(
                "emploi_qpv_serie",
                "Demandeurs d'emploi en QPV et hors QPV, derniers semestres",
                "France et régions : demandeurs d'emploi (total) en QPV et hors QPV en fin de semestre.",
                SERIE_COLUMNS,
                labelled(serie),
                key=("niveau", "code_territoire", "categorie", "semestre"),
            )
        )
    if paqte is not None:
        out.append(
            table_from_spec(
                "paqte_departements",
                f"PAQTE : bilans des départements, {frame['semestre'].iloc[0]}",
                "Pacte avec les quartiers pour toutes les entreprises : état du bilan semestriel de "
                "chaque département et résultats agrégés des entreprises signataires par axe (sensibiliser, former, "
                "recruter, acheter). Effectifs de personnes sous 11 et montants de moins de 3 entreprises masqués.",
                PAQTE_TABLE_COLUMNS,
                paqte.assign(unite_statistique=[_paqte_unit(r.code_indicateur, r.unite) for r in paqte.itertuples()]),
                key=("code_departement", "code_indicateur"),
            )
        )
    return out


PAQTE_SQL = SQL_FOLDER / "publication" / "paqte_departements.sql"
PAQTE_COLUMNS = (
    ("code_departement", "Code département", "code", "", "Code INSEE du département."),
    ("departement", "Département", "label", "", "Nom du département."),
    ("code_region", "Code région", "code", "", "Région du département."),
    ("semestre", "Semestre", "period", "", "Semestre du bilan PAQTE."),
    ("etat", "État du bilan", "label", "", "acceptée, rejetée ou non reçue (bilan reçu et vérifié ou non)."),
    ("code_indicateur", "Code indicateur", "code", "", "Indicateur clé du PAQTE (ENTREPRISES : signataires)."),
    ("axe", "Axe", "label", "", "Sensibiliser, Former, Recruter, Acheter (vide pour les signataires)."),
    ("indicateur", "Indicateur", "label", "", "Libellé de l'indicateur clé."),
    ("unite", "Unité", "label", "", "nombre ou euros."),
    (
        "valeur",
        "Valeur",
        "rate",
        "selon l'unité",
        "Résultat agrégé des entreprises signataires du département.",
        PER_ROW_UNIT,
    ),
    (
        "statut",
        "Statut",
        "status",
        "",
        "publiée, secret statistique, non disponible (bilan non reçu ou non renseigné).",
    ),
)
PAQTE_UNIT = (
    "unite_statistique",
    "Unité statistique",
    "code",
    "",
    "Ce que compte l'indicateur : personnes (élèves, alternants, recrutés : secret statistique sous 11), structures "
    "(entreprises), places (stages proposés) ou euros.",
)
_AFTER_UNIT = [name for name, *_ in PAQTE_COLUMNS].index("unite") + 1
PAQTE_TABLE_COLUMNS = (*PAQTE_COLUMNS[:_AFTER_UNIT], PAQTE_UNIT, *PAQTE_COLUMNS[_AFTER_UNIT:])  # + each row's unit
PEOPLE = ("SENS_ELEVES_3E", "FORM_ALTERNANCE", "RECR_RESIDENTS", "RECR_CDI")  # counts of people: secrecy under 11
PAQTE_PLACES = ("SENS_STAGES_3E",)  # internships offered


def _paqte_unit(code: str, unit: str) -> str:
    """What a PAQTE indicator counts: personnes, structures (the companies), places or euros."""
    if unit == "euros":
        return "euros"
    if code in PEOPLE:
        return "personnes"
    if code in PAQTE_PLACES:
        return "places"
    if code == "ENTREPRISES" or code.endswith("_ENTREPRISES"):
        return "structures"
    raise ValueError(f"The PAQTE indicator {code} does not say what it counts (semestrial._paqte_unit).")


def read_paqte(engine, semester: str) -> pd.DataFrame:
    """The PAQTE reports of `semester` per département (sql/publication/paqte_departements.sql), read once per
    edition: its inputs' digest and `paqte_table` take the same frame."""
    import sqlalchemy as sa

    from etl.warehouse.frames import result_frame

    with engine.connect() as conn:
        return result_frame(conn.execute(sa.text(PAQTE_SQL.read_text(encoding="utf-8")), {"semester": semester}))


def paqte_table(engine, semester: str, rules, raw: pd.DataFrame | None = None):
    """(the PAQTE results of the semester per département, long: one row per département and key indicator, masked
    as statistical secrecy requires, and the gate-3 frame of its counts of people). `raw`: `read_paqte` of the
    semester when already read.

    Counts of people (pupils, work-study contracts, recruits) under the threshold are masked; an amount bought from
    fewer than `dominance_units` companies engaged on the axis is masked (the report does not give each company's
    share, so dominance cannot be checked beyond that: said in the dictionary). Nothing here is additive (CDI is a
    part of all recruits, not a sum), so there is no secondary suppression."""
    from etl.publication import disclosure
    from etl.quality.disclosure_check import gate3_frame
    from etl.submissions.paqte import KEY_INDICATORS

    if raw is None:
        raw = read_paqte(engine, semester)
    indicators = [("ENTREPRISES", "", "Entreprises signataires du PAQTE dans le département", "nombre")]
    indicators += [(k.code, k.axis, k.label, k.unit) for k in KEY_INDICATORS]
    departements = raw.drop_duplicates("code_departement")[
        ["code_departement", "departement", "code_region", "semestre", "etat", "accepted_batch_id"]
    ]
    values = {
        (
            r.code_departement,
            "ENTREPRISES" if r.field == "entreprises_signataires" else r.field.removeprefix("resultat."),
        ): r.value
        for r in raw.dropna(subset=["field"]).itertuples(index=False)
        if r.status == "ok"
    }
    rows = []
    for d in departements.itertuples(index=False):
        for code, axis, label, unit in indicators:
            value = values.get((d.code_departement, code))
            rows.append({
                "code_departement": d.code_departement, "departement": d.departement, "code_region": d.code_region,
                "semestre": d.semestre, "etat": d.etat, "code_indicateur": code, "axe": axis, "indicateur": label,
                "unite": unit, "valeur": float(value) if value is not None else np.nan,
            })  # fmt: skip
    frame = pd.DataFrame(rows)
    people = frame["code_indicateur"].isin(PEOPLE).to_numpy()
    counts = disclosure.primary(np.where(people, frame["valeur"], np.nan), "count", rules)
    # companies engaged on the indicator's axis (ACHA_QPV -> ACHA_ENTREPRISES): the units behind an amount
    engaged = [
        values.get((r.code_departement, f"{r.code_indicateur.split('_')[0]}_ENTREPRISES")) for r in frame.itertuples()
    ]
    euros = (frame["unite"] == "euros").to_numpy()
    contributors = np.where(euros, pd.to_numeric(pd.Series(engaged, dtype="object"), errors="coerce"), np.nan)
    amounts = disclosure.primary(np.where(euros, frame["valeur"], np.nan), "amount", rules, contributors=contributors)
    masked = counts.masked | amounts.masked
    frame.loc[masked, "valeur"] = np.nan
    frame["statut"] = np.where(masked, "masked", np.where(frame["valeur"].isna(), "missing", "ok"))
    check = gate3_frame(
        pd.DataFrame({"v": frame["valeur"].where(people), "s": frame["statut"]}),
        "v",
        "s",
        "count",
        (),
        rules.count_threshold,
    )
    return frame[[name for name, *_ in PAQTE_COLUMNS]], int(masked.sum()), check
