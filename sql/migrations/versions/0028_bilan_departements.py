"""The annual bilan of the 2014 conventions also has a row set per département (niveau `departement`)."""

from etl.warehouse.migrations import sql_revision

revision = "0028"
down_revision = "0027"
upgrade, downgrade = sql_revision(__file__)
