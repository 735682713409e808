"""Hostile inputs: every reader of the registry, CSV and Excel, against files built to hurt.

The CSV sources and the Excel kinds are taken from etl/sources/registry.yaml (an entry of kind `workbook` is an Excel
kind, every other one a CSV source), so a new source is covered as soon as it is declared
(and fails here until it has a sample below). Each CSV case corrupts a small valid file of the source (a few lines
of its generator's output or of its catalogue/ file): a zip bomb named like the source's files, a file over the size
limit, NUL bytes, UTF-16, mixed UTF-8 and Windows-1252 lines, a BOM with CRLF line ends, a quoted line break, a real
10 MB line, formulas (`=HYPERLINK(...)`, DDE) and SQL in every text field, a row with an extra or a missing field.
Each is either refused with one sentence naming the file and the line (and column), or read safely (text kept
verbatim). Through the pipeline, a refused file leaves raw, staging, core and publication unchanged, is archived by
its sha256 and quarantined with its report; through the Excel intake, the same with the verdict, its HTML report and
JSON; formulas, SQL and line breaks typed in text cells are stored verbatim, and nothing is executed or written
outside the runtime folder.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import hashlib
import io
import re
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import landing, pipeline, readers
from etl.config import PROJECT_ROOT
from etl.readers import FileShapeError
from etl.sources.registry import all_sources
from etl.warehouse.fingerprint import fingerprint

SOURCES, _BROKEN = all_sources()
EXCEL_SOURCES = sorted(sid for sid, src in SOURCES.items() if src.kind == "workbook")
# the perimeters are a zip of GeoJSON, not `;` text: their hostile files are in tests/sources/test_anct_perimetres.py
GEOJSON_SOURCES = sorted(sid for sid, src in SOURCES.items() if {"*.zip", "*.geojson"} & set(src.patterns))
CSV_SOURCES = sorted(sid for sid in SOURCES if sid not in EXCEL_SOURCES and sid not in GEOJSON_SOURCES)
STATE = ("raw.", "staging.", "core.", "publication.")  # what a refused file must leave unchanged

SQL = "Robert'); DROP TABLE core.indicator; --"
FORMULA = '=HYPERLINK("http://evil.example/x";"clic")'
DDE = "=cmd|' /C calc'!A0"
TEN_MB = 10 << 20
HEX_KEY = re.compile(r"^[0-9a-f]{16}$")


# --- valid samples -------------------------------------------------------------------------------------------------


def _generated(territories_dir: Path, folder: Path) -> dict:
    """source id -> a function writing a valid file of the source into `folder` (the catalogue sources use their
    repository file)."""
    from etl.samples.generators import ans, caf, insee, national
    from etl.samples.generators import france_travail as ft
    from etl.samples.generators import france_travail_individus as fti

    return {
        "anct_qpv": lambda: territories_dir / "qpv_2024.csv",
        "anct_qpv_correspondance": lambda: territories_dir / "qpv_correspondance_2015_2024.csv",
        "france_travail_defm": lambda: ft.generate_defm(folder, territories_dir, ["2024-06"])[0],
        "france_travail_contacts": lambda: ft.generate_contacts(folder, territories_dir, [2024])[0],
        "france_travail_individus": lambda: fti.generate(folder, territories_dir, ["2024-06"], rows=50)[0],
        "caf_allocataires": lambda: caf.generate_allocataires(folder, territories_dir, [2023])[0],
        "caf_creches": lambda: caf.generate_creches(folder, territories_dir, ["2024-Q1"])[0],
        "ans_subventions": lambda: ans.generate_subventions(folder, territories_dir, [2023])[0],
        "ans_licences": lambda: ans.generate_licences(folder, territories_dir, [2023], layout="plateforme")[0],
        "national_indicateurs": lambda: national.generate(folder, [2023])[0],
        "insee_population": lambda: insee.generate(folder, territories_dir, [2020], csv=True)[1],  # the CSV derivative
    }


def _rows(path: Path, count: int = 6) -> list[list[str]]:
    """The header and the first `count - 1` records of a valid file, as fields (UTF-8 or Windows-1252 read)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    return records[:count]


@pytest.fixture(scope="module")
def samples(territories_dir, tmp_path_factory) -> dict[str, list[list[str]]]:
    """source id -> header + 5 records of a valid file, for every CSV source of the registry."""
    folder = tmp_path_factory.mktemp("hostile-samples")
    generated = _generated(territories_dir, folder)
    out = {}
    for sid in CSV_SOURCES:
        files = SOURCES[sid].repository_files
        path = PROJECT_ROOT / files[0] if files else generated[sid]() if sid in generated else None
        if path is not None:
            out[sid] = _rows(path)
    return out


