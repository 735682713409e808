"""A journal of the archive's size per source, written by warehouse_maintenance."""

from etl.warehouse.migrations import sql_revision

revision = "0016"
down_revision = "0015"
upgrade, downgrade = sql_revision(__file__)
