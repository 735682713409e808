"""The five warehouse schemas: raw, staging, core, publication, audit."""

from etl.warehouse.migrations import sql_revision

revision = "0001"
down_revision = None
upgrade, downgrade = sql_revision(__file__)
