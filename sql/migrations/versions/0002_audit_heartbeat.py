"""audit.heartbeat_log: one line per warehouse_maintenance run, proving the scheduler reaches the warehouse."""

from etl.warehouse.migrations import sql_revision

revision = "0002"
down_revision = "0001"
upgrade, downgrade = sql_revision(__file__)
