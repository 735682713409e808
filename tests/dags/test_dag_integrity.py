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


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_top_level_stays_light(dag_file):
    """Parsing a DAG file must not import GX, pandas or a database driver (slow parsing, I/O at parse)."""
    heavy = ["great_expectations", "pandas", "psycopg2", "psycopg", "pyarrow", "openpyxl"]
    code = (
        "import runpy, sys\n"
        f"runpy.run_path({str(dag_file)!r})\n"
        f"print('HEAVY=' + ','.join(m for m in {heavy!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    marker = [line for line in out.stdout.splitlines() if line.startswith("HEAVY=")]
    assert marker, out.stdout[-2000:]
    loaded = marker[-1].removeprefix("HEAVY=")
    assert loaded == "", f"{dag_file.name} imports {loaded} at parse time"
