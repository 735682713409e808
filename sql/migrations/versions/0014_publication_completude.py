"""The regional campaign's completeness in the annual edition."""

from etl.warehouse.migrations import sql_revision

revision = "0014"
down_revision = "0013"
upgrade, downgrade = sql_revision(__file__)
