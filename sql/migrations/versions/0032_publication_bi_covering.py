"""BI under load (make bench): covering indexes on publication.emploi_qpv, one exact range per usual question and no
heap read, and the counts of cells and masked cells per edition, semester, level and région
(`publication.emploi_qpv_cellules`), kept by triggers, for the masked-cells dashboard."""

from etl.warehouse.migrations import sql_revision

revision = "0032"
down_revision = "0031_portal"
upgrade, downgrade = sql_revision(__file__)
