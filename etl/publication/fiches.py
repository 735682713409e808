"""The fiche méthodologique of every indicator an edition publishes: a static page `fiches/<code>.html` in the edition
folder, and a row in its dictionary.

Which indicators: every code of a `code_indicateur` column of the edition's tables, plus, beside the semestrial
dashboard (`emploi_qpv`, `emploi_qpv_serie`), the France Travail job-seeker indicators it is computed from
(`DASHBOARD_INDICATORS`, the codes sql/publication/emploi_qpv.sql reads). `read_fiches` reads what a fiche says from
the warehouse (sql/publication/fiches_indicateurs.sql: the catalogue row of core.indicator, the roadmap measure of a
2018 indicator, the values received over the edition's years in core.indicator_value_vintage), from the source
registry (the entry that loads the code: its `indicators:`, else the national or regional entry of a 2014 indicator)
and, for the PAQTE key indicators, which the catalogue does not hold, from the PAQTE table's own columns. A code found
nowhere is refused: an edition never publishes an indicator without its fiche.

A fiche says, in French: the definition (label, definition, convention and objectives, BOP, roadmap measure), the
producer and how the figure is collected, the registry entry that loads it and what the warehouse received, the unit
and what it counts, the territories of the edition and the periodicity, the secrecy rule that applies to what it
counts (`tables.SECRECY_RULE`: counts of people and households masked under the threshold, other units never), the
known breaks (the 2015 -> 2024 change of QPV list, the producers' revisions kept as vintages), the target, and the
text it comes from (`origin`). `write_fiches` writes the pages in the report's frame and style
(etl.publication.report.page_document), each linking back to the report's `index.html`, and returns code -> label
for the report's links. Same inputs, same bytes.

The dictionary gets one row per fiche (`dictionary_rows`, role `fiche`: the indicator code in `Colonne`, its label,
unit, what it counts, a short definition with the tables it is in and the fiche's path, and the secrecy that applies
in `Valeurs particulières`), in the dictionary's own eight columns: a fiche documents the edition like the rows of the
licence and of the secrecy rule, it is not a published table of figures (which would need a table of the
publication schema, its gate and its place in the BI contract).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from etl.config import SQL_FOLDER
from etl.publication.report import edition_line, page_document
from etl.publication.report_cells import FICHES_FOLDER, Page, escape, fiche_file, format_number
from etl.publication.tables import LEVEL_LABELS, SECRECY_RULE, SECRET_UNITS, Table, level_label
from etl.referentiels.periods import period_label, semester_end_months, semesters_ending_with

FICHES_SQL = SQL_FOLDER / "publication" / "fiches_indicateurs.sql"
CODE_COLUMN = "code_indicateur"
DASHBOARD_TABLES = ("emploi_qpv", "emploi_qpv_serie")
DASHBOARD_INDICATORS = ("FT_DEFM_A", "FT_DEFM_ABC", "FT_DEFM_QPV_A", "FT_DEFM_QPV_ABC", "FT_DEFM_INDIV_A",
                        "FT_DEFM_INDIV_ABC")  # fmt: skip
PAQTE_TABLE = "paqte_departements"
SERIES_SEMESTERS = 6  # the semesters of a semestrial edition's series (publish.publish_semestrial)
# the registry entries that load a 2014 indicator no entry lists in its `indicators:` (by its mode), and the PAQTE's
FALLBACK_SOURCES = {("convention_2014", "national"): "national_indicateurs", ("convention_2014", "local"): "regional",
                    ("paqte", "local"): "paqte"}  # fmt: skip

UNIT_WORDS = {
    "personnes": "des personnes",
    "foyers": "des foyers",
    "agents": "des agents en poste",
    "structures": "des structures",
    "places": "des places",
    "actes": "des actes (contrats, protocoles)",
    "actions": "des actions",
    "projets": "des projets",
    "zones": "des zones",
    "qpv": "des quartiers prioritaires",
    "postes": "des postes",
    "euros": "des euros",
}
UNITE_WORDS = {"nombre": "un nombre (effectif)", "%": "une part, en pourcentage", "euros": "un montant en euros"}
COMPARATOR_WORDS = {">=": "atteindre au moins la cible", "<=": "ne pas dépasser la cible", "=": "atteindre exactement "
                    "la cible", "maintien": "maintenir la valeur de référence"}  # fmt: skip

SECRECY_APPLIES = "le secret statistique s'applique"
SECRECY_NEVER = "le secret statistique ne s'applique pas"
GEOGRAPHY_BREAK = (
    "Changement de géographie prioritaire : la liste des quartiers prioritaires de 2015 (décret 2014-1750) vaut "
    "jusqu'en 2023 ; la liste de 2024 (décret 2023-1314) la remplace au 1er janvier 2024 en métropole et au 1er "
    "janvier 2025 outre-mer. Une valeur qui porte sur les QPV d'un territoire ne couvre donc pas les mêmes quartiers "
    "avant et après ce changement."
)
BILAN_BREAK = (
    "Dans le bilan annuel, les évolutions sur 1 et 3 ans rapprochent les valeurs telles que produites chaque année, "
    "sans correction de géographie : celles qui enjambent 2023 et 2024 (2024 et 2025 outre-mer) comparent deux listes "
    "de QPV et se lisent avec prudence."
)
NO_CHANGE_BREAK = "Cette édition ne publie pas d'évolution de cet indicateur."
ZUS_BREAK = (
    "Le libellé de 2014 nomme les ZUS (zones urbaines sensibles), la géographie prioritaire antérieure aux QPV de "
    "2015 : la cible de 2014 a été fixée sur les ZUS."
)
REVISIONS = (
    "Révisions : un producteur corrige parfois des valeurs déjà livrées (France Travail révise chaque mois les deux "
    "mois précédents ; une région peut remplacer son classeur). Chaque livraison est conservée comme un millésime "
    "(table core.indicator_value_vintage de l'entrepôt) et l'édition publie le dernier millésime connu à sa date."
)
PAQTE_REVISIONS = (
    "Révisions : un département peut remplacer son bilan du semestre ; le bilan remplacé reste conservé "
    "(core.paqte_submission) et l'édition publie le bilan accepté en vigueur à sa date."
)
INSTRUCTION_2014 = (
    "Instruction du Premier ministre n° 5706/SG du 26 mars 2014 relative à l'animation et à la mise en œuvre par "
    "l'administration territoriale de l'État des conventions d'objectifs pour les quartiers de la politique de la "
    "ville"
)
LETTER_2019 = (
    "Lettre du Premier ministre du 22 janvier 2019 relative à la mise en œuvre de la mobilisation nationale pour les "
    "habitants des quartiers"
)
ORIGIN_2014 = (
    f"{INSTRUCTION_2014}, annexe 2 : « Tableau de suivi des conventions interministérielles » "
    "(catalogue/indicateurs_2014.csv). Sa notice méthodologique prévoit une fiche méthodologique par indicateur."
)
ORIGIN_PAQTE = (
    f"{LETTER_2019}, annexe 2 : modalités de déploiement du PAQTE (pacte avec les quartiers pour toutes les "
    "entreprises), bilan quantitatif et qualitatif remis tous les six mois par chaque département. Les indicateurs "
    "clés sont un choix de l'Observatoire : la lettre renvoie pour eux au dossier de presse du PAQTE, qu'il n'a pas."
)
DASHBOARD_ORIGIN = (
    " Elle alimente le tableau de bord régional et départemental de l'emploi dans les quartiers, diffusé "
    f"semestriellement, que prévoit l'annexe 1 de l'{INSTRUCTION_2014[0].lower()}{INSTRUCTION_2014[1:]} "
    "(convention avec le ministère du travail, de l'emploi, de la formation professionnelle et du dialogue social du "
    "25 avril 2013)."
)


@dataclass(frozen=True)
class Received:
    """What the warehouse received for an indicator over the edition's years (core.indicator_value_vintage)."""

    years: tuple[int, ...]
    values: int  # figures (territory, period, breakdown)
    revised: int  # figures a later delivery revised (more than one vintage)
    vintages: int
    sources: tuple[str, ...]  # the sources that delivered them


