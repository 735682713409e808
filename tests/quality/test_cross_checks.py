"""Cross-source checks on indicator values: QPV within their département, territory in force, every QPV
present, and month-on-month jumps as warnings."""

from __future__ import annotations

import pandas as pd
import pytest

from etl import pipeline
from etl.quality import cross_checks
from etl.sources.registry import source

pytestmark = pytest.mark.warehouse

HEADER = "code_qp;lib_qp;insee_reg;lib_reg;insee_dep;lib_dep;insee_com;lib_com;siren_epci;lib_epci\n"
QPV_2015 = [
    "QP075001;Les Portes;11;IDF;75;Paris;75056;Paris;200054781;MGP",
    "QP075002;La Goutte;11;IDF;75;Paris;75056;Paris;200054781;MGP",
]
QPV_2024 = ["QN07501M;Les Portes;11;IDF;75;Paris;75056;Paris;200054781;MGP"]


@pytest.fixture
def warehouse(with_territories):
    for name, rows in (("qpv_2015.csv", QPV_2015), ("qpv_2024.csv", QPV_2024)):
        inbox = with_territories.home.folder("inbox") / "anct_qpv"
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_text(HEADER + "\n".join(rows) + "\n")
    report = pipeline.ingest(with_territories.engine, source("anct_qpv"), home=with_territories.home)
    assert [b.status for b in report.batches] == ["loaded", "loaded"]
    return with_territories.engine


def _values(rows):
    frame = pd.DataFrame(rows, columns=["territory_level", "territory_code", "period_code", "value"])
    frame.insert(0, "line_no", range(2, len(frame) + 2))
    frame["indicator_code"] = "FT_DEFM_ABC"
    frame["breakdown"] = "total"
    frame["status"] = "ok"
    return frame


def _failed(result):
    return {o.expectation_type.removeprefix("expect_"): o for o in result.outcomes if not o.success}


GOOD_2023 = [
    ("qpv", "QP075001", "2023-06", 400.0),
    ("qpv", "QP075002", "2023-06", 300.0),
    ("departement", "75", "2023-06", 90000.0),
]


def test_consistent_values_pass(warehouse):
    assert _failed(cross_checks.run(warehouse, _values(GOOD_2023))) == {}


def test_qpv_adding_up_to_more_than_their_departement_block(warehouse):
    rows = [*GOOD_2023[:2], ("departement", "75", "2023-06", 500.0)]
    failed = _failed(cross_checks.run(warehouse, _values(rows)))
    assert set(failed) == {"qpv_within_departement"} and failed["qpv_within_departement"].blocking
    assert failed["qpv_within_departement"].sample[0] == {"line_no": 4, "value": "75 2023-06: QPV 700.0 > 500.0"}


def test_a_qpv_outside_its_geography_blocks(warehouse):
    rows = [*GOOD_2023, ("qpv", "QN07501M", "2023-06", 10.0)]
    failed = _failed(cross_checks.run(warehouse, _values(rows)))
    assert set(failed) == {"territory_in_force"}
    assert failed["territory_in_force"].sample == [{"line_no": 5, "value": "QN07501M in 2023-06"}]


def test_a_missing_qpv_blocks(warehouse):
    failed = _failed(cross_checks.run(warehouse, _values([GOOD_2023[0], GOOD_2023[2]])))
    assert set(failed) == {"qpv_coverage"}
    assert "no row for QP075002" in failed["qpv_coverage"].sample[0]["value"]


def test_a_jump_from_the_previous_month_is_a_warning(warehouse):
    rows = [*GOOD_2023, ("qpv", "QP075001", "2023-07", 900.0), ("qpv", "QP075002", "2023-07", 310.0),
            ("departement", "75", "2023-07", 90000.0)]  # fmt: skip
    result = cross_checks.run(warehouse, _values(rows))
    failed = _failed(result)
    assert set(failed) == {"month_on_month_change_within_bound"}
    assert not failed["month_on_month_change_within_bound"].blocking and result.passed
    assert failed["month_on_month_change_within_bound"].sample == [
        {"line_no": 5, "value": "QP075001 2023-07: 400.0 -> 900.0"}
    ]


def test_quarters_are_placed_by_their_first_day(warehouse):
    """A crèche figure for 2024-Q1 must use the 2024 geography; the 2015 QPV no longer exist then."""
    good = [("qpv", "QN07501M", "2024-Q1", 12.0)]
    assert _failed(cross_checks.run(warehouse, _values(good))) == {}
    old = [
        ("qpv", "QP075001", "2023-Q4", 5.0),
        ("qpv", "QP075002", "2023-Q4", 3.0),
        ("qpv", "QP075001", "2024-Q1", 4.0),
    ]
    failed = _failed(cross_checks.run(warehouse, _values(old)))
    assert "territory_in_force" in failed
    assert failed["territory_in_force"].sample == [{"line_no": 4, "value": "QP075001 in 2024-Q1"}]


