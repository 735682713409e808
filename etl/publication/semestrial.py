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
computed from a masked count is blanked. The producer's own masks (a QPV under 5) make the sums that hold them
unknown: such a sum is masked too, never estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.config import SQL_FOLDER

EMPLOI_SQL = SQL_FOLDER / "publication" / "emploi_qpv.sql"
COUNTS = ("de_qpv", "de_unite", "de_hors_qpv")
SEX = ("sexe=F", "sexe=H")
AGES = ("age=<26", "age=26-49", "age=50+")
LEVELS = ("france", "region", "departement", "qpv")


def semester_months(semester: str) -> tuple[str, str, str]:
    """(last month of the semester, 6 months before, 12 months before): `2024-S1` -> 2024-06, 2023-12, 2023-06."""
    year, half = int(semester[:4]), int(semester[-1])
    month = f"{year}-{6 * half:02d}"
    before = f"{year - 1}-12" if half == 1 else f"{year}-06"
    return month, before, f"{year - 1}-{6 * half:02d}"


def read_counts(engine, months) -> pd.DataFrame:
    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = conn.execute(sa.text(EMPLOI_SQL.read_text(encoding="utf-8")), {"months": list(months)}).mappings().all()
    frame = pd.DataFrame(rows)
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
    index = {
        (r.niveau, r.code, r.categorie, r.ventilation, r.column): i
        for i, r in enumerate(cells[["niveau", "code", "categorie", "ventilation", "column"]].itertuples(index=False))
    }
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
    parent_code = {"region": lambda r: "FR", "departement": lambda r: r.region, "qpv": lambda r: r.departement}
    groups: dict[tuple, list[tuple]] = {}
    for r in cells.itertuples(index=False):
        if r.niveau in parent_level and (r.niveau != "qpv" or r.column == "de_qpv"):
            total = (parent_level[r.niveau], parent_code[r.niveau](r), r.categorie, r.ventilation, r.column)
            groups.setdefault(total, []).append((r.niveau, r.code, r.categorie, r.ventilation, r.column))
    for total_key, parts in groups.items():
        add(total_key, parts)
    return cells, relations


def protect(frame: pd.DataFrame, rules) -> Protected:
    """Mask the counts of one month (see the module doc); the derived columns are computed afterwards."""
    from etl.publication import disclosure

    frame = frame.reset_index(drop=True)
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
    return Protected(out, masked, relations, published, statuses)


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
    months = semester_months(semester)
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
    for label, month in (("6_mois", months[1]), ("12_mois", months[2])):
        for column in ("de_qpv", "de_hors_qpv"):
            target = f"evolution_{label}_{column.removeprefix('de_')}"
            if month in protected:
                before = protected[month].frame.set_index(KEYS)[column]
                previous = before.reindex(pd.MultiIndex.from_frame(now[KEYS])).to_numpy()
                now[target] = _change(now[column], pd.Series(previous, index=now.index))
            else:
                now[target] = np.nan
    statuses = now[["de_qpv_statut", "de_unite_statut", "de_hors_qpv_statut"]]
    now["statut"] = np.where(statuses.eq("masked").any(axis=1), "masked", "ok")
    now.insert(0, "semestre", semester)
    return now, protected[months[0]].masked, protected


def previous_semesters(semester: str, count: int) -> list[str]:
    """`count` semesters ending with `semester`, oldest first: 2024-S2, 3 -> 2023-S2, 2024-S1, 2024-S2."""
    year, half = int(semester[:4]), int(semester[-1])
    out = []
    for _ in range(count):
        out.append(f"{year}-S{half}")
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return out[::-1]


