"""The publication DAGs' task bodies (etl.orchestration.publication_tasks): the semester a run publishes by default,
and the publication logic kept free of Airflow's connections."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from etl.orchestration.publication_tasks import last_complete_semester

PUBLICATION = Path(__file__).resolve().parents[2] / "etl" / "publication"


@pytest.mark.parametrize(
    ("moment", "semester"),
    [
        (datetime(2025, 2, 15, 6, tzinfo=UTC), "2024-S2"),  # the February run
        (datetime(2025, 8, 15, 6, tzinfo=UTC), "2025-S1"),  # the August run
        (date(2025, 1, 1), "2024-S2"),
        (date(2025, 6, 30), "2024-S2"),  # June is not over
        (date(2025, 7, 1), "2025-S1"),
        (date(2025, 12, 31), "2025-S1"),
    ],
)
def test_a_run_publishes_the_last_complete_semester(moment, semester):
    assert last_complete_semester(moment) == semester


def test_publication_modules_do_not_import_the_orchestration():
    offenders = []
    for path in sorted(PUBLICATION.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}:{node.lineno} {name}" for name in names if name.startswith("etl.orchestration")]
    assert offenders == []
