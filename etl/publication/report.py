"""The HTML report of an edition: a national page and one page per région, static and self-contained.

`render_report(tables, out_dir, edition_id=..., kind=..., period=..., fiches=...)` writes `index.html` (France) and
`region-<code>.html` for every région present in the tables, each with a navigation bar linking all the pages. With
`fiches` (code -> label of the indicators whose fiche méthodologique the edition holds, `fiches/<code>.html`, written
by etl.publication.fiches), every page links each indicator code and name it shows to its fiche and ends with the
list of the fiches; the fiches link back to `index.html` (`page_document` is the frame of every page). The
pages are meant for readers without SQL: French titles and short explanations, numbers formatted the French way
(`1 234`, `12,5 %`, with no-break spaces), masked cells shown `s` with a footnote on statistical secrecy, statuses
in French words (`tables.STATUS_LABELS`), the licence (`tables.LICENCE`) in every page's footer. They load nothing
(inline CSS, charts as inline SVG drawn here; a Content-Security-Policy forbids any other resource), so they open from a
USB key or an archive the same way, and hold no script but one: the QPV search box of an edition with portraits, inline
on the national page and allowed by its sha256 in that page's policy (`page_document(script=...)`).

With the données QPV tables (etl.publication.qpv_data, the annual edition), the report also has a portrait per QPV,
`qpv/<code>.html`, the list of them all `qpv/index.html` (linked from every page's navigation and from each région's
page), and on the national page a search box finding a QPV by name or code (etl.publication.report_qpv); `places`
(qpv_data.places) gives the communes and EPCI the portraits show. A semestrial edition has none of them.

What a page shows, by table name (a table that is absent is skipped):

- `bilan_conventions` (etl.publication.annual.BILAN_COLUMNS): national page: the France rows (value, target, gap,
  N-1) and, per indicator with a numeric target, a bar chart of the régions' values with the target as a line;
  région page: the région's rows with target, gap and observations, per indicator with a numeric target a chart
  of the région's value beside France's and the target, then the year's values of its départements in one compact
  table (etl.publication.report_departements; which départements a région has: catalogue/departements.csv).
- the données QPV tables with the QPV perimeters (`perimeters`, the annual edition): on each région's page, a map per
  département of its QPV coloured by a published figure, masked ones hatched (etl.publication.report_maps).
- `mesures_synthese` (statut, mesures, part): a bar chart and the table, on the national page.
- `completude_campagne` (code_region, region, etat, ...): a stacked bar of the régions per state and the table on
  the national page; the région's line on its page.
- `veille_active` (etl.publication.veille.VEILLE_COLUMNS): on the national page, how many QPV are in veille active,
  a summary of their figures per indicator and one line per QPV with its main figures of the year
  (etl.publication.report_veille), linked to the table's CSV file.
- `emploi_qpv_serie` (niveau, code_territoire, territoire, categorie, semestre, de_qpv, de_hors_qpv, statut): per
  category, a line chart of the job seekers in QPV and in the rest over the semesters (France on the national page,
  the région on its page) and the figures; a masked or missing point is a gap in its line.

A cell is shown as the export files show it (`exports.prepared_columns`): `s` when it holds no value and its
governing status says `masked`, empty when it has no value otherwise, a status as its French word. Every chart is
an `<svg class="chart" role="img">` with a `<title>` and a `<desc>`, and every text is escaped. The output depends
only on the tables, the arguments, the départements' referential and which data files of the edition already sit in
`out_dir` (they are linked): same inputs, same bytes.

This module assembles the pages; what they are made of lives in etl.publication.report_cells (French numbers,
cells, HTML tables), etl.publication.charts (the SVG charts), etl.publication.report_sections (one section per
table), etl.publication.report_departements (the départements of a région) and etl.publication.report_maps (the
maps).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from etl.publication import exports, report_maps, report_qpv
from etl.publication.report_cells import Page, cell_text, escape, format_number, relative_link
from etl.publication.report_departements import bilan_departements
from etl.publication.report_sections import (
    bilan_national,
    bilan_regional,
    comparability_section,
    completeness_national,
    completeness_regional,
    measures_section,
    series_section,
)
from etl.publication.report_veille import veille_section
from etl.publication.tables import LICENCE, Table
from etl.referentiels.periods import period_label

MASKED_MARK = exports.MASKED_MARK
INDEX = "index.html"
BILAN = "bilan_conventions"
MEASURES = "mesures_synthese"
COMPLETENESS = "completude_campagne"
SERIES = "emploi_qpv_serie"
DASHBOARD = "emploi_qpv"
VEILLE = "veille_active"

KIND_LABELS = {"annuelle": "Édition annuelle", "semestrielle": "Édition semestrielle"}
SECRET_NOTE = (
    f"{MASKED_MARK} : valeur masquée au titre du secret statistique. Les effectifs trop faibles pour être publiés "
    "sans risque d'identifier des personnes sont masqués, ainsi que certaines autres valeurs choisies pour qu'aucune "
    "valeur masquée ne puisse être recalculée à partir des totaux publiés (par exemple France moins les autres "
    "régions)."
)
READING_NOTE = (
    "Les nombres sont écrits à la française (1 234 ; 12,5 %). Une case vide signifie que la donnée n'est pas "
    "disponible ou sans objet ; la colonne de statut en donne la raison. Les écarts et évolutions d'une part sont "
    "exprimés en points (pts)."
)
EDITION_FILE_SUFFIXES = (".csv", ".xlsx", ".parquet")
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1d1d1d;
  margin: 0 auto; max-width: 72rem; padding: 0 1rem 2rem; line-height: 1.45; }
header { border-bottom: 3px solid #1b3a5c; margin-bottom: 1rem; }
.edition { color: #555; font-size: .9rem; margin: .8rem 0 0; }
h1 { color: #1b3a5c; margin: .3rem 0 .6rem; }
h2 { color: #1b3a5c; border-bottom: 1px solid #ccd; padding-bottom: .2rem; margin-top: 2rem; }
h3 { margin: 1.2rem 0 .4rem; font-size: 1.05rem; }
nav ul { list-style: none; padding: 0; margin: 0 0 .8rem; display: flex; flex-wrap: wrap; gap: .3rem .8rem; }
nav a { color: #1b3a5c; }
nav a[aria-current="page"] { font-weight: bold; text-decoration: none; }
.intro, .explication { max-width: 60rem; }
.defilement { overflow-x: auto; margin: .5rem 0 1rem; }
table.donnees { border-collapse: collapse; font-size: .9rem; }
table.donnees caption { text-align: left; font-weight: bold; padding: .3rem 0; }
table.donnees th, table.donnees td { border: 1px solid #ccd; padding: .25rem .45rem; vertical-align: top; }
table.donnees th { background: #eef1f6; text-align: left; }
table.donnees td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.donnees td.secret { color: #8a1c1c; font-weight: bold; }
table.donnees td.statut { white-space: nowrap; }
table.donnees td.large { min-width: 16rem; }
figure { margin: 1rem 0 1.5rem; }
figcaption { font-size: .85rem; color: #444; max-width: 60rem; }
svg.chart { max-width: 100%; height: auto; display: block; }
dl.identite { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0 1rem; }
dl.identite dt { font-weight: bold; }
dl.identite dd { margin: 0; }
.recherche label { display: block; font-weight: bold; margin: .6rem 0 .3rem; }
.recherche input { font-size: 1rem; padding: .3rem .4rem; width: 28rem; max-width: 100%; }
svg.chart text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.note { font-size: .85rem; color: #333; max-width: 60rem; }
footer { border-top: 1px solid #ccd; margin-top: 2rem; }
"""


