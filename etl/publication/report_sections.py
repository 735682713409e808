"""The sections of the HTML report's pages, one per published table (see etl.publication.report for what each
shows): each checks the columns it needs, then adds its explanations, charts and tables to a `Page`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from etl.publication import exports
from etl.publication.charts import bar_chart, line_chart, stacked_bar
from etl.publication.report_cells import (
    MASKED_MARK,
    Page,
    PreparedCells,
    cell_text,
    escape,
    figure,
    format_value,
    gap_unit,
    html_table,
    number_of,
)
from etl.publication.tables import Table
from etl.referentiels.periods import semester_short_label

ETAT_COLORS = {"acceptée": "#2e7d32", "rejetée": "#c62828", "non reçue": "#9e9e9e"}
OTHER_COLORS = ("#6a1b9a", "#ef6c00", "#00838f", "#5d4037")
QPV_COLOR = "#b8336a"
REST_COLOR = "#1f6f8b"


def _require(table: Table, names: Sequence[str]) -> None:
    have = {column.name for column in table.columns}
    missing = [name for name in names if name not in have]
    if missing:
        raise ValueError(f"Table {table.name}: the report needs the columns {', '.join(missing)}.")


BILAN_NEEDS = (
    "niveau",
    "code_territoire",
    "territoire",
    "code_indicateur",
    "libelle",
    "unite",
    "valeur",
    "statut",
    "cible_texte",
    "cible_valeur",
    "ecart_cible",
    "valeur_n1",
    "evolution_n1",
)
BILAN_NATIONAL = (
    "code_indicateur",
    "libelle",
    "libelle_ventilation",
    "producteur",
    "unite",
    "valeur",
    "statut",
    "note_valeur",
    "cible_texte",
    "echeance_cible",
    "ecart_cible",
    "valeur_n1",
    "evolution_n1",
)
BILAN_REGIONAL = (*BILAN_NATIONAL, "observations")
SERIES_NEEDS = ("niveau", "code_territoire", "territoire", "categorie", "semestre", "de_qpv", "de_hors_qpv", "statut")
COMPLETENESS_NEEDS = ("code_region", "region", "etat")
MEASURES_NEEDS = ("statut", "mesures")


def _bilan_units(cells: PreparedCells) -> dict[str, Any]:
    def unit(row: int) -> str:
        return cell_text(cells("unite", row))

    def gap(row: int) -> str:
        return gap_unit(cell_text(cells("unite", row)))

    return {"valeur": unit, "valeur_n1": unit, "ecart_cible": gap, "evolution_n1": gap}


def _target_when(cells: PreparedCells, row: int) -> tuple[str, str]:
    """(due year, scope) of the target on `row`, empty when the table does not say them."""
    due = cell_text(cells("echeance_cible", row)) if "echeance_cible" in cells.columns else ""
    scope = cell_text(cells("portee_cible", row)) if "portee_cible" in cells.columns else ""
    return due, scope


def _targets(cells: PreparedCells) -> list[tuple[str, str, str, float, str]]:
    """(indicator code, label, unit, numeric target, target as written with its due year) of every indicator with a
    numeric target, in the order of the table."""
    seen: dict[str, tuple[str, str, str, float, str]] = {}
    for row in range(len(cells.table.frame)):
        code = cell_text(cells("code_indicateur", row))
        target = number_of(cells("cible_valeur", row))
        if code and code not in seen and target is not None:
            due, _ = _target_when(cells, row)
            written = cell_text(cells("cible_texte", row))
            seen[code] = (
                code,
                cell_text(cells("libelle", row)),
                cell_text(cells("unite", row)),
                target,
                f"{written or format_value(target, cell_text(cells('unite', row)))} (échéance {due})"
                if due
                else written,
            )
    return list(seen.values())


TARGETS_NOTE = (
    "L'écart à la cible compare la valeur de l'année publiée à la cible nationale fixée en 2014, sans la ramener à "
    "l'année : une cible due pour 2015, ou qui porte sur toute la durée d'une expérimentation, n'est pas une cible "
    "de l'année publiée. Échéance et portée de chaque cible :"
)


def _targets_note(page: Page, cells: PreparedCells) -> str:
    """The due year and scope of every target of the table, so that no gap is read against a target silently."""
    items: dict[str, str] = {}
    for row in range(len(cells.table.frame)):
        code, written = cell_text(cells("code_indicateur", row)), cell_text(cells("cible_texte", row))
        if code and written and code not in items:
            due, scope = _target_when(cells, row)
            words = f" – cible {written} : " + (f"échéance {due}" if due else "pas d'échéance fixée")
            items[code] = f"<li>{page.indicator(code, code)}{escape(words + (f' ; {scope}' if scope else ''))}.</li>"
    if not items:
        return ""
    return f'<div class="note" id="cibles"><p>{escape(TARGETS_NOTE)}</p><ul>{"".join(items.values())}</ul></div>'


BILAN_EXPLANATION = (
    "Pour chaque indicateur des conventions interministérielles de 2014 : la valeur de l'année, la cible nationale "
    "telle qu'écrite dans l'annexe 2, l'écart à la cible (valeur moins cible, en points pour une part), la valeur de "
    "l'année précédente (N-1) et l'évolution sur un an. La valeur nationale est calculée selon l'unité : somme des "
    "régions pour un nombre, part recalculée pour un pourcentage (jamais une moyenne de pourcentages régionaux)."
)


def _fiche_links(page: Page, cells: PreparedCells) -> dict[str, Any]:
    """The bilan's indicator code and label cells, each linked to the indicator's fiche."""

    def href(row: int) -> str | None:
        return page.fiche_href(cell_text(cells("code_indicateur", row)))

    return {"code_indicateur": href, "libelle": href}


def bilan_national(page: Page, table: Table) -> None:
    _require(table, BILAN_NEEDS)
    cells = PreparedCells(table)
    page.add(
        f'<section id="bilan"><h2>{escape(table.title)}</h2>', f'<p class="explication">{escape(BILAN_EXPLANATION)}</p>'
    )
    france = cells.rows(niveau="france")
    if france:
        page.add(
            html_table(
                page,
                cells,
                france,
                [n for n in BILAN_NATIONAL if n in cells.columns],
                caption="France : valeur, cible et évolution par indicateur",
                units=_bilan_units(cells),
                signed=("ecart_cible", "evolution_n1"),
                wide=("libelle",),
                links=_fiche_links(page, cells),
            ),
            _targets_note(page, cells),
        )
    regions = cells.rows(niveau="region")
    targets = _targets(cells)
    if targets and regions:
        page.add(
            "<h3>Valeurs régionales et cible nationale</h3>",
            '<p class="explication">Une barre par région ; la ligne rouge en pointillés marque la cible nationale.</p>',
        )
    for code, label, unit, target, written in targets if regions else []:
        rows = [row for row in regions if cell_text(cells("code_indicateur", row)) == code]
        bars = [(cell_text(cells("territoire", row)), cells("valeur", row)) for row in rows]
        if not any(cell is not None for _, cell in bars):
            page.add(f"<p>{page.indicator(code, f'{code} – {label}')} : aucune valeur régionale disponible.</p>")
            continue
        france_value = next(
            (cells("valeur", row) for row in france if cell_text(cells("code_indicateur", row)) == code), None
        )
        shown_france = _cell_words(france_value, unit)
        chart = bar_chart(
            page,
            f"{code} – {label} : valeur régionale et cible",
            f"Valeur de chaque région pour l'indicateur {code} et cible nationale ({format_value(target, unit)}).",
            bars,
            unit,
            target=target,
            target_label=f"Cible : {format_value(target, unit)}",
        )
        page.add(
            figure(
                chart,
                f". Cible nationale : {written or format_value(target, unit)}. France : {shown_france}.",
                lead=page.indicator(code, f"{code} – {label}"),
            )
        )
    page.add("</section>")


def _cell_words(cell: Any, unit: str) -> str:
    if cell is exports.MASKED:
        return f"{MASKED_MARK} (secret statistique)"
    number = number_of(cell)
    return "non disponible" if number is None else format_value(number, unit)


def bilan_regional(page: Page, table: Table, code: str, name: str) -> None:
    _require(table, BILAN_NEEDS)
    cells = PreparedCells(table)
    rows = cells.rows(niveau="region", code_territoire=code)
    if not rows:
        return
    names = [n for n in BILAN_REGIONAL if n in cells.columns]
    page.add(
        f'<section id="bilan"><h2>{escape(table.title)}</h2>',
        f'<p class="explication">{escape(BILAN_EXPLANATION)} Les observations sont celles saisies par la région, '
        "telles quelles.</p>",
        html_table(
            page,
            cells,
            rows,
            names,
            caption=f"{name} : valeur, cible et observations par indicateur",
            units=_bilan_units(cells),
            signed=("ecart_cible", "evolution_n1"),
            wide=("libelle", "observations"),
            links=_fiche_links(page, cells),
        ),
        _targets_note(page, cells),
    )
    france = cells.rows(niveau="france")
    targets = _targets(cells)
    if targets:
        page.add(
            "<h3>Valeur de la région, valeur nationale et cible</h3>",
            '<p class="explication">Pour chaque indicateur qui a une cible chiffrée : la valeur de la région, celle de '
            "la France et la cible nationale (ligne rouge en pointillés).</p>",
        )
    for indicator, label, unit, target, written in targets:
        mine = next(
            (cells("valeur", row) for row in rows if cell_text(cells("code_indicateur", row)) == indicator), None
        )
        national = next(
            (cells("valeur", r) for r in france if cell_text(cells("code_indicateur", r)) == indicator), None
        )
        bars = [(name, mine), *([("France", national)] if france else [])]
        chart = bar_chart(
            page,
            f"{indicator} – {label} : {name}, France et cible",
            f"Valeur de {name} et de la France pour "
            f"l'indicateur {indicator}, et cible nationale ({format_value(target, unit)}).",
            bars,
            unit,
            target=target,
            target_label=f"Cible : {format_value(target, unit)}",
            highlight=("France",),
        )
        caption = f". Cible nationale : {written or format_value(target, unit)}."
        page.add(figure(chart, caption, lead=page.indicator(indicator, f"{indicator} – {label}")))
    page.add("</section>")


def measures_section(page: Page, table: Table) -> None:
    _require(table, MEASURES_NEEDS)
    cells = PreparedCells(table)
    rows = list(range(len(table.frame)))
    bars = [(cell_text(cells("statut", row)), cells("mesures", row)) for row in rows]
    chart = bar_chart(
        page,
        "Mesures de la feuille de route par état d'avancement",
        "Nombre de mesures numérotées de la feuille de route de 2018 dans chaque état d'avancement.",
        bars,
        "nombre",
    )
    page.add(
        f'<section id="mesures"><h2>{escape(table.title)}</h2>',
        f'<p class="explication">{escape(table.description)}</p>',
        figure(chart, "Nombre de mesures par état d'avancement."),
        html_table(page, cells, rows, [c.name for c in table.columns], caption="Mesures par état d'avancement"),
        "</section>",
    )


def _completeness_segments(cells: PreparedCells) -> list[tuple[str, int, str]]:
    counts: dict[str, int] = {}
    for row in range(len(cells.table.frame)):
        state = cell_text(cells("etat", row)) or "inconnu"
        counts[state] = counts.get(state, 0) + 1
    known = [state for state in ETAT_COLORS if state in counts]
    others = sorted(state for state in counts if state not in ETAT_COLORS)
    colors = {**ETAT_COLORS, **{state: OTHER_COLORS[i % len(OTHER_COLORS)] for i, state in enumerate(others)}}
    return [(state, counts[state], colors[state]) for state in [*known, *others]]


def completeness_national(page: Page, table: Table) -> None:
    _require(table, COMPLETENESS_NEEDS)
    cells = PreparedCells(table)
    segments = _completeness_segments(cells)
    summary = ", ".join(f"{label} : {count}" for label, count, _ in segments)
    chart = stacked_bar(page, "Régions par état de leur remise", f"Nombre de régions par état : {summary}.", segments)
    page.add(
        f'<section id="completude"><h2>{escape(table.title)}</h2>',
        f'<p class="explication">{escape(table.description)} Chaque région remet un classeur par campagne ; il est '
        "accepté s'il ne contient aucune erreur bloquante.</p>",
        figure(chart, f"Régions par état de leur remise ({summary})."),
        html_table(
            page,
            cells,
            list(range(len(table.frame))),
            [c.name for c in table.columns],
            caption="État de la remise de chaque région",
        ),
        "</section>",
    )


def completeness_regional(page: Page, table: Table, code: str, name: str) -> None:
    _require(table, COMPLETENESS_NEEDS)
    cells = PreparedCells(table)
    rows = cells.rows(code_region=code)
    if not rows:
        return
    page.add(
        f'<section id="completude"><h2>{escape(table.title)}</h2>',
        html_table(page, cells, rows, [c.name for c in table.columns], caption=f"État de la remise : {name}"),
        "</section>",
    )


SERIES_EXPLANATION = (
    "Demandeurs d'emploi inscrits à France Travail en fin de semestre, résidant dans les quartiers prioritaires (QPV) "
    "et dans le reste du territoire. Un point masqué par le secret statistique ou manquant interrompt la courbe."
)


def comparability_section(page: Page, table: Table) -> None:
    """How the dashboard's changes treat the change of QPV list: the rule, and how many were not published."""
    from etl.publication.semestrial import COMPARABILITY_RULE, comparability

    breaks = comparability([table])["changes_not_published"]
    lines = [
        f"<li>{escape(table.column(column).header)} : {count} non publiée(s)</li>"
        for column, count in breaks.items()
        if count
    ]
    summary = (
        f"<p>Évolutions non publiées pour rupture de série ({escape(table.name)}) :</p><ul>{''.join(lines)}</ul>"
        if lines
        else "<p>Aucune évolution de cette édition ne relie deux listes de QPV différentes.</p>"
    )
    page.add(
        '<section id="geographie"><h2>Évolutions et changement de géographie prioritaire</h2>',
        f'<p class="explication">{escape(COMPARABILITY_RULE)}</p>',
        summary,
        "</section>",
    )


