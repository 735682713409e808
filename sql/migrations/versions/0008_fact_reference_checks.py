"""Fact references checked per statement (indicator, period) instead of per-row foreign keys."""

from etl.warehouse.migrations import sql_revision

revision = "0008"
down_revision = "0007"
upgrade, downgrade = sql_revision(__file__)
