"""The five warehouse schemas: raw, staging, core, publication, audit."""

from etl.warehouse.migrations import run_sql_file

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise NotImplementedError("the warehouse only moves forward: restore a backup to go back")
