"""The publication schema's first tables (annual bilan of the 2014 conventions, 2018 measures), editions, bi_reader."""

from etl.warehouse.migrations import sql_revision

revision = "0011"
down_revision = "0010"
upgrade, downgrade = sql_revision(__file__)
