"""Migrations on a real PostgreSQL: the five schemas, the recorded version, idempotence, a failing migration."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.errors import ObservatoireError
from etl.warehouse import migrations
from etl.warehouse.fingerprint import fingerprint

pytestmark = pytest.mark.warehouse

SCHEMAS = {"raw", "staging", "core", "publication", "audit"}


def _schemas(eng) -> set[str]:
    with eng.connect() as conn:
        return set(conn.execute(sa.text("SELECT nspname FROM pg_namespace")).scalars())


def test_migrate_creates_the_five_schemas_and_records_the_version(empty_database):
    eng = warehouse.engine(empty_database)
    assert not SCHEMAS & _schemas(eng)
    result = migrations.migrate(eng)
    assert result.before is None
    assert result.after == migrations.head()
    assert _schemas(eng) >= SCHEMAS
    assert migrations.current(eng) == migrations.head()
    eng.dispose()


def test_migrating_twice_is_a_no_op(empty_database):
    eng = warehouse.engine(empty_database)
    migrations.migrate(eng)
    state = fingerprint(eng)
    again = migrations.migrate(eng)
    assert not again.changed
    assert fingerprint(eng) == state
    eng.dispose()


def test_a_failing_migration_is_rolled_back_and_reported(empty_database, tmp_path, monkeypatch):
    folder = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_FOLDER, folder)
    head = migrations.head()
    (folder / "versions" / "9999_broken.py").write_text(
        (folder / "versions" / "0002_audit_heartbeat.py")
        .read_text()
        .replace('revision = "0002"', 'revision = "9999"')
        .replace('down_revision = "0001"', f'down_revision = "{head}"')
    )
    (folder / "versions" / "9999_broken.sql").write_text(
        "CREATE TABLE audit.half_done (id int);\nSELECT * FROM no_such_table;\n"
    )
    monkeypatch.setattr(migrations, "MIGRATIONS_FOLDER", folder)
    eng = warehouse.engine(empty_database)
    with pytest.raises(ObservatoireError) as err:
        migrations.migrate(eng)
    message = str(err.value)
    assert "no_such_table" in message
    assert f"stays at version {head}" in message
    assert migrations.current(eng) == head
    with eng.connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('audit.half_done')")).scalar() is None
    eng.dispose()


def test_concurrent_migrate_commands_do_not_race(empty_database):
    import os
    import subprocess
    import sys

    env = {**os.environ, "WAREHOUSE_URL": empty_database}
    cmd = [sys.executable, "-m", "etl.cli", "migrate"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert sum("migrated from empty" in out for out in outputs) == 1
    assert sum("nothing to do" in out for out in outputs) == 2
    assert migrations.current(warehouse.engine(empty_database)) == migrations.head()