def series(
    engine, semester: str, rules, known: dict[str, Protected], count: int = 6, counts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Job seekers in QPV and in the rest of France and of each région (total) at the end of the last `count`
    semesters that France Travail delivered, protected month by month as in the dashboard (`counts`: as for
    `dashboard`)."""
    frames = []
    for past in previous_semesters(semester, count):
        month = semester_months(past)[0]
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
    return out[["niveau", "code_territoire", "territoire", "categorie", "semestre", "mois", "de_qpv", "de_hors_qpv",
                "statut"]]  # fmt: skip


EMPLOI_COLUMNS = (
    ("semestre", "Semestre", "period", "", "Semestre publié (2024-S1 : fin juin 2024)."),
    ("mois", "Mois", "period", "", "Mois de fin de semestre des données (demandeurs d'emploi en fin de mois)."),
    ("niveau", "Niveau", "code", "", "france, region, departement ou qpv."),
    ("code_territoire", "Code territoire", "code", "", "FR, code INSEE de la région ou du département, code du QPV."),
    ("territoire", "Territoire", "label", "", "Nom du territoire."),
    ("code_region", "Code région", "code", "", "Région du territoire."),
    ("code_departement", "Code département", "code", "", "Département du territoire (départements et QPV)."),
    ("categorie", "Catégorie", "code", "", "A ou ABC (demandeurs d'emploi inscrits à France Travail)."),
    ("ventilation", "Ventilation", "code", "", "total, sexe=F, sexe=H, age=<26, age=26-49, age=50+."),
    (
        "de_qpv",
        "Demandeurs d'emploi en QPV",
        "count",
        "nombre",
        "Résidant dans les QPV du territoire (le QPV lui-même).",
    ),
    ("de_qpv_statut", "Statut (QPV)", "status", "", "ok, masked (secret statistique ou QPV masqué par le producteur)."),
    (
        "de_unite",
        "Demandeurs d'emploi du territoire",
        "count",
        "nombre",
        "Ensemble du territoire (sans objet pour un QPV).",
    ),
    ("de_unite_statut", "Statut (territoire)", "status", "", "ok, masked, not_applicable (QPV)."),
    ("de_hors_qpv", "Demandeurs d'emploi hors QPV", "count", "nombre", "Reste du territoire : territoire moins QPV."),
    ("de_hors_qpv_statut", "Statut (hors QPV)", "status", "", "ok, masked, not_applicable (QPV)."),
    ("part_ventilation_qpv", "Part dans les QPV", "share", "%", "Part de la ventilation parmi les demandeurs en QPV."),
    ("part_ventilation_hors_qpv", "Part hors QPV", "share", "%", "Part de la ventilation parmi ceux hors QPV."),
    ("part_qpv", "Part résidant en QPV", "share", "%", "Demandeurs en QPV sur ceux du territoire."),
    ("ecart_ventilation_points", "Écart QPV - hors QPV", "rate", "pts", "Part en QPV moins part hors QPV, en points."),
    ("evolution_6_mois_qpv", "Évolution sur 6 mois (QPV)", "rate", "%", "Évolution en % des demandeurs en QPV."),
    ("evolution_6_mois_hors_qpv", "Évolution sur 6 mois (hors QPV)", "rate", "%", "Évolution en % hors QPV."),
    ("evolution_12_mois_qpv", "Évolution sur 12 mois (QPV)", "rate", "%", "Évolution en % des demandeurs en QPV."),
    ("evolution_12_mois_hors_qpv", "Évolution sur 12 mois (hors QPV)", "rate", "%", "Évolution en % hors QPV."),
    ("statut", "Statut de la ligne", "status", "", "masked si un effectif de la ligne est masqué, sinon ok."),
)
SERIE_COLUMNS = (
    ("niveau", "Niveau", "code", "", "france ou region."),
    ("code_territoire", "Code territoire", "code", "", "FR ou code INSEE de la région."),
    ("territoire", "Territoire", "label", "", "Nom du territoire."),
    ("categorie", "Catégorie", "code", "", "A ou ABC."),
    ("semestre", "Semestre", "period", "", "Semestre."),
    ("mois", "Mois", "period", "", "Mois de fin de semestre."),
    ("de_qpv", "Demandeurs d'emploi en QPV", "count", "nombre", "Résidant dans les QPV du territoire."),
    ("de_hors_qpv", "Demandeurs d'emploi hors QPV", "count", "nombre", "Reste du territoire."),
    ("statut", "Statut", "status", "", "ok ou masked."),
)
DERIVED_COLUMNS = [name for name, _, role, *_ in EMPLOI_COLUMNS if role in ("share", "rate")]


def tables(frame: pd.DataFrame, serie: pd.DataFrame | None, paqte: pd.DataFrame | None = None) -> list:
    """The semestrial edition's tables (`emploi_qpv`, and `emploi_qpv_serie` and `paqte_departements` when given),
    shares rounded to 0.01."""
    from etl.publication.tables import table_from_spec

    frame = frame.copy()
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
        )
    ]
    if serie is not None:
        out.append(
            table_from_spec(
                "emploi_qpv_serie",
                "Demandeurs d'emploi en QPV et hors QPV, derniers semestres",
                "France et régions : demandeurs d'emploi (total) en QPV et hors QPV en fin de semestre.",
                SERIE_COLUMNS,
                serie,
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
                PAQTE_COLUMNS,
                paqte,
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
    ("valeur", "Valeur", "rate", "selon l'unité", "Résultat agrégé des entreprises signataires du département."),
    ("statut", "Statut", "status", "", "ok, masked (secret statistique), missing (bilan non reçu ou non renseigné)."),
)
PEOPLE = ("SENS_ELEVES_3E", "FORM_ALTERNANCE", "RECR_RESIDENTS", "RECR_CDI")  # counts of people: secrecy under 11


def paqte_table(engine, semester: str, rules):
    """(the PAQTE results of the semester per département, long: one row per département and key indicator, masked
    as statistical secrecy requires, and the gate-3 frame of its counts of people).

    Counts of people (pupils, work-study contracts, recruits) under the threshold are masked; an amount bought from
    fewer than `dominance_units` companies engaged on the axis is masked (the report does not give each company's
    share, so dominance cannot be checked beyond that: said in the dictionary). Nothing here is additive (CDI is a
    part of all recruits, not a sum), so there is no secondary suppression."""
    import sqlalchemy as sa

    from etl.publication import disclosure
    from etl.quality.disclosure_check import gate3_frame
    from etl.submissions.paqte import KEY_INDICATORS

    with engine.connect() as conn:
        raw = pd.DataFrame(
            conn.execute(sa.text(PAQTE_SQL.read_text(encoding="utf-8")), {"semester": semester}).mappings().all()
        )
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
