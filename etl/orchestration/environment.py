"""The environment every Airflow process of this project runs in (demo, tests, `make airflow`).

Airflow's home sits under `$OBSERVATOIRE_HOME/airflow` with SQLite metadata for local runs; the DAGs and
plugins are the project's folders; examples are off; the warehouse reaches Airflow as the connection
`warehouse` via `AIRFLOW_CONN_WAREHOUSE`, derived from the warehouse URL. Values already present in the
environment win, so production settings (docker-compose) are never overridden.
"""

from __future__ import annotations

import json
import os

from etl.config import DAGS_FOLDER, PLUGINS_FOLDER, Home
from etl.errors import ObservatoireError
from etl.warehouse.urls import airflow_connection


def parallelism() -> int:
    """Two task slots per core: 4 on the 2-core machines this runs on (32 by default spawns ~5 GB)."""
    return max(2, 2 * (os.cpu_count() or 1))


def lanes() -> int:
    """How many DAG runs `make demo` runs side by side (etl.orchestration.runner.Lanes): `OBSERVATOIRE_DEMO_LANES`,
    else one per core, at most 2 (a run keeps about a core busy between Python and PostgreSQL)."""
    value = os.environ.get("OBSERVATOIRE_DEMO_LANES", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ObservatoireError(f"OBSERVATOIRE_DEMO_LANES must be a whole number of at least 1, not {value!r}.")
        return int(value)
    return max(1, min(2, os.cpu_count() or 1))


# The LocalExecutor whose workers fork from a scheduler that preloaded what the tasks import (one machine).
LOCAL_EXECUTOR = "etl.orchestration.local_executor.PreloadingLocalExecutor"

# What Celery adds to Airflow's configuration when the CeleryExecutor runs: its worker imports the preload module once,
# at start, before it forks the task processes (etl/orchestration/worker_preload.py). docker-compose.yml says the same.
CELERY_EXTRA_CONFIG = {"imports": ["etl.orchestration.worker_preload"]}


def airflow_environment(home: Home, warehouse_url: str) -> dict[str, str]:
    airflow_home = home.airflow_home
    return {
        "OBSERVATOIRE_HOME": str(home.root),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": LOCAL_EXECUTOR,
        "AIRFLOW__CORE__PARALLELISM": str(parallelism()),
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Europe/Paris",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW_CONN_WAREHOUSE": airflow_connection(warehouse_url),
        "AIRFLOW__CELERY__EXTRA_CELERY_CONFIG": json.dumps(CELERY_EXTRA_CONFIG),
    }


def apply(home: Home, warehouse_url: str) -> dict[str, str]:
    """Set the Airflow environment in this process (existing values win); returns the effective values."""
    home.ensure()
    for key, value in airflow_environment(home, warehouse_url).items():
        os.environ.setdefault(key, value)
    return {key: os.environ[key] for key in airflow_environment(home, warehouse_url)}


def where_to_go(environ, port: int) -> str:
    """What `make airflow` prints before handing over to `airflow standalone`: the UI's address, the observatory
    page's (mounted at /observatoire/ by plugins/observatoire.py, and the *Observatoire* entry of the UI's
    navigation, /plugin/observatoire), and how to log in. With `[core] simple_auth_manager_all_admins` true (this
    environment's default) Airflow 3.3's SimpleAuthManager has no login form: every visitor gets an admin session and
    no password file is written. Otherwise the users of `simple_auth_manager_users` (default `admin`) log in with the
    passwords of `simple_auth_manager_passwords.json.generated` under AIRFLOW_HOME (or the configured file), written
    and printed by the first start. `environ` is the effective environment (os.environ after `apply`)."""
    from pathlib import Path

    host = environ.get("AIRFLOW__API__HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    base = f"http://{host}:{port}"
    lines = [
        f"Airflow UI:       {base}",
        f"Observatory page: {base}/observatoire/ (in the UI: the Observatoire entry of the navigation, "
        f"{base}/plugin/observatoire)",
    ]
    all_admins = environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False").strip().lower() == "true"
    password_file = Path(
        environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
        or Path(environ.get("AIRFLOW_HOME", "~/airflow")).expanduser() / "simple_auth_manager_passwords.json.generated"
    )
    if all_admins:
        lines.append(
            "Login:            none: AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True opens every visitor's session "
            f"as admin, no password is asked and {password_file} is neither written nor read (set the variable to "
            "False to log in as admin with the password Airflow then writes there)"
        )
    else:
        users = environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
        names = ", ".join(user.split(":")[0].strip() for user in users.split(",") if user.strip())
        state = (
            "exists"
            if password_file.is_file()
            else "not there yet: Airflow writes it and prints the password on the first start"
        )
        lines.append(f"Login:            user {names}, password in {password_file} ({state})")
    return "\n".join(lines)
