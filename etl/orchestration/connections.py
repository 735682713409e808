"""The warehouse as a task sees it: Airflow's `warehouse` connection turned into a SQLAlchemy engine."""

from __future__ import annotations

import json

WAREHOUSE_CONN_ID = "warehouse"


def warehouse_url() -> str:
    """libpq URL of the `warehouse` connection (socket folder kept as `?host=`)."""
    from airflow.sdk import Connection

    from etl.warehouse.urls import from_airflow_connection

    conn = Connection.get(WAREHOUSE_CONN_ID)
    return from_airflow_connection(
        json.dumps(
            {
                "host": conn.host,
                "login": conn.login,
                "password": conn.password,
                "schema": conn.schema,
                "port": conn.port,
                "extra": conn.extra_dejson or None,
            }
        )
    )


def warehouse_engine():
    from etl import warehouse

    return warehouse.engine(warehouse_url())
