"""France Travail's individual extract through the whole path on a real warehouse: the platform's counts at every
territory level equal a straightforward pandas computation on the same file; gzip reads the same; every structural
problem is refused with its line and column, every value the producer does not use is quarantined with its line,
and a re-run changes nothing."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from etl import pipeline
from etl.readers import FileShapeError
from etl.samples.generators import france_travail_individus as gen
from etl.sources import france_travail_individus as fti
from etl.sources.registry import source

pytestmark = pytest.mark.warehouse

MONTH = "2025-03"
ROWS = 30_000
SOURCE = "france_travail_individus"


@pytest.fixture(scope="module")
def wh(reference_warehouse, territories_dir):
    """The reference warehouse with both QPV geographies loaded through the pipeline."""
    inbox = reference_warehouse.home.folder("inbox") / "anct_qpv"
    inbox.mkdir(parents=True, exist_ok=True)
    for name in ("qpv_2015.csv", "qpv_2024.csv"):
        shutil.copyfile(territories_dir / name, inbox / name)
    report = pipeline.ingest(reference_warehouse.engine, source("anct_qpv"), home=reference_warehouse.home)
    assert [b.status for b in report.batches] == ["loaded", "loaded"]
    return reference_warehouse


def _ingest(wh, path: Path) -> pipeline.BatchOutcome:
    inbox = wh.home.folder("inbox") / SOURCE
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, inbox / path.name)
    [batch] = pipeline.ingest(wh.engine, source(SOURCE), home=wh.home).batches
    return batch


def _figures(engine, batch_id: int) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                "SELECT indicator_code, territory_level, territory_code, breakdown, value::bigint AS value "
                "FROM core.indicator_value_vintage WHERE batch_id = :b"
            ),
            conn,
            params={"b": batch_id},
        )


def _expected(extract: Path, engine) -> pd.DataFrame:
    """The figures computed the obvious way: read every line with pandas, attach each job seeker's territories, count
    per level, indicator and breakdown value, and give every breakdown value of a territory a figure (0 if none)."""
    lines = pd.read_csv(extract, sep=";", dtype=str, keep_default_na=False)
    with engine.connect() as conn:
        regions = dict(conn.execute(sa.text("SELECT code, region_code FROM core.departement")).all())
        pairs = pd.read_sql(sa.text("SELECT qpv_code, commune_code FROM core.qpv_commune"), conn)
        epcis = pd.read_sql(sa.text("SELECT qpv_code, epci_siren FROM core.qpv_epci"), conn)
    # a commune's EPCI: the EPCI of its single-EPCI QPV, when they all agree
    single = epcis.groupby("qpv_code").filter(lambda g: len(g) == 1)
    candidates = pairs.merge(single, on="qpv_code").groupby("commune_code")["epci_siren"].unique()
    commune_epci = {c: e[0] for c, e in candidates.items() if len(e) == 1}
    commune = lines["code_commune"].str.zfill(5)
    departement = commune.str[:3].where(commune.str.startswith("97"), commune.str[:2])
    people = pd.DataFrame(
        {
            "qpv": lines["code_qpv"].replace("", None),
            "commune": commune,
            "epci": commune.map(commune_epci),
            "departement": departement,
            "region": departement.map(regions),
            "france": "FR",
            "categorie": lines["categorie"],
            "sexe": "sexe=" + lines["sexe"],
            "age": "age=" + lines["tranche_age"].map(fti.AGE_BREAKDOWN),
            "anciennete": "anciennete=" + lines["anciennete"].map(fti.DURATION_BREAKDOWN),
        }
    )
    breakdowns = ["total", "sexe=F", "sexe=H", "age=<26", "age=26-49", "age=50+", "anciennete=<1an",
                  "anciennete=1-2ans", "anciennete=2ans+"]  # fmt: skip
    out = []
    for indicator, categories in (("FT_DEFM_INDIV_A", {"A"}), ("FT_DEFM_INDIV_ABC", {"A", "B", "C"})):
        chosen = people[people["categorie"].isin(categories)]
        for level in ("qpv", "commune", "epci", "departement", "region", "france"):
            present = chosen[chosen[level].notna()]
            counts = {code: dict.fromkeys(breakdowns, 0) for code in present[level].unique()}
            for code, n in present.groupby(level).size().items():
                counts[code]["total"] = n
            for dimension in ("sexe", "age", "anciennete"):
                for (code, value), n in present.groupby([level, dimension]).size().items():
                    counts[code][value] = n
            out += [(indicator, level, code, b, v) for code, row in counts.items() for b, v in row.items()]
    return pd.DataFrame(out, columns=["indicator_code", "territory_level", "territory_code", "breakdown", "value"])


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"value": "int64"})
    return frame.sort_values(list(frame.columns[:4])).reset_index(drop=True)


@pytest.fixture(scope="module")
def extract(tmp_path_factory, territories_dir) -> Path:
    return gen.write_extract(tmp_path_factory.mktemp("fti") / gen.file_name(MONTH), territories_dir, MONTH, ROWS)


@pytest.fixture(scope="module")
def loaded(wh, extract) -> pipeline.BatchOutcome:
    batch = _ingest(wh, extract)
    assert batch.status == "loaded", batch.reason
    return batch


def test_the_counts_at_every_level_equal_a_straightforward_pandas_computation(wh, extract, loaded):
    assert loaded.partition == MONTH
    got, expected = _sorted(_figures(wh.engine, loaded.batch_id)), _sorted(_expected(extract, wh.engine))
    assert set(got["territory_level"]) == {"qpv", "commune", "epci", "departement", "region", "france"}
    pd.testing.assert_frame_equal(got, expected)
    # and the totals hold: France ABC is every line of the file, women + men = total everywhere
    france = got[(got["territory_level"] == "france") & (got["indicator_code"] == "FT_DEFM_INDIV_ABC")]
    assert france.set_index("breakdown").loc["total", "value"] == ROWS
    wide = got.pivot_table(index=["indicator_code", "territory_level", "territory_code"], columns="breakdown",
                           values="value")  # fmt: skip
    assert (wide["sexe=F"] + wide["sexe=H"] == wide["total"]).all()


def test_raw_and_staging_hold_the_distinct_lines_with_their_counts_and_first_line(wh, extract, loaded):
    lines = pd.read_csv(extract, sep=";", dtype=str, keep_default_na=False)
    with wh.engine.connect() as conn:
        raw = pd.read_sql(sa.text("SELECT * FROM raw.france_travail_individus WHERE batch_id = :b"), conn,
                          params={"b": loaded.batch_id})  # fmt: skip
        staged = conn.execute(
            sa.text("SELECT sum(lignes), count(*) FROM staging.france_travail_individus WHERE batch_id = :b"),
            {"b": loaded.batch_id},
        ).one()
    keys = [c for c in fti.COLUMNS if c != fti.KEY_COLUMN]
    expected = lines.assign(line_no=lines.index + 2).groupby(keys).agg(lignes=("line_no", "size"),
                                                                       first=("line_no", "min"))  # fmt: skip
    got = raw.set_index(keys).sort_index()
    assert len(got) == len(expected) and int(got["lignes"].sum()) == ROWS
    assert (got["lignes"] == expected["lignes"]).all() and (got["line_no"] == expected["first"]).all()
    assert tuple(staged) == (ROWS, len(expected))


def test_a_gzip_extract_of_the_same_month_gives_the_same_figures_and_replaces_the_first(wh, extract, loaded, tmp_path):
    compressed = tmp_path / (extract.name.replace(".csv", "_v2.csv") + ".gz")
    with gzip.open(compressed, "wb") as out:
        out.write(extract.read_bytes())
    batch = _ingest(wh, compressed)
    assert batch.status == "loaded" and batch.partition == MONTH
    pd.testing.assert_frame_equal(_sorted(_figures(wh.engine, batch.batch_id)), _sorted(_expected(extract, wh.engine)))
    assert _figures(wh.engine, loaded.batch_id).empty  # the first delivery of the month is superseded
    # a re-run of the month from the archive gives the same state
    before = _sorted(_figures(wh.engine, batch.batch_id))
    [again] = pipeline.reload(wh.engine, source(SOURCE), MONTH, home=wh.home).batches
    assert again.status == "loaded" and again.batch_id == batch.batch_id
    pd.testing.assert_frame_equal(_sorted(_figures(wh.engine, batch.batch_id)), before)


def test_values_the_producer_does_not_use_are_quarantined_with_their_lines(wh, territories_dir, tmp_path):
    broken = gen.write_broken(tmp_path / gen.file_name(MONTH).replace(".csv", "_broken.csv"), territories_dir, MONTH)
    batch = _ingest(wh, broken)
    assert batch.status == "quarantined"
    report = batch.report.read_text(encoding="utf-8")
    assert "column categorie" in report and "line 11 ('X')" in report
    assert "column tranche_age" in report and "line 21 ('60_plus')" in report


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


HEADER = ";".join(fti.COLUMNS)
GOOD = ["0000000000000001;2025-03;13055;;A;F;26_49;moins_1an", "0000000000000002;2025-03;13055;;B;H;50_plus;1_2ans"]


@pytest.mark.parametrize(
    ("lines", "rule", "line", "column"),
    [
        ([], "empty_file", 1, None),
        ([HEADER], "empty_file", 2, None),
        ([HEADER.replace("sexe", "genre"), *GOOD], "missing_columns", 1, "sexe"),
        ([HEADER + ";commentaire", *GOOD], "unexpected_columns", 1, "commentaire"),
        ([HEADER, GOOD[0], GOOD[1] + ";en trop"], "field_count", 3, None),
        ([HEADER, GOOD[0], GOOD[1].rsplit(";", 1)[0]], "field_count", 3, None),
        ([HEADER, GOOD[0], 'x000000000000002;2025-03;13055;;B;H;"50\nplus";1_2ans'], "multiline_field", 3, None),
        ([HEADER, GOOD[0], "00000000000000zz;2025-03;13055;;B;H;50_plus;1_2ans"], "key_format", 3, "id_anonyme"),
        ([HEADER, GOOD[0], GOOD[1], GOOD[0]], "key_repeated", 4, "id_anonyme"),
    ],
    ids=[
        "empty",
        "header-only",
        "missing",
        "unexpected",
        "extra-field",
        "missing-field",
        "multiline",
        "bad-id",
        "repeated-id",
    ],  # fmt: skip
)
def test_structural_problems_are_refused_with_their_line_and_column(wh, tmp_path, lines, rule, line, column):
    path = _write(tmp_path / "DE_INDIVIDUS_202503.csv", lines) if lines else tmp_path / "DE_INDIVIDUS_202503.csv"
    if not lines:
        path.write_bytes(b"")
    with pytest.raises(FileShapeError) as refused:
        fti.read_extract(path)
    assert (refused.value.rule, refused.value.line) == (rule, line), str(refused.value)
    if column:
        assert refused.value.column == column
    assert str(refused.value).startswith("DE_INDIVIDUS_202503.csv: ") and "\n" not in str(refused.value)


def test_bytes_that_are_not_utf8_are_refused_with_their_line(wh, tmp_path):
    path = tmp_path / "DE_INDIVIDUS_202503.csv"
    path.write_bytes(
        f"{HEADER}\n{GOOD[0]}\n".encode() + "0000000000000003;2025-03;13055;;A;F;26_49;ancienneté\n".encode("cp1252")
    )
    with pytest.raises(FileShapeError) as refused:
        fti.read_extract(path)
    assert (refused.value.rule, refused.value.line) == ("encoding", 3), str(refused.value)


def test_a_refused_extract_leaves_the_warehouse_unchanged_and_is_quarantined(wh, tmp_path):
    def counts():
        with wh.engine.connect() as conn:
            return [conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in
                    ("raw.france_travail_individus", "staging.france_travail_individus",
                     "core.indicator_value_vintage")]  # fmt: skip

    before = counts()
    batch = _ingest(wh, _write(tmp_path / "DE_INDIVIDUS_202504.csv", [HEADER, GOOD[0], GOOD[1], GOOD[0]]))
    assert batch.status == "quarantined" and "[key_repeated] line 4, column id_anonyme" in batch.reason
    assert counts() == before


def test_small_blocks_fold_to_the_same_summary_and_name_the_right_lines(extract, tmp_path, monkeypatch):
    """The reader parses the file block by block and folds partial counts: with blocks of 64 KiB (25 of them here)
    and a fold every 1,000 partial rows, the summary is the one a single block gives, and a bad or repeated
    identifier far into the file is named at its own line. Blocks are counted two at a time: of two bad identifiers in
    different blocks, the first in the file is named, whichever block was counted first."""
    from etl import readers

    whole = fti.read_extract(extract)
    monkeypatch.setattr(readers, "BLOCK_BYTES", 64 << 10)
    monkeypatch.setattr(readers, "MERGE_ROWS", 1_000)
    pd.testing.assert_frame_equal(fti.read_extract(extract), whole)

    lines = extract.read_text(encoding="utf-8").splitlines()
    bad = lines.copy()
    bad[24_999] = "Z" + bad[24_999][1:]  # file line 25,000
    bad[26_999] = "Y" + bad[26_999][1:]  # and 27,000, two blocks on
    with pytest.raises(FileShapeError) as refused:
        fti.read_extract(_write(tmp_path / "DE_INDIVIDUS_202503.csv", bad))
    assert (refused.value.rule, refused.value.line, refused.value.column) == ("key_format", 25_000, "id_anonyme")

    repeated = lines.copy()
    # line 29,000 reuses the identifier of line 100
    repeated[28_999] = lines[99].split(";", 1)[0] + ";" + lines[28_999].split(";", 1)[1]
    with pytest.raises(FileShapeError) as refused:
        fti.read_extract(_write(tmp_path / "DE_INDIVIDUS_202503.csv", repeated))
    assert (refused.value.rule, refused.value.line) == ("key_repeated", 29_000)
    assert "on lines 100 and 29000" in str(refused.value)


def test_the_load_leaves_planner_statistics_that_count_the_batch(wh, loaded):
    """The core SQL runs in the load's transaction right after the COPY into staging: without an ANALYZE there the
    planner believed the staging table nearly empty and chose nested loops (40 s instead of 3 s for a 300,000-line
    extract on a warehouse that had seen earlier months). The statistics must count the batch's rows."""
    with wh.engine.connect() as conn:
        estimated, staged = conn.execute(
            sa.text(
                "SELECT (SELECT reltuples FROM pg_class WHERE oid = 'staging.france_travail_individus'::regclass), "
                "(SELECT count(*) FROM staging.france_travail_individus)"
            )
        ).one()
    assert staged > 0 and estimated >= 0.9 * staged, (estimated, staged)