def _csv(rows: list[list[str]], *, line_end: str = "\n") -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";", lineterminator=line_end, quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buffer.getvalue()


def _name(sid: str, tag: str) -> str:
    """A file name the source's inbox accepts (its first pattern, `*` replaced by the tag)."""
    pattern = SOURCES[sid].patterns[0]
    name = pattern.replace("*", f"_{tag}") if "*" in pattern else pattern
    assert fnmatch.fnmatch(name, pattern)
    return name


def _read(sid: str, path: Path):
    return SOURCES[sid].resolve(SOURCES[sid].reader)(path)


def _refused(sid: str, path: Path) -> FileShapeError:
    with pytest.raises(FileShapeError) as caught:
        _read(sid, path)
    return caught.value


def _one_sentence(message: str, name: str) -> None:
    assert message.startswith(f"{name}: "), message
    assert "\n" not in message and message.endswith("."), message
    assert "Traceback" not in message


# --- the hostile CSV files -----------------------------------------------------------------------------------------


def _zip_bomb() -> bytes:
    """A 20 KB zip of a 20 MB worksheet of zeros, i.e. an .xlsx bomb, given the source's CSV name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 << 20))
    return buffer.getvalue()


def _with(rows, line: int, column: int, value: str) -> list[list[str]]:
    """A copy of `rows` where the field `column` of file line `line` (header = 1) is `value`."""
    copy = [list(r) for r in rows]
    copy[line - 1][column] = value
    return copy


def _refusal_cases(rows: list[list[str]]) -> dict[str, tuple[bytes, str, int | None, str | None]]:
    """case -> (bytes, rule, line, column named in the message) for the files every CSV reader must refuse."""
    header = rows[0]
    width = len(header)
    last = header[-1].strip().lower()
    extra = [list(r) for r in rows]
    extra[2] = [*extra[2], "surplus"]
    missing = [list(r) for r in rows]
    missing[2] = missing[2][:-1]
    cp1252_line = _csv([_with(rows, 4, width - 1, "Crèche Léo Lagrange")[3]]).encode("cp1252")
    mixed = (
        _csv(rows[:3]).encode()
        + cp1252_line
        + _csv([_with(rows, 5, width - 1, "Maison Émile Zola")[4], *rows[5:]]).encode()
    )
    return {
        "zip_bomb": (_zip_bomb(), "not_text", 1, None),
        "nul_byte": (_csv(_with(rows, 3, width - 1, rows[2][-1] + "\0")).encode(), "nul_byte", 3, last),
        "utf16": (codecs.BOM_UTF16_LE + _csv(rows).encode("utf-16-le"), "encoding", 1, None),
        "mixed_encodings": (mixed, "encoding", 4, None),
        "ten_mb_line": (_csv(_with(rows, 3, width - 1, "A" * TEN_MB)).encode(), "line_length", 3, None),
        "extra_field": (_csv(extra).encode(), "field_count", 3, None),
        "missing_field": (_csv(missing).encode(), "field_count", 3, None),
    }


# --- readers: every CSV source -------------------------------------------------------------------------------------


def test_every_source_of_the_registry_is_covered(samples):
    assert not _BROKEN
    assert EXCEL_SOURCES == ["paqte", "regional"]
    assert GEOJSON_SOURCES == ["anct_qpv_perimetres"]
    assert len(CSV_SOURCES) >= 16
    assert sorted(samples) == CSV_SOURCES, "a CSV source of the registry has no sample in _generated()"


@pytest.mark.parametrize("sid", CSV_SOURCES)
def test_hostile_csv_files_are_refused_with_one_sentence_naming_file_and_line(sid, samples, tmp_path):
    for case, (content, rule, line, column) in _refusal_cases(samples[sid]).items():
        path = tmp_path / _name(sid, case)
        path.write_bytes(content)
        error = _refused(sid, path)
        assert (case, error.rule) == (case, rule), str(error)
        _one_sentence(str(error), path.name)
        if line is not None and not (case == "mixed_encodings" and error.line is None):
            assert error.line == line and f"line {line}" in str(error), (case, str(error))
        if column:
            assert error.column == column and f"column {column}" in str(error), (case, str(error))


@pytest.mark.parametrize("sid", CSV_SOURCES)
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(sid, samples, tmp_path, monkeypatch):
    content = _csv(samples[sid]).encode()
    limit = len(content) - 1
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", limit)
    monkeypatch.setattr(readers, "MAX_EXTRACT_BYTES", limit)
    path = tmp_path / _name(sid, "big")
    path.write_bytes(content)
    error = _refused(sid, path)
    assert error.rule == "file_size"
    _one_sentence(str(error), path.name)
    assert "more than the" in str(error)


def test_a_gzip_extract_that_inflates_beyond_the_line_limit_is_refused(samples, tmp_path, monkeypatch):
    """A small gzip file may hold billions of lines: the streamed reader stops at MAX_EXTRACT_RECORDS."""
    import gzip

    [sid] = [s for s in CSV_SOURCES if any(p.endswith(".gz") for p in SOURCES[s].patterns)]
    rows = samples[sid]
    monkeypatch.setattr(readers, "MAX_EXTRACT_RECORDS", 3)
    path = tmp_path / (_name(sid, "bomb") + ".gz")
    path.write_bytes(gzip.compress(_csv(rows).encode()))
    error = _refused(sid, path)
    assert error.rule == "file_size" and "more than 3 lines" in str(error)
    _one_sentence(str(error), path.name)


@pytest.mark.parametrize("sid", CSV_SOURCES)
def test_bom_crlf_quoted_line_breaks_formulas_and_sql_are_read_verbatim(sid, samples, tmp_path):
    rows = samples[sid]
    clean = tmp_path / _name(sid, "clean")
    clean.write_bytes(_csv(rows).encode())
    expected = _read(sid, clean)

    # a BOM and CRLF line ends: the same frame, the same line numbers
    bom_crlf = tmp_path / _name(sid, "bom_crlf")
    bom_crlf.write_bytes(codecs.BOM_UTF8 + _csv(rows, line_end="\r\n").encode())
    got = _read(sid, bom_crlf)
    assert got.to_dict("list") == expected.to_dict("list")

    # formulas, DDE and SQL in every text field of line 3 (identifiers of 16 hex digits left alone, and the empty
    # trailing columns of a real layout, where a value under no header is refused): kept as text
    hostile = [list(r) for r in rows]
    texts = [FORMULA, DDE, SQL, "=1+1", "@SUM(A1)", "+33 1 23", "-2+3"]
    touched = {}
    for index, value in enumerate(hostile[2]):
        if not HEX_KEY.match(value) and rows[0][index].strip():
            hostile[2][index] = texts[index % len(texts)]
            touched[rows[0][index].strip().lower()] = hostile[2][index]
    path = tmp_path / _name(sid, "formulas")
    path.write_bytes(_csv(hostile).encode())
    frame = _read(sid, path)
    [row] = frame.loc[frame["line_no"] == 3].to_dict("records")
    for column, value in touched.items():
        if column in row:
            assert row[column] == value, column

    # a quoted line break inside a field: kept, and the next rows keep their file line; an extract (one line per
    # record) refuses it naming the line
    last = max(index for index, header in enumerate(rows[0]) if header.strip())  # the last column with a header
    multiline = _with(rows, 2, last, "première ligne\r\nseconde ligne")
    path = tmp_path / _name(sid, "multiline")
    path.write_bytes(_csv(multiline).encode())
    try:
        frame = _read(sid, path)
    except FileShapeError as error:
        assert (error.rule, error.line) == ("multiline_field", 2)
        _one_sentence(str(error), path.name)
    else:
        assert frame["line_no"].tolist()[:3] == [2, 4, 5]
        assert frame.iloc[0][rows[0][last].strip().lower()] == "première ligne\r\nseconde ligne"


# --- the pipeline: refused files change nothing, are archived and quarantined --------------------------------------


def _state(engine) -> dict:
    return {table: value for table, value in fingerprint(engine).items() if table.startswith(STATE)}


@pytest.mark.warehouse
def test_refused_csv_files_leave_the_warehouse_unchanged_and_are_archived_and_quarantined(reference_warehouse, samples):
    """Every CSV source gets three or four hostile files (the NUL byte used to crash the load with a traceback and
    leave its batch `received`, blocking the source; the short row used to load with empty values); none reaches the
    tables."""
    wh = reference_warehouse
    before = _state(wh.engine)
    dropped = {}
    for sid in CSV_SOURCES:
        cases = _refusal_cases(samples[sid])
        inbox = wh.home.folder("inbox") / sid
        inbox.mkdir(parents=True, exist_ok=True)
        batches = []
        # the real 10 MB line once (the reader tests have it for every source): 3 copies of 10 MB a source is slow
        for case in ("nul_byte", "missing_field", "zip_bomb", "ten_mb_line")[: 4 if sid == CSV_SOURCES[0] else 3]:
            content, rule, line, _ = cases[case]
            (inbox / _name(sid, case)).write_bytes(content)
            dropped[(sid, _name(sid, case), rule)] = (content, line)
            if "*" not in SOURCES[sid].patterns[0]:  # one name for every file: land them one at a time
                batches += pipeline.ingest(wh.engine, SOURCES[sid], home=wh.home, run_id="hostile").batches
        batches += pipeline.ingest(wh.engine, SOURCES[sid], home=wh.home, run_id="hostile").batches
        assert batches and {b.status for b in batches} == {"quarantined"}, [
            (b.original_name, b.reason) for b in batches
        ]
    assert _state(wh.engine) == before, "a refused file changed raw, staging, core or publication"

    with wh.engine.connect() as conn:
        batches = conn.execute(
            sa.text(
                "SELECT b.source_id, b.original_name, b.status, b.message, b.report_path, f.archive_path, b.sha256 "
                "FROM audit.batch b JOIN audit.file_registry f USING (source_id, sha256) WHERE b.run_id = 'hostile'"
            )
        ).all()
    assert len(batches) == len(dropped)
    for sid, name, status, message, report_path, archive, sha in batches:
        rule = message[1 : message.index("]")]
        content, line = dropped[(sid, name, rule)]
        assert status == "quarantined"
        assert sha == hashlib.sha256(content).hexdigest()
        assert Path(archive) == landing.archive_path(wh.home, sid, sha, ".csv")
        assert Path(archive).read_bytes() == content
        # the message and the report name the file as it was sent, never its archive copy
        assert message.startswith(f"[{rule}] line {line}") and f"{name}: line {line}" in message, message
        assert Path(archive).name not in message
        report = Path(report_path).read_text(encoding="utf-8")
        assert f"Quarantined file: {name}\n" in report and message in report
        assert (Path(report_path).parent / report_path.rsplit("/", 1)[-1].removesuffix(".report.txt")).is_file()


@pytest.mark.warehouse
def test_formulas_sql_bom_crlf_and_line_breaks_are_loaded_verbatim(reference_warehouse, samples):
    """A valid operators' catalogue with a BOM, CRLF line ends, a quoted line break, formulas and SQL in its text
    fields loads, every text exactly as written; the SQL executed nothing (the tables it names are all there)."""
    wh = reference_warehouse
    sid = "catalogue_operateurs"
    rows = _rows(PROJECT_ROOT / SOURCES[sid].repository_files[0], count=10_000)
    header = [h.strip().lower() for h in rows[0]]
    rows[1][header.index("libelle")] = SQL
    rows[1][header.index("definition")] = FORMULA + "\r\n" + DDE
    rows[2][header.index("libelle")] = "'; SELECT pg_sleep(30); --"
    with wh.engine.connect() as conn:
        indicators = conn.execute(sa.text("SELECT count(*) FROM core.indicator")).scalar()
    inbox = wh.home.folder("inbox") / sid
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / _name(sid, "hostile")).write_bytes(codecs.BOM_UTF8 + _csv(rows, line_end="\r\n").encode())
    report = pipeline.ingest(wh.engine, SOURCES[sid], home=wh.home, run_id="verbatim")
    assert [b.status for b in report.batches] == ["loaded"], [b.reason for b in report.batches]
    with wh.engine.connect() as conn:
        stored = conn.execute(
            sa.text(
                "SELECT line_no, libelle, definition FROM raw.catalogue_operateur WHERE batch_id = :b AND line_no < 5 "
                "ORDER BY line_no"
            ),
            {"b": report.batches[0].batch_id},
        ).all()
        assert conn.execute(sa.text("SELECT count(*) FROM core.indicator")).scalar() >= indicators
    assert stored[0] == (2, SQL, FORMULA + "\r\n" + DDE)
    assert stored[1][:2] == (4, "'; SELECT pg_sleep(30); --")  # line 2 spans two physical lines


# --- Excel: the regional workbooks and the PAQTE reports ----------------------------------------------------------


def _workbook(kind: str) -> tuple[bytes, str, str]:
    """(valid bytes, file name, a free-text cell "Sheet!A1") of the kind."""
    if kind == "regional":
        from etl.samples.generators import submissions as gen

        return gen.filled_workbook("84", 2024, seed=1).content, gen.submission_file_name("84", 2024), "Indicateurs!I2"
    from etl.samples.generators import paqte as gen

    return gen.filled_paqte("69", "2024-S1").content, gen.paqte_file_name("69", "2024-S1"), "Bilan!B6"


def _rezip(content: bytes, change=lambda name, data: data, extra=()) -> bytes:
    source, buffer = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, change(info.filename, source.read(info.filename)))
        for name, data in extra:
            archive.writestr(name, data)
    return buffer.getvalue()


def _typed(content: bytes, cell: str, xml_text: bytes) -> bytes:
    """The workbook with `cell` holding a string whose XML is exactly `xml_text` (no escaping by openpyxl)."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet, coordinate = cell.split("!")
    book[sheet][coordinate].value = "PLACEHOLDER-HOSTILE"
    buffer = io.BytesIO()
    book.save(buffer)
    return _rezip(buffer.getvalue(), lambda name, data: data.replace(b"PLACEHOLDER-HOSTILE", xml_text))


