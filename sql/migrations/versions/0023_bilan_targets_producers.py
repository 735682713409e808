"""The bilan's targets with their date and scope, the producer of every 2014 indicator, the date of the roadmap
measures' statuses, and the bilan's lines by component (IND16: places created, places renovated)."""

from etl.warehouse.migrations import sql_revision

revision = "0023"
down_revision = "0022"
upgrade, downgrade = sql_revision(__file__)
