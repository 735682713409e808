"""The journal of alerts mailed, one per failed batch, late file or missed campaign deadline."""

from etl.warehouse.migrations import sql_revision

revision = "0017"
down_revision = "0016"
upgrade, downgrade = sql_revision(__file__)
