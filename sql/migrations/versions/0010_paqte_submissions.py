"""PAQTE semestrial reports of the départements: cells, accepted reports, completeness."""

from etl.warehouse.migrations import sql_revision

revision = "0010"
down_revision = "0009"
upgrade, downgrade = sql_revision(__file__)