# --- the pages ------------------------------------------------------------------------------------------------------


def _region_file(code: str) -> str:
    return f"region-{re.sub(r'[^A-Za-z0-9_-]', '_', code)}.html"


def _regions(by_name: dict[str, Table]) -> dict[str, str]:
    """{code: name} of the régions present in the tables, sorted by code."""
    found: dict[str, str] = {}

    def add(code: Any, name: Any) -> None:
        code = cell_text(code)
        if code and code not in found:
            found[code] = cell_text(name) or code

    for table_name in (BILAN, SERIES):
        table = by_name.get(table_name)
        if table is not None and {"niveau", "code_territoire", "territoire"} <= set(table.frame.columns):
            for niveau, code, name in table.frame[["niveau", "code_territoire", "territoire"]].itertuples(index=False):
                if niveau == "region":
                    add(code, name)
    table = by_name.get(COMPLETENESS)
    if table is not None and {"code_region", "region"} <= set(table.frame.columns):
        for code, name in table.frame[["code_region", "region"]].itertuples(index=False):
            add(code, name)
    return dict(sorted(found.items()))


def _departements(by_name: dict[str, Table]) -> dict[str, list[str]]:
    """{région code: its départements' codes} when the bilan has département rows, else {}."""
    table = by_name.get(BILAN)
    if table is None or "niveau" not in table.frame.columns or not (table.frame["niveau"] == "departement").any():
        return {}
    from etl.referentiels.territories import load_departements

    out: dict[str, list[str]] = {}
    for code, region in load_departements()[["code", "code_region"]].itertuples(index=False):
        out.setdefault(str(region), []).append(str(code))
    return out


