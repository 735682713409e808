"""Versioned warehouse migrations: Alembic revisions whose bodies are the SQL files in `sql/migrations/`.

`migrate()` brings a warehouse to the newest revision and returns the version before and after; running it
on an up-to-date warehouse changes nothing. A failing migration is rolled back whole (one transaction per
migration) and reported in one sentence naming the revision and PostgreSQL's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from etl.config import SQL_FOLDER
from etl.errors import ObservatoireError

MIGRATIONS_FOLDER = SQL_FOLDER / "migrations"


def run_sql_file(revision_file: str) -> None:
    """Execute the `.sql` twin of a revision's `.py` file."""
    from alembic import op

    sql = Path(revision_file).with_suffix(".sql").read_text(encoding="utf-8")
    # the driver formats the statement with (empty) parameters: `%%` keeps a `%` (e.g. of a RAISE format) literal
    op.get_bind().exec_driver_sql(sql.replace("%", "%%"))


def sql_revision(revision_file: str):
    """(upgrade, downgrade) of a revision whose body is its `.sql` twin; the warehouse only moves forward."""

    def upgrade() -> None:
        run_sql_file(revision_file)

    def downgrade() -> None:
        raise NotImplementedError("the warehouse only moves forward: restore a backup to go back")

    return upgrade, downgrade


def _config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_FOLDER))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine) -> str | None:
    import sqlalchemy as sa

    with engine.connect() as conn:
        exists = conn.execute(sa.text("SELECT to_regclass('audit.alembic_version')")).scalar()
        if exists is None:
            return None
        return conn.execute(sa.text("SELECT version_num FROM audit.alembic_version")).scalar()


@dataclass(frozen=True)
class MigrationResult:
    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def migrate(engine) -> MigrationResult:
    """Apply every pending migration; a no-op when the warehouse is at head."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.util import CommandError

    try:
        with engine.connect() as conn:
            cfg = _config(conn)
            command.upgrade(cfg, "head")
            before = cfg.attributes.get("before")
    except sa.exc.DBAPIError as exc:
        after = current(engine) or "none"
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ObservatoireError(
            f"a warehouse migration failed ({reason}); the warehouse stays at version {after}: "
            "fix the migration in sql/migrations/ and run `observatoire migrate` again."
        ) from exc
    except CommandError as exc:
        raise ObservatoireError(f"the migrations in {MIGRATIONS_FOLDER} are inconsistent: {exc}.") from exc
    return MigrationResult(before, current(engine))
