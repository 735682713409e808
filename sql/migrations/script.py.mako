"""${message}"""

from etl.warehouse.migrations import sql_revision

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
upgrade, downgrade = sql_revision(__file__)
