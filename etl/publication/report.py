"""The HTML report of an edition: a national page and one page per région, static and self-contained.

`render_report(tables, out_dir, edition_id=..., kind=..., period=...)` writes `index.html` (France) and
`region-<code>.html` for every région present in the tables, each with a navigation bar linking all the pages. The
pages are meant for readers without SQL: French titles and short explanations, numbers formatted the French way
(`1 234`, `12,5 %`, with no-break spaces), masked cells shown `s` with a footnote on statistical secrecy, statuses
in French words (`tables.STATUS_LABELS`), the licence (`tables.LICENCE`) in every page's footer. They hold no script
and load nothing (inline CSS, charts as inline SVG drawn here; a Content-Security-Policy forbids any other resource),
so they open from a USB key or an archive the same way.

What a page shows, by table name (a table that is absent is skipped):

- `bilan_conventions` (etl.publication.annual.BILAN_COLUMNS): national page: the France rows (value, target, gap,
  N-1) and, per indicator with a numeric target, a bar chart of the régions' values with the target as a line;
  région page: the région's rows with target, gap and observations, and per indicator with a numeric target a chart
  of the région's value beside France's and the target.
- `mesures_synthese` (statut, mesures, part): a bar chart and the table, on the national page.
- `completude_campagne` (code_region, region, etat, ...): a stacked bar of the régions per state and the table on
  the national page; the région's line on its page.
- `emploi_qpv_serie` (niveau, code_territoire, territoire, categorie, semestre, de_qpv, de_hors_qpv, statut): per
  category, a line chart of the job seekers in QPV and in the rest over the semesters (France on the national page,
  the région on its page) and the figures; a masked or missing point is a gap in its line.

A cell is shown as the export files show it (`exports.prepared_columns`): `s` when it holds no value and its
governing status says `masked`, empty when it has no value otherwise, a status as its French word. Every chart is
an `<svg class="chart" role="img">` with a `<title>` and a `<desc>`, and every text is escaped. The output depends
only on the tables, the arguments and which data files of the edition already sit in `out_dir` (they are linked):
same inputs, same bytes.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etl.publication import exports
from etl.publication.tables import LICENCE, NUMERIC_ROLES, Column, Table
from etl.referentiels.periods import period_label, semester_short_label

NBSP = "\u00a0"
MASKED_MARK = exports.MASKED_MARK
INDEX = "index.html"
BILAN = "bilan_conventions"
MEASURES = "mesures_synthese"
COMPLETENESS = "completude_campagne"
SERIES = "emploi_qpv_serie"
DASHBOARD = "emploi_qpv"

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
ETAT_COLORS = {"acceptée": "#2e7d32", "rejetée": "#c62828", "non reçue": "#9e9e9e"}
OTHER_COLORS = ("#6a1b9a", "#ef6c00", "#00838f", "#5d4037")
BAR_COLOR = "#3b6ea5"
FRANCE_COLOR = "#1b3a5c"
TARGET_COLOR = "#c0392b"
QPV_COLOR = "#b8336a"
REST_COLOR = "#1f6f8b"
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
svg.chart text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.note { font-size: .85rem; color: #333; max-width: 60rem; }
footer { border-top: 1px solid #ccd; margin-top: 2rem; }
"""


# --- numbers the French way -----------------------------------------------------------------------------------------


def format_number(value: float, *, max_decimals: int = 2, signed: bool = False) -> str:
    """`value` written the French way: decimal comma, no-break space between thousands, as few decimals as needed up
    to `max_decimals` (`1 234`, `12,5`, `-0,25`); `signed` adds `+` to a positive number."""
    number = round(float(value), max_decimals)
    decimals = max_decimals
    for places in range(max_decimals + 1):
        if abs(round(number, places) - number) < 10 ** -(max_decimals + 3):
            decimals = places
            break
    text = f"{abs(number):,.{decimals}f}".replace(",", NBSP).replace(".", ",")
    if number < 0 and text.strip("0,") != "":
        return "-" + text
    if signed and number > 0:
        return "+" + text
    return text


def format_value(value: float, unit: str = "", *, signed: bool = False) -> str:
    """A number with its unit: `12,5 %`, `4,5 pts`, `1 200 €`, `1 234` (nombre or no unit)."""
    unit = (unit or "").strip().lower()
    text = format_number(value, signed=signed)
    if unit == "%":
        return f"{text}{NBSP}%"
    if unit in ("pts", "points"):
        return f"{text}{NBSP}pts"
    if unit in ("euros", "euro", "€", "eur"):
        return f"{text}{NBSP}€"
    return text


