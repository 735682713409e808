"""Each batch records the layout its file was read with (`audit.batch.layout`)."""

from etl.warehouse.migrations import sql_revision

revision = "0029"
down_revision = "0028"
upgrade, downgrade = sql_revision(__file__)
