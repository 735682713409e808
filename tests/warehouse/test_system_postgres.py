"""CI contract: the second test pass really runs on the machine's PostgreSQL 15, not the embedded 18."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.system_postgres


def test_warehouse_under_test_is_the_system_postgresql_15(engine):
    with engine.connect() as conn:
        version = conn.execute(sa.text("SHOW server_version_num")).scalar()
    assert int(version) // 10000 == 15
