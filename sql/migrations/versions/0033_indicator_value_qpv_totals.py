"""A partial index of the QPV totals by indicator and period, for the cross-checks' month-on-month warning."""

from etl.warehouse.migrations import sql_revision

revision = "0033"
down_revision = "0032"
upgrade, downgrade = sql_revision(__file__)