def _gap_unit(unit: str) -> str:
    """The unit of a difference of two values in `unit` (points for a share)."""
    return "pts" if (unit or "").strip() == "%" else unit


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    """An SVG coordinate."""
    return f"{value:.1f}"


# --- cells as the files show them -----------------------------------------------------------------------------------


class _Cells:
    """The prepared cells of a table (None, `exports.MASKED` or a plain value), by column name and row."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.columns = dict(zip((c.name for c in table.columns), exports.prepared_columns(table), strict=True))

    def __call__(self, name: str, row: int) -> Any:
        return self.columns[name][row]

    def rows(self, **equal: str) -> list[int]:
        """The rows whose columns equal the given texts."""
        count = len(self.table.frame)
        return [row for row in range(count) if all(_text(self(name, row)) == want for name, want in equal.items())]


def _text(value: Any) -> str:
    if value is None or value is exports.MASKED:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number_of(value: Any) -> float | None:
    if value is None or value is exports.MASKED or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(float(value)) else None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _display(value: Any, column: Column, unit: str | None = None, *, signed: bool = False) -> tuple[str, str]:
    """(text, CSS class) of a cell."""
    numeric = column.role in NUMERIC_ROLES
    if value is exports.MASKED:
        return MASKED_MARK, "num secret"
    if value is None:
        return "", "num" if numeric else ""
    if numeric:
        return format_value(value, column.unit if unit is None else unit, signed=signed), "num"
    if column.role == "status":
        return str(value), "statut"  # already its French word
    if isinstance(value, bool):
        return ("oui" if value else "non"), ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M"), ""
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y"), ""
    if isinstance(value, float):
        return format_number(value), "num"
    return str(value), ""


# --- a page ---------------------------------------------------------------------------------------------------------


@dataclass
class _Page:
    file: str
    title: str
    parts: list[str] = field(default_factory=list)
    masked: bool = False
    charts: int = 0

    def chart_id(self) -> str:
        self.charts += 1
        return f"graphique-{self.charts}"

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)


def _html_table(
    page: _Page,
    cells: _Cells,
    rows: Sequence[int],
    names: Sequence[str],
    *,
    caption: str,
    units: dict[str, Any] | None = None,
    signed: Sequence[str] = (),
    wide: Sequence[str] = (),
) -> str:
    """An HTML table of `rows` × `names` of `cells.table`; `units` gives, per column, a unit or a function of the
    row that returns it (for tables whose unit is on each row); `signed` columns show `+` on positive numbers; `wide`
    columns (long texts) get a minimum width."""
    table = cells.table
    units = units or {}
    head = "".join(f'<th scope="col">{_esc(table.column(name).header)}</th>' for name in names)
    body = []
    for row in rows:
        tds = []
        for name in names:
            column = table.column(name)
            unit = units.get(name)
            if callable(unit):
                unit = unit(row)
            text, css = _display(cells(name, row), column, unit, signed=name in signed)
            if name in wide:
                css = f"{css} large".strip()
            if css == "num secret":
                page.masked = True
                tds.append(f'<td class="{css}" title="secret statistique">{_esc(text)}</td>')
            else:
                tds.append(f'<td class="{css}">{_esc(text)}</td>' if css else f"<td>{_esc(text)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return (
        f'<div class="defilement"><table class="donnees"><caption>{_esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table></div>"
    )


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_esc(caption)}</figcaption></figure>"


# --- charts ---------------------------------------------------------------------------------------------------------


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2 or 5 × 10^k)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    ticks = []
    value = first
    while value < high + step * 0.999:
        ticks.append(round(value, 10) + 0.0)
        if value >= high - 1e-9 * step:
            break
        value += step
    return ticks


def _svg_open(page: _Page, width: int, height: int, title: str, desc: str, css: str = "") -> tuple[str, str]:
    ident = page.chart_id()
    opening = (
        f'<svg class="chart{(" " + css) if css else ""}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{ident}-titre {ident}-desc">'
        f'<title id="{ident}-titre">{_esc(title)}</title><desc id="{ident}-desc">{_esc(desc)}</desc>'
    )
    return opening, ident


def _short(label: str, size: int = 30) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"


def _bar_chart(
    page: _Page,
    title: str,
    desc: str,
    bars: Sequence[tuple[str, Any]],
    unit: str = "",
    *,
    target: float | None = None,
    target_label: str = "",
    highlight: Sequence[str] = (),
) -> str:
    """Horizontal bars, one per (label, cell); a masked cell is written `s`, a missing one `non disponible`; an
    optional vertical target line."""
    label_width, plot_left, plot_right, width = 210, 215, 560, 680
    row_height, top, bottom = 24, 30, 34
    height = top + row_height * max(len(bars), 1) + bottom
    values = [number for _, cell in bars if (number := _number_of(cell)) is not None]
    extent = [0.0, *values, *([target] if target is not None else [])]
    ticks = _nice_ticks(min(extent), max(extent))
    low, high = ticks[0], ticks[-1]

    def x(value: float) -> float:
        return plot_left + (value - low) / (high - low) * (plot_right - plot_left)

    opening, _ = _svg_open(page, width, height, title, desc, "barres")
    parts = [opening]
    axis_y = top + row_height * max(len(bars), 1)
    for tick in ticks:
        parts.append(
            f'<line x1="{_num(x(tick))}" y1="{top - 4}" x2="{_num(x(tick))}" y2="{axis_y}" stroke="#e2e5ea"/>'
            f'<text x="{_num(x(tick))}" y="{axis_y + 16}" font-size="11" text-anchor="middle" fill="#444">'
            f"{_esc(format_value(tick, unit))}</text>"
        )
    zero = x(0.0)
    for index, (label, cell) in enumerate(bars):
        y = top + index * row_height
        color = FRANCE_COLOR if label in highlight else BAR_COLOR
        number = _number_of(cell)
        if cell is exports.MASKED:
            page.masked = True
            shown, hover = MASKED_MARK, "secret statistique"
        elif number is None:
            shown, hover = "non disponible", "non disponible"
        else:
            shown = hover = format_value(number, unit)
        parts.append(f"<g><title>{_esc(label)} : {_esc(hover)}</title>")
        parts.append(
            f'<text x="{label_width}" y="{y + 16}" font-size="12" text-anchor="end">{_esc(_short(label))}</text>'
        )
        if number is not None:
            left, right = sorted((zero, x(number)))
            parts.append(
                f'<rect x="{_num(left)}" y="{y + 4}" width="{_num(max(right - left, 0.5))}" height="{row_height - 8}" '
                f'fill="{color}"/>'
            )
            anchor, at = ("start", right + 4) if number >= 0 else ("end", left - 4)
            parts.append(
                f'<text x="{_num(at)}" y="{y + 16}" font-size="11" text-anchor="{anchor}">{_esc(shown)}</text>'
            )
        else:
            style = ' font-weight="bold" fill="#8a1c1c"' if cell is exports.MASKED else ' fill="#666"'
            parts.append(f'<text x="{_num(zero + 4)}" y="{y + 16}" font-size="11"{style}>{_esc(shown)}</text>')
        parts.append("</g>")
    parts.append(f'<line x1="{_num(zero)}" y1="{top - 4}" x2="{_num(zero)}" y2="{axis_y}" stroke="#555"/>')
    if target is not None:
        tx = _num(x(target))
        parts.append(
            f'<g class="cible"><title>{_esc(target_label)}</title>'
            f'<line x1="{tx}" y1="{top - 8}" x2="{tx}" y2="{axis_y}" stroke="{TARGET_COLOR}" stroke-width="2" '
            f'stroke-dasharray="6 3"/>'
            f'<text x="{tx}" y="{top - 12}" font-size="11" text-anchor="middle" fill="{TARGET_COLOR}">'
            f"{_esc(target_label)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _stacked_bar(page: _Page, title: str, desc: str, segments: Sequence[tuple[str, int, str]]) -> str:
    """One horizontal bar split into (label, count, color) segments, with a legend."""
    width, left, right, top, bar_height = 680, 10, 670, 10, 30
    height = top + bar_height + 40
    total = sum(count for _, count, _ in segments) or 1
    opening, _ = _svg_open(page, width, height, title, desc, "empilee")
    parts = [opening]
    x = float(left)
    for label, count, color in segments:
        span = (right - left) * count / total
        if count:
            parts.append(
                f"<g><title>{_esc(label)} : {count}</title>"
                f'<rect x="{_num(x)}" y="{top}" width="{_num(span)}" height="{bar_height}" fill="{color}"/>'
            )
            if span >= 24:
                parts.append(
                    f'<text x="{_num(x + span / 2)}" y="{top + 20}" font-size="13" text-anchor="middle" '
                    f'fill="#fff" font-weight="bold">{count}</text>'
                )
            parts.append("</g>")
        x += span
    legend_x = float(left)
    for label, count, color in segments:
        text = f"{label} : {count}"
        parts.append(
            f'<rect x="{_num(legend_x)}" y="{top + bar_height + 14}" width="12" height="12" fill="{color}"/>'
            f'<text x="{_num(legend_x + 16)}" y="{top + bar_height + 24}" font-size="12">{_esc(text)}</text>'
        )
        legend_x += 16 + 7.5 * len(text) + 24
    parts.append("</svg>")
    return "".join(parts)


def _line_chart(
    page: _Page, title: str, desc: str, periods: Sequence[str], series: Sequence[tuple[str, str, str, list[Any]]]
) -> str:
    """Lines over `periods`, one per (css name, label, color, cells); a cell without a value breaks its line."""
    width, height = 680, 290
    left, right, top, bottom = 80, 630, 20, 230
    values = [number for *_, cells in series for cell in cells if (number := _number_of(cell)) is not None]
    ticks = _nice_ticks(0.0, max([0.0, *values]))
    high = ticks[-1]

    def x(index: int) -> float:
        if len(periods) == 1:
            return (left + right) / 2
        return left + index * (right - left) / (len(periods) - 1)

    def y(value: float) -> float:
        return bottom - value / high * (bottom - top)

    opening, _ = _svg_open(page, width, height, title, desc, "courbes")
    parts = [opening]
    for tick in ticks:
        parts.append(
            f'<line x1="{left}" y1="{_num(y(tick))}" x2="{right}" y2="{_num(y(tick))}" stroke="#e2e5ea"/>'
            f'<text x="{left - 6}" y="{_num(y(tick) + 4)}" font-size="11" text-anchor="end" fill="#444">'
            f"{_esc(format_number(tick))}</text>"
        )
    for index, period in enumerate(periods):
        parts.append(
            f'<text x="{_num(x(index))}" y="{bottom + 18}" font-size="11" text-anchor="middle" fill="#444">'
            f"{_esc(semester_short_label(period))}</text>"
        )
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555"/>')
    for name, label, color, cells in series:
        commands, pen_down = [], False
        points = []
        for index, cell in enumerate(cells):
            number = _number_of(cell)
            if cell is exports.MASKED:
                page.masked = True
            if number is None:
                pen_down = False
                continue
            commands.append(f"{'L' if pen_down else 'M'}{_num(x(index))} {_num(y(number))}")
            pen_down = True
            points.append(
                f'<circle cx="{_num(x(index))}" cy="{_num(y(number))}" r="3.5" fill="{color}">'
                f"<title>{_esc(label)}, {_esc(semester_short_label(periods[index]))} : {_esc(format_number(number))}"
                "</title></circle>"
            )
        parts.append(f'<g class="serie serie-{_esc(name)}">')
        if commands:
            parts.append(
                f'<path d="{" ".join(commands)}" fill="none" stroke="{color}" stroke-width="2.5" '
                'stroke-linejoin="round"/>'
            )
        parts.extend(points)
        parts.append("</g>")
    legend_x = float(left)
    for _, label, color, _ in series:
        parts.append(
            f'<line x1="{_num(legend_x)}" y1="{bottom + 44}" x2="{_num(legend_x + 22)}" y2="{bottom + 44}" '
            f'stroke="{color}" stroke-width="3"/>'
            f'<text x="{_num(legend_x + 28)}" y="{bottom + 48}" font-size="12">{_esc(label)}</text>'
        )
        legend_x += 28 + 7.5 * len(label) + 30
    parts.append("</svg>")
    return "".join(parts)


# --- sections -------------------------------------------------------------------------------------------------------


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


def _bilan_units(cells: _Cells) -> dict[str, Any]:
    def unit(row: int) -> str:
        return _text(cells("unite", row))

    def gap(row: int) -> str:
        return _gap_unit(_text(cells("unite", row)))

    return {"valeur": unit, "valeur_n1": unit, "ecart_cible": gap, "evolution_n1": gap}


def _target_when(cells: _Cells, row: int) -> tuple[str, str]:
    """(due year, scope) of the target on `row`, empty when the table does not say them."""
    due = _text(cells("echeance_cible", row)) if "echeance_cible" in cells.columns else ""
    scope = _text(cells("portee_cible", row)) if "portee_cible" in cells.columns else ""
    return due, scope


def _targets(cells: _Cells) -> list[tuple[str, str, str, float, str]]:
    """(indicator code, label, unit, numeric target, target as written with its due year) of every indicator with a
    numeric target, in the order of the table."""
    seen: dict[str, tuple[str, str, str, float, str]] = {}
    for row in range(len(cells.table.frame)):
        code = _text(cells("code_indicateur", row))
        target = _number_of(cells("cible_valeur", row))
        if code and code not in seen and target is not None:
            due, _ = _target_when(cells, row)
            written = _text(cells("cible_texte", row))
            seen[code] = (
                code,
                _text(cells("libelle", row)),
                _text(cells("unite", row)),
                target,
                f"{written or format_value(target, _text(cells('unite', row)))} (échéance {due})" if due else written,
            )
    return list(seen.values())


TARGETS_NOTE = (
    "L'écart à la cible compare la valeur de l'année publiée à la cible nationale fixée en 2014, sans la ramener à "
    "l'année : une cible due pour 2015, ou qui porte sur toute la durée d'une expérimentation, n'est pas une cible "
    "de l'année publiée. Échéance et portée de chaque cible :"
)


def _targets_note(cells: _Cells) -> str:
    """The due year and scope of every target of the table, so that no gap is read against a target silently."""
    items: dict[str, str] = {}
    for row in range(len(cells.table.frame)):
        code, written = _text(cells("code_indicateur", row)), _text(cells("cible_texte", row))
        if code and written and code not in items:
            due, scope = _target_when(cells, row)
            words = f"{code} – cible {written} : " + (f"échéance {due}" if due else "pas d'échéance fixée")
            items[code] = f"<li>{_esc(words + (f' ; {scope}' if scope else ''))}.</li>"
    if not items:
        return ""
    return f'<div class="note" id="cibles"><p>{_esc(TARGETS_NOTE)}</p><ul>{"".join(items.values())}</ul></div>'


BILAN_EXPLANATION = (
    "Pour chaque indicateur des conventions interministérielles de 2014 : la valeur de l'année, la cible nationale "
    "telle qu'écrite dans l'annexe 2, l'écart à la cible (valeur moins cible, en points pour une part), la valeur de "
    "l'année précédente (N-1) et l'évolution sur un an. La valeur nationale est calculée selon l'unité : somme des "
    "régions pour un nombre, part recalculée pour un pourcentage (jamais une moyenne de pourcentages régionaux)."
)


def _bilan_national(page: _Page, table: Table) -> None:
    _require(table, BILAN_NEEDS)
    cells = _Cells(table)
    page.add(
        f'<section id="bilan"><h2>{_esc(table.title)}</h2>', f'<p class="explication">{_esc(BILAN_EXPLANATION)}</p>'
    )
    france = cells.rows(niveau="france")
    if france:
        page.add(
            _html_table(
                page,
                cells,
                france,
                [n for n in BILAN_NATIONAL if n in cells.columns],
                caption="France : valeur, cible et évolution par indicateur",
                units=_bilan_units(cells),
                signed=("ecart_cible", "evolution_n1"),
                wide=("libelle",),
            ),
            _targets_note(cells),
        )
    regions = cells.rows(niveau="region")
    targets = _targets(cells)
    if targets and regions:
        page.add(
            "<h3>Valeurs régionales et cible nationale</h3>",
            '<p class="explication">Une barre par région ; la ligne rouge en pointillés marque la cible nationale.</p>',
        )
    for code, label, unit, target, written in targets if regions else []:
        rows = [row for row in regions if _text(cells("code_indicateur", row)) == code]
        bars = [(_text(cells("territoire", row)), cells("valeur", row)) for row in rows]
        if not any(cell is not None for _, cell in bars):
            page.add(f"<p>{_esc(code)} – {_esc(label)} : aucune valeur régionale disponible.</p>")
            continue
        france_value = next(
            (cells("valeur", row) for row in france if _text(cells("code_indicateur", row)) == code), None
        )
        shown_france = _cell_words(france_value, unit)
        chart = _bar_chart(
            page,
            f"{code} – {label} : valeur régionale et cible",
            f"Valeur de chaque région pour l'indicateur {code} et cible nationale ({format_value(target, unit)}).",
            bars,
            unit,
            target=target,
            target_label=f"Cible : {format_value(target, unit)}",
        )
        page.add(
            _figure(
                chart,
                f"{code} – {label}. Cible nationale : {written or format_value(target, unit)}. "
                f"France : {shown_france}.",
            )
        )
    page.add("</section>")


def _cell_words(cell: Any, unit: str) -> str:
    if cell is exports.MASKED:
        return f"{MASKED_MARK} (secret statistique)"
    number = _number_of(cell)
    return "non disponible" if number is None else format_value(number, unit)


def _bilan_regional(page: _Page, table: Table, code: str, name: str) -> None:
    _require(table, BILAN_NEEDS)
    cells = _Cells(table)
    rows = cells.rows(niveau="region", code_territoire=code)
    if not rows:
        return
    names = [n for n in BILAN_REGIONAL if n in cells.columns]
    page.add(
        f'<section id="bilan"><h2>{_esc(table.title)}</h2>',
        f'<p class="explication">{_esc(BILAN_EXPLANATION)} Les observations sont celles saisies par la région, '
        "telles quelles.</p>",
        _html_table(
            page,
            cells,
            rows,
            names,
            caption=f"{name} : valeur, cible et observations par indicateur",
            units=_bilan_units(cells),
            signed=("ecart_cible", "evolution_n1"),
            wide=("libelle", "observations"),
        ),
        _targets_note(cells),
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
        mine = next((cells("valeur", row) for row in rows if _text(cells("code_indicateur", row)) == indicator), None)
        national = next((cells("valeur", r) for r in france if _text(cells("code_indicateur", r)) == indicator), None)
        bars = [(name, mine), *([("France", national)] if france else [])]
        chart = _bar_chart(
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
        page.add(_figure(chart, f"{indicator} – {label}. Cible nationale : {written or format_value(target, unit)}."))
    page.add("</section>")


def _measures(page: _Page, table: Table) -> None:
    _require(table, MEASURES_NEEDS)
    cells = _Cells(table)
    rows = list(range(len(table.frame)))
    bars = [(_text(cells("statut", row)), cells("mesures", row)) for row in rows]
    chart = _bar_chart(
        page,
        "Mesures de la feuille de route par état d'avancement",
        "Nombre de mesures numérotées de la feuille de route de 2018 dans chaque état d'avancement.",
        bars,
        "nombre",
    )
    page.add(
        f'<section id="mesures"><h2>{_esc(table.title)}</h2>',
        f'<p class="explication">{_esc(table.description)}</p>',
        _figure(chart, "Nombre de mesures par état d'avancement."),
        _html_table(page, cells, rows, [c.name for c in table.columns], caption="Mesures par état d'avancement"),
        "</section>",
    )


def _completeness_segments(cells: _Cells) -> list[tuple[str, int, str]]:
    counts: dict[str, int] = {}
    for row in range(len(cells.table.frame)):
        state = _text(cells("etat", row)) or "inconnu"
        counts[state] = counts.get(state, 0) + 1
    known = [state for state in ETAT_COLORS if state in counts]
    others = sorted(state for state in counts if state not in ETAT_COLORS)
    colors = {**ETAT_COLORS, **{state: OTHER_COLORS[i % len(OTHER_COLORS)] for i, state in enumerate(others)}}
    return [(state, counts[state], colors[state]) for state in [*known, *others]]


def _completeness_national(page: _Page, table: Table) -> None:
    _require(table, COMPLETENESS_NEEDS)
    cells = _Cells(table)
    segments = _completeness_segments(cells)
    summary = ", ".join(f"{label} : {count}" for label, count, _ in segments)
    chart = _stacked_bar(page, "Régions par état de leur remise", f"Nombre de régions par état : {summary}.", segments)
    page.add(
        f'<section id="completude"><h2>{_esc(table.title)}</h2>',
        f'<p class="explication">{_esc(table.description)} Chaque région remet un classeur par campagne ; il est '
        "accepté s'il ne contient aucune erreur bloquante.</p>",
        _figure(chart, f"Régions par état de leur remise ({summary})."),
        _html_table(
            page,
            cells,
            list(range(len(table.frame))),
            [c.name for c in table.columns],
            caption="État de la remise de chaque région",
        ),
        "</section>",
    )


def _completeness_regional(page: _Page, table: Table, code: str, name: str) -> None:
    _require(table, COMPLETENESS_NEEDS)
    cells = _Cells(table)
    rows = cells.rows(code_region=code)
    if not rows:
        return
    page.add(
        f'<section id="completude"><h2>{_esc(table.title)}</h2>',
        _html_table(page, cells, rows, [c.name for c in table.columns], caption=f"État de la remise : {name}"),
        "</section>",
    )


SERIES_EXPLANATION = (
    "Demandeurs d'emploi inscrits à France Travail en fin de semestre, résidant dans les quartiers prioritaires (QPV) "
    "et dans le reste du territoire. Un point masqué par le secret statistique ou manquant interrompt la courbe."
)


def _comparability(page: _Page, table: Table) -> None:
    """How the dashboard's changes treat the change of QPV list: the rule, and how many were not published."""
    from etl.publication.semestrial import COMPARABILITY_RULE, comparability

    breaks = comparability([table])["changes_not_published"]
    lines = [
        f"<li>{_esc(table.column(column).header)} : {count} non publiée(s)</li>"
        for column, count in breaks.items()
        if count
    ]
    summary = (
        f"<p>Évolutions non publiées pour rupture de série ({_esc(table.name)}) :</p><ul>{''.join(lines)}</ul>"
        if lines
        else "<p>Aucune évolution de cette édition ne relie deux listes de QPV différentes.</p>"
    )
    page.add(
        '<section id="geographie"><h2>Évolutions et changement de géographie prioritaire</h2>',
        f'<p class="explication">{_esc(COMPARABILITY_RULE)}</p>',
        summary,
        "</section>",
    )