def _excel_zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<worksheet>" + b" " * (200 << 20) + b"</worksheet>")
    return buffer.getvalue()


def _intake(wh, kind: str, files: dict[str, bytes], run_id: str):
    from etl.submissions import intake

    inbox = wh.home.folder("inbox") / kind
    inbox.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (inbox / name).write_bytes(content)
    return intake.intake(wh.engine, kind, home=wh.home, run_id=run_id)


@pytest.mark.warehouse
@pytest.mark.parametrize("kind", EXCEL_SOURCES)
def test_hostile_workbooks_are_refused_with_the_rule_and_the_cell_and_change_nothing(reference_warehouse, kind):
    wh = reference_warehouse
    content, name, cell = _workbook(kind)
    stem = name.removesuffix(".xlsx")
    from etl.samples.generators import paqte as paqte_gen
    from etl.samples.generators import submissions as regional_gen

    generator = regional_gen if kind == "regional" else paqte_gen
    missing_column = (
        regional_gen.filled_workbook("84", 2024, seed=1, mistakes=["colonne_supprimee"]).content
        if kind == "regional"
        else paqte_gen.filled_paqte("69", "2024-S1", mistakes=["colonne_supprimee"]).content
    )
    assert generator  # both generators ship a missing-column mistake
    cases = {
        f"{stem}_bomb.xlsx": (_excel_zip_bomb(), "FICHIER-TAILLE", None),
        f"{stem}_big.xlsx": (content + b"\0" * (5 << 20), "FICHIER-TAILLE", None),
        f"{stem}_bom.xlsx": (codecs.BOM_UTF8 + content, "FICHIER-CORROMPU", None),
        f"{stem}_csv.xlsx": (codecs.BOM_UTF8 + b'code;nom\r\n84;"=HYPERLINK(""x"")"\r\n', "FICHIER-TEXTE", None),
        f"{stem}_nul.xlsx": (_typed(content, cell, b"avant\x00apres"), "FICHIER-CORROMPU", None),
        f"{stem}_ten_mb.xlsx": (_typed(content, cell, b"A" * TEN_MB), None, cell),
        f"{stem}_colonne.xlsx": (missing_column, None, None),
    }
    before = _state(wh.engine)
    report = _intake(wh, kind, {n: c for n, (c, _, _) in cases.items()}, f"hostile-{kind}")
    assert _state(wh.engine) == before, "a refused workbook changed raw, staging, core or publication"
    assert len(report.outcomes) == len(cases) and not [o for o in report.outcomes if o.verdict.accepted]
    for outcome in report.outcomes:
        content_sent, rule, where = cases[outcome.original_name]
        first = outcome.verdict.errors[0]
        if rule:
            assert first.rule == rule, (outcome.original_name, first.rule, first.message)
        if where:
            assert first.where == where, (outcome.original_name, first.where, first.message)
        assert "\n" not in first.message and first.message.endswith(".") and "Traceback" not in first.message
        # archived by sha256, quarantined with the HTML report and the JSON verdict
        sha = hashlib.sha256(content_sent).hexdigest()
        assert landing.archive_path(wh.home, kind, sha, ".xlsx").read_bytes() == content_sent
        assert outcome.report.is_file() and outcome.report.name.endswith(".rapport.html")
        assert outcome.report.with_name(outcome.report.name.replace(".rapport.html", ".verdict.json")).is_file()
        assert outcome.report.with_name(outcome.report.name.removesuffix(".rapport.html")).read_bytes() == content_sent


