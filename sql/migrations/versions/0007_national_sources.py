"""CAF, Agence nationale du sport (ex-CNDS) and the generic file of the other national producers."""

from etl.warehouse.migrations import sql_revision

revision = "0007"
down_revision = "0006"
upgrade, downgrade = sql_revision(__file__)
