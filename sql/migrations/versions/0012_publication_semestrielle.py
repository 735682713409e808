"""The semestrial employment dashboard for the QPV in the publication schema."""

from etl.warehouse.migrations import sql_revision

revision = "0012"
down_revision = "0011"
upgrade, downgrade = sql_revision(__file__)
