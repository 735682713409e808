"""Plain French beside the codes of the publication tables (level and breakdown labels) and the statistical unit of
each row where a value column holds several indicators; the views of the current edition recreated."""

from etl.warehouse.migrations import sql_revision

revision = "0024"
down_revision = "0023"
upgrade, downgrade = sql_revision(__file__)