def _nav(current: str, links: Sequence[tuple[str, str]]) -> str:
    """The navigation bar of the page `current`: `links` are (target, label), targets relative to the edition folder."""
    items = []
    for target, label in links:
        here = ' aria-current="page"' if target == current else ""
        items.append(f'<li><a href="{escape(relative_link(target, current))}"{here}>{escape(label)}</a></li>')
    return f'<nav aria-label="Pages du rapport"><ul>{"".join(items)}</ul></nav>'


def _files_section(tables: Sequence[Table], out_dir: Path) -> str:
    names = [name for table in tables for name in (f"{table.name}.csv", f"{table.name}.parquet")]
    names += ["tables.xlsx", "dictionnaire.csv"]
    present = [name for name in names if (out_dir / name).is_file() and name.endswith(EDITION_FILE_SUFFIXES)]
    if not present:
        return ""
    items = "".join(f'<li><a href="{escape(name)}">{escape(name)}</a></li>' for name in present)
    return (
        '<section id="fichiers"><h2>Fichiers de l\'édition</h2><p class="explication">Les mêmes tables, complètes, '
        "pour un tableur ou un outil d'analyse : CSV (séparateur point-virgule, UTF-8), classeur Excel, Parquet, et "
        f"le dictionnaire des colonnes.</p><ul>{items}</ul></section>"
    )


def edition_line(edition_id: str, kind: str, period: str) -> str:
    """The line above every page's title: the edition's kind, period and id."""
    kind_label = KIND_LABELS.get(kind, f"Édition {kind}")
    return f"Observatoire QPV · {kind_label} {period_label(period)} · référence {edition_id}"


def _fiches_section(page: Page) -> str:
    """The list of the edition's fiches méthodologiques, each linked from `page`."""
    items = "".join(f"<li>{page.indicator(code, f'{code} – {label}')}</li>" for code, label in page.fiches.items())
    return (
        '<section id="fiches"><h2>Fiches méthodologiques des indicateurs</h2><p class="explication">Pour chaque '
        "indicateur de l'édition : sa définition, sa source et son producteur, ce qu'il compte, ses territoires et sa "
        "périodicité, la règle de secret statistique qui s'applique, les ruptures de série connues, sa cible et le "
        f"texte dont il vient.</p><ul>{items}</ul></section>"
    )


