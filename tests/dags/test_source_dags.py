"""The source DAGs generated from the registry (dags/sources.py): every registry entry is served by exactly one DAG,
each generated DAG is what its entry says, a broken entry fails only its own DAG, and the README's generated tables
match the registry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from etl.config import DAGS_FOLDER
from etl.orchestration import source_docs
from etl.sources import registry

ENTRIES = registry.all_sources()[0]
TASK = re.compile(r"^(?:ingest|intake)_(\w+)$")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_every_registry_entry_is_served_by_exactly_one_dag(dagbag):
    """Its own DAG (named after it, with its `ingest_<id>` task), or a task `ingest_<id>` / `intake_<id>` in the DAG
    its `dag:` names; never two DAGs."""
    assert dagbag.import_errors == {}
    serving: dict[str, list[str]] = {source_id: [] for source_id in ENTRIES}
    strays = []
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            if match := TASK.match(task.task_id):
                if match.group(1) in serving:
                    serving[match.group(1)].append(dag_id)
                else:
                    strays.append(f"{dag_id}.{task.task_id} (no registry entry {match.group(1)!r})")
    problems = list(strays)
    for source_id, dags in serving.items():
        expected = ENTRIES[source_id].dag_id
        if not dags:
            problems.append(f"{source_id}: no DAG (expected a task ingest_/intake_{source_id} in {expected!r})")
        elif dags != [expected]:
            problems.append(f"{source_id}: served by {dags}, its entry says {expected!r}")
    assert not problems, problems


def test_no_generated_dag_lacks_a_registry_entry(dagbag):
    generated = {d for d, dag in dagbag.dags.items() if "source" in dag.tags}
    own = {source_id for source_id, entry in ENTRIES.items() if entry.dag is None}
    assert generated - own == set(), f"generated DAGs with no entry of their own: {generated - own}"
    assert own - generated == set(), f"entries with no generated DAG: {own - generated}"
    assert set(registry.own_dag_ids()) == own


def test_a_generated_dag_is_what_its_entry_says(dagbag):
    for source_id, entry in ENTRIES.items():
        if entry.dag is not None:
            continue
        dag = dagbag.dags[source_id]
        assert dag.schedule == entry.cadence, source_id
        assert set(dag.tags) == {"source", *entry.tags}, source_id
        assert dag.doc_md == source_docs.dag_doc(entry), source_id
        assert {t.task_id for t in dag.tasks} == {"wait_for_file", f"ingest_{source_id}", "fail_if_any_task_failed"}
        assert "period" in dag.params and dag.max_active_runs == 1, source_id
        [alert] = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
        assert alert.interval == timedelta(days=entry.tolerance_days), source_id
        sensor = dag.get_task("wait_for_file")
        assert sensor.mode == "reschedule" and sensor.timeout == timedelta(days=3).total_seconds(), source_id
        outlets = {a.uri for a in dag.get_task(f"ingest_{source_id}").outlets}
        assert outlets == set(entry.assets), source_id


def test_the_doc_of_a_generated_dag_says_when_what_and_what_happens_to_a_bad_file():
    doc = source_docs.dag_doc(ENTRIES["caf_creches"])
    for fact in (
        "CAF (Cnaf)",
        "the 20th of January, April, July and October, 06:00 (`0 6 20 1,4,7,10 *`)",
        "the quarter before its logical date",
        "`CAF_EAJE_QPV_*.csv` in `inbox/caf_creches/`",
        "3 days late",
        "`raw.caf_creches`, `staging.indicator_value`",
        "`sql/core/aggregate_qpv_counts.sql`",
        "`caf_creches.file`, `caf_creches.rows`",
        "`IND16`",
        "observatoire://warehouse/core/indicator_value/caf_creches",
        "quarantined in `quarantine/caf_creches/`",
    ):
        assert fact in doc, fact


@pytest.mark.parametrize(
    ("cadence", "words"),
    [
        ("0 6 5 * *", "the 5th of each month, 06:00"),
        ("0 6 15 1 *", "15 January, 06:00"),
        ("0 6 1 3 *", "1 March, 06:00"),
        ("0 6 20 1,4,7,10 *", "the 20th of January, April, July and October, 06:00"),
        ("0 7 * * 1-5", "weekdays, 07:00"),
        ("30 3 * * *", "daily, 03:30"),
        ("@yearly", "1 January, 00:00"),
        ("0 6 1-7 * 1", None),
    ],
)
def test_a_cadence_in_words(cadence, words):
    assert source_docs.cadence_in_words(cadence) == words


def test_the_readme_tables_match_the_registry():
    readme = source_docs.README_FILE.read_text(encoding="utf-8")
    assert source_docs.stale_row(readme) is None, "README.md is stale: run `observatoire docs --write`"


def test_the_readme_says_per_source_which_layout_is_real_and_which_the_platforms_own():
    readme = source_docs.README_FILE.read_text(encoding="utf-8")
    block = readme.split(source_docs.BEGIN, 1)[1].split(source_docs.END, 1)[0]
    tables = [part for part in block.strip("\n").split("\n\n")]
    cells = {}
    for table in tables:
        header, _, *rows = table.splitlines()
        column = [c.strip() for c in header.strip("|").split("|")].index("layouts")
        for row in rows:
            values = [c.strip() for c in row.strip("|").split(" | ")]
            cells[values[0].strip("`")] = values[column]
    assert set(cells) == set(ENTRIES)
    for entry in ENTRIES.values():
        if entry.kind == "workbook":
            assert cells[entry.id] == source_docs.WORKBOOK_LAYOUT
            continue
        named = re.findall(r"`(\w+)` \((real|platform's own)\)", cells[entry.id])
        assert named == [(layout.name, "real" if layout.real else "platform's own") for layout in entry.layouts]
        assert named, f"{entry.id} declares no layout"


def test_a_stale_readme_row_is_named():
    readme = source_docs.refreshed(source_docs.README_FILE.read_text(encoding="utf-8"))
    stale = readme.replace("| `caf_creches` | the 20th", "| `caf_creches` | the 21st", 1)
    assert "`caf_creches` | the 21st" in source_docs.stale_row(stale)
    shorter = readme.replace(next(line for line in readme.splitlines() if line.startswith("| `ans_licences`")), "")
    assert "ans_licences" in source_docs.stale_row(shorter)


def test_a_broken_entry_fails_its_own_generated_dag_and_no_other(tmp_path, monkeypatch):
    import yaml
    from airflow.dag_processing.dagbag import DagBag

    good = registry.source_entry("caf_creches")
    document = {"tags": registry.tag_vocabulary(), "sources": {"good": good, "bad": {**good, "raw_table": "x"}}}
    (tmp_path / "registry.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    monkeypatch.setattr(registry, "REGISTRY_FILE", tmp_path / "registry.yaml")
    registry.clear_cache()
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "sources.py").write_text((DAGS_FOLDER / "sources.py").read_text(encoding="utf-8"))
    try:
        bag = DagBag(dag_folder=str(dags))
    finally:
        registry.clear_cache()
    assert bag.import_errors == {}
    assert set(bag.dags) == {"good", "bad"}
    assert "wait_for_file" in bag.dags["good"].task_ids
    assert bag.dags["bad"].task_ids == ["registry_error"] and bag.dags["bad"].schedule is None
    assert "source 'bad'" in bag.dags["bad"].doc_md and "raw_table" in bag.dags["bad"].doc_md


def test_every_test_the_add_a_source_walk_through_names_exists():
    """Each step of the README's "Add a source" names the test that checks it: `path::name`, or `::name` of the file
    named last (tests/sources/test_registry_completeness.py until another is named)."""
    from etl.config import PROJECT_ROOT

    text = source_docs.README_FILE.read_text(encoding="utf-8")
    section = text.split("\n### Add a source\n", 1)[1].split("\n#", 1)[0]
    current, named, missing = "tests/sources/test_registry_completeness.py", 0, []
    for path, name in re.findall(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", section):
        current = path or current
        if not name:
            continue
        named += 1
        file = PROJECT_ROOT / current
        if not file.is_file() or not re.search(rf"^def {name}\(", file.read_text(encoding="utf-8"), re.MULTILINE):
            missing.append(f"{current}::{name}")
    assert named >= 10 and not missing, missing
