"""The perimeters of the 2024 QPV (the ANCT's GeoJSON): the features as read (raw), checked and simplified
(staging), and one polygon per QPV in core, stored as GeoJSON text (no PostGIS needed)."""

from etl.warehouse.migrations import sql_revision

revision = "0030"
down_revision = "0029"
upgrade, downgrade = sql_revision(__file__)
