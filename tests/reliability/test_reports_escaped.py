"""No script injection from a regional submission: what a région typed is shown escaped in the rejection report
(etl/submissions/report.py) and in the verdict, and loaded verbatim when the workbook is accepted.

The publication's HTML report escapes the observations it shows (tests/publication/test_report.py::test_region_pages);
the CSV and XLSX exports neutralise formula-like text (tests/publication/test_exports.py)."""

from __future__ import annotations

import io
from html.parser import HTMLParser

import openpyxl

from etl.samples.generators import submissions as gen
from etl.submissions import check, report
from etl.submissions import template as tpl

SCRIPT = '<script>alert("xss")</script>'
IMAGE = '<img src=x onerror="alert(1)">'


class _Tags(HTMLParser):
    """Every start tag of a page, and the text of its cells."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs = [*getattr(self, "attrs", []), *attrs]

    def handle_data(self, data):
        self.text.append(data)


def _hostile_workbook(tmp_path):
    workbook = openpyxl.load_workbook(io.BytesIO(gen.filled_workbook("84", 2024, seed=3).content))
    sheet = workbook[tpl.INDICATEURS_SHEET]
    rows = [r for r in range(2, sheet.max_row + 1) if sheet[f"H{r}"].value is not None]
    sheet[f"H{rows[0]}"] = SCRIPT  # text in a number cell: an error shown in the findings and the sheet grid
    sheet[f"I{rows[1]}"] = IMAGE  # an observation: free text, kept as typed
    path = tmp_path / "indicateurs_locaux_R84_2024.xlsx"
    workbook.save(path)
    return path, rows


def test_markup_typed_in_a_workbook_is_escaped_in_the_rejection_report(tmp_path):
    path, rows = _hostile_workbook(tmp_path)
    verdict = check.check_file(path)
    assert not verdict.accepted
    assert any(f.cell == f"H{rows[0]}" for f in verdict.errors)
    page = report.render_html(verdict, path)
    parsed = _Tags()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not any(name.startswith("on") for name, _ in parsed.attrs)
    assert "<script" not in page.lower() and "<img" not in page.lower()
    shown = "".join(parsed.text)
    assert SCRIPT in shown  # the région sees exactly what it typed, as text
    assert "&lt;script&gt;" in page


def test_markup_in_an_accepted_workbook_is_stored_verbatim_and_escaped_in_the_verdict_report(tmp_path):
    workbook = openpyxl.load_workbook(io.BytesIO(gen.filled_workbook("84", 2024, seed=3).content))
    sheet = workbook[tpl.INDICATEURS_SHEET]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet[f"H{r}"].value is not None)
    sheet[f"I{row}"] = IMAGE + " " + SCRIPT
    path = tmp_path / "indicateurs_locaux_R84_2024.xlsx"
    workbook.save(path)
    verdict = check.check_file(path)
    assert verdict.accepted, verdict.summary()
    observations = set(verdict.values["observations"].dropna())
    assert IMAGE + " " + SCRIPT in observations
    page = report.render_html(verdict, path)
    assert "<script" not in page.lower() and "<img" not in page.lower()


def test_a_formula_typed_as_an_observation_is_kept_as_typed(tmp_path):
    """An observation cell holding a formula Excel never computed (a workbook written by a script, or `=HYPERLINK`
    typed in LibreOffice without recalculation) was read as empty: the text the région typed is kept, as text."""
    workbook = openpyxl.load_workbook(io.BytesIO(gen.filled_workbook("84", 2024, seed=3).content))
    sheet = workbook[tpl.INDICATEURS_SHEET]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet[f"H{r}"].value is not None)
    sheet[f"I{row}"] = '=HYPERLINK("http://example.org","voir")'
    path = tmp_path / "indicateurs_locaux_R84_2024.xlsx"
    workbook.save(path)
    verdict = check.check_file(path)
    assert verdict.accepted, verdict.summary()
    assert '=HYPERLINK("http://example.org","voir")' in set(verdict.values["observations"].dropna())
