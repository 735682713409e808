"""Conversions between the forms a warehouse address takes: libpq URL, SQLAlchemy URL, Airflow connection.

The embedded server listens on a Unix socket, so its URL carries the socket folder as `?host=/dir`; some
tools (GX, Airflow connections) need a host field instead. These pure functions keep those forms in step.
"""

from __future__ import annotations

import json

from sqlalchemy.engine import URL, make_url


def sqlalchemy_url(url: str) -> URL:
    """SQLAlchemy URL with an explicit psycopg2 driver, whatever scheme was given."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        from etl.errors import ObservatoireError

        raise ObservatoireError(f"WAREHOUSE_URL must be a PostgreSQL URL, got scheme {parsed.drivername!r}.")
    return parsed.set(drivername="postgresql+psycopg2")


def with_host(url: str) -> str:
    """Same server, written with a host (`localhost`) for tools that insist on one (GX)."""
    parsed = sqlalchemy_url(url)
    if not parsed.host:
        parsed = parsed.set(host="localhost")
    return parsed.render_as_string(hide_password=False)


def redact(url: str) -> str:
    """The URL as given, with any password replaced by ***, for messages and summaries."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - only used in messages
        return "<unparseable URL>"
    return url if not parsed.password else parsed.render_as_string(hide_password=True)


def airflow_connection(url: str) -> str:
    """The JSON for `AIRFLOW_CONN_WAREHOUSE` describing the same server (socket folder as host if any)."""
    parsed = make_url(url)
    query_host = parsed.query.get("host")
    if isinstance(query_host, tuple):
        query_host = query_host[0]
    conn = {
        "conn_type": "postgres",
        "host": query_host or parsed.host or "localhost",
        "login": parsed.username or "postgres",
        "schema": parsed.database or "postgres",
        "port": parsed.port or 5432,
    }
    if parsed.password:
        conn["password"] = parsed.password
    extra = {k: v for k, v in parsed.query.items() if k != "host"}
    if extra:
        conn["extra"] = extra
    return json.dumps(conn)


def from_airflow_connection(conn_json: str) -> str:
    """Inverse of `airflow_connection`: a libpq URL from the connection JSON."""
    conn = json.loads(conn_json)
    host = conn.get("host") or "localhost"
    user = conn.get("login") or "postgres"
    password = conn.get("password")
    url = URL.create(
        "postgresql",
        username=user,
        password=password,
        host=None if host.startswith("/") else host,
        port=None if host.startswith("/") else conn.get("port"),
        database=conn.get("schema") or "postgres",
        query={**({"host": host} if host.startswith("/") else {}), **(conn.get("extra") or {})},
    )
    return url.render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    """Same server and credentials, another database."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)