def test_a_veille_active_qpv_is_accepted_after_it_left_only_for_a_source_that_reports_it(warehouse, with_territories):
    """QP075002 left the geography in 2024 (veille active): a 2025 figure under its 2015 code passes for a source that
    declares `veille_active`, is refused for one that does not; an unknown code and a 2015 code that did not leave
    (QP075001 became QN07501M) stay refused; the veille figure is not summed with the QPV of its département."""
    inbox = with_territories.home.folder("inbox") / "anct_qpv_correspondance"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "correspondance.csv").write_text(
        "code_qp_2015;code_qp_2024;type_evolution\nQP075001;QN07501M;modifie\nQP075002;;sortant\n"
    )
    report = pipeline.ingest(warehouse, source("anct_qpv_correspondance"), home=with_territories.home)
    assert [b.status for b in report.batches] == ["loaded"]
    assert [source(s).veille_active for s in ("caf_allocataires", "france_travail_defm")] == [True, False]

    rows = [("qpv", "QN07501M", "2025-06", 400.0), ("qpv", "QP075002", "2025-06", 300.0),
            ("departement", "75", "2025-06", 500.0)]  # fmt: skip
    assert _failed(cross_checks.run(warehouse, _values(rows), veille_active=True)) == {}
    refused = _failed(cross_checks.run(warehouse, _values(rows)))
    assert set(refused) == {"territory_in_force", "qpv_within_departement"}
    assert refused["territory_in_force"].sample == [{"line_no": 3, "value": "QP075002 in 2025-06"}]

    others = [*rows, ("qpv", "QP075001", "2025-06", 5.0), ("qpv", "QP075999", "2025-06", 5.0)]
    failed = _failed(cross_checks.run(warehouse, _values(others), veille_active=True))
    assert set(failed) == {"territory_in_force"}
    assert failed["territory_in_force"].sample == [
        {"line_no": 5, "value": "QP075001 in 2025-06"},
        {"line_no": 6, "value": "QP075999 in 2025-06"},
    ]


# --- the producer's "ensemble des QPV" lines ------------------------------------------------------------------------

ENSEMBLES = source("france_travail_defm").ensembles


def _with_ensembles(qpv_rows, ensemble_rows):
    """QPV lines of FT_DEFM_ABC (value None = masked `s`) and "ensemble des QPV" lines of FT_DEFM_QPV_ABC."""
    qpv = _values([("qpv", code, "2023-06", value) for code, value in qpv_rows])
    qpv["status"] = ["ok" if v is not None else "masked" for _, v in qpv_rows]
    ensemble = _values([(level, code, "2023-06", value) for level, code, value in ensemble_rows])
    ensemble["indicator_code"] = "FT_DEFM_QPV_ABC"
    frame = pd.concat([qpv, ensemble], ignore_index=True)
    frame["line_no"] = range(2, len(frame) + 2)
    return frame


def test_ensemble_lines_equal_to_their_qpv_pass(warehouse):
    rows = _with_ensembles(
        [("QP075001", 400.0), ("QP075002", 300.0)],
        [("departement", "75", 700.0), ("region", "11", 700.0), ("france", "FR", 700.0)],
    )
    assert _failed(cross_checks.run(warehouse, rows, ensembles=ENSEMBLES)) == {}


def test_an_ensemble_may_exceed_its_published_qpv_by_what_the_masked_ones_hold(warehouse):
    rows = _with_ensembles([("QP075001", 400.0), ("QP075002", None)], [("departement", "75", 403.0)])
    assert _failed(cross_checks.run(warehouse, rows, ensembles=ENSEMBLES)) == {}


@pytest.mark.parametrize(
    ("qpv_rows", "ensemble", "why"),
    [
        ([("QP075001", 400.0), ("QP075002", 300.0)], 650.0, "below the sum of its QPV"),
        ([("QP075001", 400.0), ("QP075002", 300.0)], 701.0, "above the sum of its QPV, none masked"),
        ([("QP075001", 400.0), ("QP075002", None)], 405.0, "more than a masked QPV (under 5) can hold"),
    ],
)
def test_an_ensemble_its_qpv_lines_contradict_blocks(warehouse, qpv_rows, ensemble, why):
    rows = _with_ensembles(qpv_rows, [("departement", "75", ensemble)])
    failed = _failed(cross_checks.run(warehouse, rows, ensembles=ENSEMBLES))
    assert set(failed) == {"qpv_within_ensemble"}, why
    assert failed["qpv_within_ensemble"].blocking
    assert failed["qpv_within_ensemble"].sample[0]["value"].startswith("FT_DEFM_QPV_ABC departement 75 2023-06 total")


def test_without_declared_ensembles_nothing_is_compared(warehouse):
    rows = _with_ensembles([("QP075001", 400.0), ("QP075002", 300.0)], [("departement", "75", 1.0)])
    assert "qpv_within_ensemble" not in _failed(cross_checks.run(warehouse, rows))
