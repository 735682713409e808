"""The independent disclosure check (gate 3) on hand-built tables: small counts, recomputable and narrowly bounded
masked cells, inconsistent statuses, and the GX suite `publication.disclosure` run on its frame."""

from __future__ import annotations

import itertools
import json
import math
import random
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from etl.config import EXPECTATIONS_FOLDER
from etl.quality import gates
from etl.quality.disclosure_check import HELPER_COLUMNS, Disclosure, _determined, disclosures, gate3_frame

NAN = math.nan


def _grid(cells: list[list[float]]) -> tuple[list[float], list[tuple[int, tuple[int, ...]]]]:
    """A table with margins laid out as rows of one value column: the r x c interior cells (row-major), then the
    r row totals, the c column totals, the grand total; and the additive relations between them."""
    r, c = len(cells), len(cells[0])
    interior = [v for line in cells for v in line]
    row_totals = [sum(line) for line in cells]
    col_totals = [sum(cells[i][j] for i in range(r)) for j in range(c)]
    values = interior + row_totals + col_totals + [sum(interior)]
    cell = lambda i, j: i * c + j  # noqa: E731
    row_total = lambda i: r * c + i  # noqa: E731
    col_total = lambda j: r * c + r + j  # noqa: E731
    grand = r * c + r + c
    relations = [(row_total(i), tuple(cell(i, j) for j in range(c))) for i in range(r)]
    relations += [(col_total(j), tuple(cell(i, j) for i in range(r))) for j in range(c)]
    relations += [(grand, tuple(row_total(i) for i in range(r))), (grand, tuple(col_total(j) for j in range(c)))]
    return values, relations


def _mask(values: list[float], rows) -> tuple[list[float], list[str]]:
    masked = set(rows)
    return (
        [NAN if i in masked else v for i, v in enumerate(values)],
        ["masked" if i in masked else "ok" for i in range(len(values))],
    )