def _series(page: _Page, table: Table, niveau: str, code: str, name: str) -> None:
    _require(table, SERIES_NEEDS)
    cells = _Cells(table)
    rows = cells.rows(niveau=niveau, code_territoire=code)
    if not rows:
        return
    page.add(
        f'<section id="emploi"><h2>{_esc(table.title)}</h2>', f'<p class="explication">{_esc(SERIES_EXPLANATION)}</p>'
    )
    categories = sorted({_text(cells("categorie", row)) for row in rows})
    for category in categories:
        mine = [row for row in rows if _text(cells("categorie", row)) == category]
        periods = sorted({_text(cells("semestre", row)) for row in mine})
        by_period = {_text(cells("semestre", row)): row for row in mine}
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
        chart = _line_chart(
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
                f"{semester_short_label(p)} ({_text(cells('rupture_serie', by_period[p]))})"
                for p in periods
                if _text(cells("rupture_serie", by_period[p]))
            ]
            if breaks:
                caption += f" Rupture de série : {'; '.join(breaks)}."
        ordered = sorted(mine, key=lambda row: _text(cells("semestre", row)))
        page.add(
            f"<h3>Catégorie {_esc(category)}</h3>",
            _figure(chart, caption),
            _html_table(
                page,
                cells,
                ordered,
                ["semestre", "de_qpv", "de_hors_qpv", "statut"],
                caption=f"{name}, catégorie {category}",
            ),
        )
    page.add("</section>")


