"""The indicators of the 2018 measures in the annual edition."""

from etl.warehouse.migrations import sql_revision

revision = "0015"
down_revision = "0014"
upgrade, downgrade = sql_revision(__file__)
