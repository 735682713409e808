"""Every DAG file imports, carries what operators need (owner, tags, doc, retries), and parses light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from etl.config import DAGS_FOLDER

DAG_FILES = sorted(p for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_dags_folder_has_dags():
    assert DAG_FILES, f"no DAG file in {DAGS_FOLDER}"


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) >= len(DAG_FILES)


def test_every_dag_has_owner_tags_doc_and_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.owner and dag.owner != "airflow", f"{dag_id}: set an owner"
        assert dag.tags, f"{dag_id}: add tags"
        assert dag.doc_md and len(dag.doc_md.strip()) > 40, f"{dag_id}: document the DAG in doc_md"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id}: retries must be >= 1"


def test_dag_files_top_level_stays_light():
    """Parsing a DAG file must not import GX, pandas or a database driver (slow parsing, I/O at parse).

    One interpreter parses every file in turn (an interpreter start with Airflow costs seconds) and reports the
    heavy modules each file brought in: a file importing one fails the test with its name."""
    heavy = ["great_expectations", "pandas", "psycopg2", "psycopg", "pyarrow", "openpyxl"]
    files = [str(p) for p in DAG_FILES]
    code = (
        "import runpy, sys\n"
        f"for path in {files!r}:\n"
        "    runpy.run_path(path)\n"
        f"    print('HEAVY', path.rsplit('/', 1)[-1], ','.join(m for m in {heavy!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    reports = [line.split(" ", 2) for line in out.stdout.splitlines() if line.startswith("HEAVY ")]
    assert [name for _, name, _ in reports] == [p.name for p in DAG_FILES], out.stdout[-2000:]
    loaded = {name: modules for _, name, modules in reports if modules}
    assert loaded == {}, f"DAG files import heavy modules at parse time: {loaded}"


def test_dag_tags(dagbag):
    """Every tag of every DAG is declared in the vocabulary (registry.yaml's `tags:`), so a typo does not split the
    UI's tag filter in two."""
    from etl.sources.registry import tag_vocabulary

    vocabulary = set(tag_vocabulary())
    unknown = {dag_id: sorted(set(dag.tags) - vocabulary) for dag_id, dag in dagbag.dags.items()}
    unknown = {dag_id: tags for dag_id, tags in unknown.items() if tags}
    assert not unknown, f"tags not declared under 'tags:' of etl/sources/registry.yaml: {unknown}"
