"""Airflow's LocalExecutor, with what the tasks import loaded once, in the scheduler, before it forks its workers.

The LocalExecutor of a single machine (`make airflow`, `airflow_environment`) forks its worker processes from the
scheduler, and each worker forks every task it runs (Airflow 3's supervisor, a bare `os.fork()` on Linux): whatever
the scheduler imported, every task finds imported. `PreloadingLocalExecutor` imports `etl.orchestration.worker_preload`
(pandas, Arrow, SQLAlchemy, Great Expectations, the task modules: 2 to 4 s) when the scheduler starts it, before
any worker exists, so that no task pays for it; the Celery workers get the same preload through Celery's `imports`.
Where the start method is not fork (macOS), the workers are fresh interpreters and import what they need as before.
"""

from __future__ import annotations

from airflow.executors.local_executor import LocalExecutor


class PreloadingLocalExecutor(LocalExecutor):
    """The LocalExecutor, its workers forked from a scheduler that has preloaded what the tasks import."""

    def start(self) -> None:
        import etl.orchestration.worker_preload  # noqa: F401 - the preload is this import

        super().start()
