"""The warehouse: which PostgreSQL to use and how to reach it.

`WAREHOUSE_URL` (any SQLAlchemy/libpq URL) wins; when it is unset the embedded server under
`$OBSERVATOIRE_HOME/pg` is started on demand. `engine()` checks that the server answers and turns a
refusal into one sentence the user can act on.
"""

from __future__ import annotations

import os

from etl.config import Home
from etl.errors import ObservatoireError
from etl.warehouse import embedded
from etl.warehouse.urls import redact, sqlalchemy_url


def is_embedded() -> bool:
    return not os.environ.get("WAREHOUSE_URL")


def url(*, start: bool = True, home: Home | None = None) -> str:
    """The warehouse URL in use (libpq form, accepted by psql and SQLAlchemy)."""
    configured = os.environ.get("WAREHOUSE_URL")
    if configured:
        return configured
    home = home or Home.from_env()
    server = embedded.start(home.pgdata) if start else embedded.status(home.pgdata)
    found = server.url()
    if found is None:
        raise ObservatoireError("the embedded warehouse is not running: start it with `observatoire warehouse start`.")
    return found


def engine(warehouse_url: str | None = None, **kwargs):
    """A SQLAlchemy engine on the warehouse, checked to answer."""
    import sqlalchemy as sa

    target = warehouse_url or url()
    eng = sa.create_engine(sqlalchemy_url(target), pool_pre_ping=True, **kwargs)
    try:
        with eng.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ObservatoireError(
            f"the warehouse at {redact(target)} does not answer ({reason}): "
            "check WAREHOUSE_URL, or unset it to use the embedded warehouse."
        ) from exc
    return eng


def admin_execute(server_url: str, sql: str, *, connect_timeout: int | None = None) -> None:
    """Run one statement outside a transaction (CREATE / DROP DATABASE need that) on the server of `server_url`."""
    import psycopg2

    conn = psycopg2.connect(server_url, **({"connect_timeout": connect_timeout} if connect_timeout else {}))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()
