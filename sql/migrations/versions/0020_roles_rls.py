"""Least privilege: the loading role `etl_writer` (rows, no DDL), one role per région (`region_84`,
members of `region_submitter`) that reads and submits only its own région's submission rows under row-level security;
`bi_reader` (0011) is unchanged."""

from etl.warehouse.migrations import sql_revision

revision = "0020"
down_revision = "0019"
upgrade, downgrade = sql_revision(__file__)