@dataclass(frozen=True)
class Fiche:
    """What the fiche méthodologique of one indicator says (see the module docstring)."""

    code: str
    family: str  # convention_2014, feuille_de_route_2018, operator (core.indicator.family), or paqte
    libelle: str
    definition: str
    context: tuple[tuple[str, str], ...]  # (French label, text): convention, objectives, BOP, measure, axis
    producteur: str
    mode: str  # how the figure is collected, as the catalogue says it
    sources: tuple[str, ...]  # the registry entries that load it
    unite: str  # nombre, %, euros
    unite_statistique: str | None  # what it counts (catalogue vocabulary); None: not said yet
    periodicite: str
    regle_diffusion: str
    tables: tuple[str, ...]  # the edition's tables it is in (or behind)
    territories: dict[str, int]  # level -> territories of the edition's tables
    target: tuple[tuple[str, str], ...] = ()  # (French label, text) of the target, empty without one
    received: Received | None = None  # None when its values are not kept in core.indicator_value_vintage
    origin: str = ""  # the text it comes from
    dashboard: bool = False  # one of the job-seeker indicators behind the semestrial dashboard
    dominance_units: int = 3
    threshold: int = 11
    valued: dict[str, int] = field(default_factory=dict)  # level -> territories with a value (published or masked)


