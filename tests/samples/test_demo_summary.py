"""The demo's summary of the files: each file's label and the layout it was read with (or none, when no layout of
its source matched), on a real warehouse."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.sources.inbox import ingest


@pytest.mark.warehouse
def test_the_summary_names_the_layout_each_file_was_read_with(reference_warehouse, tmp_path, capsys):
    from etl.samples import demo

    wh = reference_warehouse
    unknown = tmp_path / "ANS_LICENCES_QPV_2024.csv"
    unknown.write_bytes(b"code_qpv;Nom QPV;annee;licences\nQN00101M;X;2024;3\n")
    [batch] = ingest(wh, "ans_licences", unknown, run_id="test-summary").batches
    assert batch.status == "quarantined"
    demo._print_batches(wh.engine)
    lines = capsys.readouterr().out.splitlines()
    regions = next(line for line in lines if line.split()[:2] == ["cog_regions", "regions.csv"])
    assert "loaded" in regions and regions.endswith("18 lines, layout plateforme_cog_regions")
    catalogue = next(line for line in lines if "indicateurs_2014.csv" in line)
    assert catalogue.endswith("layout plateforme_indicateurs_2014")
    quarantined = next(line for line in lines if "ANS_LICENCES_QPV_2024.csv" in line)
    assert "quarantined" in quarantined and "matches none of the 2 layouts" in quarantined
    assert "[layout" not in quarantined  # no layout matched


@pytest.mark.warehouse
@pytest.mark.parametrize(
    ("key", "period"),
    [("2025-02", "2025-02"), ("2024-12/insee", "2024-12"), ("qpv2024/2020", "2020"), ("2015-2024", "2015-2024"),
     ("cog", None)],
)  # fmt: skip
def test_a_partitions_period_is_its_last_part_starting_with_a_digit(reference_warehouse, key, period):
    from etl.samples import demo

    with reference_warehouse.engine.connect() as conn:
        got = conn.execute(sa.text("SELECT " + demo.PARTITION_PERIOD.format(":key")), {"key": key}).scalar()
    assert got == period


def test_the_catalogues_coverage_joins_each_indicators_levels_and_spans_its_periods():
    from etl.samples import demo

    levels = [
        ("IND07", "qpv", 3, "2021", "2023"),
        ("IND02", "region", 5, "2022-S1", "2024-S2"),
        ("IND07", "france", 1, "2019", "2022"),
        ("IND02", "qpv", 9, "2023-S1", "2025-S1"),
        ("DEFM_ABC", "qpv", 40, "2023-10", "2026-09"),  # not an indicator of the 2014 catalogue
    ]
    got = demo._catalogue_coverage(levels, {"IND02": "national", "IND07": "local", "IND11": "national"})
    assert got == [
        ("IND02", "national", "qpv/region", "2022-S1", "2025-S1"),
        ("IND07", "local", "france/qpv", "2019", "2023"),
    ]
