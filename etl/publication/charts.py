"""The inline SVG charts of the HTML report: horizontal bars with an optional target line, one stacked bar, lines
over semesters. Each is an `<svg class="chart" role="img">` with a `<title>` and a `<desc>`, every text escaped; a
masked cell is shown `s` (or breaks its line) and marks the page as holding masked values."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from etl.publication import exports
from etl.publication.report_cells import MASKED_MARK, Page, escape, format_number, format_value, number_of, svg_number
from etl.referentiels.periods import semester_short_label

BAR_COLOR = "#3b6ea5"
FRANCE_COLOR = "#1b3a5c"
TARGET_COLOR = "#c0392b"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
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


def _svg_open(page: Page, width: int, height: int, title: str, desc: str, css: str = "") -> tuple[str, str]:
    ident = page.chart_id()
    opening = (
        f'<svg class="chart{(" " + css) if css else ""}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{ident}-titre {ident}-desc">'
        f'<title id="{ident}-titre">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>'
    )
    return opening, ident


def _short(label: str, size: int = 30) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"


def bar_chart(
    page: Page,
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
    values = [number for _, cell in bars if (number := number_of(cell)) is not None]
    extent = [0.0, *values, *([target] if target is not None else [])]
    ticks = nice_ticks(min(extent), max(extent))
    low, high = ticks[0], ticks[-1]

    def x(value: float) -> float:
        return plot_left + (value - low) / (high - low) * (plot_right - plot_left)

    opening, _ = _svg_open(page, width, height, title, desc, "barres")
    parts = [opening]
    axis_y = top + row_height * max(len(bars), 1)
    for tick in ticks:
        parts.append(
            f'<line x1="{svg_number(x(tick))}" y1="{top - 4}" x2="{svg_number(x(tick))}" y2="{axis_y}" '
            'stroke="#e2e5ea"/>'
            f'<text x="{svg_number(x(tick))}" y="{axis_y + 16}" font-size="11" text-anchor="middle" fill="#444">'
            f"{escape(format_value(tick, unit))}</text>"
        )
    zero = x(0.0)
    for index, (label, cell) in enumerate(bars):
        y = top + index * row_height
        color = FRANCE_COLOR if label in highlight else BAR_COLOR
        number = number_of(cell)
        if cell is exports.MASKED:
            page.masked = True
            shown, hover = MASKED_MARK, "secret statistique"
        elif number is None:
            shown, hover = "non disponible", "non disponible"
        else:
            shown = hover = format_value(number, unit)
        parts.append(f"<g><title>{escape(label)} : {escape(hover)}</title>")
        parts.append(
            f'<text x="{label_width}" y="{y + 16}" font-size="12" text-anchor="end">{escape(_short(label))}</text>'
        )
        if number is not None:
            left, right = sorted((zero, x(number)))
            parts.append(
                f'<rect x="{svg_number(left)}" y="{y + 4}" width="{svg_number(max(right - left, 0.5))}" '
                f'height="{row_height - 8}" fill="{color}"/>'
            )
            anchor, at = ("start", right + 4) if number >= 0 else ("end", left - 4)
            parts.append(
                f'<text x="{svg_number(at)}" y="{y + 16}" font-size="11" text-anchor="{anchor}">{escape(shown)}</text>'
            )
        else:
            style = ' font-weight="bold" fill="#8a1c1c"' if cell is exports.MASKED else ' fill="#666"'
            parts.append(f'<text x="{svg_number(zero + 4)}" y="{y + 16}" font-size="11"{style}>{escape(shown)}</text>')
        parts.append("</g>")
    parts.append(f'<line x1="{svg_number(zero)}" y1="{top - 4}" x2="{svg_number(zero)}" y2="{axis_y}" stroke="#555"/>')
    if target is not None:
        tx = svg_number(x(target))
        parts.append(
            f'<g class="cible"><title>{escape(target_label)}</title>'
            f'<line x1="{tx}" y1="{top - 8}" x2="{tx}" y2="{axis_y}" stroke="{TARGET_COLOR}" stroke-width="2" '
            f'stroke-dasharray="6 3"/>'
            f'<text x="{tx}" y="{top - 12}" font-size="11" text-anchor="middle" fill="{TARGET_COLOR}">'
            f"{escape(target_label)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar(page: Page, title: str, desc: str, segments: Sequence[tuple[str, int, str]]) -> str:
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
                f"<g><title>{escape(label)} : {count}</title>"
                f'<rect x="{svg_number(x)}" y="{top}" width="{svg_number(span)}" height="{bar_height}" fill="{color}"/>'
            )
            if span >= 24:
                parts.append(
                    f'<text x="{svg_number(x + span / 2)}" y="{top + 20}" font-size="13" text-anchor="middle" '
                    f'fill="#fff" font-weight="bold">{count}</text>'
                )
            parts.append("</g>")
        x += span
    legend_x = float(left)
    for label, count, color in segments:
        text = f"{label} : {count}"
        parts.append(
            f'<rect x="{svg_number(legend_x)}" y="{top + bar_height + 14}" width="12" height="12" fill="{color}"/>'
            f'<text x="{svg_number(legend_x + 16)}" y="{top + bar_height + 24}" font-size="12">{escape(text)}</text>'
        )
        legend_x += 16 + 7.5 * len(text) + 24
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    page: Page, title: str, desc: str, periods: Sequence[str], series: Sequence[tuple[str, str, str, list[Any]]]
) -> str:
    """Lines over `periods`, one per (css name, label, color, cells); a cell without a value breaks its line."""
    width, height = 680, 290
    left, right, top, bottom = 80, 630, 20, 230
    values = [number for *_, cells in series for cell in cells if (number := number_of(cell)) is not None]
    ticks = nice_ticks(0.0, max([0.0, *values]))
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
            f'<line x1="{left}" y1="{svg_number(y(tick))}" x2="{right}" y2="{svg_number(y(tick))}" stroke="#e2e5ea"/>'
            f'<text x="{left - 6}" y="{svg_number(y(tick) + 4)}" font-size="11" text-anchor="end" fill="#444">'
            f"{escape(format_number(tick))}</text>"
        )
    for index, period in enumerate(periods):
        parts.append(
            f'<text x="{svg_number(x(index))}" y="{bottom + 18}" font-size="11" text-anchor="middle" fill="#444">'
            f"{escape(semester_short_label(period))}</text>"
        )
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555"/>')
    for name, label, color, cells in series:
        commands, pen_down = [], False
        points = []
        for index, cell in enumerate(cells):
            number = number_of(cell)
            if cell is exports.MASKED:
                page.masked = True
            if number is None:
                pen_down = False
                continue
            commands.append(f"{'L' if pen_down else 'M'}{svg_number(x(index))} {svg_number(y(number))}")
            pen_down = True
            points.append(
                f'<circle cx="{svg_number(x(index))}" cy="{svg_number(y(number))}" r="3.5" fill="{color}">'
                f"<title>{escape(label)}, {escape(semester_short_label(periods[index]))} : "
                f"{escape(format_number(number))}"
                "</title></circle>"
            )
        parts.append(f'<g class="serie serie-{escape(name)}">')
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
            f'<line x1="{svg_number(legend_x)}" y1="{bottom + 44}" x2="{svg_number(legend_x + 22)}" y2="{bottom + 44}" '
            f'stroke="{color}" stroke-width="3"/>'
            f'<text x="{svg_number(legend_x + 28)}" y="{bottom + 48}" font-size="12">{escape(label)}</text>'
        )
        legend_x += 28 + 7.5 * len(label) + 30
    parts.append("</svg>")
    return "".join(parts)
