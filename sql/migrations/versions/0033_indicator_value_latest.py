"""The latest vintage of each figure (`core.indicator_value`) as a table kept by triggers on the vintages, instead
of a view that sorted the vintages at each read (the editions, the cross-checks)."""

from etl.warehouse.migrations import sql_revision

revision = "0033"
down_revision = "0032"
upgrade, downgrade = sql_revision(__file__)