@pytest.mark.warehouse
@pytest.mark.parametrize("kind", EXCEL_SOURCES)
def test_formulas_sql_line_breaks_and_traversal_names_in_workbooks_are_stored_verbatim_and_run_nothing(
    reference_warehouse, kind, tmp_path
):
    """Text typed in a free-text cell is data: a formula's text, SQL, CRLF and an `_x0000_` escape are stored as
    typed. Zip entries named `../../x` or `/tmp/...` and a sent name with `../` write nothing outside the runtime
    folder: openpyxl never extracts the zip, and the name is made safe for quarantine/."""
    wh = reference_warehouse
    content, name, cell = _workbook(kind)
    outside = tmp_path / "written-by-the-workbook.txt"
    texts = {
        "formule": (b"=HYPERLINK(&quot;http://evil.example/x&quot;;&quot;clic&quot;)", FORMULA),
        "sql": (SQL.replace("'", "&apos;").encode(), SQL),
        "lignes": (b'un_x000D__x000A_deux\r\n"trois";quatre', 'un_x000D__x000A_deux\n"trois";quatre'),
        "nul": (b"avant_x0000_apres", "avant_x0000_apres"),
    }
    files = {}
    for tag, (xml_text, _) in texts.items():
        typed = _typed(content, cell, xml_text)
        if tag == "formule":
            typed = _rezip(typed, extra=[("../../evil.txt", b"x"), (str(outside), b"x")])
        files[f"{name.removesuffix('.xlsx')}_{tag}.xlsx"] = typed
    stored = {}
    sheet, coordinate = cell.split("!")
    for file_name, typed in files.items():  # each replaces the previous accepted one: check it before the next
        report = _intake(wh, kind, {file_name: typed}, f"verbatim-{kind}")
        [outcome] = report.outcomes
        assert outcome.verdict.accepted, [(f.rule, f.where, f.message) for f in outcome.verdict.errors]
        with wh.engine.connect() as conn:
            if kind == "regional":
                value_cell = "H" + coordinate[1:]  # observations (I) belong to the row's value cell
                query = "SELECT observations FROM core.regional_submission_value WHERE batch_id = :b AND cell = :c"
            else:
                value_cell = coordinate
                query = "SELECT text FROM core.paqte_submission_value WHERE batch_id = :b AND cell = :c"
            stored[file_name] = conn.execute(
                sa.text(query + " AND sheet = :s"), {"b": outcome.batch_id, "c": value_cell, "s": sheet}
            ).scalar()
    assert list(stored.values()) == [expected for _, expected in texts.values()]
    assert not outside.exists() and not (wh.home.root.parent / "evil.txt").exists()
    with wh.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('core.indicator') IS NOT NULL")).scalar()

    # a name with `../` sent by a submitter: a warning, and the quarantine copy keeps to quarantine/<kind>/
    from etl.submissions.check import check_file
    from etl.submissions.paqte_check import check_paqte_file

    check = check_file if kind == "regional" else check_paqte_file
    path = tmp_path / "sent.xlsx"
    path.write_bytes(content)
    verdict = check(path, name=f"../../{name}")
    assert [f.rule for f in verdict.warnings][:1] == ["FICHIER-NOM"] and "séparateurs de chemin" in verdict.warnings[
        0
    ].message


@pytest.mark.warehouse
def test_odd_inbox_names_are_archived_under_a_plain_extension(reference_warehouse):
    """Inbox names may end in anything up to 255 bytes (names starting with a dot are partial uploads, left in the
    inbox): the archive keeps only a plain extension (a 240-character
    "extension" used to make the archive path too long for the file system, a traceback that blocked the inbox)."""
    wh = reference_warehouse
    names = ["R84_2024." + "x" * 240, "R84\\..\\..\\2024.xlsx", "R84_2024.\nxlsx", "-R84 2024 (1).XLSX"]
    report = _intake(wh, "regional", {n: f"not a workbook {i}".encode() for i, n in enumerate(names)}, "odd-names")
    assert sorted(o.original_name for o in report.outcomes) == sorted(names)
    archived = sorted(p.name[64:] for p in (wh.home.folder("archive") / "regional").rglob("*") if p.is_file())
    assert {"", ".xlsx"} >= set(archived) and ".xlsx" in archived
    for outcome in report.outcomes:
        assert not outcome.verdict.accepted and outcome.report.parent == wh.home.folder("quarantine") / "regional"
