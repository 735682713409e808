"""Reference data: régions, départements, communes, EPCI, QPV of both geographies, periods, catalogue."""

from etl.warehouse.migrations import sql_revision

revision = "0004"
down_revision = "0003"
upgrade, downgrade = sql_revision(__file__)
