"""The départements' PAQTE results in the semestrial edition."""

from etl.warehouse.migrations import sql_revision

revision = "0013"
down_revision = "0012"
upgrade, downgrade = sql_revision(__file__)
