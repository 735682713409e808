"""What every DAG of the project shares: owner, retries, the failure alert, and the date schedules start from.

Kept free of heavy imports: DAG files import it at parse time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from etl.config import PARIS
from etl.orchestration.notifiers import FailureAlert

# The first period the observatory follows: a backfill can reach any period since (catchup stays off, so the
# scheduler never creates those runs by itself).
START_DATE = datetime(2014, 1, 1, tzinfo=PARIS)

DEFAULT_ARGS = {
    "owner": "observatoire-data",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    # one mail per failed task after its last retry (none for a quarantined file already mailed): notifiers.py
    "on_failure_callback": FailureAlert(),
}
