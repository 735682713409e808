"""Warehouse address conversions: libpq URL <-> SQLAlchemy URL <-> Airflow connection JSON."""

from __future__ import annotations

import json

import pytest

from etl.errors import ObservatoireError
from etl.warehouse.urls import (
    airflow_connection,
    from_airflow_connection,
    redact,
    sqlalchemy_url,
    with_database,
    with_host,
)

SOCKET = "postgresql://postgres@/observatoire?host=/srv/obs/pg"
TCP = "postgresql://obs:se%40cret@db.example:6543/wh?sslmode=require"


def test_socket_url_becomes_a_connection_with_the_socket_folder_as_host():
    conn = json.loads(airflow_connection(SOCKET))
    assert conn == {
        "conn_type": "postgres",
        "host": "/srv/obs/pg",
        "login": "postgres",
        "schema": "observatoire",
        "port": 5432,
    }


@pytest.mark.parametrize("url", [SOCKET, TCP])
def test_connection_round_trip_keeps_the_same_server(url):
    back = sqlalchemy_url(from_airflow_connection(airflow_connection(url)))
    orig = sqlalchemy_url(url)
    assert (back.username, back.password, back.database) == (orig.username, orig.password, orig.database)
    assert back.query.get("host") == orig.query.get("host")
    assert back.query.get("sslmode") == orig.query.get("sslmode")
    if orig.host:
        assert (back.host, back.port) == (orig.host, orig.port)


def test_with_host_gives_tools_a_host_and_keeps_the_socket():
    assert with_host(SOCKET) == "postgresql+psycopg2://postgres@localhost/observatoire?host=%2Fsrv%2Fobs%2Fpg"


def test_redact_hides_only_passwords():
    assert redact(SOCKET) == SOCKET
    assert "se@cret" not in redact(TCP) and "se%40cret" not in redact(TCP)
    assert "***" in redact(TCP)


def test_with_database_changes_only_the_database():
    assert sqlalchemy_url(with_database(TCP, "other")).database == "other"
    assert sqlalchemy_url(with_database(TCP, "other")).host == "db.example"


def test_non_postgres_url_is_refused_in_one_sentence():
    with pytest.raises(ObservatoireError, match="must be a PostgreSQL URL"):
        sqlalchemy_url("mysql://root@localhost/db")
