"""The environment every Airflow process of this project runs in (demo, tests, `make airflow`).

Airflow's home sits under `$OBSERVATOIRE_HOME/airflow` with SQLite metadata for local runs; the DAGs and
plugins are the project's folders; examples are off; the warehouse reaches Airflow as the connection
`warehouse` via `AIRFLOW_CONN_WAREHOUSE`, derived from the warehouse URL. Values already present in the
environment win, so production settings (docker-compose) are never overridden.
"""

from __future__ import annotations

import os

from etl.config import DAGS_FOLDER, PLUGINS_FOLDER, Home
from etl.warehouse.urls import airflow_connection


def parallelism() -> int:
    """Two task slots per core: 4 on the 2-core machines this runs on (32 by default spawns ~5 GB)."""
    return max(2, 2 * (os.cpu_count() or 1))


def airflow_environment(home: Home, warehouse_url: str) -> dict[str, str]:
    airflow_home = home.airflow_home
    return {
        "OBSERVATOIRE_HOME": str(home.root),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism()),
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Europe/Paris",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW_CONN_WAREHOUSE": airflow_connection(warehouse_url),
    }


def apply(home: Home, warehouse_url: str) -> dict[str, str]:
    """Set the Airflow environment in this process (existing values win); returns the effective values."""
    home.ensure()
    for key, value in airflow_environment(home, warehouse_url).items():
        os.environ.setdefault(key, value)
    return {key: os.environ[key] for key in airflow_environment(home, warehouse_url)}
