"""The maps of the HTML report: on each région's page, one map per département of its QPV, coloured by a published
figure of the edition, drawn as inline SVG from the QPV perimeters (core.qpv_perimetre, the ANCT's polygons).

The figure is the first of `FIGURES` that the edition publishes for at least one QPV: the people covered by the CAF
per 100 inhabitants (`donnees_qpv_caf`, CAF_PERSONNES_COUVERTES, its `taux`: how much of a neighbourhood lives on a CAF
benefit), else the sport licences per 100 inhabitants, else the job seekers (A, B, C) per 100 inhabitants aged 15 to
64; the same figure on every page of the edition. Its values are cut into classes (`class_breaks`: up to five, at the
quantiles of the published values of the région's QPV, so that the départements of a région share one legend), each a
colour of a sequential palette; a QPV whose figure is masked by statistical secrecy is hatched (an SVG pattern) and
one without a figure (not available, without object) is grey; the legend, drawn in the SVG, says all three. A masked
QPV's value is never written in the SVG: its title says `secret statistique`, its class attribute `masque`, and the
classes are computed on published values only.

Each map is an `<svg class="chart carte" role="img">` with a `<title>` and a `<desc>` (how many QPV, masked, without
a figure), a `<title>` per QPV (name, code and the figure as the tables show it), no script, no external resource
(the page's Content-Security-Policy holds). The same figures are in a table below each map (inside a `<details>`),
each QPV linked to its portrait when the edition has them. The projection is equirectangular around the département's
QPV (longitudes scaled by the cosine of their mean latitude), which at this scale is true enough; a scale bar says
how many km a length of the map is.

`read_perimeters(engine, codes)` reads the simplified perimeters of the QPV an edition publishes (and the batches
they come from); `Maps(tables, perimeters)` prepares an edition's maps once, and its `section(page, region)` adds a
région's section to its page.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.config import SQL_FOLDER
from etl.publication import exports
from etl.publication.report_cells import (
    Page,
    PreparedCells,
    cell_display,
    cell_html,
    cell_text,
    escape,
    format_number,
    number_of,
    svg_number,
)
from etl.publication.report_qpv import portrait_file
from etl.publication.tables import Table

PERIMETERS_SQL = SQL_FOLDER / "publication" / "qpv_perimetres.sql"


@dataclass(frozen=True)
class MapFigure:
    """A published figure a map can show: the table, indicator and column of its QPV rows, and how to name it."""

    table: str
    indicator: str
    column: str
    label: str
    unit: str


FIGURES = (
    MapFigure("donnees_qpv_caf", "CAF_PERSONNES_COUVERTES", "taux", "Personnes couvertes par la CAF",
              "pour 100 habitants"),
    MapFigure("donnees_qpv_sport", "IND20", "taux", "Licences sportives", "pour 100 habitants"),
    MapFigure("donnees_qpv_emploi", "FT_DEFM_ABC", "taux", "Demandeurs d'emploi (catégories A, B, C)",
              "pour 100 habitants de 15 à 64 ans"),
)  # fmt: skip
PALETTE = ("#ffffd4", "#fed98e", "#fe9929", "#d95f0e", "#993404")  # sequential, colour-blind safe (ColorBrewer YlOrBr)
MISSING_COLOR = "#bdbdbd"
HATCH_COLOR = "#4d4d4d"
STROKE_COLOR = "#5a5a5a"
MAP_WIDTH, MAP_HEIGHT, LEGEND_WIDTH, MARGIN = 460, 400, 250, 10
MIN_SPAN_DEGREES = 0.05  # a département with one small QPV is shown with about 5 km around it, not blown up
CLASS_COUNT = 5
KM_PER_DEGREE = 111.32  # of latitude
SCALE_LENGTHS = (0.5, 1, 2, 5, 10, 20, 50, 100, 200)  # km
MASKED_LABEL = "secret statistique"
MISSING_LABEL = "non disponible"
EXPLANATION = (
    "Chaque carte montre les quartiers prioritaires d'un département, à leur place et dans leur forme (périmètres de "
    "l'ANCT, simplifiés pour l'affichage), colorés selon la classe de leur valeur ; les classes sont les mêmes pour "
    "tous les départements de la région. Un quartier hachuré a une valeur masquée au titre du secret statistique ; un "
    "quartier gris n'a pas de valeur publiée. Les valeurs sont dans le tableau sous chaque carte."
)


# --- reading -------------------------------------------------------------------------------------------------------


def read_perimeters(engine, codes: Sequence[str]) -> pd.DataFrame:
    """The simplified perimeters (`code_qpv`, `geometrie_simplifiee`, `batch_id`) of the QPV `codes` that have one,
    sorted by code; empty when none has (or before the perimeters were ever loaded)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = conn.execute(sa.text(PERIMETERS_SQL.read_text(encoding="utf-8")), {"codes": sorted(set(codes))}).all()
    return pd.DataFrame(rows, columns=["code_qpv", "geometrie_simplifiee", "batch_id"])