def _by_reason(found: list[Disclosure]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for item in found:
        out.setdefault(item.reason, []).append(item.row)
    return out


# --- recomputability -------------------------------------------------------------------------------------------


def test_two_by_two_with_margins_and_one_masked_cell_is_recomputable_to_its_value():
    values, relations = _grid([[120, 340], [560, 780]])
    published, statuses = _mask(values, [0])
    found = disclosures(published, statuses, "count", relations)
    assert [(d.row, d.reason) for d in found] == [(0, "recomputable")]
    assert float(found[0].shown) == values[0]  # the hidden value comes back exactly


def test_two_by_two_with_four_masked_interior_cells_is_not_recomputable():
    values, relations = _grid([[120, 340], [560, 780]])
    published, statuses = _mask(values, [0, 1, 2, 3])
    assert disclosures(published, statuses, "count", relations) == []


def test_masking_a_cell_and_its_row_total_is_still_recomputable_through_the_column():
    values, relations = _grid([[120, 340], [560, 780]])
    published, statuses = _mask(values, [0, 4])  # cell (0, 0) and the total of row 0
    assert _by_reason(disclosures(published, statuses, "count", relations)) == {"recomputable": [0, 4]}


def test_a_cell_determined_only_by_combining_relations_is_found():
    # x + y = A, y + z = B, x + z = C: no relation has a single unknown, yet each of x, y, z is determined
    x, y, z = 40.0, 25.0, 61.0
    values = [x, y, z, x + y, y + z, x + z]
    relations = [(3, (0, 1)), (4, (1, 2)), (5, (0, 2))]
    published, statuses = _mask(values, [0, 1, 2])
    found = disclosures(published, statuses, "amount", relations)
    assert [d.row for d in found if d.reason == "recomputable"] == [0, 1, 2]
    assert [float(d.shown) for d in found] == [x, y, z]


def test_recomputable_applies_to_every_kind_and_uses_exact_arithmetic():
    values = [0.1, 0.2, 0.1 + 0.2]  # an amount and its total in floating point
    published, statuses = _mask(values, [1])
    found = disclosures(published, statuses, "amount", [(2, (0, 1))])
    assert [(d.row, d.reason) for d in found] == [(1, "recomputable")]
    for kind in ("share", "rate"):
        assert [d.reason for d in disclosures(published, statuses, kind, [(2, (0, 1))])] == ["recomputable"]


def test_recomputed_value_is_exact_with_whole_and_fractional_published_figures():
    # the published side of a relation is summed as ints for whole figures, as fractions for the others: exactly
    values = [1e16, 0.1, 3.0, 1e16 + 3.0 + 0.1]  # 1e16 + 0.1 is not a float: a float sum would lose the 0.1
    published, statuses = _mask(values, [2])
    found = disclosures(published, statuses, "amount", [(3, (0, 1, 2))])
    assert [(d.row, d.reason) for d in found] == [(2, "recomputable")]
    determined = _determined(published, [not math.isnan(v) for v in published], [(3, (0, 1, 2))])
    assert determined == {2: Fraction(values[3]) - Fraction(values[0]) - Fraction(values[1])}


def test_territory_hierarchy():
    # France (0) = régions 1, 2; région 1 = départements 3, 4, 5; région 2 = départements 6, 7
    values = [0.0, 0.0, 0.0, 130, 270, 415, 180, 205]
    values[1] = sum(values[3:6])
    values[2] = values[6] + values[7]
    values[0] = values[1] + values[2]
    relations = [(0, (1, 2)), (1, (3, 4, 5)), (2, (6, 7))]

    def reasons(masked):
        return _by_reason(disclosures(*_mask(values, masked), "count", relations))

    assert reasons([3]) == {"recomputable": [3]}  # one département of a région
    assert reasons([3, 4]) == {}  # two départements of the same région protect each other
    assert reasons([1]) == {"recomputable": [1]}  # a région: France minus the other, or the sum of its départements
    assert reasons([1, 3, 4]) == {"recomputable": [1]}  # the région comes back from France, its parts do not
    assert reasons([1, 2, 3, 6]) == {}  # both régions and one département in each
    assert reasons([0, 1, 2, 3, 6]) == {}
    # the région comes back from France and the other région, then its only masked département from it
    assert reasons([1, 5]) == {"recomputable": [1, 5]}


def test_unpublished_cells_that_are_not_masked_are_unknowns_and_not_reported():
    relation = [(0, (1, 2))]
    # a missing part beside the masked one: the total gives their sum only
    assert disclosures([100.0, NAN, NAN], ["ok", "masked", "missing"], "amount", relation) == []
    assert disclosures([100.0, NAN, NAN], ["ok", "masked", "not_applicable"], "amount", relation) == []
    # a missing total: nothing to recompute from
    assert disclosures([NAN, NAN, 60.0], ["missing", "masked", "ok"], "amount", relation) == []
    # the other part published: the masked one comes back
    found = disclosures([100.0, NAN, 60.0], ["ok", "masked", "ok"], "amount", relation)
    assert [(d.row, d.reason, d.shown) for d in found] == [(1, "recomputable", "40")]


def _oracle_determined(values_published: list[bool], relations, n: int) -> set[int]:
    """Rank test with numpy (independent of the elimination under test): unknown j is determined iff removing its
    column lowers the rank of the coefficient matrix over the unknowns."""
    unknown = [i for i in range(n) if not values_published[i]]
    if not unknown or not relations:
        return set()
    matrix = np.zeros((len(relations), len(unknown)))
    where = {row: k for k, row in enumerate(unknown)}
    for e, (total, parts) in enumerate(relations):
        for row, sign in ((total, 1), *((p, -1) for p in parts)):
            if row in where:
                matrix[e, where[row]] += sign
    rank = np.linalg.matrix_rank(matrix)
    return {row for row in unknown if np.linalg.matrix_rank(np.delete(matrix, where[row], axis=1)) < rank}


def test_recomputable_agrees_with_a_rank_oracle_on_random_masks_of_a_three_by_three_table():
    rng = random.Random(20240601)
    values, relations = _grid([[rng.randint(20, 500) for _ in range(3)] for _ in range(3)])
    n = len(values)
    for size in (1, 2, 3, 4, 5, 6):
        for _ in range(40):
            masked = rng.sample(range(n), size)
            published, statuses = _mask(values, masked)
            found = disclosures(published, statuses, "amount", relations)
            got = {d.row for d in found if d.reason == "recomputable"}
            assert got == _oracle_determined([s == "ok" for s in statuses], relations, n), sorted(masked)
            for d in found:
                assert float(d.shown) == pytest.approx(values[d.row])


def test_a_large_hierarchy_is_checked_quickly_and_exactly():
    # 100 départements of 12 QPV each, France on top; in every département QPV 0 and 1 are masked (protect each
    # other), and in département 7 a single QPV is masked (recomputable)
    qpv_values: list[float] = []
    relations = []
    dep_rows = []
    n_dep, n_qpv = 100, 12
    first_dep = 1 + n_dep * n_qpv
    for d in range(n_dep):
        rows = tuple(range(1 + d * n_qpv, 1 + (d + 1) * n_qpv))
        qpv_values += [float(30 + (d * 7 + q * 13) % 400) for q in range(n_qpv)]
        relations.append((first_dep + d, rows))
        dep_rows.append(first_dep + d)
    dep_values = [sum(qpv_values[d * n_qpv : (d + 1) * n_qpv]) for d in range(n_dep)]
    values = [sum(dep_values), *qpv_values, *dep_values]
    relations.append((0, tuple(dep_rows)))
    masked = [1 + d * n_qpv + q for d in range(n_dep) if d != 7 for q in (0, 1)] + [1 + 7 * n_qpv + 5]
    found = disclosures(*_mask(values, masked), "count", relations)
    assert [(d.row, d.reason) for d in found] == [(1 + 7 * n_qpv + 5, "recomputable")]


# --- small counts, statuses, intervals -----------------------------------------------------------------------------


def test_small_published_counts_are_reported_and_zero_is_fine():
    values = [0, 1, 10, 11, 250, NAN, 3]
    statuses = ["ok", "ok", "ok", "ok", "ok", "masked", "ok"]
    assert _by_reason(disclosures(values, statuses, "count")) == {"small_count": [1, 2, 6]}
    assert _by_reason(disclosures(values, statuses, "count", count_threshold=5)) == {"small_count": [1, 6]}
    for kind in ("amount", "share", "rate"):  # a share of 3 % or 3 euros is not a count of people
        assert disclosures(values, statuses, kind) == []


def test_masked_with_value_value_without_ok_and_unknown_status():
    values = [25.0, 40.0, NAN, 12.0, 30.0, NAN]
    statuses = ["masked", "missing", "not_applicable", "not_applicable", "publie", None]
    found = disclosures(values, statuses, "count")
    assert [(d.row, d.reason) for d in found] == [
        (0, "masked_with_value"),
        (1, "value_without_ok"),
        (3, "value_without_ok"),
        (4, "unknown_status"),
        (5, "unknown_status"),
    ]
    assert all(d.detail for d in found)


def test_narrow_interval_from_a_small_published_total():
    # total 24 = two masked parts + a published 16: each masked part lies in [0, 8]
    values = [24.0, NAN, NAN, 16.0]
    statuses = ["ok", "masked", "masked", "ok"]
    found = disclosures(values, statuses, "count", [(0, (1, 2, 3))])
    assert [(d.row, d.reason) for d in found] == [(1, "narrow_interval"), (2, "narrow_interval")]
    assert "8" in found[0].shown
    # the same with a wide remainder, or a kind that is not a count of people, is fine
    assert disclosures([64.0, NAN, NAN, 16.0], statuses, "count", [(0, (1, 2, 3))]) == []
    assert disclosures(values, statuses, "amount", [(0, (1, 2, 3))]) == []


def test_the_two_by_two_with_small_margins_is_narrow_though_not_recomputable():
    values, relations = _grid([[3, 40], [5, 60]])  # column 0's total is 8 (row 6), itself a small count
    published, statuses = _mask(values, [0, 1, 2, 3])
    assert _by_reason(disclosures(published, statuses, "count", relations)) == {
        "narrow_interval": [0, 2],
        "small_count": [6],
    }
    # both column totals masked too (one alone would come back from the grand total): protected
    published, statuses = _mask(values, [0, 1, 2, 3, 6, 7])
    assert disclosures(published, statuses, "count", relations) == []


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="kind"):
        disclosures([1.0], ["ok"], "counts")
    with pytest.raises(ValueError, match="statuses"):
        disclosures([1.0, 2.0], ["ok"], "count")
    with pytest.raises(ValueError, match="outside"):
        disclosures([1.0, 2.0], ["ok", "ok"], "count", [(0, (1, 2))])
    with pytest.raises(ValueError, match="also one of its parts"):
        disclosures([1.0, 2.0], ["ok", "ok"], "count", [(0, (0, 1))])
    with pytest.raises(ValueError, match="no parts"):
        disclosures([1.0, 2.0], ["ok", "ok"], "count", [(0, ())])


