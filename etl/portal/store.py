"""What the portal keeps in the warehouse (schema `portal`): sessions, the journal, failed-login locks, deposits.

Sessions: the cookie carries a random token, portal.session its sha256, the CSRF token of the session's forms and
the time of the last request; a session idle longer than `Settings.idle_minutes` is closed. The journal records
every login, failure, lock, logout, deposit and download with time, account and address; the lock counts the
failures of the last `Settings.lock_minutes` per login (as typed, existing or not) and per address.

An officer's deposits are read and written under its région's PostgreSQL role (`as_territory`: `SET LOCAL ROLE
region_<code>` in the transaction), so row-level security keeps it to its own rows whatever a route asks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from dataclasses import dataclass

from etl.portal.accounts import Account

_REGION = re.compile(r"[0-9]{2}")


@dataclass(frozen=True)
class Settings:
    """The portal's tunables (environment variables `OBSERVATOIRE_PORTAL_*`, see README's Portal section)."""

    idle_minutes: float = 30.0  # a session idle longer is closed
    lock_minutes: float = 15.0  # window in which failures are counted, and length of a lock
    max_failures_per_login: int = 5
    max_failures_per_address: int = 20

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            idle_minutes=float(env.get("OBSERVATOIRE_PORTAL_IDLE_MINUTES", cls.idle_minutes)),
            lock_minutes=float(env.get("OBSERVATOIRE_PORTAL_LOCK_MINUTES", cls.lock_minutes)),
            max_failures_per_login=int(env.get("OBSERVATOIRE_PORTAL_MAX_FAILURES", cls.max_failures_per_login)),
            max_failures_per_address=int(
                env.get("OBSERVATOIRE_PORTAL_MAX_FAILURES_PER_ADDRESS", cls.max_failures_per_address)
            ),
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- the journal and the locks -------------------------------------------------------------------------------------


def journal(engine, event: str, login: str | None, address: str | None, detail: str | None = None) -> None:
    """One line of portal.journal (`event`: connexion, echec, blocage, deconnexion, depot, telechargement)."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO portal.journal (event, login, address, detail) VALUES (:event, :login, :address, :detail)"
            ),
            {"event": event, "login": None if login is None else login[:200], "address": address, "detail": detail},
        )


def locked(engine, login: str, address: str | None, settings: Settings) -> bool:
    """Whether `login` or `address` failed too often in the last `lock_minutes` (the attempt is then refused
    without even checking the password)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        by_login, by_address = conn.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE login = :login), count(*) FILTER (WHERE address = :address) "
                "FROM portal.journal WHERE event = 'echec' AND at > now() - make_interval(secs => :window)"
            ),
            {"login": login[:200], "address": address, "window": settings.lock_minutes * 60},
        ).one()
    return by_login >= settings.max_failures_per_login or by_address >= settings.max_failures_per_address


# --- sessions ------------------------------------------------------------------------------------------------------


def open_session(engine, login: str, address: str | None) -> str:
    """A new session for `login`; returns the token for the cookie (only its sha256 is stored)."""
    import sqlalchemy as sa

    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO portal.session (token_sha256, login, csrf_token, address) "
                "VALUES (:token_sha256, :login, :csrf_token, :address)"
            ),
            {
                "token_sha256": _digest(token),
                "login": login,
                "csrf_token": secrets.token_urlsafe(32),
                "address": address,
            },
        )
    return token


def session(engine, token: str, settings: Settings) -> tuple[Account, str] | None:
    """(account, CSRF token) of a live session, its last request moved to now; None for an unknown token, an idle
    session (closed here) or a disabled account."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "DELETE FROM portal.session WHERE token_sha256 = :token_sha256 "
                "AND last_seen_at < now() - make_interval(secs => :idle)"
            ),
            {"token_sha256": _digest(token), "idle": settings.idle_minutes * 60},
        )
        row = conn.execute(
            sa.text(
                "UPDATE portal.session s SET last_seen_at = now() FROM portal.account a "
                "WHERE s.token_sha256 = :token_sha256 AND a.login = s.login AND a.disabled_at IS NULL "
                "RETURNING a.login, a.role, a.region_code, a.departement_code, s.csrf_token"
            ),
            {"token_sha256": _digest(token)},
        ).one_or_none()
    if row is None:
        return None
    return Account(row.login, row.role, row.region_code, row.departement_code), row.csrf_token


def close_session(engine, token: str) -> None:
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM portal.session WHERE token_sha256 = :token_sha256"), {"token_sha256": _digest(token)}
        )


# --- an officer's rows, under its région's role --------------------------------------------------------------------


@contextlib.contextmanager
def as_territory(engine, account: Account):
    """A transaction running as the PostgreSQL role of the account's région (region_<code>): row-level security
    applies to every query in it. The portal's own login must be that role's member (the owner is, as a
    superuser or as the role's creator)."""
    import sqlalchemy as sa

    region = account.role_region
    if not region or not _REGION.fullmatch(region):
        raise PermissionError(f"account {account.login!r} has no région to act for")
    with engine.begin() as conn:
        conn.execute(sa.text(f"SET LOCAL ROLE region_{region}"))
        yield conn


DEPOSIT_COLUMNS = (
    "deposit_id, login, kind, region_code, departement_code, period, original_name, sha256, size_bytes, verdict, "
    "errors, warnings, batch_id, deposited_at"
)


def record_deposit(engine, account: Account, row: dict) -> int:
    """Insert a deposit (under the account's région role: a row for another région is refused); returns its id."""
    import sqlalchemy as sa

    with as_territory(engine, account) as conn:
        return conn.execute(
            sa.text(
                "INSERT INTO portal.deposit (login, kind, region_code, departement_code, period, original_name, "
                "sha256, size_bytes, verdict, errors, warnings, report_html, batch_id) VALUES (:login, :kind, "
                ":region_code, :departement_code, :period, :original_name, :sha256, :size_bytes, :verdict, :errors, "
                ":warnings, :report_html, :batch_id) RETURNING deposit_id"
            ),
            {**row, "login": account.login, "region_code": account.role_region},
        ).scalar_one()


def deposits(engine, account: Account) -> list[dict]:
    """The deposits the account's région role may read (its own territory's), newest first; for a département
    account, its département's only."""
    import sqlalchemy as sa

    with as_territory(engine, account) as conn:
        rows = conn.execute(
            sa.text(
                f"SELECT {DEPOSIT_COLUMNS} FROM portal.deposit "
                "WHERE departement_code IS NOT DISTINCT FROM :departement ORDER BY deposited_at DESC, deposit_id DESC"
            ),
            {"departement": account.departement_code},
        ).mappings()
        return [dict(row) for row in rows]


def deposit(engine, account: Account, deposit_id: int) -> dict | None:
    """One deposit with its report, if the account's role may read it and it is of the account's territory."""
    import sqlalchemy as sa

    with as_territory(engine, account) as conn:
        row = (
            conn.execute(
                sa.text(
                    f"SELECT {DEPOSIT_COLUMNS}, report_html FROM portal.deposit WHERE deposit_id = :deposit_id "
                    "AND departement_code IS NOT DISTINCT FROM :departement"
                ),
                {"deposit_id": deposit_id, "departement": account.departement_code},
            )
            .mappings()
            .one_or_none()
        )
    return dict(row) if row else None
