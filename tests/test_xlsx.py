"""The bounded .xlsx opening every reader shares (etl/xlsx.py): rule codes, facts and English sentences, no
submissions wording; the French verdicts on top of it are tests/submissions/test_workbook.py's."""

from __future__ import annotations

import io
import pickle
import zipfile

import openpyxl
import pytest

from etl import xlsx


def _saved(**cells) -> bytes:
    workbook = openpyxl.Workbook()
    for coordinate, value in cells.items():
        workbook.active[coordinate] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _problem(tmp_path, content: bytes, **kwargs) -> xlsx.XlsxError:
    path = tmp_path / "table.xlsx"
    path.write_bytes(content)
    with pytest.raises(xlsx.XlsxError) as caught:
        xlsx.open_xlsx(path, **kwargs)
    assert "\n" not in str(caught.value) and "classeur" not in str(caught.value)  # English, for any reader
    return caught.value


def test_a_small_workbook_opens_with_its_values_and_formulas_on_request(tmp_path):
    path = tmp_path / "table.xlsx"
    path.write_bytes(_saved(A1="=1+1", A2=3))
    opened = xlsx.open_xlsx(path)
    assert opened.values.active["A2"].value == 3 and opened.formulas is None
    assert xlsx.open_xlsx(path, formulas=True).formulas.active["A1"].value == "=1+1"


def test_a_zip_bomb_is_refused_from_its_declared_size_with_its_facts(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_saved(A1=1))) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for name in source.namelist():
            bomb.writestr(name, source.read(name))
        bomb.writestr("xl/media/zeros.bin", bytes(60 << 20))
    error = _problem(tmp_path, out.getvalue())
    assert error.rule == "uncompressed_size" and error.facts["limit"] == 50 << 20
    assert error.facts["size"] > 60 << 20 and "zip bomb" in str(error)


def test_a_sheet_beyond_the_limits_names_the_sheet_row_and_limit(tmp_path):
    error = _problem(tmp_path, _saved(A41=1), limits=xlsx.Limits(max_rows=40))
    assert error.rule == "row_beyond" and error.facts == {"sheet": "Sheet", "row": 41, "limit": 40}
    assert "'Sheet'" in str(error)


@pytest.mark.parametrize(
    ("content", "rule"),
    [(b"", "empty"), (b"a;b\n1;2\n", "text"), (b"%PDF-1.4 ...", "pdf"), (bytes(range(256)) * 4, "unknown_format")],
)
def test_what_is_not_a_workbook_is_named(tmp_path, content, rule):
    assert _problem(tmp_path, content).rule == rule


def test_the_error_survives_pickling_with_its_facts():
    error = xlsx.XlsxError("file_size", "too big", size=9, limit=5)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.rule, copy.message, copy.facts, str(copy)) == (
        "file_size",
        "too big",
        {"size": 9, "limit": 5},
        "too big",
    )


def test_the_generic_module_knows_nothing_of_the_submissions():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(xlsx))
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [name for name in imported if name.startswith("etl.submissions")]