# --- gate 3 frame and GX suite -------------------------------------------------------------------------------------


def test_the_suite_expects_every_helper_column_null_and_blocks():
    suite = json.loads((EXPECTATIONS_FOLDER / "publication.disclosure.json").read_text(encoding="utf-8"))
    assert suite["name"] == "publication.disclosure"
    checked = {e["kwargs"]["column"] for e in suite["expectations"] if e["type"] == "expect_column_values_to_be_null"}
    assert checked == set(HELPER_COLUMNS.values())
    for expectation in suite["expectations"]:
        assert expectation["severity"] == "critical"
        assert expectation["meta"]["rule"] and expectation["meta"]["message"] and expectation["meta"]["notes"]


def _table(values, statuses) -> pd.DataFrame:
    index = [100 + 3 * i for i in range(len(values))]  # not positional: rows are counted by position
    return pd.DataFrame(
        {
            "code_territoire": [f"T{i:02d}" for i in range(len(values))],
            "demandeurs": pd.Series(values, index=index, dtype="float64"),
            "statut": pd.Series(statuses, index=index, dtype="string"),
        },
    )


def test_gate3_frame_marks_only_the_offending_rows():
    values, relations = _grid([[120, 340], [560, 7]])  # a published 7 (row 3) and a recomputable cell (row 0)
    published, statuses = _mask(values, [0])
    frame = gate3_frame(_table(published, statuses), "demandeurs", "statut", "count", relations)
    assert frame["line_no"].tolist() == list(range(1, len(values) + 1))
    assert set(frame.columns) == {"line_no", *HELPER_COLUMNS.values()}
    assert frame.loc[frame["case_masquee_recalculable"].notna(), "line_no"].tolist() == [1]
    assert float(frame["case_masquee_recalculable"].iloc[0]) == 120
    assert frame.loc[frame["petit_effectif_publie"].notna(), "line_no"].tolist() == [4]
    for column in ("case_masquee_avec_valeur", "intervalle_etroit", "valeur_sans_statut_ok", "statut_inconnu"):
        assert frame[column].isna().all(), column
    with pytest.raises(KeyError, match="valeur"):
        gate3_frame(_table(published, statuses), "valeur", "statut", "count", relations)


