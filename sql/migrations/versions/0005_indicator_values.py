"""Indicator values with vintages: every file's figures kept, the latest exposed."""

from etl.warehouse.migrations import sql_revision

revision = "0005"
down_revision = "0004"
upgrade, downgrade = sql_revision(__file__)