def test_identifiers_are_compared_on_all_their_16_digits(tmp_path):
    """Keys that differ in one digit only, at either end, are distinct; a repeated one is named as written."""
    rest = ";2025-03;13055;;A;F;26_49;moins_1an"
    distinct = ["f000000000000000", "0000000000000000", "000000000000000f", "ffffffffffffffff", "7fffffffffffffff"]
    frame = fti.read_extract(_write(tmp_path / "DE_INDIVIDUS_202503.csv", [HEADER, *(key + rest for key in distinct)]))
    assert frame.attrs["records"] == 5 and frame["lignes"].tolist() == [5]
    repeated = [*distinct, "0123456789abcdef", "fedcba9876543210", "0123456789abcdef"]
    with pytest.raises(FileShapeError) as refused:
        fti.read_extract(_write(tmp_path / "DE_INDIVIDUS_202504.csv", [HEADER, *(key + rest for key in repeated)]))
    assert (refused.value.rule, refused.value.line) == ("key_repeated", 9)
    assert "0123456789abcdef on lines 7 and 9" in str(refused.value)


@pytest.mark.parametrize(
    "key",
    ["0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "0123456789abcdeg", "0123456789abcd é",
     "0123456789abcd\u00e9", "", " 123456789abcdef", "0123456789abcde/", "0123456789abcde:", "0123456789abcde`"],
)  # fmt: skip
def test_an_identifier_that_is_not_16_lower_case_hex_digits_is_refused_at_its_line(tmp_path, key):
    """The identifiers are checked by a byte table, not a regular expression: upper case, one digit too few or too
    many, the bytes on either side of the digit and letter ranges, and a multi-byte character that makes 16 bytes
    are refused at their line, the valid keys before them being read."""
    rest = ";2025-03;13055;;A;F;26_49;moins_1an"
    lines = [HEADER, "0000000000000001" + rest, "00000000000000ff" + rest, key + rest]
    with pytest.raises(FileShapeError) as refused:
        fti.read_extract(_write(tmp_path / "DE_INDIVIDUS_202503.csv", lines))
    assert (refused.value.rule, refused.value.line, refused.value.column) == ("key_format", 4, "id_anonyme")