# --- the pages ------------------------------------------------------------------------------------------------------


def _region_file(code: str) -> str:
    return f"region-{re.sub(r'[^A-Za-z0-9_-]', '_', code)}.html"


def _regions(by_name: dict[str, Table]) -> dict[str, str]:
    """{code: name} of the régions present in the tables, sorted by code."""
    found: dict[str, str] = {}

    def add(code: Any, name: Any) -> None:
        code = _text(code)
        if code and code not in found:
            found[code] = _text(name) or code

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


def _nav(current: str, regions: dict[str, str]) -> str:
    links = [(INDEX, "France")] + [(_region_file(code), name) for code, name in regions.items()]
    items = []
    for target, label in links:
        here = ' aria-current="page"' if target == current else ""
        items.append(f'<li><a href="{_esc(target)}"{here}>{_esc(label)}</a></li>')
    return f'<nav aria-label="Pages du rapport"><ul>{"".join(items)}</ul></nav>'


def _files_section(tables: Sequence[Table], out_dir: Path) -> str:
    names = [name for table in tables for name in (f"{table.name}.csv", f"{table.name}.parquet")]
    names += ["tables.xlsx", "dictionnaire.csv"]
    present = [name for name in names if (out_dir / name).is_file() and name.endswith(EDITION_FILE_SUFFIXES)]
    if not present:
        return ""
    items = "".join(f'<li><a href="{_esc(name)}">{_esc(name)}</a></li>' for name in present)
    return (
        '<section id="fichiers"><h2>Fichiers de l\'édition</h2><p class="explication">Les mêmes tables, complètes, '
        "pour un tableur ou un outil d'analyse : CSV (séparateur point-virgule, UTF-8), classeur Excel, Parquet, et "
        f"le dictionnaire des colonnes.</p><ul>{items}</ul></section>"
    )