def series_section(page: Page, table: Table, niveau: str, code: str, name: str) -> None:
    _require(table, SERIES_NEEDS)
    cells = PreparedCells(table)
    rows = cells.rows(niveau=niveau, code_territoire=code)
    if not rows:
        return
    page.add(
        f'<section id="emploi"><h2>{escape(table.title)}</h2>',
        f'<p class="explication">{escape(SERIES_EXPLANATION)}</p>',
    )
    categories = sorted({cell_text(cells("categorie", row)) for row in rows})
    for category in categories:
        mine = [row for row in rows if cell_text(cells("categorie", row)) == category]
        periods = sorted({cell_text(cells("semestre", row)) for row in mine})
        by_period = {cell_text(cells("semestre", row)): row for row in mine}
        series = [
            ("qpv", "En QPV", QPV_COLOR, [cells("de_qpv", by_period[p]) for p in periods]),
            ("hors-qpv", "Hors QPV", REST_COLOR, [cells("de_hors_qpv", by_period[p]) for p in periods]),
        ]
        gaps = [
            f"{semester_short_label(p)} ({label})"
            for _, label, _, values in series
            for p, cell in zip(periods, values, strict=True)
            if cell is exports.MASKED
        ]
        title = f"{name} – demandeurs d'emploi de catégorie {category}, en QPV et hors QPV"
        chart = line_chart(
            page,
            title,
            f"Nombre de demandeurs d'emploi de catégorie {category} en fin de semestre, de "
            f"{semester_short_label(periods[0])} à {semester_short_label(periods[-1])}, en QPV et hors QPV.",
            periods,
            series,
        )
        caption = f"Catégorie {category}, fin de semestre."
        if gaps:
            caption += f" Points masqués (secret statistique) : {', '.join(gaps)}."
        if "rupture_serie" in table.frame.columns:
            breaks = [
                f"{semester_short_label(p)} ({cell_text(cells('rupture_serie', by_period[p]))})"
                for p in periods
                if cell_text(cells("rupture_serie", by_period[p]))
            ]
            if breaks:
                caption += f" Rupture de série : {'; '.join(breaks)}."
        ordered = sorted(mine, key=lambda row: cell_text(cells("semestre", row)))
        page.add(
            f"<h3>Catégorie {escape(category)}</h3>",
            figure(chart, caption),
            html_table(
                page,
                cells,
                ordered,
                ["semestre", "de_qpv", "de_hors_qpv", "statut"],
                caption=f"{name}, catégorie {category}",
            ),
        )
    page.add("</section>")