@dataclass
class _Usage:
    tables: list[str] = field(default_factory=list)
    territories: dict[str, int] = field(default_factory=dict)
    valued: dict[str, int] = field(default_factory=dict)
    row: dict[str, Any] = field(default_factory=dict)  # its first row (PAQTE: label, unit, what it counts, axis)


def _territories(frame: pd.DataFrame) -> dict[str, int]:
    """level -> number of territories of a table's rows: its `niveau` column, else its 2015 QPV (the veille-active
    table), else its départements, else France."""
    if "code_qpv_2015" in frame.columns:
        return {"qpv": int(frame["code_qpv_2015"].nunique())}
    if "niveau" in frame.columns:
        key = "code_territoire" if "code_territoire" in frame.columns else "niveau"
        present = set(frame["niveau"].dropna())
        return {
            level: int(frame.loc[frame["niveau"] == level, key].nunique()) for level in LEVEL_LABELS if level in present
        }
    if "code_departement" in frame.columns:
        return {"departement": int(frame["code_departement"].nunique())}
    return {"france": 1}


def _valued(frame: pd.DataFrame) -> dict[str, int]:
    """level -> number of territories of a table's rows that have a value (status published or masked), for a table
    with a `niveau` and a `statut` column; {} for any other table."""
    if not {"niveau", "statut", "code_territoire"} <= set(frame.columns):
        return {}
    with_value = frame[frame["statut"].isin(["ok", "masked"])]
    counts = with_value.groupby("niveau")["code_territoire"].nunique()
    return {str(level): int(counts.get(level, 0)) for level in frame["niveau"].dropna().unique()}


def _use(usage: dict[str, _Usage], code: str, table: Table, frame: pd.DataFrame) -> None:
    entry = usage.setdefault(code, _Usage())
    if table.name not in entry.tables:
        entry.tables.append(table.name)
    for level, count in _territories(frame).items():
        entry.territories[level] = max(count, entry.territories.get(level, 0))
    for level, count in _valued(frame).items():
        entry.valued[level] = max(count, entry.valued.get(level, 0))
    if not entry.row and not frame.empty:
        entry.row = frame.iloc[0].to_dict()


def indicator_usage(tables: Sequence[Table]) -> dict[str, _Usage]:
    """The indicators of an edition's tables (see the module docstring), in the order they first appear."""
    usage: dict[str, _Usage] = {}
    for table in tables:
        frame = table.frame
        if CODE_COLUMN in frame.columns:
            for code in pd.unique(frame[CODE_COLUMN].dropna()):
                _use(usage, str(code), table, frame[frame[CODE_COLUMN] == code])
        if table.name in DASHBOARD_TABLES:
            for code in DASHBOARD_INDICATORS:
                _use(usage, code, table, frame)
    return usage


def edition_years(kind: str, period: str) -> list[int]:
    """The years whose values an edition reads, consecutive: a semestrial edition's series and its changes over 12
    months, an annual edition's year and the three before (N-1, N-3)."""
    if kind == "semestrielle":
        months = {m for s in semesters_ending_with(period, SERIES_SEMESTERS) for m in semester_end_months(s)}
        first, last = min(int(month[:4]) for month in months), max(int(month[:4]) for month in months)
        return list(range(first, last + 1))
    year = int(period)
    return list(range(year - 3, year + 1))


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()


