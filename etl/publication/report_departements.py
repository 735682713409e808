"""The départements of a région on its page of the HTML report: the bilan's département rows in one compact table.

`bilan_departements(page, table, name, departements)` adds to the page of the région `name` the year's values of
its départements (`departements`: their codes, in the order of the columns; names are the table's) for every
line of the bilan (etl.publication.annual.BILAN_COLUMNS): one row per indicator line, linked to its fiche, one column
per département, each cell as the files show it (`s` for a masked value, empty when it is not available); the lines
without any value for these départements are only named, in one sentence below the table. Targets, gaps, changes
and the départements' observations are in the edition's files, which hold every column.
"""

from __future__ import annotations

from collections.abc import Sequence

from etl.publication.report_cells import Page, PreparedCells, cell_display, cell_text, escape
from etl.publication.tables import Table

EXPLANATION = (
    "Valeur de l'année de chaque indicateur pour les départements de la région, quand le producteur national ou le "
    "classeur de la région (feuille Départements) la donne : une case vide signifie que la valeur n'est pas "
    "disponible. Les cibles, écarts, évolutions et observations départementales figurent dans les fichiers de "
    "l'édition."
)


def bilan_departements(page: Page, table: Table, name: str, departements: Sequence[str]) -> None:
    """The section of the départements of the région `name` on its page; nothing when the table has no row for
    them."""
    cells = PreparedCells(table)
    wanted = set(departements)
    names: dict[str, str] = {}
    lines: dict[tuple[str, str], int] = {}  # (indicator, breakdown) -> its first row, in the table's order
    found: dict[tuple[str, str, str], int] = {}  # (indicator, breakdown, département) -> row
    for row, niveau in enumerate(table.frame["niveau"].tolist()):
        territory = cell_text(cells("code_territoire", row))
        if niveau != "departement" or territory not in wanted:
            continue
        line = (cell_text(cells("code_indicateur", row)), cell_text(cells("ventilation", row)))
        lines.setdefault(line, row)
        found[(*line, territory)] = row
        names.setdefault(territory, cell_text(cells("territoire", row)) or territory)
    columns = [d for d in departements if d in names]
    if not columns:
        return
    value = table.column("valeur")
    head = '<th scope="col">Indicateur</th>' + "".join(
        f'<th scope="col">{escape(names[d])} ({escape(d)})</th>' for d in columns
    )
    body, empty = [], []
    for (indicator, breakdown), first in lines.items():
        part = cell_text(cells("libelle_ventilation", first)) if "libelle_ventilation" in cells.columns else ""
        part = f" ({part})" if breakdown != "total" and part else ""
        label = f"{indicator} – {cell_text(cells('libelle', first))}{part}"
        shown = []
        for departement in columns:
            row = found.get((indicator, breakdown, departement))
            cell = None if row is None else cells("valeur", row)
            shown.append(cell_display(cell, value, "" if row is None else cell_text(cells("unite", row))))
        if all(text == "" for text, _ in shown):
            empty.append(page.indicator(indicator, f"{indicator}{part}"))
            continue
        tds = [f'<th scope="row">{page.indicator(indicator, label)}</th>']
        for text, css in shown:
            if css == "num secret":
                page.masked = True
                tds.append(f'<td class="{css}" title="secret statistique">{escape(text)}</td>')
            else:
                tds.append(f'<td class="{css}">{escape(text)}</td>')
        body.append("<tr>" + "".join(tds) + "</tr>")
    page.add('<section id="departements"><h2>Les départements de la région</h2>')
    page.add(f'<p class="explication">{escape(EXPLANATION)}</p>')
    if body:
        page.add(
            f'<div class="defilement"><table class="donnees"><caption>{escape(name)} : valeur de l\'année par '
            f"département</caption><thead><tr>{head}</tr></thead><tbody>\n"
            + "\n".join(body)
            + "\n</tbody></table></div>"
        )
    if empty:
        page.add(f'<p class="note">Aucune valeur départementale cette année pour : {", ".join(empty)}.</p>')
    page.add("</section>")
