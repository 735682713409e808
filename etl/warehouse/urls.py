"""Conversions between the forms a warehouse address takes: libpq URL, SQLAlchemy URL, Airflow connection.

The embedded server listens on a Unix socket, so its URL carries the socket folder as `?host=/dir`; some
tools (GX, Airflow connections) need a host field instead. These pure functions keep those forms in step.

They also own the one rule for showing an address to a person: `redact()` (a URL) and `redact_text()` (any message
that may quote one) replace a password, wherever a URL, a libpq keyword string or a connection's JSON puts it, by
`***`. Messages, logs and reports print addresses only through them.
"""

from __future__ import annotations

import json
import re

from sqlalchemy.engine import URL, make_url

MASK = "***"
# where a password hides in text: the user-info of a URL (scheme://user:secret@host), a libpq keyword or URL query
# parameter (password=secret, quoted or not), a JSON field ("password": "secret")
_SECRET_IN_TEXT = (
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/?#@'\"]*:)[^\s/?#'\"]+(@)", re.IGNORECASE), rf"\g<1>{MASK}\g<2>"),
    (
        re.compile(r"""(\b(?:password|passwd|pwd)\s*=\s*)('(?:[^'\\]|\\.)*'|"[^"]*"|[^\s&;,'"]+)""", re.IGNORECASE),
        rf"\g<1>{MASK}",
    ),
    (re.compile(r'("(?:password|passwd)"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE), rf'\g<1>"{MASK}"'),
)


def sqlalchemy_url(url: str) -> URL:
    """SQLAlchemy URL with an explicit psycopg2 driver, whatever scheme was given."""
    from sqlalchemy.exc import ArgumentError

    from etl.errors import ObservatoireError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ObservatoireError(
            f"WAREHOUSE_URL is not a URL that can be read ({redact_text(str(exc))}): write it as "
            "postgresql://user@host:5432/database (password in PGPASSWORD or ~/.pgpass, or percent-encoded)."
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise ObservatoireError(f"WAREHOUSE_URL must be a PostgreSQL URL, got scheme {parsed.drivername!r}.")
    return parsed.set(drivername="postgresql+psycopg2")


def with_host(url: str) -> str:
    """Same server, written with a host (`localhost`) for tools that insist on one (GX)."""
    parsed = sqlalchemy_url(url)
    if not parsed.host:
        parsed = parsed.set(host="localhost")
    return parsed.render_as_string(hide_password=False)


def redact_text(text: str) -> str:
    """`text` with every password it quotes (in a URL, a `password=` keyword or parameter, a JSON field) masked."""
    for pattern, replacement in _SECRET_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact(url: str, *, show_password: bool = False) -> str:
    """The URL for messages and summaries: as given when it holds no password, else with the password (in the
    user-info or a `password=` parameter) replaced by ***. `show_password` returns it whole (a command whose output
    is meant for a tool, on the user's explicit request)."""
    if show_password:
        return url
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: mask what looks like a password in it
        return redact_text(url)
    shown = parsed.render_as_string(hide_password=True) if parsed.password else url
    return redact_text(shown)


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
