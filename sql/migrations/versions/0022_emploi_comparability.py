"""The semestrial dashboard says where its QPV totals come from and which changes it does not publish across the
2015 -> 2024 change of QPV list: columns of publication.emploi_qpv and emploi_qpv_serie, their views recreated."""

from etl.warehouse.migrations import sql_revision

revision = "0022"
down_revision = "0021"
upgrade, downgrade = sql_revision(__file__)
