"""The portal's accounts: an officer of a région or of a département (PAQTE reports), or an administrator.

Passwords are hashed with Argon2id (argon2-cffi, its default parameters) and only the hash is stored
(portal.account). `authenticate` costs one Argon2 verification whether the login exists or not (a fixed dummy hash
stands in for an unknown or disabled account), so an unknown login and a wrong password get the same answer in the
same time. `observatoire users add|disable|list` are thin wrappers over `add`, `disable`, `listing`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from etl.errors import ObservatoireError

LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
MIN_PASSWORD_LENGTH = 12
OFFICER, ADMIN = "officer", "admin"


@dataclass(frozen=True)
class Account:
    """A portal account. An officer has a région (`region_code`) or a département (`departement_code`); `role_region`
    is the région whose PostgreSQL role (region_<code>) runs its queries (a département's région for PAQTE)."""

    login: str
    role: str
    region_code: str | None = None
    departement_code: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def kind(self) -> str:
        """The workbook this account deposits: `regional` (a région) or `paqte` (a département)."""
        return "paqte" if self.departement_code else "regional"

    @property
    def role_region(self) -> str | None:
        if self.region_code:
            return self.region_code
        if self.departement_code:
            from etl.referentiels.territories import load_departements

            departements = load_departements()
            return str(departements.loc[departements["code"] == self.departement_code, "code_region"].iloc[0])
        return None

    @property
    def territory(self) -> str:
        """How the pages name the account's territory."""
        from etl.referentiels.territories import load_departements, region_name

        if self.region_code:
            return f"région {region_name(self.region_code)} ({self.region_code})"
        if self.departement_code:
            departements = load_departements()
            name = departements.loc[departements["code"] == self.departement_code, "nom"].iloc[0]
            return f"département {name} ({self.departement_code})"
        return "administration nationale"


def _hasher():
    from argon2 import PasswordHasher, Type

    return PasswordHasher(type=Type.ID)


def hash_password(password: str) -> str:
    """The Argon2id hash of `password` (encoded: parameters and salt included)."""
    return _hasher().hash(password)


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password("mot de passe d'un compte qui n'existe pas"))
    return _DUMMY_HASH[0]


def verify(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _enabled(engine, login: str):
    """The row of the enabled account `login` (its fields and password hash), or None."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT login, role, region_code, departement_code, password_hash FROM portal.account "
                "WHERE login = :login AND disabled_at IS NULL"
            ),
            {"login": login},
        ).one_or_none()


def authenticate(engine, login: str, password: str) -> Account | None:
    """The account if `login` exists, is enabled and `password` is its password; else None. Always one Argon2
    verification (see the module's docstring)."""
    row = _enabled(engine, login)
    ok = verify(row.password_hash if row else _dummy_hash(), password)
    return Account(row.login, row.role, row.region_code, row.departement_code) if ok and row else None


def account(engine, login: str) -> Account | None:
    """The enabled account `login`, or None."""
    row = _enabled(engine, login)
    return Account(row.login, row.role, row.region_code, row.departement_code) if row else None


def add(engine, login: str, password: str, *, region: str | None = None, departement: str | None = None) -> Account:
    """Create the account (an admin when neither `region` nor `departement` is given), or give a disabled one back its
    territory and a new password; refuses a login in use, a short password, an unknown territory."""
    import sqlalchemy as sa

    from etl.referentiels.territories import load_departements, load_regions

    if not LOGIN.fullmatch(login):
        raise ObservatoireError(
            f"login {login!r} is not valid: lower-case letters, digits, '.', '-', '_' (up to 63, starting with a "
            "letter or a digit)."
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ObservatoireError(f"the password is too short: at least {MIN_PASSWORD_LENGTH} characters.")
    if region is not None and region not in set(load_regions()["code"]):
        raise ObservatoireError(f"région {region!r} is not a région code of catalogue/regions.csv (e.g. 84).")
    if departement is not None and departement not in set(load_departements()["code"]):
        raise ObservatoireError(f"département {departement!r} is not a code of catalogue/departements.csv (e.g. 69).")
    role = ADMIN if region is None and departement is None else OFFICER
    with engine.begin() as conn:
        taken = conn.execute(
            sa.text(
                "INSERT INTO portal.account (login, password_hash, role, region_code, departement_code) "
                "VALUES (:login, :hash, :role, :region, :departement) ON CONFLICT (login) DO UPDATE SET "
                "password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, region_code = EXCLUDED.region_code, "
                "departement_code = EXCLUDED.departement_code, disabled_at = NULL "
                "WHERE portal.account.disabled_at IS NOT NULL RETURNING login"
            ),
            {
                "login": login,
                "hash": hash_password(password),
                "role": role,
                "region": region,
                "departement": departement,
            },
        ).scalar()
    if taken is None:
        raise ObservatoireError(f"login {login!r} is already in use (disable it first to give it again).")
    return Account(login, role, region, departement)


def disable(engine, login: str) -> None:
    """Disable the account and close its sessions; its journal and deposits stay."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        done = conn.execute(
            sa.text(
                "UPDATE portal.account SET disabled_at = now() WHERE login = :login AND disabled_at IS NULL "
                "RETURNING login"
            ),
            {"login": login},
        ).scalar()
        conn.execute(sa.text("DELETE FROM portal.session WHERE login = :login"), {"login": login})
    if done is None:
        raise ObservatoireError(f"no enabled account {login!r} (observatoire users list shows them).")


def listing(engine) -> list[dict]:
    """Every account: login, role, territory, created, disabled (never the hash)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT login, role, region_code, departement_code, created_at, disabled_at FROM portal.account "
                "ORDER BY login"
            )
        ).mappings()
        return [dict(row) for row in rows]
