"""Regional submissions: the workbooks' cells, the accepted submissions and their values, every verdict."""

from etl.warehouse.migrations import sql_revision

revision = "0009"
down_revision = "0008"
upgrade, downgrade = sql_revision(__file__)
