"""The HTML report's section on the QPV in veille active (table `veille_active`, etl.publication.veille).

On the national page of an annual edition: how many 2015 QPV left the priority geography (by year of exit, with a
2024 successor or not), per indicator for the edition's year how many of them have a published figure, a masked one
or none (non disponible) and the sum of the published figures, then one line per QPV with its main figures of the
year (job seekers, allocataire households, sport licences; `s` when masked, empty when not available), each indicator
linked to its fiche, and a link to the table's CSV file. Cells are shown as the export files show them.
"""

from __future__ import annotations

import pandas as pd

from etl.publication.report_cells import Page, PreparedCells, cell_text, escape, format_number, html_table
from etl.publication.tables import STATUS_LABELS, Table, table_from_spec
from etl.referentiels.periods import french_date

NEEDS = (
    "annee", "code_qpv_2015", "qpv", "code_departement", "departement", "communes", "sortie_geographie",
    "codes_qpv_2024_successeurs", "code_indicateur", "indicateur", "ventilation", "valeur", "statut",
)  # fmt: skip
# the indicators of the table of QPV: (code, header)
HEADLINE = (
    ("FT_DEFM_INDIV_ABC", "Demandeurs d'emploi (A, B, C)"),
    ("CAF_ALLOCATAIRES", "Foyers allocataires CAF"),
    ("IND20", "Licences sportives"),
)
EXPLANATION = (
    "Les quartiers prioritaires de 2015 sortis de la géographie prioritaire au 1er janvier 2024 (2025 outre-mer) "
    "restent suivis en veille active. Ils ne comptent plus parmi les QPV en vigueur : leurs chiffres n'entrent dans "
    "aucun total des QPV d'un territoire. Les producteurs qui les suivent encore les désignent par leur code de 2015 : "
    "demandeurs d'emploi de l'extrait individuel de France Travail (dernier mois de l'année couvert), foyers "
    "allocataires et personnes couvertes de la CAF, licences sportives. Un quartier absent des fichiers d'une année "
    "est non disponible, jamais compté 0 ; les petits effectifs sont masqués (secret statistique)."
)


def _summary(page: Page, frame: pd.DataFrame, year: int) -> str:
    """Per indicator (total, the edition's year): QPV with a published, masked or missing figure, and the sum of the
    published figures."""
    rows = frame[(frame["annee"] == year) & (frame["ventilation"] == "total")]
    lines = []
    for code, group in rows.groupby("code_indicateur", sort=False):
        counts = group["statut"].value_counts()
        published = group.loc[group["statut"] == "ok", "valeur"]
        label = page.indicator(code, str(group["indicateur"].iloc[0]))
        lines.append(
            f'<tr><td>{page.indicator(code, str(code))}</td><td class="large">{label}</td>'
            + "".join(f'<td class="num">{int(counts.get(status, 0))}</td>' for status in ("ok", "masked", "missing"))
            + f'<td class="num">{format_number(float(published.sum())) if len(published) else ""}</td></tr>'
        )
    head = "".join(
        f'<th scope="col">{escape(text)}</th>'
        for text in (
            "Code indicateur",
            "Indicateur",
            f"QPV : valeur {STATUS_LABELS['ok']}",
            f"QPV : {STATUS_LABELS['masked']}",
            f"QPV : {STATUS_LABELS['missing']}",
            "Somme des valeurs publiées",
        )
    )
    caption = f"Chiffres de {year} des quartiers en veille active, par indicateur"
    return (
        f'<div class="defilement"><table class="donnees"><caption>{escape(caption)}'
        f"</caption><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(lines) + "\n</tbody></table></div>"
    )


def _by_qpv(frame: pd.DataFrame, year: int) -> Table:
    """One row per QPV: its identity and, per headline indicator, the year's total and its status."""
    rows = frame[(frame["annee"] == year) & (frame["ventilation"] == "total")]
    identity = ["code_qpv_2015", "qpv", "departement", "communes", "sortie_geographie", "codes_qpv_2024_successeurs"]
    out = rows[identity].drop_duplicates("code_qpv_2015").set_index("code_qpv_2015", drop=False)
    spec = [
        ("code_qpv_2015", "Code QPV 2015", "code", "", ""),
        ("qpv", "Quartier", "label", "", ""),
        ("departement", "Département", "label", "", ""),
        ("communes", "Commune(s)", "label", "", ""),
        ("sortie_geographie", "Sortie", "period", "", ""),
        ("codes_qpv_2024_successeurs", "QPV 2024 successeur(s)", "code", "", ""),
    ]
    for position, (code, header) in enumerate(HEADLINE):
        figures = rows[rows["code_indicateur"] == code].set_index("code_qpv_2015")
        counts = "personnes" if code != "CAF_ALLOCATAIRES" else "foyers"
        out[f"v{position}"] = figures["valeur"].reindex(out.index).astype("float64")
        out[f"v{position}_statut"] = figures["statut"].reindex(out.index).fillna("missing")
        spec.append((f"v{position}", header, "count", "nombre", "", counts))
        spec.append((f"v{position}_statut", f"Statut – {header}", "status", "", ""))
    return table_from_spec("veille_par_qpv", "", "", spec, out)


def veille_section(page: Page, table: Table) -> None:
    """The section on the QPV in veille active (see the module doc), added to `page`."""
    missing = [name for name in NEEDS if name not in {column.name for column in table.columns}]
    if missing:
        raise ValueError(f"Table {table.name}: the report needs the columns {', '.join(missing)}.")
    frame = table.frame
    if frame.empty:
        return
    year = int(frame["annee"].max())
    qpv = frame.drop_duplicates("code_qpv_2015")
    exits = qpv["sortie_geographie"].value_counts().sort_index()
    exit_words = ", ".join(f"{int(count)} au {_day(day)}" for day, count in exits.items())
    successors = int(qpv["codes_qpv_2024_successeurs"].fillna("").ne("").sum())
    facts = (
        f"{len(qpv)} quartiers en veille active dans cette édition ({exit_words}), dont {successors} avec un "
        "ou plusieurs QPV de 2024 qui en reprennent une partie."
    )
    by_qpv = _by_qpv(frame, year)
    cells = PreparedCells(by_qpv)
    headers = "".join(
        f"<li>{page.indicator(code, f'{code} – {header}')}</li>"
        for code, header in HEADLINE
        if code in set(frame["code_indicateur"])
    )
    page.add(
        f'<section id="veille-active"><h2>{escape(table.title)}</h2>',
        f'<p class="explication">{escape(EXPLANATION)}</p>',
        f"<p>{escape(facts)} Table complète (toutes les ventilations, années N, N-1 et N-3) : "
        f'<a href="{escape(page.link(table.name + ".csv"))}">{escape(table.name)}.csv</a>.</p>',
        _summary(page, frame, year),
        f"<h3>Les quartiers en veille active en {year}</h3>",
        f'<p class="explication">Valeur de l\'année pour chaque quartier :</p><ul>{headers}</ul>',
        html_table(
            page,
            cells,
            list(range(len(by_qpv.frame))),
            [column.name for column in by_qpv.columns if column.role != "status"],
            caption=f"Quartiers en veille active : chiffres de {year}",
        ),
        "</section>",
    )


def _day(iso: str) -> str:
    """`2024-01-01` -> `1er janvier 2024`."""
    return french_date(cell_text(iso))
