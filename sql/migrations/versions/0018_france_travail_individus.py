"""France Travail's individual extract: its distinct lines as read (raw) and typed (staging), and the communes'
EPCI as the QPV referential tells them (core.commune_epci)."""

from etl.warehouse.migrations import sql_revision

revision = "0018"
down_revision = "0017"
upgrade, downgrade = sql_revision(__file__)
