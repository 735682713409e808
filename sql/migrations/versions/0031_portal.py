"""The regional portal (etl/portal/): its accounts (Argon2id hashes), sessions, deposits (row-level security by
région, as the submission tables) and journal, in a schema of their own, `portal`, outside the warehouse's state."""

from etl.warehouse.migrations import sql_revision

revision = "0031_portal"
down_revision = "0030"
upgrade, downgrade = sql_revision(__file__)
