"""What each indicator counts: `unite_statistique` of the 2014 catalogue and of the operator
statistics carried through raw, staging and core.indicator, so that statistical secrecy can cover counts of people
and households only."""

from etl.warehouse.migrations import sql_revision

revision = "0021"
down_revision = "0020"
upgrade, downgrade = sql_revision(__file__)
