"""The verdict on a regional workbook as a page a submitter can read: `write_html(verdict, path)`.

The page (French, self-contained, no script) gives the verdict, then every finding (severity, rule code, sheet,
cell, indicator, département, value found, what is expected, message), then, for each sheet with findings, the
sheet itself as a table with the faulty cells highlighted (red: error, orange: warning; hovering shows the message),
so that the cell to fix is found at a glance. Everything from the workbook is escaped.
"""

from __future__ import annotations

import html
import warnings
from pathlib import Path

from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter

from etl.submissions.verdict import ERROR, Verdict

MAX_ROWS = 400  # of a sheet shown in the report
MAX_COLUMNS = 12
MAX_TEXT = 80  # characters of a cell shown in the grid

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
.rejetée { color: #b00020; } .acceptée { color: #1b5e20; }
table { border-collapse: collapse; font-size: 0.85em; margin-top: 0.5em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; text-align: left; }
th { background: #eef; }
td.erreur { background: #f8c7c7; font-weight: bold; }
td.avertissement { background: #ffe0b2; }
tr.erreur td:first-child { color: #b00020; font-weight: bold; }
tr.avertissement td:first-child { color: #e65100; }
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _findings_table(verdict: Verdict) -> list[str]:
    out = [
        "<table><tr><th>Gravité</th><th>Règle</th><th>Feuille</th><th>Cellule</th><th>Indicateur</th>"
        "<th>Département</th><th>Trouvé</th><th>Attendu</th><th>Message</th></tr>"
    ]
    for f in verdict.findings:
        found = f.found if f.found is None or len(f.found) <= 200 else f.found[:200] + "…"
        out.append(
            f'<tr class="{_e(f.severity)}"><td>{_e(f.severity)}</td><td>{_e(f.rule)}</td><td>{_e(f.sheet)}</td>'
            f"<td>{_e(f.cell)}</td><td>{_e(f.indicator)}</td><td>{_e(f.territory)}</td><td>{_e(found)}</td>"
            f"<td>{_e(f.expected)}</td><td>{_e(f.message)}</td></tr>"
        )
    out.append("</table>")
    return out


def _sheet_grids(verdict: Verdict, workbook: Path) -> list[str]:
    import openpyxl

    marked: dict[str, dict[tuple[int, int], tuple[str, str]]] = {}
    for f in verdict.findings:
        if f.sheet and f.cell:
            try:
                row, column = coordinate_to_tuple(f.cell.split(":")[0])
            except ValueError:
                continue
            cells = marked.setdefault(f.sheet, {})
            severity, message = cells.get((row, column), ("", ""))
            severity = ERROR if ERROR in (severity, f.severity) else f.severity
            cells[(row, column)] = (severity, f"{message} [{f.rule}] {f.message}".strip())
    if not marked:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(workbook, data_only=True, read_only=True)
    out = []
    try:
        for sheet, cells in marked.items():
            if sheet not in book.sheetnames:
                continue
            ws = book[sheet]
            last_row = min(max(ws.max_row or 1, max(r for r, _ in cells)), MAX_ROWS)
            last_column = min(max(ws.max_column or 1, max(c for _, c in cells)), MAX_COLUMNS)
            out.append(f"<h2>Feuille « {_e(sheet)} »</h2><table><tr><th></th>")
            out += [f"<th>{get_column_letter(c)}</th>" for c in range(1, last_column + 1)]
            out.append("</tr>")
            for row_number, row in enumerate(
                ws.iter_rows(min_row=1, max_row=last_row, max_col=last_column, values_only=True), start=1
            ):
                out.append(f"<tr><th>{row_number}</th>")
                for column, value in enumerate(row, start=1):
                    text = "" if value is None else str(value)
                    text = text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
                    severity, message = cells.get((row_number, column), ("", ""))
                    attrs = f' class="{severity}" title="{_e(message)}"' if severity else ""
                    out.append(f"<td{attrs}>{_e(text)}</td>")
                out.append("</tr>")
            out.append("</table>")
    finally:
        book.close()
    return out


def render_html(verdict: Verdict, workbook: Path | None = None) -> str:
    """The report page; with `workbook` (the file checked, if it could be opened), the highlighted sheets too."""
    parts = [
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">',
        f"<title>Vérification de {_e(verdict.file_name)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Vérification du classeur « {_e(verdict.file_name)} »</h1>",
        f'<p>Verdict : <strong class="{_e(verdict.status)}">{_e(verdict.status)}</strong> — '
        f"{len(verdict.errors)} erreur(s), {len(verdict.warnings)} avertissement(s).</p>",
        f"<p>Région : {_e(verdict.region_code or 'inconnue')} · campagne : {_e(verdict.campaign or 'inconnue')} · "
        f"version du modèle : {_e(verdict.template_version or 'inconnue')} · "
        f"sha256 : <code>{_e(verdict.sha256)}</code></p>",
    ]
    if verdict.errors:
        parts.append(
            "<p>Le classeur n'a pas été chargé. Corriger les cellules signalées en rouge dans le classeur reçu, puis "
            "le déposer à nouveau : le nouveau dépôt remplacera celui-ci.</p>"
        )
    parts += _findings_table(verdict)
    if workbook is not None and verdict.sha256:
        try:
            parts += _sheet_grids(verdict, Path(workbook))
        except Exception:  # noqa: BLE001 - the grids are a help; the findings above are the report
            parts.append("<p>(Les feuilles n'ont pas pu être affichées.)</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html(verdict: Verdict, path: Path, *, workbook: Path | None = None) -> Path:
    path = Path(path)
    path.write_text(render_html(verdict, workbook), encoding="utf-8")
    return path
