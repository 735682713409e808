"""The table of the QPV in veille active in the annual edition (publication.veille_active) and its view of the latest
edition."""

from etl.warehouse.migrations import sql_revision

revision = "0027"
down_revision = "0026"
upgrade, downgrade = sql_revision(__file__)
