"""INSEE's population of the QPV: its rows as read (raw), and `habitants` among the statistical units (a published
census population, never masked)."""

from etl.warehouse.migrations import sql_revision

revision = "0025"
down_revision = "0024"
upgrade, downgrade = sql_revision(__file__)
