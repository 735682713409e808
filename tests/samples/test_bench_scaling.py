"""The bench's scaling piece: sizes, the straight-line fit and its table (on made-up measurements, not timings)."""

import pytest

from etl.samples import bench_scaling


def test_the_largest_extract_is_added_only_when_larger():
    assert bench_scaling.extract_sizes(6_000_000) == (1_000_000, 3_000_000, 6_000_000)
    assert bench_scaling.extract_sizes(12_000_000)[-1] == 12_000_000


def test_the_fit_finds_the_cost_per_line_and_the_fixed_cost():
    calls = []

    def extract(rows, index):
        calls.append(("extract", rows, index))
        return {
            "lines": rows,
            "seconds": 2 + 5e-6 * rows,
            "copy_seconds": 1e-7 * rows,
            "peak_rss_mb": 100 + rows / 2**20,
        }

    def aggregated(months, index):
        calls.append(("aggregated", months, index))
        lines = 34_128 * months
        return {"lines": lines, "months": months, "seconds": 0.5 + 1e-5 * lines, "copy_seconds": 1e-6 * lines,
                "peak_rss_mb": 300.0}  # fmt: skip

    scaling = bench_scaling.measure(extract, aggregated, 6_000_000)
    assert [c[2] for c in calls] == [0, 1, 2, 0, 1, 2]
    assert scaling["extract"]["time"]["slope"] == pytest.approx(5e-6)
    assert scaling["extract"]["time"]["intercept"] == pytest.approx(2)
    assert scaling["extract"]["rss"]["slope"] == pytest.approx(1)  # one byte per line
    assert scaling["aggregated"]["time"]["intercept"] == pytest.approx(0.5)
    text = "\n".join(bench_scaling.lines(scaling))
    assert "5.00 s per million lines + 2.0 s fixed" in text
    assert "| aggregated DEFM file, 36 months | 1,228,608 |" in text
    # ten monthly files of 6 million lines, each paying the 2 s fixed cost: 10 x (2 + 30) s
    assert "ingested as 10 monthly files of 6 million: 5 min 20 s in all" in text
