"""Ingestion audit: file registry, load batches, receipt journal, data-quality results."""

from etl.warehouse.migrations import sql_revision

revision = "0003"
down_revision = "0002"
upgrade, downgrade = sql_revision(__file__)