# --- the figure and its classes ------------------------------------------------------------------------------------


@dataclass
class _Quartier:
    code: str
    name: str
    departement: str
    cell: object  # the prepared cell: a number, exports.MASKED or None


def _figure_rows(tables: Sequence[Table], figure: MapFigure) -> tuple[Table, list[int]] | None:
    """(the figure's table restricted to its QPV rows of the whole, their rows) when the edition has them."""
    table = next((t for t in tables if t.name == figure.table), None)
    needed = {"niveau", "code_territoire", "territoire", "code_departement", "code_region", "code_indicateur",
              "ventilation", figure.column}  # fmt: skip
    if table is None or not needed <= set(table.frame.columns):
        return None
    frame = table.frame
    keep = (
        (frame["niveau"] == "qpv") & (frame["code_indicateur"] == figure.indicator) & (frame["ventilation"] == "total")
    )
    if not keep.any():
        return None
    return dataclasses.replace(table, frame=frame.loc[keep].reset_index(drop=True)), list(range(int(keep.sum())))


def chosen_figure(tables: Sequence[Table]) -> MapFigure | None:
    """The first of `FIGURES` with a published value for at least one QPV of the edition."""
    for figure in FIGURES:
        found = _figure_rows(tables, figure)
        if found is not None:
            cells = PreparedCells(found[0])
            if any(number_of(cells(figure.column, row)) is not None for row in found[1]):
                return figure
    return None


def class_breaks(values: Sequence[float], count: int = CLASS_COUNT) -> list[float]:
    """The upper bounds (excluded) of the classes but the last: the quantiles of `values` cutting them into `count`
    groups, rounded to one decimal, strictly inside the range of the values (fewer when values repeat)."""
    if not len(values):
        return []
    ordered = np.sort(np.asarray(values, dtype=float))
    quantiles = np.quantile(ordered, [i / count for i in range(1, count)])
    return sorted({b for b in (round(float(q), 1) for q in quantiles) if ordered[0] < b <= ordered[-1]})


def class_labels(breaks: Sequence[float], values: Sequence[float]) -> list[str]:
    """The legend's words for each class of `breaks` (`moins de 12,5`, `12,5 à moins de 20`, `20 et plus`)."""
    if not breaks:
        low, high = (min(values), max(values)) if len(values) else (0.0, 0.0)
        return [f"{format_number(low, max_decimals=1)} à {format_number(high, max_decimals=1)}"]
    words = [f"moins de {format_number(breaks[0], max_decimals=1)}"]
    words += [f"{format_number(a, max_decimals=1)} à moins de {format_number(b, max_decimals=1)}"
              for a, b in zip(breaks, breaks[1:], strict=False)]  # fmt: skip
    return [*words, f"{format_number(breaks[-1], max_decimals=1)} et plus"]


