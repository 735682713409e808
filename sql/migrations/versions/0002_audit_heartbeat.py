"""audit.heartbeat_log: one line per warehouse_maintenance run, proving the scheduler reaches the warehouse."""

from etl.warehouse.migrations import run_sql_file

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise NotImplementedError("the warehouse only moves forward: restore a backup to go back")
