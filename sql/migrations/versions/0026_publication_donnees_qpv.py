"""The données QPV tables of the annual edition (etl/publication/qpv_data.py): one per theme, same columns, and the
view of each on the current edition."""

from etl.warehouse.migrations import sql_revision

revision = "0026"
down_revision = "0025"
upgrade, downgrade = sql_revision(__file__)