def class_colors(count: int) -> list[str]:
    """`count` colours of the palette, spread from its lightest to its darkest."""
    if count == 1:
        return [PALETTE[2]]
    return [PALETTE[round(i * (len(PALETTE) - 1) / (count - 1))] for i in range(count)]


# --- drawing -------------------------------------------------------------------------------------------------------


@dataclass
class _Projection:
    lon0: float
    lat1: float
    scale: float
    kx: float

    def path(self, geometry) -> str:
        """The SVG path of a polygon or multipolygon (holes drawn with the even-odd rule)."""
        import shapely

        parts = []
        for polygon in shapely.get_parts(geometry):
            for ring in [polygon.exterior, *polygon.interiors]:
                coords = np.asarray(ring.coords)
                xs = MARGIN + (coords[:, 0] - self.lon0) * self.kx * self.scale
                ys = MARGIN + (self.lat1 - coords[:, 1]) * self.scale
                points = " ".join(f"{svg_number(x)},{svg_number(y)}" for x, y in zip(xs[:-1], ys[:-1], strict=True))
                parts.append(f"M{points}Z")
        return "".join(parts)


def _projection(geometries: Sequence) -> tuple[_Projection, float]:
    """The projection fitting `geometries` in the map's frame, and the map's drawn height."""
    bounds = np.array([g.bounds for g in geometries])
    lon0, lat0, lon1, lat1 = bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()
    for low, high, index in ((lon0, lon1, 0), (lat0, lat1, 1)):
        if high - low < MIN_SPAN_DEGREES:
            grow = (MIN_SPAN_DEGREES - (high - low)) / 2
            if index == 0:
                lon0, lon1 = low - grow, high + grow
            else:
                lat0, lat1 = low - grow, high + grow
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    width, height = (lon1 - lon0) * kx, lat1 - lat0
    scale = min((MAP_WIDTH - 2 * MARGIN) / width, (MAP_HEIGHT - 2 * MARGIN) / height)
    return _Projection(lon0, lat1, scale, kx), height * scale + 2 * MARGIN


def _legend(ident: str, figure: MapFigure, labels: Sequence[str], colors: Sequence[str]) -> tuple[str, float]:
    """The legend drawn right of the map: the figure's name, one swatch per class, hatched = secret, grey = none."""
    x = MAP_WIDTH + 20
    parts = [
        f'<text x="{x}" y="20" font-size="12" font-weight="bold">{escape(figure.label)}</text>',
        f'<text x="{x}" y="36" font-size="11">{escape(figure.unit)}</text>',
    ]
    entries = [(f'fill="{color}"', label) for color, label in zip(colors, labels, strict=True)]
    entries += [(f'fill="url(#{ident}-hachures)"', MASKED_LABEL), (f'fill="{MISSING_COLOR}"', MISSING_LABEL)]
    y = 50
    for fill, label in entries:
        parts.append(
            f'<g class="legende"><rect x="{x}" y="{y}" width="18" height="14" {fill} stroke="{STROKE_COLOR}" '
            f'stroke-width="0.5"/><text x="{x + 26}" y="{y + 11}" font-size="12">{escape(label)}</text></g>'
        )
        y += 22
    return "".join(parts), y


