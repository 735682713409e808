"""When the load refreshes planner statistics (`etl.loading.stale_statistics`); the load itself is tested through the
pipeline (tests/test_pipeline.py) and the individual extract (tests/sources/test_france_travail_individus.py)."""

from __future__ import annotations

import pytest

from etl.loading import stale_statistics


@pytest.mark.parametrize(
    ("rows_added", "reltuples", "stale"),
    [
        (10, -1, True),  # never analysed: whatever the batch
        (300_000, 0, True),  # an empty table receiving a large batch (the nested-loop plans of the individual extract)
        (100_000, 500_000, True),  # a fifth of the table
        (99_180, 4_000_000, False),  # a France Travail month into 4 million rows: the statistics still hold
        (50, 0, False),  # autovacuum's base threshold
        (51, 0, True),
    ],
)
def test_statistics_are_refreshed_when_the_batch_outgrows_them(rows_added, reltuples, stale):
    assert stale_statistics(rows_added, reltuples) is stale
