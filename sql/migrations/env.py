"""Alembic environment for the warehouse: runs on the connection handed over by etl.warehouse.migrations.

The version table lives in `audit`; every migration runs in its own transaction; a session-level advisory
lock makes concurrent `migrate` calls (demo, tests, DAGs) wait for each other instead of racing.
"""

from alembic import context
from sqlalchemy import text

MIGRATION_LOCK_KEY = 7_104_202_4  # arbitrary, constant: identifies "observatoire migrations"

connection = context.config.attributes["connection"]
connection.execute(text("SELECT pg_advisory_lock(:lock_key)"), {"lock_key": MIGRATION_LOCK_KEY})
connection.execute(text("CREATE SCHEMA IF NOT EXISTS audit"))
connection.commit()
try:
    context.configure(
        connection=connection,
        version_table_schema="audit",
        transaction_per_migration=True,
    )
    # read under the lock: a concurrent caller that waited must not report the other one's work as its own
    context.config.attributes["before"] = context.get_context().get_current_revision()
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
finally:
    connection.rollback()  # leaves any failed transaction so the unlock can run
    connection.execute(text("SELECT pg_advisory_unlock(:lock_key)"), {"lock_key": MIGRATION_LOCK_KEY})
    connection.commit()