def _document(page: _Page, *, heading: str, edition_line: str, nav: str, files: str) -> str:
    notes = [
        f'<p class="note">{_esc(READING_NOTE)}</p>',
        f'<p class="note" id="licence">Données publiées sous <a href="{_esc(LICENCE["url"])}" rel="license">'
        f"{_esc(LICENCE['name'])}</a>.</p>",
    ]
    if page.masked:
        notes.insert(0, f'<p class="note" id="secret-statistique">{_esc(SECRET_NOTE)}</p>')
    body = "\n".join(page.parts) if page.parts else "<p>Aucune table de cette édition ne concerne cette page.</p>"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{_esc(page.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<header>\n<p class="edition">{_esc(edition_line)}</p>\n<h1>{_esc(heading)}</h1>\n{nav}\n</header>\n'
        f"<main>\n{body}\n{files}\n</main>\n"
        f"<footer>\n<h2>Comment lire ce rapport</h2>\n{''.join(notes)}\n</footer>\n</body>\n</html>\n"
    )


def render_report(tables: list[Table], out_dir: Path, *, edition_id: str, kind: str, period: str) -> list[Path]:
    """Write the report of an edition's `tables` into `out_dir` (created if needed): `index.html` then
    `region-<code>.html` per région present, in code order; returns their paths in that order."""
    out_dir = Path(out_dir)
    by_name = {table.name: table for table in tables}
    regions = _regions(by_name)
    kind_label = KIND_LABELS.get(kind, f"Édition {kind}")
    period_text = period_label(period)
    edition_line = f"Observatoire QPV · {kind_label} {period_text} · référence {edition_id}"
    files = _files_section(tables, out_dir)

    pages: list[tuple[_Page, str]] = []
    national = _Page(INDEX, f"France – {kind_label.lower()} {period_text} – Observatoire QPV")
    regions_line = " Chaque région a sa page (liens ci-dessus)." if regions else ""
    national.add(
        '<p class="intro">Cette page présente les principaux résultats de l\'édition pour la France entière.'
        f"{regions_line} Les graphiques sont accompagnés des tableaux de valeurs.</p>"
    )
    if BILAN in by_name:
        _bilan_national(national, by_name[BILAN])
    if MEASURES in by_name:
        _measures(national, by_name[MEASURES])
    if COMPLETENESS in by_name:
        _completeness_national(national, by_name[COMPLETENESS])
    if DASHBOARD in by_name:
        _comparability(national, by_name[DASHBOARD])
    if SERIES in by_name:
        _series(national, by_name[SERIES], "france", "FR", "France")
    pages.append((national, f"France – {kind_label} {period_text}"))

    for code, name in regions.items():
        page = _Page(_region_file(code), f"{name} – {kind_label.lower()} {period_text} – Observatoire QPV")
        page.add(
            f'<p class="intro">Les résultats de l\'édition pour la région {_esc(name)} (code {_esc(code)}). La page '
            '<a href="index.html">France</a> donne les valeurs nationales et la comparaison entre régions.</p>'
        )
        if BILAN in by_name:
            _bilan_regional(page, by_name[BILAN], code, name)
        if COMPLETENESS in by_name:
            _completeness_regional(page, by_name[COMPLETENESS], code, name)
        if SERIES in by_name:
            _series(page, by_name[SERIES], "region", code, name)
        pages.append((page, f"{name} – {kind_label} {period_text}"))

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for page, heading in pages:
        document = _document(
            page, heading=heading, edition_line=edition_line, nav=_nav(page.file, regions), files=files
        )
        path = out_dir / page.file
        path.write_bytes(document.encode("utf-8"))
        written.append(path)
    return written
