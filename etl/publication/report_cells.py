"""What the pages of the HTML report are made of: numbers written the French way, the cells of a table as the export
files show them (`PreparedCells`), the page being built (`Page`, which also knows the fiches méthodologiques of the
edition and links an indicator to its fiche by a path relative to the page) and its HTML tables."""

from __future__ import annotations

import datetime as dt
import functools
import html
import math
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from etl.publication import exports
from etl.publication.tables import NUMERIC_ROLES, Column, Table

NBSP = "\u00a0"
MASKED_MARK = exports.MASKED_MARK
FICHES_FOLDER = "fiches"  # the edition's subfolder of fiches méthodologiques, one page per indicator


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


def gap_unit(unit: str) -> str:
    """The unit of a difference of two values in `unit` (points for a share)."""
    return "pts" if (unit or "").strip() == "%" else unit


def escape(value: Any) -> str:
    """`value` as HTML text (quotes escaped too)."""
    return html.escape(str(value), quote=True)


def svg_number(value: float) -> str:
    """An SVG coordinate."""
    return f"{value:.1f}"


# --- cells as the files show them -----------------------------------------------------------------------------------


class PreparedCells:
    """The prepared cells of a table (None, `exports.MASKED` or a plain value), by column name and row."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.columns = dict(zip((c.name for c in table.columns), exports.prepared_columns(table), strict=True))

    def __call__(self, name: str, row: int) -> Any:
        return self.columns[name][row]

    def rows(self, **equal: str) -> list[int]:
        """The rows whose columns equal the given texts."""
        count = len(self.table.frame)
        return [row for row in range(count) if all(cell_text(self(name, row)) == want for name, want in equal.items())]


def cell_text(value: Any) -> str:
    """A prepared cell as plain text: empty for no value or a masked one, a whole float without its decimals."""
    if value is None or value is exports.MASKED:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def number_of(value: Any) -> float | None:
    """A prepared cell as a finite number, or None (no value, masked, not a number)."""
    if value is None or value is exports.MASKED or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(float(value)) else None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def cell_display(value: Any, column: Column, unit: str | None = None, *, signed: bool = False) -> tuple[str, str]:
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


@functools.lru_cache(maxsize=4096)  # an edition has a few hundred indicators; its pages ask tens of thousands of times
def fiche_file(code: str) -> str:
    """The path of an indicator's fiche méthodologique in the edition folder: `fiches/<code>.html` (a character a file
    name should not hold replaced by `_`)."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(code)).lstrip(".")
    if not name:
        raise ValueError(f"The indicator code {code!r} cannot name a fiche.")
    return f"{FICHES_FOLDER}/{name}.html"


def relative_link(target: str, page_file: str) -> str:
    """The link from the page `page_file` to `target`, both paths relative to the edition folder."""
    return _relative(target, posixpath.dirname(page_file) or ".")


@functools.lru_cache(maxsize=16384)  # the annual report's 1,600 pages live in a few folders and link the same targets
def _relative(target: str, folder: str) -> str:
    return posixpath.relpath(target, folder)


@dataclass
class Page:
    """A page being built: its file (relative to the edition folder), title, HTML parts, whether it shows a masked
    cell, how many charts it has, and the indicators that have a fiche in the edition (`fiches`: code -> label)."""

    file: str
    title: str
    parts: list[str] = field(default_factory=list)
    masked: bool = False
    charts: int = 0
    fiches: dict[str, str] = field(default_factory=dict)

    def chart_id(self) -> str:
        self.charts += 1
        return f"graphique-{self.charts}"

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)

    def link(self, target: str) -> str:
        """The link from this page to `target` (a path relative to the edition folder)."""
        return relative_link(target, self.file)

    def fiche_href(self, code: Any) -> str | None:
        """The link from this page to the fiche of the indicator `code`, None when the edition has no fiche for it."""
        code = str(code)
        return self.link(fiche_file(code)) if code in self.fiches else None

    def indicator(self, code: Any, text: str) -> str:
        """`text` (naming the indicator `code`) as HTML: a link to its fiche when there is one, else escaped text."""
        href = self.fiche_href(code)
        return f'<a href="{escape(href)}">{escape(text)}</a>' if href else escape(text)


def cell_html(page: Page, text: str, css: str = "", href: str | None = None) -> str:
    """A `<td>` of the report holding `text` (escaped; a link to `href` when given) with the CSS class `css` (from
    `cell_display`); a masked cell (`num secret`) is titled as such and tells `page` it shows one."""
    content = f'<a href="{escape(href)}">{escape(text)}</a>' if href else escape(text)
    if css == "num secret":
        page.masked = True
        return f'<td class="{css}" title="secret statistique">{content}</td>'
    return f'<td class="{css}">{content}</td>' if css else f"<td>{content}</td>"


def html_table(
    page: Page,
    cells: PreparedCells,
    rows: Sequence[int],
    names: Sequence[str],
    *,
    caption: str,
    units: dict[str, Any] | None = None,
    signed: Sequence[str] = (),
    wide: Sequence[str] = (),
    links: dict[str, Callable[[int], str | None]] | None = None,
) -> str:
    """An HTML table of `rows` × `names` of `cells.table`; `units` gives, per column, a unit or a function of the
    row that returns it (for tables whose unit is on each row); `signed` columns show `+` on positive numbers; `wide`
    columns (long texts) get a minimum width; `links` gives, per column, a function of the row returning the address
    its cell links to (None: no link)."""
    table = cells.table
    units = units or {}
    links = links or {}
    columns = [(name, table.column(name)) for name in names]  # looked up once, not once per cell
    head = "".join(f'<th scope="col">{escape(column.header)}</th>' for _, column in columns)
    body = []
    for row in rows:
        tds = []
        for name, column in columns:
            unit = units.get(name)
            if callable(unit):
                unit = unit(row)
            text, css = cell_display(cells(name, row), column, unit, signed=name in signed)
            if name in wide:
                css = f"{css} large".strip()
            href = links[name](row) if name in links and text else None
            tds.append(cell_html(page, text, css, href))
        body.append("<tr>" + "".join(tds) + "</tr>")
    return (
        f'<div class="defilement"><table class="donnees"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table></div>"
    )


def figure(svg: str, caption: str, *, lead: str = "") -> str:
    """A chart with its caption (`lead`: HTML put before the escaped caption, e.g. a link to an indicator's fiche)."""
    return f"<figure>{svg}<figcaption>{lead}{escape(caption)}</figcaption></figure>"