def _script_source(script: str) -> str:
    """The CSP source allowing exactly the inline `script`: its sha256 (a hash works from a file:// page too)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def page_document(page: Page, *, heading: str, edition_line: str, nav: str, files: str, script: str = "") -> str:
    """The HTML document of a page of the edition (header, navigation `nav`, the page's parts, the files section
    `files`, the notes on reading, secrecy and licence), with the report's style and Content-Security-Policy; `script`:
    one inline script at the end of the body, the only one the policy then lets run (by its hash)."""
    notes = [
        f'<p class="note">{escape(READING_NOTE)}</p>',
        f'<p class="note" id="licence">Données publiées sous <a href="{escape(LICENCE["url"])}" rel="license">'
        f"{escape(LICENCE['name'])}</a>.</p>",
    ]
    if page.masked:
        notes.insert(0, f'<p class="note" id="secret-statistique">{escape(SECRET_NOTE)}</p>')
    body = "\n".join(page.parts) if page.parts else "<p>Aucune table de cette édition ne concerne cette page.</p>"
    csp = f"{CSP}; script-src {_script_source(script)}" if script else CSP
    scripts = f"<script>{script}</script>\n" if script else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        f"<title>{escape(page.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<header>\n<p class="edition">{escape(edition_line)}</p>\n<h1>{escape(heading)}</h1>\n{nav}\n</header>\n'
        f"<main>\n{body}\n{files}\n</main>\n"
        f"<footer>\n<h2>Comment lire ce rapport</h2>\n{''.join(notes)}\n</footer>\n{scripts}</body>\n</html>\n"
    )


def render_report(
    tables: list[Table],
    out_dir: Path,
    *,
    edition_id: str,
    kind: str,
    period: str,
    fiches: Mapping[str, str] | None = None,
    places: pd.DataFrame | None = None,
    perimeters: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the report of an edition's `tables` into `out_dir` (created if needed): `index.html` then
    `region-<code>.html` per région present, in code order, then, when the tables hold the données QPV tables, the
    QPV portraits (etl.publication.report_qpv): `qpv/index.html` and `qpv/<code>.html` in code order; returns their
    paths in that order. `fiches`: the indicators (code -> label) whose fiche sits in `out_dir/fiches/`, linked from
    the pages; `places`: the communes and EPCI of each QPV (etl.publication.qpv_data.places), shown in its portrait;
    `perimeters`: the QPV perimeters (etl.publication.report_maps.read_perimeters), drawn as maps on the régions'
    pages."""
    out_dir = Path(out_dir)
    by_name = {table.name: table for table in tables}
    regions = _regions(by_name)
    kind_label = KIND_LABELS.get(kind, f"Édition {kind}")
    period_text = period_label(period)
    line = edition_line(edition_id, kind, period)
    files = _files_section(tables, out_dir)
    portraits = report_qpv.Portraits(tables, places) if report_qpv.present(tables) else None
    maps = report_maps.Maps(tables, perimeters) if perimeters is not None else None
    links = [(INDEX, "France")] + [(_region_file(code), name) for code, name in regions.items()]
    if portraits is not None:
        links.append((report_qpv.LISTING, "Quartiers"))

    pages: list[tuple[Page, str]] = []
    fiches = dict(fiches or {})
    national = Page(INDEX, f"France – {kind_label.lower()} {period_text} – Observatoire QPV", fiches=fiches)
    departements = _departements(by_name)
    regions_line = ""
    if regions:
        regions_line = " Chaque région a sa page (liens ci-dessus)" + (
            ", avec les valeurs de ses départements." if departements else "."
        )
    national.add(
        '<p class="intro">Cette page présente les principaux résultats de l\'édition pour la France entière.'
        f"{regions_line} Les graphiques sont accompagnés des tableaux de valeurs.</p>"
    )
    if portraits is not None:
        national.add(portraits.search_section(national))
    if BILAN in by_name:
        bilan_national(national, by_name[BILAN])
    if MEASURES in by_name:
        measures_section(national, by_name[MEASURES])
    if COMPLETENESS in by_name:
        completeness_national(national, by_name[COMPLETENESS])
    if VEILLE in by_name:
        veille_section(national, by_name[VEILLE])
    if DASHBOARD in by_name:
        comparability_section(national, by_name[DASHBOARD])
    if SERIES in by_name:
        series_section(national, by_name[SERIES], "france", "FR", "France")
    pages.append((national, f"France – {kind_label} {period_text}"))

    for code, name in regions.items():
        page = Page(
            _region_file(code), f"{name} – {kind_label.lower()} {period_text} – Observatoire QPV", fiches=fiches
        )
        page.add(
            f'<p class="intro">Les résultats de l\'édition pour la région {escape(name)} (code {escape(code)}). '
            "La page "
            '<a href="index.html">France</a> donne les valeurs nationales et la comparaison entre régions.</p>'
        )
        if portraits is not None and portraits.in_region(code):
            page.add(
                f'<p class="intro">Chacun des {format_number(portraits.in_region(code))} quartiers prioritaires de la '
                f'région a son portrait : <a href="{escape(report_qpv.LISTING)}#region-{escape(code)}">les quartiers '
                "de la région, par département</a>.</p>"
            )
        if BILAN in by_name:
            bilan_regional(page, by_name[BILAN], code, name)
            bilan_departements(page, by_name[BILAN], name, departements.get(code, []))
        if maps is not None:
            maps.section(page, code, portraits=portraits is not None)
        if COMPLETENESS in by_name:
            completeness_regional(page, by_name[COMPLETENESS], code, name)
        if SERIES in by_name:
            series_section(page, by_name[SERIES], "region", code, name)
        pages.append((page, f"{name} – {kind_label} {period_text}"))

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    script = report_qpv.SEARCH_SCRIPT if portraits is not None else ""
    for page, heading in pages:
        if page.fiches:
            page.add(_fiches_section(page))
        document = page_document(
            page, heading=heading, edition_line=line, nav=_nav(page.file, links), files=files,
            script=script if page.file == INDEX else "",
        )  # fmt: skip
        path = out_dir / page.file
        path.write_bytes(document.encode("utf-8"))
        written.append(path)
    if portraits is not None:
        written += _write_portraits(portraits, out_dir, fiches, regions, line, f"{kind_label.lower()} {period_text}")
    return written


def _write_portraits(
    portraits: report_qpv.Portraits,
    out_dir: Path,
    fiches: dict[str, str],
    regions: dict[str, str],
    line: str,
    edition: str,
) -> list[Path]:
    """Write `qpv/index.html` and every QPV's portrait, each page linking France, its région and the list."""
    (out_dir / report_qpv.FOLDER).mkdir(exist_ok=True)
    listing, heading = portraits.listing(edition)
    everything = [(INDEX, "France"), (report_qpv.LISTING, "Quartiers")]
    written = []

    def write(page: Page, heading: str, links: list[tuple[str, str]]) -> None:
        document = page_document(page, heading=heading, edition_line=line, nav=_nav(page.file, links), files="")
        path = out_dir / page.file
        path.write_bytes(document.encode("utf-8"))
        written.append(path)

    write(listing, heading, everything)
    for page, heading, region in portraits.pages(fiches, edition):
        region_link = [(_region_file(region), regions[region])] if region in regions else []
        write(page, heading, [everything[0], *region_link, everything[1]])
    return written
