"""What an Airflow worker imports once, before it forks its task processes, so that no task pays for it.

On Linux Airflow 3's task supervisor starts each task with a bare `os.fork()` of the process that received it (a
Celery pool process, itself forked from the worker's main process): whatever that process has imported, every task
finds already imported. Left to the tasks, pandas, Arrow, SQLAlchemy, Great Expectations and the platform's own
modules cost each task process about 2 to 4 s before it reads a file (`make bench`, "start of a task process").

Importing this module is the preload. Celery's `imports` setting names it (`airflow_environment` and
docker-compose.yml pass it through `[celery] extra_celery_config`), so a Celery worker's main process imports it once
at start, after Airflow's own preload of its operators; on one machine the scheduler imports it when it starts its
LocalExecutor (`etl.orchestration.local_executor`), before forking the executor's workers. It imports modules only:
no connection, no file, no thread (GX is imported without its context, `etl.quality.gates.import_gx`), so that
forking after it is safe. It prints one line, in the process's log, with what it took.
"""

from __future__ import annotations

import importlib
import sys
import time

# The libraries and the modules of the task bodies (etl.orchestration.*_tasks import the rest when they run).
MODULES = (
    "pandas",
    "pyarrow.csv",
    "pyarrow.compute",
    "pyarrow.parquet",
    "pyarrow.pandas_compat",
    "sqlalchemy",
    "psycopg2",
    "openpyxl",
    "etl.pipeline",
    "etl.publication.publish",
    "etl.submissions.intake",
    "etl.orchestration.source_tasks",
    "etl.orchestration.publication_tasks",
    "etl.orchestration.submission_tasks",
)


def preload() -> float:
    """Import `MODULES` and Great Expectations as the gates use it; the seconds it took."""
    from etl.quality import gates

    started = time.perf_counter()
    for name in MODULES:
        importlib.import_module(name)
    gates.import_gx()
    return time.perf_counter() - started


SECONDS = preload()
print(
    f"observatoire: preloaded pandas, Arrow, SQLAlchemy, Great Expectations and the task modules in {SECONDS:.1f} s "
    "for the task processes this worker forks",
    file=sys.stderr,
    flush=True,
)