@pytest.mark.parametrize("block_mb", [1, 8, 32])
def test_a_line_over_the_line_limit_is_refused_at_its_line_whatever_the_block_size(tmp_path, monkeypatch, block_mb):
    """A line over MAX_LINE_BYTES (1 MiB) is refused at its line: Arrow's parser itself refuses only a line longer than
    its block, and took a 2 MiB line whole with 4 MiB blocks."""
    from etl import readers

    monkeypatch.setattr(readers, "BLOCK_BYTES", block_mb << 20)
    rest = ";2025-03;13055;;A;F;26_49;"
    lines = [HEADER, "0000000000000001" + rest + "moins_1an", "0000000000000002" + rest + "x" * (2 << 20),
             "0000000000000003" + rest + "moins_1an"]  # fmt: skip
    with pytest.raises(FileShapeError) as refused:
        fti.read_extract(_write(tmp_path / "DE_INDIVIDUS_202503.csv", lines))
    assert (refused.value.rule, refused.value.line) == ("line_length", 3)
    # a line just under the limit is read
    lines[2] = "0000000000000002" + rest + "x" * ((1 << 20) - 16 - len(rest))
    assert fti.read_extract(_write(tmp_path / "DE_INDIVIDUS_202504.csv", lines)).attrs["records"] == 3