def departement_map(
    page: Page,
    figure: MapFigure,
    name: str,
    quartiers: Sequence[_Quartier],
    shapes: Mapping[str, object],
    breaks: Sequence[float],
    labels: Sequence[str],
) -> str:
    """The SVG map of the QPV `quartiers` of the département `name` that have a shape (see the module doc)."""
    drawn = [q for q in quartiers if q.code in shapes]
    projection, height = _projection([shapes[q.code] for q in drawn])
    ident = page.chart_id()
    colors = class_colors(len(labels))
    legend, legend_bottom = _legend(ident, figure, labels, colors)
    total_height = math.ceil(max(height, legend_bottom + 10))
    width = MAP_WIDTH + LEGEND_WIDTH
    masked = sum(1 for q in drawn if q.cell is exports.MASKED)
    missing = sum(1 for q in drawn if q.cell is not exports.MASKED and number_of(q.cell) is None)
    title = f"{name} : {figure.label.lower()} {figure.unit}, par quartier prioritaire"
    desc = (
        f"Carte des {len(drawn)} quartiers prioritaires du département {name}, colorés selon la classe de la valeur "
        f"({len(labels)} classe{'s' if len(labels) > 1 else ''}) ; {masked} hachuré{'s' if masked > 1 else ''} "
        f"(secret statistique), {missing} en gris (non disponible)."
    )
    parts = [
        f'<svg class="chart carte" role="img" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{total_height}" viewBox="0 0 {width} {total_height}" aria-labelledby="{ident}-titre {ident}-desc">'
        f'<title id="{ident}-titre">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<defs><pattern id="{ident}-hachures" patternUnits="userSpaceOnUse" width="6" height="6" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{HATCH_COLOR}" stroke-width="2.5"/></pattern></defs>',
        f'<rect x="0.5" y="0.5" width="{MAP_WIDTH - 1}" height="{total_height - 1}" fill="#f7f9fc" stroke="#ccd"/>',
    ]
    for quartier in drawn:
        value = number_of(quartier.cell)
        if quartier.cell is exports.MASKED:
            fill, css, said = f"url(#{ident}-hachures)", "qpv masque", MASKED_LABEL
        elif value is None:
            fill, css, said = MISSING_COLOR, "qpv non-disponible", MISSING_LABEL
        else:
            rank = bisect.bisect_right(breaks, value) if breaks else 0
            fill, css = colors[rank], f"qpv classe-{rank + 1}"
            said = f"{format_number(value, max_decimals=1)} {figure.unit}"
        parts.append(
            f'<path class="{css}" d="{projection.path(shapes[quartier.code])}" fill="{fill}" fill-rule="evenodd" '
            f'stroke="{STROKE_COLOR}" stroke-width="0.7"><title>{escape(quartier.name)} ({escape(quartier.code)}) : '
            f"{escape(said)}</title></path>"
        )
    parts += [_scale_bar(projection, total_height), legend, "</svg>"]
    return "".join(parts)


def _scale_bar(projection: _Projection, height: float) -> str:
    """A scale bar at the bottom left of the map: the longest round length (in km) drawn in at most 120 pixels."""
    per_km = projection.scale / KM_PER_DEGREE  # pixels per km, north-south (east-west is the same once scaled)
    length = max((km for km in SCALE_LENGTHS if km * per_km <= 120), default=SCALE_LENGTHS[0])
    x0, x1, y = MARGIN + 4, MARGIN + 4 + length * per_km, height - 12
    return (
        f'<g class="echelle"><path d="M{svg_number(x0)},{svg_number(y - 4)}V{svg_number(y)}H{svg_number(x1)}'
        f'V{svg_number(y - 4)}" fill="none" stroke="#333" stroke-width="1.2"/><text x="{svg_number(x1 + 5)}" '
        f'y="{svg_number(y)}" font-size="11">{format_number(length)} km</text></g>'
    )


def _values_table(
    page: Page, figure: MapFigure, column, name: str, quartiers: Sequence[_Quartier], linked: bool
) -> str:
    """The figures of the map, one row per QPV, inside a `<details>` (the map's text alternative)."""
    rows = []
    for quartier in quartiers:
        text, css = cell_display(quartier.cell, column, "")
        href = page.link(portrait_file(quartier.code)) if linked else None
        cells = [cell_html(page, quartier.name, href=href), cell_html(page, quartier.code), cell_html(page, text, css)]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<details><summary>Les valeurs de la carte ({len(quartiers)} quartiers)</summary>"
        f'<div class="defilement"><table class="donnees"><caption>{escape(name)} : {escape(figure.label.lower())} '
        f'{escape(figure.unit)}</caption><thead><tr><th scope="col">Quartier</th><th scope="col">Code</th>'
        f'<th scope="col">{escape(figure.label)} {escape(figure.unit)}</th></tr></thead><tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table></div></details>"
    )


