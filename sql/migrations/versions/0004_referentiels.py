"""Reference data: régions, départements, communes, EPCI, QPV of both geographies, periods, catalogue."""

from etl.warehouse.migrations import run_sql_file

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(__file__)


def downgrade() -> None:
    raise NotImplementedError("the warehouse only moves forward: restore a backup to go back")
