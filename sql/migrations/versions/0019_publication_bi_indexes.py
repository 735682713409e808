"""Indexes for the BI tools' usual questions on the semestrial dashboard: a territory's series, one month across
territories, a département's or région's QPV (make bench measures them)."""

from etl.warehouse.migrations import sql_revision

revision = "0019"
down_revision = "0018"
upgrade, downgrade = sql_revision(__file__)