def _shapes(perimeters: pd.DataFrame | None) -> dict[str, object]:
    import shapely

    if perimeters is None or perimeters.empty:
        return {}
    geometries = shapely.from_geojson(perimeters["geometrie_simplifiee"].to_numpy(dtype=object))
    return dict(zip(perimeters["code_qpv"].astype(str), geometries, strict=True))


class Maps:
    """The maps of an edition's report: the figure chosen, its QPV rows grouped by région and département, and the
    shapes parsed once (`perimeters`: `read_perimeters`' frame); `section(page, region)` adds a région's maps."""

    def __init__(self, tables: Sequence[Table], perimeters: pd.DataFrame | None) -> None:
        self.figure = chosen_figure(tables)
        self.regions: dict[str, dict[str, list[_Quartier]]] = {}
        self.names: dict[str, str] = {}
        if self.figure is None:
            return
        table, rows = _figure_rows(tables, self.figure)
        self.column = table.column(self.figure.column)
        cells = PreparedCells(table)
        for row in rows:
            quartier = _Quartier(
                cell_text(cells("code_territoire", row)), cell_text(cells("territoire", row)),
                cell_text(cells("code_departement", row)), cells(self.figure.column, row),
            )  # fmt: skip
            region = self.regions.setdefault(cell_text(cells("code_region", row)), {})
            region.setdefault(quartier.departement, []).append(quartier)
        whole = next(t for t in tables if t.name == self.figure.table).frame
        departements = whole.loc[whole["niveau"] == "departement", ["code_territoire", "territoire"]]
        for code, label in departements.itertuples(index=False):
            self.names.setdefault(str(code), str(label))
        self.shapes = _shapes(perimeters)

    def section(self, page: Page, region: str, *, portraits: bool = False) -> None:
        """Add to the page of the région `region` the maps of its départements' QPV (see the module doc); nothing
        when the edition publishes no figure a map can show. `portraits`: the edition has a portrait per QPV (the
        tables below the maps link to them)."""
        figure, by_departement = self.figure, self.regions.get(region)
        if figure is None or not by_departement:
            return
        published = [v for qs in by_departement.values() for q in qs if (v := number_of(q.cell)) is not None]
        breaks = class_breaks(published)
        labels = class_labels(breaks, published)
        page.add(
            '<section id="cartes"><h2>Cartes des quartiers prioritaires</h2>',
            f'<p class="explication">{escape(figure.label)} {escape(figure.unit)} ({escape(figure.indicator)}, année '
            f"de l'édition). {escape(EXPLANATION)}</p>",
        )
        without = []
        for departement in sorted(by_departement):
            quartiers = sorted(by_departement[departement], key=lambda q: q.code)
            name = f"{self.names.get(departement, departement)} ({departement})"
            if not any(q.code in self.shapes for q in quartiers):
                without.append(name)
                continue
            svg = departement_map(page, figure, name, quartiers, self.shapes, breaks, labels)
            unshaped = sum(1 for q in quartiers if q.code not in self.shapes)
            note = f" {unshaped} quartier(s) sans périmètre connu n'y figurent pas." if unshaped else ""
            caption = f"{name} : {figure.label.lower()} {figure.unit}, {len(quartiers) - unshaped} quartiers.{note}"
            page.add(
                f"<figure><h3>{escape(name)}</h3>{svg}<figcaption>{page.indicator(figure.indicator, figure.indicator)}"
                f" – {escape(caption)}</figcaption></figure>",
                _values_table(page, figure, self.column, name, quartiers, portraits),
            )
        if without:
            page.add(
                '<p class="note">Pas de carte pour '
                + escape(", ".join(without))
                + " : les périmètres de leurs quartiers (liste en vigueur cette année-là) ne sont pas chargés.</p>"
            )
        page.add("</section>")