def test_gx_suite_blocks_a_disclosive_table_and_passes_a_protected_one():
    values, relations = _grid([[120, 340], [560, 6]])  # a published 6 on line 4
    bad_values, bad_statuses = _mask(values, [0])  # line 1 masked: comes back from its margins
    bad_statuses[8] = "masked"  # the grand total (line 9) masked but its value kept
    failing = gates.run_suite(
        "publication.disclosure",
        gate3_frame(_table(bad_values, bad_statuses), "demandeurs", "statut", "count", relations),
        gate="publication",
        complete=True,
    )
    assert not failing.passed
    failed = {o.column: sorted(s["line_no"] for s in o.sample) for o in failing.blocking_failures}
    assert failed == {
        "case_masquee_recalculable": [1, 9],
        "petit_effectif_publie": [4],
        "case_masquee_avec_valeur": [9],
    }

    values, relations = _grid([[120, 340], [560, 780]])
    good_values, good_statuses = _mask(values, [0, 1, 2, 3])
    passing = gates.run_suite(
        "publication.disclosure",
        gate3_frame(_table(good_values, good_statuses), "demandeurs", "statut", "count", relations),
        gate="publication",
    )
    assert passing.passed, [o.describe() for o in passing.blocking_failures]
    assert {o.column for o in passing.outcomes} == set(HELPER_COLUMNS.values())


def test_every_masking_pattern_of_a_two_by_two_interior_is_classified_by_its_count():
    # with published margins, masking k interior cells of a 2 x 2 discloses them all unless k == 4 (k = 2 or 3:
    # some row or column keeps a single masked cell, which then unlocks the others)
    values, relations = _grid([[120, 340], [560, 780]])
    for k in range(1, 5):
        for masked in itertools.combinations(range(4), k):
            rows = {d.row for d in disclosures(*_mask(values, masked), "count", relations)}
            assert rows == (set() if k == 4 else set(masked)), masked
