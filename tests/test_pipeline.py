"""The path every file takes, end to end on a real PostgreSQL: good files load, bad ones are quarantined
with a report naming file, line, column and rule, and the warehouse is left exactly as it was."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from etl import pipeline
from etl.config import PROJECT_ROOT
from etl.sources.registry import source
from etl.warehouse.fingerprint import fingerprint

pytestmark = pytest.mark.warehouse

HEADER = "code_qp;lib_qp;insee_reg;lib_reg;insee_dep;lib_dep;insee_com;lib_com;siren_epci;lib_epci\n"
GOOD_ROWS = [
    "QP075001;Les Portes;11;Île-de-France;75;Paris;75056;Paris;200054781;Métropole du Grand Paris",
    'QP001001;Les Tilleuls;84;Auvergne-Rhône-Alpes;01;Ain;"01053; 01283";"Bourg; Oyonnax";200071751;CA du Bassin',
    "QP001002;Centre;84;Auvergne-Rhône-Alpes;01;Ain;1053;Bourg-en-Bresse;200071751;CA du Bassin",
    "QP02A001;Les Salines;94;Corse;2A;Corse-du-Sud;2A004;Ajaccio;200066793;CA du Pays Ajaccien",
]


def _drop(home, source_id: str, name: str, content: bytes):
    inbox = home.folder("inbox") / source_id
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_bytes(content)


def _ingest(isolated, source_id: str):
    return pipeline.ingest(isolated.engine, source(source_id), home=isolated.home, run_id="test")


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


def test_reference_files_load_and_trace_back_to_their_file_and_line(with_territories):
    eng = with_territories.engine
    assert _count(eng, "SELECT count(*) FROM core.region") == 18
    assert _count(eng, "SELECT count(*) FROM core.departement") == 101
    traced = _count(
        eng,
        "SELECT count(*) FROM core.departement d JOIN staging.cog_departement s USING (batch_id) "
        "JOIN raw.cog_departement r ON r.batch_id = s.batch_id AND r.line_no = s.line_no "
        "JOIN audit.batch b ON b.batch_id = d.batch_id WHERE s.code = d.code AND b.original_name = 'departements.csv'",
    )
    assert traced == 101
    assert _count(eng, "SELECT count(*) FROM audit.dq_result WHERE gate IN ('file', 'rows')") > 10


def test_same_file_twice_loads_once(with_territories):
    before = fingerprint(with_territories.engine)
    _drop(
        with_territories.home, "cog_regions", "regions-again.csv", (PROJECT_ROOT / "catalogue/regions.csv").read_bytes()
    )
    report = _ingest(with_territories, "cog_regions")
    assert report.batches == [] and len(report.duplicates) == 1
    assert fingerprint(with_territories.engine) == before


def test_good_qpv_file_in_the_real_anct_format_loads(with_territories):
    _drop(with_territories.home, "anct_qpv", "QP_2015.csv", (HEADER + "\n".join(GOOD_ROWS) + "\n").encode())
    report = _ingest(with_territories, "anct_qpv")
    assert [(b.status, b.partition) for b in report.batches] == [("loaded", "2015")], report.batches[0].reason
    eng = with_territories.engine
    assert _count(eng, "SELECT count(*) FROM core.qpv") == 4
    assert _count(eng, "SELECT count(*) FROM core.qpv_commune WHERE qpv_code = 'QP001001'") == 2
    assert _count(eng, "SELECT count(*) FROM core.qpv_commune WHERE commune_code = '01053'") == 2
    assert _count(eng, "SELECT count(*) FROM core.qpv WHERE departement_code = '2A'") == 1


BROKEN = {
    "qpv_code_shape": (GOOD_ROWS[0].replace("QP075001", "QP75001"), "code_qp", "QP75001"),
    "unknown_departement": (GOOD_ROWS[0].replace(";75;Paris;", ";99;Nowhere;"), "insee_dep", "99"),
    "commune_through_a_float": (GOOD_ROWS[2].replace(";1053;", ";1053.0;"), "insee_com", "1053.0"),
    "duplicate_key": (GOOD_ROWS[0].replace("Les Portes", "Les Portes bis"), "code_qp", "QP075001"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_qpv_file_is_quarantined_with_line_and_column_and_changes_nothing(with_territories, case):
    home, eng = with_territories.home, with_territories.engine
    _drop(home, "anct_qpv", "good.csv", (HEADER + "\n".join(GOOD_ROWS) + "\n").encode())
    _ingest(with_territories, "anct_qpv")
    before = fingerprint(eng)
    bad_row, column, value = BROKEN[case]
    lines = [*GOOD_ROWS, bad_row]
    _drop(home, "anct_qpv", f"{case}.csv", (HEADER + "\n".join(lines) + "\n").encode())
    report = _ingest(with_territories, "anct_qpv")
    [batch] = report.batches
    assert batch.status == "quarantined"
    text = batch.report.read_text()
    assert f"{case}.csv" in text and f"column {column}" in text and f"line 6 ('{value}')" in text
    assert (home.folder("quarantine") / "anct_qpv" / batch.report.name.removesuffix(".report.txt")).exists()
    after = fingerprint(eng)
    changed = {t for t in after if after[t] != before[t]}
    assert changed <= {"audit.batch", "audit.file_registry", "audit.dq_result"}, changed
    for table in ("raw.anct_qpv", "staging.qpv", "core.qpv", "core.qpv_commune"):
        assert after[table] == before[table]


@pytest.mark.parametrize(
    ("case", "content", "rule"),
    [
        ("latin1", (HEADER + GOOD_ROWS[0].replace("Île", "\u00cele") + "\n").encode("latin-1"), "[encoding] line 2"),
        ("empty", b"", "[empty_file]"),
        ("header_only", HEADER.encode(), "[empty_file]"),
        (
            "missing_column",
            HEADER.replace(";lib_epci", "").encode() + b"x\n",
            "[missing_columns] line 1, column lib_epci",
        ),
    ],
)
def test_unreadable_files_are_quarantined_with_the_rule(with_territories, case, content, rule):
    _drop(with_territories.home, "anct_qpv", f"{case}.csv", content)
    before = fingerprint(with_territories.engine)
    [batch] = _ingest(with_territories, "anct_qpv").batches
    assert batch.status == "quarantined"
    assert rule in batch.report.read_text()
    assert fingerprint(with_territories.engine)["core.qpv"] == before["core.qpv"]


def test_one_broken_file_does_not_stop_the_next(with_territories):
    home = with_territories.home
    _drop(home, "anct_qpv", "a-broken.csv", b"")
    _drop(home, "anct_qpv", "b-good.csv", (HEADER + "\n".join(GOOD_ROWS) + "\n").encode())
    report = _ingest(with_territories, "anct_qpv")
    assert sorted((b.original_name, b.status) for b in report.batches) == [
        ("a-broken.csv", "quarantined"),
        ("b-good.csv", "loaded"),
    ]


def test_a_new_file_replaces_its_partition_atomically(with_territories):
    home, eng = with_territories.home, with_territories.engine
    _drop(home, "anct_qpv", "v1.csv", (HEADER + "\n".join(GOOD_ROWS) + "\n").encode())
    first = _ingest(with_territories, "anct_qpv").batches[0].batch_id
    _drop(home, "anct_qpv", "v2.csv", (HEADER + "\n".join(GOOD_ROWS[:2]) + "\n").encode())
    second = _ingest(with_territories, "anct_qpv").batches[0].batch_id
    assert _count(eng, "SELECT count(*) FROM core.qpv") == 2
    assert _count(eng, f"SELECT count(*) FROM core.qpv WHERE batch_id <> {second}") == 0
    assert _count(eng, f"SELECT count(*) FROM raw.anct_qpv WHERE batch_id = {first}") == 0
    statuses = dict(
        sa_row
        for sa_row in eng.connect().execute(
            sa.text("SELECT batch_id, status FROM audit.batch WHERE source_id = 'anct_qpv'")
        )
    )
    assert statuses == {first: "superseded", second: "loaded"}


def test_a_failure_in_the_middle_of_a_load_leaves_the_previous_data(with_territories, monkeypatch, tmp_path):
    from etl.sources import registry

    home, eng = with_territories.home, with_territories.engine
    _drop(home, "anct_qpv", "v1.csv", (HEADER + "\n".join(GOOD_ROWS) + "\n").encode())
    _ingest(with_territories, "anct_qpv")
    before = fingerprint(eng)
    sql = (registry.CORE_SQL_FOLDER / "anct_qpv.sql").read_text()
    (tmp_path / "anct_qpv.sql").write_text(sql + "\nSELECT 1 / 0;\n")  # dies after deleting and inserting
    monkeypatch.setattr("etl.loading.CORE_SQL_FOLDER", tmp_path)
    _drop(home, "anct_qpv", "v2.csv", (HEADER + "\n".join(GOOD_ROWS[:1]) + "\n").encode())
    with pytest.raises(sa.exc.DataError):
        _ingest(with_territories, "anct_qpv")
    after = fingerprint(eng)
    for table in ("raw.anct_qpv", "staging.qpv", "core.qpv", "core.qpv_commune", "core.qpv_epci"):
        assert after[table] == before[table], table
    assert _count(eng, "SELECT count(*) FROM audit.batch WHERE original_name = 'v2.csv' AND status = 'received'") == 1


def test_reloading_a_period_from_the_archive_replaces_exactly_its_rows(with_territories):
    """A backfill or re-run of one period: same tables afterwards, validated again, nothing duplicated."""
    home, eng = with_territories.home, with_territories.engine
    _drop(home, "anct_qpv", "QP_2015.csv", (HEADER + "\n".join(GOOD_ROWS) + "\n").encode())
    [loaded] = _ingest(with_territories, "anct_qpv").batches
    dq_before = _count(eng, f"SELECT count(*) FROM audit.dq_result WHERE batch_id = {loaded.batch_id}")
    before = fingerprint(eng)

    report = pipeline.reload(eng, source("anct_qpv"), "2015", home=home, run_id="rerun")
    assert [(b.batch_id, b.status, b.partition) for b in report.batches] == [(loaded.batch_id, "loaded", "2015")]
    assert fingerprint(eng) == before  # audit's when/which-run columns aside, nothing moved
    assert _count(eng, f"SELECT count(*) FROM audit.dq_result WHERE batch_id = {loaded.batch_id}") == dq_before
    assert _count(eng, f"SELECT run_id FROM audit.batch WHERE batch_id = {loaded.batch_id}") == "rerun"

    # another period has nothing loaded: nothing to do, nothing touched
    assert pipeline.reload(eng, source("anct_qpv"), "2024", home=home).batches == []
    assert fingerprint(eng) == before
    assert pipeline.loaded_partitions(eng, "anct_qpv") == {"2015"}


def test_data_docs_render_each_new_validation_once(with_territories):
    """Each ingest renders the pages of its own validations (and the index), not the whole history again."""
    docs = with_territories.home.folder("datadocs") / "validations"
    pages = {p: p.stat().st_mtime_ns for p in docs.rglob("*.html")}
    assert any("cog_regions.file" in str(p) for p in pages) and any("cog_departements.rows" in str(p) for p in pages)
    _drop(with_territories.home, "anct_qpv", "QP_2015.csv", (HEADER + "\n".join(GOOD_ROWS) + "\n").encode())
    _ingest(with_territories, "anct_qpv")
    after = {p: p.stat().st_mtime_ns for p in docs.rglob("*.html")}
    assert {p for p in after if "anct_qpv" in str(p)}, "the new batch's validations have their pages"
    assert all(after[p] == mtime for p, mtime in pages.items()), "earlier pages were rendered again"


def test_a_refused_file_with_a_very_long_name_is_quarantined_under_a_safe_name_and_named_as_sent(with_territories):
    """A 250-byte name (the file system's limit is 255) made the quarantine copy fail (`File name too long`): the
    batch stayed `received` and every later ingest of the source failed the same way. The report, the batch's
    message and the log name the file as it was sent, never its archive copy."""
    name = "qpv-" + "x" * 242 + ".csv"
    _drop(with_territories.home, "anct_qpv", name, b"")
    [batch] = _ingest(with_territories, "anct_qpv").batches
    assert batch.status == "quarantined"
    assert batch.report.exists() and len(batch.report.name) < 255
    assert batch.reason.startswith(f"[empty_file] line 1: {name}: ")
    with with_territories.engine.connect() as conn:
        status, message = conn.execute(
            sa.text("SELECT status, message FROM audit.batch WHERE batch_id = :b"), {"b": batch.batch_id}
        ).one()
    assert status == "quarantined" and name in message
    _drop(with_territories.home, "anct_qpv", "b-good.csv", (HEADER + "\n".join(GOOD_ROWS) + "\n").encode())
    assert [b.status for b in _ingest(with_territories, "anct_qpv").batches] == ["loaded"]


def test_a_catalogue_row_with_an_unknown_statistical_unit_is_refused_with_the_row_and_the_allowed_units(
    with_territories,
):
    home = with_territories.home
    good = (PROJECT_ROOT / "catalogue" / "indicateurs_2014.csv").read_text(encoding="utf-8")
    _drop(home, "catalogue_indicateurs", "indicateurs_2014.csv", good.encode())
    assert [b.status for b in _ingest(with_territories, "catalogue_indicateurs").batches] == ["loaded"]
    with with_territories.engine.connect() as conn:
        units = dict(conn.execute(sa.text("SELECT code, unite_statistique FROM core.indicator")).all())
    assert units["IND12"] == "zones" and units["IND04"] == "personnes" and len(units) == 32
    _drop(home, "catalogue_operateurs", "indicateurs_operateurs.csv",
          (PROJECT_ROOT / "catalogue" / "indicateurs_operateurs.csv").read_bytes())  # fmt: skip
    assert [b.status for b in _ingest(with_territories, "catalogue_operateurs").batches] == ["loaded"]
    with with_territories.engine.connect() as conn:
        units = dict(conn.execute(sa.text("SELECT code, unite_statistique FROM core.indicator")).all())
    assert (units["CAF_RSA"], units["CAF_PLACES_EAJE"], units["FT_DEFM_A"]) == ("foyers", "places", "personnes")
    before = fingerprint(with_territories.engine)
    lines = good.splitlines()
    lines[12] = lines[12].rsplit(";", 1)[0] + ";individus"  # line 13 of the file: IND12, a unit nobody declared
    _drop(home, "catalogue_indicateurs", "indicateurs_2014_v2.csv", ("\n".join(lines) + "\n").encode())
    [batch] = _ingest(with_territories, "catalogue_indicateurs").batches
    assert batch.status == "quarantined"
    text = batch.report.read_text()
    assert "column unite_statistique" in text and "line 13 ('individus')" in text, text
    assert "personnes, foyers, agents, structures, places" in text, text
    after = fingerprint(with_territories.engine)
    assert after["core.indicator"] == before["core.indicator"]


def test_a_backlog_prepared_by_a_worker_loads_and_quarantines_as_one_file_after_the_other(
    with_territories, monkeypatch
):
    from concurrent.futures import ProcessPoolExecutor

    from etl import ahead

    home, eng = with_territories.home, with_territories.engine
    _drop(home, "anct_qpv", "a-v1.csv", (HEADER + "\n".join(GOOD_ROWS) + "\n").encode())
    bad_row, column, value = BROKEN["qpv_code_shape"]
    _drop(home, "anct_qpv", "b-broken.csv", (HEADER + "\n".join([*GOOD_ROWS, bad_row]) + "\n").encode())
    _drop(home, "anct_qpv", "c-empty.csv", b"")
    _drop(home, "anct_qpv", "d-v2.csv", (HEADER + "\n".join(GOOD_ROWS[:2]) + "\n").encode())
    monkeypatch.setattr(ahead, "MIN_BATCHES", 2)  # a backlog worth a worker, however small
    monkeypatch.setattr(ahead, "MIN_BYTES", 0)
    submitted = []
    submit = ProcessPoolExecutor.submit
    monkeypatch.setattr(ProcessPoolExecutor, "submit", lambda pool, fn, *a: submitted.append(a) or submit(pool, fn, *a))

    report = _ingest(with_territories, "anct_qpv")

    assert [args[-2] for args in submitted] == ["a-v1.csv", "b-broken.csv", "c-empty.csv", "d-v2.csv"]
    assert [(b.original_name, b.status) for b in report.batches] == [
        ("a-v1.csv", "loaded"),
        ("b-broken.csv", "quarantined"),
        ("c-empty.csv", "quarantined"),
        ("d-v2.csv", "loaded"),
    ]
    broken = report.batches[1].report.read_text()
    assert f"column {column}" in broken and f"line 6 ('{value}')" in broken
    assert "[empty_file]" in report.batches[2].report.read_text()
    assert {"read", "gate_file", "gate_rows", "load"} <= set(report.batches[3].seconds)  # worker's and this process's
    with eng.connect() as conn:
        codes = conn.execute(sa.text("SELECT code FROM core.qpv ORDER BY code")).scalars().all()
        statuses = conn.execute(
            sa.text("SELECT original_name, status FROM audit.batch WHERE source_id = 'anct_qpv' ORDER BY batch_id")
        ).all()
        gated = (
            conn.execute(
                sa.text(
                    "SELECT b.original_name FROM audit.dq_result r JOIN audit.batch b USING (batch_id) "
                    "WHERE b.source_id = 'anct_qpv' AND r.gate = 'rows' GROUP BY 1 ORDER BY 1"
                )
            )
            .scalars()
            .all()
        )
    assert codes == sorted(row.split(";")[0] for row in GOOD_ROWS[:2])
    assert [tuple(s) for s in statuses] == [
        ("a-v1.csv", "superseded"),
        ("b-broken.csv", "quarantined"),
        ("c-empty.csv", "quarantined"),
        ("d-v2.csv", "loaded"),
    ]
    assert gated == ["a-v1.csv", "b-broken.csv", "d-v2.csv"]  # each readable file's gate 2, recorded by this process