def _registry_sources(code: str, family: str, mode: str) -> tuple[str, ...]:
    from etl.sources.registry import all_sources

    valid, _ = all_sources()
    declared = tuple(sid for sid, entry in valid.items() if code in entry.indicators)
    fallback = FALLBACK_SOURCES.get((family, mode))
    return declared or ((fallback,) if fallback in valid else ())


def _target(row: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    written = _text(row.get("cible_texte"))
    if not written:
        return ()
    due = _text(row.get("cible_horizon"))
    out = [("Cible", written), ("Échéance", due or "pas d'échéance fixée par le texte")]
    if _text(row.get("cible_comparateur")) in COMPARATOR_WORDS:
        out.append(("Sens", COMPARATOR_WORDS[_text(row["cible_comparateur"])]))
    if _text(row.get("cible_portee")):
        out.append(("Portée", _text(row["cible_portee"])))
    return tuple(out)


def _context(row: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    labels = (
        ("convention", "Convention interministérielle"),
        ("objectif_strategique", "Objectif stratégique"),
        ("objectif_operationnel", "Objectif opérationnel"),
        ("bop", "BOP (programme budgétaire)"),
        ("mesure_axe", "Axe de la feuille de route"),
        ("mesure_programme", "Programme"),
        ("mesure_theme", "Thème"),
    )
    out = [(label, _text(row.get(name))) for name, label in labels if _text(row.get(name))]
    if _text(row.get("measure_numero")):
        out.append(("Mesure", f"n° {row['measure_numero']} : {_text(row.get('mesure_libelle'))}"))
    return tuple(out)


def _origin(family: str, row: dict[str, Any], producer: str, dashboard: bool) -> str:
    if family == "convention_2014":
        return ORIGIN_2014
    if family == "feuille_de_route_2018":
        return (
            f"{LETTER_2019}, annexe 3 : tableau de suivi des 40 mesures de la feuille de route de 2018, mesure "
            f"n° {_text(row.get('measure_numero'))} (catalogue/mesures_2018_indicateurs.csv)."
        )
    if family == "paqte":
        return ORIGIN_PAQTE
    text = (
        f"Statistique de l'opérateur {producer}, retenue par l'Observatoire (catalogue/indicateurs_operateurs.csv) : "
        "ce n'est pas un indicateur des textes de 2014 ou de 2019."
    )
    return text + (DASHBOARD_ORIGIN if dashboard else "")


def _catalogue_fiche(row: dict[str, Any], usage: _Usage, years: list[int], rules) -> Fiche:
    code, family = str(row["code"]), str(row["family"])
    producer = _text(row.get("producteur_donnee")) or _text(row.get("producteur"))
    dashboard = code in DASHBOARD_INDICATORS
    sources = tuple(s for s in _text(row.get("sources_livrees")).split(",") if s)
    return Fiche(
        code=code,
        family=family,
        libelle=_text(row["libelle"]),
        definition=_text(row["definition"]),
        context=_context(row),
        producteur=producer or "aucun producteur désigné : aucune source ne fournit encore cet indicateur",
        mode=_text(row.get("source")),
        sources=_registry_sources(code, family, _text(row.get("mode"))),
        unite=_text(row["unite"]),
        unite_statistique=_text(row.get("unite_statistique")) or None,
        periodicite=_text(row["periodicite"]),
        regle_diffusion=_text(row["regle_diffusion"]),
        tables=tuple(usage.tables),
        territories=dict(usage.territories),
        valued=dict(usage.valued),
        target=_target(row),
        received=Received(
            tuple(years), int(row["valeurs"]), int(row["valeurs_revisees"]), int(row["millesimes"]), sources
        ),  # fmt: skip
        origin=_origin(family, row, producer, dashboard),
        dashboard=dashboard,
        dominance_units=rules.dominance_units,
        threshold=rules.count_threshold,
    )


def _paqte_fiche(code: str, usage: _Usage, rules) -> Fiche:
    """The fiche of a PAQTE key indicator, from its row of the PAQTE table (label, axis, unit, what it counts)."""
    row = usage.row
    label, axis, unit = _text(row.get("indicateur")), _text(row.get("axe")), _text(row.get("unite"))
    counted = _text(row.get("unite_statistique")) or None
    where = f"sur l'axe « {axis} » du PAQTE" if axis else "du PAQTE"
    if counted in SECRET_UNITS:
        rule = f"effectif masqué sous {rules.count_threshold} (secret statistique)"
    elif unit == "euros":
        rule = f"montant masqué quand moins de {rules.dominance_units} entreprises engagées sur l'axe y contribuent"
    else:
        rule = "diffusé sans secret statistique (pas un effectif de personnes)"
    return Fiche(
        code=code,
        family="paqte",
        libelle=label,
        definition=f"{label} : résultat {where}, agrégé sur les entreprises signataires du département, tel que le "
        "département le déclare dans son bilan semestriel du PAQTE.",
        context=(("Axe du PAQTE", axis),) if axis else (),
        producteur="Préfectures de département (bilan semestriel du PAQTE)",
        mode="Local (préfecture de département)",
        sources=_registry_sources(code, "paqte", "local"),
        unite=unit,
        unite_statistique=counted,
        periodicite="semestrielle",
        regle_diffusion=rule,
        tables=tuple(usage.tables),
        territories=dict(usage.territories),
        valued=dict(usage.valued),
        origin=ORIGIN_PAQTE,
        dominance_units=rules.dominance_units,
        threshold=rules.count_threshold,
    )


def read_fiches(engine, tables: Sequence[Table], *, kind: str, period: str, rules=None) -> list[Fiche]:
    """The fiches of the indicators of an edition's `tables` (see the module docstring), in the order they first
    appear; `rules`: the disclosure rules of the edition (etl.publication.disclosure.Rules, by default its own)."""
    import sqlalchemy as sa

    from etl.publication.disclosure import Rules

    rules = rules or Rules()
    usage = indicator_usage(tables)
    years = edition_years(kind, period)
    with engine.connect() as conn:
        rows = {
            row["code"]: dict(row)
            for row in conn.execute(
                sa.text(FICHES_SQL.read_text(encoding="utf-8")),
                {"codes": list(usage), "first_year": str(years[0]), "after_year": str(years[-1] + 1)},
            ).mappings()
        }
    fiches = []
    for code, used in usage.items():
        if code in rows:
            fiches.append(_catalogue_fiche(rows[code], used, years, rules))
        elif PAQTE_TABLE in used.tables:
            fiches.append(_paqte_fiche(code, used, rules))
        else:
            raise ValueError(
                f"The indicator {code} of the table(s) {', '.join(used.tables)} is not in the catalogue "
                "(core.indicator): its fiche méthodologique cannot be written."
            )
    return fiches


# --- what a fiche says ----------------------------------------------------------------------------------------------


def secrecy(fiche: Fiche) -> tuple[str, str]:
    """(short words for the dictionary, the fiche's sentence) on the statistical secrecy that applies to what the
    indicator counts (`unite_statistique`)."""
    unit, threshold = fiche.unite_statistique, fiche.threshold
    if unit in SECRET_UNITS:
        what = UNIT_WORDS[unit]
        if fiche.unite == "%":
            return (
                f"secret statistique : {fiche.regle_diffusion}",
                f"Cet indicateur est une part dont le numérateur compte {what} (unité statistique « {unit} ») : "
                f"{SECRECY_APPLIES}, selon la règle de diffusion ci-dessous.",
            )
        return (
            f"secret statistique : effectif masqué sous {threshold}, avec secret secondaire",
            f"Cet indicateur compte {what} (unité statistique « {unit} ») : {SECRECY_APPLIES}. Une valeur inférieure "
            f"à {threshold} est masquée (« s » dans les fichiers), ainsi que les valeurs qui permettraient de la "
            "recalculer à partir des totaux publiés (secret secondaire).",
        )
    if unit is None:
        return (
            f"secret statistique : traité comme un effectif de personnes (sous {threshold})",
            "Le catalogue ne précise pas encore ce que compte cet indicateur : par précaution, un effectif est traité "
            f"comme un effectif de personnes, {SECRECY_APPLIES} (valeur inférieure à {threshold} masquée, avec secret "
            "secondaire).",
        )
    if unit == "euros" and fiche.family == "paqte":
        return (
            f"montant masqué quand moins de {fiche.dominance_units} entreprises y contribuent",
            f"Cet indicateur est un montant en euros, pas un effectif de personnes ni de foyers : le seuil de "
            f"{threshold} ne s'applique pas. Le montant est masqué quand moins de {fiche.dominance_units} entreprises "
            "signataires engagées sur l'axe y contribuent (règle de dominance).",
        )
    counts = (
        f"est une part dont le numérateur compte {UNIT_WORDS[unit]}"
        if fiche.unite == "%"
        else (f"compte {UNIT_WORDS[unit]}")
    )
    return (
        f"jamais masqué : {counts.removeprefix('est ')}",
        f"Cet indicateur {counts} (unité statistique « {unit} »), pas des personnes ni des foyers : {SECRECY_NEVER}, "
        "ses valeurs ne sont jamais masquées.",
    )


def breaks(fiche: Fiche) -> list[str]:
    """The known breaks of the indicator's series: the change of QPV list and what this edition does with it, the
    2014 ZUS, the producers' revisions and what the warehouse received."""
    out = [GEOGRAPHY_BREAK]
    if "emploi_qpv" in fiche.tables:
        from etl.publication.semestrial import COMPARABILITY_RULE

        out.append(COMPARABILITY_RULE)
    elif "bilan_conventions" in fiche.tables:
        out.append(BILAN_BREAK)
    else:
        out.append(NO_CHANGE_BREAK)
    if fiche.family == "convention_2014" and "ZUS" in f"{fiche.libelle} {fiche.definition}":
        out.append(ZUS_BREAK)
    out.append(PAQTE_REVISIONS if fiche.family == "paqte" else REVISIONS)
    if fiche.received is not None:
        out.append(_received(fiche.received))
    return out


def _received(received: Received) -> str:
    years = f"{received.years[0]} à {received.years[-1]}" if len(received.years) > 1 else str(received.years[0])
    if not received.values:
        return f"L'entrepôt n'a reçu aucune valeur de cet indicateur pour les années {years}."
    return (
        f"Pour les années {years}, l'entrepôt a reçu {format_number(received.values)} valeur(s) de cet indicateur "
        f"(territoire, période, ventilation) en {received.vintages} millésime(s), dont "
        f"{format_number(received.revised)} révisée(s) par une "
        f"livraison ultérieure ; livrées par : {', '.join(received.sources)}."
    )


def _territory_words(fiche: Fiche) -> str:
    """`France (1), Région (18), Département (101, dont 96 avec une valeur)`: a level whose territories do not all
    have a value in the edition says how many have one (the others are non disponible or sans objet)."""
    parts = []
    for level, count in fiche.territories.items():
        valued = fiche.valued.get(level, count)
        if valued >= count:
            words = str(count)
        else:
            words = f"{count}, dont {valued} avec une valeur" if valued else f"{count}, aucun avec une valeur"
        parts.append(f"{level_label(level)} ({words})")
    return ", ".join(parts) or "aucun"


def _sources_words(fiche: Fiche) -> str:
    from etl.sources.registry import source

    if not fiche.sources:
        return "aucune entrée du registre des sources ne charge encore cet indicateur"
    return " ; ".join(f"entrée « {sid} » (DAG « {source(sid).dag_id} »)" for sid in fiche.sources)


def _unit_words(fiche: Fiche) -> str:
    unite = UNITE_WORDS.get(fiche.unite, fiche.unite)
    if fiche.unite_statistique is None:
        return f"{unite} ; ce qu'il compte n'est pas encore précisé par le catalogue"
    counted = UNIT_WORDS.get(fiche.unite_statistique, fiche.unite_statistique)
    if fiche.unite == "%":
        return f"{unite} ; son numérateur compte {counted} (unité statistique « {fiche.unite_statistique} »)"
    return f"{unite} ; il compte {counted} (unité statistique « {fiche.unite_statistique} »)"


def dictionary_rows(fiches: Sequence[Fiche]) -> list[list[str]]:
    """One dictionary row per fiche (exports.dictionary_bytes' eight fields, role `fiche`)."""
    return [
        [
            "",
            fiche.code,
            fiche.libelle,
            "fiche",
            fiche.unite,
            fiche.unite_statistique or "",
            f"{fiche.definition} Tables : {', '.join(fiche.tables)}. Fiche méthodologique : {fiche_file(fiche.code)}.",
            secrecy(fiche)[0],
        ]
        for fiche in fiches
    ]


# --- the pages ------------------------------------------------------------------------------------------------------


def _rows(items: Sequence[tuple[str, str]], caption: str) -> str:
    body = "".join(f'<tr><th scope="row">{escape(label)}</th><td>{escape(text)}</td></tr>' for label, text in items)
    return (
        f'<div class="defilement"><table class="donnees"><caption>{escape(caption)}</caption><tbody>{body}'
        "</tbody></table></div>"
    )


def _section(anchor: str, title: str, *parts: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{"".join(parts)}</section>'


def _paragraphs(*texts: str) -> str:
    return "".join(f'<p class="explication">{escape(text)}</p>' for text in texts)


def render_fiche(fiche: Fiche, *, edition_id: str, kind: str, period: str) -> str:
    """The HTML page of one fiche (see the module docstring)."""
    page = Page(fiche_file(fiche.code), f"{fiche.code} – fiche méthodologique – Observatoire QPV")
    index = page.link("index.html")
    page.add(
        f"<p class=\"intro\">La fiche méthodologique de l'indicateur {escape(fiche.code)} dans l'édition "
        f'{escape(period_label(period))}. <a href="{escape(index)}">Retour au rapport de l\'édition</a>.</p>',
        _section(
            "definition",
            "Définition",
            _rows(
                [("Code", fiche.code), ("Libellé", fiche.libelle), ("Définition", fiche.definition), *fiche.context],
                "Définition de l'indicateur",
            ),  # fmt: skip
        ),
        _section(
            "source",
            "Source et producteur",
            _rows(
                [
                    ("Producteur", fiche.producteur),
                    ("Mode de renseignement", fiche.mode),
                    ("Chargé par", _sources_words(fiche)),
                ],
                "Source de la donnée",
            ),
        ),
        _section(
            "unite",
            "Unité et ce qu'il compte",
            _paragraphs(f"Unité : {_unit_words(fiche)}."),
        ),
        _section(
            "territoires",
            "Territoires et périodicité",
            _rows(
                [
                    ("Territoires de l'édition", _territory_words(fiche)),
                    ("Tables de l'édition", ", ".join(fiche.tables)),
                    ("Périodicité", fiche.periodicite),
                    ("Période de l'édition", period_label(period)),
                ],
                "Territoires et périodicité",
            ),
        ),
        _section(
            "secret",
            "Secret statistique",
            _paragraphs(secrecy(fiche)[1], f"Règle de diffusion : {fiche.regle_diffusion}.", SECRECY_RULE),
        ),
        _section("ruptures", "Ruptures de série et révisions", _paragraphs(*breaks(fiche))),
        _section(
            "cible",
            "Cible",
            _rows(fiche.target, "Cible nationale") if fiche.target else _paragraphs("Pas de cible nationale."),
        ),
        _section("origine", "Texte d'origine", _paragraphs(fiche.origin)),
    )
    nav = (
        f'<nav aria-label="Pages du rapport"><ul><li><a href="{escape(index)}">Rapport de l\'édition (France)</a>'
        f'</li><li><a href="{escape(index)}#fiches">Toutes les fiches</a></li></ul></nav>'
    )
    return page_document(
        page,
        heading=f"{fiche.code} – {fiche.libelle}",
        edition_line=edition_line(edition_id, kind, period),
        nav=nav,
        files="",
    )


def write_fiches(fiches: Sequence[Fiche], out_dir: Path, *, edition_id: str, kind: str, period: str) -> dict[str, str]:
    """Write `fiches/<code>.html` for every fiche into `out_dir`; returns code -> label of the fiches written."""
    names = [fiche_file(fiche.code) for fiche in fiches]
    taken = sorted({name for name in names if names.count(name) > 1})
    if taken:
        raise ValueError(f"Two indicators would share the fiche {taken[0]}.")
    (Path(out_dir) / FICHES_FOLDER).mkdir(parents=True, exist_ok=True)
    written = {}
    for fiche, name in zip(fiches, names, strict=True):
        document = render_fiche(fiche, edition_id=edition_id, kind=kind, period=period)
        (Path(out_dir) / name).write_bytes(document.encode("utf-8"))
        written[fiche.code] = fiche.libelle
    return written
