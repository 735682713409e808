"""France Travail raw files: monthly job seekers (DEFM) and yearly physical contact points."""

from etl.warehouse.migrations import sql_revision

revision = "0006"
down_revision = "0005"
upgrade, downgrade = sql_revision(__file__)
